//! The action catalog: its wire form for `GET /api/v1/schema` (the contract the web UI
//! builds its action forms from), its consistency, and `docs/actions.md` being current.

use std::path::PathBuf;

use automations_compiler::catalog::{
    self, ActionKind, EffectKind, OutputSpec, ParamType, RecordTarget, Writes,
};
use serde_json::json;

const TYPES: [&str; 13] = [
    "string",
    "bool",
    "number",
    "duration",
    "datetime",
    "any",
    "field_name",
    "object_name",
    "fields",
    "map",
    "form",
    "recipients",
    "choice",
];

#[test]
fn the_catalog_lists_every_action_in_design_order() {
    let v = catalog::actions_json();
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|a| a["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "update_field",
            "update_record",
            "create_record",
            "create_task",
            "assign_to_queue",
            "send_email",
            "notify_user",
            "send_notification",
            "webhook",
            "human_task",
            "wait",
            "plugin"
        ]
    );
}

#[test]
fn actions_json_follows_the_schema_contract() {
    let v = catalog::actions_json();
    for action in v.as_array().expect("array") {
        let name = action["name"].as_str().expect("name");
        assert!(
            action["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{name}"
        );
        for p in action["params"].as_array().expect("params") {
            let ty = p["type"].as_str().expect("type");
            assert!(TYPES.contains(&ty), "{name}.{}: type {ty}", p["name"]);
            assert!(p["required"].is_boolean(), "{name}.{}", p["name"]);
            assert_eq!(
                p.get("choices").is_some(),
                ty == "choice",
                "{name}.{}",
                p["name"]
            );
        }
        let kind = action["output"]["kind"].as_str().expect("output.kind");
        assert!(
            ["none", "id", "fields", "form", "any"].contains(&kind),
            "{name}: {kind}"
        );
        assert_eq!(
            action["output"].get("fields").is_some(),
            kind == "fields",
            "{name}"
        );
        for e in action["effects"].as_array().expect("effects") {
            assert!(
                EffectKind::parse(e.as_str().expect("effect")).is_some(),
                "{name}: {e}"
            );
        }
        if let Some(groups) = action.get("one_of") {
            assert!(
                !groups.as_array().expect("one_of").is_empty(),
                "{name}: empty one_of"
            );
        }
        // Internal fields stay internal.
        for key in ["kind", "writes", "requires"] {
            assert!(action.get(key).is_none(), "{name}: {key}");
        }
    }
    assert_eq!(v[9]["output"], json!({"kind": "form"}));
    // Delivery is asynchronous: a webhook step's output is its outbox row, not a response.
    assert_eq!(
        v[8]["output"],
        json!({"kind": "fields", "fields": [{"name": "outbox_id", "type": "string"}]})
    );
    assert_eq!(
        v[7]["params"][0],
        json!({"name": "channel", "type": "choice", "required": true,
               "description": "Where the message goes.", "choices": ["slack", "email", "in_app"]})
    );
    assert_eq!(v[10]["one_of"], json!([["duration", "until"]]));
    assert_eq!(v[10]["params"][1]["type"], "datetime");
    assert_eq!(v[0]["effects"], json!(["record.update"]));
    assert!(v[1].get("one_of").is_none());
}

#[test]
fn names_parse_back_and_specs_are_consistent() {
    for kind in ActionKind::ALL {
        let spec = kind.spec();
        assert_eq!(spec.kind, kind);
        assert_eq!(ActionKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        let known = |n: &str| spec.param(n).is_some();
        for group in spec.one_of {
            assert!(group.iter().all(|n| known(n)), "{kind}: one_of {group:?}");
        }
        for (a, b) in spec.requires {
            assert!(known(a) && known(b), "{kind}: requires ({a}, {b})");
        }
        for p in spec.params {
            if let Some(f) = p.value_of_field {
                assert_eq!(spec.param(f).map(|f| f.ty), Some(ParamType::FieldName));
            }
        }
        if let Some(RecordTarget::ObjectParam(name)) = spec.writes.target() {
            assert_eq!(spec.param(name).map(|p| p.ty), Some(ParamType::ObjectName));
        }
        // An action writing records records record effects, and the other way round.
        let records = spec.effects.iter().any(|e| e.writes_record());
        match spec.writes {
            Writes::Update { .. } | Writes::Create { .. } | Writes::Unknown => {
                assert!(records, "{kind}")
            }
            Writes::Nothing => assert!(!records, "{kind}"),
        }
        if spec.output == OutputSpec::Id {
            assert!(matches!(spec.writes, Writes::Create { .. }), "{kind}");
        }
    }
    assert_eq!(ActionKind::parse("update-field"), None);
    for e in EffectKind::ALL {
        assert_eq!(EffectKind::parse(e.as_str()), Some(e));
        assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
    }
}

#[test]
fn the_task_record_maps_params_to_fields() {
    let fields = catalog::task_record(catalog::TaskRecord {
        subject: json!("Call back"),
        assignee: Some(json!("usr_1")),
        due: Some(serde_json::Value::Null),
        related: Some(("case".into(), "cas_1".into())),
        ..Default::default()
    });
    assert_eq!(
        serde_json::Value::Object(fields),
        json!({"subject": "Call back", "status": "open", "assignee_id": "usr_1",
               "related_object": "case", "related_id": "cas_1"})
    );
}

/// `docs/actions.md` is generated from the catalog; `UPDATE_DOCS=1` rewrites it.
#[test]
fn docs_actions_md_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/actions.md");
    let expected = catalog::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/actions.md");
    }
    let found = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        found == expected,
        "docs/actions.md is stale: run `UPDATE_DOCS=1 cargo test -p automations-compiler --test it catalog`"
    );
    for kind in ActionKind::ALL {
        assert!(found.contains(&format!("## `{kind}`")), "{kind}");
    }
}

/// The acceptance of issue 17: outside the catalog, no source compares a string with an
/// action's name (`== "webhook"`, `"wait" =>`, ...); code matches on `ActionKind` instead.
#[test]
fn no_action_name_is_compared_as_a_string_outside_the_catalog() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in ["compiler", "runtime", "server", "host-api", "net"] {
        rust_files(&root.join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 50, "found the sources: {}", files.len());
    let mut found = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "catalog"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for name in ActionKind::names() {
                let quoted = format!("\"{name}\"");
                let compared = [
                    format!("== {quoted}"),
                    format!("!= {quoted}"),
                    format!("{quoted} =>"),
                    format!("{quoted} |"),
                ];
                if compared.iter().any(|c| line.contains(c.as_str())) {
                    found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "action names compared as strings:\n{}",
        found.join("\n")
    );
}
