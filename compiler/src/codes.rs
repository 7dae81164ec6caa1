//! Stable diagnostic codes. Tests, docs and `examples/invalid/` are keyed on them; never
//! reuse a code for another meaning.
//!
//! E00xx: syntax and document shape. E01xx: names. E02xx: types. W03xx: lints.

/// Syntax error in DSL text or in an expression string (with the expected tokens).
pub const SYNTAX: &str = "E0001";
/// Malformed JSON, or a JSON value of the wrong shape (e.g. `actions` not an array).
pub const JSON_SHAPE: &str = "E0002";
/// A field the definition format does not know (`"trigerr"` in JSON, `priorty` header, ...).
pub const UNKNOWN_DEFINITION_FIELD: &str = "E0003";
/// A required part of the definition is missing (name, trigger, actions, ...).
pub const MISSING_PART: &str = "E0004";
/// An invalid value for status / environment / duration / form type.
pub const INVALID_VALUE: &str = "E0005";
/// A definition past one of the documented size limits (`automations_grammar::limits`:
/// definition or expression bytes, clauses in one chain, list items, expression depth).
pub const LIMIT_EXCEEDED: &str = "E0006";

pub const UNKNOWN_FIELD: &str = "E0101";
pub const UNKNOWN_OBJECT: &str = "E0102";
pub const UNKNOWN_EVENT: &str = "E0103";
pub const UNKNOWN_ACTION: &str = "E0104";
pub const UNKNOWN_PARAM: &str = "E0105";
pub const UNKNOWN_STEP: &str = "E0106";
pub const DUPLICATE_STEP_ID: &str = "E0107";
pub const MISSING_PARAM: &str = "E0108";
pub const UNKNOWN_FUNCTION: &str = "E0109";
/// A step referenced before it runs (or from a branch that cannot have run it).
pub const STEP_NOT_YET_RUN: &str = "E0110";

pub const TYPE_MISMATCH: &str = "E0201";
pub const PICKLIST_VALUE: &str = "E0202";
pub const TEMPLATE_ERROR: &str = "E0203";
/// Wrong number or names of function arguments.
pub const BAD_ARGUMENTS: &str = "E0204";
pub const INVALID_REGEX: &str = "E0205";

pub const CHANGED_ON_CREATE: &str = "W0301";
pub const ALWAYS_TRUE: &str = "W0302";
pub const ALWAYS_FALSE: &str = "W0303";
pub const UNREACHABLE_BRANCH: &str = "W0304";
pub const UNUSED_STEP_OUTPUT: &str = "W0305";
pub const DEPRECATED_FIELD: &str = "W0306";
/// Automations whose record writes trigger each other (or themselves) in a cycle
/// (DESIGN §5: activation warns on static cycles).
pub const STATIC_CYCLE: &str = "W0307";
/// A plugin step names a plugin (or a version of it) that the plugin catalog given to the
/// checker does not hold (the server's workspace registry).
pub const UNKNOWN_PLUGIN: &str = "E0111";
/// A plugin step's `input` has a property its manifest's input schema does not declare.
pub const UNKNOWN_PLUGIN_INPUT: &str = "E0112";
/// A plugin step's `input` lacks a property its manifest's input schema requires.
pub const MISSING_PLUGIN_INPUT: &str = "E0113";
