//! Lead scorer: reads a lead and its account, computes a 0-100 score from a
//! few firmographic signals and writes it to the lead's `score` field.

use automations_plugin::{Ctx, Error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Deserialize)]
struct Input {
    lead_id: String,
}

#[derive(Serialize)]
struct Output {
    lead_id: String,
    score: i64,
}

fn run(input: Input, ctx: &Ctx) -> Result<Output, Error> {
    let lead = ctx
        .get_record("lead", &input.lead_id)?
        .ok_or_else(|| Error::new(format!("lead {} not found", input.lead_id)))?;
    let account = match lead.get("account_id").and_then(Value::as_str) {
        Some(id) => ctx.get_record("account", id)?,
        None => None,
    };
    let score = score(&lead, account.as_ref());
    let mut fields = Map::new();
    fields.insert("score".to_string(), json!(score));
    ctx.update_record("lead", &input.lead_id, &fields)?;
    Ok(Output {
        lead_id: input.lead_id,
        score,
    })
}

fn score(lead: &Value, account: Option<&Value>) -> i64 {
    let mut score = 0;
    if lead
        .get("email")
        .and_then(Value::as_str)
        .is_some_and(|e| !e.ends_with("@gmail.com"))
    {
        score += 20;
    }
    if lead.get("title").and_then(Value::as_str).is_some_and(|t| {
        let t = t.to_ascii_lowercase();
        t.contains("vp") || t.contains("head") || t.contains("chief") || t.contains("director")
    }) {
        score += 30;
    }
    if let Some(account) = account {
        let employees = account
            .get("employees")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        score += match employees {
            e if e >= 1000 => 40,
            e if e >= 100 => 25,
            e if e >= 10 => 10,
            _ => 0,
        };
        if account.get("industry").and_then(Value::as_str) == Some("software") {
            score += 10;
        }
    }
    score.min(100)
}

automations_plugin::plugin!(run);
