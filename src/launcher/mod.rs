//! The launcher: finds the workspace's daemon or elects exactly one starter to spawn it.
//!
//! It owns the paths, the state record, the election lock, process identity and the spawn; it
//! knows nothing of browser commands. Every path that starts, restarts or replaces a daemon goes
//! through [`connect`], and nothing here deletes `browse.json` without holding the lock. The
//! invariants it keeps are listed in ARCHITECTURE.md.

pub mod identity;
pub mod lock;
pub mod paths;
pub mod peer;
pub mod profile;
pub mod readiness;
pub mod record;
pub mod spawn;
pub mod succession;
pub mod wake;

use std::fs;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::client::DaemonClient;
use crate::wire::Health;
use lock::{Attempt, ElectionLock};
use paths::StatePaths;
use record::StateRecord;

/// How long one health probe may take on the fast path.
const PROBE_TIMEOUT: Duration = Duration::from_millis(2_000);
/// The longest pause between two looks while another starter holds the lock and nothing wakes
/// the waiter (no inotify): short, because a waiter's lag after the daemon is ready is what a
/// stampede adds to a cold start.
const MAX_POLL: Duration = Duration::from_millis(20);
/// The same pause while an inotify watch wakes the waiter the moment the record is published
/// (`wake.rs`): the look then only catches what no event announces (a starter that died
/// holding the lock), and 64 waiters looking every 20 ms cost Chromium's start CPU time.
const MAX_POLL_WATCHED: Duration = Duration::from_millis(100);
/// After this long waiting for another starter, say who holds the lock.
const ANNOUNCE_AFTER: Duration = Duration::from_secs(1);

/// A daemon whose identity was confirmed through `/health`.
#[derive(Debug, Clone)]
pub struct Daemon {
    pub record: StateRecord,
    pub health: Health,
}

impl Daemon {
    pub fn client(&self) -> DaemonClient {
        DaemonClient::new(self.record.port, &self.record.token)
    }
}

/// Why no daemon could be had.
#[derive(Debug)]
pub enum LaunchError {
    /// The daemon could not be started; the cause is ready to print.
    StartFailed(String),
    /// A live daemon (identity confirmed) does not answer.
    Busy { pid: u32 },
    /// `BROWSE_NO_AUTOSTART=1` and no daemon runs.
    AutostartDisabled,
    /// Another starter held the lock past the deadline.
    TimedOut,
    /// The workspace itself is unusable (state dir, lock file).
    Workspace(anyhow::Error),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::StartFailed(cause) => write!(f, "Server failed to start: {cause}"),
            LaunchError::Busy { pid } => write!(
                f,
                "Daemon busy — process {pid} is alive but did not answer /health in time.\n\
                 [browse] Retry shortly (heavy page loads pass), or force a restart — which LOSES tabs, cookies, and logins:\n\
                 [browse]   browse --force-restart <command>"
            ),
            LaunchError::AutostartDisabled => {
                f.write_str("Server not available and BROWSE_NO_AUTOSTART is set.")
            }
            LaunchError::TimedOut => {
                f.write_str("Timed out waiting for another instance to start the server")
            }
            LaunchError::Workspace(e) => write!(f, "{e:#}"),
        }
    }
}

/// Options of one connect.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConnectOptions {
    /// `--force-restart`: replace a live daemon that does not answer.
    pub force_restart: bool,
}

/// Returns the workspace's daemon, starting one if none runs.
pub fn connect(paths: &StatePaths, opts: ConnectOptions) -> Result<Daemon, LaunchError> {
    let began_ms = readiness::now_ms();
    let stale = match read_any(paths) {
        Some(rec) => match probe(paths, &rec, PROBE_TIMEOUT) {
            Some(daemon) => return Ok(daemon),
            None => Some(rec),
        },
        None => None,
    };
    if crate::settings::autostart_disabled() {
        return Err(LaunchError::AutostartDisabled);
    }
    if opts.force_restart {
        if let Some(rec) = stale.as_ref().filter(|r| is_alive(paths, r)) {
            errln!(
                "[browse] --force-restart: replacing live-but-unresponsive daemon (tabs/cookies/logins will be lost)..."
            );
            kill_daemon(paths, rec);
        }
    }
    elect(paths, began_ms)
}

/// Fast path only: the daemon named by the record, if it answers with the same identity (or,
/// for gstack's daemon, is proven and healthy).
pub fn find_running(paths: &StatePaths) -> Option<Daemon> {
    probe(paths, &read_any(paths)?, PROBE_TIMEOUT)
}

