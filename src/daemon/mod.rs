//! The daemon: the process that holds the election lock, one Chromium and the HTTP listener
//! for a workspace, from start-up to a clean exit.
//!
//! Start-up order is the readiness contract: bind `127.0.0.1` first, launch Chromium, publish
//! `browse.json`, and only then tell the spawner `Ready`. Every exit path (stop, idle, signals,
//! Chromium's death, losing the record) runs the same shutdown: stop accepting, drain, close
//! Chromium (CDP `Browser.close`, wait for its process group, SIGKILL what is left),
//! compare-and-delete the record.

mod chromium;
mod remote_browser;
/// Where Chromium is found (`browse doctor` reports it).
pub use chromium::find_binary as find_chromium;
/// Full Chromium or its headless shell (`browse doctor` says which).
pub use chromium::Build as ChromiumBuild;
mod log;
mod server;
mod watch;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

use crate::browser::{events, Session};
use crate::launcher::lock::{set_cloexec, Attempt, ElectionLock};
use crate::launcher::paths::StatePaths;
use crate::launcher::readiness::{self, Readiness};
use crate::launcher::record::{self, StateRecord};
use crate::launcher::{identity, spawn};
use chromium::Chromium;

/// Everything a started daemon owns.
pub struct Daemon {
    pub paths: StatePaths,
    pub record: StateRecord,
    pub session: Arc<Session>,
    pub chromium: Option<Arc<Mutex<Chromium>>>,
    /// The election lock(s) held for life; more than one after the lock file was replaced.
    pub locks: Arc<Mutex<Vec<ElectionLock>>>,
    /// Taken by the server, which closes it when it stops serving: from then on a CLI is
    /// refused at once instead of waiting on a listener nobody accepts from.
    pub listener: Option<TcpListener>,
}

/// Entry point of `browse __daemon`.
pub fn run() -> ExitCode {
    log::init();
    let Some(state_file) = std::env::var_os("BROWSE_STATE_FILE").filter(|v| !v.is_empty()) else {
        errln!("[browse] the daemon is started by the browse CLI; run a browse command instead");
        return ExitCode::from(2);
    };
    let paths = StatePaths::from_state_file(PathBuf::from(state_file), false);
    let outcome = Arc::new(Mutex::new(StartOutcome {
        pipe: take_fd(spawn::READY_FD_ENV),
        settled: false,
    }));
    let lock = match adopt_lock(&paths) {
        Ok(lock) => lock,
        Err(e) => {
            // Losing the election is not a failure to report: someone else is the daemon.
            tracing::warn!("not starting: {e:#}");
            return ExitCode::from(1);
        }
    };
    let wait = crate::settings::spawner_wait();
    watch_the_start(&paths, &outcome, crate::settings::start_limit(wait));
    match start(paths.clone(), lock, crate::settings::launch_budget(wait)) {
        Ok(daemon) => {
            let ready = Readiness::Ready {
                pid: daemon.record.pid,
                port: daemon.record.port,
                instance_id: daemon.record.instance_id.clone(),
            };
            {
                let mut outcome = events::lock(&outcome);
                if outcome.settled {
                    // Too late: the start watchdog has reported a failure and is ending us.
                    record::remove_if_owned(&paths.state_file, &daemon.record.instance_id);
                    return ExitCode::from(1);
                }
                outcome.settled = true;
                if let Some(pipe) = outcome.pipe.take() {
                    // A spawner killed before readiness is not our problem: we keep serving.
                    let _ = ready.send(pipe);
                }
            }
            tracing::info!(pid = daemon.record.pid, port = daemon.record.port, "ready");
            // git may take a while; nobody waits for it, so it runs after readiness.
            let paths = daemon.paths.clone();
            std::thread::spawn(move || paths.ensure_project_ignores_state_dir());
            server::serve(daemon)
        }
        Err(e) => {
            report_failure(&paths, &outcome, format!("{e:#}"));
            ExitCode::from(1)
        }
    }
}

/// How the start ended, decided once: by the start itself or by the start watchdog.
struct StartOutcome {
    /// The readiness pipe to the spawner, if one is waiting.
    pipe: Option<OwnedFd>,
    settled: bool,
}

/// Reports a failed start once (log, `browse-startup-error.log`, the shared start error, the
/// readiness pipe). False when the outcome was already settled.
fn report_failure(paths: &StatePaths, outcome: &Mutex<StartOutcome>, mut reason: String) -> bool {
    let mut outcome = events::lock(outcome);
    if outcome.settled {
        return false;
    }
    outcome.settled = true;
    if let Some(why) = log::failure() {
        reason.push_str(&format!(
            " (the daemon log could not be written either: {why})"
        ));
    }
    tracing::error!("start-up failed: {reason}");
    // Replaced by rename: a symlink planted at the log's name is never written through.
    let _ = crate::atomic_file::write_atomic(
        &paths.startup_error_log,
        format!("{reason}\n").as_bytes(),
        0o600,
    );
    readiness::publish_start_error(&paths.start_error_file, &reason);
    if let Some(pipe) = outcome.pipe.take() {
        let _ = Readiness::Failed { reason }.send(pipe);
    }
    true
}

