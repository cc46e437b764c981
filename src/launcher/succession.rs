//! Version succession: a newer `browse` replaces an older daemon at most once per race, and an
//! older starter never undoes it.
//!
//! The daemon holds the election lock for life, so a newer CLI cannot take that lock to replace
//! it. It first claims the succession instead: `browse-upgrade.json`, created exclusively
//! ([`crate::atomic_file::create_exclusive`], never seen empty) with the claimant's pid, start
//! time and version. Only the claimant asks the older daemon to stop (`stop --if-idle`), and the
//! claim lasts until the claimant has its daemon or gives up. An older starter that wins the
//! election while a live claim names a newer version does not spawn: it lets the lock go and
//! waits for the claimant's daemon ([`newer_claim`], checked by `launcher::elect`). A claim whose
//! process is gone (or whose pid now names another process) is stale: ignored, and removed by
//! the next claimant. The file decides nothing else and never makes anyone send a signal.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::identity;
use super::paths::StatePaths;
use crate::settings::compare_versions;

/// The claim's file name beside `browse.json`.
pub const CLAIM_FILE: &str = "browse-upgrade.json";

/// A claim older than this is stale whoever it names: a claimant needs at most the old
/// daemon's stop (20 s) and one start (`BROWSE_START_TIMEOUT`), so a planted claim naming a
/// live process cannot hold starters back for longer.
const MAX_CLAIM_AGE: std::time::Duration = std::time::Duration::from_secs(120);

/// What a claim says: who replaces the daemon, and with which version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ClaimBody {
    pid: u32,
    pid_start_time: u64,
    hostname: String,
    version: String,
}

impl ClaimBody {
    fn ours(version: &str) -> Option<Self> {
        let pid = std::process::id();
        Some(Self {
            pid,
            pid_start_time: identity::start_time(pid)?,
            hostname: identity::hostname(),
            version: version.to_owned(),
        })
    }

    /// True while the claimant runs: same host, and its pid still names the same process.
    fn is_live(&self) -> bool {
        self.hostname == identity::hostname()
            && identity::is_same_live_process(self.pid, self.pid_start_time)
    }
}

/// A held claim; dropping it removes the file if it still names us.
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    body: ClaimBody,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if read(&self.path).is_some_and(|(body, _)| body == self.body) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn claim_path(paths: &StatePaths) -> PathBuf {
    paths.state_dir.join(CLAIM_FILE)
}

/// The claim at `path` and its inode, if it is readable, well formed, ours (owned by this
/// user) and younger than [`MAX_CLAIM_AGE`]; anything else counts as no claim.
fn read(path: &Path) -> Option<(ClaimBody, u64)> {
    let claim = super::record::read_small(path, 4096)?;
    if claim.uid != nix::unistd::geteuid().as_raw() || claim.age > MAX_CLAIM_AGE {
        return None;
    }
    Some((serde_json::from_slice(&claim.bytes).ok()?, claim.inode))
}

/// Claims the succession for `version`. `Ok(None)` when a live claimant got there first.
///
/// # Errors
/// The state directory cannot be written (the caller then keeps the running daemon).
pub fn claim(paths: &StatePaths, version: &str) -> io::Result<Option<Claim>> {
    let path = claim_path(paths);
    let body = ClaimBody::ours(version)
        .ok_or_else(|| io::Error::other("cannot read this process's start time"))?;
    let mut bytes = serde_json::to_vec(&body).map_err(io::Error::other)?;
    bytes.push(b'\n');
    // Twice at most: once more after removing a stale claim.
    for _ in 0..2 {
        if crate::atomic_file::create_exclusive(&path, &bytes, 0o600)? {
            return Ok(Some(Claim { path, body }));
        }
        match read(&path) {
            Some((theirs, _)) if theirs.is_live() => return Ok(None),
            found => remove_stale(&path, found.map(|(_, inode)| inode)),
        }
    }
    Ok(None)
}

/// Removes the stale claim at `path` if the path still names the inode that was judged stale
/// (`None`: an unreadable file, judged by what is there now).
fn remove_stale(path: &Path, judged: Option<u64>) {
    let now = fs::symlink_metadata(path).ok().map(|m| m.ino());
    if judged.is_none() || now == judged {
        let _ = fs::remove_file(path);
    }
}

/// The version of a live claimant newer than `ours`, if one is replacing the daemon: an older
/// starter must then not spawn a daemon of its own.
pub fn newer_claim(paths: &StatePaths, ours: &str) -> Option<String> {
    let (body, _) = read(&claim_path(paths))?;
    (body.is_live() && compare_versions(&body.version, ours).is_gt()).then_some(body.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, StatePaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = StatePaths::from_state_file(dir.path().join("browse.json"), false);
        (dir, paths)
    }

    #[test]
    fn one_claim_at_a_time_and_only_newer_ones_make_older_starters_yield() {
        let (_dir, paths) = workspace();
        let held = claim(&paths, "0.2.0").unwrap().expect("first claim");
        assert!(claim(&paths, "0.2.0").unwrap().is_none());
        assert_eq!(newer_claim(&paths, "0.1.0").as_deref(), Some("0.2.0"));
        assert_eq!(newer_claim(&paths, "0.2.0"), None);
        drop(held);
        assert!(!claim_path(&paths).exists());
        assert_eq!(newer_claim(&paths, "0.1.0"), None);
    }

    #[test]
    fn a_claim_of_a_dead_process_is_stale() {
        let (_dir, paths) = workspace();
        let dead = ClaimBody {
            pid: std::process::id(),
            pid_start_time: identity::start_time(std::process::id()).unwrap() + 1,
            hostname: identity::hostname(),
            version: "9.9.9".into(),
        };
        fs::write(claim_path(&paths), serde_json::to_vec(&dead).unwrap()).unwrap();
        assert_eq!(newer_claim(&paths, "0.1.0"), None);
        assert!(claim(&paths, "0.2.0").unwrap().is_some());
        fs::write(claim_path(&paths), b"garbage").unwrap();
        assert!(claim(&paths, "0.2.0").unwrap().is_some());
    }
}
