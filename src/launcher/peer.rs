//! gstack's daemon as a peer: a workspace may be shared with gstack's own `browse` (a Bun CLI
//! and a `bun run …/server.ts` daemon writing the same `.gstack/browse.json`, without
//! `instanceId`). We use a live, healthy gstack daemon through the shared wire protocol
//! (`/health`, `/command` with its bearer token), and when we start a daemon we take part in
//! gstack's own election as well as ours, so that a mixed stampede ends with one daemon.
//!
//! gstack elects with `browse.json.lock` (`cli.ts` `acquireServerLock`): created with
//! `O_CREAT|O_EXCL`, the holder's pid written into it, removed by the holder once its daemon
//! answers healthy (or it gave up, after `BROWSE_START_TIMEOUT`: 15 s, 30 s under `CI`). A
//! contender that finds it takes it for stale when the pid in it is not alive, or when it holds
//! no number, and unlinks it. We create it with our pid already inside (a hard link of a
//! written temp file, so gstack never reads it empty), hold it while we spawn and wait for
//! readiness, and remove it only while it still names us. We respect one held by a live pid,
//! or one still empty within [`EMPTY_GRACE`] of its creation (a gstack starter between its
//! create and its write); one older than [`MAX_HOLD`] is stale whatever it names.
//!
//! A gstack daemon is proven, before we send it its token or any signal, by its process: on
//! this host, alive, `bun` running a `server.ts`, started for this workspace
//! (`BROWSE_STATE_FILE` in its environment), and listening on the record's port. Only
//! `--force-restart` and `stop --force-restart` signal it: SIGINT first (gstack's graceful
//! shutdown closes its browser and removes its record), SIGKILL after [`FORCE_GRACE`].

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use serde::Deserialize;

use super::identity;
use super::paths::StatePaths;
use super::record::StateRecord;
use crate::wire::{Health, PROTOCOL};

/// An empty or unreadable gstack lock younger than this is being written by its starter.
const EMPTY_GRACE: Duration = Duration::from_secs(2);
/// gstack's longest hold: killing an old daemon (2 s), an orphan Chromium (1.5 s) and a 30 s
/// start wait, with margin. A lock older than this is stale whatever pid it names.
const MAX_HOLD: Duration = Duration::from_secs(40);
/// How long a forced stop waits after SIGINT before SIGKILL.
const FORCE_GRACE: Duration = Duration::from_secs(5);

/// gstack's lock file: the state file's path with `.lock` appended (`browse.json.lock`).
pub fn lock_path(paths: &StatePaths) -> PathBuf {
    let mut name = paths.state_file.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// gstack's lock, held by us; dropping it removes the file if it still names us.
#[derive(Debug)]
pub struct HeldPeerLock {
    path: PathBuf,
    inode: u64,
}

impl Drop for HeldPeerLock {
    fn drop(&mut self) {
        let ours = format!("{}", std::process::id());
        if let Some((Some(pid), inode, _)) = inspect(&self.path) {
            if inode == self.inode && pid.to_string() == ours {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

/// The outcome of trying gstack's lock.
#[derive(Debug)]
pub enum PeerLock {
    Ours(HeldPeerLock),
    /// A gstack starter holds it (its pid, when the file names one).
    Theirs(Option<u32>),
}

/// Tries once to take gstack's lock (removing a stale one first). The caller holds our flock,
/// so no other `browse` CLI races us for it; gstack CLIs may.
///
/// # Errors
/// The lock file cannot be created (the state directory is not writable).
pub fn take_lock(paths: &StatePaths) -> io::Result<PeerLock> {
    let path = lock_path(paths);
    let content = format!("{}\n", std::process::id());
    for _ in 0..2 {
        if crate::atomic_file::create_exclusive(&path, content.as_bytes(), 0o600)? {
            let inode = fs::symlink_metadata(&path)?.ino();
            return Ok(PeerLock::Ours(HeldPeerLock { path, inode }));
        }
        match inspect(&path) {
            None => continue,
            Some((pid, inode, age)) => {
                let fresh = match pid {
                    // Our own pid in it is a leftover of a recycled pid, not a starter.
                    Some(pid) => {
                        pid != std::process::id() && identity::is_live(pid) && age < MAX_HOLD
                    }
                    None => age < EMPTY_GRACE,
                };
                if fresh {
                    return Ok(PeerLock::Theirs(pid));
                }
                if fs::symlink_metadata(&path).is_ok_and(|m| m.ino() == inode) {
                    let _ = fs::remove_file(&path);
                }
            }
        }
    }
    Ok(PeerLock::Theirs(None))
}

/// The pid a gstack lock names (if it holds a number), its inode and its age.
fn inspect(path: &std::path::Path) -> Option<(Option<u32>, u64, Duration)> {
    let lock = super::record::read_small(path, 64)?;
    let pid = std::str::from_utf8(&lock.bytes)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .filter(|p| *p > 1);
    Some((pid, lock.inode, lock.age))
}

/// A gstack daemon proven to serve this workspace (see the module doc).
#[derive(Debug, Clone, Copy)]
pub struct ProvenPeer {
    pid: u32,
    start_time: u64,
}

/// Proves that the peer record's pid is a gstack daemon of this workspace listening on its port.
pub fn prove(paths: &StatePaths, rec: &StateRecord) -> Option<ProvenPeer> {
    if !rec.peer
        || rec.pid <= 1
        || rec.pid == std::process::id()
        || !identity::is_same_live_process(rec.pid, rec.pid_start_time)
    {
        return None;
    }
    let argv = identity::cmdline(rec.pid);
    let runs_bun = argv.first().is_some_and(|a| {
        std::path::Path::new(a)
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("bun"))
    });
    let runs_server = argv.iter().skip(1).any(|a| a.ends_with("server.ts"));
    (runs_bun
        && runs_server
        && identity::started_for(rec.pid, paths)
        && listens_on(rec.pid, rec.port))
    .then_some(ProvenPeer {
        pid: rec.pid,
        start_time: rec.pid_start_time,
    })
}

/// True when `pid` holds the socket listening on 127.0.0.1:`port` (`/proc/net/tcp`).
fn listens_on(pid: u32, port: u16) -> bool {
    let Ok(table) = fs::read_to_string(format!("/proc/{pid}/net/tcp")) else {
        return false;
    };
    let wanted = format!("0100007F:{port:04X}");
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // local address, state 0A = LISTEN, inode
            (cols.get(1) == Some(&wanted.as_str()) && cols.get(3) == Some(&"0A"))
                .then(|| cols.get(9).map(|s| format!("socket:[{s}]")))
                .flatten()
        })
        .collect();
    if inodes.is_empty() {
        return false;
    }
    fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten().any(|fd| {
            fs::read_link(fd.path())
                .is_ok_and(|t| inodes.iter().any(|i| t.as_os_str().to_string_lossy() == *i))
        })
    })
}

