//! The daemon's background watchers: idle shutdown, signals, Chromium's heartbeat, and the
//! record/lock watch that heals a split brain (invariant 9) and a deleted lock file.

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use super::server::AppState;
use super::Daemon;
use crate::browser::events::lock;
use crate::launcher::lock::{Attempt, ElectionLock};
use crate::launcher::record;

/// Starts every watcher; each ends by triggering shutdown or with the runtime.
pub fn spawn_all(daemon: &Daemon, state: &Arc<AppState>) {
    spawn_idle(state);
    spawn_signals(state);
    spawn_heartbeat(daemon, state);
    spawn_record_watch(daemon, state);
    spawn_workspace_watch(daemon, state);
    spawn_capture_mirror(daemon);
}

/// How often the state directory's identity is checked: often, because a Chromium that lives
/// on in a deleted workspace re-creates its profile directory within seconds.
const WORKSPACE_CHECK_MAX: Duration = Duration::from_millis(250);

/// `(device, inode)` of a directory, not following a symlink.
fn dir_identity(dir: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(dir)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino()))
}

/// A deleted workspace stays deleted: once the state directory is gone or replaced (another
/// inode at its path), Chromium's group is killed at once (a graceful close would write the
/// profile back into a re-created directory) and the daemon exits without writing anything.
/// The record watch checks the same identity before it rewrites anything.
fn spawn_workspace_watch(daemon: &Daemon, state: &Arc<AppState>) {
    let state = Arc::clone(state);
    let dir = daemon.paths.state_dir.clone();
    let Some(ours) = dir_identity(&dir) else {
        state
            .shutdown
            .trigger("the state directory is gone; the workspace was deleted");
        return;
    };
    let chromium = daemon.chromium.clone();
    let every = crate::settings::watch_interval().min(WORKSPACE_CHECK_MAX);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if dir_identity(&dir) == Some(ours) {
                continue;
            }
            tracing::warn!(
                "the state directory {} was deleted or replaced; exiting without writing",
                dir.display()
            );
            if let Some(chromium) = chromium {
                let _ = tokio::task::spawn_blocking(move || lock(&chromium).kill_at_once()).await;
            }
            state
                .shutdown
                .trigger("the state directory was deleted or replaced");
            return;
        }
    });
}

/// gstack's disk mirror: every second, new console, network and dialog entries are appended to
/// `browse-console.log`, `browse-network.log` and `browse-dialog.log` (0600, emptied at start),
/// so they survive the daemon. Network lines carry the time they were written.
fn spawn_capture_mirror(daemon: &Daemon) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = daemon.paths.state_dir.clone();
    let files = [
        "browse-console.log",
        "browse-network.log",
        "browse-dialog.log",
    ]
    .map(|n| dir.join(n));
    for file in &files {
        let _ = crate::atomic_file::write_atomic(file, b"", 0o600);
    }
    tokio::spawn(async move {
        let mut cursor = crate::browser::capture::MirrorCursor::default();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let (console, network, dialogs) = crate::browser::capture::mirror_since(&mut cursor);
            let stamp = crate::clock::iso8601_now();
            let network: Vec<String> = network
                .into_iter()
                .map(|l| format!("[{stamp}] {l}"))
                .collect();
            for (file, lines) in files.iter().zip([console, network, dialogs]) {
                if lines.is_empty() {
                    continue;
                }
                let appended = std::fs::OpenOptions::new()
                    .append(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(file)
                    .and_then(|mut f| f.write_all((lines.join("\n") + "\n").as_bytes()));
                if let Err(e) = appended {
                    tracing::warn!("cannot append to {}: {e}", file.display());
                }
            }
        }
    });
}

fn spawn_idle(state: &Arc<AppState>) {
    // gstack skips the idle check in headed mode: a window someone watches is not idle.
    if crate::settings::headed() {
        return;
    }
    let state = Arc::clone(state);
    let idle = crate::settings::idle_timeout();
    let tick = (idle / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(tick).await;
            // A download in progress is activity too: idling out would cancel it.
            if state.session.downloads_in_progress() > 0 {
                state.activity.touch();
            }
            // A request in flight resets the clock: idle time only counts when nothing runs.
            let idle_for = state.activity.idle_for();
            if state.activity.in_flight() == 0 && idle_for >= idle {
                state
                    .shutdown
                    .trigger(format!("Idle for {}s, shutting down", idle_for.as_secs()));
                return;
            }
        }
    });
}

fn spawn_signals(state: &Arc<AppState>) {
    for (kind, name) in [
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::hangup(), "SIGHUP"),
    ] {
        let state = Arc::clone(state);
        match signal(kind) {
            Ok(mut stream) => {
                tokio::spawn(async move {
                    if stream.recv().await.is_some() {
                        state.shutdown.trigger(format!("received {name}"));
                    }
                });
            }
            Err(e) => tracing::warn!("cannot watch {name}: {e}"),
        }
    }
}

