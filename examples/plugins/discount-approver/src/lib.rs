//! Discount approver: reads an opportunity; a discount within policy is
//! approved on the spot, a larger one becomes an approval task for the
//! opportunity's owner's manager.

use automations_plugin::{Ctx, Error, NewTask, RecordRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Deserialize)]
struct Input {
    opportunity_id: String,
    /// Largest discount (percent) approved without a human.
    #[serde(default = "default_max")]
    auto_approve_max: f64,
    approver: String,
}

fn default_max() -> f64 {
    10.0
}

#[derive(Serialize)]
struct Output {
    decision: &'static str,
    discount: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
}

fn run(input: Input, ctx: &Ctx) -> Result<Output, Error> {
    let opp = ctx
        .get_record("opportunity", &input.opportunity_id)?
        .ok_or_else(|| Error::new(format!("opportunity {} not found", input.opportunity_id)))?;
    let discount = opp.get("discount").and_then(Value::as_f64).unwrap_or(0.0);
    if discount <= input.auto_approve_max {
        return Ok(Output {
            decision: "approved",
            discount,
            task_id: None,
        });
    }
    let name = opp
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("opportunity");
    let amount = opp.get("amount").and_then(Value::as_f64).unwrap_or(0.0);
    let task_id = ctx.create_task(&NewTask {
        title: format!("Approve {discount}% discount on {name}"),
        description: Some(format!(
            "Amount {amount:.2}; policy allows {}% without approval.",
            input.auto_approve_max
        )),
        assignee: Some(input.approver),
        due_at: None,
        related: Some(RecordRef {
            object: "opportunity".into(),
            id: input.opportunity_id,
        }),
    })?;
    Ok(Output {
        decision: "pending_approval",
        discount,
        task_id: Some(task_id),
    })
}

automations_plugin::plugin!(run);
