//! Capture to files: `screenshot` (gstack's argument rules of spec §5.5: full page by default,
//! `--viewport`, `--selector`/positional element, `--clip`, `--base64`, the 2000 px guard,
//! which `--max-size` moves or turns off and the output line always reports) and `pdf`
//! (Letter by default).
//!
//! Output paths resolve against the daemon's cwd and must stay inside the temp dir or that cwd
//! once symlinks are resolved. Files are written atomically, so a reader or a crash never sees
//! half an image.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use headless_chrome::protocol::cdp::Page::{
    self, CaptureScreenshotFormatOption as Format, Viewport,
};
use serde_json::Value;

use crate::atomic_file::write_atomic;
use crate::browser::confine;
use crate::browser::notes;
use crate::browser::page::{CommandError, CommandResult, Ctx};
use crate::browser::selector::{self, action_timeout, call_function};
use crate::cdp::NoAnswer;

/// The default longest side, in image pixels, of a full-page capture: the vision-API limit
/// gstack's `screenshot-size-guard.ts` enforces. `--max-size N` changes it; 0 turns it off.
const MAX_DIMENSION_PX: u32 = 2000;

/// How often an element shot looks again at an element that has no box yet.
const ELEMENT_POLL: Duration = Duration::from_millis(75);

/// `--base64` refuses images above this size.
const MAX_BASE64_BYTES: usize = 10 * 1024 * 1024;

/// Letter paper, in inches.
const LETTER: (f64, f64) = (8.5, 11.0);

#[derive(Debug, Clone, Copy, PartialEq)]
struct Clip {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

/// What `screenshot` was asked for, after gstack's parsing and checks.
#[derive(Debug, PartialEq)]
struct Request {
    /// Where to write; empty when none was given (a fresh temp path is chosen).
    path: String,
    selector: Option<String>,
    clip: Option<Clip>,
    viewport: bool,
    base64: bool,
    /// The guard's longest side in image pixels; 0 = no guard.
    max_size: u32,
    /// One line each for words gstack's rules dropped or read as a path where an element
    /// was likely meant ([`classification_warnings`]); said on stderr, stdout stays gstack's.
    warnings: Vec<String>,
}

fn parse(args: &[String]) -> Result<Request, CommandError> {
    let mut viewport = false;
    let mut base64 = false;
    let mut flag_selector = None;
    let mut clip = None;
    let mut max_size = MAX_DIMENSION_PX;
    let mut positional = Vec::new();
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        match arg.as_str() {
            "--viewport" => viewport = true,
            "--base64" => base64 = true,
            // Our help lists `--full`; it is the default anyway.
            "--full" => {}
            "--selector" => {
                let value = words.next().filter(|v| !v.is_empty()).ok_or_else(|| {
                    CommandError::failed("Usage: screenshot --selector <css> [path]")
                })?;
                flag_selector = Some(value.clone());
            }
            "--clip" => {
                let value = words.next().filter(|v| !v.is_empty()).ok_or_else(|| {
                    CommandError::failed("Usage: screenshot --clip x,y,w,h [path]")
                })?;
                clip = Some(parse_clip(value)?);
            }
            "--max-size" => {
                let value = words.next().filter(|v| !v.is_empty()).ok_or_else(|| {
                    CommandError::failed(
                        "Usage: screenshot --max-size <px> [path] (0 turns the limit off)",
                    )
                })?;
                max_size = value
                    .parse::<u32>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| {
                        CommandError::failed(format!(
                            "screenshot --max-size: '{value}' is not a whole number of pixels \
                             (0 turns the limit off)"
                        ))
                    })?;
            }
            flag if flag.starts_with("--") => {
                return Err(CommandError::failed(format!(
                    "Unknown screenshot flag: {flag}"
                )))
            }
            _ => positional.push(arg.clone()),
        }
    }
    let mut paths = Vec::new();
    let mut selectors = Vec::new();
    for arg in positional {
        if is_image_path(&arg) {
            paths.push(arg);
        } else if ["@e", "@c", ".", "#"].iter().any(|p| arg.starts_with(p)) || arg.contains('[') {
            selectors.push(arg);
        } else {
            paths.push(arg);
        }
    }
    let warnings = classification_warnings(&paths, &selectors);
    // When there are several of a kind, the last one wins (gstack).
    let path = paths.pop().unwrap_or_default();
    let mut selector = selectors.pop();
    if let Some(flag) = flag_selector {
        if selector.is_some() {
            return Err(CommandError::failed(
                "--selector conflicts with positional selector — choose one",
            ));
        }
        selector = Some(flag);
    }
    Ok(Request {
        path,
        selector,
        clip,
        viewport,
        base64,
        max_size,
        warnings,
    })
}

