//! End-to-end with a real Chromium: iframes. The top page (127.0.0.1) holds a same-origin
//! frame with a frame nested in it, a `srcdoc` frame, and a cross-site frame served by a second
//! server as `localhost`, which Chromium runs in a renderer of its own (an out-of-process
//! iframe). `snapshot` must print every frame's nodes under its iframe, refs inside them must
//! act from the top, and `frame` must move `text`, `html`, `js` and selectors into a frame.
//!
//! Every frame reports what it sees (trusted clicks, input values, hovers) to the top page's
//! `#log`, the cross-site one by `postMessage`, and the tests read it back with `text`. The log
//! is out of the flow: a log that grew above the frames moved them between a click's
//! `mousedown` and `mouseup` (seen: the click then never fired).

mod common;

use std::time::Duration;

use common::*;

/// The top page; `{cross}` is the cross-site frame's URL. The frames sit below and to the
/// right of the page's origin, with margins, borders and padding, so a click point computed
/// in the wrong coordinates misses.
const TOP: &str = r#"<!DOCTYPE html><html><head><title>Top page</title></head>
<body style="margin: 0">
<h1>Top heading</h1>
<pre id="log" style="position: fixed; right: 0; bottom: 0; width: 180px; height: 160px; margin: 0">log:
</pre>
<script>
window.note = (line) => { document.getElementById('log').textContent += line + '\n'; };
addEventListener('message', (e) => note(String(e.data)));
</script>
<div style="margin-left: 60px">
<iframe id="child" name="childframe" src="/child.html" width="420" height="260"
  style="margin: 20px; border: 6px solid black; padding: 9px"></iframe>
<iframe id="cross" src="{cross}" width="420" height="220"
  style="margin: 35px 0 0 80px; border: 4px solid gray; padding: 5px"></iframe>
<iframe id="sd" width="300" height="120" srcdoc="<button style='margin: 30px 0 0 40px' onclick='parent.note(&quot;srcdoc clicked &quot; + event.isTrusted)'>Srcdoc button</button>"></iframe>
</div>
<div style="position: relative; width: 320px; height: 100px">
<iframe id="veiled" width="300" height="80" srcdoc="<button onclick='parent.note(&quot;veiled clicked&quot;)'>Veiled button</button>"></iframe>
<div id="veil" style="position: absolute; left: 0; top: 0; width: 320px; height: 100px; background: white"></div>
</div>
</body></html>"#;

const CHILD: &str = r#"<!DOCTYPE html><html><head><title>Child page</title></head><body>
<p>Child text</p>
<input id="child-input" aria-label="Child input"
  oninput="top.note('child input ' + this.value)">
<iframe id="grand" src="/grand.html" width="300" height="120" style="margin-left: 50px"></iframe>
</body></html>"#;

const GRAND: &str = r#"<!DOCTYPE html><html><head><title>Grand page</title></head><body>
<button style="margin: 20px 0 0 70px" onclick="top.note('grand clicked ' + event.isTrusted)">Grand button</button>
</body></html>"#;

const CROSS: &str = r#"<!DOCTYPE html><html><head><title>Cross page</title></head><body>
<h2>Cross heading</h2>
<button id="cross-btn" style="margin-left: 120px"
  onclick="parent.postMessage('cross clicked ' + event.isTrusted, '*')"
  onmouseenter="parent.postMessage('cross hovered', '*')">Cross button</button>
<input id="cross-input" aria-label="Cross input"
  oninput="parent.postMessage('cross input ' + this.value, '*')">
<input type="checkbox" id="xc" aria-label="Cross check">
<input id="xt" aria-label="Cross text">
<a id="xd" href="/cross.html">Cross link</a>
<script>
console.log('cross frame says hi');
// What reached this frame, for the failure message of a click that did not land.
for (const type of ['mousedown', 'mouseup']) {
  addEventListener(type, (e) => parent.postMessage(`cross ${type} on ${e.target.id || e.target.localName}`, '*'), true);
}
</script>
</body></html>"#;

