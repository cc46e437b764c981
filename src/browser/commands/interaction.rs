//! Interaction commands: click, fill, select, hover, type, press, scroll, upload, viewport,
//! cookie and the dialog policy.
//!
//! Locator actions follow Playwright's actionability rules (spec §5.3): the element is looked
//! up again and re-checked on every attempt until [`action_timeout()`], because pages re-render
//! and animate under us. Mouse and keyboard go through `Input.dispatch*Event`, so the page
//! sees trusted events with real hit testing.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::cdp::EventListener;
use crate::cdp::Tab;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Input, Network, Page, DOM};
use serde_json::{json, Value};

use super::navigation::NAVIGATION_TIMEOUT;
use crate::browser::downloads::Downloads;
use crate::browser::events::lock;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::selector::{
    self, action_timeout, call_function, call_function_with, Connected, Element,
};
use crate::browser::session::Session;
use crate::browser::{confine, frames, keys};

/// How long click, fill and select wait afterwards for the page to settle.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

pub(super) const NOT_INTERACTABLE: &str = "Element not found or not interactable within timeout. \
     Check your selector or run 'snapshot' for fresh refs.";

const OPTION_CLICK: &str = "Cannot click <option> elements. Use 'browse select <parent-select> \
     <value>' instead of 'click' for dropdown options.";

/// `click <sel>` → `Clicked <sel> → now at <url>`.
pub fn click(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("click"));
    };
    if let Some(out) = click_option_ref(ctx, sel)? {
        return Ok(out);
    }
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    let done = pointer_action(ctx, sel, true).map_err(|e| e.rewrite(NOT_INTERACTABLE))?;
    ctx.state.input.mouse = done.point;
    watch.settle_flushed(done.flushed);
    Ok(format!("Clicked {sel} → now at {}", ctx.tab.events.url()))
}

/// An `@e` ref to a real `<option>` in a `<select>` is selected rather than clicked: an
/// option has no box of its own to click.
fn click_option_ref(ctx: &mut Ctx, sel: &str) -> Result<Option<String>, CommandError> {
    let key = sel.trim_start_matches('@');
    let is_option = ctx.state.refs.get(key).is_some_and(|e| e.role == "option");
    if !sel.starts_with('@') || !is_option {
        return Ok(None);
    }
    let element = selector::find_one(ctx, sel, action_timeout())?;
    let info = call_function(
        element.session(),
        &element.object_id,
        "function() { return this.tagName === 'OPTION' && this.closest('select') \
         ? { value: this.value, text: this.text } : null; }",
    )?;
    let Some(text) = info.get("text").and_then(Value::as_str).map(str::to_owned) else {
        return Ok(None);
    };
    drop(element);
    let value = info
        .get("value")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    select_option(ctx, sel, value).map_err(|e| e.or_never_matched("selectOption", sel))?;
    watch.settle();
    Ok(Some(format!(
        "Selected \"{text}\" (auto-routed from click on <option>) → now at {}",
        ctx.tab.events.url()
    )))
}

/// `fill <sel> <value…>` → `Filled <sel>`.
pub fn fill(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let (Some(sel), value) = (args.first(), args.get(1..).unwrap_or_default().join(" ")) else {
        return Err(CommandError::usage("fill"));
    };
    if sel.is_empty() || value.is_empty() {
        return Err(CommandError::usage("fill"));
    }
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    fill_element(ctx, sel, &value).map_err(|e| e.rewrite(NOT_INTERACTABLE))?;
    watch.settle();
    Ok(format!("Filled {sel}"))
}

/// `select <sel> <value…>` → `Selected "<value>" in <sel>`.
pub fn select(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let (Some(sel), value) = (args.first(), args.get(1..).unwrap_or_default().join(" ")) else {
        return Err(CommandError::usage("select"));
    };
    if sel.is_empty() || value.is_empty() {
        return Err(CommandError::usage("select"));
    }
    let watch = NavigationWatch::start(&ctx.tab.cdp, &ctx.session.downloads)?;
    select_option(ctx, sel, &value).map_err(|e| e.or_never_matched("selectOption", sel))?;
    watch.settle();
    Ok(format!("Selected \"{value}\" in {sel}"))
}

/// `hover <sel>` → `Hovered <sel>`.
pub fn hover(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(sel) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("hover"));
    };
    ctx.state.input.mouse = pointer_action(ctx, sel, false)
        .map_err(|e| e.rewrite(NOT_INTERACTABLE))?
        .point;
    Ok(format!("Hovered {sel}"))
}

/// `type <text…>` → `Typed <n> characters`, typed key by key into the focused element.
pub fn type_text(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let text = args.join(" ");
    if text.is_empty() {
        return Err(CommandError::failed("Usage: browse type <text>"));
    }
    let tab = &ctx.tab.cdp;
    for c in text.chars() {
        match keys::for_char(c) {
            Some(key) => {
                dispatch_key(tab, keys::key_down(&key, 0))?;
                dispatch_key(tab, keys::key_up(&key, 0))?;
            }
            // No key types it on a US layout: insert it as an IME would.
            None => {
                tab.call_method(Input::InsertText {
                    text: c.to_string(),
                })
                .map_err(cdp_error)?;
            }
        }
    }
    Ok(format!("Typed {} characters", text.encode_utf16().count()))
}

/// `press <key>` → `Pressed <key>`.
pub fn press(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(key) = args.first().filter(|s| !s.is_empty()) else {
        return Err(CommandError::usage("press"));
    };
    // Playwright names the API that refused the key, as gstack prints it.
    let events = keys::press_events_holding(key, ctx.state.input.modifiers).map_err(|e| {
        CommandError::failed_with_hint(format!("press: {e}"), keys::unknown_key_hint(key, true))
    })?;
    for event in events {
        dispatch_key(&ctx.tab.cdp, event)?;
    }
    Ok(format!("Pressed {key}"))
}

/// `scroll [sel] [--times N] [--wait ms]`.
pub fn scroll(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let flag_value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| (i + 1, args.get(i + 1).and_then(|v| js_parse_int(v))))
    };
    let times_flag = flag_value("--times");
    let wait_flag = flag_value("--wait");
    let times = times_flag.map_or(0, |(_, n)| n.filter(|&n| n != 0).unwrap_or(1));
    let wait_ms = wait_flag.map_or(1000, |(_, n)| n.filter(|&n| n != 0).unwrap_or(1000));
    let value_slots = [times_flag.map(|(i, _)| i), wait_flag.map(|(i, _)| i)];
    let sel = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && !value_slots.contains(&Some(*i)))
        .map(|(_, a)| a.as_str());

    let scroll_once = |ctx: &mut Ctx| -> Result<(), CommandError> {
        match sel {
            Some(sel) => scroll_into_view(ctx, sel),
            None => evaluate(
                &ctx.tab.cdp,
                "window.scrollTo(0, document.body.scrollHeight)",
                false,
            )
            .map(drop),
        }
    };
    if times > 0 {
        for i in 0..times {
            scroll_once(ctx)?;
            if i < times - 1 {
                // The delay is the command's purpose: it lets lazy-loading pages fetch more.
                std::thread::sleep(Duration::from_millis(wait_ms.max(0) as u64));
            }
        }
        let on = sel.map(|s| format!(" ({s})")).unwrap_or_default();
        return Ok(format!("Scrolled {times} times{on} with {wait_ms}ms delay"));
    }
    scroll_once(ctx)?;
    Ok(match sel {
        Some(sel) => format!("Scrolled {sel} into view"),
        None => "Scrolled to bottom".into(),
    })
}

