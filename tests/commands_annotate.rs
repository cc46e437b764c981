//! `snapshot -a` / `-H` (boxes on each ref, a full-page capture, the page left as it was) and
//! `accessibility` (Playwright's aria-YAML), with a real Chromium. The expected texts are what
//! gstack 85fd9db printed for the same pages.

mod common;

use std::time::Duration;

use common::png::Image;
use common::*;

/// Two buttons at known places (one below the first screen), a `<select>` whose options have
/// no box, and a page that tries to break the drawing: a style sheet hiding every `div`, and
/// `attachShadow` and `document.createElement` replaced.
const BOXES: &str = r#"<!DOCTYPE html><html><head><style>
html, body { margin: 0; background: #fff }
div { display: none !important; border-color: blue !important }
button { position: absolute; width: 120px; height: 40px; margin: 0 }
</style></head><body>
<button id="alpha" style="left: 100px; top: 200px">Alpha</button>
<button id="beta" style="left: 400px; top: 1200px">Beta</button>
<select aria-label="Pick" style="position: absolute; left: 100px; top: 300px"><option>One</option><option>Two</option></select>
<section style="height: 1600px"></section>
<script>
Element.prototype.attachShadow = () => { throw new Error('page broke attachShadow'); };
document.createElement = () => { throw new Error('page broke createElement'); };
</script>
</body></html>"#;

/// How far (per channel) a pixel may be from the colour expected.
fn near(got: [u8; 3], want: [u8; 3]) -> bool {
    got.iter().zip(want).all(|(g, w)| g.abs_diff(w) <= 8)
}

#[test]
fn annotate_and_heatmap_draw_on_each_refs_box_and_leave_the_page_as_it_was() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/boxes.html", BOXES)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/boxes.html")]);
    // Scrolled: boxes are still drawn at page coordinates.
    ws.ok(&["js", "window.scrollTo(0, 700)"]);
    let dom = || ws.ok(&["js", "document.documentElement.outerHTML"]);
    let before = dom();

    let tree = [
        r#"@e1 [button] "Alpha""#,
        r#"@e2 [button] "Beta""#,
        r#"@e3 [combobox] "Pick""#,
        r#"  @e4 [option] "One" [selected]"#,
        r#"  @e5 [option] "Two""#,
    ]
    .join("\n");
    assert_eq!(
        ws.ok(&["snapshot", "-i", "-a", "-o", "shot.png"]),
        format!("{tree}\n\n[annotated screenshot: shot.png]\n[annotated: 2 skipped: @e4, @e5]\n")
    );
    let shot = Image::decode(&std::fs::read(ws.path().join("shot.png")).expect("shot.png"));
    assert_eq!(
        (shot.width, shot.height),
        (1280, 1600),
        "a full-page capture"
    );
    // The left border of each button's box, the first below the first screen.
    assert!(
        near(shot.rgb(101, 220), [255, 0, 0]),
        "{:?}",
        shot.rgb(101, 220)
    );
    assert!(
        near(shot.rgb(401, 1220), [255, 0, 0]),
        "{:?}",
        shot.rgb(401, 1220)
    );
    assert!(
        near(shot.rgb(700, 100), [255, 255, 255]),
        "nothing drawn elsewhere"
    );
    assert_eq!(dom(), before, "the overlays are gone");

    // -H: the chosen refs (with or without @) in their colours, the others untouched.
    assert_eq!(
        ws.ok(&[
            "snapshot",
            "-i",
            "-H",
            r#"{"@e1":"green","e2":"blue"}"#,
            "-o",
            "heat.png"
        ]),
        format!("{tree}\n\n[heatmap screenshot: heat.png]\n")
    );
    let heat = Image::decode(&std::fs::read(ws.path().join("heat.png")).expect("heat.png"));
    assert!(
        near(heat.rgb(101, 220), [0, 180, 0]),
        "{:?}",
        heat.rgb(101, 220)
    );
    assert!(
        near(heat.rgb(401, 1220), [0, 102, 255]),
        "{:?}",
        heat.rgb(401, 1220)
    );
    assert!(
        !near(heat.rgb(101, 310), [255, 0, 0]),
        "the select has no box"
    );
    assert_eq!(dom(), before);

    // Bad input: one line in gstack's words (ours for an unknown ref), exit 1, no file.
    let first_line = |args: &[&str]| ws.fails(args).lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first_line(&["snapshot", "-H", "not json", "-o", "x.png"]),
        r#"Invalid heatmap JSON. Expected object: '{"@e1":"green","@e3":"red"}'"#
    );
    assert_eq!(
        first_line(&["snapshot", "-H", r#"{"@e1":"pink"}"#, "-o", "x.png"]),
        "Invalid heatmap color \"pink\" for @e1. Valid: green, yellow, red, blue, orange, gray"
    );
    assert_eq!(
        first_line(&["snapshot", "-i", "-H", r#"{"@e99":"red"}"#, "-o", "x.png"]),
        "Heatmap ref @e99 is not a ref of this snapshot"
    );
    let outside = "/var/tmp/browse-annotate-refused.png";
    assert_eq!(
        first_line(&["snapshot", "-a", "-o", outside]),
        format!("Path must be within: /tmp, {}", ws.path().display())
    );
    assert!(!std::path::Path::new(outside).exists());
    assert!(!ws.path().join("x.png").exists());
    // A write that fails after the capture: the overlays are gone all the same.
    assert!(first_line(&["snapshot", "-a", "-o", "shot.png/inner.png"]).starts_with("Cannot "));
    assert_eq!(dom(), before);
}

/// Playwright's YAML features on one page, with an iframe and a shadow root that `snapshot`
/// descends into.
const A11Y: &str = r#"<!DOCTYPE html>
<html><head><title>A11y</title><style>body { margin: 0 } iframe { position: absolute; left: 300px; top: 400px; width: 300px; height: 150px; border: 0 }</style></head>
<body>
  <h1>Snapshot Test</h1>
  <nav><a href="/page1">Internal Link</a> <a href="https://external.com">External Link</a> <a href="data:text/plain,hello">data link</a></nav>
  <h2>Say "hi": now</h2>
  <form>
    <label>Email: <input type="email" placeholder="you@example.com"></label>
    <input type="text" aria-label="Username" placeholder="Username">
    <label><input type="checkbox" checked> I agree</label>
    <select aria-label="Role"><option>Choose...</option><option>Admin</option></select>
    <textarea aria-label="Bio">hello
world</textarea>
    <button type="button" aria-pressed="true">Bold</button>
  </form>
  <p>42</p>
  <ul><li>one</li><li><a href="?q=1#x">two</a> and text</li></ul>
  <div id="host"></div>
  <iframe srcdoc="<body style='margin:0'><button style='position:absolute;left:20px;top:30px;width:100px;height:40px'>In frame</button></body>"></iframe>
  <script>document.getElementById('host').attachShadow({ mode: 'open' }).innerHTML = '<button>Shadow button</button>';</script>
</body></html>"#;

/// gstack's `accessibility` on [`A11Y`], without the envelope.
const A11Y_YAML: &str = r#"- heading "Snapshot Test" [level=1]
- navigation:
  - link "Internal Link":
    - /url: /page1
  - link "External Link":
    - /url: https://external.com
  - link "data link":
    - /url: data:text/plain,…
- 'heading "Say \"hi\": now" [level=2]'
- text: "Email:"
- textbox "Email:":
  - /placeholder: you@example.com
- textbox "Username"
- checkbox "I agree" [checked]
- text: I agree
- combobox "Role":
  - option "Choose..." [selected]
  - option "Admin"
- textbox "Bio": hello world
- button "Bold" [pressed]
- paragraph: "42"
- list:
  - listitem: one
  - listitem:
    - link "two":
      - /url: "?q=1#x"
    - text: and text
- button "Shadow button"
- iframe
"#;

#[test]
fn accessibility_prints_playwrights_yaml_and_annotate_reaches_frames_and_shadow_roots() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/a11y.html", A11Y)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/a11y.html")]);
    assert_eq!(ws.ok(&["accessibility"]), A11Y_YAML);

    // A cross-site frame (another site, so another renderer and CDP session) added at 700,100.
    let cross = PageServer::start(&[("/cross.html", CROSS)]);
    let cross_url = cross.url("/cross.html").replace("127.0.0.1", "localhost");
    ws.ok(&[
        "js",
        &format!(
            "(() => {{ const f = document.createElement('iframe'); f.src = '{cross_url}'; \
             f.style.cssText = 'left: 700px; top: 100px'; document.body.appendChild(f); }})()"
        ),
    ]);
    wait_until(
        "the cross-site frame's button",
        Duration::from_secs(10),
        || ws.ok(&["snapshot"]).contains("Cross button"),
    );

    // The iframes' buttons (drawn where they are on the page) and the shadow root's have
    // boxes; text runs and the closed select's options do not.
    let out = ws.ok(&["snapshot", "-a", "-o", "frames.png"]);
    assert!(
        out.contains("\n@e24 [iframe]\n  @e25 [button] \"In frame\"\n"),
        "{out}"
    );
    assert!(
        out.ends_with(
            "\n\n[annotated screenshot: frames.png]\n[annotated: 5 skipped: @e7, @e11, @e13, @e14, @e22]\n"
        ),
        "{out}"
    );
    let shot = Image::decode(&std::fs::read(ws.path().join("frames.png")).expect("frames.png"));
    assert!(
        near(shot.rgb(321, 450), [255, 0, 0]),
        "{:?}",
        shot.rgb(321, 450)
    );
    assert!(
        near(shot.rgb(721, 150), [255, 0, 0]),
        "{:?}",
        shot.rgb(721, 150)
    );
}

