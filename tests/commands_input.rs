//! End-to-end with a real Chromium: the finer input commands (dblclick, check/uncheck, focus,
//! clear, keydown/keyup, drag, mouse). Fixture pages record the trusted events they receive,
//! and the tests read that record back with `browse js`.

mod common;

use common::*;

const NOT_INTERACTABLE: &str = "Element not found or not interactable within timeout. \
     Check your selector or run 'snapshot' for fresh refs.\n";

/// Every event a page hears goes into `window.log` as `type:target[:detail]`.
const INPUTS: &str = r#"<!DOCTYPE html><html><body>
<button id="twice" ondblclick="log.push('dblclick:' + event.isTrusted + ':' + event.detail)" onclick="log.push('click:' + event.detail)">Twice</button>
<input id="cb" type="checkbox" onchange="log.push('change:cb:' + this.checked)">
<label for="cb2">Label for cb2</label><input id="cb2" type="checkbox">
<input id="stuck" type="checkbox" onclick="event.preventDefault()">
<input id="r1" type="radio" name="g" checked><input id="r2" type="radio" name="g">
<div id="aria" role="checkbox" aria-checked="false" tabindex="0" onclick="this.setAttribute('aria-checked', this.getAttribute('aria-checked') !== 'true')">ARIA box</div>
<input id="t" value="some text" oninput="log.push('input:t:' + JSON.stringify(this.value))" onchange="log.push('change:t')">
<textarea id="area">line one</textarea>
<div id="plain">not focusable</div>
<input id="keys" onkeydown="log.push('keydown:' + event.key + ':' + event.shiftKey + ':' + event.repeat)" onkeyup="log.push('keyup:' + event.key + ':' + event.shiftKey)">
<script>window.log = [];</script>
</body></html>"#;

fn log(ws: &Workspace) -> String {
    ws.ok(&["js", "log.join(' ')"]).trim_end().to_owned()
}

fn reset_log(ws: &Workspace) {
    ws.ok(&["js", "log.length = 0"]);
}

