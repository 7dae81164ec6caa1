//! Shared test support: the CRM schema, an engine on a real SQLite file, a local HTTP
//! sink that records requests, and (until the compiler's front end is wired in) a small
//! definition compiler covering the JSON shapes these tests use.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use automations_compiler::typed::{BinaryOp, FieldRef, Root, TExpr, TExprKind, Type};
use automations_compiler::value::Value as V;
use automations_runtime::hooks::{CompiledDefinition, DefinitionCompiler};
use automations_runtime::model::{AutomationStatus, EnvironmentKind};
use automations_runtime::plan::{ActionStep, ParamExpr, Plan, PlanStep};
use automations_runtime::schema::{SchemaView, SimpleSchema};
use automations_runtime::store::{SqliteConfig, SqliteStore};
use automations_runtime::{Engine, EngineConfig, EngineParts, RuntimeError};

pub const SEED: &str = r#"{"name":"Auto-assign high-priority cases","trigger":{"event":"case.created","conditions":{"priority":"critical"}},"actions":[{"type":"assign_to_queue","params":{"queue_id":"q_escalations"}},{"type":"send_notification","params":{"channel":"slack","message":"Critical case created"}}],"status":"active"}"#;

pub fn seed() -> Value {
    serde_json::from_str(SEED).unwrap()
}

fn pick(values: &[&str]) -> Type {
    Type::Picklist(
        values
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into(),
    )
}

fn r(o: &str) -> Type {
    Type::Reference(o.into())
}

pub fn crm_schema() -> Arc<dyn SchemaView> {
    let s = Type::String;
    Arc::new(
        SimpleSchema::default()
            .with_object(
                "case",
                &[
                    ("subject", s.clone()),
                    ("description", s.clone()),
                    ("priority", pick(&["low", "medium", "high", "critical"])),
                    (
                        "status",
                        pick(&["new", "open", "pending", "escalated", "closed"]),
                    ),
                    ("origin", pick(&["email", "web", "phone", "chat"])),
                    ("account_id", r("account")),
                    ("contact_id", r("contact")),
                    ("owner_id", r("user")),
                    ("queue_id", r("queue")),
                ],
            )
            .with_object(
                "account",
                &[
                    ("name", s.clone()),
                    ("industry", s.clone()),
                    ("tier", pick(&["bronze", "silver", "gold", "platinum"])),
                    ("annual_revenue", Type::Number),
                    ("owner_id", r("user")),
                ],
            )
            .with_object(
                "task",
                &[
                    ("subject", s.clone()),
                    ("description", s.clone()),
                    ("status", pick(&["open", "completed"])),
                    ("due", Type::DateTime),
                    ("assignee_id", r("user")),
                    ("related_object", s.clone()),
                    ("related_id", s.clone()),
                ],
            )
            .with_object(
                "user",
                &[
                    ("name", s.clone()),
                    ("email", s.clone()),
                    ("manager_id", r("user")),
                    ("active", Type::Bool),
                ],
            )
            .with_object("queue", &[("name", s.clone()), ("email", s)]),
    )
}

pub fn quick_config() -> EngineConfig {
    let mut c = EngineConfig::default();
    c.outbox.backoff_base = Duration::from_millis(5);
    c.outbox.backoff_cap = Duration::from_millis(50);
    c.outbox.allow_private = true;
    c.outbox.poll_interval = Duration::from_millis(20);
    c.poll_interval = Duration::from_millis(20);
    c
}

pub async fn open_engine(path: &Path, config: EngineConfig) -> Engine {
    let store = SqliteStore::open(&SqliteConfig::file(path)).await.unwrap();
    Engine::new(EngineParts {
        store,
        config,
        schema: crm_schema(),
        compiler: compiler(),
        plugins: None,
    })
    .await
    .unwrap()
}

