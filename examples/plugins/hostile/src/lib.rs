//! Hostile plugin for the host's tests: `{"attack": "<name>"}` picks one
//! misbehaviour. Every attack must fail (or find nothing) without harming the
//! host. Never deploy this.

use automations_plugin::{Ctx, Error, HttpRequest};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Deserialize)]
struct Input {
    attack: String,
}

fn run(input: Input, ctx: &Ctx) -> Result<Value, Error> {
    match input.attack.as_str() {
        "infinite-loop" => infinite_loop(),
        "memory-bomb" => memory_bomb(),
        "panic" => panic!("hostile plugin panics on purpose"),
        "deep-recursion" => Ok(json!(recurse(std::hint::black_box(1)))),
        "huge-output" => Ok(Value::String("x".repeat(100 << 20))),
        "host-call-flood" => {
            for _ in 0..1_000_000 {
                std::hint::black_box(ctx.now());
            }
            Ok(json!("flood finished"))
        }
        "write-not-granted" => {
            let mut fields = Map::new();
            fields.insert("name".into(), json!("pwned"));
            ctx.create_record("contract", &fields).map(|id| json!(id))
        }
        "http-loopback" => fetch(ctx, "http://127.0.0.1:9/"),
        "http-metadata" => fetch(ctx, "http://169.254.169.254/latest/meta-data/"),
        "read-file" => Ok(json!({
            "passwd": std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string()),
            "cwd_entries": std::fs::read_dir(".").map(|d| d.count()).map_err(|e| e.to_string()),
        })),
        "read-env" => Ok(json!({
            "vars": std::env::vars().count(),
            "home": std::env::var("HOME").ok(),
            "args": std::env::args().count(),
        })),
        "remember" => Ok(remember()),
        // The std hasher's keys come from the host's `wasi:random/insecure-seed`: a fresh
        // seed per call, so two calls agree on no hash.
        "hash-seed" => Ok(json!(RandomState::new().hash_one(0u8).to_string())),
        other => Err(Error::new(format!("unknown attack {other}"))),
    }
}

/// Calls counted in a global, and a 4 MiB heap block (past what the host keeps resident
/// between instances) stamped on each call: a fresh instance sees neither.
fn remember() -> Value {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    static HEAP: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    let calls_before = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut heap = HEAP.lock().unwrap_or_else(|p| p.into_inner());
    let heap_before = heap.last().copied();
    if heap.is_empty() {
        heap.resize(512 << 10, 0);
    }
    let stamps = heap.len();
    heap.iter_mut().for_each(|word| *word += 1);
    json!({"calls_before": calls_before, "heap_before": heap_before, "stamps": stamps, "heap_now": heap[stamps - 1]})
}

fn infinite_loop() -> Result<Value, Error> {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn memory_bomb() -> Result<Value, Error> {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&hoard);
    }
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let pad = std::hint::black_box([depth; 16]);
    recurse(depth + 1) + pad[3]
}

fn fetch(ctx: &Ctx, url: &str) -> Result<Value, Error> {
    let response = ctx.http_fetch(&HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: None,
    })?;
    Ok(json!({"status": response.status}))
}

automations_plugin::plugin!(run);
