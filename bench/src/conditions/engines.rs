//! Every engine of the comparison behind one trait: compiled once per condition, a
//! record prepared once ([`Engine::prepare`], the per-event cost), then evaluated any
//! number of times ([`Engine::eval`]). Each engine is used at its best: programs and
//! ASTs are built once, contexts and scopes once per record, scratch state (zen's VM)
//! reused; an engine error counts as `false`.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use automations_compiler::check::{ExprScope, check_condition};
use automations_compiler::eval::{
    self, CompiledCondition, EvalInput, References, Resolver, SlotLayout, reference,
};
use automations_compiler::schema::Schema;
use automations_compiler::typed::TExpr;
use automations_compiler::value::Value;
use serde_json::Value as Json;

use super::corpus::{self, Case, NOW_MS};
use super::native;
use super::view::view;

/// The engines, in the order of the tables.
pub const ENGINES: &[&str] = &[
    "ours",
    "reference",
    "native",
    "cel",
    "zen",
    "evalexpr",
    "rhai",
];

/// The schema and the related records every engine reads.
pub struct World {
    pub schema: Arc<Schema>,
    related: HashMap<(String, String), Json>,
}

impl World {
    pub fn new() -> Arc<World> {
        let related = corpus::related()
            .into_iter()
            .map(|(object, r)| {
                (
                    (
                        object.to_string(),
                        r["id"].as_str().unwrap_or("").to_string(),
                    ),
                    r,
                )
            })
            .collect();
        Arc::new(World {
            schema: Arc::new(Schema::builtin()),
            related,
        })
    }

    fn get(&self, object: &str, id: &str) -> Option<Json> {
        self.related
            .get(&(object.to_string(), id.to_string()))
            .cloned()
    }

    /// The peers' view of a record ([`super::view`]).
    pub fn view(&self, object: &str, record: &Json) -> Json {
        view(
            &self.schema,
            object,
            record,
            |o, id| self.get(o, id),
            NOW_MS,
        )
    }
}

impl Resolver for World {
    fn related(&self, object: &str, id: &str) -> Option<Json> {
        self.get(object, id)
    }
}

/// One engine compiled for one condition.
pub trait Engine {
    type Prepared;
    /// The per-event work: the record JSON into what this engine evaluates.
    fn prepare(&self, record: &Json) -> Self::Prepared;
    fn eval(&mut self, prepared: &mut Self::Prepared) -> bool;
}

/// A checked condition of ours: the typed tree and its compiled form.
fn checked(case: &Case, world: &World) -> anyhow::Result<(TExpr, SlotLayout, CompiledCondition)> {
    let ast = automations_compiler::grammar::parse_expr(case.ours)
        .map_err(|e| anyhow!("{}: does not parse: {e:?}", case.name))?;
    let scope = ExprScope::for_object(case.object, &format!("{}.updated", case.object));
    let (typed, diags) = check_condition(&ast, &scope, &world.schema);
    let typed = typed.ok_or_else(|| {
        let messages: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
        anyhow!("{}: does not check: {}", case.name, messages.join("; "))
    })?;
    let references = References::from_schema(case.object, world.schema.clone());
    let mut layout = SlotLayout::with_references(references);
    let compiled = eval::compile(&typed, &mut layout);
    Ok((typed, layout, compiled))
}

fn input<'a>(record: &'a Json, world: &'a World) -> EvalInput<'a> {
    EvalInput {
        resolver: world,
        ..EvalInput::record(record, NOW_MS)
    }
}

/// Our compiled evaluator over a slot array filled once per record.
pub struct Ours {
    world: Arc<World>,
    layout: SlotLayout,
    compiled: CompiledCondition,
}

impl Ours {
    pub fn new(case: &Case, world: &Arc<World>) -> anyhow::Result<Self> {
        let (_, layout, compiled) = checked(case, world)?;
        Ok(Ours {
            world: world.clone(),
            layout,
            compiled,
        })
    }
}

impl Engine for Ours {
    type Prepared = Vec<Value>;
    fn prepare(&self, record: &Json) -> Vec<Value> {
        eval::fill_slots(&self.layout, &input(record, &self.world))
    }
    fn eval(&mut self, slots: &mut Vec<Value>) -> bool {
        self.compiled.eval(slots)
    }
}

/// Our tree-walking reference evaluator (the test oracle): reads the JSON every time.
pub struct Reference {
    world: Arc<World>,
    typed: TExpr,
    references: References,
}