const NEXT: &str = "<!DOCTYPE html><html><body><h1>Next page</h1></body></html>";

/// Both servers and the top page's URL. The cross-site frame is served by the second server
/// under the name `localhost`: another site than 127.0.0.1, so Chromium isolates it.
struct Site {
    top: PageServer,
    cross: PageServer,
}

impl Site {
    fn start() -> Self {
        let cross = PageServer::start(&[("/cross.html", CROSS)]);
        let top_html = TOP.replace("{cross}", &Site::cross_url(&cross));
        let top = PageServer::start(&[
            ("/top.html", &top_html),
            ("/child.html", CHILD),
            ("/grand.html", GRAND),
            ("/next.html", NEXT),
        ]);
        Site { top, cross }
    }

    fn cross_url(cross: &PageServer) -> String {
        cross.url("/cross.html").replace("127.0.0.1", "localhost")
    }
}

/// The ref of the snapshot line that contains `needle`, and that line's indent (spaces).
fn ref_of(snapshot: &str, needle: &str) -> (String, usize) {
    let line = snapshot
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{snapshot}"));
    let indent = line.len() - line.trim_start().len();
    let reference = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    (reference, indent)
}

/// Waits (bounded) until the top page's log has `line`. Reads the top frame's text, and shows
/// it (with the daemon's log) when the line does not come.
fn logged(ws: &Workspace, line: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = ws.ok(&["text"]);
        if text.lines().any(|l| l == line) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the top page never logged {line:?}; it shows:\n{text}\ndaemon log:\n{}",
            ws.daemon_log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn snapshot_descends_into_every_kind_of_iframe_and_refs_there_act_from_the_top() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &site.top.url("/top.html")]);

    let snapshot = ws.ok(&["snapshot"]);
    // Each frame's nodes one level under its iframe; the nested frame two levels down.
    let (child_frame, child_indent) = ref_of(&snapshot, "[iframe]");
    assert_eq!(child_indent, 0, "{snapshot}");
    let (_, indent) = ref_of(&snapshot, "[paragraph]: Child text");
    assert_eq!(indent, 2, "{snapshot}");
    let (child_input, indent) = ref_of(&snapshot, "[textbox] \"Child input\"");
    assert_eq!(indent, 2, "{snapshot}");
    let (grand_button, indent) = ref_of(&snapshot, "[button] \"Grand button\"");
    assert_eq!(indent, 4, "{snapshot}");
    let (cross_button, indent) = ref_of(&snapshot, "[button] \"Cross button\"");
    assert_eq!(indent, 2, "{snapshot}");
    let (cross_input, _) = ref_of(&snapshot, "[textbox] \"Cross input\"");
    let (srcdoc_button, indent) = ref_of(&snapshot, "[button] \"Srcdoc button\"");
    assert_eq!(indent, 2, "{snapshot}");
    assert!(
        snapshot.contains("[heading] \"Cross heading\" [level=2]"),
        "{snapshot}"
    );
    assert_ne!(child_frame, child_input);
    // The cross-site frame really is out of process: it came through its own session.
    assert!(
        ws.daemon_log_tail()
            .contains("attached an out-of-process iframe"),
        "{}",
        ws.daemon_log_tail()
    );

    // Its console messages are the tab's.
    wait_until(
        "the cross-site frame's console line",
        Duration::from_secs(5),
        || ws.ok(&["console"]).contains("[log] cross frame says hi"),
    );

    // Refs inside each kind of frame act from the top: trusted clicks at the right point,
    // text typed into the right input.
    let top = site.top.url("/top.html");
    assert_eq!(
        ws.ok(&["click", &cross_button]),
        format!("Clicked {cross_button} → now at {top}\n")
    );
    logged(&ws, "cross clicked true");
    assert_eq!(
        ws.ok(&["fill", &cross_input, "over there"]),
        format!("Filled {cross_input}\n")
    );
    logged(&ws, "cross input over there");
    ws.ok(&["hover", &cross_button]);
    logged(&ws, "cross hovered");
    ws.ok(&["fill", &child_input, "next door"]);
    logged(&ws, "child input next door");
    ws.ok(&["click", &grand_button]);
    logged(&ws, "grand clicked true");
    ws.ok(&["click", &srcdoc_button]);
    logged(&ws, "srcdoc clicked true");

    // What covers a frame in the page above it is seen too: no click lands elsewhere.
    let (veiled, _) = ref_of(&snapshot, "[button] \"Veiled button\"");
    let error = ws.fails(&["click", &veiled]);
    assert!(
        error.starts_with(&format!(
            "Element {veiled} is covered: <div id=\"veil\"> intercepts pointer events"
        )),
        "{error}"
    );
    assert!(!ws.ok(&["text"]).contains("veiled clicked"));

    // `-i` keeps the frames' interactive nodes, at their depth.
    let interactive = ws.ok(&["snapshot", "-i"]);
    let (_, indent) = ref_of(&interactive, "[button] \"Grand button\"");
    assert_eq!(indent, 4, "{interactive}");
    let (cross_button, _) = ref_of(&interactive, "[button] \"Cross button\"");
    ws.ok(&["click", &cross_button]);
    wait_until("a second cross click", Duration::from_secs(5), || {
        ws.ok(&["text"])
            .lines()
            .filter(|l| *l == "cross clicked true")
            .count()
            == 2
    });
}

