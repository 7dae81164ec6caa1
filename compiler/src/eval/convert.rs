//! Value conversions shared by both evaluators and the slot filler: JSON -> [`Value`] by
//! declared type, rendering values as template text, datetimes and durations as text.
//!
//! Only conversions live here. Operator semantics must never be added to this module: the
//! compiled and the reference evaluators each implement them on their own, so that the
//! reference stays a real oracle.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::typed::Type;
use crate::value::Value;

const DAY_MS: i64 = 86_400_000;

/// Converts a JSON value to a run-time value of type `ty`. A value that does not fit the
/// type becomes `Null` (evaluators never see a surprise, and a wrong value acts as missing).
pub fn json_to_value(json: &serde_json::Value, ty: &Type) -> Value {
    use serde_json::Value as J;
    match (ty, json) {
        (_, J::Null) => Value::Null,
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Number, J::Number(n)) => n.as_f64().map_or(Value::Null, Value::Number),
        (Type::Number, J::String(s)) => match s.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Value::Number(n),
            _ => Value::Null,
        },
        (Type::String | Type::Picklist(_) | Type::Reference(_), J::String(s)) => {
            Value::String(Arc::from(s.as_str()))
        }
        (Type::String | Type::Picklist(_) | Type::Reference(_), J::Number(n)) => {
            Value::String(Arc::from(n.to_string().as_str()))
        }
        (Type::DateTime, J::String(s)) => parse_datetime(s).map_or(Value::Null, Value::DateTime),
        (Type::DateTime, J::Number(n)) => n.as_i64().map_or(Value::Null, Value::DateTime),
        (Type::Duration, J::Number(n)) => n.as_i64().map_or(Value::Null, Value::Duration),
        (Type::Duration, J::String(s)) => parse_duration(s).map_or(Value::Null, Value::Duration),
        (Type::List(elem), J::Array(items)) => {
            Value::List(items.iter().map(|j| json_to_value(j, elem)).collect())
        }
        (Type::Any | Type::Null, other) => json_to_any(other),
        _ => Value::Null,
    }
}

/// Converts JSON without a declared type: arrays become lists, objects objects. Strings stay
/// strings (a datetime-looking string in an untyped payload is not guessed at).
pub fn json_to_any(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n.as_f64().map_or(Value::Null, Value::Number),
        J::String(s) => Value::String(Arc::from(s.as_str())),
        J::Array(items) => Value::List(items.iter().map(json_to_any).collect()),
        J::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), json_to_any(v)))
                .collect(),
        ),
    }
}

/// Converts a run-time value back to JSON (explanations, step params). Datetimes become
/// RFC 3339 strings, durations their compact text (`2d`).
pub fn value_to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        // Integral numbers come out as JSON integers (`10`, not `10.0`).
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => J::Number((*n as i64).into()),
        Value::Number(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.to_string()),
        Value::DateTime(ms) => J::String(format_datetime(*ms)),
        Value::Duration(ms) => J::String(format_duration(*ms)),
        Value::List(items) => J::Array(items.iter().map(value_to_json).collect()),
        Value::Object(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), value_to_json(v)))
                .collect(),
        ),
    }
}

/// Parses an RFC 3339 datetime to milliseconds since the epoch.
pub fn parse_datetime(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|d| d.timestamp_millis())
}

/// RFC 3339 in UTC with a `Z`, fractional seconds only when present.
pub fn format_datetime(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => String::new(),
    }
}

/// Parses `500ms`, `90s`, `15m`, `48h`, `3d`, `2w` (one number and one unit).
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let digits_end = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(digits_end);
    let n: i64 = digits.parse().ok()?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => DAY_MS,
        "w" => 7 * DAY_MS,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

/// The largest whole unit that divides the duration: `172800000` -> `2d`.
pub fn format_duration(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [(DAY_MS, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")];
    if ms != 0 {
        for (size, unit) in UNITS {
            if ms % size == 0 {
                return format!("{}{unit}", ms / size);
            }
        }
    }
    format!("{ms}ms")
}

/// The start of the UTC day holding `ms` (`today()`).
pub fn day_floor(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS) * DAY_MS
}

/// Renders a value as template text: null is empty, integral numbers have no `.0`,
/// datetimes are RFC 3339, lists are joined with `, `, objects are JSON.
pub fn render(value: &Value, out: &mut String) {
    use std::fmt::Write;
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // f64's Display never prints a trailing `.0` and never uses an exponent.
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => out.push_str(s),
        Value::DateTime(ms) => out.push_str(&format_datetime(*ms)),
        Value::Duration(ms) => out.push_str(&format_duration(*ms)),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
        }
        Value::Object(_) => out.push_str(&value_to_json(value).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for text in ["90s", "15m", "48h", "3d", "500ms", "0ms"] {
            let ms = parse_duration(text).unwrap();
            assert_eq!(parse_duration(&format_duration(ms)), Some(ms));
        }
        assert_eq!(format_duration(48 * 3_600_000), "2d");
        assert_eq!(parse_duration("3x"), None);
    }

    #[test]
    fn renders_numbers_without_trailing_zero() {
        let mut s = String::new();
        render(&Value::Number(12.0), &mut s);
        render(&Value::Number(0.5), &mut s);
        assert_eq!(s, "120.5");
    }

    #[test]
    fn datetimes_are_rfc3339_utc() {
        let ms = parse_datetime("2000-01-01T10:00:00+01:00").unwrap();
        assert_eq!(format_datetime(ms), "2000-01-01T09:00:00Z");
        assert_eq!(
            day_floor(ms),
            parse_datetime("2000-01-01T00:00:00Z").unwrap()
        );
    }
}
