//! Static trigger cycles (DESIGN §5: "Activation warns on static cycles"): which events an
//! automation's actions can raise, which automations those events trigger, and whether an
//! automation lies on a cycle of that graph (itself included).
//!
//! Purely static and conservative: conditions are ignored (a cycle that a condition breaks
//! still warns), writes whose object is not a literal and plugin steps are skipped
//! (unknown). It only warns; the run-time loop guard is what stops real loops. Never reads
//! the store.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use automations_compiler::catalog::{RecordTarget, Writes, WrittenFields};
use automations_compiler::diagnostic::Diagnostic;
use automations_compiler::typed::{TExpr, TExprKind};
use automations_compiler::value::Value;

use crate::plan::{ActionStep, Op, ParamExpr, Plan};

/// The fields a write may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    Known(BTreeSet<String>),
    /// Not known statically (an expression): any `<object>.<field>_changed` may follow.
    Any,
}

/// A record write an automation's steps can perform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Update { object: String, fields: Fields },
    Create { object: String },
}

impl Write {
    /// Whether this write raises an event of type `trigger`.
    pub fn raises(&self, trigger: &str) -> bool {
        match self {
            Write::Create { object } => trigger == format!("{object}.created"),
            Write::Update { object, fields } => {
                let Some(rest) = trigger
                    .strip_prefix(object.as_str())
                    .and_then(|r| r.strip_prefix('.'))
                else {
                    return false;
                };
                if rest == "updated" {
                    return true;
                }
                match (rest.strip_suffix("_changed"), fields) {
                    (Some(_), Fields::Any) => true,
                    (Some(field), Fields::Known(set)) => set.contains(field),
                    (None, _) => false,
                }
            }
        }
    }
}

/// The record writes of a plan (what its steps can raise).
pub fn writes(plan: &Plan) -> Vec<Write> {
    let trigger_object = plan.trigger_object();
    plan.ops
        .iter()
        .filter_map(|op| match op {
            Op::Action { step, .. } => write_of(step, trigger_object),
            Op::Branch { .. } => None,
        })
        .collect()
}

/// The write of one step, from its action's catalog entry.
fn write_of(step: &ActionStep, trigger_object: Option<&str>) -> Option<Write> {
    let expr = |name: &str| match step.param(name) {
        Some(ParamExpr::Expr(e)) => Some(e),
        _ => None,
    };
    let object = |target: RecordTarget| match target {
        RecordTarget::Trigger => trigger_object.map(str::to_string),
        RecordTarget::ObjectParam(name) => literal(expr(name)?),
        RecordTarget::Object(object) => Some(object.to_string()),
    };
    match step.action.spec().writes {
        Writes::Update { target, fields } => {
            let fields = match fields {
                WrittenFields::Fixed(names) => {
                    Fields::Known(names.iter().map(|n| n.to_string()).collect())
                }
                WrittenFields::MapParam(map) => expr(map).map_or(Fields::Any, object_keys),
                WrittenFields::NamedOrMap { field, map } => match (expr(map), expr(field)) {
                    (Some(f), _) => object_keys(f),
                    (None, Some(f)) => {
                        literal(f).map_or(Fields::Any, |f| Fields::Known([f].into()))
                    }
                    (None, None) => Fields::Any,
                },
            };
            Some(Write::Update {
                object: object(target)?,
                fields,
            })
        }
        Writes::Create { target } => Some(Write::Create {
            object: object(target)?,
        }),
        // Plugins: unknown statically. Other actions write no records.
        Writes::Unknown | Writes::Nothing => None,
    }
}

/// A string the expression always yields (a literal, or a template of literals).
fn literal(e: &TExpr) -> Option<String> {
    match &e.kind {
        TExprKind::Const(Value::String(s)) => Some(s.to_string()),
        TExprKind::Template(parts) => parts.iter().map(literal).collect(),
        _ => None,
    }
}

fn object_keys(e: &TExpr) -> Fields {
    match &e.kind {
        TExprKind::Object(kvs) => Fields::Known(kvs.iter().map(|(k, _)| k.clone()).collect()),
        _ => Fields::Any,
    }
}

/// One automation as the cycle check sees it.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub trigger: String,
    pub writes: Vec<Write>,
}