#[test]
fn frame_moves_text_html_js_and_selectors_into_a_frame_and_main_returns() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    let top = site.top.url("/top.html");
    let cross = Site::cross_url(&site.cross);
    ws.ok(&["goto", &top]);

    // Into the out-of-process frame by selector.
    assert_eq!(
        ws.ok(&["frame", "#cross"]),
        format!("Switched to frame: {cross}\n")
    );
    let text = ws.ok(&["text"]);
    assert!(text.contains("Cross heading"), "{text}");
    assert!(!text.contains("Top heading"), "{text}");
    assert_eq!(ws.ok(&["js", "document.title"]), "Cross page\n");
    assert!(ws.ok(&["html"]).contains("id=\"cross-btn\""));
    assert_eq!(ws.ok(&["html", "h2"]), "Cross heading\n");
    // Selectors resolve in the frame, and the click lands there.
    ws.ok(&["click", "#cross-btn"]);
    ws.ok(&["fill", "#cross-input", "typed in frame"]);
    // The snapshot is the frame's, headed as gstack heads it; its refs act in the frame.
    let snapshot = ws.ok(&["snapshot"]);
    assert_eq!(
        snapshot.lines().next(),
        Some(format!("[Context: iframe src=\"{cross}\"]").as_str()),
        "{snapshot}"
    );
    assert!(!snapshot.contains("Top heading"), "{snapshot}");
    let (button, indent) = ref_of(&snapshot, "[button] \"Cross button\"");
    assert_eq!(indent, 0, "{snapshot}");
    ws.ok(&["click", &button]);
    // Navigating from inside a frame, or replacing its document, is refused with gstack's
    // words and a hint.
    let refused = ws.fails(&["goto", &top]);
    assert!(
        refused.starts_with("Cannot use goto inside a frame. Run 'frame main' first.\n"),
        "{refused}"
    );
    assert!(refused.contains("'browse frame main'"), "{refused}");
    std::fs::write(
        ws.path().join("other.html"),
        "<title>Other</title><p>Other</p>",
    )
    .unwrap();
    let refused = ws.fails(&["load-html", "other.html"]);
    assert!(
        refused.starts_with("Cannot use load-html inside a frame. Run 'frame main' first.\n"),
        "{refused}"
    );
    assert_eq!(ws.ok(&["js", "document.title"]), "Cross page\n");
    assert_eq!(ws.ok(&["frame", "main"]), "Switched to main frame\n");
    assert_eq!(ws.ok(&["js", "document.title"]), "Top page\n");
    let log = ws.ok(&["text"]);
    assert_eq!(
        log.lines().filter(|l| *l == "cross clicked true").count(),
        2,
        "{log}"
    );
    assert!(
        log.lines().any(|l| l == "cross input typed in frame"),
        "{log}"
    );

    // By name, then one level further in by selector (looked up in the active frame).
    assert_eq!(
        ws.ok(&["frame", "--name", "childframe"]),
        format!("Switched to frame: {}\n", site.top.url("/child.html"))
    );
    assert_eq!(ws.ok(&["js", "document.title"]), "Child page\n");
    assert_eq!(
        ws.ok(&["frame", "#grand"]),
        format!("Switched to frame: {}\n", site.top.url("/grand.html"))
    );
    assert_eq!(ws.ok(&["js", "document.title"]), "Grand page\n");
    ws.ok(&["click", "text=Grand button"]);
    // By URL: two frames are about:srcdoc, and a pattern matching both is refused with the
    // list (Playwright's strictness; page.frame() took the first silently), leaving the
    // active frame as it was; a selector from the main frame then picks one.
    let error = ws.fails(&["frame", "--url", "srcdoc"]);
    assert!(
        error.starts_with("frame --url srcdoc matches 2 frames: about:srcdoc (name \"sd\"), about:srcdoc (name \"veiled\")\n"),
        "{error}"
    );
    assert!(error.contains("'browse frame <selector|@ref>'"), "{error}");
    assert_eq!(ws.ok(&["js", "document.title"]), "Grand page\n");
    ws.ok(&["frame", "main"]);
    assert_eq!(
        ws.ok(&["frame", "#sd"]),
        "Switched to frame: about:srcdoc\n"
    );
    ws.ok(&["click", "button"]);
    ws.ok(&["frame", "main"]);
    logged(&ws, "grand clicked true");
    logged(&ws, "srcdoc clicked true");

    // What is not a frame, or no frame at all.
    // gstack's line, then a hint saying what the element is and how to find the iframes.
    let error = ws.fails(&["frame", "h1"]);
    assert!(error.starts_with("Frame not found: h1\n"), "{error}");
    assert!(
        error.contains("h1 is a <h1>, not an <iframe>") && error.contains("browse snapshot"),
        "{error}"
    );
    let (heading, _) = ref_of(&ws.ok(&["snapshot"]), "[heading] \"Top heading\"");
    let error = ws.fails(&["frame", &heading]);
    assert!(
        error.starts_with(&format!(
            "Frame not found: {heading}\n{heading} is a <h1> [heading] \"Top heading\", \
             not an <iframe>."
        )),
        "{error}"
    );
    // No target at all is a usage error (exit 2, gstack's usage line), answered by the CLI.
    assert!(
        ws.usage_fails(&["frame"])
            .contains("Usage: frame <selector|@ref|--name name|--url pattern|main>"),
        "frame alone"
    );
    // An empty name or URL part is gstack's usage error (it matched every unnamed frame, or
    // every frame), and the active frame stays.
    ws.ok(&["frame", "#sd"]);
    assert_eq!(
        ws.fails(&["frame", "--name", ""]),
        "Usage: frame --name <name>\n"
    );
    assert_eq!(
        ws.fails(&["frame", "--url", ""]),
        "Usage: frame --url <pattern>\n"
    );
    assert_eq!(ws.ok(&["js", "location.href"]), "about:srcdoc\n");
    ws.ok(&["frame", "main"]);
    let error = ws.fails(&["frame", "--name", "nothing-here"]);
    assert!(
        error.starts_with("Frame not found: --name nothing-here\n"),
        "{error}"
    );

    // A main-frame navigation (here started from inside the frame) returns to the main frame.
    ws.ok(&["frame", "#child"]);
    ws.ok(&["js", "top.location.href = '/next.html'"]);
    let next = site.top.url("/next.html");
    wait_until("the top page navigated", Duration::from_secs(5), || {
        ws.ok(&["url"]) == format!("{next}\n")
    });
    assert_eq!(ws.ok(&["js", "location.href"]), format!("{next}\n"));
    assert!(!ws.ok(&["snapshot"]).contains("[Context:"));

    // A frame whose iframe is removed: the commands that act in it fail, saying so, rather
    // than acting in the main frame; `frame main` returns.
    ws.ok(&["goto", &top]);
    ws.ok(&["frame", "#child"]);
    // The script's own frame goes during the call: that one fails the same way, or (when its
    // answer came first) succeeds.
    let removal = ws.run(&["js", "parent.document.getElementById('child').remove(); 1"]);
    let said = String::from_utf8_lossy(&removal.stdout) + String::from_utf8_lossy(&removal.stderr);
    assert!(
        said == "1\n" || said.starts_with("The frame is gone (its iframe was removed"),
        "{said}"
    );
    for command in [
        &["js", "document.title"][..],
        &["text"],
        &["html"],
        &["snapshot"],
        &["click", "#child-input"],
        &["wait", "--text", "Top heading", "500"],
    ] {
        let error = ws.fails(command);
        assert!(
            error.starts_with("The frame is gone (its iframe was removed or navigated away)\n")
                && error.contains("browse frame main"),
            "{command:?}: {error}"
        );
    }
    assert_eq!(ws.ok(&["frame", "main"]), "Switched to main frame\n");
    assert_eq!(ws.ok(&["js", "document.title"]), "Top page\n");
}