/// The record: ours, or one gstack's daemon wrote (`record::read_peer`).
fn read_any(paths: &StatePaths) -> Option<StateRecord> {
    record::read(&paths.state_file)
        .ok()
        .or_else(|| record::read_peer(&paths.state_file))
}

/// Confirms a record through `/health`: same pid and instance id, serving this state
/// directory (a `cp -a` copy of a workspace holds the original's record, whose daemon answers
/// with the original's `stateDirId`). An `unhealthy` daemon (its Chromium does not answer) is
/// still the workspace's daemon: it refuses commands with the cause at once, and
/// `stop`/`restart` reach it; starting a second one would fail on the lock.
fn probe(paths: &StatePaths, rec: &StateRecord, timeout: Duration) -> Option<Daemon> {
    // A daemon on its way out is not chosen: its successor (or a restart) is waited for.
    probe_any(paths, rec, timeout).filter(|d| !d.health.stopping)
}

/// The workspace's daemon when it answers, shutting down (`health.stopping`) or not: one
/// probe for callers that treat both (`stop` waits for one already on its way out instead of
/// calling it silent). [`find_running`] is this without a leaving daemon.
pub fn find_daemon(paths: &StatePaths) -> Option<Daemon> {
    probe_any(paths, &read_any(paths)?, PROBE_TIMEOUT)
}

/// [`probe`] without the `stopping` filter.
fn probe_any(paths: &StatePaths, rec: &StateRecord, timeout: Duration) -> Option<Daemon> {
    if rec.peer {
        // gstack's daemon says nothing of its identity: its process is proven instead before
        // its token is sent, and it must say `healthy`, as gstack's own CLI requires.
        peer::prove(paths, rec)?;
        let health = peer::health(rec, timeout).filter(|h| h.status == "healthy")?;
        return Some(Daemon {
            record: rec.clone(),
            health,
        });
    }
    let health = DaemonClient::new(rec.port, &rec.token)
        .health(timeout)
        .ok()?;
    let same_identity = health.instance_id == rec.instance_id && health.pid == rec.pid;
    let same_workspace = match &health.state_dir_id {
        Some(theirs) => paths.state_dir_id().as_ref() == Some(theirs),
        // gstack's and older daemons do not say; pid and instance id are all we have.
        None => true,
    };
    (same_identity && same_workspace).then(|| Daemon {
        record: rec.clone(),
        health,
    })
}

/// True when the record names a live `browse` daemon of this workspace: proven by
/// [`identity::prove_daemon`] (start time, `__daemon`, and the flock on this workspace's lock).
pub fn is_alive(paths: &StatePaths, rec: &StateRecord) -> bool {
    if rec.peer {
        return peer::prove(paths, rec).is_some();
    }
    identity::prove_daemon(paths, rec).is_some()
}

