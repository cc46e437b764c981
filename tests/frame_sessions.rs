//! End-to-end with a real Chromium: a cross-site iframe (an out-of-process iframe, reached
//! through a CDP session of its own) gets every setting its tab gets, both when it attaches
//! after the setting was made and when the setting changes while it is attached: `network`
//! capture, `route`, and emulation (`useragent`, `header`, `set timezone|locale|media|offline`).
//!
//! The top page is served on 127.0.0.1, the frame by a second server under the name
//! `localhost` (another site, so Chromium isolates it). The frame's server records every
//! request that reaches it, with its headers. The frame reports what it sees to the top
//! page's `#log` by `postMessage`, read back with `text`.

mod common;

use std::time::Duration;

use common::recording::{RecordingServer, Unknown};
use common::*;

const TOP: &str = r#"<!DOCTYPE html><html><head><title>Top page</title></head><body>
<pre id="log">log:
</pre>
<script>
addEventListener('message', (e) => {
  document.getElementById('log').textContent += String(e.data) + '\n';
});
</script>
<iframe id="cross" src="{cross}" width="400" height="200"></iframe>
</body></html>"#;

/// Its first request (`/cross-data`) is made as the frame's document starts, so only settings
/// given to the frame's session before it ran can cover it.
/// A frame that asks a question as it loads (`confirm` blocks it until the dialog is answered).
const ASKING: &str = r#"<!DOCTYPE html><html><head><title>Asking page</title></head><body>
<script>
setTimeout(() => parent.postMessage('confirm said ' + confirm('frame asks'), '*'), 0);
</script></body></html>"#;

const CROSS: &str = r#"<!DOCTYPE html><html><head><title>Cross page</title>
<script>
const report = (line) => parent.postMessage(line, '*');
fetch('/cross-data').then((r) => r.text()).then(
  (t) => report('cross fetched ' + t),
  () => report('cross fetch failed'));
report('cross ua ' + navigator.userAgent);
report('cross tz ' + Intl.DateTimeFormat().resolvedOptions().timeZone);
report('cross lang ' + navigator.language);
report('cross dark ' + matchMedia('(prefers-color-scheme: dark)').matches);
</script></head><body><h2>Cross heading</h2>
<a id="dl" href="/report.csv" download="report.csv">Report</a></body></html>"#;

/// The top page's server, the frame's recording server, and the top page's URL.
struct Site {
    _top: PageServer,
    cross: RecordingServer,
    top_url: String,
}

impl Site {
    fn start() -> Self {
        let cross = RecordingServer::start(
            &[
                ("/cross.html", "text/html; charset=utf-8", CROSS),
                ("/cross-data", "text/plain; charset=utf-8", "real-data"),
                ("/asking.html", "text/html; charset=utf-8", ASKING),
                ("/report.csv", "text/csv", "a,b\n1,2\n"),
            ],
            Unknown::NotFound,
        );
        let cross_url = format!("http://localhost:{}/cross.html", cross.port);
        let asking_url = format!("http://localhost:{}/asking.html", cross.port);
        let top = PageServer::start(&[
            ("/top.html", &TOP.replace("{cross}", &cross_url)),
            ("/asking.html", &TOP.replace("{cross}", &asking_url)),
        ]);
        let top_url = top.url("/top.html");
        Site {
            _top: top,
            cross,
            top_url,
        }
    }

    /// The frame's data URL, as the frame's renderer asks for it.
    fn data_url(&self) -> String {
        format!("http://localhost:{}/cross-data", self.cross.port)
    }
}

/// Waits (bounded) until the top page's log has `line`; shows the page and the daemon's log
/// when it does not come.
fn logged(ws: &Workspace, line: &str) {
    let mut text = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        text = ws.ok(&["text"]);
        if text.lines().any(|l| l == line) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "the top page never logged {line:?}; it shows:\n{text}\ndaemon log:\n{}",
        ws.daemon_log_tail()
    );
}

/// `js` in the cross-site frame, then back to the main frame.
fn in_cross(ws: &Workspace, expression: &str) -> String {
    ws.ok(&["frame", "#cross"]);
    let value = ws.ok(&["js", expression]);
    ws.ok(&["frame", "main"]);
    value.trim_end().to_owned()
}

