//! Building evaluation contexts: the event envelope, the record and previous values, and
//! the related records that reference paths reach (loaded through the open transaction).

use std::sync::Arc;

use serde_json::{Map, Value};

use automations_compiler::typed::Type;

use crate::error::Result;
use automations_compiler::eval::References;

use crate::expr::{EvalContext, reference_paths};
use crate::model::Event;
use crate::plan::{Op, ParamExpr, Plan};
use crate::schema::SchemaView;
use crate::store::StoreTx;

/// What `event.*` reads: the envelope (`id`, `type`, `object`, `record_id`) and the payload
/// keys (`record`, `previous`, `changed` for record events; the data of custom events),
/// from the event's envelope and its `payload`, taken by value.
fn event_json_of(e: &Event, payload: Value) -> Value {
    let mut m = match payload {
        Value::Object(p) => p,
        data => Map::from_iter([("data".to_string(), data)]),
    };
    m.insert("id".into(), Value::String(e.id.clone()));
    m.insert("type".into(), Value::String(e.event_type.clone()));
    m.insert(
        "object".into(),
        e.object.clone().map(Value::String).unwrap_or(Value::Null),
    );
    m.insert(
        "record_id".into(),
        e.record_id
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    Value::Object(m)
}

/// The context an event's conditions see (before related records are loaded).
pub fn event_context(e: &Event, now_ms: i64, references: References) -> EvalContext {
    context_of(e, e.payload.as_ref().clone(), now_ms, references)
}

/// [`event_context`] of an event whose payload the caller no longer needs: it moves into
/// the context instead of being copied (the envelope stays on `e`).
pub fn event_context_taking_payload(
    e: &mut Event,
    now_ms: i64,
    references: References,
) -> EvalContext {
    // The payload is the event's alone by now, unless events that shared it (an update's
    // `<field>_changed` ones) are still around: then it is copied.
    let payload = Arc::unwrap_or_clone(std::mem::take(&mut e.payload));
    context_of(e, payload, now_ms, references)
}

fn context_of(e: &Event, payload: Value, now_ms: i64, references: References) -> EvalContext {
    EvalContext {
        record: None,
        event: event_json_of(e, payload),
        steps: Map::new(),
        now_ms,
        related: Default::default(),
        references,
    }
}

/// Every reference hop any expression of the plan reads (condition, guards, params).
pub fn plan_reference_paths(plan: &Plan) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    if let Some(c) = &plan.condition {
        reference_paths(c, &mut out);
    }
    for op in &plan.ops {
        match op {
            Op::Action { step, .. } => {
                step.guard.iter().for_each(|g| reference_paths(g, &mut out));
                for (_, p) in &step.params {
                    if let ParamExpr::Expr(e) = p {
                        reference_paths(e, &mut out);
                    }
                }
            }
            Op::Branch {
                guard, condition, ..
            } => {
                guard.iter().for_each(|g| reference_paths(g, &mut out));
                reference_paths(condition, &mut out);
            }
        }
    }
    out
}

/// Loads the related records the paths reach, following references by the schema.
pub async fn load_related<T: StoreTx>(
    tx: &mut T,
    schema: &dyn SchemaView,
    ws: &str,
    object: Option<&str>,
    paths: &[(bool, Vec<String>)],
    ctx: &mut EvalContext,
) -> Result<()> {
    let Some(object) = object else { return Ok(()) };
    for (prev, hops) in paths {
        let mut current_object = object.to_string();
        // The record a hop reads its reference from: the context's own at the first hop
        // (read in place), then the related record the previous hop reached.
        let mut map: Option<Value> = None;
        for (i, hop) in hops.iter().enumerate() {
            let Some(Type::Reference(target)) = schema.field_type(&current_object, hop) else {
                break;
            };
            let from = match i {
                0 if *prev => ctx.previous(),
                0 => Some(ctx.record()),
                _ => map.as_ref(),
            };
            let Some(id) = reference_id(from, hop) else {
                break;
            };
            let key = (target.clone(), id.clone());
            map = match ctx.related.get(&key) {
                Some(m) => Some(m.clone()),
                None => {
                    let loaded = tx
                        .record(ws, &target, &id)
                        .await?
                        .map(|r| Value::Object(r.to_json()));
                    if let Some(m) = &loaded {
                        ctx.related.insert(key, m.clone());
                    }
                    loaded
                }
            };
            current_object = target;
            if map.is_none() {
                break;
            }
        }
    }
    Ok(())
}

/// The id a reference field `hop` of `record` holds.
pub(in crate::engine) fn reference_id(record: Option<&Value>, hop: &str) -> Option<String> {
    record
        .and_then(|m| m.get(hop))
        .and_then(Value::as_str)
        .map(str::to_string)
}
