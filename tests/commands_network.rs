//! End-to-end network control with a real Chromium and pages served here: `route` /
//! `unroute` / `routes` (mocked and blocked requests, popups included), downloads started by
//! the page, `download`, and `network --capture/--bodies/--export`.

mod common;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::thread;

use common::*;

/// One fixture response: status, headers and body.
struct Fixture {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    /// Served only to a request carrying this cookie (`name=value`); others get 403.
    needs_cookie: Option<&'static str>,
}

fn html(body: &str) -> Fixture {
    Fixture {
        status: 200,
        headers: vec![("Content-Type", "text/html; charset=utf-8")],
        body: body.as_bytes().to_vec(),
        needs_cookie: None,
    }
}

fn text(body: &str) -> Fixture {
    Fixture {
        status: 200,
        headers: vec![("Content-Type", "text/plain")],
        body: body.as_bytes().to_vec(),
        needs_cookie: None,
    }
}

/// A server on 127.0.0.1 whose responses carry their own headers (downloads need
/// `Content-Disposition`), for the life of the value.
struct Server {
    base: String,
    server: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start(pages: Vec<(&'static str, Fixture)>) -> Self {
        let pages: HashMap<&'static str, Fixture> = pages.into_iter().collect();
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind"));
        let port = server.server_addr().to_ip().expect("ip").port();
        let worker = Arc::clone(&server);
        let thread = thread::spawn(move || {
            for request in worker.incoming_requests() {
                let path = request.url().split('?').next().unwrap_or("/").to_owned();
                let cookies: String = request
                    .headers()
                    .iter()
                    .filter(|h| h.field.equiv("Cookie"))
                    .map(|h| h.value.as_str().to_owned())
                    .collect();
                let response = match pages.get(path.as_str()) {
                    // What the request carried, one `name: value` line a header.
                    None if path == "/echo-headers" => {
                        let lines: Vec<String> = request
                            .headers()
                            .iter()
                            .map(|h| {
                                format!(
                                    "{}: {}",
                                    h.field.as_str().as_str().to_ascii_lowercase(),
                                    h.value
                                )
                            })
                            .collect();
                        tiny_http::Response::from_data(lines.join("\n").into_bytes())
                    }
                    Some(f) if f.needs_cookie.is_some_and(|c| !cookies.contains(c)) => {
                        tiny_http::Response::from_data(b"no cookie".to_vec()).with_status_code(403)
                    }
                    Some(f) => {
                        let mut r = tiny_http::Response::from_data(f.body.clone())
                            .with_status_code(f.status);
                        for (k, v) in &f.headers {
                            r.add_header(tiny_http::Header::from_bytes(*k, *v).expect("header"));
                        }
                        r
                    }
                    None => {
                        tiny_http::Response::from_data(b"not found".to_vec()).with_status_code(404)
                    }
                };
                let _ = request.respond(response);
            }
        });
        Server {
            base: format!("http://127.0.0.1:{port}"),
            server,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What `fetch(path)` gives the page: `<status>:<body>`, or `failed: <message>`.
fn page_fetch(ws: &Workspace, path: &str) -> String {
    let script = format!(
        "await fetch('{path}').then(async r => r.status + ':' + await r.text(), e => 'failed: ' + e.message)"
    );
    ws.ok(&["js", &script]).trim_end().to_owned()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn routes_mock_and_block_requests_on_every_tab_until_unrouted() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        (
            "/page.html",
            html("<title>Routes</title><a id=pop href='/popup.html' target=_blank>open</a>"),
        ),
        ("/popup.html", html("<title>Popup</title><p>popup</p>")),
        ("/api/data", text("real")),
        ("/api/other", text("other")),
        ("/mock.json", text("unused")),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/page.html")]);
    assert_eq!(page_fetch(&ws, "/api/data"), "200:real");
    assert_eq!(ws.ok(&["routes"]), "(no routes)\n");

    // A mocked answer: status, body and type, without the server.
    assert_eq!(
        ws.ok(&[
            "route",
            "**/api/data",
            "--status",
            "201",
            "--body",
            "mocked"
        ]),
        "Route added: **/api/data → 201 text/plain; charset=utf-8 (6 bytes)\n"
    );
    assert_eq!(page_fetch(&ws, "/api/data"), "201:mocked");
    let content_type = ws.ok(&[
        "js",
        "await fetch('/api/data').then(r => r.headers.get('content-type'))",
    ]);
    assert_eq!(content_type.trim_end(), "text/plain; charset=utf-8");
    // `*` stays within a path part; the unmatched request reaches the server.
    assert_eq!(page_fetch(&ws, "/api/other"), "200:other");

    // A body from a file, its type from the extension; a later route takes precedence.
    std::fs::write(ws.path().join("answer.json"), "{\"ok\":true}").expect("write");
    ws.ok(&["route", "**/api/*", "--body-file", "answer.json"]);
    assert_eq!(page_fetch(&ws, "/api/other"), "200:{\"ok\":true}");
    assert_eq!(page_fetch(&ws, "/api/data"), "200:{\"ok\":true}");

    // Blocking: the page's fetch fails.
    assert_eq!(
        ws.ok(&["route", "**/api/other", "--abort"]),
        "Route added: **/api/other → abort\n"
    );
    assert_eq!(page_fetch(&ws, "/api/other"), "failed: Failed to fetch");

    // A popup opened after the routes were set obeys them too.
    ws.ok(&["click", "#pop"]);
    wait_until(
        "the popup is the active tab",
        std::time::Duration::from_secs(10),
        || ws.ok(&["url"]).contains("/popup.html"),
    );
    assert_eq!(page_fetch(&ws, "/api/other"), "failed: Failed to fetch");
    assert_eq!(page_fetch(&ws, "/api/data"), "200:{\"ok\":true}");

    let listed = ws.ok(&["routes"]);
    assert_eq!(
        listed,
        "**/api/data → 201 text/plain; charset=utf-8 (6 bytes) [2 hits]\n\
         **/api/* → 200 application/json (11 bytes) [3 hits]\n\
         **/api/other → abort [2 hits]\n"
    );

    // unroute one, then all: the server answers again, in both tabs.
    assert_eq!(
        ws.ok(&["unroute", "**/api/other"]),
        "Route removed: **/api/other\n"
    );
    assert_eq!(page_fetch(&ws, "/api/other"), "200:{\"ok\":true}");
    let missing = ws.fails(&["unroute", "**/nope"]);
    assert!(missing.contains("No route for **/nope"), "{missing}");
    assert_eq!(ws.ok(&["unroute"]), "Removed 2 routes\n");
    assert_eq!(page_fetch(&ws, "/api/other"), "200:other");
    ws.ok(&["tab", "1"]);
    assert_eq!(page_fetch(&ws, "/api/data"), "200:real");
    assert_eq!(ws.ok(&["routes"]), "(no routes)\n");

    // Bad input: one clear line each, nothing added.
    let err = ws.fails(&["route", "**/x"]);
    assert!(err.contains("say what to do"), "{err}");
    let err = ws.fails(&["route", "**/x", "--abort", "--status", "500"]);
    assert!(err.contains("cannot be combined"), "{err}");
    let err = ws.fails(&["route", "**/x", "--status", "999"]);
    assert!(err.contains("100-599"), "{err}");
    let err = ws.fails(&["route", "**/{a,b", "--abort"]);
    assert!(err.contains("unclosed"), "{err}");
    let err = ws.fails(&["route", "**/x", "--body-file", "/etc/passwd"]);
    assert!(err.contains("Path must be within"), "{err}");
    // A glob that can match no URL (a path, or nothing) would be listed and never hit.
    assert_eq!(
        ws.fails(&["route", "/api/*", "--abort"]),
        "route: the glob /api/* can match no URL\n\
         A glob is matched against the whole URL, scheme and host included (http://host/path): \
         did you mean '**/api/*'?\n"
    );
    let err = ws.fails(&["route", "./api/data", "--abort"]);
    assert!(err.contains("did you mean '**/api/data'?"), "{err}");
    let err = ws.fails(&["route", "", "--status", "500"]);
    assert!(err.starts_with("route: the URL glob is empty\n"), "{err}");
    // Nor can a glob whose start no URL has: no scheme (a relative path, a bare `*`, a host
    // without one), or a scheme in capitals. Each was added and never hit, the page
    // reaching the real server; the hint's glob is one that routes the request.
    let host = server
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let api = format!("{host}/api/*");
    for (glob, better) in [
        ("api/*", "**/api/*".to_owned()),
        ("*", "**/*".to_owned()),
        ("*data", "**/*data".to_owned()),
        (api.as_str(), format!("*://{api}")),
        ("HTTP://**", "http://**".to_owned()),
    ] {
        assert_eq!(
            ws.fails(&["route", glob, "--status", "418"]),
            format!(
                "route: the glob {glob} can match no URL\n\
                 A glob is matched against the whole URL, scheme and host included \
                 (http://host/path): did you mean '{better}'?\n"
            )
        );
        assert_eq!(ws.ok(&["routes"]), "(no routes)\n", "{glob} was added");
        ws.ok(&["route", &better, "--status", "418"]);
        assert_eq!(
            page_fetch(&ws, "/api/data"),
            "418:",
            "{better} did not route"
        );
        ws.ok(&["unroute"]);
    }
    let err = ws.fails(&["route", "ftp://x/*", "--abort"]);
    assert!(
        err.ends_with(
            "routed requests' URLs start with http://, https:// or file:/// (in lower case).\n"
        ),
        "{err}"
    );
    assert_eq!(ws.ok(&["routes"]), "(no routes)\n");
}

/// `.gstack/downloads` is a symlink (or a file): the daemon keeps no downloads, and
/// `downloads` says why instead of listing nothing or waiting until "No download began";
/// nothing is written where the link points.
#[test]
fn a_downloads_folder_that_is_a_symlink_is_named_by_downloads() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/page.html", html("<title>Files</title>")),
        (
            "/file.csv",
            Fixture {
                status: 200,
                headers: vec![
                    ("Content-Type", "text/csv"),
                    ("Content-Disposition", "attachment; filename=\"file.csv\""),
                ],
                body: b"a,b\n".to_vec(),
                needs_cookie: None,
            },
        ),
    ]);
    let ws = Workspace::with_chromium();
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(ws.state_dir()).expect("state dir");
    std::fs::set_permissions(ws.state_dir(), std::fs::Permissions::from_mode(0o700))
        .expect("chmod");
    std::os::unix::fs::symlink(elsewhere.path(), ws.state_dir().join("downloads"))
        .expect("symlink");
    ws.ok(&["goto", &server.url("/page.html")]);
    for args in [&["downloads"][..], &["downloads", "--wait", "1000"][..]] {
        let err = ws.fails(args);
        assert!(
            err.starts_with(
                "Downloads are not kept in the workspace: cannot create the downloads folder"
            ) && err.contains("symbolic link")
                && err.contains("browse restart"),
            "{args:?}: {err}"
        );
    }
    // goto to a file: Chromium aborts the navigation and saves nothing; the hint says why.
    let file = server.url("/file.csv");
    let err = ws.fails(&["goto", &file]);
    let (first, hint) = err.split_once('\n').unwrap_or((&err, ""));
    assert_eq!(first, format!("goto: net::ERR_ABORTED at {file}"), "{err}");
    assert!(
        hint.starts_with(
            "If the URL is a file, it was not saved: cannot create the downloads folder"
        ) && hint.contains("browse restart"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).expect("dir").count(), 0);
}

#[test]
fn page_downloads_land_in_the_workspace_folder_and_download_fetches_with_cookies() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        (
            "/page.html",
            html(
                "<title>Files</title><a id=dl href='/report'>report</a>\
                  <img id=pic src='/pic.png' alt='picture' width=10 height=10>",
            ),
        ),
        (
            "/report",
            Fixture {
                status: 200,
                headers: vec![
                    ("Content-Type", "text/csv"),
                    (
                        "Content-Disposition",
                        "attachment; filename=\"../report.csv\"",
                    ),
                ],
                body: b"a,b\n1,2\n".to_vec(),
                needs_cookie: None,
            },
        ),
        (
            "/pic.png",
            Fixture {
                status: 200,
                headers: vec![("Content-Type", "image/png")],
                body: b"\x89PNG fake".to_vec(),
                needs_cookie: None,
            },
        ),
        (
            "/secret.txt",
            Fixture {
                needs_cookie: Some("k=v"),
                ..text("for cookie holders")
            },
        ),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/page.html")]);
    assert!(ws
        .ok(&["downloads"])
        .starts_with("(no downloads; they land in "));

