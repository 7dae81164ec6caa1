//! Lazy slot filling for one event: a slot is read from the record the first time an
//! index probe or a candidate condition needs it, and at most once per event. Related
//! records fetched for reference hops are cached for the event, so `account.tier` and
//! `account.industry` cost one resolver call between them.
//!
//! This module only reads values; it must never decide whether a condition holds.

use std::cell::RefCell;

use serde_json::Value as Json;

use crate::eval::context::read_field;
use crate::eval::{EvalInput, Resolver, SlotLayout};
use crate::value::Value;

/// The slot array of one event over one layout, filled on demand.
pub(crate) struct LazySlots<'l> {
    layout: &'l SlotLayout,
    values: Vec<Value>,
    filled: Vec<bool>,
}

impl<'l> LazySlots<'l> {
    pub(crate) fn new(layout: &'l SlotLayout) -> Self {
        LazySlots {
            layout,
            values: vec![Value::Null; layout.len()],
            filled: vec![false; layout.len()],
        }
    }

    /// Reads slot `i` from the inputs unless it was read already.
    #[inline]
    pub(crate) fn ensure(&mut self, i: usize, input: &EvalInput) {
        if self.filled[i] {
            return;
        }
        let field = &self.layout.fields()[i];
        let ty = &self.layout.types()[i];
        self.values[i] = read_field(input, self.layout.references(), field, ty);
        self.filled[i] = true;
    }

    /// Reads every slot in `slots` that was not read yet.
    #[inline]
    pub(crate) fn ensure_all(&mut self, slots: &[u32], input: &EvalInput) {
        for &i in slots {
            self.ensure(i as usize, input);
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> &Value {
        &self.values[i]
    }

    /// The slot array (slots never read are null; no condition looks at them).
    #[inline]
    pub(crate) fn values(&self) -> &[Value] {
        &self.values
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
