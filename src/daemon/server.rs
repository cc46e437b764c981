//! The daemon's HTTP server (axum on tokio): `GET /health`, `POST /command`, `POST /batch`,
//! and the lifecycle around them — activity tracking for idle shutdown, signals, and the one
//! graceful shutdown every exit path goes through.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use super::chromium::Chromium;
use super::{watch as watchers, Daemon};
use crate::browser::{events::lock, CommandError, Session};
use crate::launcher::record;
use crate::wire::{
    BatchEntryResult, BatchReply, BatchRequest, CommandRequest, ErrorBody, Health, CALLER_HEADER,
    MAX_BODY_BYTES, NOTE_HEADER, PROBE_LEASE_MS, PROTOCOL, SHUTTING_DOWN_ERROR,
};

/// How long in-flight requests may take to finish once shutdown has begun.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Requests being served and the time of the last one, for idle shutdown; and the health
/// checks whose command has not come yet, for `stop --if-idle`.
#[derive(Debug)]
pub struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
    /// Caller id ([`CALLER_HEADER`], empty when absent) → time of its last `/health`, until
    /// its next command or [`PROBE_LEASE_MS`].
    probes: Mutex<HashMap<String, Instant>>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last: Mutex::new(Instant::now()),
            probes: Mutex::new(HashMap::new()),
        }
    }

    /// A CLI checked our health: a command from it is likely to follow.
    fn probed_by(&self, caller: &str) {
        let lease = Duration::from_millis(PROBE_LEASE_MS);
        let mut probes = lock(&self.probes);
        probes.retain(|_, at| at.elapsed() < lease);
        probes.insert(caller.to_owned(), Instant::now());
    }

    /// A command came from `caller`: its health check is answered for.
    fn commanded_by(&self, caller: &str) {
        lock(&self.probes).remove(caller);
    }

    /// True when a caller other than `caller` checked our health within the lease and has
    /// not sent its command yet (it is between the two).
    fn awaited_by_another(&self, caller: Option<&str>) -> bool {
        let lease = Duration::from_millis(PROBE_LEASE_MS);
        lock(&self.probes)
            .iter()
            .any(|(who, at)| Some(who.as_str()) != caller && at.elapsed() < lease)
    }

    /// Something still runs that is not a request (a download in progress): restarts the
    /// idle clock.
    pub fn touch(&self) {
        *lock(&self.last) = Instant::now();
    }

    fn begin(self: &Arc<Self>) -> ActivityGuard {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        *lock(&self.last) = Instant::now();
        ActivityGuard(Arc::clone(self))
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// How long nothing has been in flight (zero while something is).
    pub fn idle_for(&self) -> Duration {
        if self.in_flight() > 0 {
            return Duration::ZERO;
        }
        lock(&self.last).elapsed()
    }
}

/// Marks one request in flight until dropped.
struct ActivityGuard(Arc<Activity>);

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        *lock(&self.0.last) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Asks the daemon to shut down, with the reason for the log. The first reason wins.
#[derive(Clone)]
pub struct Shutdown(Arc<watch::Sender<Option<String>>>);

impl Shutdown {
    pub fn trigger(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.0.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// True once a shutdown has been asked for.
    pub fn is_triggered(&self) -> bool {
        self.0.borrow().is_some()
    }

    pub async fn triggered(&self) -> String {
        let mut rx = self.0.subscribe();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            Err(_) => "shutdown channel closed".into(),
        };
        reason
    }
}

/// What every handler can see.
pub struct AppState {
    pub token: String,
    pub port: u16,
    pub pid: u32,
    pub instance_id: String,
    pub version: String,
    pub started_at: String,
    pub started: Instant,
    pub session: Arc<Session>,
    pub activity: Arc<Activity>,
    pub shutdown: Shutdown,
    /// `/health`'s `stateDirId`: which workspace this daemon serves.
    pub state_dir_id: Option<String>,
    /// When the shutdown began (set once it is asked for): `/health`'s `shutdownWithinMs`
    /// counts down from it.
    pub shutdown_began: Mutex<Option<Instant>>,
    /// `Some(cancelled)` once the downloads a shutdown waits for have ended or were given
    /// up at `BROWSE_DOWNLOAD_GRACE` (`cancelled` of them): the HTTP server keeps answering
    /// until then, so CLIs see the daemon `stopping` instead of silent.
    pub downloads_settled: watch::Sender<Option<usize>>,
}

