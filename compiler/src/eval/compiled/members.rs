//! Constant sets for `in` lists and short string keys compared as machine words.

use std::sync::Arc;

use super::Pred;
use crate::eval::ops;
use crate::value::Value;

/// A string of at most 16 bytes as (length, two words). Two strings of equal length up
/// to 16 bytes are equal exactly when their words are: the words cover every byte
/// (overlapping when shorter than 16), see [`ShortKey::words`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct ShortKey {
    len: usize,
    words: (u64, u64),
}

impl ShortKey {
    /// A key no string matches (its length is none a string has).
    pub(super) const NONE: ShortKey = ShortKey {
        len: usize::MAX,
        words: (0, 0),
    };

    pub(super) fn of(bytes: &[u8]) -> ShortKey {
        ShortKey {
            len: bytes.len(),
            words: ShortKey::words(bytes),
        }
    }

    /// For `n` in 8..=16: first and last 8 bytes; 4..8: first and last 4; 1..4: first,
    /// middle and last byte (which is every byte). Only meaningful for `n <= 16`.
    #[inline(always)]
    fn words(b: &[u8]) -> (u64, u64) {
        let n = b.len();
        if n >= 8 {
            let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
            let hi = u64::from_le_bytes(b[n - 8..].try_into().unwrap_or([0; 8]));
            (lo, hi)
        } else if n >= 4 {
            let lo = u32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4]));
            let hi = u32::from_le_bytes(b[n - 4..].try_into().unwrap_or([0; 4]));
            (lo as u64, hi as u64)
        } else if n > 0 {
            (
                b[0] as u64 | (b[n / 2] as u64) << 8 | (b[n - 1] as u64) << 16,
                0,
            )
        } else {
            (0, 0)
        }
    }

    #[inline(always)]
    pub(super) fn matches(&self, s: &[u8]) -> bool {
        s.len() == self.len && ShortKey::words(s) == self.words
    }

    /// Whether this is [`ShortKey::NONE`].
    pub(super) fn is_none(&self) -> bool {
        self.len == usize::MAX
    }

    /// Whether `s` starts with this key's text.
    #[inline(always)]
    pub(super) fn starts(&self, s: &[u8]) -> bool {
        s.len() >= self.len && ShortKey::words(&s[..self.len]) == self.words
    }

    /// Whether `s` ends with this key's text.
    #[inline(always)]
    pub(super) fn ends(&self, s: &[u8]) -> bool {
        s.len() >= self.len && ShortKey::words(&s[s.len() - self.len..]) == self.words
    }
}

/// `slot in [consts]`, looked up in a [`Members`] set; lists of one to four short
/// strings or numbers (the common `priority in ["high", "critical"]`) get a closure
/// holding the items inline, unrolled by their count.
pub(super) fn slot_in(i: usize, items: &Arc<[Value]>) -> Pred {
    match Members::new(items) {
        Members::ShortStrings(keys) => match *keys {
            [a] => strings_in(i, [a]),
            [a, b] => strings_in(i, [a, b]),
            [a, b, c] => strings_in(i, [a, b, c]),
            [a, b, c, d] => strings_in(i, [a, b, c, d]),
            _ => Box::new(|_| false),
        },
        Members::FewNumbers(numbers) => match *numbers {
            [a] => numbers_in(i, [a]),
            [a, b] => numbers_in(i, [a, b]),
            [a, b, c] => numbers_in(i, [a, b, c]),
            [a, b, c, d] => numbers_in(i, [a, b, c, d]),
            _ => Box::new(|_| false),
        },
        members => Box::new(move |env| members.contains(env.slot(i))),
    }
}

/// `slot in [N short strings]`: the keys live in the closure, compared length first.
fn strings_in<const N: usize>(i: usize, keys: [ShortKey; N]) -> Pred {
    Box::new(move |env| match env.slot(i) {
        Value::String(s) => {
            let s = s.as_bytes();
            keys.iter().any(|k| k.matches(s))
        }
        _ => false,
    })
}

