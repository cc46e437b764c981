//! Pages that used to make commands hang and then blame the page (issue 9, items 10-13 and
//! 15): lone UTF-16 surrogates in page text, a server that never answers, same-document
//! navigations, a huge table, and the cursor scan's noise on real-looking pages. Every page is
//! served on 127.0.0.1 by the test; timers are shortened through the environment.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// A workspace whose hang watchdog probes every 300 ms, so that a watchdog that would wrongly
/// blame the page gets every chance to.
fn watchful_workspace() -> Workspace {
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_HANG_CHECK", "300");
    ws
}

/// Runs `browse <args>` and returns its output with how long it took.
fn timed(ws: &Workspace, args: &[&str]) -> (std::process::Output, Duration) {
    let began = Instant::now();
    let out = ws.run(args);
    (out, began.elapsed())
}

/// Asserts exit 0 within `limit` and returns stdout.
fn ok_within(ws: &Workspace, args: &[&str], limit: Duration) -> String {
    let (out, took) = timed(ws, args);
    assert!(
        out.status.success(),
        "browse {args:?} failed after {took:?}: {}\nlog:\n{}",
        stderr(&out),
        ws.daemon_log_tail()
    );
    assert!(
        took < limit,
        "browse {args:?} took {took:?} (limit {limit:?})"
    );
    stdout(&out)
}

// ---------------------------------------------------------------------------------------------
// Item 10: lone surrogates

const SURROGATES_HTML: &str = r#"<!DOCTYPE html>
<html><head><title>Odd text</title></head>
<body>
<p id="p">placeholder</p>
<button id="b">placeholder</button>
<script>
  document.getElementById('p').textContent = 'lone \uD800 high, lone \uDC00 low, pair \uD83D\uDE00';
  document.getElementById('b').textContent = 'Go \uDBFF';
  console.log('logged \uD800 text');
</script>
</body></html>"#;

#[test]
fn lone_surrogates_in_page_text_come_back_replaced_at_once() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/odd.html", SURROGATES_HTML)]);
    let ws = watchful_workspace();
    ws.ok(&["goto", &pages.url("/odd.html")]);
    let fast = Duration::from_secs(5);
    let expected = "lone \u{FFFD} high, lone \u{FFFD} low, pair \u{1F600}";

    let text = ok_within(&ws, &["text"], fast);
    assert!(text.contains(expected), "{text:?}");
    let js = ok_within(&ws, &["js", "'a\\uD800b'"], fast);
    assert_eq!(js, "a\u{FFFD}b\n");
    let html = ok_within(&ws, &["html", "#p"], fast);
    assert!(html.contains(expected), "{html:?}");
    let snapshot = ok_within(&ws, &["snapshot"], fast);
    assert!(
        snapshot.contains("[button] \"Go \u{FFFD}\""),
        "{snapshot:?}"
    );
    ws.ok(&["click", "@e1"]);
    let console = ok_within(&ws, &["console"], fast);
    assert!(console.contains("logged \u{FFFD} text"), "{console:?}");
    assert!(!ws.daemon_log_tail().contains("terminating"));
}

// ---------------------------------------------------------------------------------------------
// Item 11: a server that never answers

/// A TCP server on 127.0.0.1 that accepts connections, reads what is sent, and never answers.
struct SilentServer {
    port: u16,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind silent server");
        let port = listener.local_addr().expect("addr").port();
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let keep = Arc::clone(&held);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = stream.try_clone().expect("clone stream");
                keep.lock().unwrap().push(stream);
                // Drain the request so the client sees it sent; never write a byte back.
                std::thread::spawn(move || {
                    let mut sink = [0u8; 4096];
                    while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
                });
            }
        });
        SilentServer { port, held }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

