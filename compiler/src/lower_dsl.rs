//! Lowering of parsed `.auto` files ([`automations_grammar::ast`]) to the [`ir`].
//!
//! Checks only what the document shape says (header values, a trigger being present,
//! literal layouts) and assigns default step ids; names of fields, actions and events are
//! the checker's business. Collects every diagnostic and never stops at the first.

use automations_grammar::ast::{self, ExprKind, Span, UnaryOp};
use automations_grammar::{ParseError, ParseErrorKind};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir;

/// Parses and lowers `.auto` text. A syntax error becomes one `E0001` diagnostic, input
/// past a size limit one `E0006`.
pub fn parse_dsl(text: &str) -> (Vec<ir::Automation>, Vec<Diagnostic>) {
    match automations_grammar::parse_file(text) {
        Ok(file) => lower_owned_file(file),
        Err(err) => (Vec::new(), vec![syntax_diagnostic_in(&err, text)]),
    }
}

/// [`lower_file`] of a file that is not needed afterwards: conditions (which may hold
/// thousands of clauses) are moved into the IR instead of copied.
fn lower_owned_file(mut file: ast::File) -> (Vec<ir::Automation>, Vec<Diagnostic>) {
    let conditions: Vec<Option<ast::Expr>> = file
        .automations
        .iter_mut()
        .map(|a| a.condition.take())
        .collect();
    let (mut automations, diags) = lower_file(&file);
    for (automation, condition) in automations.iter_mut().zip(conditions) {
        automation.condition = condition.map(|expr| ir::Condition {
            expr,
            form: ir::ConditionForm::Expression,
        });
    }
    (automations, diags)
}

/// The `E0001` diagnostic for a syntax error, with the expected tokens in a note.
///
/// When the parse stopped for want of a closing bracket, the diagnostic points at the
/// bracket left open (that is what the author has to find) and labels the place where the
/// closer was expected.
pub fn syntax_diagnostic(err: &ParseError) -> Diagnostic {
    if err.kind == ParseErrorKind::Limit {
        return Diagnostic::error(codes::LIMIT_EXCEEDED, err.message.clone(), err.span)
            .with_note("see the size limits in the README (`Limits`)");
    }
    let diag = match err.unclosed {
        Some(open) => Diagnostic::error(codes::SYNTAX, "unclosed bracket", open)
            .with_label(err.span, err.message.clone()),
        None => Diagnostic::error(codes::SYNTAX, err.message.clone(), err.span),
    };
    if err.expected.is_empty() {
        diag
    } else {
        diag.with_note(format!("expected one of: {}", err.expected.join(", ")))
    }
}

/// [`syntax_diagnostic`] naming the open bracket, which is in `text` (the parsed text).
pub fn syntax_diagnostic_in(err: &ParseError, text: &str) -> Diagnostic {
    let mut diag = syntax_diagnostic(err);
    if let Some(open) = err.unclosed
        && let Some(bracket) = text.get(open.range())
    {
        let closer = automations_grammar::lexical::closer_of(bracket.chars().next().unwrap_or('('));
        diag.message = format!("unclosed `{bracket}`: no matching `{closer}`");
    }
    diag
}

/// Lowers every automation of a parsed file.
pub fn lower_file(file: &ast::File) -> (Vec<ir::Automation>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let automations = file
        .automations
        .iter()
        .map(|a| lower_automation(a, &mut diags))
        .collect();
    (automations, diags)
}

fn lower_automation(a: &ast::Automation, diags: &mut Vec<Diagnostic>) -> ir::Automation {
    let status = a
        .status
        .as_ref()
        .map_or(ir::Status::default(), |s| lower_status(s, diags));
    let environment = a
        .environment
        .as_ref()
        .map_or(ir::Environment::default(), |e| lower_environment(e, diags));
    let trigger = match &a.trigger {
        Some(t) => ir::Trigger {
            event: t.name.clone(),
            span: t.span,
        },
        None => {
            let msg = format!("automation \"{}\" has no trigger", a.name.value);
            diags.push(
                Diagnostic::error(codes::MISSING_PART, msg, a.name.span)
                    .with_note("add a `when <event>` line, e.g. `when case.created`"),
            );
            ir::Trigger {
                event: String::new(),
                span: a.span,
            }
        }
    };
    let condition = a.condition.as_ref().map(|expr| ir::Condition {
        expr: expr.clone(),
        form: ir::ConditionForm::Expression,
    });
    let layout = a.layout.as_ref().and_then(|l| literal_json(l, diags));
    let mut counter = 0;
    ir::Automation {
        name: a.name.value.clone(),
        description: a.description.as_ref().map(|d| d.value.clone()),
        status,
        environment,
        trigger,
        condition,
        steps: lower_steps(&a.steps, &mut counter),
        layout,
        span: a.span,
    }
}

