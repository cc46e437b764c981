//! A tab's frames: the CDP sessions that hold them, the JavaScript realm of each, the frame
//! the tab's commands act in, and where a frame sits on the page (for clicks).
//!
//! Chromium puts a cross-site iframe in a renderer of its own (an out-of-process iframe,
//! "OOPIF") that the tab's session cannot reach: with `Target.setAutoAttach{flatten:true}` on
//! the tab (and on each such frame, for the cross-site frames inside it) every OOPIF arrives as
//! a `Target.attachedToTarget` with a session of its own ([`FrameSession`]). A same-site frame
//! (srcdoc, about:blank, same origin) lives in its parent's session.
//!
//! A frame's main-world execution context comes from `Runtime.executionContextCreated`
//! (`auxData.frameId`, `isDefault`), tracked per session from the start (the events of the
//! contexts that exist are replayed once, on `Runtime.enable`). The frame a tab's commands act
//! in (gstack's `frame` command, `tab-session.ts` `activeFrame`) is [`ActiveFrame`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::browser::events::lock;
use crate::browser::page::CommandError;
use crate::browser::session::{TabHandle, TabState};
use crate::browser::session_setup::{SessionKind, SessionSetup};
use crate::browser::workers::Workers;
use crate::cdp::Tab;

/// How long a lookup waits for a frame's session or execution context to appear: a frame that
/// was just created or navigated gets them a moment later.
const APPEAR_TIMEOUT: Duration = Duration::from_secs(2);

/// One CDP session and the frames it holds: the tab's own session, or an out-of-process
/// iframe's.
pub struct FrameSession {
    pub cdp: Arc<Tab>,
    /// The frame at its root (its local root): the tab's main frame, or the OOPIF's frame,
    /// whose id is its target id.
    pub root_frame: String,
    /// The session that holds the `<iframe>` this session's root frame is the content of;
    /// `None` for the tab's own session.
    parent: Option<Arc<FrameSession>>,
}

/// A frame and the session that holds it: where a ref lives, or the active frame.
#[derive(Clone)]
pub struct FrameRef {
    pub session: Arc<FrameSession>,
    /// `Page.FrameId`.
    pub frame_id: String,
}

impl std::fmt::Debug for FrameRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FrameRef({} in session {})",
            self.frame_id,
            self.session.cdp.session_id()
        )
    }
}

impl PartialEq for FrameRef {
    fn eq(&self, other: &Self) -> bool {
        self.frame_id == other.frame_id && Arc::ptr_eq(&self.session, &other.session)
    }
}

/// Where scripts run: a session and, for any frame but the tab's main frame, the execution
/// context of that frame's main world (`Runtime.evaluate`'s `contextId`).
#[derive(Clone)]
pub struct Realm {
    pub cdp: Arc<Tab>,
    pub context: Option<i64>,
    /// The frame, when it is not the tab's main frame: elements found here carry it.
    pub frame: Option<FrameRef>,
}

impl Realm {
    /// The tab's main frame, in the tab's own session.
    pub fn main(tab: &Arc<Tab>) -> Self {
        Realm {
            cdp: Arc::clone(tab),
            context: None,
            frame: None,
        }
    }
}

/// The frame a tab's commands act in after `frame <sel>` (gstack keeps it per tab).
#[derive(Clone, Debug)]
pub struct ActiveFrame {
    pub frame: FrameRef,
    /// The tab's main-frame navigation count when it was chosen: any main-frame navigation
    /// returns the tab to its main frame, as gstack's `onMainFrameNavigated` does.
    pub navigations: u64,
}

#[derive(Default)]
struct State {
    /// Out-of-process iframe sessions, by session id.
    children: HashMap<String, Arc<FrameSession>>,
    /// Main-world execution context ids by (session id, frame id).
    contexts: HashMap<(String, String), i64>,
    /// Frames whose document a snapshot waited for in vain (`BROWSE_FRAME_TIMEOUT`): later
    /// snapshots look once and do not wait again, until the frame is seen loaded or detached.
    stalled: HashSet<String>,
}

/// One tab's frame sessions and execution contexts.
pub struct Frames {
    main: Arc<FrameSession>,
    state: Mutex<State>,
    changed: Condvar,
    /// What each out-of-process iframe's session gets before it runs.
    setup: Arc<SessionSetup>,
    /// The dedicated workers of the tab's pages (see `workers.rs`).
    workers: Arc<Workers>,
}

