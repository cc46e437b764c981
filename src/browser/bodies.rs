//! Response body capture for `network --capture / --bodies / --export` (gstack
//! `network-capture.ts`, spec §7.4): while capture is on, every finished response of every tab
//! (gstack: the current page only) whose URL matches the filter is stored with its body, in a
//! buffer capped at 50 MB that evicts the oldest first; a body over 5 MB keeps only its
//! metadata and is marked truncated. 204, 301, 302 and 304 answers are skipped.
//!
//! Each tab's raw `Network.*` events (seen from adoption on, see `events.rs`) give the
//! request and response; on `Network.loadingFinished` a worker thread asks the tab for the
//! body (`Network.getResponseBody`), so no tab's event thread waits on it.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Value};

use super::events::lock;
use crate::cdp::Tab;

/// The buffer's cap over all bodies (bytes), gstack's figure.
pub const MAX_TOTAL: u64 = 50 * 1024 * 1024;
/// A body larger than this (bytes) keeps only its metadata, gstack's figure.
pub const MAX_ENTRY: u64 = 5 * 1024 * 1024;

/// One captured response. The first eight fields, with these names, are gstack's JSONL
/// record; the rest feed the HAR export.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapturedResponse {
    pub url: String,
    pub status: u32,
    pub headers: serde_json::Map<String, Value>,
    /// UTF-8 text for textual types (json, text, xml, html), else base64.
    pub body: String,
    pub content_type: String,
    /// When the response finished, ms since the Unix epoch.
    pub timestamp: u64,
    /// Body bytes.
    pub size: u64,
    pub body_truncated: bool,
    #[serde(skip)]
    pub detail: Detail,
}

/// What the HAR export needs beyond gstack's record.
#[derive(Debug, Clone, Default)]
pub struct Detail {
    pub method: String,
    pub request_headers: serde_json::Map<String, Value>,
    pub post_data: Option<String>,
    pub status_text: String,
    pub http_version: String,
    /// Wall-clock start of the request, seconds since the Unix epoch.
    pub started_wall: f64,
    /// From the request to the end of the body, ms.
    pub total_ms: f64,
    /// True when `body` is base64.
    pub base64: bool,
}

struct Buffer {
    entries: VecDeque<CapturedResponse>,
    total: u64,
}

/// Capture on or off, its filter, and the captured responses.
pub struct BodyCapture {
    /// `Some` while capturing: the URL filter (`None` inside: every URL).
    active: Mutex<Option<Option<regex::Regex>>>,
    buffer: Mutex<Buffer>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

/// A finished response whose body is still to be fetched.
struct Job {
    tab: Weak<Tab>,
    request_id: String,
    seen: Seen,
    finished_wall_ms: u64,
    finished_monotonic: f64,
}

/// What the events told about one request so far.
#[derive(Debug, Clone, Default)]
struct Seen {
    url: String,
    detail: Detail,
    status: u32,
    headers: serde_json::Map<String, Value>,
    content_type: String,
    /// CDP monotonic time of the request, seconds.
    started_monotonic: f64,
}

static CAPTURE: LazyLock<BodyCapture> = LazyLock::new(|| BodyCapture {
    active: Mutex::new(None),
    buffer: Mutex::new(Buffer {
        entries: VecDeque::new(),
        total: 0,
    }),
    jobs: Mutex::new(None),
});

/// The daemon's body capture (one daemon, one buffer, as gstack's module state).
pub fn global() -> &'static BodyCapture {
    &CAPTURE
}

impl BodyCapture {
    /// Starts capturing responses whose URL matches `filter`. False if capture is on already.
    pub fn start(&self, filter: Option<regex::Regex>) -> bool {
        let mut active = lock(&self.active);
        if active.is_some() {
            return false;
        }
        *active = Some(filter);
        true
    }

    /// Stops capturing; (responses kept, their bytes).
    pub fn stop(&self) -> (usize, u64) {
        *lock(&self.active) = None;
        let buffer = lock(&self.buffer);
        (buffer.entries.len(), buffer.total)
    }

    pub fn is_active(&self) -> bool {
        lock(&self.active).is_some()
    }

    /// The captured responses, oldest first, and their total bytes.
    pub fn entries(&self) -> (Vec<CapturedResponse>, u64) {
        let buffer = lock(&self.buffer);
        (buffer.entries.iter().cloned().collect(), buffer.total)
    }

    fn wants(&self, url: &str) -> bool {
        match lock(&self.active).as_ref() {
            Some(Some(filter)) => filter.is_match(url),
            Some(None) => true,
            None => false,
        }
    }

