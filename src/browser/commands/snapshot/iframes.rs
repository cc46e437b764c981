//! The snapshot's descent into iframes: under each `iframe` line, the lines of the document it
//! shows, one level deeper, each tagged with its frame so that its ref resolves there.
//!
//! gstack's snapshot stops at an iframe (Playwright's `ariaSnapshot` of `body` prints it as a
//! bare `iframe` node). `Accessibility.getFullAXTree` likewise reads one frame at a time, so
//! each frame's tree is read on its own: a same-site frame with `frameId` in its parent's
//! session, an out-of-process one in its own session (see `crate::browser::frames`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{tree_lines, Keep, Line};
use crate::browser::frames::{self, FrameRef, FrameSession, Frames, Realm};
use crate::browser::notes;

/// Iframes nested deeper than this are printed without their content: a page that frames
/// itself must not recurse for ever.
const MAX_FRAME_NESTING: usize = 8;

/// `lines` (the snapshot root's, from `realm`) with each iframe's document inserted under it.
/// A frame whose document is still loading is waited for until its `DOMContentLoaded`, within
/// `BROWSE_FRAME_TIMEOUT` ([`loaded_holder`]). A frame whose tree cannot be read (gone, or
/// still loading at that limit) stays a bare `iframe` line, as Playwright's `snapshotForAI`
/// leaves a frame it cannot reach (one still loading marked [`STILL_LOADING`], and not waited
/// for again by later snapshots); so does an out-of-process frame whose renderer does not
/// answer within `BROWSE_FRAME_TIMEOUT`; both with a note naming its URL.
/// The frames' own lines are folded with `keep`, less its depth limit (their depths shift).
pub(super) fn descend(frames: &Frames, realm: &Realm, lines: Vec<Line>, keep: Keep) -> Vec<Line> {
    let session = match &realm.frame {
        Some(frame) => Arc::clone(&frame.session),
        None => Arc::clone(frames.main_session()),
    };
    // One limit for every frame still loading, so that many of them cost it once.
    let loading_deadline = Instant::now() + crate::settings::frame_timeout();
    let walk = Walk {
        frames,
        keep: keep.frames(),
        loading_deadline,
    };
    expand(&walk, &session, realm.frame.as_ref(), lines, 0)
}

/// What stays the same down the descent.
struct Walk<'a> {
    frames: &'a Frames,
    keep: Keep,
    /// When waiting for frames still loading ends ([`loaded_holder`]).
    loading_deadline: Instant,
}

fn expand(
    walk: &Walk,
    session: &Arc<FrameSession>,
    frame: Option<&FrameRef>,
    lines: Vec<Line>,
    nesting: usize,
) -> Vec<Line> {
    if !lines.iter().any(|line| line.role == "iframe") {
        // Nothing to expand (a big table's 60,000 lines): labelled in place, not moved.
        let mut lines = lines;
        if let Some(frame) = frame {
            for line in lines.iter_mut().filter(|line| line.frame.is_none()) {
                line.frame = Some(frame.clone());
            }
        }
        return lines;
    }
    let mut out = Vec::with_capacity(lines.len());
    for mut line in lines {
        if line.frame.is_none() {
            line.frame = frame.cloned();
        }
        let child = (line.role == "iframe" && nesting < MAX_FRAME_NESTING)
            .then_some(line.backend)
            .flatten()
            .map(|backend| child_lines(walk, session, backend, nesting));
        let child = match child {
            Some(Child::Lines(lines)) => Some(lines),
            Some(Child::Loading) => {
                line.props = append_prop(&line.props, STILL_LOADING);
                None
            }
            Some(Child::Unread) | None => None,
        };
        let depth = line.depth;
        out.push(line);
        for mut inner in child.into_iter().flatten() {
            inner.depth += depth + 1;
            out.push(inner);
        }
    }
    out
}

/// What the snapshot shows under an `iframe` line.
enum Child {
    /// The lines of its document.
    Lines(Vec<Line>),
    /// Nothing: its document is still loading (the line says so, [`STILL_LOADING`]).
    Loading,
    /// Nothing: it is gone, or does not answer.
    Unread,
}