impl AppState {
    /// At most how long from now this daemon takes to exit once asked (or still takes, once
    /// it is shutting down): its own download grace, close timeout and drain margin.
    fn shutdown_within(&self) -> Duration {
        let budget = crate::settings::stop_deadline();
        match *lock(&self.shutdown_began) {
            Some(began) => budget.saturating_sub(began.elapsed()),
            None => budget,
        }
    }
}

/// Serves until shutdown, then cleans up. Runs on the main thread, which also launched
/// Chromium: its parent-death signal is tied to this thread's life.
pub fn serve(mut daemon: Daemon) -> ExitCode {
    let listener = daemon.listener.take();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return finish(&daemon);
        }
    };
    let code = runtime.block_on(serve_async(&daemon, listener));
    // Commands still running on blocking threads are abandoned: Chromium is about to die.
    runtime.shutdown_timeout(Duration::from_millis(500));
    finish(&daemon);
    code
}

async fn serve_async(daemon: &Daemon, listener: Option<std::net::TcpListener>) -> ExitCode {
    let (tx, _rx) = watch::channel(None);
    let shutdown = Shutdown(Arc::new(tx));
    let state = Arc::new(AppState {
        token: daemon.record.token.clone(),
        port: daemon.record.port,
        pid: daemon.record.pid,
        instance_id: daemon.record.instance_id.clone(),
        version: daemon.record.version.clone(),
        started_at: daemon.record.started_at.clone(),
        started: Instant::now(),
        session: Arc::clone(&daemon.session),
        activity: Arc::new(Activity::new()),
        shutdown: shutdown.clone(),
        state_dir_id: daemon.paths.state_dir_id(),
        shutdown_began: Mutex::new(None),
        downloads_settled: watch::channel(None).0,
    });
    let Some(listener) = listener else {
        tracing::error!("the listener was already taken");
        return ExitCode::from(1);
    };
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(listener))
    {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot serve on the bound listener: {e}");
            return ExitCode::from(1);
        }
    };
    watchers::spawn_all(daemon, &state);
    let app = router(Arc::clone(&state));
    tokio::spawn(settle_downloads(Arc::clone(&state)));
    let mut settled = state.downloads_settled.subscribe();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = settled.wait_for(Option::is_some).await;
    });
    let mut settled = state.downloads_settled.subscribe();
    let drained = async move {
        let _ = settled.wait_for(Option::is_some).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    tokio::select! {
        result = server => {
            if let Err(e) = result {
                tracing::error!("server error: {e}");
                return ExitCode::from(1);
            }
        }
        () = drained => tracing::warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}"),
    }
    ExitCode::SUCCESS
}

/// Once a shutdown is asked for, downloads still in progress get `BROWSE_DOWNLOAD_GRACE` to
/// finish while the server still answers (`/health` says `stopping` and how many), so that
/// `stop` and other CLIs can say what they wait for; then the server closes. Closing
/// Chromium cancels what is left and removes its files: said in the log and to `stop`.
async fn settle_downloads(state: Arc<AppState>) {
    let reason = state.shutdown.triggered().await;
    tracing::info!("shutting down: {reason}");
    *lock(&state.shutdown_began) = Some(Instant::now());
    let session = Arc::clone(&state.session);
    let cancelled = tokio::task::spawn_blocking(move || {
        // A browser that does not answer cannot finish a download: nothing to wait for.
        if session.browser_fault().is_some() {
            return 0;
        }
        let grace = crate::settings::download_grace();
        let unfinished = session.wait_for_downloads(Instant::now() + grace);
        for download in &unfinished {
            tracing::warn!(
                seq = download.seq,
                url = %download.url,
                received_bytes = download.received,
                "download still in progress after BROWSE_DOWNLOAD_GRACE ({grace:?}); closing Chromium cancels it"
            );
        }
        unfinished.len()
    })
    .await
    .unwrap_or(0);
    state.downloads_settled.send_replace(Some(cancelled));
}

