//! Literal helpers for the checker: durations and datetimes written as strings (accepted
//! where params expect them), constant string extraction and literal spans.
//!
//! Must never guess: a string that does not parse is left to the caller to report.

use automations_grammar::ast::{Expr, ExprKind, Span, StrPart};

/// `90s`, `15m`, `48h`, `3d`, `2w`, `500ms` -> milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().ok()?;
    let unit_ms: i64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// RFC 3339 -> milliseconds since the epoch, UTC.
pub fn parse_datetime(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// The text of a string literal without `{{ }}` parts.
pub fn const_str(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str(parts) => {
            let mut out = String::new();
            for p in parts {
                match p {
                    StrPart::Text(t) => out.push_str(t),
                    StrPart::Expr(_) => return None,
                }
            }
            Some(out)
        }
        ExprKind::Paren(inner) => const_str(inner),
        _ => None,
    }
}

/// The span of a string literal's contents: the literal's span without its quotes, so
/// that a suggestion replaces the text only (`"Closed Wonn"` -> `Closed Won`).
pub fn inner_span(span: Span) -> Span {
    if span.end >= span.start + 2 {
        Span {
            start: span.start + 1,
            end: span.end - 1,
        }
    } else {
        span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_datetimes() {
        assert_eq!(parse_duration("2d"), Some(172_800_000));
        assert_eq!(parse_duration("500ms"), Some(500));
        assert_eq!(parse_duration("2 days"), None);
        assert_eq!(parse_duration("d"), None);
        assert_eq!(parse_datetime("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_datetime("tomorrow"), None);
    }
}
