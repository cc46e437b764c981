//! `snapshot -a` (annotated) and `snapshot -H <json>` (heatmap) screenshots: a box and an
//! `@eN` label over each ref's element, a full-page capture, then the boxes taken away again
//! (gstack `snapshot.ts`, spec §6.3). Their lines follow the snapshot's:
//! `[annotated screenshot: <path>]`, `[annotated: J skipped: @e…]`, `[heatmap screenshot: <path>]`.
//!
//! Where an element is comes from `DOM.getBoxModel` (what Playwright's `boundingBox` reads: the
//! border box in the viewport of the session's root frame; for an element of an out-of-process
//! iframe, moved by where that frame sits in the tab), or, for the page snapshot engine's held
//! elements, from `getBoundingClientRect` run in the engine's isolated world and moved by the
//! frame's offset. A node Chromium did not lay out (`display: none`, an option of a closed
//! `<select>`) has no box: `-a` reports it as skipped, `-H` leaves it out as gstack does. A
//! `text` ref is a run of text, not an element, and is skipped too (gstack's
//! `getByRole('text')` finds nothing). Refs are keyed on their node, so gstack's
//! `K ambiguous (first-match)` part never arises.
//!
//! The boxes are drawn from an isolated world (`Page.createIsolatedWorld`: pristine builtins)
//! into a closed shadow root under one host element whose inline styles are `!important`, so
//! the page's scripts and style sheets can neither break the drawing nor restyle it. The host
//! is removed once the capture is taken or has failed ([`Drawn`]'s `Drop`), leaving the
//! page's DOM as it was.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{json, Value};

use super::Options;
use crate::browser::commands::screenshot;
use crate::browser::confine;
use crate::browser::frames::{self, FrameRef};
use crate::browser::page::{CommandError, Ctx};
use crate::browser::refs::RefEntry;
use crate::cdp::Tab;

/// The heatmap colours gstack accepts, in the order its error message lists them.
const COLOURS: &[&str] = &["green", "yellow", "red", "blue", "orange", "gray"];

/// At most this many refs are named on the `[annotated: …]` line; the rest are counted.
const NAMED_REFS: usize = 8;

/// A box's border and fill (CSS colours). gstack's values, so that the images look alike.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Paint {
    border: &'static str,
    fill: &'static str,
}

/// `-a`'s boxes.
const ANNOTATION: Paint = Paint {
    border: "#ff0000",
    fill: "rgba(255,0,0,0.1)",
};

/// A heatmap colour by name.
fn heat(name: &str) -> Option<Paint> {
    let (border, fill) = match name {
        "green" => ("#00b400", "rgba(0,180,0,0.15)"),
        "yellow" => ("#ffb400", "rgba(255,180,0,0.15)"),
        "red" => ("#ff0000", "rgba(255,0,0,0.15)"),
        "blue" => ("#0066ff", "rgba(0,102,255,0.15)"),
        "orange" => ("#ff6600", "rgba(255,102,0,0.15)"),
        "gray" => ("#888888", "rgba(136,136,136,0.15)"),
        _ => return None,
    };
    Some(Paint { border, fill })
}

/// Where one image goes: the path as the user gave it (printed) and where it resolved.
#[derive(Debug)]
struct Output {
    shown: String,
    target: PathBuf,
}

impl Output {
    /// `-o`'s path, else a fresh `<stem>-….png` in the temp dir (as `screenshot` does); either
    /// must lie inside the temp dir or `cwd` (`Path must be within: …`).
    fn new(
        given: Option<&String>,
        stem: &str,
        cwd: &Path,
        workspace: &Path,
    ) -> Result<Self, CommandError> {
        if given.is_some_and(|g| g.is_empty()) {
            return Err(CommandError::failed_with_hint(
                "snapshot -o: the output path is empty",
                "give a file name, e.g. -o annotated.png, or leave -o out for a temp file",
            ));
        }
        let shown = given
            .cloned()
            .unwrap_or_else(|| confine::default_output(stem, "png", workspace));
        let target = confine::output(cwd, &shown)?;
        Ok(Self { shown, target })
    }
}

