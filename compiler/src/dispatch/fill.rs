//! Lazy slot filling for one event: a slot is read from the record the first time an
//! index probe or a candidate condition needs it, and at most once per event. Related
//! records fetched for reference hops are cached for the event, so `account.tier` and
//! `account.industry` cost one resolver call between them.
//!
//! Two shortcuts keep a probe cheap (a probe only hashes and compares):
//! - a text read of a JSON string (owner ids, account ids, picklists: most probes) stays
//!   borrowed from the record ([`Probed::Text`]) and becomes a slot value only when a
//!   candidate's condition reads it;
//! - the fields of the record (and of the previous record) are found by one pass over
//!   the record's entries when it has few fields for what the layout reads, instead of a
//!   map lookup each (the server's JSON maps hash keys with SipHash).
//!
//! This module only reads values; it must never decide whether a condition holds.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use serde_json::Value as Json;

use super::key::FxHasher;
use crate::eval::context::{ReadKind, read_field};
use crate::eval::convert::json_to_value;
use crate::eval::{EvalInput, Resolver, SlotLayout};
use crate::typed::Root;
use crate::value::Value;

/// A record is scanned in one pass when it has at most this many entries per field name
/// the layout reads from it: a lookup costs several times what a scanned entry costs.
const SCAN_FACTOR: usize = 2;

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Where a slot is read from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// A field of the record: `status`.
    Record,
    /// A field of the previous record: `previous.status`.
    Previous,
    /// Anything else (hops, nested paths, `event.*`, `now()` ...): `read_field`.
    Other,
}

/// The top-level record fields of a layout by name, built with the index.
pub(crate) struct TopFields {
    side: Box<[Side]>,
    /// Per slot: read as text or untyped, so a JSON string converts to itself.
    text: Box<[bool]>,
    record: FxMap<Box<str>, Vec<u32>>,
    previous: FxMap<Box<str>, Vec<u32>>,
}

impl TopFields {
    pub(crate) fn of(layout: &SlotLayout) -> Self {
        let mut top = TopFields {
            side: Box::default(),
            text: layout
                .types()
                .iter()
                .map(|ty| matches!(ReadKind::of(ty), ReadKind::Text | ReadKind::Any))
                .collect(),
            record: FxMap::default(),
            previous: FxMap::default(),
        };
        let side = layout
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (side, names) = match (&f.root, f.path.as_slice()) {
                    (Root::Record, [name]) => (Side::Record, (&mut top.record, name)),
                    (Root::Previous, [name]) => (Side::Previous, (&mut top.previous, name)),
                    _ => return Side::Other,
                };
                let (map, name) = names;
                map.entry(name.as_str().into()).or_default().push(i as u32);
                side
            })
            .collect();
        top.side = side;
        top
    }
}