#[test]
fn network_capture_and_export_see_the_requests_of_a_cross_site_iframe() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    ws.ok(&["network", "--capture"]);
    ws.ok(&["goto", &site.top_url]);
    logged(&ws, "cross fetched real-data");
    // The frame's own request, from its first moment on.
    let data_url = site.data_url();
    wait_until(
        "`network` lists the frame's request",
        Duration::from_secs(5),
        || ws.ok(&["network"]).contains(&data_url),
    );
    // And its body is captured.
    let export = ws.path().join("out.jsonl");
    let export_arg = export.to_string_lossy().into_owned();
    wait_until(
        "the capture holds the frame's response body",
        Duration::from_secs(5),
        || {
            ws.ok(&["network", "--export", &export_arg]);
            std::fs::read_to_string(&export).is_ok_and(|jsonl| {
                jsonl
                    .lines()
                    .any(|l| l.contains(&data_url) && l.contains("\"real-data\""))
            })
        },
    );
}

#[test]
fn route_intercepts_the_requests_of_a_cross_site_iframe() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    // Set before the frame exists: its first request is answered by the route.
    ws.ok(&["route", "**/cross-data", "--body", "mocked-data"]);
    ws.ok(&["goto", &site.top_url]);
    logged(&ws, "cross fetched mocked-data");
    assert!(
        site.cross.requests("/cross-data").is_empty(),
        "the frame's request reached the server: {:?}",
        site.cross.requests("/cross-data")
    );
    // Set while the frame is attached: its next request is answered too.
    ws.ok(&["route", "**/cross-data?later", "--abort"]);
    assert_eq!(
        in_cross(
            &ws,
            "fetch('/cross-data?later').then(() => 'loaded', () => 'blocked')"
        ),
        "blocked"
    );
    assert!(site.cross.requests("/cross-data?later").is_empty());
}

#[test]
fn emulation_reaches_a_cross_site_iframe_when_it_attaches_and_when_it_changes() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    // Set before the frame exists.
    ws.ok(&["useragent", "BrowseProbe/1.0"]);
    ws.ok(&["header", "X-Probe:before"]);
    ws.ok(&["set", "timezone", "Asia/Tokyo"]);
    ws.ok(&["set", "locale", "fr-FR"]);
    ws.ok(&["set", "media", "dark"]);
    ws.ok(&["goto", &site.top_url]);
    logged(&ws, "cross fetched real-data");
    logged(&ws, "cross ua BrowseProbe/1.0");
    logged(&ws, "cross tz Asia/Tokyo");
    logged(&ws, "cross lang fr-FR");
    logged(&ws, "cross dark true");
    let first = &site.cross.requests("/cross-data")[0];
    assert_eq!(
        first.headers.get("x-probe").map(String::as_str),
        Some("before")
    );
    assert_eq!(
        first.headers.get("user-agent").map(String::as_str),
        Some("BrowseProbe/1.0")
    );
    assert!(
        first
            .headers
            .get("accept-language")
            .is_some_and(|l| l.starts_with("fr-FR")),
        "{first:?}"
    );

    // Changed while the frame is attached.
    ws.ok(&["useragent", "BrowseLater/2.0"]);
    ws.ok(&["header", "X-Later:after"]);
    ws.ok(&["set", "timezone", "Europe/Berlin"]);
    ws.ok(&["set", "locale", "de-DE"]);
    ws.ok(&["set", "media", "light"]);
    assert_eq!(
        in_cross(
            &ws,
            "[navigator.userAgent, Intl.DateTimeFormat().resolvedOptions().timeZone, \
             navigator.language, matchMedia('(prefers-color-scheme: light)').matches].join(' ')"
        ),
        "BrowseLater/2.0 Europe/Berlin de-DE true"
    );
    assert_eq!(
        in_cross(&ws, "fetch('/cross-data?later').then((r) => r.text())"),
        "real-data"
    );
    let later = &site.cross.requests("/cross-data?later")[0];
    assert_eq!(
        later.headers.get("x-later").map(String::as_str),
        Some("after")
    );
    assert_eq!(
        later.headers.get("user-agent").map(String::as_str),
        Some("BrowseLater/2.0")
    );
    ws.ok(&["set", "offline", "on"]);
    assert_eq!(
        in_cross(
            &ws,
            "fetch('/cross-data?offline').then(() => 'online', () => 'offline')"
        ),
        "offline"
    );
    assert!(site.cross.requests("/cross-data?offline").is_empty());
}

#[test]
fn a_dialog_of_a_cross_site_iframe_is_answered_by_the_policy_and_logged() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    ws.ok(&["dialog-dismiss"]);
    ws.ok(&["goto", &site.top_url.replace("/top.html", "/asking.html")]);
    logged(&ws, "confirm said false");
    assert!(
        ws.ok(&["dialog"]).contains("frame asks"),
        "{}",
        ws.ok(&["dialog"])
    );
}

