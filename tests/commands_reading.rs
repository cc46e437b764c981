//! End-to-end with a real Chromium: navigation (history, reload, waits, URL errors), reading
//! (html, links, forms) and inspection (js, eval, attrs, is, css, cookies, storage), each
//! output checked against gstack's exact template.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use common::*;

/// An HTTP server on 127.0.0.1 that holds every response until [`HeldServer::release`].
struct HeldServer {
    url: String,
    accepted: Arc<Mutex<usize>>,
    released: Arc<(Mutex<bool>, Condvar)>,
}

impl HeldServer {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind held server");
        let url = format!("http://{}/hold", listener.local_addr().expect("addr"));
        let accepted = Arc::new(Mutex::new(0));
        let released = Arc::new((Mutex::new(false), Condvar::new()));
        let (count, gate) = (Arc::clone(&accepted), Arc::clone(&released));
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                *count.lock().unwrap() += 1;
                let gate = Arc::clone(&gate);
                thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    let (lock, cvar) = &*gate;
                    let mut open = lock.lock().unwrap();
                    while !*open {
                        open = cvar.wait(open).unwrap();
                    }
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\nok",
                    );
                });
            }
        });
        HeldServer {
            url,
            accepted,
            released,
        }
    }

    fn accepted(&self) -> usize {
        *self.accepted.lock().unwrap()
    }

    fn release(&self) {
        *self.released.0.lock().unwrap() = true;
        self.released.1.notify_all();
    }
}

const PAGE_A: &str =
    "<!DOCTYPE html><html><head><title>A</title></head><body><h1>Page A</h1></body></html>";
const PAGE_B: &str =
    "<!DOCTYPE html><html><head><title>B</title></head><body><h1>Page B</h1></body></html>";
const LATE: &str = "<html><body><p>soon</p><script>\
    setTimeout(() => { const d = document.createElement('div'); d.id = 'late'; \
    d.textContent = 'Late'; document.body.appendChild(d); }, 400);\
    </script></body></html>";

