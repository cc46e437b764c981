//! What a child process inherits: nothing but its standard streams and the descriptors we
//! name. A descriptor the caller left open without close-on-exec (`exec 7>&1` in a shell,
//! the write end of a pipe the caller reads to EOF) would otherwise live on in the daemon and
//! in Chromium, and the caller's pipeline would hang until the daemon exits.

use std::io;
use std::os::fd::RawFd;

/// The most descriptors the fallback loop visits when `close_range` is missing.
const FALLBACK_MAX_FD: u64 = 1 << 16;

/// Marks every descriptor >= 3 close-on-exec except those in `keep`, which are made
/// inheritable. For `CommandExt::pre_exec` (after Rust set up stdio): only async-signal-safe
/// calls (`close_range(2)` with `CLOSE_RANGE_CLOEXEC`, Linux 5.11+; else `getrlimit` and one
/// `fcntl` per descriptor), no allocation. Err if a kept descriptor cannot be made inheritable.
pub fn only_these_survive_exec(keep: &[RawFd]) -> io::Result<()> {
    // SAFETY: close_range only changes descriptor flags; the range is every fd from 3 up.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc != 0 {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let max = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            limit.rlim_cur.min(FALLBACK_MAX_FD)
        } else {
            FALLBACK_MAX_FD
        };
        for fd in 3..max {
            // SAFETY: F_SETFD on a descriptor that may not exist (EBADF is fine).
            unsafe { libc::fcntl(fd as RawFd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
    }
    for &fd in keep {
        // SAFETY: clears close-on-exec on a descriptor the caller owns.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, 0) } == -1 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
