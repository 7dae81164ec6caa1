//! Comments attached to the lines of the canonical `.auto` text.
//!
//! `pipeline::comments` decides where each comment of the source goes; the DSL printer
//! writes them. A line is named by an [`Anchor`]: the offset where its automation or step
//! starts in the source, which is unique within one file.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// A printed line that comments can sit above (leading) or after (trailing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// The `when` line of the automation starting at this offset.
    When(u32),
    /// The `if` line of the automation starting at this offset.
    If(u32),
    /// The `do {` line of the automation starting at this offset.
    Do(u32),
    /// The (first) line of the step starting at this offset.
    Step(u32),
    /// The end of the `do` block of the automation at this offset (leading only).
    DoEnd(u32),
    /// The end of the `then` block of the `if` step at this offset (leading only).
    ThenEnd(u32),
    /// The end of the `else` block of the `if` step at this offset (leading only).
    ElseEnd(u32),
}

/// Comment texts by the line they go with, in source order.
#[derive(Debug, Default)]
pub struct Attached {
    leading: HashMap<Anchor, Vec<String>>,
    trailing: HashMap<Anchor, String>,
}

impl Attached {
    /// Puts `comment` on a line of its own above `anchor`'s line.
    pub fn lead(&mut self, anchor: Anchor, comment: &str) {
        self.leading
            .entry(anchor)
            .or_default()
            .push(comment.to_string());
    }

    /// Puts `comment` at the end of `anchor`'s line; a line holds one, so a second one goes
    /// above the line instead.
    pub fn trail(&mut self, anchor: Anchor, comment: &str) {
        match self.trailing.entry(anchor) {
            Entry::Vacant(slot) => {
                slot.insert(comment.to_string());
            }
            Entry::Occupied(_) => self.lead(anchor, comment),
        }
    }

    pub fn leading(&self, anchor: Anchor) -> &[String] {
        self.leading.get(&anchor).map_or(&[], Vec::as_slice)
    }

    pub fn trailing(&self, anchor: Anchor) -> Option<&str> {
        self.trailing.get(&anchor).map(String::as_str)
    }

    /// How many comments are attached, leading and trailing.
    pub fn len(&self) -> usize {
        self.leading.values().map(Vec::len).sum::<usize>() + self.trailing.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
