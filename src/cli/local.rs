//! Commands the CLI answers itself, without starting anything: `version`, `status
//! --no-start`, `logs`, `list`, `stop --all`, `doctor` and `completions`.
//!
//! `list` finds daemons through `/proc` rather than a registry file: a process whose
//! executable is a `browse` binary, whose arguments are `__daemon`, and whose environment
//! names its state file (`BROWSE_STATE_FILE`, set by the launcher). A registry can go stale
//! or be forged; the process table cannot, and every daemon found is then proven through its
//! own record and `/health` before it is shown or stopped.

use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{exit, fail, lifecycle, output, Globals};
use crate::catalogue;
use crate::launcher::paths::StatePaths;
use crate::launcher::{self, ConnectOptions};

/// `browse version`: this CLI's version and protocol, and the running daemon's when there is
/// one (never starts one).
pub fn version(paths: &StatePaths) -> ExitCode {
    let mut text = format!(
        "browse {} (protocol {})",
        env!("CARGO_PKG_VERSION"),
        crate::wire::PROTOCOL
    );
    match launcher::find_running(paths) {
        Some(daemon) => text.push_str(&format!(
            "\ndaemon {} (protocol {}, pid {})",
            daemon.health.version, daemon.health.protocol, daemon.health.pid
        )),
        None => text.push_str("\ndaemon not running"),
    }
    output::result(&text)
}

/// `browse status --no-start`: the daemon's status when one answers, else `Status: not
/// running` (or `Status: shutting down` while one is on its way out, with what it waits
/// for) and exit 1, launching nothing.
pub fn status_no_start(paths: &StatePaths) -> ExitCode {
    let daemon = match launcher::find_daemon(paths) {
        Some(daemon) if !daemon.health.stopping => daemon,
        Some(leaving) => {
            let h = &leaving.health;
            let text = format!(
                "Status: shutting down\nPID: {}\nDownloads in progress: {}\nExits within: {}",
                h.pid,
                h.downloads_in_progress,
                h.shutdown_within_ms
                    .map_or_else(|| "?".to_owned(), |ms| format!("{}s", ms.div_ceil(1000)))
            );
            if output::json() {
                return output::error(exit::FAILED, &text, None, false);
            }
            outln!("{text}");
            return ExitCode::from(exit::FAILED);
        }
        None => {
            if output::json() {
                return output::error(exit::FAILED, "Status: not running", None, false);
            }
            outln!("Status: not running");
            return ExitCode::from(exit::FAILED);
        }
    };
    let h = &daemon.health;
    output::result(&format!(
        "Status: {}\nMode: {}\nURL: {URL_NOT_ASKED}\nTabs: {}\nPID: {}",
        h.status, h.mode, h.tabs, h.pid
    ))
}

/// What `status --no-start` prints for the URL, which only the page knows: `--json` gives
/// `null` for it (`cli/structured.rs`).
pub const URL_NOT_ASKED: &str = "(not asked: --no-start)";

/// `browse logs [-n N] [-f]`: the last N lines (default 50) of the daemon log; `-f` keeps
/// printing what is appended until interrupted.
pub fn logs(paths: &StatePaths, args: &[String]) -> ExitCode {
    let mut lines = 50usize;
    let mut follow = false;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-f" | "--follow" => follow = true,
            "-n" | "--lines" => match words.next().and_then(|n| n.parse().ok()) {
                Some(n) => lines = n,
                None => return fail(exit::USAGE, "-n takes a number of lines"),
            },
            other => match other.strip_prefix("--lines=").and_then(|n| n.parse().ok()) {
                Some(n) => lines = n,
                None => return fail(exit::USAGE, &format!("Unknown logs flag: {other}")),
            },
        }
    }
    let mut file = match std::fs::File::open(&paths.daemon_log) {
        Ok(f) => f,
        Err(e) => {
            return fail(
                exit::FAILED,
                &format!(
                    "no daemon log at {} ({e}); it appears once a daemon has started here",
                    paths.daemon_log.display()
                ),
            )
        }
    };
    let mut text = String::new();
    if let Err(e) = file.read_to_string(&mut text) {
        return fail(exit::FAILED, &format!("cannot read the daemon log: {e}"));
    }
    let all: Vec<&str> = text.lines().collect();
    let tail = all[all.len().saturating_sub(lines)..].join("\n");
    if !follow {
        return output::result(&tail);
    }
    let mut out = std::io::stdout();
    if !tail.is_empty() {
        let _ = writeln!(out, "{tail}");
    }
    let mut position = file.seek(SeekFrom::End(0)).unwrap_or(0);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let Ok(meta) = std::fs::metadata(&paths.daemon_log) else {
            continue;
        };
        if meta.len() < position {
            position = 0; // truncated or replaced: start over
        }
        let Ok(mut fresh) = std::fs::File::open(&paths.daemon_log) else {
            continue;
        };
        if fresh.seek(SeekFrom::Start(position)).is_err() {
            continue;
        }
        let mut reader = std::io::BufReader::new(fresh);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            position += line.len() as u64;
            if out.write_all(line.as_bytes()).is_err() {
                return ExitCode::SUCCESS; // stdout closed (| head)
            }
            line.clear();
        }
        let _ = out.flush();
    }
}

