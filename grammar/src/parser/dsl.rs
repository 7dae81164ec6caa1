//! `.auto` structure: automations, their header items and their steps.
//!
//! Header items may come in any order but each at most once; a repeated item is a
//! [`ParseError`]. Whether a header is missing is the compiler's business, not this module's.

use pest::iterators::Pair;

use super::expr::{build_expr, name_and_expr, plain_string};
use super::{Rule, children, shape_error, span_of};
use crate::ast::{Automation, Expr, File, Ident, NamedArg, Step, StepKind, StrLit};
use crate::error::ParseError;

pub(crate) fn build_file(pair: Pair<'_, Rule>) -> Result<File, ParseError> {
    let automations = children(pair)
        .filter(|p| p.as_rule() == Rule::automation)
        .map(build_automation)
        .collect::<Result<_, _>>()?;
    Ok(File { automations })
}

fn build_automation(pair: Pair<'_, Rule>) -> Result<Automation, ParseError> {
    let span = span_of(&pair);
    let mut parts = children(pair);
    let name = parts
        .next()
        .ok_or_else(|| ParseError::custom(span, "expected a name"))?;
    let name = str_lit(name)?;
    let mut auto = Automation {
        name,
        description: None,
        status: None,
        environment: None,
        trigger: None,
        condition: None,
        layout: None,
        steps: Vec::new(),
        span,
    };
    for item in parts {
        let item_span = span_of(&item);
        match item.as_rule() {
            Rule::description => set_once(
                &mut auto.description,
                str_lit(only_child(item)?)?,
                "description",
                item_span,
            )?,
            Rule::status => set_once(
                &mut auto.status,
                ident(only_child(item)?),
                "status",
                item_span,
            )?,
            Rule::environment => set_once(
                &mut auto.environment,
                ident(only_child(item)?),
                "environment",
                item_span,
            )?,
            Rule::trigger => set_once(
                &mut auto.trigger,
                ident(only_child(item)?),
                "when",
                item_span,
            )?,
            Rule::condition => set_once(
                &mut auto.condition,
                build_expr(only_child(item)?)?,
                "if",
                item_span,
            )?,
            Rule::layout => set_once(
                &mut auto.layout,
                build_expr_from_object(only_child(item)?)?,
                "layout",
                item_span,
            )?,
            Rule::do_block => auto.steps = build_block(only_child(item)?)?,
            _ => return Err(shape_error(&item)),
        }
    }
    Ok(auto)
}

fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    what: &str,
    span: crate::ast::Span,
) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(ParseError::custom(
            span,
            format!("`{what}` is given more than once in this automation"),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// `layout` holds a bare `object` pair; wrap it as an expression.
fn build_expr_from_object(pair: Pair<'_, Rule>) -> Result<Expr, ParseError> {
    let span = span_of(&pair);
    let entries = children(pair).map(|entry| {
        let entry_span = span_of(&entry);
        let mut kv = children(entry);
        let (Some(key), Some(value)) = (kv.next(), kv.next()) else {
            return Err(ParseError::custom(entry_span, "malformed object entry"));
        };
        let key = match key.as_rule() {
            Rule::string => plain_string(key)?,
            _ => ident(key),
        };
        Ok(crate::ast::ObjectEntry {
            key,
            value: build_expr(value)?,
        })
    });
    let entries = entries.collect::<Result<_, _>>()?;
    Ok(Expr {
        kind: crate::ast::ExprKind::Object(entries),
        span,
    })
}

fn only_child(pair: Pair<'_, Rule>) -> Result<Pair<'_, Rule>, ParseError> {
    let err = shape_error(&pair);
    children(pair).next().ok_or(err)
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

fn str_lit(pair: Pair<'_, Rule>) -> Result<StrLit, ParseError> {
    let id = plain_string(pair)?;
    Ok(StrLit {
        value: id.name,
        span: id.span,
    })
}

fn build_block(pair: Pair<'_, Rule>) -> Result<Vec<Step>, ParseError> {
    children(pair).map(build_step).collect()
}

fn build_step(pair: Pair<'_, Rule>) -> Result<Step, ParseError> {
    let span = span_of(&pair);
    let rule = pair.as_rule();
    let mut parts = children(pair).peekable();
    let id = match parts.peek() {
        Some(p) if p.as_rule() == Rule::step_label => parts.next().map(|l| label(l)).transpose()?,
        _ => None,
    };
    match rule {
        Rule::if_step => {
            let core = parts
                .next()
                .ok_or_else(|| ParseError::custom(span, "expected `if`"))?;
            build_if(core, id, span)
        }
        Rule::action_step => build_action(parts, id, span),
        _ => Err(ParseError::custom(span, "expected a step")),
    }
}

fn label(pair: Pair<'_, Rule>) -> Result<Ident, ParseError> {
    Ok(ident(only_child(pair)?))
}

fn build_action<'i>(
    mut parts: impl Iterator<Item = Pair<'i, Rule>>,
    id: Option<Ident>,
    span: crate::ast::Span,
) -> Result<Step, ParseError> {
    let action = parts
        .next()
        .ok_or_else(|| ParseError::custom(span, "expected an action"))?;
    let action = ident(action);
    let mut args = Vec::new();
    let mut guard = None;
    let mut retry = None;
    for part in parts {
        match part.as_rule() {
            Rule::action_args => {
                for arg in children(part) {
                    let arg_span = span_of(&arg);
                    let (name, value) = name_and_expr(arg)?;
                    args.push(NamedArg {
                        name,
                        value,
                        span: arg_span,
                    });
                }
            }
            Rule::guard => guard = Some(build_expr(only_child(part)?)?),
            Rule::retry_clause => retry = Some(build_expr_from_object(only_child(part)?)?),
            _ => return Err(shape_error(&part)),
        }
    }
    Ok(Step {
        kind: StepKind::Action {
            id,
            action,
            args,
            guard,
            retry,
        },
        span,
    })
}

/// Builds an `if_core` (`if cond { ... } [else ...]`).
fn build_if(
    core: Pair<'_, Rule>,
    id: Option<Ident>,
    span: crate::ast::Span,
) -> Result<Step, ParseError> {
    let mut parts = children(core);
    let (Some(cond), Some(then_block)) = (parts.next(), parts.next()) else {
        return Err(ParseError::custom(span, "expected a condition and a block"));
    };
    let condition = build_expr(cond)?;
    let then_steps = build_block(then_block)?;
    let mut else_steps = Vec::new();
    let mut has_else = false;
    if let Some(else_clause) = parts.next() {
        has_else = true;
        let branch = only_child(else_clause)?;
        else_steps = match branch.as_rule() {
            Rule::if_core => {
                let nested_span = span_of(&branch);
                vec![build_if(branch, None, nested_span)?]
            }
            _ => build_block(branch)?,
        };
    }
    Ok(Step {
        kind: StepKind::If {
            id,
            condition,
            then_steps,
            else_steps,
            has_else,
        },
        span,
    })
}
