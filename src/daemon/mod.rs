//! The daemon: the process that holds the election lock, one Chromium and the HTTP listener
//! for a workspace, from start-up to a clean exit.
//!
//! Start-up order is the readiness contract: bind `127.0.0.1` first, launch Chromium, publish
//! `browse.json`, and only then tell the spawner `Ready`. Every exit path (stop, idle, signals,
//! Chromium's death, losing the record) runs the same shutdown: stop accepting, drain, kill
//! Chromium's process group, compare-and-delete the record.

mod chromium;
mod server;
mod watch;

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context, Result};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};

use crate::browser::Session;
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
    pub listener: TcpListener,
}

/// Entry point of `browse __daemon`.
pub fn run() -> ExitCode {
    init_logging();
    let Some(state_file) = std::env::var_os("BROWSE_STATE_FILE").filter(|v| !v.is_empty()) else {
        eprintln!("[browse] the daemon is started by the browse CLI; run a browse command instead");
        return ExitCode::from(2);
    };
    let paths = StatePaths::from_state_file(PathBuf::from(state_file), false);
    let ready_pipe = take_fd(spawn::READY_FD_ENV);
    let lock = match adopt_lock(&paths) {
        Ok(lock) => lock,
        Err(e) => {
            // Losing the election is not a failure to report: someone else is the daemon.
            tracing::warn!("not starting: {e:#}");
            return ExitCode::from(1);
        }
    };
    match start(paths.clone(), lock) {
        Ok(daemon) => {
            let ready = Readiness::Ready {
                pid: daemon.record.pid,
                port: daemon.record.port,
                instance_id: daemon.record.instance_id.clone(),
            };
            if let Some(pipe) = ready_pipe {
                // A spawner killed before readiness is not our problem: we keep serving.
                let _ = ready.send(pipe);
            }
            tracing::info!(pid = daemon.record.pid, port = daemon.record.port, "ready");
            // git may take a while; nobody waits for it, so it runs after readiness.
            let paths = daemon.paths.clone();
            std::thread::spawn(move || paths.ensure_project_ignores_state_dir());
            server::serve(daemon)
        }
        Err(e) => {
            let reason = format!("{e:#}");
            tracing::error!("start-up failed: {reason}");
            let _ = std::fs::write(&paths.startup_error_log, format!("{reason}\n"));
            readiness::publish_start_error(&paths.start_error_file, &reason);
            if let Some(pipe) = ready_pipe {
                let _ = Readiness::Failed { reason }.send(pipe);
            }
            ExitCode::from(1)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BROWSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
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

fn start(paths: StatePaths, lock: ElectionLock) -> Result<Daemon> {
    let began = std::time::Instant::now();
    let listener = bind_loopback()?;
    let port = listener.local_addr()?.port();
    let cwd = std::env::current_dir().unwrap_or_else(|_| paths.project_dir.clone());
    let (chromium, browser) = if crate::settings::browserless() {
        (None, None)
    } else {
        let chromium = Chromium::launch(&paths.profile_dir)?;
        tracing::info!(
            chromium_ms = began.elapsed().as_millis() as u64,
            "Chromium launched"
        );
        let browser = crate::cdp::Browser::connect(&chromium.ws_url)
            .context("cannot connect to Chromium's DevTools")?;
        (Some(chromium), Some(browser))
    };
    let session = Arc::new(Session::new(browser, cwd).context("cannot open Chromium's first tab")?);
    session
        .watch_popups()
        .context("cannot watch for pages that pages open")?;
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
        mode: "launched".into(),
        config_hash: Some("303a7eeccc03078b".into()),
        schema: record::SCHEMA,
        instance_id: random_hex(16),
        pid_start_time: identity::start_time(me).unwrap_or(0),
        version: crate::settings::version(),
        chrome_pid: chromium.as_ref().map(|c| c.pid),
        chrome_start_time: chromium.as_ref().map(|c| c.start_time),
        hostname: identity::hostname(),
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
        listener,
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
