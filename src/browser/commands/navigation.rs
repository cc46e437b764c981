//! Navigation commands and load-state waits: `goto`, `back`, `forward`, `reload` and `wait`.
//!
//! A navigation is done when the new main-frame document reached `DOMContentLoaded`; a
//! same-document one (pushState, hash) is done when it is committed, since it fires no
//! lifecycle event at all.

use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page;

use super::reading;
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

/// `wait <sel> [ms]` and `wait --networkidle [ms]`: the default timeout and its clamp.
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
#[derive(Clone, Copy)]
enum LoadState {
    DomContentLoaded,
    Load,
    NetworkIdle,
}

impl LoadState {
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

/// `wait <sel> [ms] | --networkidle [ms] | --load | --domcontentloaded`.
pub fn wait(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(first) = args.first() else {
        return Err(CommandError::usage("wait"));
    };
    let (state, timeout, done) = match first.as_str() {
        "--networkidle" => (
            LoadState::NetworkIdle,
            wait_timeout(args.get(1)),
            "Network idle",
        ),
        "--load" => (LoadState::Load, NAVIGATION_TIMEOUT, "Page loaded"),
        "--domcontentloaded" => (
            LoadState::DomContentLoaded,
            NAVIGATION_TIMEOUT,
            "DOM content loaded",
        ),
        selector => {
            let timeout = wait_timeout(args.get(1));
            reading::wait_visible(ctx, selector, timeout)?;
            return Ok(format!("Element {selector} appeared"));
        }
    };
    if reach_load_state(ctx.tab, state, Instant::now() + timeout)? {
        Ok(done.to_owned())
    } else {
        Err(CommandError::failed_with_hint(
            format!(
                "Operation timed out: waitForLoadState: Timeout {}ms exceeded.",
                timeout.as_millis()
            ),
            format!(
                "Waited {} ms for the page to reach '{done}' at {}; requests still open keep it from being idle ('browse network' lists them).",
                timeout.as_millis(),
                ctx.tab.events.url()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
