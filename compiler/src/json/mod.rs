//! The JSON form of automations (the API's wire format, DESIGN §3.1).
//!
//! [`lower`] reads JSON text or a `serde_json::Value` into the [`crate::ir`], collecting
//! diagnostics with byte spans into the text; [`source_map`] knows where each JSON value is
//! so that those spans and the API's JSON pointers are exact; [`print`] writes the IR back
//! as canonical JSON. Nothing here type-checks or knows the CRM schema: that is the checker's.

pub mod lower;
pub mod print;
pub mod source_map;

pub use lower::{lower_at, lower_value, parse_json};
pub use print::{to_json, to_json_text};
pub use source_map::JsonSourceMap;
