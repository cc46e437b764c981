//! Capture to files: `screenshot` (gstack's argument rules of spec §5.5: full page by default,
//! `--viewport`, `--selector`/positional element, `--clip`, `--base64`, the 2000 px guard) and
//! `pdf` (Letter by default).
//!
//! Output paths resolve against the daemon's cwd and must stay inside the temp dir or that cwd
//! once symlinks are resolved. Files are written atomically, so a reader or a crash never sees
//! half an image.

use std::path::Path;

use base64::Engine as _;
use headless_chrome::protocol::cdp::Page::{
    self, CaptureScreenshotFormatOption as Format, Viewport,
};
use headless_chrome::protocol::cdp::Runtime;
use serde_json::Value;

use crate::atomic_file::write_atomic;
use crate::browser::confine;
use crate::browser::confine::TEMP_DIR;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::selector::{self, ACTION_TIMEOUT};

/// The longest side, in image pixels, of a full-page capture (the vision-API limit gstack
/// guards against).
const MAX_DIMENSION_PX: f64 = 2000.0;

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
    path: String,
    selector: Option<String>,
    clip: Option<Clip>,
    viewport: bool,
    base64: bool,
}

fn parse(args: &[String]) -> Result<Request, CommandError> {
    let mut viewport = false;
    let mut base64 = false;
    let mut flag_selector = None;
    let mut clip = None;
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
            flag if flag.starts_with("--") => {
                return Err(CommandError::failed(format!(
                    "Unknown screenshot flag: {flag}"
                )))
            }
            _ => positional.push(arg.clone()),
        }
    }
    let mut path = format!("{TEMP_DIR}/browse-screenshot.png");
    let mut selector = None;
    for arg in positional {
        if is_image_path(&arg) {
            path = arg;
        } else if ["@e", "@c", ".", "#"].iter().any(|p| arg.starts_with(p)) || arg.contains('[') {
            selector = Some(arg);
        } else {
            path = arg;
        }
    }
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
    })
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
    let lower = arg.to_ascii_lowercase();
    arg.contains('/')
        && [".png", ".jpg", ".jpeg", ".webp", ".pdf"]
            .iter()
            .any(|ext| lower.ends_with(ext))
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

/// `screenshot [path] [sel] [--viewport] [--selector css] [--clip x,y,w,h] [--base64]`.
pub fn screenshot(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let req = parse(args)?;
    let target = confine::output(&ctx.cwd, &req.path)?;
    check_conflicts(&req)?;
    let format = if req.base64 {
        Format::Png
    } else {
        format_for(&req.path)
    };
    let (bytes, label) = if let Some(sel) = &req.selector {
        (element_shot(ctx, sel, format)?, " (element)".to_owned())
    } else if let Some(clip) = req.clip {
        let label = format!(
            " (clip {},{},{},{})",
            js_display(clip.x),
            js_display(clip.y),
            js_display(clip.width),
            js_display(clip.height)
        );
        (clip_shot(ctx, clip, format)?, label)
    } else if req.viewport {
        // gstack guards a viewport capture only when it returns it as base64.
        (
            viewport_shot(ctx, format, req.base64)?,
            " (viewport)".to_owned(),
        )
    } else {
        (full_page_shot(ctx, format)?, String::new())
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
    Ok(format!("Screenshot saved{label}: {}", req.path))
}

fn format_for(path: &str) -> Format {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".jpg") || lower.ends_with(".jpeg") {
        Format::Jpeg
    } else if lower.ends_with(".webp") {
        Format::Webp
    } else {
        Format::Png
    }
}

fn full_page_shot(ctx: &Ctx, format: Format) -> Result<Vec<u8>, CommandError> {
    let metrics = ctx
        .tab
        .cdp
        .call_method(Page::GetLayoutMetrics(None))
        .map_err(cdp_error)?;
    let size = metrics.css_content_size;
    let (width, height) = (size.width.max(1.0), size.height.max(1.0));
    let scale = guard_scale(ctx, width, height);
    capture(
        ctx,
        format,
        Some(Viewport {
            x: 0.0,
            y: 0.0,
            width,
            height,
            scale,
        }),
        true,
    )
}

