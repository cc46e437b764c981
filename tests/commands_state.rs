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
    let pages = PageServer::start(&[("/", PAGE), ("/other", PAGE), ("/app/page", PAGE)]);
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

    // A cookie's url is honoured (Playwright's addCookies): this one is for /app/ only.
    fs::write(
        ws.path().join("url.json"),
        format!(
            r#"[{{"name": "scoped", "value": "1", "url": "{}"}}]"#,
            pages.url("/app/page")
        ),
    )
    .unwrap();
    ws.ok(&["cookie-import", "url.json"]);
    assert_eq!(ws.ok(&["js", "document.cookie"]), "sid=abc; theme=dark\n");
    ws.ok(&["goto", &pages.url("/app/page")]);
    assert_eq!(
        ws.ok(&["js", "document.cookie"]),
        "scoped=1; sid=abc; theme=dark\n"
    );
    ws.ok(&["cookie-delete", "scoped"]);
    ws.ok(&["goto", &pages.url("/")]);

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
    let err = bad(
        "foreign-url.json",
        r#"[{"name": "p2", "value": "v", "url": "https://bank.example/"}]"#,
    );
    assert!(
        err.starts_with(
            "Cookie domain \"bank.example\" does not match current page domain \"127.0.0.1\""
        ),
        "{err}"
    );
    let err = bad(
        "url-and-domain.json",
        r#"[{"name": "p3", "value": "v", "url": "http://127.0.0.1/", "domain": "127.0.0.1"}]"#,
    );
    assert!(err.starts_with("Cookie has \"url\" and"), "{err}");
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

/// Shows, at load time, what the page found in localStorage (so a restored item must be
/// there before the page's own scripts run).
const STORED: &str = "<!DOCTYPE html><title>stored</title><p id=seen></p>\
    <script>document.getElementById('seen').textContent = 'seen=' + localStorage.getItem('k');</script>";

#[test]
fn state_save_and_load_cookies_storage_and_tabs() {
    use std::os::unix::fs::PermissionsExt;
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/a", STORED), ("/b", PAGE)]);
    let ws = Workspace::with_chromium();
    let (a, b) = (pages.url("/a"), pages.url("/b"));
    ws.ok(&["goto", &a]);
    ws.ok(&["cookie", "sid=abc"]);
    ws.ok(&["storage", "set", "k", "v1"]);
    ws.ok(&["newtab", &b]);
    ws.ok(&["tab", "1"]);

    let file = ws.state_dir().join("browse-states").join("s1.json");
    assert_eq!(
        ws.ok(&["state", "save", "s1"]),
        format!(
            "State saved: {} (1 cookies, 2 pages)\n⚠️  Cookies stored in plaintext. Delete when no longer needed.\n",
            file.display()
        )
    );
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["pages"][0]["url"], a.as_str());
    assert_eq!(saved["pages"][0]["isActive"], true);
    assert_eq!(saved["pages"][1]["url"], b.as_str());
    assert_eq!(saved["origins"][0]["origin"], pages.base.as_str());
    assert_eq!(saved["origins"][0]["localStorage"][0]["value"], "v1");

    // Lose it all: cookies, storage, tabs.
    ws.ok(&["cookies", "--clear"]);
    ws.ok(&["storage", "clear"]);
    ws.ok(&["closetab", "2"]);
    ws.ok(&["goto", "about:blank"]);

    assert_eq!(
        ws.ok(&["state", "load", "s1"]),
        "State loaded: 1 cookies, 2 pages\n"
    );
    let tabs = ws.ok(&["tabs"]);
    let lines: Vec<&str> = tabs.lines().collect();
    assert_eq!(lines.len(), 2, "{tabs}");
    assert!(
        lines[0].starts_with("→ ") && lines[0].ends_with(&a),
        "{tabs}"
    );
    assert!(lines[1].ends_with(&b), "{tabs}");
    // The page saw the restored storage as it loaded, and the cookie.
    assert_eq!(
        ws.ok(&["js", "document.getElementById('seen').textContent"]),
        "seen=v1\n"
    );
    assert_eq!(ws.ok(&["js", "document.cookie"]), "sid=abc\n");

    // Refusals: names, missing files, links, tampered URLs.
    assert_eq!(
        ws.fails(&["state", "save", "../x"]),
        "State name must be alphanumeric (a-z, 0-9, _, -)\n"
    );
    // gstack's line, then a hint naming the states saved here.
    assert_eq!(
        ws.fails(&["state", "load", "nope"]),
        format!(
            "State not found: {}\nSaved states: s1. Load one with 'browse state load <name>', \
             or save this one first with 'browse state save <name>'.\n",
            file.with_file_name("nope.json").display()
        )
    );
    assert_eq!(
        ws.fails(&["state", "drop", "s1"]),
        "Usage: state save|load <name>\n"
    );
    let secret = ws.path().join("secret.json");
    fs::write(&secret, r#"{"cookies":[],"pages":[]}"#).unwrap();
    std::os::unix::fs::symlink(&secret, file.with_file_name("linked.json")).unwrap();
    assert!(ws
        .fails(&["state", "load", "linked"])
        .starts_with("Cannot read "));
    fs::write(
        file.with_file_name("tampered.json"),
        format!(
            r#"{{"cookies":[{{"name":"m","value":"1","domain":"169.254.169.254","path":"/"}}],
                "pages":[{{"url":"chrome://settings"}},{{"url":"{b}","isActive":true}}]}}"#
        ),
    )
    .unwrap();
    // What was done, not what the file holds (gstack: "1 cookies, 2 pages").
    let loaded = ws.ok(&["state", "load", "tampered"]);
    let lines: Vec<&str> = loaded.lines().collect();
    assert_eq!(lines[0], "State loaded: 0 cookies, 1 pages", "{loaded}");
    assert_eq!(
        lines[1], "Skipped 1 of 1 cookies (malformed, or for a metadata or .internal host)",
        "{loaded}"
    );
    assert!(
        lines[2].starts_with("Skipped page chrome://settings: "),
        "{loaded}"
    );
    assert_eq!(lines.len(), 3, "{loaded}");
    assert_eq!(
        ws.ok(&["tabs"]).lines().count(),
        1,
        "the refused URL got no tab"
    );
    assert_eq!(ws.ok(&["url"]), format!("{b}\n"));
    fs::write(file.with_file_name("bad.json"), r#"{"cookies":{}}"#).unwrap();
    assert_eq!(
        ws.fails(&["state", "load", "bad"]),
        "Invalid state file: expected cookies and pages arrays\n"
    );

    // A symlinked browse-states folder is never written through.
    let dir = file.parent().unwrap();
    fs::rename(dir, ws.path().join("moved")).unwrap();
    std::os::unix::fs::symlink(ws.path().join("moved"), dir).unwrap();
    assert!(ws
        .fails(&["state", "save", "s2"])
        .starts_with("Refusing to use "));
    assert!(!ws.path().join("moved").join("s2.json").exists());
}
