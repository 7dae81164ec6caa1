//! Typed access to the host's capabilities. Each method is one host call,
//! checked by the host against the plugin's grants; a denial comes back as an
//! [`Error`] naming the missing capability. Nothing here caches or retries:
//! the host counts every call against the plugin's limit.

use crate::Error;
use crate::bindings::automations::plugin as wit;
use serde_json::{Map, Value};

pub use wit::clock::Datetime;
pub use wit::email::Message as Email;
pub use wit::http::{Request as HttpRequest, Response as HttpResponse};
pub use wit::log::Level;
pub use wit::tasks::{NewTask, RecordRef};

/// The plugin's handle on the host, passed to the plugin's `run` function.
#[derive(Debug)]
pub struct Ctx {
    _private: (),
}

impl Ctx {
    pub(crate) fn new() -> Self {
        Ctx { _private: () }
    }

    /// The record `id` of `object`, or `None` if it does not exist.
    /// Needs `records:read:<object>`.
    pub fn get_record(&self, object: &str, id: &str) -> Result<Option<Value>, Error> {
        match wit::records::get(object, id)? {
            Some(text) => Ok(Some(serde_json::from_str(&text)?)),
            None => Ok(None),
        }
    }

    /// Records of `object` whose fields equal every entry of `filter`, at most
    /// `limit`. Needs `records:read:<object>`.
    pub fn query_records(
        &self,
        object: &str,
        filter: &Map<String, Value>,
        limit: u32,
    ) -> Result<Vec<Value>, Error> {
        let filter = serde_json::to_string(filter)?;
        wit::records::query(object, &filter, limit)?
            .iter()
            .map(|text| serde_json::from_str(text).map_err(Error::from))
            .collect()
    }

    /// Creates a record and returns its id. Needs `records:write:<object>`.
    pub fn create_record(
        &self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<String, Error> {
        Ok(wit::records::create(
            object,
            &serde_json::to_string(fields)?,
        )?)
    }

    /// Sets `fields` on a record. Needs `records:write:<object>`.
    pub fn update_record(
        &self,
        object: &str,
        id: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), Error> {
        Ok(wit::records::update(
            object,
            id,
            &serde_json::to_string(fields)?,
        )?)
    }

    /// Sends an email. Needs `email:send`.
    pub fn send_email(&self, email: &Email) -> Result<(), Error> {
        Ok(wit::email::send(email)?)
    }

    /// Notifies a user. Needs `notify`.
    pub fn notify_user(&self, user_id: &str, message: &str) -> Result<(), Error> {
        Ok(wit::notify::user(user_id, message)?)
    }

    /// Posts to a channel. Needs `notify`.
    pub fn notify_channel(&self, channel: &str, message: &str) -> Result<(), Error> {
        Ok(wit::notify::channel(channel, message)?)
    }

    /// Creates a human task and returns its id. Needs `tasks:create`.
    pub fn create_task(&self, task: &NewTask) -> Result<String, Error> {
        Ok(wit::tasks::create(task)?)
    }

    /// Performs an HTTP request. Needs `http:fetch:<host>`.
    pub fn http_fetch(&self, request: &HttpRequest) -> Result<HttpResponse, Error> {
        Ok(wit::http::fetch(request)?)
    }

    /// POSTs `body` as JSON to `url` and returns the response.
    /// Needs `http:fetch:<host>`.
    pub fn http_post_json(&self, url: &str, body: &Value) -> Result<HttpResponse, Error> {
        self.http_fetch(&HttpRequest {
            method: "POST".to_string(),
            url: url.to_string(),
            headers: vec![("content-type".to_string(), "application/json".to_string())],
            body: Some(serde_json::to_vec(body)?),
        })
    }

    /// Writes a structured log line to the step. Needs `log`.
    pub fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]) {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        wit::log::log(level, message, &fields);
    }

    /// Shorthand for an `info` log line without fields. Needs `log`.
    pub fn info(&self, message: &str) {
        self.log(Level::Info, message, &[]);
    }

    /// The host's current time.
    pub fn now(&self) -> Datetime {
        wit::clock::now()
    }
}
