//! End-to-end with a real Chromium: `header` and `useragent`. A test server records the
//! headers each request brought, and the page reports `navigator.userAgent`: the effect is
//! checked where the site sees it, in the tab that set it and in a tab opened later.

mod common;

use std::sync::{Arc, Mutex};
use std::thread;

use common::*;

/// Each request's path and its headers (lower-cased names), in arrival order.
type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// An HTTP server on 127.0.0.1 that answers every path with a small page and keeps the
/// headers of every request it got (lower-cased names).
struct HeaderServer {
    base: String,
    seen: Seen,
    server: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
}

impl HeaderServer {
    fn start() -> Self {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let seen: Seen = Arc::default();
        let (worker, log) = (Arc::clone(&server), Arc::clone(&seen));
        let thread = thread::spawn(move || {
            for request in worker.incoming_requests() {
                let headers = request
                    .headers()
                    .iter()
                    .map(|h| {
                        (
                            h.field.as_str().as_str().to_ascii_lowercase(),
                            h.value.as_str().to_owned(),
                        )
                    })
                    .collect();
                log.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((request.url().to_owned(), headers));
                let html = tiny_http::Header::from_bytes("Content-Type", "text/html").expect("h");
                let page = "<!DOCTYPE html><title>echo</title><p>echo</p>";
                let _ = request.respond(tiny_http::Response::from_string(page).with_header(html));
            }
        });
        HeaderServer {
            base: format!("http://127.0.0.1:{port}"),
            seen,
            server,
            thread: Some(thread),
        }
    }

    /// The value of header `name` on the last request for `path`.
    fn header(&self, path: &str, name: &str) -> Option<String> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (_, headers) = seen.iter().rev().find(|(url, _)| url == path)?;
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

impl Drop for HeaderServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn header_and_useragent_reach_the_site_in_every_tab() {
    let _slot = chromium_slot();
    let site = HeaderServer::start();
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &format!("{}/first", site.base)]);
    assert_eq!(site.header("/first", "x-request-id"), None);

    // Cumulative headers; credentials are shown as ****, as gstack does.
    assert_eq!(
        ws.ok(&["header", "X-Request-Id:abc123"]),
        "Header set: X-Request-Id: abc123\n"
    );
    assert_eq!(
        ws.ok(&["header", "Authorization: Bearer s3cret"]),
        "Header set: Authorization: ****\n"
    );
    ws.ok(&["goto", &format!("{}/second", site.base)]);
    assert_eq!(
        site.header("/second", "x-request-id").as_deref(),
        Some("abc123")
    );
    assert_eq!(
        site.header("/second", "authorization").as_deref(),
        Some("Bearer s3cret")
    );
    // Unquoted words are one header.
    assert_eq!(
        ws.ok(&["header", "X-Trace:", "one", "two"]),
        "Header set: X-Trace: one two\n"
    );
    // Setting a name again (any case) replaces its value.
    ws.ok(&["header", "x-request-id:def456"]);
    ws.ok(&["goto", &format!("{}/third", site.base)]);
    assert_eq!(
        site.header("/third", "x-request-id").as_deref(),
        Some("def456")
    );

    // useragent: the request header and navigator.userAgent both change.
    let ua = "Mozilla/5.0 (X11; Linux x86_64) BrowseTest/1.0";
    assert_eq!(ws.ok(&["useragent", ua]), format!("User agent set: {ua}\n"));
    ws.ok(&["goto", &format!("{}/fourth", site.base)]);
    assert_eq!(site.header("/fourth", "user-agent").as_deref(), Some(ua));
    assert_eq!(ws.ok(&["js", "navigator.userAgent"]), format!("{ua}\n"));

    // A tab opened later has both before its first request.
    ws.ok(&["newtab", &format!("{}/in-new-tab", site.base)]);
    assert_eq!(
        site.header("/in-new-tab", "user-agent").as_deref(),
        Some(ua)
    );
    assert_eq!(
        site.header("/in-new-tab", "x-request-id").as_deref(),
        Some("def456")
    );

    // Bad input: one clear line, nothing recorded.
    assert_eq!(
        ws.fails(&["header", "no-colon"]),
        "Usage: browse header <name>:<value>\n"
    );
    assert!(ws
        .fails(&["header", "Bad Name:x"])
        .starts_with("Invalid header name: \"Bad Name\"\n"));
    assert_eq!(
        ws.usage_fails(&["useragent"]),
        "Usage: browse useragent <string>\n"
    );
}
