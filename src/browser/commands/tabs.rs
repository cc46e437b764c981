//! Tab commands: `tabs`, `tab <id>`, `newtab [url] [--json]` and `closetab [id]`.
//!
//! Ids come from [`Session::adopt`] and are never reused. The tab table and the active id
//! live in the session; this module only decides what the commands do with them.

use std::sync::Arc;

use super::navigation;
use crate::browser::events::lock;
use crate::browser::page::{evaluate, CommandError, CommandResult};
use crate::browser::session::{Session, TabHandle};
use crate::browser::url_policy;

/// `tabs`: one line per tab in creation order, the active one marked with `→`. Pages that
/// pages opened are listed even when Chromium has not told us of them yet.
pub fn list(session: &Session) -> CommandResult {
    session.reconcile_popups();
    let (active, tabs) = session.tab_list();
    Ok(tabs
        .iter()
        .map(|tab| {
            let title = title_of(tab);
            format!(
                "{}[{}] {} — {}",
                if tab.id == active { "→ " } else { "  " },
                tab.id,
                if title.is_empty() {
                    "(untitled)"
                } else {
                    &title
                },
                tab.events.url()
            )
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// `document.title`, as gstack reads it; an empty string when the page cannot answer.
fn title_of(tab: &TabHandle) -> String {
    evaluate(&tab.cdp, "document.title", false)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `tab <id>`: makes the tab active.
pub fn switch(session: &Session, args: &[String]) -> CommandResult {
    let id = args
        .first()
        .and_then(|a| parse_id(a))
        .ok_or_else(|| CommandError::usage("tab"))?;
    let tab = session
        .activate_tab(id)
        .ok_or_else(|| CommandError::failed(format!("Tab {id} not found")))?;
    bring_to_front(&tab);
    Ok(format!("Switched to tab {id}"))
}

/// `newtab [url] [--json]`: checks the URL first (a refused URL opens nothing), opens a
/// blank tab, makes it active, then navigates it.
pub fn open(session: &Session, args: &[String], cwd: &std::path::Path) -> CommandResult {
    let json = args.iter().any(|a| a == "--json");
    let url = args.iter().find(|a| *a != "--json");
    let target = url.map(|u| url_policy::validate(u, cwd)).transpose()?;
    let tab = session.open_tab()?;
    bring_to_front(&tab);
    if let Some(target) = &target {
        let _serial = lock(&tab.serial);
        navigation::navigate(&tab, target)?;
    }
    if json {
        return Ok(serde_json::json!({ "tabId": tab.id, "url": url }).to_string());
    }
    Ok(match url {
        Some(url) => format!("Opened tab {} → {url}", tab.id),
        None => format!("Opened tab {}", tab.id),
    })
}

/// `closetab [id]`: closes that tab or the active one. The last remaining tab becomes active;
/// closing the only tab leaves a fresh blank one.
pub fn close(session: &Session, args: &[String]) -> CommandResult {
    let given = match args.first() {
        Some(a) => Some(parse_id(a).ok_or_else(|| CommandError::usage("closetab"))?),
        None => None,
    };
    let id = match given {
        Some(id) => id,
        None => session.tab_list().0,
    };
    let tab = session
        .forget_tab(id)
        .ok_or_else(|| CommandError::failed(format!("Tab {id} not found")))?;
    {
        // A command still running on the tab finishes before its target goes away.
        let _serial = lock(&tab.serial);
        if let Err(e) = tab.cdp.close_target() {
            tracing::warn!("closing tab {id}: {e:#}");
        }
    }
    if session.tab_count() == 0 {
        session.open_tab()?;
    }
    let (active, tabs) = session.tab_list();
    if let Some(now_active) = tabs.iter().find(|t| t.id == active) {
        bring_to_front(now_active);
    }
    Ok(match given {
        Some(id) => format!("Closed tab {id}"),
        None => "Closed tab".into(),
    })
}

/// A tab id as typed: a whole positive number.
fn parse_id(arg: &str) -> Option<u64> {
    arg.trim().parse().ok().filter(|id| *id > 0)
}

/// Best effort: headless Chromium has no visible window, so a failure changes nothing users
/// can see.
fn bring_to_front(tab: &Arc<TabHandle>) {
    if let Err(e) = tab.cdp.activate() {
        tracing::debug!("activating tab {}: {e:#}", tab.id);
    }
}

// `tab-each` (gstack's Tier B, issue 13).

/// One tab's outcome in `tab-each`'s JSON, in gstack's field order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TabOutcome {
    tab_id: u64,
    url: String,
    title: String,
    /// 200 on success, else the command's error status.
    status: u16,
    output: String,
}

/// `tab-each <command> [args...]` (gstack `meta-commands.ts`): runs the command on every tab
/// (pinned to it, so the active tab never changes; `chrome://` pages are skipped) and prints
/// 2-space JSON `{"command","args","total","results":[{"tabId","url","title","status","output"}]}`.
pub fn each(session: &Session, req: &crate::wire::CommandRequest) -> CommandResult {
    let Some(inner) = req.args.first() else {
        return Err(CommandError::failed(
            "Usage: browse tab-each <command> [args...]\nExample: browse tab-each snapshot -i",
        ));
    };
    let name = crate::catalogue::lookup(inner).map_or(inner.as_str(), |c| c.name);
    if matches!(
        name,
        "tab-each" | "chain" | "stop" | "restart" | "newtab" | "closetab" | "tab"
    ) {
        return Err(CommandError::failed(format!(
            "tab-each cannot run '{name}': it manages tabs or the server itself"
        )));
    }
    let args: Vec<String> = req.args[1..].to_vec();
    let (_, tabs) = session.tab_list();
    let mut results = Vec::with_capacity(tabs.len());
    for tab in &tabs {
        let url = tab.events.url();
        if url.starts_with("chrome://") || url.starts_with("chrome-extension://") {
            results.push(TabOutcome {
                tab_id: tab.id,
                url,
                title: title_of(tab),
                status: 0,
                output: "skipped: internal page".into(),
            });
            continue;
        }
        let outcome = session.execute(&crate::wire::CommandRequest {
            command: name.to_owned(),
            args: args.clone(),
            tab_id: Some(tab.id),
            envelope: req.envelope,
            cwd: req.cwd.clone(),
        });
        let (status, output) = match outcome {
            Ok(text) => (200, text),
            Err(e) => (e.status, e.body.error),
        };
        results.push(TabOutcome {
            tab_id: tab.id,
            url: tab.events.url(),
            title: title_of(tab),
            status,
            output,
        });
    }
    #[derive(serde::Serialize)]
    struct Report<'a> {
        command: &'a str,
        args: &'a [String],
        total: usize,
        results: Vec<TabOutcome>,
    }
    serde_json::to_string_pretty(&Report {
        command: name,
        args: &args,
        total: results.len(),
        results,
    })
    .map_err(|e| CommandError::failed(format!("cannot print the results: {e}")))
}