/// Warnings for what gstack's classification (spec §5.5) does silently: a word it dropped
/// because a later word of the same kind won (`screenshot h1 x.png` shot the whole page into
/// `x.png`, `h1` unseen), and a path without an image extension, which is a word meant as an
/// element more often than a file name (`screenshot h1` wrote a PNG named `h1`). Where an
/// element was likely meant, the line says how to shoot it: `--selector`.
fn classification_warnings(paths: &[String], selectors: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    // Quoted for a POSIX shell (`shlex`), so that the suggestion can be pasted as it is.
    let shoot = |word: &str| {
        let quoted = shlex::try_quote(word).map_or_else(|_| word.into(), |q| q.into_owned());
        format!("; to shoot the element {word}: --selector {quoted}")
    };
    if let Some((used, dropped)) = paths.split_last() {
        // An empty word is no path: the default one is written (stdout names it).
        let written = if used.is_empty() {
            "'' (empty), is no path: the default one is written".to_owned()
        } else {
            format!("'{used}', is the one written")
        };
        for word in dropped {
            let element = if has_image_extension(word) || word.is_empty() {
                String::new()
            } else {
                shoot(word)
            };
            warnings.push(format!(
                "screenshot: ignored '{word}': taken as an output path, and the last path, \
                 {written}{element}"
            ));
        }
        if !used.is_empty() && Path::new(used).extension().is_none() {
            warnings.push(format!(
                "screenshot: '{used}' is the output path (a word that does not start with @e, \
                 @c, . or # nor holds [ is a path), written as a PNG without an extension{}",
                shoot(used)
            ));
        }
    }
    if let Some((used, dropped)) = selectors.split_last() {
        for word in dropped {
            warnings.push(format!(
                "screenshot: ignored '{word}': the last selector, '{used}', is the element shot"
            ));
        }
    }
    warnings
}

