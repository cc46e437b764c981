//! Navigation commands: `goto` (and, with issue 3, history and reload).

use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::Page;

use super::{evaluate, url_policy, CommandError, CommandResult, Ctx, TabHandle};

/// How long a navigation may take to reach `DOMContentLoaded`.
pub const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(15);

/// `goto <url>` → `Navigated to <url> (<status>)`.
pub fn goto(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let [input, ..] = args else {
        return Err(CommandError::usage("goto"));
    };
    let url = url_policy::validate(input, &ctx.session.cwd).map_err(CommandError::failed)?;
    let status = navigate(ctx.tab, &url)?;
    Ok(format!("Navigated to {url} ({status})"))
}

/// Navigates the main frame and waits for `DOMContentLoaded` of the new document. Returns the
/// HTTP status, or `unknown` when the document had no response (about:blank, same-document).
pub fn navigate(tab: &TabHandle, url: &str) -> Result<String, CommandError> {
    let reply = tab
        .cdp
        .call_method(Page::Navigate {
            url: url.to_owned(),
            referrer: None,
            transition_Type: None,
            frame_id: None,
            referrer_policy: None,
        })
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    if let Some(error) = reply.error_text.filter(|t| !t.is_empty()) {
        return Err(CommandError::failed(format!("{error} at {url}")));
    }
    let Some(loader) = reply.loader_id else {
        return Ok("unknown".into());
    };
    if !tab
        .events
        .wait_lifecycle(&loader, "DOMContentLoaded", Instant::now() + NAVIGATION_TIMEOUT)
    {
        return Err(CommandError::failed(
            "Page navigation timed out. The URL may be unreachable or the page may be loading slowly.",
        ));
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

pub fn back(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn forward(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn reload(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}

pub fn wait(_ctx: &mut Ctx, _args: &[String]) -> CommandResult {
    Err(CommandError::failed("not implemented yet"))
}