/// What `-a` and `-H` asked for, checked before the snapshot is taken.
#[derive(Debug)]
pub(super) struct Plan {
    annotate: Option<Output>,
    /// The heatmap's image and its `(key as given, paint)` pairs in the JSON's order.
    heatmap: Option<(Output, Vec<(String, Paint)>)>,
}

impl Plan {
    /// `None` without `-a` and `-H`. Errors, in gstack's order and words: an output path
    /// outside the allowed directories, JSON that is not an object, an unknown colour.
    /// `cwd`: where relative paths resolve; `workspace`: the daemon's directory, which names
    /// default outputs.
    pub(super) fn new(
        opts: &Options,
        cwd: &Path,
        workspace: &Path,
    ) -> Result<Option<Self>, CommandError> {
        if !opts.annotate && opts.heatmap.is_none() {
            return Ok(None);
        }
        let output = opts.output.as_ref();
        let annotate = opts
            .annotate
            .then(|| Output::new(output, "browse-annotated", cwd, workspace))
            .transpose()?;
        let heatmap = match &opts.heatmap {
            None => None,
            Some(json) => {
                let image = Output::new(output, "browse-heatmap", cwd, workspace)?;
                Some((image, parse_heatmap(json)?))
            }
        };
        Ok(Some(Self { annotate, heatmap }))
    }

    /// What `-a`/`-H` add to `(no accessible elements found)`: gstack returns before them, so
    /// no image is written; we say so for `-a`, and a heatmap key is an unknown ref as it
    /// is on any other snapshot.
    pub(super) fn on_empty_page(self) -> Result<String, CommandError> {
        if let Some((_, keys)) = self.heatmap {
            heatmap_refs(&[], keys)?;
        }
        Ok(if self.annotate.is_some() {
            "\n[note: no annotated screenshot written: the page has no refs to draw]".into()
        } else {
            String::new()
        })
    }

    /// Draws, captures and cleans up for `-a` then `-H` over the refs the snapshot just left
    /// in `ctx`, and returns the lines to append to its output (each image's line after a
    /// blank line). A heatmap key that names no ref of this snapshot is an error (gstack
    /// skips it silently), raised before anything is drawn.
    pub(super) fn run(self, ctx: &Ctx) -> Result<String, CommandError> {
        let shared_output = match (&self.annotate, &self.heatmap) {
            (Some(a), Some((h, _))) if a.target == h.target => Some(a.shown.clone()),
            _ => None,
        };
        let keyed = ordered_refs(ctx);
        let refs: Vec<(&str, &RefEntry)> = keyed
            .iter()
            .map(|(key, entry)| (key.as_str(), *entry))
            .collect();
        let heatmap = match self.heatmap {
            None => None,
            Some((image, keys)) => Some((image, heatmap_refs(&refs, keys)?)),
        };
        let mut out = String::new();
        if let Some(image) = &self.annotate {
            let boxes = measure(ctx, &refs);
            let mut overlays = Vec::new();
            let mut skipped = Vec::new();
            for ((name, _), rect) in refs.iter().zip(boxes) {
                match rect {
                    Some(rect) => overlays.push(Overlay::new(name, rect, ANNOTATION)),
                    None => skipped.push(format!("@{name}")),
                }
            }
            let note = shoot(ctx, &overlays, image)?;
            out.push_str(&format!("\n\n[annotated screenshot: {}]", image.shown));
            if !skipped.is_empty() {
                out.push_str(&format!(
                    "\n[annotated: {} skipped: {}]",
                    skipped.len(),
                    named(&skipped)
                ));
            }
            out.push_str(&note.unwrap_or_default());
        }
        if let Some((image, chosen)) = heatmap {
            let listed: Vec<(&str, &RefEntry)> = chosen
                .iter()
                .map(|(name, entry, _)| (*name, *entry))
                .collect();
            let mut overlays = Vec::new();
            let mut skipped = Vec::new();
            for ((name, _, paint), rect) in chosen.iter().zip(measure(ctx, &listed)) {
                match rect {
                    Some(rect) => overlays.push(Overlay::new(name, rect, *paint)),
                    None => skipped.push(format!("@{name}")),
                }
            }
            let note = shoot(ctx, &overlays, &image)?;
            out.push_str(&format!("\n\n[heatmap screenshot: {}]", image.shown));
            // gstack's behaviour with `-a -H -o path`: both images go to the one path.
            if self.annotate.is_some() {
                if let Some(given) = &shared_output {
                    out.push_str(&format!(
                        "\n[note: -a and -H share -o {given}: the heatmap replaced the annotated \
                         image; leave -o out to keep both]"
                    ));
                }
            }
            // Ours: gstack leaves a ref without a box out of the image without a word.
            if !skipped.is_empty() {
                out.push_str(&format!(
                    "\n[heatmap: {} skipped: {}]",
                    skipped.len(),
                    named(&skipped)
                ));
            }
            out.push_str(&note.unwrap_or_default());
        }
        Ok(out)
    }
}

