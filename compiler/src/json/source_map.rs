//! Where each value of a JSON text is: RFC 6901 pointers mapped to byte ranges.
//!
//! serde_json gives values without positions, so this small scanner walks the same text and
//! records, for every value, its pointer (`/actions/1/params/message`), the byte range of
//! the value and of its key, and for strings how decoded offsets map back to the raw text
//! (escapes make them differ). It never builds values and never judges them: a text it
//! cannot scan just yields fewer entries.

use std::collections::{HashMap, HashSet};

use automations_grammar::ast::Span;

/// Pointers and byte ranges of every value in one JSON text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonSourceMap {
    entries: Vec<Entry>,
    by_pointer: HashMap<String, usize>,
    /// Members whose name repeats an earlier one in the same object (serde_json keeps the
    /// last value; the lowering reports them so that nothing is dropped silently).
    duplicates: Vec<(String, Span)>,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    pointer: String,
    /// The member name without its quotes, for values inside objects.
    key: Option<Span>,
    /// The whole value (strings include their quotes).
    value: Span,
    /// For strings: offsets where decoded and raw positions realign after an escape.
    string: Option<StringOffsets>,
}

/// Maps offsets in a decoded string to byte offsets in the text.
#[derive(Debug, Clone, PartialEq)]
struct StringOffsets {
    /// Text offset of the first content byte (after the opening quote).
    content_start: u32,
    /// `(decoded offset, raw offset)` at the start of each escape and just after it.
    breaks: Vec<(u32, u32)>,
}

impl StringOffsets {
    fn to_text(&self, decoded: u32) -> u32 {
        // The last break at or before `decoded`; `breaks` ascend, and a long condition
        // string holds thousands of escapes, so this is a binary search, not a scan.
        let after = self.breaks.partition_point(|(d, _)| *d <= decoded);
        let (base_decoded, base_raw) = after.checked_sub(1).map_or((0, 0), |i| self.breaks[i]);
        self.content_start + base_raw + (decoded - base_decoded)
    }
}

/// The pointer of a child: `parent` + `/` + the escaped token (`~` -> `~0`, `/` -> `~1`).
pub fn child_pointer(parent: &str, token: &str) -> String {
    let escaped = token.replace('~', "~0").replace('/', "~1");
    format!("{parent}/{escaped}")
}

impl JsonSourceMap {
    /// Scans `text`. Malformed JSON yields the entries found before the fault.
    pub fn scan(text: &str) -> JsonSourceMap {
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            entries: Vec::new(),
            duplicates: Vec::new(),
        };
        scanner.skip_ws();
        let _ = scanner.value(String::new(), None);
        let by_pointer = scanner
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.pointer.clone(), i))
            .collect();
        JsonSourceMap {
            entries: scanner.entries,
            by_pointer,
            duplicates: scanner.duplicates,
        }
    }

    /// True when nothing was recorded (e.g. for a value that never had a text).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Byte range of the value at `pointer` (strings include their quotes).
    pub fn value_span(&self, pointer: &str) -> Option<Span> {
        self.entry(pointer).map(|e| e.value)
    }

    /// Byte range of the member name (without quotes) of the value at `pointer`.
    pub fn key_span(&self, pointer: &str) -> Option<Span> {
        self.entry(pointer).and_then(|e| e.key)
    }

    /// Text offset of byte `decoded` of the decoded string at `pointer`; exact across
    /// escapes (an offset inside an escape's output maps to the escape's start).
    pub fn string_offset(&self, pointer: &str, decoded: u32) -> Option<u32> {
        self.entry(pointer)?
            .string
            .as_ref()
            .map(|s| s.to_text(decoded))
    }

    /// [`JsonSourceMap::string_offset`] for many offsets into one string: the string is
    /// looked up once (shifting every span of a long condition stays n log n).
    pub fn string_offsets(&self, pointer: &str) -> Option<impl Fn(u32) -> u32 + '_> {
        let offsets = self.entry(pointer)?.string.as_ref()?;
        Some(move |decoded| offsets.to_text(decoded))
    }

    /// The innermost pointer whose member (key and value) contains `span`.
    pub fn pointer_at(&self, span: Span) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| {
                let member = e.key.map_or(e.value, |k| k.cover(e.value));
                member.start <= span.start && span.end <= member.end
            })
            .min_by_key(|e| {
                let member = e.key.map_or(e.value, |k| k.cover(e.value));
                member.end - member.start
            })
            .map(|e| e.pointer.clone())
    }

    /// Pointers and key spans of members that repeat a name within their object.
    pub fn duplicate_keys(&self) -> &[(String, Span)] {
        &self.duplicates
    }

    fn entry(&self, pointer: &str) -> Option<&Entry> {
        self.by_pointer.get(pointer).map(|&i| &self.entries[i])
    }
}

/// Marker for a fault; the scan just stops.
struct Malformed;

struct Scanner<'t> {
    bytes: &'t [u8],
    pos: usize,
    entries: Vec<Entry>,
    duplicates: Vec<(String, Span)>,
}

