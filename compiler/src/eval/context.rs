//! Evaluation context: the inputs of one evaluation ([`EvalInput`]), the mapping of field
//! paths to slot indices ([`SlotLayout`]) and the once-per-event conversion of a record into
//! a slot array ([`fill_slots`]).
//!
//! Reference hops (`account.tier` on a case is `Record, ["account_id", "tier"]`) need the
//! name of the related object, which a [`FieldRef`] does not carry. The layout therefore
//! holds [`References`]: the object of the triggering record plus a [`ReferenceTargets`]
//! lookup (`(object, field) -> related object`), implemented by the schema or, without
//! one, by the naming convention of the built-in CRM schema ([`NamingConvention`]).
//! `FieldRef` itself is unchanged.
//!
//! This module converts values; it must never decide the meaning of an operator.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::convert::json_to_value;
use crate::typed::{FieldRef, Root, Type};
use crate::value::Value;

/// Follows references to related records (`account.tier` on a case reads the account).
pub trait Resolver {
    /// The related record `object` with `id`, as JSON, or `None` when it does not exist.
    fn related(&self, object: &str, id: &str) -> Option<Json>;
}

/// A resolver that knows no related records (the offline `eval` CLI): every hop is null.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoResolver;

impl Resolver for NoResolver {
    fn related(&self, _object: &str, _id: &str) -> Option<Json> {
        None
    }
}

/// Everything one evaluation reads.
#[derive(Clone, Copy)]
pub struct EvalInput<'a> {
    /// The triggering record (after the change).
    pub record: &'a Json,
    /// The record before the change; `None` on create (then `changed(..)` is false).
    pub previous: Option<&'a Json>,
    /// The event envelope and payload (`event.*`).
    pub event: Option<&'a Json>,
    /// Step outputs by step id (`steps.<id>.output.*`).
    pub steps: Option<&'a serde_json::Map<String, Json>>,
    /// The evaluation clock, milliseconds since the epoch (`now()`, `today()`).
    pub now_ms: i64,
    pub resolver: &'a dyn Resolver,
}

impl<'a> EvalInput<'a> {
    /// A record alone: no previous record, event or steps, and no related records.
    pub fn record(record: &'a Json, now_ms: i64) -> Self {
        EvalInput {
            record,
            previous: None,
            event: None,
            steps: None,
            now_ms,
            resolver: &NoResolver,
        }
    }
}

/// Names the object a reference field points to (`case.account_id` -> `account`).
pub trait ReferenceTargets: Send + Sync {
    /// `object` is `None` when the owning object is not known (a nested hop through a
    /// convention, or a layout built without a schema).
    fn target(&self, object: Option<&str>, field: &str) -> Option<String>;
}

/// The built-in CRM schema's convention: `owner_id`, `manager_id`, `assignee_id` point to
/// `user`; any other `x_id` points to `x`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NamingConvention;

impl ReferenceTargets for NamingConvention {
    fn target(&self, _object: Option<&str>, field: &str) -> Option<String> {
        match field {
            "owner_id" | "manager_id" | "assignee_id" => Some("user".into()),
            other => other.strip_suffix("_id").map(str::to_owned),
        }
    }
}

/// The triggering record's object and how its references are followed.
#[derive(Clone)]
pub struct References {
    object: Option<String>,
    targets: Arc<dyn ReferenceTargets>,
}

impl References {
    pub fn new(object: impl Into<String>, targets: Arc<dyn ReferenceTargets>) -> Self {
        References {
            object: Some(object.into()),
            targets,
        }
    }
    /// The built-in naming convention, for a record of `object` (if known).
    pub fn convention(object: Option<&str>) -> Self {
        References {
            object: object.map(str::to_owned),
            targets: Arc::new(NamingConvention),
        }
    }
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }
    fn target(&self, object: Option<&str>, field: &str) -> Option<String> {
        self.targets.target(object, field)
    }
}

impl Default for References {
    fn default() -> Self {
        References::convention(None)
    }
}