/// A name ending in an extension `screenshot` or gstack's path rule knows (case-insensitive).
fn has_image_extension(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".webp", ".pdf"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Checks gstack makes after validating the output path.
fn check_conflicts(req: &Request) -> Result<(), CommandError> {
    if req.clip.is_some() && req.selector.is_some() {
        return Err(CommandError::failed(
            "Cannot use --clip with a selector/ref — choose one",
        ));
    }
    if req.viewport && req.clip.is_some() {
        return Err(CommandError::failed(
            "Cannot use --viewport with --clip — choose one",
        ));
    }
    Ok(())
}

/// A word with a `/` and an image or pdf extension is a path, never a selector.
fn is_image_path(arg: &str) -> bool {
    arg.contains('/') && has_image_extension(arg)
}

fn parse_clip(value: &str) -> Result<Clip, CommandError> {
    let numbers: Vec<f64> = value
        .split(',')
        .map(js_number)
        .collect::<Option<_>>()
        .filter(|n: &Vec<f64>| n.len() == 4)
        .ok_or_else(|| {
            CommandError::failed("Usage: screenshot --clip x,y,width,height — all must be numbers")
        })?;
    Ok(Clip {
        x: numbers[0],
        y: numbers[1],
        width: numbers[2],
        height: numbers[3],
    })
}

/// JavaScript's `Number(s)` for the inputs that matter here (blank is 0).
fn js_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return Some(0.0);
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A number as JavaScript prints it (`10`, not `10.0`).
fn js_display(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// `screenshot [path] [sel] [--viewport] [--selector css] [--clip x,y,w,h] [--base64]
/// [--max-size px]`. A capture the size guard scaled down says so on its output line.
pub fn screenshot(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let mut req = parse(args)?;
    if req.path.is_empty() {
        req.path = confine::default_output("browse-screenshot", "png", &ctx.session.cwd);
    }
    let target = confine::output(&ctx.cwd, &req.path)?;
    check_conflicts(&req)?;
    let format = if req.base64 {
        Format::Png
    } else {
        format_for(&req.path)?
    };
    let (bytes, label, scaled) = if let Some(sel) = &req.selector {
        (
            element_shot(ctx, sel, format)?,
            " (element)".to_owned(),
            None,
        )
    } else if let Some(clip) = req.clip {
        let label = format!(" (clip {})", clip_text(clip));
        (clip_shot(ctx, clip, format)?, label, None)
    } else if req.viewport {
        // gstack guards a viewport capture only when it returns it as base64.
        let guard = if req.base64 { req.max_size } else { 0 };
        let (bytes, scaled) = viewport_shot(ctx, format, guard)?;
        (bytes, " (viewport)".to_owned(), scaled)
    } else {
        let (bytes, scaled) = full_page_shot(ctx, format, req.max_size)?;
        (bytes, String::new(), scaled)
    };
    if req.base64 {
        if bytes.len() > MAX_BASE64_BYTES {
            return Err(CommandError::failed(
                "Screenshot too large for --base64 (>10MB). Use disk path instead.",
            ));
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        return Ok(format!("data:image/png;base64,{encoded}"));
    }
    write_output(&target, &bytes, &req.path)?;
    for warning in &req.warnings {
        notes::say(warning.as_str());
    }
    let note = scaled.map_or_else(String::new, |s| s.note(&bytes));
    Ok(format!("Screenshot saved{label}: {}{note}", req.path))
}

/// `x,y,w,h` as the user gave them (JavaScript number formatting).
fn clip_text(clip: Clip) -> String {
    format!(
        "{},{},{},{}",
        js_display(clip.x),
        js_display(clip.y),
        js_display(clip.width),
        js_display(clip.height)
    )
}

/// The image format `path`'s extension names: `.jpg`/`.jpeg`, `.webp`, else PNG (no
/// extension too). Any other extension is refused, as Playwright's `screenshot({path})` does
/// (`path: unsupported mime type`), rather than writing PNG bytes under a name that says
/// otherwise (`shot.gif`).
fn format_for(path: &str) -> Result<Format, CommandError> {
    let extension = std::path::Path::new(path)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        None | Some("png") => Ok(Format::Png),
        Some("jpg" | "jpeg") => Ok(Format::Jpeg),
        Some("webp") => Ok(Format::Webp),
        Some(other) => Err(CommandError::failed_with_hint(
            format!("Cannot save an image as .{other}: {path}"),
            if other == "pdf" {
                "The extension picks the format: .png, .jpg/.jpeg or .webp ('browse pdf' writes a PDF)."
            } else {
                "The extension picks the format: .png, .jpg/.jpeg or .webp."
            },
        )),
    }
}

/// `(full size, size written)` of a capture the size guard scaled down, in image pixels.
pub(crate) type ScaledSizes = ((u32, u32), (u32, u32));

/// A capture the size guard scaled down: its size at full scale, in image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scaled {
    width: u32,
    height: u32,
    scale: f64,
}

impl Scaled {
    /// ` (scaled from 1280x30542 to 84x2000; --max-size 0 for full size)`, with the size the
    /// image really has when its header can be read.
    fn note(self, image: &[u8]) -> String {
        let ((from_w, from_h), (width, height)) = self.sizes(image);
        format!(" (scaled from {from_w}x{from_h} to {width}x{height}; --max-size 0 for full size)")
    }

    /// `(full size, size written)` in image pixels.
    fn sizes(self, image: &[u8]) -> ((u32, u32), (u32, u32)) {
        let written = image_size(image).unwrap_or_else(|| {
            let at = |n: u32| ((f64::from(n) * self.scale).round() as u32).max(1);
            (at(self.width), at(self.height))
        });
        ((self.width, self.height), written)
    }
}

/// The page's full scrollable area (`cssContentSize` of `Page.getLayoutMetrics`), CSS px.
fn page_rect(ctx: &Ctx) -> Result<Clip, CommandError> {
    let metrics = ctx
        .tab
        .cdp
        .call_method(Page::GetLayoutMetrics(None))
        .map_err(cdp_error)?;
    let size = metrics.css_content_size;
    Ok(Clip {
        x: size.x,
        y: size.y,
        width: size.width,
        height: size.height,
    })
}

/// The part of `a` inside `b`; `None` when they do not overlap by at least a pixel each way
/// (Playwright's `trimClipToSize`, whose result must not be empty either).
fn intersect(a: Clip, b: Clip) -> Option<Clip> {
    let (x0, y0) = (a.x.max(b.x), a.y.max(b.y));
    let (x1, y1) = (
        (a.x + a.width).min(b.x + b.width),
        (a.y + a.height).min(b.y + b.height),
    );
    (x1 - x0 >= 1.0 && y1 - y0 >= 1.0).then_some(Clip {
        x: x0,
        y: y0,
        width: x1 - x0,
        height: y1 - y0,
    })
}

/// Refuses an output path whose extension names no image format we write (see
/// [`format_for`]): for `snapshot -a`/`-H`, before they draw on the page.
pub(crate) fn check_image_path(path: &str) -> Result<(), CommandError> {
    format_for(path).map(|_| ())
}

/// A full-page capture in the format `path`'s extension names, scaled down as gstack's size
/// guard does (longest side 2000 image px), for `snapshot -a`/`-H` (which write it with
/// [`write_output`] once their overlays are gone). With the image, its [`ScaledSizes`] when
/// the guard scaled it down.
pub(crate) fn full_page_for(
    ctx: &Ctx,
    path: &str,
) -> Result<(Vec<u8>, Option<ScaledSizes>), CommandError> {
    let (bytes, scaled) = full_page_shot(ctx, format_for(path)?, MAX_DIMENSION_PX)?;
    let sizes = scaled.map(|s| s.sizes(&bytes));
    Ok((bytes, sizes))
}

fn full_page_shot(
    ctx: &Ctx,
    format: Format,
    max_size: u32,
) -> Result<(Vec<u8>, Option<Scaled>), CommandError> {
    let page = page_rect(ctx)?;
    let (width, height) = (page.width.max(1.0), page.height.max(1.0));
    let scaled = guard(ctx, width, height, max_size);
    let bytes = capture(
        ctx,
        format,
        Some(Viewport {
            x: 0.0,
            y: 0.0,
            width,
            height,
            scale: scaled.map_or(1.0, |s| s.scale),
        }),
        true,
    )?;
    Ok((bytes, scaled))
}

fn viewport_shot(
    ctx: &Ctx,
    format: Format,
    max_size: u32,
) -> Result<(Vec<u8>, Option<Scaled>), CommandError> {
    if max_size == 0 {
        return Ok((capture(ctx, format, None, false)?, None));
    }
    let metrics = ctx
        .tab
        .cdp
        .call_method(Page::GetLayoutMetrics(None))
        .map_err(cdp_error)?;
    let v = metrics.css_visual_viewport;
    let Some(scaled) = guard(ctx, v.client_width, v.client_height, max_size) else {
        return Ok((capture(ctx, format, None, false)?, None));
    };
    let bytes = capture(
        ctx,
        format,
        Some(Viewport {
            x: v.page_x,
            y: v.page_y,
            width: v.client_width,
            height: v.client_height,
            scale: scaled.scale,
        }),
        false,
    )?;
    Ok((bytes, Some(scaled)))
}

/// `--clip x,y,w,h`: CSS px in page coordinates, from the top-left of the document whatever
/// the scroll position (Playwright measures from the current viewport, so the same clip
/// moved with every scroll, our element shots' included). The region is captured from the
/// page (`captureBeyondViewport`), so one below the first screenful shows the page there. A
/// region partly off the page is trimmed to it; one wholly off it is an error.
fn clip_shot(ctx: &Ctx, clip: Clip, format: Format) -> Result<Vec<u8>, CommandError> {
    if clip.width <= 0.0 || clip.height <= 0.0 {
        return Err(CommandError::failed(
            "Clip width and height must be greater than 0",
        ));
    }
    let page = page_rect(ctx)?;
    let Some(region) = intersect(clip, page).map(clip_size_floored) else {
        return Err(CommandError::failed(format!(
            "Clip {} lies outside the page ({}x{} CSS px); nothing to capture",
            clip_text(clip),
            js_display(page.width.round()),
            js_display(page.height.round())
        )));
    };
    capture_region(ctx, format, region)
}

/// Scrolls the element into view (as Playwright does) and measures it: `{box: [x, y, w, h]}`
/// in page coordinates (CSS px), plus `{why}` when it cannot be captured yet.
const ELEMENT_BOX: &str = "function() {
  if (!this.isConnected) return { why: 'was detached from the page' };
  if (this.getClientRects().length === 0) return { why: 'is not rendered (display: none on it or an ancestor)' };
  this.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  const r = this.getBoundingClientRect();
  const box = [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
  if (r.width === 0 || r.height === 0) return { box, why: `has no size (${r.width}x${r.height})` };
  if (getComputedStyle(this).visibility !== 'visible') return { box, why: 'is not visible (visibility: hidden)' };
  return { box };
}";

/// The element's border box, clipped to the page. Waits up to [`action_timeout()`] for the
/// element to exist, be rendered, have a size and be visible (Playwright's wait for
/// `visible`); a box wholly outside the page fails at once, as nothing of it can be drawn
/// (Playwright: "Clipped area is either empty or outside the resulting image").
fn element_shot(ctx: &Ctx, sel: &str, format: Format) -> Result<Vec<u8>, CommandError> {
    let deadline = Instant::now() + action_timeout();
    let found = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let element = selector::find_one(ctx, sel, left).map_err(|e| {
            if selector::is_timeout(&e) {
                // The whole wait, not what was left of it on the last lookup.
                selector::never_matched("screenshot", sel, action_timeout())
            } else {
                e
            }
        })?;
        if element.frame().is_some() {
            // ELEMENT_BOX measures in the frame's document, not the page the shot is of.
            return Err(CommandError::failed_with_hint(
                format!("Cannot capture {sel}: element screenshots inside an iframe are not supported yet"),
                "Capture the whole <iframe> from the main frame ('frame main', then 'screenshot <iframe selector>').",
            ));
        }
        let measured = call_function(element.session(), &element.object_id, ELEMENT_BOX)?;
        let why = measured.get("why").and_then(Value::as_str);
        let numbers: Vec<f64> = measured
            .get("box")
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        match (why, numbers.as_slice()) {
            (None, &[x, y, width, height]) => {
                // The script's numbers come from the page's world, whose `scrollX` or
                // `getBoundingClientRect` a page may redefine: Chromium's are used when it
                // gives them.
                break chromium_box(ctx, element.session(), &element.object_id).unwrap_or(Clip {
                    x,
                    y,
                    width,
                    height,
                });
            }
            (None, _) => {
                return Err(CommandError::failed(format!(
                    "Cannot measure element: {sel}"
                )))
            }
            (Some(why), _) if Instant::now() >= deadline => {
                return Err(CommandError::failed(format!(
                    "Cannot capture {sel}: it {why} (waited {}ms)",
                    action_timeout().as_millis()
                )))
            }
            (Some(_), _) => {}
        }
        drop(element);
        std::thread::sleep(ELEMENT_POLL.min(deadline.saturating_duration_since(Instant::now())));
    };
    let page = page_rect(ctx)?;
    let Some(region) = intersect(found, page) else {
        return Err(CommandError::failed(format!(
            "Cannot capture {sel}: its box (x={}, y={}, {}x{}) lies outside the page \
             ({}x{} CSS px); nothing of it is drawn",
            js_display(found.x),
            js_display(found.y),
            js_display(found.width),
            js_display(found.height),
            js_display(page.width.round()),
            js_display(page.height.round())
        )));
    };
    capture_region(ctx, format, enclosing_int_rect(region))
}