/// `slot in [N numbers]`, with `==`'s rules (NaN is in no list, -0 equals 0).
fn numbers_in<const N: usize>(i: usize, numbers: [f64; N]) -> Pred {
    Box::new(move |env| match env.slot(i) {
        Value::Number(n) => numbers.iter().any(|m| m == n),
        _ => false,
    })
}

/// The constant items of an `in` list, as a set: strings and numbers sorted for a binary
/// search (a list of thousands of ids costs a few comparisons, not a scan); short lists
/// of one kind scanned by that kind's equality; mixed lists scanned with `==`'s rules.
pub(super) enum Members {
    Strings(Box<[Arc<str>]>),
    Numbers(Box<[f64]>),
    /// A short list of strings of at most 16 bytes each: compared as [`ShortKey`]s (no
    /// pointer to follow, no generic `==`).
    ShortStrings(Box<[ShortKey]>),
    /// A short list of strings, some longer: compared as bytes.
    FewStrings(Box<[Arc<str>]>),
    /// A short list of numbers: compared with `==`.
    FewNumbers(Box<[f64]>),
    Scan(Arc<[Value]>),
}

/// Lists up to this long are scanned; longer ones searched.
const SHORT_LIST: usize = 4;

impl Members {
    pub(super) fn new(items: &Arc<[Value]>) -> Members {
        if items.len() <= SHORT_LIST {
            return Members::short(items);
        }
        let strings: Option<Vec<Arc<str>>> = items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        if let Some(mut set) = strings {
            set.sort();
            set.dedup();
            return Members::Strings(set.into_boxed_slice());
        }
        // NaN equals nothing under `==`, so it is left out of the set.
        let numbers: Option<Vec<f64>> = items
            .iter()
            .map(|v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        if let Some(mut set) = numbers {
            set.retain(|n| !n.is_nan());
            set.sort_by(f64::total_cmp);
            return Members::Numbers(set.into_boxed_slice());
        }
        Members::Scan(items.clone())
    }

    /// A list of at most [`SHORT_LIST`] items, by the kind its items share.
    fn short(items: &Arc<[Value]>) -> Members {
        let strings: Option<Vec<Arc<str>>> = items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        if let Some(strings) = strings {
            if strings.iter().all(|s| s.len() <= 16) {
                let keys = strings.iter().map(|s| ShortKey::of(s.as_bytes())).collect();
                return Members::ShortStrings(keys);
            }
            return Members::FewStrings(strings.into_boxed_slice());
        }
        let numbers: Option<Box<[f64]>> = items
            .iter()
            .map(|v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            })
            .collect();
        match numbers {
            Some(numbers) => Members::FewNumbers(numbers),
            None => Members::Scan(items.clone()),
        }
    }

    #[inline]
    pub(super) fn contains(&self, x: &Value) -> bool {
        match (self, x) {
            (Members::Strings(set), Value::String(s)) => {
                set.binary_search_by(|m| (**m).cmp(&**s)).is_ok()
            }
            (Members::Numbers(set), Value::Number(n)) => {
                // -0.0 == 0.0 under `==`, but total_cmp orders them apart: look both up.
                let n = if *n == 0.0 { 0.0 } else { *n };
                let found = |k: f64| set.binary_search_by(|m| m.total_cmp(&k)).is_ok();
                found(n) || (n == 0.0 && found(-0.0))
            }
            (Members::ShortStrings(keys), Value::String(s)) => {
                keys.iter().any(|k| k.matches(s.as_bytes()))
            }
            (Members::FewStrings(set), Value::String(s)) => {
                set.iter().any(|m| m.as_bytes() == s.as_bytes())
            }
            (Members::FewNumbers(set), Value::Number(n)) => set.iter().any(|m| m == n),
            (Members::Scan(items), x) => items.iter().any(|item| ops::same(x, item)),
            _ => false,
        }
    }
}
