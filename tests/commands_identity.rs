//! End-to-end with a real Chromium: `header` and `useragent`. A test server records the
//! headers each request brought, and the page reports `navigator.userAgent`: the effect is
//! checked where the site sees it, in the tab that set it and in a tab opened later.

mod common;

use common::recording::{RecordingServer, Unknown};
use common::*;

#[test]
fn header_and_useragent_reach_the_site_in_every_tab() {
    let _slot = chromium_slot();
    let site = RecordingServer::start(&[], Unknown::EchoPage);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &format!("{}/first", site.base())]);
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
    ws.ok(&["goto", &format!("{}/second", site.base())]);
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
    ws.ok(&["goto", &format!("{}/third", site.base())]);
    assert_eq!(
        site.header("/third", "x-request-id").as_deref(),
        Some("def456")
    );

    // useragent: the request header and navigator.userAgent both change.
    let ua = "Mozilla/5.0 (X11; Linux x86_64) BrowseTest/1.0";
    assert_eq!(ws.ok(&["useragent", ua]), format!("User agent set: {ua}\n"));
    ws.ok(&["goto", &format!("{}/fourth", site.base())]);
    assert_eq!(site.header("/fourth", "user-agent").as_deref(), Some(ua));
    assert_eq!(ws.ok(&["js", "navigator.userAgent"]), format!("{ua}\n"));

    // A tab opened later has both before its first request.
    ws.ok(&["newtab", &format!("{}/in-new-tab", site.base())]);
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