/// The election: wait for whoever holds the lock, or take it and start the daemon.
fn elect(paths: &StatePaths, began_ms: u64) -> Result<Daemon, LaunchError> {
    paths.ensure_state_dir().map_err(LaunchError::Workspace)?;
    let started = Instant::now();
    let mut deadline = started + crate::settings::start_timeout();
    let mut backoff = Duration::from_millis(5);
    // Made before the first look, so a record published between a look and the wait still
    // wakes us (inotify queues the event).
    let watch = wake::StateDirWatch::new(
        &paths.state_dir,
        &[
            &paths.state_file,
            &paths.start_error_file,
            &paths.state_dir.join(succession::CLAIM_FILE),
            &peer::lock_path(paths),
        ],
    );
    let max_poll = if watch.is_active() {
        MAX_POLL_WATCHED
    } else {
        MAX_POLL
    };
    let mut announced = false;
    // Set once gstack's starter was found holding its lock (its pid, if it names one).
    let mut peer_starting = None;
    loop {
        let attempt = ElectionLock::try_acquire(&paths.lock_file).map_err(|e| {
            LaunchError::Workspace(anyhow::anyhow!(
                "cannot open the lock file {}: {e}",
                paths.lock_file.display()
            ))
        })?;
        // A newer browse replacing the daemon (see `succession`) starts the next one; an
        // older starter that won the lock would undo the upgrade, so it lets the lock go.
        let successor = succession::newer_claim(paths, &crate::settings::version());
        match attempt {
            Attempt::Acquired(lock) if successor.is_none() => {
                match start_as_leader(paths, lock, began_ms, deadline)? {
                    Leadership::Started(daemon) => return Ok(*daemon),
                    Leadership::PeerStarting(pid) => peer_starting = Some(pid),
                }
            }
            Attempt::Acquired(_) | Attempt::Held => drop(attempt),
        }
        // One probe: a daemon on its way out is not chosen, but waited for below.
        let leaving = match find_daemon(paths) {
            Some(daemon) if !daemon.health.stopping => return Ok(daemon),
            leaving => leaving,
        };
        if let Some(cause) = readiness::start_error_since(&paths.start_error_file, began_ms) {
            return Err(LaunchError::StartFailed(cause));
        }
        // A daemon on its way out holds the lock until it has exited: wait for it as long as
        // it says its shutdown takes (its downloads may have a long grace), then start anew.
        if let Some(leaving) = &leaving {
            let within = Duration::from_millis(leaving.health.shutdown_within_ms.unwrap_or(0));
            deadline = deadline.max(Instant::now() + within + crate::settings::start_timeout());
        }
        if !announced && started.elapsed() >= ANNOUNCE_AFTER {
            announced = true;
            match (&successor, peer_starting) {
                (Some(version), _) => errln!(
                    "[browse] browse {version} is replacing the daemon; waiting for it..."
                ),
                (None, Some(pid)) => errln!(
                    "[browse] gstack's browse is starting the server ({} held by pid {}), waiting...",
                    peer::lock_path(paths).display(),
                    pid.map_or_else(|| "?".to_owned(), |p| p.to_string())
                ),
                (None, None) => match &leaving {
                    Some(leaving) => announce_leaving(&leaving.record, &leaving.health),
                    None => announce_holder(paths),
                },
            }
        }
        if Instant::now() >= deadline {
            return Err(match read_any(paths) {
                Some(rec) if is_alive(paths, &rec) => LaunchError::Busy { pid: rec.pid },
                _ => LaunchError::TimedOut,
            });
        }
        watch.wait(backoff.min(deadline.saturating_duration_since(Instant::now())));
        backoff = (backoff * 2).min(max_poll);
    }
}

/// For messages about a shutdown that waits on downloads: `"N download(s) in progress"` and
/// `"up to Ns, "` (the daemon's own `BROWSE_DOWNLOAD_GRACE`, empty when it does not say);
/// `None` when no download is in progress.
pub fn awaited_downloads(health: &crate::wire::Health) -> Option<(String, String)> {
    let n = health.downloads_in_progress;
    if n == 0 {
        return None;
    }
    let grace = health
        .download_grace_ms
        .map(|ms| format!("up to {}s, ", ms.div_ceil(1000)))
        .unwrap_or_default();
    let plural = if n == 1 { "" } else { "s" };
    Some((format!("{n} download{plural} in progress"), grace))
}

/// Says that the daemon is shutting down (and what it waits for) and that a new one follows.
fn announce_leaving(rec: &StateRecord, health: &crate::wire::Health) {
    let downloads = awaited_downloads(health)
        .map(|(what, grace)| format!(", waiting for {what} ({grace}BROWSE_DOWNLOAD_GRACE)"))
        .unwrap_or_default();
    let within = health
        .shutdown_within_ms
        .map(|ms| format!(" for up to {}s", ms.div_ceil(1000)))
        .unwrap_or_default();
    errln!(
        "[browse] The server (pid {}) is shutting down{downloads}; waiting{within} for it to exit, then starting a new one...",
        rec.pid
    );
}

/// Says once who we are waiting for. The lock is held for life by a running daemon, so when
/// the record names a live one, that daemon is not starting: it is busy, or its browser is
/// slow to answer the health check.
fn announce_holder(paths: &StatePaths) {
    if let Ok(rec) = record::read(&paths.state_file) {
        if is_alive(paths, &rec) {
            errln!(
                "[browse] The server (pid {}) is running but not answering /health as healthy yet (busy with a long command, or its browser is slow); waiting...",
                rec.pid
            );
            return;
        }
    }
    match lock::holder_diagnostic(&paths.lock_file) {
        Some((pid, held)) => errln!(
            "[browse] Another instance is starting the server, waiting... (lock held by pid {pid} for {:.1}s)",
            held.as_secs_f64()
        ),
        None => errln!("[browse] Another instance is starting the server, waiting..."),
    }
}