#[test]
fn a_server_that_never_answers_times_out_honestly_and_the_tab_stays_usable() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/home.html", "<title>Home</title><p>home page</p>")]);
    let silent = SilentServer::start();
    let mut ws = watchful_workspace();
    ws.set("BROWSE_NAVIGATION_TIMEOUT", "2000");
    ws.ok(&["goto", &pages.url("/home.html")]);

    let target = silent.url("/never");
    let (out, took) = timed(&ws, &["goto", &target]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        silent.connections() > 0,
        "Chromium never reached the server"
    );
    assert!(err.contains("Page navigation timed out"), "{err}");
    assert!(err.contains(&target), "the error must name the URL: {err}");
    assert!(!err.contains("JavaScript was stuck"), "{err}");
    assert!(took < Duration::from_secs(8), "goto took {took:?}");

    // The pending navigation was stopped: the tab answers at once, still on its page.
    assert_eq!(
        ok_within(&ws, &["js", "1+1"], Duration::from_secs(3)),
        "2\n"
    );
    assert_eq!(
        ok_within(&ws, &["text"], Duration::from_secs(3)),
        "home page\n"
    );
    assert_eq!(ws.ok(&["url"]), format!("{}\n", pages.url("/home.html")));

    // The same from a fresh tab, whose only document is about:blank, and through `click`.
    ws.ok(&["newtab"]);
    let out = ws.run(&["goto", &silent.url("/again")]);
    assert!(
        stderr(&out).contains("Page navigation timed out"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        ok_within(&ws, &["js", "1+1"], Duration::from_secs(3)),
        "2\n"
    );
    assert!(
        !ws.daemon_log_tail().contains("terminating"),
        "{}",
        ws.daemon_log_tail()
    );
}

// ---------------------------------------------------------------------------------------------
// Item 12: same-document navigations

const SPA_HTML: &str = r##"<!DOCTYPE html>
<html><head><title>SPA</title></head>
<body>
<a id="hash" href="#section">Jump to section</a>
<a id="route" href="/spa/next" onclick="event.preventDefault(); history.pushState({}, '', '/spa/next'); document.getElementById('view').textContent = 'next view'">Next route</a>
<button id="plain" onclick="document.getElementById('view').textContent = 'plain'">Plain</button>
<p id="view">first view</p>
<div style="height: 3000px"></div>
<h2 id="section">Section</h2>
</body></html>"##;

#[test]
fn same_document_navigations_return_at_once() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/spa.html", SPA_HTML)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/spa.html")]);
    // Settling after a click waits at most 2 s for network idle; a same-document navigation
    // never brings one, so anything near 2 s means it waited for nothing.
    let fast = Duration::from_millis(1500);
    let out = ok_within(&ws, &["click", "#hash"], fast);
    assert_eq!(
        out,
        format!(
            "Clicked #hash → now at {}\n",
            pages.url("/spa.html#section")
        )
    );
    let out = ok_within(&ws, &["click", "#route"], fast);
    assert_eq!(
        out,
        format!("Clicked #route → now at {}\n", pages.url("/spa/next"))
    );
    assert_eq!(
        ws.ok(&["js", "document.getElementById('view').textContent"]),
        "next view\n"
    );
    ok_within(&ws, &["click", "#plain"], fast);
    ok_within(&ws, &["js", "history.back()"], fast);
    wait_until("history.back() lands", Duration::from_secs(5), || {
        ws.ok(&["url"]).trim() == pages.url("/spa.html#section")
    });
}

// ---------------------------------------------------------------------------------------------
// Item 13: a huge page

fn table_html(rows: usize) -> String {
    let mut html =
        String::from("<!DOCTYPE html><html><head><title>Big table</title></head><body><table>");
    for i in 1..=rows {
        html.push_str(&format!(
            "<tr><td>Row {i}</td><td>{}</td><td><a href=\"#r{i}\">open {i}</a></td></tr>",
            i * 7
        ));
    }
    html.push_str("</table></body></html>");
    html
}

