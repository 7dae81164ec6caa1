//! `check_component`: world validation and the import/export listing.

use crate::build;
use automations_host_api::{PluginError, check_component};

#[test]
fn example_component_fits_the_world() {
    let report = check_component(&build::component("lead-scorer")).unwrap();
    assert_eq!(report.exports, ["run"]);
    assert!(
        report
            .plugin_imports
            .contains(&"automations:plugin/records@0.1.0".to_string()),
        "{report:?}"
    );
    assert!(
        report
            .wasi_imports
            .iter()
            .all(|name| name.starts_with("wasi:")),
        "{report:?}"
    );
    assert_eq!(report.sha256.len(), 64);
}

#[test]
fn garbage_and_core_modules_are_rejected() {
    let err = check_component(b"not wasm").unwrap_err();
    assert!(matches!(err, PluginError::InvalidComponent(_)), "{err:?}");
    // A core module (magic + version 1) is not a component.
    let err = check_component(b"\0asm\x01\0\0\0").unwrap_err();
    assert!(matches!(err, PluginError::InvalidComponent(_)), "{err:?}");
}