/// gstack's `/health` body (`server.ts`): five keys, no identity.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GstackHealth {
    status: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    uptime: u64,
    #[serde(default)]
    tabs: usize,
}

/// `GET /health` of a proven peer, as our [`Health`] (identity taken from the record).
pub fn health(rec: &StateRecord, timeout: Duration) -> Option<Health> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(2))
        .timeout(timeout)
        .build();
    let body = agent
        .get(&format!("http://127.0.0.1:{}/health", rec.port))
        .call()
        .ok()?
        .into_string()
        .ok()?;
    let theirs: GstackHealth = serde_json::from_str(&body).ok()?;
    Some(Health {
        status: theirs.status,
        mode: theirs.mode.unwrap_or_else(|| rec.mode.clone()),
        uptime: theirs.uptime,
        tabs: theirs.tabs,
        terminal_port: None,
        pid: rec.pid,
        instance_id: String::new(),
        version: rec.version.clone(),
        started_at: rec.started_at.clone(),
        protocol: PROTOCOL,
        in_flight: 0,
        state_dir_id: None,
        stopping: false,
        downloads_in_progress: 0,
        shutdown_within_ms: None,
        download_grace_ms: None,
    })
}

impl ProvenPeer {
    /// `--force-restart`: SIGINT (gstack's graceful shutdown), then SIGKILL after
    /// [`FORCE_GRACE`]. Each signal goes only to the same process (start time re-checked).
    pub fn force_stop(&self) -> bool {
        if !self.send(Signal::SIGINT) {
            return false;
        }
        let deadline = Instant::now() + FORCE_GRACE;
        let mut backoff = Duration::from_millis(5);
        while Instant::now() < deadline {
            if !identity::is_same_live_process(self.pid, self.start_time) {
                return true;
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(100));
        }
        self.send(Signal::SIGKILL)
    }

    fn send(&self, sig: Signal) -> bool {
        let Ok(raw) = i32::try_from(self.pid) else {
            return false;
        };
        identity::is_same_live_process(self.pid, self.start_time)
            && raw > 1
            && signal::kill(Pid::from_raw(raw), sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gstacks_lock_is_taken_respected_and_released() {
        let dir = tempfile::tempdir().unwrap();
        let paths = StatePaths::from_state_file(dir.path().join("browse.json"), false);
        let path = lock_path(&paths);
        assert!(path.ends_with("browse.json.lock"));
        // Held by a live starter (a `sleep` stands in for one).
        let mut starter = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        fs::write(&path, format!("{}\n", starter.id())).unwrap();
        let held_by_starter = take_lock(&paths).unwrap();
        let _ = starter.kill();
        let _ = starter.wait();
        assert!(matches!(held_by_starter, PeerLock::Theirs(Some(_))));
        // Our own pid in it is a leftover (a recycled pid), not a starter.
        fs::write(&path, format!("{}\n", std::process::id())).unwrap();
        let PeerLock::Ours(leftover) = take_lock(&paths).unwrap() else {
            panic!("our own pid was respected as a starter")
        };
        drop(leftover);
        // Just created, pid not written yet.
        fs::write(&path, b"").unwrap();
        assert!(matches!(take_lock(&paths).unwrap(), PeerLock::Theirs(None)));
        // A dead holder's lock is stale: taken, and removed when we are done.
        fs::write(&path, b"999999999\n").unwrap();
        let PeerLock::Ours(held) = take_lock(&paths).unwrap() else {
            panic!("a stale lock was respected")
        };
        assert_eq!(
            fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        drop(held);
        assert!(!path.exists());
    }
}
