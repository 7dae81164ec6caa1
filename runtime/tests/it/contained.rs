//! A checker bug on one stored definition costs that definition only: the engine
//! compiles stored definitions again at start (and on every cache miss), and a panic
//! there becomes `RuntimeError::CheckerFailed` for that definition; the start goes on,
//! the other automations keep running, and a write of the same definition gets the
//! error instead of taking the process down. The failure is injected by a compiler that
//! panics on one definition's name (no real input makes the checker panic).

use std::sync::Arc;

use serde_json::{Value, json};

use automations_runtime::hooks::{CompiledDefinition, DefinitionCompiler};
use automations_runtime::model::RunStatus;
use automations_runtime::schema::SameSchema;
use automations_runtime::{Engine, EngineParts, RuntimeError};

use crate::support::*;

/// The real compiler, except that it panics on the definition named `name`.
struct PanicsOn {
    name: &'static str,
    inner: Arc<dyn DefinitionCompiler>,
}

impl DefinitionCompiler for PanicsOn {
    fn compile(
        &self,
        ws: &str,
        definition: &Value,
    ) -> automations_runtime::Result<CompiledDefinition> {
        if definition["name"] == self.name {
            panic!("injected checker failure on {}", self.name);
        }
        self.inner.compile(ws, definition)
    }
}

fn notify(name: &str, user: &str) -> Value {
    json!({"name": name, "trigger": {"event": "case.created"}, "status": "active",
        "actions": [{"type": "notify_user", "params": {"user_id": user, "message": name}}]})
}

#[tokio::test]
async fn a_checker_panic_on_one_stored_definition_costs_only_that_definition() {
    let fx = Fixture::new().await;
    let ws = fx.ws.id.clone();
    for (name, user) in [("boom", "u_boom"), ("fine", "u_fine")] {
        fx.engine
            .create_automation(&ws, notify(name, user))
            .await
            .unwrap();
    }
    // The same database (either driver), opened by a process whose checker panics on "boom".
    let store = crate::support::pg::store_at(&fx.db()).await;
    let engine = Engine::new(EngineParts {
        store,
        config: quick_config(),
        schema: SameSchema::shared(crm_schema()),
        compiler: Arc::new(PanicsOn {
            name: "boom",
            inner: compiler(),
        }),
        plugins: None,
    })
    .await
    .expect("the start survives a checker panic on one stored definition");

    let created = engine
        .create_automation(&ws, notify("boom", "u_boom"))
        .await;
    let Err(RuntimeError::CheckerFailed(message)) = created else {
        panic!("{created:?}")
    };
    assert!(
        message.contains("injected checker failure on boom"),
        "{message}"
    );

    // The engine still serves: the other automation runs on a new event, "boom" does not.
    let record = engine
        .create_record(
            &ws,
            "case",
            automations_runtime::NewRecord {
                id: None,
                fields: obj(json!({"subject": "t"})),
            },
        )
        .await
        .unwrap();
    engine.run_until_idle().await.unwrap();
    let runs = engine.runs(&ws, &Default::default()).await.unwrap().items;
    let mine: Vec<_> = runs
        .iter()
        .filter(|r| r.record_id.as_deref() == Some(record.id.as_str()))
        .collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0].status, RunStatus::Completed);
    let fine = engine.notifications(&ws, Some("u_fine")).await.unwrap();
    assert!(fine.iter().any(|n| n.message == "fine"), "{fine:?}");
}

/// A start with many stored automations compiles their current versions at once (one
/// read, spread over the cores): each is then dispatched by its status, and a checker
/// panic on one of them still costs only that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_many_automations_dispatches_each_by_its_status() {
    const MANY: usize = 150;
    let fx = Fixture::new().await;
    let ws = fx.ws.id.clone();
    let mut ids = Vec::new();
    for i in 0..MANY {
        let status = if i.is_multiple_of(5) {
            "draft"
        } else {
            "active"
        };
        let def = json!({"name": format!("n{i}"), "status": status,
            "trigger": {"event": "case.created", "conditions": {"subject": format!("s{i}")}},
            "actions": [{"type": "notify_user", "params": {"user_id": format!("u{i}"), "message": "hit"}}]});
        let (a, _) = fx.engine.create_automation(&ws, def).await.unwrap();
        ids.push(a.id);
    }
    // Every 7th active one (counting from 3) is paused.
    let paused = |i: usize| !i.is_multiple_of(5) && i % 7 == 3;
    for (_, id) in ids.iter().enumerate().filter(|(i, _)| paused(*i)) {
        let status = automations_runtime::model::AutomationStatus::Paused;
        fx.engine
            .set_automation_status(&ws, id, status)
            .await
            .unwrap();
    }
    fx.engine.store().close().await;
    let engine = Engine::new(EngineParts {
        store: crate::support::pg::store_at(&fx.db()).await,
        config: quick_config(),
        schema: SameSchema::shared(crm_schema()),
        compiler: Arc::new(PanicsOn {
            name: "n41",
            inner: compiler(),
        }),
        plugins: None,
    })
    .await
    .unwrap();
    for i in 0..MANY {
        let fields = obj(json!({"subject": format!("s{i}")}));
        let new = automations_runtime::NewRecord { id: None, fields };
        engine.create_record(&ws, "case", new).await.unwrap();
    }
    engine.run_until_idle().await.unwrap();
    for i in 0..MANY {
        let expected = usize::from(!i.is_multiple_of(5) && !paused(i) && i != 41);
        let got = engine
            .notifications(&ws, Some(&format!("u{i}")))
            .await
            .unwrap();
        assert_eq!(got.len(), expected, "automation n{i}");
    }
}