/// The element's border box in page coordinates (CSS px), from Chromium: `DOM.getBoxModel`
/// (viewport coordinates) moved by the visual viewport's scroll position
/// (`Page.getLayoutMetrics`). `None` when either cannot be had.
fn chromium_box(ctx: &Ctx, session: &crate::cdp::Tab, object_id: &str) -> Option<Clip> {
    let model = session
        .call_raw(
            "DOM.getBoxModel",
            serde_json::json!({ "objectId": object_id }),
        )
        .ok()?;
    let (x0, y0, x1, y1) = border_quad_bounds(&model)?;
    let metrics = ctx.tab.cdp.call_method(Page::GetLayoutMetrics(None)).ok()?;
    let v = metrics.css_visual_viewport;
    Some(Clip {
        x: x0 + v.page_x,
        y: y0 + v.page_y,
        width: x1 - x0,
        height: y1 - y0,
    })
}

/// The bounds `(x0, y0, x1, y1)` of the border quad in a `DOM.getBoxModel` reply (CSS px, the
/// frame's viewport); `None` when the reply has no eight-number quad.
pub(crate) fn border_quad_bounds(reply: &Value) -> Option<(f64, f64, f64, f64)> {
    let quad: Vec<f64> = reply["model"]["border"]
        .as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    if quad.len() != 8 {
        return None;
    }
    let xs = quad.iter().step_by(2);
    let ys = quad.iter().skip(1).step_by(2);
    let (x0, x1) = xs.fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let (y0, y1) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), &y| (lo.min(y), hi.max(y)));
    Some((x0, y0, x1, y1))
}

