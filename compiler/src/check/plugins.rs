//! Plugin steps against their manifests (DESIGN §8): when the checker is given a
//! [`PluginCatalog`] (the server's workspace registry), a `plugin` step must name a known
//! plugin (and version), and its `input` object is checked against the manifest's input
//! schema, a JSON Schema subset: object `properties` typed `string`, `number`, `integer`,
//! `boolean`, `array` or `object`, `required`, `enum`. Unknown keywords are ignored, so a
//! richer schema checks what it can. Literal values are checked; expressions and templates
//! by their static type when it is known (`Any` passes).
//!
//! This module never loads plugins or reads manifests itself: the catalog is data given by
//! the caller (the offline CLI gives none, so nothing here runs there).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{CheckedParam, CheckedStep, CheckedStepKind};
use crate::catalog::ActionKind;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::Span;
use crate::suggest;
use crate::typed::{TExpr, TExprKind, Type};
use crate::value::Value as Const;

/// A JSON Schema type keyword of the supported subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    fn parse(word: &str) -> Option<JsonType> {
        Some(match word {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        }
    }
}

/// One declared property of a plugin's input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PropertySchema {
    /// Allowed types; empty means any.
    pub types: Vec<JsonType>,
    /// Allowed values (`enum`), when given.
    pub allowed: Option<Vec<Value>>,
}

/// The input schema of one plugin version, in the supported subset.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputSchema {
    pub properties: BTreeMap<String, PropertySchema>,
    pub required: Vec<String>,
    /// No `properties` declared, or `additionalProperties: true`: other keys are allowed.
    pub open: bool,
}

impl InputSchema {
    /// Reads the subset out of a manifest's `input_schema`; anything else is ignored.
    pub fn from_json(schema: &Value) -> InputSchema {
        let properties: BTreeMap<String, PropertySchema> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(name, p)| (name.clone(), property(p)))
                    .collect()
            })
            .unwrap_or_default();
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let open = schema.get("properties").is_none()
            || schema.get("additionalProperties") == Some(&Value::Bool(true));
        InputSchema {
            properties,
            required,
            open,
        }
    }
}

fn property(p: &Value) -> PropertySchema {
    let types = match p.get("type") {
        Some(Value::String(t)) => JsonType::parse(t).into_iter().collect(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter_map(JsonType::parse)
            .collect(),
        _ => Vec::new(),
    };
    PropertySchema {
        types,
        allowed: p.get("enum").and_then(Value::as_array).cloned(),
    }
}

/// The plugins a workspace has, by name and version, with their input schemas.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PluginCatalog {
    plugins: BTreeMap<String, CatalogEntry>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct CatalogEntry {
    /// `None`: the version's manifest has no input schema (nothing to check).
    versions: BTreeMap<String, Option<InputSchema>>,
    /// The version a step without `version` runs.
    latest: Option<String>,
}

impl PluginCatalog {
    pub fn new() -> PluginCatalog {
        PluginCatalog::default()
    }

    /// Adds a version of `name` with its manifest's `input_schema` (if any).
    pub fn insert(&mut self, name: &str, version: &str, input_schema: Option<&Value>) {
        let entry = self.plugins.entry(name.to_string()).or_default();
        entry.versions.insert(
            version.to_string(),
            input_schema.map(InputSchema::from_json),
        );
    }

    /// Says which version a step without `version` runs (the highest semver).
    pub fn set_latest(&mut self, name: &str, version: &str) {
        if let Some(entry) = self.plugins.get_mut(name) {
            entry.latest = Some(version.to_string());
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.plugins.keys().map(String::as_str)
    }
}

/// What the checker is configured with beyond the schema.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckConfig<'a> {
    /// The plugins steps may use; `None` (the offline CLI) checks no plugin step.
    pub plugins: Option<&'a PluginCatalog>,
}

/// Checks every `plugin` step of `steps` (nested ones included) against `catalog`.
pub(super) fn check_plugin_steps(
    steps: &[CheckedStep],
    catalog: &PluginCatalog,
    diags: &mut Vec<Diagnostic>,
) {
    for step in steps {
        match &step.kind {
            CheckedStepKind::Action {
                action: ActionKind::Plugin,
                params,
            } => {
                check_step(step.id.as_str(), params, catalog, diags);
            }
            CheckedStepKind::Action { .. } => {}
            CheckedStepKind::If {
                then_steps,
                else_steps,
                ..
            } => {
                check_plugin_steps(then_steps, catalog, diags);
                check_plugin_steps(else_steps, catalog, diags);
            }
        }
    }
}

fn constant_str(param: Option<&CheckedParam>) -> Option<(&str, Span)> {
    match param {
        Some(CheckedParam::Expr(TExpr {
            kind: TExprKind::Const(Const::String(s)),
            span,
            ..
        })) => Some((s.as_ref(), *span)),
        _ => None,
    }
}

fn check_step(
    step_id: &str,
    params: &BTreeMap<String, CheckedParam>,
    catalog: &PluginCatalog,
    diags: &mut Vec<Diagnostic>,
) {
    // A plugin named by an expression cannot be resolved statically.
    let Some((name, name_span)) = constant_str(params.get("plugin")) else {
        return;
    };
    let Some(entry) = catalog.plugins.get(name) else {
        let mut d = Diagnostic::error(
            codes::UNKNOWN_PLUGIN,
            format!("step `{step_id}`: unknown plugin `{name}`"),
            name_span,
        )
        .with_note("upload it with POST /api/v1/plugins first");
        if let Some(s) = suggest::closest(name, catalog.names()) {
            d = d
                .with_note(format!("did you mean `{s}`?"))
                .with_suggestion(s);
        }
        diags.push(d);
        return;
    };
    let version = match constant_str(params.get("version")) {
        Some((version, span)) => {
            if !entry.versions.contains_key(version) {
                let known: Vec<&str> = entry.versions.keys().map(String::as_str).collect();
                diags.push(
                    Diagnostic::error(
                        codes::UNKNOWN_PLUGIN,
                        format!("step `{step_id}`: plugin `{name}` has no version `{version}`"),
                        span,
                    )
                    .with_note(format!("uploaded versions: {}", known.join(", "))),
                );
                return;
            }
            Some(version)
        }
        None if params.contains_key("version") => return,
        None => entry.latest.as_deref(),
    };
    let Some(Some(schema)) = version.and_then(|v| entry.versions.get(v)) else {
        return;
    };
    let plugin = format!("{name}@{}", version.unwrap_or("latest"));
    match params.get("input") {
        Some(CheckedParam::Expr(input)) => check_input(&plugin, input, schema, diags),
        Some(CheckedParam::Form(_)) => {}
        None => {
            for missing in &schema.required {
                diags.push(missing_property(&plugin, missing, name_span));
            }
        }
    }
}

fn missing_property(plugin: &str, property: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::MISSING_PLUGIN_INPUT,
        format!("plugin `{plugin}` requires the input property `{property}`"),
        span,
    )
}

