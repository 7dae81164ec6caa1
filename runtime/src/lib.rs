//! automations-runtime: the durable engine behind the API.
//!
//! Events are accepted durably (idempotent by workspace + event id) and dispatched to the
//! matching automations in the same transaction, which creates their runs. The executor
//! runs steps in sequence through one effect path: record writes commit in the step's
//! transaction, email/Slack/webhooks go to the outbox in that same transaction and a worker
//! delivers them with retries. Human tasks and waits park runs in the database.
//!
//! Entry point: [`Engine`] (built from [`EngineParts`]), generic over a [`store::Store`]
//! (SQLite now). This crate never speaks HTTP to clients (the server crate does) and never
//! builds SQL outside `store::<driver>`.

pub mod backtest;
pub mod compiler_glue;
pub mod cycles;
pub mod dispatch;
pub mod engine;
pub mod error;
pub mod expr;
pub mod hooks;
pub mod model;
pub mod outbox;
pub mod plan;
pub mod record_log;
pub mod records;
pub mod schema;
pub mod secrets;
pub mod shadow_diff;
pub mod store;

pub use engine::{
    Accepted, DEFAULT_RECORD_HISTORY, Engine, EngineConfig, EngineParts, LoopGuardConfig, NewEvent,
    NewRecord, NewToken, OfflineTest, OutputCaps, RecordOp, TestEvent, TestReport, TestRequest,
    WorkerHandle, WorkerStatus, create_token_in, ensure_workspace_in, revoke_token_in,
    test_offline,
};
pub use error::{FieldError, Result, RuntimeError};