    // A download the page starts: said by the command that started it, then listed.
    // When the click saw the navigation's headers say download, it names the download
    // (reported, or still starting) in a note on stderr: its answer stays gstack's one line,
    // which `--json` and scripts read (the names were appended to it, so `js`'s value or
    // `click`'s line grew lines depending on when the download began). Under heavy load the
    // click can return before Chromium even starts the request (CI saw it at load ~8): then
    // only `downloads` lists it.
    let out = ws.run(&["--json", "click", "#dl"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "{{\"command\":\"click\",\"ok\":true,\"result\":\"Clicked #dl → now at {}\"}}\n",
            server.url("/page.html")
        )
    );
    let notes = stderr(&out);
    if let Some(named) = notes.lines().find(|l| l.contains("download")) {
        assert!(
            named.starts_with("[browse] a download began while click ran: [")
                && named.contains("report.csv")
                && named.contains(&format!("← {}", server.url("/report"))),
            "the click named its download wrongly:\n{notes}"
        );
    }
    let listed = ws.ok(&["downloads", "--wait", "20000"]);
    let folder = ws.state_dir().join("downloads");
    // Chromium turns the suggested `../report.csv` into `_report.csv`; it stays in the folder.
    let saved = folder.join("_report.csv");
    assert_eq!(
        listed,
        format!(
            "[1] {} (0KB) ← {}\n",
            saved.display(),
            server.url("/report")
        )
    );
    assert_eq!(std::fs::read(&saved).expect("saved"), b"a,b\n1,2\n");
    assert_eq!(mode(&saved), 0o600);
    assert_eq!(mode(&folder), 0o700);
    // The same name again never replaces the first file; `--wait` right after the click
    // waits for this new download, not only for the one already listed.
    ws.ok(&["click", "#dl"]);
    let listed = ws.ok(&["downloads", "--wait", "20000"]);
    assert!(listed.contains("_report (1).csv (0KB)"), "{listed}");
    assert_eq!(std::fs::read(&saved).expect("first"), b"a,b\n1,2\n");
    assert_eq!(
        ws.ok(&["downloads", "--clear"]),
        "Cleared 2 download records (the files stay)\n"
    );
    assert!(saved.exists());

