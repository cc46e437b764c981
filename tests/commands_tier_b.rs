//! End-to-end tests of gstack's Tier B commands added with issue 13 (`perf`, `cdp`,
//! `responsive`, `archive`), with a real Chromium and pages served here.

mod common;

use common::*;

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

const PAGE: &str = "<title>Tier B</title><h1>Hello archive</h1><p id=p>text</p>";

#[test]
fn perf_prints_nine_timings_and_cdp_obeys_the_allowlist() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/page.html", PAGE)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/page.html")]);
    ws.ok(&["wait", "--load"]);

    let perf = ws.ok(&["perf"]);
    let names: Vec<&str> = perf
        .lines()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["dns", "tcp", "ssl", "ttfb", "download", "domParse", "domReady", "load", "total"],
        "{perf}"
    );
    for line in perf.lines() {
        let (key, value) = line.split_at(12);
        assert!(key.len() == 12 && !key.trim_end().contains(' '), "{line:?}");
        let ms = value.strip_prefix(' ').and_then(|v| v.strip_suffix("ms"));
        assert!(ms.is_some_and(|n| n.parse::<i64>().is_ok()), "{line:?}");
    }

    // A trusted method: plain 2-space JSON.
    ws.ok(&["cdp", "Performance.enable"]);
    let metrics: serde_json::Value =
        serde_json::from_str(&ws.ok(&["cdp", "Performance.getMetrics", "{}"])).expect("JSON");
    assert!(metrics["metrics"].as_array().is_some_and(|m| !m.is_empty()));
    // Page content comes inside gstack's envelope.
    let tree = ws.ok(&["cdp", "Accessibility.getFullAXTree"]);
    assert!(
        tree.starts_with(
            "--- BEGIN UNTRUSTED EXTERNAL CONTENT (source: cdp:Accessibility.getFullAXTree) ---\n{"
        ),
        "{tree:.200}"
    );
    assert!(tree.contains("Hello archive"));
    // Deny by default: navigation and script evaluation are not reachable.
    let denied = ws.fails(&[
        "cdp",
        "Page.navigate",
        "{\"url\":\"http://169.254.169.254/\"}",
    ]);
    assert!(
        denied.contains("DENIED: Page.navigate is not on the CDP allowlist."),
        "{denied}"
    );
    let denied = ws.fails(&["cdp", "Runtime.evaluate", "{\"expression\":\"1\"}"]);
    assert!(denied.contains("DENIED"), "{denied}");
    let bad = ws.fails(&["cdp", "Performance.getMetrics", "{nope"]);
    assert!(bad.contains("Cannot parse params as JSON"), "{bad}");
    let bad = ws.fails(&["cdp", "getMetrics"]);
    assert!(bad.contains("not in Domain.method format"), "{bad}");
    assert_eq!(ws.ok(&["url"]), format!("{}\n", pages.url("/page.html")));
}