/// `@e1, @e2, …` with at most [`NAMED_REFS`] names, then `, +N more`.
fn named(refs: &[String]) -> String {
    let mut text = refs
        .iter()
        .take(NAMED_REFS)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if refs.len() > NAMED_REFS {
        text.push_str(&format!(", +{} more", refs.len() - NAMED_REFS));
    }
    text
}

/// The snapshot's refs in the order it printed them: `@e1…` then `@c1…`.
fn ordered_refs<'a>(ctx: &'a Ctx) -> Vec<(String, &'a RefEntry)> {
    ctx.state.refs.iter().collect()
}

/// The heatmap's keys (`@e3` or `e3`, as gstack takes them) as refs of this snapshot.
fn heatmap_refs<'a>(
    refs: &[(&'a str, &'a RefEntry)],
    keys: Vec<(String, Paint)>,
) -> Result<Vec<(&'a str, &'a RefEntry, Paint)>, CommandError> {
    keys.into_iter()
        .map(|(key, paint)| {
            let name = key.strip_prefix('@').unwrap_or(&key);
            refs.iter()
                .find(|(n, _)| *n == name)
                .map(|(n, entry)| (*n, *entry, paint))
                .ok_or_else(|| {
                    CommandError::failed_with_hint(
                        format!("Heatmap ref {key} is not a ref of this snapshot"),
                        "-H colours the refs this snapshot prints: run it without -H to see them",
                    )
                })
        })
        .collect()
}

/// gstack's checks of `-H`'s value: a JSON object whose values are colour names.
fn parse_heatmap(json: &str) -> Result<Vec<(String, Paint)>, CommandError> {
    let entries = serde_json::from_str::<Entries>(json).map_err(|_| {
        CommandError::failed(
            "Invalid heatmap JSON. Expected object: '{\"@e1\":\"green\",\"@e3\":\"red\"}'",
        )
    })?;
    entries
        .0
        .into_iter()
        .map(|(key, value)| match value.as_str().and_then(heat) {
            Some(paint) => Ok((key, paint)),
            None => Err(CommandError::failed(format!(
                "Invalid heatmap color \"{}\" for {key}. Valid: {}",
                js_string(&value),
                COLOURS.join(", ")
            ))),
        })
        .collect()
}

/// JavaScript's `String(value)` for a parsed JSON value (what gstack's message shows).
fn js_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::Null => String::new(),
                v => js_string(v),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
        other => other.to_string(),
    }
}

/// A JSON object's entries in their order (as `Object.entries` gives them); a repeated key
/// keeps its first place and its last value, as `JSON.parse` does.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries: Vec<(String, Value)> = Vec::new();
                let mut seen: HashMap<String, usize> = HashMap::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    match seen.get(&key) {
                        Some(&at) => entries[at].1 = value,
                        None => {
                            seen.insert(key.clone(), entries.len());
                            entries.push((key, value));
                        }
                    }
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring: each ref's border box in the tab's viewport, CSS px.

#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