pub fn compiler() -> Arc<dyn DefinitionCompiler> {
    Arc::new(MiniCompiler)
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

// ---------------------------------------------------------------------------------------
// A request-recording HTTP sink.

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

#[derive(Clone)]
pub struct HttpSink {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl HttpSink {
    /// Answers 200, except paths starting `/status/NNN` which answer NNN.
    pub async fn start() -> HttpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let rec = rec.clone();
                tokio::spawn(async move {
                    let (rd, mut wr) = sock.into_split();
                    let mut rd = BufReader::new(rd);
                    loop {
                        let mut line = String::new();
                        if rd.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or("").to_string();
                        let path = parts.next().unwrap_or("").to_string();
                        let mut headers = HashMap::new();
                        loop {
                            let mut h = String::new();
                            if rd.read_line(&mut h).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let h = h.trim_end();
                            if h.is_empty() {
                                break;
                            }
                            if let Some((k, v)) = h.split_once(':') {
                                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                            }
                        }
                        let len: usize = headers
                            .get("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0u8; len];
                        if rd.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let status: u16 = path
                            .strip_prefix("/status/")
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(200);
                        rec.lock().unwrap().push(Received {
                            method,
                            path,
                            headers,
                            body: String::from_utf8_lossy(&body).into(),
                        });
                        let resp = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok");
                        if wr.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        HttpSink { url, received }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------------------
// A small definition compiler for the JSON these tests use.

pub struct MiniCompiler;

fn texpr(kind: TExprKind, ty: Type) -> TExpr {
    TExpr {
        kind,
        ty,
        span: Default::default(),
    }
}

fn konst(v: &Value) -> TExpr {
    match v {
        Value::Bool(b) => texpr(TExprKind::Const(V::Bool(*b)), Type::Bool),
        Value::Number(n) => texpr(
            TExprKind::Const(V::Number(n.as_f64().unwrap())),
            Type::Number,
        ),
        Value::String(s) => texpr(TExprKind::Const(V::String(s.as_str().into())), Type::String),
        Value::Null => texpr(TExprKind::Const(V::Null), Type::Null),
        Value::Array(a) => texpr(
            TExprKind::List(a.iter().map(konst).collect()),
            Type::List(Box::new(Type::Any)),
        ),
        Value::Object(m) => texpr(
            TExprKind::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), param_expr(k, v)))
                    .collect(),
            ),
            Type::Any,
        ),
    }
}

fn path(p: &str) -> TExpr {
    let segs: Vec<String> = p.split('.').map(str::to_string).collect();
    let fr = match segs[0].as_str() {
        "steps" => FieldRef {
            root: Root::StepOutput(segs[1].clone()),
            path: segs[3..].to_vec(),
        },
        "previous" => FieldRef {
            root: Root::Previous,
            path: segs[1..].to_vec(),
        },
        "event" => FieldRef {
            root: Root::Event,
            path: segs[1..].to_vec(),
        },
        "record" => FieldRef {
            root: Root::Record,
            path: segs[1..].to_vec(),
        },
        _ => {
            // `account.tier` -> account_id, tier
            let mut path: Vec<String> = segs[..segs.len() - 1]
                .iter()
                .map(|s| format!("{s}_id"))
                .collect();
            path.push(segs.last().unwrap().clone());
            FieldRef {
                root: Root::Record,
                path,
            }
        }
    };
    texpr(TExprKind::Field(fr), Type::Any)
}

/// `a == lit`, `a != lit`, `a > n`, joined by ` and `.
fn condition(s: &str) -> TExpr {
    let clauses: Vec<TExpr> = s
        .split(" and ")
        .map(|c| {
            for (sym, op) in [
                ("==", BinaryOp::Eq),
                ("!=", BinaryOp::Ne),
                (">=", BinaryOp::Ge),
                ("<=", BinaryOp::Le),
                (">", BinaryOp::Gt),
                ("<", BinaryOp::Lt),
            ] {
                if let Some((l, r)) = c.split_once(sym) {
                    let r = r.trim().replace('\'', "\"");
                    let lit: Value = serde_json::from_str(&r).unwrap_or(Value::String(r));
                    return texpr(
                        TExprKind::Binary {
                            op,
                            lhs: Box::new(path(l.trim())),
                            rhs: Box::new(konst(&lit)),
                        },
                        Type::Bool,
                    );
                }
            }
            path(c.trim())
        })
        .collect();
    clauses
        .into_iter()
        .reduce(|a, b| {
            texpr(
                TExprKind::Binary {
                    op: BinaryOp::And,
                    lhs: Box::new(a),
                    rhs: Box::new(b),
                },
                Type::Bool,
            )
        })
        .unwrap()
}

fn template(s: &str) -> TExpr {
    if !s.contains("{{") {
        return konst(&Value::String(s.into()));
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("{{") {
        if i > 0 {
            parts.push(konst(&Value::String(rest[..i].into())));
        }
        let j = rest[i..].find("}}").unwrap() + i;
        parts.push(path(rest[i + 2..j].trim()));
        rest = &rest[j + 2..];
    }
    if !rest.is_empty() {
        parts.push(konst(&Value::String(rest.into())));
    }
    texpr(TExprKind::Template(parts), Type::String)
}

fn param_expr(name: &str, v: &Value) -> TExpr {
    match v {
        Value::String(s) if matches!(name, "timeout" | "duration") => texpr(
            TExprKind::Const(V::Duration(
                automations_runtime::expr::parse_duration(s).unwrap(),
            )),
            Type::Duration,
        ),
        Value::String(s) => template(s),
        other => konst(other),
    }
}

fn steps(actions: &[Value], counter: &mut usize) -> Vec<PlanStep> {
    actions
        .iter()
        .map(|a| {
            *counter += 1;
            let id = a
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or(format!("step_{counter}"));
            let guard = a.get("condition").and_then(Value::as_str).map(condition);
            let ty = a["type"].as_str().unwrap();
            if ty == "if" {
                let then_steps = steps(a["then"].as_array().unwrap(), counter);
                let else_steps = steps(
                    a.get("else")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]),
                    counter,
                );
                return PlanStep::If {
                    id,
                    guard: None,
                    condition: condition(a["condition"].as_str().unwrap()),
                    then_steps,
                    else_steps,
                };
            }
            let params = a
                .get("params")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            let p = if k == "form" {
                                ParamExpr::Form(
                                    v.as_object()
                                        .unwrap()
                                        .iter()
                                        .map(|(f, t)| (f.clone(), t.as_str().unwrap().to_string()))
                                        .collect(),
                                )
                            } else {
                                ParamExpr::Expr(param_expr(k, v))
                            };
                            (k.clone(), p)
                        })
                        .collect()
                })
                .unwrap_or_default();
            PlanStep::Action(ActionStep {
                id,
                action: ty.to_string(),
                guard,
                params,
            })
        })
        .collect()
}