/// `upload <sel> <file…>` → `Uploaded: <name> (<size>B), …`.
pub fn upload(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let [sel, files @ ..] = args else {
        return Err(CommandError::usage("upload"));
    };
    if files.is_empty() {
        return Err(CommandError::usage("upload"));
    }
    let mut resolved = Vec::with_capacity(files.len());
    let mut described = Vec::with_capacity(files.len());
    for file in files {
        let path = upload_path(&ctx.cwd, file)?;
        let size = std::fs::metadata(&path)
            .map_err(|e| CommandError::failed(format!("Cannot read {file}: {e}")))?
            .len();
        let name = Path::new(file)
            .file_name()
            .map_or_else(|| file.clone(), |n| n.to_string_lossy().into_owned());
        described.push(format!("{name} ({size}B)"));
        resolved.push(path.to_string_lossy().into_owned());
    }
    let element = selector::find_one(ctx, sel, action_timeout()).map_err(|e| {
        if selector::is_timeout(&e) {
            selector::never_matched("setInputFiles", sel, action_timeout())
        } else {
            e
        }
    })?;
    let input = call_function(
        element.session(),
        &element.object_id,
        "function() { return { kind: this.tagName === 'INPUT' ? this.type : this.tagName.toLowerCase(), \
         tag: this.tagName.toLowerCase(), multiple: this.multiple === true }; }",
    )?;
    if input.get("kind") != Some(&json!("file")) {
        // Playwright's words, then what the element is and where file inputs are found.
        let text = |key: &str| input.get(key).and_then(Value::as_str).unwrap_or("element");
        let what = match text("tag") {
            "input" => format!("an <input type={}>", text("kind")),
            tag => format!("a <{tag}>"),
        };
        return Err(CommandError::failed_with_hint(
            "Node is not an HTMLInputElement[type=file]",
            format!(
                "{sel} is {what}. upload needs the page's <input type=file>, often hidden \
                 behind a styled button: try 'browse upload \"input[type=file]\" <file>'."
            ),
        ));
    }
    // Chromium would keep only the first file and we would report them all (Playwright's
    // setInputFiles refuses this with the same words).
    if resolved.len() > 1 && input.get("multiple") != Some(&json!(true)) {
        return Err(CommandError {
            status: 500,
            body: crate::wire::ErrorBody::with_hint(
                format!(
                    "Non-multiple file input can only accept single file: {sel} has no 'multiple' \
                     attribute, and {} files were given",
                    resolved.len()
                ),
                "Upload one file, or pick an <input type=file multiple>.",
            ),
        });
    }
    let wanted = resolved.len();
    element
        .session()
        .call_method(DOM::SetFileInputFiles {
            files: resolved,
            node_id: None,
            backend_node_id: None,
            object_id: Some(element.object_id.clone()),
        })
        .map_err(cdp_error)?;
    // Report only what the input really holds now.
    let held = call_function(
        element.session(),
        &element.object_id,
        "function() { return this.files ? this.files.length : 0; }",
    )?;
    if held.as_u64() != Some(wanted as u64) {
        return Err(CommandError::failed(format!(
            "Upload to {sel} did not take: the input holds {held} file(s), not {wanted}"
        )));
    }
    Ok(format!("Uploaded: {}", described.join(", ")))
}

/// An upload source: relative to the daemon's cwd, no `..`, a regular file inside the cwd or
/// TEMP_DIR once symlinks are resolved.
fn upload_path(cwd: &Path, file: &str) -> Result<PathBuf, CommandError> {
    if Path::new(file)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(CommandError::failed(
            "Path traversal sequences (..) are not allowed",
        ));
    }
    confine::input(cwd, file)
}

/// The largest viewport side `viewport` sets (CSS px): gstack's cap (`write-commands.ts`).
const MAX_VIEWPORT_SIDE: f64 = 16384.0;

/// `WxH` as whole CSS px, each 1 to [`MAX_VIEWPORT_SIDE`] (a fraction rounds, as gstack's
/// `Math.round`). gstack clamps silently, and reads 0, an empty side or a word as its default
/// (`0x500` sets 1280x500, `-5x500` sets 1x500, `99999x1` sets 16384x1); a size the user did
/// not ask for is an error here instead, naming the valid range.
fn viewport_size(size: &str) -> Result<(u32, u32), CommandError> {
    let invalid = |why: String| {
        CommandError::failed_with_hint(
            format!("viewport: invalid size '{size}': {why}"),
            "Give WIDTHxHEIGHT in CSS pixels, each from 1 to 16384 (e.g. 375x812 or 1280x720); \
             'browse viewport --device <name>' sets a device's size.",
        )
    };
    let parts: Vec<&str> = size.split('x').collect();
    let [width, height] = parts[..] else {
        return Err(invalid(format!("expected two sides, got {}", parts.len())));
    };
    let side = |name: &str, raw: &str| {
        if raw.trim().is_empty() {
            return Err(invalid(format!("the {name} is missing")));
        }
        let n = js_number(raw)
            .filter(|n| n.is_finite())
            .map(|n| (n + 0.5).floor())
            .ok_or_else(|| invalid(format!("the {name} '{raw}' is not a number")))?;
        if !(1.0..=MAX_VIEWPORT_SIDE).contains(&n) {
            return Err(invalid(format!(
                "the {name} must be 1 to 16384 px, got {}",
                js_display(n)
            )));
        }
        Ok(n as u32)
    };
    Ok((side("width", width)?, side("height", height)?))
}

/// `viewport [<W>x<H>] [--scale <n>]`, applied to every open tab and every later one.
pub fn viewport(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let usage = "Usage: browse viewport [<WxH>] [--scale <n>]  (e.g. 375x812, or --scale 2 to keep current size)";
    // `--device NAME`: a whole preset (size, scale, mobile, touch, UA), as `set device`.
    if let Some(name) = device_flag(args) {
        return super::emulation::set_device(ctx, &name?);
    }
    let mut size_arg: Option<&str> = None;
    let mut scale_arg: Option<f64> = None;
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        if arg == "--scale" {
            let Some(val) = words.next().filter(|v| !v.is_empty()) else {
                return Err(CommandError::failed(
                    "viewport --scale: missing value. Usage: viewport [WxH] --scale <n>",
                ));
            };
            let parsed = js_number(val).filter(|n| n.is_finite()).ok_or_else(|| {
                CommandError::failed(format!(
                    "viewport --scale: value '{val}' is not a finite number."
                ))
            })?;
            scale_arg = Some(parsed);
        } else if arg.starts_with("--") {
            return Err(CommandError::failed(format!(
                "Unknown viewport flag: {arg}"
            )));
        } else if size_arg.is_none() {
            size_arg = Some(arg);
        } else {
            return Err(CommandError::failed(format!(
                "Unexpected positional arg: {arg}. Usage: viewport [WxH] [--scale <n>]"
            )));
        }
    }
    if size_arg.is_none() && scale_arg.is_none() {
        return Err(CommandError::failed(usage));
    }
    if let Some(scale) = scale_arg {
        if !(1.0..=3.0).contains(&scale) {
            return Err(CommandError::failed(format!(
                "viewport --scale: value must be between 1 and 3 (gstack policy cap), got {}",
                js_display(scale)
            )));
        }
    }
    let current = lock(&ctx.session.emulation).viewport;
    let (width, height) = match size_arg {
        Some(size) => {
            if !size.contains('x') {
                return Err(CommandError::failed(
                    "Usage: browse viewport [<WxH>] [--scale <n>] (e.g., 375x812)",
                ));
            }
            viewport_size(size)?
        }
        None => match current {
            Some((w, h, _)) => (w, h),
            None => window_size(ctx)?,
        },
    };
    let scale = scale_arg.unwrap_or_else(|| current.map_or(1.0, |(_, _, s)| s));
    let settings = {
        let mut emulation = lock(&ctx.session.emulation);
        emulation.viewport = Some((width, height, scale));
        emulation.clone()
    };
    let (_, tabs) = ctx.session.tab_list();
    let failure = tabs
        .iter()
        .find_map(|tab| settings.apply(&tab.cdp).err())
        .map(|e| format!("{e:#}"));
    match (scale_arg, failure) {
        (Some(_), Some(err)) => Ok(format!("Viewport partially set: {err}")),
        (None, Some(err)) => Err(CommandError::failed(err)),
        (Some(s), None) => Ok(format!(
            "Viewport set to {width}x{height} @ {}x (context recreated; refs and load-html content replayed)",
            js_display(s)
        )),
        (None, None) => Ok(format!("Viewport set to {width}x{height}")),
    }
}

/// The device name of `viewport --device NAME` (or `--device=NAME`); an error when the
/// flag has no name or comes with a size or scale.
fn device_flag(args: &[String]) -> Option<Result<String, CommandError>> {
    let at = args
        .iter()
        .position(|a| a == "--device" || a.starts_with("--device="))?;
    let name = match args[at].strip_prefix("--device=") {
        Some(inline) => Some(inline.to_owned()),
        None => args.get(at + 1).cloned(),
    };
    let words = if args[at].contains('=') { 1 } else { 2 };
    Some(match name.filter(|n| !n.is_empty()) {
        Some(name) if args.len() == words => Ok(name),
        _ => Err(CommandError::failed(
            "Usage: browse viewport --device <name> (alone: a device sets size and scale itself)",
        )),
    })
}

/// The page's current layout viewport, for `--scale` without a size.
fn window_size(ctx: &Ctx) -> Result<(u32, u32), CommandError> {
    let v = evaluate(
        &ctx.tab.cdp,
        "[window.innerWidth, window.innerHeight]",
        false,
    )?;
    let dim = |i: usize, default: u32| {
        v.get(i)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(default)
    };
    Ok((dim(0, 1280), dim(1, 720)))
}

