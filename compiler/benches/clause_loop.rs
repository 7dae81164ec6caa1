//! A plain loop for counting instructions per clause with callgrind (issue: a condition of
//! 1,000 clauses must evaluate within 3x of the per-clause cost of a 3-clause one):
//! `clause_loop SHAPE CLAUSES ITERATIONS` compiles shape SHAPE of `support/shapes.rs`
//! with CLAUSES clauses and evaluates it ITERATIONS times. Run it with 0 and with N
//! iterations; the difference in instructions divided by N and by CLAUSES is the cost of
//! one clause (`scripts/clause-cost` does this for every shape).

#[path = "support/shapes.rs"]
mod shapes;

use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [shape, clauses, iterations] = &args[..] else {
        eprintln!("usage: clause_loop SHAPE CLAUSES ITERATIONS");
        std::process::exit(2);
    };
    let clauses: usize = clauses.parse().expect("CLAUSES is a number");
    let iterations: u64 = iterations.parse().expect("ITERATIONS is a number");
    let (compiled, layout) = shapes::parse_check_compile(&shapes::text(shape, clauses));
    let slots = shapes::slots(&layout);
    let hits = (0..iterations)
        .filter(|_| compiled.eval(black_box(&slots)))
        .count();
    println!("{shape} {clauses}: {hits}/{iterations}");
}
