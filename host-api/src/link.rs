//! Linking one component: the engine's base linker (the capability imports of
//! the world and a nothing-granted WASI), plus deny stubs for the WASI
//! interfaces language toolchains import by default but this host never
//! grants (`wasi:http`), and the checks that decide whether a component is
//! accepted. Upload, start-up and `automations plugin check` all go through
//! [`link`], so what `check` says is what the server does.
//!
//! A deny stub links but traps when called, with a message naming the
//! function and the capability interface to use instead. It must never do
//! anything else: no stub may reach the network, the filesystem or the
//! environment.

use crate::error::PluginError;
use crate::state::{CallState, HostTrap};
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre, Linker, ResourceType};

/// Interfaces that link as deny stubs (any `0.2.x` version). Components built
/// by componentize-js import them by default whether or not the code fetches.
const DENIED_INTERFACES: &[&str] = &["wasi:http/types", "wasi:http/outgoing-handler"];

/// Host type behind every denied resource; no value of it is ever created.
struct DeniedResource;

/// A component linked for this host.
pub(crate) struct Linked {
    pub pre: InstancePre<CallState>,
    /// Imports that link as deny stubs (fail when called).
    pub denied_imports: Vec<String>,
}

/// Pool sizes a component must fit in (what one instance may take).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolLimits {
    pub memories_per_component: u32,
    pub tables_per_component: u32,
    pub table_elements: u64,
    pub memory_bytes: u64,
}

/// Links `component` against `base` (plus deny stubs) and checks that it is
/// acceptable: every import provided, `run` exported with the world's type,
/// and its memories and tables within the instance pool.
pub(crate) fn link(
    base: &Linker<CallState>,
    engine: &Engine,
    component: &Component,
    pool: &PoolLimits,
) -> Result<Linked, PluginError> {
    check_resources(component, pool)?;
    let mut linker = base.clone();
    let denied_imports = add_deny_stubs(&mut linker, engine, component)?;
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| PluginError::WorldMismatch(format!("{e:#}")))?;
    crate::bindings::ActionPre::new(pre.clone())
        .map_err(|e| PluginError::WorldMismatch(format!("{e:#}")))?;
    Ok(Linked {
        pre,
        denied_imports,
    })
}

/// Whether `import` (an interface name with its version) links as a stub.
pub(crate) fn is_denied_interface(import: &str) -> bool {
    let Some((interface, version)) = import.split_once('@') else {
        return false;
    };
    version.starts_with("0.2.") && DENIED_INTERFACES.contains(&interface)
}

fn add_deny_stubs(
    linker: &mut Linker<CallState>,
    engine: &Engine,
    component: &Component,
) -> Result<Vec<String>, PluginError> {
    let ty = component.component_type();
    // Resources of the interfaces the host provides: a denied interface that `use`s one
    // (wasi:http's `input-stream` is wasi:io's) re-exports it, and must link it as the
    // host's own type.
    let provided: Vec<(ResourceType, String)> = ty
        .imports(engine)
        .filter(|(name, _)| !is_denied_interface(name))
        .filter_map(|(name, import)| match import.ty {
            ComponentItem::ComponentInstance(instance) => Some((name, instance)),
            _ => None,
        })
        .flat_map(|(name, instance)| {
            let interface = name.split('@').next().unwrap_or(name).to_string();
            instance
                .exports(engine)
                .filter_map(|(item, export)| match export.ty {
                    ComponentItem::Resource(resource) => {
                        Some((resource, format!("{interface}.{item}")))
                    }
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut denied = Vec::new();
    for (name, import) in ty.imports(engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        if !is_denied_interface(name) {
            continue;
        }
        let mut stubs = linker.instance(name).map_err(link_error)?;
        for (item, export) in instance.exports(engine) {
            match export.ty {
                ComponentItem::ComponentFunc(_) => {
                    let function = format!("{name}#{item}");
                    stubs
                        .func_new(item, move |_, _, _, _| {
                            Err(wasmtime::Error::new(HostTrap::Denied(function.clone())))
                        })
                        .map_err(link_error)?;
                }
                ComponentItem::Resource(resource) => {
                    let host_type = match provided.iter().find(|(r, _)| *r == resource) {
                        Some((_, used)) => wasi_resource(used).ok_or_else(|| {
                            PluginError::WorldMismatch(format!(
                                "`{name}` uses the resource `{used}`, which this host cannot link"
                            ))
                        })?,
                        None => ResourceType::host::<DeniedResource>(),
                    };
                    stubs
                        .resource(item, host_type, |_, _| Ok(()))
                        .map_err(link_error)?
                }
                // Type aliases need no definition; nothing else occurs in an interface.
                _ => {}
            }
        }
        denied.push(name.to_string());
    }
    Ok(denied)
}

/// The host type wasmtime-wasi links a WASI resource as (`interface.resource`), for
/// the ones a denied interface may `use`.
fn wasi_resource(used: &str) -> Option<ResourceType> {
    use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable};
    Some(match used {
        "wasi:io/streams.input-stream" => ResourceType::host::<DynInputStream>(),
        "wasi:io/streams.output-stream" => ResourceType::host::<DynOutputStream>(),
        "wasi:io/poll.pollable" => ResourceType::host::<DynPollable>(),
        "wasi:io/error.error" => ResourceType::host::<wasmtime_wasi::p2::IoError>(),
        _ => return None,
    })
}

/// Refuses, at upload, a component that could never get an instance from the
/// pool (wasmtime would only say so at the first call).
fn check_resources(component: &Component, pool: &PoolLimits) -> Result<(), PluginError> {
    let Some(needs) = component.resources_required() else {
        return Ok(());
    };
    let mut problems = Vec::new();
    if needs.num_memories > pool.memories_per_component {
        problems.push(format!(
            "it defines {} linear memories, the host allows {}",
            needs.num_memories, pool.memories_per_component
        ));
    }
    if needs.num_tables > pool.tables_per_component {
        problems.push(format!(
            "it defines {} tables, the host allows {}",
            needs.num_tables, pool.tables_per_component
        ));
    }
    if let Some(elements) = needs.max_initial_table_size
        && elements > pool.table_elements
    {
        problems.push(format!(
            "a table starts with {elements} elements, the host allows {}",
            pool.table_elements
        ));
    }
    if let Some(pages) = needs.max_initial_memory_size {
        let bytes = pages.saturating_mul(64 << 10);
        if bytes > pool.memory_bytes {
            problems.push(format!(
                "a memory starts at {} MiB, over the host's ceiling of {} MiB",
                bytes >> 20,
                pool.memory_bytes >> 20
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PluginError::InvalidComponent(problems.join("; ")))
    }
}

fn link_error(err: wasmtime::Error) -> PluginError {
    PluginError::Config(format!("linking deny stubs: {err:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_wasi_interfaces_of_0_2_are_stubbed() {
        assert!(is_denied_interface("wasi:http/types@0.2.10"));
        assert!(is_denied_interface("wasi:http/outgoing-handler@0.2.0"));
        assert!(!is_denied_interface("wasi:http/types@0.3.0"));
        assert!(!is_denied_interface("wasi:http/types"));
        assert!(!is_denied_interface("wasi:keyvalue/store@0.2.0"));
        assert!(!is_denied_interface("automations:plugin/http@0.1.0"));
    }
}
