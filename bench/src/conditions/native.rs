//! The hand-written Rust baseline: a typed record (what a service would deserialize the
//! JSON into) and the conditions as plain Rust closures over it ([`super::corpus`]).

use serde_json::Value as Json;

use super::view::millis;

/// A related account, as the conditions read it.
#[derive(Debug, Default)]
pub struct Account {
    pub tier: Option<String>,
    pub annual_revenue: Option<f64>,
}

/// A related user, as the conditions read it.
#[derive(Debug, Default)]
pub struct User {
    pub active: Option<bool>,
}

/// Every field any condition reads, typed; absent or null fields are `None`.
#[derive(Debug, Default)]
pub struct Record {
    pub now: i64,
    pub name: Option<String>,
    pub amount: Option<f64>,
    pub stage: Option<String>,
    pub probability: Option<f64>,
    pub close_date: Option<i64>,
    pub created_at: Option<i64>,
    pub discount_approved: Option<bool>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub priority: Option<String>,
    pub status: Option<String>,
    pub origin: Option<String>,
    pub owner_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub source: Option<String>,
    pub score: Option<f64>,
    pub account: Option<Account>,
    pub owner: Option<User>,
}

impl Record {
    pub fn account_tier(&self) -> Option<&str> {
        self.account.as_ref()?.tier.as_deref()
    }

    /// Reads the record JSON and its related records (`related(object, id)`) once.
    pub fn from_json(
        record: &Json,
        related: impl Fn(&str, &str) -> Option<Json>,
        now: i64,
    ) -> Self {
        let text = |j: &Json, k: &str| j.get(k).and_then(Json::as_str).map(str::to_owned);
        let num = |j: &Json, k: &str| j.get(k).and_then(Json::as_f64);
        let date = |j: &Json, k: &str| j.get(k).and_then(Json::as_str).and_then(millis);
        let hop = |k: &str, object: &str| {
            record
                .get(k)
                .and_then(Json::as_str)
                .and_then(|id| related(object, id))
        };
        Record {
            now,
            name: text(record, "name"),
            amount: num(record, "amount"),
            stage: text(record, "stage"),
            probability: num(record, "probability"),
            close_date: date(record, "close_date"),
            created_at: date(record, "created_at"),
            discount_approved: record.get("discount_approved").and_then(Json::as_bool),
            subject: text(record, "subject"),
            description: text(record, "description"),
            priority: text(record, "priority"),
            status: text(record, "status"),
            origin: text(record, "origin"),
            owner_id: text(record, "owner_id"),
            email: text(record, "email"),
            phone: text(record, "phone"),
            company: text(record, "company"),
            source: text(record, "source"),
            score: num(record, "score"),
            account: hop("account_id", "account").map(|a| Account {
                tier: text(&a, "tier"),
                annual_revenue: num(&a, "annual_revenue"),
            }),
            owner: hop("owner_id", "user").map(|u| User {
                active: u.get("active").and_then(Json::as_bool),
            }),
        }
    }
}
