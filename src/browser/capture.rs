//! Console, network and dialog capture: three daemon-global ring buffers fed by every tab's CDP
//! events (see `events.rs`; its cross-site iframes' too, `session_setup.rs`), and the `console`, `network` and `dialog` commands that print them
//! in gstack's exact line formats.
//!
//! The buffers carry no tab id and are shared by all tabs, as in gstack. Network entries are
//! paired by `requestId` (scoped per renderer), not by URL, so two requests for the same URL never
//! steal each other's status.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Page::events::JavascriptDialogOpeningEventParams;
use headless_chrome::protocol::cdp::Runtime::{RemoteObject, RemoteObjectSubtype};
use serde_json::Value;

use super::events::{lock, DialogPolicy};
use crate::clock;

/// Entries each buffer keeps before the oldest is overwritten (gstack's figure).
pub const CAPACITY: usize = 50_000;

/// A bounded FIFO whose entries keep a stable sequence number, so an entry can be found again
/// (to complete a network request) until it is evicted or cleared.
struct Ring<T> {
    items: VecDeque<T>,
    /// Sequence number of `items[0]`.
    first: u64,
}

impl<T> Ring<T> {
    const fn new() -> Self {
        Self {
            items: VecDeque::new(),
            first: 0,
        }
    }

    fn push(&mut self, item: T) -> u64 {
        if self.items.len() >= CAPACITY {
            self.items.pop_front();
            self.first += 1;
        }
        self.items.push_back(item);
        self.first + self.items.len() as u64 - 1
    }

    fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        let index = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.items.get_mut(index)
    }

    fn clear(&mut self) {
        self.first += self.items.len() as u64;
        self.items.clear();
    }
}

#[derive(Debug, Clone)]
struct ConsoleEntry {
    timestamp_ms: f64,
    level: String,
    text: String,
}

#[derive(Debug, Clone)]
struct NetworkEntry {
    method: String,
    url: String,
    status: Option<u32>,
    duration_ms: Option<u64>,
    size: Option<u64>,
    /// CDP monotonic time of the request, in seconds.
    started: f64,
    /// Decoded body bytes seen so far (`Network.dataReceived`).
    received: u64,
    content_length: Option<u64>,
}

#[derive(Debug, Clone)]
struct DialogEntry {
    timestamp_ms: f64,
    kind: String,
    message: String,
    accepted: bool,
    response: Option<String>,
}

struct NetworkLog {
    ring: Ring<NetworkEntry>,
    /// (tab key, requestId) → sequence number of the request's newest entry.
    open: HashMap<(u64, String), u64>,
    /// Requests Playwright never reports (see [`playwright_reports`]), so that their redirect
    /// hops are left out too; forgotten when they finish.
    hidden: HashSet<(u64, String)>,
}

/// Whether Playwright (and so gstack's `network`) reports a request: not a `data:` URL (its
/// `_onRequest` drops them), not a favicon (`_isFavicon`: the URL ends in `/favicon.ico`),
/// and issued by a frame (Chromium's own fetches carry no `frameId` and have no frame).
fn playwright_reports(url: &str, has_frame: bool) -> bool {
    has_frame && !url.starts_with("data:") && !url.ends_with("/favicon.ico")
}

/// The three buffers.
pub struct Capture {
    console: Mutex<Ring<ConsoleEntry>>,
    network: Mutex<NetworkLog>,
    dialogs: Mutex<Ring<DialogEntry>>,
}

static CAPTURE: LazyLock<Capture> = LazyLock::new(|| Capture {
    console: Mutex::new(Ring::new()),
    network: Mutex::new(NetworkLog {
        ring: Ring::new(),
        open: HashMap::new(),
        hidden: HashSet::new(),
    }),
    dialogs: Mutex::new(Ring::new()),
});

/// The daemon's buffers (one daemon, one browser, one set of buffers).
pub fn global() -> &'static Capture {
    &CAPTURE
}

