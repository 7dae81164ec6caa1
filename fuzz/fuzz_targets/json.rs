//! Fuzzes the JSON definition loader, canonical JSON and JSON -> DSL -> JSON: see `automations_compiler::fuzz_targets::json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| automations_compiler::fuzz_targets::json(data));
