//! Process identity: proving that a pid is the process a record says it is before anyone calls
//! it "our daemon" or sends it a signal.
//!
//! A pid alone proves nothing: pids are reused, records survive reboots, and where nobody reaps
//! orphans a dead daemon lingers as a zombie that `kill(pid, 0)` still finds. The kernel's start
//! time in `/proc/<pid>/stat` plus the hostname is the identity we trust.

use std::fs;

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

/// Start time of `pid` in clock ticks since boot, or `None` if it does not exist.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid).and_then(|f| f.get(19)?.parse().ok())
}

/// True when `pid` exists, is not a zombie, and started at `start_time`.
pub fn is_same_live_process(pid: u32, start_time: u64) -> bool {
    match stat_fields(pid) {
        Some(fields) => {
            fields
                .first()
                .is_some_and(|state| *state != "Z" && *state != "X")
                && fields.get(19).and_then(|t| t.parse::<u64>().ok()) == Some(start_time)
        }
        None => false,
    }
}

/// True when `pid` still names the process that started at `start_time`, even as a zombie.
/// A zombie group leader keeps its process group id reserved, so signalling the group is
/// still safe and reaches helpers that outlived it.
fn is_same_process(pid: u32, start_time: u64) -> bool {
    stat_fields(pid).and_then(|f| f.get(19)?.parse::<u64>().ok()) == Some(start_time)
}

/// The fields of `/proc/<pid>/stat` after the command name: index 0 is the state,
/// index 19 the start time.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    if pid == 0 {
        return None;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces or parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// This machine's hostname, recorded so a CLI on another host sharing the filesystem never
/// trusts a pid from here.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// Sends `signal` to the process group led by `pid`, but only if `pid` is still the process
/// that started at `start_time`. Returns whether a signal was sent.
pub fn signal_group_if_same(pid: u32, start_time: u64, sig: Signal) -> bool {
    if !is_same_process(pid, start_time) {
        return false;
    }
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    signal::killpg(Pid::from_raw(raw), sig).is_ok() || signal::kill(Pid::from_raw(raw), sig).is_ok()
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
}
