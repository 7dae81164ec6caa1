//! Building evaluation contexts: the event envelope, the record and previous values, and
//! the related records that reference paths reach (loaded through the open transaction).

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
pub fn event_context(e: &Event, now_ms: i64, references: References) -> EvalContext {
    let obj = |k: &str| match e.payload.get(k) {
        Some(v @ Value::Object(_)) => Some(v.clone()),
        _ => None,
    };
    EvalContext {
        record: obj("record").unwrap_or_else(|| Value::Object(Map::new())),
        previous: obj("previous"),
        event: event_json(e),
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
        let mut map = if *prev {
            ctx.previous.clone()
        } else {
            Some(ctx.record.clone())
        };
        for hop in hops {
            let Some(Type::Reference(target)) = schema.field_type(&current_object, hop) else {
                break;
            };
            let Some(id) = map
                .as_ref()
                .and_then(|m| m.get(hop))
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
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
