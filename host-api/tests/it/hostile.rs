//! Hostile plugins: each misbehaviour fails its call with the right typed,
//! readable error, and the same engine runs a good plugin right after.

use crate::support::*;
use automations_host_api::net::{HttpClient, HttpConfig};
use automations_host_api::testing::MemoryHost;
use automations_host_api::{CallOutput, PluginError};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn attack(name: &str) -> Result<CallOutput, PluginError> {
    attack_with(name, |_| {})
}

fn attack_with(
    name: &str,
    edit: impl FnOnce(&mut automations_host_api::Manifest),
) -> Result<CallOutput, PluginError> {
    let plugin = plugin_with("hostile", edit);
    // A real http client with the default (refusing) policy.
    let host = Arc::new(MemoryHost::with_http(
        HttpClient::new(HttpConfig::default()),
    ));
    let result = plugin.call(host, &ctx_for(&plugin), &json!({"attack": name}));
    assert_engine_healthy();
    result
}

#[test]
fn infinite_loop_times_out() {
    let started = Instant::now();
    let err = attack("infinite-loop").unwrap_err();
    assert_eq!(err, PluginError::Timeout { limit_ms: 500 });
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.to_string(), "plugin timed out after 500 ms");
}

#[test]
fn infinite_loop_runs_out_of_fuel_when_metered() {
    let err = attack_with("infinite-loop", |m| m.limits.fuel = Some(5_000_000)).unwrap_err();
    assert_eq!(err, PluginError::OutOfFuel { limit: 5_000_000 });
}

#[test]
fn memory_bomb_hits_the_memory_limit() {
    let err = attack_with("memory-bomb", |m| m.limits.memory_mb = None).unwrap_err();
    let PluginError::MemoryExhausted { limit_mb, .. } = &err else {
        panic!("unexpected {err:?}")
    };
    assert_eq!(*limit_mb, 64);
    assert!(
        err.to_string()
            .starts_with("plugin exceeded its memory limit of 64 MiB"),
        "{err}"
    );
}

#[test]
fn panic_reports_the_guest_message() {
    let err = attack("panic").unwrap_err();
    let PluginError::Panic { message, .. } = &err else {
        panic!("unexpected {err:?}")
    };
    assert!(
        message.contains("hostile plugin panics on purpose"),
        "{message}"
    );
    assert!(message.contains("src/lib.rs"), "{message}");
}

#[test]
fn deep_recursion_overflows_the_stack() {
    let err = attack("deep-recursion").unwrap_err();
    assert!(matches!(err, PluginError::StackOverflow { .. }), "{err:?}");
}

#[test]
fn huge_output_is_refused() {
    // Building 100 MiB of JSON takes the guest time and memory: give it both,
    // so that the output cap is what stops it.
    let err = attack_with("huge-output", |m| {
        m.limits.timeout_ms = Some(30_000);
        m.limits.memory_mb = Some(512);
    })
    .unwrap_err();
    let PluginError::OutputTooLarge { size, limit } = err else {
        panic!("unexpected {err:?}")
    };
    assert_eq!(limit, 1 << 20);
    assert!(size >= 100 << 20, "{size}");
}

#[test]
fn host_call_flood_hits_the_cap() {
    let err = attack("host-call-flood").unwrap_err();
    assert_eq!(err, PluginError::HostCallLimit { limit: 10_000 });
}

#[test]
fn write_to_an_object_not_requested_is_denied() {
    let err = attack("write-not-granted").unwrap_err();
    let PluginError::Guest(message) = &err else {
        panic!("unexpected {err:?}")
    };
    assert!(message.contains("records:write:contract"), "{message}");
    assert!(
        message.contains("not requested in the manifest"),
        "{message}"
    );
}

#[test]
fn http_to_loopback_is_refused() {
    let err = attack("http-loopback").unwrap_err();
    assert!(
        err.to_string().contains("127.0.0.1 is refused (loopback)"),
        "{err}"
    );
}

#[test]
fn http_to_cloud_metadata_is_refused() {
    let err = attack("http-metadata").unwrap_err();
    assert!(
        err.to_string()
            .contains("169.254.169.254 is refused (cloud metadata)"),
        "{err}"
    );
}

#[test]
fn files_are_not_there() {
    let out = attack("read-file").unwrap().output;
    assert!(out["passwd"]["Err"].is_string(), "{out}");
    assert!(out["cwd_entries"]["Err"].is_string(), "{out}");
}

#[test]
fn environment_and_args_are_empty() {
    let out = attack("read-env").unwrap().output;
    assert_eq!(out, json!({"vars": 0, "home": null, "args": 0}));
}

#[test]
fn oversized_input_is_refused_before_running() {
    let plugin = plugin("lead-scorer");
    let input = json!({"lead_id": "x".repeat(2 << 20)});
    let err = plugin
        .call(crm_host(), &ctx_for(&plugin), &input)
        .unwrap_err();
    assert!(matches!(err, PluginError::InputTooLarge { .. }), "{err:?}");
}

#[test]
fn nothing_of_one_call_is_seen_by_the_next() {
    // A global counter and a 4 MiB heap block stamped on every call: each call runs in a
    // fresh instance, metered or not, so each sees the initial state however the pool
    // reuses its memory slots (part of a slot stays resident and is reset in place).
    let unmetered = plugin("hostile");
    let metered = plugin_with("hostile", |m| m.limits.fuel = Some(100_000_000));
    for plugin in [&unmetered, &metered, &unmetered, &metered, &unmetered] {
        let out = plugin
            .call(crm_host(), &ctx_for(plugin), &json!({"attack": "remember"}))
            .unwrap();
        assert_eq!(
            out.output,
            json!({"calls_before": 0, "heap_before": null, "stamps": 512 << 10, "heap_now": 1}),
            "fuel limit {:?}",
            plugin.limits().fuel
        );
        assert_eq!(out.fuel_used.is_some(), plugin.limits().fuel.is_some());
    }
}

#[test]
fn no_two_calls_share_a_hash_seed() {
    // The host answers `wasi:random/insecure-seed` itself (no WASI context is built for
    // it): every call must still get its own seed, metered or not.
    let unmetered = plugin("hostile");
    let metered = plugin_with("hostile", |m| m.limits.fuel = Some(100_000_000));
    let mut seen = std::collections::HashSet::new();
    for plugin in [&unmetered, &metered, &unmetered, &metered, &unmetered] {
        let out = plugin
            .call(
                crm_host(),
                &ctx_for(plugin),
                &json!({"attack": "hash-seed"}),
            )
            .unwrap();
        assert!(seen.insert(out.output.clone()), "{} seen twice", out.output);
    }
}
