//! The `conditions` group: the corpus ([`corpus`]) on every engine ([`engines`]):
//! time and (with callgrind) instructions per evaluation with the record prepared, and
//! per preparation of a record from its JSON.

pub mod corpus;
pub mod engines;
pub mod native;
pub mod view;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value as Json;

use crate::measure::{self, Budget};
use corpus::Case;
use engines::{ENGINES, Engine, World};

/// An engine bound to one condition and its records (object-safe, so one call per loop).
pub trait Bench {
    /// The answer on each record, in order.
    fn results(&mut self) -> Vec<bool>;
    /// `n` evaluations cycling over the prepared records; returns how many held.
    fn eval_loop(&mut self, n: u64) -> u64;
    /// `n` preparations cycling over the records' JSON.
    fn prep_loop(&mut self, n: u64) -> u64;
}

struct Bound<E: Engine> {
    engine: E,
    records: Vec<Json>,
    prepared: Vec<E::Prepared>,
}

impl<E: Engine> Bench for Bound<E> {
    fn results(&mut self) -> Vec<bool> {
        let engine = &mut self.engine;
        self.prepared.iter_mut().map(|p| engine.eval(p)).collect()
    }

    #[inline(never)]
    fn eval_loop(&mut self, n: u64) -> u64 {
        let len = self.prepared.len();
        let mut hits = 0;
        let mut i = 0;
        for _ in 0..n {
            hits += u64::from(self.engine.eval(black_box(&mut self.prepared[i])));
            i += 1;
            if i == len {
                i = 0;
            }
        }
        hits
    }

    #[inline(never)]
    fn prep_loop(&mut self, n: u64) -> u64 {
        let len = self.records.len();
        let mut i = 0;
        for _ in 0..n {
            black_box(self.engine.prepare(black_box(&self.records[i])));
            i += 1;
            if i == len {
                i = 0;
            }
        }
        n
    }
}

fn bind<E: Engine + 'static>(engine: E, records: Vec<Json>) -> Box<dyn Bench> {
    let prepared = records.iter().map(|r| engine.prepare(r)).collect();
    Box::new(Bound {
        engine,
        records,
        prepared,
    })
}

/// The records of `case`'s object.
pub fn records_of(case: &Case) -> Vec<Json> {
    corpus::records()
        .into_iter()
        .filter(|(object, _)| *object == case.object)
        .map(|(_, r)| r)
        .collect()
}

/// `engine` compiled for `case`, its records prepared.
pub fn bench(engine: &str, case: &Case, world: &Arc<World>) -> anyhow::Result<Box<dyn Bench>> {
    let records = records_of(case);
    Ok(match engine {
        "ours" => bind(engines::Ours::new(case, world)?, records),
        "reference" => bind(engines::Reference::new(case, world)?, records),
        "native" => bind(engines::Native::new(case, world), records),
        "cel" => bind(engines::Cel::new(case, world)?, records),
        "zen" => bind(engines::Zen::new(case, world)?, records),
        "evalexpr" => bind(engines::Evalexpr::new(case, world)?, records),
        "rhai" => bind(engines::Rhai::new(case, world)?, records),
        other => anyhow::bail!("unknown engine `{other}` (one of {})", ENGINES.join(", ")),
    })
}

/// The hidden `count` subcommand: `n` evaluations (or preparations) of one engine on one
/// condition, for callgrind.
pub fn count(engine: &str, case_name: &str, prep: bool, n: u64) -> anyhow::Result<u64> {
    let world = World::new();
    let cases = corpus::cases();
    let case = cases
        .iter()
        .find(|c| c.name == case_name)
        .ok_or_else(|| anyhow::anyhow!("unknown condition `{case_name}`"))?;
    let mut b = bench(engine, case, &world)?;
    Ok(if prep { b.prep_loop(n) } else { b.eval_loop(n) })
}

/// One engine on one condition.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub ns_eval: f64,
    pub ns_prepare: f64,
    /// Instructions per evaluation (callgrind), when measured.
    pub instr_eval: Option<f64>,
    pub instr_prepare: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub condition: String,
    pub object: String,
    pub text: String,
    /// How many of the object's records it holds for (equal on every engine).
    pub holds: String,
    pub engines: BTreeMap<String, Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub engine: String,
    pub geomean_ns_eval: f64,
    pub geomean_ns_prepare: f64,
    pub geomean_instr_eval: Option<f64>,
    pub geomean_instr_prepare: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub conditions: usize,
    pub records: usize,
    pub callgrind_ops: u64,
    pub rows: Vec<Row>,
    pub summary: Vec<Summary>,
    /// Ratios of geometric means, peer over ours (>1: ours is cheaper), instructions
    /// when measured, else time.
    pub ratios: BTreeMap<String, f64>,
    /// The targets: >=20x fewer instructions than zen, >=30x than cel, <=2x native.
    pub targets: BTreeMap<String, bool>,
}

/// Every engine must agree with ours on every record of every condition.
pub fn disagreements(world: &Arc<World>) -> Vec<String> {
    let mut out = Vec::new();
    for case in corpus::cases() {
        let expected = match bench("ours", &case, world) {
            Ok(mut b) => b.results(),
            Err(e) => {
                out.push(format!("{}: ours: {e}", case.name));
                continue;
            }
        };
        for engine in ENGINES {
            match bench(engine, &case, world) {
                Ok(mut b) => {
                    let got = b.results();
                    if got != expected {
                        out.push(format!(
                            "{} on {engine}: {got:?}, ours {expected:?}",
                            case.name
                        ));
                    }
                }
                Err(e) => out.push(format!("{} on {engine}: {e}", case.name)),
            }
        }
    }
    out
}