    fn push(&self, entry: CapturedResponse) {
        let mut buffer = lock(&self.buffer);
        while !buffer.entries.is_empty() && buffer.total + entry.size > MAX_TOTAL {
            if let Some(evicted) = buffer.entries.pop_front() {
                buffer.total -= evicted.size;
            }
        }
        buffer.total += entry.size;
        buffer.entries.push_back(entry);
    }

    fn submit(&self, job: Job) {
        let mut jobs = lock(&self.jobs);
        if jobs.is_none() {
            let (tx, rx) = mpsc::channel::<Job>();
            let spawned = std::thread::Builder::new()
                .name("body-capture".into())
                .spawn(move || {
                    for job in rx {
                        global().fetch_body(job);
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!("cannot start the body capture thread: {e}");
                return;
            }
            *jobs = Some(tx);
        }
        if let Some(tx) = jobs.as_ref() {
            let _ = tx.send(job);
        }
    }

    fn fetch_body(&self, job: Job) {
        let Some(tab) = job.tab.upgrade() else {
            return;
        };
        let seen = job.seen;
        let (body, size, truncated, base64) = match tab.call_raw(
            "Network.getResponseBody",
            json!({ "requestId": job.request_id }),
        ) {
            Ok(reply) => {
                let raw = reply.get("body").and_then(Value::as_str).unwrap_or("");
                let encoded = reply.get("base64Encoded").and_then(Value::as_bool) == Some(true);
                let bytes = if encoded {
                    base64::engine::general_purpose::STANDARD
                        .decode(raw)
                        .unwrap_or_default()
                } else if !has_charset(&seen.content_type) {
                    // Chromium read a body that names no charset as windows-1252: its bytes.
                    windows_1252_bytes(raw).unwrap_or_else(|| raw.as_bytes().to_vec())
                } else {
                    raw.as_bytes().to_vec()
                };
                let size = bytes.len() as u64;
                let utf8 = std::str::from_utf8(&bytes).ok();
                if size > MAX_ENTRY {
                    (String::new(), size, true, false)
                } else if let Some(text) = utf8.filter(|_| is_textual(&seen.content_type)) {
                    (text.to_owned(), size, false, false)
                } else if !encoded && has_charset(&seen.content_type) {
                    // Decoded by Chromium from the charset the response declared.
                    (raw.to_owned(), size, false, false)
                } else {
                    (
                        base64::engine::general_purpose::STANDARD.encode(&bytes),
                        size,
                        false,
                        true,
                    )
                }
            }
            // No body to be had (a stream, an aborted load): metadata only, as gstack.
            Err(_) => (String::new(), 0, true, false),
        };
        let mut detail = seen.detail;
        detail.base64 = base64;
        detail.total_ms = ((job.finished_monotonic - seen.started_monotonic) * 1000.0).max(0.0);
        self.push(CapturedResponse {
            url: seen.url,
            status: seen.status,
            headers: seen.headers,
            body,
            content_type: seen.content_type,
            timestamp: job.finished_wall_ms,
            size,
            body_truncated: truncated,
            detail,
        });
    }
}

/// True when a `Content-Type` names its charset (`text/plain; charset=iso-8859-1`).
fn has_charset(content_type: &str) -> bool {
    content_type
        .split(';')
        .skip(1)
        .any(|param| param.trim().to_ascii_lowercase().starts_with("charset="))
}

/// The WHATWG windows-1252 decoder's output for bytes 0x80 to 0x9F (the rest of the bytes
/// decode to the code point of the same number).
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{2C6}', '\u{2030}', '\u{160}', '\u{2039}', '\u{152}', '\u{8D}', '\u{17D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{2DC}', '\u{2122}', '\u{161}', '\u{203A}', '\u{153}', '\u{9D}', '\u{17E}', '\u{178}',
];

/// The bytes that windows-1252 (Chromium's reading of a text body with no charset:
/// `Network.getResponseBody` answers it decoded) turned into `text`; `None` when `text` holds
/// a character that decoder never gives, so it was not decoded that way.
fn windows_1252_bytes(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| match u32::from(c) {
            n @ (0..=0x7F | 0xA0..=0xFF) => u8::try_from(n).ok(),
            _ => WINDOWS_1252_HIGH
                .iter()
                .position(|&high| high == c)
                .and_then(|i| u8::try_from(0x80 + i).ok()),
        })
        .collect()
}

/// gstack's rule: json, text, xml and html bodies are kept as text.
fn is_textual(content_type: &str) -> bool {
    ["json", "text", "xml", "html"]
        .iter()
        .any(|t| content_type.contains(t))
}

/// Follows `tab`'s network events for capture; every session of every tab (its own, each
/// out-of-process iframe's) comes through here (`session_setup.rs`).
pub fn attach(tab: &Arc<Tab>) {
    let weak = Arc::downgrade(tab);
    let open: Mutex<HashMap<String, Seen>> = Mutex::new(HashMap::new());
    super::events::on_network_request_event(tab, move |method, params, id| {
        let capture = global();
        let id = id.to_owned();
        let mut open = lock(&open);
        match method {
            "Network.requestWillBeSent" => {
                let url = params
                    .pointer("/request/url")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !capture.wants(url) {
                    open.remove(&id);
                    return;
                }
                let request = params.get("request").cloned().unwrap_or(Value::Null);
                open.insert(
                    id,
                    Seen {
                        url: url.to_owned(),
                        detail: Detail {
                            method: text(&request, "method"),
                            request_headers: object(&request, "headers"),
                            post_data: request
                                .get("postData")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                            started_wall: params
                                .get("wallTime")
                                .and_then(Value::as_f64)
                                .unwrap_or(0.0),
                            ..Detail::default()
                        },
                        started_monotonic: params
                            .get("timestamp")
                            .and_then(Value::as_f64)
                            .unwrap_or(0.0),
                        ..Seen::default()
                    },
                );
            }
            "Network.responseReceived" => {
                if let Some(seen) = open.get_mut(&id) {
                    let response = params.get("response").cloned().unwrap_or(Value::Null);
                    seen.status =
                        response.get("status").and_then(Value::as_u64).unwrap_or(0) as u32;
                    seen.headers = object(&response, "headers");
                    seen.content_type = seen
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                        .and_then(|(_, v)| v.as_str())
                        .unwrap_or("")
                        .to_owned();
                    seen.detail.status_text = text(&response, "statusText");
                    seen.detail.http_version = text(&response, "protocol");
                    if let Some(headers) = response.get("requestHeaders").and_then(Value::as_object)
                    {
                        seen.detail.request_headers = headers.clone();
                    }
                }
            }
            "Network.loadingFinished" => {
                let Some(seen) = open.remove(&id) else {
                    return;
                };
                if matches!(seen.status, 204 | 301 | 302 | 304) || seen.status == 0 {
                    return;
                }
                if !capture.is_active() {
                    return;
                }
                capture.submit(Job {
                    tab: weak.clone(),
                    request_id: id,
                    seen,
                    finished_wall_ms: now_ms(),
                    finished_monotonic: params
                        .get("timestamp")
                        .and_then(Value::as_f64)
                        .unwrap_or(0.0),
                });
            }
            "Network.loadingFailed" => {
                open.remove(&id);
            }
            _ => {}
        }
    });
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn object(value: &Value, key: &str) -> serde_json::Map<String, Value> {
    value
        .get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64) -> CapturedResponse {
        CapturedResponse {
            url: "http://x/".into(),
            status: 200,
            headers: serde_json::Map::new(),
            body: String::new(),
            content_type: String::new(),
            timestamp: 0,
            size,
            body_truncated: false,
            detail: Detail::default(),
        }
    }

    #[test]
    fn windows_1252_text_gives_back_its_bytes() {
        let mojibake = "hÃ©llo âœ“ â‚¬";
        assert_eq!(
            windows_1252_bytes(mojibake).as_deref(),
            Some("héllo ✓ €".as_bytes())
        );
        assert_eq!(windows_1252_bytes("\u{81}\u{FF}"), Some(vec![0x81, 0xFF]));
        assert_eq!(windows_1252_bytes("✓"), None);
        assert!(has_charset("text/plain; Charset=UTF-8"));
        assert!(!has_charset("application/json"));
    }

    #[test]
    fn the_buffer_evicts_the_oldest_past_its_cap() {
        let capture = BodyCapture {
            active: Mutex::new(None),
            buffer: Mutex::new(Buffer {
                entries: VecDeque::new(),
                total: 0,
            }),
            jobs: Mutex::new(None),
        };
        capture.push(entry(MAX_TOTAL - 10));
        capture.push(entry(5));
        assert_eq!(capture.entries().0.len(), 2);
        capture.push(entry(20));
        let (entries, total) = capture.entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(total, 25);
    }

    #[test]
    fn the_jsonl_record_has_gstacks_fields() {
        let line = serde_json::to_string(&entry(3)).unwrap();
        assert_eq!(
            line,
            "{\"url\":\"http://x/\",\"status\":200,\"headers\":{},\"body\":\"\",\"contentType\":\"\",\"timestamp\":0,\"size\":3,\"bodyTruncated\":false}"
        );
    }
}