#[test]
fn navigation_history_reload_waits_and_url_errors() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[
        ("/a.html", PAGE_A),
        ("/b.html", PAGE_B),
        ("/late.html", LATE),
    ]);
    let ws = Workspace::with_chromium();
    let (a, b) = (pages.url("/a.html"), pages.url("/b.html"));

    assert_eq!(ws.ok(&["url"]), "about:blank\n");
    // The blank start page has no origin, so no storage: a one-line error.
    assert_eq!(
        ws.fails(&["storage"]),
        "SecurityError: Failed to read the 'localStorage' property from 'Window': Access is denied for this document.\n"
    );
    // URL errors come before any navigation.
    assert_eq!(
        ws.fails(&["goto", "example.com"]),
        "Invalid URL: example.com\nno scheme: did you mean https://example.com?\n"
    );
    assert_eq!(
        ws.fails(&["goto", "javascript:alert(1)"]),
        "Blocked: scheme \"javascript:\" is not allowed. Only http:, https:, file:, and about:blank URLs are permitted.\n"
    );
    assert!(ws
        .fails(&["goto", "file:///etc/passwd"])
        .starts_with("Path must be within: "));

    // Back to the start of history, whatever the browser kept before our first page.
    assert_eq!(ws.ok(&["goto", &a]), format!("Navigated to {a} (200)\n"));
    let mut previous = ws.ok(&["url"]);
    loop {
        let out = ws.ok(&["back"]);
        let now = out
            .strip_prefix("Back → ")
            .expect("Back template")
            .to_owned();
        if now == previous {
            break;
        }
        previous = now;
    }
    assert_eq!(ws.ok(&["url"]), previous, "back at the start is a no-op");

    // Two pages: back, forward, and forward at the end.
    assert_eq!(ws.ok(&["goto", &a]), format!("Navigated to {a} (200)\n"));
    assert_eq!(ws.ok(&["goto", &b]), format!("Navigated to {b} (200)\n"));
    assert_eq!(ws.ok(&["back"]), format!("Back → {a}\n"));
    assert_eq!(ws.ok(&["text"]), "Page A\n");
    assert_eq!(ws.ok(&["forward"]), format!("Forward → {b}\n"));
    assert_eq!(ws.ok(&["text"]), "Page B\n");
    assert_eq!(ws.ok(&["forward"]), format!("Forward → {b}\n"));
    assert_eq!(ws.ok(&["url"]), format!("{b}\n"));

    // Reload gives a fresh document (the page-side mark disappears).
    assert_eq!(ws.ok(&["js", "window.mark = 1; window.mark"]), "1\n");
    assert_eq!(ws.ok(&["reload"]), format!("Reloaded {b}\n"));
    assert_eq!(ws.ok(&["js", "typeof window.mark"]), "undefined\n");

    // pushState and hash changes show in `url`; history through them fires no lifecycle.
    let pushed = pages.url("/pushed");
    assert_eq!(ws.ok(&["js", "history.pushState({}, '', '/pushed')"]), "\n");
    wait_until("pushState reported", Duration::from_secs(5), || {
        ws.ok(&["url"]) == format!("{pushed}\n")
    });
    assert_eq!(ws.ok(&["js", "location.hash = 'frag'"]), "frag\n");
    wait_until("hash change reported", Duration::from_secs(5), || {
        ws.ok(&["url"]) == format!("{pushed}#frag\n")
    });
    assert_eq!(ws.ok(&["back"]), format!("Back → {pushed}\n"));
    assert_eq!(ws.ok(&["back"]), format!("Back → {b}\n"));
    assert_eq!(ws.ok(&["text"]), "Page B\n");
    assert_eq!(ws.ok(&["forward"]), format!("Forward → {pushed}\n"));

    // wait: for an element a timer adds, for load states, and a timeout.
    // --networkidle waits for a request still in flight, and is reached once it ends.
    let held = HeldServer::start();
    let fetching = format!(
        "<html><body><p>busy</p><script>fetch('{}', {{ mode: 'no-cors' }})</script></body></html>",
        held.url
    );
    let busy_pages = PageServer::start(&[("/busy.html", fetching.as_str())]);
    let busy = busy_pages.url("/busy.html");
    assert_eq!(
        ws.ok(&["goto", &busy]),
        format!("Navigated to {busy} (200)\n")
    );
    wait_until(
        "the held request reached its server",
        Duration::from_secs(10),
        || held.accepted() > 0,
    );
    assert_eq!(ws.ok(&["wait", "--load"]), "Page loaded\n");
    // gstack's first line; then a hint saying what was waited for.
    let timed_out = ws.fails(&["wait", "--networkidle", "1500"]);
    let mut lines = timed_out.lines();
    assert_eq!(
        lines.next(),
        Some("Operation timed out: waitForLoadState: Timeout 1500ms exceeded.")
    );
    assert!(
        lines.next().is_some_and(
            |hint| hint.starts_with("Waited 1500 ms for the page to reach 'Network idle'")
        ),
        "{timed_out}"
    );
    held.release();
    assert_eq!(ws.ok(&["wait", "--networkidle"]), "Network idle\n");

    // --load takes its ms too (it waited 15 s whatever was given), and its hint names what
    // holds the load event: here an image whose server never answers.
    let held_image = HeldServer::start();
    let image_page = format!("<html><body><img src='{}'></body></html>", held_image.url);
    let image_pages = PageServer::start(&[("/img.html", image_page.as_str())]);
    // A document whose loading was stopped (window.stop(), or a goto that timed out) never
    // fires its load event: said at once, where the wait ran out its whole time and blamed
    // a resource still loading.
    ws.ok(&["goto", &image_pages.url("/img.html")]);
    ws.ok(&["js", "window.stop(); 'stopped'"]);
    let stopped = ws.fails(&["wait", "--load", "3000"]);
    assert_eq!(
        stopped.lines().next().unwrap_or_default(),
        format!(
            "waitForLoadState: the page at {} stopped loading before its load event; \
             it will not fire now",
            image_pages.url("/img.html")
        ),
        "{stopped}"
    );
    assert!(stopped.contains("'browse reload'"), "{stopped}");
    // Its DOMContentLoaded came before the stop.
    assert_eq!(
        ws.ok(&["wait", "--domcontentloaded"]),
        "DOM content loaded\n"
    );
    ws.ok(&["goto", &image_pages.url("/img.html")]);
    let timed_out = ws.fails(&["wait", "--load", "1500"]);
    let mut lines = timed_out.lines();
    assert_eq!(
        lines.next(),
        Some("Operation timed out: waitForLoadState: Timeout 1500ms exceeded."),
        "{timed_out}"
    );
    assert!(
        lines.next().is_some_and(|hint| hint
            .starts_with("Waited 1500 ms for the page to reach 'Page loaded'")
            && hint.contains("a resource still loading")),
        "{timed_out}"
    );
    held_image.release();
    assert_eq!(ws.ok(&["wait", "--load", "5000"]), "Page loaded\n");

    let late = pages.url("/late.html");
    assert_eq!(
        ws.ok(&["goto", &late]),
        format!("Navigated to {late} (200)\n")
    );
    assert_eq!(ws.ok(&["wait", "#late"]), "Element #late appeared\n");
    assert_eq!(ws.ok(&["html", "#late"]), "Late\n");
    assert_eq!(
        ws.ok(&["wait", "--domcontentloaded"]),
        "DOM content loaded\n"
    );
    assert_eq!(ws.ok(&["wait", "--load"]), "Page loaded\n");
    assert_eq!(ws.ok(&["wait", "--networkidle"]), "Network idle\n");
    assert_eq!(ws.ok(&["wait", "--networkidle", "3000"]), "Network idle\n");
    assert_eq!(
        ws.fails(&["wait", "#never", "10"]),
        "Operation timed out: waitFor: Timeout 1000ms exceeded.\n\
         Waited 1000 ms for #never to be visible: nothing on the page matched it. Check the selector with 'browse snapshot -i', or wait longer: browse wait '#never' <ms>\n"
    );
    assert_eq!(
        ws.usage_fails(&["wait"]),
        "Usage: browse wait <selector|--networkidle|--load|--domcontentloaded>\n"
    );
}