impl DefinitionCompiler for MiniCompiler {
    fn compile(&self, d: &Value) -> Result<CompiledDefinition, RuntimeError> {
        let trigger = d["trigger"]["event"]
            .as_str()
            .ok_or_else(|| RuntimeError::Definition {
                message: "trigger.event missing".into(),
                diagnostics: json!([]),
            })?;
        let cond = match d["trigger"].get("conditions") {
            Some(Value::Object(m)) if !m.is_empty() => Some(
                m.iter()
                    .map(|(k, v)| {
                        texpr(
                            TExprKind::Binary {
                                op: BinaryOp::Eq,
                                lhs: Box::new(path(k)),
                                rhs: Box::new(konst(v)),
                            },
                            Type::Bool,
                        )
                    })
                    .reduce(|a, b| {
                        texpr(
                            TExprKind::Binary {
                                op: BinaryOp::And,
                                lhs: Box::new(a),
                                rhs: Box::new(b),
                            },
                            Type::Bool,
                        )
                    })
                    .unwrap(),
            ),
            Some(Value::String(s)) => Some(condition(s)),
            _ => None,
        };
        let mut counter = 0;
        let plan = Plan::new(
            d["name"].as_str().unwrap_or(""),
            trigger,
            cond,
            steps(d["actions"].as_array().unwrap(), &mut counter),
        );
        Ok(CompiledDefinition {
            plan,
            name: d["name"].as_str().unwrap_or("").into(),
            status: AutomationStatus::parse(
                d.get("status").and_then(Value::as_str).unwrap_or("draft"),
            )
            .unwrap(),
            environment: EnvironmentKind::parse(
                d.get("environment")
                    .and_then(Value::as_str)
                    .unwrap_or("live"),
            )
            .unwrap(),
            warnings: vec![],
        })
    }
}
