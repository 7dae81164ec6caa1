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
//! The parser is re-exported as [`grammar`]. `examples/embed.rs` shows the whole path.
//!
//! The crate enables serde_json's `preserve_order`: canonical JSON ([`json::to_json`]) has a
//! fixed key order and layouts keep their authors' key order. Cargo features are additive,
//! so in a program that embeds this crate every `serde_json::Map` keeps insertion order
//! instead of sorting its keys.

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