impl Frames {
    /// Starts tracking the frames of `tab`; each out-of-process iframe's session gets
    /// `setup` before it runs. Must run before `Runtime.enable` on the tab, whose replay of
    /// the existing contexts it listens for.
    pub fn attach(tab: &Arc<Tab>, setup: Arc<SessionSetup>) -> Arc<Frames> {
        let frames = Arc::new(Frames {
            main: Arc::new(FrameSession {
                cdp: Arc::clone(tab),
                // A page target's main frame id is its target id.
                root_frame: tab.get_target_id().clone(),
                parent: None,
            }),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            workers: Workers::new(Arc::clone(&setup)),
            setup,
        });
        frames.watch(&frames.main);
        if let Err(e) = auto_attach(tab) {
            tracing::warn!("cross-site iframes will not be reachable: {e:#}");
        }
        frames
    }

    /// Whether a snapshot already waited `BROWSE_FRAME_TIMEOUT` for frame `frame_id`'s
    /// document in vain (and it has not been seen loaded since): a page with an iframe that
    /// never loads must not make every snapshot wait that long.
    pub fn stalled(&self, frame_id: &str) -> bool {
        lock(&self.state).stalled.contains(frame_id)
    }

    /// Records whether frame `frame_id`'s document was still loading when a snapshot stopped
    /// waiting for it (`true`), or has been seen loaded (`false`).
    pub fn set_stalled(&self, frame_id: &str, stalled: bool) {
        let mut state = lock(&self.state);
        if stalled {
            state.stalled.insert(frame_id.to_owned());
        } else {
            state.stalled.remove(frame_id);
        }
    }

    /// The tab's own session.
    pub fn main_session(&self) -> &Arc<FrameSession> {
        &self.main
    }

    /// Every CDP session of the tab: its own, then its out-of-process iframes'. A setting
    /// that changes is sent to each (see `session_setup.rs`).
    pub fn sessions(&self) -> Vec<Arc<Tab>> {
        let children: Vec<Arc<Tab>> = lock(&self.state)
            .children
            .values()
            .map(|c| Arc::clone(&c.cdp))
            .collect();
        std::iter::once(Arc::clone(&self.main.cdp))
            .chain(children)
            .collect()
    }

    /// The sessions of the tab's dedicated workers running now (see `workers.rs`).
    pub fn worker_sessions(&self) -> Vec<Arc<Tab>> {
        self.workers.sessions()
    }

    fn watch(self: &Arc<Self>, session: &Arc<FrameSession>) {
        let frames: Weak<Frames> = Arc::downgrade(self);
        let owner: Weak<FrameSession> = Arc::downgrade(session);
        session
            .cdp
            .add_raw_listener(Arc::new(move |message: &Value| {
                if let (Some(frames), Some(session)) = (frames.upgrade(), owner.upgrade()) {
                    frames.on_event(&session, message);
                }
            }));
    }

