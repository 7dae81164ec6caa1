//! automations-compiler: from definitions (`.auto` text or API JSON) to a checked IR and
//! compiled condition evaluators.
//!
//! Pipeline: parse (`automations-grammar`) or read JSON -> lower to [`ir`] -> type-check
//! against a [`schema`] producing [`typed`] expressions and [`diagnostic`]s -> compile
//! conditions to closures over slot arrays. Printers turn the IR back into canonical DSL
//! and JSON.
//!
//! This crate must stay free of tokio, sqlx and wasmtime: the offline linter depends on it
//! and has to stay light and fast.
//!
//! # As a library
//!
//! To evaluate conditions in another program, compile each one once with a
//! [`pipeline::ConditionCompiler`] (it shares one [`schema::Schema`] between all of them),
//! convert each record once into the condition's slots with
//! [`pipeline::Condition::fill`], and evaluate or explain from those slots with
//! [`pipeline::Condition::eval_slots`] / [`pipeline::Condition::explain_slots`]. A
//! condition that does not check is an `Err` holding its diagnostics (render them with
//! [`render`]); [`check::check_condition`] gives a typed tree only when there is no error.
//! To evaluate many conditions on each record, compile them into one
//! [`pipeline::ConditionSet`]: they share one slot layout, so a record is converted once
//! for all of them. The parser is re-exported as [`grammar`]. `examples/embed_condition.rs`
//! shows the whole path (schema, compile once, evaluate many records, render diagnostics).
//!
//! ```
//! use automations_compiler::pipeline::{ConditionCompiler, ConditionInput};
//! use automations_compiler::schema::Schema;
//! use serde_json::json;
//!
//! let compiler = ConditionCompiler::new(Schema::builtin());
//! let condition = compiler
//!     .compile(r#"priority in ["high", "critical"] and status != "closed""#, "case")
//!     .expect("checks against the built-in schema");
//! let records = [
//!     json!({"id": "c1", "priority": "critical", "status": "open"}),
//!     json!({"id": "c2", "priority": "low", "status": "open"}),
//! ];
//! let answers: Vec<bool> = records
//!     .iter()
//!     .map(|record| {
//!         // Converted once per record; evaluate as often as needed from `slots`.
//!         let slots = condition.fill(&ConditionInput::record(record, 0));
//!         condition.eval_slots(&slots)
//!     })
//!     .collect();
//! assert_eq!(answers, [true, false]);
//! ```
//!
//! # Cargo features
//!
//! - `preserve_order` (off by default): turns on serde_json's `preserve_order`, so the
//!   `serde_json` values this crate hands out ([`json::to_json`], an automation's
//!   `layout`) keep their keys in written order, and JSON read by [`json::parse_json`]
//!   keeps its authors' key order (params, equality-object conditions). Cargo features
//!   are additive: it makes every `serde_json::Map` of the program keep insertion order,
//!   which is why it is opt-in. Without it those maps list their keys sorted; nothing else
//!   changes (parsing, checking, evaluation, diagnostics, and the canonical text of
//!   [`json::to_json_text`], which writes its own key order).

/// The parser of the DSL and of conditions (`automations-grammar`), re-exported.
pub use automations_grammar as grammar;

pub mod catalog;
pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod dispatch;
pub mod eval;
pub mod fuzz_targets;
pub mod ir;
pub mod json;
pub mod lower_dsl;
pub mod pipeline;
pub mod print;
pub mod render;
pub mod retry;
pub mod schema;
pub mod source;
pub mod sourced;
pub mod suggest;
pub mod typed;
pub mod value;