const READ_PAGE: &str = r#"<!DOCTYPE html>
<html><head><title>Read</title><style>#box { color: rgb(255, 0, 0); }</style></head>
<body>
<div id="box" class="c1" data-x="1">Hello <b>bold</b></div>
<a href="/a.html">  First link  </a>
<a href="https://example.com/x">Second</a>
<a href="/empty">   </a>
<a href="/long">LONGTEXT</a>
<form id="login" action="/login" method="post">
<input type="text" name="user" id="user" placeholder="User" required value="bob">
<input type="password" name="pw" value="hunter2">
<input type="hidden" name="csrf_token" value="abc">
<select name="color"><option value="r">Red</option><option value="g" selected>Green</option></select>
<textarea name="note"></textarea>
</form>
<form><input name="q"></form>
<input id="dis" disabled>
<input id="ro" readonly>
<input type="checkbox" id="cb" checked>
<input type="checkbox" id="cb2">
<div id="gone" style="display:none">x</div>
<div id="invis" style="visibility:hidden">x</div>
<p class="twice">1</p><p class="twice">2</p>
<script>
document.cookie = "theme=dark";
document.cookie = "session_id=abcdef";
document.cookie = "plain=eyJhbGciOi";
localStorage.setItem('api_key', 'secret123');
sessionStorage.setItem('s', '1');
</script>
</body></html>"#;

