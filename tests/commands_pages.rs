//! End-to-end checks on page shapes that made `browse` act on the wrong thing (issue 9, items
//! 1-5): text that is never rendered, shadow DOM (open, nested and closed), popups and new
//! windows, the default viewport of every tab, and back/forward without the page cache.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// The ref `snapshot -i` gave the line `@eN [role] "name"`.
fn ref_for(snapshot: &str, role: &str, name: &str) -> String {
    let wanted = format!("[{role}] \"{name}\"");
    snapshot
        .lines()
        .find(|l| l.contains(&wanted))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no ref for {wanted} in:\n{snapshot}"))
}

const UNRENDERED: &str = r#"<html><head><title>Head phrase</title>
<style>/* Style phrase */ .x { color: red }</style></head>
<body><div id="wrap" class="parent">
<p id="words" class="shown">Visible words<script>var s = "Script phrase";</script></p>
<noscript>Noscript phrase</noscript>
<template><b>Template phrase</b></template>
<style>/* Body style phrase */</style>
<form><fieldset><input id="send" type="submit" value="Send it"></fieldset></form>
</div></body></html>"#;

/// Text inside script, style, noscript, template and head is not rendered, so `text=` never
/// matches it (Playwright's text engine skips it too): no parent is picked in its place, and an
/// exact match is not spoilt by a script inside the element.
#[test]
fn text_selectors_ignore_text_that_is_not_rendered() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/u.html", UNRENDERED)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/u.html")]);
    for phrase in [
        "Script phrase",
        "Style phrase",
        "Body style phrase",
        "Noscript phrase",
        "Template phrase",
        "Head phrase",
    ] {
        let sel = format!("text={phrase}");
        assert_eq!(
            ws.ok(&["attrs", &sel]),
            format!("Element not found: {sel}\n"),
            "{phrase}"
        );
        assert_eq!(ws.ok(&["is", "visible", &sel]), "false\n", "{phrase}");
    }
    assert!(ws
        .ok(&["attrs", "text=\"Visible words\""])
        .contains("\"id\": \"words\""));
    assert!(ws
        .ok(&["attrs", "text=/^visible words$/i"])
        .contains("\"id\": \"words\""));
    // A button-like input's text is its value, which `textContent` above it does not hold.
    assert!(ws
        .ok(&["attrs", "text=send it"])
        .contains("\"id\": \"send\""));
    assert!(ws
        .ok(&["attrs", "text=\"Send it\""])
        .contains("\"id\": \"send\""));
    let err = ws.fails(&["click", "text=Script phrase"]);
    assert!(err.contains("not found or not interactable"), "{err}");
}

const SHADOW: &str = r##"<html><body>
<h1>Shadow page</h1>
<div id="host"></div>
<div id="closed-host"></div>
<script>
window.log = [];
const open = document.getElementById('host').attachShadow({ mode: 'open' });
open.innerHTML = '<button id="inner" onclick="log.push(\'inner\')">Shadow button</button>'
  + '<div class="panel"><div id="nested-host"></div></div>';
const nested = open.getElementById('nested-host').attachShadow({ mode: 'open' });
nested.innerHTML = '<input id="deep" aria-label="Deep field">'
  + '<span class="tag" onclick="log.push(\'nested\')">Nested ✓ text — ünïcödé</span>';
const closed = document.getElementById('closed-host').attachShadow({ mode: 'closed' });
closed.innerHTML = '<button onclick="log.push(\'closed\')">Closed button</button>'
  + '<a href="#done" onclick="log.push(\'closed-link\')">Closed link 🔒</a>';
</script>
</body></html>"##;

