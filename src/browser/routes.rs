//! Request routing for `route` / `unroute` / `routes`: a daemon-wide table of URL globs, each
//! answered with a canned response or a network failure, applied to every tab (popups the
//! pages open included, from their first document on) and every worker through the CDP
//! `Fetch` domain.
//!
//! While the table is empty no tab intercepts anything (`Fetch.disable`); with routes, every
//! tab pauses every request (`Fetch.enable` with the `*` pattern) and this module answers each
//! `Fetch.requestPaused`: the newest route whose glob matches the URL fulfils or fails it, and
//! a request no route matches continues unchanged. Matching here, not in Chromium's pattern,
//! is what gives the globs Playwright's meaning (`page.route`): `*` is any run of characters
//! but `/`, `**` any run at all, `{a,b}` either, `\` escapes, and everything else (`?`
//! included, as since Playwright 1.52) is literal; the whole URL must match.
//!
//! Every session that can pause requests comes through [`RouteTable::attach`] before its
//! target runs: a tab's own and each out-of-process iframe's (`session_setup.rs`), a popup's
//! (held by the browser-level auto-attach until routed, `session/popups.rs`), and each service
//! or shared worker's (`workers.rs`). A dedicated worker has no `Fetch` domain: its requests
//! pause in the session of the page that started it, which answers them here; it is held
//! until set up all the same, so none of its requests comes first. A shared worker's session
//! intercepts from its start even with no routes ([`RouteTable::intercept_always`]).
//!
//! Limit: in a browser we did not launch (`--cdp-url`), new pages are not held for us, so a
//! popup's first document there can load before the popup is adopted, and service and shared
//! workers are not routed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use base64::Engine as _;
use serde_json::{json, Value};

use super::events::lock;
use crate::cdp::Tab;

/// The largest canned body a route keeps, in bytes (it travels base64 in one CDP message).
pub const MAX_BODY: usize = 50 * 1024 * 1024;

/// What a route does with a request it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum RouteAction {
    /// Fail the request (`Fetch.failRequest`, `BlockedByClient`): the page sees a network
    /// error (`net::ERR_BLOCKED_BY_CLIENT`, `TypeError: Failed to fetch`).
    Abort,
    /// Answer it without the network (`Fetch.fulfillRequest`).
    Fulfill {
        /// HTTP status code (100-599).
        status: u16,
        body: Vec<u8>,
        content_type: String,
    },
}

/// One route: its glob as typed, the matcher built from it, and what it does.
#[derive(Debug)]
pub struct Route {
    pub pattern: String,
    matcher: regex::Regex,
    pub action: RouteAction,
    /// Requests answered by this route so far.
    hits: AtomicU64,
}

impl Route {
    /// A route for `pattern` (a Playwright URL glob); an error says what is wrong with it.
    pub fn new(pattern: &str, action: RouteAction) -> Result<Self, String> {
        Ok(Self {
            pattern: pattern.to_owned(),
            matcher: glob_regex(pattern)?,
            action,
            hits: AtomicU64::new(0),
        })
    }

    /// True when the whole of `url` matches this route's glob.
    pub fn matches(&self, url: &str) -> bool {
        self.matcher.is_match(url)
    }

    /// Requests this route has answered.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

/// The routes and the tabs they apply to.
#[derive(Default)]
pub struct RouteTable {
    /// Oldest first; the newest match wins (as in Playwright, a later route takes precedence).
    routes: Mutex<Vec<Arc<Route>>>,
    tabs: Mutex<Vec<Weak<Tab>>>,
    /// Sessions that intercept from their start whether or not there are routes (see
    /// [`RouteTable::intercept_always`]).
    always: Mutex<Vec<Weak<Tab>>>,
}

impl RouteTable {
    /// Starts answering `tab`'s paused requests, and intercepts them now if there are routes.
    /// Every session of every tab (its own, each out-of-process iframe's) comes through here.
    /// A session attached already (a popup's, routed while it waited) is only told again.
    pub fn attach(self: &Arc<Self>, tab: &Arc<Tab>) -> anyhow::Result<()> {
        let known = lock(&self.tabs)
            .iter()
            .any(|t| std::ptr::eq(t.as_ptr(), Arc::as_ptr(tab)));
        if known {
            if self.intercepts(tab) {
                set_interception(tab, true)?;
            }
            return Ok(());
        }
        let table: Weak<RouteTable> = Arc::downgrade(self);
        let weak_tab = Arc::downgrade(tab);
        tab.add_raw_listener(Arc::new(move |message: &Value| {
            if message.get("method").and_then(Value::as_str) != Some("Fetch.requestPaused") {
                return;
            }
            let (Some(table), Some(tab)) = (table.upgrade(), weak_tab.upgrade()) else {
                return;
            };
            if let Some(params) = message.get("params") {
                table.answer(&tab, params);
            }
        }));
        let mut tabs = lock(&self.tabs);
        tabs.retain(|t| t.strong_count() > 0);
        tabs.push(Arc::downgrade(tab));
        drop(tabs);
        if self.intercepts(tab) {
            set_interception(tab, true)?;
        }
        Ok(())
    }

