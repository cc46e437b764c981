//! What the browser tells and shows pages about itself, for every tab: `header`,
//! `useragent` (gstack's), and `set device|geo|timezone|locale|media|offline` (agent-browser's
//! names; gstack has none). Each setting is kept in the session's
//! [`Emulation`](crate::browser::session::Emulation), applied to every open tab at once and
//! to every tab opened later, before its first navigation.

use std::sync::MutexGuard;

use crate::browser::events::lock;
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::session::Emulation;

/// Header names whose values `header` prints as `****` (gstack's list, `write-commands.ts`).
const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
];

/// `header <Name>:<value>` → `Header set: <Name>: <value>` (the value `****` for credentials,
/// as gstack). Cumulative: each call adds one header to every later request of every tab; a
/// name set again (in any letter case) replaces its value.
pub fn header(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some((name, value)) = args.first().and_then(|a| a.split_once(':')) else {
        return Err(CommandError::usage("header"));
    };
    let (name, value) = (name.trim(), value.trim());
    // RFC 9110 token characters, and no line breaks in the value: Chromium would refuse
    // them anyway, with a less clear error, after the header had been recorded.
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(CommandError::failed_with_hint(
            format!("Invalid header name: {name:?}"),
            "A header name is letters, digits and -_. (e.g. X-Request-Id:abc).",
        ));
    }
    if value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
        return Err(CommandError::failed(format!(
            "Invalid value for header {name}: it contains a line break or NUL"
        )));
    }
    let mut emulation = lock(&ctx.session.emulation);
    emulation
        .extra_headers
        .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    emulation
        .extra_headers
        .push((name.to_owned(), value.to_owned()));
    apply_to_every_tab(ctx, emulation, Emulation::apply_headers)?;
    let shown = if SENSITIVE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        "****"
    } else {
        value
    };
    Ok(format!("Header set: {name}: {shown}"))
}

/// `useragent <ua…>` → `User agent set: <ua>` (gstack's template; gstack rebuilds its
/// context, we override it on every tab: `Emulation.setUserAgentOverride`). Pages see it in
/// the `User-Agent` header of later requests and in `navigator.userAgent`.
pub fn useragent(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let ua = args.join(" ");
    if ua.is_empty() {
        return Err(CommandError::usage("useragent"));
    }
    if ua.chars().any(char::is_control) {
        return Err(CommandError::failed(
            "Invalid user agent: it contains a control character",
        ));
    }
    let mut emulation = lock(&ctx.session.emulation);
    emulation.user_agent = Some(ua.clone());
    match apply_to_every_tab(ctx, emulation, Emulation::apply_user_agent) {
        Ok(()) => Ok(format!("User agent set: {ua}")),
        Err(e) => Ok(format!("User agent set to \"{ua}\" but: {}", e.body.error)),
    }
}

/// Applies one aspect of the (just changed) settings to every open tab, the lock released
/// first so a tab being adopted meanwhile is not held up. The first failure is returned
/// after every tab was tried.
pub(super) fn apply_to_every_tab(
    ctx: &Ctx,
    emulation: MutexGuard<'_, Emulation>,
    aspect: fn(&Emulation, &crate::cdp::Tab) -> anyhow::Result<()>,
) -> Result<(), CommandError> {
    let settings = emulation.clone();
    drop(emulation);
    let (_, tabs) = ctx.session.tab_list();
    let mut failure = None;
    for tab in &tabs {
        if let Err(e) = aspect(&settings, &tab.cdp) {
            failure.get_or_insert_with(|| CommandError::failed(format!("{e:#}")));
        }
    }
    failure.map_or(Ok(()), Err)
}

/// Chromium's own user agent (before any override), read once from the page and kept: the
/// base `Accept-Language` overrides need when no `useragent` was set.
pub(super) fn ensure_default_user_agent(ctx: &Ctx) -> Result<(), CommandError> {
    if lock(&ctx.session.emulation).default_user_agent.is_some() {
        return Ok(());
    }
    let ua = evaluate(&ctx.tab.cdp, "navigator.userAgent", false)?;
    let ua = ua.as_str().unwrap_or_default().to_owned();
    let mut emulation = lock(&ctx.session.emulation);
    if emulation.user_agent.is_none() && emulation.locale.is_none() {
        emulation.default_user_agent.get_or_insert(ua);
    }
    Ok(())
}