impl Reference {
    pub fn new(case: &Case, world: &Arc<World>) -> anyhow::Result<Self> {
        let (typed, layout, _) = checked(case, world)?;
        Ok(Reference {
            world: world.clone(),
            typed,
            references: layout.references().clone(),
        })
    }
}

impl Engine for Reference {
    type Prepared = Json;
    fn prepare(&self, record: &Json) -> Json {
        record.clone()
    }
    fn eval(&mut self, record: &mut Json) -> bool {
        reference::evaluate_bool(&self.typed, &input(record, &self.world), &self.references)
    }
}

/// Hand-written Rust over a typed record.
pub struct Native {
    world: Arc<World>,
    f: fn(&native::Record) -> bool,
}

impl Native {
    pub fn new(case: &Case, world: &Arc<World>) -> Self {
        Native {
            world: world.clone(),
            f: case.native,
        }
    }
}

impl Engine for Native {
    type Prepared = native::Record;
    fn prepare(&self, record: &Json) -> native::Record {
        native::Record::from_json(record, |o, id| self.world.get(o, id), NOW_MS)
    }
    fn eval(&mut self, record: &mut native::Record) -> bool {
        (self.f)(record)
    }
}

/// `cel` (Common Expression Language): a program parsed once, one context per record
/// with every field as a variable.
pub struct Cel {
    world: Arc<World>,
    object: &'static str,
    program: cel::Program,
}

impl Cel {
    pub fn new(case: &Case, world: &Arc<World>) -> anyhow::Result<Self> {
        let program =
            cel::Program::compile(case.cel).map_err(|e| anyhow!("{}: cel: {e}", case.name))?;
        Ok(Cel {
            world: world.clone(),
            object: case.object,
            program,
        })
    }
}

impl Engine for Cel {
    type Prepared = cel::Context<'static, 'static>;
    fn prepare(&self, record: &Json) -> Self::Prepared {
        let mut ctx = cel::Context::default();
        if let Json::Object(map) = self.world.view(self.object, record) {
            for (k, v) in map {
                if let Ok(value) = cel::to_value(v) {
                    ctx.add_variable_from_value(k, value);
                }
            }
        }
        ctx
    }
    fn eval(&mut self, ctx: &mut Self::Prepared) -> bool {
        matches!(self.program.execute(ctx), Ok(cel::Value::Bool(true)))
    }
}

/// `zen-expression` (GoRules): bytecode compiled once, one scope per record, one VM reused.
pub struct Zen {
    world: Arc<World>,
    object: &'static str,
    expression: zen_expression::Expression<zen_expression::expression::Standard>,
    vm: zen_expression::vm::VM,
}

impl Zen {
    pub fn new(case: &Case, world: &Arc<World>) -> anyhow::Result<Self> {
        let expression = zen_expression::compile_expression(case.zen)
            .map_err(|e| anyhow!("{}: zen: {e:?}", case.name))?;
        Ok(Zen {
            world: world.clone(),
            object: case.object,
            expression,
            vm: zen_expression::vm::VM::new(),
        })
    }
}

impl Engine for Zen {
    type Prepared = zen_expression::Scope;
    fn prepare(&self, record: &Json) -> Self::Prepared {
        zen_expression::Scope::new(zen_expression::Variable::from(
            self.world.view(self.object, record),
        ))
    }
    fn eval(&mut self, scope: &mut Self::Prepared) -> bool {
        matches!(
            self.expression.evaluate_with_scope(scope, &mut self.vm),
            Ok(zen_expression::Variable::Bool(true))
        )
    }
}

/// `evalexpr`: an operator tree built once; a context per record holding every field
/// (related ones as `account.tier`), with the text tests evalexpr lacks given as
/// native functions (`has_text`, `starts_with`, `ends_with`; false on non-strings).
pub struct Evalexpr {
    world: Arc<World>,
    object: &'static str,
    tree: evalexpr::Node,
}

impl Evalexpr {
    pub fn new(case: &Case, world: &Arc<World>) -> anyhow::Result<Self> {
        let tree = evalexpr::build_operator_tree(case.evalexpr)
            .map_err(|e| anyhow!("{}: evalexpr: {e}", case.name))?;
        Ok(Evalexpr {
            world: world.clone(),
            object: case.object,
            tree,
        })
    }
}

/// The variables of one record for evalexpr.
pub struct EvalexprContext {
    values: HashMap<String, evalexpr::Value>,
    empty: evalexpr::Value,
}

