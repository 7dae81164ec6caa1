//! Equalities of one text field in one chain, merged into one `in`: in an `or` chain,
//! `f == "a" or f == "b"` is `f in ["a", "b"]`; in an `and` chain, `f != "a" and
//! f != "b"` is `not (f in ["a", "b"])`. Both are false on null and on a value that is
//! no text, as each equality is, so the merge never changes an answer; it saves one
//! dispatch and one read of the slot per merged clause.

use std::collections::HashMap;

use super::fast::{Fast, INLINE_ITEMS};
use super::members::ShortKey;

/// A chain after [`merge_equalities`].
pub(super) struct Merged {
    /// The chain's clauses: each merged group at the place of its first equality, the
    /// others in their order.
    pub items: Vec<Fast>,
    /// For each clause given, where it is answered alone (for explanations).
    pub places: Vec<Place>,
    /// Whether any two clauses were merged.
    pub merged_any: bool,
}

/// Where one clause of a chain is answered on its own after [`merge_equalities`].
pub(super) enum Place {
    /// By the `i`-th item of the merged chain.
    At(usize),
    /// By this equality, merged with others in the chain.
    Alone(Fast),
}

/// Merges the equalities of `items` (an `or` chain when `or`, else an `and` chain) that
/// test one text field, up to [`INLINE_ITEMS`] different texts per clause; repeated texts
/// are kept once.
pub(super) fn merge_equalities(items: Vec<Fast>, or: bool) -> Merged {
    let mut out: Vec<Fast> = Vec::with_capacity(items.len());
    // For each clause given: (its item in `out`, the equality it was, if merged).
    let mut at: Vec<(usize, Option<Fast>)> = Vec::with_capacity(items.len());
    // Per slot, the item of `out` whose list still has room.
    let mut open: HashMap<usize, usize> = HashMap::new();
    for item in items {
        let Fast::TextEq { slot, key, negate } = item else {
            at.push((out.len(), None));
            out.push(item);
            continue;
        };
        // `==` in an `or` chain, `!=` in an `and` chain.
        if negate == or {
            at.push((out.len(), None));
            out.push(item);
            continue;
        }
        let alone = Fast::TextEq { slot, key, negate };
        if let Some(&j) = open.get(&slot)
            && let Fast::TextIn { keys, .. } = &mut out[j]
        {
            if !keys.contains(&key) {
                if let Some(free) = keys.iter_mut().find(|k| k.is_none()) {
                    *free = key;
                }
                if !keys.iter().any(ShortKey::is_none) {
                    open.remove(&slot);
                }
            }
            at.push((j, Some(alone)));
            continue;
        }
        let mut keys = [ShortKey::NONE; INLINE_ITEMS];
        keys[0] = key;
        open.insert(slot, out.len());
        at.push((out.len(), Some(alone)));
        out.push(Fast::TextIn { slot, keys, negate });
    }
    // A group of one text stays an equality (its compare is cheaper than a list's).
    let lone: Vec<bool> = out
        .iter()
        .map(|f| matches!(f, Fast::TextIn { keys, .. } if keys[1].is_none()))
        .collect();
    let mut merged_any = false;
    let places = at
        .into_iter()
        .map(|(j, alone)| match alone {
            Some(eq) if !lone[j] => {
                merged_any = true;
                Place::Alone(eq)
            }
            _ => Place::At(j),
        })
        .collect();
    let items = out
        .into_iter()
        .map(|f| match f {
            Fast::TextIn { slot, keys, negate } if keys[1].is_none() => Fast::TextEq {
                slot,
                key: keys[0],
                negate,
            },
            other => other,
        })
        .collect();
    Merged {
        items,
        places,
        merged_any,
    }
}