    // `goto` to the file: Playwright's ERR_ABORTED line, and a hint naming the download it
    // set off (before, the user was told only that the navigation failed).
    let report = server.url("/report");
    let error = ws.fails(&["goto", &report]);
    let (first, hint) = error.split_once('\n').unwrap_or((&error, ""));
    assert_eq!(
        first,
        format!("goto: net::ERR_ABORTED at {report}"),
        "{error}"
    );
    assert!(
        hint.starts_with("It set off a download: [")
            && hint.contains("report")
            && hint.contains(&format!("← {report}"))
            && hint.contains("'browse downloads --wait'"),
        "{error}"
    );
    ws.ok(&["downloads", "--wait", "20000"]);
    ws.ok(&["downloads", "--clear"]);
    ws.ok(&["goto", &server.url("/page.html")]);

    // `download`: the page's cookies go along (the server refuses without them).
    let refused = ws.fails(&["download", &server.url("/secret.txt"), "out.txt"]);
    // gstack's line (with the reason phrase), then a hint on a line of its own.
    assert!(
        refused.starts_with("Download failed: HTTP 403 Forbidden\nThe server refused")
            && refused.contains("sign in first"),
        "{refused}"
    );
    ws.ok(&["js", "document.cookie = 'k=v; path=/'"]);
    assert_eq!(
        ws.ok(&["download", &server.url("/secret.txt"), "out.txt"]),
        "Downloaded: out.txt (0KB, text/plain)\n"
    );
    let out = ws.path().join("out.txt");
    assert_eq!(
        std::fs::read_to_string(&out).expect("out"),
        "for cookie holders"
    );
    assert_eq!(mode(&out), 0o600);
    // Missing folders above the output are made, as for screenshots.
    assert_eq!(
        ws.ok(&["download", &server.url("/secret.txt"), "out/new/dl.txt"]),
        "Downloaded: out/new/dl.txt (0KB, text/plain)\n"
    );
    assert_eq!(
        std::fs::read_to_string(ws.path().join("out/new/dl.txt")).expect("dl"),
        "for cookie holders"
    );
    assert_eq!(
        ws.ok(&["download", &server.url("/secret.txt"), "--base64"]),
        "data:text/plain;base64,Zm9yIGNvb2tpZSBob2xkZXJz\n"
    );
    // A media element by ref; no path: a fresh name in the temp dir with gstack's extension.
    let snapshot = ws.ok(&["snapshot"]);
    let line = snapshot
        .lines()
        .find(|l| l.contains("[img]"))
        .unwrap_or_else(|| panic!("no img in {snapshot}"));
    let reference = line.trim().split(' ').next().expect("ref").to_owned();
    let got = ws.ok(&["download", &reference]);
    let shown = got
        .strip_prefix("Downloaded: ")
        .and_then(|r| r.strip_suffix(" (0KB, image/png)\n"))
        .unwrap_or_else(|| panic!("{got}"));
    assert!(
        shown.starts_with("/tmp/browse-download-") && shown.ends_with(".png"),
        "{shown}"
    );
    assert_eq!(std::fs::read(shown).expect("pic"), b"\x89PNG fake");
    let _ = std::fs::remove_file(shown);

