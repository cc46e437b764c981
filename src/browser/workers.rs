//! Workers' CDP sessions, each set up before its script runs, so `route` reaches every
//! request a worker makes (its script, `fetch`, `importScripts`, nested workers' scripts).
//!
//! Chromium gives a worker a target of its own. Dedicated workers are auto-attached under the
//! session of the tab, frame or worker that started them (`Target.setAutoAttach
//! {waitForDebuggerOnStart, flatten}`, see `frames.rs`); service and shared workers, which
//! belong to no one page, under the browser's (see `session/popups.rs`). Each waits until
//! `SessionSetup::prepare` has set it up and sent `Runtime.runIfWaitingForDebugger`, which it
//! sends whatever failed before it (logged).
//!
//! A dedicated worker has no `Fetch` domain: its requests pause in the session of the page
//! that started it, which the routes already answer; its session gives the tab's logs its
//! requests, console lines and errors, as Playwright reports them as its page's. A service or
//! shared worker gets the routes on its own session (Playwright's `context.route` reaches
//! service workers) and is not logged (Playwright reports a service worker's requests only
//! behind an experimental flag).
//!
//! A shared worker's requests pause in its session only if `Fetch` was on there before
//! Chromium built the worker's network access, which it does once the worker's main script has
//! loaded, in the browser process, whether or not the worker waits for a debugger: a quick
//! script would win the race against our set-up now and then, and the worker would never be
//! routed. So the browser session pauses every request of type `Other` (the main scripts of
//! shared and service workers, and little else: favicons), and [`hold_main_scripts`] lets each go
//! once every browser worker attached before it has its routes in place.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use serde_json::{json, Value};

use super::events::lock;
use super::session_setup::{SessionKind, SessionSetup};
use crate::cdp::Tab;

/// The worker sessions of one tab (dedicated workers) or of the browser (service and shared
/// workers), by session id.
pub struct Workers {
    setup: Arc<SessionSetup>,
    sessions: Mutex<HashMap<String, Arc<Tab>>>,
    /// Browser workers adopted whose routes are not in place yet.
    unrouted: Mutex<usize>,
    /// Notified when `unrouted` drops.
    routed: Condvar,
}

impl Workers {
    /// No workers yet; each one that attaches gets `setup` before it runs.
    pub fn new(setup: Arc<SessionSetup>) -> Arc<Self> {
        Arc::new(Workers {
            setup,
            sessions: Mutex::new(HashMap::new()),
            unrouted: Mutex::new(0),
            routed: Condvar::new(),
        })
    }

    /// Handles a `Target.attachedToTarget` of a dedicated worker (`type: "worker"`) reported
    /// on `parent`'s session: adopts it. False for any other event or target type.
    pub fn on_attached(self: &Arc<Self>, parent: &Arc<Tab>, params: &Value) -> bool {
        let info = &params["targetInfo"];
        if info["type"].as_str() != Some("worker") {
            return false;
        }
        let (Some(session_id), Some(target_id)) =
            (params["sessionId"].as_str(), info["targetId"].as_str())
        else {
            return true;
        };
        match parent.child_session(session_id, target_id) {
            Ok(cdp) => {
                // It runs in its parent's renderer: one request of it may be reported in both
                // sessions (its own script's answer comes on the worker's).
                super::events::share_capture_key(parent, &cdp);
                self.adopt(cdp, SessionKind::Worker);
            }
            Err(e) => {
                tracing::warn!("cannot attach to worker {target_id}: {e:#}");
                // It waits for a debugger: detaching lets it run.
                release(parent, session_id);
            }
        }
        true
    }

    /// Takes a worker's session, attached paused: its events are routed at once, and on
    /// another thread (this one may be the one delivering the answers) it is prepared and let
    /// run. The dedicated workers it starts are adopted the same way.
    pub fn adopt(self: &Arc<Self>, cdp: Arc<Tab>, kind: SessionKind) {
        tracing::debug!(target_id = cdp.get_target_id(), ?kind, "attached a worker");
        let workers: Weak<Workers> = Arc::downgrade(self);
        let parent: Weak<Tab> = Arc::downgrade(&cdp);
        cdp.add_raw_listener(Arc::new(move |message: &Value| {
            let (Some(workers), Some(parent)) = (workers.upgrade(), parent.upgrade()) else {
                return;
            };
            let params = &message["params"];
            match message["method"].as_str() {
                // Anything but a dedicated worker is let go (detaching lets it run).
                Some("Target.attachedToTarget") if !workers.on_attached(&parent, params) => {
                    if let Some(child) = params["sessionId"].as_str() {
                        release(&parent, child);
                    }
                }
                Some("Target.detachedFromTarget") => {
                    if let Some(child) = params["sessionId"].as_str() {
                        workers.forget(child);
                    }
                }
                _ => {}
            }
        }));
        lock(&self.sessions).insert(cdp.session_id().to_owned(), Arc::clone(&cdp));
        // Counted now, before the main script's pause can be looked at (see `WorkerScripts`).
        let pending = (kind == SessionKind::BrowserWorker).then(|| RoutesPending::new(self));
        let setup = Arc::clone(&self.setup);
        let workers = Arc::downgrade(self);
        std::thread::spawn(move || {
            if pending.is_some() {
                std::thread::sleep(crate::settings::test_worker_setup_delay());
            }
            // Returns once the worker runs (it is let run whatever failed).
            if let Err(e) = setup.prepare_then(&cdp, kind, move || drop(pending)) {
                if crate::browser::frames::session_gone(&e) {
                    if let Some(workers) = workers.upgrade() {
                        workers.forget(cdp.session_id());
                    }
                } else {
                    tracing::warn!(
                        "worker {} runs without its full set-up: {e:#}",
                        cdp.get_target_id()
                    );
                }
            }
        });
    }

