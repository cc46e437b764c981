//! Navigation commands and load-state waits: `goto`, `back`, `forward`, `reload` and `wait`.
//!
//! A navigation is done when the new main-frame document reached `DOMContentLoaded`; a
//! same-document one (pushState, hash) is done when it is committed, since it fires no
//! lifecycle event at all.

use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page;

use super::{reading, wait_for};
use crate::browser::events::DocumentWait;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::session::TabHandle;
use crate::browser::url_policy;
use crate::cdp::NoAnswer;

/// How long a navigation may take to reach `DOMContentLoaded` by default; `goto` and the
/// history commands read `BROWSE_NAVIGATION_TIMEOUT` (see `settings.rs`).
pub const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(15);

/// `goto <url>` → `Navigated to <url> (<status>)`.
pub fn goto(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let [input, ..] = args else {
        return Err(CommandError::usage("goto"));
    };
    let url = url_policy::validate(input, &ctx.cwd)?;
    let status = navigate(ctx.tab, &url)?;
    Ok(format!("Navigated to {url} ({status})"))
}

/// Navigates the main frame and waits for `DOMContentLoaded` of the new document. Returns the
/// HTTP status, or `unknown` when the document had no response (about:blank, same-document).
///
/// `Page.navigate` answers once the server's response starts, so a server that never answers
/// holds the call itself: the call and then the document's load each get the time limit,
/// after which the navigation is stopped (`Page.stopLoading`) and the tab stays on what it
/// showed.
pub fn navigate(tab: &TabHandle, url: &str) -> Result<String, CommandError> {
    let limit = crate::settings::navigation_timeout();
    let sent = tab.cdp.call_method_within(
        Page::Navigate {
            url: url.to_owned(),
            referrer: None,
            transition_Type: None,
            frame_id: None,
            referrer_policy: None,
        },
        limit,
    );
    let reply = match sent {
        Ok(reply) => reply,
        Err(e) if e.downcast_ref::<NoAnswer>().is_some() => {
            stop_loading(tab);
            return Err(navigation_timeout(&format!(
                "no response from {url} within {}; the navigation was stopped",
                seconds(limit)
            )));
        }
        Err(e) => return Err(CommandError::failed(format!("{e:#}"))),
    };
    if let Some(error) = reply.error_text.filter(|t| !t.is_empty()) {
        // Playwright's `page.goto` error, which gstack prints whole: `goto: net::… at <url>`.
        return Err(CommandError::failed(format!("goto: {error} at {url}")));
    }
    let Some(loader) = reply.loader_id else {
        return Ok("unknown".into());
    };
    match tab
        .events
        .wait_document(&loader, "DOMContentLoaded", Instant::now() + limit)
    {
        DocumentWait::Reached => {}
        DocumentWait::TimedOut => {
            stop_loading(tab);
            return Err(navigation_timeout(&format!(
                "{url} did not finish loading within {}; loading was stopped",
                seconds(limit)
            )));
        }
        DocumentWait::Replaced(_) => {
            // The page moved on by itself (a redirect by script, a navigation loop): our
            // document never finished, but the tab is usable; say where it went.
            let now_at = tab
                .events
                .newest_document_url(Instant::now() + NAVIGATION_TIMEOUT);
            return Err(CommandError::failed(format!(
                "Navigation to {url} was interrupted by another navigation (now at {now_at})"
            )));
        }
    }
    let status = evaluate(
        &tab.cdp,
        "(() => { const e = performance.getEntriesByType('navigation')[0]; \
         return e && e.responseStatus ? e.responseStatus : null; })()",
        false,
    )
    .ok()
    .and_then(|v| v.as_u64());
    Ok(status.map_or_else(|| "unknown".into(), |s| s.to_string()))
}

/// How often load-state and element waits look again when no event can wake them.
const POLL: Duration = Duration::from_millis(100);

/// `wait <sel> [ms]` and `wait --networkidle|--load|--domcontentloaded [ms]`: the default
/// timeout and its clamp.
const WAIT_DEFAULT_MS: u64 = 15_000;
const WAIT_MIN_MS: u64 = 1_000;
const WAIT_MAX_MS: u64 = 300_000;

/// gstack's navigation timeout message, followed by what exactly did not happen in time.
fn navigation_timeout(what: &str) -> CommandError {
    CommandError::failed(format!(
        "Page navigation timed out. The URL may be unreachable or the page may be loading slowly. ({what})"
    ))
}