/// What an `iframe` line whose document is still loading shows after its name, so that a
/// reader of the snapshot sees why it is empty (gstack prints a bare `iframe` line).
pub(crate) const STILL_LOADING: &str = "(still loading)";

/// `props` with `prop` added after a space.
fn append_prop(props: &str, prop: &str) -> String {
    if props.is_empty() {
        prop.to_owned()
    } else {
        format!("{props} {prop}")
    }
}

/// The lines of the document the `<iframe>` `backend` (of `session`) shows, its own iframes
/// expanded, at depth 0.
fn child_lines(walk: &Walk, session: &Arc<FrameSession>, backend: i64, nesting: usize) -> Child {
    let Some(frame_id) = frames::content_frame(&session.cdp, backend) else {
        return Child::Unread;
    };
    let holder = match loaded_holder(walk, session, backend, &frame_id) {
        Ok(holder) => holder,
        Err(left) => return left,
    };
    let Ok(tree) = tree_lines(&holder.cdp, Some(&frame_id), None, walk.keep) else {
        return Child::Unread;
    };
    let frame = FrameRef {
        session: Arc::clone(&holder),
        frame_id,
    };
    Child::Lines(expand(walk, &holder, Some(&frame), tree.lines, nesting + 1))
}

/// True (in a frame's main world) while its document is still loading: before
/// `DOMContentLoaded` (`document.readyState` is `loading`), or while it still shows the
/// initial `about:blank` of an `<iframe>` whose `src` navigation has not committed yet. A
/// plain `about:blank`, `srcdoc` or `javascript:` frame is not loading.
const LOADING: &str = "(() => { if (document.readyState === 'loading') return true; \
    if (location.href !== 'about:blank') return false; \
    const owner = window.frameElement; \
    if (!owner || owner.hasAttribute('srcdoc')) return false; \
    const src = (owner.getAttribute('src') || '').trim().toLowerCase(); \
    return src !== '' && src !== 'about:blank' && !src.startsWith('javascript:'); })()";

/// How often a loading frame is asked again whether it has reached `DOMContentLoaded`.
const LOADING_POLL: Duration = Duration::from_millis(50);

/// The session to read frame `frame_id` (shown by `<iframe>` `backend` of `parent`) in, once
/// its document has reached `DOMContentLoaded`, until the walk's `loading_deadline`
/// (`BROWSE_FRAME_TIMEOUT` after the descent began, shared by all frames). `goto` returns
/// at the main document's `DOMContentLoaded`, when an iframe may still be loading its own
/// (even a same-site one, read with `frameId` in `parent`): its tree would be empty or partial.
/// A loaded frame costs one probe and no wait. The holder is looked up again each round, as a
/// frame that navigates cross-site moves to its own session when it commits. A frame still
/// loading at the deadline is left out ([`Child::Loading`]), the caller told which (by URL),
/// and remembered as stalled ([`Frames::stalled`]): later snapshots look once, without
/// waiting, until it is seen loaded, so that one iframe that never loads does not make every
/// snapshot of the page wait `BROWSE_FRAME_TIMEOUT`. `Err(Child::Unread)`: the frame is gone
/// or its renderer does not answer.
fn loaded_holder(
    walk: &Walk,
    parent: &Arc<FrameSession>,
    backend: i64,
    frame_id: &str,
) -> Result<Arc<FrameSession>, Child> {
    let frames = walk.frames;
    let limit = crate::settings::frame_timeout();
    let stalled = frames.stalled(frame_id);
    // A stalled frame gets one look (one probe's time), not another wait.
    let deadline = if stalled {
        Instant::now() + LOADING_POLL
    } else {
        walk.loading_deadline
    };
    let mut seen_loading = false;
    loop {
        let holder = frames.session_of(frame_id, parent).ok_or(Child::Unread)?;
        let holder = if Arc::ptr_eq(&holder, parent) {
            holder
        } else {
            running_session(frames, parent, backend, frame_id).ok_or(Child::Unread)?
        };
        let state = loading(frames, &holder, frame_id, seen_loading, deadline)
            .or_else(|| pending_src(parent, backend));
        match state {
            Some(false) => {
                if stalled {
                    frames.set_stalled(frame_id, false);
                }
                return Ok(holder);
            }
            // No answer from a frame never seen loading: read it as it is (as before).
            None if !seen_loading && !stalled => return Ok(holder),
            _ => seen_loading = true,
        }
        if Instant::now() + LOADING_POLL >= deadline {
            break;
        }
        std::thread::sleep(LOADING_POLL);
    }
    let url = frame_url(parent, backend, frame_id);
    if stalled {
        tracing::info!("snapshot: iframe {url} still loading; not waited for again");
        notes::say(format!(
            "snapshot: the iframe {url} is still loading (an earlier snapshot waited {}ms for \
             it; not waited for again); its content is left out: run `snapshot` again once it \
             has loaded",
            limit.as_millis()
        ));
    } else {
        tracing::info!("snapshot: waited {}ms for iframe {url}", limit.as_millis());
        frames.set_stalled(frame_id, true);
        notes::say(format!(
            "snapshot: the iframe {url} was still loading after {}ms; its content is left out \
             (later snapshots do not wait for it again)",
            limit.as_millis()
        ));
    }
    Err(Child::Loading)
}