/// Playwright's rounding of an element's box (`helper.enclosingIntRect`): the smallest
/// whole-pixel rectangle holding it, with 0.001 px of slack so float noise does not add a
/// pixel (a box at y=211.59, 21 px high, is captured 22 px high from y=211).
fn enclosing_int_rect(r: Clip) -> Clip {
    const SLACK: f64 = 1e-3;
    let (x, y) = ((r.x + SLACK).floor(), (r.y + SLACK).floor());
    let (x2, y2) = (
        (r.x + r.width - SLACK).ceil(),
        (r.y + r.height - SLACK).ceil(),
    );
    Clip {
        x,
        y,
        width: x2 - x,
        height: y2 - y,
    }
}

/// Playwright's rounding of a `clip` (`helper.enclosingIntSize` on its size): the origin is
/// kept, the width and height are floored (with 0.001 px of slack), so `0.5,0.5,10.5,10.5`
/// captures 10x10 px. Never below 1 px (a clip under 1 px is refused earlier).
fn clip_size_floored(r: Clip) -> Clip {
    Clip {
        width: (r.width + 1e-3).floor().max(1.0),
        height: (r.height + 1e-3).floor().max(1.0),
        ..r
    }
}

/// The size guard: `Some` with the scale that brings the longest side of a `css_width` x
/// `css_height` capture (times the device pixel ratio) down to `max_size` image pixels, or
/// `None` when it fits or `max_size` is 0.
fn guard(ctx: &Ctx, css_width: f64, css_height: f64, max_size: u32) -> Option<Scaled> {
    if max_size == 0 {
        return None;
    }
    let dpr = device_pixel_ratio(ctx).unwrap_or(1.0);
    let (width, height) = (css_width * dpr, css_height * dpr);
    let longest = width.max(height);
    (longest > f64::from(max_size)).then(|| Scaled {
        width: width.round() as u32,
        height: height.round() as u32,
        scale: f64::from(max_size) / longest,
    })
}

/// Device pixels per CSS px, from `Page.getLayoutMetrics` (its visual viewport in device px
/// over the same in CSS px), never from the page's `window.devicePixelRatio`, which a page
/// script can redefine to make every capture tiny or huge. `None` when it cannot be told.
fn device_pixel_ratio(ctx: &Ctx) -> Option<f64> {
    let metrics = ctx.tab.cdp.call_method(Page::GetLayoutMetrics(None)).ok()?;
    let device = metrics.visual_viewport.client_width;
    let css = metrics.css_visual_viewport.client_width;
    let ratio = device / css;
    (css > 0.0 && ratio.is_finite() && ratio > 0.0).then_some(ratio)
}

/// Width and height in pixels from a PNG, JPEG or WebP header; `None` if it cannot be read.
fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let le16 = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_le_bytes(
            bytes.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        let be32 = |at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
        };
        return Some((be32(16)?, be32(20)?));
    }
    if bytes.starts_with(b"\xff\xd8") {
        // Walk the markers to the first start-of-frame (SOF0..SOF15 but DHT, JPG, DAC).
        let mut at = 2;
        while *bytes.get(at)? == 0xff {
            let marker = *bytes.get(at + 1)?;
            if (0xc0..=0xcf).contains(&marker) && ![0xc4, 0xc8, 0xcc].contains(&marker) {
                return Some((be16(at + 7)?, be16(at + 5)?));
            }
            at += 2 + usize::try_from(be16(at + 2)?).ok()?;
        }
        return None;
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return match bytes.get(12..16)? {
            b"VP8 " => Some((le16(26)? & 0x3fff, le16(28)? & 0x3fff)),
            b"VP8L" => {
                let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
                Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
            }
            b"VP8X" => {
                let le24 = |at: usize| -> Option<u32> {
                    let b = bytes.get(at..at + 3)?;
                    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
                };
                Some((le24(24)? + 1, le24(27)? + 1))
            }
            _ => None,
        };
    }
    None
}