/// Ends the daemon with a clear cause if its start is not done within `limit` (Chromium
/// opened DevTools but its first calls hang, a stalled filesystem): the spawner and every
/// waiting CLI then hear why before their own wait runs out. Chromium dies with us
/// (parent-death signal).
fn watch_the_start(paths: &StatePaths, outcome: &Arc<Mutex<StartOutcome>>, limit: Duration) {
    let paths = paths.clone();
    let outcome = Arc::clone(outcome);
    let spawned = std::thread::Builder::new()
        .name("start-watchdog".into())
        .spawn(move || {
            std::thread::sleep(limit);
            let reason = format!(
                "the daemon did not finish starting within {:.1} s (BROWSE_START_TIMEOUT minus a margin): Chromium opened DevTools but did not answer, or the state directory is stalled",
                limit.as_secs_f64()
            );
            if report_failure(&paths, &outcome, reason) {
                std::process::exit(1);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the start watchdog: {e}");
    }
}

/// Takes an inherited descriptor named by `var` and removes the variable, so nothing we start
/// (Chromium) sees it.
fn take_fd(var: &str) -> Option<OwnedFd> {
    let fd: i32 = std::env::var(var).ok()?.parse().ok()?;
    std::env::remove_var(var);
    if fd < 3 || set_cloexec(fd).is_err() {
        return None;
    }
    // SAFETY: the spawner passed this descriptor to us alone; we take ownership exactly once.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The lock our spawner handed down, or (when started by hand) one we take ourselves.
fn adopt_lock(paths: &StatePaths) -> Result<ElectionLock> {
    if let Some(fd) = take_fd(spawn::LOCK_FD_ENV) {
        use std::os::fd::IntoRawFd;
        // SAFETY: the descriptor is ours alone (see take_fd) and handed over exactly once.
        let mut lock = unsafe { ElectionLock::from_inherited_fd(fd.into_raw_fd())? };
        lock.note_holder(std::process::id());
        return Ok(lock);
    }
    paths.ensure_state_dir()?;
    match ElectionLock::try_acquire(&paths.lock_file)? {
        Attempt::Acquired(mut lock) => {
            lock.note_holder(std::process::id());
            Ok(lock)
        }
        Attempt::Held => bail!(
            "another daemon or starter holds {}",
            paths.lock_file.display()
        ),
    }
}

fn start(paths: StatePaths, lock: ElectionLock, launch_budget: Duration) -> Result<Daemon> {
    let began = std::time::Instant::now();
    let listener = bind_loopback()?;
    let port = listener.local_addr()?.port();
    let cwd = std::env::current_dir().unwrap_or_else(|_| paths.project_dir.clone());
    let remote = crate::settings::cdp_url();
    let instance_id = random_hex(16);
    let profile = crate::settings::profile().filter(|_| remote.is_none());
    let (chromium, browser) = if crate::settings::browserless() {
        (None, None)
    } else if let Some(url) = &remote {
        let ws_url = remote_browser::websocket_url(url)?;
        let browser = crate::cdp::Browser::connect(&ws_url).with_context(|| {
            format!(
                "cannot connect to the remote browser at {}",
                crate::settings::redact_url(url)
            )
        })?;
        tracing::info!(
            remote = crate::settings::redact_url(url),
            "connected to a remote browser"
        );
        (None, Some(browser))
    } else {
        let profile_dir = profile_to_launch(&paths, profile.as_deref(), &instance_id)?;
        let chromium = Chromium::launch(&profile_dir, launch_budget)?;
        tracing::info!(
            chromium_ms = began.elapsed().as_millis() as u64,
            "Chromium launched"
        );
        let browser = crate::cdp::Browser::connect(&chromium.ws_url)
            .context("cannot connect to Chromium's DevTools")?;
        (Some(chromium), Some(browser))
    };
    let session = Arc::new(
        Session::new(browser, cwd, remote.is_some()).context("cannot open Chromium's first tab")?,
    );
    if let Some((profile_dir, file)) =
        cookie_carry_paths(&paths, chromium.as_ref(), profile.as_deref(), &instance_id)
    {
        // Before any page runs: cookies a graceful exit saved that the profile lost.
        match session.restore_cookies(&profile_dir, &file, COOKIE_CARRY_TIMEOUT) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                restored = n,
                "persistent cookies the profile had lost were restored from {}",
                file.display()
            ),
            Err(e) => tracing::warn!("saved cookies not restored: {e:#}"),
        }
    }
    session
        .watch_popups()
        .context("cannot watch for pages that pages open")?;
    // Without it, downloads behave as Chromium's default; not a reason to refuse to start.
    if let Err(e) = session.watch_downloads(&paths.state_dir.join("downloads")) {
        tracing::warn!("downloads will not be kept in the workspace: {e:#}");
    }
    std::thread::sleep(crate::settings::test_start_delay());
    let me = std::process::id();
    let record = StateRecord {
        pid: me,
        port,
        token: auth_token(),
        started_at: crate::clock::iso8601_now(),
        server_path: std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        mode: crate::settings::mode_name().into(),
        config_hash: Some(crate::settings::config_hash().into()),
        schema: record::SCHEMA,
        instance_id,
        pid_start_time: identity::start_time(me).unwrap_or(0),
        version: crate::settings::version(),
        chrome_pid: chromium.as_ref().map(|c| c.pid),
        chrome_start_time: chromium.as_ref().map(|c| c.start_time),
        cdp_url: remote,
        profile,
        hostname: identity::hostname(),
        peer: false,
    };
    record::write(&paths.state_file, &record).with_context(|| {
        format!(
            "cannot write the state record {}",
            paths.state_file.display()
        )
    })?;
    tracing::info!(
        start_ms = began.elapsed().as_millis() as u64,
        "record published"
    );
    let _ = std::fs::remove_file(&paths.startup_error_log);
    let daemon = Daemon {
        paths,
        record,
        session,
        chromium: chromium.map(|c| Arc::new(Mutex::new(c))),
        locks: Arc::new(Mutex::new(vec![lock])),
        listener: Some(listener),
    };
    Ok(daemon)
}

/// Binds the real listener at once (no probe-and-release): `BROWSE_PORT` if set, else a
/// random port in gstack's range 10000–49151, retrying another on EADDRINUSE.
fn bind_loopback() -> Result<TcpListener> {
    if let Ok(value) = std::env::var("BROWSE_PORT") {
        let port: u16 = value
            .trim()
            .parse()
            .with_context(|| format!("BROWSE_PORT={value:?} is not a port number"))?;
        return TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
            .with_context(|| format!("Port {port} (from BROWSE_PORT env) is in use"));
    }
    let mut last = None;
    for _ in 0..20 {
        let port = OsRng.gen_range(10_000..49_151);
        match TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(anyhow::anyhow!(
        "cannot bind a port on 127.0.0.1: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

/// The folder Chromium runs in for the profile choice (see `launcher::profile`). A user's
/// `--profile` is created 0700 if missing and refused while Chromium's own `SingletonLock`
/// there names a browser that may still run: its lock files are never deleted.
/// How long saving or restoring the carried cookies may take (ms per CDP call).
pub const COOKIE_CARRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The profile folder and the state dir's file its persistent cookies are carried in over a
/// graceful exit (`browser/cookie_carry.rs`): only for a Chromium this daemon launched, and
/// never for a throw-away `--ephemeral` profile.
pub fn cookie_carry_paths(
    paths: &StatePaths,
    chromium: Option<&Chromium>,
    profile: Option<&str>,
    instance_id: &str,
) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    chromium?;
    if profile == Some(crate::launcher::profile::EPHEMERAL) {
        return None;
    }
    let dir = crate::launcher::profile::dir_for(paths, profile, instance_id)?;
    Some((
        dir,
        paths
            .state_dir
            .join(crate::browser::cookie_carry::FILE_NAME),
    ))
}

fn profile_to_launch(
    paths: &StatePaths,
    profile: Option<&str>,
    instance_id: &str,
) -> Result<std::path::PathBuf> {
    let dir = crate::launcher::profile::dir_for(paths, profile, instance_id)
        .context("the daemon's instance id cannot name a profile folder")?;
    if profile.is_some_and(|p| p != crate::launcher::profile::EPHEMERAL) {
        if let Some(holder) = crate::launcher::profile::held_by(&dir) {
            anyhow::bail!(
                "the profile {} is in use by another browser ({holder}); close that browser \
                 or choose another --profile",
                dir.display()
            );
        }
    }
    Ok(dir)
}

/// `AUTH_TOKEN` when it has 16+ characters, else a random UUID v4 from the OS CSPRNG.
fn auth_token() -> String {
    if let Ok(t) = std::env::var("AUTH_TOKEN") {
        let t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        if t.chars().count() >= 16 {
            return t;
        }
    }
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    OsRng.fill_bytes(&mut b);
    hex(&b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