fn check_input(plugin: &str, input: &TExpr, schema: &InputSchema, diags: &mut Vec<Diagnostic>) {
    let entries = match &input.kind {
        TExprKind::Object(entries) => entries,
        // An expression (a step's output, a field of type Any): its keys are not known.
        _ => return,
    };
    for required in &schema.required {
        if !entries.iter().any(|(k, _)| k == required) {
            diags.push(missing_property(plugin, required, input.span));
        }
    }
    for (key, value) in entries {
        match schema.properties.get(key) {
            Some(property) => check_value(plugin, key, value, property, diags),
            None if schema.open => {}
            None => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_PLUGIN_INPUT,
                    format!("plugin `{plugin}` has no input property `{key}`"),
                    value.span,
                );
                let known = schema.properties.keys().map(String::as_str);
                match suggest::closest(key, known) {
                    Some(s) => {
                        d = d
                            .with_note(format!("did you mean `{s}`?"))
                            .with_suggestion(s)
                    }
                    None => {
                        let all: Vec<&str> = schema.properties.keys().map(String::as_str).collect();
                        d = d.with_note(format!("its input properties: {}", all.join(", ")));
                    }
                }
                diags.push(d);
            }
        }
    }
}

/// The JSON types `value` can have at run time; `None` when not known statically.
fn value_types(value: &TExpr) -> Option<Vec<JsonType>> {
    if let TExprKind::Const(v) = &value.kind {
        return Some(vec![literal_type(v)]);
    }
    if let TExprKind::Object(_) = &value.kind {
        return Some(vec![JsonType::Object]);
    }
    Some(match value.ty.base() {
        Type::Bool => vec![JsonType::Boolean],
        Type::Number => vec![JsonType::Number],
        // Datetimes travel as RFC 3339 text; templates render to text.
        Type::String | Type::DateTime => vec![JsonType::String],
        Type::List(_) => vec![JsonType::Array],
        Type::Null | Type::Any | Type::Duration | Type::Picklist(_) | Type::Reference(_) => {
            return None;
        }
    })
}

fn literal_type(v: &Const) -> JsonType {
    match v {
        Const::Null => JsonType::Null,
        Const::Bool(_) => JsonType::Boolean,
        Const::Number(n) if n.fract() == 0.0 => JsonType::Integer,
        Const::Number(_) => JsonType::Number,
        // Datetimes and durations of literals travel as text.
        Const::String(_) | Const::DateTime(_) | Const::Duration(_) => JsonType::String,
        Const::List(_) => JsonType::Array,
        Const::Object(_) => JsonType::Object,
    }
}

/// A scalar constant as JSON, to compare with `enum` values.
fn literal_json(v: &Const) -> Option<Value> {
    Some(match v {
        Const::Null => Value::Null,
        Const::Bool(b) => Value::Bool(*b),
        Const::Number(n) => serde_json::Number::from_f64(*n).map(Value::Number)?,
        Const::String(s) => Value::String(s.to_string()),
        _ => return None,
    })
}

/// `enum` holds JSON numbers as written (`1` or `1.0`): compare numbers by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Whether a value of type `have` satisfies the schema type `want`.
fn fits(have: JsonType, want: JsonType) -> bool {
    have == want || (have == JsonType::Integer && want == JsonType::Number)
}

fn check_value(
    plugin: &str,
    key: &str,
    value: &TExpr,
    property: &PropertySchema,
    diags: &mut Vec<Diagnostic>,
) {
    if !property.types.is_empty()
        && let Some(types) = value_types(value)
        && !types
            .iter()
            .any(|have| property.types.iter().any(|want| fits(*have, *want)))
    {
        let wanted: Vec<&str> = property.types.iter().map(|t| t.as_str()).collect();
        let found: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        diags.push(Diagnostic::error(
            codes::TYPE_MISMATCH,
            format!(
                "plugin `{plugin}` input `{key}` must be {}, found {}",
                wanted.join(" or "),
                found.join(" or ")
            ),
            value.span,
        ));
        return;
    }
    if let (Some(allowed), TExprKind::Const(c)) = (&property.allowed, &value.kind)
        && let Some(v) = literal_json(c)
        && !allowed.iter().any(|a| same(a, &v))
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        diags.push(
            Diagnostic::error(
                codes::PICKLIST_VALUE,
                format!(
                    "plugin `{plugin}` input `{key}` must be one of {}",
                    list.join(", ")
                ),
                value.span,
            )
            .with_note(format!("found {v}")),
        );
    }
}