/// `snapshot -i` of a `rows`-row table finishes, prints every link, blames nothing on the
/// page, and leaves the daemon reachable and its refs usable.
fn huge_table_snapshots(rows: usize) {
    let _slot = chromium_slot();
    let big = table_html(rows);
    let pages = PageServer::start(&[("/big.html", &big)]);
    let mut ws = watchful_workspace();
    // Chromium alone needs many seconds for this tree (more on a loaded machine): what is
    // tested is that the snapshot finishes and nothing blames the page, not the CLI's limit.
    ws.set("BROWSE_COMMAND_TIMEOUT", "600000");
    ws.ok(&["goto", &pages.url("/big.html")]);

    let (out, took) = timed(&ws, &["snapshot", "-i"]);
    let err = stderr(&out);
    assert!(
        out.status.success(),
        "snapshot -i failed after {took:?}: {err}"
    );
    eprintln!("snapshot -i of {rows} rows took {took:?}");
    let text = stdout(&out);
    let links: Vec<&str> = text.lines().filter(|l| l.contains("[link]")).collect();
    assert_eq!(links.len(), rows);
    let last = format!("@e{rows} [link] \"open {rows}\"");
    assert_eq!(links[rows - 1].trim(), last);

    // The next command reaches the same daemon, which was never called a starter.
    let (out, _) = timed(&ws, &["js", "1+1"]);
    assert_eq!(stdout(&out), "2\n", "{}", stderr(&out));
    assert!(!stderr(&out).contains("starting"), "{}", stderr(&out));
    assert!(
        !ws.daemon_log_tail().contains("terminating"),
        "{}",
        ws.daemon_log_tail()
    );
    ws.ok(&["click", &format!("@e{rows}")]);
    assert!(ws.ok(&["url"]).trim().ends_with(&format!("#r{rows}")));
}

#[test]
fn a_five_thousand_row_table_snapshots_and_the_daemon_stays_reachable() {
    huge_table_snapshots(5_000);
}

/// Issue 9's own case. Chromium's `Accessibility.getFullAXTree` grows faster than the page
/// here: measured on the 2-core test machine under load, 2,000 rows 12 s, 5,000 rows 25 s,
/// 20,000 rows over 297 s. Run it with `--ignored` on a quiet machine.
#[test]
#[ignore = "minutes of Chromium time on a loaded machine; see the doc comment"]
fn a_twenty_thousand_row_table_snapshots_and_the_daemon_stays_reachable() {
    huge_table_snapshots(20_000);
}

#[test]
fn a_tree_that_takes_too_long_is_reported_as_such_not_as_a_stuck_page() {
    let _slot = chromium_slot();
    // 20,000 rows: Chromium 156 builds 3,000 rows' tree in under 1 s on a quiet machine, so
    // that size passed or failed by chance; 10,000 take several seconds.
    let big = table_html(10_000);
    let pages = PageServer::start(&[("/big.html", &big)]);
    let mut ws = watchful_workspace();
    // The daemon gives the tree call the CLI's limit less 3 s: here 1 s.
    ws.set("BROWSE_COMMAND_TIMEOUT", "4000");
    // The accessibility tree's limit is under test; the page engine would not call it.
    ws.set("BROWSE_SNAPSHOT_ENGINE", "ax");
    ws.ok(&["goto", &pages.url("/big.html")]);
    let err = ws.fails(&["snapshot"]);
    assert!(
        err.contains("did not build this page's accessibility tree within 1s")
            && err.contains("-s <selector>"),
        "{err}"
    );
    assert!(!err.contains("stuck"), "{err}");
    // Chromium finishes the tree it was building; then the tab answers again.
    wait_until("the tab answers again", Duration::from_secs(120), || {
        ws.run(&["js", "1+1"]).stdout == b"2\n"
    });
    // `accessibility` takes no -s: its hint names what it does accept.
    let err = ws.fails(&["accessibility"]);
    assert!(
        err.contains("did not build this page's accessibility tree within 1s")
            && !err.contains("Snapshot a part")
            && err.contains("frame <sel>"),
        "{err}"
    );
    wait_until("the tab answers again", Duration::from_secs(120), || {
        ws.run(&["js", "1+1"]).stdout == b"2\n"
    });
}