    /// Waits until every browser worker adopted so far has its routes in place; false at
    /// `deadline`.
    pub fn wait_routed(&self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        let (unrouted, _) = self
            .routed
            .wait_timeout_while(lock(&self.unrouted), left, |unrouted| *unrouted > 0)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *unrouted == 0
    }

    /// The sessions of the workers running now, for a setting that changes while they run.
    pub fn sessions(&self) -> Vec<Arc<Tab>> {
        lock(&self.sessions).values().cloned().collect()
    }

    /// Drops a worker's session once it is detached (the worker ended).
    pub fn forget(&self, session_id: &str) {
        if let Some(cdp) = lock(&self.sessions).remove(session_id) {
            cdp.detach_events();
        }
    }
}

impl Drop for Workers {
    /// A closed tab's worker sessions get no detach event we would see: stop routing their
    /// events, which ends their listener threads.
    fn drop(&mut self) {
        for cdp in lock(&self.sessions).values() {
            cdp.detach_events();
        }
    }
}

/// One browser worker's routes not in place yet: counted in [`Workers::wait_routed`] until
/// dropped, however its set-up ends.
struct RoutesPending(Weak<Workers>);

impl RoutesPending {
    fn new(workers: &Arc<Workers>) -> Self {
        *lock(&workers.unrouted) += 1;
        RoutesPending(Arc::downgrade(workers))
    }
}

impl Drop for RoutesPending {
    fn drop(&mut self) {
        if let Some(workers) = self.0.upgrade() {
            let mut unrouted = lock(&workers.unrouted);
            *unrouted = unrouted.saturating_sub(1);
            workers.routed.notify_all();
        }
    }
}

/// The longest a request waits for a worker's set-up (a handful of CDP calls): bounds a stuck
/// browser only.
pub const HOLD_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The browser-level pause of workers' main scripts (see the module doc): every request of
/// type `Other` pauses in `browser`'s session (`Fetch.enable` there: use it only in a browser
/// we launched, it holds requests of every page) and goes on unchanged once the target events
/// received before it were handled and every browser worker of `workers` attached so far has
/// its routes, or after [`HOLD_LIMIT`] whatever happened. The pauses are answered on a thread
/// of their own, which ends with the DevTools connection or `workers`. Errors name the CDP
/// call that failed.
pub fn hold_main_scripts(
    browser: &crate::cdp::Browser,
    workers: &Arc<Workers>,
) -> anyhow::Result<()> {
    let paused = browser.watch_events("Fetch.requestPaused");
    browser.call_raw(
        "Fetch.enable",
        json!({ "patterns": [
            { "urlPattern": "*", "resourceType": "Other", "requestStage": "Request" }
        ] }),
        HOLD_LIMIT * 5,
    )?;
    let weak: Weak<Workers> = Arc::downgrade(workers);
    let browser = browser.clone();
    std::thread::Builder::new()
        .name("worker-scripts".into())
        .spawn(move || {
            for event in paused {
                let Some(workers) = weak.upgrade() else {
                    return;
                };
                let Some(request_id) = event.pointer("/params/requestId").and_then(Value::as_str)
                else {
                    continue;
                };
                let deadline = Instant::now() + HOLD_LIMIT;
                if !(browser.wait_target_events(deadline) && workers.wait_routed(deadline)) {
                    tracing::warn!(
                        "a worker's set-up took over {HOLD_LIMIT:?}; its script goes on"
                    );
                }
                if let Err(e) = browser.call_raw(
                    "Fetch.continueRequest",
                    json!({ "requestId": request_id }),
                    HOLD_LIMIT,
                ) {
                    tracing::debug!("Fetch.continueRequest at the browser level: {e:#}");
                }
            }
        })?;
    Ok(())
}

/// Detaches `parent`'s child session `session_id` on another thread (the caller may be the
/// one delivering answers): a target that waits for a debugger runs once detached.
pub fn release(parent: &Arc<Tab>, session_id: &str) {
    let parent = Arc::clone(parent);
    let child = session_id.to_owned();
    std::thread::spawn(move || {
        if let Err(e) = parent.call_raw("Target.detachFromTarget", json!({ "sessionId": child })) {
            tracing::debug!("cannot detach from target session {child}: {e:#}");
        }
    });
}

/// `Target.setAutoAttach` parameters for a worker's session: its own dedicated workers,
/// paused until prepared.
pub fn nested_auto_attach_params() -> Value {
    crate::cdp::held_auto_attach_params(Some(&["worker"]))
}