/// Whether `frame_id`'s document (held by `holder`) is still loading ([`LOADING`]); `None`
/// when its main world has no context (it is between documents) or does not answer. Waits
/// for a context only while `patient` (the frame was seen loading), up to `deadline`.
fn loading(
    frames: &Frames,
    holder: &Arc<FrameSession>,
    frame_id: &str,
    patient: bool,
    deadline: Instant,
) -> Option<bool> {
    let frame = FrameRef {
        session: Arc::clone(holder),
        frame_id: frame_id.to_owned(),
    };
    let wait = if patient {
        deadline.min(Instant::now() + LOADING_POLL)
    } else {
        Instant::now()
    };
    let context = frames.context_of(&frame, None, wait)?;
    let mut probe = crate::cdp::evaluate_request(LOADING, true);
    probe.context_id = u32::try_from(context).ok();
    let left = deadline.saturating_duration_since(Instant::now());
    let answer = holder
        .cdp
        .call_method_within(probe, left.max(Duration::from_millis(1)))
        .ok()?;
    answer.result.value.as_ref()?.as_bool()
}

/// Asked of the `<iframe>` `backend` in `parent` (`DOM.describeNode`), for a frame whose
/// main world has no context yet (Chromium creates none for an initial empty document until
/// something runs there): true while it still shows the initial `about:blank` and its `src`
/// names a document to load ([`LOADING`]'s rule); `None` when the node is gone.
fn pending_src(parent: &FrameSession, backend: i64) -> Option<bool> {
    let node = parent
        .cdp
        .call_raw(
            "DOM.describeNode",
            json!({ "backendNodeId": backend, "depth": 1 }),
        )
        .ok()?;
    let node = &node["node"];
    let attribute = |name: &str| {
        node["attributes"].as_array().and_then(|attributes| {
            attributes
                .chunks(2)
                .find(|pair| pair[0].as_str() == Some(name))
                .and_then(|pair| pair.get(1)?.as_str().map(str::to_owned))
        })
    };
    if attribute("srcdoc").is_some() {
        return Some(false);
    }
    let src = attribute("src").unwrap_or_default().trim().to_lowercase();
    let document = node["contentDocument"]["documentURL"].as_str();
    // No `contentDocument`: the frame is out of process, so it has committed a document.
    let blank = document.is_some_and(|url| url == "about:blank");
    Some(blank && !src.is_empty() && src != "about:blank" && !src.starts_with("javascript:"))
}

