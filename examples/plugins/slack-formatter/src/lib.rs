//! Slack formatter: turns a case into a Slack message and posts it to an
//! incoming-webhook URL on the host named in the manifest (`http:fetch:<host>`).

use automations_plugin::{Ctx, Error};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize)]
struct Input {
    webhook_url: String,
    case: Case,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    subject: String,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    account_name: Option<String>,
}

#[derive(Serialize)]
struct Output {
    status: u16,
    text: String,
}

fn run(input: Input, ctx: &Ctx) -> Result<Output, Error> {
    let text = format_case(&input.case);
    let response = ctx.http_post_json(&input.webhook_url, &json!({ "text": text }))?;
    if !(200..300).contains(&response.status) {
        return Err(Error::new(format!("slack answered {}", response.status)));
    }
    Ok(Output {
        status: response.status,
        text,
    })
}

fn format_case(case: &Case) -> String {
    let priority = case.priority.as_deref().unwrap_or("normal");
    let marker = if priority == "high" || priority == "urgent" {
        ":rotating_light: "
    } else {
        ""
    };
    let account = case
        .account_name
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    format!(
        "{marker}*Case {}*{account}: {} [priority: {priority}]",
        case.id, case.subject
    )
}

automations_plugin::plugin!(run);
