//! `automations plugin check FILE.wasm` and `automations plugin new NAME`.

use super::build::component_path;
use crate::cli::support::run;

#[test]
fn check_lists_the_imports_and_exports_of_an_example_plugin() {
    let path = component_path("lead-scorer");
    let r = run(&["plugin", "check", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("ok (world automations:plugin@0.1.0/action)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("automations:plugin/records"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("exports:\n  run\n"), "{}", r.stdout);

    let r = run(&["plugin", "check", "--json", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = r.json();
    assert_eq!(report["exports"], serde_json::json!(["run"]));
    assert_eq!(report["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn check_refuses_a_file_that_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wasm");
    std::fs::write(&bad, b"\0asm not really").unwrap();
    let r = run(&["plugin", "check", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("is not a valid automations plugin"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn new_scaffolds_a_crate_that_depends_on_this_checkouts_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("my-plugin");
    let r = run(&[
        "plugin",
        "new",
        "my-plugin",
        "--dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("manifest.json"), "{}", r.stdout);
    let cargo = std::fs::read_to_string(target.join("Cargo.toml")).unwrap();
    let sdk = crate::cli::support::workspace_root()
        .join("sdk")
        .canonicalize()
        .unwrap();
    assert!(
        cargo.contains(&format!("path = {:?}", sdk.display().to_string())),
        "{cargo}"
    );
    assert!(target.join("src/lib.rs").is_file());

    // A second run refuses to overwrite; a bad name is refused.
    let again = run(&[
        "plugin",
        "new",
        "my-plugin",
        "--dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bad = run(&[
        "plugin",
        "new",
        "Bad_Name",
        "--dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("invalid plugin name"), "{}", bad.stderr);
}
