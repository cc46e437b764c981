//! The CLI's HTTP client for one daemon: `GET /health` and `POST /command` over loopback.
//!
//! Errors are classified by what they mean for recovery (refused, reset, timed out), not by
//! message text, so the CLI can decide between "restart", "busy" and "retry".

use std::io::Read;
use std::time::Duration;

use crate::wire::{CommandRequest, ErrorBody, Health, CALLER_HEADER};

/// The most of a reply body we read.
const MAX_REPLY_BYTES: u64 = 512 * 1024 * 1024;

/// This process's caller id ([`CALLER_HEADER`]): 16 random hex digits, the same for every
/// request this CLI makes.
fn caller_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use rand::RngCore;
        format!("{:016x}", rand::rngs::OsRng.next_u64())
    })
}

/// How a request to the daemon failed below HTTP.
#[derive(Debug)]
pub enum TransportError {
    /// Nothing listens on the port: the daemon is gone (or not up yet).
    Refused,
    /// The connection broke mid-request: the daemon may have died.
    Broken(String),
    /// No answer in time: the daemon is alive but busy.
    TimedOut,
    /// The answer was not what a `browse` daemon sends.
    Garbled(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Refused => f.write_str("connection refused"),
            TransportError::Broken(e) => write!(f, "connection lost: {e}"),
            TransportError::TimedOut => f.write_str("timed out"),
            TransportError::Garbled(e) => write!(f, "unexpected reply: {e}"),
        }
    }
}

/// A reply with an HTTP status: success text, or the daemon's error body.
#[derive(Debug)]
pub enum Reply {
    /// The answer's text and the notes the daemon left besides it
    /// ([`crate::wire::NOTE_HEADER`]), for stderr.
    Ok(String, Vec<String>),
    Err {
        status: u16,
        body: ErrorBody,
    },
}

/// A client bound to one daemon's port and token.
pub struct DaemonClient {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl DaemonClient {
    pub fn new(port: u16, token: &str) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(2))
            .build();
        Self {
            agent,
            base: format!("http://127.0.0.1:{port}"),
            token: token.to_owned(),
        }
    }

    /// `GET /health` within `timeout`.
    pub fn health(&self, timeout: Duration) -> Result<Health, TransportError> {
        let resp = self
            .agent
            .get(&format!("{}/health", self.base))
            .set(CALLER_HEADER, caller_id())
            .timeout(timeout)
            .call()
            .map_err(classify)?;
        let body = read_body(resp)?;
        serde_json::from_str(&body).map_err(|e| TransportError::Garbled(e.to_string()))
    }

    /// `POST /command`, waiting at most `timeout` for the answer.
    pub fn command(
        &self,
        req: &CommandRequest,
        timeout: Duration,
    ) -> Result<Reply, TransportError> {
        let body =
            serde_json::to_string(req).map_err(|e| TransportError::Garbled(e.to_string()))?;
        let result = self
            .agent
            .post(&format!("{}/command", self.base))
            .timeout(timeout)
            .set("Content-Type", "application/json")
            .set(CALLER_HEADER, caller_id())
            .set("Authorization", &format!("Bearer {}", self.token))
            .send_string(&body);
        match result {
            Ok(resp) => {
                let notes = resp
                    .all(crate::wire::NOTE_HEADER)
                    .into_iter()
                    .map(crate::wire::decode_note)
                    .collect();
                Ok(Reply::Ok(read_body(resp)?, notes))
            }
            Err(ureq::Error::Status(status, resp)) => {
                let text = read_body(resp)?;
                let body = serde_json::from_str::<ErrorBody>(&text)
                    .unwrap_or_else(|_| ErrorBody::new(text.trim_end().to_owned()));
                Ok(Reply::Err { status, body })
            }
            Err(e) => Err(classify(e)),
        }
    }
}

fn read_body(resp: ureq::Response) -> Result<String, TransportError> {
    let mut bytes = Vec::new();
    resp.into_reader()
        .take(MAX_REPLY_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(&e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn classify(err: ureq::Error) -> TransportError {
    match err {
        ureq::Error::Status(status, _) => TransportError::Garbled(format!("HTTP {status}")),
        ureq::Error::Transport(t) => {
            use std::error::Error as _;
            if let Some(io) = t.source().and_then(|s| s.downcast_ref::<std::io::Error>()) {
                return io_error(io);
            }
            match t.kind() {
                ureq::ErrorKind::ConnectionFailed => TransportError::Refused,
                ureq::ErrorKind::Io => {
                    let text = t.to_string();
                    if text.contains("timed out") || text.contains("WouldBlock") {
                        TransportError::TimedOut
                    } else {
                        TransportError::Broken(text)
                    }
                }
                _ => TransportError::Broken(t.to_string()),
            }
        }
    }
}

fn io_error(e: &std::io::Error) -> TransportError {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => TransportError::Refused,
        TimedOut | WouldBlock => TransportError::TimedOut,
        _ => TransportError::Broken(e.to_string()),
    }
}
