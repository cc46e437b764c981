//! What a tab's CDP event stream tells us: the main frame's URL, navigation lifecycle events
//! (to wait for `DOMContentLoaded` of one navigation), and dialogs, which must be answered at
//! once or the page blocks. Console, network and dialog events are also handed to the
//! daemon-global capture buffers (`capture.rs`).
//!
//! headless_chrome calls listeners on the tab's event thread; they only record and notify.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use crate::cdp::Tab;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Page;

use crate::browser::capture;

/// How many lifecycle events we keep per tab (enough for any navigation we wait on).
const LIFECYCLE_KEEP: usize = 256;

/// Source of the per-tab keys that scope network requestIds in the capture buffers.
static NEXT_CAPTURE_KEY: AtomicU64 = AtomicU64::new(1);

/// The capture key of each CDP session that has one, by session id, with the session held
/// weakly: an entry whose session is gone is dropped at the next registration.
static CAPTURE_KEYS: Mutex<Vec<(String, Weak<Tab>, u64)>> = Mutex::new(Vec::new());

/// The key that scopes `session`'s network requestIds in the capture buffers: one per
/// renderer whose events are observed (a tab, an out-of-process iframe of it), since request
/// ids are only unique per renderer. The same session always gets the same key.
pub fn capture_key(session: &Arc<Tab>) -> u64 {
    let mut keys = lock(&CAPTURE_KEYS);
    let id = session.session_id();
    if let Some((_, _, key)) = keys.iter().find(|(s, _, _)| s == id) {
        return *key;
    }
    let key = NEXT_CAPTURE_KEY.fetch_add(1, Ordering::Relaxed);
    register(&mut keys, session, key);
    key
}

/// Gives `child` the capture key of `parent`: a dedicated worker runs in its parent's
/// renderer, and one request of it can be reported in both sessions (its script's
/// `Network.requestWillBeSent` in the parent's, the answer in the worker's; the reverse for
/// its `fetch`'s extra info), so both must name it alike.
pub fn share_capture_key(parent: &Arc<Tab>, child: &Arc<Tab>) {
    let key = capture_key(parent);
    register(&mut lock(&CAPTURE_KEYS), child, key);
}

fn register(keys: &mut Vec<(String, Weak<Tab>, u64)>, session: &Arc<Tab>, key: u64) {
    keys.retain(|(_, s, _)| s.strong_count() > 0);
    keys.push((
        session.session_id().to_owned(),
        Arc::downgrade(session),
        key,
    ));
}

/// The dialog policy: sticky and daemon-wide, accept by default.
#[derive(Debug, Clone)]
pub struct DialogPolicy {
    pub accept: bool,
    pub prompt_text: Option<String>,
}

impl Default for DialogPolicy {
    fn default() -> Self {
        Self {
            accept: true,
            prompt_text: None,
        }
    }
}

#[derive(Debug, Default)]
struct Log {
    main_frame: Option<String>,
    /// Loader ids of the main frame's new documents ("init"), oldest first.
    main_inits: Vec<String>,
    url: String,
    /// Loader id of the main frame's committed document (the one `url` belongs to).
    committed_loader: String,
    lifecycle: Vec<(String, String)>,
    /// Bumped on every main-frame navigation, same-document ones included.
    navigations: u64,
    /// Bumped when the main frame gets a new document (not on pushState or hash changes).
    documents: u64,
}

/// One tab's recorded events.
#[derive(Debug, Default)]
pub struct PageEvents {
    log: Mutex<Log>,
    changed: Condvar,
}