    /// Makes `tab` (a shared worker's session, before [`attach`](Self::attach)) intercept
    /// from its start and never stop, every request it makes continuing unchanged while no
    /// route matches. Chromium wraps a shared worker's network access for `Fetch` only when
    /// the worker starts: a `Fetch.enable` sent to one already running pauses none of its
    /// requests, so a route added while it runs would never reach it.
    pub fn intercept_always(&self, tab: &Arc<Tab>) {
        let mut always = lock(&self.always);
        always.retain(|t| t.strong_count() > 0);
        always.push(Arc::downgrade(tab));
    }

    /// Whether `tab` should intercept now: there are routes, or it always does.
    fn intercepts(&self, tab: &Arc<Tab>) -> bool {
        !self.list().is_empty()
            || lock(&self.always)
                .iter()
                .any(|t| std::ptr::eq(t.as_ptr(), Arc::as_ptr(tab)))
    }

    /// Adds a route (replacing one with the same pattern) and makes every tab intercept.
    /// Errors name the tab that could not be told.
    pub fn add(&self, route: Route) -> anyhow::Result<()> {
        {
            let mut routes = lock(&self.routes);
            routes.retain(|r| r.pattern != route.pattern);
            routes.push(Arc::new(route));
        }
        self.sync()
    }

    /// Removes the route for `pattern` (every route with `None`); how many went.
    pub fn remove(&self, pattern: Option<&str>) -> anyhow::Result<usize> {
        let removed = {
            let mut routes = lock(&self.routes);
            let before = routes.len();
            routes.retain(|r| pattern.is_some_and(|p| p != r.pattern));
            before - routes.len()
        };
        self.sync()?;
        Ok(removed)
    }

    /// The routes, oldest first.
    pub fn list(&self) -> Vec<Arc<Route>> {
        lock(&self.routes).clone()
    }