fn capture(
    ctx: &Ctx,
    format: Format,
    clip: Option<Viewport>,
    beyond_viewport: bool,
) -> Result<Vec<u8>, CommandError> {
    // Chromium composites only the front tab of a window: a capture of a popup's opener (or of
    // any tab behind another in its window) never answers. Failure leaves it to the capture.
    let _ = ctx.tab.cdp.activate();
    let size = clip
        .as_ref()
        .map(|c| (c.width * c.scale, c.height * c.scale));
    let reply = ctx
        .tab
        .cdp
        .call_method(Page::CaptureScreenshot {
            format: Some(format),
            quality: None,
            clip,
            from_surface: Some(true),
            capture_beyond_viewport: Some(beyond_viewport),
            optimize_for_speed: None,
        })
        .map_err(|e| match e.downcast_ref::<NoAnswer>() {
            Some(_) => capture_unanswered(&e, size),
            None => cdp_error(e),
        })?;
    decode(&reply.data)
}

/// A capture Chromium did not answer within the call timeout. Seen on rustdoc's 152,000 px
/// `Vec` page with `--max-size 0`: the headless shell answers a 1280x32,769 px capture in
/// about 7 s and a 1280x40,000 px one never (not within 5 minutes), so the hint says to
/// capture less; the tab stays usable.
fn capture_unanswered(error: &anyhow::Error, size: Option<(f64, f64)>) -> CommandError {
    let what = size.map_or_else(
        || "the capture".to_owned(),
        |(w, h)| format!("a {}x{} px image", w.round(), h.round()),
    );
    CommandError::failed_with_hint(
        format!("{error:#}"),
        format!(
            "Chromium did not finish {what} (a page tens of thousands of px tall may never \
             finish) or the page is busy: capture less with --viewport, --clip x,y,w,h or an \
             element ('browse screenshot <sel>'), or let --max-size scale it down (the \
             default, 2000 px, does)."
        ),
    )
}

/// `pdf [path] [--format <size>] [--landscape] [--print-background]`: Letter by default.
pub fn pdf(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let mut path = confine::default_output("browse-page", "pdf", &ctx.session.cwd);
    let mut paper = LETTER;
    let mut landscape = false;
    let mut background = false;
    let mut positional = false;
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        match arg.as_str() {
            "--format" | "--page-size" => {
                let name = words
                    .next()
                    .filter(|v| !v.starts_with("--"))
                    .ok_or_else(|| CommandError::failed(format!("pdf: {arg} requires a value")))?;
                paper = paper_size(name).ok_or_else(|| {
                    CommandError::failed(format!(
                        "pdf: unknown page format: {name} (use Letter, Legal, Tabloid, Ledger, A3, A4, A5)"
                    ))
                })?;
            }
            "--landscape" => landscape = true,
            "--print-background" => background = true,
            flag if flag.starts_with("--") => {
                return Err(CommandError::failed(format!("Unknown pdf flag: {flag}")))
            }
            _ if !positional => {
                path = arg.clone();
                positional = true;
            }
            _ => {}
        }
    }
    let target = confine::output(&ctx.cwd, &path)?;
    let reply = ctx
        .tab
        .cdp
        .call_method(Page::PrintToPDF {
            landscape: Some(landscape),
            display_header_footer: Some(false),
            print_background: Some(background),
            scale: Some(1.0),
            paper_width: Some(paper.0),
            paper_height: Some(paper.1),
            // Playwright's default margins are zero; Chromium's own are 1 cm.
            margin_top: Some(0.0),
            margin_bottom: Some(0.0),
            margin_left: Some(0.0),
            margin_right: Some(0.0),
            page_ranges: None,
            header_template: None,
            footer_template: None,
            prefer_css_page_size: Some(false),
            transfer_mode: None,
            generate_tagged_pdf: None,
            generate_document_outline: None,
        })
        .map_err(cdp_error)?;
    let bytes = decode(&reply.data)?;
    write_output(&target, &bytes, &path)?;
    Ok(format!("PDF saved: {path}"))
}

/// Playwright's paper formats, in inches.
fn paper_size(name: &str) -> Option<(f64, f64)> {
    Some(match name.to_ascii_lowercase().as_str() {
        "letter" => LETTER,
        "legal" => (8.5, 14.0),
        "tabloid" => (11.0, 17.0),
        "ledger" => (17.0, 11.0),
        "a3" => (11.7, 16.54),
        "a4" => (8.27, 11.7),
        "a5" => (5.83, 8.27),
        _ => return None,
    })
}

fn decode(data: &str) -> Result<Vec<u8>, CommandError> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| CommandError::failed(format!("Chromium sent undecodable image data: {e}")))
}

fn cdp_error(e: anyhow::Error) -> CommandError {
    CommandError::failed(format!("{e:#}"))
}

/// Writes atomically (0644), creating missing directories as Playwright does.
pub(crate) fn write_output(target: &Path, bytes: &[u8], shown: &str) -> Result<(), CommandError> {
    confine::create_parents(target)?;
    write_atomic(target, bytes, 0o644)
        .map_err(|e| CommandError::failed(format!("Cannot write {shown}: {e}")))
}

