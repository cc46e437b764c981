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

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use serde_json::{json, Value};

use super::events::lock;
use super::session_setup::{SessionKind, SessionSetup};
use crate::cdp::Tab;

/// The worker sessions of one tab (dedicated workers) or of the browser (service and shared
/// workers), by session id.
pub struct Workers {
    setup: Arc<SessionSetup>,
    sessions: Mutex<HashMap<String, Arc<Tab>>>,
}

impl Workers {
    /// No workers yet; each one that attaches gets `setup` before it runs.
    pub fn new(setup: Arc<SessionSetup>) -> Arc<Self> {
        Arc::new(Workers {
            setup,
            sessions: Mutex::new(HashMap::new()),
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
        let setup = Arc::clone(&self.setup);
        let workers = Arc::downgrade(self);
        std::thread::spawn(move || {
            // Returns once the worker runs (it is let run whatever failed).
            if let Err(e) = setup.prepare(&cdp, kind) {
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
