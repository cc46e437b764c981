//! The snapshot's descent into iframes: under each `iframe` line, the lines of the document it
//! shows, one level deeper, each tagged with its frame so that its ref resolves there.
//!
//! gstack's snapshot stops at an iframe (Playwright's `ariaSnapshot` of `body` prints it as a
//! bare `iframe` node). `Accessibility.getFullAXTree` likewise reads one frame at a time, so
//! each frame's tree is read on its own: a same-site frame with `frameId` in its parent's
//! session, an out-of-process one in its own session (see `crate::browser::frames`).

use std::sync::Arc;

use serde_json::json;

use super::{tree_lines, Line};
use crate::browser::frames::{self, FrameRef, FrameSession, Frames, Realm};
use crate::browser::notes;

/// Iframes nested deeper than this are printed without their content: a page that frames
/// itself must not recurse for ever.
const MAX_FRAME_NESTING: usize = 8;

/// `lines` (the snapshot root's, from `realm`) with each iframe's document inserted under it.
/// A frame whose tree cannot be read (it is loading, or gone) stays a bare `iframe` line, as
/// Playwright's `snapshotForAI` leaves a frame it cannot reach; so does an out-of-process frame
/// whose renderer does not answer within `BROWSE_FRAME_TIMEOUT`, with a note naming it.
pub(super) fn descend(frames: &Frames, realm: &Realm, lines: Vec<Line>) -> Vec<Line> {
    let session = match &realm.frame {
        Some(frame) => Arc::clone(&frame.session),
        None => Arc::clone(frames.main_session()),
    };
    expand(frames, &session, realm.frame.as_ref(), lines, 0)
}

fn expand(
    frames: &Frames,
    session: &Arc<FrameSession>,
    frame: Option<&FrameRef>,
    lines: Vec<Line>,
    nesting: usize,
) -> Vec<Line> {
    let mut out = Vec::with_capacity(lines.len());
    for mut line in lines {
        if line.frame.is_none() {
            line.frame = frame.cloned();
        }
        let child = (line.role == "iframe" && nesting < MAX_FRAME_NESTING)
            .then_some(line.backend)
            .flatten()
            .and_then(|backend| child_lines(frames, session, backend, nesting));
        let depth = line.depth;
        out.push(line);
        for mut inner in child.into_iter().flatten() {
            inner.depth += depth + 1;
            out.push(inner);
        }
    }
    out
}

/// The lines of the document the `<iframe>` `backend` (of `session`) shows, its own iframes
/// expanded, at depth 0.
fn child_lines(
    frames: &Frames,
    session: &Arc<FrameSession>,
    backend: i64,
    nesting: usize,
) -> Option<Vec<Line>> {
    let frame_id = frames::content_frame(&session.cdp, backend)?;
    let holder = frames.session_of(&frame_id, session)?;
    if !Arc::ptr_eq(&holder, session) && !answers(&holder, &frame_id, session) {
        return None;
    }
    let lines = tree_lines(&holder.cdp, Some(&frame_id), None).ok()?;
    let frame = FrameRef {
        session: Arc::clone(&holder),
        frame_id,
    };
    Some(expand(frames, &holder, Some(&frame), lines, nesting + 1))
}

/// True when the out-of-process frame `frame_id` (root of `holder`) runs a script within
/// `BROWSE_FRAME_TIMEOUT`. A renderer stuck in a page script (or hung) would hold every tree
/// call until the tab's own limit; instead the frame is left out, and the caller told which.
fn answers(holder: &FrameSession, frame_id: &str, parent: &FrameSession) -> bool {
    let limit = crate::settings::frame_timeout();
    let probe = crate::cdp::evaluate_request("0", true);
    if holder.cdp.call_method_within(probe, limit).is_ok() {
        return true;
    }
    // The browser process answers for targets, whatever the frame's renderer is doing.
    let url = parent
        .cdp
        .call_raw("Target.getTargetInfo", json!({ "targetId": frame_id }))
        .ok()
        .and_then(|info| info["targetInfo"]["url"].as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("frame {frame_id}"));
    notes::say(format!(
        "snapshot: the iframe {url} did not answer within {}ms (its page is busy or hung); \
         its content is left out",
        limit.as_millis()
    ));
    false
}

/// gstack's first line for a snapshot taken inside a frame: `[Context: iframe src="<url>"]`.
pub(super) fn context_line(realm: &Realm) -> String {
    format!("[Context: iframe src=\"{}\"]", frames::url_of(realm))
}
