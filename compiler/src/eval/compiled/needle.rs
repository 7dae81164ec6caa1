//! `field contains "text"` with the text known at compile time: a substring search that
//! costs little on the short texts records mostly hold (subjects, names, e-mails), and
//! the precompiled SIMD searcher on long ones.

use std::sync::Arc;

use memchr::memmem::Finder;

use crate::eval::ops;
use crate::value::Value;

/// Haystacks up to this many bytes are scanned in a plain loop: the searcher's own setup
/// per call (its prefilter, a Rabin-Karp hash) costs more than the whole scan there.
const SHORT_HAYSTACK: usize = 32;

/// The constant needle of a `contains`, compiled once.
pub(crate) struct Needle {
    /// The needle as a value: a list field holds it when one item is this string.
    value: Value,
    finder: Finder<'static>,
    /// `not (.. contains ..)`.
    negate: bool,
}

impl Needle {
    pub(super) fn new(text: &Arc<str>) -> Needle {
        Needle {
            value: Value::String(text.clone()),
            finder: Finder::new(text.as_bytes()).into_owned(),
            negate: false,
        }
    }

    pub(super) fn negated(mut self) -> Needle {
        self.negate = !self.negate;
        self
    }

    /// Whether `v contains` the needle (as [`ops::contains`] answers), negated if so
    /// compiled. Out of line: the clause match calls it last, as a tail call.
    #[inline(never)]
    pub(super) fn holds(&self, v: &Value) -> bool {
        let found = match v {
            Value::String(hay) => self.in_text(hay.as_bytes()),
            Value::List(items) => items.iter().any(|item| ops::same(item, &self.value)),
            _ => false,
        };
        found != self.negate
    }

    fn in_text(&self, hay: &[u8]) -> bool {
        let needle = self.finder.needle();
        let (Some(&first), Some(&last)) = (needle.first(), needle.last()) else {
            // The empty text is in every text.
            return true;
        };
        if hay.len() > SHORT_HAYSTACK {
            return self.finder.find(hay).is_some();
        }
        // A byte-wise search on UTF-8 finds exactly the substrings `str::contains` finds.
        // (A `memchr` per candidate costs more than this loop on texts this short.)
        hay.windows(needle.len())
            .any(|w| w.first() == Some(&first) && w.last() == Some(&last) && w == needle)
    }
}