/// Runs the group.
pub fn run(budget: &Budget, log: &mut dyn FnMut(&str)) -> anyhow::Result<Report> {
    let world = World::new();
    let wrong = disagreements(&world);
    anyhow::ensure!(wrong.is_empty(), "engines disagree:\n{}", wrong.join("\n"));
    let use_callgrind = budget.callgrind_ops > 0 && measure::callgrind_available();
    let cases = corpus::cases();
    let mut rows = Vec::new();
    for case in &cases {
        log(&format!("conditions: {}", case.name));
        let mut row = Row {
            condition: case.name.into(),
            object: case.object.into(),
            text: case.ours.into(),
            holds: String::new(),
            engines: BTreeMap::new(),
        };
        for engine in ENGINES {
            let mut b = bench(engine, case, &world)?;
            let results = b.results();
            row.holds = format!(
                "{}/{}",
                results.iter().filter(|r| **r).count(),
                results.len()
            );
            let ns_eval = measure::ns_per_op(budget, |n| {
                black_box(b.eval_loop(n));
            });
            let ns_prepare = measure::ns_per_op(budget, |n| {
                black_box(b.prep_loop(n));
            });
            let counted = |prep: bool| {
                use_callgrind.then(|| {
                    let mut args = vec!["count", engine, case.name];
                    if prep {
                        args.push("--prepare");
                    }
                    // Preparing costs far more than evaluating: fewer suffice.
                    let n = if prep {
                        budget.callgrind_ops / 10
                    } else {
                        budget.callgrind_ops
                    };
                    measure::instructions_per_op(&args, n.max(1))
                })
            };
            let instr_eval = counted(false).transpose()?;
            let instr_prepare = if budget.callgrind_prepare {
                counted(true).transpose()?
            } else {
                None
            };
            row.engines.insert(
                engine.to_string(),
                Cell {
                    ns_eval,
                    ns_prepare,
                    instr_eval,
                    instr_prepare,
                },
            );
        }
        rows.push(row);
    }
    let summary: Vec<Summary> = ENGINES
        .iter()
        .map(|engine| {
            let cells: Vec<&Cell> = rows.iter().filter_map(|r| r.engines.get(*engine)).collect();
            let opt = |f: fn(&Cell) -> Option<f64>| {
                let values: Option<Vec<f64>> = cells.iter().map(|c| f(c)).collect();
                values.map(measure::geomean)
            };
            Summary {
                engine: engine.to_string(),
                geomean_ns_eval: measure::geomean(cells.iter().map(|c| c.ns_eval)),
                geomean_ns_prepare: measure::geomean(cells.iter().map(|c| c.ns_prepare)),
                geomean_instr_eval: opt(|c| c.instr_eval),
                geomean_instr_prepare: opt(|c| c.instr_prepare),
            }
        })
        .collect();
    let (ratios, targets) = ratios(&summary);
    Ok(Report {
        conditions: cases.len(),
        records: corpus::records().len(),
        callgrind_ops: if use_callgrind {
            budget.callgrind_ops
        } else {
            0
        },
        rows,
        summary,
        ratios,
        targets,
    })
}

fn ratios(summary: &[Summary]) -> (BTreeMap<String, f64>, BTreeMap<String, bool>) {
    let get = |name: &str| summary.iter().find(|s| s.engine == name);
    let cost = |s: &Summary| s.geomean_instr_eval.unwrap_or(s.geomean_ns_eval);
    let mut ratios = BTreeMap::new();
    let mut targets = BTreeMap::new();
    let Some(ours) = get("ours") else {
        return (ratios, targets);
    };
    let unit = if ours.geomean_instr_eval.is_some() {
        "instructions"
    } else {
        "time"
    };
    for peer in ["reference", "native", "cel", "zen", "evalexpr", "rhai"] {
        if let Some(p) = get(peer) {
            ratios.insert(format!("{peer}_over_ours_{unit}"), cost(p) / cost(ours));
        }
    }
    let r = |peer: &str| ratios.get(&format!("{peer}_over_ours_{unit}")).copied();
    if let Some(x) = r("zen") {
        targets.insert("at_least_20x_fewer_than_zen".into(), x >= 20.0);
    }
    if let Some(x) = r("cel") {
        targets.insert("at_least_30x_fewer_than_cel".into(), x >= 30.0);
    }
    if let Some(x) = r("native") {
        targets.insert("within_2x_of_native".into(), x >= 0.5);
    }
    (ratios, targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_condition_compiles_in_our_engine() {
        let world = World::new();
        let cases = corpus::cases();
        assert!(cases.len() >= 20);
        for case in &cases {
            engines::Ours::new(case, &world).unwrap();
        }
    }

    #[test]
    fn every_engine_agrees_with_ours_on_every_record() {
        let world = World::new();
        let wrong = disagreements(&world);
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn every_condition_both_holds_and_fails_somewhere() {
        let world = World::new();
        for case in corpus::cases() {
            let results = bench("ours", &case, &world).unwrap().results();
            assert!(results.contains(&true), "{} never holds", case.name);
            assert!(results.contains(&false), "{} always holds", case.name);
        }
    }
}