#[test]
fn dblclick_check_uncheck_focus_clear_and_held_keys() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/inputs.html", INPUTS)]);
    let ws = Workspace::with_chromium();
    let url = pages.url("/inputs.html");
    ws.ok(&["goto", &url]);

    // dblclick: two trusted clicks, then one dblclick with detail 2.
    assert_eq!(
        ws.ok(&["dblclick", "#twice"]),
        format!("Double-clicked #twice → now at {url}\n")
    );
    assert_eq!(log(&ws), "click:1 click:2 dblclick:true:2");
    assert_eq!(ws.fails(&["dblclick", "#nowhere"]), NOT_INTERACTABLE);
    assert_eq!(
        ws.usage_fails(&["dblclick"]),
        "Usage: browse dblclick <sel>\n"
    );

    // check / uncheck change the real state, and say so; already-there is a no-op.
    reset_log(&ws);
    assert_eq!(ws.ok(&["check", "#cb"]), "Checked #cb\n");
    assert_eq!(ws.ok(&["is", "checked", "#cb"]), "true\n");
    assert_eq!(ws.ok(&["check", "#cb"]), "Checked #cb\n");
    assert_eq!(log(&ws), "change:cb:true", "the second check clicked again");
    assert_eq!(ws.ok(&["uncheck", "#cb"]), "Unchecked #cb\n");
    assert_eq!(ws.ok(&["is", "checked", "#cb"]), "false\n");
    // Through its label, and an ARIA checkbox.
    assert_eq!(
        ws.ok(&["check", "label[for=cb2]"]),
        "Checked label[for=cb2]\n"
    );
    assert_eq!(
        ws.ok(&["js", "document.getElementById('cb2').checked"]),
        "true\n"
    );
    assert_eq!(ws.ok(&["check", "#aria"]), "Checked #aria\n");
    assert_eq!(
        ws.ok(&[
            "js",
            "document.getElementById('aria').getAttribute('aria-checked')"
        ]),
        "true\n"
    );
    // A page that undoes the click, and a radio that cannot be unchecked: errors, not success.
    let err = ws.fails(&["check", "#stuck"]);
    assert!(
        err.starts_with(
            "Clicking the checkbox did not change its state: #stuck is still unchecked\n"
        ),
        "{err}"
    );
    let err = ws.fails(&["uncheck", "#r1"]);
    assert!(
        err.starts_with("Clicking the checkbox did not change its state: #r1 is still checked\n"),
        "{err}"
    );
    assert_eq!(ws.ok(&["check", "#r2"]), "Checked #r2\n");
    assert_eq!(ws.ok(&["is", "checked", "#r1"]), "false\n");
    let err = ws.fails(&["check", "#t"]);
    assert!(
        err.starts_with("Not a checkbox or radio button: #t\n"),
        "{err}"
    );

    // focus: the page's activeElement is the element; a plain div refuses.
    assert_eq!(ws.ok(&["focus", "#area"]), "Focused #area\n");
    assert_eq!(ws.ok(&["js", "document.activeElement.id"]), "area\n");
    let err = ws.fails(&["focus", "#plain"]);
    assert!(
        err.starts_with("Element #plain cannot take the focus\n"),
        "{err}"
    );

    // clear empties the value, firing input and change.
    reset_log(&ws);
    assert_eq!(ws.ok(&["clear", "#t"]), "Cleared #t\n");
    assert_eq!(ws.ok(&["js", "document.getElementById('t').value"]), "\n");
    assert_eq!(log(&ws), "input:t:\"\" change:t");
    assert_eq!(ws.ok(&["clear", "#area"]), "Cleared #area\n");
    assert_eq!(
        ws.ok(&["js", "document.getElementById('area').value"]),
        "\n"
    );
    // fill with an empty value stays gstack's usage error; clear is the way.
    assert_eq!(
        ws.fails(&["fill", "#t", ""]),
        "Usage: browse fill <selector> <value>\n"
    );

    // keydown holds Shift for the keys pressed after it; a second keydown repeats.
    ws.ok(&["focus", "#keys"]);
    reset_log(&ws);
    assert_eq!(ws.ok(&["keydown", "Shift"]), "Key down: Shift\n");
    ws.ok(&["press", "a"]);
    ws.ok(&["keydown", "Shift"]);
    assert_eq!(ws.ok(&["keyup", "Shift"]), "Key up: Shift\n");
    ws.ok(&["press", "b"]);
    assert_eq!(
        log(&ws),
        "keydown:Shift:true:false keydown:A:true:false keyup:a:true \
         keydown:Shift:true:true keyup:Shift:false keydown:b:false:false keyup:b:false"
    );
    assert_eq!(
        ws.ok(&["js", "document.getElementById('keys').value"]),
        "Ab\n"
    );
    // Held modifiers reach clicks too (Shift+click).
    ws.ok(&[
        "js",
        "document.getElementById('twice').onclick = (e) => log.push('click-shift:' + e.shiftKey)",
    ]);
    reset_log(&ws);
    ws.ok(&["keydown", "Shift"]);
    ws.ok(&["click", "#twice"]);
    ws.ok(&["keyup", "Shift"]);
    ws.ok(&["click", "#twice"]);
    // (The Shift keydown went to the focused #keys input; the click then took the focus.)
    assert_eq!(
        log(&ws),
        "keydown:Shift:true:false click-shift:true click-shift:false"
    );
    let err = ws.fails(&["keydown", "Control+A"]);
    assert!(err.starts_with("Unknown key: \"Control+A\"\n"), "{err}");
}

/// An HTML5 drag source and drop zone, a pointer-driven slider, and a scrollable page that
/// records mouse events with their coordinates and buttons.
const DRAG: &str = r#"<!DOCTYPE html><html><body style="margin:0">
<div id="card" draggable="true" style="position:absolute;left:10px;top:10px;width:80px;height:40px;background:#ccc"
  ondragstart="event.dataTransfer.setData('text/plain', 'card-1'); log.push('dragstart')">Card</div>
<div id="zone" style="position:absolute;left:300px;top:10px;width:120px;height:80px;background:#eef"
  ondragover="event.preventDefault()" ondrop="event.preventDefault(); log.push('drop:' + event.dataTransfer.getData('text/plain'))">Drop here</div>
<div id="knob" style="position:absolute;left:10px;top:150px;width:30px;height:30px;background:#333"
  onmousedown="window.dragging = true; log.push('knob-down')"></div>
