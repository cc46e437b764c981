//! The readiness pipe between a spawner and the daemon it starts, and the shared start error
//! that every waiter of the same stampede reports.
//!
//! The daemon writes exactly one JSON line, `Ready` once `browse.json` is published or `Failed`
//! with the cause, then closes its end. EOF without a line means the daemon died; the spawner
//! learns it at once instead of after a timeout.

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use serde::{Deserialize, Serialize};

use crate::atomic_file;

/// What a daemon says on its readiness pipe.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Readiness {
    Ready {
        pid: u32,
        port: u16,
        instance_id: String,
    },
    Failed {
        reason: String,
    },
}

impl Readiness {
    /// Writes the message and closes the pipe (daemon side).
    pub fn send(self, pipe: OwnedFd) -> io::Result<()> {
        let mut file = fs::File::from(pipe);
        let mut line = serde_json::to_vec(&self).map_err(io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)
    }
}

/// What the spawner heard before `deadline`.
pub enum Heard {
    Message(Readiness),
    /// The daemon closed the pipe without a word: it died.
    Eof,
    TimedOut,
}

/// Reads the daemon's one message (spawner side).
pub fn receive(pipe: OwnedFd, deadline: Instant) -> io::Result<Heard> {
    let mut buf = Vec::new();
    let mut file = fs::File::from(pipe);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Heard::TimedOut);
        }
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let mut chunk = [0u8; 4096];
        let n = file.read(&mut chunk)?;
        if n == 0 {
            return Ok(match serde_json::from_slice(&buf) {
                Ok(msg) => Heard::Message(msg),
                Err(_) => Heard::Eof,
            });
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.contains(&b'\n') {
            if let Ok(msg) = serde_json::from_slice(&buf) {
                return Ok(Heard::Message(msg));
            }
        }
    }
}

/// `browse-start-error.json`: the cause of the last failed start, so that the waiters of a
/// stampede report it instead of each starting a daemon again.
#[derive(Debug, Serialize, Deserialize)]
struct StartError {
    at_ms: u64,
    reason: String,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}

/// Publishes a start failure (lock holder only).
pub fn publish_start_error(path: &Path, reason: &str) {
    let body = StartError {
        at_ms: now_ms(),
        reason: reason.to_owned(),
    };
    if let Ok(json) = serde_json::to_vec(&body) {
        let _ = atomic_file::write_atomic(path, &json, 0o600);
    }
}

/// The published failure, if it happened at or after `since_ms` (while we were waiting).
pub fn start_error_since(path: &Path, since_ms: u64) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    let err: StartError = serde_json::from_slice(&bytes).ok()?;
    (err.at_ms >= since_ms).then_some(err.reason)
}