#[test]
fn responsive_shoots_three_sizes_and_restores_the_viewport_and_archive_writes_mhtml() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/page.html", PAGE)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/page.html")]);
    ws.ok(&["viewport", "1000x700"]);

    let out = ws.ok(&["responsive", "shots/home"]);
    assert_eq!(
        out,
        "mobile (375x812): shots/home-mobile.png\n\
         tablet (768x1024): shots/home-tablet.png\n\
         desktop (1280x720): shots/home-desktop.png\n"
    );
    for (name, width) in [("mobile", 375), ("tablet", 768), ("desktop", 1280)] {
        let bytes = std::fs::read(ws.path().join(format!("shots/home-{name}.png"))).expect("png");
        assert_eq!(png_size(&bytes).0, width, "{name}");
    }
    assert_eq!(
        ws.ok(&["js", "window.innerWidth + 'x' + window.innerHeight"]),
        "1000x700\n"
    );
    let err = ws.fails(&["responsive", "/etc/browse-x"]);
    assert!(err.contains("Path must be within"), "{err}");
    assert_eq!(ws.ok(&["js", "window.innerWidth"]), "1000\n");

    let saved = ws.ok(&["archive", "page.mhtml"]);
    assert!(
        saved.starts_with("Archive saved: page.mhtml (") && saved.ends_with("KB, MHTML)\n"),
        "{saved}"
    );
    let mhtml = std::fs::read_to_string(ws.path().join("page.mhtml")).expect("mhtml");
    assert!(mhtml.contains("MIME-Version: 1.0"), "{mhtml:.300}");
    assert!(mhtml.contains("Hello archive"));
    let default = ws.ok(&["archive"]);
    let path = default
        .strip_prefix("Archive saved: ")
        .and_then(|r| r.split(" (").next())
        .expect("path");
    assert!(
        path.starts_with("/tmp/browse-archive-") && path.ends_with(".mhtml"),
        "{path}"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn load_html_replaces_the_document_from_a_file_or_a_payload() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    let html = "<!doctype html><title>Loaded</title><p id=p>from a file</p>";
    std::fs::write(ws.path().join("page.html"), html).expect("write");
    let real = ws
        .path()
        .canonicalize()
        .expect("canonical")
        .join("page.html");
    assert_eq!(
        ws.ok(&["load-html", "page.html"]),
        format!("Loaded HTML: {} ({} bytes)\n", real.display(), html.len())
    );
    assert_eq!(
        ws.ok(&["js", "document.querySelector('#p').textContent"]),
        "from a file\n"
    );
    assert_eq!(ws.ok(&["url"]), "about:blank\n");
    // Refs from before are gone: the document they named is.
    ws.ok(&["snapshot"]);

    // A JSON payload (gstack's --from-file), through an alias; chars in UTF-16 units.
    let payload = serde_json::json!({ "html": "<p id=q>é 𝄞</p>", "waitUntil": "load" });
    std::fs::write(ws.path().join("payload.json"), payload.to_string()).expect("write");
    assert_eq!(
        ws.ok(&["setcontent", "--from-file", "payload.json"]),
        "Loaded HTML: (inline from --from-file, 16 chars)\n"
    );
    assert_eq!(
        ws.ok(&["js", "document.querySelector('#q').textContent"]),
        "é 𝄞\n"
    );

    // gstack's refusals.
    std::fs::write(ws.path().join("notes.txt"), "<p>x</p>").expect("write");
    let err = ws.fails(&["load-html", "notes.txt"]);
    assert!(
        err.contains("Expected .html/.htm/.xhtml, got .txt"),
        "{err}"
    );
    std::fs::write(ws.path().join("binary.html"), b"\x00\x01PNG").expect("write");
    let err = ws.fails(&["load-html", "binary.html"]);
    assert!(
        err.contains("content does not look like HTML. First bytes: 00 01 50 4e 47"),
        "{err}"
    );
    let err = ws.fails(&["load-html", "missing.html"]);
    assert!(err.contains("load-html: file not found at "), "{err}");
    let err = ws.fails(&["load-html", "/etc/hostname.html"]);
    assert!(
        err.contains("file not found") || err.contains("security policy"),
        "{err}"
    );
    let err = ws.fails(&["load-html", "page.html", "--wait-until", "soon"]);
    assert!(err.contains("Invalid --wait-until 'soon'"), "{err}");
    // The page is still the payload's after the refusals.
    assert_eq!(
        ws.ok(&["js", "document.querySelector('#q').textContent"]),
        "é 𝄞\n"
    );
}