    // Confinement and bad URLs: clear errors, nothing written.
    let err = ws.fails(&["download", &server.url("/secret.txt"), "/etc/browse-x"]);
    assert!(err.contains("Path must be within"), "{err}");
    let err = ws.fails(&["download", &server.url("/missing"), "m.txt"]);
    assert!(
        err.starts_with("Download failed: HTTP 404 Not Found\nNothing is at ")
            && err.contains("browse links"),
        "{err}"
    );
    assert!(!ws.path().join("m.txt").exists());
    ws.fails(&["download", &server.url("/missing"), "miss/m.txt"]);
    assert!(!ws.path().join("miss").exists());
    let err = ws.fails(&["download", "ftp://example.com/x"]);
    assert!(err.contains("Blocked: scheme"), "{err}");
}

#[test]
fn network_capture_keeps_bodies_and_exports_jsonl_and_har() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/page.html", html("<title>Capture</title><p>capture</p>")),
        (
            "/api/data",
            Fixture {
                headers: vec![("Content-Type", "application/json")],
                ..text("{\"n\":1}")
            },
        ),
        (
            "/api/pic",
            Fixture {
                status: 200,
                headers: vec![("Content-Type", "image/png")],
                body: vec![0x89, b'P', b'N', b'G'],
                needs_cookie: None,
            },
        ),
        ("/other.txt", text("not captured")),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/page.html")]);
    assert_eq!(ws.ok(&["network", "--bodies"]), "No captured responses.\n");
    assert_eq!(
        ws.ok(&["network", "--capture", "--filter", "/api/"]),
        "Network capture started (filter: /api/). Use --capture stop to stop.\n"
    );
    assert_eq!(
        ws.ok(&["network", "--capture"]),
        "Capture already active. Use --capture stop first.\n"
    );
    assert_eq!(page_fetch(&ws, "/api/data?x=1"), "200:{\"n\":1}");
    ws.ok(&[
        "js",
        "await fetch('/api/pic').then(r => r.arrayBuffer()).then(b => b.byteLength)",
    ]);
    assert_eq!(page_fetch(&ws, "/other.txt"), "200:not captured");
    let expected = format!(
        "2 responses (0KB total):\n  [1] 200 {} (0KB)\n  [2] 200 {} (0KB)\n",
        server.url("/api/data?x=1"),
        server.url("/api/pic")
    );
    wait_until(
        "both bodies are captured",
        std::time::Duration::from_secs(10),
        || ws.ok(&["network", "--bodies"]) == expected,
    );
    assert_eq!(
        ws.ok(&["network", "--capture", "stop"]),
        "Network capture stopped. 2 responses captured (0KB).\n"
    );
    // Nothing more is kept once stopped.
    assert_eq!(page_fetch(&ws, "/api/data"), "200:{\"n\":1}");
    assert_eq!(ws.ok(&["network", "--bodies"]), expected);

    // gstack's JSONL: text bodies as text, others base64.
    assert_eq!(
        ws.ok(&["network", "--export", "out.jsonl"]),
        "Exported 2 captured responses to out.jsonl\n"
    );
    let jsonl = std::fs::read_to_string(ws.path().join("out.jsonl")).expect("jsonl");
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["body"], "{\"n\":1}");
    assert_eq!(lines[0]["contentType"], "application/json");
    assert_eq!(lines[0]["size"], 7);
    assert_eq!(lines[0]["bodyTruncated"], false);
    assert_eq!(lines[1]["body"], "iVBORw==");
    assert_eq!(mode(&ws.path().join("out.jsonl")), 0o600);

    // HAR 1.2 when the name ends in .har.
    ws.ok(&["network", "--export", "out.har"]);
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("out.har")).expect("har"))
            .expect("HAR is JSON");
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["request"]["method"], "GET");
    assert_eq!(entries[0]["request"]["url"], server.url("/api/data?x=1"));
    assert_eq!(entries[0]["request"]["queryString"][0]["name"], "x");
    assert_eq!(entries[0]["response"]["status"], 200);
    assert_eq!(entries[0]["response"]["content"]["text"], "{\"n\":1}");
    assert_eq!(entries[1]["response"]["content"]["encoding"], "base64");
    assert!(entries[0]["startedDateTime"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    let err = ws.fails(&["network", "--export", "/etc/browse-x.har"]);
    assert!(err.contains("Path must be within"), "{err}");
    let err = ws.fails(&["network", "--capture", "--filter", "("]);
    assert!(err.contains("not a regular expression"), "{err}");
}

#[test]
fn download_navigate_takes_the_download_a_navigation_starts() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/page.html", html("<title>Nav</title>")),
        (
            "/export",
            Fixture {
                status: 200,
                headers: vec![
                    ("Content-Type", "application/pdf"),
                    ("Content-Disposition", "attachment; filename=\"export.pdf\""),
                ],
                body: b"%PDF-1.4 fake".to_vec(),
                needs_cookie: None,
            },
        ),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/page.html")]);
    let saved = ws.state_dir().join("downloads").join("export.pdf");
    assert_eq!(
        ws.ok(&["download", &server.url("/export"), "--navigate"]),
        format!(
            "Downloaded: {} (0KB, application/pdf) [export.pdf]\n",
            saved.display()
        )
    );
    assert_eq!(std::fs::read(&saved).expect("saved"), b"%PDF-1.4 fake");
    assert_eq!(
        ws.ok(&["download", &server.url("/export"), "copy.pdf", "--navigate"]),
        "Downloaded: copy.pdf (0KB, application/pdf)\n"
    );
    assert_eq!(
        std::fs::read(ws.path().join("copy.pdf")).expect("copy"),
        b"%PDF-1.4 fake"
    );
    assert_eq!(mode(&ws.path().join("copy.pdf")), 0o600);
    assert_eq!(
        ws.ok(&[
            "download",
            &server.url("/export"),
            "nav/copy.pdf",
            "--navigate"
        ]),
        "Downloaded: nav/copy.pdf (0KB, application/pdf)\n"
    );
    assert!(ws.path().join("nav/copy.pdf").is_file());
    // The page stays where it was: a download is not a navigation.
    assert_eq!(ws.ok(&["url"]), format!("{}\n", server.url("/page.html")));
    let err = ws.fails(&[
        "download",
        &server.url("/export"),
        "/etc/x.pdf",
        "--navigate",
    ]);
    assert!(err.contains("Path must be within"), "{err}");
}

