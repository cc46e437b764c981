//! The wire types of the daemon's HTTP protocol, shared by the CLI (client) and the daemon
//! (server): gstack's `/health`, `/command` and `/batch` bodies plus our identity fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped only when a change would make an older peer misread a message. A CLI talks to any
/// daemon that speaks the same protocol, whatever their versions.
pub const PROTOCOL: u32 = 1;

/// The largest request body the daemon reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// At most this many entries in one `POST /batch`.
pub const MAX_BATCH: usize = 50;

/// `POST /command` body: `{"command":"goto","args":["https://example.com"],"tabId":2}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommandRequest {
    pub command: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(rename = "tabId", default, skip_serializing_if = "Option::is_none")]
    pub tab_id: Option<u64>,
    /// Wrap page content in gstack's untrusted-content envelope; absent means the daemon default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<bool>,
}

impl CommandRequest {
    pub fn new(command: impl Into<String>, args: Vec<String>) -> Self {
        Self {
            command: command.into(),
            args,
            tab_id: None,
            envelope: None,
        }
    }

    /// Decodes a request from parsed JSON with gstack's error texts for the common mistakes.
    pub fn from_json(value: Value) -> Result<Self, ErrorBody> {
        let Value::Object(map) = &value else {
            return Err(ErrorBody::new("Request body must be a JSON object"));
        };
        match map.get("command") {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(ErrorBody::new("Missing \"command\" field"))
            }
            Some(_) => return Err(ErrorBody::new("\"command\" must be a string")),
        }
        serde_json::from_value(value).map_err(|e| ErrorBody::new(format!("Invalid request: {e}")))
    }
}

/// Every error body: `{"error": "...", "hint": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            hint: None,
        }
    }

    pub fn with_hint(error: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            hint: Some(hint.into()),
        }
    }
}

/// `GET /health`: gstack's five keys plus the daemon's identity. Never the token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub status: String,
    pub mode: String,
    pub uptime: u64,
    pub tabs: usize,
    pub terminal_port: Option<u16>,
    pub pid: u32,
    pub instance_id: String,
    pub version: String,
    pub started_at: String,
    #[serde(default)]
    pub protocol: u32,
    /// Requests being served right now (besides this one).
    #[serde(default)]
    pub in_flight: usize,
}

/// One entry of a `POST /batch` reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct BatchEntryResult {
    pub index: usize,
    pub status: u16,
    pub result: String,
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tab_id: Option<u64>,
}

/// The `POST /batch` reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchReply {
    pub results: Vec<BatchEntryResult>,
    pub duration: u64,
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_gstack_bodies() {
        let r =
            CommandRequest::from_json(serde_json::json!({"command":"goto","args":["x"],"tabId":2}))
                .unwrap();
        assert_eq!(r.tab_id, Some(2));
        let r = CommandRequest::from_json(serde_json::json!({"command":"url"})).unwrap();
        assert!(r.args.is_empty());
    }

    #[test]
    fn explains_bad_bodies() {
        let missing = CommandRequest::from_json(serde_json::json!({"args":[]})).unwrap_err();
        assert_eq!(missing.error, "Missing \"command\" field");
        assert!(CommandRequest::from_json(serde_json::json!({"command":"x","args":"y"})).is_err());
        assert!(CommandRequest::from_json(serde_json::json!([1])).is_err());
    }
}
