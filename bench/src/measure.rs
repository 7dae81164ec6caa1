//! Measuring helpers: wall time per operation (calibrated loops, best of several
//! rounds), percentiles, geometric means, and instruction counts from callgrind (the
//! binary re-run under valgrind with N operations and with none, difference over N).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long the measurements run.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Minimum wall time of one timed round.
    pub round: Duration,
    /// Timed rounds (the best is kept: the least disturbed by other processes).
    pub rounds: usize,
    /// Operations per callgrind run (0 disables callgrind).
    pub callgrind_ops: u64,
    /// Whether plugin calls are counted with callgrind too.
    pub plugin_callgrind: bool,
    /// Whether record preparations are counted with callgrind too (else timed only).
    pub callgrind_prepare: bool,
}

impl Budget {
    pub fn new(quick: bool) -> Budget {
        if quick {
            Budget {
                round: Duration::from_millis(5),
                rounds: 2,
                callgrind_ops: 0,
                plugin_callgrind: false,
                callgrind_prepare: false,
            }
        } else {
            Budget {
                round: Duration::from_millis(40),
                rounds: 5,
                callgrind_ops: 2_000,
                plugin_callgrind: false,
                callgrind_prepare: false,
            }
        }
    }
}

/// Nanoseconds per operation of `run(n)` (which performs `n` operations): `n` grows
/// until one round takes `budget.round`, then the best of `budget.rounds` rounds.
pub fn ns_per_op(budget: &Budget, mut run: impl FnMut(u64)) -> f64 {
    let mut n = 1u64;
    loop {
        let started = Instant::now();
        run(n);
        if started.elapsed() >= budget.round || n >= 1 << 30 {
            break;
        }
        n *= 2;
    }
    (0..budget.rounds)
        .map(|_| {
            let started = Instant::now();
            run(n);
            started.elapsed().as_secs_f64() * 1e9 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// The value at quantile `q` (0..=1) of sorted samples.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

pub fn geomean(values: impl IntoIterator<Item = f64>) -> f64 {
    let (sum, count) = values
        .into_iter()
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((0.0, 0usize), |(s, c), v| (s + v.ln(), c + 1));
    if count == 0 {
        f64::NAN
    } else {
        (sum / count as f64).exp()
    }
}

const VALGRIND: &str = "/usr/bin/valgrind";

/// Whether callgrind can be used here.
pub fn callgrind_available() -> bool {
    Path::new(VALGRIND).exists()
}

/// Instructions executed by this binary run with `args` under callgrind.
fn instructions_of(args: &[String]) -> anyhow::Result<u64> {
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("callgrind.out");
    let output = Command::new(VALGRIND)
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .args(args)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "callgrind run of {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("callgrind printed no instruction count for {args:?}"))
}

/// Instructions per operation: the hidden `count` subcommand run with `n` operations and
/// with 0, the difference over `n`. `args` names what to count (without the number).
pub fn instructions_per_op(args: &[&str], n: u64) -> anyhow::Result<f64> {
    let with = |count: u64| {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.push(count.to_string());
        instructions_of(&all)
    };
    let full = with(n)?;
    let empty = with(0)?;
    Ok(full.saturating_sub(empty) as f64 / n as f64)
}