impl Capture {
    /// Records what a CDP event says about console output or network traffic. `tab` is a key
    /// unique to the tab the event came from.
    pub fn observe(&self, tab: u64, event: &Event) {
        match event {
            Event::RuntimeConsoleAPICalled(e) => {
                let level = serde_json::to_value(&e.params.Type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "log".into());
                let text = e
                    .params
                    .args
                    .iter()
                    .map(render_preview)
                    .collect::<Vec<_>>()
                    .join(" ");
                self.push_console(e.params.timestamp, level, text);
            }
            // Browser-generated messages (a failed resource load, Chromium's `[DOM]` notes), as
            // Playwright's `_onLogEntryAdded` turns them into console messages: the entry's
            // level and text; a worker's entries are left out.
            Event::LogEntryAdded(e) => {
                let entry = &e.params.entry;
                let name = |v: serde_json::Result<Value>| {
                    v.ok().and_then(|v| v.as_str().map(str::to_owned))
                };
                if name(serde_json::to_value(&entry.source)).as_deref() == Some("worker") {
                    return;
                }
                let level =
                    name(serde_json::to_value(&entry.level)).unwrap_or_else(|| "log".into());
                self.push_console(entry.timestamp, level, entry.text.clone());
            }
            Event::RuntimeExceptionThrown(e) => {
                let details = &e.params.exception_details;
                let text = details
                    .exception
                    .as_ref()
                    .and_then(|ex| ex.description.as_deref())
                    .and_then(|d| d.lines().next())
                    .map(str::to_owned)
                    .unwrap_or_else(|| details.text.clone());
                self.push_console(e.params.timestamp, "error".into(), text);
            }
            Event::NetworkRequestWillBeSent(e) => {
                let p = &e.params;
                let mut log = lock(&self.network);
                let key = (tab, p.request_id.clone());
                if !playwright_reports(&p.request.url, p.frame_id.is_some())
                    || (p.redirect_response.is_some() && log.hidden.contains(&key))
                {
                    // A favicon's redirect hops stay hidden with it (Playwright's
                    // `redirectedFrom._isFavicon`).
                    log.hidden.insert(key);
                    if log.hidden.len() > CAPACITY {
                        log.hidden.clear();
                    }
                    return;
                }
                // A redirect reuses the requestId: the hop that redirected is complete.
                if let Some(redirect) = &p.redirect_response {
                    if let Some(seq) = log.open.get(&key).copied() {
                        if let Some(entry) = log.ring.get_mut(seq) {
                            entry.status = Some(redirect.status);
                            entry.duration_ms = Some(elapsed_ms(entry.started, p.timestamp));
                        }
                    }
                }
                let url = p.request.url.clone() + p.request.url_fragment.as_deref().unwrap_or("");
                let seq = log.ring.push(NetworkEntry {
                    method: p.request.method.clone(),
                    url,
                    status: None,
                    duration_ms: None,
                    size: None,
                    started: p.timestamp,
                    received: 0,
                    content_length: None,
                });
                log.open.insert(key, seq);
                prune(&mut log);
            }
            Event::NetworkResponseReceived(e) => {
                let p = &e.params;
                self.with_open(tab, &p.request_id, false, |entry| {
                    entry.status = Some(p.response.status);
                    entry.duration_ms = Some(elapsed_ms(entry.started, p.timestamp));
                    entry.content_length = p.response.headers.0.as_ref().and_then(content_length);
                });
            }
            Event::NetworkDataReceived(e) => {
                let p = &e.params;
                self.with_open(tab, &p.request_id, false, |entry| {
                    entry.received += u64::from(p.data_length);
                });
            }
            Event::NetworkLoadingFinished(e) => {
                self.with_open(tab, &e.params.request_id, true, |entry| {
                    let size = if entry.received > 0 {
                        Some(entry.received)
                    } else {
                        entry.content_length
                    };
                    entry.size = size.filter(|s| *s > 0);
                });
            }
            Event::NetworkLoadingFailed(e) => {
                self.with_open(tab, &e.params.request_id, true, |_| {});
            }
            _ => {}
        }
    }

    /// Records a dialog and how `policy` answers it.
    pub fn record_dialog(
        &self,
        dialog: &JavascriptDialogOpeningEventParams,
        policy: &DialogPolicy,
    ) {
        let kind = serde_json::to_value(&dialog.Type)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "alert".into());
        lock(&self.dialogs).push(DialogEntry {
            timestamp_ms: now_ms(),
            kind,
            message: dialog.message.clone(),
            accepted: policy.accept,
            response: if policy.accept {
                policy.prompt_text.clone()
            } else {
                None
            },
        });
    }

    fn push_console(&self, timestamp_ms: f64, level: String, text: String) {
        let timestamp_ms = if timestamp_ms > 0.0 {
            timestamp_ms
        } else {
            now_ms()
        };
        lock(&self.console).push(ConsoleEntry {
            timestamp_ms,
            level,
            text,
        });
    }

    fn with_open(
        &self,
        tab: u64,
        request_id: &str,
        finish: bool,
        f: impl FnOnce(&mut NetworkEntry),
    ) {
        let mut log = lock(&self.network);
        let key = (tab, request_id.to_owned());
        let Some(seq) = log.open.get(&key).copied() else {
            if finish {
                log.hidden.remove(&key);
            }
            return;
        };
        if let Some(entry) = log.ring.get_mut(seq) {
            f(entry);
        }
        if finish {
            log.open.remove(&key);
        }
    }
}