impl PageEvents {
    /// Starts listening on `tab`, answering dialogs with `policy`.
    pub fn attach(
        tab: &Arc<Tab>,
        main_frame: Option<String>,
        policy: Arc<Mutex<DialogPolicy>>,
    ) -> anyhow::Result<Arc<Self>> {
        let events = Arc::new(PageEvents::default());
        lock(&events.log).main_frame = main_frame;
        let weak_tab: Weak<Tab> = Arc::downgrade(tab);
        let sink = Arc::clone(&events);
        // Network requestIds are only unique per renderer; the key keeps tabs apart.
        let capture_key = capture_key(tab);
        tab.add_event_listener(Arc::new(move |event: &Event| {
            sink.record(event);
            capture::global().observe(capture_key, event);
            if let Event::PageJavascriptDialogOpening(e) = event {
                let policy = lock(&policy).clone();
                capture::global().record_dialog(&e.params, &policy);
                answer_dialog(weak_tab.clone(), policy);
            }
        }))?;
        // Asked after the listener is in place: a page that is loading as we attach (a popup)
        // commits either before this answer or in an event we see, never in between.
        let url = tab.get_url();
        {
            let mut log = lock(&events.log);
            if log.navigations == 0 {
                log.url = url;
            }
        }
        // Console and network capture need these domains; enabled after the listener so
        // nothing they report is missed.
        // `Log.entryAdded`: what the browser itself reports (failed loads, `[DOM]` notes).
        // Pipelined (one round trip for the three): none needs another's answer.
        tab.call_raw_in_order(vec![
            ("Runtime.enable", serde_json::json!({})),
            ("Log.enable", serde_json::json!({})),
            ("Network.enable", serde_json::json!({})),
        ])?;
        Ok(events)
    }

    fn record(&self, event: &Event) {
        let mut log = lock(&self.log);
        match event {
            Event::PageLifecycleEvent(e) => {
                if e.params.name == "init"
                    && log.main_frame.as_deref() == Some(e.params.frame_id.as_str())
                {
                    log.main_inits.push(e.params.loader_id.clone());
                    if log.main_inits.len() > LIFECYCLE_KEEP {
                        log.main_inits.remove(0);
                    }
                }
                log.lifecycle
                    .push((e.params.loader_id.clone(), e.params.name.clone()));
                if log.lifecycle.len() > LIFECYCLE_KEEP {
                    log.lifecycle.remove(0);
                }
            }
            Event::PageFrameNavigated(e) if e.params.frame.parent_id.is_none() => {
                log.main_frame = Some(e.params.frame.id.clone());
                log.committed_loader = e.params.frame.loader_id.clone();
                log.url = e.params.frame.url.clone()
                    + e.params.frame.url_fragment.as_deref().unwrap_or("");
                log.navigations += 1;
                log.documents += 1;
            }
            Event::PageNavigatedWithinDocument(e)
                if log.main_frame.as_deref() == Some(e.params.frame_id.as_str()) =>
            {
                log.url = e.params.url.clone();
                log.navigations += 1;
            }
            _ => return,
        }
        drop(log);
        self.changed.notify_all();
    }

    /// The main frame's current URL, hash and pushState changes included.
    pub fn url(&self) -> String {
        lock(&self.log).url.clone()
    }

    /// Counts main-frame navigations; a change means refs are void.
    pub fn navigation_count(&self) -> u64 {
        lock(&self.log).navigations
    }

    /// Counts new main-frame documents; refs taken before a change are void.
    pub fn document_count(&self) -> u64 {
        lock(&self.log).documents
    }

    /// Waits until the main frame has navigated (same-document or not) since
    /// [`navigation_count`](Self::navigation_count) returned `seen`. False at the deadline.
    pub fn wait_navigation_after(&self, seen: u64, deadline: Instant) -> bool {
        self.wait_for(deadline, |log| (log.navigations > seen).then_some(()))
            .is_some()
    }

    /// True when some lifecycle event of `loader_id` was recorded. False for a document that
    /// loaded before we attached (or whose events aged out), whose state must be asked of the
    /// page instead.
    pub fn knows_loader(&self, loader_id: &str) -> bool {
        lock(&self.log)
            .lifecycle
            .iter()
            .any(|(l, _)| l == loader_id)
    }

    /// Waits until the main-frame document of `loader_id` fires `name`, or another main-frame
    /// document replaces it first (a page that navigates away while loading).
    pub fn wait_document(&self, loader_id: &str, name: &str, deadline: Instant) -> DocumentWait {
        self.wait_for(deadline, |log| {
            if has_fired(log, loader_id, name) {
                return Some(DocumentWait::Reached);
            }
            let ours = log.main_inits.iter().position(|l| l == loader_id)?;
            log.main_inits
                .get(ours + 1)
                .map(|next| DocumentWait::Replaced(next.clone()))
        })
        .unwrap_or(DocumentWait::TimedOut)
    }

