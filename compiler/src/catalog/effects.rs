//! The kinds of effect a step records (DESIGN §7), spelled as runs show them in
//! `steps[].effects[].kind`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EffectKind {
    #[serde(rename = "record.update")]
    RecordUpdate,
    #[serde(rename = "record.create")]
    RecordCreate,
    #[serde(rename = "notification")]
    Notification,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "slack")]
    Slack,
    #[serde(rename = "webhook")]
    Webhook,
    #[serde(rename = "human_task")]
    HumanTask,
}

impl EffectKind {
    pub const ALL: [EffectKind; 7] = [
        EffectKind::RecordUpdate,
        EffectKind::RecordCreate,
        EffectKind::Notification,
        EffectKind::Email,
        EffectKind::Slack,
        EffectKind::Webhook,
        EffectKind::HumanTask,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::RecordUpdate => "record.update",
            EffectKind::RecordCreate => "record.create",
            EffectKind::Notification => "notification",
            EffectKind::Email => "email",
            EffectKind::Slack => "slack",
            EffectKind::Webhook => "webhook",
            EffectKind::HumanTask => "human_task",
        }
    }

    pub fn parse(s: &str) -> Option<EffectKind> {
        EffectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the effect writes a CRM record (the run then re-reads its triggering record).
    pub fn writes_record(self) -> bool {
        matches!(self, EffectKind::RecordUpdate | EffectKind::RecordCreate)
    }
}

impl std::fmt::Display for EffectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
