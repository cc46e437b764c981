//! End-to-end with a real Chromium: `wait --text`, `--url`, `--fn` and `--gone`. The page
//! changes itself a moment after a click, so each wait really has to wait; each also times
//! out with a message naming what it waited for.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// A click starts changes 400 ms later: new text, a pushState URL, a flag, a spinner removed.
const PAGE: &str = r#"<!DOCTYPE html><html><body>
<p id="status">Loading</p>
<div id="spinner">Spinning</div>
<div id="hidden-later">Here for now</div>
<button id="go" onclick="setTimeout(() => {
  document.getElementById('status').textContent = 'All done';
  history.pushState({}, '', '/app/dashboard?tab=2');
  window.ready = 42;
  document.getElementById('spinner').remove();
  document.getElementById('hidden-later').style.display = 'none';
}, 400)">Go</button>
</body></html>"#;

#[test]
fn wait_for_text_url_function_and_gone() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/app/start", PAGE)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/app/start")]);

    // Nothing has happened yet: each condition times out after the ms given, saying what.
    let started = Instant::now();
    let err = ws.fails(&["wait", "--text", "All done", "1000"]);
    assert!(
        err.starts_with(
            "Operation timed out: waiting for text \"All done\": Timeout 1000ms exceeded.\n"
        ),
        "{err}"
    );
    assert!(started.elapsed() >= Duration::from_millis(1000));
    let err = ws.fails(&["wait", "--url", "**/dashboard*", "1000"]);
    assert!(
        err.starts_with("Operation timed out: waiting for a URL matching \"**/dashboard*\": Timeout 1000ms exceeded.\n"),
        "{err}"
    );
    let err = ws.fails(&["wait", "--fn", "window.ready === 42", "1000"]);
    assert!(
        err.starts_with("Operation timed out: waiting for \"window.ready === 42\" to be truthy: Timeout 1000ms exceeded.\n"),
        "{err}"
    );
    let err = ws.fails(&["wait", "--gone", "#spinner", "1000"]);
    assert!(
        err.starts_with(
            "Operation timed out: waiting for #spinner to be hidden or gone: Timeout 1000ms exceeded.\n"
        ),
        "{err}"
    );

    // After the click, each one returns once the page changed.
    ws.ok(&["click", "#go"]);
    assert_eq!(
        ws.ok(&["wait", "--text", "All done"]),
        "Text \"All done\" appeared\n"
    );
    let dashboard = pages.url("/app/dashboard?tab=2");
    assert_eq!(
        ws.ok(&["wait", "--url", "**/dashboard*"]),
        format!("URL matched **/dashboard*: {dashboard}\n")
    );
    assert_eq!(
        ws.ok(&["wait", "--url=/dashboard", "5000"]),
        format!("URL matched /dashboard: {dashboard}\n")
    );
    // A glob misread (`*` stops at `/`, the glob must match the whole URL, query too): the
    // hint says what globs match and a reading that matches the URL now.
    let err = ws.fails(&["wait", "--url", "*/dashboard", "1000"]);
    assert!(
        err.contains("* matches any characters but /, ** any characters")
            && err.contains("'**/dashboard**' would match the current URL"),
        "{err}"
    );
    assert_eq!(
        ws.ok(&["wait", "--fn", "window.ready === 42"]),
        "Condition met: window.ready === 42\n"
    );
    assert_eq!(
        ws.ok(&[
            "wait",
            "--fn",
            "new Promise((r) => setTimeout(() => r(true), 50))"
        ]),
        "Condition met: new Promise((r) => setTimeout(() => r(true), 50))\n"
    );
    assert_eq!(
        ws.ok(&["wait", "--gone", "#spinner"]),
        "Element #spinner is gone\n"
    );
    assert_eq!(
        ws.ok(&["wait", "--gone", "#hidden-later"]),
        "Element #hidden-later is gone\n"
    );

    // A promise that never settles ends at the deadline like any other wait.
    let started = Instant::now();
    let err = ws.fails(&["wait", "--fn", "new Promise(() => {})", "1000"]);
    assert!(
        err.starts_with("Operation timed out: waiting for "),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // A throwing expression fails at once; a missing value is a usage error.
    let started = Instant::now();
    let err = ws.fails(&["wait", "--fn", "nosuchvariable.x"]);
    assert!(
        err.starts_with(
            "wait --fn: the expression threw: ReferenceError: nosuchvariable is not defined"
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(ws
        .usage_fails(&["wait", "--text"])
        .contains("--text needs a value"));
    assert!(ws
        .fails(&["wait", "--text="])
        .starts_with("Usage: browse wait"));
}

/// A button that removes itself when clicked: its ref goes stale, which `--gone` is waiting for.
const SELF_REMOVING: &str = r#"<!DOCTYPE html><html><body>
<button id="bye" onclick="this.remove()">Bye</button>
<p>Still here</p>
</body></html>"#;

#[test]
fn wait_gone_accepts_a_ref_whose_element_was_removed() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/bye", SELF_REMOVING)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/bye")]);
    let snapshot = ws.ok(&["snapshot", "-i"]);
    assert!(snapshot.contains("@e1 [button] \"Bye\""), "{snapshot}");

    // Still there: the wait times out, naming the ref.
    let err = ws.fails(&["wait", "--gone", "@e1", "1000"]);
    assert!(
        err.starts_with("Operation timed out: waiting for @e1 to be hidden or gone"),
        "{err}"
    );

    ws.ok(&["click", "@e1"]);
    assert_eq!(ws.ok(&["wait", "--gone", "@e1"]), "Element @e1 is gone\n");
    // Other commands still call the ref stale; a ref no snapshot gave is still an error.
    assert!(ws.fails(&["click", "@e1"]).contains("is stale"));
    assert!(ws
        .fails(&["wait", "--gone", "@e99", "1000"])
        .starts_with("Ref @e99 not found."));
}