/// CSS and `text=` reach into open shadow roots (nested ones too, and across host boundaries
/// with descendant combinators) as Playwright's engines do, and every ref the snapshot prints,
/// closed shadow roots included, can be acted on.
#[test]
fn selectors_pierce_open_shadow_roots_and_every_ref_acts() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/s.html", SHADOW)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/s.html")]);
    let log = || ws.ok(&["js", "log.join(',')"]);

    ws.ok(&["click", "#inner"]);
    assert_eq!(log(), "inner\n");
    ws.ok(&["click", "text=Shadow button"]);
    assert_eq!(log(), "inner,inner\n");
    ws.ok(&["click", "#host .panel .tag"]);
    assert_eq!(log(), "inner,inner,nested\n");
    ws.ok(&["click", "text=\"Nested ✓ text — ünïcödé\""]);
    assert_eq!(log(), "inner,inner,nested,nested\n");
    ws.ok(&["fill", "#deep", "typed déjà"]);
    assert_eq!(
        ws.ok(&[
            "js",
            "host.shadowRoot.getElementById('nested-host').shadowRoot.getElementById('deep').value"
        ]),
        "typed déjà\n"
    );
    assert_eq!(ws.ok(&["is", "visible", "#deep"]), "true\n");
    assert!(ws.ok(&["attrs", "span.tag"]).contains("\"class\": \"tag\""));
    // Descendant and child combinators cross from a host into its shadow tree.
    assert!(ws
        .ok(&["attrs", "div#host > .panel #nested-host > span.tag"])
        .contains("\"class\": \"tag\""));
    assert!(ws
        .ok(&["attrs", "body > #host > #inner"])
        .contains("\"id\": \"inner\""));
    assert_eq!(
        ws.ok(&["attrs", "#host > #deep"]),
        "Element not found: #host > #deep\n"
    );
    // XPath does not pierce (nor does Playwright's); a miss is still a plain miss.
    assert_eq!(
        ws.ok(&["attrs", "//button[@id='inner']"]),
        "Element not found: //button[@id='inner']\n"
    );

    let snapshot = ws.ok(&["snapshot", "-i"]);
    let closed_button = ref_for(&snapshot, "button", "Closed button");
    ws.ok(&["click", &closed_button]);
    assert_eq!(log(), "inner,inner,nested,nested,closed\n");
    let closed_link = ref_for(&snapshot, "link", "Closed link 🔒");
    ws.ok(&["click", &closed_link]);
    assert_eq!(log(), "inner,inner,nested,nested,closed,closed-link\n");
    let snapshot = ws.ok(&["snapshot", "-i"]);
    let deep = ref_for(&snapshot, "textbox", "Deep field");
    ws.ok(&["fill", &deep, "by ref"]);
    ws.ok(&["hover", &ref_for(&snapshot, "button", "Shadow button")]);
    assert_eq!(
        ws.ok(&[
            "js",
            "host.shadowRoot.getElementById('nested-host').shadowRoot.getElementById('deep').value"
        ]),
        "by ref\n"
    );
}

const OPENER: &str = r#"<html><head><title>Opener</title></head><body>
<a id="blank" href="/popup.html" target="_blank">new window link</a>
<button id="open" onclick="window.open('/second.html')">open</button>
<button id="count" onclick="window.clicks = (window.clicks || 0) + 1">count</button>
<form action="/posted.html" method="post" target="_blank">
<input name="q" value="x"><button id="post">post</button></form>
</body></html>"#;

/// The titles of the tabs `tabs` lists, in order, the active one marked with `→`.
fn tab_titles(ws: &Workspace) -> Vec<String> {
    ws.ok(&["tabs"])
        .lines()
        .map(|l| l.split(" — ").next().unwrap_or_default().to_owned())
        .collect()
}

/// The opener page and the pages it opens.
fn opener_site() -> PageServer {
    PageServer::start(&[
        ("/opener.html", OPENER),
        (
            "/popup.html",
            "<html><head><title>Popup</title></head><body>popup body</body></html>",
        ),
        (
            "/second.html",
            "<html><head><title>Second</title></head><body>second body</body></html>",
        ),
        (
            "/posted.html",
            "<html><head><title>Posted</title></head><body>posted body</body></html>",
        ),
    ])
}

