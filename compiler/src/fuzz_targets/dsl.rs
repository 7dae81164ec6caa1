//! The `.auto` parser and pipeline: whatever the text, parsing, lowering, checking and
//! rendering the diagnostics never panic and every diagnostic points into the text; a
//! text that `fmt` accepts prints to a canonical text that `fmt` leaves unchanged and
//! that means the same automations.

use crate::json::to_json_text;
use crate::lower_dsl::parse_dsl;
use crate::pipeline::{SourceFile, canonical_text, compile_source};

use super::{diagnostics_are_placeable, schema, text};

/// The `dsl` target.
pub fn dsl(data: &[u8]) {
    let text = text(data);
    parse_errors_point_into(&text);
    let src = SourceFile::new("<fuzz>".into(), text.to_string(), false);
    let compiled = compile_source(&src, &schema());
    diagnostics_are_placeable(&text, &compiled.diagnostics, false);
    if let Ok(printed) = canonical_text(&src) {
        fmt_is_a_fixed_point(&text, &printed);
    }
}

fn parse_errors_point_into(text: &str) {
    if let Err(e) = automations_grammar::parse_file(text) {
        let (start, end) = (e.span.start as usize, e.span.end as usize);
        assert!(
            start <= end && end <= text.len() && text.is_char_boundary(start),
            "parse error span {start}..{end} outside a text of {} bytes: {}",
            text.len(),
            e.message
        );
    }
}

/// `fmt(fmt(x)) == fmt(x)`, and `fmt(x)` lowers to the same automations as `x`.
fn fmt_is_a_fixed_point(text: &str, printed: &str) {
    let again = SourceFile::new("<fmt>".into(), printed.to_string(), false);
    let reprinted = canonical_text(&again).unwrap_or_else(|d| {
        panic!("the canonical text does not parse\ninput: {text:?}\nprinted:\n{printed}\n{d:#?}")
    });
    assert_eq!(
        reprinted, printed,
        "fmt is not idempotent\ninput: {text:?}\nfirst:\n{printed}\nsecond:\n{reprinted}"
    );
    let (before, _) = parse_dsl(text);
    let (after, _) = parse_dsl(printed);
    let (before, after) = (to_json_text(&before), to_json_text(&after));
    assert_eq!(
        before, after,
        "fmt changed the meaning\ninput: {text:?}\nprinted:\n{printed}"
    );
}