/// Each ref's box, `None` where it has none (or it cannot be measured: a box we cannot
/// measure is one we do not draw, never a reason to lose the others).
/// A box wholly outside the page (`left: -9999px`) counts as none: nothing of it would show.
fn measure(ctx: &Ctx, refs: &[(&str, &RefEntry)]) -> Vec<Option<Rect>> {
    let began = Instant::now();
    let mut rects = measure_all(ctx, refs);
    if let Some(page) = page_in_viewport(ctx) {
        for rect in &mut rects {
            if rect.is_some_and(|r| !r.overlaps(page)) {
                *rect = None;
            }
        }
    }
    tracing::debug!(
        refs = refs.len(),
        ms = began.elapsed().as_millis() as u64,
        "snapshot overlays measured"
    );
    rects
}

fn measure_all(ctx: &Ctx, refs: &[(&str, &RefEntry)]) -> Vec<Option<Rect>> {
    let mut rects = vec![None; refs.len()];
    // The page engine's refs: one script call per elements array.
    let mut held: HashMap<&str, Vec<(usize, u32)>> = HashMap::new();
    // The accessibility tree's refs: `DOM.getBoxModel` calls, pipelined per session.
    let mut by_backend: HashMap<&str, Vec<(usize, i64)>> = HashMap::new();
    let mut frames: HashMap<&str, Option<&FrameRef>> = HashMap::new();
    for (i, (_, entry)) in refs.iter().enumerate() {
        if entry.role == "text" {
            continue;
        }
        let session = entry
            .frame
            .as_ref()
            .map_or(ctx.tab.cdp.session_id(), |f| f.session.cdp.session_id());
        match &entry.held {
            Some((array, index)) => held.entry(&**array).or_default().push((i, *index)),
            None => {
                frames.entry(session).or_insert(entry.frame.as_ref());
                by_backend
                    .entry(session)
                    .or_default()
                    .push((i, entry.backend_node_id));
            }
        }
    }
    for (array, wanted) in held {
        // Every element of one array is in the frame its snapshot read.
        let frame = refs[wanted[0].0].1.frame.as_ref();
        let (session, offset) = match frame {
            None => (Arc::clone(&ctx.tab.cdp), Some((0.0, 0.0))),
            Some(f) => (Arc::clone(&f.session.cdp), frame_viewport_offset(f)),
        };
        let Some(offset) = offset else { continue };
        let indexes: Vec<u32> = wanted.iter().map(|(_, index)| *index).collect();
        let Ok(found) = held_rects(&session, array, &indexes) else {
            continue;
        };
        for ((i, _), rect) in wanted.iter().zip(found) {
            rects[*i] = rect.map(|r| r.moved(offset));
        }
    }
    for (session, wanted) in by_backend {
        let frame = frames.get(session).copied().flatten();
        let (tab, offset) = match frame {
            None => (Arc::clone(&ctx.tab.cdp), Some((0.0, 0.0))),
            Some(f) => (
                Arc::clone(&f.session.cdp),
                frames::session_offset(&f.session).ok(),
            ),
        };
        let Some(offset) = offset else { continue };
        let calls = wanted
            .iter()
            .map(|(_, backend)| ("DOM.getBoxModel", json!({ "backendNodeId": backend })))
            .collect();
        for ((i, _), reply) in wanted.iter().zip(tab.call_raw_pipelined(calls)) {
            rects[*i] = reply
                .ok()
                .and_then(|r| border_bounds(&r))
                .map(|r| r.moved(offset));
        }
    }
    rects
}

/// The whole page (`cssContentSize`) in the viewport's coordinates (moved by the scroll
/// position, `cssLayoutViewport`'s `pageX`/`pageY`), from `Page.getLayoutMetrics`.
fn page_in_viewport(ctx: &Ctx) -> Option<Rect> {
    let m = ctx
        .tab
        .cdp
        .call_raw("Page.getLayoutMetrics", json!({}))
        .ok()?;
    let num = |v: &Value| v.as_f64();
    Some(Rect {
        x: num(&m["cssContentSize"]["x"])? - num(&m["cssLayoutViewport"]["pageX"])?,
        y: num(&m["cssContentSize"]["y"])? - num(&m["cssLayoutViewport"]["pageY"])?,
        width: num(&m["cssContentSize"]["width"])?,
        height: num(&m["cssContentSize"]["height"])?,
    })
}

