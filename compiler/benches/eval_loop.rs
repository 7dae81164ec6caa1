//! A plain loop for counting instructions per evaluation with callgrind (DESIGN §13):
//! `eval_loop <compiled|miss|fill|reference|hand> <iterations>`. Run it with 0 and with N
//! iterations; the difference in instructions divided by N is the cost of one evaluation.

use std::hint::black_box;
use std::sync::Arc;

use automations_compiler::eval::{EvalInput, SlotLayout, compile, fill_slots, reference};
use automations_compiler::typed::{
    BinaryOp, FieldRef, LogicOp, Root, Span, TExpr, TExprKind, Type,
};
use automations_compiler::value::Value;
use serde_json::json;

fn node(kind: TExprKind, ty: Type) -> TExpr {
    TExpr {
        kind,
        ty,
        span: Span::default(),
    }
}

fn field(name: &str) -> TExpr {
    node(
        TExprKind::Field(FieldRef {
            root: Root::Record,
            path: vec![name.into()],
        }),
        Type::String,
    )
}

fn text(s: &str) -> TExpr {
    node(TExprKind::Const(Value::String(Arc::from(s))), Type::String)
}

fn bin(op: BinaryOp, lhs: TExpr, rhs: TExpr) -> TExpr {
    node(
        TExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        Type::Bool,
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "compiled".into());
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let expr = TExpr {
        kind: TExprKind::Logic {
            op: LogicOp::And,
            items: vec![
                bin(BinaryOp::Eq, field("priority"), text("critical")),
                bin(BinaryOp::Ne, field("status"), text("closed")),
                bin(BinaryOp::Contains, field("subject"), text("VPN")),
            ],
        },
        ty: Type::Bool,
        span: Span::default(),
    };
    let record = json!({
        "id": "case_1",
        "subject": "VPN down for the Zurich office",
        "priority": "critical",
        "status": "open",
        "origin": "email",
    });
    let input = EvalInput::record(&record, 0);
    let mut layout = SlotLayout::new();
    let compiled = compile(&expr, &mut layout);
    let slots = fill_slots(&layout, &input);
    let miss = json!({"subject": "Printer jam", "priority": "low", "status": "open"});
    let miss_slots = fill_slots(&layout, &EvalInput::record(&miss, 0));
    let (p, st, sub) = (
        String::from("critical"),
        String::from("open"),
        String::from("VPN down for the Zurich office"),
    );
    // One loop per mode, so the count holds no per-iteration dispatch.
    let run = |f: &mut dyn FnMut() -> bool| (0..n).filter(|_| f()).count();
    let hits = match what.as_str() {
        "fill" => {
            run(&mut || !black_box(fill_slots(black_box(&layout), black_box(&input))).is_empty())
        }
        "reference" => run(&mut || {
            reference::evaluate_bool(black_box(&expr), black_box(&input), layout.references())
        }),
        "hand" => run(&mut || {
            let (p, st, sub) = black_box((&p, &st, &sub));
            p == "critical" && st != "closed" && sub.contains("VPN")
        }),
        "miss" => run(&mut || compiled.eval(black_box(&miss_slots))),
        _ => run(&mut || compiled.eval(black_box(&slots))),
    };
    println!("{what}: {hits}/{n}");
}