/// Forgets requests whose entries were evicted or cleared, so the index stays bounded.
fn prune(log: &mut NetworkLog) {
    if log.open.len() > CAPACITY {
        let first = log.ring.first;
        log.open.retain(|_, seq| *seq >= first);
    }
}

fn elapsed_ms(started: f64, now: f64) -> u64 {
    ((now - started) * 1000.0).round().max(0.0) as u64
}

fn content_length(headers: &Value) -> Option<u64> {
    headers.as_object()?.iter().find_map(|(name, value)| {
        if name.eq_ignore_ascii_case("content-length") {
            value.as_str()?.trim().parse().ok()
        } else {
            None
        }
    })
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as f64
}

fn iso(timestamp_ms: f64) -> String {
    clock::iso8601(UNIX_EPOCH + Duration::from_millis(timestamp_ms.max(0.0) as u64))
}

/// Playwright's text for one console argument: primitives as `String(value)`, plain objects
/// and arrays from their preview (`{a: 1}`, `[1, 2]`), anything else by its description.
fn render_preview(object: &RemoteObject) -> String {
    let kind = serde_json::to_value(&object.Type).ok();
    if kind.as_ref().and_then(Value::as_str) == Some("undefined") {
        return "undefined".into();
    }
    // `null` arrives as `{type: object, subtype: null, value: null}`: Playwright's
    // `String(value)` gives "null".
    if object.subtype == Some(RemoteObjectSubtype::Null) {
        return "null".into();
    }
    if let Some(value) = &object.value {
        return match value {
            Value::String(s) => s.clone(),
            Value::Null => "null".into(),
            other => other.to_string(),
        };
    }
    if let Some(unserializable) = &object.unserializable_value {
        return unserializable.clone();
    }
    let subtype = object
        .subtype
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok());
    if let Some(preview) = &object.preview {
        if object.description.as_deref() == Some("Object") {
            let tokens: Vec<String> = preview
                .properties
                .iter()
                .map(|p| format!("{}: {}", p.name, p.value.as_deref().unwrap_or("")))
                .collect();
            return format!("{{{}}}", tokens.join(", "));
        }
        if subtype.as_ref().and_then(Value::as_str) == Some("array") {
            return sparse_array(
                preview
                    .properties
                    .iter()
                    .map(|p| (p.name.as_str(), p.value.as_deref().unwrap_or(""))),
            );
        }
    }
    object.description.clone().unwrap_or_default()
}

/// Playwright's `sparseArrayToString`: `[1, <empty>, 3]`, `[1, <2 empty items>, 4]`.
fn sparse_array<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut items: Vec<(u64, &str)> = entries
        .filter_map(|(name, value)| Some((name.parse().ok()?, value)))
        .collect();
    items.sort_by_key(|(index, _)| *index);
    let mut tokens = Vec::with_capacity(items.len());
    let mut last: i64 = -1;
    for (index, value) in items {
        let gap = index as i64 - last - 1;
        if gap == 1 {
            tokens.push("<empty>".to_owned());
        } else if gap > 1 {
            tokens.push(format!("<{gap} empty items>"));
        }
        tokens.push(value.to_owned());
        last = index as i64;
    }
    format!("[{}]", tokens.join(", "))
}

impl Capture {
    /// Console lines in `console`'s format, oldest first; only errors and warnings when
    /// `errors_only`.
    pub fn console_lines(&self, errors_only: bool) -> Vec<String> {
        lock(&self.console)
            .items
            .iter()
            .filter(|e| !errors_only || e.level == "error" || e.level == "warning")
            .map(console_line)
            .collect()
    }

    /// Network lines in `network`'s format, oldest first.
    pub fn network_lines(&self) -> Vec<String> {
        lock(&self.network)
            .ring
            .items
            .iter()
            .map(network_line)
            .collect()
    }

    /// Dialog lines in `dialog`'s format, oldest first.
    pub fn dialog_lines(&self) -> Vec<String> {
        lock(&self.dialogs).items.iter().map(dialog_line).collect()
    }

