//! The condition corpus: CRM conditions as admins write them (deals, cases, contacts,
//! leads; amounts, stages in lists, text tests, dates, nulls, nested and/or/not,
//! related records), each written once per engine, and the records they run over.
//!
//! Every engine reads the same facts. Ours reads the raw record JSON (dates as RFC 3339,
//! related records followed through a resolver); the peers read a prepared view of it
//! ([`super::view`]): every field of the object present (null when absent), numbers and
//! dates (epoch milliseconds) as floats, the related `account` and `owner` nested, and
//! `now`. Where a peer raises an error (a null in an ordering, a method on null), the
//! error counts as `false`; texts add null guards where our semantics differ from that
//! (e.g. `not (x > 5)` is true on null for us).

use serde_json::{Value as Json, json};

/// The evaluation clock of every engine: 2024-06-01T12:34:56Z.
pub const NOW_MS: i64 = 1_717_245_296_000;

/// One condition, written for every engine.
pub struct Case {
    pub name: &'static str,
    /// The object of the records it runs on (`case`, `opportunity`, ...).
    pub object: &'static str,
    /// Our condition language.
    pub ours: &'static str,
    pub cel: &'static str,
    pub zen: &'static str,
    pub evalexpr: &'static str,
    pub rhai: &'static str,
    /// Hand-written Rust over a typed record.
    pub native: fn(&super::native::Record) -> bool,
}

