//! A compiled automation as the runtime executes it: the trigger, the condition and the
//! steps flattened into a program of [`Op`]s addressed by a program counter, so that a run
//! persists one integer (its `pc`) and resumes exactly where it stopped.
//!
//! Built from the compiler's checked automation (see `compiler_glue`) or by hand in tests.
//! Never evaluates anything itself.

use automations_compiler::catalog::ActionKind;
use automations_compiler::retry::RetryPolicy;
use automations_compiler::typed::TExpr;

/// A step param: an expression (literal, template, object...) or a human task form.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamExpr {
    Expr(TExpr),
    /// Field name -> type name (`bool`, `string`, `number`, `datetime`, ...).
    Form(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionStep {
    pub id: String,
    pub action: ActionKind,
    pub guard: Option<TExpr>,
    pub params: Vec<(String, ParamExpr)>,
    /// How a transient failure is retried (DESIGN §6); `None`: it fails the run.
    pub retry: Option<RetryPolicy>,
}

impl ActionStep {
    pub fn param(&self, name: &str) -> Option<&ParamExpr> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, p)| p)
    }
}

/// A step as written: an action or an `if` with two branches.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanStep {
    Action(ActionStep),
    If {
        id: String,
        guard: Option<TExpr>,
        condition: TExpr,
        then_steps: Vec<PlanStep>,
        else_steps: Vec<PlanStep>,
    },
}

/// One instruction; `next` is where execution goes after it (after the whole `if` for a
/// branch whose guard is false).
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Action {
        step: ActionStep,
        next: usize,
    },
    Branch {
        id: String,
        guard: Option<TExpr>,
        condition: TExpr,
        then_pc: usize,
        else_pc: usize,
        next: usize,
    },
}

impl Op {
    pub fn step_id(&self) -> &str {
        match self {
            Op::Action { step, .. } => &step.id,
            Op::Branch { id, .. } => id,
        }
    }
    pub fn next(&self) -> usize {
        match self {
            Op::Action { next, .. } | Op::Branch { next, .. } => *next,
        }
    }
}

/// A runnable automation version.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    /// Event type, e.g. `case.created`.
    pub trigger: String,
    pub condition: Option<TExpr>,
    pub ops: Vec<Op>,
}

impl Plan {
    pub fn new(
        name: impl Into<String>,
        trigger: impl Into<String>,
        condition: Option<TExpr>,
        steps: Vec<PlanStep>,
    ) -> Plan {
        let mut ops = Vec::new();
        flatten(steps, &mut ops);
        let end = ops.len();
        fix_next(&mut ops, end);
        // Plans are cached for every automation (10,000 in a big workspace): a one-step
        // plan would otherwise keep room for four ops of a few hundred bytes each.
        ops.shrink_to_fit();
        Plan {
            name: name.into(),
            trigger: trigger.into(),
            condition,
            ops,
        }
    }

    /// The program counter of a step id.
    pub fn pc_of(&self, step_id: &str) -> Option<usize> {
        self.ops.iter().position(|o| o.step_id() == step_id)
    }

    /// Object of the trigger event (`case` for `case.created`), `None` for custom events.
    pub fn trigger_object(&self) -> Option<&str> {
        let (obj, _) = self.trigger.split_once('.')?;
        (obj != "custom").then_some(obj)
    }
}

/// Placeholder for "the end of the enclosing sequence", patched by [`fix_next`].
const OPEN: usize = usize::MAX;