#[test]
fn download_of_a_ref_that_names_no_resource_says_what_it_needs() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[(
        "/b.html",
        "<!DOCTYPE html><title>B</title><button>Get report</button>",
    )]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/b.html")]);
    let snapshot = ws.ok(&["snapshot", "-i"]);
    let reference = snapshot
        .lines()
        .find(|l| l.contains("Get report"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no button in:\n{snapshot}"))
        .to_owned();
    let error = ws.fails(&["download", &reference]);
    assert!(
        error.starts_with(&format!("Could not extract URL from {reference} (button)")),
        "{error}"
    );
    assert!(
        error.contains("a link (<a href>)") && error.contains("browse downloads --wait"),
        "{error}"
    );
}

#[test]
fn captured_text_without_a_charset_keeps_its_utf8_characters_and_other_bytes_go_base64() {
    let _slot = chromium_slot();
    let typed = |content_type: &'static str, body: &[u8]| Fixture {
        status: 200,
        headers: vec![("Content-Type", content_type)],
        body: body.to_vec(),
        needs_cookie: None,
    };
    let server = Server::start(vec![
        ("/page.html", html("<title>Capture</title><p>capture</p>")),
        (
            "/api/plain",
            typed("text/plain", "héllo ✓ 你好 €".as_bytes()),
        ),
        (
            "/api/json",
            typed("application/json", "{\"name\":\"Zoë ✓\"}".as_bytes()),
        ),
        ("/api/latin", typed("text/plain", &[b'h', 0xE9, 0xFF])),
        (
            "/api/labelled",
            typed("text/plain; charset=iso-8859-1", &[b'h', 0xE9]),
        ),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/page.html")]);
    ws.ok(&["network", "--capture", "--filter", "/api/"]);
    for path in ["/api/plain", "/api/json", "/api/latin", "/api/labelled"] {
        assert!(page_fetch(&ws, path).starts_with("200:"), "{path}");
    }
    wait_until(
        "four bodies are captured",
        std::time::Duration::from_secs(10),
        || ws.ok(&["network", "--bodies"]).starts_with("4 responses"),
    );
    ws.ok(&["network", "--export", "out.har"]);
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.path().join("out.har")).expect("har"))
            .expect("HAR is JSON");
    let content = |path: &str| {
        har["log"]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["request"]["url"] == server.url(path))
            .unwrap_or_else(|| panic!("no entry for {path}: {har}"))["response"]["content"]
            .clone()
    };
    assert_eq!(content("/api/plain")["text"], "héllo ✓ 你好 €");
    assert_eq!(content("/api/plain")["size"], "héllo ✓ 你好 €".len());
    assert!(content("/api/plain").get("encoding").is_none());
    assert_eq!(content("/api/json")["text"], "{\"name\":\"Zoë ✓\"}");
    // Not UTF-8 and no charset to read it by: the bytes themselves.
    assert_eq!(content("/api/latin")["text"], "aOn/");
    assert_eq!(content("/api/latin")["encoding"], "base64");
    // A declared charset is Chromium's to decode.
    assert_eq!(content("/api/labelled")["text"], "hé");
    ws.ok(&["network", "--export", "out.jsonl"]);
    let jsonl = std::fs::read_to_string(ws.path().join("out.jsonl")).expect("jsonl");
    assert!(jsonl.contains("héllo ✓ 你好 €"), "{jsonl}");
}

