//! The built-in CRM schema of DESIGN §4.1. Tests and examples rely on these names: change
//! them only together with the design.
//!
//! Must never hold workspace-specific fields; those come from `crate::schema::custom`.

use super::{FieldDef, FieldType, ObjectDef, Schema};

fn s() -> FieldType {
    FieldType::String
}
fn n() -> FieldType {
    FieldType::Number
}
fn b() -> FieldType {
    FieldType::Bool
}
fn dt() -> FieldType {
    FieldType::DateTime
}
fn pick(values: &[&str]) -> FieldType {
    FieldType::Picklist {
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}
fn refer(object: &str) -> FieldType {
    FieldType::Reference {
        object: object.to_string(),
    }
}

/// `(object, [(field, type)])` in the order of the design table.
fn table() -> Vec<(&'static str, Vec<(&'static str, FieldType)>)> {
    vec![
        (
            "account",
            vec![
                ("name", s()),
                ("industry", s()),
                ("tier", pick(&["bronze", "silver", "gold", "platinum"])),
                ("annual_revenue", n()),
                ("owner_id", refer("user")),
            ],
        ),
        (
            "contact",
            vec![
                ("first_name", s()),
                ("last_name", s()),
                ("email", s()),
                ("phone", s()),
                ("account_id", refer("account")),
                ("owner_id", refer("user")),
            ],
        ),
        (
            "lead",
            vec![
                ("first_name", s()),
                ("last_name", s()),
                ("email", s()),
                ("company", s()),
                (
                    "source",
                    pick(&["web", "referral", "event", "partner", "other"]),
                ),
                (
                    "status",
                    pick(&["new", "working", "qualified", "disqualified"]),
                ),
                ("score", n()),
                ("owner_id", refer("user")),
            ],
        ),
        (
            "opportunity",
            vec![
                ("name", s()),
                ("account_id", refer("account")),
                ("amount", n()),
                (
                    "stage",
                    pick(&[
                        "Prospecting",
                        "Qualification",
                        "Proposal",
                        "Negotiation",
                        "Closed Won",
                        "Closed Lost",
                    ]),
                ),
                ("probability", n()),
                ("close_date", dt()),
                ("owner_id", refer("user")),
                ("discount_approved", b()),
            ],
        ),
        (
            "case",
            vec![
                ("subject", s()),
                ("description", s()),
                ("priority", pick(&["low", "medium", "high", "critical"])),
                (
                    "status",
                    pick(&["new", "open", "pending", "escalated", "closed"]),
                ),
                ("origin", pick(&["email", "web", "phone", "chat"])),
                ("account_id", refer("account")),
                ("contact_id", refer("contact")),
                ("owner_id", refer("user")),
                ("queue_id", refer("queue")),
            ],
        ),
        (
            "task",
            vec![
                ("subject", s()),
                ("description", s()),
                ("status", pick(&["open", "completed"])),
                ("due", dt()),
                ("assignee_id", refer("user")),
                ("related_object", s()),
                ("related_id", s()),
            ],
        ),
        (
            "user",
            vec![
                ("name", s()),
                ("email", s()),
                ("manager_id", refer("user")),
                ("active", b()),
            ],
        ),
        ("queue", vec![("name", s()), ("email", s())]),
    ]
}

pub(super) fn builtin() -> Schema {
    let mut schema = Schema::default();
    for (object, fields) in table() {
        let mut def = ObjectDef::default();
        def.fields
            .insert("id".into(), FieldDef::new(FieldType::String));
        for (name, ty) in fields {
            def.fields.insert(name.into(), FieldDef::new(ty));
        }
        def.fields
            .insert("created_at".into(), FieldDef::new(FieldType::DateTime));
        def.fields
            .insert("updated_at".into(), FieldDef::new(FieldType::DateTime));
        schema.objects.insert(object.into(), def);
    }
    schema
}