/// What the holder of our lock did.
enum Leadership {
    Started(Box<Daemon>),
    /// gstack's starter holds its own lock (`browse.json.lock`, pid if it names one): we let
    /// ours go and wait for its daemon, which the fast path uses as a peer.
    PeerStarting(Option<u32>),
}

/// We hold the lock: re-check, take gstack's lock too, clean up after a dead daemon, spawn,
/// wait for readiness.
fn start_as_leader(
    paths: &StatePaths,
    mut lock: ElectionLock,
    began_ms: u64,
    deadline: Instant,
) -> Result<Leadership, LaunchError> {
    // The previous holder may have just finished starting (or the daemon's lock file was
    // replaced under it): a daemon that answers wins over anything we would do.
    if let Some(daemon) = find_running(paths) {
        return Ok(Leadership::Started(Box::new(daemon)));
    }
    if let Some(cause) = readiness::start_error_since(&paths.start_error_file, began_ms) {
        return Err(LaunchError::StartFailed(cause));
    }
    if let Some(rec) = read_any(paths) {
        if is_alive(paths, &rec) {
            // Alive but not holding this lock file (it was deleted or replaced), or gstack's
            // daemon, and not answering: a live daemon is never replaced without
            // --force-restart.
            return Err(LaunchError::Busy { pid: rec.pid });
        }
    }
    // gstack's CLIs elect with their own lock file: hold it too while we start, or respect it.
    let _peer_lock = match peer::take_lock(paths) {
        Ok(peer::PeerLock::Ours(held)) => held,
        Ok(peer::PeerLock::Theirs(pid)) => return Ok(Leadership::PeerStarting(pid)),
        Err(e) => {
            return Err(LaunchError::StartFailed(format!(
                "cannot write in the state directory ({}): {e}",
                peer::lock_path(paths).display()
            )))
        }
    };
    // gstack's starter may have just finished (it removes its lock once its daemon is healthy).
    if let Some(daemon) = find_running(paths) {
        return Ok(Leadership::Started(Box::new(daemon)));
    }
    clean_up_dead_daemon(paths);
    lock.note_holder(std::process::id());
    // Reserved now so that the cause can be published even if the disk is full by then.
    if let Err(e) = readiness::reserve_start_error(&paths.start_error_file) {
        return Err(LaunchError::StartFailed(format!(
            "cannot write in the state directory ({}): {e}",
            paths.start_error_file.display()
        )));
    }
    if crate::settings::headed() {
        errln!("[browse] Starting server in headed mode...");
    } else {
        errln!("[browse] Starting server...");
    }
    match spawn::spawn_daemon(paths, &lock, deadline) {
        Ok(started) => {
            // The reservation held no cause: a successful start leaves no error file behind.
            let _ = fs::remove_file(&paths.start_error_file);
            let rec = record::read(&paths.state_file).map_err(|why| {
                LaunchError::StartFailed(format!("the daemon reported ready but {why}"))
            })?;
            if rec.instance_id != started.instance_id {
                return Err(LaunchError::StartFailed(
                    "the state record does not name the daemon that was just started".into(),
                ));
            }
            probe(paths, &rec, PROBE_TIMEOUT)
                .map(|d| Leadership::Started(Box::new(d)))
                .ok_or_else(|| {
                    LaunchError::StartFailed(format!(
                        "the daemon (pid {}, port {}) reported ready but does not answer /health",
                        started.pid, started.port
                    ))
                })
        }
        Err(cause) => {
            readiness::publish_start_error(&paths.start_error_file, &cause);
            Err(LaunchError::StartFailed(cause))
        }
    }
}

/// Removes what a dead daemon left: its record, temp files, its Chromium (identity-checked)
/// and the profile's singleton locks. The caller holds the lock and has seen no live daemon.
fn clean_up_dead_daemon(paths: &StatePaths) {
    let rec = record::read(&paths.state_file).ok();
    if let Some(rec) = &rec {
        kill_chromium(paths, rec);
    }
    record::remove_stale(&paths.state_file);
    if let Some(rec) = &rec {
        profile::remove_ephemeral(paths, rec);
    }
    crate::atomic_file::sweep_temps(&paths.state_file);
    // Only the workspace's own profile: a user's `--profile` keeps Chromium's lock files.
    for name in ["SingletonLock", "SingletonSocket", "SingletonCookie"] {
        let _ = fs::remove_file(paths.profile_dir.join(name));
    }
}

