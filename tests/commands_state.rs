//! End-to-end with a real Chromium: cookie and storage state (`cookie-import`,
//! `cookie-delete`, `cookies --clear`, `storage clear`) and `state save|load`. The page's
//! own `document.cookie` and `localStorage` tell what it sees.

mod common;

use std::fs;

use common::*;

const PAGE: &str = "<!DOCTYPE html><title>state</title><p>state page</p>";

#[test]
fn cookie_import_delete_clear_and_storage_clear() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/", PAGE), ("/other", PAGE)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/")]);

    // A file of two cookies: one without a domain (it gets the page's host).
    fs::write(
        ws.path().join("cookies.json"),
        r#"[{"name": "sid", "value": "abc"},
            {"name": "theme", "value": "dark", "domain": "127.0.0.1", "path": "/", "sameSite": "Lax"}]"#,
    )
    .unwrap();
    assert_eq!(
        ws.ok(&["cookie-import", "cookies.json"]),
        "Loaded 2 cookies from cookies.json\n"
    );
    assert_eq!(ws.ok(&["js", "document.cookie"]), "sid=abc; theme=dark\n");

    // Untrusted files: each refusal is one line, and nothing of the file is set.
    let bad = |name: &str, body: &str| {
        fs::write(ws.path().join(name), body).unwrap();
        ws.fails(&["cookie-import", name])
    };
    assert!(bad("bad.json", "{not json").starts_with("Invalid JSON in bad.json: "));
    assert_eq!(
        bad("obj.json", r#"{"name": "a"}"#),
        "Cookie file must contain a JSON array\n"
    );
    let err = bad(
        "half.json",
        r#"[{"name": "first", "value": "1"}, {"name": "second"}]"#,
    );
    assert!(
        err.starts_with(
            "Each cookie must have \"name\" and \"value\" fields\nIn half.json, cookie #2"
        ),
        "{err}"
    );
    let err = bad(
        "foreign.json",
        r#"[{"name": "x", "value": "1", "domain": "example.com"}]"#,
    );
    assert!(
        err.starts_with(
            "Cookie domain \"example.com\" does not match current page domain \"127.0.0.1\""
        ),
        "{err}"
    );
    assert_eq!(ws.ok(&["js", "document.cookie"]), "sid=abc; theme=dark\n");
    assert!(ws
        .fails(&["cookie-import", "/etc/passwd"])
        .starts_with("Path must be within: /tmp, "));
    assert_eq!(
        ws.fails(&["cookie-import", "missing.json"]),
        "File not found: missing.json\n"
    );

    // cookie-delete: by name; an unknown name is an error, not a silent success.
    assert_eq!(
        ws.ok(&["cookie-delete", "sid"]),
        "Deleted 1 cookie named sid\n"
    );
    assert_eq!(ws.ok(&["js", "document.cookie"]), "theme=dark\n");
    assert!(ws
        .fails(&["cookie-delete", "sid"])
        .starts_with("No cookie named sid\n"));

    // cookies --clear: every cookie goes.
    ws.ok(&["cookie", "extra=1"]);
    assert_eq!(ws.ok(&["cookies", "--clear"]), "Cleared 2 cookies\n");
    assert_eq!(ws.ok(&["js", "document.cookie"]), "\n");
    assert_eq!(ws.ok(&["cookies"]), "[]\n");

    // storage clear: both storages of the page's origin.
    ws.ok(&["storage", "set", "k", "v"]);
    ws.ok(&["js", "sessionStorage.setItem('s', '1')"]);
    assert_eq!(
        ws.ok(&["storage", "clear"]),
        format!(
            "Cleared localStorage and sessionStorage for {}\n",
            pages.base
        )
    );
    assert_eq!(
        ws.ok(&["js", "localStorage.length + sessionStorage.length"]),
        "0\n"
    );
}
