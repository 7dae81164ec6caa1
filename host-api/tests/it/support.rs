//! Shared fixtures: one engine for the whole test process (as in production),
//! plugin loading, call contexts and a one-shot loopback http server.

use crate::build;
use automations_host_api::testing::MemoryHost;
use automations_host_api::{
    CallContext, CapabilitySet, EngineConfig, LimitPolicy, Manifest, Plugin, PluginEngine,
};
use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, LazyLock};

pub static ENGINE: LazyLock<PluginEngine> =
    LazyLock::new(|| PluginEngine::new(EngineConfig::default()).expect("engine"));

pub fn manifest(crate_name: &str) -> Manifest {
    Manifest::from_json(&build::manifest_text(crate_name), &LimitPolicy::default())
        .expect("manifest")
}

pub fn plugin(crate_name: &str) -> Plugin {
    plugin_with(crate_name, |_| {})
}

pub fn plugin_with(crate_name: &str, edit: impl FnOnce(&mut Manifest)) -> Plugin {
    let mut manifest = manifest(crate_name);
    edit(&mut manifest);
    ENGINE
        .prepare(manifest, &build::component(crate_name))
        .expect("prepare")
}

/// A context granting everything the plugin requests.
pub fn ctx_for(plugin: &Plugin) -> CallContext {
    CallContext {
        workspace: "ws1".into(),
        run_id: "run1".into(),
        step_id: "step1".into(),
        granted: Arc::new(plugin.manifest().requested()),
        ..CallContext::default()
    }
}

pub fn grants(items: &[&str]) -> Arc<CapabilitySet> {
    Arc::new(CapabilitySet::parse(items).unwrap())
}

pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// A host with a lead and its account.
pub fn crm_host() -> Arc<MemoryHost> {
    let host = MemoryHost::new();
    host.insert(
        "account",
        "acc1",
        object(json!({"name": "Acme", "employees": 2500, "industry": "software"})),
    );
    host.insert(
        "lead",
        "lead1",
        object(json!({"email": "jo@acme.com", "title": "VP Sales", "account_id": "acc1"})),
    );
    host.insert(
        "opportunity",
        "opp1",
        object(json!({"name": "Acme renewal", "amount": 120000.0, "discount": 25.0})),
    );
    Arc::new(host)
}

/// Runs the lead scorer to show the engine still works.
pub fn assert_engine_healthy() {
    let plugin = plugin("lead-scorer");
    let host = crm_host();
    let out = plugin
        .call(host, &ctx_for(&plugin), &json!({"lead_id": "lead1"}))
        .expect("lead scorer after hostile call");
    assert_eq!(out.output["score"], 100);
}

/// A loopback server answering one request with `status` and `body`; the
/// request (head and body) arrives on the receiver.
pub fn one_shot_server(status: u16, body: &'static str) -> (String, Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            request.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body_in = vec![0; length];
        reader.read_exact(&mut body_in).unwrap();
        request.push_str(&String::from_utf8_lossy(&body_in));
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        tx.send(request).unwrap();
    });
    (url, rx)
}
