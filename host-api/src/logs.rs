//! The log lines of one plugin call, bounded: a plugin may log in a loop, so
//! a call keeps at most [`LogLimits::max_lines`] lines and
//! [`LogLimits::max_bytes`] bytes of text; longer messages and fields are
//! cut, and lines past a bound are counted and summed up in one last line.
//! Hosts collect a call's lines here and store them on the step.

use crate::host::LogLevel;
use serde::Serialize;

/// Bounds of what one call may log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLimits {
    pub max_lines: usize,
    /// Total bytes of messages, field names and values.
    pub max_bytes: usize,
    pub max_message_bytes: usize,
    pub max_fields: usize,
    pub max_field_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_lines: 100,
            max_bytes: 64 << 10,
            max_message_bytes: 4 << 10,
            max_fields: 16,
            max_field_bytes: 1 << 10,
        }
    }
}

/// One kept line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

/// The lines of one call, within [`LogLimits`].
#[derive(Debug, Default)]
pub struct LogBuffer {
    limits: LogLimits,
    lines: Vec<LogLine>,
    bytes: usize,
    dropped: usize,
}

impl LogBuffer {
    pub fn new(limits: LogLimits) -> Self {
        LogBuffer {
            limits,
            ..LogBuffer::default()
        }
    }

    /// Keeps the line (cut to the per-line bounds) unless a call-wide bound is reached.
    pub fn push(&mut self, level: LogLevel, message: &str, fields: &[(String, String)]) {
        let limits = self.limits;
        let line = LogLine {
            level,
            message: cut(message, limits.max_message_bytes),
            fields: fields
                .iter()
                .take(limits.max_fields)
                .map(|(k, v)| {
                    (
                        cut(k, limits.max_field_bytes),
                        cut(v, limits.max_field_bytes),
                    )
                })
                .collect(),
        };
        let size = line.message.len()
            + line
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        if self.lines.len() >= limits.max_lines || self.bytes + size > limits.max_bytes {
            self.dropped += 1;
            return;
        }
        self.bytes += size;
        self.lines.push(line);
    }

    /// The kept lines, plus a last `warn` line saying how many were dropped.
    pub fn finish(mut self) -> Vec<LogLine> {
        if self.dropped > 0 {
            self.lines.push(LogLine {
                level: LogLevel::Warn,
                message: format!(
                    "{} more log lines dropped: a call keeps at most {} lines and {} bytes",
                    self.dropped, self.limits.max_lines, self.limits.max_bytes
                ),
                fields: Vec::new(),
            });
        }
        self.lines
    }
}

/// `text` cut to at most `max` bytes on a char boundary, marked when cut.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> LogLimits {
        LogLimits {
            max_lines: 3,
            max_bytes: 1000,
            max_message_bytes: 8,
            max_fields: 1,
            max_field_bytes: 4,
        }
    }

    #[test]
    fn lines_over_the_count_are_dropped_and_summed_up() {
        let mut buffer = LogBuffer::new(small());
        for n in 0..10 {
            buffer.push(LogLevel::Info, &format!("line {n}"), &[]);
        }
        let lines = buffer.finish();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2].message, "line 2");
        assert_eq!(lines[3].level, LogLevel::Warn);
        assert!(lines[3].message.starts_with("7 more log lines dropped"));
    }

    #[test]
    fn long_messages_and_fields_are_cut_on_char_boundaries() {
        let mut buffer = LogBuffer::new(small());
        let fields = [
            ("key".to_string(), "ééé".to_string()),
            ("x".into(), "y".into()),
        ];
        buffer.push(LogLevel::Error, "0123456789", &fields);
        let lines = buffer.finish();
        assert_eq!(lines[0].message, "01234567… (2 bytes cut)");
        assert_eq!(
            lines[0].fields,
            [("key".into(), "éé… (2 bytes cut)".into())]
        );
    }

    #[test]
    fn the_byte_budget_bounds_the_call() {
        let mut buffer = LogBuffer::new(LogLimits {
            max_bytes: 10,
            ..small()
        });
        buffer.push(LogLevel::Info, "12345678", &[]);
        buffer.push(LogLevel::Info, "12345678", &[]);
        let lines = buffer.finish();
        assert_eq!(lines.len(), 2, "one kept, one summary: {lines:?}");
        assert!(lines[1].message.starts_with("1 more log lines dropped"));
    }
}
