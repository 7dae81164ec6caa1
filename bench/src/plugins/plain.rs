//! A plain wasmtime host at its best for a fresh instance per call, the baseline of the
//! plugin comparison: the pooling allocator with copy-on-write memory images, an
//! `InstancePre` made once, the `run` export's index looked up once, WASI linked (its
//! context made only if the guest asks), the record functions answering from a map, no
//! limits and no capability checks.

use std::collections::HashMap;
use std::sync::Arc;

use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

type Records = Arc<HashMap<(String, String), String>>;

pub struct State {
    records: Records,
    wasi: Option<WasiCtx>,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let ctx = self.wasi.get_or_insert_with(|| WasiCtx::builder().build());
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

/// An engine whose pool holds `instances` component instances.
fn engine(instances: u32) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true).memory_init_cow(true);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 8)
        .total_memories(instances * 4)
        .total_tables(instances * 16)
        .max_memory_size(32 << 20);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// A cold compile on a plain engine.
pub fn compile(wasm: &[u8]) -> anyhow::Result<Component> {
    thread_local! {
        static ENGINE: Engine = engine(super::POOL).expect("a wasmtime engine");
    }
    ENGINE
        .with(|e| Component::new(e, wasm))
        .map_err(plain_error)
}

/// wasmtime's error as ours.
pub fn plain_error(e: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

pub struct PlainHost {
    engine: Engine,
    pre: InstancePre<State>,
    run: ComponentExportIndex,
    records: Records,
}

type RunFn<'a> = wasmtime::component::TypedFunc<(&'a str,), (Result<String, String>,)>;
type GetAnswer = (Result<Option<String>, String>,);
type UpdateAnswer = (Result<(), String>,);

impl PlainHost {
    /// The host of `wasm` with a pool of `instances`.
    pub fn new(wasm: &[u8], instances: u32) -> anyhow::Result<PlainHost> {
        Self::try_new(wasm, instances).map_err(plain_error)
    }

    fn try_new(wasm: &[u8], instances: u32) -> wasmtime::Result<PlainHost> {
        let engine = engine(instances)?;
        let component = Component::new(&engine, wasm)?;
        let mut linker: Linker<State> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        // The world's other interfaces (email, notify, tasks, http) as traps. Not through
        // `define_unknown_imports_as_traps`: that also stubs WASI imports of a newer
        // 0.2.x than the linker's (the exact name wins over the semver match).
        let ty = component.component_type();
        for (name, import) in ty.imports(&engine) {
            let wasmtime::component::types::ComponentItem::ComponentInstance(instance) = import.ty
            else {
                continue;
            };
            if !name.starts_with("automations:plugin/") || name.contains("/records@") {
                continue;
            }
            let mut stubs = linker.instance(name)?;
            for (item, export) in instance.exports(&engine) {
                if let wasmtime::component::types::ComponentItem::ComponentFunc(_) = export.ty {
                    stubs.func_new(item, |_, _, _, _| {
                        Err(wasmtime::Error::msg("not provided by the plain host"))
                    })?;
                }
            }
        }
        let mut records = linker.instance("automations:plugin/records@0.1.0")?;
        records.func_wrap(
            "get",
            |cx: wasmtime::StoreContextMut<'_, State>,
             (object, id): (String, String)|
             -> wasmtime::Result<GetAnswer> {
                Ok((Ok(cx.data().records.get(&(object, id)).cloned()),))
            },
        )?;
        records.func_wrap(
            "update",
            |_cx: wasmtime::StoreContextMut<'_, State>,
             _args: (String, String, String)|
             -> wasmtime::Result<UpdateAnswer> { Ok((Ok(()),)) },
        )?;
        let pre = linker.instantiate_pre(&component)?;
        let run = component
            .get_export_index(None, "run")
            .ok_or_else(|| wasmtime::Error::msg("the component exports no `run`"))?;
        let records = super::records()
            .into_iter()
            .map(|(o, id, v)| ((o.to_string(), id.to_string()), v.to_string()))
            .collect();
        Ok(PlainHost {
            engine,
            pre,
            run,
            records: Arc::new(records),
        })
    }

    /// Instantiate, call `run`, drop.
    pub fn call(&self, input: &str) -> anyhow::Result<String> {
        let answer = self.try_call(input).map_err(plain_error)?;
        answer.map_err(|e| anyhow::anyhow!("the plugin failed: {e}"))
    }

    fn try_call(&self, input: &str) -> wasmtime::Result<Result<String, String>> {
        let state = State {
            records: self.records.clone(),
            wasi: None,
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, state);
        let instance = self.pre.instantiate(&mut store)?;
        let run: RunFn<'_> = instance.get_typed_func(&mut store, self.run)?;
        let (result,) = run.call(&mut store, (input,))?;
        Ok(result)
    }
}