    /// Turns interception on in every session while there are routes, off when there are none.
    fn sync(&self) -> anyhow::Result<()> {
        let on = !self.list().is_empty();
        let tabs: Vec<Arc<Tab>> = lock(&self.tabs).iter().filter_map(Weak::upgrade).collect();
        let mut first_error = None;
        for tab in tabs {
            match set_interception(&tab, self.intercepts(&tab)) {
                Ok(()) => {}
                // A session that is gone (a closed tab, an iframe whose document was replaced,
                // still referenced by old refs) needs nothing: forget it.
                Err(e) if crate::browser::frames::session_gone(&e) => {
                    lock(&self.tabs).retain(|t| !std::ptr::eq(t.as_ptr(), Arc::as_ptr(&tab)));
                }
                Err(e) => {
                    tracing::warn!("cannot change request interception on a tab: {e:#}");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if on => Err(e),
            _ => Ok(()),
        }
    }

    /// Answers one `Fetch.requestPaused`: the newest matching route decides, else the request
    /// goes on. Every paused request is answered, or it would stall for good.
    fn answer(&self, tab: &Tab, params: &Value) {
        let Some(request_id) = params.get("requestId").and_then(Value::as_str) else {
            return;
        };
        let url = params
            .pointer("/request/url")
            .and_then(Value::as_str)
            .unwrap_or("");
        let route = lock(&self.routes)
            .iter()
            .rev()
            .find(|r| r.matches(url))
            .cloned();
        let (method, body) = match &route {
            None => ("Fetch.continueRequest", json!({ "requestId": request_id })),
            Some(route) => {
                route.hits.fetch_add(1, Ordering::Relaxed);
                match &route.action {
                    RouteAction::Abort => (
                        "Fetch.failRequest",
                        json!({ "requestId": request_id, "errorReason": "BlockedByClient" }),
                    ),
                    RouteAction::Fulfill {
                        status,
                        body,
                        content_type,
                    } => (
                        "Fetch.fulfillRequest",
                        json!({
                            "requestId": request_id,
                            "responseCode": status,
                            "responseHeaders": response_headers(params, content_type, body.len()),
                            "body": base64::engine::general_purpose::STANDARD.encode(body),
                        }),
                    ),
                }
            }
        };
        if let Err(e) = tab.call_raw(method, body) {
            tracing::debug!("{method} for {url}: {e:#}");
        }
    }
}

/// Headers of a canned response: its type and length, and, for a request that carried an
/// `Origin` (a cross-origin `fetch`), CORS headers letting that origin read it, so mocking a
/// remote API from a page works as the mock's author means.
fn response_headers(params: &Value, content_type: &str, length: usize) -> Value {
    let mut headers = vec![
        json!({ "name": "Content-Type", "value": content_type }),
        json!({ "name": "Content-Length", "value": length.to_string() }),
    ];
    let origin = params
        .pointer("/request/headers")
        .and_then(Value::as_object)
        .and_then(|h| {
            h.iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("origin"))
                .and_then(|(_, v)| v.as_str())
        });
    if let Some(origin) = origin {
        headers.push(json!({ "name": "Access-Control-Allow-Origin", "value": origin }));
        headers.push(json!({ "name": "Access-Control-Allow-Credentials", "value": "true" }));
    }
    Value::Array(headers)
}

/// `Fetch.enable` for every request (matching is ours), or `Fetch.disable`.
fn set_interception(tab: &Tab, on: bool) -> anyhow::Result<()> {
    if on {
        tab.call_raw(
            "Fetch.enable",
            json!({ "patterns": [{ "urlPattern": "*", "requestStage": "Request" }] }),
        )?;
    } else {
        tab.call_raw("Fetch.disable", json!({}))?;
    }
    Ok(())
}

/// Playwright's URL glob as an anchored regular expression (see the module doc).
pub fn glob_regex(glob: &str) -> Result<regex::Regex, String> {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    let mut in_group = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) => out.push_str(&regex::escape(&next.to_string())),
                None => return Err(format!("the glob {glob:?} ends with a lone \\")),
            },
            '*' => {
                if chars.peek() == Some(&'*') {
                    while chars.peek() == Some(&'*') {
                        chars.next();
                    }
                    out.push_str(".*");
                } else {
                    out.push_str("[^/]*");
                }
            }
            '{' if !in_group => {
                in_group = true;
                out.push_str("(?:");
            }
            ',' if in_group => out.push('|'),
            '}' if in_group => {
                in_group = false;
                out.push(')');
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    if in_group {
        return Err(format!("the glob {glob:?} has an unclosed {{"));
    }
    out.push('$');
    regex::Regex::new(&out).map_err(|e| format!("the glob {glob:?} is not usable: {e}"))
}

/// One piece of a Playwright URL glob, for [`glob_can_match_a_request`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum GlobPiece {
    Literal(char),
    /// `*`: any run of characters but `/`.
    Star,
    /// `**`: any run at all.
    AnyRun,
}

/// How a routed request's URL starts: every request that reaches `Fetch.requestPaused` is
/// fetched over one of these schemes, lower case (the URL is normalised).
const REQUEST_URL_STARTS: [&str; 3] = ["http://", "https://", "file:///"];

/// Most alternatives `{a,b}` groups may expand to before the check gives up (says "can match").
const MAX_GLOB_ALTERNATIVES: usize = 256;

/// Whether `glob` (Playwright's syntax, as [`glob_regex`] reads it) can match some request
/// URL, which always starts with `http://`, `https://` or `file:///`: `api/*`, `*`,
/// `localhost:3000/api/*`, `*.png` and `/api/*` cannot (a route with one is never hit). Only
/// the start is checked: a glob that can get past it can match some URL. A glob too branchy
/// to check, or one [`glob_regex`] refuses, counts as matching (that error is said elsewhere).
pub fn glob_can_match_a_request(glob: &str) -> bool {
    let Some(alternatives) = glob_alternatives(glob) else {
        return true;
    };
    alternatives.iter().any(|pieces| {
        REQUEST_URL_STARTS
            .iter()
            .any(|start| can_start_with(pieces, start))
    })
}

/// The glob's `{a,b}` groups expanded: each alternative as pieces; `None` when malformed or
/// above [`MAX_GLOB_ALTERNATIVES`].
fn glob_alternatives(glob: &str) -> Option<Vec<Vec<GlobPiece>>> {
    let mut done: Vec<Vec<GlobPiece>> = vec![Vec::new()];
    // Inside a group: each option's pieces so far.
    let mut group: Option<Vec<Vec<GlobPiece>>> = None;
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        let piece = match c {
            '\\' => GlobPiece::Literal(chars.next()?),
            '*' if chars.peek() == Some(&'*') => {
                while chars.peek() == Some(&'*') {
                    chars.next();
                }
                GlobPiece::AnyRun
            }
            '*' => GlobPiece::Star,
            '{' if group.is_none() => {
                group = Some(vec![Vec::new()]);
                continue;
            }
            ',' if group.is_some() => {
                group.as_mut()?.push(Vec::new());
                continue;
            }
            '}' if group.is_some() => {
                let options = group.take()?;
                if done.len().saturating_mul(options.len()) > MAX_GLOB_ALTERNATIVES {
                    return None;
                }
                done = done
                    .iter()
                    .flat_map(|head| {
                        options.iter().map(move |option| {
                            let mut joined = head.clone();
                            joined.extend_from_slice(option);
                            joined
                        })
                    })
                    .collect();
                continue;
            }
            other => GlobPiece::Literal(other),
        };
        match group.as_mut() {
            Some(options) => options.last_mut()?.push(piece),
            None => done.iter_mut().for_each(|d| d.push(piece)),
        }
    }
    group.is_none().then_some(done)
}