impl Scanner<'_> {
    fn value(&mut self, pointer: String, key: Option<Span>) -> Result<(), Malformed> {
        let start = self.pos;
        let index = self.entries.len();
        self.entries.push(Entry {
            pointer: pointer.clone(),
            key,
            value: Span::default(),
            string: None,
        });
        match self.peek().ok_or(Malformed)? {
            b'{' => self.object(&pointer)?,
            b'[' => self.array(&pointer)?,
            b'"' => {
                let (_, offsets) = self.string()?;
                self.entries[index].string = Some(offsets);
            }
            _ => self.scalar(),
        }
        self.entries[index].value = Span::new(start, self.pos);
        Ok(())
    }

    fn object(&mut self, pointer: &str) -> Result<(), Malformed> {
        self.pos += 1;
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(());
        }
        let mut names = HashSet::new();
        loop {
            self.skip_ws();
            let key_start = self.pos + 1;
            let (name, _) = self.string()?;
            let key = Span::new(key_start, self.pos - 1);
            if !names.insert(name.clone()) {
                self.duplicates.push((child_pointer(pointer, &name), key));
            }
            self.skip_ws();
            if !self.eat(b':') {
                return Err(Malformed);
            }
            self.skip_ws();
            self.value(child_pointer(pointer, &name), Some(key))?;
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(());
            }
            if !self.eat(b',') {
                return Err(Malformed);
            }
        }
    }

    fn array(&mut self, pointer: &str) -> Result<(), Malformed> {
        self.pos += 1;
        self.skip_ws();
        if self.eat(b']') {
            return Ok(());
        }
        for index in 0.. {
            self.skip_ws();
            self.value(child_pointer(pointer, &index.to_string()), None)?;
            self.skip_ws();
            if self.eat(b']') {
                return Ok(());
            }
            if !self.eat(b',') {
                return Err(Malformed);
            }
        }
        Ok(())
    }

    /// Reads a string at `pos` (on its opening quote); returns the decoded text and the
    /// decoded-to-raw offset breaks.
    fn string(&mut self) -> Result<(String, StringOffsets), Malformed> {
        if !self.eat(b'"') {
            return Err(Malformed);
        }
        let content_start = self.pos;
        let mut decoded: Vec<u8> = Vec::new();
        let mut breaks = Vec::new();
        loop {
            let byte = self.peek().ok_or(Malformed)?;
            match byte {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    breaks.push((decoded.len() as u32, (self.pos - content_start) as u32));
                    self.escape(&mut decoded)?;
                    breaks.push((decoded.len() as u32, (self.pos - content_start) as u32));
                }
                _ => {
                    decoded.push(byte);
                    self.pos += 1;
                }
            }
        }
        let text = String::from_utf8_lossy(&decoded).into_owned();
        Ok((
            text,
            StringOffsets {
                content_start: content_start as u32,
                breaks,
            },
        ))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), Malformed> {
        self.pos += 1;
        let kind = self.peek().ok_or(Malformed)?;
        self.pos += 1;
        let simple = match kind {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'u' => None,
            _ => return Err(Malformed),
        };
        let ch = match simple {
            Some(ch) => ch,
            None => self.unicode_escape()?,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` for a surrogate pair.
    fn unicode_escape(&mut self) -> Result<char, Malformed> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
            self.pos += 2;
            let second = self.hex4()?;
            let combined =
                0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF);
            return Ok(char::from_u32(combined).unwrap_or('\u{FFFD}'));
        }
        Ok(char::from_u32(first).unwrap_or('\u{FFFD}'))
    }

    fn hex4(&mut self) -> Result<u32, Malformed> {
        let digits = self.bytes.get(self.pos..self.pos + 4).ok_or(Malformed)?;
        let digits = std::str::from_utf8(digits).map_err(|_| Malformed)?;
        let value = u32::from_str_radix(digits, 16).map_err(|_| Malformed)?;
        self.pos += 4;
        Ok(value)
    }

    /// Numbers, `true`, `false`, `null`: everything up to the next delimiter.
    fn scalar(&mut self) {
        while let Some(byte) = self.peek() {
            if matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.peek() == Some(byte);
        if matched {
            self.pos += 1;
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(text: &str, span: Span) -> &str {
        &text[span.range()]
    }

    #[test]
    fn records_pointers_keys_and_values() {
        let text = r#"{ "a": [1, {"b/c": "x"}], "t~": true }"#;
        let map = JsonSourceMap::scan(text);
        assert_eq!(slice(text, map.value_span("").unwrap()), text);
        assert_eq!(
            slice(text, map.value_span("/a").unwrap()),
            r#"[1, {"b/c": "x"}]"#
        );
        assert_eq!(slice(text, map.value_span("/a/1/b~1c").unwrap()), r#""x""#);
        assert_eq!(slice(text, map.key_span("/a/1/b~1c").unwrap()), "b/c");
        assert_eq!(slice(text, map.value_span("/t~0").unwrap()), "true");
    }

    #[test]
    fn maps_decoded_offsets_through_escapes() {
        let text = r#"{"s": "a\n\u00e9b"}"#;
        let map = JsonSourceMap::scan(text);
        // decoded "a\néb": 'b' is at decoded offset 4 (a=0, \n=1, é=2..4)
        let at = map.string_offset("/s", 4).unwrap() as usize;
        assert_eq!(&text[at..at + 1], "b");
        let at = map.string_offset("/s", 0).unwrap() as usize;
        assert_eq!(&text[at..at + 1], "a");
    }

    #[test]
    fn innermost_pointer_contains_span() {
        let text = r#"{"x": {"y": "hello"}}"#;
        let map = JsonSourceMap::scan(text);
        let inside = Span::new(14, 16);
        assert_eq!(map.pointer_at(inside).as_deref(), Some("/x/y"));
        assert_eq!(
            map.pointer_at(map.key_span("/x/y").unwrap()).as_deref(),
            Some("/x/y")
        );
        assert_eq!(map.pointer_at(Span::new(0, 1)).as_deref(), Some(""));
    }
}