/// One live daemon of this user, found in the process table and proven by its record.
struct Found {
    paths: StatePaths,
    pid: u32,
    uptime_s: u64,
    tabs: usize,
    rss_kib: u64,
}

/// Every daemon of ours on this machine whose own record and `/health` confirm it.
fn find_daemons() -> Vec<Found> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(state_file) = daemon_state_file(pid) else {
            continue;
        };
        let paths = StatePaths::from_state_file(state_file, false);
        let Some(daemon) = launcher::find_running(&paths) else {
            continue;
        };
        if daemon.health.pid != pid {
            continue;
        }
        found.push(Found {
            pid,
            uptime_s: daemon.health.uptime,
            tabs: daemon.health.tabs,
            rss_kib: group_rss_kib(pid, daemon.record.chrome_pid),
            paths,
        });
    }
    found.sort_by(|a, b| a.paths.state_dir.cmp(&b.paths.state_dir));
    found
}

/// The state file of process `pid` when it is a `browse __daemon`, else `None`.
fn daemon_state_file(pid: u32) -> Option<PathBuf> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    if args.get(1) != Some(&b"__daemon".as_slice()) {
        return None;
    }
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
    let name = exe.file_name()?.to_string_lossy().into_owned();
    if !name.starts_with("browse") {
        return None;
    }
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    environ
        .split(|b| *b == 0)
        .find_map(|var| var.strip_prefix(b"BROWSE_STATE_FILE="))
        .map(|value| PathBuf::from(String::from_utf8_lossy(value).into_owned()))
        .filter(|path| path.is_absolute())
}

/// Resident memory of the daemon plus its Chromium's main process, in KiB (`VmRSS`).
fn group_rss_kib(pid: u32, chrome_pid: Option<u32>) -> u64 {
    let rss = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    };
    rss(pid) + chrome_pid.map_or(0, rss)
}

/// `browse list`: every live daemon of this user on this machine, one line each.
pub fn list() -> ExitCode {
    let found = find_daemons();
    if found.is_empty() {
        return output::result("(no daemons running)");
    }
    let lines: Vec<String> = found
        .iter()
        .map(|d| {
            format!(
                "{}  pid {}  up {}s  {} tab{}  {} MiB",
                d.paths.label(),
                d.pid,
                d.uptime_s,
                d.tabs,
                if d.tabs == 1 { "" } else { "s" },
                d.rss_kib / 1024
            )
        })
        .collect();
    output::result(&lines.join("\n"))
}

/// `browse stop --all`: stops every daemon `list` shows, each through its own workspace's
/// stop path (identity-checked like any `stop`).
pub fn stop_all(globals: &Globals) -> ExitCode {
    let found = find_daemons();
    if found.is_empty() {
        return output::result("No daemon running — nothing to stop.");
    }
    let mut lines = Vec::new();
    let mut failed = false;
    for daemon in &found {
        match lifecycle::stop_quietly(&daemon.paths, globals) {
            Ok(()) => lines.push(format!("Stopped {}", daemon.paths.label())),
            Err(message) => {
                failed = true;
                lines.push(format!(
                    "Could not stop {}: {message}",
                    daemon.paths.label()
                ));
            }
        }
    }
    let text = lines.join("\n");
    if failed {
        return output::error(exit::FAILED, &text, None, false);
    }
    output::result(&text)
}

