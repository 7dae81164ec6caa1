//! Plugin call costs (DESIGN §13): warm instantiate + run + return of the lead
//! scorer (fresh store per call, every limit on), cold compile of a component,
//! and load from the persistent cache. Prints p50/p99 of the warm call from
//! its own sample as well (criterion reports means and medians).

#[path = "../tests/it/build.rs"]
mod build;

use automations_host_api::testing::MemoryHost;
use automations_host_api::{
    CallContext, DirCacheStore, EngineConfig, LimitPolicy, Manifest, PluginEngine,
};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

fn setup() -> (
    PluginEngine,
    automations_host_api::Plugin,
    Arc<MemoryHost>,
    CallContext,
) {
    let engine = PluginEngine::new(EngineConfig::default()).unwrap();
    let mut manifest = Manifest::from_json(
        &build::manifest_text("lead-scorer"),
        &LimitPolicy::default(),
    )
    .unwrap();
    manifest.limits.fuel = Some(100_000_000); // every limit on, fuel too
    let plugin = engine
        .prepare(manifest, &build::component("lead-scorer"))
        .unwrap();
    let host = MemoryHost::new();
    host.insert(
        "account",
        "acc1",
        object(json!({"employees": 2500, "industry": "software"})),
    );
    host.insert(
        "lead",
        "lead1",
        object(json!({"email": "jo@acme.com", "title": "VP", "account_id": "acc1"})),
    );
    let ctx = CallContext {
        workspace: "ws".into(),
        run_id: "r".into(),
        step_id: "s".into(),
        granted: Arc::new(plugin.manifest().requested()),
        ..CallContext::default()
    };
    (engine, plugin, Arc::new(host), ctx)
}

fn percentiles(c: &mut Criterion) {
    let (_engine, plugin, host, ctx) = setup();
    let host: Arc<dyn automations_host_api::Host> = host;
    let input = r#"{"lead_id":"lead1"}"#;
    for _ in 0..2_000 {
        plugin.call_json(host.clone(), &ctx, input).unwrap();
    }
    let mut samples: Vec<Duration> = (0..20_000)
        .map(|_| {
            let started = Instant::now();
            black_box(plugin.call_json(host.clone(), &ctx, input).unwrap());
            started.elapsed()
        })
        .collect();
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    println!(
        "lead-scorer warm call (instantiate + run [3 host calls] + drop): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        at(0.50),
        at(0.99),
        at(1.0)
    );
    c.bench_function("lead_scorer_warm_call", |b| {
        b.iter(|| {
            plugin
                .call_json(host.clone(), &ctx, black_box(input))
                .unwrap()
        })
    });
}

fn compile_and_cache(c: &mut Criterion) {
    let wasm = build::component("lead-scorer");
    let config = EngineConfig {
        max_concurrent_instances: 4,
        ..EngineConfig::default()
    };
    let engine = PluginEngine::new(config.clone()).unwrap();
    let mut group = c.benchmark_group("component");
    group.sample_size(10);
    group.bench_function("cold_compile", |b| {
        b.iter(|| {
            engine
                .engine()
                .precompile_component(black_box(&wasm))
                .unwrap()
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirCacheStore::new(dir.path()).unwrap());
    PluginEngine::with_cache_store(config.clone(), store.clone())
        .unwrap()
        .precompile(&wasm)
        .unwrap();
    let fresh = PluginEngine::with_cache_store(config, store).unwrap();
    let sha = fresh.cache_key(&wasm).component_sha256;
    group.bench_function("cached_load_from_store", |b| {
        // Evict from the memory cache each time: measure store read + deserialize.
        b.iter(|| {
            fresh.evict(&sha);
            fresh.load_component(black_box(&wasm)).unwrap()
        })
    });
    group.bench_function("cached_load_from_memory", |b| {
        b.iter(|| fresh.load_component(black_box(&wasm)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, percentiles, compile_and_cache);
criterion_main!(benches);
