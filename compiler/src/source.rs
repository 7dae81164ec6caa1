//! Line and column lookup for source texts (DSL files and JSON bodies).
//!
//! Diagnostics carry byte spans; every renderer (human, json, sarif, API) turns them into
//! 1-based lines and columns here so that all of them agree. Columns count characters, not
//! bytes. This module never reads files and never decides how positions are displayed.

/// A 1-based line and column (the column counts chars from the start of the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Offsets of line starts in a text, built once and queried many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    text: String,
    /// Byte offset where each line starts; the first entry is always 0.
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            text: text.to_owned(),
            line_starts,
        }
    }

    /// Number of lines (a text without newline has one line, an empty text too).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Line and column of a byte offset. Offsets past the end are clamped to the end, and
    /// an offset inside a multi-byte char counts as that char.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self.text[start..]
            .char_indices()
            .take_while(|(i, _)| start + i < offset)
            .count();
        LineCol {
            line: line + 1,
            column: column + 1,
        }
    }

    /// Byte offset of a 1-based line and a 1-based column counted in bytes (the convention
    /// of serde_json errors). Out-of-range positions are clamped into the text.
    pub fn offset_of_byte_column(&self, line: usize, byte_column: usize) -> usize {
        let line = line.clamp(1, self.line_starts.len()) - 1;
        let start = self.line_starts[line];
        let end = self.line_end(line);
        (start + byte_column.saturating_sub(1)).min(end)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let index = line.clamp(1, self.line_starts.len()) - 1;
        let text = &self.text[self.line_starts[index]..self.line_end(index)];
        text.strip_suffix('\r').unwrap_or(text)
    }

    fn line_end(&self, index: usize) -> usize {
        self.line_starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_char_columns_are_one_based() {
        let index = LineIndex::new("ab\nçé x\n");
        assert_eq!(index.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(index.line_col(2), LineCol { line: 1, column: 3 });
        assert_eq!(index.line_col(3), LineCol { line: 2, column: 1 });
        // `x` is byte 8 (ç and é take two bytes each) but char column 4.
        assert_eq!(index.line_col(8), LineCol { line: 2, column: 4 });
        assert_eq!(index.line_col(100), LineCol { line: 3, column: 1 });
        assert_eq!(index.line_count(), 3);
    }

    #[test]
    fn byte_columns_map_back_to_offsets() {
        let index = LineIndex::new("{\n  \"a\": ]\r\n}");
        assert_eq!(index.offset_of_byte_column(2, 8), 9);
        assert_eq!(index.offset_of_byte_column(2, 99), 11);
        assert_eq!(index.offset_of_byte_column(9, 1), 12);
        assert_eq!(index.line_text(2), "  \"a\": ]");
    }
}
