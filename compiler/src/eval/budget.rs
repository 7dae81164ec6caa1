//! Output caps for values computed from records: a template such as `{{ subject }}`
//! written 400 times over a 500 KB field would render 200 MB. A [`Budget`] travels with
//! the evaluation so that template rendering stops as soon as the cap is passed (nothing
//! that large is ever built), and [`fits`] measures the finished value without copying it.
//!
//! Never used for conditions: they yield a bool and build no text.

use std::cell::Cell;

use crate::value::Value;

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
