//! Extism (feature `extism`; it brings its own, second wasmtime) running the lead
//! scorer's host interaction: the guest copies its input into Extism's memory, reads the
//! lead and then its account through a host function (`get_record`), and writes the
//! score through another (`update_record`, which answers the output). The guest is
//! written in WAT (no wasm32-unknown-unknown or wasip1 target on this machine): it does
//! the three host calls and the copying, but not the JSON parsing and scoring the Rust
//! component does, so it does less guest work than ours.

use std::hint::black_box;
use std::time::{Duration, Instant};

use extism::{CompiledPlugin, CurrentPlugin, Function, PTR, Plugin, PluginBuilder, UserData, Val};
use serde::Serialize;

use super::{INPUT, records};
use crate::measure::{Budget, quantile};

const GUEST: &str = r#"
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "length" (func $length (param i64) (result i64)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "extism:host/user" "get_record" (func $get_record (param i64) (result i64)))
  (import "extism:host/user" "update_record" (func $update_record (param i64 i64) (result i64)))
  (func (export "run") (result i32)
    (local $n i64) (local $i i64) (local $in i64) (local $lead i64) (local $account i64)
    (local $score i64) (local $out i64)
    (local.set $n (call $input_length))
    (local.set $in (call $alloc (local.get $n)))
    (block $done
      (loop $copy
        (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
        (call $store_u8
          (i64.add (local.get $in) (local.get $i))
          (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $copy)))
    (local.set $lead (call $get_record (local.get $in)))
    (local.set $account (call $get_record (local.get $lead)))
    (local.set $score
      (i64.rem_u
        (i64.add (call $length (local.get $lead)) (call $length (local.get $account)))
        (i64.const 101)))
    (local.set $out (call $update_record (local.get $in) (local.get $score)))
    (call $output_set (local.get $out) (call $length (local.get $out)))
    (i32.const 0)))
"#;

fn functions() -> Vec<Function> {
    let lead = records()[1].2.to_string();
    let account = records()[0].2.to_string();
    let get = Function::new(
        "get_record",
        [PTR],
        [PTR],
        UserData::new(()),
        move |plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], _: UserData<()>| {
            let asked: String = plugin.memory_get_val(&inputs[0])?;
            let answer = if asked.contains("lead_id") {
                &lead
            } else {
                &account
            };
            let handle = plugin.memory_new(answer.as_str())?;
            outputs[0] = plugin.memory_to_val(handle);
            Ok(())
        },
    );
    let update = Function::new(
        "update_record",
        [PTR, extism::ValType::I64],
        [PTR],
        UserData::new(()),
        |plugin: &mut CurrentPlugin, inputs: &[Val], outputs: &mut [Val], _: UserData<()>| {
            let score = inputs[1].i64().unwrap_or(0);
            let out = format!(r#"{{"lead_id":"lead1","score":{score}}}"#);
            let handle = plugin.memory_new(out.as_str())?;
            outputs[0] = plugin.memory_to_val(handle);
            Ok(())
        },
    );
    vec![get, update]
}

fn compiled(wasm: &[u8]) -> anyhow::Result<CompiledPlugin> {
    let builder = PluginBuilder::new(extism::Manifest::new([extism::Wasm::data(wasm.to_vec())]))
        .with_wasi(false)
        .with_functions(functions());
    CompiledPlugin::new(builder)
}

#[derive(Debug, Serialize)]
pub struct Figures {
    pub guest: String,
    pub calls: usize,
    /// A fresh plugin instance per call (`Plugin::new_from_compiled` + call + drop).
    pub fresh_p50_us: f64,
    pub fresh_p99_us: f64,
    /// One plugin instance reused for every call (Extism's usual way).
    pub reused_p50_us: f64,
    pub reused_p99_us: f64,
    pub cold_compile_ms: f64,
}

pub fn run(budget: &Budget) -> anyhow::Result<Figures> {
    let wasm = wat::parse_str(GUEST)?;
    let started = Instant::now();
    let compiled = compiled(&wasm)?;
    let cold_compile_ms = started.elapsed().as_secs_f64() * 1e3;
    let calls = if budget.rounds <= 2 { 2_000 } else { 20_000 };
    let fresh = || -> anyhow::Result<String> {
        let mut plugin = Plugin::new_from_compiled(&compiled)?;
        Ok(plugin.call::<&str, String>("run", black_box(INPUT))?)
    };
    let answer = fresh()?;
    anyhow::ensure!(answer.contains("\"score\""), "extism answered {answer}");
    let mut reused_plugin = Plugin::new_from_compiled(&compiled)?;
    let mut reused = || -> anyhow::Result<String> {
        Ok(reused_plugin.call::<&str, String>("run", black_box(INPUT))?)
    };
    for _ in 0..calls / 10 {
        black_box(fresh()?);
        black_box(reused()?);
    }
    let (mut a, mut b) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    for _ in 0..calls {
        let t = Instant::now();
        black_box(fresh()?);
        a.push(t.elapsed());
        let t = Instant::now();
        black_box(reused()?);
        b.push(t.elapsed());
    }
    a.sort();
    b.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    Ok(Figures {
        guest: "WAT: input copy + get_record x2 + update_record (no JSON work in the guest)".into(),
        calls,
        fresh_p50_us: us(quantile(&a, 0.5)),
        fresh_p99_us: us(quantile(&a, 0.99)),
        reused_p50_us: us(quantile(&b, 0.5)),
        reused_p99_us: us(quantile(&b, 0.99)),
        cold_compile_ms,
    })
}
