//! A fixture HTTP server on 127.0.0.1 that records every request it gets (path with query,
//! headers by lower-case name), for tests that check what a site saw: headers a command set,
//! requests a frame made or did not make.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as the server saw it: path with query, and headers by lower-case name.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
}

/// What a path that is not among the server's pages gets.
#[derive(Debug, Clone, Copy)]
pub enum Unknown {
    /// `404 not found`.
    NotFound,
    /// A small HTML page (`<title>echo</title>`), so any path can be navigated to.
    EchoPage,
}

/// The recording server; stops when dropped.
pub struct RecordingServer {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
}

impl RecordingServer {
    /// Serves `pages` (path → (content type, body)); any other path gets `unknown`.
    pub fn start(pages: &[(&str, &str, &str)], unknown: Unknown) -> Self {
        let pages: HashMap<String, (String, String)> = pages
            .iter()
            .map(|(p, t, b)| (p.to_string(), (t.to_string(), b.to_string())))
            .collect();
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip addr").port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (worker, record) = (Arc::clone(&server), Arc::clone(&seen));
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
                record.lock().unwrap_or_else(|p| p.into_inner()).push(Seen {
                    path: request.url().to_owned(),
                    headers,
                });
                let path = request.url().split('?').next().unwrap_or("/").to_owned();
                let page = match (pages.get(&path), unknown) {
                    (Some((content_type, body)), _) => Some((content_type.as_str(), body.as_str())),
                    (None, Unknown::EchoPage) => {
                        Some(("text/html", "<!DOCTYPE html><title>echo</title><p>echo</p>"))
                    }
                    (None, Unknown::NotFound) => None,
                };
                let response = match page {
                    Some((content_type, body)) => tiny_http::Response::from_string(body)
                        .with_header(
                            tiny_http::Header::from_bytes("Content-Type", content_type)
                                .expect("header"),
                        ),
                    None => tiny_http::Response::from_string("not found").with_status_code(404),
                };
                let _ = request.respond(response);
            }
        });
        RecordingServer {
            port,
            seen,
            server,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests whose path starts with `prefix`, in arrival order.
    pub fn requests(&self, prefix: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|s| s.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The value of header `name` (lower case) on the last request for exactly `path`.
    pub fn header(&self, path: &str, name: &str) -> Option<String> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter()
            .rev()
            .find(|s| s.path == path)?
            .headers
            .get(name)
            .cloned()
    }
}

impl Drop for RecordingServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
