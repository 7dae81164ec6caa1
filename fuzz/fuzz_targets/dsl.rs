//! Fuzzes the `.auto` parser, pipeline and `fmt`: see `automations_compiler::fuzz_targets::dsl`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| automations_compiler::fuzz_targets::dsl(data));