/// Stops the tab's pending navigation or loading (`Page.stopLoading`, handled by the browser
/// process, so it answers even while the page waits on the network). The tab then keeps the
/// document it had, or the part of the new one that arrived.
fn stop_loading(tab: &TabHandle) {
    if let Err(e) = tab
        .cdp
        .call_method_within(Page::StopLoading(None), Duration::from_secs(5))
    {
        tracing::warn!("cannot stop a navigation that timed out: {e:#}");
    }
}

/// `15s`, or `2500ms` when not whole seconds.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `back` → `Back → <url>`; a silent no-op at the start of history.
pub fn back(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    history_step(ctx.tab, -1)?;
    Ok(format!("Back → {}", ctx.tab.events.url()))
}

/// `forward` → `Forward → <url>`; a silent no-op at the end of history.
pub fn forward(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    history_step(ctx.tab, 1)?;
    Ok(format!("Forward → {}", ctx.tab.events.url()))
}

/// `reload` → `Reloaded <url>`.
pub fn reload(ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    let tab = ctx.tab;
    let (navs, docs) = (tab.events.navigation_count(), tab.events.document_count());
    tab.cdp
        .call_method(Page::Reload {
            ignore_cache: None,
            script_to_evaluate_on_load: None,
            loader_id: None,
        })
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    settle_after(tab, navs, docs)?;
    Ok(format!("Reloaded {}", tab.events.url()))
}

/// Moves `delta` entries through the tab's history and waits for the result.
fn history_step(tab: &TabHandle, delta: i64) -> Result<(), CommandError> {
    let history = tab
        .cdp
        .call_method(Page::GetNavigationHistory(None))
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    let target = i64::from(history.current_index) + delta;
    let Some(entry) = usize::try_from(target)
        .ok()
        .and_then(|i| history.entries.get(i))
    else {
        return Ok(());
    };
    let (navs, docs) = (tab.events.navigation_count(), tab.events.document_count());
    tab.cdp
        .call_method(Page::NavigateToHistoryEntry { entry_id: entry.id })
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    settle_after(tab, navs, docs)
}

/// Waits for a navigation started after the counts `navs`/`docs` were read: its commit, then,
/// if it brought a new document, that document's `DOMContentLoaded`.
fn settle_after(tab: &TabHandle, navs: u64, docs: u64) -> Result<(), CommandError> {
    let limit = crate::settings::navigation_timeout();
    let deadline = Instant::now() + limit;
    if !tab.events.wait_navigation_after(navs, deadline) {
        stop_loading(tab);
        return Err(navigation_timeout(&format!(
            "no new page within {}; the navigation was stopped",
            seconds(limit)
        )));
    }
    if tab.events.document_count() == docs
        || reach_load_state(tab, LoadState::DomContentLoaded, deadline)?
    {
        return Ok(());
    }
    stop_loading(tab);
    Err(navigation_timeout(&format!(
        "{} did not finish loading within {}; loading was stopped",
        tab.events.url(),
        seconds(limit)
    )))
}

/// The load states `wait` knows, by their Chromium lifecycle event names.
#[derive(Clone, Copy, PartialEq)]
enum LoadState {
    DomContentLoaded,
    Load,
    NetworkIdle,
}

impl LoadState {
    /// A script true when the main document's loading was stopped before this state's event
    /// (a `goto` or `reload` that timed out stops it, as does the page's `window.stop()`):
    /// its parsing is over (`readyState` is `complete`) and the event never fired, so it never
    /// will. `None` for network idleness, which a stopped document can still reach.
    fn stopped_check(self) -> Option<String> {
        // The Navigation Timing field that is 0 until the event fires.
        let event_start = match self {
            LoadState::DomContentLoaded => "domContentLoadedEventStart",
            LoadState::Load => "loadEventStart",
            LoadState::NetworkIdle => return None,
        };
        Some(format!(
            "(() => {{ const n = performance.getEntriesByType('navigation')[0]; \
             return !!n && document.readyState === 'complete' && n.{event_start} === 0; }})()"
        ))
    }

    fn lifecycle_name(self) -> &'static str {
        match self {
            LoadState::DomContentLoaded => "DOMContentLoaded",
            LoadState::Load => "load",
            LoadState::NetworkIdle => "networkIdle",
        }
    }

    /// Asks the page itself, for a document whose lifecycle events we never saw. Network
    /// idleness is then judged by the resource timings: loaded, and nothing finished in the
    /// last 500 ms.
    fn page_check(self) -> &'static str {
        match self {
            LoadState::DomContentLoaded => "document.readyState !== 'loading'",
            LoadState::Load => "document.readyState === 'complete'",
            LoadState::NetworkIdle => {
                "document.readyState === 'complete' && performance.getEntriesByType('resource')\
                 .every(e => performance.now() - e.responseEnd >= 500)"
            }
        }
    }
}