#[test]
fn a_download_a_cross_site_iframe_starts_is_saved_and_listed() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &site.top_url]);
    logged(&ws, "cross fetched real-data");
    in_cross(&ws, "document.getElementById('dl').click()");
    let listed = ws.ok(&["downloads", "--wait", "20000"]);
    let saved = ws.state_dir().join("downloads").join("report.csv");
    assert!(
        listed.contains(&saved.display().to_string())
            && listed.contains(&format!("localhost:{}/report.csv", site.cross.port)),
        "{listed}"
    );
    assert_eq!(std::fs::read(&saved).expect("saved"), b"a,b\n1,2\n");
}

/// A page with a button, a cross-site iframe (a button of its own) and a same-site iframe.
fn framed_site() -> (PageServer, RecordingServer, String) {
    let frame_page = r#"<!DOCTYPE html><html><body><button>FrameBtn</button></body></html>"#;
    let cross = RecordingServer::start(
        &[("/echo", "text/html; charset=utf-8", frame_page)],
        Unknown::NotFound,
    );
    let top_page = format!(
        r#"<!DOCTYPE html><html><body><button>TopBtn</button>
<iframe id="xf" src="http://localhost:{}/echo"></iframe><iframe src="/same.html"></iframe>
</body></html>"#,
        cross.port
    );
    let top = PageServer::start(&[
        ("/xframe.html", &top_page),
        (
            "/same.html",
            "<!DOCTYPE html><html><body><button>SameBtn</button></body></html>",
        ),
    ]);
    let url = top.url("/xframe.html");
    (top, cross, url)
}

/// After a setting, each navigation replaces the cross-site iframe's session (the old one
/// detaches, the new one attaches paused while it gets the settings): a snapshot taken right
/// after `goto` reads the new session, never the stale one, and never calls a frame that is
/// still starting "did not answer".
#[test]
fn a_snapshot_right_after_goto_reads_the_cross_site_iframe_after_a_setting() {
    let _slot = chromium_slot();
    let (_top, _cross, url) = framed_site();
    let ws = Workspace::with_chromium();
    let settings: [&[&str]; 4] = [
        &["useragent", "FrameTestAgent/1.0"],
        &["header", "X-Test:1"],
        &["set", "timezone", "Asia/Tokyo"],
        &["set", "locale", "de-DE"],
    ];
    // 5 rounds after `useragent`, then 2 after each further setting.
    let rounds = settings
        .iter()
        .enumerate()
        .flat_map(|(i, setting)| (0..if i == 0 { 5 } else { 2 }).map(move |r| (*setting, r)));
    for (setting, round) in rounds {
        if round == 0 {
            ws.ok(setting);
        }
        let round = format!("{setting:?} round {round}");
        ws.ok(&["goto", &url]);
        let out = ws.run(&["snapshot", "-i"]);
        let (text, err) = (stdout(&out), stderr(&out));
        assert!(
            out.status.success(),
            "round {round}: snapshot failed: {err}"
        );
        assert!(
            text.contains("FrameBtn") && text.contains("SameBtn") && text.contains("TopBtn"),
            "round {round}: the snapshot lacks a frame's button:\n{text}\nstderr:\n{err}"
        );
        assert!(
            !err.contains("did not answer"),
            "round {round}: a starting frame was reported as not answering: {err}"
        );
    }
}

/// `route` tells every session of every tab to intercept; a cross-site iframe's session that
/// went away with a navigation (still referenced by an old snapshot's refs) needs nothing and
/// is no failure.
#[test]
fn route_after_settings_and_navigations_succeeds_despite_gone_frame_sessions() {
    let _slot = chromium_slot();
    let (_top, _cross, url) = framed_site();
    let ws = Workspace::with_chromium();
    ws.ok(&["useragent", "FrameTestAgent/1.0"]);
    ws.ok(&["header", "X-Test:1"]);
    ws.ok(&["set", "timezone", "Asia/Tokyo"]);
    ws.ok(&["set", "locale", "de-DE"]);
    for round in 0..3 {
        ws.ok(&["goto", &url]);
        // Refs of this snapshot hold the frame's session of this document.
        ws.ok(&["snapshot", "-i"]);
        let pattern = format!("**/routed{round}*");
        let out = ws.run(&["route", &pattern, "--status", "200", "--body", "R"]);
        assert!(
            out.status.success(),
            "round {round}: route failed: {}",
            stderr(&out)
        );
    }
    let routes = ws.ok(&["routes"]);
    assert!(routes.contains("routed2"), "{routes}");
}