#[test]
fn element_commands_and_waits_act_in_an_out_of_process_frame() {
    let _slot = chromium_slot();
    let site = Site::start();
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &site.top.url("/top.html")]);
    let in_cross = |expression: &str| {
        ws.ok(&["frame", "--url", "cross.html"]);
        let value = ws.ok(&["js", expression]);
        ws.ok(&["frame", "main"]);
        value
    };

    // By refs from the top: the calls on the element go to the frame's own session.
    let snapshot = ws.ok(&["snapshot", "-i"]);
    let (check, _) = ref_of(&snapshot, "[checkbox] \"Cross check\"");
    let (text, _) = ref_of(&snapshot, "[textbox] \"Cross text\"");
    let (link, _) = ref_of(&snapshot, "[link] \"Cross link\"");
    assert_eq!(ws.ok(&["check", &check]), format!("Checked {check}\n"));
    assert_eq!(in_cross("document.getElementById('xc').checked"), "true\n");
    ws.ok(&["snapshot", "-i"]);
    assert_eq!(ws.ok(&["uncheck", &check]), format!("Unchecked {check}\n"));
    assert_eq!(in_cross("document.getElementById('xc').checked"), "false\n");
    ws.ok(&["snapshot", "-i"]);
    assert_eq!(ws.ok(&["focus", &text]), format!("Focused {text}\n"));
    assert_eq!(in_cross("document.activeElement.id"), "xt\n");
    ws.ok(&["snapshot", "-i"]);
    let body = ws.ok(&["download", &link, "--base64"]);
    // "<!DOCTYPE html>" in base64: the cross-site page the link points at.
    assert!(body.contains(";base64,PCFET0NUWVBFIGh0bWw+"), "{body}");

    // By selectors inside the frame.
    ws.ok(&["frame", "--url", "cross.html"]);
    assert_eq!(ws.ok(&["check", "#xc"]), "Checked #xc\n");
    assert_eq!(ws.ok(&["focus", "#xt"]), "Focused #xt\n");
    assert_eq!(
        ws.ok(&[
            "js",
            "document.getElementById('xc').checked + ' ' + document.activeElement.id"
        ]),
        "true xt\n"
    );

    // `wait --text` and `wait --fn` look at the active frame, as `text` and `js` do.
    ws.ok(&["wait", "--text", "Cross heading", "3000"]);
    ws.ok(&["wait", "--fn", "document.title === 'Cross page'", "3000"]);
    ws.fails(&["wait", "--text", "Top heading", "300"]);
    ws.fails(&["wait", "--fn", "document.title === 'Top page'", "300"]);
    ws.ok(&["frame", "main"]);
    ws.ok(&["wait", "--text", "Top heading", "3000"]);
    ws.fails(&["wait", "--text", "Cross heading", "300"]);
}