#[test]
fn reading_and_inspection_commands() {
    let _slot = chromium_slot();
    let long_text = "é".repeat(130);
    let read_page = READ_PAGE.replace("LONGTEXT", &long_text);
    let small = "<!DOCTYPE html><html><head></head><body><p>hi</p></body></html>";
    let pages = PageServer::start(&[
        ("/read.html", read_page.as_str()),
        ("/small.html", small),
        ("/nodoctype.html", "<p>x</p>"),
    ]);
    let ws = Workspace::with_chromium();
    let base = &pages.base;

    // html: the document with its doctype line, without one, and an element's innerHTML.
    ws.ok(&["goto", &pages.url("/small.html")]);
    assert_eq!(
        ws.ok(&["html"]),
        "<!DOCTYPE html>\n<html><head></head><body><p>hi</p></body></html>\n"
    );
    ws.ok(&["goto", &pages.url("/nodoctype.html")]);
    assert_eq!(
        ws.ok(&["html"]),
        "<html><head></head><body><p>x</p></body></html>\n"
    );

    let read = pages.url("/read.html");
    assert_eq!(
        ws.ok(&["goto", &read]),
        format!("Navigated to {read} (200)\n")
    );
    assert_eq!(ws.ok(&["html", "#box"]), "Hello <b>bold</b>\n");
    assert_eq!(
        ws.fails(&["html", ".twice"]),
        "Selector matched multiple elements. Be more specific or use @refs from 'snapshot'.\n\
         It matched 2 elements. Narrow it (an id, a parent, :nth-of-type), or run 'browse snapshot -i' and use the @ref of the one you mean.\n"
    );
    assert_eq!(
        ws.fails(&["html", "#nope"]),
        "Operation timed out: innerHTML: Timeout 5000ms exceeded.\n\
         Nothing matched #nope within 5000 ms: check it with 'browse snapshot -i' (and use an \
         @ref from it), or run 'browse wait #nope' first if it appears later.\n"
    );

    // links: trimmed text, absolute href, empty text dropped, cut to 120 UTF-16 units.
    assert_eq!(
        ws.ok(&["links"]),
        format!(
            "First link → {base}/a.html\nSecond → https://example.com/x\n{} → {base}/long\n",
            "é".repeat(120)
        )
    );

    // forms: keys in gstack's order, missing keys left out, secrets redacted.
    let expected_forms = format!(
        r#"[
  {{
    "index": 0,
    "action": "{base}/login",
    "method": "post",
    "id": "login",
    "fields": [
      {{
        "tag": "input",
        "type": "text",
        "name": "user",
        "id": "user",
        "placeholder": "User",
        "required": true,
        "value": "bob"
      }},
      {{
        "tag": "input",
        "type": "password",
        "name": "pw",
        "value": "[redacted]"
      }},
      {{
        "tag": "input",
        "type": "hidden",
        "name": "csrf_token",
        "value": "[redacted]"
      }},
      {{
        "tag": "select",
        "type": "select-one",
        "name": "color",
        "value": "g",
        "options": [
          {{
            "value": "r",
            "text": "Red"
          }},
          {{
            "value": "g",
            "text": "Green"
          }}
        ]
      }},
      {{
        "tag": "textarea",
        "type": "textarea",
        "name": "note"
      }}
    ]
  }},
  {{
    "index": 1,
    "action": "{read}",
    "method": "get",
    "fields": [
      {{
        "tag": "input",
        "type": "text",
        "name": "q"
      }}
    ]
  }}
]
"#
    );
    assert_eq!(ws.ok(&["forms"]), expected_forms);

    // attrs, in document order; a miss is a success.
    assert_eq!(
        ws.ok(&["attrs", "#box"]),
        "{\n  \"id\": \"box\",\n  \"class\": \"c1\",\n  \"data-x\": \"1\"\n}\n"
    );
    assert_eq!(ws.ok(&["attrs", "#nope"]), "Element not found: #nope\n");

    // is, for every state.
    let is = |prop: &str, sel: &str| ws.ok(&["is", prop, sel]);
    assert_eq!(is("visible", "#box"), "true\n");
    assert_eq!(is("visible", "#gone"), "false\n");
    assert_eq!(is("visible", "#invis"), "false\n");
    assert_eq!(is("visible", "#nope"), "false\n");
    assert_eq!(is("hidden", "#gone"), "true\n");
    assert_eq!(is("hidden", "#box"), "false\n");
    assert_eq!(is("enabled", "#user"), "true\n");
    assert_eq!(is("enabled", "#dis"), "false\n");
    assert_eq!(is("disabled", "#dis"), "true\n");
    assert_eq!(is("disabled", "#user"), "false\n");
    assert_eq!(is("enabled", "#nope"), "false\n");
    assert_eq!(is("checked", "#cb"), "true\n");
    assert_eq!(is("checked", "#cb2"), "false\n");
    assert_eq!(
        ws.fails(&["is", "checked", "#box"]),
        "Error: Not a checkbox or radio button\n"
    );
    assert_eq!(is("editable", "#user"), "true\n");
    assert_eq!(is("editable", "#ro"), "false\n");
    assert_eq!(is("editable", "#dis"), "false\n");
    assert_eq!(is("focused", "#user"), "false\n");
    ws.ok(&["js", "document.getElementById('user').focus()"]);
    assert_eq!(is("focused", "#user"), "true\n");
    assert_eq!(
        ws.fails(&["is", "shiny", "#box"]),
        "Unknown property: shiny. Use: visible, hidden, enabled, disabled, checked, editable, focused\n"
    );

    // css: the computed value; a miss is a success.
    assert_eq!(ws.ok(&["css", "#box", "color"]), "rgb(255, 0, 0)\n");
    assert_eq!(ws.ok(&["css", "#gone", "display"]), "none\n");
    assert_eq!(
        ws.ok(&["css", "#nope", "color"]),
        "Element not found: #nope\n"
    );

    // cookies set by the page: secret names and values redacted, session cookies at -1.
    let cookies = ws.ok(&["cookies"]);
    let cookie = |name: &str, value: &str| {
        format!(
            "  {{\n    \"name\": \"{name}\",\n    \"value\": \"{value}\",\n    \"domain\": \"127.0.0.1\",\n    \"path\": \"/\",\n    \"expires\": -1,\n    \"httpOnly\": false,\n    \"secure\": false,\n    \"sameSite\": \"Lax\"\n  }}"
        )
    };
    assert!(
        cookies.starts_with("[\n") && cookies.ends_with("\n]\n"),
        "{cookies}"
    );
    for (name, value) in [
        ("theme", "dark"),
        ("session_id", "[REDACTED — 6 chars]"),
        ("plain", "[REDACTED — 10 chars]"),
    ] {
        assert!(
            cookies.contains(&cookie(name, value)),
            "{name} in:\n{cookies}"
        );
    }
    let parsed: serde_json::Value = serde_json::from_str(&cookies).expect("cookies JSON");
    assert_eq!(parsed.as_array().map(Vec::len), Some(3));

    // storage: both stores, redacted like cookies; `storage set` writes localStorage.
    assert_eq!(
        ws.ok(&["storage"]),
        "{\n  \"localStorage\": {\n    \"api_key\": \"[REDACTED — 9 chars]\"\n  },\n  \"sessionStorage\": {\n    \"s\": \"1\"\n  }\n}\n"
    );
    assert_eq!(
        ws.ok(&["storage", "set", "theme", "dark"]),
        "Set localStorage[\"theme\"]\n"
    );
    assert_eq!(ws.ok(&["js", "localStorage.getItem('theme')"]), "dark\n");
    let storage: serde_json::Value =
        serde_json::from_str(&ws.ok(&["storage"])).expect("storage JSON");
    assert_eq!(storage["localStorage"]["theme"], "dark");
    assert_eq!(storage["localStorage"]["api_key"], "[REDACTED — 9 chars]");
}

