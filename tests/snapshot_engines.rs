//! The two snapshot engines agree byte for byte: every fixture page snapshotted through
//! `Accessibility.getFullAXTree` (`BROWSE_SNAPSHOT_ENGINE=ax`) and through the in-page engine
//! (`=page`) prints the same `snapshot`, `-i`, `-c`, `-C` and `-ic`; the pages the in-page
//! engine does not model are declined (it says why) and the default engine falls back to the
//! accessibility tree for them, with the same output; refs from the in-page engine click and
//! fill the elements they name.

mod common;

use common::*;

const FLAGS: &[&[&str]] = &[&[], &["-i"], &["-c"], &["-C"], &["-ic"]];

/// Pages the in-page engine models: a decline here would make the comparison vacuous, so the
/// `page` workspace must snapshot them itself.
fn modelled_pages() -> Vec<(&'static str, String)> {
    let mut pages = vec![
        (
            "/forms.html",
            include_str!("fixtures/snapshot_engines/forms.html").to_owned(),
        ),
        (
            "/text.html",
            include_str!("fixtures/snapshot_engines/text.html").to_owned(),
        ),
        (
            "/lists_tables.html",
            include_str!("fixtures/snapshot_engines/lists_tables.html").to_owned(),
        ),
        (
            "/shadow.html",
            include_str!("fixtures/snapshot_engines/shadow.html").to_owned(),
        ),
        (
            "/cursor.html",
            include_str!("fixtures/snapshot_engines/cursor.html").to_owned(),
        ),
        // A page that lies through the DOM builtins: the engine runs in an isolated world.
        (
            "/lies.html",
            "<!DOCTYPE html><html><body><input aria-label=\"Real name\"><button>Real</button>\
             <script>Element.prototype.getAttribute = function () { return 'lie'; };\
             Element.prototype.getAttributeNames = function () { return []; };</script>\
             </body></html>"
                .to_owned(),
        ),
    ];
    // scripts/bench_peers.py's big page: a layout table under 20 rows, a data table from 20.
    for rows in [3, 19, 20, 60] {
        let body: String = (0..rows)
            .map(|i| {
                format!(
                    "<tr><td>{i}</td><td><input type=checkbox aria-label='pick {i}'></td>\
                     <td><input aria-label='qty {i}' value='{}'></td><td><button>Edit {i}</button></td></tr>",
                    i % 7
                )
            })
            .collect();
        let path: &'static str = Box::leak(format!("/big{rows}.html").into_boxed_str());
        pages.push((
            path,
            format!("<!DOCTYPE html><html><head><title>big</title></head><body><h1>Rows</h1><table>{body}</table></body></html>"),
        ));
        // The same table with author CSS that sets no property the engine checks (a data
        // table: borders make a small layout table's status Chromium's guess, declined).
        if rows < 20 {
            continue;
        }
        let path: &'static str = Box::leak(format!("/big{rows}_css.html").into_boxed_str());
        pages.push((
            path,
            format!("<!DOCTYPE html><html><head><title>big</title><style>td {{ padding: 2px 6px; \
                     border: 1px solid #ccc }} input {{ width: 6em }} table {{ border-collapse: \
                     collapse }}</style></head><body><h1>Rows</h1><table>{body}</table></body></html>"),
        ));
    }
    pages
}

