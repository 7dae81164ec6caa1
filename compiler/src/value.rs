//! Run-time values of the condition language.

use std::sync::Arc;

/// A value seen by an evaluator. Cheap to clone (strings and lists are shared).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(Arc<str>),
    /// Milliseconds since the Unix epoch, UTC.
    DateTime(i64),
    /// Milliseconds.
    Duration(i64),
    List(Arc<[Value]>),
    /// A JSON object (step outputs, event payloads, object params), keys in written order.
    Object(Arc<[(Arc<str>, Value)]>),
}
