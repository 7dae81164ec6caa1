//! Effects grouped by kind and target: to whom emails go, which fields get which values,
//! which Slack channels, webhooks, users and assignees. Bounded, whatever the history: at
//! most [`MAX_GROUPS`] groups and [`MAX_VALUES`] distinct values per group; the rest are
//! counted, never dropped silently.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Effect, EffectKind};

pub const MAX_GROUPS: usize = 200;
pub const MAX_VALUES: usize = 20;
/// Longer targets and values are cut (with `…`) so that one huge field cannot bloat a result.
const MAX_TEXT: usize = 200;

/// One value written to a field, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueCount {
    pub value: Value,
    pub count: u64,
}

/// Effects of one kind to one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectGroup {
    /// `email`, `slack`, `webhook`, `notification`, `human_task`, `record.update`,
    /// `record.create`, or `plugin` (a plugin step: not called in a backtest).
    pub kind: String,
    /// The address, channel, `METHOD url`, user, assignee, `object.field` or object.
    pub target: String,
    pub count: u64,
    /// For `record.update`: the values written to that field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueCount>,
    /// Distinct values past [`MAX_VALUES`], counted in `count` but not listed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more_values: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The grouped effects of many runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EffectTally {
    /// Sorted by kind, then target.
    pub groups: Vec<EffectGroup>,
    /// Effects whose group did not fit in [`MAX_GROUPS`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: u64,
}

/// Builds an [`EffectTally`] one effect at a time.
#[derive(Debug, Default)]
pub struct TallyBuilder {
    groups: BTreeMap<(String, String), Group>,
    more: u64,
}

#[derive(Debug, Default)]
struct Group {
    count: u64,
    values: Vec<ValueCount>,
    more_values: u64,
}

impl TallyBuilder {
    /// Adds one effect of a step (live or dry-run alike: `applied` is not looked at).
    pub fn add(&mut self, effect: &Effect) {
        let d = &effect.detail;
        match effect.kind {
            EffectKind::Email => {
                for to in addresses(&d["to"]).into_iter().chain(addresses(&d["cc"])) {
                    self.count("email", &to, None);
                }
            }
            EffectKind::Slack => {
                let target = text(&d["target"]).unwrap_or_else(|| "(default channel)".into());
                self.count("slack", &target, None);
            }
            EffectKind::Webhook => {
                let method = text(&d["method"]).unwrap_or_else(|| "POST".into());
                let url = text(&d["url"]).unwrap_or_default();
                self.count("webhook", &format!("{method} {url}"), None);
            }
            EffectKind::Notification => {
                let user = text(&d["user_id"]).unwrap_or_default();
                self.count("notification", &user, None);
            }
            EffectKind::HumanTask => {
                let target = match (text(&d["assignee"]), text(&d["queue"])) {
                    (Some(a), _) => a,
                    (None, Some(q)) => format!("queue {q}"),
                    (None, None) => String::new(),
                };
                self.count("human_task", &target, None);
            }
            EffectKind::RecordCreate => {
                let object = text(&d["object"]).unwrap_or_default();
                self.count("record.create", &object, None);
            }
            EffectKind::RecordUpdate => {
                let object = text(&d["object"]).unwrap_or_default();
                if let Some(fields) = d["fields"].as_object() {
                    for (field, value) in fields {
                        self.count("record.update", &format!("{object}.{field}"), Some(value));
                    }
                }
            }
        }
    }

    /// Counts a plugin step that a backtest does not call.
    pub fn add_plugin(&mut self, plugin: &str) {
        self.count("plugin", plugin, None);
    }

    fn count(&mut self, kind: &str, target: &str, value: Option<&Value>) {
        let key = (kind.to_string(), cut(target));
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_GROUPS {
            self.more += 1;
            return;
        }
        let group = self.groups.entry(key).or_default();
        group.count += 1;
        let Some(value) = value else { return };
        let value = cut_value(value);
        if let Some(v) = group.values.iter_mut().find(|v| v.value == value) {
            v.count += 1;
        } else if group.values.len() < MAX_VALUES {
            group.values.push(ValueCount { value, count: 1 });
        } else {
            group.more_values += 1;
        }
    }

    pub fn finish(self) -> EffectTally {
        let groups = self
            .groups
            .into_iter()
            .map(|((kind, target), g)| {
                let mut values = g.values;
                values.sort_by(|a, b| {
                    b.count
                        .cmp(&a.count)
                        .then_with(|| a.value.to_string().cmp(&b.value.to_string()))
                });
                EffectGroup {
                    kind,
                    target,
                    count: g.count,
                    values,
                    more_values: g.more_values,
                }
            })
            .collect();
        EffectTally {
            groups,
            more: self.more,
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `to`/`cc` as a list of addresses (a list, or a comma-separated text).
fn addresses(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        Value::String(s) => s
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect(),
        Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_string();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn cut_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(cut(s)),
        Value::Array(_) | Value::Object(_) => {
            let text = v.to_string();
            if text.len() <= MAX_TEXT {
                v.clone()
            } else {
                Value::String(cut(&text))
            }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn effect(kind: EffectKind, detail: Value) -> Effect {
        Effect {
            kind,
            applied: false,
            id: None,
            detail,
        }
    }

    #[test]
    fn groups_by_kind_and_target_with_values() {
        let mut t = TallyBuilder::default();
        t.add(&effect(
            EffectKind::Email,
            json!({"to": "a@x.io", "cc": ["b@x.io"]}),
        ));
        t.add(&effect(EffectKind::Email, json!({"to": "a@x.io, c@x.io"})));
        t.add(&effect(
            EffectKind::RecordUpdate,
            json!({"object": "case", "id": "1", "fields": {"priority": "high"}}),
        ));
        t.add(&effect(
            EffectKind::RecordUpdate,
            json!({"object": "case", "id": "2", "fields": {"priority": "high"}}),
        ));
        let tally = t.finish();
        let find = |k: &str, target: &str| {
            tally
                .groups
                .iter()
                .find(|g| g.kind == k && g.target == target)
                .map(|g| g.count)
        };
        assert_eq!(find("email", "a@x.io"), Some(2));
        assert_eq!(find("email", "b@x.io"), Some(1));
        assert_eq!(find("email", "c@x.io"), Some(1));
        let g = tally
            .groups
            .iter()
            .find(|g| g.target == "case.priority")
            .unwrap();
        assert_eq!(
            g.values,
            vec![ValueCount {
                value: json!("high"),
                count: 2
            }]
        );
    }

    #[test]
    fn bounded_groups_and_values() {
        let mut t = TallyBuilder::default();
        for i in 0..(MAX_GROUPS + 50) {
            t.add(&effect(
                EffectKind::Notification,
                json!({"user_id": format!("u{i}")}),
            ));
        }
        for i in 0..100 {
            t.add(&effect(
                EffectKind::RecordUpdate,
                json!({"object": "case", "fields": {"subject": "x".repeat(1000) + &i.to_string()}}),
            ));
        }
        let tally = t.finish();
        assert_eq!(tally.groups.len(), MAX_GROUPS);
        assert_eq!(
            tally.more, 150,
            "50 notifications and 100 updates had no room"
        );
        let mut t = TallyBuilder::default();
        for i in 0..100 {
            t.add(&effect(
                EffectKind::RecordUpdate,
                json!({"object": "case", "fields": {"score": i}}),
            ));
        }
        let tally = t.finish();
        assert_eq!(tally.groups[0].count, 100);
        assert_eq!(tally.groups[0].values.len(), MAX_VALUES);
        assert_eq!(tally.groups[0].more_values, 80);
    }
}
