//! Fuzzes the template renderer (both evaluators, with and without an output cap): see `automations_compiler::fuzz_targets::template`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| automations_compiler::fuzz_targets::template(data));