/// A server of a top page (`/top.html`) with a same-site iframe (`/slow.html`) and a cross-site
/// one (`http://localhost:<port>/slow.html`), whose frame documents it answers only once
/// `frame_delay` has passed since their request arrived (`None`: never, while the test runs).
/// `goto` returns at the top page's `DOMContentLoaded`, before either frame has its document.
struct SlowFrames {
    port: u16,
}

impl SlowFrames {
    fn start(frame_delay: Option<Duration>) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let top = format!(
            r#"<!DOCTYPE html><html><body><button>TopBtn</button>
<iframe src="/slow.html"></iframe><iframe src="http://localhost:{port}/slow.html?cross"></iframe>
</body></html>"#
        );
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let top = top.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut request = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&request);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    let body = if path == "/top.html" {
                        top
                    } else if path.starts_with("/slow.html") {
                        match frame_delay {
                            Some(delay) => std::thread::sleep(delay),
                            // Held open, never answered (the thread ends with the test).
                            None => std::thread::park(),
                        }
                        let name = if path.ends_with("?cross") {
                            "Cross"
                        } else {
                            "Same"
                        };
                        format!("<!DOCTYPE html><html><body><button>{name}SlowBtn</button></body></html>")
                    } else {
                        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                });
            }
        });
        SlowFrames { port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/top.html", self.port)
    }
}

/// `goto` returns before the iframes have their documents (their server answers 1.5 s after
/// the request): a snapshot right after waits for each frame's `DOMContentLoaded`, same-site
/// (read in the top page's session) and cross-site (its own session) alike, and reads them.
#[test]
fn a_snapshot_right_after_goto_waits_for_iframes_still_loading() {
    let _slot = chromium_slot();
    let site = SlowFrames::start(Some(Duration::from_millis(1500)));
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_FRAME_TIMEOUT", "10000");
    ws.ok(&["goto", &site.url()]);
    let out = ws.run(&["snapshot", "-i"]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "snapshot failed: {err}");
    assert!(
        text.contains("TopBtn") && text.contains("SameSlowBtn") && text.contains("CrossSlowBtn"),
        "the snapshot lacks a loading frame's button:\n{text}\nstderr:\n{err}"
    );
    assert!(!err.contains("still loading"), "stderr: {err}");
}

/// An iframe whose document never arrives within `BROWSE_FRAME_TIMEOUT` stays a bare
/// `iframe` line, named on stderr, and the snapshot still succeeds.
#[test]
fn an_iframe_that_never_loads_is_left_bare_with_a_note() {
    let _slot = chromium_slot();
    let site = SlowFrames::start(None);
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_FRAME_TIMEOUT", "1000");
    ws.ok(&["goto", &site.url()]);
    let out = ws.run(&["snapshot"]);
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "snapshot failed: {err}");
    assert!(text.contains("TopBtn"), "{text}");
    assert!(text.contains("iframe"), "no iframe line:\n{text}");
    assert!(!text.contains("SlowBtn"), "{text}");
    assert!(
        err.contains("still loading after 1000ms") && err.contains("slow.html"),
        "no note naming the loading frame: {err}"
    );
    // The snapshot itself says why the iframe lines are empty.
    let loading_lines = text
        .lines()
        .filter(|l| l.contains("[iframe] (still loading)"))
        .count();
    assert_eq!(loading_lines, 2, "{text}");
    // The next snapshots look at the frames once and do not wait for them again: a page with
    // an iframe that never loads must not make every snapshot wait BROWSE_FRAME_TIMEOUT.
    for round in 0..2 {
        let out = ws.run(&["snapshot", "-i"]);
        let (text, err) = (stdout(&out), stderr(&out));
        assert!(
            out.status.success(),
            "round {round}: snapshot failed: {err}"
        );
        assert!(text.contains("TopBtn"), "round {round}: {text}");
        assert!(
            !err.contains("after 1000ms") && err.contains("not waited for again"),
            "round {round}: the snapshot waited for the loading frame again: {err}"
        );
        assert_eq!(
            err.matches("not waited for again").count(),
            2,
            "round {round}: {err}"
        );
    }
    // Choosing that frame says it is still loading, not that it is gone.
    let chosen = ws.fails(&["frame", "iframe[src=\"/slow.html\"]"]);
    assert!(
        chosen.contains("has no document yet (its iframe is still loading)")
            && !chosen.contains("gone"),
        "{chosen}"
    );
}