/// `cookie <name>=<value>` → `Cookie set: <name>=****`, for the current page's host.
pub fn cookie(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some((name, value)) = args.first().and_then(|a| a.split_once('=')) else {
        return Err(CommandError::failed("Usage: browse cookie <name>=<value>"));
    };
    let page = ctx.tab.events.url();
    let host = url::Url::parse(&page)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            CommandError::failed(format!(
                "Cannot set a cookie on {page}: the page has no hostname. Navigate to a site first."
            ))
        })?;
    let reply = ctx
        .tab
        .cdp
        .call_method(Network::SetCookie {
            name: name.to_owned(),
            value: value.to_owned(),
            url: None,
            domain: Some(host),
            path: Some("/".into()),
            secure: None,
            http_only: None,
            same_site: None,
            expires: None,
            priority: None,
            same_party: None,
            source_scheme: None,
            source_port: None,
            partition_key: None,
        })
        .map_err(cdp_error)?;
    if !reply.success {
        return Err(CommandError::failed(format!(
            "Chromium refused the cookie {name}"
        )));
    }
    Ok(format!("Cookie set: {name}=****"))
}

/// `dialog-accept [text…]`: accept dialogs from now on, answering prompts with the text.
pub fn dialog_accept(session: &Session, args: &[String]) -> CommandResult {
    let text = (!args.is_empty()).then(|| args.join(" "));
    let mut policy = lock(&session.dialog_policy);
    policy.accept = true;
    policy.prompt_text = text.clone();
    Ok(match text {
        Some(t) => format!("Dialogs will be accepted with text: \"{t}\""),
        None => "Dialogs will be accepted".into(),
    })
}

/// `dialog-dismiss`: dismiss dialogs from now on.
pub fn dialog_dismiss(session: &Session, _args: &[String]) -> CommandResult {
    let mut policy = lock(&session.dialog_policy);
    policy.accept = false;
    policy.prompt_text = None;
    Ok("Dialogs will be dismissed".into())
}

// ---------------------------------------------------------------------------------------
// Actionability

/// Why a locator action failed: something final, or it ran out of time.
pub(super) enum ActionError {
    Fatal(CommandError),
    /// The deadline passed. `Some` says what kept the element from being actionable on the
    /// last attempt (`Element #x is covered: …`); `None` when it was never found.
    TimedOut(Option<CommandError>),
}

impl ActionError {
    /// The user-facing error. A timeout with a known cause names it; one without (nothing
    /// matched) is reported as `timeout_message`, gstack's text.
    pub(super) fn rewrite(self, timeout_message: &str) -> CommandError {
        match self {
            ActionError::Fatal(e) | ActionError::TimedOut(Some(e)) => e,
            ActionError::TimedOut(None) => CommandError::failed(timeout_message),
        }
    }

    /// The user-facing error of a Playwright locator call (`api`: its name, `selectOption`)
    /// on `sel`: a timeout with a known cause names it; one without is gstack's
    /// `Operation timed out: <api>: …` with a hint that nothing matched
    /// ([`selector::never_matched`]).
    pub(super) fn or_never_matched(self, api: &str, sel: &str) -> CommandError {
        match self {
            ActionError::Fatal(e) | ActionError::TimedOut(Some(e)) => e,
            ActionError::TimedOut(None) => selector::never_matched(api, sel, action_timeout()),
        }
    }
}

/// What one attempt at an action came to.
pub(super) enum Attempt<T> {
    Done(T),
    /// Not actionable yet, for no reason worth telling (a transient CDP failure); try again
    /// with a fresh lookup.
    Retry,
    /// Not actionable yet, and why, completing "Element <sel> …" (`is disabled`,
    /// `is covered: <div id="x"> intercepts pointer events`); try again with a fresh lookup.
    Blocked(String),
    /// The element is no longer in the document: look it up again at once, checking a ref's
    /// node is in the document (a stale ref is an error then, not a wait).
    Detached,
}

impl<T> Attempt<T> {
    /// Not actionable yet because of a page-side actionability state (the strings
    /// [`POINTER_CHECK`], [`FILL_PREPARE`] and [`SELECT_OPTION`] return), told in Playwright's
    /// terms; an unknown state is a plain retry.
    pub(super) fn not_yet(state: &str) -> Self {
        let why = match state {
            "hidden" => "is not visible",
            "disabled" => "is disabled",
            "readonly" => "is read-only",
            "unstable" => "is not stable (it kept moving between animation frames)",
            "detached" => return Attempt::Detached,
            "no options" => "has no options",
            "no box" => "has no layout box",
            "offscreen" => "has no visible area in the viewport, even after scrolling",
            "no pointer events" => "does not receive pointer events (pointer-events: none)",
            _ => return Attempt::Retry,
        };
        Attempt::Blocked(why.to_owned())
    }
}

/// Looks `sel` up and runs `attempt` on it until it is done or [`action_timeout()`] passes.
/// Strictness and ref errors end the wait at once.
pub(super) fn retry_action<T>(
    ctx: &Ctx,
    sel: &str,
    attempt: impl FnMut(&Element) -> Result<Attempt<T>, CommandError>,
) -> Result<T, ActionError> {
    retry_action_with(ctx, sel, Connected::Checked, attempt)
}

/// [`retry_action`] for an `attempt` whose first page call answers [`Attempt::Detached`]
/// when the element is not in the document: with [`Connected::LeftToCaller`], a ref is then
/// resolved without a round trip of its own to check that, until an attempt finds it detached.
pub(super) fn retry_action_with<T>(
    ctx: &Ctx,
    sel: &str,
    mut connected: Connected,
    mut attempt: impl FnMut(&Element) -> Result<Attempt<T>, CommandError>,
) -> Result<T, ActionError> {
    let deadline = Instant::now() + action_timeout();
    let mut pause = Duration::from_millis(20);
    // Why the element found last was not actionable, for the timeout error.
    let mut last_block: Option<String> = None;
    let timed_out = |block: Option<String>| {
        ActionError::TimedOut(block.map(|why| CommandError {
            status: 500,
            body: crate::wire::ErrorBody::with_hint(
                format!(
                    "Element {sel} {why} (waited {}ms)",
                    action_timeout().as_millis()
                ),
                "Make it actionable first (close what covers it, wait for it to be enabled \
                     or shown), or run 'snapshot' to check you have the right element.",
            ),
        }))
    };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let element = match selector::find_one_with(ctx, sel, left, connected) {
            Ok(element) => element,
            Err(e) if selector::is_timeout(&e) => return Err(timed_out(last_block)),
            Err(e) => return Err(ActionError::Fatal(e)),
        };
        match attempt(&element) {
            Ok(Attempt::Done(value)) => return Ok(value),
            Ok(Attempt::Retry) => {}
            Ok(Attempt::Blocked(why)) => last_block = Some(why),
            Ok(Attempt::Detached) if connected == Connected::LeftToCaller => {
                connected = Connected::Checked;
                continue;
            }
            Ok(Attempt::Detached) => last_block = Some("was detached from the page".into()),
            Err(e) => return Err(ActionError::Fatal(e)),
        }
        drop(element);
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(last_block));
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Visible, stable, and (for clicks) enabled. An `<option>` in a dropdown has no box and can
/// never pass, which gets its own answer.
///
/// Stable is Playwright's "same bounding box over two animation frames". Waiting for two
/// frames costs up to ~33 ms on every action, so the wait is only made when something can be
/// moving the element: a running CSS animation, CSS transition or Web Animation
/// (`Element.getAnimations`) on the element or any ancestor, across shadow roots. Without one
/// the box cannot change between frames (script-driven motion and the page's own smooth
/// scrolling are caught by the hit test `CLICK_POINT` makes at the click point, and after it by
/// the hit-target guard it arms, which checks what the mouse events themselves hit).
const POINTER_CHECK: &str = r#"async function(needEnabled) {
  if (!this.isConnected) return 'detached';
  const box = () => { const r = this.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; };
  const b0 = box();
  if (b0[2] === 0 || b0[3] === 0 || getComputedStyle(this).visibility !== 'visible') {
    return this.tagName === 'OPTION' && this.closest('select') ? 'option' : 'hidden';
  }
  let animated = false;
  for (let e = this; e && !animated; e = e.parentElement || (e.getRootNode() || {}).host) {
    animated = e.getAnimations().some((a) => a.playState === 'running');
  }
  if (animated) {
    await new Promise((done) => {
      const t = setTimeout(done, 100);
      requestAnimationFrame(() => requestAnimationFrame(() => { clearTimeout(t); done(); }));
    });
    const b1 = box();
    if (b0.some((v, i) => v !== b1[i])) return 'unstable';
  }
  if (needEnabled) {
    if (this.matches(':disabled')) return 'disabled';
    for (let e = this; e; e = e.parentElement) {
      if (e.getAttribute('aria-disabled') === 'true') return 'disabled';
    }
  }
  return 'ok';
}"#;

