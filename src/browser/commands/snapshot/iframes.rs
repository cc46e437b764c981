//! The snapshot's descent into iframes: under each `iframe` line, the lines of the document it
//! shows, one level deeper, each tagged with its frame so that its ref resolves there.
//!
//! gstack's snapshot stops at an iframe (Playwright's `ariaSnapshot` of `body` prints it as a
//! bare `iframe` node). `Accessibility.getFullAXTree` likewise reads one frame at a time, so
//! each frame's tree is read on its own: a same-site frame with `frameId` in its parent's
//! session, an out-of-process one in its own session (see `crate::browser::frames`).

use std::sync::Arc;

use super::{tree_lines, Line};
use crate::browser::frames::{self, FrameRef, FrameSession, Frames, Realm};

/// Iframes nested deeper than this are printed without their content: a page that frames
/// itself must not recurse for ever.
const MAX_FRAME_NESTING: usize = 8;

/// `lines` (the snapshot root's, from `realm`) with each iframe's document inserted under it.
/// A frame whose tree cannot be read (it is loading, or gone) stays a bare `iframe` line.
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
    let lines = tree_lines(&holder.cdp, Some(&frame_id), None).ok()?;
    let frame = FrameRef {
        session: Arc::clone(&holder),
        frame_id,
    };
    Some(expand(frames, &holder, Some(&frame), lines, nesting + 1))
}

/// gstack's first line for a snapshot taken inside a frame: `[Context: iframe src="<url>"]`.
pub(super) fn context_line(realm: &Realm) -> String {
    format!("[Context: iframe src=\"{}\"]", frames::url_of(realm))
}
