//! What every CDP session of a tab gets: the tab's own session and each out-of-process
//! iframe's (cross-site frames run in a renderer of their own, reached through a session of
//! their own, see `frames.rs`). One place, so a setting a tab honours also holds inside its
//! cross-site frames.
//!
//! A frame's session is prepared while Chromium holds the frame paused
//! (`Target.setAutoAttach{waitForDebuggerOnStart}`), before `Runtime.runIfWaitingForDebugger`,
//! so the frame's first request is already covered (Playwright's `FrameSession` does the
//! same). A setting changed later is sent to every session of every tab by its command
//! ([`super::frames::Frames::sessions`]).
//!
//! A worker's session (`workers.rs`) is prepared the same way before it runs: a service or
//! shared worker's gets the routes, a dedicated worker's the `Network` and `Runtime` events
//! of the tab's logs and the emulation a worker holds (user agent, headers, time zone,
//! locale: `Emulation::apply_to_worker`).
//!
//! Per session: the emulation a frame can hold (user agent and `Accept-Language`, extra HTTP
//! headers, geolocation, time zone, locale, media features, offline; the viewport, touch and
//! focus belong to the tab's main frame), request routes (`Fetch`), and the `Network`
//! events that feed `network`, body capture and the console. Dialogs, downloads and cookies
//! are per browser or per tab and need nothing per frame.

use std::sync::{Arc, Mutex};

use headless_chrome::protocol::cdp::types::Event;
use serde_json::json;

use super::downloads::Downloads;
use super::events::lock;
use super::routes::RouteTable;
use super::session::Emulation;
use crate::cdp::Tab;

/// Which kind of session of a tab is being prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// The tab's own session (its page target). `PageEvents` enables its domains.
    Tab,
    /// An out-of-process iframe's session, paused until it is prepared.
    Frame,
    /// A dedicated worker's session (a tab's, a frame's or a worker's), paused until it is
    /// prepared: its requests, console lines and errors go to the tab's logs (its requests
    /// are routed in its page's session).
    Worker,
    /// A service or shared worker's session (the browser's), paused until it is prepared:
    /// routes only (see `workers.rs`).
    BrowserWorker,
}

impl SessionKind {
    /// True for the sessions whose requests and console lines go to the tab's logs.
    fn captured(self) -> bool {
        self != SessionKind::BrowserWorker
    }
}

/// The per-tab settings every session of a tab gets (shared by every tab of the daemon, as
/// gstack's one browser context shares them).
pub struct SessionSetup {
    /// Viewport and other emulation, as the emulation commands last set it.
    pub emulation: Arc<Mutex<Emulation>>,
    /// `route` / `unroute`: the request routes.
    pub routes: Arc<RouteTable>,
    /// The daemon's downloads: navigations that turn out to be downloads count from their
    /// headers on, in frames too.
    pub downloads: Arc<Downloads>,
}

impl SessionSetup {
    /// Gives `cdp` the tab's current settings and listens to its requests; a frame's or a
    /// worker's session (attached paused) is then let run, whatever failed. Errors name the CDP call that
    /// failed.
    pub fn prepare(&self, cdp: &Arc<Tab>, kind: SessionKind) -> anyhow::Result<()> {
        self.prepare_then(cdp, kind, || {})
    }

    /// [`prepare`](Self::prepare), calling `routed` once the session's routes are in place
    /// (whether that worked or not), before it is let run: a shared worker's main script is
    /// held until then (`workers.rs`), and letting the worker run waits for that script.
    pub fn prepare_then(
        &self,
        cdp: &Arc<Tab>,
        kind: SessionKind,
        routed: impl FnOnce(),
    ) -> anyhow::Result<()> {
        if matches!(kind, SessionKind::Frame | SessionKind::Worker) {
            // The frame's console messages, uncaught errors and requests belong in the tab's
            // logs; request ids are only unique per renderer, hence a key of its own (a
            // dedicated worker's is its parent's, see `Workers::on_attached`).
            let capture_key = super::events::capture_key(cdp);
            let _ = cdp.add_event_listener(Arc::new(move |event: &Event| {
                match event {
                    // A worker's requests name no frame; Playwright reports them as its
                    // page's (`CRNetworkManager.addSession` with the worker's frame).
                    Event::NetworkRequestWillBeSent(e)
                        if kind == SessionKind::Worker && e.params.frame_id.is_none() =>
                    {
                        let mut e = e.clone();
                        e.params.frame_id = Some(String::new());
                        super::capture::global()
                            .observe(capture_key, &Event::NetworkRequestWillBeSent(e));
                    }
                    _ => super::capture::global().observe(capture_key, event),
                }
            }));
        }
        if kind.captured() {
            super::bodies::attach(cdp);
            self.downloads.attach(cdp);
        }
        // A dedicated worker has no `Fetch` domain: its requests pause in the session of the
        // page that started it, which answers them.
        let routes = if kind == SessionKind::Worker {
            Ok(())
        } else {
            self.routes.attach(cdp)
        };
        routed();
        let settings = routes.and_then(|()| {
            // Held while the settings are sent: a command changing one meanwhile waits, then
            // sends its change to this session too, so the newer value is the one that stays.
            let emulation = lock(&self.emulation);
            match kind {
                SessionKind::Tab => emulation.apply(cdp),
                SessionKind::Frame => emulation.apply_to_frame(cdp),
                SessionKind::Worker => emulation.apply_to_worker(cdp),
                // Not a page's: Playwright gives a service worker none of a page's emulation.
                SessionKind::BrowserWorker => Ok(()),
            }
        });
        if matches!(kind, SessionKind::Worker | SessionKind::BrowserWorker) {
            // Sent together, handled in order, the worker let run last whatever failed: its
            // first request is routed (and, for a dedicated worker, logged with its console
            // lines), and the dedicated workers it starts attach (paused) under it.
            let mut calls = Vec::new();
            if kind.captured() {
                calls.push(("Network.enable", json!({})));
                calls.push(("Runtime.enable", json!({})));
            }
            calls.push((
                "Target.setAutoAttach",
                super::workers::nested_auto_attach_params(),
            ));
            calls.push(("Runtime.runIfWaitingForDebugger", json!({})));
            let answers = cdp.call_raw_pipelined(calls);
            let mut answers = answers.into_iter();
            let run = answers
                .next_back()
                .unwrap_or_else(|| Err(anyhow::anyhow!("a pipelined call went unanswered")));
            // A shared worker may not start workers of its own: its auto-attach may fail.
            let enabled: anyhow::Result<Vec<_>> =
                answers.take(if kind.captured() { 2 } else { 0 }).collect();
            run?;
            enabled?;
        }
        if kind == SessionKind::Frame {
            // Sent together, handled in order: the frame waits one round trip more, not three;
            // its first request is reported, and the cross-site iframes inside it attach
            // (paused) under it. (Every call made while it waits adds to its load; the
            // renderer's own domains are enabled after it runs.)
            let resumed = cdp.call_raw_pipelined(vec![
                ("Network.enable", json!({})),
                (
                    "Target.setAutoAttach",
                    super::frames::auto_attach_params(true),
                ),
                ("Runtime.runIfWaitingForDebugger", json!({})),
            ]);
            let [network, attach, run] = <[_; 3]>::try_from(resumed)
                .map_err(|_| anyhow::anyhow!("a pipelined call went unanswered"))?;
            if attach.is_err() {
                // A browser too old for the iframe filter.
                super::frames::auto_attach(cdp)?;
            }
            network?;
            run?;
        }
        settings
    }
}
