//! The `task` record that `create_task` writes, shared by the runtime's action and the
//! server's plugin host (`tasks` capability), so that both create the same shape.

use serde_json::{Map, Value, json};

/// What a task is made of, whoever creates it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskRecord {
    pub subject: Value,
    pub description: Option<Value>,
    /// A user id (the `assignee` param; the record's `assignee_id` field).
    pub assignee: Option<Value>,
    /// RFC 3339.
    pub due: Option<Value>,
    /// The record the task is about: (object, id).
    pub related: Option<(String, String)>,
}

/// The fields of the `task` record (DESIGN §4.1), created `open`.
pub fn task_record(task: TaskRecord) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("subject".into(), task.subject);
    fields.insert("status".into(), json!("open"));
    let optional = [
        ("description", task.description),
        ("assignee_id", task.assignee),
        ("due", task.due),
    ];
    for (field, value) in optional {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            fields.insert(field.into(), v);
        }
    }
    if let Some((object, id)) = task.related {
        fields.insert("related_object".into(), json!(object));
        fields.insert("related_id".into(), json!(id));
    }
    fields
}
