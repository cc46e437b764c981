//! Pages that pages open become tabs: a `target=_blank` link or form, `window.open`, a page
//! that closes itself. Chromium reports them through target discovery
//! (`Target.setDiscoverTargets`); a watcher thread adopts each new page target that is not
//! already a tab, and drops the tab of a target that is gone.
//!
//! In a browser we launched, new pages and service and shared workers are also auto-attached
//! at the browser level (`Target.setAutoAttach{waitForDebuggerOnStart, flatten}`, as
//! Playwright's `CRBrowser` does): Chromium holds each before its first request until we send
//! `Runtime.runIfWaitingForDebugger`. A popup is adopted through that session and resumed
//! once it is a tab with the routes and the rest of a tab's set-up, so its first document is
//! routed and logged; a worker gets the routes first (`workers.rs`). Every session attached
//! this way and waiting is let run: resumed after its set-up (also when that failed, which is
//! logged), or detached at once when it is not ours to set up (a tab we opened ourselves,
//! which has its own session; a prerender). A remote browser (`--cdp-url`) is only watched: its other
//! clients' pages must never wait on us.
//!
//! The newest adopted page becomes the active tab, as in gstack, whose `context.on('page')`
//! handler (`browser-manager.ts`) makes every page it adopts active.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::Session;
use crate::browser::events::lock;
use crate::browser::session_setup::SessionKind;

/// How long a command waits for the target events received before it to be dealt with: an
/// adoption is a handful of CDP calls, so this only bounds a stuck browser.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(2);

/// Starts the watcher thread; it ends with the session or the DevTools connection.
pub fn watch(session: &Arc<Session>) -> anyhow::Result<()> {
    let Some(browser) = &session.browser else {
        return Ok(());
    };
    let events = browser.watch_targets()?;
    if !session.remote {
        browser.call_raw(
            "Target.setAutoAttach",
            crate::cdp::held_auto_attach_params(Some(&["page", "service_worker", "shared_worker"])),
            SETTLE_TIMEOUT * 5,
        )?;
        crate::browser::workers::hold_main_scripts(browser, &session.browser_workers)?;
    }
    let weak: Weak<Session> = Arc::downgrade(session);
    std::thread::Builder::new()
        .name("target-watch".into())
        .spawn(move || {
            for event in events {
                let Some(session) = weak.upgrade() else {
                    return;
                };
                handle(&session, &event);
                if let Some(browser) = &session.browser {
                    browser.target_event_handled();
                }
            }
        })?;
    Ok(())
}

fn handle(session: &Session, event: &Value) {
    let method = event.get("method").and_then(Value::as_str);
    let params = event.get("params");
    match method {
        Some("Target.attachedToTarget") => {
            if let Some(params) = params {
                attached(session, params);
            }
        }
        // In a browser we launched, a new page is adopted when it attaches (above).
        Some("Target.targetCreated") if session.remote => {
            let info = params.and_then(|p| p.get("targetInfo"));
            if let Some(info) = info.filter(|i| crate::cdp::is_tab_page(i)) {
                if session.remote && !opened_by_our_tab(session, info) {
                    return;
                }
                let id = info.get("targetId").and_then(Value::as_str);
                adopt_if_new(session, id.unwrap_or_default());
            }
        }
        Some("Target.targetDestroyed") => {
            if let Some(id) = params
                .and_then(|p| p.get("targetId"))
                .and_then(Value::as_str)
            {
                forget_closed(session, id);
            }
        }
        Some("Target.detachedFromTarget") => {
            if let Some(id) = params
                .and_then(|p| p.get("sessionId"))
                .and_then(Value::as_str)
            {
                session.browser_workers.forget(id);
            }
        }
        _ => {}
    }
}

/// A target Chromium attached at the browser level, paused: a popup to adopt, a worker to
/// route, or a session to let go. Whatever happens, the target is let run.
fn attached(session: &Session, params: &Value) {
    let Some(browser) = &session.browser else {
        return;
    };
    // Chromium reports our own `Target.attachToTarget` sessions here too, and those of the
    // targets that ran before auto-attach was turned on: neither waits, and neither is ours
    // to let go.
    if params["waitingForDebugger"].as_bool() != Some(true) {
        return;
    }
    let info = &params["targetInfo"];
    let (Some(session_id), Some(target_id)) =
        (params["sessionId"].as_str(), info["targetId"].as_str())
    else {
        return;
    };
    match info["type"].as_str() {
        Some(kind @ ("service_worker" | "shared_worker")) => {
            match browser.attached_session(session_id, target_id) {
                Ok(cdp) => {
                    if kind == "shared_worker" {
                        session.routes.intercept_always(&cdp);
                    }
                    session
                        .browser_workers
                        .adopt(cdp, SessionKind::BrowserWorker)
                }
                Err(e) => {
                    tracing::warn!("cannot attach to worker {target_id}, let it run: {e:#}");
                    release(browser, session_id);
                }
            }
        }
        // Claimed under the lock: a tab we are opening is in already, and one adopted by
        // `reconcile` meanwhile is not adopted twice.
        // Nor, once the daemon closes its pages to exit, a page it opens itself then (the
        // storage fence's blank page, `daemon/server.rs`): it is let run, not made a tab.
        _ if crate::cdp::is_tab_page(info)
            && !session.closing_pages()
            && lock(&session.known_targets).insert(target_id.to_owned()) =>
        {
            adopt_paused(session, browser, session_id, target_id);
        }
        _ => release(browser, session_id),
    }
}