<div id="track" style="position:absolute;left:300px;top:150px;width:30px;height:30px;background:#aaa"></div>
<div style="height:4000px"></div>
<script>
window.log = [];
addEventListener('mousemove', (e) => { if (window.dragging) window.lastMove = e.clientX + ',' + e.clientY + ':' + e.buttons; });
addEventListener('mouseup', (e) => { if (window.dragging) { log.push('knob-up:' + document.elementFromPoint(e.clientX, e.clientY).id); window.dragging = false; } });
addEventListener('mousedown', (e) => log.push('down:' + e.clientX + ',' + e.clientY + ':' + e.button + ':' + e.buttons + ':' + e.isTrusted));
addEventListener('mouseup', (e) => log.push('up:' + e.button + ':' + e.buttons));
addEventListener('contextmenu', (e) => e.preventDefault());
</script>
</body></html>"#;

#[test]
fn drag_and_the_raw_mouse() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/drag.html", DRAG)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/drag.html")]);

    // HTML5 drag and drop: the drop zone receives the data the source set.
    assert_eq!(
        ws.ok(&["drag", "#card", "#zone"]),
        "Dragged #card → #zone\n"
    );
    let events = log(&ws);
    assert!(
        events.contains("dragstart") && events.contains("drop:card-1"),
        "{events}"
    );

    // A pointer-driven drag sees the button held while moving, and the release on the target.
    reset_log(&ws);
    ws.ok(&["drag", "#knob", "#track"]);
    let events = log(&ws);
    assert!(
        events.contains("knob-down") && events.contains("knob-up:track"),
        "{events}"
    );
    assert_eq!(ws.ok(&["js", "window.lastMove"]), "315,165:1\n");
    assert_eq!(ws.fails(&["drag", "#card", "#nowhere"]), NOT_INTERACTABLE);

    // The raw mouse: move, press and release (right button), wheel.
    reset_log(&ws);
    assert_eq!(
        ws.ok(&["mouse", "move", "200", "300"]),
        "Mouse moved to (200, 300)\n"
    );
    assert_eq!(
        ws.ok(&["mouse", "down", "right"]),
        "Mouse down (right) at (200, 300)\n"
    );
    assert_eq!(
        ws.ok(&["mouse", "up", "right"]),
        "Mouse up (right) at (200, 300)\n"
    );
    assert_eq!(
        ws.ok(&["mouse", "down"]),
        "Mouse down (left) at (200, 300)\n"
    );
    ws.ok(&["mouse", "up"]);
    assert_eq!(
        log(&ws),
        "down:200,300:2:2:true up:2:0 down:200,300:0:1:true up:0:0"
    );
    assert_eq!(
        ws.ok(&["mouse", "wheel", "500"]),
        "Mouse wheel dx=0 dy=500 at (200, 300)\n"
    );
    wait_until(
        "the page scrolled by the wheel",
        std::time::Duration::from_secs(5),
        || ws.ok(&["js", "window.scrollY"]) == "500\n",
    );

    // Bad input: one line saying what is wrong.
    let err = ws.fails(&["mouse", "move", "a", "1"]);
    assert!(
        err.starts_with("mouse: x must be a number of CSS pixels, got 'a'\n"),
        "{err}"
    );
    let err = ws.fails(&["mouse", "down", "back"]);
    assert!(err.starts_with("Unknown mouse button: back"), "{err}");
    let err = ws.fails(&["mouse", "jump"]);
    assert!(err.starts_with("Unknown mouse action: jump\n"), "{err}");
    assert!(ws
        .usage_fails(&["mouse"])
        .contains("Usage: browse mouse move <x> <y>"));
}

#[test]
fn an_unknown_key_says_how_to_type_text_instead() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/inputs.html", INPUTS)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/inputs.html")]);
    for (args, first) in [
        (&["press", "é"][..], "press: Unknown key: \"é\""),
        (&["keydown", "é"], "Unknown key: \"é\""),
        (&["keyup", "é"], "Unknown key: \"é\""),
    ] {
        let error = ws.fails(args);
        assert!(error.starts_with(first), "{args:?}: {error}");
        assert!(error.contains("'browse type é'"), "{args:?}: {error}");
    }
    let error = ws.fails(&["press", "Control+Bogus"]);
    assert!(error.contains("'browse type <text>'"), "{error}");
}
