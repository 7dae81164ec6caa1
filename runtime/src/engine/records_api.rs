//! The record store API (`/records/{object}`): writes are validated against the schema and
//! raise their events, which are accepted and dispatched in the write's transaction.

use serde_json::{Map, Value};

use super::Engine;
use super::ingest::Subjects;
use crate::error::{Result, RuntimeError};
use crate::model::{Event, Page, Record, Run};
use crate::records::{self, Cause};
use crate::store::{Store, StoreTx};

#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    /// The id to use; generated when absent.
    pub id: Option<String>,
    pub fields: Map<String, Value>,
}

/// One write of a batch ([`Engine::write_records`]).
#[derive(Debug, Clone)]
pub enum RecordOp {
    Create {
        object: String,
        record: NewRecord,
    },
    Update {
        object: String,
        id: String,
        fields: Map<String, Value>,
    },
    Delete {
        object: String,
        id: String,
    },
}

/// What one record write did.
pub(crate) struct Written {
    /// The record as written (`None` once deleted).
    pub record: Option<Record>,
    /// The events the write raised.
    pub events: Vec<Event>,
    /// The runs those events queued.
    pub queued: Vec<Run>,
}

impl<S: Store> Engine<S> {
    pub async fn create_record(&self, ws: &str, object: &str, record: NewRecord) -> Result<Record> {
        let op = RecordOp::Create {
            object: object.into(),
            record,
        };
        self.write_records(ws, vec![op])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| RuntimeError::Corrupt("no record".into()))
    }

    /// A patch: given fields are set, `null` clears one.
    pub async fn update_record(
        &self,
        ws: &str,
        object: &str,
        id: &str,
        fields: Map<String, Value>,
    ) -> Result<Record> {
        let op = RecordOp::Update {
            object: object.into(),
            id: id.into(),
            fields,
        };
        self.write_records(ws, vec![op])
            .await?
            .pop()
            .flatten()
            .ok_or_else(|| RuntimeError::Corrupt("no record".into()))
    }

    pub async fn delete_record(&self, ws: &str, object: &str, id: &str) -> Result<()> {
        self.write_records(
            ws,
            vec![RecordOp::Delete {
                object: object.into(),
                id: id.into(),
            }],
        )
        .await?;
        Ok(())
    }

    /// Several writes in one transaction (group commit); all or nothing. Returns the
    /// records written (`None` for deletes).
    pub async fn write_records(&self, ws: &str, ops: Vec<RecordOp>) -> Result<Vec<Option<Record>>> {
        // Concurrent callers share one transaction (group commit); each batch stays
        // all-or-nothing inside its own savepoint.
        self.submit_records(ws, ops).await
    }

    /// Several writes in one transaction (group commit), each standing alone: a write that
    /// fails (validation, conflict, not found) is rolled back by itself and answered with
    /// its error, the others are kept. The outer `Err` is a failure of the transaction
    /// itself (then nothing was written). Results come in the order of `ops`.
    pub async fn write_records_each(
        &self,
        ws: &str,
        ops: Vec<RecordOp>,
    ) -> Result<Vec<Result<Option<Record>>>> {
        self.submit_records_each(ws, ops).await
    }

    pub async fn record(&self, ws: &str, object: &str, id: &str) -> Result<Record> {
        self.check_object(ws, object)?;
        self.inner
            .store
            .record(ws, object, id)
            .await?
            .ok_or_else(|| RuntimeError::not_found("record", id))
    }

    /// Records of `object` whose fields equal `equals`, by id, paged.
    pub async fn query_records(
        &self,
        ws: &str,
        object: &str,
        equals: &Map<String, Value>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Record>> {
        self.check_object(ws, object)?;
        self.inner
            .store
            .query_records(ws, object, equals, limit, cursor)
            .await
    }

    fn check_object(&self, ws: &str, object: &str) -> Result<()> {
        if self.schema(ws).has_object(object) {
            Ok(())
        } else {
            Err(RuntimeError::not_found("object", object))
        }
    }

    /// Applies one write and accepts its events inside `tx`.
    pub(crate) async fn write_in_tx(
        &self,
        tx: &mut S::Tx,
        ws: &str,
        op: RecordOp,
        cause: &Cause,
    ) -> Result<Written> {
        let now = crate::model::stored_now();
        let schema = self.schema(ws);
        let schema = schema.as_ref();
        let mut subjects = Subjects::Any;
        let (record, events) = match op {
            RecordOp::Create { object, record } => {
                if record.id.is_none() {
                    subjects = Subjects::NewRecords;
                }
                records::validate_fields(schema, &object, &record.fields)?;
                if let Some(id) = &record.id
                    && tx.record(ws, &object, id).await?.is_some()
                {
                    return Err(RuntimeError::Conflict(format!(
                        "{object} {id} already exists"
                    )));
                }
                let r = records::new_record(ws, &object, record.id, record.fields, now);
                tx.insert_record(&r).await?;
                let events = records::created_events(&r, cause);
                (Some(r), events)
            }
            RecordOp::Update { object, id, fields } => {
                records::validate_fields(schema, &object, &fields)?;
                let before = tx
                    .record(ws, &object, &id)
                    .await?
                    .ok_or_else(|| RuntimeError::not_found("record", &id))?;
                let mut after = before.clone();
                records::apply_patch(&mut after.fields, &fields);
                after.updated_at = now;
                let unchanged_at = before.updated_at;
                let events = records::updated_events(before, &after, cause);
                if events.is_empty() {
                    after.updated_at = unchanged_at;
                } else {
                    tx.update_record(&after).await?;
                }
                (Some(after), events)
            }
            RecordOp::Delete { object, id } => {
                self.check_object(ws, &object)?;
                let before = tx
                    .record(ws, &object, &id)
                    .await?
                    .ok_or_else(|| RuntimeError::not_found("record", &id))?;
                tx.delete_record(ws, &object, &id).await?;
                (None, records::deleted_events(&before, cause, now))
            }
        };
        let accepted = self.accept_generated_in_tx(tx, &events, subjects).await?;
        let queued = accepted.into_iter().flat_map(|a| a.queued).collect();
        Ok(Written {
            record,
            events,
            queued,
        })
    }
}