/// Adopts a popup through the session it attached with: the routes first, while it waits
/// (`Fetch` is the browser's and answers at once), then it is let run, then the rest of a
/// tab's set-up, whose calls the page's renderer answers (a `noopener` popup's renderer starts
/// only once the page runs, so they cannot come first).
fn adopt_paused(
    session: &Session,
    browser: &crate::cdp::Browser,
    session_id: &str,
    target_id: &str,
) {
    let cdp = match browser.attached_session(session_id, target_id) {
        Ok(cdp) => cdp,
        Err(e) => {
            tracing::warn!("cannot take page {target_id}; it runs untouched: {e:#}");
            lock(&session.known_targets).remove(target_id);
            release(browser, session_id);
            return;
        }
    };
    let routed = session.routes.attach(&cdp);
    let resumed = cdp.call_raw("Runtime.runIfWaitingForDebugger", json!({}));
    if let Err(e) = routed.and(resumed) {
        tracing::warn!("popup {target_id} runs before its set-up finished: {e:#}");
    }
    let adopted = cdp
        .enable_page_domains()
        .and_then(|()| session.adopt(Arc::clone(&cdp)));
    match adopted {
        Ok(tab) => tracing::info!(tab = tab.id, "adopted a page the page opened"),
        Err(e) => {
            tracing::debug!("could not adopt page {target_id}: {e:#}");
            cdp.detach_events();
            lock(&session.known_targets).remove(target_id);
            release(browser, session_id);
        }
    }
}

/// Detaches a browser-level auto-attached session, which lets its target run.
fn release(browser: &crate::cdp::Browser, session_id: &str) {
    if let Err(e) = browser.call_raw(
        "Target.detachFromTarget",
        json!({ "sessionId": session_id }),
        SETTLE_TIMEOUT,
    ) {
        tracing::debug!("cannot detach from session {session_id}: {e:#}");
    }
}

/// True when the page's opener is one of our tabs (`TargetInfo.openerId`).
fn opened_by_our_tab(session: &Session, info: &Value) -> bool {
    info.get("openerId")
        .and_then(Value::as_str)
        .is_some_and(|opener| lock(&session.known_targets).contains(opener))
}

/// Adopts page target `target_id` as the active tab unless it is one already (or being made
/// one). Failure only means the page went away first.
fn adopt_if_new(session: &Session, target_id: &str) {
    let Some(browser) = &session.browser else {
        return;
    };
    if target_id.is_empty() {
        return;
    }
    // Claimed under the lock, attached outside it: a popup whose renderer is busy must not
    // hold up `newtab`. A command waits for the watcher's adoptions through `settle`.
    if !lock(&session.known_targets).insert(target_id.to_owned()) {
        return;
    }
    let adopted = browser.attach(target_id).and_then(|cdp| session.adopt(cdp));
    match adopted {
        Ok(tab) => tracing::info!(tab = tab.id, "adopted a page the page opened"),
        Err(e) => tracing::debug!("could not adopt page {target_id}: {e:#}"),
    }
}

/// A page closed by itself (`window.close()`) leaves the tab table; if it was the last tab, a
/// blank one takes its place, as after `closetab`.
fn forget_closed(session: &Session, target_id: &str) {
    lock(&session.known_targets).remove(target_id);
    let (_, tabs) = session.tab_list();
    let Some(tab) = tabs.iter().find(|t| t.cdp.get_target_id() == target_id) else {
        return;
    };
    if session.forget_tab(tab.id).is_none() {
        return;
    }
    tab.cdp.detach_events();
    // Not while the daemon closes its pages to exit: the blank tab would be one more page
    // for the exit to close, its renderer one more to wait for.
    if session.tab_count() == 0 && !session.closing_pages() {
        if let Err(e) = session.open_tab() {
            tracing::warn!("no tab left and none could be opened: {}", e.body.error);
        }
    }
}

/// Waits (briefly) until the target events received so far are dealt with, so a popup the
/// previous command opened is a tab when the next command looks for one.
pub fn settle(session: &Session) {
    if let Some(browser) = &session.browser {
        if !browser.wait_target_events(Instant::now() + SETTLE_TIMEOUT) {
            tracing::warn!("target events still unhandled after {SETTLE_TIMEOUT:?}");
        }
    }
}

/// Asks Chromium for every page and adopts those that are not tabs yet: for `tabs`, which must
/// list a page whose discovery event is still on its way.
pub fn reconcile(session: &Session) {
    let Some(browser) = &session.browser else {
        return;
    };
    if session.remote {
        // Every page of a remote browser is someone's: only the discovery events, which
        // carry the opener, may adopt one.
        return;
    }
    match browser.page_targets() {
        Ok(targets) => {
            for target_id in targets {
                adopt_if_new(session, &target_id);
            }
        }
        Err(e) => tracing::debug!("cannot list Chromium's pages: {e:#}"),
    }
}
