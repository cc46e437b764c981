//! Process identity: proving that a pid is the process a record says it is before anyone calls
//! it "our daemon" or sends it a signal. This module is the only place in the CLI that sends a
//! signal, and it sends one only to a process it has just proven.
//!
//! A record on disk is untrusted input (it can be committed to a repository, copied with the
//! workspace, or written by anyone who can write the directory). A pid alone proves nothing:
//! pids are reused, records survive reboots, and where nobody reaps orphans a dead daemon
//! lingers as a zombie that `kill(pid, 0)` still finds. Start time and hostname are guessable
//! (PID 1 starts at tick 0 on many machines), so they only rule out reuse. The proofs are:
//!
//! - **daemon**: same host, same start time (`/proc/<pid>/stat` field 22), alive, its first
//!   argument is `__daemon`, and it holds the `flock` on this workspace's `browse.lock`
//!   (`/proc/<pid>/fd/*` names the lock file's inode and its `fdinfo` shows a `FLOCK WRITE`).
//! - **Chromium group**: same host, same start time, the process leads its own group, and its
//!   profile (`--user-data-dir=`) is this workspace's (`chromium-profile/`, or its throw-away
//!   `chromium-profile-ephemeral-<instanceId>/`; a user's `--profile` proves nothing); a live
//!   leader's parent is the proven
//!   daemon, or (the daemon being gone) it was started for this workspace
//!   (`BROWSE_STATE_FILE` in its environment). A zombie leader is vouched for by a live member of
//!   its group that runs this workspace's profile.
//!
//! Whatever a proof says, nothing signals pid or group 0, 1, our own pid or our own group.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use super::paths::StatePaths;
use super::record::StateRecord;
use super::spawn::DAEMON_ARG;

/// Start time of `pid` in clock ticks since boot, or `None` if it does not exist.
pub fn start_time(pid: u32) -> Option<u64> {
    Stat::read(pid).map(|s| s.start_time)
}

/// True when `pid` exists, is not a zombie, and started at `start_time`.
pub fn is_same_live_process(pid: u32, start_time: u64) -> bool {
    Stat::read(pid).is_some_and(|s| s.is_live() && s.start_time == start_time)
}

/// True when `pid` exists and is not a zombie.
pub fn is_live(pid: u32) -> bool {
    Stat::read(pid).is_some_and(|s| s.is_live())
}

/// This machine's hostname, recorded so a CLI on another host sharing the filesystem never
/// trusts a pid from here.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// A daemon process proven to be a `browse` daemon of one workspace (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenDaemon {
    pid: u32,
    start_time: u64,
}

/// A Chromium process group proven to be the one a daemon of one workspace started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenChromium {
    leader: u32,
    start_time: u64,
}

/// Proves that the record's `pid` is a live `browse __daemon` holding this workspace's lock.
pub fn prove_daemon(paths: &StatePaths, rec: &StateRecord) -> Option<ProvenDaemon> {
    if rec.hostname != hostname() || !signallable(rec.pid) {
        return None;
    }
    let stat = Stat::read(rec.pid)?;
    if !stat.is_live() || stat.start_time != rec.pid_start_time {
        return None;
    }
    let argv = cmdline(rec.pid);
    if argv.get(1).map(String::as_str) != Some(DAEMON_ARG) {
        return None;
    }
    holds_lock(rec.pid, &paths.lock_file).then_some(ProvenDaemon {
        pid: rec.pid,
        start_time: rec.pid_start_time,
    })
}

/// Proves that the record's `chromePid` leads the process group of this workspace's Chromium.
pub fn prove_chromium(paths: &StatePaths, rec: &StateRecord) -> Option<ProvenChromium> {
    let (Some(leader), Some(start)) = (rec.chrome_pid, rec.chrome_start_time) else {
        return None;
    };
    if rec.hostname != hostname() || !signallable(leader) || leader == rec.pid {
        return None;
    }
    let stat = Stat::read(leader)?;
    if stat.start_time != start || stat.pgrp != leader {
        return None;
    }
    let profile_flag = format!(
        "--user-data-dir={}",
        super::profile::provable_dir(paths, rec)?.display()
    );
    let runs_profile = |pid: u32| cmdline(pid).contains(&profile_flag);
    let proven = if stat.is_live() {
        let parent_is_daemon = stat.ppid == rec.pid && prove_daemon(paths, rec).is_some();
        runs_profile(leader)
            && (parent_is_daemon
                || (prove_daemon(paths, rec).is_none() && started_for(leader, paths)))
    } else {
        // A zombie leader has no command line; the group it reserves is vouched for by a
        // live member running this workspace's profile (renderers, utilities, zygotes).
        group_members(leader)
            .into_iter()
            .any(|pid| pid != leader && runs_profile(pid))
    };
    proven.then_some(ProvenChromium {
        leader,
        start_time: start,
    })
}

