//! `--sqlite-synchronous normal|full` (issue 20): the setting reaches the writer
//! connection (read back with `PRAGMA synchronous`), both `serve` and `migrate` take it,
//! and anything else is a usage error naming the accepted values.

use automations_runtime::store::{AnyStore, Synchronous};
use automations_server::serve::{OpenConfig, open_engine_with};

use crate::cli::support::run;

#[tokio::test]
async fn the_synchronous_setting_is_in_effect_on_the_writer() {
    // SQLite's numbers: 1 is NORMAL, 2 is FULL.
    for (setting, pragma) in [
        (None, 1),
        (Some(Synchronous::Normal), 1),
        (Some(Synchronous::Full), 2),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("d.db").display());
        let open = OpenConfig {
            sqlite_synchronous: setting.unwrap_or_default(),
            ..OpenConfig::default()
        };
        let (engine, _, _) = open_engine_with(&url, open).await.unwrap();
        let AnyStore::Sqlite(store) = engine.store() else {
            panic!("a sqlite:// URL opens SQLite")
        };
        assert_eq!(store.synchronous().await.unwrap(), pragma, "{setting:?}");
        engine.store().close().await;
    }
}

#[test]
fn migrate_takes_the_setting_and_both_commands_refuse_other_values() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let ok = run(&[
        "migrate",
        "--database-url",
        &url,
        "--sqlite-synchronous",
        "full",
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    for command in ["serve", "migrate"] {
        let bad = run(&[
            command,
            "--database-url",
            &url,
            "--sqlite-synchronous",
            "off",
        ]);
        assert_eq!(bad.code, 2, "{command}: {}", bad.stderr);
        assert!(
            bad.stderr.contains("--sqlite-synchronous")
                && bad.stderr.contains("normal")
                && bad.stderr.contains("full"),
            "{command}: {}",
            bad.stderr
        );
    }
}