    pub fn clear_console(&self) {
        lock(&self.console).clear();
    }

    /// Empties the network buffer, requests still open included.
    pub fn clear_network(&self) {
        let mut log = lock(&self.network);
        log.ring.clear();
        log.open.clear();
    }

    pub fn clear_dialogs(&self) {
        lock(&self.dialogs).clear();
    }
}

fn console_line(e: &ConsoleEntry) -> String {
    format!("[{}] [{}] {}", iso(e.timestamp_ms), e.level, e.text)
}

fn dialog_line(e: &DialogEntry) -> String {
    let mut line = format!(
        "[{}] [{}] \"{}\" → {}",
        iso(e.timestamp_ms),
        e.kind,
        e.message,
        if e.accepted { "accepted" } else { "dismissed" }
    );
    if let Some(response) = e.response.as_deref().filter(|r| !r.is_empty()) {
        line.push_str(&format!(" \"{response}\""));
    }
    line
}

/// Where the disk mirror has got to in each buffer (sequence numbers).
#[derive(Debug, Default, Clone, Copy)]
pub struct MirrorCursor {
    console: u64,
    network: u64,
    dialogs: u64,
}

/// New lines for the disk mirror since `cursor`, which moves past them:
/// (console, network, dialog) in the command output formats.
pub fn mirror_since(cursor: &mut MirrorCursor) -> (Vec<String>, Vec<String>, Vec<String>) {
    fn take<T>(ring: &Ring<T>, at: &mut u64, line: impl Fn(&T) -> String) -> Vec<String> {
        let skip = usize::try_from(at.saturating_sub(ring.first)).unwrap_or(usize::MAX);
        let lines = ring.items.iter().skip(skip).map(line).collect();
        *at = ring.first + ring.items.len() as u64;
        lines
    }
    let capture = global();
    let console = take(&lock(&capture.console), &mut cursor.console, console_line);
    let network = take(
        &lock(&capture.network).ring,
        &mut cursor.network,
        network_line,
    );
    let dialogs = take(&lock(&capture.dialogs), &mut cursor.dialogs, dialog_line);
    (console, network, dialogs)
}

fn network_line(e: &NetworkEntry) -> String {
    let or_unknown = |v: Option<u64>| v.filter(|v| *v > 0).map_or("?".into(), |v| v.to_string());
    format!(
        "{} {} → {} ({}ms, {}B)",
        e.method,
        e.url,
        e.status
            .filter(|s| *s > 0)
            .map_or("pending".into(), |s| s.to_string()),
        or_unknown(e.duration_ms),
        or_unknown(e.size)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_overwrites_the_oldest_and_keeps_sequence_numbers() {
        let mut ring = Ring::new();
        for i in 0..CAPACITY + 2 {
            ring.push(i);
        }
        assert_eq!(ring.items.len(), CAPACITY);
        assert_eq!(ring.items.front(), Some(&2));
        assert!(ring.get_mut(1).is_none());
        assert_eq!(ring.get_mut(2).copied(), Some(2));
        ring.clear();
        assert!(ring.get_mut(CAPACITY as u64).is_none());
        assert_eq!(ring.push(7), CAPACITY as u64 + 2);
    }

    #[test]
    fn requests_playwright_never_reports_are_left_out() {
        assert!(playwright_reports("http://127.0.0.1:5/index.html", true));
        assert!(!playwright_reports("http://127.0.0.1:5/favicon.ico", true));
        assert!(!playwright_reports("data:image/png;base64,AAAA", true));
        assert!(!playwright_reports("http://127.0.0.1:5/index.html", false));
    }

    #[test]
    fn network_lines_substitute_missing_values() {
        let mut e = NetworkEntry {
            method: "GET".into(),
            url: "http://x/a.css".into(),
            status: None,
            duration_ms: None,
            size: None,
            started: 0.0,
            received: 0,
            content_length: None,
        };
        assert_eq!(network_line(&e), "GET http://x/a.css → pending (?ms, ?B)");
        e.status = Some(200);
        e.duration_ms = Some(0);
        e.size = Some(12);
        assert_eq!(network_line(&e), "GET http://x/a.css → 200 (?ms, 12B)");
    }

    #[test]
    fn sparse_arrays_render_like_playwright() {
        let entries = [("0", "1"), ("2", "3"), ("5", "6")];
        assert_eq!(
            sparse_array(entries.iter().copied()),
            "[1, <empty>, 3, <2 empty items>, 6]"
        );
    }
}
