//! The wire types of the daemon's HTTP protocol, shared by the CLI (client) and the daemon
//! (server): gstack's `/health`, `/command` and `/batch` bodies plus our identity fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped only when a change would make an older peer misread a message. A CLI talks to any
/// daemon that speaks the same protocol, whatever their versions.
pub const PROTOCOL: u32 = 1;

/// The header naming the calling CLI process on `/health` and `/command` (random, per CLI
/// process; gstack's CLI sends none). The daemon pairs a CLI's health check with the command
/// that follows it, so that `stop --if-idle` never stops a daemon that a CLI has just checked
/// and is about to use.
pub const CALLER_HEADER: &str = "x-browse-caller";

/// A header of a successful `/command` answer, once per note: something the command left out
/// or could not do that the caller should know (`snapshot`: an iframe that did not answer).
/// The CLI prints each on stderr; gstack's CLI ignores it. Its value is [`encode_note`]'s
/// printable ASCII (the CLI's HTTP client drops a header value with any other byte).
pub const NOTE_HEADER: &str = "x-browse-note";

/// The bytes [`encode_note`] escapes besides every non-ASCII one: controls, and `%` itself.
const NOTE_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');

/// A note as a header value: UTF-8 percent-encoded (RFC 3986 `%XX`) where a byte is not
/// printable ASCII, and `%` itself, so a page's or user's words in any script survive the
/// trip (they became `?`: `text=Über` read `text=?ber`). [`decode_note`] reverses it.
pub fn encode_note(note: &str) -> String {
    percent_encoding::utf8_percent_encode(note, NOTE_ESCAPED).to_string()
}

/// The note [`encode_note`] encoded; bytes that are not UTF-8 after decoding become U+FFFD.
pub fn decode_note(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// How long a health check counts as "a command is about to follow" for `stop --if-idle`
/// (ms). Longer than any CLI's gap between the two on a loaded machine.
pub const PROBE_LEASE_MS: u64 = 3_000;

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
    /// The calling CLI's working directory (absolute): relative file paths in the command
    /// resolve against it, as a user expects from any CLI. Absent (gstack's CLI, raw HTTP
    /// clients) means the daemon's own directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

impl CommandRequest {
    pub fn new(command: impl Into<String>, args: Vec<String>) -> Self {
        Self {
            command: command.into(),
            args,
            tab_id: None,
            envelope: None,
            cwd: None,
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
    /// What the command produced before it failed (`chain --strict`: the steps that ran); the
    /// CLI prints it on stdout, before the error on stderr. Absent in gstack's bodies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

impl ErrorBody {
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            hint: None,
            output: None,
        }
    }

    pub fn with_hint(error: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            hint: Some(hint.into()),
            output: None,
        }
    }
}

/// How the error of a command refused because the daemon is shutting down begins (sent with
/// 503): it never ran, so a CLI runs it again on the daemon that follows.
pub const SHUTTING_DOWN_ERROR: &str = "the daemon is shutting down";

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
    /// Which state directory the daemon serves: 16 hex digits of FNV-1a 64 over its canonical
    /// path (`StatePaths::state_dir_id`). A CLI whose workspace has another id is talking to
    /// the daemon of another workspace (a `cp -a` copy) and treats it as not its own. Absent
    /// from gstack's daemons and older ones, which are then judged by pid and instance id alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir_id: Option<String>,
    /// The daemon is shutting down (`stop`, idle, a signal, or replaced by a newer version): a
    /// CLI must not choose it for a command, and waits for its successor instead. Absent
    /// (false) from gstack's daemons.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopping: bool,
    /// Downloads still in progress: a shutdown waits for them (`BROWSE_DOWNLOAD_GRACE`).
    /// Absent (0) from gstack's daemons.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub downloads_in_progress: usize,
    /// At most how many ms from now this daemon takes to exit once asked (or, while
    /// `stopping`, still takes), from its own settings read when it started: the download
    /// grace, `BROWSE_CLOSE_TIMEOUT` and the drain margin. A CLI waits this long, not what
    /// its own environment says. Absent from gstack's daemons and older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown_within_ms: Option<u64>,
    /// The daemon's own `BROWSE_DOWNLOAD_GRACE` (ms): how long a shutdown lets downloads in
    /// progress finish. Absent from gstack's daemons and older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_grace_ms: Option<u64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A decoded `POST /batch` body: the raw entries (each decoded on its own, so one bad entry
/// fails alone) and the batch-wide envelope choice.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    pub entries: Vec<Value>,
    /// Applies to the entries that make no choice of their own.
    pub envelope: Option<bool>,
}

impl BatchRequest {
    /// Decodes `{"commands":[...]}` with gstack's error texts.
    pub fn from_json(value: Value) -> Result<Self, ErrorBody> {
        let envelope = value.get("envelope").and_then(Value::as_bool);
        let entries = match value {
            Value::Object(mut map) => match map.remove("commands") {
                Some(Value::Array(entries)) if !entries.is_empty() => entries,
                _ => return Err(ErrorBody::new("\"commands\" must be a non-empty array")),
            },
            _ => return Err(ErrorBody::new("\"commands\" must be a non-empty array")),
        };
        if entries.len() > MAX_BATCH {
            return Err(ErrorBody::new(format!(
                "Max {MAX_BATCH} commands per batch"
            )));
        }
        Ok(Self { entries, envelope })
    }
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
    #[test]
    fn notes_keep_every_character_through_a_header() {
        for note in [
            "plain ascii: @e1 'x' ~",
            "text=Über 💾 שלום e\u{301}",
            "a \\ backslash, a %41 lookalike, 100% and a trailing %",
            "control \u{1b}[2J and \u{7f}",
            "",
        ] {
            let encoded = super::encode_note(note);
            assert!(
                encoded.bytes().all(|b| (b' '..=b'~').contains(&b)),
                "{encoded}"
            );
            assert_eq!(super::decode_note(&encoded), note);
        }
        // A daemon before the encoding: its ASCII notes read as they are unless they hold
        // a `%` and two hex digits.
        assert_eq!(super::decode_note("C:\\x 50% done"), "C:\\x 50% done");
    }

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

#[cfg(test)]
mod fuzz {
    //! Property tests (run long by `scripts/fuzz`): decoding any JSON never panics, and what
    //! decodes round-trips.
    use super::*;
    use proptest::prelude::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".*".prop_map(Value::String),
            prop_oneof![
                Just("command"),
                Just("args"),
                Just("tabId"),
                Just("commands")
            ]
            .prop_map(|s| Value::String(s.into())),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("command".to_owned()),
                        Just("args".to_owned()),
                        Just("tabId".to_owned()),
                        Just("envelope".to_owned()),
                        Just("commands".to_owned()),
                        ".{0,8}"
                    ],
                    inner,
                    0..6
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn fuzz_command_body_decoding_never_panics(v in json()) {
            if let Ok(req) = CommandRequest::from_json(v) {
                prop_assert!(!req.command.is_empty());
                let again = serde_json::to_value(&req).unwrap();
                prop_assert_eq!(CommandRequest::from_json(again).unwrap(), req);
            }
        }

        #[test]
        fn fuzz_command_body_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                let _ = CommandRequest::from_json(v);
            }
        }

        #[test]
        fn fuzz_batch_body_decoding_never_panics(v in json()) {
            if let Ok(batch) = BatchRequest::from_json(v) {
                prop_assert!(!batch.entries.is_empty() && batch.entries.len() <= MAX_BATCH);
                for entry in batch.entries {
                    let _ = CommandRequest::from_json(entry);
                }
            }
        }
    }
}
