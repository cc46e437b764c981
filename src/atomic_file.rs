//! Crash-safe file replacement: the one way `browse` writes a file that someone else may read at
//! any moment (the state record, screenshots). The shared start error is the exception: it is
//! overwritten in place so that it can be written on a full disk (`launcher/readiness.rs`).
//!
//! The bytes go to a per-process temp file `<name>.tmp.<pid>.<hex>` created with `O_EXCL`, are
//! fsynced, renamed over the target and the directory is fsynced. Two writers can never rename
//! each other's temp away (the gstack ENOENT race), and a reader sees the old file or the new
//! one, never half of either. On any failure the temp file is removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::RngCore;

/// Replaces `target` with `contents`, leaving the file with `mode` whatever the umask.
pub fn write_atomic(target: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let temp = temp_path_for(target);
    let result = write_temp_then_rename(&temp, target, contents, mode);
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn write_temp_then_rename(
    temp: &Path,
    target: &Path,
    contents: &[u8],
    mode: u32,
) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(temp)?;
    // The mode given to open() is filtered by the umask; set it exactly.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp, target)?;
    if let Some(dir) = target.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Creates `target` with `contents` only if nothing is there: the bytes go to a temp file
/// (as in [`write_atomic`]) that is then hard-linked to `target`, so a reader never sees the
/// file empty or half written (gstack's lock readers take an empty file for a stale one).
/// Returns `Ok(false)` when `target` already exists. The temp file is always removed.
pub fn create_exclusive(target: &Path, contents: &[u8], mode: u32) -> io::Result<bool> {
    let temp = temp_path_for(target);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temp)?;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()
    })();
    let result = written.and_then(|()| match fs::hard_link(&temp, target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    });
    let _ = fs::remove_file(&temp);
    result
}

/// `<target>.tmp.<pid>.<8 hex>`: unique per process and per call.
fn temp_path_for(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    let salt = rand::thread_rng().next_u32();
    name.push(format!(".tmp.{}.{salt:08x}", std::process::id()));
    target.with_file_name(name)
}

/// True when `name` is a temp file that [`write_atomic`] made for the file called `base`.
pub fn is_temp_of(name: &str, base: &str) -> bool {
    name.strip_prefix(base)
        .and_then(|rest| rest.strip_prefix(".tmp."))
        .is_some()
}

/// Removes temp files a killed writer left beside `target`. Only a lock holder may call this.
pub fn sweep_temps(target: &Path) -> usize {
    let (Some(dir), Some(base)) = (target.parent(), target.file_name().and_then(|n| n.to_str()))
    else {
        return 0;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(|n| is_temp_of(n, base)))
        .filter(|e| fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_exact_mode_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("browse.json");
        write_atomic(&target, b"{}", 0o600).unwrap();
        write_atomic(&target, b"{\"a\":1}", 0o600).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"{\"a\":1}");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failed_write_removes_its_temp() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails after the temp was written.
        let target = dir.path().join("browse.json");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("x"), b"x").unwrap();
        assert!(write_atomic(&target, b"{}", 0o600).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn exclusive_creation_never_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("browse.json.lock");
        assert!(create_exclusive(&target, b"1\n", 0o600).unwrap());
        assert!(!create_exclusive(&target, b"2\n", 0o600).unwrap());
        assert_eq!(fs::read(&target).unwrap(), b"1\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn sweeps_only_its_own_temps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("browse.json");
        fs::write(dir.path().join("browse.json.tmp.12.deadbeef"), b"x").unwrap();
        fs::write(dir.path().join("browse.lock"), b"").unwrap();
        assert_eq!(sweep_temps(&target), 1);
        assert!(dir.path().join("browse.lock").exists());
    }
}
