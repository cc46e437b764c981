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
    let record = ws.record().unwrap();
    let port = record["port"].as_u64().unwrap();
    let token = record["token"].as_str().unwrap();
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
