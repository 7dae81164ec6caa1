//! Plugin costs by source language (issue 16): for the Rust, JavaScript and Python
//! examples, the component's size, its compile time, its load time from the persistent
//! cache, and the per-call time (fresh instance + run + drop, p50/p99) against the
//! in-memory host, under each way of allocating the call's instance (pooling or not,
//! copy-on-write memory images or not, memory kept resident and reset in place or not,
//! a fuel limit (metered code) or not). Every variant gives each call a fresh instance. Prints a table;
//! no criterion (each language's call is milliseconds).
//!
//! Needs the Rust examples (built here) and the JavaScript and Python ones
//! (`scripts/build-lang-plugins`, run here when their components are missing).
//! Run: `cargo bench -p automations-host-api --bench languages` (`CALLS=N` calls per
//! variant, default 200; `ONLY=python` one example).

#[path = "../tests/it/build.rs"]
mod build;

use automations_host_api::testing::MemoryHost;
use automations_host_api::{
    Allocation, CallContext, DirCacheStore, EngineConfig, LimitPolicy, Manifest, PluginEngine,
};
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Example {
    label: &'static str,
    wasm: Vec<u8>,
    manifest: String,
    input: &'static str,
}

fn lang_dir() -> PathBuf {
    build::plugins_dir().join("target/lang")
}

fn lang_example(label: &'static str, dir: &str, file: &str, input: &'static str) -> Example {
    let wasm_path = lang_dir().join(file);
    if !wasm_path.exists() {
        let script = build::plugins_dir().join("../../scripts/build-lang-plugins");
        let status = std::process::Command::new(&script).status().unwrap();
        assert!(status.success(), "{} failed", script.display());
    }
    Example {
        label,
        wasm: std::fs::read(&wasm_path).unwrap(),
        manifest: std::fs::read_to_string(build::plugins_dir().join(dir).join("manifest.json"))
            .unwrap(),
        input,
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn host() -> Arc<MemoryHost> {
    let host = MemoryHost::new();
    host.insert(
        "account",
        "acc1",
        object(json!({"employees": 2500, "industry": "software"})),
    );
    host.insert(
        "lead",
        "lead1",
        object(
            json!({"email": "jo@acme.com", "title": "VP", "account_id": "acc1",
                      "company": "Acme", "source": "referral"}),
        ),
    );
    host.insert(
        "case",
        "case1",
        object(json!({"subject": "Checkout is down", "priority": "low"})),
    );
    Arc::new(host)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (label, engine settings, whether the manifest sets a fuel limit) of every variant
/// measured. Only a plugin with a fuel limit runs metered code.
fn variants() -> Vec<(&'static str, EngineConfig, bool)> {
    let with = |pooling, memory_init_cow, keep_resident| EngineConfig {
        allocation: Allocation {
            pooling,
            memory_init_cow,
            keep_resident,
        },
        ..EngineConfig::default()
    };
    vec![
        ("on-demand, copy", with(false, false, 0), true),
        ("on-demand, cow", with(false, true, 0), true),
        ("pool, copy", with(true, false, 0), true),
        ("pool, cow", with(true, true, 0), true),
        ("pool, cow, keep 1 MiB", with(true, true, 1 << 20), true),
        ("pool, cow, keep 16 MiB", with(true, true, 16 << 20), true),
        ("pool, cow, no fuel", with(true, true, 0), false),
        ("default, no fuel", EngineConfig::default(), false),
    ]
}

fn measure(example: &Example, calls: usize) {
    let config = EngineConfig::default();
    let engine = PluginEngine::new(config.clone()).unwrap();
    let started = Instant::now();
    engine.engine().precompile_component(&example.wasm).unwrap();
    let compile = started.elapsed();

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirCacheStore::new(dir.path()).unwrap());
    PluginEngine::with_cache_store(config.clone(), store.clone())
        .unwrap()
        .precompile(&example.wasm)
        .unwrap();
    let fresh = PluginEngine::with_cache_store(config, store.clone()).unwrap();
    let manifest = Manifest::from_json(&example.manifest, &LimitPolicy::default()).unwrap();
    let started = Instant::now();
    fresh.prepare(manifest, &example.wasm).unwrap();
    let load = started.elapsed();
    println!(
        "{:<11} {:>6.1} MB  compile {:>7.0} ms  load from cache {:>6.1} ms",
        example.label,
        example.wasm.len() as f64 / 1e6,
        millis(compile),
        millis(load),
    );
    for (label, config, metered) in variants() {
        // Metered code (a fuel limit) compiles once more into the store.
        let engine = PluginEngine::with_cache_store(config, store.clone()).unwrap();
        let mut manifest = Manifest::from_json(&example.manifest, &LimitPolicy::default()).unwrap();
        if metered {
            manifest.limits.fuel = Some(u64::MAX / 2);
        }
        let plugin = engine.prepare(manifest, &example.wasm).unwrap();
        let host: Arc<dyn automations_host_api::Host> = host();
        let ctx = CallContext {
            workspace: "ws".into(),
            run_id: "r".into(),
            step_id: "s".into(),
            granted: Arc::new(plugin.manifest().requested()),
            ..CallContext::default()
        };
        let started = Instant::now();
        plugin.call_json(host.clone(), &ctx, example.input).unwrap();
        let first = started.elapsed();
        let mut samples: Vec<Duration> = (0..calls)
            .map(|_| {
                let started = Instant::now();
                plugin.call_json(host.clone(), &ctx, example.input).unwrap();
                started.elapsed()
            })
            .collect();
        samples.sort();
        let at = |q: f64| millis(samples[((samples.len() as f64 - 1.0) * q) as usize]);
        println!(
            "  {label:<24} first call {:>7.2} ms  call p50 {:>7.3} ms  p99 {:>7.3} ms  ({calls} calls)",
            millis(first),
            at(0.5),
            at(0.99),
        );
    }
}

fn main() {
    let examples = [
        Example {
            label: "rust",
            wasm: build::component("lead-scorer"),
            manifest: build::manifest_text("lead-scorer"),
            input: r#"{"lead_id":"lead1"}"#,
        },
        lang_example(
            "javascript",
            "javascript/case-triage",
            "case_triage.wasm",
            r#"{"case_id":"case1"}"#,
        ),
        lang_example(
            "python",
            "python/lead-qualifier",
            "lead_qualifier.wasm",
            r#"{"lead_id":"lead1"}"#,
        ),
    ];
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let only = std::env::var("ONLY").ok();
    for example in &examples {
        if only.as_deref().is_none_or(|o| o == example.label) {
            measure(example, calls);
        }
    }
}