/// Picks the click point from the element's content quads (each clipped to the viewport):
/// the centre of the first one with an area. Then checks that the element, or something
/// inside it, is what the mouse would hit there. Returns `[x, y]`; `'offscreen'` when no quad
/// has an area in the viewport; otherwise what the mouse would hit instead, described as
/// Playwright's "… intercepts pointer events" log does: tag, id, class and the start of its
/// text (`<div id="overlay" class="modal">Accept cookies…</div>`).
///
/// When the element is hit and `guard` is `'press'` or `'move'`, arms the hit-target guard
/// ([`HIT_GUARD_READ`] reads and removes it) in the element's window before returning, so that
/// the check and the arming are one page call: the page can move between this hit test and
/// the mouse events (its own smooth scroll, a script on `pointermove`), and the guard makes
/// sure the wrong element never receives them. Capturing listeners on the window for the
/// action's trusted events (`'press'`: pointerdown, mousedown, pointerup, mouseup, click,
/// auxclick, dblclick, contextmenu; `'move'`: pointermove, mousemove) check that the first one
/// targets (`composedPath()[0]`) the element or something inside it; if not, that event and
/// every later one are stopped (`preventDefault`, `stopImmediatePropagation`) and what was hit
/// is recorded; any event at all marks the guard `seen` ([`HIT_GUARD_SEEN`]). Only the first
/// event is checked, as in Playwright: a click on a `<label>`
/// goes on to its control. Inside a closed shadow root the window sees only the host, which
/// then counts as the element. The guard removes itself after 3 s if never read.
const CLICK_POINT: &str = r#"function(quads, guard) {
  const vw = window.visualViewport ? visualViewport.width : innerWidth;
  const vh = window.visualViewport ? visualViewport.height : innerHeight;
  let point = null;
  for (const q of quads) {
    const p = [];
    for (let i = 0; i < 8; i += 2) p.push([Math.min(Math.max(q[i], 0), vw), Math.min(Math.max(q[i + 1], 0), vh)]);
    let area = 0;
    for (let i = 0; i < 4; i++) { const a = p[i], b = p[(i + 1) % 4]; area += a[0] * b[1] - b[0] * a[1]; }
    if (Math.abs(area) / 2 > 0.99) {
      point = [(p[0][0] + p[1][0] + p[2][0] + p[3][0]) / 4, (p[0][1] + p[1][1] + p[2][1] + p[3][1]) / 4];
      break;
    }
  }
  if (!point) return 'offscreen';
  const clip = (s, n) => { const c = Array.from(s); return c.length > n ? c.slice(0, n).join('').trimEnd() + '…' : s; };
  const describe = (hit) => {
    if (!hit || hit.nodeType !== 1) return 'nothing (the point is outside the page)';
    const tag = hit.localName;
    let out = '<' + tag;
    if (hit.id) out += ' id="' + clip(hit.id, 40) + '"';
    const cls = (hit.getAttribute('class') || '').replace(/\s+/g, ' ').trim();
    if (cls) out += ' class="' + clip(cls, 40) + '"';
    out += '>';
    const text = (hit.innerText || hit.textContent || '').replace(/\s+/g, ' ').trim();
    const isVoid = ['area', 'br', 'embed', 'hr', 'img', 'input', 'source', 'track', 'wbr'].includes(tag);
    if (!isVoid) out += clip(text, 40) + '</' + tag + '>';
    return out;
  };
  // Descend into shadow roots: open ones, and the closed ones this element lives in.
  const own = [];
  for (let r = this.getRootNode(); r && r.host; r = r.host.getRootNode()) own.push(r);
  const inside = (n) => { for (; n; n = n.parentNode || n.host) if (n === this) return true; return false; };
  let hit = document.elementFromPoint(point[0], point[1]);
  for (let root; hit && (root = hit.shadowRoot || own.find((r) => r.host === hit)); ) {
    const inner = root.elementFromPoint(point[0], point[1]);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  if (inside(hit)) {
    const win = this.ownerDocument.defaultView;
    if (!guard || !win) return point;
    const key = Symbol.for('browse.hitTargetGuard');
    if (win[key]) win[key].remove();
    const types = guard === 'move' ? ['pointermove', 'mousemove']
      : ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click', 'auxclick', 'dblclick', 'contextmenu'];
    const hosts = own.filter((r) => r.mode === 'closed').map((r) => r.host);
    // The window's count of the action's trusted events dispatched into it (Event Timing's
    // eventCounts, which counts presses, not moves: only a press guard reads it), whatever the
    // page's listeners do: one at window capture that stops them keeps them from the guard's
    // listener, not from this count.
    const pressed = () => { const c = win.performance && win.performance.eventCounts;
      return c ? types.reduce((n, t) => n + (c.get(t) || 0), 0) : 0; };
    const state = { target: this, verdict: undefined, seen: false, pressed, before: pressed() };
    const listener = (e) => {
      if (!e.isTrusted) return;
      state.seen = true;
      if (state.verdict === undefined) {
        const at = e.composedPath()[0];
        state.verdict = inside(at) || hosts.includes(at) ? null : describe(at);
      }
      if (state.verdict !== null) { e.preventDefault(); e.stopImmediatePropagation(); }
    };
    for (const t of types) win.addEventListener(t, listener, true);
    const timer = setTimeout(() => state.remove(), 3000);
    state.remove = () => {
      clearTimeout(timer);
      for (const t of types) win.removeEventListener(t, listener, true);
      if (win[key] === state) delete win[key];
    };
    win[key] = state;
    return point;
  }
  if (!hit) return { covered: describe(hit) };
  // The mouse goes through the element to an ancestor: it takes no pointer events itself.
  if (hit.contains(this)) return 'no pointer events';
  return { covered: describe(hit) };
}"#;

/// Reads and removes the hit-target guard [`CLICK_POINT`] armed for this element: `null`
/// when no event of the action went elsewhere (or no guard is left: the page navigated, or
/// it timed out), else what the first one hit instead, which then received none of them.
const HIT_GUARD_READ: &str = r#"function() {
  const win = this.ownerDocument.defaultView;
  const state = win && win[Symbol.for('browse.hitTargetGuard')];
  if (!state || state.target !== this) return null;
  state.remove();
  return state.verdict || null;
}"#;

/// Resolves `true` after the element's window has run two animation frames: it has then
/// presented its layout, which the browser's input routing into an out-of-process frame needs
/// (the same two `requestAnimationFrame`s Playwright's stability check waits for); `false`
/// when they did not come within `ms` (a page that never renders: a stylesheet it waits for
/// never loads; its timers still run).
const NEXT_FRAMES: &str = r#"function(ms) {
  const win = this.ownerDocument.defaultView || window;
  return new Promise((done) => {
    win.setTimeout(() => done(false), ms);
    win.requestAnimationFrame(() => win.requestAnimationFrame(() => done(true)));
  });
}"#;

/// Whether the hit-target guard [`CLICK_POINT`] armed for this element has seen any of the
/// action's events yet, by its listener or, when a page listener stopped them before it, by
/// the window's `performance.eventCounts` (`true` too when no guard is left: the page
/// navigated, or it timed out, and nothing more can be known).
const HIT_GUARD_SEEN: &str = r#"function() {
  const win = this.ownerDocument.defaultView;
  const state = win && win[Symbol.for('browse.hitTargetGuard')];
  return !state || state.target !== this || state.seen || state.pressed() > state.before;
}"#;

/// Marks the guard's action as missed: any of its events arriving later is stopped, as one
/// that hit another element would be, until the guard removes itself.
const HIT_GUARD_MISSED: &str = r#"function() {
  const win = this.ownerDocument.defaultView;
  const state = win && win[Symbol.for('browse.hitTargetGuard')];
  if (state && state.target === this && !state.seen) state.verdict = 'missed';
}"#;

/// How long the mouse events of a click into an out-of-process frame may take to reach it
/// after the tab acknowledged them (ms).
const PRESS_ARRIVAL_MS: u64 = 500;

