//! Static trigger cycles (DESIGN §5): create, update and activation warn with W0307,
//! naming the automations on the cycle.

use serde_json::{Value, json};

use automations_compiler::codes::STATIC_CYCLE;
use automations_compiler::diagnostic::Severity;
use automations_runtime::hooks::Warnings;
use automations_runtime::model::AutomationStatus;

use crate::support::*;

fn cycle_warnings(warnings: &Warnings) -> Vec<String> {
    warnings
        .all()
        .filter(|w| w.code == STATIC_CYCLE)
        .map(|w| {
            assert_eq!(w.severity, Severity::Warning);
            assert!(!w.notes.is_empty(), "the note on loop_detected is kept");
            w.message.clone()
        })
        .collect()
}

fn automation(name: &str, trigger: &str, actions: Value, status: &str) -> Value {
    json!({"name": name, "trigger": {"event": trigger}, "actions": actions, "status": status})
}

fn set(field: &str, value: &str) -> Value {
    json!([{"type": "update_field", "params": {"field": field, "value": value}}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_and_self_triggers_warn_on_create_update_and_activation() {
    let fx = Fixture::new().await;
    let (engine, ws) = (&fx.engine, &fx.ws);

    // A: status changes -> sets priority. Alone: no cycle.
    let (a, w) = engine
        .create_automation(
            &ws.id,
            automation(
                "A",
                "case.status_changed",
                set("priority", "high"),
                "active",
            ),
        )
        .await
        .unwrap();
    assert!(cycle_warnings(&w).is_empty(), "{w:?}");

    // B: priority changes -> sets status. A -> B -> A.
    let (b, w) = engine
        .create_automation(
            &ws.id,
            automation(
                "B",
                "case.priority_changed",
                set("status", "open"),
                "active",
            ),
        )
        .await
        .unwrap();
    let found = cycle_warnings(&w);
    assert_eq!(found.len(), 1, "{w:?}");
    assert!(
        found[0].contains(&a.id) && found[0].contains(&b.id) && found[0].contains("\"A\""),
        "{}",
        found[0]
    );

    // Updating B to write another field breaks the cycle.
    let (_, w) = engine
        .update_automation(
            &ws.id,
            &b.id,
            automation(
                "B",
                "case.priority_changed",
                set("description", "x"),
                "active",
            ),
        )
        .await
        .unwrap();
    assert!(cycle_warnings(&w).is_empty(), "{w:?}");

    // Through update_record with a literal object: B writes case status again.
    let back = json!([{"type": "update_record", "params": {"object": "case", "id": "{{ id }}", "fields": {"status": "open"}}}]);
    let (_, w) = engine
        .update_automation(
            &ws.id,
            &b.id,
            automation("B", "case.priority_changed", back, "active"),
        )
        .await
        .unwrap();
    assert_eq!(cycle_warnings(&w).len(), 1, "{w:?}");

    // Paused A is not on any cycle; activating it warns again.
    engine
        .set_automation_status(&ws.id, &a.id, AutomationStatus::Paused)
        .await
        .unwrap();
    let (_, w) = engine
        .change_automation_status(&ws.id, &b.id, AutomationStatus::Active)
        .await
        .unwrap();
    assert!(cycle_warnings(&w).is_empty(), "{w:?}");
    let (_, w) = engine
        .change_automation_status(&ws.id, &a.id, AutomationStatus::Active)
        .await
        .unwrap();
    assert_eq!(cycle_warnings(&w).len(), 1, "{w:?}");

    // An automation re-triggering itself: updated -> updates its own record.
    let (c, w) = engine
        .create_automation(
            &ws.id,
            automation("C", "contact.updated", set("phone", "1"), "active"),
        )
        .await
        .unwrap();
    let found = cycle_warnings(&w);
    assert_eq!(found.len(), 1, "{w:?}");
    assert!(found[0].contains("re-triggers itself") && found[0].contains(&c.id));

    // No cycle: creating a task on a lead, or a webhook.
    let quiet = json!([{"type": "create_task", "params": {"subject": "call"}},
        {"type": "webhook", "params": {"url": "https://example.com/h", "body": {}}}]);
    let (_, w) = engine
        .create_automation(&ws.id, automation("D", "lead.created", quiet, "active"))
        .await
        .unwrap();
    assert!(cycle_warnings(&w).is_empty(), "{w:?}");
    // ...until something triggered by task creation writes a lead back.
    let writes_lead = json!([{"type": "create_record", "params": {"object": "lead", "fields": {"last_name": "x"}}}]);
    let (_, w) = engine
        .create_automation(
            &ws.id,
            automation("E", "task.created", writes_lead, "draft"),
        )
        .await
        .unwrap();
    let found = cycle_warnings(&w);
    assert_eq!(found.len(), 1, "{w:?}");
    assert!(
        found[0].contains("\"D\"") && found[0].contains("\"E\""),
        "{}",
        found[0]
    );
}