/// Pages the in-page engine must decline, with a word of the reason it gives.
const DECLINED: &[(&str, &str, &str)] = &[
    (
        "/labelledby.html",
        r#"<p><span id="l">Labelled</span><input aria-labelledby="l"></p>"#,
        "aria-labelledby",
    ),
    (
        "/hidden.html",
        r#"<div aria-hidden="true"><button>Hidden</button></div><button>Shown</button>"#,
        "aria-hidden",
    ),
    (
        "/role.html",
        r#"<div role="button" tabindex="0">Fake</div>"#,
        "role",
    ),
    (
        "/details.html",
        r#"<details><summary>More</summary>Inside</details>"#,
        "details",
    ),
    (
        "/dialog.html",
        r#"<dialog open>Text <button>OK</button></dialog>"#,
        "dialog",
    ),
    (
        "/iframe.html",
        r#"<p>Outer</p><iframe srcdoc="<button>In frame</button>"></iframe>"#,
        "iframe",
    ),
    (
        "/svg.html",
        r#"<button><svg width="10" height="10"><rect width="10" height="10"/></svg></button>"#,
        "non-HTML",
    ),
    (
        "/generated.html",
        r#"<style>.req::after { content: " *"; }</style><label class="req" for="n">Name</label><input id="n">"#,
        "generated content",
    ),
    (
        "/transform.html",
        r#"<p style="text-transform: uppercase">shouted</p>"#,
        "text-transform",
    ),
    (
        "/visibility.html",
        r#"<div style="visibility:hidden">gone <span style="visibility:visible">back</span></div>"#,
        "visibility",
    ),
    (
        "/closed_light.html",
        r#"<div id="h"><p>light hidden by a closed root</p></div>
<script>document.getElementById('h').attachShadow({mode: 'closed'}).innerHTML = '<button>Inside</button>';</script>"#,
        "not rendered",
    ),
    (
        "/closed_empty.html",
        r#"<p>before</p><div id="e"></div>
<script>document.getElementById('e').attachShadow({mode: 'closed'}).innerHTML = '<button>Only closed</button>';</script>"#,
        "closed shadow",
    ),
    (
        // An empty body with a box could be a closed shadow root's host.
        "/empty.html",
        "<html><body>  \n  </body></html>",
        "closed shadow",
    ),
    (
        "/small_bordered_table.html",
        r#"<table style="border-collapse:collapse"><tr><td style="border:1px solid">a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"#,
        "borders",
    ),
    (
        "/listener.html",
        r#"<p>a<span id="s">b</span>c</p><script>document.getElementById('s').addEventListener('click', () => {});</script>"#,
        "event listeners",
    ),
    (
        "/label_inline.html",
        r#"<label><input type="checkbox"> I <b>agree</b></label>"#,
        "inside a label",
    ),
    // A style element shown by author CSS: Chromium's tree holds its text.
    (
        "/style_shown.html",
        r#"<p>before</p><style style="display:block">p { color: black }</style><p>after</p>"#,
        "<style> laid out",
    ),
    // The engine reads a control's `:disabled` from its own attribute: a disabled fieldset
    // ancestor, the other way, must keep declining.
    (
        "/fieldset.html",
        r#"<fieldset disabled><button>Off</button><input aria-label="off"></fieldset>"#,
        "fieldset",
    ),
];