/// Pages the page opens (`target=_blank` links and forms, `window.open`) become tabs, the
/// newest active (gstack's rule for pages it adopts), and no tab is throttled as hidden: the
/// opener stays `visible`, a click on it is fast and animation frames still run.
#[test]
fn popups_become_tabs_and_no_tab_is_throttled() {
    let _slot = chromium_slot();
    let pages = opener_site();
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/opener.html")]);

    ws.ok(&["click", "#blank"]);
    assert_eq!(tab_titles(&ws), ["  [1] Opener", "→ [2] Popup"]);
    assert_eq!(ws.ok(&["text"]), "popup body\n");
    assert_eq!(
        ws.ok(&["js", "innerWidth + 'x' + innerHeight"]),
        "1280x720\n"
    );

    ws.ok(&["--tab-id", "1", "click", "#open"]);
    assert_eq!(
        tab_titles(&ws),
        ["  [1] Opener", "  [2] Popup", "→ [3] Second"]
    );
    ws.ok(&["--tab-id", "1", "click", "#post"]);
    assert_eq!(ws.ok(&["url"]), format!("{}\n", pages.url("/posted.html")));
    assert_eq!(ws.ok(&["text"]), "posted body\n");

    // The opener is behind three tabs and still not throttled.
    assert_eq!(
        ws.ok(&["--tab-id", "1", "js", "document.visibilityState"]),
        "visible\n"
    );
    let began = Instant::now();
    for _ in 0..3 {
        ws.ok(&["--tab-id", "1", "click", "#count"]);
    }
    // Throttled, each took 5.5 s; the bound leaves room for a loaded machine.
    let took = began.elapsed();
    assert!(took < Duration::from_secs(6), "3 clicks took {took:?}");
    assert_eq!(ws.ok(&["--tab-id", "1", "js", "window.clicks"]), "3\n");
    let began = Instant::now();
    assert_eq!(
        ws.ok(&[
            "--tab-id",
            "1",
            "js",
            "await new Promise(r => requestAnimationFrame(() => r('frame')))"
        ]),
        "frame\n"
    );
    // Throttled, the frame never came and the script was stopped after 10 s.
    assert!(began.elapsed() < Duration::from_secs(5));
    let shot = ws.path().join("opener.png");
    ws.ok(&[
        "--tab-id",
        "1",
        "screenshot",
        "--viewport",
        &shot.display().to_string(),
    ]);
    // Behind its popup, the capture never answered (15 s).
    assert!(began.elapsed() < Duration::from_secs(10));

    // A page that closes itself leaves the table; the last tab becomes active. The command
    // that closed it answers at once (it waited 15 s for a page that was gone).
    let began = Instant::now();
    ws.run(&["--tab-id", "3", "js", "window.close()"]);
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );
    wait_until(
        "the closed popup leaves `tabs`",
        Duration::from_secs(10),
        || tab_titles(&ws).len() == 3,
    );
    ws.ok(&["closetab", "4"]);
    assert_eq!(tab_titles(&ws), ["  [1] Opener", "→ [2] Popup"]);
}

