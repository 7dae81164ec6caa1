//! The plugin error type: a message that fails the step. It must stay a plain
//! message (the WIT boundary carries text only).

use std::fmt;

/// An error returned by a plugin; its text becomes the step's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error(message.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error(format!("json: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_the_message() {
        assert_eq!(Error::from("boom").message(), "boom");
        assert_eq!(Error::from(String::from("x")).to_string(), "x");
        let json = serde_json::from_str::<i32>("nope").unwrap_err();
        assert!(Error::from(json).message().starts_with("json: "));
    }
}
