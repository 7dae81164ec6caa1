//! A plain loop for counting, with callgrind, what dispatching one event costs:
//! `dispatch_loop WORKLOAD AUTOMATIONS ITERATIONS` builds the index of AUTOMATIONS
//! automations of WORKLOAD (`selective` or `coarse`, see `support/dispatch_workload.rs`)
//! and dispatches `case.updated` ITERATIONS times. Run it with 0 and with N iterations;
//! the difference in instructions divided by N is one event (loop included).
//!
//! `valgrind --tool=callgrind target/release/deps/dispatch_loop-* selective 10000 1000`

#[path = "support/dispatch_workload.rs"]
#[allow(dead_code)] // The bench crate uses parts of the workload this loop does not.
mod workload;

use std::hint::black_box;

use workload::{EVENT_TYPE, Workload};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [name, count, iterations] = &args[..] else {
        eprintln!("usage: dispatch_loop selective|coarse AUTOMATIONS ITERATIONS");
        std::process::exit(2);
    };
    let workload = match name.as_str() {
        "selective" => Workload::Selective,
        "coarse" => Workload::Coarse,
        other => {
            eprintln!("unknown workload {other:?}: selective or coarse");
            std::process::exit(2);
        }
    };
    let (Ok(count), Ok(iterations)) = (count.parse::<usize>(), iterations.parse::<u64>()) else {
        eprintln!("AUTOMATIONS and ITERATIONS must be whole numbers");
        std::process::exit(2);
    };
    let index = workload::index(workload, count).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    let record = workload::event_record();
    let previous = workload::previous_record();
    let input = workload::event_input(&record, &previous);
    let mut matched = 0;
    for _ in 0..iterations {
        matched = black_box(index.matches(black_box(EVENT_TYPE), black_box(&input))).len();
    }
    println!("{matched}");
}
