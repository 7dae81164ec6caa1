//! Output caps for values computed from records: a template such as `{{ subject }}`
//! written 400 times over a 500 KB field would render 200 MB. A [`Budget`] travels with
//! the evaluation so that template rendering stops as soon as the cap is passed (nothing
//! that large is ever built), and [`fits`] measures the finished value without copying it.
//!
//! Conditions carry no budget (they yield a bool), but the text they build is capped
//! too: a string made by a template (or `+`) longer than [`MAX_BUILT_TEXT_BYTES`] is null
//! there (both evaluators), checked as it is built, so `"{{ subject }}"` written 2,000
//! times over a 500 KB field stops after about the cap instead of rendering 1 GB.

use std::cell::Cell;

use crate::value::Value;

/// Bytes of one string built by `+` or a template where no param budget applies
/// (conditions, guards): past it the value is null. Far above any text a condition
/// compares, and at least a record's largest field (the API's 1 MiB body limit).
pub const MAX_BUILT_TEXT_BYTES: usize = 1 << 20;

/// Rendered template bytes still allowed in one evaluation; set `exceeded` once passed.
pub(crate) struct Budget {
    remaining: Cell<usize>,
    exceeded: Cell<bool>,
}

impl Budget {
    pub(crate) fn new(max_bytes: usize) -> Budget {
        Budget {
            remaining: Cell::new(max_bytes),
            exceeded: Cell::new(false),
        }
    }

    /// Whether a text of `len` bytes would pass the cap (and records that it did).
    #[inline]
    pub(crate) fn over(&self, len: usize) -> bool {
        let over = len > self.remaining.get();
        if over {
            self.exceeded.set(true);
        }
        over
    }

    /// Counts `len` bytes of finished text against the cap.
    #[inline]
    pub(crate) fn spend(&self, len: usize) {
        self.remaining.set(self.remaining.get().saturating_sub(len));
    }

    pub(crate) fn exceeded(&self) -> bool {
        self.exceeded.get()
    }
}

/// A value past its output cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the value is larger than {max_bytes} bytes")]
pub struct TooLarge {
    pub max_bytes: usize,
}

/// Whether `v`, as JSON, takes at most about `max_bytes` (string bytes plus a few bytes
/// per item). Stops counting as soon as the cap is passed; shared strings count once per
/// appearance, as they would in the JSON.
pub fn fits(v: &Value, max_bytes: usize) -> bool {
    let mut left = max_bytes;
    count(v, &mut left)
}

fn count(v: &Value, left: &mut usize) -> bool {
    let take = |left: &mut usize, n: usize| match left.checked_sub(n) {
        Some(rest) => {
            *left = rest;
            true
        }
        None => false,
    };
    match v {
        Value::String(s) => take(left, s.len() + 2),
        Value::List(items) => {
            take(left, 2) && items.iter().all(|x| take(left, 1) && count(x, left))
        }
        Value::Object(entries) => {
            take(left, 2)
                && entries
                    .iter()
                    .all(|(k, x)| take(left, k.len() + 4) && count(x, left))
        }
        _ => take(left, 8),
    }
}
