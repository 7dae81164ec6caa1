//! Building evaluation contexts: the event envelope, the record and previous values, and
//! the related records that reference paths reach (loaded through the open transaction).

use serde_json::{Map, Value};

use automations_compiler::typed::Type;

use crate::error::Result;
use crate::expr::{EvalContext, reference_paths};
use crate::model::Event;
use crate::plan::{Op, ParamExpr, Plan};
use crate::schema::SchemaView;
use crate::store::StoreTx;

/// What `event.*` reads: the envelope (`id`, `type`, `object`, `record_id`) and the payload
/// keys (`record`, `previous`, `changed` for record events; the data of custom events).
pub fn event_json(e: &Event) -> Value {
    let mut m = Map::new();
    if let Value::Object(p) = &e.payload {
        m.extend(p.iter().map(|(k, v)| (k.clone(), v.clone())));
    } else {
        m.insert("data".into(), e.payload.clone());
    }
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
pub fn event_context(e: &Event, now_ms: i64) -> EvalContext {
    let obj = |k: &str| match e.payload.get(k) {
        Some(Value::Object(m)) => Some(m.clone()),
        _ => None,
    };
    EvalContext {
        record: obj("record").unwrap_or_default(),
        previous: obj("previous"),
        event: event_json(e),
        steps: Map::new(),
        now_ms,
        related: Default::default(),
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
    let mut sorted: Vec<&(bool, Vec<String>)> = paths.iter().collect();
    sorted.sort_by_key(|(_, p)| p.len());
    for (prev, hops) in sorted {
        if ctx.related.contains_key(&(*prev, hops.clone())) {
            continue;
        }
        // Walk the hops, each one from the record reached by the previous.
        let mut current_object = object.to_string();
        let mut map = if *prev {
            ctx.previous.clone()
        } else {
            Some(ctx.record.clone())
        };
        for (i, hop) in hops.iter().enumerate() {
            let key = (*prev, hops[..=i].to_vec());
            if let Some(m) = ctx.related.get(&key) {
                map = Some(m.clone());
            } else {
                let Some(Type::Reference(target)) = schema.field_type(&current_object, hop) else {
                    break;
                };
                let id = map
                    .as_ref()
                    .and_then(|m| m.get(hop))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let loaded = match id {
                    Some(id) => tx.record(ws, &target, &id).await?.map(|r| r.to_json()),
                    None => None,
                };
                ctx.related.insert(key, loaded.clone().unwrap_or_default());
                map = loaded;
            }
            match schema.field_type(&current_object, hop) {
                Some(Type::Reference(t)) => current_object = t,
                _ => break,
            }
            if map.is_none() {
                break;
            }
        }
    }
    Ok(())
}