/// How far one slot has been read.
#[derive(Clone, Copy)]
enum State<'a> {
    Unread,
    /// The slot's JSON was found (`None`: missing), not converted yet.
    Located(Option<&'a Json>),
    /// A text read of a JSON string, borrowed; `values` holds null until converted.
    Text(&'a str),
    /// `values` holds the slot's value.
    Read,
}

/// A slot as an index probe sees it: equal to the slot value it stands for under `==`.
pub(crate) enum Probed<'s> {
    Text(&'s str),
    Value(&'s Value),
}

/// The slot array of one event over one layout, filled on demand.
pub(crate) struct LazySlots<'l, 'a> {
    layout: &'l SlotLayout,
    top: &'l TopFields,
    values: Vec<Value>,
    state: Vec<State<'a>>,
    /// Whether the record / the previous record has been scanned.
    scanned: [bool; 2],
}

impl<'l, 'a> LazySlots<'l, 'a> {
    pub(crate) fn new(layout: &'l SlotLayout, top: &'l TopFields) -> Self {
        LazySlots {
            layout,
            top,
            values: vec![Value::Null; layout.len()],
            state: vec![State::Unread; layout.len()],
            scanned: [false; 2],
        }
    }

    /// Makes slot `i` readable by [`Self::probed`]: a text read of a JSON string of the
    /// record (or the previous record) is borrowed, anything else converted.
    #[inline]
    pub(crate) fn prepare(&mut self, i: usize, input: &EvalInput<'a>) {
        if matches!(self.state[i], State::Unread) {
            self.locate(i, input);
        }
        if let State::Located(json) = self.state[i] {
            // A JSON string read as text or untyped converts to that string: borrow it.
            if let Some(Json::String(s)) = json
                && self.top.text[i]
            {
                self.state[i] = State::Text(s);
                return;
            }
            let ty = &self.layout.types()[i];
            self.values[i] = json.map_or(Value::Null, |j| json_to_value(j, ty));
            self.state[i] = State::Read;
        }
    }

    /// Makes slot `i` readable by [`Self::values`] (a borrowed text is converted).
    #[inline]
    pub(crate) fn ensure(&mut self, i: usize, input: &EvalInput<'a>) {
        if matches!(self.state[i], State::Read) {
            return;
        }
        self.prepare(i, input);
        if let State::Text(s) = self.state[i] {
            self.values[i] = Value::String(Arc::from(s));
            self.state[i] = State::Read;
        }
    }

    /// Reads every slot in `slots` that was not read yet.
    #[inline]
    pub(crate) fn ensure_all(&mut self, slots: &[u32], input: &EvalInput<'a>) {
        for &i in slots {
            self.ensure(i as usize, input);
        }
    }

    /// Slot `i` after [`Self::prepare`] or [`Self::ensure`].
    #[inline]
    pub(crate) fn probed(&self, i: usize) -> Probed<'_> {
        match self.state[i] {
            State::Text(s) => Probed::Text(s),
            _ => Probed::Value(&self.values[i]),
        }
    }

    /// Slot `i` after [`Self::ensure`].
    #[inline]
    pub(crate) fn get(&self, i: usize) -> &Value {
        &self.values[i]
    }

    /// The slot array (slots never ensured are null; no condition looks at them).
    #[inline]
    pub(crate) fn values(&self) -> &[Value] {
        &self.values
    }

    /// Finds slot `i`'s JSON (`Located`), or reads it outright when it is not a field of
    /// the record or the previous record (`Read`). A top-level field is found with one
    /// map lookup (what `read_field` does for it) or by a scan of its record.
    fn locate(&mut self, i: usize, input: &EvalInput<'a>) {
        let side = self.top.side[i];
        let (record, names, at) = match side {
            Side::Record => (Some(input.record), &self.top.record, 0),
            Side::Previous => (input.previous, &self.top.previous, 1),
            Side::Other => {
                let field = &self.layout.fields()[i];
                let ty = &self.layout.types()[i];
                self.values[i] = read_field(input, self.layout.references(), field, ty);
                self.state[i] = State::Read;
                return;
            }
        };
        let map = record.and_then(Json::as_object);
        if !self.scanned[at]
            && let Some(map) = map
            && map.len() <= SCAN_FACTOR * names.len()
        {
            self.scanned[at] = true;
            for (name, json) in map {
                for &s in names.get(name.as_str()).into_iter().flatten() {
                    if matches!(self.state[s as usize], State::Unread) {
                        self.state[s as usize] = State::Located(Some(json));
                    }
                }
            }
        }
        if !matches!(self.state[i], State::Unread) {
            return;
        }
        let json = if self.scanned[at] {
            None
        } else {
            let name = self.layout.fields()[i].path.first();
            map.zip(name).and_then(|(m, name)| m.get(name))
        };
        self.state[i] = State::Located(json);
    }
}

/// Wraps the caller's resolver so each related record is fetched once per event.
pub(crate) struct CachingResolver<'r> {
    inner: &'r dyn Resolver,
    fetched: RefCell<Vec<(String, String, Option<Json>)>>,
}

impl<'r> CachingResolver<'r> {
    pub(crate) fn new(inner: &'r dyn Resolver) -> Self {
        CachingResolver {
            inner,
            fetched: RefCell::new(Vec::new()),
        }
    }
}

impl Resolver for CachingResolver<'_> {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        if let Some((_, _, hit)) = self
            .fetched
            .borrow()
            .iter()
            .find(|(o, i, _)| o == object && i == id)
        {
            return hit.clone();
        }
        let got = self.inner.related(object, id);
        self.fetched
            .borrow_mut()
            .push((object.to_owned(), id.to_owned(), got.clone()));
        got
    }
}