impl std::fmt::Debug for References {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("References")
            .field("object", &self.object)
            .finish_non_exhaustive()
    }
}

/// The field `Previous, []`: a bool slot telling whether a previous record exists, so that
/// `changed(..)` is false on create even when the field is null after the change too.
pub fn previous_exists() -> FieldRef {
    FieldRef {
        root: Root::Previous,
        path: Vec::new(),
    }
}

/// The field `Now, []`: the evaluation clock as a datetime.
pub fn now_field() -> FieldRef {
    FieldRef {
        root: Root::Now,
        path: Vec::new(),
    }
}

/// How a read converts a field's JSON value (`json_to_value`): reads whose types share a
/// kind convert every JSON value identically, reads of different kinds may not (a bare
/// `changed(f)` reads `f` untyped, `f > 5` as a number: `"10"` is a string to the first
/// and null to the second).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReadKind {
    Any,
    Bool,
    Number,
    Text,
    DateTime,
    Duration,
    List(Box<ReadKind>),
}

impl ReadKind {
    pub fn of(ty: &Type) -> ReadKind {
        match ty {
            Type::Null | Type::Any => ReadKind::Any,
            Type::Bool => ReadKind::Bool,
            Type::Number => ReadKind::Number,
            Type::String | Type::Picklist(_) | Type::Reference(_) => ReadKind::Text,
            Type::DateTime => ReadKind::DateTime,
            Type::Duration => ReadKind::Duration,
            Type::List(t) => ReadKind::List(Box::new(ReadKind::of(t))),
        }
    }
}

/// Maps field reads to slot indices. One layout is shared by every condition compiled for
/// an event type, so one slot array per event serves all of them. A slot is keyed by the
/// field AND the kind it is read as, so one field read as two kinds gets two slots, each
/// converted as the reference evaluator converts that read.
#[derive(Debug, Default, Clone)]
pub struct SlotLayout {
    fields: Vec<FieldRef>,
    types: Vec<Type>,
    index: HashMap<(FieldRef, ReadKind), usize>,
    references: References,
    /// (text slot, untyped slot) of fields read both as text and untyped (`changed(f)`
    /// and `f == "x"`): the text slot is taken from the untyped one when that holds a
    /// string or null (JSON strings and nulls convert alike for both), so the field is
    /// converted once.
    derived: Vec<(usize, usize)>,
    /// Per slot: whether it is the text slot of a pair in `derived`.
    is_derived: Vec<bool>,
}

impl SlotLayout {
    /// A layout following references by the built-in naming convention.
    pub fn new() -> Self {
        SlotLayout::default()
    }
    /// A layout for records described by `references` (object name and schema lookup).
    pub fn with_references(references: References) -> Self {
        SlotLayout {
            references,
            ..SlotLayout::default()
        }
    }
    /// The slot of `f` read without a declared type, added if new.
    pub fn slot(&mut self, f: &FieldRef) -> usize {
        self.slot_typed(f, &Type::Any)
    }
    /// The slot of `f` read as `ty`, added if new (one slot per field and read kind).
    pub fn slot_typed(&mut self, f: &FieldRef, ty: &Type) -> usize {
        let key = (f.clone(), ReadKind::of(ty));
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.fields.len();
        let kind = key.1.clone();
        self.fields.push(f.clone());
        self.types.push(ty.clone());
        self.is_derived.push(false);
        self.index.insert(key, i);
        let twin = |kind: ReadKind| self.index.get(&(f.clone(), kind)).copied();
        match kind {
            ReadKind::Text => {
                if let Some(any) = twin(ReadKind::Any) {
                    self.derived.push((i, any));
                    self.is_derived[i] = true;
                }
            }
            ReadKind::Any => {
                if let Some(text) = twin(ReadKind::Text) {
                    self.derived.push((text, i));
                    self.is_derived[text] = true;
                }
            }
            _ => {}
        }
        i
    }
    /// The first slot of `f` (in any kind) if it has one.
    pub fn get(&self, f: &FieldRef) -> Option<usize> {
        self.fields.iter().position(|x| x == f)
    }
    pub fn fields(&self) -> &[FieldRef] {
        &self.fields
    }
    pub fn types(&self) -> &[Type] {
        &self.types
    }
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
    pub fn references(&self) -> &References {
        &self.references
    }
}