fn script(body: &str) -> Fixture {
    Fixture {
        status: 200,
        headers: vec![("Content-Type", "text/javascript")],
        body: body.as_bytes().to_vec(),
        needs_cookie: None,
    }
}

/// A dedicated worker that fetches whatever path the page posts it and posts back
/// `<status>:<body>` or `failed: <message>`; it says `ready` first, after an `importScripts`
/// of `/lib.js` (`imported <value>` or `import failed`) and a console line.
const FETCH_WORKER: &str = "
let imported;
try { importScripts('/lib.js'); imported = 'imported ' + self.libValue; }
catch (e) { imported = 'import failed'; }
console.log('worker console line');
onmessage = async e => {
  try { const r = await fetch(e.data); postMessage(r.status + ':' + await r.text()); }
  catch (err) { postMessage('failed: ' + err.message); }
};
postMessage(imported);
";

/// The page that starts [`FETCH_WORKER`]: `window.started` is its first message,
/// `workerFetch(path)` what the worker's fetch of `path` gave.
const WORKER_PAGE: &str = "<title>Worker</title><script>
const worker = new Worker('/worker.js');
window.started = new Promise(r => worker.addEventListener('message', e => r(e.data), { once: true }));
window.workerFetch = path => started.then(() => new Promise(r => {
  worker.addEventListener('message', e => r(e.data), { once: true });
  worker.postMessage(path);
}));
</script>";

/// What the worker's fetch of `path` gave (see [`WORKER_PAGE`]).
fn worker_fetch(ws: &Workspace, path: &str) -> String {
    answer_of(ws, "workerFetch", path)
}

/// With `**/api/data` mocked (`mocked`) before the worker started: the page's async
/// `function(path)`, which has a worker fetch `path`, sees the mocked answer, a route added
/// while the worker runs (an abort), and the real answer after `unroute`.
fn routes_reach_a_running_worker(ws: &Workspace, function: &str) {
    assert_eq!(answer_of(ws, function, "/api/data"), "200:mocked");
    ws.ok(&["route", "**/api/other", "--abort"]);
    assert_eq!(
        answer_of(ws, function, "/api/other"),
        "failed: Failed to fetch"
    );
    ws.ok(&["unroute"]);
    assert_eq!(answer_of(ws, function, "/api/data"), "200:real");
}

/// What the page's async `function(path)` resolves to, as `js` prints it (one line).
fn answer_of(ws: &Workspace, function: &str, path: &str) -> String {
    ws.ok(&["js", &format!("await {function}('{path}')")])
        .trim_end()
        .to_owned()
}

#[test]
fn routes_fulfil_and_abort_the_requests_of_a_dedicated_worker() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/worker.html", html(WORKER_PAGE)),
        ("/worker.js", script(FETCH_WORKER)),
        ("/lib.js", script("self.libValue = 'real-lib';")),
        ("/api/data", text("real")),
        ("/api/other", text("other")),
        ("/api/worker-only", text("seen")),
    ]);
    let ws = Workspace::with_chromium();
    // Set before the worker exists: its script's first requests are answered.
    ws.ok(&["route", "**/api/data", "--body", "mocked"]);
    ws.ok(&["route", "**/lib.js", "--abort"]);
    ws.ok(&["goto", &server.url("/worker.html")]);
    assert_eq!(ws.ok(&["js", "await started"]), "import failed\n");
    assert_eq!(worker_fetch(&ws, "/api/data"), "200:mocked");
    // Set while the worker runs.
    ws.ok(&["route", "**/api/other", "--abort"]);
    assert_eq!(worker_fetch(&ws, "/api/other"), "failed: Failed to fetch");
    ws.ok(&["unroute"]);
    assert_eq!(worker_fetch(&ws, "/api/other"), "200:other");
    assert_eq!(ws.ok(&["routes"]), "(no routes)\n");

    // The worker's requests and console lines are the page's, as Playwright reports them.
    assert_eq!(worker_fetch(&ws, "/api/worker-only"), "200:seen");
    wait_until(
        "the worker's request is in the network log",
        std::time::Duration::from_secs(5),
        || ws.ok(&["network"]).contains("/api/worker-only"),
    );
    assert!(ws.ok(&["console"]).contains("worker console line"));

    // A reload starts a new worker: routed from its first request again.
    ws.ok(&[
        "route",
        "**/lib.js",
        "--body",
        "self.libValue = 'mocked-lib';",
        "--content-type",
        "text/javascript",
    ]);
    ws.ok(&["reload"]);
    assert_eq!(ws.ok(&["js", "await started"]), "imported mocked-lib\n");
}

/// A service worker that fetches whatever path a page posts it, answering the page with
/// `<status>:<body>` or `failed: <message>`.
const SERVICE_WORKER: &str = "
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', e => e.waitUntil(self.clients.claim()));
self.addEventListener('message', async e => {
  let out;
  try { const r = await fetch(e.data); out = r.status + ':' + await r.text(); }
  catch (err) { out = 'failed: ' + err.message; }
  e.source.postMessage(out);
});
";

const SERVICE_WORKER_PAGE: &str = "<title>SW</title><script>
window.registered = navigator.serviceWorker.register('/sw.js')
  .then(() => navigator.serviceWorker.ready).then(() => 'ready');
window.swFetch = path => registered.then(() => navigator.serviceWorker.ready).then(reg => new Promise(r => {
  navigator.serviceWorker.addEventListener('message', e => r(e.data), { once: true });
  reg.active.postMessage(path);
}));
</script>";