/// Lays steps out in order; every op's `next` is the following op of its sequence or OPEN.
fn flatten(steps: Vec<PlanStep>, ops: &mut Vec<Op>) {
    let mut pending_ends: Vec<usize> = Vec::new();
    for step in steps {
        let here = ops.len();
        // The previous op(s) of this sequence continue here.
        for i in pending_ends.drain(..) {
            set_open_next(ops, i, here);
        }
        match step {
            PlanStep::Action(a) => {
                ops.push(Op::Action {
                    step: a,
                    next: OPEN,
                });
                pending_ends.push(here);
            }
            PlanStep::If {
                id,
                guard,
                condition,
                then_steps,
                else_steps,
            } => {
                ops.push(Op::Branch {
                    id,
                    guard,
                    condition,
                    then_pc: OPEN,
                    else_pc: OPEN,
                    next: OPEN,
                });
                let then_start = ops.len();
                flatten(then_steps, ops);
                let else_start = ops.len();
                flatten(else_steps, ops);
                let end = ops.len();
                if let Op::Branch {
                    then_pc, else_pc, ..
                } = &mut ops[here]
                {
                    *then_pc = if then_start == else_start {
                        OPEN
                    } else {
                        then_start
                    };
                    *else_pc = if else_start == end { OPEN } else { else_start };
                }
                pending_ends.push(here);
                // Ops of both branches that end their sequence continue after the if.
                pending_ends.extend((then_start..ops.len()).filter(|&i| has_open_next(&ops[i])));
            }
        }
    }
}

fn has_open_next(op: &Op) -> bool {
    match op {
        Op::Action { next, .. } => *next == OPEN,
        Op::Branch {
            next,
            then_pc,
            else_pc,
            ..
        } => *next == OPEN || *then_pc == OPEN || *else_pc == OPEN,
    }
}

fn set_open_next(ops: &mut [Op], i: usize, target: usize) {
    match &mut ops[i] {
        Op::Action { next, .. } => {
            if *next == OPEN {
                *next = target
            }
        }
        Op::Branch {
            next,
            then_pc,
            else_pc,
            ..
        } => {
            for p in [next, then_pc, else_pc] {
                if *p == OPEN {
                    *p = target;
                }
            }
        }
    }
}

fn fix_next(ops: &mut [Op], end: usize) {
    for i in 0..ops.len() {
        set_open_next(ops, i, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automations_compiler::typed::{TExprKind, Type};
    use automations_compiler::value::Value;

    fn t() -> TExpr {
        TExpr {
            kind: TExprKind::Const(Value::Bool(true)),
            ty: Type::Bool,
            span: Default::default(),
        }
    }
    fn a(id: &str) -> PlanStep {
        PlanStep::Action(ActionStep {
            id: id.into(),
            action: ActionKind::NotifyUser,
            guard: None,
            params: vec![],
            retry: None,
        })
    }

    #[test]
    fn a_cached_plan_keeps_no_room_for_more_ops() {
        // Every automation's plan stays in memory: spare capacity is paid 10,000 times.
        for steps in [vec![a("s1")], vec![a("s1"), a("s2"), a("s3")]] {
            let n = steps.len();
            let plan = Plan::new("p", "case.created", None, steps);
            assert_eq!((plan.ops.len(), plan.ops.capacity()), (n, n));
        }
    }

    #[test]
    fn flattens_nested_ifs() {
        let plan = Plan::new(
            "p",
            "case.created",
            None,
            vec![
                a("s1"),
                PlanStep::If {
                    id: "if1".into(),
                    guard: None,
                    condition: t(),
                    then_steps: vec![a("t1"), a("t2")],
                    else_steps: vec![a("e1")],
                },
                a("s3"),
                PlanStep::If {
                    id: "if2".into(),
                    guard: None,
                    condition: t(),
                    then_steps: vec![a("t3")],
                    else_steps: vec![],
                },
            ],
        );
        let ids: Vec<_> = plan
            .ops
            .iter()
            .map(|o| (o.step_id().to_string(), o.next()))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("s1".into(), 1),
                ("if1".into(), 5),
                ("t1".into(), 3),
                ("t2".into(), 5),
                ("e1".into(), 5),
                ("s3".into(), 6),
                ("if2".into(), 8),
                ("t3".into(), 8)
            ]
        );
        let Op::Branch {
            then_pc, else_pc, ..
        } = &plan.ops[1]
        else {
            panic!()
        };
        assert_eq!((*then_pc, *else_pc), (2, 4));
        let Op::Branch {
            then_pc, else_pc, ..
        } = &plan.ops[6]
        else {
            panic!()
        };
        assert_eq!((*then_pc, *else_pc), (7, 8));
    }
}