/// Converts the inputs of one event into a slot array for `layout`.
pub fn fill_slots(layout: &SlotLayout, input: &EvalInput) -> Vec<Value> {
    let mut out = Vec::with_capacity(layout.len());
    fill_slots_into(layout, input, &mut out);
    out
}

/// [`fill_slots`] into a reused vector (cleared first).
pub fn fill_slots_into(layout: &SlotLayout, input: &EvalInput, out: &mut Vec<Value>) {
    out.clear();
    let mut hops = HopCache::default();
    let record = input.record.as_object();
    let previous = input.previous.and_then(Json::as_object);
    let read = |i: usize, hops: &mut HopCache| {
        let field = &layout.fields[i];
        // The common reads, a field of the record or of the previous record, straight from
        // its map (what `read_with` does for them, without its walk).
        let map = match (&field.root, field.path.as_slice()) {
            (Root::Record, [name]) => Some((record, name)),
            (Root::Previous, [name]) => Some((previous, name)),
            _ => None,
        };
        if let Some((map, name)) = map {
            return map
                .and_then(|map| map.get(name))
                .map_or(Value::Null, |j| json_to_value(j, &layout.types[i]));
        }
        read_with(input, &layout.references, field, &layout.types[i], hops)
    };
    if layout.derived.is_empty() {
        out.extend((0..layout.len()).map(|i| read(i, &mut hops)));
        return;
    }
    for (i, &derived) in layout.is_derived.iter().enumerate() {
        out.push(if derived {
            Value::Null
        } else {
            read(i, &mut hops)
        });
    }
    for &(text, any) in &layout.derived {
        out[text] = match &out[any] {
            Value::String(s) => Value::String(s.clone()),
            Value::Null => Value::Null,
            _ => read(text, &mut hops),
        };
    }
}

/// Reads one field straight from the inputs (the reference evaluator's path; no slots).
pub fn read_field(
    input: &EvalInput,
    references: &References,
    field: &FieldRef,
    ty: &Type,
) -> Value {
    read_with(input, references, field, ty, &mut HopCache::default())
}

/// Related records fetched during one fill, keyed by (root, path up to the hop, id).
#[derive(Default)]
struct HopCache(Vec<(HopKey, Option<Arc<Json>>)>);

/// (root, depth of the hop in the path, `object/id`).
type HopKey = (Root, usize, String);

fn read_with(
    input: &EvalInput,
    refs: &References,
    field: &FieldRef,
    ty: &Type,
    hops: &mut HopCache,
) -> Value {
    let path = &field.path;
    // Values are converted straight from the borrowed JSON: no intermediate JSON clone.
    let convert = |j: Option<&Json>| j.map_or(Value::Null, |j| json_to_value(j, ty));
    match &field.root {
        Root::Now => Value::DateTime(input.now_ms),
        Root::Previous if path.is_empty() => Value::Bool(input.previous.is_some()),
        Root::Record => walk_record(input, refs, &field.root, input.record, path, hops, ty),
        Root::Previous => match input.previous {
            Some(prev) => walk_record(input, refs, &field.root, prev, path, hops, ty),
            None => Value::Null,
        },
        Root::Event => convert(input.event.and_then(|e| walk_json(e, path))),
        Root::StepOutput(id) => convert(
            input
                .steps
                .and_then(|s| s.get(id))
                .and_then(|o| walk_json(o, path)),
        ),
    }
}

