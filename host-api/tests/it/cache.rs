//! The component cache: compiled once, then loaded from memory or from the
//! persistent store by a new engine with the same configuration.

use crate::{build, support};
use automations_host_api::{CacheSource, CacheStore, DirCacheStore, EngineConfig, PluginEngine};
use std::sync::Arc;

#[test]
fn compiled_once_then_loaded_from_memory_and_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirCacheStore::new(dir.path()).unwrap());
    let wasm = build::component("lead-scorer");
    let small = EngineConfig {
        max_concurrent_instances: 4,
        ..EngineConfig::default()
    };

    let first = PluginEngine::with_cache_store(small.clone(), store.clone()).unwrap();
    let key = first.precompile(&wasm).unwrap();
    assert!(store.load(&key).unwrap().is_some(), "artifact saved");
    assert_eq!(first.load_component(&wasm).unwrap().1, CacheSource::Memory);

    let second = PluginEngine::with_cache_store(small, store).unwrap();
    assert_eq!(
        second.cache_key(&wasm),
        key,
        "same engine configuration, same key"
    );
    assert_eq!(second.load_component(&wasm).unwrap().1, CacheSource::Store);

    // The cached component runs.
    let plugin = second
        .prepare(support::manifest("lead-scorer"), &wasm)
        .unwrap();
    let out = plugin
        .call(
            support::crm_host(),
            &support::ctx_for(&plugin),
            &serde_json::json!({"lead_id": "lead1"}),
        )
        .unwrap();
    assert_eq!(out.output["score"], 100);
}

#[test]
fn fuel_metered_code_is_cached_apart_from_unmetered_code() {
    // A plugin with a fuel limit runs on the metered engine, one without on the plain
    // one: the same component is compiled (and cached) once for each, under two keys.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirCacheStore::new(dir.path()).unwrap());
    let wasm = build::component("lead-scorer");
    let engine = PluginEngine::with_cache_store(
        EngineConfig {
            max_concurrent_instances: 2,
            ..EngineConfig::default()
        },
        store.clone(),
    )
    .unwrap();
    let plain = engine
        .prepare(support::manifest("lead-scorer"), &wasm)
        .unwrap();
    let mut fueled = support::manifest("lead-scorer");
    fueled.limits.fuel = Some(50_000_000);
    let metered = engine.prepare(fueled, &wasm).unwrap();
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 2, "one artifact per engine");
    let input = serde_json::json!({"lead_id": "lead1"});
    let out = plain
        .call(support::crm_host(), &support::ctx_for(&plain), &input)
        .unwrap();
    assert_eq!(out.fuel_used, None);
    let out = metered
        .call(support::crm_host(), &support::ctx_for(&metered), &input)
        .unwrap();
    assert!(out.fuel_used.is_some_and(|f| f > 0), "{out:?}");
    assert_eq!(out.output["score"], 100);
    // Without fuel metering a fuel limit is refused, as before.
    let off = PluginEngine::new(EngineConfig {
        fuel_metering: false,
        max_concurrent_instances: 2,
        ..EngineConfig::default()
    })
    .unwrap();
    let mut fueled = support::manifest("lead-scorer");
    fueled.limits.fuel = Some(50_000_000);
    let err = off.prepare(fueled, &wasm).err().unwrap();
    assert!(err.to_string().contains("fuel metering"), "{err}");
}

#[test]
fn a_per_call_store_gets_the_artifact_even_on_a_memory_hit() {
    let wasm = build::component("lead-scorer");
    let engine = PluginEngine::new(EngineConfig {
        max_concurrent_instances: 2,
        ..EngineConfig::default()
    })
    .unwrap();
    let first_dir = tempfile::tempdir().unwrap();
    let first = DirCacheStore::new(first_dir.path()).unwrap();
    let (_, source) = engine.load_component_in(&wasm, Some(&first)).unwrap();
    assert_eq!(source, CacheSource::Compiled);
    let key = engine.cache_key(&wasm);
    assert!(first.load(&key).unwrap().is_some(), "saved on compile");

    // One engine serving a second database: a memory hit still fills that store.
    let second_dir = tempfile::tempdir().unwrap();
    let second = DirCacheStore::new(second_dir.path()).unwrap();
    let (plugin, source) = engine
        .prepare_in(support::manifest("lead-scorer"), &wasm, Some(&second))
        .unwrap();
    assert_eq!(source, CacheSource::Memory);
    assert!(second.load(&key).unwrap().is_some(), "saved on memory hit");
    assert_eq!(plugin.manifest().name, "lead-scorer");

    // A new engine finds it in the second store: no compile.
    let fresh = PluginEngine::new(EngineConfig {
        max_concurrent_instances: 2,
        ..EngineConfig::default()
    })
    .unwrap();
    let (_, source) = fresh.load_component_in(&wasm, Some(&second)).unwrap();
    assert_eq!(source, CacheSource::Store);
}