/// Captures `region` (page CSS px) at scale 1, beyond the viewport only if need be: a
/// region the visual viewport shows whole is captured as it is on screen, as Playwright
/// does for an element in view. Capturing beyond the viewport makes Chromium lay out and
/// paint the whole page at its full height (and fire `resize` on it): on a 150,000 px page
/// (rustdoc's `Vec`) a 200x100 clip took 10 s and an element shot passed the 15 s call
/// timeout, where gstack took 0.3 s and 1.6 s.
fn capture_region(ctx: &Ctx, format: Format, region: Clip) -> Result<Vec<u8>, CommandError> {
    let in_view = ctx
        .tab
        .cdp
        .call_method(Page::GetLayoutMetrics(None))
        .is_ok_and(|metrics| {
            let v = metrics.css_visual_viewport;
            region.x >= v.page_x
                && region.y >= v.page_y
                && region.x + region.width <= v.page_x + v.client_width
                && region.y + region.height <= v.page_y + v.client_height
        });
    capture(
        ctx,
        format,
        Some(Viewport {
            x: region.x,
            y: region.y,
            width: region.width,
            height: region.height,
            scale: 1.0,
        }),
        !in_view,
    )
}

// Tier B captures (issue 13): `responsive` and `archive`.

/// gstack's three `responsive` sizes: name, width, height (CSS px).
const RESPONSIVE: &[(&str, u32, u32)] = &[
    ("mobile", 375, 812),
    ("tablet", 768, 1024),
    ("desktop", 1280, 720),
];