#[test]
fn routes_fulfil_and_abort_the_requests_of_a_service_worker() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/sw.html", html(SERVICE_WORKER_PAGE)),
        ("/sw.js", script(SERVICE_WORKER)),
        ("/api/data", text("real")),
        ("/api/other", text("other")),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["route", "**/api/data", "--body", "mocked"]);
    // 127.0.0.1 is a secure context: the page may register a service worker.
    ws.ok(&["goto", &server.url("/sw.html")]);
    assert_eq!(ws.ok(&["js", "await registered"]), "ready\n");
    routes_reach_a_running_worker(&ws, "swFetch");
}

#[test]
fn routes_answer_the_first_document_of_a_popup() {
    let _slot = chromium_slot();
    let server = Server::start(vec![(
        "/opener.html",
        html("<title>Opener</title><a id=blank href='/linked' target=_blank>open</a>"),
    )]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/opener.html")]);
    // Neither page exists on the server: only the routes can answer them.
    ws.ok(&[
        "route",
        "**/opened",
        "--body",
        "<title>Opened</title>opened by window.open",
        "--content-type",
        "text/html",
    ]);
    ws.ok(&[
        "route",
        "**/linked",
        "--body",
        "<title>Linked</title>opened by a link",
        "--content-type",
        "text/html",
    ]);
    let loaded = |path: &str| {
        let want = format!("complete {path}");
        wait_until(
            &format!("the popup {path} is the active tab and loaded"),
            std::time::Duration::from_secs(10),
            || {
                ws.ok(&["js", "document.readyState + ' ' + location.pathname"])
                    .trim_end()
                    == want
            },
        );
    };

    ws.ok(&["js", "window.open('/opened'); 'asked'"]);
    loaded("/opened");
    assert_eq!(ws.ok(&["text"]), "opened by window.open\n");

    ws.ok(&["tab", "1"]);
    ws.ok(&["click", "#blank"]);
    loaded("/linked");
    assert_eq!(ws.ok(&["text"]), "opened by a link\n");
}

#[test]
fn a_dedicated_workers_own_script_is_logged_complete() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/worker.html", html(WORKER_PAGE)),
        ("/worker.js", script(FETCH_WORKER)),
        ("/lib.js", script("self.libValue = 'real-lib';")),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/worker.html")]);
    assert_eq!(ws.ok(&["js", "await started"]), "imported real-lib\n");
    let size = FETCH_WORKER.len();
    for path in ["/worker.js", "/lib.js"] {
        let want = format!("{} → 200 (", server.url(path));
        wait_until(
            &format!("{path} is logged complete"),
            std::time::Duration::from_secs(5),
            || {
                let network = ws.ok(&["network"]);
                eprintln!("{network}");
                network.lines().any(|l| l.contains(&want))
            },
        );
    }
    let network = ws.ok(&["network"]);
    let line = network
        .lines()
        .find(|l| l.contains("/worker.js"))
        .expect("worker.js line");
    assert!(line.ends_with(&format!(", {size}B)")), "{line}");
}

/// A dedicated worker that answers each message with what it sees of the emulation: user
/// agent, language, time zone and locale, and the headers its `fetch` carried.
const EMULATION_WORKER: &str = "
onmessage = async () => {
  const headers = await (await fetch('/echo-headers')).text();
  postMessage([navigator.userAgent, navigator.language,
    Intl.DateTimeFormat().resolvedOptions().timeZone,
    Intl.DateTimeFormat().resolvedOptions().locale, headers].join('\\n'));
};
postMessage('ready');
";

#[test]
fn a_dedicated_worker_sees_the_pages_user_agent_headers_locale_and_time_zone() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/worker.html", html(WORKER_PAGE)),
        ("/worker.js", script(EMULATION_WORKER)),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["useragent", "browse-test-agent/1.0"]);
    ws.ok(&["header", "X-Browse-Test:on"]);
    ws.ok(&["set", "locale", "fr-FR"]);
    ws.ok(&["set", "timezone", "Asia/Tokyo"]);
    ws.ok(&["goto", &server.url("/worker.html")]);
    assert_eq!(ws.ok(&["js", "await started"]), "ready\n");
    let seen = worker_fetch(&ws, "go");
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some("browse-test-agent/1.0"), "{seen}");
    assert_eq!(lines.next(), Some("fr-FR"), "{seen}");
    assert_eq!(lines.next(), Some("Asia/Tokyo"), "{seen}");
    assert_eq!(lines.next(), Some("fr-FR"), "{seen}");
    let headers: Vec<&str> = lines.collect();
    for want in [
        "user-agent: browse-test-agent/1.0",
        "x-browse-test: on",
        "accept-language: fr-FR",
    ] {
        assert!(headers.contains(&want), "{want} not in {headers:?}");
    }
}