/// Pages where the default engine once printed a wrong line: whether the in-page engine models
/// them (`None`) or declines them (a word of the reason), the default engine must print what
/// the accessibility tree prints.
const AGREE: &[(&str, &str, Option<&str>)] = &[
    // Name from content over an embedded control with an empty value (accname 1.2 step 2C).
    ("/cell_placeholder.html", "<table><thead><tr><th>A</th><th>B</th><th>C</th><th>D</th></tr></thead><tbody><tr><td>x</td><td>y</td><td><input placeholder=p></td><td>z</td></tr><tr><td>x</td><td>y</td><td><input aria-label=al></td><td>z</td></tr><tr><td>x</td><td>y</td><td><input value=val placeholder=p></td><td>z</td></tr><tr><td>x</td><td>y</td><td><textarea placeholder=tp></textarea></td><td><input></td></tr></tbody></table>", None),
    ("/cell_select.html", "<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td><select aria-label=s><option></option><option>o</option></select></td><td>y</td></tr><tr><td><input type=range aria-label=r></td><td><input type=checkbox></td></tr></tbody></table>", Some("range")),
    ("/link_placeholder.html", "<a href=#>Go <input placeholder=where> now</a><button>Set <input aria-label=lab> it</button><h2>Head <input placeholder=ph></h2>", None),
    // A label that is not rendered still names its control in our model, not in Chromium's.
    ("/hidden_label.html", "<style>.gone{display:none}</style><label for=hl style=display:none>Hid</label><input id=hl><label for=h2 hidden>Hid2</label><input id=h2 placeholder=ph><label for=h3 class=gone>Hid3</label><input id=h3 type=checkbox><div style=display:none><label for=h4>Hid4</label></div><input id=h4>", Some("not rendered")),
    // Slotted content in a name from content.
    ("/slot_names.html", "<x-q>Mid</x-q><x-b>Mid</x-b><x-h>Mid</x-h><x-p><i slot=s>Mid</i></x-p><script>for (const [t, h] of [['x-q', '<a href=#>A<slot></slot>B</a>'], ['x-b', '<button>A<slot></slot>B</button>'], ['x-h', '<h2>A<slot></slot>B</h2>'], ['x-p', '<p>A<slot name=s></slot>B</p><a href=#>C<slot name=s></slot>D</a>']]) customElements.define(t, class extends HTMLElement { constructor() { super(); this.attachShadow({mode: 'open'}).innerHTML = h; } });</script>", None),
    ("/contents_name.html", "<a href=#>A<span style=display:contents>Mid</span>B</a><p>C<span style=display:contents></span>D</p><p>E<x-e></x-e>F</p><a href=#>G<b style=display:contents><i>H</i></b>I</a><p>J<a style=display:contents>K</a>L</p><script>customElements.define('x-e', class extends HTMLElement { constructor() { super(); this.attachShadow({mode: 'open'}).innerHTML = '<slot></slot>'; } });</script>", None),
    // Elements laid out other than their usual display inside text containers.
    ("/block_span.html", "<p><span style=\"display:block\">blk</span>inline</p><h3><b style=display:block>x</b>y</h3><div><em style=display:block>e</em>t</div>", Some("inside a paragraph")),
    ("/cell_select_empty.html", "<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td><select aria-label=s><option></option><option>o</option></select></td><td>y</td></tr><tr><td><select><option>chosen</option></select></td><td><a href=#>L<select aria-label=t><option></option></select></a></td></tr></tbody></table>", None),
    // Empty paragraphs and lists: nothing to print, by either message rule.
    ("/empty_p.html", "<p></p><p> </p>", Some("empty paragraph")),
    ("/empty_ul.html", "<ul></ul><p>\n</p>", Some("empty paragraph")),
    // Any element laid out as a list item is a listitem in Chromium's tree, not only an <li>
    // (the engine printed the span as text, the divs' text on their list's line).
    ("/display_list_item.html", "<span style=display:list-item>Span item</span><ul><div style=display:list-item>Div item</div></ul><ol><div style=\"display:list-item\"><a href=#q>Linked item</a></div></ol><li>Plain stray</li>", Some("list-item")),
];

/// Opens `url` in the `ax`, `auto` and `page` workspaces, then checks that the page engine
/// (the last) models the page when `modelled` and declines it otherwise; a wrong verdict is
/// added to `wrong`.
fn open_and_check_verdict(
    url: &str,
    path: &str,
    modelled: bool,
    workspaces: [&Workspace; 3],
    wrong: &mut Vec<String>,
) {
    for ws in workspaces {
        ws.ok(&["goto", url]);
    }
    let declined = String::from_utf8_lossy(&workspaces[2].run(&["snapshot"]).stderr).into_owned();
    if modelled != declined.is_empty() {
        wrong.push(format!(
            "{path}: the page engine should {}, said: {declined}",
            if modelled { "model it" } else { "decline" }
        ));
    }
}

fn snapshot(ws: &Workspace, flags: &[&str]) -> String {
    let mut args = vec!["snapshot"];
    args.extend_from_slice(flags);
    ws.ok(&args)
}

fn engine(name: &str) -> Workspace {
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_SNAPSHOT_ENGINE", name);
    ws
}

#[test]
fn both_engines_print_the_same_snapshots() {
    let _slot = chromium_slot();
    let modelled = modelled_pages();
    let mut served: Vec<(&str, &str)> = modelled.iter().map(|(p, h)| (*p, h.as_str())).collect();
    served.extend(DECLINED.iter().map(|(p, h, _)| (*p, *h)));
    let server = PageServer::start(&served);
    let ax = engine("ax");
    let page = engine("page");
    let auto = engine("auto");

    for (path, _) in &modelled {
        let url = server.url(path);
        ax.ok(&["goto", &url]);
        page.ok(&["goto", &url]);
        for flags in FLAGS {
            assert_eq!(
                snapshot(&page, flags),
                snapshot(&ax, flags),
                "page engine differs on {path} with {flags:?}"
            );
        }
    }

    for (path, _, reason) in DECLINED {
        let url = server.url(path);
        ax.ok(&["goto", &url]);
        page.ok(&["goto", &url]);
        auto.ok(&["goto", &url]);
        let refused = page.fails(&["snapshot"]);
        assert!(
            refused.contains("declined") && refused.contains(reason),
            "{path}: the page engine should decline ({reason}), said: {refused}"
        );
        for flags in FLAGS {
            assert_eq!(
                snapshot(&auto, flags),
                snapshot(&ax, flags),
                "the fallback differs on {path} with {flags:?}"
            );
        }
    }
    for ws in [&ax, &page, &auto] {
        ws.shut_down();
    }
}

