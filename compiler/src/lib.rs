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
pub mod schema;
pub mod source;
pub mod sourced;
pub mod suggest;
pub mod typed;
pub mod value;
