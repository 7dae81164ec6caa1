//! A compact, span-free S-expression dump of the AST, used as the snapshot format.

use automations_grammar::ast::*;

pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Number(n) => n.to_string(),
        ExprKind::Duration { millis, text } => format!("{text}={millis}ms"),
        ExprKind::Str(parts) => str_parts(parts),
        ExprKind::Path(segs) => segs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("."),
        ExprKind::List(items) => {
            format!("[{}]", items.iter().map(expr).collect::<Vec<_>>().join(" "))
        }
        ExprKind::Object(entries) => {
            let e: Vec<String> = entries
                .iter()
                .map(|en| format!("{}: {}", en.key.name, expr(&en.value)))
                .collect();
            format!("{{{}}}", e.join(", "))
        }
        ExprKind::Unary { op, expr: inner } => {
            let op = match op {
                UnaryOp::Not => "not",
                UnaryOp::Neg => "neg",
            };
            format!("({op} {})", expr(inner))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.symbol(), expr(lhs), expr(rhs))
        }
        ExprKind::Logic { op, items } => {
            let items: Vec<String> = items.iter().map(expr).collect();
            format!("({} {})", op.symbol(), items.join(" "))
        }
        ExprKind::IsNull {
            expr: inner,
            negated,
        } => {
            format!(
                "({} {})",
                if *negated { "is-not-null" } else { "is-null" },
                expr(inner)
            )
        }
        ExprKind::Call { name, args } => {
            let mut s = format!("(call {}", name.name);
            for a in args {
                s.push(' ');
                if let Some(n) = &a.name {
                    s.push_str(&format!("{}=", n.name));
                }
                s.push_str(&expr(&a.value));
            }
            s.push(')');
            s
        }
        ExprKind::Lambda { param, body } => format!("(lambda {} {})", param.name, expr(body)),
        ExprKind::Paren(inner) => format!("(paren {})", expr(inner)),
    }
}

pub fn str_parts(parts: &[StrPart]) -> String {
    let mut s = String::from("(str");
    for p in parts {
        match p {
            StrPart::Text(t) => s.push_str(&format!(" {t:?}")),
            StrPart::Expr(e) => s.push_str(&format!(" {{{}}}", expr(e))),
        }
    }
    s.push(')');
    s
}

pub fn file(f: &File) -> String {
    let mut out = String::new();
    for a in &f.automations {
        out.push_str(&format!("automation {:?}\n", a.name.value));
        if let Some(d) = &a.description {
            out.push_str(&format!("  description {:?}\n", d.value));
        }
        for (label, v) in [
            ("status", &a.status),
            ("environment", &a.environment),
            ("when", &a.trigger),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("  {label} {}\n", v.name));
            }
        }
        if let Some(c) = &a.condition {
            out.push_str(&format!("  if {}\n", expr(c)));
        }
        if let Some(l) = &a.layout {
            out.push_str(&format!("  layout {}\n", expr(l)));
        }
        out.push_str("  do\n");
        steps(&a.steps, 2, &mut out);
    }
    out
}

fn steps(list: &[Step], depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    for s in list {
        match &s.kind {
            StepKind::Action {
                id,
                action,
                args,
                guard,
                retry,
            } => {
                out.push_str(&pad);
                if let Some(id) = id {
                    out.push_str(&format!("{} = ", id.name));
                }
                out.push_str(&action.name);
                for a in args {
                    out.push_str(&format!(" {}={}", a.name.name, expr(&a.value)));
                }
                if let Some(g) = guard {
                    out.push_str(&format!(" when {}", expr(g)));
                }
                if let Some(r) = retry {
                    out.push_str(&format!(" retry {}", expr(r)));
                }
                out.push('\n');
            }
            StepKind::If {
                id,
                condition,
                then_steps,
                else_steps,
                has_else,
            } => {
                out.push_str(&pad);
                if let Some(id) = id {
                    out.push_str(&format!("{} = ", id.name));
                }
                out.push_str(&format!("if {}\n", expr(condition)));
                steps(then_steps, depth + 1, out);
                if *has_else {
                    out.push_str(&format!("{pad}else\n"));
                    steps(else_steps, depth + 1, out);
                }
            }
        }
    }
}