/// The cross-site frame's page: a button 20,30 from its top left.
const CROSS: &str = "<!DOCTYPE html><body style='margin: 0'><button style='position: absolute; \
left: 20px; top: 30px; width: 100px; height: 40px'>Cross button</button></body>";

/// A long page (scaled by the 2000 px guard) whose script fakes `devicePixelRatio` and
/// `scrollY`, with a
/// button wholly off the page.
const HOSTILE: &str = r#"<!DOCTYPE html><html><head><style>
html, body { margin: 0; background: #fff }
</style></head><body>
<button style="position: absolute; left: 100px; top: 200px; width: 120px; height: 40px">Go</button>
<button style="position: absolute; left: -9999px; top: 0">Off</button>
<section style="height: 3000px"></section>
<script>
Object.defineProperty(window, 'devicePixelRatio', { get() { return 7; } });
Object.defineProperty(window, 'scrollY', { get() { return 100000; } });
</script>
</body></html>"#;

/// A page whose `<body>` has its own shadow root and which removes every node added to it.
const SHADOWED: &str = r#"<!DOCTYPE html><html><body><button>Go</button><script>
document.body.attachShadow({ mode: 'closed' }).innerHTML = '<slot></slot>';
new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => n.remove())))
  .observe(document, { childList: true, subtree: true });