/// SIGKILLs the record's Chromium process group, if it is proven to be this workspace's
/// ([`identity::prove_chromium`]).
fn kill_chromium(paths: &StatePaths, rec: &StateRecord) {
    if let Some(chromium) = identity::prove_chromium(paths, rec) {
        chromium.signal_group(Signal::SIGKILL);
    }
}

/// SIGKILLs a live daemon and its Chromium after proving both identities
/// (`--force-restart` only). Chromium is proven first, while its parent is still the daemon.
/// Returns whether the daemon was proven (and so signalled).
pub fn kill_daemon(paths: &StatePaths, rec: &StateRecord) -> bool {
    if rec.peer {
        return peer::prove(paths, rec).is_some_and(|gstack| gstack.force_stop());
    }
    let chromium = identity::prove_chromium(paths, rec);
    let Some(daemon) = identity::prove_daemon(paths, rec) else {
        return false;
    };
    if let Some(chromium) = chromium {
        chromium.signal_group(Signal::SIGKILL);
    }
    daemon.signal(Signal::SIGKILL)
}

/// Waits until the daemon of `rec` and its Chromium are gone (or no longer provably this
/// workspace's), then removes what they left. Returns false if they were still there at
/// `deadline`. Looks every [`EXIT_POLL`] at most: a daemon's own shutdown takes ~60 ms, and a
/// look costs a few `/proc` reads, where a 50 ms cap let `stop` return up to 50 ms late.
pub fn wait_for_exit(paths: &StatePaths, rec: &StateRecord, deadline: Instant) -> bool {
    let mut backoff = Duration::from_millis(1);
    loop {
        let daemon_gone = !is_alive(paths, rec) && !still_exiting(rec);
        let chrome_gone = identity::prove_chromium(paths, rec).is_none_or(|c| {
            rec.chrome_start_time
                .is_none_or(|start| !identity::is_same_live_process(c.leader(), start))
        });
        if daemon_gone && chrome_gone {
            if let Ok(Attempt::Acquired(_lock)) = ElectionLock::try_acquire(&paths.lock_file) {
                record::remove_if_owned(&paths.state_file, &rec.instance_id);
                crate::atomic_file::sweep_temps(&paths.state_file);
            }
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(EXIT_POLL);
    }
}

/// Whether the record's daemon process still runs after letting go of the lock (which its
/// shutdown does before the process has exited): the same pid and start time, still a
/// `browse __daemon`. "Gone" must mean gone (`stop`'s promise); this only waits, never signals.
fn still_exiting(rec: &StateRecord) -> bool {
    !rec.peer
        && identity::is_same_live_process(rec.pid, rec.pid_start_time)
        && identity::cmdline(rec.pid).get(1).map(String::as_str) == Some(spawn::DAEMON_ARG)
}

/// The longest gap between two looks of [`wait_for_exit`].
const EXIT_POLL: Duration = Duration::from_millis(5);

/// Outcome of cleaning a record that no live daemon answers for (`stop` on a dead daemon).
pub enum StaleOutcome {
    /// There was no record at all.
    NothingThere,
    /// A record of a dead daemon was removed.
    Cleaned,
    /// The record's daemon is alive (identity confirmed) but did not answer.
    AliveButSilent(Box<StateRecord>),
}

/// Removes a dead daemon's leftovers under the lock. Never touches a live daemon.
pub fn clean_stale(paths: &StatePaths) -> Result<StaleOutcome, LaunchError> {
    let rec = match record::read(&paths.state_file) {
        Ok(rec) => Some(rec),
        Err(record::Unusable::Missing) => return Ok(StaleOutcome::NothingThere),
        Err(record::Unusable::Invalid(_)) => None,
    };
    if let Some(rec) = rec.as_ref().filter(|r| is_alive(paths, r)) {
        return Ok(StaleOutcome::AliveButSilent(Box::new(rec.clone())));
    }
    let deadline = Instant::now() + crate::settings::start_timeout();
    loop {
        match ElectionLock::try_acquire(&paths.lock_file) {
            Ok(Attempt::Acquired(_lock)) => {
                if find_running(paths).is_some() {
                    return Ok(StaleOutcome::NothingThere);
                }
                clean_up_dead_daemon(paths);
                return Ok(StaleOutcome::Cleaned);
            }
            Ok(Attempt::Held) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(Attempt::Held) => return Err(LaunchError::TimedOut),
            Err(e) => return Err(LaunchError::Workspace(e.into())),
        }
    }
}
