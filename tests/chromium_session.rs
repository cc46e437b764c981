//! End-to-end with a real Chromium: the first commands, on pages served by the test.

mod common;

use common::*;

#[test]
fn goto_url_text_on_a_served_page() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[(
        "/hello.html",
        "<html><body>\n<h1>Hello</h1>\n<p>  World  </p>\n<script>var hidden = 1</script>\n</body></html>",
    )]);
    let ws = Workspace::with_chromium();
    let url = pages.url("/hello.html");
    assert_eq!(
        ws.ok(&["goto", &url]),
        format!("Navigated to {url} (200)\n")
    );
    assert_eq!(ws.ok(&["url"]), format!("{url}\n"));
    assert_eq!(ws.ok(&["text"]), "Hello\nWorld\n");
    let missing = pages.url("/missing.html");
    assert_eq!(
        ws.ok(&["goto", &missing]),
        format!("Navigated to {missing} (404)\n")
    );
}

#[test]
fn refs_endpoint_lists_the_last_snapshot() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[(
        "/b.html",
        "<button>One</button><button>Two</button><a href='/b.html'>Link</a>",
    )]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/b.html")]);
    ws.ok(&["snapshot", "-i"]);
    let (port, token) = ws.endpoint();
    let body: serde_json::Value = serde_json::from_str(
        &ureq::get(&format!("http://127.0.0.1:{port}/refs"))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "refs": [
                {"ref": "@e1", "role": "button", "name": "One"},
                {"ref": "@e2", "role": "button", "name": "Two"},
                {"ref": "@e3", "role": "link", "name": "Link"}
            ],
            "url": pages.url("/b.html"),
            "mode": "launched"
        })
    );
    let anonymous = ureq::get(&format!("http://127.0.0.1:{port}/refs")).call();
    assert!(matches!(anonymous, Err(ureq::Error::Status(401, _))));
}

#[test]
fn capture_buffers_are_mirrored_to_private_log_files() {
    use std::os::unix::fs::PermissionsExt;
    let _slot = chromium_slot();
    let pages = PageServer::start(&[(
        "/log.html",
        "<p>x</p><script>console.log('hello mirror'); alert('hi')</script>",
    )]);
    let ws = Workspace::with_chromium();
    let url = pages.url("/log.html");
    ws.ok(&["goto", &url]);
    let read = |name: &str| std::fs::read_to_string(ws.state_dir().join(name)).unwrap_or_default();
    wait_until(
        "the mirror caught up",
        std::time::Duration::from_secs(20),
        || {
            read("browse-console.log").contains("] [log] hello mirror\n")
                && read("browse-dialog.log").contains("] [alert] \"hi\" → accepted\n")
                && read("browse-network.log").contains(&format!("GET {url} → 200"))
        },
    );
    for name in [
        "browse-console.log",
        "browse-network.log",
        "browse-dialog.log",
    ] {
        let mode = std::fs::metadata(ws.state_dir().join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
}