/// Whether the press events of a click reached the element's window (an out-of-process
/// frame's, whose events the tab's session acknowledges before that renderer runs them):
/// waits up to [`PRESS_ARRIVAL_MS`] for the guard to see one; when none came, marks the
/// guard missed so that a late one cannot act after the command said it failed.
fn press_reached(session: &Arc<Tab>, object_id: &str) -> Result<bool, CommandError> {
    let deadline = Instant::now() + Duration::from_millis(PRESS_ARRIVAL_MS);
    loop {
        match call_function(session, object_id, HIT_GUARD_SEEN) {
            Ok(Value::Bool(false)) => {}
            // Seen; or the element's window is gone (the press navigated or removed its frame,
            // which is the page acting on it): nothing more can be known, as HIT_GUARD_READ.
            Ok(_) | Err(_) => return Ok(true),
        }
        if Instant::now() >= deadline {
            // A window gone by now went with its guard: no late event can act.
            let _ = call_function(session, object_id, HIT_GUARD_MISSED);
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Scrolls into view and moves the mouse to the element's centre, then clicks if `click`.
/// Returns where the mouse now is (viewport CSS px) and whether the page was already flushed
/// (see [`PointerDone`]).
fn pointer_action(ctx: &Ctx, sel: &str, click: bool) -> Result<PointerDone, ActionError> {
    // Modifiers held by `keydown` (Shift+click), as Playwright's mouse sends them.
    pointer_act(ctx, sel, u32::from(click), ctx.state.input.modifiers)
}

/// What a guarded pointer action did: the mouse's point (viewport CSS px), and whether its
/// last page call went through the tab's own session after the mouse events, which is then
/// the flush [`NavigationWatch::settle_flushed`] needs.
pub(super) struct PointerDone {
    pub(super) point: (f64, f64),
    pub(super) flushed: bool,
}

/// Which events a hit-target guard watches: the argument `guard` of [`CLICK_POINT`].
#[derive(Clone, Copy, PartialEq)]
enum HitGuard {
    /// None: the caller sends its own events (drag).
    Off,
    /// pointermove/mousemove: a hover.
    Move,
    /// The press, release and click events: click, dblclick, check.
    Press,
}

impl HitGuard {
    fn arg(self) -> Value {
        match self {
            HitGuard::Off => Value::Null,
            HitGuard::Move => json!("move"),
            HitGuard::Press => json!("press"),
        }
    }
}

/// Playwright's pointer action: waits until `sel` is actionable ([`actionable_point`]'s
/// checks, enabled too when `clicks > 0`), arming the hit-target guard in the same page call,
/// then sends the mouse events ([`click_at`]) and reads the guard's verdict. When the page
/// moved in between and the events went to another element (which the guard kept from
/// receiving them), the whole action is tried again, as Playwright retries, until
/// [`action_timeout()`]; then it fails with "… intercepts pointer events", never a success.
pub(super) fn pointer_act(
    ctx: &Ctx,
    sel: &str,
    clicks: u32,
    modifiers: u32,
) -> Result<PointerDone, ActionError> {
    let guard = if clicks > 0 {
        HitGuard::Press
    } else {
        HitGuard::Move
    };
    actionable_point_then(ctx, sel, clicks > 0, guard, |element, point| {
        let session = element.session();
        let out_of_process = !Arc::ptr_eq(session, &ctx.tab.cdp);
        // The command's watchdog watches the active frame's renderer; a ref into another
        // out-of-process frame runs that frame's listeners, which it must watch too (a
        // mousedown that never returned held the command until the CLI gave up at 30 s).
        let watched = frames::watched_session(ctx.tab, ctx.state);
        let frame_watch = (out_of_process && !Arc::ptr_eq(session, &watched)).then(|| {
            crate::browser::watchdog::HangWatch::arm(
                Arc::clone(session),
                crate::settings::hang_check(),
            )
        });
        let said = |watch: &Option<crate::browser::watchdog::HangWatch>| {
            if watch.as_ref().is_some_and(|w| w.fired()) {
                crate::browser::notes::say(format!(
                    "the JavaScript of {sel}'s frame was stuck (an endless loop?) and was \
                     stopped: the frame may be half-updated"
                ));
            }
        };
        if out_of_process {
            // The browser routes the tab's mouse events into an out-of-process frame by its
            // own hit-test data, which a frame that has not yet presented a frame lacks: the
            // events then went nowhere (the test's cross-site checkbox, 5 in 10 under load).
            let ms = action_timeout().as_millis();
            let drawn = call_function_with(session, &element.object_id, NEXT_FRAMES, vec![json!(ms)])?
                    == Value::Bool(true)
                    // The same wait in the tab's own document, which embeds the frame.
                    && evaluate(
                        &ctx.tab.cdp,
                        &format!("({NEXT_FRAMES}).call(document.documentElement, {ms})"),
                        true,
                    )? == Value::Bool(true);
            if !drawn {
                // Its events would go nowhere: fail before sending any (a rAF that never came
                // held the command for Chromium's 15 s call limit, then blamed Chromium).
                return Err(CommandError::failed_with_hint(
                    format!(
                        "{sel} is in an out-of-process frame that has not drawn anything within \
                         {ms}ms, so the mouse cannot reach it: nothing was {}",
                        if clicks > 0 { "clicked" } else { "hovered" }
                    ),
                    "Its page may be waiting for a stylesheet or font that does not load; \
                     'browse wait --load' or a wait for what it shows, then try again.",
                ));
            }
        }
        let sent = click_at(&ctx.tab.cdp, point, clicks, modifiers);
        let reached = match sent {
            Ok(()) if out_of_process && clicks > 0 => press_reached(session, &element.object_id),
            Ok(()) => Ok(true),
            Err(e) => Err(e),
        };
        said(&frame_watch);
        drop(frame_watch);
        if !reached? {
            return Err(CommandError::failed_with_hint(
                format!(
                    "The mouse events for {sel} did not reach its frame (an out-of-process \
                     frame): {sel} was not clicked"
                ),
                "The frame may still be loading or moving, and the click may have gone to the \
                 page around it; check the page, then try again, or 'browse frame <iframe>' \
                 and act by selector.",
            ));
        }
        match call_function(session, &element.object_id, HIT_GUARD_READ) {
            Ok(Value::String(what)) => Ok(Attempt::Blocked(format!(
                "is not stable: {what} intercepts pointer events (the page moved it between \
                 the check and the mouse events, which that element did not receive)"
            ))),
            verdict => Ok(Attempt::Done(PointerDone {
                point,
                flushed: verdict.is_ok() && Arc::ptr_eq(session, &ctx.tab.cdp),
            })),
        }
    })
}

/// [`POINTER_CHECK`], then, in the common case, the rest of the click's preparation in the
/// same call: when `inPage`, nothing on the way up from the element transforms it (CSS
/// `transform`, `rotate`, `scale` all `none`: its client rects are then exactly the content
/// quads `DOM.getContentQuads` gives) and those rects lie wholly inside the viewport (so
/// `DOM.scrollIntoViewIfNeeded` would not scroll the page), [`CLICK_POINT`]'s hit test on
/// them (arming its `guard`), and its point when the element is hit. Otherwise
/// `POINTER_CHECK`'s state: `'ok'` means the caller does the rest over CDP (scroll, quads,
/// hit test), as it then does. Nothing is scrolled from the page:
/// `Element.scrollIntoViewIfNeeded` follows the page's `scroll-behavior: smooth` and returns
/// before the element has arrived, where the CDP scroll is instant.
fn pointer_target_function() -> String {
    format!(
        r#"async function(needEnabled, inPage, guard) {{
  const state = await ({POINTER_CHECK}).call(this, needEnabled);
  if (state !== 'ok' || !inPage || !(this instanceof HTMLElement)) return state;
  for (let e = this; e; e = e.parentElement || (e.getRootNode() || {{}}).host) {{
    const s = getComputedStyle(e);
    if (s.transform !== 'none' || s.rotate !== 'none' || s.scale !== 'none') return state;
  }}
  const vw = window.visualViewport ? visualViewport.width : innerWidth;
  const vh = window.visualViewport ? visualViewport.height : innerHeight;
  const rects = Array.from(this.getClientRects());
  if (!rects.length || rects.some((r) => r.left < 0 || r.top < 0 || r.right > vw || r.bottom > vh)) return state;
  const point = ({CLICK_POINT}).call(this, rects.map((r) => [r.left, r.top, r.right, r.top, r.right, r.bottom, r.left, r.bottom]), guard);
  return Array.isArray(point) ? point : state;
}}"#
    )
}

/// Waits (up to [`action_timeout()`]) until `sel` is visible, stable, enabled when
/// `need_enabled` (Playwright's click checks; an `<option>` is refused for clicks), scrolled
/// into view and not covered, and returns the point the mouse should use (viewport CSS px).
/// No hit-target guard: for a caller that sends its own mouse events (drag).
///
/// An element of the tab's main frame already in view is usually done in one
/// `Runtime.callFunctionOn` ([`pointer_target_function`]); any other (out of view, covered,
/// in a frame, transformed) takes the CDP way: `DOM.scrollIntoViewIfNeeded` and
/// `DOM.getContentQuads`, then the hit test in its own frame and, for a frame, in the tab's
/// document at the same point.
pub(super) fn actionable_point(
    ctx: &Ctx,
    sel: &str,
    need_enabled: bool,
) -> Result<(f64, f64), ActionError> {
    actionable_point_then(ctx, sel, need_enabled, HitGuard::Off, |_, point| {
        Ok(Attempt::Done(point))
    })
}

/// [`actionable_point`] with `guard` armed at the point, and `act` run there on each attempt
/// that gets one, with the element still held; what `act` answers is the attempt's outcome.
fn actionable_point_then<T>(
    ctx: &Ctx,
    sel: &str,
    need_enabled: bool,
    guard: HitGuard,
    mut act: impl FnMut(&Element, (f64, f64)) -> Result<Attempt<T>, CommandError>,
) -> Result<T, ActionError> {
    let click = need_enabled;
    let pointer_target = pointer_target_function();
    retry_action_with(ctx, sel, Connected::LeftToCaller, |element| {
        let tab = element.session();
        let in_page = element.frame().is_none();
        let state = call_function_with(
            tab,
            &element.object_id,
            &pointer_target,
            vec![json!(click), json!(in_page), guard.arg()],
        )
        .unwrap_or(Value::Null);
        let found = match state.as_str() {
            Some("ok") => None,
            Some("option") if click => return Err(CommandError::failed(OPTION_CLICK)),
            Some(other) => return Ok(Attempt::not_yet(other)),
            // The main frame's point, or why there is none.
            None => Some(point_or_block(&state, (0.0, 0.0), |_| None)),
        };
        let found = match found {
            Some(found) => found,
            None => {
                let Some(quads) = scroll_and_quads(tab, element) else {
                    return Ok(Attempt::not_yet("no box"));
                };
                // The quads are in the viewport of the session's root frame; the hit test
                // runs in the element's own frame, and the mouse moves in the tab's viewport.
                let Ok(((frame_x, frame_y), (root_x, root_y))) = frame_offsets(element) else {
                    return Ok(Attempt::Retry);
                };
                let quads: Vec<Vec<f64>> = quads
                    .into_iter()
                    .map(|q| {
                        q.iter()
                            .enumerate()
                            .map(|(i, v)| v - if i % 2 == 0 { frame_x } else { frame_y })
                            .collect()
                    })
                    .collect();
                let point = call_function_with(
                    tab,
                    &element.object_id,
                    CLICK_POINT,
                    vec![json!(quads), guard.arg()],
                )
                .unwrap_or(Value::Null);
                let offset = (frame_x + root_x, frame_y + root_y);
                point_or_block(&point, offset, |(x, y)| {
                    element
                        .frame()
                        .and_then(|frame| covered_at_top(ctx, frame, x, y))
                })
            }
        };
        match found {
            Attempt::Done(point) => act(element, point),
            Attempt::Retry => Ok(Attempt::Retry),
            Attempt::Blocked(why) => Ok(Attempt::Blocked(why)),
            Attempt::Detached => Ok(Attempt::Detached),
        }
    })
}

/// What [`CLICK_POINT`]'s answer comes to: its point moved by `offset` into the tab's
/// viewport, unless `covered_above` names what covers that point there; or why it is not
/// actionable yet.
fn point_or_block(
    answer: &Value,
    offset: (f64, f64),
    covered_above: impl FnOnce((f64, f64)) -> Option<String>,
) -> Attempt<(f64, f64)> {
    let covered =
        |what: &str| Attempt::Blocked(format!("is covered: {what} intercepts pointer events"));
    if let Some(what) = answer.get("covered").and_then(Value::as_str) {
        return covered(what);
    }
    match (
        answer.get(0).and_then(Value::as_f64),
        answer.get(1).and_then(Value::as_f64),
    ) {
        (Some(x), Some(y)) => {
            let point = (x + offset.0, y + offset.1);
            match covered_above(point) {
                Some(what) => covered(&what),
                None => Attempt::Done(point),
            }
        }
        _ => answer.as_str().map_or(Attempt::Retry, Attempt::not_yet),
    }
}

/// What the tab's own document has at (x, y), described, when it is not an iframe; the
/// `<iframe>` itself (a remote object) when it is: for an element in a frame, the hit test in
/// its frame cannot see what the page above covers it with.
/// `describe` is [`DESCRIBE_HIT`].
const TOP_HIT: &str = r#"((x, y, describe) => {
  let hit = document.elementFromPoint(x, y);
  while (hit && hit.shadowRoot) {
    const inner = hit.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  if (!hit) return 'nothing (the point is outside the page)';
  if (hit.localName === 'iframe' || hit.localName === 'frame') return hit;
  return describe.call(hit);
})"#;