fn evalexpr_value(json: &Json) -> evalexpr::Value {
    match json {
        Json::Bool(b) => evalexpr::Value::Boolean(*b),
        Json::Number(n) => evalexpr::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => evalexpr::Value::String(s.clone()),
        _ => evalexpr::Value::Empty,
    }
}

impl evalexpr::Context for EvalexprContext {
    type NumericTypes = evalexpr::DefaultNumericTypes;
    fn get_value(&self, identifier: &str) -> Option<&evalexpr::Value> {
        Some(self.values.get(identifier).unwrap_or(&self.empty))
    }
    fn call_function(
        &self,
        identifier: &str,
        argument: &evalexpr::Value,
    ) -> evalexpr::error::EvalexprResultValue {
        let test: fn(&str, &str) -> bool = match identifier {
            "has_text" => |a, b| a.contains(b),
            "starts_with" => |a, b| a.starts_with(b),
            "ends_with" => |a, b| a.ends_with(b),
            // Not ours: evalexpr's built-ins (`contains`, ...) answer it.
            other => {
                return Err(evalexpr::EvalexprError::FunctionIdentifierNotFound(
                    other.to_string(),
                ));
            }
        };
        let args = argument.as_fixed_len_tuple(2)?;
        let holds = match (&args[0], &args[1]) {
            (evalexpr::Value::String(a), evalexpr::Value::String(b)) => test(a, b),
            _ => false,
        };
        Ok(evalexpr::Value::Boolean(holds))
    }
    fn are_builtin_functions_disabled(&self) -> bool {
        false
    }
    fn set_builtin_functions_disabled(&mut self, _: bool) -> evalexpr::EvalexprResult<()> {
        Err(evalexpr::EvalexprError::ContextNotMutable)
    }
}

impl Engine for Evalexpr {
    type Prepared = EvalexprContext;
    fn prepare(&self, record: &Json) -> EvalexprContext {
        let mut values = HashMap::new();
        if let Json::Object(map) = self.world.view(self.object, record) {
            for (k, v) in map {
                match v {
                    Json::Object(inner) => {
                        for (field, x) in inner {
                            values.insert(format!("{k}.{field}"), evalexpr_value(&x));
                        }
                    }
                    other => {
                        values.insert(k, evalexpr_value(&other));
                    }
                }
            }
        }
        EvalexprContext {
            values,
            empty: evalexpr::Value::Empty,
        }
    }
    fn eval(&mut self, ctx: &mut EvalexprContext) -> bool {
        self.tree.eval_boolean_with_context(ctx).unwrap_or(false)
    }
}

/// `rhai`: an expression AST compiled once, one scope per record (every field a
/// variable, related records as object maps).
pub struct Rhai {
    world: Arc<World>,
    object: &'static str,
    engine: rhai::Engine,
    ast: rhai::AST,
}

impl Rhai {
    pub fn new(case: &Case, world: &Arc<World>) -> anyhow::Result<Self> {
        let engine = rhai::Engine::new();
        let ast = engine
            .compile_expression(case.rhai)
            .with_context(|| format!("{}: rhai", case.name))?;
        Ok(Rhai {
            world: world.clone(),
            object: case.object,
            engine,
            ast,
        })
    }
}

fn dynamic(json: Json) -> rhai::Dynamic {
    match json {
        Json::Null => rhai::Dynamic::UNIT,
        Json::Bool(b) => rhai::Dynamic::from_bool(b),
        Json::Number(n) => rhai::Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => rhai::Dynamic::from(s),
        Json::Array(items) => rhai::Dynamic::from_array(items.into_iter().map(dynamic).collect()),
        Json::Object(map) => rhai::Dynamic::from_map(
            map.into_iter()
                .map(|(k, v)| (k.into(), dynamic(v)))
                .collect(),
        ),
    }
}

impl Engine for Rhai {
    type Prepared = rhai::Scope<'static>;
    fn prepare(&self, record: &Json) -> Self::Prepared {
        let mut scope = rhai::Scope::new();
        if let Json::Object(map) = self.world.view(self.object, record) {
            for (k, v) in map {
                scope.push_dynamic(k, dynamic(v));
            }
        }
        scope
    }
    fn eval(&mut self, scope: &mut Self::Prepared) -> bool {
        self.engine
            .eval_ast_with_scope::<bool>(scope, &self.ast)
            .unwrap_or(false)
    }
}