fn viewport_shot(ctx: &Ctx, format: Format, guard: bool) -> Result<Vec<u8>, CommandError> {
    if !guard {
        return capture(ctx, format, None, false);
    }
    let metrics = ctx
        .tab
        .cdp
        .call_method(Page::GetLayoutMetrics(None))
        .map_err(cdp_error)?;
    let v = metrics.css_visual_viewport;
    let scale = guard_scale(ctx, v.client_width, v.client_height);
    if scale >= 1.0 {
        return capture(ctx, format, None, false);
    }
    capture(
        ctx,
        format,
        Some(Viewport {
            x: v.page_x,
            y: v.page_y,
            width: v.client_width,
            height: v.client_height,
            scale,
        }),
        false,
    )
}

/// `--clip` is relative to the viewport, as in Playwright; CDP wants page coordinates.
fn clip_shot(ctx: &Ctx, clip: Clip, format: Format) -> Result<Vec<u8>, CommandError> {
    if clip.width <= 0.0 || clip.height <= 0.0 {
        return Err(CommandError::failed(
            "Clip width and height must be greater than 0",
        ));
    }
    let metrics = ctx
        .tab
        .cdp
        .call_method(Page::GetLayoutMetrics(None))
        .map_err(cdp_error)?;
    let v = metrics.css_visual_viewport;
    capture(
        ctx,
        format,
        Some(Viewport {
            x: v.page_x + clip.x,
            y: v.page_y + clip.y,
            width: clip.width,
            height: clip.height,
            scale: 1.0,
        }),
        false,
    )
}

/// The element's border box, scrolled into view first as Playwright does.
fn element_shot(ctx: &Ctx, sel: &str, format: Format) -> Result<Vec<u8>, CommandError> {
    let element = selector::find_one(ctx, sel, ACTION_TIMEOUT).map_err(|e| {
        if selector::is_timeout(&e) {
            CommandError::failed(format!(
                "Operation timed out: locator.screenshot: {}",
                e.body.error
            ))
        } else {
            e
        }
    })?;
    let reply = ctx
        .tab
        .cdp
        .call_method(Runtime::CallFunctionOn {
            function_declaration: "function() { \
                this.scrollIntoView({block: 'nearest', inline: 'nearest'}); \
                const r = this.getBoundingClientRect(); \
                return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; }"
                .into(),
            object_id: Some(element.object_id.clone()),
            arguments: None,
            silent: Some(true),
            return_by_value: Some(true),
            generate_preview: None,
            user_gesture: None,
            await_promise: None,
            execution_context_id: None,
            object_group: None,
            throw_on_side_effect: None,
            unique_context_id: None,
            serialization_options: None,
        })
        .map_err(cdp_error)?;
    let numbers: Vec<f64> = match reply.result.value {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_f64).collect(),
        _ => Vec::new(),
    };
    let [x, y, width, height] = numbers[..] else {
        return Err(CommandError::failed(format!(
            "Cannot measure element: {sel}"
        )));
    };
    if width <= 0.0 || height <= 0.0 {
        return Err(CommandError::failed(format!(
            "Element is not visible: {sel}"
        )));
    }
    capture(
        ctx,
        format,
        Some(Viewport {
            x,
            y,
            width,
            height,
            scale: 1.0,
        }),
        true,
    )
}

/// The clip scale that keeps the longest side of the image within the guard.
fn guard_scale(ctx: &Ctx, css_width: f64, css_height: f64) -> f64 {
    let dpr = evaluate(&ctx.tab.cdp, "window.devicePixelRatio", false)
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    let longest = css_width.max(css_height) * dpr;
    if longest > MAX_DIMENSION_PX {
        MAX_DIMENSION_PX / longest
    } else {
        1.0
    }
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
        .map_err(cdp_error)?;
    decode(&reply.data)
}

/// `pdf [path] [--format <size>] [--landscape] [--print-background]`: Letter by default.
pub fn pdf(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let mut path = format!("{TEMP_DIR}/browse-page.pdf");
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
fn write_output(target: &Path, bytes: &[u8], shown: &str) -> Result<(), CommandError> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| {
            CommandError::failed(format!("Cannot create {}: {e}", parent.display()))
        })?;
    }
    write_atomic(target, bytes, 0o644)
        .map_err(|e| CommandError::failed(format!("Cannot write {shown}: {e}")))
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
        let r = parse(&words("--viewport --base64")).unwrap();
        assert!(r.viewport && r.base64);
        assert_eq!(r.path, "/tmp/browse-screenshot.png");
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
        assert_eq!(js_display(2.5), "2.5");
    }
}