    /// The URL of the newest main-frame document, once it has committed: a document's
    /// `init` lifecycle event can arrive before its `Page.frameNavigated`, and until then
    /// [`url`](Self::url) still names the document it replaced. At the deadline, the URL
    /// known then.
    pub fn newest_document_url(&self, deadline: Instant) -> String {
        self.wait_for(deadline, |log| {
            let newest = log.main_inits.last()?;
            (*newest == log.committed_loader).then(|| log.url.clone())
        })
        .unwrap_or_else(|| self.url())
    }

    /// Waits until `loader_id` has fired lifecycle event `name`. False at the deadline.
    pub fn wait_lifecycle(&self, loader_id: &str, name: &str, deadline: Instant) -> bool {
        self.wait_for(deadline, |log| {
            has_fired(log, loader_id, name).then_some(())
        })
        .is_some()
    }

    /// Waits until `check` finds what it looks for in the log, or the deadline passes.
    fn wait_for<T>(&self, deadline: Instant, check: impl FnMut(&Log) -> Option<T>) -> Option<T> {
        wait_until_found(&self.log, &self.changed, deadline, check)
    }
}

fn has_fired(log: &Log, loader_id: &str, name: &str) -> bool {
    log.lifecycle
        .iter()
        .any(|(l, n)| l == loader_id && n == name)
}

/// How waiting for a document's lifecycle event ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DocumentWait {
    Reached,
    /// Another main-frame document (this loader id) replaced ours before it got there.
    Replaced(String),
    TimedOut,
}

/// Answers a dialog from another thread: the event thread must not block on a CDP call.
fn answer_dialog(tab: Weak<Tab>, policy: DialogPolicy) {
    std::thread::spawn(move || {
        if let Some(tab) = tab.upgrade() {
            let _ = tab.call_method(Page::HandleJavaScriptDialog {
                accept: policy.accept,
                prompt_text: policy.prompt_text,
            });
        }
    });
}

/// Waits on `changed` (notified whenever `mutex`'s value changes) until `check` finds what it
/// looks for in that value, or `deadline` passes (`None` then). `check` runs first, and again
/// on every wake-up.
pub fn wait_until_found<S, T>(
    mutex: &Mutex<S>,
    changed: &Condvar,
    deadline: Instant,
    mut check: impl FnMut(&S) -> Option<T>,
) -> Option<T> {
    let mut found = None;
    let mut guard = lock(mutex);
    // Only a lock poisoned by a panicking thread ends a wait early: recover, as `lock` does,
    // and wait out the rest.
    while let Err(poisoned) = changed.wait_timeout_while(
        guard,
        deadline.saturating_duration_since(Instant::now()),
        |value| {
            found = check(value);
            found.is_none()
        },
    ) {
        guard = poisoned.into_inner().0;
        if found.is_some() || Instant::now() >= deadline {
            break;
        }
    }
    found
}

/// Calls `handle(method, params, request_id)` for every `Network.*` event of `tab`'s session
/// that names a request, raw (before the typed protocol could drop a field it does not know):
/// the common start of the listeners that follow one session's requests (`bodies.rs`,
/// `downloads.rs`). It runs on the session's event thread, so it only records.
pub fn on_network_request_event(
    tab: &Tab,
    handle: impl Fn(&str, &serde_json::Value, &str) + Send + Sync + 'static,
) {
    tab.add_raw_listener(Arc::new(move |message: &serde_json::Value| {
        let Some(method) = message
            .get("method")
            .and_then(serde_json::Value::as_str)
            .filter(|m| m.starts_with("Network."))
        else {
            return;
        };
        let Some(params) = message.get("params") else {
            return;
        };
        if let Some(id) = params.get("requestId").and_then(serde_json::Value::as_str) {
            handle(method, params, id);
        }
    }));
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