#[test]
fn js_and_eval_results_files_and_errors() {
    let _slot = chromium_slot();
    let csp = "<html><head><meta http-equiv=\"Content-Security-Policy\" \
        content=\"script-src 'none'\"><title>CSP</title></head><body></body></html>";
    let pages = PageServer::start(&[("/a.html", PAGE_A), ("/csp.html", csp)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/a.html")]);

    // Result formatting: String(v) for primitives, 2-space JSON for objects and null.
    assert_eq!(ws.ok(&["js", "1 + 2"]), "3\n");
    assert_eq!(ws.ok(&["js", "0.1 + 0.2"]), "0.30000000000000004\n");
    assert_eq!(ws.ok(&["js", "1e21"]), "1e+21\n");
    assert_eq!(ws.ok(&["js", "'a' + 'b'"]), "ab\n");
    assert_eq!(ws.ok(&["js", "true"]), "true\n");
    assert_eq!(ws.ok(&["js", "undefined"]), "\n");
    assert_eq!(ws.ok(&["js", "null"]), "null\n");
    assert_eq!(ws.ok(&["js", "document.title"]), "A\n");
    assert_eq!(
        ws.ok(&["js", "({b: 1, a: [1, 'x'], c: null})"]),
        "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    \"x\"\n  ],\n  \"c\": null\n}\n"
    );
    assert_eq!(ws.ok(&["js", "[]"]), "[]\n");
    assert_eq!(ws.ok(&["js", "1", "+", "1"]), "2\n", "words are joined");

    // Declarations are local to one run, as with Playwright's indirect eval, also on a page
    // whose CSP forbids eval.
    assert_eq!(ws.ok(&["js", "const a = 1; a"]), "1\n");
    assert_eq!(ws.ok(&["js", "const a = 2; a"]), "2\n");
    assert_eq!(ws.ok(&["js", "typeof a"]), "undefined\n");
    ws.ok(&["goto", &pages.url("/csp.html")]);
    assert_eq!(ws.ok(&["js", "let c = 3; c"]), "3\n");
    assert_eq!(ws.ok(&["js", "let c = 4; c"]), "4\n");
    assert_eq!(ws.ok(&["js", "document.title"]), "CSP\n");
    ws.ok(&["goto", &pages.url("/a.html")]);

    // await: an expression body, and a block body for statements over several lines.
    assert_eq!(ws.ok(&["js", "await Promise.resolve(7)"]), "7\n");
    assert_eq!(
        ws.ok(&[
            "js",
            "const x = await Promise.resolve(2);\nreturn { x: x * 3 };"
        ]),
        "{\n  \"x\": 6\n}\n"
    );
    assert_eq!(ws.ok(&["js", "Promise.resolve('p')"]), "p\n");

    // Exceptions are errors with their message.
    assert_eq!(
        ws.fails(&["js", "throw new Error('boom')"]),
        "Error: boom\n"
    );
    assert_eq!(
        ws.fails(&["js", "await Promise.reject(new TypeError('nope'))"]),
        "TypeError: nope\n"
    );
    assert_eq!(ws.fails(&["js", "throw 'plain'"]), "plain\n");
    // A circular result names where the cycle closes, with a hint on how to return one that
    // prints.
    let circular = ws.fails(&["js", "const o = {a: {list: [1]}}; o.a.list.push(o.a); o"]);
    let (first, hint) = circular.split_once('\n').unwrap_or((&circular, ""));
    assert!(
        first.ends_with(
            "Converting circular structure to JSON: result.a.list[1] refers back to result.a"
        ) && hint.contains("return the fields you need"),
        "{circular}"
    );
    assert_eq!(
        ws.usage_fails(&["js"]),
        "Usage: browse js <expression> [--out <file>] [--raw]\n"
    );

    // --out: data URLs are decoded unless --raw; paths stay inside cwd or /tmp.
    let data_url = "'data:text/plain;base64,aGVsbG8='";
    assert_eq!(
        ws.ok(&["js", data_url, "--out", "out/hello.bin"]),
        "JS result written: out/hello.bin (5 bytes)\n"
    );
    assert_eq!(fs::read(ws.path().join("out/hello.bin")).unwrap(), b"hello");
    assert_eq!(
        ws.ok(&["js", data_url, "--out=raw.txt", "--raw"]),
        "JS result written: raw.txt (31 bytes)\n"
    );
    assert_eq!(
        fs::read_to_string(ws.path().join("raw.txt")).unwrap(),
        "data:text/plain;base64,aGVsbG8="
    );
    assert_eq!(
        ws.ok(&["js", "({k: 'é'})", "--out", "obj.json"]),
        "JS result written: obj.json (15 bytes)\n"
    );
    assert_eq!(
        fs::read_to_string(ws.path().join("obj.json")).unwrap(),
        "{\n  \"k\": \"é\"\n}"
    );
    // A refused path is refused before the page runs anything: no side effect is left.
    assert!(ws
        .fails(&["js", "window.ranAnyway = 1", "--out", "/etc/browse-out"])
        .starts_with("Path must be within: "));
    fs::write(ws.path().join("side.js"), "window.ranAnyway = 2").unwrap();
    assert!(ws
        .fails(&["eval", "side.js", "--out", "/etc/browse-out"])
        .starts_with("Path must be within: "));
    assert_eq!(ws.ok(&["js", "typeof window.ranAnyway"]), "undefined\n");
    assert_eq!(
        ws.usage_fails(&["js", "1", "--out"]),
        "--out needs a value (FILE)\nUsage: browse js <expression> [--out <file>] [--raw]\n"
    );

    // eval: code from a file in the workspace, with the same wrapping and --out.
    fs::write(
        ws.path().join("script.js"),
        "// adds one\nconst a = await Promise.resolve(20);\nreturn a + 1;\n",
    )
    .unwrap();
    assert_eq!(ws.ok(&["eval", "script.js"]), "21\n");
    fs::write(ws.path().join("expr.js"), "document.title + '!'").unwrap();
    assert_eq!(ws.ok(&["eval", "expr.js"]), "A!\n");
    assert_eq!(
        ws.ok(&["eval", "expr.js", "--out", "eval.txt"]),
        "Eval result written: eval.txt (2 bytes)\n"
    );
    assert_eq!(
        fs::read_to_string(ws.path().join("eval.txt")).unwrap(),
        "A!"
    );
    assert!(ws
        .fails(&["eval", "/etc/passwd"])
        .starts_with("Path must be within: "));
    assert_eq!(
        ws.fails(&["eval", "missing.js"]),
        "File not found: missing.js\n"
    );
    fs::write(
        ws.path().join("bad.js"),
        "throw new RangeError('out of range')",
    )
    .unwrap();
    assert_eq!(ws.fails(&["eval", "bad.js"]), "RangeError: out of range\n");
}