#[test]
fn a_live_daemon_that_does_not_answer_is_never_called_a_starter() {
    let mut ws = Workspace::browserless();
    let pid = status_pid(&ws.run(&["status"])).expect("daemon pid");
    signal(pid, libc::SIGSTOP);
    ws.set("BROWSE_START_TIMEOUT", "2500");
    let out = ws.run(&["status"]);
    signal(pid, libc::SIGCONT);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("starting the server"), "{err}");
    assert!(
        err.contains(&format!("pid {pid}")) && err.contains("not answering"),
        "the wait must name the live daemon: {err}"
    );
    assert!(err.contains("Daemon busy"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Item 15: the cursor scan's noise

const NOISY_HTML: &str = r##"<!DOCTYPE html>
<html><head><title>Docs</title>
<style>.card { cursor: pointer; padding: 4px; } .icon { display: inline-block; }</style></head>
<body>
<nav><ol>
  <li><a href="#one"><strong>1.</strong> Getting <wbr>Started</a></li>
  <li><a href="#two"><span class="icon"></span>Install <code>cargo</code></a></li>
</ol></nav>
<div class="card" onclick="document.getElementById('out').textContent = 'card'">Open card <span>with details</span> <b>and more</b></div>
<span style="cursor: pointer"></span>
<div role="button" style="cursor: pointer"><span>Inside a role</span></div>
<div class="card">Second card <em>note</em>
  <span onclick="document.getElementById('out').textContent = 'closed'">close</span>
</div>
<div tabindex="0" style="width: 20px; height: 20px"></div>
<p id="out">nothing yet</p>
</body></html>"##;

#[test]
fn the_cursor_scan_lists_real_clickables_only() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/docs.html", NOISY_HTML)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/docs.html")]);
    let out = ws.ok(&["snapshot", "-C"]);
    let section = out
        .split_once("── cursor-interactive (not in ARIA tree) ──\n")
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no cursor section: {out}"));
    assert_eq!(
        section,
        "@c1 [cursor:pointer, onclick] \"Open card with details and more\"\n\
         @c2 [cursor:pointer] \"Second card note close\"\n\
         @c3 [cursor:pointer, onclick] \"close\"\n\
         @c4 [tabindex=0] \"div\"\n"
    );
    ws.ok(&["click", "@c3"]);
    assert_eq!(
        ws.ok(&["js", "document.getElementById('out').textContent"]),
        "closed\n"
    );
}

#[test]
fn a_promise_that_never_settles_is_the_pages_fault_and_the_daemon_stays_healthy() {
    let _slot = chromium_slot();
    let server = PageServer::start(&[("/p.html", "<!DOCTYPE html><title>P</title><p>Hi</p>")]);
    let mut ws = watchful_workspace();
    ws.set("BROWSE_SCRIPT_TIMEOUT", "700");
    ws.ok(&["goto", &server.url("/p.html")]);
    for args in [
        vec!["js", "new Promise(() => {})"],
        vec!["js", "await new Promise(() => {}); 1"],
    ] {
        let (out, took) = timed(&ws, &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let error = stderr(&out);
        assert!(
            error.starts_with("The page's promise did not settle within 700ms"),
            "{error}"
        );
        assert!(!error.contains("Chromium did not answer"), "{error}");
        assert!(error.contains("Promise.race"), "{error}");
        assert!(took < Duration::from_secs(5), "took {took:?}");
    }
    std::fs::write(ws.path().join("never.js"), "new Promise(() => {})").unwrap();
    let error = ws.fails(&["eval", "never.js"]);
    assert!(
        error.starts_with("The page's promise did not settle"),
        "{error}"
    );
    assert_eq!(health(&ws).unwrap()["status"], "healthy");
    assert_eq!(ws.ok(&["js", "1 + 1"]), "2\n");
}
