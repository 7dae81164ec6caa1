//! Condition evaluation (DESIGN §4, §4.2): slot layouts and the once-per-event slot fill
//! ([`context`]), the compiled closure evaluator ([`compiled`]), explanations
//! ([`explain`]) and the tree-walking reference evaluator ([`reference`]), which is the
//! test oracle for the compiled one.
//!
//! Semantics, shared by both evaluators (each implements them on its own):
//! - A missing field is null. `==`/`!=` compare null as a value; `<`, `<=`, `>`, `>=` with
//!   null (or across kinds) are false. Strings compare case-sensitively, by code point.
//! - Arithmetic is f64; division by zero, null operands and NaN give null. `datetime -
//!   datetime` is a duration; `datetime ± duration`, `duration ± duration`,
//!   `duration * number`, `duration / number` and `duration / duration` work as expected;
//!   integer overflow gives null. `string + string` concatenates.
//! - `x in list` is membership (null in a list holding null is true); `a contains b` is a
//!   substring (strings) or membership (lists) test and false when either side is null;
//!   `starts_with`/`ends_with`/`matches` are false unless both sides are strings; an
//!   invalid regex never matches.
//! - `not`/`and`/`or` treat anything but `true` (null included) as false and always yield
//!   a bool; a condition holds only when it yields `true`.
//! - `has(f)` is `f is not null`; `lower`/`upper`/`len` of null are null; `len` counts
//!   characters of a string or items of a list.
//! - `any(list, ..)` over null or an empty list is false, `all(..)` is true.
//! - `changed(f)` is true when a previous record exists and `f` differs from its previous
//!   value; `from:`/`to:` must both match too. With no previous record (create) it is false.
//! - Templates concatenate rendered values: null as "", integral numbers without `.0`,
//!   datetimes as RFC 3339, durations as `2d`.
//!
//! Nothing here ever panics or returns an error at run time.

pub mod budget;
pub mod compiled;
pub mod context;
pub mod convert;
pub mod explain;
mod ops;
pub mod print;
pub mod reference;

pub use budget::{TooLarge, fits};
pub use compiled::{CompiledCondition, CompiledExpr, compile, compile_expr, compile_with_source};
pub use context::{
    EvalInput, NamingConvention, NoResolver, ReferenceTargets, References, Resolver, SlotLayout,
    fill_slots, fill_slots_into,
};
pub use explain::{ClauseReport, Decision, Explanation, SeenValue};
