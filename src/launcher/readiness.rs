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
/// stampede report it instead of each starting a daemon again. Trailing spaces pad it to its
/// reserved size.
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

/// The size of `browse-start-error.json` once reserved (bytes): a cause and a log tail fit.
pub const START_ERROR_BYTES: usize = 4096;

/// Reserves `browse-start-error.json` before a start (lock holder only): the file is filled with
/// [`START_ERROR_BYTES`] spaces, which no reader takes for an error. A failure is later written
/// over these bytes in place, so it can be published even when the start failed because the
/// disk is full. Err means nothing can be written here (a full disk): the start cannot succeed.
pub fn reserve_start_error(path: &Path) -> io::Result<()> {
    write_in_place(path, &[b' '; START_ERROR_BYTES])
}

/// Publishes a start failure over the reservation (lock holder or its daemon). The reason is
/// shortened to fit; readers skip the file until it holds a whole JSON value.
pub fn publish_start_error(path: &Path, reason: &str) {
    let mut reason = reason.to_owned();
    loop {
        let body = StartError {
            at_ms: now_ms(),
            reason: reason.clone(),
        };
        let Ok(mut json) = serde_json::to_vec(&body) else {
            return;
        };
        if json.len() <= START_ERROR_BYTES || reason.is_empty() {
            json.resize(json.len().max(START_ERROR_BYTES), b' ');
            if let Err(e) = write_in_place(path, &json) {
                tracing::warn!("cannot publish the start error in {}: {e}", path.display());
            }
            return;
        }
        // Escaping makes JSON longer than the text: keep the share of the text that fits,
        // with room for the envelope and the ellipsis, and look again.
        let keep = (reason.len() * (START_ERROR_BYTES - 64) / json.len())
            .min(reason.len().saturating_sub(4));
        let mut cut = keep;
        while !reason.is_char_boundary(cut) {
            cut -= 1;
        }
        reason.truncate(cut);
        reason.push('…');
    }
}

/// Overwrites `path` from offset 0 without replacing the file: blocks it already has are
/// reused, so this works on a full disk once the file holds as many bytes. Never follows a
/// symlink; creates the file (0600) if it is missing.
fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    let file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    file.write_all_at(bytes, 0)?;
    if file.metadata()?.len() > bytes.len() as u64 {
        file.set_len(bytes.len() as u64)?;
    }
    Ok(())
}

/// The published failure, if it happened at or after `since_ms` (while we were waiting).
pub fn start_error_since(path: &Path, since_ms: u64) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    let err: StartError = serde_json::from_slice(&bytes).ok()?;
    (err.at_ms >= since_ms).then_some(err.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_is_no_error_and_a_published_one_fits_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse-start-error.json");
        fs::write(&path, "{\"at_ms\":1,\"reason\":\"an old failure\"}").unwrap();
        reserve_start_error(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), START_ERROR_BYTES as u64);
        assert_eq!(start_error_since(&path, 0), None);
        let began = now_ms();
        publish_start_error(&path, "No space left on device");
        assert_eq!(
            start_error_since(&path, began).as_deref(),
            Some("No space left on device")
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), START_ERROR_BYTES as u64);
    }

    #[test]
    fn a_long_cause_is_cut_to_the_reservation_keeping_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse-start-error.json");
        reserve_start_error(&path).unwrap();
        let long = format!("the cause\n{}", "é\"\n".repeat(5_000));
        publish_start_error(&path, &long);
        let got = start_error_since(&path, 0).unwrap();
        assert!(got.starts_with("the cause\n"), "{got:.40}");
        assert!(got.ends_with('…'));
        assert_eq!(fs::metadata(&path).unwrap().len(), START_ERROR_BYTES as u64);
    }
}