/// Whether `pieces` can match some text that starts with `start`.
fn can_start_with(pieces: &[GlobPiece], start: &str) -> bool {
    // The positions in `pieces` reachable after the text read so far; a wildcard may match
    // nothing, so the position after it is reachable too.
    let close = |positions: &mut Vec<usize>| {
        let mut i = 0;
        while i < positions.len() {
            let p = positions[i];
            if matches!(pieces.get(p), Some(GlobPiece::Star | GlobPiece::AnyRun))
                && !positions.contains(&(p + 1))
            {
                positions.push(p + 1);
            }
            i += 1;
        }
    };
    let mut positions = vec![0];
    close(&mut positions);
    for c in start.chars() {
        let mut next = Vec::new();
        for &p in &positions {
            let to = match pieces.get(p) {
                Some(GlobPiece::Literal(l)) if *l == c => Some(p + 1),
                Some(GlobPiece::Star) if c != '/' => Some(p),
                Some(GlobPiece::AnyRun) => Some(p),
                _ => None,
            };
            if let Some(to) = to.filter(|to| !next.contains(to)) {
                next.push(to);
            }
        }
        close(&mut next);
        if next.is_empty() {
            return false;
        }
        positions = next;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(glob: &str, url: &str) -> bool {
        glob_regex(glob).unwrap().is_match(url)
    }

    #[test]
    fn globs_mean_what_playwright_means() {
        assert!(m("**/api/*", "http://127.0.0.1:9/api/data"));
        assert!(!m("**/api/*", "http://127.0.0.1:9/api/data/more"));
        assert!(m("**/api/**", "http://127.0.0.1:9/api/data/more"));
        assert!(m("**/*.{png,jpg}", "http://x/a/b.jpg"));
        assert!(!m("**/*.{png,jpg}", "http://x/a/b.gif"));
        // `?` and `.` are literal; the whole URL must match.
        assert!(m("**/q?a=1", "http://x/q?a=1"));
        assert!(!m("**/q?a=1", "http://x/qXa=1"));
        assert!(!m("http://x/a.js", "http://x/aXjs"));
        assert!(!m("http://x/a", "http://x/ab"));
        assert!(m("http://x/\\*", "http://x/*"));
        assert!(!m("http://x/\\*", "http://x/y"));
        assert!(glob_regex("**/{a,b").is_err());
        assert!(glob_regex("x\\").is_err());
    }

    #[test]
    fn globs_that_can_match_no_request_url_are_told_apart() {
        for never in [
            "",
            "api/*",
            "*",
            "?",
            "*api*",
            "*.png",
            "/api/*",
            "./api",
            "localhost:3000/api/*",
            "127.0.0.1:8080/**",
            "example.com/**",
            "*.example.com/**",
            "HTTP://x/**",
            "ftp://x/**",
            "{/a,/b}",
            "http:/x",
        ] {
            assert!(
                !glob_can_match_a_request(never),
                "{never:?} was let through"
            );
        }
        for can in [
            "**",
            "**/api/*",
            "**api**",
            "http://x/**",
            "https://x/a",
            "*://x/**",
            "*/**",
            "{http,https}://x/*",
            "{ftp,http}://x/*",
            "**.png",
            "file:///tmp/**",
            "http\\://x/*",
            // Malformed ones are refused by `glob_regex`, with their own message.
            "{http",
        ] {
            assert!(glob_can_match_a_request(can), "{can:?} was refused");
        }
    }

    #[test]
    fn cors_headers_only_for_requests_with_an_origin() {
        let plain = json!({ "request": { "headers": {} } });
        assert_eq!(
            response_headers(&plain, "text/plain", 3)
                .as_array()
                .map(Vec::len),
            Some(2)
        );
        let cross = json!({ "request": { "headers": { "Origin": "http://a" } } });
        let headers = response_headers(&cross, "text/plain", 3);
        assert!(headers.to_string().contains("\"http://a\""));
    }
}
