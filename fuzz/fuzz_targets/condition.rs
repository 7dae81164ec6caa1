//! Fuzzes the compiled condition evaluator against the reference evaluator: see `automations_compiler::fuzz_targets::condition`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| automations_compiler::fuzz_targets::condition(data));