    fn on_event(self: &Arc<Self>, session: &Arc<FrameSession>, message: &Value) {
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return;
        };
        let params = message.get("params").unwrap_or(&Value::Null);
        let sid = session.cdp.session_id().to_owned();
        match method {
            "Runtime.executionContextCreated" => {
                let context = &params["context"];
                let aux = &context["auxData"];
                let (Some(id), Some(frame)) = (context["id"].as_i64(), aux["frameId"].as_str())
                else {
                    return;
                };
                if aux["isDefault"].as_bool() != Some(true) {
                    return;
                }
                lock(&self.state)
                    .contexts
                    .insert((sid, frame.to_owned()), id);
            }
            "Runtime.executionContextDestroyed" => {
                let Some(id) = params["executionContextId"].as_i64() else {
                    return;
                };
                lock(&self.state)
                    .contexts
                    .retain(|(s, _), v| !(*s == sid && *v == id));
            }
            // Chromium does not always report the context of a removed iframe as destroyed:
            // the frame's detachment ends it all the same.
            "Page.frameDetached" => {
                let Some(frame) = params["frameId"].as_str() else {
                    return;
                };
                let mut state = lock(&self.state);
                state
                    .contexts
                    .retain(|(s, f), _| !(*s == sid && f == frame));
                state.stalled.remove(frame);
            }
            "Runtime.executionContextsCleared" => {
                lock(&self.state).contexts.retain(|(s, _), _| *s != sid);
            }
            "Target.attachedToTarget" => {
                let info = &params["targetInfo"];
                let (Some(child), Some(target)) =
                    (params["sessionId"].as_str(), info["targetId"].as_str())
                else {
                    return;
                };
                if info["type"].as_str() == Some("iframe") {
                    self.adopt(session, child, target);
                } else if self.workers.on_attached(&session.cdp, params) {
                    return;
                } else {
                    // Only a browser too old for auto-attach filters sends other kinds; they
                    // wait for a debugger, so let them go (detaching resumes them).
                    let parent = Arc::clone(&session.cdp);
                    let child = child.to_owned();
                    std::thread::spawn(move || {
                        let _ = parent
                            .call_raw("Target.detachFromTarget", json!({ "sessionId": child }));
                    });
                }
            }
            "Target.detachedFromTarget" => {
                if let Some(child) = params["sessionId"].as_str() {
                    self.forget(child);
                    self.workers.forget(child);
                }
            }
            _ => return,
        }
        self.changed.notify_all();
    }

    /// Takes an out-of-process iframe's session: its events are routed and watched at once;
    /// on another thread (this one delivers the answers' events) it gets the tab's settings
    /// and its domains, and only then runs (it attached paused, so its first request is
    /// covered).
    fn adopt(self: &Arc<Self>, parent: &Arc<FrameSession>, session_id: &str, target_id: &str) {
        let cdp = match parent.cdp.child_session(session_id, target_id) {
            Ok(cdp) => cdp,
            Err(e) => {
                tracing::warn!("cannot attach to iframe {target_id}: {e:#}");
                return;
            }
        };
        let session = Arc::new(FrameSession {
            cdp,
            root_frame: target_id.to_owned(),
            parent: Some(Arc::clone(parent)),
        });
        self.watch(&session);
        tracing::info!(target_id, "attached an out-of-process iframe");
        lock(&self.state)
            .children
            .insert(session_id.to_owned(), Arc::clone(&session));
        let setup = Arc::clone(&self.setup);
        let frames = Arc::downgrade(self);
        std::thread::spawn(move || {
            // Returns once the frame runs, its settings sent first (whatever failed: the
            // frame is let run in any case, see `SessionSetup::prepare`).
            let prepared = setup.prepare(&session.cdp, SessionKind::Frame);
            // The contexts that exist arrive as events (console messages too); the browser's
            // own notes (`Log`).
            let enabled = if prepared.as_ref().is_err_and(session_gone) {
                Ok(())
            } else {
                session
                    .cdp
                    .call_raw("Runtime.enable", json!({}))
                    .and_then(|_| session.cdp.call_raw("Log.enable", json!({})))
                    .map(drop)
            };
            for e in [prepared, enabled].into_iter().filter_map(Result::err) {
                if session_gone(&e) {
                    // Detached while it was set up (its document was replaced at once).
                    if let Some(frames) = frames.upgrade() {
                        frames.forget_session(session.cdp.session_id());
                    }
                    return;
                }
                tracing::warn!("iframe {} not fully set up: {e:#}", session.root_frame);
            }
        });
    }

    /// Drops an out-of-process iframe's session that a call found gone ([`session_gone`]):
    /// Chromium's `Target.detachedFromTarget` for it may still be on its way.
    pub fn forget_session(&self, session_id: &str) {
        self.forget(session_id);
        self.changed.notify_all();
    }

    /// The out-of-process iframe session whose root frame is `frame_id`, waiting until
    /// `deadline` for it to attach; `None` then.
    pub fn frame_session(&self, frame_id: &str, deadline: Instant) -> Option<Arc<FrameSession>> {
        self.wait_for(deadline, |state| {
            state
                .children
                .values()
                .find(|c| c.root_frame == frame_id)
                .cloned()
        })
    }

    /// The main-world execution context of `frame`, waiting until `deadline` for one other
    /// than `not` (a context found stale): a frame's session gets its contexts only once it
    /// runs and has `Runtime` enabled. `None` when none came, or the session was dropped.
    pub fn context_of(&self, frame: &FrameRef, not: Option<i64>, deadline: Instant) -> Option<i64> {
        let sid = frame.session.cdp.session_id().to_owned();
        let key = (sid.clone(), frame.frame_id.clone());
        let is_main = Arc::ptr_eq(&frame.session, &self.main);
        self.wait_for(deadline, |state| {
            if !is_main && !state.children.contains_key(&sid) {
                // Dropped: `Some(None)` ends the wait.
                return Some(None);
            }
            state
                .contexts
                .get(&key)
                .copied()
                .filter(|c| Some(*c) != not)
                .map(Some)
        })
        .flatten()
    }

    /// Drops a detached session, the sessions under it and their contexts.
    fn forget(&self, session_id: &str) {
        let mut state = lock(&self.state);
        let mut gone = vec![session_id.to_owned()];
        while let Some(id) = gone.pop() {
            if let Some(session) = state.children.remove(&id) {
                session.cdp.detach_events();
                state.contexts.retain(|(s, _), _| *s != id);
                let under: Vec<String> = state
                    .children
                    .iter()
                    .filter(|(_, c)| c.parent.as_ref().is_some_and(|p| Arc::ptr_eq(p, &session)))
                    .map(|(k, _)| k.clone())
                    .collect();
                gone.extend(under);
            }
        }
    }

    /// The session that holds `frame_id`, a child frame of a frame held by `parent`: the
    /// frame's own out-of-process session if it has one, else `parent` when the frame is in
    /// its frame tree (a same-site frame). Waits a moment for an out-of-process frame whose
    /// session has not arrived yet (just created); `None` then.
    pub fn session_of(
        &self,
        frame_id: &str,
        parent: &Arc<FrameSession>,
    ) -> Option<Arc<FrameSession>> {
        let own_session = |state: &State| {
            state
                .children
                .values()
                .find(|c| c.root_frame == frame_id)
                .cloned()
        };
        if let Some(own) = own_session(&lock(&self.state)) {
            return Some(own);
        }
        if holds_frame(&parent.cdp, frame_id) {
            return Some(Arc::clone(parent));
        }
        self.wait_for(Instant::now() + APPEAR_TIMEOUT, own_session)
    }

    /// The realm of `frame`: its session and its main world's context. Waits a moment for a
    /// frame that is (re)loading; an error when the frame is gone.
    pub fn realm_of(&self, frame: &FrameRef) -> Result<Realm, CommandError> {
        let key = (
            frame.session.cdp.session_id().to_owned(),
            frame.frame_id.clone(),
        );
        let deadline = Instant::now() + APPEAR_TIMEOUT;
        let context = self
            .wait_for(deadline, |state| state.contexts.get(&key).copied())
            .ok_or_else(frame_gone)?;
        Ok(Realm {
            cdp: Arc::clone(&frame.session.cdp),
            context: Some(context),
            frame: Some(frame.clone()),
        })
    }

    fn wait_for<T>(&self, deadline: Instant, check: impl FnMut(&State) -> Option<T>) -> Option<T> {
        crate::browser::events::wait_until_found(&self.state, &self.changed, deadline, check)
    }
}