impl Rect {
    /// Whether the two meet (an empty box on or inside `other` does).
    fn overlaps(self, other: Rect) -> bool {
        self.x <= other.x + other.width
            && other.x <= self.x + self.width
            && self.y <= other.y + other.height
            && other.y <= self.y + self.height
    }

    fn moved(self, (dx, dy): (f64, f64)) -> Self {
        Self {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }
}

/// Where `frame`'s viewport sits in the tab's viewport; `None` when it cannot be told (its
/// `<iframe>` has no box).
fn frame_viewport_offset(frame: &FrameRef) -> Option<(f64, f64)> {
    let (x, y) = frames::offset_in_session(frame).ok()?;
    let (sx, sy) = frames::session_offset(&frame.session).ok()?;
    Some((x + sx, y + sy))
}

/// The bounds of `DOM.getBoxModel`'s border quad.
fn border_bounds(reply: &Value) -> Option<Rect> {
    let (x0, y0, x1, y1) = screenshot::border_quad_bounds(reply)?;
    Some(Rect {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    })
}

/// The page engine's elements at `indexes` of its array, measured in its isolated world (the
/// frame's viewport, CSS px): `null` for one that left the page or has no layout box.
const HELD_RECTS: &str = "function (indexes) {
  return indexes.map((i) => {
    const node = this[i];
    if (!node || !node.isConnected || node.nodeType !== 1) return null;
    if (node.getClientRects().length === 0) return null;
    const r = node.getBoundingClientRect();
    return [r.x, r.y, r.width, r.height];
  });
}";

