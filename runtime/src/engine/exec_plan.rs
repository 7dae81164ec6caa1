//! A plan compiled for execution: every guard, `if` condition and param of every op
//! compiled once per automation version with the compiler's compiled evaluator, each op
//! over its own slot layout (only the fields that op reads), cached with the plan.
//!
//! The executor fills an op's slots once from the run's current context and evaluates the
//! op's guard, condition and params over that one array. The reference evaluator
//! (`crate::expr`) is not used here; it stays as the test oracle.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use automations_compiler::eval::{
    CompiledCondition, CompiledExpr, References, SlotLayout, compile, compile_expr, fill_slots,
};
use automations_compiler::value::Value;

use super::caps::{CapExceeded, CapKind, OutputCaps};
use crate::expr::{EvalContext, to_json};
use crate::plan::{Op, ParamExpr, Plan};

/// A compiled param: a value expression or a human task form (field -> type name).
pub(crate) enum CompiledParam {
    Expr(CompiledExpr),
    Form(Map<String, Json>),
}

/// Every param's language value (absent for forms), and the params as JSON.
pub(crate) type EvaluatedParams = (Vec<(String, Value)>, Map<String, Json>);

/// One op's compiled expressions over its own slot layout.
///
/// Cached for every automation version, so kept small: the conditions most ops lack are
/// boxed (a compiled condition is a few hundred bytes; inline, the two made every op of
/// 10,000 cached automations cost about 800 bytes more).
pub(crate) struct CompiledOp {
    layout: SlotLayout,
    guard: Option<Box<CompiledCondition>>,
    /// The condition of a branch (`None` for actions).
    condition: Option<Box<CompiledCondition>>,
    pub params: Vec<(String, CompiledParam, CapKind)>,
}

impl CompiledOp {
    fn new(op: &Op, references: &References) -> CompiledOp {
        let mut layout = SlotLayout::with_references(references.clone());
        let (guard, condition, params) = match op {
            Op::Action { step, .. } => {
                let guard = step
                    .guard
                    .as_ref()
                    .map(|g| Box::new(compile(g, &mut layout)));
                let params = step
                    .params
                    .iter()
                    .map(|(name, p)| {
                        let compiled = match p {
                            ParamExpr::Expr(e) => CompiledParam::Expr(compile_expr(e, &mut layout)),
                            ParamExpr::Form(fields) => CompiledParam::Form(
                                fields
                                    .iter()
                                    .map(|(k, t)| (k.clone(), Json::String(t.clone())))
                                    .collect(),
                            ),
                        };
                        (name.clone(), compiled, CapKind::of(step.action, name))
                    })
                    .collect();
                (guard, None, params)
            }
            Op::Branch {
                guard, condition, ..
            } => (
                guard.as_ref().map(|g| Box::new(compile(g, &mut layout))),
                Some(Box::new(compile(condition, &mut layout))),
                Vec::new(),
            ),
        };
        CompiledOp {
            layout,
            guard,
            condition,
            params,
        }
    }

    /// The op's slot array over the run's current context.
    pub fn slots(&self, ctx: &EvalContext) -> Vec<Value> {
        if self.layout.is_empty() {
            return Vec::new();
        }
        ctx.with_input(|input| fill_slots(&self.layout, input))
    }

    /// False when a guard exists and does not hold.
    pub fn guard_holds(&self, slots: &[Value]) -> bool {
        self.guard.as_ref().is_none_or(|g| g.eval(slots))
    }

    /// The branch condition (false for actions, which have none).
    pub fn condition_holds(&self, slots: &[Value]) -> bool {
        self.condition.as_ref().is_some_and(|c| c.eval(slots))
    }

    /// Every param's language value (absent for forms) and JSON, each within its cap of
    /// `caps` and all together within the step's; past a cap, the error names it and
    /// nothing larger than the cap was built.
    pub fn params(
        &self,
        slots: &[Value],
        caps: &OutputCaps,
    ) -> Result<EvaluatedParams, CapExceeded> {
        let mut values = Vec::with_capacity(self.params.len());
        let mut json = Map::new();
        let mut step_left = caps.step_param_bytes;
        for (name, p, kind) in &self.params {
            match p {
                CompiledParam::Expr(e) => {
                    let (limit, flag) = kind.limit(caps);
                    let error = || {
                        if limit <= step_left {
                            CapExceeded::Param {
                                param: name.clone(),
                                limit,
                                flag,
                            }
                        } else {
                            CapExceeded::Step {
                                limit: caps.step_param_bytes,
                            }
                        }
                    };
                    let v = e
                        .eval_value_within(slots, limit.min(step_left))
                        .map_err(|_| error())?;
                    let j = to_json(&v);
                    step_left = step_left.saturating_sub(json_len(&j));
                    json.insert(name.clone(), j);
                    values.push((name.clone(), v));
                }
                CompiledParam::Form(form) => {
                    json.insert(name.clone(), Json::Object(form.clone()));
                }
            }
        }
        Ok((values, json))
    }
}

/// The length of `j` as compact JSON (bounded: `j` passed its cap).
fn json_len(j: &Json) -> usize {
    serde_json::to_vec(j).map_or(0, |b| b.len())
}