#[test]
fn the_default_engine_prints_what_the_accessibility_tree_prints() {
    let _slot = chromium_slot();
    let served: Vec<(&str, &str)> = AGREE.iter().map(|(p, h, _)| (*p, *h)).collect();
    let server = PageServer::start(&served);
    let ax = engine("ax");
    let auto = engine("auto");
    let page = engine("page");
    let mut wrong = Vec::new();
    for (path, _, reason) in AGREE {
        let url = server.url(path);
        ax.ok(&["goto", &url]);
        auto.ok(&["goto", &url]);
        page.ok(&["goto", &url]);
        let declined = String::from_utf8_lossy(&page.run(&["snapshot"]).stderr).into_owned();
        match reason {
            None => assert_eq!(declined, "", "{path}: the page engine should model it"),
            Some(reason) => assert!(
                declined.contains("declined") && declined.contains(reason),
                "{path}: the page engine should decline ({reason}), said: {declined}"
            ),
        }
        for flags in FLAGS {
            let (ours, reference) = (snapshot(&auto, flags), snapshot(&ax, flags));
            if ours != reference {
                wrong.push(format!(
                    "{path} {flags:?}:\n{ours}\n-- reference --\n{reference}"
                ));
            }
        }
    }
    for ws in [&ax, &auto, &page] {
        ws.shut_down();
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n====\n"));
}

#[test]
fn page_engine_refs_click_and_fill_the_printed_elements() {
    let _slot = chromium_slot();
    let html = r#"<!DOCTYPE html><html><body>
<input aria-label="Name"><input aria-label="Name">
<label><input type="checkbox" id="c"> Agree</label>
<button onclick="document.title = 'first'">Save</button>
<button onclick="document.title = 'second'">Save</button>
</body></html>"#;
    let server = PageServer::start(&[("/refs.html", html)]);
    let ws = engine("page");
    ws.ok(&["goto", &server.url("/refs.html")]);
    let out = snapshot(&ws, &[]);
    assert_eq!(
        out,
        "@e1 [textbox] \"Name\"\n@e2 [textbox] \"Name\"\n@e3 [checkbox] \"Agree\"\n\
         @e4 [text]: Agree\n@e5 [button] \"Save\"\n@e6 [button] \"Save\"\n"
    );
    ws.ok(&["fill", "@e2", "second box"]);
    ws.ok(&["click", "@e3"]);
    ws.ok(&["click", "@e6"]);
    let state = ws.ok(&[
        "js",
        "[document.querySelectorAll('input')[0].value, document.querySelectorAll('input')[1].value, document.getElementById('c').checked, document.title].join('|')",
    ]);
    assert_eq!(state.trim(), "|second box|true|second");
    // A ref whose element left the page is stale, as with the accessibility-tree refs.
    ws.ok(&["js", "document.querySelectorAll('button')[0].remove()"]);
    let stale = ws.fails(&["click", "@e5"]);
    assert!(stale.contains("stale"), "{stale}");
    ws.shut_down();
}

/// `snapshot -i` prints no cell or heading names, so a decline that concerns only such a name
/// (a number field in a heading, a password field in a cell) does not stop the page engine
/// there; a full snapshot of the same page still declines, and both print what the
/// accessibility tree prints.
#[test]
fn names_that_interactive_snapshots_do_not_print_do_not_decline_them() {
    let _slot = chromium_slot();
    let rows: String = (0..20)
        .map(|i| format!("<tr><td>{i} <input type=password value=secret{i}></td><td><button>Go {i}</button></td></tr>"))
        .collect();
    let html = format!(
        "<!DOCTYPE html><html><body><h2>Total <input type=number value=3 aria-label=n></h2>\
         <table>{rows}</table></body></html>"
    );
    let server = PageServer::start(&[("/names.html", html.as_str())]);
    let ax = engine("ax");
    let page = engine("page");
    let url = server.url("/names.html");
    ax.ok(&["goto", &url]);
    page.ok(&["goto", &url]);
    let refused = page.fails(&["snapshot"]);
    assert!(refused.contains("in a name"), "{refused}");
    for flags in [&["-i"][..], &["-ic"], &["-i", "-d", "3"]] {
        assert_eq!(
            snapshot(&page, flags),
            snapshot(&ax, flags),
            "page engine differs with {flags:?}"
        );
    }
    for ws in [&ax, &page] {
        ws.shut_down();
    }
}

/// A page of everything `accessibility` prints props for (links, a `data:` link, fields with
/// and without a placeholder that differs from their name), text, lists and a data table.
const MIXED: &str = r#"<!DOCTYPE html><html><head><title>mixed</title></head><body>
<h1>Mixed page</h1>
<nav><a href="/one">One</a> <a href="data:text/plain,abc">Data</a> <a href="?q=1#x">Query</a></nav>
<p>Some text, <b>bold</b> and <a href="https://example.com/x">a link</a> in a paragraph.</p>
<p><label for="e">Email:</label> <input id="e" placeholder="you@example.com"></p>
<p><input aria-label="Name" placeholder="Name"> <input aria-label="City" placeholder="Town">
<input aria-label="Code" value="12"> <textarea aria-label="Notes" placeholder="notes">hi</textarea></p>
<ul><li>one</li><li><a href="/two">two</a> and text</li></ul>
<h2>Yes</h2>
<button>Save: now</button> <input type="checkbox" aria-label="Agree" checked>
</body></html>"#;

fn accessibility(ws: &Workspace) -> String {
    ws.ok(&["accessibility"])
}

/// `accessibility` reads the in-page engine's tree where it models the page, printing the YAML
/// the accessibility tree gives (the `/url` and `/placeholder` props read for just those
/// nodes); `BROWSE_SNAPSHOT_ENGINE=page` refuses a page the engine declines, and the default
/// engine falls back there. Before, `accessibility` always read `getFullAXTree` (20 s on 5,000
/// rows) and ignored the engine setting.
#[test]
fn accessibility_prints_the_same_yaml_from_the_page_engine() {
    let _slot = chromium_slot();
    let modelled = modelled_pages();
    let mut served: Vec<(&str, &str)> = modelled.iter().map(|(p, h)| (*p, h.as_str())).collect();
    served.push(("/mixed.html", MIXED));
    served.extend(DECLINED.iter().map(|(p, h, _)| (*p, *h)));
    let server = PageServer::start(&served);
    let ax = engine("ax");
    let page = engine("page");
    let auto = engine("auto");

    let mut paths: Vec<&str> = modelled.iter().map(|(p, _)| *p).collect();
    paths.push("/mixed.html");
    for path in paths {
        let url = server.url(path);
        ax.ok(&["goto", &url]);
        page.ok(&["goto", &url]);
        // `ok`: the page engine modelled the page (it fails where it declines).
        assert_eq!(
            accessibility(&page),
            accessibility(&ax),
            "page engine differs on {path}"
        );
    }
    // The props really were read from the held elements.
    page.ok(&["goto", &server.url("/mixed.html")]);
    let mixed = accessibility(&page);
    for expected in [
        "- /url: /one",
        "- /url: data:text/plain,\u{2026}",
        "- /url: \"?q=1#x\"",
        "- /placeholder: you@example.com",
        "- /placeholder: Town",
    ] {
        assert!(
            mixed.contains(expected),
            "{expected} missing from:\n{mixed}"
        );
    }
    assert!(!mixed.contains("/placeholder: Name"), "{mixed}");

    for (path, _, reason) in DECLINED {
        let url = server.url(path);
        ax.ok(&["goto", &url]);
        page.ok(&["goto", &url]);
        auto.ok(&["goto", &url]);
        let refused = page.fails(&["accessibility"]);
        assert!(
            refused.contains("declined") && refused.contains(reason),
            "{path}: the page engine should decline ({reason}), said: {refused}"
        );
        assert_eq!(
            accessibility(&auto),
            accessibility(&ax),
            "the fallback differs on {path}"
        );
    }
    for ws in [&ax, &page, &auto] {
        ws.shut_down();
    }
}

/// gstack prints Playwright's snapshot of an empty body as is: an empty line (checked with
/// gstack 85fd9db: `accessibility` on `<body></body>` prints a blank line inside its
/// envelope, where its `snapshot` says `(no accessible elements found)`).
#[test]
fn accessibility_of_an_empty_page_is_an_empty_line_as_in_gstack() {
    let _slot = chromium_slot();
    let server = PageServer::start(&[("/empty.html", "<html><body></body></html>")]);
    for name in ["auto", "ax"] {
        let ws = engine(name);
        ws.ok(&["goto", &server.url("/empty.html")]);
        assert_eq!(accessibility(&ws), "\n", "engine {name}");
        assert_eq!(
            ws.ok(&["snapshot"]),
            "(no accessible elements found)\n",
            "engine {name}"
        );
        ws.shut_down();
    }
}

/// The cursor scan skips the style of an element that only inherits its cursor (a cell of a
/// table, with no author rule that sets `cursor` anywhere in the document): each page here
/// sets a cell's cursor another way, and the cell must still be listed, by both engines (the
/// accessibility-tree path runs the scan on its own). Without the per-document proof, a
/// shortcut that trusted the UA sheet would miss every one of them.
#[test]
fn cursor_scan_lists_cells_whatever_gives_them_a_pointer() {
    let _slot = chromium_slot();
    let table = |cell: &str| {
        format!(
            "<table><tr><td>a</td>{cell}</tr><tr><td>b</td><td><b>c</b></td></tr></table>\
             <p><a href=\"#x\">link <b>bold</b></a></p>"
        )
    };
    let plain = table("<td class=\"go\">Go cell</td>");
    let pages: Vec<(&str, String)> = vec![
        ("/sheet.html", format!("<style>td.go {{ cursor: pointer }}</style>{plain}")),
        (
            "/nested.html",
            format!(
                "<style>@media screen {{ @supports (display: block) {{ .go {{ color: red; \
                 & {{ cursor: pointer }} }} }} }}</style>{plain}"
            ),
        ),
        ("/inline.html", table("<td style=\"cursor: pointer\">Go cell</td>")),
        (
            "/adopted.html",
            format!(
                "{plain}<script>const s = new CSSStyleSheet(); \
                 s.replaceSync('.go {{ cursor: pointer }}'); document.adoptedStyleSheets = [s];</script>"
            ),
        ),
        (
            "/imported.html",
            format!("<style>@import url(\"data:text/css,.go%7Bcursor:pointer%7D\");</style>{plain}"),
        ),
        (
            "/animated.html",
            format!(
                "{plain}<script>document.querySelector('.go').animate([{{cursor: 'pointer'}}, \
                 {{cursor: 'pointer'}}], {{duration: 1e9}});</script>"
            ),
        ),
        // `all: initial` takes a cell out of its link's pointer: a child with onclick is
        // then listed for its onclick only.
        (
            "/all.html",
            "<style>.go { all: initial; display: table-cell }</style><a href=\"#x\"><table>\
             <tr><td>a</td><td class=go><b onclick=\"1\">Go cell</b></td></tr>\
             <tr><td>b</td><td>c</td></tr></table></a>"
                .to_owned(),
        ),
    ];
    let served: Vec<(&str, &str)> = pages.iter().map(|(p, h)| (*p, h.as_str())).collect();
    let server = PageServer::start(&served);
    for name in ["auto", "ax"] {
        let ws = engine(name);
        for (path, _) in &pages {
            ws.ok(&["goto", &server.url(path)]);
            let out = snapshot(&ws, &["-C"]);
            let expected = if *path == "/all.html" {
                "@c1 [onclick] \"Go cell\"\n"
            } else {
                "@c1 [cursor:pointer] \"Go cell\"\n"
            };
            assert!(
                out.ends_with(&format!(
                    "── cursor-interactive (not in ARIA tree) ──\n{expected}"
                )),
                "engine {name}, {path}: the cell's pointer was missed:\n{out}"
            );
        }
        ws.shut_down();
    }
}

/// The page engine hands the cursor scan the elements its walk saw in place of the scan's
/// selector pass over the document, where the walk saw every element under the body (it ended,
/// met no shadow root, and counted as many elements as the body holds) and the document is
/// author-free for `cursor`. Each page here hides a listable element from the walk, or lists
/// one the walk would skip, another way; the scan inside the page engine (`auto`) must list
/// what the scan run on its own (`ax`) lists. Without the shadow-root rule, the shadow tree's
/// `<div>` (which the scan's selector cannot reach) is listed; without onclick on a cell, the
/// clickable cells go missing. The `<b>` inside a rendered `<style>` (a tag the walk does not
/// enter) went missing without the count until the engine learnt to decline a shown
/// `<style>`; the page stays, declined, as the count's witness.
#[test]
fn cursor_scan_lists_what_the_walk_did_not_see() {
    let _slot = chromium_slot();
    let rows: String = (0..24)
        .map(|i| {
            let onclick = if i % 7 == 3 { " onclick=\"1\"" } else { "" };
            format!(
                "<tr><td{onclick}>cell {i}</td><td><input type=checkbox aria-label='pick {i}'>\
                 </td><td><button>Edit {i}</button></td><td><div onclick=\"1\">div {i}</div> \
                 <a href=\"#{i}\">link <b>bold</b></a></td></tr>"
            )
        })
        .collect();
    // (path, page, a line the cursor section must hold, or one it must not, whether the page
    // engine models the page)
    let pages: Vec<(&str, String, &str, bool, bool)> = vec![
        (
            "/style.html",
            "<p>before</p><style id=s style=\"display:block\">/* */</style><p>after</p>\
             <script>const b = document.createElement('b'); b.setAttribute('onclick', '1'); \
             b.textContent = 'In style'; document.getElementById('s').appendChild(b);</script>"
                .to_owned(),
            "[onclick] \"In style\"",
            true,
            false,
        ),
        (
            "/shadow.html",
            "<p>x</p><x-h><div onclick=1>light, unslotted</div></x-h><script>\
             customElements.define('x-h', class extends HTMLElement { constructor() { super(); \
             this.attachShadow({mode: 'open'}).innerHTML = '<div onclick=1>in shadow</div>'; \
             } });</script>"
                .to_owned(),
            "in shadow",
            false,
            true,
        ),
        (
            "/cells.html",
            format!("<h1>T</h1><div onclick=\"x\">clickable div</div><table>{rows}</table>"),
            "[onclick] \"cell 17\"",
            true,
            true,
        ),
    ];
    let served: Vec<(&str, &str)> = pages.iter().map(|(p, h, ..)| (*p, h.as_str())).collect();
    let server = PageServer::start(&served);
    let ax = engine("ax");
    let auto = engine("auto");
    let page = engine("page");
    let cursor_lines = |out: String| -> String {
        out.split_once("── cursor-interactive (not in ARIA tree) ──")
            .map(|(_, lines)| lines.to_owned())
            .unwrap_or_default()
    };
    let mut wrong = Vec::new();
    for (path, _, line, listed, modelled) in &pages {
        let url = server.url(path);
        // Where the page engine models the page, the walk's list is what the scan used.
        open_and_check_verdict(&url, path, *modelled, [&ax, &auto, &page], &mut wrong);
        for flags in [&["-C"][..], &["-i"][..]] {
            let ours = cursor_lines(snapshot(&auto, flags));
            let reference = cursor_lines(snapshot(&ax, flags));
            if ours != reference || ours.contains(line) != *listed {
                wrong.push(format!(
                    "{path} {flags:?} (\"{line}\" listed: {listed}):\n{ours}\n-- the scan alone --\n{reference}"
                ));
            }
        }
    }
    for ws in [&ax, &auto, &page] {
        ws.shut_down();
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n====\n"));
}

/// The page engine skips the style read of a table part, and of an input or button in a cell,
/// where the document proves the UA sheet decides its display (no author rule, inline style or
/// animation sets `display`, `float` or `position`, no `hidden` or `align` attribute): each
/// page here hides, floats or positions the third row's second cell (or its button) another
/// way, after rows that taught the engine the UA's display, and the default engine must still
/// print what the accessibility tree prints (the hidden button, "Gone", nowhere). Without the
/// proof, a shortcut that trusted the UA sheet would print "Gone" on every hiding page.
#[test]
fn table_cells_hidden_or_moved_every_way_print_as_the_accessibility_tree() {
    let _slot = chromium_slot();
    let target = "tr:nth-child(3) > td:nth-child(2)";
    let table = |second: &str| {
        let rows: String = (1..=4)
            .map(|i| {
                let cell = if i == 3 {
                    second.to_owned()
                } else {
                    format!("<td><button>B{i}</button><input aria-label=q{i}></td>")
                };
                format!("<tr><td>r{i}</td>{cell}</tr>")
            })
            .collect();
        format!("<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody>{rows}</tbody></table>")
    };
    let plain = table("<td><button>Gone</button><input aria-label=gone></td>");
    // (path, page, whether the page engine models it: a hidden cell it must leave out)
    let pages: Vec<(&str, String, bool)> = vec![
        ("/plain.html", table("<td><button>Stay</button></td>"), true),
        (
            "/sheet.html",
            format!("<style>{target} {{ display: none }}</style>{plain}"),
            true,
        ),
        (
            "/nested.html",
            format!(
                "<style>@media screen {{ @supports (display: block) {{ table {{ color: red; \
                 & {target} {{ display: none }} }} }} }}</style>{plain}"
            ),
            true,
        ),
        (
            "/control.html",
            format!("<style>{target} > * {{ display: none }}</style>{plain}"),
            true,
        ),
        (
            "/inline.html",
            table("<td><button style=\"display: none\">Gone</button></td>"),
            true,
        ),
        (
            "/hidden_attribute.html",
            table("<td><button hidden>Gone</button><input hidden aria-label=gone></td>"),
            true,
        ),
        (
            "/adopted.html",
            format!(
                "{plain}<script>const s = new CSSStyleSheet(); \
                 s.replaceSync('{target} {{ display: none }}'); \
                 document.adoptedStyleSheets = [s];</script>"
            ),
            true,
        ),
        (
            "/imported.html",
            format!(
                "<style>@import url(\"data:text/css,{}%7Bdisplay:none%7D\");</style>{plain}",
                target.replace(' ', "%20").replace('>', "%3E")
            ),
            true,
        ),
        (
            "/animated.html",
            format!(
                "{plain}<script>document.querySelector('{target}').animate(\
                 [{{display: 'none'}}, {{display: 'none'}}], {{duration: 1e9}});</script>"
            ),
            true,
        ),
        (
            "/shadow.html",
            format!(
                "<x-t></x-t><script>customElements.define('x-t', class extends HTMLElement {{ \
                 constructor() {{ super(); this.attachShadow({{mode: 'open'}}).innerHTML = \
                 '<style>{target} {{ display: none }}</style>{plain}'; }} }});</script>"
            ),
            true,
        ),
        // Blockified (floated, positioned) or reset cells are no longer table cells: the
        // engine must see it and decline.
        (
            "/float.html",
            format!("<style>{target} {{ float: left }}</style>{plain}"),
            false,
        ),
        (
            "/position.html",
            format!("<style>{target} {{ position: absolute }}</style>{plain}"),
            false,
        ),
        (
            "/all.html",
            format!("<style>{target} {{ all: unset }}</style>{plain}"),
            false,
        ),
    ];
    let served: Vec<(&str, &str)> = pages.iter().map(|(p, h, _)| (*p, h.as_str())).collect();
    let server = PageServer::start(&served);
    let ax = engine("ax");
    let auto = engine("auto");
    let page = engine("page");
    let mut wrong = Vec::new();
    for (path, _, modelled) in &pages {
        let url = server.url(path);
        open_and_check_verdict(&url, path, *modelled, [&ax, &auto, &page], &mut wrong);
        for flags in [&[][..], &["-i"][..]] {
            let (ours, reference) = (snapshot(&auto, flags), snapshot(&ax, flags));
            let hides = *modelled && *path != "/plain.html";
            if ours != reference || (hides && ours.contains("Gone")) {
                wrong.push(format!(
                    "{path} {flags:?}:\n{ours}\n-- reference --\n{reference}"
                ));
            }
        }
    }
    for ws in [&ax, &auto, &page] {
        ws.shut_down();
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n====\n"));
}