/// The loader id of the main frame's current document.
fn main_loader(tab: &TabHandle) -> Result<String, CommandError> {
    let tree = tab
        .cdp
        .call_method(Page::GetFrameTree(None))
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    Ok(tree.frame_tree.frame.loader_id)
}

/// Whether the main frame's current document already reached `state` (no wait).
fn tab_reached(tab: &TabHandle, state: LoadState) -> bool {
    reach_load_state(tab, state, Instant::now()).unwrap_or(false)
}

/// Waits until the main frame's current document reached `state`. True at once when it
/// already had; false at the deadline.
fn reach_load_state(
    tab: &TabHandle,
    state: LoadState,
    deadline: Instant,
) -> Result<bool, CommandError> {
    loop {
        let slice_end = (Instant::now() + POLL).min(deadline);
        let loader = main_loader(tab)?;
        if tab.events.knows_loader(&loader) {
            if tab
                .events
                .wait_lifecycle(&loader, state.lifecycle_name(), slice_end)
            {
                return Ok(true);
            }
        } else {
            // The context may be between documents; an error just means "not yet".
            if let Ok(serde_json::Value::Bool(true)) = evaluate(&tab.cdp, state.page_check(), false)
            {
                return Ok(true);
            }
            std::thread::sleep(slice_end.saturating_duration_since(Instant::now()));
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
    }
}

/// gstack's timeout argument: `parseInt(arg) || 1000`, 15000 when absent, clamped to
/// 1000–300000.
fn wait_timeout(arg: Option<&String>) -> Duration {
    let ms = match arg {
        None => WAIT_DEFAULT_MS,
        Some(text) => parse_int_prefix(text)
            .filter(|&n| n != 0)
            .map_or(WAIT_MIN_MS, |n| n.clamp(0, i64::MAX) as u64),
    };
    Duration::from_millis(ms.clamp(WAIT_MIN_MS, WAIT_MAX_MS))
}

/// JavaScript's `parseInt(s, 10)`: leading whitespace, a sign, then as many digits as there
/// are. `None` where it gives `NaN`.
fn parse_int_prefix(s: &str) -> Option<i64> {
    let s = s.trim_start();
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

/// `wait <sel> [ms] | --networkidle [ms] | --load [ms] | --domcontentloaded [ms]`, and the page
/// conditions of `wait_for.rs` (`--text`, `--url`, `--fn`, `--gone`).
pub fn wait(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(first) = args.first() else {
        return Err(CommandError::usage("wait"));
    };
    if let Some((condition, timeout)) = condition_args(args)? {
        return wait_for::wait_for(ctx, &condition, wait_timeout(timeout));
    }
    let (state, timeout, done) = match first.as_str() {
        "--networkidle" => (
            LoadState::NetworkIdle,
            wait_timeout(args.get(1)),
            "Network idle",
        ),
        // The ms apply here too (gstack ignores them for these two, leaving Playwright's
        // default): `wait --load 2000` waiting 15 s surprised a user.
        "--load" => (LoadState::Load, wait_timeout(args.get(1)), "Page loaded"),
        "--domcontentloaded" => (
            LoadState::DomContentLoaded,
            wait_timeout(args.get(1)),
            "DOM content loaded",
        ),
        selector => {
            let timeout = wait_timeout(args.get(1));
            reading::wait_visible(ctx, selector, timeout)?;
            return Ok(format!("Element {selector} appeared"));
        }
    };
    if !tab_reached(ctx.tab, state) {
        if let Some(check) = state.stopped_check() {
            // Waiting would only run out the clock: say so at once.
            if let Ok(serde_json::Value::Bool(true)) = evaluate(&ctx.tab.cdp, &check, false) {
                return Err(CommandError::failed_with_hint(
                    format!(
                        "waitForLoadState: the page at {} stopped loading before its {} event; \
                         it will not fire now",
                        ctx.tab.events.url(),
                        state.lifecycle_name()
                    ),
                    "Its loading was stopped (a goto or reload that timed out stops it, so does \
                     the page's window.stop()). Load it again with 'browse reload', or wait for \
                     what you need: 'browse wait <selector>', 'browse wait --text <text>'.",
                ));
            }
        }
    }
    if reach_load_state(ctx.tab, state, Instant::now() + timeout)? {
        Ok(done.to_owned())
    } else {
        Err(CommandError::failed_with_hint(
            format!(
                "Operation timed out: waitForLoadState: Timeout {}ms exceeded.",
                timeout.as_millis()
            ),
            format!(
                "Waited {} ms for the page to reach '{done}' at {}; {} ('browse network' lists the requests).",
                timeout.as_millis(),
                ctx.tab.events.url(),
                if state == LoadState::NetworkIdle {
                    "requests still open keep it from being idle"
                } else {
                    "a resource still loading (a script, image, stylesheet or iframe) holds it back"
                }
            ),
        ))
    }
}

// `load-html` (gstack's Tier B, issue 13).

/// gstack's cap on `load-html` content (bytes).
const MAX_HTML_BYTES: u64 = 50 * 1024 * 1024;

/// `load-html <file> [--wait-until load|domcontentloaded|networkidle]` or
/// `load-html --from-file <payload.json>` (gstack `write-commands.ts`): replaces the tab's
/// document with the HTML (`Page.setDocumentContent`; the URL stays), then waits for the load
/// state (default `domcontentloaded`). Refs are cleared. Output `Loaded HTML: <abs> (<n>
/// bytes)` or `Loaded HTML: (inline from --from-file, <n> chars)` (UTF-16 units, as gstack).
pub fn load_html(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let mut file: Option<&String> = None;
    let mut payload: Option<&String> = None;
    let mut wait_until: Option<String> = None;
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        match arg.as_str() {
            "--from-file" => {
                payload = Some(words.next().ok_or_else(|| {
                    CommandError::failed("load-html: --from-file requires a path")
                })?);
            }
            "--wait-until" => {
                let value = words.next().map(String::as_str).unwrap_or("");
                wait_until = Some(value.to_owned());
            }
            flag if flag.starts_with("--") => {
                return Err(CommandError::failed(format!("Unknown flag: {flag}")))
            }
            _ if file.is_none() => file = Some(arg),
            _ => {}
        }
    }
    let check_state = |value: &str| match value {
        "load" => Ok(LoadState::Load),
        "domcontentloaded" => Ok(LoadState::DomContentLoaded),
        "networkidle" => Ok(LoadState::NetworkIdle),
        other => Err(other.to_owned()),
    };
    let mut state = match wait_until.as_deref().map(check_state) {
        None => LoadState::DomContentLoaded,
        Some(Ok(state)) => state,
        Some(Err(bad)) => {
            return Err(CommandError::failed(format!(
                "Invalid --wait-until '{bad}'. Must be one of: load, domcontentloaded, networkidle."
            )))
        }
    };
    let (html, shown) = if let Some(payload) = payload {
        let path = crate::browser::confine::input(&ctx.cwd, payload).map_err(|_| {
            CommandError::failed(format!(
                "load-html: --from-file {payload} must be a file under /tmp or {} (security policy). Copy the payload into the project tree or /tmp first.",
                ctx.cwd.display()
            ))
        })?;
        let raw = std::fs::read_to_string(&path)
            .map_err(|e| CommandError::failed(format!("load-html: cannot read {payload}: {e}")))?;
        let json: serde_json::Value = serde_json::from_str(&raw).map_err(|e| {
            CommandError::failed(format!("load-html: --from-file JSON parse failed: {e}"))
        })?;
        let Some(html) = json.get("html").and_then(serde_json::Value::as_str) else {
            return Err(CommandError::failed(
                "load-html: --from-file JSON must have a \"html\" string field",
            ));
        };
        if let Some(value) = json.get("waitUntil").and_then(serde_json::Value::as_str) {
            state = check_state(value).map_err(|bad| {
                CommandError::failed(format!("load-html: --from-file waitUntil '{bad}' invalid"))
            })?;
        }
        if html.len() as u64 > MAX_HTML_BYTES {
            return Err(CommandError::failed(format!(
                "load-html: --from-file html too large (> {MAX_HTML_BYTES} bytes)."
            )));
        }
        if !looks_like_markup(html) {
            return Err(CommandError::failed(
                "load-html: --from-file html does not start with a valid markup opener",
            ));
        }
        let units = html.encode_utf16().count();
        (
            html.to_owned(),
            format!("(inline from --from-file, {units} chars)"),
        )
    } else {
        let Some(file) = file else {
            return Err(CommandError::usage("load-html"));
        };
        read_html_file(ctx, file)?
    };
    ctx.tab
        .cdp
        .call_raw(
            "Page.setDocumentContent",
            serde_json::json!({ "frameId": ctx.tab.cdp.get_target_id(), "html": html }),
        )
        .map_err(|e| CommandError::failed(format!("load-html: {e:#}")))?;
    ctx.state.refs = Default::default();
    ctx.state.last_snapshot = None;
    let deadline = Instant::now() + NAVIGATION_TIMEOUT;
    loop {
        if let Ok(serde_json::Value::Bool(true)) = evaluate(&ctx.tab.cdp, state.page_check(), false)
        {
            break;
        }
        if Instant::now() >= deadline {
            return Err(navigation_timeout(
                "the loaded HTML did not reach its load state",
            ));
        }
        std::thread::sleep(POLL);
    }
    Ok(format!("Loaded HTML: {shown}"))
}

/// gstack's checks on a `load-html` file: an HTML extension, inside the allowed dirs, a
/// regular file of at most 50 MB whose first non-blank byte opens markup.
fn read_html_file(ctx: &Ctx, file: &str) -> Result<(String, String), CommandError> {
    let extension = std::path::Path::new(file)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy().to_ascii_lowercase()));
    if !matches!(extension.as_deref(), Some(".html" | ".htm" | ".xhtml")) {
        return Err(CommandError::failed(format!(
            "load-html: file does not appear to be HTML. Expected .html/.htm/.xhtml, got {}. Rename the file if it's really HTML.",
            extension.as_deref().unwrap_or("(no extension)")
        )));
    }
    let absolute = ctx.cwd.join(file);
    let path = crate::browser::confine::input(&ctx.cwd, file).map_err(|e| {
        let message = if e.body.error.starts_with("File not found") {
            format!(
                "load-html: file not found at {}. Check spelling or copy the file under {} or /tmp.",
                absolute.display(),
                ctx.cwd.display()
            )
        } else if absolute.is_dir() {
            format!("load-html: {} is a directory, not a file. Pass a .html file.", absolute.display())
        } else {
            format!(
                "load-html: {} must be under /tmp or {} (security policy). Copy the file into the project tree or /tmp first.",
                absolute.display(),
                ctx.cwd.display()
            )
        };
        CommandError::failed(message)
    })?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_HTML_BYTES {
        return Err(CommandError::failed(format!(
            "load-html: file too large ({size} bytes > {MAX_HTML_BYTES} cap). Split the HTML."
        )));
    }
    let bytes = std::fs::read(&path)
        .map_err(|e| CommandError::failed(format!("load-html: cannot read {file}: {e}")))?;
    let html = String::from_utf8_lossy(&bytes).into_owned();
    if !looks_like_markup(&html) {
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        return Err(CommandError::failed(format!(
            "load-html: {} has {} extension but content does not look like HTML. First bytes: {}",
            path.display(),
            extension.unwrap_or_default(),
            hex.join(" ")
        )));
    }
    Ok((html, format!("{} ({size} bytes)", path.display())))
}