/// `browse doctor`: what this machine needs, checked one line at a time (`ok`, `warn`,
/// `FAIL`), ending with a cold start timed end to end. Exit 1 when anything failed.
pub fn doctor(paths: &StatePaths) -> ExitCode {
    let mut report = Vec::new();
    let mut failed = false;
    let mut line = |ok: Option<bool>, what: String| {
        let tag = match ok {
            Some(true) => "ok  ",
            None => "warn",
            Some(false) => {
                failed = true;
                "FAIL"
            }
        };
        report.push(format!("[{tag}] {what}"));
    };
    match crate::daemon::find_chromium() {
        Ok(path) => {
            let version = std::process::Command::new(&path)
                .arg("--version")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "version unknown".into());
            line(
                Some(true),
                format!(
                    "Chromium: {} ({version}{})",
                    path.display(),
                    match crate::daemon::ChromiumBuild::of(&path) {
                        crate::daemon::ChromiumBuild::HeadlessShell => ", headless shell",
                        crate::daemon::ChromiumBuild::Full => "",
                    }
                ),
            );
        }
        Err(e) => line(Some(false), format!("Chromium: {e:#}")),
    }
    line(
        Some(true),
        if nix::unistd::geteuid().is_root() {
            "sandbox: off (running as root: Chromium's sandbox needs a normal user)".into()
        } else {
            "sandbox: Chromium's default".into()
        },
    );
    match paths.ensure_state_dir() {
        Ok(()) => line(
            Some(true),
            format!("state dir: {} (0700)", paths.state_dir.display()),
        ),
        Err(e) => line(Some(false), format!("state dir: {e:#}")),
    }
    match filesystem_note(&paths.state_dir) {
        Some(name) => line(
            None,
            format!("filesystem: {name}: flock may not be shared across machines; keep workspaces on a local disk"),
        ),
        None => line(Some(true), "filesystem: local (flock is reliable)".into()),
    }
    match std::net::TcpListener::bind(("127.0.0.1", 0)) {
        Ok(l) => line(
            Some(true),
            format!(
                "loopback: can listen (e.g. port {})",
                l.local_addr().map(|a| a.port()).unwrap_or(0)
            ),
        ),
        Err(e) => line(
            Some(false),
            format!("loopback: cannot listen on 127.0.0.1: {e}"),
        ),
    }
    match launcher::find_running(paths) {
        Some(daemon) => {
            let started = Instant::now();
            let answered = daemon.client().health(Duration::from_secs(2)).is_ok();
            line(
                Some(answered),
                format!(
                    "daemon: running (pid {}), /health in {} ms",
                    daemon.health.pid,
                    started.elapsed().as_millis()
                ),
            );
        }
        None => {
            let started = Instant::now();
            match launcher::connect(paths, ConnectOptions::default()) {
                Ok(_) => {
                    let ms = started.elapsed().as_millis();
                    let stopped = lifecycle::stop_quietly(paths, &Globals::default());
                    line(
                        Some(stopped.is_ok()),
                        format!("cold start: daemon and Chromium ready in {ms} ms (stopped again)"),
                    );
                }
                Err(e) => line(Some(false), format!("cold start: {e}")),
            }
        }
    }
    let text = report.join("\n");
    if failed {
        return output::error(
            exit::FAILED,
            &text,
            Some("Fix the FAIL lines above, then run 'browse doctor' again."),
            false,
        );
    }
    output::result(&text)
}

/// A name for network and virtual filesystems where `flock` may not hold across hosts.
fn filesystem_note(dir: &Path) -> Option<&'static str> {
    let stat = nix::sys::statfs::statfs(dir).ok()?;
    // Magic numbers from statfs(2).
    match stat.filesystem_type().0 as i64 {
        0x6969 => Some("NFS"),
        0xFF53_4D42 | 0xFE53_4D42 | 0x517B => Some("SMB/CIFS"),
        0x6a65_6a63 => Some("virtiofs"),
        0x0102_1997 => Some("9p"),
        0x6573_5546 => Some("FUSE"),
        _ => None,
    }
}

/// `browse skill`: the agent guide shipped in the binary (`SKILL.md`, whose examples
/// `tests/skill_examples.rs` runs against a real browser).
pub fn skill() -> ExitCode {
    const GUIDE: &str = include_str!("../../SKILL.md");
    // The first lines are a note for the guide's test, not for the agent.
    let guide = match GUIDE.split_once("-->\n") {
        Some((note, rest)) if note.starts_with("<!--") => rest,
        _ => GUIDE,
    };
    output::result(guide)
}

/// `browse completions bash|zsh|fish|elvish|powershell`: a completion script generated by
/// clap_complete from the catalogue (command names, their flags and descriptions).
pub fn completions(args: &[String]) -> ExitCode {
    use clap_complete::Shell;
    let Some(shell) = args.first().and_then(|s| s.parse::<Shell>().ok()) else {
        return fail(
            exit::USAGE,
            "completions takes a shell: bash, zsh, fish, elvish or powershell",
        );
    };
    let mut command = catalogue::clap_command();
    let mut out = std::io::stdout();
    clap_complete::generate(shell, &mut command, "browse", &mut out);
    ExitCode::SUCCESS
}