/// Walks nested JSON objects (and arrays by index).
fn walk_json<'j>(mut json: &'j Json, path: &[String]) -> Option<&'j Json> {
    for seg in path {
        json = match json {
            Json::Object(map) => map.get(seg)?,
            Json::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(json)
}

/// Walks a record path: a nested JSON object is entered directly; a string at a non-final
/// segment is a reference id, followed through the resolver.
fn walk_record(
    input: &EvalInput,
    refs: &References,
    root: &Root,
    record: &Json,
    path: &[String],
    hops: &mut HopCache,
    ty: &Type,
) -> Value {
    let Some((last, hops_path)) = path.split_last() else {
        return Value::Null;
    };
    if hops_path.is_empty() {
        return record
            .get(last)
            .map_or(Value::Null, |j| json_to_value(j, ty));
    }
    let object = refs.object().map(str::to_owned);
    let walk = Walk {
        input,
        refs,
        root,
        hops_path,
        last,
        ty,
    };
    walk.from(record, 0, object, hops)
}

/// One record path being walked: nested objects are entered by reference (never
/// cloned), related records are fetched once per fill and shared.
struct Walk<'w, 'a> {
    input: &'w EvalInput<'a>,
    refs: &'w References,
    root: &'w Root,
    /// The segments before the last one.
    hops_path: &'w [String],
    last: &'w String,
    ty: &'w Type,
}

impl Walk<'_, '_> {
    /// Continues at `hops_path[depth]` in `current`, a record of `object` (when known).
    fn from(
        &self,
        current: &Json,
        depth: usize,
        object: Option<String>,
        hops: &mut HopCache,
    ) -> Value {
        let Some(seg) = self.hops_path.get(depth) else {
            return current
                .get(self.last)
                .map_or(Value::Null, |j| json_to_value(j, self.ty));
        };
        match current.get(seg) {
            Some(nested @ Json::Object(_)) => self.from(nested, depth + 1, None, hops),
            Some(Json::String(id)) => {
                let Some(target) = self.refs.target(object.as_deref(), seg) else {
                    return Value::Null;
                };
                match hops.related(self.input, self.root, depth, id, &target) {
                    Some(related) => self.from(&related, depth + 1, Some(target), hops),
                    None => Value::Null,
                }
            }
            _ => Value::Null,
        }
    }
}

impl HopCache {
    /// The related record `object`/`id`, fetched through the resolver once per fill.
    fn related(
        &mut self,
        input: &EvalInput,
        root: &Root,
        depth: usize,
        id: &str,
        object: &str,
    ) -> Option<Arc<Json>> {
        let key = (root.clone(), depth, format!("{object}/{id}"));
        if let Some((_, hit)) = self.0.iter().find(|(k, _)| *k == key) {
            return hit.clone();
        }
        let fetched = input.resolver.related(object, id).map(Arc::new);
        self.0.push((key, fetched.clone()));
        fetched
    }
}

/// The type `changed(f, from:, to:)` reads `f` as: `changed` carries no type of its own, so
/// the type of `from`/`to` is used when given (datetimes compare as instants), else `Any`.
pub fn changed_type(from: Option<&crate::typed::TExpr>, to: Option<&crate::typed::TExpr>) -> Type {
    match from.or(to).map(|x| &x.ty) {
        None | Some(Type::Null) => Type::Any,
        Some(ty) => ty.clone(),
    }
}

/// The checker's schema names reference targets exactly (`case.account_id` -> `account`);
/// where the owning object is unknown it falls back to the naming convention.
impl ReferenceTargets for crate::schema::Schema {
    fn target(&self, object: Option<&str>, field: &str) -> Option<String> {
        let Some(object) = object else {
            return NamingConvention.target(None, field);
        };
        match &self.field(object, field)?.ty {
            crate::schema::FieldType::Reference { object } => Some(object.clone()),
            _ => None,
        }
    }
}

impl References {
    /// References of `object` records, followed as `schema` declares them.
    pub fn from_schema(object: impl Into<String>, schema: Arc<crate::schema::Schema>) -> Self {
        References::new(object, schema)
    }
}