impl ProvenDaemon {
    /// Sends `sig` to the daemon (and to its session's group, which it leads after `setsid`).
    /// Returns whether a signal was sent.
    pub fn signal(&self, sig: Signal) -> bool {
        let Some(stat) = Stat::read(self.pid).filter(|s| s.start_time == self.start_time) else {
            return false;
        };
        if stat.pgrp == self.pid && send_group(self.pid, sig) {
            return true;
        }
        send_one(self.pid, sig)
    }
}

impl ProvenChromium {
    pub fn leader(&self) -> u32 {
        self.leader
    }

    /// Sends `sig` to the whole group (renderers and helpers outlive the leader).
    /// Returns whether a signal was sent.
    pub fn signal_group(&self, sig: Signal) -> bool {
        if Stat::read(self.leader).is_none_or(|s| s.start_time != self.start_time) {
            return false;
        }
        send_group(self.leader, sig)
    }
}

/// A pid that may ever be signalled: not 0 (our group), not 1 (`kill(-1)` is everyone), not us.
fn signallable(pid: u32) -> bool {
    pid > 1 && pid != std::process::id()
}

/// `killpg`, refused for group 0, 1, our own group and our own pid.
fn send_group(pgid: u32, sig: Signal) -> bool {
    let ours = nix::unistd::getpgrp().as_raw();
    let Ok(raw) = i32::try_from(pgid) else {
        return false;
    };
    if !signallable(pgid) || raw == ours {
        return false;
    }
    signal::killpg(Pid::from_raw(raw), sig).is_ok()
}

/// `kill` of one process, refused for 0, 1 and us.
fn send_one(pid: u32, sig: Signal) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if !signallable(pid) {
        return false;
    }
    signal::kill(Pid::from_raw(raw), sig).is_ok()
}

/// True when `pid` has an open file on `lock_file` (the inode the path names now, or the same
/// path since deleted) that holds an exclusive `flock`.
fn holds_lock(pid: u32, lock_file: &Path) -> bool {
    let current = fs::metadata(lock_file).ok().map(|m| (m.dev(), m.ino()));
    let deleted_name = format!("{} (deleted)", lock_file.display());
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten().any(|fd| {
        let same_file = match fs::metadata(fd.path()) {
            Ok(m) if Some((m.dev(), m.ino())) == current => true,
            Ok(_) => fs::read_link(fd.path())
                .is_ok_and(|target| target.as_os_str().to_string_lossy() == deleted_name),
            Err(_) => false,
        };
        same_file
            && fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .is_ok_and(|info| {
                info.lines()
                    .any(|l| l.starts_with("lock:") && l.contains("FLOCK") && l.contains("WRITE"))
            })
    })
}

/// True when `pid` was started with this workspace's `BROWSE_STATE_FILE` (inherited from the
/// daemon that launched it).
pub fn started_for(pid: u32, paths: &StatePaths) -> bool {
    let wanted = format!("BROWSE_STATE_FILE={}", paths.state_file.display());
    fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == wanted.as_bytes()))
}

/// The arguments of `pid` (empty for zombies, kernel threads and vanished processes).
pub fn cmdline(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|bytes| {
            bytes
                .split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every process whose group is `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| Stat::read(*pid).is_some_and(|s| s.pgrp == pgid && s.is_live()))
        .collect()
}

/// The fields of `/proc/<pid>/stat` we decide on.
struct Stat {
    state: String,
    ppid: u32,
    pgrp: u32,
    start_time: u64,
}

impl Stat {
    fn read(pid: u32) -> Option<Stat> {
        if pid == 0 {
            return None;
        }
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name is in parentheses and may itself contain spaces or parentheses.
        let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
        Some(Stat {
            state: (*fields.first()?).to_owned(),
            ppid: fields.get(1)?.parse().ok()?,
            pgrp: fields.get(2)?.parse().ok()?,
            start_time: fields.get(19)?.parse().ok()?,
        })
    }

    fn is_live(&self) -> bool {
        self.state != "Z" && self.state != "X"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_identity_checks_out() {
        let me = std::process::id();
        let t = start_time(me).expect("own start time");
        assert!(is_same_live_process(me, t));
        assert!(!is_same_live_process(me, t + 1));
        assert!(!is_same_live_process(0, t));
    }

    #[test]
    fn nothing_signals_init_our_group_or_us() {
        assert!(!signallable(0));
        assert!(!signallable(1));
        assert!(!signallable(std::process::id()));
        let own_group = nix::unistd::getpgrp().as_raw() as u32;
        assert!(!send_group(own_group, Signal::SIGCONT));
        assert!(!send_group(1, Signal::SIGCONT));
        assert!(!send_one(1, Signal::SIGCONT));
    }
}