/// True when this `<iframe>` lies in the tab's own document (not in a nested frame's).
const IN_TOP_DOCUMENT: &str =
    "function() { return this.ownerDocument.defaultView === window.top; }";

/// What covers `frame`'s element at (x, y) in the tab's document, or `None`. Another
/// `<iframe>` over the frame covers it too (a frame scaled over its neighbour took the
/// click, and `click` said it clicked the element below): the `<iframe>` hit must be the one
/// the frame is reached through ([`frames::owner_in_tab`]). When that one is inside a nested
/// same-process frame, any `<iframe>` hit counts as the way in, as before.
fn covered_at_top(ctx: &Ctx, frame: &frames::FrameRef, x: f64, y: f64) -> Option<String> {
    let hit = ctx
        .tab
        .cdp
        .call_raw(
            "Runtime.evaluate",
            json!({
                "expression": format!("{TOP_HIT}({x}, {y}, {DESCRIBE_HIT})"),
                "objectGroup": HIT_GROUP,
            }),
        )
        .ok()?;
    let covered = (|| {
        let result = &hit["result"];
        if let Some(what) = result["value"].as_str() {
            return Some(what.to_owned());
        }
        let iframe = result["objectId"].as_str()?;
        let hit_node = ctx
            .tab
            .cdp
            .call_raw("DOM.describeNode", json!({ "objectId": iframe }))
            .ok()?;
        let owner = frames::owner_in_tab(frame).ok()?;
        if hit_node["node"]["backendNodeId"].as_i64() == Some(owner) {
            return None;
        }
        let owner_object = ctx
            .tab
            .cdp
            .call_raw(
                "DOM.resolveNode",
                json!({ "backendNodeId": owner, "objectGroup": HIT_GROUP }),
            )
            .ok()?;
        let owner_id = owner_object["object"]["objectId"].as_str()?;
        if call_function(&ctx.tab.cdp, owner_id, IN_TOP_DOCUMENT).ok()? != Value::Bool(true) {
            return None;
        }
        call_function(&ctx.tab.cdp, iframe, DESCRIBE_HIT)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    })();
    let _ = ctx.tab.cdp.call_raw(
        "Runtime.releaseObjectGroup",
        json!({ "objectGroup": HIT_GROUP }),
    );
    covered
}

/// The object group of [`covered_at_top`]'s remote objects, released when it is done.
const HIT_GROUP: &str = "browse-top-hit";

/// `<tag id="…">`: how [`TOP_HIT`] and [`covered_at_top`] name what covers a frame.
const DESCRIBE_HIT: &str = r#"function() {
  let out = '<' + this.localName;
  if (this.id) out += ' id="' + this.id.slice(0, 40) + '"';
  return out + '>';
}"#;

/// For an element in an iframe: where its frame's viewport sits in its session's root frame's
/// viewport, and where that root frame's viewport sits in the tab's (CSS px). Zero for the
/// tab's main frame.
type Offset = (f64, f64);
fn frame_offsets(element: &Element) -> Result<(Offset, Offset), CommandError> {
    match element.frame() {
        None => Ok(((0.0, 0.0), (0.0, 0.0))),
        Some(frame) => Ok((
            frames::offset_in_session(frame)?,
            frames::session_offset(&frame.session)?,
        )),
    }
}

/// Playwright's `mouse.click(x, y, { clickCount })`: moves the mouse to `point` (viewport
/// CSS px), then presses and releases the left button `clicks` times, the n-th pair with
/// `clickCount` n (0: only the move, a hover; 2: a double click), with `modifiers` (CDP bits)
/// held throughout.
///
/// The events are sent back to back and their acknowledgements awaited in order: Chromium
/// handles a session's messages in order, so the page sees the same sequence, but Blink holds
/// a mouse move until its next animation frame (up to ~16 ms) before acknowledging it, and
/// the press that follows at once flushes it instead of waiting behind it.
pub(super) fn click_at(
    tab: &Tab,
    point: (f64, f64),
    clicks: u32,
    modifiers: u32,
) -> Result<(), CommandError> {
    use Input::{DispatchMouseEventTypeOption as Kind, MouseButton};
    let mut events = vec![mouse_event_request(
        Kind::MouseMoved,
        point,
        MouseButton::None,
        0,
        0,
        modifiers,
    )];
    for count in 1..=clicks {
        events.push(mouse_event_request(
            Kind::MousePressed,
            point,
            MouseButton::Left,
            1,
            count,
            modifiers,
        ));
        events.push(mouse_event_request(
            Kind::MouseReleased,
            point,
            MouseButton::Left,
            0,
            count,
            modifiers,
        ));
    }
    tab.call_methods_in_order(events)
        .map(drop)
        .map_err(cdp_error)
}

/// One `Input.dispatchMouseEvent` with the given buttons held, click count and modifiers.
pub(super) fn mouse_event(
    tab: &Tab,
    kind: Input::DispatchMouseEventTypeOption,
    point: (f64, f64),
    button: Input::MouseButton,
    buttons: u32,
    click_count: u32,
    modifiers: u32,
) -> Result<(), CommandError> {
    tab.call_method(mouse_event_request(
        kind,
        point,
        button,
        buttons,
        click_count,
        modifiers,
    ))
    .map(drop)
    .map_err(cdp_error)
}

