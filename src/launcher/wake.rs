//! Waking a CLI that waits for another starter's daemon the moment the record appears.
//!
//! A waiter used to find the new `browse.json` on its next poll (every 5–20 ms), so each of
//! the N CLIs of a stampede spent the daemon's whole start looking at the state directory and
//! noticed the daemon up to a poll late. An inotify watch on the state directory reports the
//! rename that publishes the record (and the other files that end a wait) at once; the poll
//! stays, at a slower pace, for what no event announces (a starter that died holding the lock,
//! a lock released by a stopping daemon). Where inotify is not available (no instances left,
//! not Linux), the waiter keeps polling at the fast pace.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// A watch on a state directory for the files whose change can end a wait.
pub struct StateDirWatch {
    inotify: Option<Inotify>,
    /// File names (in the watched directory) whose appearance, replacement or removal wakes us.
    names: Vec<OsString>,
}

impl StateDirWatch {
    /// Watches `dir` for `names` being renamed into place, created or removed. Only those
    /// events: the waiters themselves open and close `browse.lock` on every look, and a
    /// close event would wake every other waiter each time.
    pub fn new(dir: &Path, names: &[&Path]) -> Self {
        let names = names
            .iter()
            .filter_map(|p| p.file_name().map(ToOwned::to_owned))
            .collect();
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .ok()
            .filter(|inotify| {
                inotify
                    .add_watch(
                        dir,
                        AddWatchFlags::IN_MOVED_TO
                            | AddWatchFlags::IN_CREATE
                            | AddWatchFlags::IN_DELETE
                            | AddWatchFlags::IN_ONLYDIR,
                    )
                    .is_ok()
            });
        StateDirWatch { inotify, names }
    }

    /// True when changes wake [`Self::wait`]; false when it can only sleep its timeout.
    pub fn is_active(&self) -> bool {
        self.inotify.is_some()
    }

    /// Returns when one of the watched names changed, or after `timeout`.
    pub fn wait(&self, timeout: Duration) {
        let Some(inotify) = &self.inotify else {
            std::thread::sleep(timeout);
            return;
        };
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            // Rounded up: a poll of the truncated milliseconds would end the wait early.
            let ms = u16::try_from(left.as_micros().div_ceil(1000)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => {
                    std::thread::sleep(left);
                    return;
                }
            }
            match inotify.read_events() {
                Ok(events) => {
                    let relevant = events.iter().any(|e| {
                        e.mask.contains(AddWatchFlags::IN_Q_OVERFLOW)
                            || e.name.as_ref().is_some_and(|n| self.names.contains(n))
                    });
                    if relevant {
                        return;
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => {}
                Err(_) => {
                    std::thread::sleep(left);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn the_record_renamed_into_place_wakes_a_waiter_and_the_lock_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("browse.json");
        let watch = StateDirWatch::new(dir.path(), &[&record]);
        assert!(watch.is_active(), "inotify is available on Linux");
        // What every waiter does on each look (the lock opened, closed; a log written) must
        // not wake the others.
        std::fs::write(dir.path().join("browse.lock"), b"").unwrap();
        drop(std::fs::File::open(dir.path().join("browse.lock")).unwrap());
        std::fs::write(dir.path().join("browse-daemon.log"), b"a line\n").unwrap();
        let began = Instant::now();
        watch.wait(Duration::from_millis(300));
        assert!(began.elapsed() >= Duration::from_millis(300));
        // The record published the way the daemon publishes it (temp file, rename) before
        // the wait: the event was queued, so the wait ends at once.
        let temp = dir.path().join("browse.json.tmp.1.ab");
        std::fs::write(&temp, b"{}").unwrap();
        std::fs::rename(&temp, &record).unwrap();
        let began = Instant::now();
        watch.wait(Duration::from_secs(20));
        assert!(began.elapsed() < Duration::from_secs(10));
    }
}