#[test]
fn a_stuck_script_in_an_out_of_process_frame_is_stopped() {
    let _slot = chromium_slot();
    let site = Site::start();
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_HANG_CHECK", "300");
    ws.ok(&["goto", &site.top.url("/top.html")]);
    ws.ok(&["frame", "#cross"]);
    // The endless loop runs in the cross-site frame's renderer: the watchdog must probe that
    // one, not the top page's (which keeps answering), or the command waits out its limit.
    let error = ws.fails(&["js", "while (true) {}"]);
    assert!(
        error.starts_with("The page's JavaScript was stuck (an endless loop?) and was stopped"),
        "{error}"
    );
    assert_eq!(ws.ok(&["js", "document.title"]), "Cross page\n");
}

/// A cross-site frame whose page script never yields: its renderer answers nothing.
const HUNG: &str = r#"<!DOCTYPE html><html><head><title>Hung page</title></head><body>
<p>Hung text</p>
<script>addEventListener('load', () => setTimeout(() => { for (;;) {} }, 0));</script>
</body></html>"#;

#[test]
fn a_hung_out_of_process_frame_is_left_out_quickly_and_named_on_stderr() {
    let _slot = chromium_slot();
    let hung = PageServer::start(&[("/hung.html", HUNG)]);
    let hung_url = hung.url("/hung.html").replace("127.0.0.1", "localhost");
    let top = PageServer::start(&[(
        "/top.html",
        &format!(
            "<!DOCTYPE html><html><body><h1>Top heading</h1>\
             <iframe id=\"hung\" src=\"{hung_url}\" onload=\"document.title = 'loaded'\"></iframe>\
             <p>After frame</p></body></html>"
        ),
    )]);
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_FRAME_TIMEOUT", "500");
    ws.ok(&["goto", &top.url("/top.html")]);
    // The frame's page has loaded (and then stuck) before the snapshot looks at it.
    wait_until("the hung frame's load", Duration::from_secs(10), || {
        ws.ok(&["js", "document.title"]) == "loaded\n"
    });
    let began = std::time::Instant::now();
    let out = ws.run(&["snapshot"]);
    let took = began.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(took < Duration::from_secs(5), "snapshot took {took:?}");
    assert!(text.contains("\"Top heading\""), "{text}");
    assert!(text.contains("After frame"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_end().ends_with("[iframe]")),
        "{text}"
    );
    let note = stderr(&out);
    assert!(
        note.contains("did not answer within 500ms") && note.contains(&hung_url),
        "stderr: {note}"
    );
    // The next snapshot does not wait the whole limit for it again.
    let out = ws.run(&["snapshot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let note = stderr(&out);
    assert!(
        note.contains("still does not answer") && note.contains(&hung_url),
        "stderr: {note}"
    );
}

#[test]
fn frame_on_a_selector_that_matches_nothing_says_frame_not_found_with_a_hint() {
    let _slot = chromium_slot();
    let site = Site::start();
    let mut ws = Workspace::with_chromium();
    // The timeout errors below come after BROWSE_ACTION_TIMEOUT, not gstack's 5 s.
    ws.set("BROWSE_ACTION_TIMEOUT", "2000");
    ws.ok(&["goto", &site.top.url("/top.html")]);
    let error = ws.fails(&["frame", "#nope"]);
    assert!(
        error.starts_with("Frame not found: #nope (nothing matched it within"),
        "{error}"
    );
    assert!(
        error.contains("browse snapshot") && error.contains("--name"),
        "{error}"
    );
    // From inside a frame, the page's other iframe is not found there (the selector is
    // looked up in the current frame), and the hint says how to reach it.
    ws.ok(&["frame", "#cross"]);
    let error = ws.fails(&["frame", "#child"]);
    assert!(
        error
            .starts_with("Frame not found: #child (nothing matched it in the current frame within"),
        "{error}"
    );
    assert!(error.contains("'browse frame main' first"), "{error}");
    ws.ok(&["frame", "main"]);
    ws.ok(&["frame", "#child"]);
}

/// A cross-site frame whose window stops every press event at capture, before any listener
/// of browse's (the checkbox still toggles: that is the press's default action), and a button
/// that navigates the frame away on its mousedown.
const GUARDED: &str = r#"<!DOCTYPE html><html><head><title>Guarded page</title></head><body>
<script>
addEventListener('mousedown', (e) => { if (e.target.id === 'away') location.href = '/gone.html'; }, true);
for (const type of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click']) {
  addEventListener(type, (e) => e.stopImmediatePropagation(), true);
}
</script>
<input type="checkbox" id="gc" aria-label="Guarded check">
<button id="away">Away</button>
</body></html>"#;

#[test]
fn a_click_that_reached_an_out_of_process_frame_is_reported_done_whatever_the_frame_does_with_it() {
    let _slot = chromium_slot();
    let cross = PageServer::start(&[
        ("/guarded.html", GUARDED),
        (
            "/gone.html",
            "<!DOCTYPE html><html><body><p>Gone page</p></body></html>",
        ),
    ]);
    let url = cross.url("/guarded.html").replace("127.0.0.1", "localhost");
    let top = PageServer::start(&[(
        "/top.html",
        &format!(
            "<!DOCTYPE html><html><body><iframe id=\"g\" src=\"{url}\"></iframe></body></html>"
        ),
    )]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &top.url("/top.html")]);
    ws.ok(&["frame", "#g"]);
    // The page's own capture listener keeps the events from browse's listener, not from the
    // frame: the box is checked, so 'nothing was clicked' (old code) was false, and a retry
    // would have unchecked it.
    assert_eq!(ws.ok(&["check", "#gc"]), "Checked #gc\n");
    assert_eq!(
        ws.ok(&["js", "document.getElementById('gc').checked"]),
        "true\n"
    );
    // The press navigated the frame: the click acted (old code: 'Runtime.callFunctionOn:
    // Cannot find context with specified id', exit 1).
    let out = ws.ok(&["click", "#away"]);
    assert!(out.starts_with("Clicked #away"), "{out}");
    wait_until("the frame's navigation", Duration::from_secs(5), || {
        ws.ok(&["js", "location.pathname"]) == "/gone.html\n"
    });
}

#[test]
fn a_pointer_action_into_an_out_of_process_frame_that_never_renders_fails_within_its_timeout() {
    let _slot = chromium_slot();
    // A stylesheet whose server never answers (the kernel's backlog takes the connection):
    // the frame's document is parsed, its button laid out, but it never renders, so its
    // animation frames never come and the browser has no hit-test data to route a click by.
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind held server");
    let sheet = format!("http://{}/never.css", held.local_addr().expect("addr"));
    let blocked = format!(
        "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"{sheet}\"></head><body>\
         <button id=\"b\" onclick=\"window.clicked = true\">Blocked</button></body></html>"
    );
    let cross = PageServer::start(&[("/blocked.html", &blocked)]);
    let url = cross.url("/blocked.html").replace("127.0.0.1", "localhost");
    let top = PageServer::start(&[(
        "/top.html",
        &format!(
            "<!DOCTYPE html><html><body><iframe id=\"f\" src=\"{url}\"></iframe></body></html>"
        ),
    )]);
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_ACTION_TIMEOUT", "1500");
    ws.ok(&["goto", &top.url("/top.html")]);
    ws.ok(&["frame", "#f"]);
    // Old code: the command waited for an animation frame for Chromium's 15 s call limit,
    // then said 'Runtime.callFunctionOn: Chromium did not answer within 15s'.
    for (verb, done) in [("click", "clicked"), ("hover", "hovered")] {
        let error = ws.fails(&[verb, "#b"]);
        assert!(
            error.starts_with(&format!(
                "#b is in an out-of-process frame that has not drawn anything within 1500ms, \
                 so the mouse cannot reach it: nothing was {done}\n"
            )),
            "{verb}: {error}"
        );
        assert!(error.contains("stylesheet"), "{error}");
    }
    assert_eq!(ws.ok(&["js", "String(window.clicked)"]), "undefined\n");
    drop(held);
}

#[test]
fn a_click_by_ref_whose_listener_in_an_out_of_process_frame_never_returns_is_stopped() {
    let _slot = chromium_slot();
    let cross = PageServer::start(&[(
        "/loop.html",
        "<button id=\"b\" onmousedown=\"document.title = 'pressed'; for (;;) {}\">Loop</button>",
    )]);
    let url = cross.url("/loop.html").replace("127.0.0.1", "localhost");
    let top = PageServer::start(&[(
        "/top.html",
        &format!(
            "<!DOCTYPE html><html><body><iframe id=\"f\" src=\"{url}\"></iframe></body></html>"
        ),
    )]);
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_HANG_CHECK", "300");
    ws.ok(&["goto", &top.url("/top.html")]);
    let (button, _) = ref_of(&ws.ok(&["snapshot", "-i"]), "[button] \"Loop\"");
    // The watchdog watched the active frame (the top page), which kept answering: the click
    // waited until the CLI gave up ('Command timed out after 30s', old code).
    let out = ws.run(&["click", &button]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with(&format!("Clicked {button}")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stderr(&out),
        format!(
            "[browse] the JavaScript of {button}'s frame was stuck (an endless loop?) and was \
             stopped: the frame may be half-updated\n"
        )
    );
    ws.ok(&["frame", "#f"]);
    assert_eq!(ws.ok(&["js", "document.title"]), "pressed\n");
}

/// A frame covered by another `<iframe>` (scaled over it) is covered like by any element:
/// the mouse would land in the iframe on top, so `click` and `hover` of an element in the
/// frame below fail with what covers it and send no event (they clicked the frame on top
/// and said they had clicked the element below). Same-process and cross-site frames below.
#[test]
fn a_frame_under_another_iframe_is_covered() {
    let _slot = chromium_slot();
    const BIG: &str = "<!DOCTYPE html><html><body style=\"margin: 0\">\
        <button id=\"big\" style=\"width: 400px; height: 200px\" \
        onclick=\"this.textContent = 'BIG CLICKED ' + (++window.n || (window.n = 1))\">Big</button>\
        </body></html>";
    const BELOW: &str = "<!DOCTYPE html><html><body><button id=\"press\" \
        onclick=\"this.textContent = 'pressed'\">Press me</button></body></html>";
    let cross = PageServer::start(&[("/below.html", BELOW)]);
    let cross_below = cross.url("/below.html").replace("127.0.0.1", "localhost");
    for below in ["/below.html".to_owned(), cross_below] {
        let top = format!(
            "<!DOCTYPE html><html><body style=\"margin: 0\">\
             <iframe id=\"g\" src=\"{below}\" width=\"400\" height=\"200\" \
             style=\"position: absolute; left: 0; top: 0; border: 0\"></iframe>\
             <iframe id=\"f\" src=\"/big.html\" width=\"400\" height=\"200\" \
             style=\"position: absolute; left: 0; top: 0; border: 0; transform: scale(1.5); \
             transform-origin: 0 0\"></iframe></body></html>"
        );
        let pages = PageServer::start(&[
            ("/top.html", &top),
            ("/big.html", BIG),
            ("/below.html", BELOW),
        ]);
        let mut ws = Workspace::with_chromium();
        ws.set("BROWSE_ACTION_TIMEOUT", "1500");
        ws.ok(&["goto", &pages.url("/top.html")]);
        let snapshot = ws.ok(&["snapshot", "-i"]);
        let (press, _) = ref_of(&snapshot, "[button] \"Press me\"");
        for verb in ["click", "hover"] {
            let error = ws.fails(&[verb, &press]);
            assert!(
                error.starts_with(&format!(
                    "Element {press} is covered: <iframe id=\"f\"> intercepts pointer events"
                )),
                "{below} {verb}: {error}"
            );
        }
        let now = ws.ok(&["snapshot", "-i"]);
        assert!(
            now.contains("[button] \"Big\"") && now.contains("[button] \"Press me\""),
            "{below}: an element was clicked: {now}"
        );
    }
}
