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