/// Invariant 16 for popups whose set-up cannot finish: a popup that closes itself as soon as
/// it runs, and popups the opener closes while Chromium still holds them for us. Each is let
/// run (a held one would never close itself), none is left as a tab, no command waits on
/// them, and the next popup is still adopted and routed.
#[test]
fn popups_that_close_during_their_set_up_run_and_hold_nothing_up() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        (
            "/opener.html",
            html("<title>Opener</title><script>window.open('/closer.html')</script>"),
        ),
        (
            "/closer.html",
            html("<title>Closer</title><script>window.close()</script>"),
        ),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&[
        "route",
        "**/routed",
        "--body",
        "<title>Routed</title>routed",
        "--content-type",
        "text/html",
    ]);
    ws.ok(&["goto", &server.url("/opener.html")]);
    // Opened and closed at once by the opener, several times, and more self-closing pages.
    ws.ok(&[
        "js",
        "for (let i = 0; i < 5; i++) { window.open('/closer.html'); window.open('/held.html').close(); } 'asked'",
    ]);
    let opener_only = format!("→ [1] Opener — {}\n", server.url("/opener.html"));
    wait_until(
        "every popup closed and only the opener is a tab",
        std::time::Duration::from_secs(15),
        || {
            let began = std::time::Instant::now();
            let tabs = ws.ok(&["tabs"]);
            assert!(
                began.elapsed() < std::time::Duration::from_secs(5),
                "tabs took {:?}",
                began.elapsed()
            );
            tabs == opener_only
        },
    );
    // The watcher still adopts the next popup, held until routed.
    ws.ok(&["js", "window.open('/routed'); 'asked'"]);
    wait_until(
        "the routed popup is the active tab and loaded",
        std::time::Duration::from_secs(10),
        || {
            ws.ok(&["js", "document.readyState + ' ' + document.title"])
                .trim_end()
                == "complete Routed"
        },
    );
}

/// A shared worker that fetches whatever path a page posts on its port, answering
/// `<status>:<body>` or `failed: <message>`; it first says what its `importScripts` of
/// `/lib.js` gave.
const SHARED_WORKER: &str = "
let imported;
try { importScripts('/lib.js'); imported = 'imported ' + self.libValue; }
catch (e) { imported = 'import failed'; }
onconnect = e => {
  const port = e.ports[0];
  port.onmessage = async m => {
    try { const r = await fetch(m.data); port.postMessage(r.status + ':' + await r.text()); }
    catch (err) { port.postMessage('failed: ' + err.message); }
  };
  port.postMessage(imported);
};
";

const SHARED_WORKER_PAGE: &str = "<title>Shared</title><script>
const port = new SharedWorker('/shared.js').port;
window.started = new Promise(r => port.addEventListener('message', e => r(e.data), { once: true }));
port.start();
window.sharedFetch = path => started.then(() => new Promise(r => {
  port.addEventListener('message', e => r(e.data), { once: true });
  port.postMessage(path);
}));
</script>";

/// A server for [`SHARED_WORKER_PAGE`]: the worker, the script it imports and two APIs.
fn shared_worker_server() -> Server {
    Server::start(vec![
        ("/shared.html", html(SHARED_WORKER_PAGE)),
        ("/shared.js", script(SHARED_WORKER)),
        ("/lib.js", script("self.libValue = 'real-lib';")),
        ("/api/data", text("real")),
        ("/api/other", text("other")),
    ])
}

#[test]
fn routes_fulfil_and_abort_the_requests_of_a_shared_worker() {
    let _slot = chromium_slot();
    let server = shared_worker_server();
    let mut ws = Workspace::with_chromium();
    // However slow its set-up, the worker's first requests wait for it.
    ws.set("BROWSE_TEST_WORKER_SETUP_DELAY_MS", "300");
    // Set before the worker exists: its first requests are answered.
    ws.ok(&["route", "**/api/data", "--body", "mocked"]);
    ws.ok(&[
        "route",
        "**/lib.js",
        "--body",
        "self.libValue = 'mocked-lib';",
        "--content-type",
        "text/javascript",
    ]);
    ws.ok(&["goto", &server.url("/shared.html")]);
    assert_eq!(ws.ok(&["js", "await started"]), "imported mocked-lib\n");
    routes_reach_a_running_worker(&ws, "sharedFetch");
}

/// A shared worker started while no route existed: a route added while it runs answers its
/// requests, and so does one added again after `unroute` (Chromium pauses a shared worker's
/// requests only when `Fetch` was on as it started; before, such routes never reached it).
/// The worker's set-up is made slow (300 ms): its script must wait for it (before, a quick
/// script won the race now and then under load, and the worker was never routed).
#[test]
fn routes_added_later_reach_a_shared_worker_started_without_routes() {
    let _slot = chromium_slot();
    let server = shared_worker_server();
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_TEST_WORKER_SETUP_DELAY_MS", "300");
    ws.ok(&["goto", &server.url("/shared.html")]);
    assert_eq!(ws.ok(&["js", "await started"]), "imported real-lib\n");
    assert_eq!(answer_of(&ws, "sharedFetch", "/api/data"), "200:real");
    ws.ok(&["route", "**/api/data", "--body", "mocked"]);
    routes_reach_a_running_worker(&ws, "sharedFetch");
    ws.ok(&["route", "**/api/data", "--body", "again"]);
    assert_eq!(answer_of(&ws, "sharedFetch", "/api/data"), "200:again");
}

/// Settings changed while a dedicated worker runs reach its later requests: the extra
/// headers and the user agent's header.
#[test]
fn a_running_dedicated_worker_takes_a_later_header_and_user_agent() {
    let _slot = chromium_slot();
    let server = Server::start(vec![
        ("/worker.html", html(WORKER_PAGE)),
        ("/worker.js", script(EMULATION_WORKER)),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &server.url("/worker.html")]);
    assert_eq!(ws.ok(&["js", "await started"]), "ready\n");
    ws.ok(&["header", "X-Browse-Late:on"]);
    ws.ok(&["useragent", "late-agent/2"]);
    let seen = worker_fetch(&ws, "go");
    let headers: Vec<&str> = seen.lines().skip(4).collect();
    for want in ["user-agent: late-agent/2", "x-browse-late: on"] {
        assert!(headers.contains(&want), "{want} not in {headers:?}");
    }
}
