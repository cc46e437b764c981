//! Tab commands: `tabs`, `tab <id>`, `newtab [url] [--json]`, `closetab [id]`, and `frame`,
//! which picks the frame of the tab that commands act in.
//!
//! Ids come from [`Session::adopt`] and are never reused. The tab table and the active id
//! live in the session; this module only decides what the commands do with them.

use std::sync::Arc;

use super::navigation;
use crate::browser::events::lock;
use crate::browser::frames::{self, ActiveFrame, FrameInfo, FrameRef};
use crate::browser::page::{evaluate, CommandError, CommandResult, Ctx};
use crate::browser::refs::RefMap;
use crate::browser::selector;
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
    let tab = session.activate_tab(id).ok_or_else(|| tab_not_found(id))?;
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
        // The tab stays (gstack's order: open, make active, then navigate), so a failed
        // navigation says where the user now is: the error alone read as "no tab opened".
        // Not at which URL: read now, it was about:blank while Chromium went on to commit
        // its error page (chrome-error://chromewebdata/, what 'url' and 'tabs' then print).
        navigation::navigate(&tab, target).map_err(|e| {
            e.add_hint(&format!(
                "Tab {id} was opened and is the active tab ('browse closetab {id}' closes it).",
                id = tab.id
            ))
        })?;
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
    let tab = session.forget_tab(id).ok_or_else(|| tab_not_found(id))?;
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

/// `frame <sel|@ref> | --name <name> | --url <substr> | main` (gstack's `frame`,
/// `meta-commands.ts`): the frame later commands act in (`text`, `html`, `js`, `eval`,
/// `snapshot`, selectors). The refs are cleared, as gstack does. A selector is looked up in
/// the active frame, so `frame` can step into nested frames one at a time; `--name` (the
/// frame's name, exactly) and `--url` (a substring of its URL) search every frame of the tab
/// but the main one, and fail when several match (see [`ambiguous_frame`]).
pub fn frame(ctx: &mut Ctx, args: &[String]) -> CommandResult {
    let Some(target) = args.first().filter(|t| !t.is_empty()) else {
        return Err(CommandError::usage("frame"));
    };
    if target == "main" {
        ctx.state.frame = None;
        ctx.state.refs = RefMap::default();
        return Ok("Switched to main frame".into());
    }
    let found = match target.as_str() {
        "--name" | "--url" => {
            // An empty value is gstack's usage error too: '' would match every frame's URL,
            // and the name of every unnamed frame.
            let Some(wanted) = args.get(1).filter(|w| !w.is_empty()) else {
                return Err(CommandError::failed(format!(
                    "Usage: frame {target} <{}>",
                    if target == "--name" {
                        "name"
                    } else {
                        "pattern"
                    }
                )));
            };
            let matching = || -> Vec<FrameInfo> {
                ctx.tab
                    .frames
                    .list()
                    .into_iter()
                    .filter(|f| {
                        if target == "--name" {
                            f.name == *wanted
                        } else {
                            f.url.contains(wanted.as_str())
                        }
                    })
                    .collect()
            };
            // A frame the page has is known once its attach event is handled, which on a
            // loaded machine can come after the `goto` that loaded it returned (CI: `frame
            // --url` right after `goto` said "Frame not found"): look again for a while.
            let deadline = std::time::Instant::now() + crate::settings::frame_timeout();
            let mut matches = matching();
            while matches.is_empty() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(50));
                matches = matching();
            }
            if matches.len() > 1 {
                return Err(ambiguous_frame(args, &matches));
            }
            matches.pop().map(|f| f.frame)
        }
        selector => match content_frame_of(ctx, selector) {
            Ok(Shows::Other(what)) => return Err(not_an_iframe(args, selector, &what)),
            // Playwright's `elementHandle` timeout (gstack: `Operation timed out: …`) says
            // nothing of frames: no element is no frame.
            Err(e) if selector::is_timeout(&e) => {
                // Looked up in the active frame (gstack: always the page's): from inside one
                // frame, a sibling iframe's selector matches nothing, and the way out is
                // `frame main`, not another selector.
                let within = if ctx.state.frame.is_some() {
                    " in the current frame"
                } else {
                    ""
                };
                let error = frame_not_found(
                    args,
                    &format!(
                        " (nothing matched it{within} within {}ms)",
                        selector::action_timeout().as_millis()
                    ),
                );
                return Err(if within.is_empty() {
                    error
                } else {
                    CommandError::failed_with_hint(
                        error.body.error,
                        "A selector is looked up in the current frame, to step into nested iframes: run 'browse frame main' first for another of the page's iframes.",
                    )
                });
            }
            Ok(Shows::Frame(found)) => found,
            Err(e) => return Err(e),
        },
    };
    let Some(frame) = found else {
        return Err(frame_not_found(args, ""));
    };
    // The iframe is there (just found), so no script context means no document yet: an
    // iframe still loading, not one that went away.
    let realm = ctx.tab.frames.realm_of(&frame).map_err(|_| {
        CommandError::failed_with_hint(
            format!(
                "The frame {} has no document yet (its iframe is still loading)",
                args.join(" ")
            ),
            "Wait for it ('browse wait --load', or 'browse wait <selector>' for the iframe's content to show), then run 'browse frame' again.",
        )
    })?;
    ctx.state.frame = Some(ActiveFrame {
        frame,
        navigations: ctx.tab.events.navigation_count(),
    });
    ctx.state.refs = RefMap::default();
    Ok(format!("Switched to frame: {}", frames::url_of(&realm)))
}

