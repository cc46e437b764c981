//! Which Chromium profile a daemon uses: the workspace's (`chromium-profile/`, the default), a
//! throw-away one under the state dir (`--ephemeral`, removed when the daemon is done), or a
//! persistent one the user chooses (`--profile DIR`). The choice travels to the daemon in the
//! environment and is written in the record (`profile`), so a CLI asking for another profile
//! is refused and stale cleanup knows what to remove. A user's profile is never cleaned: its
//! `Singleton*` files belong to Chromium, and we only read `SingletonLock` to refuse a profile
//! a live browser holds.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::paths::StatePaths;
use super::record::StateRecord;

/// The record's `profile` value for a throw-away profile.
pub const EPHEMERAL: &str = "ephemeral";

/// The prefix of a throw-away profile's folder name in the state dir; the daemon's
/// `instanceId` follows it.
const EPHEMERAL_PREFIX: &str = "chromium-profile-ephemeral-";

/// The profile a daemon uses for the choice `profile` (`None`: the workspace's; [`EPHEMERAL`];
/// else an absolute directory) and the daemon's `instance_id`. `None` when the record cannot
/// name a folder safely (an ephemeral profile whose instance id is not 1-64 of `[A-Za-z0-9]`).
pub fn dir_for(paths: &StatePaths, profile: Option<&str>, instance_id: &str) -> Option<PathBuf> {
    match profile {
        None => Some(paths.profile_dir.clone()),
        Some(EPHEMERAL) => ephemeral_dir(paths, instance_id),
        Some(dir) => Some(PathBuf::from(dir)),
    }
}

/// The profile folder the record's Chromium must run for process identity: only a folder in
/// this workspace's state dir (the workspace's or its throw-away one). A user's `--profile`
/// is never used to prove a process ours, so a record naming any directory cannot widen what
/// may be signalled.
pub fn provable_dir(paths: &StatePaths, rec: &StateRecord) -> Option<PathBuf> {
    match rec.profile.as_deref() {
        None => Some(paths.profile_dir.clone()),
        Some(EPHEMERAL) => ephemeral_dir(paths, &rec.instance_id),
        Some(_) => None,
    }
}

fn ephemeral_dir(paths: &StatePaths, instance_id: &str) -> Option<PathBuf> {
    let safe = !instance_id.is_empty()
        && instance_id.len() <= 64
        && instance_id.bytes().all(|b| b.is_ascii_alphanumeric());
    safe.then(|| {
        paths
            .state_dir
            .join(format!("{EPHEMERAL_PREFIX}{instance_id}"))
    })
}

/// Removes the record's throw-away profile, if it has one. Call only once its Chromium is
/// gone (the daemon's exit, or stale cleanup under the lock).
pub fn remove_ephemeral(paths: &StatePaths, rec: &StateRecord) {
    if rec.profile.as_deref() != Some(EPHEMERAL) {
        return;
    }
    if let Some(dir) = ephemeral_dir(paths, &rec.instance_id) {
        // Processes of a just-killed Chromium may still be exiting and a last file may appear
        // while the tree is removed ("Directory not empty"): try again for a moment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            // A symbolic link at that name is removed as a link, never followed.
            let removed = match fs::symlink_metadata(&dir) {
                Ok(m) if m.is_dir() => fs::remove_dir_all(&dir),
                Ok(_) => fs::remove_file(&dir),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            };
            if removed.is_ok() || std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Who holds `dir` according to Chromium's own `SingletonLock` (a symbolic link to
/// `hostname-pid`): `Some("pid N")` or `Some("pid N on host H")` when that browser may still
/// run (a live pid here, or any pid on another host, which we cannot check); `None` when no
/// lock is there or its process is gone.
pub fn held_by(dir: &Path) -> Option<String> {
    let target = fs::read_link(dir.join("SingletonLock")).ok()?;
    let target = target.to_string_lossy();
    let (host, pid) = target.rsplit_once('-')?;
    let pid: u32 = pid.parse().ok()?;
    if host != super::identity::hostname() {
        return Some(format!("pid {pid} on host {host}"));
    }
    super::identity::is_live(pid).then(|| format!("pid {pid}"))
}

/// Resolves a `--profile` value against the current directory; refuses an empty one.
pub fn absolute(dir: &str) -> io::Result<PathBuf> {
    if dir.trim().is_empty() {
        return Err(io::Error::other("--profile needs a directory"));
    }
    let path = Path::new(dir);
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(path))
    }
}