/// The `Input.dispatchMouseEvent` request of [`mouse_event`]; no `clickCount` when 0.
fn mouse_event_request(
    kind: Input::DispatchMouseEventTypeOption,
    (x, y): (f64, f64),
    button: Input::MouseButton,
    buttons: u32,
    click_count: u32,
    modifiers: u32,
) -> Input::DispatchMouseEvent {
    Input::DispatchMouseEvent {
        Type: kind,
        x,
        y,
        modifiers: Some(modifiers),
        timestamp: None,
        button: Some(button),
        buttons: Some(buttons),
        click_count: (click_count > 0).then_some(click_count),
        force: None,
        tangential_pressure: None,
        tilt_x: None,
        tilt_y: None,
        twist: None,
        delta_x: None,
        delta_y: None,
        pointer_Type: None,
    }
}

/// Scrolls the element into view and returns its content quads (viewport CSS pixels).
/// `None` while it has no layout. The two calls go back to back: the session handles them in
/// order, so the quads are read after the scroll, one round trip's wait for both.
fn scroll_and_quads(tab: &Arc<Tab>, element: &Element) -> Option<Vec<Vec<f64>>> {
    let (scrolled, quads) = tab.call_pair_in_order((
        DOM::ScrollIntoViewIfNeeded {
            node_id: None,
            backend_node_id: None,
            object_id: Some(element.object_id.clone()),
            rect: None,
        },
        DOM::GetContentQuads {
            node_id: None,
            backend_node_id: None,
            object_id: Some(element.object_id.clone()),
        },
    ));
    scrolled.ok()?;
    let quads: Vec<Vec<f64>> = quads
        .ok()?
        .quads
        .into_iter()
        .filter(|q| q.len() == 8)
        .collect();
    (!quads.is_empty()).then_some(quads)
}

/// Prepares a fill as Playwright does: follows a label to its control, refuses what cannot
/// be filled, sets date-like inputs directly, and otherwise focuses and selects the content
/// so the inserted text replaces it. Returns `{done}`, `{retry}`, `{error}` or `{insert}`.
const FILL_PREPARE: &str = r#"function(value) {
  const el = this.tagName === 'LABEL' && this.control ? this.control : this;
  if (!el.isConnected) return { retry: 'detached' };
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility !== 'visible') return { retry: 'hidden' };
  const setValue = ['color', 'date', 'time', 'datetime-local', 'month', 'range', 'week'];
  const typeInto = ['', 'email', 'number', 'password', 'search', 'tel', 'text', 'url'];
  const tag = el.tagName;
  const type = tag === 'INPUT' ? el.type.toLowerCase() : '';
  if (tag === 'INPUT') {
    if (!typeInto.includes(type) && !setValue.includes(type)) return { error: `Input of type "${type}" cannot be filled` };
  } else if (tag !== 'TEXTAREA' && !el.isContentEditable) {
    return { error: 'Element is not an <input>, <textarea> or [contenteditable] element' };
  }
  if (el.matches(':disabled')) return { retry: 'disabled' };
  for (let e = el; e; e = e.parentElement) if (e.getAttribute('aria-disabled') === 'true') return { retry: 'disabled' };
  if ((tag === 'INPUT' || tag === 'TEXTAREA') && el.readOnly) return { retry: 'readonly' };
  if (type === 'number' && isNaN(Number(value.trim()))) return { error: 'Cannot type text into input[type=number]' };
  if (setValue.includes(type)) {
    const v = value.trim();
    el.focus();
    el.value = v;
    if (el.value !== v) return { error: 'Malformed value' };
    el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    return { done: true };
  }
  if (tag === 'INPUT') { el.select(); el.focus(); }
  else if (tag === 'TEXTAREA') { el.selectionStart = 0; el.selectionEnd = el.value.length; el.focus(); }
  else {
    const range = document.createRange();
    range.selectNodeContents(el);
    const s = window.getSelection();
    s.removeAllRanges();
    s.addRange(range);
    el.focus();
  }
  return { insert: true };
}"#;

/// Replaces the value of `sel` with `value` (Playwright's `fill`); an empty `value` clears it,
/// deleting the selected content with the Delete key as Playwright does.
pub(super) fn fill_element(ctx: &Ctx, sel: &str, value: &str) -> Result<(), ActionError> {
    // FILL_PREPARE tests `isConnected` before anything else.
    retry_action_with(ctx, sel, Connected::LeftToCaller, |element| {
        let tab = element.session();
        let Ok(state) =
            call_function_with(tab, &element.object_id, FILL_PREPARE, vec![json!(value)])
        else {
            return Ok(Attempt::Retry);
        };
        if let Some(error) = state.get("error").and_then(Value::as_str) {
            // Playwright's form for an error its injected script throws.
            return Err(CommandError::failed(format!("fill: Error: {error}")));
        }
        if state.get("done").is_some() {
            return Ok(Attempt::Done(()));
        }
        if state.get("insert").is_none() {
            return Ok(retry_state(&state));
        }
        if value.is_empty() {
            let delete = keys::press_events("Delete").map_err(CommandError::failed)?;
            for event in delete {
                dispatch_key(&ctx.tab.cdp, event)?;
            }
        } else {
            // Keyboard input goes to the tab, which routes it to the focused frame.
            ctx.tab
                .cdp
                .call_method(Input::InsertText {
                    text: value.to_owned(),
                })
                .map_err(cdp_error)?;
        }
        call_function(
            tab,
            &element.object_id,
            "function() { const el = this.tagName === 'LABEL' && this.control ? this.control : this; \
             el.dispatchEvent(new Event('change', { bubbles: true })); }",
        )?;
        Ok(Attempt::Done(()))
    })
}

/// Selects an option of a `<select>` (reached through its `<label>` too), or the `<option>`
/// itself, then fires `input` and `change`. The option is the first in DOM order whose value
/// or label is `value` (Playwright's `selectOption`, which gstack calls). The select must be
/// visible and enabled (retried); a select with no options yet is retried, as its options may
/// still be loading. A missing or disabled option ends at once with `{missing}`/`{disabled}`
/// and the labels there are: waiting would not change a populated list.
const SELECT_OPTION: &str = r#"function(value) {
  const self = this.tagName === 'LABEL' && this.control ? this.control : this;
  const el = self.tagName === 'OPTION' ? self.closest('select') : self;
  if (!el || el.tagName !== 'SELECT') return { error: 'Element is not a <select> element' };
  if (!el.isConnected) return { retry: 'detached' };
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility !== 'visible') return { retry: 'hidden' };
  if (el.matches(':disabled')) return { retry: 'disabled' };
  const options = Array.from(el.options);
  if (options.length === 0) return { retry: 'no options' };
  const option = self.tagName === 'OPTION' ? self
    : options.find((o) => o.value === value || o.label === value);
  const labels = (disabled) => options.filter((o) => o.disabled === disabled).map((o) => o.label);
  if (!option) return { missing: labels(false), disabled: labels(true) };
  if (option.disabled) return { disabled: labels(false) };
  options.forEach((o) => { o.selected = o === option; });
  el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return { done: option.text };
}"#;

fn select_option(ctx: &Ctx, sel: &str, value: &str) -> Result<String, ActionError> {
    retry_action(ctx, sel, |element| {
        let tab = element.session();
        let Ok(state) =
            call_function_with(tab, &element.object_id, SELECT_OPTION, vec![json!(value)])
        else {
            return Ok(Attempt::Retry);
        };
        if let Some(error) = state.get("error").and_then(Value::as_str) {
            return Err(CommandError::failed(format!(
                "selectOption: Error: {error}"
            )));
        }
        let labels = |key: &str| -> Vec<String> {
            state
                .get(key)
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).map(quoted).collect())
                .unwrap_or_default()
        };
        if state.get("missing").is_some() {
            let disabled = labels("disabled");
            let disabled = if disabled.is_empty() {
                String::new()
            } else {
                format!(" (disabled: {})", list_of(&disabled))
            };
            return Err(CommandError::failed(format!(
                "No option {} in {sel} (matched by value or label). Available options: {}{disabled}",
                quoted(value),
                list_of(&labels("missing"))
            )));
        }
        if state.get("disabled").is_some() {
            return Err(CommandError::failed(format!(
                "Option {} in {sel} is disabled. Available options: {}",
                quoted(value),
                list_of(&labels("disabled"))
            )));
        }
        Ok(match state.get("done").and_then(Value::as_str) {
            Some(text) => Attempt::Done(text.to_owned()),
            None => retry_state(&state),
        })
    })
}

/// The attempt a page-side `{retry: '<state>'}` answer asks for.
fn retry_state<T>(state: &Value) -> Attempt<T> {
    state
        .get("retry")
        .and_then(Value::as_str)
        .map_or(Attempt::Retry, Attempt::not_yet)
}

/// How many option labels an error lists before it says how many more there are.
const LABELS_LISTED: usize = 20;