/// The current session of the out-of-process frame `frame_id` once it runs a script, within
/// `BROWSE_FRAME_TIMEOUT`. Right after a navigation the frame's session may be gone (the old
/// document's, not yet dropped) or still starting (attached paused while it gets the tab's
/// settings, `session_setup.rs`): both are waited for. A renderer stuck in a page script (or
/// hung) would hold every tree call until the tab's own limit; instead the frame is left
/// out, the caller told which (by URL), and the frame remembered as stalled: later snapshots
/// give it [`STALLED_LOOK`], not the whole limit again, until it answers.
fn running_session(
    frames: &Frames,
    parent: &FrameSession,
    backend: i64,
    frame_id: &str,
) -> Option<Arc<FrameSession>> {
    let limit = crate::settings::frame_timeout();
    let stalled = frames.stalled(frame_id);
    let wait = if stalled {
        limit.min(STALLED_LOOK)
    } else {
        limit
    };
    let deadline = Instant::now() + wait;
    let mut stale = None;
    while let Some(holder) = frames.frame_session(frame_id, deadline) {
        let frame = FrameRef {
            session: Arc::clone(&holder),
            frame_id: frame_id.to_owned(),
        };
        let Some(context) = frames.context_of(&frame, stale, deadline) else {
            // Dropped meanwhile (look for its successor), or no context in time.
            if Instant::now() < deadline {
                continue;
            }
            break;
        };
        let mut probe = crate::cdp::evaluate_request("0", true);
        probe.context_id = u32::try_from(context).ok();
        let left = deadline.saturating_duration_since(Instant::now());
        match holder
            .cdp
            .call_method_within(probe, left.max(Duration::from_millis(1)))
        {
            Ok(_) => {
                if stalled {
                    frames.set_stalled(frame_id, false);
                }
                return Some(holder);
            }
            Err(e) if frames::session_gone(&e) => {
                frames.forget_session(holder.cdp.session_id());
                stale = None;
            }
            // The context went away with its document: wait for the next one.
            Err(_) if Instant::now() < deadline => stale = Some(context),
            Err(_) => break,
        }
    }
    let url = frame_url(parent, backend, frame_id);
    tracing::info!(
        "snapshot: waited {}ms for iframe {url} to answer",
        wait.as_millis()
    );
    if stalled {
        notes::say(format!(
            "snapshot: the iframe {url} still does not answer (an earlier snapshot waited {}ms \
             for it; this one {}ms); its content is left out",
            limit.as_millis(),
            wait.as_millis()
        ));
    } else {
        frames.set_stalled(frame_id, true);
        notes::say(format!(
            "snapshot: the iframe {url} did not answer within {}ms (its page is busy or hung); \
             its content is left out (later snapshots wait at most {}ms for it)",
            limit.as_millis(),
            limit.min(STALLED_LOOK).as_millis()
        ));
    }
    None
}

/// How long a snapshot waits for a frame that already made an earlier snapshot wait
/// `BROWSE_FRAME_TIMEOUT` in vain (a hung renderer's frame): long enough for a renderer that
/// has recovered to answer, short enough that the page does not make every snapshot slow.
const STALLED_LOOK: Duration = Duration::from_millis(500);

/// The URL to name a frame by: its target's (the browser process answers for targets,
/// whatever the frame's renderer is doing), else its `<iframe>`'s `src`, else its id.
fn frame_url(parent: &FrameSession, backend: i64, frame_id: &str) -> String {
    let target_url = parent
        .cdp
        .call_raw("Target.getTargetInfo", json!({ "targetId": frame_id }))
        .ok()
        .and_then(|info| info["targetInfo"]["url"].as_str().map(str::to_owned))
        .filter(|url| !url.is_empty() && url != "about:blank");
    target_url
        .or_else(|| {
            let node = parent
                .cdp
                .call_raw("DOM.describeNode", json!({ "backendNodeId": backend }))
                .ok()?;
            let attributes = node["node"]["attributes"].as_array()?;
            attributes
                .chunks(2)
                .find(|pair| pair[0].as_str() == Some("src"))
                .and_then(|pair| pair.get(1)?.as_str().map(str::to_owned))
                .filter(|src| !src.is_empty())
        })
        .unwrap_or_else(|| format!("frame {frame_id}"))
}

/// gstack's first line for a snapshot taken inside a frame: `[Context: iframe src="<url>"]`.
pub(super) fn context_line(realm: &Realm) -> String {
    format!("[Context: iframe src=\"{}\"]", frames::url_of(realm))
}