fn lower_status(ident: &ast::Ident, diags: &mut Vec<Diagnostic>) -> ir::Status {
    ir::Status::parse(&ident.name).unwrap_or_else(|| {
        let allowed: Vec<&str> = ir::Status::ALL.iter().map(|s| s.as_str()).collect();
        diags.push(invalid_value("status", ident, &allowed));
        ir::Status::default()
    })
}

fn lower_environment(ident: &ast::Ident, diags: &mut Vec<Diagnostic>) -> ir::Environment {
    ir::Environment::parse(&ident.name).unwrap_or_else(|| {
        let allowed = [
            ir::Environment::Live.as_str(),
            ir::Environment::Sandbox.as_str(),
        ];
        diags.push(invalid_value("environment", ident, &allowed));
        ir::Environment::default()
    })
}

fn invalid_value(what: &str, ident: &ast::Ident, allowed: &[&str]) -> Diagnostic {
    let msg = format!("invalid {what} `{}`", ident.name);
    Diagnostic::error(codes::INVALID_VALUE, msg, ident.span)
        .with_note(format!("allowed values: {}", allowed.join(", ")))
}

/// Lowers steps in document order; `counter` numbers every step, nested ones included, so
/// that the N-th step met defaults to `step_N`.
fn lower_steps(steps: &[ast::Step], counter: &mut usize) -> Vec<ir::Step> {
    steps.iter().map(|s| lower_step(s, counter)).collect()
}

fn lower_step(step: &ast::Step, counter: &mut usize) -> ir::Step {
    *counter += 1;
    let default_id = format!("step_{counter}");
    let (id, guard, retry, kind) = match &step.kind {
        ast::StepKind::Action {
            id,
            action,
            args,
            guard,
            retry,
        } => {
            let params = args
                .iter()
                .map(|a| ir::Param {
                    name: a.name.name.clone(),
                    name_span: a.name.span,
                    value: a.value.clone(),
                })
                .collect();
            let kind = ir::StepKind::Action {
                action: action.name.clone(),
                action_span: action.span,
                params,
            };
            (id, guard.clone(), retry.as_ref().map(lower_retry), kind)
        }
        ast::StepKind::If {
            id,
            condition,
            then_steps,
            else_steps,
            ..
        } => {
            let then_steps = lower_steps(then_steps, counter);
            let else_steps = lower_steps(else_steps, counter);
            (
                id,
                None,
                None,
                ir::StepKind::If {
                    condition: condition.clone(),
                    then_steps,
                    else_steps,
                },
            )
        }
    };
    ir::Step {
        id: id.as_ref().map_or(default_id, |i| i.name.clone()),
        id_explicit: id.is_some(),
        guard,
        retry,
        kind,
        span: step.span,
    }
}

/// `retry { key: value, ... }`: the object's entries as the policy's entries (the parser
/// only builds an object there).
fn lower_retry(object: &ast::Expr) -> ir::Retry {
    let entries = match &object.kind {
        ast::ExprKind::Object(entries) => entries
            .iter()
            .map(|e| ir::Param {
                name: e.key.name.clone(),
                name_span: e.key.span,
                value: e.value.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    ir::Retry {
        entries,
        span: object.span,
    }
}

/// Converts a literal expression (as in `layout { ... }`) to JSON; anything computed is
/// reported as `E0005` and gives `None`.
fn literal_json(expr: &ast::Expr, diags: &mut Vec<Diagnostic>) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match &expr.kind {
        ExprKind::Null => Value::Null,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Number(n) => json_number(*n),
        ExprKind::Unary {
            op: UnaryOp::Neg,
            expr: inner,
        } => match inner.kind {
            ExprKind::Number(n) => json_number(-n),
            _ => return not_literal(expr.span, diags),
        },
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => Value::String(String::new()),
            [ast::StrPart::Text(t)] => Value::String(t.clone()),
            _ => return not_literal(expr.span, diags),
        },
        ExprKind::Paren(inner) => return literal_json(inner, diags),
        ExprKind::List(items) => {
            let items: Vec<Option<Value>> = items.iter().map(|i| literal_json(i, diags)).collect();
            Value::Array(items.into_iter().collect::<Option<_>>()?)
        }
        ExprKind::Object(entries) => {
            let mut map = serde_json::Map::new();
            let mut ok = true;
            for e in entries {
                match literal_json(&e.value, diags) {
                    Some(v) => {
                        map.insert(e.key.name.clone(), v);
                    }
                    None => ok = false,
                }
            }
            if !ok {
                return None;
            }
            Value::Object(map)
        }
        _ => return not_literal(expr.span, diags),
    })
}

/// Integral numbers become JSON integers so that `10` stays `10`, not `10.0`.
fn json_number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

fn not_literal(span: Span, diags: &mut Vec<Diagnostic>) -> Option<serde_json::Value> {
    diags.push(
        Diagnostic::error(codes::INVALID_VALUE, "layout values must be literals", span)
            .with_note("use numbers, strings, booleans, null, lists and objects only"),
    );
    None
}
