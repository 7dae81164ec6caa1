//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`: seeds from examples/ and
//! test_data, inputs the fuzzer kept, and every crash it found once fixed) through the
//! same functions the fuzz targets call (`automations_compiler::fuzz_targets`), so CI
//! checks them without cargo-fuzz. Runs on the test thread's ordinary stack on purpose.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use automations_compiler::fuzz_targets::{self, TARGETS};

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Every input of `target`'s corpus passes; names every one that does not.
fn replay(target: &str) {
    let files = corpus(target);
    assert!(
        files.len() >= 20,
        "the {target} corpus has {} inputs: it was meant to be seeded",
        files.len()
    );
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| fuzz_targets::run(target, &data))).is_err()
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} inputs fail:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus_and_a_cargo_fuzz_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for target in TARGETS {
        assert!(
            root.join("fuzz_targets")
                .join(format!("{target}.rs"))
                .is_file()
        );
        assert!(root.join("corpus").join(target).is_dir());
        assert!(fuzz_targets::run(target, b""));
    }
    assert!(!fuzz_targets::run("no-such-target", b""));
}

#[test]
fn dsl_corpus_replays() {
    replay("dsl");
}

#[test]
fn json_corpus_replays() {
    replay("json");
}

#[test]
fn condition_corpus_replays() {
    replay("condition");
}

#[test]
fn template_corpus_replays() {
    replay("template");
}