/// gstack's `Tab <id> not found`, with where the ids are.
fn tab_not_found(id: u64) -> CommandError {
    CommandError::failed_with_hint(
        format!("Tab {id} not found"),
        "Run 'browse tabs' for the open tabs' ids.",
    )
}

/// gstack's `Frame not found: <target>` with `why` after it, and where to look instead.
/// gstack names only the first word (`Frame not found: --name`); the value searched for is
/// what the user needs to see.
fn frame_not_found(args: &[String], why: &str) -> CommandError {
    CommandError::failed_with_hint(
        format!("Frame not found: {}{why}", args.join(" ")),
        "Run 'browse snapshot' to see the page's iframes, then 'browse frame <selector|@ref>', \
         'browse frame --name <exact name>' or 'browse frame --url <part of the URL>'.",
    )
}

/// `frame --name/--url` matching several frames. Playwright's `page.frame()` (so gstack)
/// takes the first silently; we follow its locators' strictness instead, so that a command
/// never acts in a frame the user did not mean: an error listing the frames, and how to
/// pick one.
fn ambiguous_frame(args: &[String], matches: &[FrameInfo]) -> CommandError {
    let listed: Vec<String> = matches
        .iter()
        .map(|f| {
            if f.name.is_empty() {
                f.url.clone()
            } else {
                format!("{} (name \"{}\")", f.url, f.name)
            }
        })
        .collect();
    CommandError::failed_with_hint(
        format!(
            "frame {} matches {} frames: {}",
            args.join(" "),
            matches.len(),
            listed.join(", ")
        ),
        "Pick one: a longer part of its URL, its exact --name, or 'browse frame <selector|@ref>' \
         on its <iframe> ('browse snapshot' lists them as [iframe] lines).",
    )
}

/// gstack's `Frame not found: <target>` for an element that is not an iframe, with a hint
/// saying what it is (so that a ref from an old snapshot, or a selector matching the wrong
/// element, is seen for what it is) and how to find the iframes.
fn not_an_iframe(args: &[String], selector: &str, what: &str) -> CommandError {
    CommandError::failed_with_hint(
        format!("Frame not found: {}", args.join(" ")),
        format!(
            "{selector} is {what}, not an <iframe>. Run 'browse snapshot' to see the page's \
             iframes ([iframe] lines), then 'browse frame <@ref>' on one of them, or \
             'browse frame --name <exact name>' / 'browse frame --url <part of the URL>'."
        ),
    )
}

/// What the element a `frame` selector or ref found shows.
enum Shows {
    /// An iframe's frame (`None` when the iframe has no frame, for instance it was removed).
    Frame(Option<FrameRef>),
    /// Not an iframe: what the element is (`a <button> [button] "Save"`).
    Other(String),
}

/// The frame an `<iframe>` element (a selector or ref) shows, or what the element is.
fn content_frame_of(ctx: &Ctx, selector: &str) -> Result<Shows, CommandError> {
    let element = selector::find_one(ctx, selector, selector::action_timeout())?;
    let holder = match element.frame() {
        Some(frame) => std::sync::Arc::clone(&frame.session),
        None => std::sync::Arc::clone(ctx.tab.frames.main_session()),
    };
    let node = element
        .session()
        .call_raw(
            "DOM.describeNode",
            serde_json::json!({ "objectId": element.object_id }),
        )
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    let node = &node["node"];
    let tag = node["localName"].as_str().unwrap_or_default();
    // Chromium gives `frameId` to frame owners (also `<object>`, `<embed>`).
    let Some(frame_id) = node["frameId"].as_str() else {
        if matches!(tag, "iframe" | "frame") {
            return Ok(Shows::Frame(None));
        }
        let mut what = if tag.is_empty() {
            "a node".to_owned()
        } else {
            format!("a <{tag}>")
        };
        // A ref also says what the snapshot printed for it.
        if let Some(entry) = selector
            .strip_prefix('@')
            .and_then(|key| ctx.state.refs.get(key))
        {
            what.push_str(&format!(" [{}]", entry.role));
            if !entry.name.is_empty() {
                what.push_str(&format!(" \"{}\"", entry.name));
            }
        }
        return Ok(Shows::Other(what));
    };
    Ok(Shows::Frame(
        ctx.tab
            .frames
            .session_of(frame_id, &holder)
            .map(|session| FrameRef {
                session,
                frame_id: frame_id.to_owned(),
            }),
    ))
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
    let (original_active, tabs) = session.tab_list();
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
    // gstack restores the tab that was active before; a page a command opened made its tab
    // the active one (the command's note says so), and the user's view must not move.
    if session.tab_list().0 != original_active {
        if let Some(tab) = session.activate_tab(original_active) {
            bring_to_front(&tab);
            crate::browser::notes::say(format!(
                "tab-each: tab {original_active} is the active tab again, as before it ran \
                 (tabs its commands' pages opened stay open: 'browse tabs')"
            ));
        }
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