/// The exit every path shares: Chromium closes (gracefully when it answers), the record goes
/// if it is still ours.
fn finish(daemon: &Daemon) -> ExitCode {
    if let Some(chromium) = &daemon.chromium {
        let mut chromium = lock(chromium);
        let carry = super::cookie_carry_paths(
            &daemon.paths,
            Some(&chromium),
            daemon.record.profile.as_deref(),
            &daemon.record.instance_id,
        );
        close_chromium(&daemon.session, &mut chromium, carry);
        drop(chromium);
        // Chromium is gone: its throw-away profile can go too.
        crate::launcher::profile::remove_ephemeral(&daemon.paths, &daemon.record);
    } else if daemon.record.cdp_url.is_some() {
        // A remote browser is not ours to close: leave it as we found it.
        daemon.session.close_own_tabs();
    }
    record::remove_if_owned(&daemon.paths.state_file, &daemon.record.instance_id);
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// Closes Chromium so that nothing the user made is lost. Downloads in progress have had
/// their `BROWSE_DOWNLOAD_GRACE` already (`settle_downloads`, while the server answered); CDP
/// `Browser.close` makes Chromium write cookies and storage to the profile and exit, and we
/// wait (`BROWSE_CLOSE_TIMEOUT`) until no process of its group is left; only then is whatever
/// is left SIGKILLed. A Chromium whose main process is stopped (SIGSTOP, a debugger) is killed
/// at once: it cannot close. One that is only slow (missed heartbeats on a loaded machine) is
/// still asked to close: killing it would lose what it has not written yet. A kill the
/// deadline forced is said on the daemon's stderr (its log), with the setting to raise.
fn close_chromium(
    session: &Arc<Session>,
    chromium: &mut Chromium,
    carry: Option<(std::path::PathBuf, std::path::PathBuf)>,
) {
    if chromium.is_stopped() {
        let cause = session
            .browser_fault()
            .unwrap_or_else(|| format!("Chromium (pid {}) is stopped", chromium.pid));
        tracing::warn!("killing Chromium without closing it: {cause}");
        chromium.kill();
        return;
    }
    // Only a profile that outlives this daemon has anything to keep.
    let persistent = carry.is_some();
    // Chromium's cookie store may not get its last write to disk (see `cookie_carry.rs`):
    // the persistent cookies go to the state dir first, for the next daemon.
    if let Some((profile, file)) = carry.filter(|_| session.browser_fault().is_none()) {
        match session.save_cookies(&profile, &file, super::COOKIE_CARRY_TIMEOUT) {
            Ok(n) => tracing::info!(saved = n, "persistent cookies saved for the next start"),
            Err(e) => tracing::warn!("persistent cookies not saved: {e:#}"),
        }
    }
    let began = Instant::now();
    let close_timeout = crate::settings::close_timeout();
    let deadline = began + close_timeout;
    if persistent && session.browser_fault().is_none() {
        commit_web_storage(
            session,
            chromium,
            began + (close_timeout / 2).min(PAGES_CLOSE_BUDGET),
        );
    }
    if !ask_to_close(session, deadline) {
        tracing::warn!(
            "Chromium did not take Browser.close within BROWSE_CLOSE_TIMEOUT ({:?}); killing its process group: cookies and storage it had not written yet are lost",
            crate::settings::close_timeout()
        );
    } else if chromium.wait_for_group_exit(deadline) {
        tracing::info!(
            close_ms = began.elapsed().as_millis() as u64,
            "Chromium closed"
        );
    } else {
        tracing::warn!(
            "Chromium did not exit within BROWSE_CLOSE_TIMEOUT ({:?}) of Browser.close; killing its process group: cookies and storage it had not written yet may be lost (raise BROWSE_CLOSE_TIMEOUT on a loaded machine)",
            crate::settings::close_timeout()
        );
    }
    chromium.kill();
}

/// At most how long a shutdown waits for the pages' renderers to exit before `Browser.close`
/// (see [`commit_web_storage`]); half of `BROWSE_CLOSE_TIMEOUT` when that is shorter.
const PAGES_CLOSE_BUDGET: Duration = Duration::from_millis(1_500);

/// Gets what pages wrote to localStorage onto disk before `Browser.close`. Chromium's storage
/// service commits a page's localStorage changes to the profile's LevelDB 1 s after the first
/// of them (`--enable-aggressive-domstorage-flushing`; 5 s without), and `Browser.close` ends
/// that service (SIGTERM from the browser) without waiting for the commit its own shutdown
/// schedules: measured with Chromium 156, a value written just before `Browser.close` was
/// missing at the next start in 5 of 60 closes (1 of 60 written 200 ms before, 0 of 60
/// written 1 s before), and `strace` showed the service killed before its LevelDB write.
/// The service commits a storage area at once when its last connection closes, so every page
/// is closed first (`Target.closeTarget`, which also runs their `pagehide` handlers), we wait
/// for their renderers to exit, then for the service's database to have run those commits
/// ([`Session::wait_for_storage_commits`]); all until `deadline`, past which `Browser.close`
/// goes ahead. Closing pages alone still lost a 3 MB value in 1 of 10 exits; with the wait,
/// none in 12 (a commit that large takes longer than `Browser.close` takes to kill).
fn commit_web_storage(session: &Arc<Session>, chromium: &Chromium, deadline: Instant) {
    let began = Instant::now();
    let asked = session.close_pages(deadline);
    if asked == 0 {
        return;
    }
    loop {
        let left = chromium.live_renderers();
        if left == 0 {
            let fenced = session
                .wait_for_storage_commits(deadline.saturating_duration_since(Instant::now()));
            match fenced {
                Ok(()) => tracing::info!(
                    pages = asked,
                    pages_close_ms = began.elapsed().as_millis() as u64,
                    "pages closed and their localStorage written before Browser.close"
                ),
                Err(e) => tracing::warn!(
                    "pages closed, but their localStorage may not be written yet: {e:#}"
                ),
            }
            return;
        }
        if Instant::now() >= deadline {
            tracing::warn!(
                renderers = left,
                "renderers still running {:?} after their pages were closed; closing Chromium anyway: localStorage they wrote in the last second may be lost",
                began.elapsed()
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `Browser.close` from a thread of its own, so that a send that cannot complete (a
/// frozen browser's full socket) never holds the exit past `deadline`.
fn ask_to_close(session: &Arc<Session>, deadline: Instant) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let session = Arc::clone(session);
    let within = deadline.saturating_duration_since(Instant::now());
    let spawned = std::thread::Builder::new()
        .name("browser-close".into())
        .spawn(move || {
            let _ = tx.send(session.close_browser(within));
        });
    spawned.is_ok() && rx.recv_timeout(within).unwrap_or(false)
}

fn router(state: Arc<AppState>) -> Router {
    // Everything but /health needs the token; checked before the body is read.
    let private = Router::new()
        .route("/command", post(command))
        .route("/batch", post(batch))
        .route("/refs", get(refs))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            require_token,
        ));
    Router::new()
        .route("/health", get(health))
        .merge(private)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            loopback_only,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Refuses requests a web page could make: a `Host` other than our loopback address (DNS
/// rebinding) or any browser `Origin`.
async fn loopback_only(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let host_ok = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            h == format!("127.0.0.1:{}", state.port) || h == format!("localhost:{}", state.port)
        });
    if !host_ok {
        return error(
            StatusCode::FORBIDDEN,
            ErrorBody::new("Forbidden: bad Host header"),
        );
    }
    if req.headers().contains_key(header::ORIGIN) {
        return error(
            StatusCode::FORBIDDEN,
            ErrorBody::new("Forbidden: browser requests are not accepted"),
        );
    }
    next.run(req).await
}

/// The caller id a request carries ([`CALLER_HEADER`]); empty for gstack's CLI and others.
fn caller_of(headers: &HeaderMap) -> &str {
    headers
        .get(CALLER_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn health(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Json<Health> {
    state.activity.probed_by(caller_of(&headers));
    let healthy = state.session.browser_fault().is_none();
    Json(Health {
        status: if healthy { "healthy" } else { "unhealthy" }.into(),
        mode: crate::settings::mode_name().into(),
        uptime: state.started.elapsed().as_secs(),
        tabs: state.session.tab_count(),
        terminal_port: None,
        pid: state.pid,
        instance_id: state.instance_id.clone(),
        version: state.version.clone(),
        started_at: state.started_at.clone(),
        protocol: PROTOCOL,
        in_flight: state.activity.in_flight(),
        state_dir_id: state.state_dir_id.clone(),
        stopping: state.shutdown.is_triggered(),
        downloads_in_progress: state.session.downloads_in_progress(),
        shutdown_within_ms: Some(
            u64::try_from(state.shutdown_within().as_millis()).unwrap_or(u64::MAX),
        ),
        download_grace_ms: Some(
            u64::try_from(crate::settings::download_grace().as_millis()).unwrap_or(u64::MAX),
        ),
    })
}

/// 401 unless the request carries `Bearer <token>` (compared in constant time).
async fn require_token(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", state.token);
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|got| bool::from(got.as_bytes().ct_eq(expected.as_bytes())));
    if !authorized {
        return error(StatusCode::UNAUTHORIZED, ErrorBody::new("Unauthorized"));
    }
    next.run(req).await
}

/// The body as JSON, or gstack's error for anything that is not (sent with a 400).
fn json_body(body: &[u8]) -> Result<serde_json::Value, ErrorBody> {
    serde_json::from_slice(body).map_err(|_| ErrorBody::new("Invalid JSON body"))
}

async fn command(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let _active = state.activity.begin();
    let caller = caller_of(&headers);
    state.activity.commanded_by(caller);
    let value = match json_body(&body) {
        Ok(v) => v,
        Err(body) => return error(StatusCode::BAD_REQUEST, body),
    };
    let req = match CommandRequest::from_json(value) {
        Ok(r) => r,
        Err(body) => return error(StatusCode::BAD_REQUEST, body),
    };
    let mut notes = Vec::new();
    match run_command(&state, req, Some(caller), &mut notes).await {
        Ok(text) => {
            let mut reply = text_reply(text);
            for note in notes {
                if let Ok(value) = axum::http::HeaderValue::from_str(&note) {
                    reply.headers_mut().append(NOTE_HEADER, value);
                }
            }
            reply
        }
        Err(e) => error(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            e.body,
        ),
    }
}

/// `POST /batch`: up to [`crate::wire::MAX_BATCH`] commands run one after another through the same path as
/// `/command`; a failing entry does not stop the rest. Each entry may pin its own tab.
async fn batch(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let _active = state.activity.begin();
    state.activity.commanded_by(caller_of(&headers));
    let started = Instant::now();
    let value = match json_body(&body) {
        Ok(v) => v,
        Err(body) => return error(StatusCode::BAD_REQUEST, body),
    };
    let BatchRequest { entries, envelope } = match BatchRequest::from_json(value) {
        Ok(batch) => batch,
        Err(body) => return error(StatusCode::BAD_REQUEST, body),
    };
    let mut results = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let command = entry
            .get("command")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let tab_id = entry.get("tabId").and_then(serde_json::Value::as_u64);
        let outcome = if command == "batch" {
            Err(CommandError::bad_request(ErrorBody::new(
                "Nested batch commands are not allowed",
            )))
        } else {
            match CommandRequest::from_json(entry) {
                Ok(mut req) => {
                    req.envelope = req.envelope.or(envelope);
                    // gstack's batch bodies have no place for notes.
                    run_command(&state, req, None, &mut Vec::new()).await
                }
                Err(body) => Err(CommandError::bad_request(body)),
            }
        };
        let (status, result) = match outcome {
            Ok(text) => (200, text),
            Err(e) => (
                e.status,
                serde_json::to_string(&e.body).unwrap_or_else(|_| e.body.error.clone()),
            ),
        };
        results.push(BatchEntryResult {
            index,
            status,
            result,
            command,
            tab_id,
        });
    }
    let succeeded = results.iter().filter(|r| r.status == 200).count();
    let total = results.len();
    Json(BatchReply {
        results,
        duration: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        total,
        succeeded,
        failed: total - succeeded,
    })
    .into_response()
}

/// `GET /refs` (gstack): the active tab's refs from its last snapshot, its URL and the mode.
async fn refs(State(state): State<Arc<AppState>>) -> Response {
    let session = Arc::clone(&state.session);
    let listed =
        tokio::task::spawn_blocking(move || (session.active_refs(), session.active_url())).await;
    let Ok((refs, url)) = listed else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorBody::new("cannot list refs"),
        );
    };
    let refs: Vec<serde_json::Value> = refs
        .into_iter()
        .map(|(r, role, name)| serde_json::json!({ "ref": r, "role": role, "name": name }))
        .collect();
    Json(serde_json::json!({ "refs": refs, "url": url, "mode": crate::settings::mode_name() }))
        .into_response()
}

/// Lifecycle commands are answered here; browser commands go to the session on a blocking
/// thread.
///
/// `caller` is the requesting CLI's id (`None` inside a batch): `stop --if-idle` is refused
/// while another request is in flight or another CLI is between its health check and its
/// command ([`PROBE_LEASE_MS`]), so a newer CLI replacing this daemon never pulls it from
/// under an older CLI that has just chosen it. The notes a browser command leaves for its
/// caller (`crate::browser::notes`) are added to `notes`.
async fn run_command(
    state: &Arc<AppState>,
    req: CommandRequest,
    caller: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<String, CommandError> {
    match req.command.as_str() {
        "status" => Ok(state.session.status_text()),
        // A request that stays in flight, for the idle and stop-race tests of the launcher;
        // it exists only in the browser-less test mode.
        "__test-sleep" if crate::settings::browserless() => {
            let ms = req
                .args
                .first()
                .and_then(|a| a.parse().ok())
                .unwrap_or(1000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(format!("slept {ms}ms"))
        }
        "stop" | "restart" => {
            let if_idle = req.args.iter().any(|a| a == "--if-idle");
            // This request is itself in flight.
            if if_idle && state.activity.in_flight() > 1 {
                return Err(CommandError {
                    status: 409,
                    body: ErrorBody::new("Daemon busy: other requests are in flight"),
                });
            }
            if if_idle && state.activity.awaited_by_another(caller) {
                return Err(CommandError {
                    status: 409,
                    body: ErrorBody::new("Daemon busy: another CLI is about to send a command"),
                });
            }
            state.shutdown.trigger(format!("{} command", req.command));
            // Answer once the downloads are settled: the CLI waits on this request, and is
            // told here what closing Chromium cancels.
            let mut settled = state.downloads_settled.subscribe();
            let cancelled = settled
                .wait_for(Option::is_some)
                .await
                .map(|c| c.unwrap_or(0))
                .unwrap_or(0);
            if cancelled > 0 {
                notes.push(format!(
                    "{cancelled} download{} still in progress after BROWSE_DOWNLOAD_GRACE ({}s) {} cancelled: closing the browser removes unfinished files",
                    if cancelled == 1 { "" } else { "s" },
                    crate::settings::download_grace().as_secs(),
                    if cancelled == 1 { "was" } else { "were" },
                ));
            }
            Ok(if req.command == "stop" {
                "Server stopped".into()
            } else {
                "Restarting...".into()
            })
        }
        _ if state.shutdown.is_triggered() => Err(CommandError {
            status: 503,
            body: ErrorBody::with_hint(
                format!(
                    "{SHUTTING_DOWN_ERROR} (pid {}, downloads in progress: {})",
                    state.pid,
                    state.session.downloads_in_progress()
                ),
                "Run the command again: a new daemon starts once this one has exited.",
            ),
        }),
        _ => {
            // Chromium does not answer: say why now, rather than after a CDP timeout.
            if let Some(cause) = state.session.browser_fault() {
                return Err(CommandError {
                    status: 503,
                    body: ErrorBody::with_hint(
                        cause,
                        "Run 'browse restart' for a fresh browser (open tabs and anything not yet saved are lost), or 'browse stop'.",
                    ),
                });
            }
            let session = Arc::clone(&state.session);
            let ran = tokio::task::spawn_blocking(move || {
                // Whatever an earlier command on this pooled thread left unsaid is not ours.
                crate::browser::notes::take();
                let result = session.execute(&req);
                (result, crate::browser::notes::take())
            })
            .await;
            match ran {
                Ok((result, said)) => {
                    notes.extend(said);
                    result
                }
                Err(e) => Err(CommandError::failed(format!("command crashed: {e}"))),
            }
        }
    }
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Not found",
    )
        .into_response()
}

fn text_reply(text: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn error(status: StatusCode, body: ErrorBody) -> Response {
    (status, Json(body)).into_response()
}
