//! The hang watchdog: while a command runs on a tab, check every few seconds that the page's
//! main thread still answers; if a page script has it stuck (an endless loop), stop that
//! script with `Runtime.terminateExecution` so the command fails clearly instead of wedging
//! the tab, and the next command works.
//!
//! It probes responsiveness rather than timing the command, because commands such as
//! `wait 60000` or `js "await slow()"` legitimately take long while the page stays responsive.
//! A probe that fails while one of our own non-script calls is still waiting (a large
//! `Accessibility.getFullAXTree`, a `Page.navigate` waiting on the network) blames nothing:
//! the page is busy with our work, not stuck in its own script. Commands that make such a
//! call on a page that may already be stuck first make a script call, which the watchdog can
//! stop (see `snapshot.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use headless_chrome::protocol::cdp::Runtime;

use crate::cdp::Tab;

/// How long a probe may take before the page counts as stuck. Long enough that our own heavy
/// page scripts (50 MB of `text`) are not mistaken for a stuck page, short enough that a stuck
/// page is stopped before a tab call's own 15 s limit.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Armed for the life of one command.
pub struct HangWatch {
    _stop: mpsc::Sender<()>,
    fired: Arc<AtomicBool>,
}

impl HangWatch {
    /// Starts watching `tab`, probing every `every`.
    pub fn arm(tab: Arc<Tab>, every: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let fired = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&fired);
        let spawned = std::thread::Builder::new()
            .name("hang-watch".into())
            .spawn(move || {
                // Disconnected (the command finished) ends the watch; a timeout means probe.
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    // A crashed page fails every call at once; there is no script to stop.
                    if !answers(&tab) && !tab.is_crashed() && !busy_with_our_call(&tab) {
                        tracing::warn!("page script stuck; terminating it");
                        flag.store(true, Ordering::SeqCst);
                        let _ = tab
                            .call_method_within(Runtime::TerminateExecution(None), PROBE_TIMEOUT);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the hang watchdog: {e}");
        }
        HangWatch { _stop: stop, fired }
    }

    /// True when the watchdog had to stop a stuck page script during the command.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

/// The calls that run page JavaScript: script calls, and input events, whose answer waits
/// for the page's listeners (a click on a button whose mousedown handler never returns held
/// its tab until the CLI gave up at 30 s, the next command waiting behind it). Any other call
/// of ours still waiting when the probe fails is what keeps the page (or its navigation)
/// busy: Chromium building a large accessibility tree, a screenshot, a navigation waiting on
/// the network. That is not a stuck page script, and stopping scripts would not help.
const SCRIPT_METHODS: &[&str] = &[
    "Runtime.evaluate",
    "Runtime.callFunctionOn",
    "Runtime.awaitPromise",
    "Input.dispatchMouseEvent",
    "Input.dispatchKeyEvent",
    "Input.insertText",
    "Input.dispatchTouchEvent",
];

fn busy_with_our_call(tab: &Tab) -> bool {
    let pending = tab.pending_methods();
    let ours = pending
        .iter()
        .find(|m| !SCRIPT_METHODS.contains(&m.as_str()));
    if let Some(method) = ours {
        tracing::info!("page slow to answer while {method} runs; not a stuck script");
    }
    ours.is_some()
}

fn answers(tab: &Tab) -> bool {
    tab.call_method_within(crate::cdp::evaluate_request("1", true), PROBE_TIMEOUT)
        .is_ok()
}
