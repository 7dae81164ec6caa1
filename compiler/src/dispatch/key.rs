//! Index keys: the scalar constants an equality index is keyed on, and a fast hash that
//! gives a slot [`Value`] and a [`Key`] the same hash exactly when they are equal under
//! the `==` of the condition language (kinds must agree, null equals null, `0 == -0`).
//!
//! Keys must never be built from lists, objects or NaN: those are left to the evaluator.

use std::sync::Arc;

use crate::value::Value;

use super::fill::Probed;

/// A scalar constant of an indexed predicate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    Null,
    Bool(bool),
    /// The bits of a non-NaN f64, with `-0.0` stored as `0.0` (they are `==`).
    Number(u64),
    String(Arc<str>),
    DateTime(i64),
    Duration(i64),
}

impl Key {
    /// The key of a constant, or `None` when the constant is not a hashable scalar.
    pub(crate) fn of(v: &Value) -> Option<Key> {
        Some(match v {
            Value::Null => Key::Null,
            Value::Bool(b) => Key::Bool(*b),
            Value::Number(n) if n.is_nan() => return None,
            Value::Number(n) => Key::Number(number_bits(*n)),
            Value::String(s) => Key::String(s.clone()),
            Value::DateTime(t) => Key::DateTime(*t),
            Value::Duration(d) => Key::Duration(*d),
            Value::List(_) | Value::Object(_) => return None,
        })
    }

    /// Whether a slot value `==` this constant (the evaluators' equality on scalars).
    #[inline]
    pub(crate) fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Key::Null, Value::Null) => true,
            (Key::Bool(a), Value::Bool(b)) => a == b,
            (Key::Number(a), Value::Number(b)) => !b.is_nan() && *a == number_bits(*b),
            (Key::String(a), Value::String(b)) => a.as_bytes() == b.as_bytes(),
            (Key::DateTime(a), Value::DateTime(b)) => a == b,
            (Key::Duration(a), Value::Duration(b)) => a == b,
            _ => false,
        }
    }

    /// [`Self::matches`] for a probed slot.
    #[inline]
    pub(crate) fn matches_probed(&self, v: &Probed) -> bool {
        match (self, v) {
            (Key::String(a), Probed::Text(b)) => a.as_bytes() == b.as_bytes(),
            (_, Probed::Text(_)) => false,
            (_, Probed::Value(v)) => self.matches(v),
        }
    }

    /// Feeds the key into `h`; equal to [`hash_value`] of every value it matches.
    pub(crate) fn hash_into(&self, h: &mut FxHasher) {
        match self {
            Key::Null => h.add(0),
            Key::Bool(b) => h.add(1 + *b as u64),
            Key::Number(bits) => {
                h.add(3);
                h.add(*bits);
            }
            Key::String(s) => {
                h.add(4);
                h.add_bytes(s.as_bytes());
            }
            Key::DateTime(t) => {
                h.add(5);
                h.add(*t as u64);
            }
            Key::Duration(d) => {
                h.add(6);
                h.add(*d as u64);
            }
        }
    }
}

/// Feeds a slot value into `h` so that it hashes like the [`Key`] it matches. Lists and
/// objects (which match no key) get a tag of their own.
#[inline]
pub(crate) fn hash_value(v: &Value, h: &mut FxHasher) {
    match v {
        Value::Null => h.add(0),
        Value::Bool(b) => h.add(1 + *b as u64),
        Value::Number(n) => {
            h.add(3);
            h.add(number_bits(*n));
        }
        Value::String(s) => {
            h.add(4);
            h.add_bytes(s.as_bytes());
        }
        Value::DateTime(t) => {
            h.add(5);
            h.add(*t as u64);
        }
        Value::Duration(d) => {
            h.add(6);
            h.add(*d as u64);
        }
        Value::List(_) | Value::Object(_) => h.add(7),
    }
}

/// [`hash_value`] of the slot value a probed slot stands for.
#[inline]
pub(crate) fn hash_probed(v: &Probed, h: &mut FxHasher) {
    match v {
        Probed::Text(s) => {
            h.add(4);
            h.add_bytes(s.as_bytes());
        }
        Probed::Value(v) => hash_value(v, h),
    }
}

#[inline]
fn number_bits(n: f64) -> u64 {
    // `-0.0 == 0.0`, so both must hash alike.
    if n == 0.0 { 0 } else { n.to_bits() }
}

/// The Fx hash (multiply-rotate, as in rustc): tiny and fast for the few short keys of a
/// probe. Not DoS-resistant, which is fine: keys are automation constants, chosen by
/// workspace admins, and a collision only costs a comparison.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    pub(crate) fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }

    #[inline]
    pub(crate) fn add_bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        // The length is mixed in so that "a" and "a\0" differ.
        self.add(u64::from_le_bytes(last) ^ ((bytes.len() as u64) << 56));
    }

    #[inline]
    pub(crate) fn finish(&self) -> u64 {
        self.hash
    }
}

/// For the event-type map: a few short strings chosen by automation authors, where
/// SipHash's DoS resistance buys nothing (a collision only costs a comparison) and costs
/// a few hundred instructions per event.
impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.hash
    }
    fn write(&mut self, bytes: &[u8]) {
        self.add_bytes(bytes);
    }
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_of_value(v: &Value) -> u64 {
        let mut h = FxHasher::default();
        hash_value(v, &mut h);
        h.finish()
    }

    fn hash_of_key(k: &Key) -> u64 {
        let mut h = FxHasher::default();
        k.hash_into(&mut h);
        h.finish()
    }

    #[test]
    fn keys_hash_like_the_values_they_match() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Number(0.0),
            Value::Number(-0.0),
            Value::Number(2.5),
            Value::String(Arc::from("")),
            Value::String(Arc::from("Closed Won")),
            Value::String(Arc::from("exactly8")),
            Value::DateTime(5),
            Value::Duration(5),
        ];
        for c in &values {
            let k = Key::of(c).unwrap();
            for v in &values {
                let same = k.matches(v);
                if same {
                    assert_eq!(hash_of_key(&k), hash_of_value(v), "{c:?} vs {v:?}");
                }
            }
            assert!(k.matches(c));
        }
        assert!(
            Key::of(&Value::Number(-0.0))
                .unwrap()
                .matches(&Value::Number(0.0))
        );
        assert!(
            !Key::of(&Value::Number(5.0))
                .unwrap()
                .matches(&Value::DateTime(5))
        );
        assert_eq!(Key::of(&Value::Number(f64::NAN)), None);
    }

    #[test]
    fn a_borrowed_text_hashes_and_matches_like_its_string_value() {
        for text in ["", "user-7", "exactly8", "a longer owner id of 24"] {
            let value = Value::String(Arc::from(text));
            let mut h = FxHasher::default();
            hash_probed(&Probed::Text(text), &mut h);
            assert_eq!(h.finish(), hash_of_value(&value));
            let key = Key::of(&value).unwrap();
            assert!(key.matches_probed(&Probed::Text(text)));
            assert!(key.matches_probed(&Probed::Value(&value)));
            assert!(!key.matches_probed(&Probed::Text("other")));
            assert!(!Key::Null.matches_probed(&Probed::Text(text)));
        }
    }
}