/// The corpus (24 conditions).
pub fn cases() -> Vec<Case> {
    use super::native::Record as R;
    vec![
        Case {
            name: "opp_big_late_stage",
            object: "opportunity",
            ours: r#"amount > 50000 and stage in ["Proposal", "Negotiation"]"#,
            cel: r#"amount > 50000.0 && stage in ["Proposal", "Negotiation"]"#,
            zen: r#"amount > 50000 and stage in ["Proposal", "Negotiation"]"#,
            evalexpr: r#"amount > 50000.0 && contains(("Proposal", "Negotiation"), stage)"#,
            rhai: r#"amount > 50000.0 && stage in ["Proposal", "Negotiation"]"#,
            native: |r: &R| {
                r.amount.is_some_and(|a| a > 50000.0)
                    && matches!(r.stage.as_deref(), Some("Proposal" | "Negotiation"))
            },
        },
        Case {
            name: "opp_closing_this_week",
            object: "opportunity",
            ours: r#"stage != "Closed Won" and stage != "Closed Lost" and close_date < now() + 7d"#,
            cel: r#"stage != "Closed Won" && stage != "Closed Lost" && close_date != null && close_date < now + 604800000.0"#,
            zen: r#"stage != "Closed Won" and stage != "Closed Lost" and close_date != null and close_date < now + 604800000"#,
            evalexpr: r#"stage != "Closed Won" && stage != "Closed Lost" && close_date != () && close_date < now + 604800000.0"#,
            rhai: r#"stage != "Closed Won" && stage != "Closed Lost" && close_date != () && close_date < now + 604800000.0"#,
            native: |r: &R| {
                r.stage.as_deref() != Some("Closed Won")
                    && r.stage.as_deref() != Some("Closed Lost")
                    && r.close_date.is_some_and(|d| d < r.now + 604_800_000)
            },
        },
        Case {
            name: "opp_gold_account",
            object: "opportunity",
            ours: r#"account.tier in ["gold", "platinum"] and amount >= 10000"#,
            cel: r#"account != null && account.tier in ["gold", "platinum"] && amount >= 10000.0"#,
            zen: r#"account.tier in ["gold", "platinum"] and amount >= 10000"#,
            evalexpr: r#"contains(("gold", "platinum"), account.tier) && amount >= 10000.0"#,
            rhai: r#"account != () && account.tier in ["gold", "platinum"] && amount >= 10000.0"#,
            native: |r: &R| {
                matches!(r.account_tier(), Some("gold" | "platinum"))
                    && r.amount.is_some_and(|a| a >= 10000.0)
            },
        },
        Case {
            name: "opp_discount_needs_approval",
            object: "opportunity",
            ours: r#"not discount_approved and probability >= 50 and amount > 25000"#,
            cel: r#"discount_approved != true && probability >= 50.0 && amount > 25000.0"#,
            zen: r#"discount_approved != true and probability >= 50 and amount > 25000"#,
            evalexpr: r#"discount_approved != true && probability >= 50.0 && amount > 25000.0"#,
            rhai: r#"discount_approved != true && probability >= 50.0 && amount > 25000.0"#,
            native: |r: &R| {
                r.discount_approved != Some(true)
                    && r.probability.is_some_and(|p| p >= 50.0)
                    && r.amount.is_some_and(|a| a > 25000.0)
            },
        },
        Case {
            name: "opp_renewal_name",
            object: "opportunity",
            ours: r#"name starts_with "Renewal" and amount > 0"#,
            cel: r#"name != null && name.startsWith("Renewal") && amount > 0.0"#,
            zen: r#"startsWith(name, "Renewal") and amount > 0"#,
            evalexpr: r#"starts_with(name, "Renewal") && amount > 0.0"#,
            rhai: r#"name != () && name.starts_with("Renewal") && amount > 0.0"#,
            native: |r: &R| {
                r.name.as_deref().is_some_and(|n| n.starts_with("Renewal"))
                    && r.amount.is_some_and(|a| a > 0.0)
            },
        },
        Case {
            name: "opp_enterprise_push",
            object: "opportunity",
            ours: r#"account.annual_revenue > 1000000 and (stage == "Negotiation" or probability > 70)"#,
            cel: r#"account != null && account.annual_revenue != null && account.annual_revenue > 1000000.0 && (stage == "Negotiation" || (probability != null && probability > 70.0))"#,
            zen: r#"account.annual_revenue > 1000000 and (stage == "Negotiation" or probability > 70)"#,
            evalexpr: r#"account.annual_revenue > 1000000.0 && (stage == "Negotiation" || (probability != () && probability > 70.0))"#,
            rhai: r#"account != () && account.annual_revenue > 1000000.0 && (stage == "Negotiation" || probability > 70.0)"#,
            native: |r: &R| {
                r.account
                    .as_ref()
                    .and_then(|a| a.annual_revenue)
                    .is_some_and(|v| v > 1_000_000.0)
                    && (r.stage.as_deref() == Some("Negotiation")
                        || r.probability.is_some_and(|p| p > 70.0))
            },
        },
        Case {
            name: "opp_missing_close_date",
            object: "opportunity",
            ours: r#"close_date is null and stage in ["Proposal", "Negotiation"]"#,
            cel: r#"close_date == null && stage in ["Proposal", "Negotiation"]"#,
            zen: r#"close_date == null and stage in ["Proposal", "Negotiation"]"#,
            evalexpr: r#"close_date == () && contains(("Proposal", "Negotiation"), stage)"#,
            rhai: r#"close_date == () && stage in ["Proposal", "Negotiation"]"#,
            native: |r: &R| {
                r.close_date.is_none()
                    && matches!(r.stage.as_deref(), Some("Proposal" | "Negotiation"))
            },
        },
        Case {
            name: "opp_stale_prospect",
            object: "opportunity",
            ours: r#"created_at < now() - 90d and stage == "Prospecting""#,
            cel: r#"created_at != null && created_at < now - 7776000000.0 && stage == "Prospecting""#,
            zen: r#"created_at != null and created_at < now - 7776000000 and stage == "Prospecting""#,
            evalexpr: r#"created_at != () && created_at < now - 7776000000.0 && stage == "Prospecting""#,
            rhai: r#"created_at != () && created_at < now - 7776000000.0 && stage == "Prospecting""#,
            native: |r: &R| {
                r.created_at.is_some_and(|c| c < r.now - 7_776_000_000)
                    && r.stage.as_deref() == Some("Prospecting")
            },
        },
        Case {
            name: "case_critical",
            object: "case",
            ours: r#"priority == "critical""#,
            cel: r#"priority == "critical""#,
            zen: r#"priority == "critical""#,
            evalexpr: r#"priority == "critical""#,
            rhai: r#"priority == "critical""#,
            native: |r: &R| r.priority.as_deref() == Some("critical"),
        },
        Case {
            name: "case_vpn_outage",
            object: "case",
            ours: r#"priority in ["high", "critical"] and subject contains "VPN" and status != "closed""#,
            cel: r#"priority in ["high", "critical"] && subject != null && subject.contains("VPN") && status != "closed""#,
            zen: r#"priority in ["high", "critical"] and contains(subject, "VPN") and status != "closed""#,
            evalexpr: r#"contains(("high", "critical"), priority) && has_text(subject, "VPN") && status != "closed""#,
            rhai: r#"priority in ["high", "critical"] && subject != () && subject.contains("VPN") && status != "closed""#,
            native: |r: &R| {
                matches!(r.priority.as_deref(), Some("high" | "critical"))
                    && r.subject.as_deref().is_some_and(|s| s.contains("VPN"))
                    && r.status.as_deref() != Some("closed")
            },
        },
        Case {
            name: "case_email_escalation",
            object: "case",
            ours: r#"origin == "email" and status == "escalated" and (priority == "high" or priority == "critical")"#,
            cel: r#"origin == "email" && status == "escalated" && (priority == "high" || priority == "critical")"#,
            zen: r#"origin == "email" and status == "escalated" and (priority == "high" or priority == "critical")"#,
            evalexpr: r#"origin == "email" && status == "escalated" && (priority == "high" || priority == "critical")"#,
            rhai: r#"origin == "email" && status == "escalated" && (priority == "high" || priority == "critical")"#,
            native: |r: &R| {
                r.origin.as_deref() == Some("email")
                    && r.status.as_deref() == Some("escalated")
                    && matches!(r.priority.as_deref(), Some("high" | "critical"))
            },
        },
        Case {
            name: "case_platinum_open",
            object: "case",
            ours: r#"account.tier == "platinum" and status in ["new", "open"]"#,
            cel: r#"account != null && account.tier == "platinum" && status in ["new", "open"]"#,
            zen: r#"account.tier == "platinum" and status in ["new", "open"]"#,
            evalexpr: r#"account.tier == "platinum" && contains(("new", "open"), status)"#,
            rhai: r#"account != () && account.tier == "platinum" && status in ["new", "open"]"#,
            native: |r: &R| {
                r.account_tier() == Some("platinum")
                    && matches!(r.status.as_deref(), Some("new" | "open"))
            },
        },
        Case {
            name: "case_unassigned_urgent",
            object: "case",
            ours: r#"owner_id is null and priority != "low""#,
            cel: r#"owner_id == null && priority != "low""#,
            zen: r#"owner_id == null and priority != "low""#,
            evalexpr: r#"owner_id == () && priority != "low""#,
            rhai: r#"owner_id == () && priority != "low""#,
            native: |r: &R| r.owner_id.is_none() && r.priority.as_deref() != Some("low"),
        },
        Case {
            name: "case_open_two_days",
            object: "case",
            ours: r#"not (status in ["closed", "pending"]) and created_at < now() - 2d"#,
            cel: r#"!(status in ["closed", "pending"]) && created_at != null && created_at < now - 172800000.0"#,
            zen: r#"not (status in ["closed", "pending"]) and created_at != null and created_at < now - 172800000"#,
            evalexpr: r#"status != "closed" && status != "pending" && created_at != () && created_at < now - 172800000.0"#,
            rhai: r#"!(status in ["closed", "pending"]) && created_at != () && created_at < now - 172800000.0"#,
            native: |r: &R| {
                !matches!(r.status.as_deref(), Some("closed" | "pending"))
                    && r.created_at.is_some_and(|c| c < r.now - 172_800_000)
            },
        },
        Case {
            name: "case_refund_mention",
            object: "case",
            ours: r#"description contains "refund" or subject contains "refund""#,
            cel: r#"(description != null && description.contains("refund")) || (subject != null && subject.contains("refund"))"#,
            zen: r#"(description != null and contains(description, "refund")) or (subject != null and contains(subject, "refund"))"#,
            evalexpr: r#"has_text(description, "refund") || has_text(subject, "refund")"#,
            rhai: r#"(description != () && description.contains("refund")) || (subject != () && subject.contains("refund"))"#,
            native: |r: &R| {
                r.description
                    .as_deref()
                    .is_some_and(|s| s.contains("refund"))
                    || r.subject.as_deref().is_some_and(|s| s.contains("refund"))
            },
        },
        Case {
            name: "case_inactive_owner",
            object: "case",
            ours: r#"owner.active == false and status != "closed""#,
            cel: r#"owner != null && owner.active == false && status != "closed""#,
            zen: r#"owner.active == false and status != "closed""#,
            evalexpr: r#"owner.active == false && status != "closed""#,
            rhai: r#"owner != () && owner.active == false && status != "closed""#,
            native: |r: &R| {
                r.owner.as_ref().and_then(|o| o.active) == Some(false)
                    && r.status.as_deref() != Some("closed")
            },
        },
        Case {
            name: "case_big_account_inbound",
            object: "case",
            ours: r#"account.annual_revenue >= 5000000 and origin in ["email", "web"] and priority != "low""#,
            cel: r#"account != null && account.annual_revenue != null && account.annual_revenue >= 5000000.0 && origin in ["email", "web"] && priority != "low""#,
            zen: r#"account.annual_revenue >= 5000000 and origin in ["email", "web"] and priority != "low""#,
            evalexpr: r#"account.annual_revenue >= 5000000.0 && contains(("email", "web"), origin) && priority != "low""#,
            rhai: r#"account != () && account.annual_revenue >= 5000000.0 && origin in ["email", "web"] && priority != "low""#,
            native: |r: &R| {
                r.account
                    .as_ref()
                    .and_then(|a| a.annual_revenue)
                    .is_some_and(|v| v >= 5_000_000.0)
                    && matches!(r.origin.as_deref(), Some("email" | "web"))
                    && r.priority.as_deref() != Some("low")
            },
        },
        Case {
            name: "contact_corporate_email",
            object: "contact",
            ours: r#"email ends_with "@acme.com" and phone is not null"#,
            cel: r#"email != null && email.endsWith("@acme.com") && phone != null"#,
            zen: r#"endsWith(email, "@acme.com") and phone != null"#,
            evalexpr: r#"ends_with(email, "@acme.com") && phone != ()"#,
            rhai: r#"email != () && email.ends_with("@acme.com") && phone != ()"#,
            native: |r: &R| {
                r.email.as_deref().is_some_and(|e| e.ends_with("@acme.com")) && r.phone.is_some()
            },
        },
        Case {
            name: "contact_key_account",
            object: "contact",
            ours: r#"account.tier in ["gold", "platinum"] and email is not null"#,
            cel: r#"account != null && account.tier in ["gold", "platinum"] && email != null"#,
            zen: r#"account.tier in ["gold", "platinum"] and email != null"#,
            evalexpr: r#"contains(("gold", "platinum"), account.tier) && email != ()"#,
            rhai: r#"account != () && account.tier in ["gold", "platinum"] && email != ()"#,
            native: |r: &R| {
                matches!(r.account_tier(), Some("gold" | "platinum")) && r.email.is_some()
            },
        },
        Case {
            name: "contact_no_phone",
            object: "contact",
            ours: r#"phone is null or phone == """#,
            cel: r#"phone == null || phone == """#,
            zen: r#"phone == null or phone == """#,
            evalexpr: r#"phone == () || phone == """#,
            rhai: r#"phone == () || phone == """#,
            native: |r: &R| r.phone.as_deref().is_none_or(str::is_empty),
        },
        Case {
            name: "lead_hot_referral",
            object: "lead",
            ours: r#"score >= 80 and source in ["referral", "partner"] and status == "new""#,
            cel: r#"score >= 80.0 && source in ["referral", "partner"] && status == "new""#,
            zen: r#"score >= 80 and source in ["referral", "partner"] and status == "new""#,
            evalexpr: r#"score >= 80.0 && contains(("referral", "partner"), source) && status == "new""#,
            rhai: r#"score >= 80.0 && source in ["referral", "partner"] && status == "new""#,
            native: |r: &R| {
                r.score.is_some_and(|s| s >= 80.0)
                    && matches!(r.source.as_deref(), Some("referral" | "partner"))
                    && r.status.as_deref() == Some("new")
            },
        },
        Case {
            name: "lead_target_company",
            object: "lead",
            ours: r#"company starts_with "Acme" or email ends_with ".gov""#,
            cel: r#"(company != null && company.startsWith("Acme")) || (email != null && email.endsWith(".gov"))"#,
            zen: r#"(company != null and startsWith(company, "Acme")) or (email != null and endsWith(email, ".gov"))"#,
            evalexpr: r#"starts_with(company, "Acme") || ends_with(email, ".gov")"#,
            rhai: r#"(company != () && company.starts_with("Acme")) || (email != () && email.ends_with(".gov"))"#,
            native: |r: &R| {
                r.company.as_deref().is_some_and(|c| c.starts_with("Acme"))
                    || r.email.as_deref().is_some_and(|e| e.ends_with(".gov"))
            },
        },
        Case {
            name: "lead_worth_a_call",
            object: "lead",
            ours: r#"not (status == "disqualified") and (score > 50 or (source == "event" and company is not null))"#,
            cel: r#"!(status == "disqualified") && ((score != null && score > 50.0) || (source == "event" && company != null))"#,
            zen: r#"not (status == "disqualified") and ((score != null and score > 50) or (source == "event" and company != null))"#,
            evalexpr: r#"status != "disqualified" && ((score != () && score > 50.0) || (source == "event" && company != ()))"#,
            rhai: r#"!(status == "disqualified") && (score > 50.0 || (source == "event" && company != ()))"#,
            native: |r: &R| {
                r.status.as_deref() != Some("disqualified")
                    && (r.score.is_some_and(|s| s > 50.0)
                        || (r.source.as_deref() == Some("event") && r.company.is_some()))
            },
        },
        Case {
            name: "lead_unscored_web",
            object: "lead",
            ours: r#"score is null and source == "web" and not (email ends_with "@example.com")"#,
            cel: r#"score == null && source == "web" && !(email != null && email.endsWith("@example.com"))"#,
            zen: r#"score == null and source == "web" and not (email != null and endsWith(email, "@example.com"))"#,
            evalexpr: r#"score == () && source == "web" && !ends_with(email, "@example.com")"#,
            rhai: r#"score == () && source == "web" && !(email != () && email.ends_with("@example.com"))"#,
            native: |r: &R| {
                r.score.is_none()
                    && r.source.as_deref() == Some("web")
                    && !r
                        .email
                        .as_deref()
                        .is_some_and(|e| e.ends_with("@example.com"))
            },
        },
    ]
}

