//! Our plugin call against a plain wasmtime host on the same component (issue 22: at
//! most half the time of the plain host is the target).
//!
//! The component is the lead scorer (two `records.get` and one `records.update` host
//! calls per run). The plain host is wasmtime at its best for a fresh instance per call:
//! the pooling allocator, copy-on-write images, `InstancePre`, the `run` export's index
//! looked up once, WASI linked with a context made only if the guest asks, the two
//! record functions answering from a map of JSON texts, nothing checked or limited.
//! `plain` keeps wasmtime's default of decommitting memory after each instance,
//! `plain-1mib` keeps 1 MiB resident as ours does. Ours is `Plugin::call_text` with every
//! limit on (timeout, memory, output, host calls, capability checks): `ours` without a
//! fuel limit (not metered), `ours-fuel` with one (the metered engine), `ours-decommit`
//! without fuel and with nothing kept resident. Their `Host` does what the plain host's
//! record functions do (a map of JSON texts; an update that stores nothing), so that the
//! comparison is of the engines; `ours-memoryhost` is `ours` with the test `MemoryHost`
//! instead, which also applies each update and keeps a log of every effect (a log that
//! grows by one entry per call for the whole run).
//!
//! `cargo bench -p automations-host-api --bench versus_plain`: the six take turns, 100
//! calls each (each round starting one host further on), and it prints p50/p99 of each
//! (`CALLS=N` calls per host, default 20,000).
//! With `ONLY=<name> CALLS=N POOL=2` it builds that host only and makes N calls after
//! one warm-up call, for instruction counts: `valgrind --tool=callgrind` at CALLS=N and
//! CALLS=0, difference divided by N (valgrind cannot reserve the address space of a
//! 64-instance pool, hence `POOL`).

#[path = "../tests/it/build.rs"]
mod build;

use automations_host_api::testing::{MemoryHost, TextHost};
use automations_host_api::{CallContext, EngineConfig, Host, LimitPolicy, Manifest, PluginEngine};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

const INPUT: &str = r#"{"lead_id":"lead1"}"#;

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap()
}

/// The records both hosts answer from.
fn records() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "account",
            "acc1",
            json!({"employees": 2500, "industry": "software"}),
        ),
        (
            "lead",
            "lead1",
            json!({"email": "jo@acme.com", "title": "VP", "account_id": "acc1"}),
        ),
    ]
}

struct PlainState {
    records: Arc<HashMap<(String, String), String>>,
    wasi: Option<WasiCtx>,
    table: ResourceTable,
}

impl WasiView for PlainState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let ctx = self.wasi.get_or_insert_with(|| WasiCtx::builder().build());
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

struct PlainHost {
    engine: Engine,
    pre: InstancePre<PlainState>,
    run: ComponentExportIndex,
    records: Arc<HashMap<(String, String), String>>,
}

type RunFn<'a> = wasmtime::component::TypedFunc<(&'a str,), (Result<String, String>,)>;
type GetResult = (Result<Option<String>, String>,);

impl PlainHost {
    /// `keep_resident`: bytes of each memory and table slot reset in place instead of
    /// decommitted (0 is wasmtime's default).
    fn new(wasm: &[u8], keep_resident: usize) -> PlainHost {
        let mut config = Config::new();
        config.wasm_component_model(true).memory_init_cow(true);
        let mut pool = PoolingAllocationConfig::default();
        let n = pool_size();
        pool.total_component_instances(n)
            .total_core_instances(n * 8)
            .total_memories(n * 4)
            .total_tables(n * 16)
            .max_memory_size(32 << 20);
        if keep_resident > 0 {
            pool.linear_memory_keep_resident(keep_resident)
                .table_keep_resident(keep_resident)
                .pagemap_scan(wasmtime::Enabled::Auto);
        }
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config).unwrap();
        let component = Component::new(&engine, wasm).unwrap();
        let mut linker: Linker<PlainState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        let mut records_if = linker.instance("automations:plugin/records@0.1.0").unwrap();
        records_if
            .func_wrap(
                "get",
                |cx: wasmtime::StoreContextMut<'_, PlainState>,
                 (object, id): (String, String)|
                 -> wasmtime::Result<GetResult> {
                    Ok((Ok(cx.data().records.get(&(object, id)).cloned()),))
                },
            )
            .unwrap();
        records_if
            .func_wrap(
                "update",
                |_cx: wasmtime::StoreContextMut<'_, PlainState>,
                 (_o, _i, _f): (String, String, String)|
                 -> wasmtime::Result<(Result<(), String>,)> { Ok((Ok(()),)) },
            )
            .unwrap();
        // The project's other interfaces link as traps (the scorer never calls them).
        // Not `define_unknown_imports_as_traps`: it would shadow the WASI functions the
        // guest imports at a newer patch version than the linker names.
        let ty = component.component_type();
        for (name, import) in ty.imports(&engine) {
            let ComponentItem::ComponentInstance(instance) = import.ty else {
                continue;
            };
            if !name.starts_with("automations:plugin/") || name.contains("/records@") {
                continue;
            }
            let mut traps = linker.instance(name).unwrap();
            for (item, export) in instance.exports(&engine) {
                if let ComponentItem::ComponentFunc(_) = export.ty {
                    traps
                        .func_new(item, |_, _, _, _| Err(wasmtime::Error::msg("not linked")))
                        .unwrap();
                }
            }
        }
        let pre = linker.instantiate_pre(&component).unwrap();
        let run = component.get_export_index(None, "run").unwrap();
        let records = records()
            .into_iter()
            .map(|(o, id, v)| ((o.to_string(), id.to_string()), v.to_string()))
            .collect();
        PlainHost {
            engine,
            pre,
            run,
            records: Arc::new(records),
        }
    }

    fn call(&self, input: &str) -> String {
        let state = PlainState {
            records: self.records.clone(),
            wasi: None,
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, state);
        let instance = self.pre.instantiate(&mut store).unwrap();
        let run: RunFn<'_> = instance.get_typed_func(&mut store, self.run).unwrap();
        let (result,) = run.call(&mut store, (input,)).unwrap();
        result.unwrap()
    }
}