/// `"a", "b", "c"`, or `(none)`; long lists end with `… and N more`.
fn list_of(quoted_labels: &[String]) -> String {
    if quoted_labels.is_empty() {
        return "(none)".into();
    }
    let shown = quoted_labels
        .iter()
        .take(LABELS_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match quoted_labels.len().saturating_sub(LABELS_LISTED) {
        0 => shown,
        more => format!("{shown} … and {more} more"),
    }
}

/// A label or value in double quotes, as JSON writes a string (so quotes and control
/// characters in it stay readable on one line).
fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// Scrolls `sel` into view once it has a layout box (5 s, strict).
fn scroll_into_view(ctx: &Ctx, sel: &str) -> Result<(), CommandError> {
    retry_action(ctx, sel, |element| {
        let scrolled = element.session().call_method(DOM::ScrollIntoViewIfNeeded {
            node_id: None,
            backend_node_id: None,
            object_id: Some(element.object_id.clone()),
            rect: None,
        });
        Ok(if scrolled.is_ok() {
            Attempt::Done(())
        } else {
            Attempt::Retry
        })
    })
    .map_err(|e| e.or_never_matched("scrollIntoViewIfNeeded", sel))
}

// ---------------------------------------------------------------------------------------
// Settling after an action

#[derive(Default)]
struct NavigationState {
    started: bool,
    committed: bool,
    content_loaded: bool,
    network_idle: bool,
    finished: bool,
}

type Listener = dyn EventListener<Event> + Send + Sync;

/// Watches the main frame while an action runs, so that an action that starts a navigation
/// returns only once the new document is usable (and its URL is the one reported).
pub(super) struct NavigationWatch {
    tab: Arc<Tab>,
    listener: Weak<Listener>,
    state: Arc<(Mutex<NavigationState>, Condvar)>,
    /// The daemon's downloads, and when the watch began: a navigation whose answer is a
    /// download commits nothing, and Chromium may take seconds to abort it (it sniffs the
    /// first bytes of a slow body first), so its headers end the wait.
    downloads: Arc<Downloads>,
    began: Instant,
}

/// How often a navigation wait looks at the downloads record (which wakes no watch).
const DOWNLOAD_RECHECK: Duration = Duration::from_millis(50);

impl NavigationWatch {
    pub(super) fn start(tab: &Arc<Tab>, downloads: &Arc<Downloads>) -> Result<Self, CommandError> {
        let began = Instant::now();
        // A page target's main frame id is its target id.
        let main_frame = tab.get_target_id().clone();
        let state: Arc<(Mutex<NavigationState>, Condvar)> = Arc::default();
        let sink = Arc::clone(&state);
        let listener = tab
            .add_event_listener(Arc::new(move |event: &Event| {
                let (log, changed) = &*sink;
                let mut s = lock(log);
                match event {
                    Event::PageFrameStartedLoading(e) if e.params.frame_id == main_frame => {
                        s.started = true;
                    }
                    Event::PageFrameRequestedNavigation(e)
                        if e.params.frame_id == main_frame
                            && e.params.disposition
                                == Page::ClientNavigationDisposition::CurrentTab =>
                    {
                        s.started = true;
                    }
                    Event::PageFrameNavigated(e) if e.params.frame.parent_id.is_none() => {
                        s.started = true;
                        s.committed = true;
                        // Only the new document's network idle counts from here on.
                        s.network_idle = false;
                    }
                    Event::PageNavigatedWithinDocument(e) if e.params.frame_id == main_frame => {
                        // pushState or a fragment: no new document, so no load or network-idle
                        // event will follow. Settled once committed.
                        s.committed = true;
                        s.content_loaded = true;
                        s.network_idle = true;
                    }
                    Event::PageLifecycleEvent(e)
                        if e.params.frame_id == main_frame
                            && e.params.name == "DOMContentLoaded" =>
                    {
                        s.content_loaded = true;
                    }
                    Event::PageLifecycleEvent(e)
                        if e.params.frame_id == main_frame && e.params.name == "networkIdle" =>
                    {
                        s.network_idle = true;
                    }
                    Event::PageDomContentEventFired(_) => s.content_loaded = true,
                    Event::PageFrameStoppedLoading(e) if e.params.frame_id == main_frame => {
                        s.finished = true;
                    }
                    _ => return,
                }
                drop(s);
                changed.notify_all();
            }))
            .map_err(cdp_error)?;
        Ok(Self {
            tab: Arc::clone(tab),
            listener,
            state,
            downloads: Arc::clone(downloads),
            began,
        })
    }

    /// Whether a navigation of this tab turned out to be a download since the watch began.
    fn download_began(&self) -> bool {
        self.downloads.began_on(self.tab.session_id(), self.began)
    }

    /// Waits until `done` holds or `deadline` passes.
    fn wait(&self, deadline: Instant, done: impl Fn(&NavigationState) -> bool) -> bool {
        let (log, changed) = &*self.state;
        let mut s = lock(log);
        while !done(&s) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = match changed.wait_timeout(s, left.min(DOWNLOAD_RECHECK)) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    /// If the action started a navigation: waits for it to commit (as Playwright's actions
    /// do), then, within [`SETTLE_TIMEOUT`], for its DOMContentLoaded and network idle, as
    /// gstack's `waitForLoadState('networkidle', 2000)` does. Running out of time is not an
    /// error, as it is not in gstack.
    pub(super) fn settle(self) {
        self.settle_flushed(false);
    }

    /// [`NavigationWatch::settle`] when `flushed` says a page call on the tab's session was
    /// already answered after the action (the hit-target guard's read), which then stands for
    /// the flush below.
    pub(super) fn settle_flushed(self, flushed: bool) {
        // Events the page sent before answering this are delivered before the answer. A
        // failure means the old document is already gone, which the events tell as well.
        // Blink reports a navigation it starts (`Page.frameRequestedNavigation`, then
        // `frameStartedLoading` or `navigatedWithinDocument`) while the click is handled, on
        // the same channel as this answer, so nothing is left to wait for when none came. (A
        // fixed 10 ms grace for browser-side events used to follow; no navigation needed it.)
        if !flushed {
            let _ = evaluate(&self.tab, "0", false);
        }
        let now = Instant::now();
        if !self.wait(now, |s| s.started || s.committed) {
            return;
        }
        if !self.wait(now + NAVIGATION_TIMEOUT, |s| {
            s.committed || s.finished || self.download_began()
        }) {
            return;
        }
        if !self.wait(now, |s| s.committed) && self.download_began() {
            // A download: the page stays as it was.
            return;
        }
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        // A navigation that stopped without committing (a download, a 204) left the page be.
        if self.wait(deadline, |s| {
            s.content_loaded || (s.finished && !s.committed)
        }) {
            self.wait(deadline, |s| s.network_idle || (s.finished && !s.committed));
        }
    }
}

impl Drop for NavigationWatch {
    fn drop(&mut self) {
        let _ = self.tab.remove_event_listener(&self.listener);
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers

pub(super) fn dispatch_key(tab: &Tab, event: Input::DispatchKeyEvent) -> Result<(), CommandError> {
    tab.call_method(event).map(drop).map_err(cdp_error)
}

pub(super) fn cdp_error(e: anyhow::Error) -> CommandError {
    CommandError::failed(format!("{e:#}"))
}

/// JavaScript's `parseInt(s, 10)`: optional sign and leading digits after whitespace.
fn js_parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (sign, digits) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse::<i64>().ok().map(|n| sign * n)
}

/// JavaScript's `Number(s)` for the forms a CLI user types; `None` where it gives NaN.
pub(super) fn js_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() {
        return Some(0.0);
    }
    let lower = t.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return match t {
            "Infinity" | "+Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        };
    }
    t.parse::<f64>().ok()
}

/// A number as JavaScript prints it (`2`, not `2.0`).
fn js_display(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_number_parsing() {
        assert_eq!(js_parse_int("3"), Some(3));
        assert_eq!(js_parse_int(" 12abc"), Some(12));
        assert_eq!(js_parse_int("-4"), Some(-4));
        assert_eq!(js_parse_int("abc"), None);
        assert_eq!(js_number("375"), Some(375.0));
        assert_eq!(js_number(""), Some(0.0));
        assert_eq!(js_number("abc"), None);
        assert_eq!(js_number("inf"), None);
        assert_eq!(js_display(2.0), "2");
        assert_eq!(js_display(1.5), "1.5");
    }

    #[test]
    fn upload_paths_are_confined() {
        let dir = std::env::temp_dir();
        let err =
            |r: Result<PathBuf, CommandError>| r.err().map(|e| e.body.error).unwrap_or_default();
        assert_eq!(
            err(upload_path(&dir, "../etc/passwd")),
            "Path traversal sequences (..) are not allowed"
        );
        assert_eq!(
            err(upload_path(&dir, "/no/such/file")),
            "File not found: /no/such/file"
        );
        assert!(err(upload_path(&dir, "/etc/passwd")).starts_with("Path must be within: /tmp, "));
    }
}
