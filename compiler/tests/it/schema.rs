//! The built-in schema of DESIGN §4.1, custom schema files, and events.

use automations_compiler::schema::{EventError, EventKind, FieldType, Schema, SchemaError};

#[test]
fn builtin_has_the_design_objects_and_fields() {
    let s = Schema::builtin();
    let names: Vec<&str> = s.object_names().collect();
    assert_eq!(
        names,
        [
            "account",
            "case",
            "contact",
            "lead",
            "opportunity",
            "queue",
            "task",
            "user"
        ]
    );
    for object in &names {
        for f in ["id", "created_at", "updated_at"] {
            assert!(s.field(object, f).is_some(), "{object}.{f}");
        }
    }
    let stage = &s.field("opportunity", "stage").expect("stage").ty;
    let FieldType::Picklist { values } = stage else {
        panic!("{stage:?}")
    };
    assert_eq!(
        values,
        &[
            "Prospecting",
            "Qualification",
            "Proposal",
            "Negotiation",
            "Closed Won",
            "Closed Lost"
        ]
    );
    assert_eq!(
        s.field("case", "queue_id").expect("queue_id").ty,
        FieldType::Reference {
            object: "queue".into()
        }
    );
    assert_eq!(
        s.field("user", "manager_id").expect("m").ty,
        FieldType::Reference {
            object: "user".into()
        }
    );
    assert_eq!(s.field("task", "due").expect("due").ty, FieldType::DateTime);
    assert_eq!(
        s.field("opportunity", "discount_approved").expect("d").ty,
        FieldType::Bool
    );
    assert_eq!(s.object("case").expect("case").fields.len(), 9 + 3);
}

#[test]
fn custom_schema_adds_fields_and_objects_and_round_trips() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/check/custom_schema.json"),
    )
    .expect("file");
    let s = Schema::from_json_str(&text).expect("valid");
    assert_eq!(
        s.field("case", "sla_hours").expect("sla").ty,
        FieldType::Number
    );
    assert!(s.field("case", "legacy_code").expect("legacy").deprecated);
    assert!(s.field("invoice", "id").is_some(), "new objects get id");
    assert!(
        s.field("case", "priority").is_some(),
        "built-in fields stay"
    );
    let json = serde_json::to_string(&s).expect("serializes");
    let back: Schema = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, s);
    assert_eq!(
        s.to_json()["objects"]["case"]["fields"]["priority"]["type"],
        "picklist"
    );
}

#[test]
fn custom_schema_errors() {
    let conflict = r#"{"objects":{"case":{"fields":{"priority":{"type":"number"}}}}}"#;
    assert!(matches!(
        Schema::from_json_str(conflict),
        Err(SchemaError::Conflict { .. })
    ));
    let dangling =
        r#"{"objects":{"case":{"fields":{"x_id":{"type":"reference","object":"nope"}}}}}"#;
    assert!(matches!(
        Schema::from_json_str(dangling),
        Err(SchemaError::UnknownReference { .. })
    ));
    assert!(matches!(
        Schema::from_json_str("{"),
        Err(SchemaError::Json(_))
    ));
    let bad_type = r#"{"objects":{"case":{"fields":{"x":{"type":"money"}}}}}"#;
    assert!(matches!(
        Schema::from_json_str(bad_type),
        Err(SchemaError::Json(_))
    ));
    let bad_name = r#"{"objects":{"case":{"fields":{"a b":{"type":"string"}}}}}"#;
    assert!(matches!(
        Schema::from_json_str(bad_name),
        Err(SchemaError::BadName(_))
    ));
    let deprecate = r#"{"objects":{"case":{"fields":{"origin":{"type":"picklist","values":["email","web","phone","chat"],"deprecated":true}}}}}"#;
    assert!(
        Schema::from_json_str(deprecate)
            .expect("ok")
            .field("case", "origin")
            .expect("o")
            .deprecated
    );
}

#[test]
fn events() {
    let s = Schema::builtin();
    assert_eq!(
        s.parse_event("case.created"),
        Ok((Some("case".into()), EventKind::Created))
    );
    assert_eq!(
        s.parse_event("opportunity.stage_changed"),
        Ok((
            Some("opportunity".into()),
            EventKind::FieldChanged("stage".into())
        ))
    );
    assert_eq!(
        s.parse_event("custom.signup"),
        Ok((None, EventKind::Custom("signup".into())))
    );
    assert_eq!(
        s.parse_event("case.craeted"),
        Err(EventError::UnknownEvent {
            suggestion: Some("case.created".into())
        })
    );
    assert!(matches!(
        s.parse_event("csae.created"),
        Err(EventError::UnknownObject { .. })
    ));
    assert!(
        s.events_for("case")
            .contains(&"case.priority_changed".to_string())
    );
}