/// A plan with its ops compiled (index = program counter).
pub(crate) struct ExecPlan {
    pub plan: Arc<Plan>,
    pub ops: Vec<CompiledOp>,
}

impl ExecPlan {
    /// Compiles every op; `references` says how the trigger object's references are followed.
    pub fn new(plan: Arc<Plan>, references: &References) -> ExecPlan {
        let ops = plan
            .ops
            .iter()
            .map(|op| CompiledOp::new(op, references))
            .collect();
        ExecPlan { plan, ops }
    }
}

#[cfg(test)]
mod tests {
    //! The compiled params, guards and conditions agree with the reference evaluator (the
    //! oracle) on every example automation, over a record with related records and step
    //! outputs, and over an empty one.

    use std::sync::Arc;

    use serde_json::json;

    use automations_compiler::eval::References;
    use automations_compiler::schema::Schema;

    use super::ExecPlan;
    use crate::compiler_glue::CompilerFrontend;
    use crate::engine::exec::eval_params;
    use crate::expr::{EvalContext, eval_bool};
    use crate::hooks::DefinitionCompiler;
    use crate::plan::Op;

    fn contexts(references: &References) -> Vec<EvalContext> {
        let record = json!({
            "id": "r1", "name": "Acme renewal", "subject": "Printer on fire", "stage": "Negotiation",
            "amount": 60000, "priority": "critical", "status": "open", "tier": "gold",
            "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "company": "Acme", "source": "web", "score": 80, "industry": "Software",
            "owner_id": "u1", "account_id": "a1", "contact_id": "c1", "queue_id": "q1",
            "close_date": "2026-12-01T00:00:00Z", "created_at": "2026-11-01T10:00:00Z",
            "updated_at": "2026-11-20T10:00:00Z", "discount_approved": false
        });
        let mut previous = record.clone();
        previous["stage"] = json!("Proposal");
        previous["priority"] = json!("low");
        let mut full = EvalContext {
            event: json!({
                "id": "e1", "type": "x.updated", "record": record, "previous": previous,
                "data": {"email": "new@example.com", "plan": "pro"}
            }),
            now_ms: 1_764_000_000_000,
            references: references.clone(),
            ..Default::default()
        };
        for (object, id, fields) in [
            (
                "user",
                "u1",
                json!({"id": "u1", "name": "Owner", "email": "owner@example.com", "manager_id": "u2"}),
            ),
            (
                "user",
                "u2",
                json!({"id": "u2", "name": "Manager", "email": "boss@example.com"}),
            ),
            (
                "account",
                "a1",
                json!({"id": "a1", "name": "Acme", "tier": "platinum", "owner_id": "u1"}),
            ),
            (
                "contact",
                "c1",
                json!({"id": "c1", "email": "c@example.com", "first_name": "Cy"}),
            ),
            ("queue", "q1", json!({"id": "q1", "name": "Escalations"})),
        ] {
            full.related.insert((object.into(), id.into()), fields);
        }
        let empty = EvalContext {
            references: references.clone(),
            ..Default::default()
        };
        vec![full, empty]
    }

    #[test]
    fn compiled_params_agree_with_the_reference_evaluator_on_the_examples() {
        let schema = Arc::new(Schema::builtin());
        let frontend = CompilerFrontend::new(schema.clone());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let def: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let plan = Arc::new(frontend.compile("ws", &def).unwrap().plan);
            let references = match plan.trigger_object() {
                Some(o) => References::from_schema(o, schema.clone()),
                None => References::convention(None),
            };
            let exec = ExecPlan::new(plan.clone(), &references);
            for mut ctx in contexts(&references) {
                // Every step has some output to read.
                for op in &plan.ops {
                    ctx.steps.insert(
                        op.step_id().to_string(),
                        json!({"approved": true, "notes": "ok", "id": "x1", "score": 7}),
                    );
                }
                for (op, compiled) in plan.ops.iter().zip(&exec.ops) {
                    let slots = compiled.slots(&ctx);
                    let at = format!("{} step {}", path.display(), op.step_id());
                    match op {
                        Op::Action { step, .. } => {
                            let oracle = eval_params(step, &ctx);
                            let (values, json) =
                                compiled.params(&slots, &Default::default()).unwrap();
                            assert_eq!(json, oracle.json, "{at}");
                            assert_eq!(values, oracle.values, "{at}");
                            if let Some(g) = &step.guard {
                                assert_eq!(
                                    compiled.guard_holds(&slots),
                                    eval_bool(g, &ctx),
                                    "{at}"
                                );
                            }
                            checked += step.params.len();
                        }
                        Op::Branch {
                            guard, condition, ..
                        } => {
                            if let Some(g) = guard {
                                assert_eq!(
                                    compiled.guard_holds(&slots),
                                    eval_bool(g, &ctx),
                                    "{at}"
                                );
                            }
                            assert_eq!(
                                compiled.condition_holds(&slots),
                                eval_bool(condition, &ctx),
                                "{at}"
                            );
                        }
                    }
                }
            }
        }
        assert!(checked > 20, "only {checked} params checked");
    }
}
