//! The JSON definition loader (what `POST /automations` and `lint` of a `.json` run):
//! whatever the text, loading, checking and rendering the diagnostics never panic and
//! every diagnostic can be placed (line, column, JSON pointer). A text that loads without
//! errors prints to canonical JSON that loads to the same canonical JSON; one that also
//! checks without errors (what can be stored) prints as DSL that lowers to the same
//! automations. An unchecked one prints as DSL that parses unless `dsl_blockers` names
//! what the DSL cannot spell (an unknown action named `a|b`).

use crate::json::{parse_json, to_json_text};
use crate::lower_dsl::parse_dsl;
use crate::pipeline::{SourceFile, compile_source};
use crate::print::{dsl_blockers, print_dsl};

use super::{diagnostics_are_placeable, schema, text};

/// The `json` target.
pub fn json(data: &[u8]) {
    let text = text(data);
    let src = SourceFile::new("<fuzz>".into(), text.to_string(), true);
    let compiled = compile_source(&src, &schema());
    diagnostics_are_placeable(&text, &compiled.diagnostics, true);
    let (automations, _, diagnostics) = parse_json(&text);
    if diagnostics.iter().any(|d| d.is_error()) {
        return;
    }
    let canonical = to_json_text(&automations);
    let (again, _, diagnostics) = parse_json(&canonical);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the canonical JSON does not load\ninput: {text:?}\ncanonical:\n{canonical}\n{diagnostics:#?}"
    );
    let twice = to_json_text(&again);
    assert_eq!(
        twice, canonical,
        "canonical JSON is not a fixed point\ninput: {text:?}"
    );
    // `[]` has no DSL form: a `.auto` file holds at least one automation.
    if automations.is_empty() || automations.iter().any(|a| !dsl_blockers(a).is_empty()) {
        return;
    }
    let dsl = print_dsl(&automations);
    let (_, diagnostics) = parse_dsl(&dsl);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the DSL printed from JSON with no blocker does not parse\ninput: {text:?}\nDSL:\n{dsl}\n{diagnostics:#?}"
    );
    if compiled.has_errors() {
        return;
    }
    let dsl = print_dsl(&automations);
    let (from_dsl, diagnostics) = parse_dsl(&dsl);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the DSL printed from loaded JSON does not parse\ninput: {text:?}\nDSL:\n{dsl}\n{diagnostics:#?}"
    );
    let via_dsl = to_json_text(&from_dsl);
    assert_eq!(
        via_dsl, canonical,
        "JSON -> DSL -> JSON changed the automations\ninput: {text:?}\nDSL:\n{dsl}"
    );
}