</script></body></html>"#;

#[test]
fn hostile_pages_cannot_fake_the_scale_or_the_annotation_and_scaling_is_reported() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/hostile.html", HOSTILE), ("/shadowed.html", SHADOWED)]);
    let ws = Workspace::with_chromium();
    ws.ok(&["goto", &pages.url("/hostile.html")]);

    // The scale comes from Chromium's metrics, not the page's devicePixelRatio.
    assert_eq!(
        ws.ok(&["screenshot", "full.png"]),
        "Screenshot saved: full.png (scaled from 1280x3000 to 853x2000; --max-size 0 for full \
         size)\n"
    );

    // An element shot measures with Chromium's numbers too.
    assert_eq!(
        ws.ok(&["screenshot", "--selector", "button >> nth=0", "el.png"]),
        "Screenshot saved (element): el.png\n"
    );
    let el = Image::decode(&std::fs::read(ws.path().join("el.png")).expect("el.png"));
    assert_eq!((el.width, el.height), (120, 40));

    // A scaled annotated image says so on a line of its own after gstack's.
    assert_eq!(
        ws.ok(&["snapshot", "-i", "-a", "-o", "long.png"]),
        "@e1 [button] \"Go\"\n@e2 [button] \"Off\"\n\n[annotated screenshot: long.png]\n\
         [annotated: 1 skipped: @e2]\n[note: long.png scaled from \
         1280x3000 to 853x2000; `browse screenshot --max-size 0` captures the page at full \
         size, without boxes]\n"
    );
    let long = Image::decode(&std::fs::read(ws.path().join("long.png")).expect("long.png"));
    assert_eq!((long.width, long.height), (853, 2000));

    // -H names the refs it could not draw, as -a does.
    let heat = ws.ok(&[
        "snapshot",
        "-i",
        "-H",
        r#"{"@e1":"red","@e2":"green"}"#,
        "-o",
        "heat.png",
    ]);
    assert!(
        heat.contains("\n\n[heatmap screenshot: heat.png]\n[heatmap: 1 skipped: @e2]\n[note: "),
        "{heat}"
    );

    // -a and -H with one -o: both are drawn (as gstack does), and the overwrite is said.
    let both = ws.ok(&[
        "snapshot",
        "-i",
        "-a",
        "-H",
        r#"{"@e1":"red"}"#,
        "-o",
        "both.png",
    ]);
    assert!(
        both.contains("[annotated screenshot: both.png]")
            && both.contains("[heatmap screenshot: both.png]")
            && both.contains("[note: -a and -H share -o both.png: the heatmap replaced"),
        "{both}"
    );

    // An empty -o path gets its own error.
    let first_line = |args: &[&str]| ws.fails(args).lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first_line(&["snapshot", "-a", "-o", ""]),
        "snapshot -o: the output path is empty"
    );

    // A page that removes every node added to it: no image that claims boxes it lacks. The
    // command fails saying so, writes nothing, and leaves the page's DOM as it was (no shadow
    // root or other trace left on it).
    ws.ok(&[
        "js",
        "new MutationObserver((ms) => ms.forEach((m) => m.addedNodes.forEach((n) => n.remove())))\
         .observe(document, { childList: true, subtree: true }); 1",
    ]);
    let dom = || ws.ok(&["js", "document.documentElement.outerHTML"]);
    let before = dom();
    let args = ["snapshot", "-i", "-a", "-o", "observed.png"];
    assert!(
        first_line(&args).starts_with("the page removed the annotation overlay"),
        "{}",
        ws.fails(&args)
    );
    assert!(!ws.path().join("observed.png").exists());
    assert_eq!(dom(), before);
    assert_eq!(
        ws.ok(&["js", "document.body.shadowRoot === null"]),
        "true\n"
    );
    assert_eq!(
        ws.ok(&["snapshot", "-i"]),
        "@e1 [button] \"Go\"\n@e2 [button] \"Off\"\n"
    );

    // The same on a page whose body has its own shadow root, for -a and -H.
    ws.ok(&["goto", &pages.url("/shadowed.html")]);
    for flags in [&["-a"][..], &["-H", r#"{"@e1":"red"}"#][..]] {
        let mut args = vec!["snapshot", "-i"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["-o", "removed.png"]);
        assert!(
            first_line(&args).starts_with("the page removed the annotation overlay"),
            "{args:?}: {}",
            ws.fails(&args)
        );
        assert!(!ws.path().join("removed.png").exists());
    }

    // A page without refs: -H's keys are unknown refs; -a says it wrote nothing.
    ws.ok(&["goto", "about:blank"]);
    assert_eq!(
        first_line(&["snapshot", "-H", r#"{"@e1":"red"}"#, "-o", "e.png"]),
        "Heatmap ref @e1 is not a ref of this snapshot"
    );
    assert_eq!(
        ws.ok(&["snapshot", "-a", "-o", "e.png"]),
        "(no accessible elements found)\n[note: no annotated screenshot written: the page has \
         no refs to draw]\n"
    );
    assert!(!ws.path().join("e.png").exists());
}