impl Drop for Frames {
    /// A closed tab's iframe sessions get no detach event we would see (their parent session
    /// is gone first): stop routing their events, which ends their listener threads.
    fn drop(&mut self) {
        for child in lock(&self.state).children.values() {
            child.cdp.detach_events();
        }
    }
}

/// One frame of the tab, as `frame --name/--url` search them.
pub struct FrameInfo {
    pub frame: FrameRef,
    /// `Page.Frame.name`: the `<iframe>`'s name (Playwright's `frame.name()`).
    pub name: String,
    /// The frame's URL with its fragment.
    pub url: String,
}

impl Frames {
    /// Every frame of the tab but its main frame, in the order of the tab's frame tree, the
    /// frames of out-of-process iframes after it (`Page.getFrameTree` of each session).
    pub fn list(&self) -> Vec<FrameInfo> {
        let children: Vec<Arc<FrameSession>> =
            lock(&self.state).children.values().cloned().collect();
        let mut out: Vec<FrameInfo> = Vec::new();
        for session in std::iter::once(&self.main).chain(children.iter()) {
            let Ok(tree) = session.cdp.call_raw("Page.getFrameTree", json!({})) else {
                continue;
            };
            let mut stack = vec![&tree["frameTree"]];
            while let Some(node) = stack.pop() {
                let frame = &node["frame"];
                let id = frame["id"].as_str().unwrap_or_default();
                // An out-of-process frame is listed by its own session.
                let elsewhere = children
                    .iter()
                    .any(|c| c.root_frame == id && !Arc::ptr_eq(c, session));
                if !id.is_empty() && id != self.main.root_frame && !elsewhere {
                    out.push(FrameInfo {
                        frame: FrameRef {
                            session: Arc::clone(session),
                            frame_id: id.to_owned(),
                        },
                        name: frame["name"].as_str().unwrap_or_default().to_owned(),
                        url: format!(
                            "{}{}",
                            frame["url"].as_str().unwrap_or_default(),
                            frame["urlFragment"].as_str().unwrap_or_default()
                        ),
                    });
                }
                if let Some(kids) = node["childFrames"].as_array() {
                    stack.extend(kids.iter().rev());
                }
            }
        }
        out
    }
}