/// A command whose page opened a tab says so on stderr, naming the tab and that later
/// commands act there: its own line ("Clicked … → now at <opener>") names the page it ran
/// on, and without the note the next `snapshot` or `click` silently acted on the popup.
/// stdout keeps gstack's line; a command that opens nothing says nothing.
#[test]
fn a_command_that_opens_a_tab_says_so() {
    let _slot = chromium_slot();
    let pages = opener_site();
    let ws = Workspace::with_chromium();
    let opener = pages.url("/opener.html");
    ws.ok(&["goto", &opener]);

    let out = ws.run(&["click", "#blank"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("Clicked #blank → now at {opener}\n"));
    assert_eq!(
        stderr(&out),
        format!(
            "[browse] a page opened a tab while click ran: [2] {}; tab 2 is now the active \
             tab, where later commands act ('browse tab 1' goes back)\n",
            pages.url("/popup.html")
        )
    );
    assert_eq!(ws.ok(&["text"]), "popup body\n");

    ws.ok(&["tab", "1"]);
    let out = ws.run(&["click", "#count"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "a click that opens nothing has no note");

    // Any command: a script's window.open, in --json mode (stdout stays one JSON object).
    let out = ws.run(&["--json", "js", "window.open('/second.html'); 'opened'"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\"command\":\"js\",\"ok\":true,\"result\":\"opened\"}\n"
    );
    assert!(
        stderr(&out).contains(&format!(
            "a page opened a tab while js ran: [3] {}; tab 3 is now the active tab",
            pages.url("/second.html")
        )),
        "{}",
        stderr(&out)
    );
    // The tab `--tab-id` pins is no "going back" either: it stays where it was.
    let out = ws.run(&["--tab-id", "1", "click", "#open"]);
    assert!(
        stderr(&out).contains("a page opened a tab while click ran: [4] ")
            && stderr(&out).contains("tab 4 is now the active tab")
            && stderr(&out).contains("('browse tab 3' goes back)"),
        "{}",
        stderr(&out)
    );
}

/// Every tab starts at gstack's 1280x720: the first page of a fresh daemon and a `newtab`.
#[test]
fn every_tab_starts_at_1280_by_720() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    let size = "innerWidth + 'x' + innerHeight + ' @' + devicePixelRatio";
    assert_eq!(ws.ok(&["js", size]), "1280x720 @1\n");
    ws.ok(&["newtab"]);
    assert_eq!(ws.ok(&["js", size]), "1280x720 @1\n");
    ws.ok(&["viewport", "800x600"]);
    ws.ok(&["newtab"]);
    assert_eq!(ws.ok(&["js", size]), "800x600 @1\n");
}

const HISTORY_A: &str = r#"<html><head><title>A</title></head><body>
<p id="state">fresh</p>
<button id="change" onclick="document.getElementById('state').textContent = 'changed'">change</button>
<a id="next" href="/b.html">next</a>
<script>addEventListener('pageshow', (e) => { if (e.persisted) document.title = 'A from cache'; });</script>
</body></html>"#;

/// `back` and `forward` load the page again rather than restore it from the back-forward
/// cache (Playwright launches Chromium with that cache off): no stale DOM state.
#[test]
fn back_and_forward_load_the_page_again() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[
        ("/a.html", HISTORY_A),
        (
            "/b.html",
            "<html><head><title>B</title></head><body><p id=\"state\">b</p></body></html>",
        ),
    ]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/a.html")]);
    ws.ok(&["click", "#change"]);
    assert_eq!(ws.ok(&["js", "state.textContent"]), "changed\n");
    ws.ok(&["click", "#next"]);
    assert_eq!(ws.ok(&["js", "document.title"]), "B\n");
    assert_eq!(
        ws.ok(&["back"]),
        format!("Back → {}\n", pages.url("/a.html"))
    );
    assert_eq!(ws.ok(&["js", "state.textContent"]), "fresh\n");
    assert_eq!(ws.ok(&["js", "document.title"]), "A\n");
    ws.ok(&["forward"]);
    assert_eq!(ws.ok(&["js", "document.title"]), "B\n");
}

const SHAPES: &str = r##"<html><head><meta charset="utf-8"><title>Shapes ✨ 𝒰𝓃𝒾 — עברית</title></head><body>
<x-card id="card"><button onclick="log.push('slotted')">Slotted button</button></x-card>
<button onclick="log.push('nbsp')">Save&nbsp;draft</button>
<button onclick="log.push('zw')">Zero&#8203;width</button>
<button id="sized" onclick="window.open('/second.html', 'pop', 'width=400,height=300')">Popup window</button>
<button id="written" onclick="const w = window.open(''); w.document.write('<title>Written</title><p>written body</p>'); w.document.close();">write</button>
<script>
window.log = [];
document.getElementById('card').attachShadow({ mode: 'open' }).innerHTML =
  '<div class="frame"><b>Card:</b> <slot></slot></div>';
</script></body></html>"##;

/// More shapes of the same kinds: light DOM slotted into a shadow tree, labels with a
/// no-break or zero-width space, a title in several scripts, a sized popup window that closes
/// itself, and a blank popup written by its opener.
#[test]
fn more_page_shapes_slots_odd_labels_and_popup_windows() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[
        ("/shapes.html", SHAPES),
        (
            "/second.html",
            "<html><head><title>Second</title></head><body>second body</body></html>",
        ),
    ]);
    let ws = Workspace::with_chromium();
    let shapes = pages.url("/shapes.html");
    ws.ok(&["goto", &shapes]);
    ws.ok(&["click", "text=Slotted button"]);
    ws.ok(&["click", "#card button"]);
    ws.ok(&["click", "text=save draft"]);
    ws.ok(&["click", "text=\"Zero\u{200b}width\""]);
    assert_eq!(ws.ok(&["js", "log.join()"]), "slotted,slotted,nbsp,zw\n");
    assert!(ws
        .ok(&["snapshot", "-s", "#card"])
        .contains("\"Slotted button\""));

    ws.ok(&["click", "#sized"]);
    assert_eq!(
        ws.ok(&["tabs"]),
        format!(
            "  [1] Shapes ✨ 𝒰𝓃𝒾 — עברית — {shapes}\n→ [2] Second — {}\n",
            pages.url("/second.html")
        )
    );
    assert_eq!(
        ws.ok(&["js", "innerWidth + 'x' + innerHeight"]),
        "1280x720\n"
    );
    ws.ok(&["js", "window.close()"]);
    wait_until(
        "the popup that closed itself is gone",
        Duration::from_secs(10),
        || ws.ok(&["tabs"]) == format!("→ [1] Shapes ✨ 𝒰𝓃𝒾 — עברית — {shapes}\n"),
    );

    ws.ok(&["click", "#written"]);
    assert_eq!(ws.ok(&["text"]), "written body\n");
    assert_eq!(tab_titles(&ws), ["  [1] Shapes ✨ 𝒰𝓃𝒾", "→ [3] Written"]);
}