#[test]
fn diff_compares_two_pages_and_tab_each_runs_on_every_tab() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[
        // Lines in the source: `text` reads a detached clone (gstack's script), whose
        // innerText is its textContent.
        (
            "/a.html",
            "<title>A</title><p>same</p>\n<p>old line</p>\n<p>end</p>",
        ),
        (
            "/b.html",
            "<title>B</title><p>same</p>\n<p>new line</p>\n<p>end</p>\n<p>extra</p>",
        ),
    ]);
    let ws = Workspace::with_chromium();
    let (a, b) = (pages.url("/a.html"), pages.url("/b.html"));
    assert_eq!(
        ws.ok(&["diff", &a, &b]),
        format!("--- {a}\n+++ {b}\n\n  same\n- old line\n+ new line\n  end\n+ extra\n")
    );
    // With the envelope, gstack's source names both pages.
    let wrapped = ws.ok(&["--untrusted-envelope", "diff", &a, &b]);
    assert!(
        wrapped.starts_with(&format!(
            "--- BEGIN UNTRUSTED EXTERNAL CONTENT (source: diff: {a} vs {b}) ---\n--- {a}"
        )),
        "{wrapped}"
    );
    let err = ws.fails(&["diff", &a, "javascript:alert(1)"]);
    assert!(err.contains("Blocked: scheme"), "{err}");

    // tab-each: tab 1 shows b (diff's last page), tab 2 shows a; the active tab stays 2.
    ws.ok(&["newtab", &a]);
    let report: serde_json::Value =
        serde_json::from_str(&ws.ok(&["tab-each", "js", "document.title"])).expect("JSON");
    assert_eq!(report["command"], "js");
    assert_eq!(report["args"], serde_json::json!(["document.title"]));
    assert_eq!(report["total"], 2);
    let results = report["results"].as_array().expect("results");
    assert_eq!(results[0]["tabId"], 1);
    assert_eq!(results[0]["url"], b);
    assert_eq!(results[0]["title"], "B");
    assert_eq!(results[0]["status"], 200);
    assert_eq!(results[0]["output"], "B");
    assert_eq!(results[1]["output"], "A");
    // A failing command is reported per tab, not as a failure of tab-each.
    let report: serde_json::Value =
        serde_json::from_str(&ws.ok(&["tab-each", "click", "#missing-in-both"])).expect("JSON");
    assert_eq!(report["results"][0]["status"], 500);
    assert!(report["results"][1]["output"]
        .as_str()
        .is_some_and(|o| !o.is_empty()));
    assert!(ws.ok(&["tabs"]).contains("→ [2]"));
    // A page a command opens does not move the active tab either (gstack restores it); the
    // new tab stays open, and the notes say both.
    let out = ws.run(&["tab-each", "js", "window.open(location.href); 'opened'"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).ends_with(
            "[browse] tab-each: tab 2 is the active tab again, as before it ran (tabs its \
             commands' pages opened stay open: 'browse tabs')\n"
        ),
        "{}",
        stderr(&out)
    );
    let listing = ws.ok(&["tabs"]);
    assert!(
        listing.contains("→ [2]") && listing.lines().count() == 4,
        "{listing}"
    );
    ws.ok(&["closetab", "3"]);
    ws.ok(&["closetab", "4"]);
    assert!(ws.ok(&["tabs"]).contains("→ [2]"));
    let err = ws.fails(&["tab-each", "closetab"]);
    assert!(err.contains("tab-each cannot run 'closetab'"), "{err}");
    assert!(ws.ok(&["tabs"]).contains("[1]"));
}