/// `responsive [prefix]` (gstack `meta-commands.ts`): a full-page screenshot at each of
/// mobile, tablet and desktop size, `<prefix>-<name>.png`; one `<name> (<W>x<H>): <path>`
/// line each. The tab's viewport is put back afterwards, whatever happened. Without a prefix
/// the names are unique to the workspace and the call (gstack: `/tmp/browse-responsive`).
pub fn responsive(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    if let Some(flag) = args.iter().find(|a| a.starts_with("--")) {
        return Err(CommandError::failed(format!(
            "Unknown responsive flag: {flag}"
        )));
    }
    let prefix = match args.first() {
        Some(prefix) => prefix.clone(),
        None => {
            let unique = confine::default_output("browse-responsive", "png", &ctx.session.cwd);
            unique.trim_end_matches(".png").to_owned()
        }
    };
    // Refuse a bad prefix before the viewport changes.
    for (name, _, _) in RESPONSIVE {
        confine::output(&ctx.cwd, &format!("{prefix}-{name}.png"))?;
    }
    let scale = crate::browser::events::lock(&ctx.session.emulation)
        .viewport
        .map_or(1.0, |(_, _, s)| s);
    let mut lines = Vec::new();
    let mut outcome = Ok(());
    for (name, width, height) in RESPONSIVE {
        let path = format!("{prefix}-{name}.png");
        let shot = set_metrics(ctx, *width, *height, scale)
            .and_then(|()| screenshot(ctx, std::slice::from_ref(&path)));
        match shot {
            Ok(_) => lines.push(format!("{name} ({width}x{height}): {path}")),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    // Back to the session's emulation (the viewport every tab shares).
    let restore = crate::browser::events::lock(&ctx.session.emulation)
        .clone()
        .apply(&ctx.tab.cdp);
    outcome?;
    restore.map_err(cdp_error)?;
    Ok(lines.join("\n"))
}

/// This tab alone at `width`x`height` CSS px (`Emulation.setDeviceMetricsOverride`).
fn set_metrics(ctx: &Ctx, width: u32, height: u32, scale: f64) -> Result<(), CommandError> {
    ctx.tab
        .cdp
        .call_raw(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({
                "width": width,
                "height": height,
                "deviceScaleFactor": scale,
                "mobile": false,
            }),
        )
        .map(drop)
        .map_err(cdp_error)
}

/// `archive [path]` (gstack `write-commands.ts`): the page and its resources as one MHTML
/// file (`Page.captureSnapshot`). Output `Archive saved: <path> (<KB>KB, MHTML)`.
pub fn archive(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    if let Some(flag) = args.iter().find(|a| a.starts_with("--")) {
        return Err(CommandError::failed(format!(
            "Unknown archive flag: {flag}"
        )));
    }
    let shown = match args.first() {
        Some(path) => path.clone(),
        None => confine::default_output("browse-archive", "mhtml", &ctx.session.cwd),
    };
    let target = confine::output(&ctx.cwd, &shown)?;
    let reply = ctx
        .tab
        .cdp
        .call_raw("Page.captureSnapshot", serde_json::json!({ "format": "mhtml" }))
        .map_err(|e| {
            CommandError::failed(format!(
                "MHTML archive requires Chromium CDP. Use 'text' or 'html' for raw page content. ({e:#})"
            ))
        })?;
    let data = reply.get("data").and_then(Value::as_str).unwrap_or("");
    write_output(&target, data.as_bytes(), &shown)?;
    Ok(format!(
        "Archive saved: {shown} ({}KB, MHTML)",
        (data.len() as f64 / 1024.0).round() as u64
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn err(r: Result<Request, CommandError>) -> String {
        r.unwrap_err().body.error
    }

    #[test]
    fn classifies_positionals_like_gstack() {
        let r = parse(&words("shot.png")).unwrap();
        assert_eq!((r.path.as_str(), r.selector), ("shot.png", None));
        let r = parse(&words("#main out/a.JPG")).unwrap();
        assert_eq!(r.path, "out/a.JPG");
        assert_eq!(r.selector.as_deref(), Some("#main"));
        let r = parse(&words("button")).unwrap();
        assert_eq!((r.path.as_str(), r.selector), ("button", None));
        let r = parse(&words("@e3 a[href] x.png y.png")).unwrap();
        assert_eq!(r.selector.as_deref(), Some("a[href]"));
        assert_eq!(r.path, "y.png");
        assert_eq!(r.warnings, ["screenshot: ignored 'x.png': taken as an output path, and the last path, 'y.png', is the one written", "screenshot: ignored '@e3': the last selector, 'a[href]', is the element shot"]);
        let r = parse(&words("--viewport --base64")).unwrap();
        assert!(r.viewport && r.base64);
        assert_eq!(r.path, "", "no path: screenshot picks a fresh one");
    }

    #[test]
    fn words_read_as_paths_where_an_element_was_likely_meant_are_warned_of() {
        let shoot = |w: &str| format!("; to shoot the element {w}: --selector {w}");
        // A word a shell would split or expand is quoted so that it comes back whole.
        for word in ["it's", "text=Über uns", "$HOME", "a;b"] {
            let r = parse(&[word.to_owned()]).unwrap();
            let suggested = r.warnings[0].rsplit_once("--selector ").unwrap().1;
            assert_eq!(
                shlex::split(suggested),
                Some(vec![word.to_owned()]),
                "{suggested}"
            );
        }
        let r = parse(&words("h1 x.png")).unwrap();
        assert_eq!((r.path.as_str(), r.selector), ("x.png", None));
        assert_eq!(
            r.warnings,
            [format!(
                "screenshot: ignored 'h1': taken as an output path, and the last path, \
                 'x.png', is the one written{}",
                shoot("h1")
            )]
        );
        let r = parse(&words("x.png h1")).unwrap();
        assert_eq!(r.path, "h1");
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings[0].starts_with("screenshot: ignored 'x.png': "));
        assert!(!r.warnings[0].contains("--selector"));
        assert_eq!(
            r.warnings[1],
            format!(
                "screenshot: 'h1' is the output path (a word that does not start with @e, @c, \
                 . or # nor holds [ is a path), written as a PNG without an extension{}",
                shoot("h1")
            )
        );
        let r = parse(&words("xpath=//h1")).unwrap();
        assert!(
            r.warnings[0].ends_with("--selector 'xpath=//h1'"),
            "{:?}",
            r.warnings
        );
        // An empty word is no path (the default is written): nothing to shoot as `''`.
        let r = parse(&[String::new()]).unwrap();
        assert_eq!(
            (r.path.as_str(), r.warnings.len()),
            ("", 0),
            "{:?}",
            r.warnings
        );
        let r = parse(&words("h1.png")).unwrap();
        assert!(r.warnings.is_empty());
        let r = parse(&["a.png".to_owned(), String::new()]).unwrap();
        assert_eq!(
            r.warnings,
            [
                "screenshot: ignored 'a.png': taken as an output path, and the last path, '' \
              (empty), is no path: the default one is written"
            ]
        );
        for quiet in [
            "shot.png",
            "#main out/a.JPG",
            "--selector h1 x.png",
            "@e3",
            "",
        ] {
            assert_eq!(
                parse(&words(quiet)).unwrap().warnings,
                Vec::<String>::new(),
                "{quiet}"
            );
        }
    }

    #[test]
    fn flag_errors_and_conflicts() {
        assert_eq!(
            err(parse(&words("--fast"))),
            "Unknown screenshot flag: --fast"
        );
        assert_eq!(
            err(parse(&words("--selector #a .b"))),
            "--selector conflicts with positional selector — choose one"
        );
        assert_eq!(
            err(parse(&words("--clip 1,2,3"))),
            "Usage: screenshot --clip x,y,width,height — all must be numbers"
        );
        assert_eq!(
            err(parse(&words("--clip"))),
            "Usage: screenshot --clip x,y,w,h [path]"
        );
        let both = parse(&words("--clip 0,0,10,10 #a")).unwrap();
        assert_eq!(
            check_conflicts(&both).unwrap_err().body.error,
            "Cannot use --clip with a selector/ref — choose one"
        );
        let both = parse(&words("--clip 0,0,10,10 --viewport")).unwrap();
        assert_eq!(
            check_conflicts(&both).unwrap_err().body.error,
            "Cannot use --viewport with --clip — choose one"
        );
        assert_eq!(js_display(10.0), "10");
        let r = |x, y, width, height| Clip {
            x,
            y,
            width,
            height,
        };
        let e = enclosing_int_rect(r(8.0, 211.59, 100.0, 21.0));
        assert_eq!((e.x, e.y, e.width, e.height), (8.0, 211.0, 100.0, 22.0));
        let e = enclosing_int_rect(r(0.0, 10.0004, 5.0, 5.0));
        assert_eq!((e.y, e.height), (10.0, 5.0));
        let c = clip_size_floored(r(0.5, 0.5, 10.5, 10.5));
        assert_eq!((c.x, c.y, c.width, c.height), (0.5, 0.5, 10.0, 10.0));
        assert_eq!(js_display(2.5), "2.5");
    }
}
