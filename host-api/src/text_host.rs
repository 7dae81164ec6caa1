//! [`TextHost`]: the host of the plugin benchmarks. It does what a plain wasmtime host's
//! record functions do (answer reads from a map of JSON texts, accept an update and store
//! nothing) and refuses everything else, so that a comparison with such a host measures
//! the engines, not the hosts. Never a production host: it keeps nothing a plugin writes.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::host::{
    CallInfo, Email, Host, HostResult, HttpRequest, HttpResponse, LogLevel, NewTask,
};

/// Records as JSON texts; updates accepted and dropped; every other call refused.
#[derive(Debug, Default)]
pub struct TextHost {
    /// Object -> id -> text (looked up by the borrowed names `Host` receives).
    records: HashMap<String, HashMap<String, String>>,
}

impl TextHost {
    /// A host answering `records` (object, id, fields).
    pub fn new<'a>(records: impl IntoIterator<Item = (&'a str, &'a str, Value)>) -> TextHost {
        let mut texts: HashMap<String, HashMap<String, String>> = HashMap::new();
        for (object, id, value) in records {
            texts
                .entry(object.into())
                .or_default()
                .insert(id.into(), value.to_string());
        }
        TextHost { records: texts }
    }
}

const UNUSED: &str = "the benchmark host answers records only";

impl Host for TextHost {
    fn record_get(&self, call: &CallInfo, object: &str, id: &str) -> HostResult<Option<Value>> {
        let text = self.record_get_text(call, object, id)?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .transpose()
    }

    fn record_get_text(&self, _: &CallInfo, object: &str, id: &str) -> HostResult<Option<String>> {
        Ok(self.records.get(object).and_then(|r| r.get(id)).cloned())
    }

    fn record_query(
        &self,
        _: &CallInfo,
        _: &str,
        _: &Map<String, Value>,
        _: u32,
    ) -> HostResult<Vec<Value>> {
        Err(UNUSED.into())
    }

    fn record_create(&self, _: &CallInfo, _: &str, _: Map<String, Value>) -> HostResult<String> {
        Err(UNUSED.into())
    }

    fn record_update(
        &self,
        _: &CallInfo,
        _: &str,
        _: &str,
        _: Map<String, Value>,
    ) -> HostResult<()> {
        Ok(())
    }

    fn email_send(&self, _: &CallInfo, _: Email) -> HostResult<()> {
        Err(UNUSED.into())
    }

    fn notify_user(&self, _: &CallInfo, _: &str, _: &str) -> HostResult<()> {
        Err(UNUSED.into())
    }

    fn notify_channel(&self, _: &CallInfo, _: &str, _: &str) -> HostResult<()> {
        Err(UNUSED.into())
    }

    fn task_create(&self, _: &CallInfo, _: NewTask) -> HostResult<String> {
        Err(UNUSED.into())
    }

    fn http_fetch(&self, _: &CallInfo, _: HttpRequest) -> HostResult<HttpResponse> {
        Err(UNUSED.into())
    }

    fn log(&self, _: &CallInfo, _: LogLevel, _: &str, _: &[(String, String)]) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_call as call;
    use serde_json::json;

    #[test]
    fn reads_its_texts_drops_updates_and_refuses_the_rest() {
        let lead = json!({"email": "jo@acme.com", "score": 1});
        let host = TextHost::new([("lead", "l1", lead.clone())]);
        let c = call();
        assert_eq!(
            host.record_get_text(&c, "lead", "l1").unwrap(),
            Some(lead.to_string())
        );
        assert_eq!(
            host.record_get(&c, "lead", "l1").unwrap(),
            Some(lead.clone())
        );
        assert_eq!(host.record_get(&c, "lead", "l2").unwrap(), None);
        assert_eq!(host.record_get(&c, "account", "l1").unwrap(), None);
        let update = json!({"score": 9}).as_object().cloned().unwrap();
        host.record_update(&c, "lead", "l1", update).unwrap();
        assert_eq!(host.record_get(&c, "lead", "l1").unwrap(), Some(lead));
        assert!(host.notify_channel(&c, "#x", "hi").is_err());
        assert!(host.record_create(&c, "lead", Map::new()).is_err());
    }
}
