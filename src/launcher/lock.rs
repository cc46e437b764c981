//! The election lock `.gstack/browse.lock`: an advisory `flock` (through `fd-lock`) whose holder
//! is the only process allowed to start a daemon or to write or delete `browse.json`.
//!
//! A starter that wins hands its locked open file description to the daemon it spawns, and the
//! daemon holds it for its whole life: the kernel drops it on any death, so "the lock is free"
//! is the proof that no daemon is alive. Dropping a [`ElectionLock`] closes our descriptor
//! without unlocking, so a lock shared with a child stays held by the child.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// A held election lock.
#[derive(Debug)]
pub struct ElectionLock {
    file: File,
}

/// The outcome of one non-blocking attempt.
#[derive(Debug)]
pub enum Attempt {
    Acquired(ElectionLock),
    /// A daemon or another starter holds it.
    Held,
}

impl ElectionLock {
    /// Tries once, without blocking, to take the lock at `path` (created 0600 if missing).
    pub fn try_acquire(path: &Path) -> io::Result<Attempt> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)?;
            let mut lock = fd_lock::RwLock::new(file);
            match lock.try_write() {
                Ok(guard) => std::mem::forget(guard),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Attempt::Held),
                Err(e) => return Err(e),
            }
            let held = ElectionLock {
                file: lock.into_inner(),
            };
            // The file may have been unlinked or replaced between open and flock; a lock on an
            // orphaned inode elects nobody, so take the one the path names now.
            if held.still_at(path) {
                return Ok(Attempt::Acquired(held));
            }
        }
    }

    /// Adopts the lock a spawner handed down as an inherited descriptor.
    ///
    /// # Safety
    /// `fd` must be an open descriptor that this process owns and that nothing else will close.
    pub unsafe fn from_inherited_fd(fd: RawFd) -> io::Result<Self> {
        let file = File::from_raw_fd(fd);
        set_cloexec(fd)?;
        Ok(ElectionLock { file })
    }

    /// True when `path` still names the inode we hold the lock on.
    pub fn still_at(&self, path: &Path) -> bool {
        match (fs::metadata(path), self.file.metadata()) {
            (Ok(p), Ok(f)) => p.ino() == f.ino() && p.dev() == f.dev(),
            _ => false,
        }
    }

    /// The descriptor to hand to a spawned daemon.
    pub fn raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// Writes our pid into the lock file. It is a diagnostic only ("who holds the lock");
    /// nothing decides anything from it.
    pub fn note_holder(&mut self, pid: u32) {
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = writeln!(self.file, "{pid}");
    }
}

/// Who holds the lock (from the diagnostic pid) and for how long (from the file's mtime).
pub fn holder_diagnostic(path: &Path) -> Option<(u32, Duration)> {
    let text = fs::read_to_string(path).ok()?;
    let pid = text.trim().parse().ok()?;
    let since = fs::metadata(path).ok()?.modified().ok()?;
    let held_for = SystemTime::now().duration_since(since).unwrap_or_default();
    Some((pid, held_for))
}

/// Marks `fd` close-on-exec so Chromium and other children never inherit it.
pub fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own; F_SETFD only changes its flags.
    let rc = unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_attempt_is_held_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse.lock");
        let first = match ElectionLock::try_acquire(&path).unwrap() {
            Attempt::Acquired(l) => l,
            Attempt::Held => panic!("fresh lock was held"),
        };
        assert!(matches!(
            ElectionLock::try_acquire(&path).unwrap(),
            Attempt::Held
        ));
        drop(first);
        assert!(matches!(
            ElectionLock::try_acquire(&path).unwrap(),
            Attempt::Acquired(_)
        ));
    }

    #[test]
    fn a_replaced_lock_file_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse.lock");
        let Attempt::Acquired(first) = ElectionLock::try_acquire(&path).unwrap() else {
            panic!("fresh lock was held")
        };
        fs::remove_file(&path).unwrap();
        assert!(!first.still_at(&path));
        assert!(matches!(
            ElectionLock::try_acquire(&path).unwrap(),
            Attempt::Acquired(_)
        ));
    }
}