impl Node {
    pub fn of(id: &str, plan: &Plan) -> Node {
        Node {
            id: id.to_string(),
            name: plan.name.clone(),
            trigger: plan.trigger.clone(),
            writes: writes(plan),
        }
    }
}

/// The shortest cycle through `nodes[start]` (as indices, starting and ending at `start`),
/// or `None` when it is on no cycle.
pub fn cycle_through(nodes: &[Node], start: usize) -> Option<Vec<usize>> {
    // Only nodes triggered by some write can be on a cycle: index triggers by type.
    let mut by_trigger: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_trigger.entry(n.trigger.as_str()).or_default().push(i);
    }
    let successors = |i: usize| -> Vec<usize> {
        let node = &nodes[i];
        let mut out: Vec<usize> = by_trigger
            .iter()
            .filter(|(t, _)| node.writes.iter().any(|w| w.raises(t)))
            .flat_map(|(_, v)| v.iter().copied())
            .collect();
        out.sort_unstable();
        out
    };
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(i) = queue.pop_front() {
        for j in successors(i) {
            if j == start {
                let mut path = vec![start];
                let mut k = i;
                while k != start {
                    path.push(k);
                    k = parent[&k];
                }
                // start, then the nodes back from `i` reversed into order, then start.
                path[1..].reverse();
                path.push(start);
                return Some(path);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = parent.entry(j) {
                e.insert(i);
                queue.push_back(j);
            }
        }
    }
    None
}

/// The active automations a cycle check walks, read by trigger as the walk needs them.
pub trait Graph {
    /// The event types some automation is triggered by.
    fn triggers(&self) -> Vec<&str>;
    /// The automations (id, plan) triggered by `event`.
    fn triggered_by(&self, event: &str) -> Vec<(&str, &Plan)>;
}

/// The warning (code W0307) when `start` (taken as active) is on a cycle with the
/// automations of `graph` (an automation of `start`'s id in `graph` is left out: `start`
/// replaces it). Only the automations `start`'s writes can reach are read, so the cost
/// follows the events affected, not the size of the workspace.
pub fn cycle_warning_from(start: Node, graph: &dyn Graph) -> Option<Diagnostic> {
    let triggers = graph.triggers();
    let mut seen: HashSet<String> = HashSet::from([start.id.clone()]);
    let mut nodes = vec![start];
    let mut next = 0;
    while next < nodes.len() {
        let raised: Vec<&str> = triggers
            .iter()
            .copied()
            .filter(|t| nodes[next].writes.iter().any(|w| w.raises(t)))
            .collect();
        for event in raised {
            for (id, plan) in graph.triggered_by(event) {
                if seen.insert(id.to_string()) {
                    nodes.push(Node::of(id, plan));
                }
            }
        }
        next += 1;
    }
    cycle_warning(&nodes, 0)
}

/// The warning (code W0307) when `nodes[start]` is on a cycle.
pub fn cycle_warning(nodes: &[Node], start: usize) -> Option<Diagnostic> {
    let path = cycle_through(nodes, start)?;
    let names: Vec<String> = path
        .iter()
        .map(|&i| format!("{:?} ({})", nodes[i].name, nodes[i].id))
        .collect();
    let message = if path.len() == 2 {
        format!(
            "automation {} re-triggers itself: its writes raise {}, its own trigger",
            names[0], nodes[start].trigger
        )
    } else {
        format!(
            "automations trigger each other in a cycle: {}",
            names.join(" -> ")
        )
    };
    let d = Diagnostic::warning(
        automations_compiler::codes::STATIC_CYCLE,
        message,
        Default::default(),
    )
    .with_note(
        "runs on such a cycle stop with loop_detected at depth 16, or when an automation \
         re-triggers itself on the same record",
    );
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_raise_their_objects_events() {
        let update = Write::Update {
            object: "case".into(),
            fields: Fields::Known(["status".to_string()].into()),
        };
        assert!(update.raises("case.updated"));
        assert!(update.raises("case.status_changed"));
        assert!(!update.raises("case.priority_changed"));
        assert!(!update.raises("case.created"));
        assert!(!update.raises("cases.updated"));
        let any = Write::Update {
            object: "case".into(),
            fields: Fields::Any,
        };
        assert!(any.raises("case.priority_changed"));
        let create = Write::Create {
            object: "task".into(),
        };
        assert!(create.raises("task.created"));
        assert!(!create.raises("task.updated"));
    }
}