/// `<` then a letter, `!` or `?` after an optional BOM and blanks.
fn looks_like_markup(html: &str) -> bool {
    let mut chars = html.trim_start_matches('\u{feff}').trim_start().chars();
    chars.next() == Some('<')
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '!' || c == '?')
}

// `diff` (gstack's Tier B, issue 13).

/// Lines compared by `diff` at most (the table is this squared at worst, after the common
/// start and end are set aside); past it the changed middle is shown as removed then added.
const DIFF_MAX_CELLS: usize = 4_000_000;

/// `diff <url1> <url2>` (gstack `meta-commands.ts`): loads each URL in this tab in turn and
/// prints a line diff of their `text`: `--- <url1>`, `+++ <url2>`, a blank line, then one line
/// per text line prefixed `+ `, `- ` or two spaces.
pub fn diff(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let [first, second] = args else {
        return Err(CommandError::usage("diff"));
    };
    // Both URLs are checked before the tab moves: a refused second URL leaves the page be.
    let urls = [
        url_policy::validate(first, &ctx.session.cwd)?,
        url_policy::validate(second, &ctx.session.cwd)?,
    ];
    let mut texts = Vec::with_capacity(2);
    for valid in &urls {
        navigate(ctx.tab, valid)?;
        texts.push(reading::text(ctx, &[])?);
    }
    let old: Vec<&str> = texts[0].lines().filter(|l| !l.is_empty()).collect();
    let new: Vec<&str> = texts[1].lines().filter(|l| !l.is_empty()).collect();
    let mut out = vec![
        format!("--- {first}"),
        format!("+++ {second}"),
        String::new(),
    ];
    out.extend(
        line_diff(&old, &new)
            .into_iter()
            .map(|(mark, line)| format!("{mark} {line}")),
    );
    Ok(out.join("\n"))
}