/// Before a tab command: returns the tab to its main frame when the main frame navigated
/// since `frame` chose one (gstack's `onMainFrameNavigated`). A chosen frame that is gone
/// otherwise stays chosen, so the commands that act in it fail with the frame-gone error
/// (see [`Frames::realm_of`]) instead of silently acting in the main frame.
pub fn settle_active_frame(tab: &TabHandle, state: &mut TabState) {
    let Some(active) = &state.frame else { return };
    if tab.events.navigation_count() != active.navigations {
        state.frame = None;
    }
}

/// The session whose renderer runs the command's scripts: the active frame's (an
/// out-of-process iframe's own), else the tab's. The hang watchdog probes it.
pub fn watched_session(tab: &TabHandle, state: &TabState) -> Arc<Tab> {
    match &state.frame {
        Some(active) => Arc::clone(&active.frame.session.cdp),
        None => Arc::clone(&tab.cdp),
    }
}

/// gstack refuses to navigate or replace the document from inside a frame
/// (`write-commands.ts`): the commands that act on the tab's main document, and the error
/// they give there.
pub fn refuse_in_frame(command: &str, state: &TabState) -> Result<(), CommandError> {
    if state.frame.is_some()
        && matches!(
            command,
            "goto" | "back" | "forward" | "reload" | "load-html"
        )
    {
        return Err(CommandError::failed_with_hint(
            format!("Cannot use {command} inside a frame. Run 'frame main' first."),
            format!("'browse frame main' returns to the tab's document; {command} acts on it."),
        ));
    }
    Ok(())
}

/// True when the session's own frame tree (`Page.getFrameTree`: the frames its renderer
/// holds) has `frame_id`.
fn holds_frame(session: &Tab, frame_id: &str) -> bool {
    let Ok(tree) = session.call_raw("Page.getFrameTree", json!({})) else {
        return false;
    };
    let mut stack = vec![&tree["frameTree"]];
    while let Some(node) = stack.pop() {
        if node["frame"]["id"].as_str() == Some(frame_id) {
            return true;
        }
        if let Some(kids) = node["childFrames"].as_array() {
            stack.extend(kids);
        }
    }
    false
}

/// True when a CDP call failed because its session no longer exists (Chromium's "Session
/// with given id not found": the target detached, e.g. an iframe whose document was
/// replaced). Such a session needs nothing more; it is no failure of the command.
pub fn session_gone(error: &anyhow::Error) -> bool {
    let text = format!("{error:#}");
    text.contains("Session with given id not found") || text.contains("No session with given id")
}

/// The error for a frame whose document is gone.
pub(crate) fn frame_gone() -> CommandError {
    CommandError::failed_with_hint(
        "The frame is gone (its iframe was removed or navigated away)",
        "Run 'browse frame main' (then 'browse frame <sel>' to choose a frame again), and 'browse snapshot' for fresh refs.",
    )
}

/// `Target.setAutoAttach` on a session, iframes and dedicated workers only, each held paused
/// until it has the tab's settings (see [`Frames::adopt`], `workers.rs`).
pub(crate) fn auto_attach(tab: &Tab) -> anyhow::Result<()> {
    if tab
        .call_raw("Target.setAutoAttach", auto_attach_params(true))
        .is_err()
    {
        // A browser too old for filters attaches everything; only iframes and workers are
        // adopted.
        tab.call_raw("Target.setAutoAttach", auto_attach_params(false))?;
    }
    Ok(())
}