/// Checks that Chromium is alive and answers a browser-level call (`Browser.getVersion`)
/// within `BROWSE_BROWSER_TIMEOUT`. Its death ends the daemon (the next command starts a fresh
/// one). A browser that does not answer is marked unresponsive with the cause: `/health` says
/// `unhealthy`, waiting CDP calls fail at once, and commands are refused with the cause until
/// it answers again; `stop` and `restart` still work and kill it.
fn spawn_heartbeat(daemon: &Daemon, state: &Arc<AppState>) {
    if daemon.record.cdp_url.is_some() {
        spawn_remote_watch(state);
        return;
    }
    let Some(chromium) = daemon.chromium.clone() else {
        return;
    };
    let state = Arc::clone(state);
    let every = crate::settings::heartbeat_interval();
    let within = crate::settings::browser_timeout();
    tokio::spawn(async move {
        // When the first probe of the current run of misses went unanswered.
        let mut missing_since: Option<std::time::Instant> = None;
        loop {
            tokio::time::sleep(every).await;
            let pid = {
                let mut chromium = lock(&chromium);
                if chromium.has_exited() {
                    state.shutdown.trigger("Chromium exited");
                    return;
                }
                chromium.pid
            };
            let session = Arc::clone(&state.session);
            // The outer limit covers a probe stuck before it is even sent (a writer blocked on
            // a full socket to a frozen browser).
            let answered = tokio::time::timeout(
                within + Duration::from_millis(500),
                tokio::task::spawn_blocking(move || session.probe_browser(within)),
            )
            .await
            .unwrap_or_else(|_| Ok(Err(anyhow::anyhow!("the probe could not even be sent"))));
            let was = state.session.browser_fault();
            match answered {
                Ok(Ok(())) => {
                    missing_since = None;
                    if was.is_some() {
                        tracing::info!("Chromium answers again");
                        state.session.set_browser_unresponsive(None);
                    }
                }
                Ok(Err(e)) => {
                    // Re-described on every miss: a hung browser may since have been stopped.
                    let (cause, stopped) = unresponsive_cause(pid, within);
                    // A stopped process is certain at once; a slow answer may only be a
                    // loaded machine or a huge frame in transit, so it must last
                    // `BROWSE_HANG_GRACE` before waiting calls are failed.
                    let since = *missing_since.get_or_insert_with(std::time::Instant::now);
                    let certain = stopped || since.elapsed() >= crate::settings::hang_grace();
                    if certain && was.as_ref() != Some(&cause) {
                        tracing::warn!("{cause} ({e:#})");
                        state.session.set_browser_unresponsive(Some(cause));
                    }
                }
                Err(e) => tracing::warn!("the heartbeat probe crashed: {e}"),
            }
        }
    });
}

/// A remote browser that hangs up ends the daemon, with the cause in its log: the next CLI
/// then starts a daemon that connects again, or says why it cannot.
fn spawn_remote_watch(state: &Arc<AppState>) {
    let state = Arc::clone(state);
    let every = crate::settings::heartbeat_interval();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if state.session.browser_disconnected() {
                state
                    .shutdown
                    .trigger("the remote browser closed the DevTools connection");
                return;
            }
        }
    });
}

/// What to tell the user about a browser that did not answer: a stopped process (SIGSTOP, a
/// debugger) is named as such, from `/proc/<pid>/stat`.
/// The cause to report, and whether the process is stopped (certain, unlike slowness).
fn unresponsive_cause(pid: u32, within: Duration) -> (String, bool) {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 1..];
            rest.split_whitespace().next().map(str::to_owned)
        });
    let secs = within.as_secs_f64();
    match state.as_deref() {
        Some("T") | Some("t") => (
            format!(
                "Chromium (pid {pid}) is stopped (SIGSTOP or a debugger) and did not answer DevTools within {secs:.1}s"
            ),
            true,
        ),
        _ => (
            format!(
                "Chromium (pid {pid}) did not answer DevTools for {:.0}s: it is hung or the machine is overloaded",
                crate::settings::hang_grace().as_secs_f64().max(secs)
            ),
            false,
        ),
    }
}

/// Re-reads `browse.json` and the lock path every few seconds. A record naming another
/// instance means another daemon was elected (a filesystem whose locks lie): we leave. A
/// missing or broken record is rewritten (we hold the lock). A deleted or replaced lock file
/// is re-locked so that starters keep seeing a held lock.
fn spawn_record_watch(daemon: &Daemon, state: &Arc<AppState>) {
    let state = Arc::clone(state);
    let paths = daemon.paths.clone();
    let ours = daemon.record.clone();
    let locks = Arc::clone(&daemon.locks);
    let every = crate::settings::watch_interval();
    let dir = dir_identity(&paths.state_dir);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if dir.is_none() || dir_identity(&paths.state_dir) != dir {
                // The workspace watch ends the daemon; nothing is re-created meanwhile.
                return;
            }
            match record::read(&paths.state_file) {
                Ok(r) if r.instance_id == ours.instance_id => {}
                Ok(_) => {
                    state
                        .shutdown
                        .trigger("browse.json names another daemon instance");
                    return;
                }
                Err(_) if record::read_peer(&paths.state_file).is_some() => {
                    // gstack's daemon published itself over our record: two daemons serve
                    // this workspace, and gstack's does not yield, so we do.
                    state.shutdown.trigger("browse.json names gstack's daemon");
                    return;
                }
                Err(why) => {
                    tracing::warn!("state record is unusable ({why}); rewriting it");
                    if matches!(std::fs::symlink_metadata(&paths.state_file), Ok(m) if m.is_dir()) {
                        record::remove_stale(&paths.state_file);
                    }
                    if let Err(e) = record::write(&paths.state_file, &ours) {
                        tracing::warn!("cannot rewrite the state record: {e}");
                    }
                }
            }
            let mut held = lock(&locks);
            if !held.iter().any(|l| l.still_at(&paths.lock_file)) {
                // A starter may hold the new file for a moment; we retry on the next tick.
                if let Ok(Attempt::Acquired(mut relock)) =
                    ElectionLock::try_acquire(&paths.lock_file)
                {
                    tracing::warn!("lock file was deleted or replaced; locked the new one");
                    relock.note_holder(std::process::id());
                    held.push(relock);
                }
            }
        }
    });
}