struct Ours {
    plugin: automations_host_api::Plugin,
    host: Arc<dyn Host>,
    ctx: CallContext,
}

impl Ours {
    fn new(
        wasm: &[u8],
        fuel: Option<u64>,
        keep_resident: Option<usize>,
        memory_host: bool,
    ) -> Ours {
        let mut config = EngineConfig {
            max_concurrent_instances: pool_size(),
            ..EngineConfig::default()
        };
        if let Some(keep) = keep_resident {
            config.allocation.keep_resident = keep;
        }
        let engine = PluginEngine::new(config).unwrap();
        let mut manifest = Manifest::from_json(
            &build::manifest_text("lead-scorer"),
            &LimitPolicy::default(),
        )
        .unwrap();
        manifest.limits.fuel = fuel;
        let plugin = engine.prepare(manifest, wasm).unwrap();
        let host: Arc<dyn Host> = if memory_host {
            let host = MemoryHost::new();
            for (o, id, v) in records() {
                host.insert(o, id, object(v));
            }
            Arc::new(host)
        } else {
            Arc::new(TextHost::new(records()))
        };
        let ctx = CallContext {
            workspace: "ws".into(),
            run_id: "r".into(),
            step_id: "s".into(),
            granted: Arc::new(plugin.manifest().requested()),
            ..CallContext::default()
        };
        Ours { plugin, host, ctx }
    }

    fn call(&self, input: &str) -> String {
        self.plugin
            .call_text(self.host.clone(), &self.ctx, input)
            .unwrap()
            .output
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Instances per pool (`POOL`, default 64); callgrind runs need a small pool, as
/// valgrind cannot reserve the address space of 64.
fn pool_size() -> u32 {
    std::env::var("POOL")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

type Call<'a> = Box<dyn Fn(&str) -> String + 'a>;

/// Calls of one host in a row before the next host's turn.
const BLOCK: usize = 100;

/// The hosts, in the order they take turns.
const NAMES: [&str; 6] = [
    "plain",
    "plain-1mib",
    "ours",
    "ours-fuel",
    "ours-decommit",
    "ours-memoryhost",
];

/// The host called `name`, built on first use.
fn host(name: &str, wasm: &[u8]) -> Call<'static> {
    match name {
        "plain" => {
            let host = PlainHost::new(wasm, 0);
            Box::new(move |input| host.call(input))
        }
        "plain-1mib" => {
            let host = PlainHost::new(wasm, 1 << 20);
            Box::new(move |input| host.call(input))
        }
        "ours" | "ours-fuel" | "ours-decommit" | "ours-memoryhost" => {
            let fuel = (name == "ours-fuel").then_some(100_000_000);
            let keep = (name == "ours-decommit").then_some(0);
            let host = Ours::new(wasm, fuel, keep, name == "ours-memoryhost");
            Box::new(move |input| host.call(input))
        }
        other => panic!("no host {other}: {}", NAMES.join(", ")),
    }
}

fn main() {
    let wasm = build::component("lead-scorer");
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20_000);
    if let Ok(only) = std::env::var("ONLY") {
        let call = host(&only, &wasm);
        black_box(call(INPUT));
        for _ in 0..calls {
            black_box(call(black_box(INPUT)));
        }
        return;
    }
    let callers: Vec<(&str, Call<'_>)> = NAMES.iter().map(|n| (*n, host(n, &wasm))).collect();
    // All answer the same.
    let expected = callers[0].1(INPUT);
    for (name, call) in &callers {
        assert_eq!(call(INPUT), expected, "{name}");
    }
    for _ in 0..1_000 {
        for (_, call) in &callers {
            black_box(call(black_box(INPUT)));
        }
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(calls); callers.len()];
    // The hosts take turns in blocks of `BLOCK` calls, each round starting one host
    // further on: a drift of the machine reaches every host alike, and a call follows a
    // call of its own host, as in a server running one host. (Interleaved one by one, a
    // call paid for what the previous host left, e.g. the pages the plain host's drop gave
    // back, and a fixed order rotated by one puts host i after host i-1 in all but one
    // round of n.)
    let n = callers.len();
    for round in 0..calls.div_ceil(BLOCK) {
        for i in (0..n).map(|k| (round + k) % n) {
            for _ in 0..BLOCK {
                let started = Instant::now();
                black_box(callers[i].1(black_box(INPUT)));
                samples[i].push(started.elapsed());
            }
        }
    }
    let plain_p50 = {
        let mut s = samples[0].clone();
        s.sort();
        s[s.len() / 2]
    };
    for ((name, _), mut s) in callers.iter().zip(samples) {
        s.sort();
        let at = |q: f64| micros(s[((s.len() as f64 - 1.0) * q) as usize]);
        println!(
            "{name:<15} p50 {:>7.1} µs  p99 {:>7.1} µs  ({:.2}x plain at p50, {} calls, {BLOCK} in a row)",
            at(0.5),
            at(0.99),
            s[s.len() / 2].as_secs_f64() / plain_p50.as_secs_f64(),
            s.len()
        );
    }
}
