//! What the evaluation targets evaluate on: records taken from the input when it carries
//! them, plus a fixed set that covers every field of the built-in schema with right,
//! wrong-kind, null, empty and extreme values; related records for reference hops.

use serde_json::{Value as Json, json};

use crate::eval::Resolver;
use crate::value::Value;

/// 2026-11-25T12:00:00Z: one clock for every evaluation, so the targets are deterministic.
pub(super) const NOW_MS: i64 = 1_764_072_000_000;

/// The fixed records (their fields cover every object of the built-in schema).
pub(super) fn fixed() -> Vec<Json> {
    vec![
        json!({}),
        json!({
            "id": "c1", "subject": "VPN down", "description": "Zürich office", "name": "Globex",
            "priority": "critical", "status": "open", "origin": "email", "stage": "Closed Won",
            "tier": "gold", "industry": "Energy", "source": "web", "amount": 12500000,
            "probability": 0.5, "annual_revenue": 1.5e9, "score": 75, "active": true,
            "discount_approved": false, "close_date": "2026-12-01T00:00:00Z",
            "due": "2026-11-24", "created_at": "2026-11-20T08:00:00Z",
            "updated_at": 1_764_000_000_000_i64, "account_id": "a1", "contact_id": "k1",
            "owner_id": "u1", "queue_id": "q1", "assignee_id": "u2", "manager_id": "u3",
            "email": "ops@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "company": "Initech", "related_object": "case", "related_id": "c1",
            "tags": ["vpn", "network"]
        }),
        json!({
            "id": 7, "subject": 42, "description": null, "name": ["x"], "priority": "urgent",
            "status": 3, "stage": "", "tier": null, "amount": "lots", "probability": -0.0,
            "annual_revenue": 1e308, "score": -1e308, "active": "yes", "discount_approved": 1,
            "close_date": "not a date", "due": -1, "created_at": 1e300, "account_id": 12,
            "owner_id": "missing", "queue_id": {"id": "q1"}, "email": "",
            "first_name": "日本", "last_name": "ß", "tags": "vpn"
        }),
        json!({
            "subject": "", "description": "{{ subject }}", "priority": "low",
            "status": "closed", "amount": 0, "probability": 1e-300, "score": 0.1,
            "close_date": "1970-01-01T00:00:00Z", "due": "9999-12-31T23:59:59Z",
            "account_id": "", "owner_id": "u1", "active": false
        }),
    ]
}

/// Previous versions paired with each record: none (a create) and the fixed ones.
pub(super) fn previous() -> Vec<Option<Json>> {
    let mut out = vec![None];
    out.extend(fixed().into_iter().skip(1).map(Some));
    out
}

/// `text` as a JSON object, when it is one.
pub(super) fn object(text: &str) -> Option<Json> {
    serde_json::from_str::<Json>(text)
        .ok()
        .filter(Json::is_object)
}

/// Every related record exists (with every reference field set), except id `missing`.
pub(super) struct Related;

impl Resolver for Related {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        (id != "missing").then(|| {
            json!({
                "id": id, "object": object, "name": "Globex", "tier": "platinum",
                "annual_revenue": 2.5e7, "active": true, "email": "boss@example.com",
                "owner_id": "u9", "manager_id": "missing", "account_id": "a2"
            })
        })
    }
}

/// Equal values, where NaN equals NaN (both evaluators may produce one).
pub(super) fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}
