//! Starting the daemon: re-exec this binary in a new session, hand it the held election lock
//! and the write end of a readiness pipe, and wait for its one message.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;

use super::lock::ElectionLock;
use super::paths::StatePaths;
use super::readiness::{self, Heard, Readiness};

/// The hidden first argument that makes `browse` run as the daemon.
pub const DAEMON_ARG: &str = "__daemon";
/// Environment variables through which the daemon finds its inherited descriptors.
pub const LOCK_FD_ENV: &str = "BROWSE_LOCK_FD";
pub const READY_FD_ENV: &str = "BROWSE_READY_FD";
/// Milliseconds this spawner will still wait for readiness; the daemon fits its start inside
/// ([`crate::settings::spawner_wait`]), so its cause arrives before we give up.
pub const SPAWNER_WAIT_ENV: &str = "BROWSE_SPAWNER_WAIT_MS";

/// The daemon log is rotated once it passes this size.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

/// A daemon that announced itself ready.
pub struct Started {
    pub pid: u32,
    pub port: u16,
    pub instance_id: String,
}

/// Spawns the daemon while holding `lock` and waits until it is ready or has failed.
/// Err carries the cause, with the tail of the daemon log, ready to print.
pub fn spawn_daemon(
    paths: &StatePaths,
    lock: &ElectionLock,
    deadline: Instant,
) -> Result<Started, String> {
    let log = open_log(paths).map_err(|e| {
        format!(
            "cannot open the daemon log {}: {e}",
            paths.daemon_log.display()
        )
    })?;
    let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the browse executable to start the daemon: {e}"))?;
    let (ready_read, ready_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| format!("cannot create the readiness pipe: {e}"))?;
    let lock_fd = lock.raw_fd();
    let ready_fd = ready_write.as_raw_fd();

    let mut command = Command::new(exe);
    command
        .arg(DAEMON_ARG)
        .env("BROWSE_STATE_FILE", &paths.state_file)
        .env(LOCK_FD_ENV, lock_fd.to_string())
        .env(READY_FD_ENV, ready_fd.to_string())
        .env(
            SPAWNER_WAIT_ENV,
            deadline
                .saturating_duration_since(Instant::now())
                .as_millis()
                .to_string(),
        )
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    // SAFETY: only async-signal-safe calls (setsid, close_range, fcntl) run between fork and
    // exec. The daemon keeps nothing of ours but the lock and the readiness pipe.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            crate::descriptors::only_these_survive_exec(&[lock_fd, ready_fd])
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start the daemon: {e}"))?;
    drop(ready_write);

    let heard = readiness::receive(ready_read, deadline)
        .map_err(|e| format!("cannot read the daemon's readiness pipe: {e}"))?;
    match heard {
        Heard::Message(Readiness::Ready {
            pid,
            port,
            instance_id,
        }) => Ok(Started {
            pid,
            port,
            instance_id,
        }),
        Heard::Message(Readiness::Failed { reason }) => {
            // The daemon's own words, exactly as it published them for the other waiters: every
            // CLI of a stampede prints the same cause.
            reap(&mut child);
            Err(reason)
        }
        Heard::Eof => {
            let status = reap(&mut child)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no exit status".into());
            Err(with_log_tail(
                format!("the daemon exited during start-up ({status})"),
                paths,
                log_start,
            ))
        }
        Heard::TimedOut => Err(with_log_tail(
            format!(
                "Server failed to start within {}s",
                crate::settings::start_timeout().as_secs()
            ),
            paths,
            log_start,
        )),
    }
}

fn reap(child: &mut Child) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return None,
        }
    }
    None
}

/// Opens the daemon log for appending. A symlink planted at its name is removed (we hold the
/// lock, and the name is ours), never written through.
fn open_log(paths: &StatePaths) -> io::Result<File> {
    if fs::symlink_metadata(&paths.daemon_log).is_ok_and(|m| m.file_type().is_symlink()) {
        fs::remove_file(&paths.daemon_log)?;
    }
    if fs::symlink_metadata(&paths.daemon_log).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let _ = fs::rename(&paths.daemon_log, paths.daemon_log.with_extension("log.1"));
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&paths.daemon_log)
}

/// The cause plus the last lines the daemon logged during this start.
fn with_log_tail(reason: String, paths: &StatePaths, from: u64) -> String {
    let tail = log_tail(paths, from, 12);
    if tail.is_empty() {
        reason
    } else {
        format!(
            "{reason}\n[browse] last lines of {}:\n{tail}",
            paths.daemon_log.display()
        )
    }
}

fn log_tail(paths: &StatePaths, from: u64, lines: usize) -> String {
    let Ok(mut file) = File::open(&paths.daemon_log) else {
        return String::new();
    };
    if file.seek(SeekFrom::Start(from)).is_err() {
        return String::new();
    }
    let mut text = String::new();
    let _ = file.take(64 * 1024).read_to_string(&mut text);
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..]
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