/// A shortest line diff (longest common subsequence) as `(' ' | '-' | '+', line)`, removals
/// before additions in each changed stretch, as jsdiff's `diffLines` prints them.
fn line_diff<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<(char, &'a str)> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (a, b) = (
        &old[prefix..old.len() - suffix],
        &new[prefix..new.len() - suffix],
    );
    let mut out: Vec<(char, &str)> = old[..prefix].iter().map(|l| (' ', *l)).collect();
    if a.len().saturating_mul(b.len()) > DIFF_MAX_CELLS {
        out.extend(a.iter().map(|l| ('-', *l)));
        out.extend(b.iter().map(|l| ('+', *l)));
    } else {
        // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
        let width = b.len() + 1;
        let mut lcs = vec![0u32; (a.len() + 1) * width];
        for i in (0..a.len()).rev() {
            for j in (0..b.len()).rev() {
                lcs[i * width + j] = if a[i] == b[j] {
                    lcs[(i + 1) * width + j + 1] + 1
                } else {
                    lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        while i < a.len() || j < b.len() {
            if i < a.len() && j < b.len() && a[i] == b[j] {
                out.extend(removed.drain(..).map(|l| ('-', l)));
                out.extend(added.drain(..).map(|l| ('+', l)));
                out.push((' ', a[i]));
                i += 1;
                j += 1;
            } else if j < b.len()
                && (i == a.len() || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j])
            {
                added.push(b[j]);
                j += 1;
            } else {
                removed.push(a[i]);
                i += 1;
            }
        }
        out.extend(removed.into_iter().map(|l| ('-', l)));
        out.extend(added.into_iter().map(|l| ('+', l)));
    }
    out.extend(old[old.len() - suffix..].iter().map(|l| (' ', *l)));
    out
}

/// `wait --text T [ms]` and the other page conditions of [`wait_for::Condition`] (the flag
/// anywhere, `--flag=value` too), with the ms argument; `None` for gstack's own forms.
fn condition_args(
    args: &[String],
) -> Result<Option<(wait_for::Condition, Option<&String>)>, CommandError> {
    for (i, word) in args.iter().enumerate() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if word.starts_with("--") => (flag, Some(value)),
            _ => (word.as_str(), None),
        };
        if !matches!(flag, "--text" | "--url" | "--fn" | "--gone") {
            continue;
        }
        let value_at = if inline.is_some() { i } else { i + 1 };
        let value = match inline {
            Some(v) => v,
            None => args.get(value_at).map(String::as_str).unwrap_or_default(),
        };
        let condition = wait_for::Condition::from_flag(flag, value)
            .filter(|_| !value.is_empty())
            .ok_or_else(|| CommandError::usage("wait"))?;
        let timeout = args
            .iter()
            .enumerate()
            .find(|(j, _)| *j != i && *j != value_at)
            .map(|(_, ms)| ms);
        return Ok(Some((condition, timeout)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_diffs_keep_common_lines_and_put_removals_first() {
        let old = ["a", "b", "c", "d"];
        let new = ["a", "x", "c", "d", "e"];
        assert_eq!(
            line_diff(&old, &new),
            [
                (' ', "a"),
                ('-', "b"),
                ('+', "x"),
                (' ', "c"),
                (' ', "d"),
                ('+', "e")
            ]
        );
        assert_eq!(line_diff(&[], &["n"]), [('+', "n")]);
    }

    fn ms(arg: Option<&str>) -> u128 {
        wait_timeout(arg.map(str::to_owned).as_ref()).as_millis()
    }

    #[test]
    fn wait_timeouts_follow_gstack() {
        assert_eq!(ms(None), 15_000);
        assert_eq!(ms(Some("2500")), 2_500);
        assert_eq!(ms(Some("2500ms")), 2_500);
        assert_eq!(ms(Some("10")), 1_000);
        assert_eq!(ms(Some("0")), 1_000);
        assert_eq!(ms(Some("abc")), 1_000);
        assert_eq!(ms(Some("-5")), 1_000);
        assert_eq!(ms(Some("999999999")), 300_000);
    }
}