/// The related records (accounts and users) the corpus's records point to.
pub fn related() -> Vec<(&'static str, Json)> {
    vec![
        (
            "account",
            json!({"id": "acc_1", "name": "Acme Corp", "industry": "software", "tier": "platinum", "annual_revenue": 12_000_000}),
        ),
        (
            "account",
            json!({"id": "acc_2", "name": "Globex", "industry": "retail", "tier": "gold", "annual_revenue": 800_000}),
        ),
        (
            "account",
            json!({"id": "acc_3", "name": "Initech", "industry": "finance", "tier": "bronze", "annual_revenue": 5_500_000}),
        ),
        (
            "account",
            json!({"id": "acc_4", "name": "Umbrella", "industry": "health", "tier": null}),
        ),
        (
            "user",
            json!({"id": "usr_1", "name": "Ana", "email": "ana@acme.com", "active": true}),
        ),
        (
            "user",
            json!({"id": "usr_2", "name": "Ben", "email": "ben@acme.com", "active": false}),
        ),
    ]
}

/// The records the conditions run over, by object (a mix that makes every condition
/// both hold and fail, with missing fields and dangling references).
pub fn records() -> Vec<(&'static str, Json)> {
    vec![
        (
            "opportunity",
            json!({"id": "opp_1", "name": "Renewal 2024 Acme", "account_id": "acc_1", "amount": 120000, "stage": "Negotiation", "probability": 80, "close_date": "2024-06-05T00:00:00Z", "owner_id": "usr_1", "discount_approved": false, "created_at": "2024-01-10T09:00:00Z"}),
        ),
        (
            "opportunity",
            json!({"id": "opp_2", "name": "New logo Globex", "account_id": "acc_2", "amount": 30000, "stage": "Proposal", "probability": 55, "owner_id": "usr_2", "created_at": "2024-05-20T09:00:00Z"}),
        ),
        (
            "opportunity",
            json!({"id": "opp_3", "name": "Initech expansion", "account_id": "acc_3", "amount": 8000, "stage": "Prospecting", "probability": 10, "close_date": "2024-09-01T00:00:00Z", "discount_approved": true, "created_at": "2023-12-01T09:00:00Z"}),
        ),
        (
            "opportunity",
            json!({"id": "opp_4", "name": "Renewal Umbrella", "account_id": "acc_4", "amount": 65000, "stage": "Closed Won", "probability": 100, "close_date": "2024-05-30T00:00:00Z", "created_at": "2024-02-01T09:00:00Z"}),
        ),
        (
            "opportunity",
            json!({"id": "opp_5", "name": "Mystery deal", "account_id": "acc_404", "stage": "Qualification", "close_date": "2024-06-03T00:00:00Z"}),
        ),
        (
            "opportunity",
            json!({"id": "opp_6", "name": "Acme add-on", "account_id": "acc_1", "amount": 52000, "stage": "Proposal", "probability": 75, "discount_approved": false, "created_at": "2024-05-01T09:00:00Z"}),
        ),
        (
            "case",
            json!({"id": "case_1", "subject": "VPN down for the Zurich office", "description": "Nobody can connect", "priority": "critical", "status": "open", "origin": "email", "account_id": "acc_1", "owner_id": "usr_1", "created_at": "2024-05-28T08:00:00Z"}),
        ),
        (
            "case",
            json!({"id": "case_2", "subject": "Refund request", "description": null, "priority": "low", "status": "new", "origin": "web", "account_id": "acc_2", "owner_id": "usr_2", "created_at": "2024-06-01T10:00:00Z"}),
        ),
        (
            "case",
            json!({"id": "case_3", "subject": "VPN slow", "description": "Customer asks for a refund of the VPN add-on", "priority": "high", "status": "escalated", "origin": "email", "account_id": "acc_3", "created_at": "2024-05-15T08:00:00Z"}),
        ),
        (
            "case",
            json!({"id": "case_4", "subject": "Invoice copy", "priority": "medium", "status": "closed", "origin": "phone", "account_id": "acc_1", "owner_id": "usr_2", "created_at": "2024-04-01T08:00:00Z"}),
        ),
        (
            "case",
            json!({"id": "case_5", "subject": "Login fails", "priority": "critical", "status": "new", "origin": "chat", "created_at": "2024-06-01T12:00:00Z"}),
        ),
        (
            "case",
            json!({"id": "case_6", "subject": "Data export", "description": "weekly export missing", "priority": "high", "status": "pending", "origin": "web", "account_id": "acc_1", "owner_id": "usr_1", "created_at": "2024-05-01T08:00:00Z"}),
        ),
        (
            "contact",
            json!({"id": "con_1", "first_name": "Jo", "last_name": "Doe", "email": "jo@acme.com", "phone": "+41 44 000 00 00", "account_id": "acc_1", "owner_id": "usr_1"}),
        ),
        (
            "contact",
            json!({"id": "con_2", "first_name": "Al", "last_name": "Roe", "email": "al@globex.com", "phone": "", "account_id": "acc_2"}),
        ),
        (
            "contact",
            json!({"id": "con_3", "first_name": "Cy", "last_name": "Poe", "account_id": "acc_3"}),
        ),
        (
            "contact",
            json!({"id": "con_4", "first_name": "Di", "last_name": "Moe", "email": "di@acme.com", "account_id": "acc_404"}),
        ),
        (
            "lead",
            json!({"id": "lead_1", "first_name": "Ed", "email": "ed@acme-labs.com", "company": "Acme Labs", "source": "referral", "status": "new", "score": 91}),
        ),
        (
            "lead",
            json!({"id": "lead_2", "first_name": "Fi", "email": "fi@agency.gov", "company": "Agency", "source": "event", "status": "working", "score": 40}),
        ),
        (
            "lead",
            json!({"id": "lead_3", "first_name": "Gu", "email": "gu@example.com", "source": "web", "status": "new"}),
        ),
        (
            "lead",
            json!({"id": "lead_4", "first_name": "Ha", "email": "ha@shop.io", "company": "Shop", "source": "web", "status": "disqualified", "score": 75}),
        ),
        (
            "lead",
            json!({"id": "lead_5", "first_name": "Io", "company": "Acme", "source": "partner", "status": "new", "score": 80}),
        ),
        (
            "lead",
            json!({"id": "lead_6", "first_name": "Ky", "email": "ky@startup.io", "source": "web", "status": "working"}),
        ),
    ]
}