fn held_rects(
    session: &Tab,
    array: &str,
    indexes: &[u32],
) -> Result<Vec<Option<Rect>>, CommandError> {
    let reply = session
        .call_raw(
            "Runtime.callFunctionOn",
            json!({
                "functionDeclaration": HELD_RECTS,
                "objectId": array,
                "arguments": [{ "value": indexes }],
                "returnByValue": true,
                "silent": true,
            }),
        )
        .map_err(super::cdp_error)?;
    let found = reply["result"]["value"]
        .as_array()
        .ok_or_else(|| CommandError::failed("the page engine's elements could not be measured"))?;
    Ok(found
        .iter()
        .map(|r| {
            let r: Vec<f64> = r.as_array()?.iter().filter_map(Value::as_f64).collect();
            (r.len() == 4).then(|| Rect {
                x: r[0],
                y: r[1],
                width: r[2],
                height: r[3],
            })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Drawing and capturing.

/// One box to draw: where (tab viewport, CSS px), its label and its colours.
#[derive(Debug, serde::Serialize)]
struct Overlay {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
    label: String,
    border: &'static str,
    fill: &'static str,
}

impl Overlay {
    fn new(name: &str, rect: Rect, paint: Paint) -> Self {
        Self {
            x: rect.x,
            y: rect.y,
            width: rect.width,
            height: rect.height,
            label: format!("@{name}"),
            border: paint.border,
            fill: paint.fill,
        }
    }
}

/// Draws the overlays and returns their host. The host is positioned absolutely and measured,
/// so the boxes land on page coordinates whatever the scroll position or the containing block
/// (a positioned or offset `<html>`). A page that removes what is added to it is not worked
/// around (hiding the host in a shadow root of `<body>` would leave that root behind, and a
/// later `attachShadow` of the page's would throw): [`shoot`] finds the host gone and fails.
const DRAW: &str = "(boxes) => {
  const host = document.createElement('div');
  host.style.cssText = 'all: initial !important; display: block !important; \
position: absolute !important; left: 0 !important; top: 0 !important; width: 0 !important; \
height: 0 !important; margin: 0 !important; overflow: visible !important; \
pointer-events: none !important; z-index: 2147483647 !important; transform: none !important; \
visibility: visible !important; opacity: 1 !important;';
  const root = host.attachShadow({ mode: 'closed' });
  document.documentElement.appendChild(host);
  const origin = host.getBoundingClientRect();
  for (const b of boxes) {
    const box = document.createElement('div');
    box.style.cssText = `position: absolute; box-sizing: border-box; \
left: ${b.x - origin.x}px; top: ${b.y - origin.y}px; width: ${b.width}px; \
height: ${b.height}px; border: 2px solid ${b.border}; background: ${b.fill}; margin: 0;`;
    const label = document.createElement('span');
    label.textContent = b.label;
    label.style.cssText = `position: absolute; top: -14px; left: 0; background: ${b.border}; \
color: white; padding: 0 3px; font: bold 10px/12px sans-serif; white-space: nowrap;`;
    box.appendChild(label);
    root.appendChild(box);
  }
  // An expando of this isolated world: the page's scripts cannot see or change it.
  host.browseRoot = root;
  return host;
}";

/// Whether the host is still in the document with all its boxes: `this` is the host, the
/// argument the number of boxes drawn. Run from the isolated world that drew them.
const INTACT: &str = "function (count) {
  return this.isConnected && !!this.browseRoot && this.browseRoot.childElementCount === count;
}";

/// The overlays' host while it is in the page; dropping it removes it.
struct Drawn {
    tab: Arc<Tab>,
    host: String,
}

impl Drop for Drawn {
    fn drop(&mut self) {
        // The page may have navigated away meanwhile: then there is nothing left to remove.
        let _ = self.tab.call_raw(
            "Runtime.callFunctionOn",
            json!({
                "functionDeclaration": "function () { this.remove(); }",
                "objectId": self.host,
                "silent": true,
            }),
        );
        let _ = self
            .tab
            .call_raw("Runtime.releaseObject", json!({ "objectId": self.host }));
    }
}

impl Drawn {
    /// Whether the page left the host and its `count` boxes in the document (a page script
    /// may remove whatever is added to it, e.g. from a `MutationObserver`). A call that fails
    /// (the page navigated away) counts as not intact.
    fn intact(&self, count: usize) -> bool {
        self.tab
            .call_raw(
                "Runtime.callFunctionOn",
                json!({
                    "functionDeclaration": INTACT,
                    "objectId": self.host,
                    "arguments": [{ "value": count }],
                    "returnByValue": true,
                    "silent": true,
                }),
            )
            .ok()
            .and_then(|r| r["result"]["value"].as_bool())
            .unwrap_or(false)
    }
}

/// Draws `overlays` into the tab's main document from a fresh isolated world.
fn draw(ctx: &Ctx, overlays: &[Overlay]) -> Result<Drawn, CommandError> {
    let tab = Arc::clone(&ctx.tab.cdp);
    let context = super::page_engine::isolated_world(&tab, None, "browse-annotate")?;
    let boxes = serde_json::to_string(overlays).map_err(|e| CommandError::failed(e.to_string()))?;
    let reply = tab
        .call_raw(
            "Runtime.evaluate",
            json!({
                "expression": format!("({DRAW})({boxes})"),
                "contextId": context,
                "returnByValue": false,
                "silent": true,
            }),
        )
        .map_err(super::cdp_error)?;
    if let Some(details) = reply.get("exceptionDetails") {
        let why = details["exception"]["description"]
            .as_str()
            .or_else(|| details["text"].as_str())
            .unwrap_or("an exception");
        return Err(CommandError::failed(format!(
            "Could not draw the overlays: {}",
            why.lines().next().unwrap_or_default()
        )));
    }
    let host = reply["result"]["objectId"]
        .as_str()
        .ok_or_else(|| CommandError::failed("Could not draw the overlays: no host element"))?;
    Ok(Drawn {
        tab,
        host: host.to_owned(),
    })
}

/// Draws, captures the full page, checks the overlays were still there when it was taken
/// (before removing them, also when the capture failed), then writes the image. A page that
/// removed them is an error and no image is written: an "annotated" image without its boxes
/// would mislead. Returns the `[note: …]` line when the size guard scaled the
/// image down.
fn shoot(ctx: &Ctx, overlays: &[Overlay], image: &Output) -> Result<Option<String>, CommandError> {
    let began = Instant::now();
    let removed = || {
        CommandError::failed_with_hint(
            "the page removed the annotation overlay before the capture; no image was written",
            "a script on the page removes what is added to it (a MutationObserver?): use \
             `browse screenshot` for a plain capture",
        )
    };
    screenshot::check_image_path(&image.shown)?;
    let drawn = if overlays.is_empty() {
        None
    } else {
        Some(draw(ctx, overlays)?)
    };
    let drawn_in = began.elapsed();
    let (bytes, scaled) = screenshot::full_page_for(ctx, &image.shown)?;
    if let Some(drawn) = &drawn {
        if !drawn.intact(overlays.len()) {
            return Err(removed());
        }
    }
    tracing::debug!(
        boxes = overlays.len(),
        draw_ms = drawn_in.as_millis() as u64,
        capture_ms = (began.elapsed() - drawn_in).as_millis() as u64,
        "snapshot overlays"
    );
    drop(drawn);
    screenshot::write_output(&image.target, &bytes, &image.shown)?;
    Ok(scaled.map(|(from, to)| {
        format!(
            "\n[note: {} scaled from {}x{} to {}x{}; `browse screenshot --max-size 0` captures \
             the page at full size, without boxes]",
            image.shown, from.0, from.1, to.0, to.1
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        parse_heatmap(json)
            .err()
            .map(|e| e.body.error)
            .unwrap_or_default()
    }

    #[test]
    fn heatmap_json_is_checked_in_gstacks_words_and_keeps_its_order() {
        let bad_json =
            "Invalid heatmap JSON. Expected object: '{\"@e1\":\"green\",\"@e3\":\"red\"}'";
        for json in ["nope", "[1]", "null", "\"green\"", "{\"@e1\":\"green\""] {
            assert_eq!(err(json), bad_json, "{json}");
        }
        assert_eq!(
            err(r#"{"@e1":"green","@e2":"pink"}"#),
            "Invalid heatmap color \"pink\" for @e2. Valid: green, yellow, red, blue, orange, gray"
        );
        assert_eq!(
            err(r#"{"@e1":3}"#),
            "Invalid heatmap color \"3\" for @e1. Valid: green, yellow, red, blue, orange, gray"
        );
        assert!(err(r#"{"@e1":[1,null,"a"]}"#).starts_with("Invalid heatmap color \"1,,a\""));
        assert!(err(r#"{"@e1":{}}"#).starts_with("Invalid heatmap color \"[object Object]\""));
        let keys: Vec<String> = parse_heatmap(r#"{"@e9":"red","e2":"gray","@e9":"blue"}"#)
            .expect("valid")
            .into_iter()
            .map(|(k, p)| format!("{k}={}", p.border))
            .collect();
        assert_eq!(keys, ["@e9=#0066ff", "e2=#888888"]);
        assert!(parse_heatmap("{}").expect("empty map").is_empty());
    }

    #[test]
    fn skipped_refs_are_named_up_to_eight() {
        let refs: Vec<String> = (1..=10).map(|i| format!("@e{i}")).collect();
        assert_eq!(named(&refs[..2]), "@e1, @e2");
        assert_eq!(
            named(&refs),
            "@e1, @e2, @e3, @e4, @e5, @e6, @e7, @e8, +2 more"
        );
    }

    #[test]
    fn a_box_model_becomes_its_border_quads_bounds() {
        let reply =
            json!({ "model": { "border": [10.0, 20.0, 110.0, 20.0, 110.0, 60.0, 10.0, 60.0] } });
        assert_eq!(
            border_bounds(&reply),
            Some(Rect {
                x: 10.0,
                y: 20.0,
                width: 100.0,
                height: 40.0
            })
        );
        assert_eq!(border_bounds(&json!({})), None);
    }
}