#[test]
fn data_and_media_print_gstacks_json() {
    let _slot = chromium_slot();
    let page = r#"<title>Shop</title>
<link rel="canonical" href="https://shop.example/p">
<meta name="description" content="A thing">
<meta property="og:title" content="Thing"><meta property="og:image" content="https://shop.example/t.png">
<meta name="twitter:card" content="summary">
<script type="application/ld+json">{"@type":"Product","name":"Thing"}</script>
<script type="application/ld+json">not json</script>
<main><img id="i1" src="/a.png" alt="first" width="10" height="20" data-src="/lazy.png"></main>
<img src="/b.png" alt="second">
<video src="/v.mp4" width="30" height="40"><source src="/s.m3u8" type="application/x-mpegURL"></video>
<audio><source src="/a.mp3" type="audio/mpeg"></audio>
<div id="hero" class="big wide" style="background-image:url('/bg.jpg');width:5px;height:5px"></div>"#;
    let pages = PageServer::start(&[("/p.html", page)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/p.html")]);

    assert_eq!(
        ws.ok(&["data"]),
        r#"{
  "jsonLd": [
    {
      "@type": "Product",
      "name": "Thing"
    }
  ],
  "openGraph": {
    "title": "Thing",
    "image": "https://shop.example/t.png"
  },
  "twitterCards": {
    "card": "summary"
  },
  "meta": {
    "canonical": "https://shop.example/p",
    "description": "A thing",
    "title": "Shop"
  }
}
"#
    );
    assert_eq!(
        ws.ok(&["data", "--twitter"]),
        "{\n  \"twitterCards\": {\n    \"card\": \"summary\"\n  }\n}\n"
    );

    let media: serde_json::Value = serde_json::from_str(&ws.ok(&["media"])).expect("JSON");
    assert_eq!(media["total"], 5);
    assert_eq!(media["images"][0]["src"], pages.url("/a.png"));
    assert_eq!(media["images"][0]["alt"], "first");
    assert_eq!(media["images"][0]["width"], 10);
    assert_eq!(media["images"][0]["dataSrc"], "/lazy.png");
    assert_eq!(media["videos"][0]["isHLS"], true);
    assert_eq!(media["videos"][0]["type"], "application/x-mpegURL");
    assert_eq!(media["audio"][0]["src"], pages.url("/a.mp3"));
    assert_eq!(
        media["backgroundImages"][0]["selector"],
        "div#hero.big.wide"
    );
    assert!(media["backgroundImages"][0]["url"]
        .as_str()
        .is_some_and(|u| u.ends_with("/bg.jpg")));
    // Scoped and filtered.
    let scoped: serde_json::Value =
        serde_json::from_str(&ws.ok(&["media", "--images", "main"])).expect("JSON");
    assert_eq!(scoped["images"].as_array().map(Vec::len), Some(1));
    assert_eq!(scoped["videos"].as_array().map(Vec::len), Some(0));
    assert_eq!(scoped["total"], 1);
    let text = ws.ok(&["media", "--audio"]);
    assert!(
        text.starts_with("{\n  \"images\": [],\n  \"videos\": [],\n  \"audio\": [\n"),
        "{text}"
    );
    // The scope element itself counts: #i1 is the <img>.
    let itself: serde_json::Value =
        serde_json::from_str(&ws.ok(&["media", "--images", "#i1"])).expect("JSON");
    assert_eq!(itself["images"][0]["src"], pages.url("/a.png"));
    assert_eq!(itself["total"], 1);
    // Kind flags combine.
    let both: serde_json::Value =
        serde_json::from_str(&ws.ok(&["media", "--videos", "--audio"])).expect("JSON");
    assert_eq!(both["videos"].as_array().map(Vec::len), Some(1));
    assert_eq!(both["audio"].as_array().map(Vec::len), Some(1));
    assert_eq!(both["total"], 2);
    // A scope that matches nothing, or does not parse, fails instead of listing the page.
    let err = ws.fails(&["media", "#nope"]);
    assert!(err.starts_with("Element not found: #nope\n"), "{err}");
    assert!(err.contains("browse snapshot"), "{err}");
    let err = ws.fails(&["media", "p:nth-child(0"]);
    assert!(!err.contains("\"images\""), "{err}");
    assert!(err.contains("p:nth-child(0"), "{err}");
}

#[test]
fn cdp_performance_metrics_need_no_enable_first() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/m.html", "<!DOCTYPE html><title>M</title><p>Metrics</p>")]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/m.html")]);
    let metrics: serde_json::Value =
        serde_json::from_str(&ws.ok(&["cdp", "Performance.getMetrics"])).expect("JSON");
    let names: Vec<&str> = metrics["metrics"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["name"].as_str()).collect())
        .unwrap_or_default();
    assert!(names.contains(&"Nodes"), "{metrics}");
}