/// The parameters of [`auto_attach`]'s `Target.setAutoAttach`, with or without the filter
/// that keeps it to iframes and dedicated workers.
pub(crate) fn auto_attach_params(filtered: bool) -> Value {
    crate::cdp::held_auto_attach_params(filtered.then_some(&["iframe", "worker"]))
}

// ---------------------------------------------------------------------------------------------
// Geometry: where a frame's viewport sits in the tab's viewport, in CSS px. Quads from
// `DOM.getContentQuads`/`DOM.getBoxModel` are in the viewport of the session's root frame (for
// a same-site frame, the tab's); an out-of-process frame's are in its own.

/// The offset of `frame`'s viewport within its session's root frame's viewport: the content
/// box of its `<iframe>` (`DOM.getFrameOwner`, `DOM.getBoxModel`). (0, 0) for the root.
pub fn offset_in_session(frame: &FrameRef) -> Result<(f64, f64), CommandError> {
    if frame.frame_id == frame.session.root_frame {
        return Ok((0.0, 0.0));
    }
    owner_content_origin(&frame.session.cdp, &frame.frame_id)
}

/// The offset of a session's root frame's viewport within the tab's viewport: the sum of its
/// `<iframe>` content boxes up the chain of sessions. (0, 0) for the tab's own session.
pub fn session_offset(session: &FrameSession) -> Result<(f64, f64), CommandError> {
    let Some(parent) = &session.parent else {
        return Ok((0.0, 0.0));
    };
    let (x, y) = owner_content_origin(&parent.cdp, &session.root_frame)?;
    let (px, py) = session_offset(parent)?;
    Ok((x + px, y + py))
}

/// The `<iframe>` of the tab's own session through which `frame` is reached (its backend node
/// id): the owner of `frame` itself when the tab's renderer holds it, else of the root frame
/// of its top-most out-of-process ancestor (`DOM.getFrameOwner`). That `<iframe>` lies in the
/// tab's document unless the frame is nested in a same-process iframe. Errors name the call.
pub fn owner_in_tab(frame: &FrameRef) -> Result<i64, CommandError> {
    let mut session = &frame.session;
    let mut frame_id = &frame.frame_id;
    while let Some(parent) = &session.parent {
        frame_id = &session.root_frame;
        session = parent;
    }
    let owner = session
        .cdp
        .call_raw("DOM.getFrameOwner", json!({ "frameId": frame_id }))
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    owner["backendNodeId"]
        .as_i64()
        .ok_or_else(|| CommandError::failed("DOM.getFrameOwner returned no node"))
}

/// The top-left corner of the content box of the `<iframe>` that holds `frame_id`, asked of
/// the session that holds the `<iframe>`.
fn owner_content_origin(holder: &Tab, frame_id: &str) -> Result<(f64, f64), CommandError> {
    let cdp = |e: anyhow::Error| CommandError::failed(format!("{e:#}"));
    let owner = holder
        .call_raw("DOM.getFrameOwner", json!({ "frameId": frame_id }))
        .map_err(cdp)?;
    let backend = owner["backendNodeId"]
        .as_i64()
        .ok_or_else(|| CommandError::failed("DOM.getFrameOwner returned no node"))?;
    let model = holder
        .call_raw("DOM.getBoxModel", json!({ "backendNodeId": backend }))
        .map_err(cdp)?;
    let content = &model["model"]["content"];
    match (content[0].as_f64(), content[1].as_f64()) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(CommandError::failed("the iframe has no layout box")),
    }
}

/// The child frame an `<iframe>` element shows (`DOM.describeNode`'s `frameId`), asked of the
/// session that holds the element; `None` for an element that is not a frame owner.
pub fn content_frame(holder: &Tab, backend_node_id: i64) -> Option<String> {
    let node = holder
        .call_raw(
            "DOM.describeNode",
            json!({ "backendNodeId": backend_node_id }),
        )
        .ok()?;
    node["node"]["frameId"].as_str().map(str::to_owned)
}

/// The frame's current URL (`location.href` in its realm): gstack's `frame.url()`.
pub fn url_of(realm: &Realm) -> String {
    let mut request = crate::cdp::evaluate_request("location.href", true);
    request.context_id = realm.context.and_then(|c| u32::try_from(c).ok());
    realm
        .cdp
        .call_method(request)
        .ok()
        .and_then(|r| r.result.value)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
