//! The browser session the daemon drives: one Chromium, its tabs with stable ids, and the
//! dispatch of browser commands to their handlers.
//!
//! Commands run on blocking threads. Commands for one tab are serialised by that tab's lock;
//! commands for different tabs run in parallel. Nothing here knows about locks files, records
//! or HTTP: a command is a name and words in, text or a [`CommandError`] out.

pub mod capture;
mod chain;
mod confine;
pub mod envelope;
pub mod events;
mod interaction;
mod keys;
mod navigation;
mod popups;
mod reading;
pub mod refs;
mod screenshot;
mod selector;
mod snapshot;
mod tabs;
pub mod url_policy;
mod watchdog;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::cdp::{Browser, Tab};
use headless_chrome::protocol::cdp::Runtime;
use serde_json::Value;

use crate::catalogue;
use crate::wire::{CommandRequest, ErrorBody};
use events::{lock, DialogPolicy, PageEvents};

/// How long a single page-side script may run before Chromium terminates it.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// A failed command: the HTTP status and the body the CLI prints.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandError {
    pub status: u16,
    pub body: ErrorBody,
}

impl CommandError {
    /// The command ran and failed (gstack answers these with 500).
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            status: 500,
            body: ErrorBody::new(message),
        }
    }

    /// `Usage: browse <name> <synopsis>`.
    pub fn usage(name: &str) -> Self {
        let synopsis = catalogue::lookup(name).map_or("", |c| c.synopsis);
        Self::failed(
            format!("Usage: browse {name} {synopsis}")
                .trim_end()
                .to_owned(),
        )
    }

    /// The request itself was wrong (400).
    pub fn bad_request(body: ErrorBody) -> Self {
        Self { status: 400, body }
    }

    /// gstack's unknown-command error with a "did you mean" and the list of commands.
    pub fn unknown_command(name: &str) -> Self {
        Self::bad_request(catalogue::unknown_command(name))
    }
}

impl From<anyhow::Error> for CommandError {
    fn from(e: anyhow::Error) -> Self {
        Self::failed(format!("{e:#}"))
    }
}

pub type CommandResult = Result<String, CommandError>;

/// One tab: a stable id, its CDP handle, its recorded events, and the lock that serialises
/// the commands sent to it.
pub struct TabHandle {
    pub id: u64,
    pub cdp: Arc<Tab>,
    pub events: Arc<PageEvents>,
    /// Held for the whole of each command on this tab; guards the per-tab state too.
    pub serial: Mutex<TabState>,
}

/// State kept per tab (gstack keeps the same per tab): refs and the last snapshot.
#[derive(Default)]
pub struct TabState {
    pub refs: refs::RefMap,
    pub last_snapshot: Option<String>,
}

struct Tabs {
    next_id: u64,
    active: u64,
    map: BTreeMap<u64, Arc<TabHandle>>,
}

/// gstack's default viewport (`browser-manager.ts`, `currentViewport`): width, height in CSS
/// px and device scale factor, set on every tab when it is adopted.
pub const DEFAULT_VIEWPORT: (u32, u32, f64) = (1280, 720, 1.0);

/// Emulation settings shared by every tab (gstack keeps them in its one browser context).
#[derive(Debug, Clone)]
pub struct Emulation {
    /// `viewport WxH [--scale N]`: width, height, device scale factor.
    pub viewport: Option<(u32, u32, f64)>,
}

impl Default for Emulation {
    fn default() -> Self {
        Self {
            viewport: Some(DEFAULT_VIEWPORT),
        }
    }
}

impl Emulation {
    /// Applies these settings to one tab.
    pub fn apply(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        if let Some((width, height, scale)) = self.viewport {
            tab.call_method(Cdp::SetDeviceMetricsOverride {
                width,
                height,
                device_scale_factor: scale,
                mobile: false,
                scale: None,
                screen_width: None,
                screen_height: None,
                position_x: None,
                position_y: None,
                dont_set_visible_size: None,
                screen_orientation: None,
                viewport: None,
                display_feature: None,
                device_posture: None,
            })?;
        }
        Ok(())
    }
}

/// The daemon's browser: Chromium's CDP connection and the tab table.
pub struct Session {
    browser: Option<Browser>,
    tabs: Mutex<Tabs>,
    /// Sticky, daemon-wide dialog policy (accept by default).
    pub(crate) dialog_policy: Arc<Mutex<DialogPolicy>>,
    /// Viewport and other emulation applied to every current and future tab.
    pub(crate) emulation: Mutex<Emulation>,
    /// Where relative paths and `file://./` resolve: the cwd of the CLI that started us.
    pub cwd: PathBuf,
    /// Ids of the page targets that are, or are being made, tabs. Held while we create a tab
    /// (until its id is in), so a target we create is never mistaken for one a page opened.
    known_targets: Mutex<HashSet<String>>,
}

impl Session {
    /// Wraps a connected browser (or none, in the browser-less test mode) and adopts its
    /// initial tab as tab 1.
    pub fn new(browser: Option<Browser>, cwd: PathBuf) -> anyhow::Result<Self> {
        let session = Session {
            browser,
            tabs: Mutex::new(Tabs {
                next_id: 1,
                active: 0,
                map: BTreeMap::new(),
            }),
            dialog_policy: Arc::new(Mutex::new(DialogPolicy::default())),
            emulation: Mutex::new(Emulation::default()),
            cwd,
            known_targets: Mutex::new(HashSet::new()),
        };
        if let Some(browser) = &session.browser {
            let tab = browser.initial_tab()?;
            lock(&session.known_targets).insert(tab.get_target_id().clone());
            session.adopt(tab)?;
        }
        Ok(session)
    }

    /// Starts adopting the pages that pages open as tabs (see `popups.rs`).
    pub fn watch_popups(self: &Arc<Self>) -> anyhow::Result<()> {
        popups::watch(self)
    }

    /// Registers a CDP tab under the next stable id, makes it active, and applies the
    /// daemon-wide emulation to it. Every tab, the first included, comes through here.
    pub(crate) fn adopt(&self, cdp: Arc<Tab>) -> anyhow::Result<Arc<TabHandle>> {
        cdp.set_default_timeout(Duration::from_secs(15));
        lock(&self.emulation).apply(&cdp)?;
        // Playwright's rule: every page behaves as the focused, visible one. Without it a tab
        // behind another is `hidden`, and Chromium throttles its timers and animation frames
        // (a click on it took 5.5 s; rAF-based scripts and screenshots timed out).
        cdp.call_method(
            headless_chrome::protocol::cdp::Emulation::SetFocusEmulationEnabled { enabled: true },
        )?;
        // A page target's main frame id is its target id.
        let main_frame = Some(cdp.get_target_id().clone());
        let events = PageEvents::attach(&cdp, main_frame, Arc::clone(&self.dialog_policy))?;
        let mut tabs = lock(&self.tabs);
        let id = tabs.next_id;
        tabs.next_id += 1;
        let handle = Arc::new(TabHandle {
            id,
            cdp,
            events,
            serial: Mutex::new(TabState::default()),
        });
        tabs.map.insert(id, Arc::clone(&handle));
        tabs.active = id;
        Ok(handle)
    }

    /// Number of open tabs.
    pub fn tab_count(&self) -> usize {
        lock(&self.tabs).map.len()
    }

    /// Opens a blank tab through the browser and adopts it; it becomes the active tab.
    pub(crate) fn open_tab(&self) -> Result<Arc<TabHandle>, CommandError> {
        let Some(browser) = &self.browser else {
            return Err(no_browser());
        };
        let mut known = lock(&self.known_targets);
        let cdp = browser
            .new_tab()
            .map_err(|e| CommandError::failed(format!("cannot open a tab: {e:#}")))?;
        known.insert(cdp.get_target_id().clone());
        Ok(self.adopt(cdp)?)
    }

    /// The active tab's id and every tab in creation order.
    pub(crate) fn tab_list(&self) -> (u64, Vec<Arc<TabHandle>>) {
        let tabs = lock(&self.tabs);
        (tabs.active, tabs.map.values().cloned().collect())
    }

    /// Makes tab `id` the active one; `None` when there is no such tab.
    pub(crate) fn activate_tab(&self, id: u64) -> Option<Arc<TabHandle>> {
        let mut tabs = lock(&self.tabs);
        let tab = tabs.map.get(&id).cloned()?;
        tabs.active = id;
        Some(tab)
    }

    /// Takes tab `id` out of the table (the caller closes its target). If it was active, the
    /// last tab in creation order becomes active.
    pub(crate) fn forget_tab(&self, id: u64) -> Option<Arc<TabHandle>> {
        let mut tabs = lock(&self.tabs);
        let tab = tabs.map.remove(&id)?;
        if tabs.active == id {
            tabs.active = tabs.map.keys().next_back().copied().unwrap_or(0);
        }
        Some(tab)
    }

    /// The active tab's URL (`about:blank` when there is none).
    pub fn active_url(&self) -> String {
        self.active_tab()
            .map(|t| t.events.url())
            .unwrap_or_else(|| "about:blank".into())
    }

    /// gstack's `status` answer. `healthy` is the daemon's latest view of Chromium.
    pub fn status_text(&self, healthy: bool) -> String {
        format!(
            "Status: {}\nMode: launched\nURL: {}\nTabs: {}\nPID: {}",
            if healthy { "healthy" } else { "unhealthy" },
            self.active_url(),
            self.tab_count(),
            std::process::id()
        )
    }

    /// The active tab's refs as `(ref, role, name)` in ref order, for `GET /refs`. Waits for a
    /// command running on that tab to finish, as any command would.
    pub fn active_refs(&self) -> Vec<(String, String, String)> {
        let Some(tab) = self.active_tab() else {
            return Vec::new();
        };
        let state = lock(&tab.serial);
        let mut refs: Vec<(String, String, String)> = state
            .refs
            .entries
            .iter()
            .map(|(key, e)| (format!("@{key}"), e.role.clone(), e.name.clone()))
            .collect();
        // e1, e2, …, e10 in number order; @c refs after the @e ones.
        refs.sort_by_key(|(key, _, _)| {
            (
                !key.starts_with("@e"),
                key.get(2..)
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(u64::MAX),
            )
        });
        refs
    }

    fn active_tab(&self) -> Option<Arc<TabHandle>> {
        let tabs = lock(&self.tabs);
        tabs.map.get(&tabs.active).cloned()
    }

    /// The tab a request targets: its pinned `tabId` if that tab exists, else the active tab.
    /// Pinning never changes the active tab.
    fn target_tab(&self, pinned: Option<u64>) -> Result<Arc<TabHandle>, CommandError> {
        if self.browser.is_none() {
            return Err(no_browser());
        }
        let tabs = lock(&self.tabs);
        pinned
            .and_then(|id| tabs.map.get(&id))
            .or_else(|| tabs.map.get(&tabs.active))
            .cloned()
            .ok_or_else(|| CommandError::failed("no tab is open"))
    }

    /// True while Chromium answers a browser-level call (no page involved).
    pub fn browser_answers(&self) -> bool {
        match &self.browser {
            Some(b) => b.get_version().is_ok(),
            None => true,
        }
    }

    /// Runs one browser command; page content is enveloped here, centrally, when asked for.
    pub fn execute(&self, req: &CommandRequest) -> CommandResult {
        let result = self.dispatch(req)?;
        if !envelope::enabled(req.envelope) {
            return Ok(result);
        }
        let Some(info) = catalogue::lookup(&req.command) else {
            return Ok(result);
        };
        let source = match self.target_tab(req.tab_id) {
            Ok(tab) => tab.events.url(),
            Err(_) => self.active_url(),
        };
        Ok(envelope::apply(info.name, result, &source))
    }

    fn dispatch(&self, req: &CommandRequest) -> CommandResult {
        let Some(info) = catalogue::lookup(&req.command) else {
            return Err(CommandError::unknown_command(&req.command));
        };
        let args = req.args.as_slice();
        match info.name {
            "help" => return Ok(catalogue::help_text()),
            "status" | "stop" | "restart" => {
                return Err(CommandError::failed(format!(
                    "'{}' is handled by the daemon, not the browser",
                    info.name
                )))
            }
            _ => {}
        }
        // A page this session's last command opened is a tab before this command picks one.
        popups::settle(self);
        // Commands that manage tabs or run other commands take the tab locks themselves.
        match info.name {
            "tabs" => return tabs::list(self),
            "tab" => return tabs::switch(self, args),
            "newtab" => return tabs::open(self, args),
            "closetab" => return tabs::close(self, args),
            "chain" => return chain::run(self, req),
            "console" => return capture::console(self, args),
            "network" => return capture::network(self, args),
            "dialog" => return capture::dialog(self, args),
            "dialog-accept" => return interaction::dialog_accept(self, args),
            "dialog-dismiss" => return interaction::dialog_dismiss(self, args),
            _ => {}
        }
        let tab = self.target_tab(req.tab_id)?;
        let mut state = lock(&tab.serial);
        let watch = watchdog::HangWatch::arm(Arc::clone(&tab.cdp), crate::settings::hang_check());
        let result = self.run_on_tab(info.name, &tab, &mut state, args);
        if watch.fired() {
            if let Err(mut e) = result {
                e.body.error = format!(
                    "The page's JavaScript was stuck (an endless loop?) and was stopped; {} did not complete: {}. Run it again, or goto another page.",
                    info.name, e.body.error
                );
                return Err(e);
            }
        }
        result
    }

    fn run_on_tab(
        &self,
        name: &str,
        tab: &Arc<TabHandle>,
        state: &mut TabState,
        args: &[String],
    ) -> CommandResult {
        let ctx = &mut Ctx {
            session: self,
            tab,
            state,
        };
        match name {
            "goto" => navigation::goto(ctx, args),
            "back" => navigation::back(ctx, args),
            "forward" => navigation::forward(ctx, args),
            "reload" => navigation::reload(ctx, args),
            "url" => Ok(tab.events.url()),
            "wait" => navigation::wait(ctx, args),
            "text" => reading::text(ctx, args),
            "html" => reading::html(ctx, args),
            "links" => reading::links(ctx, args),
            "forms" => reading::forms(ctx, args),
            "js" => reading::js(ctx, args),
            "eval" => reading::eval(ctx, args),
            "attrs" => reading::attrs(ctx, args),
            "is" => reading::is(ctx, args),
            "css" => reading::css(ctx, args),
            "cookies" => reading::cookies(ctx, args),
            "cookie" => interaction::cookie(ctx, args),
            "storage" => reading::storage(ctx, args),
            "snapshot" => snapshot::snapshot(ctx, args),
            "click" => interaction::click(ctx, args),
            "fill" => interaction::fill(ctx, args),
            "select" => interaction::select(ctx, args),
            "hover" => interaction::hover(ctx, args),
            "type" => interaction::type_text(ctx, args),
            "press" => interaction::press(ctx, args),
            "scroll" => interaction::scroll(ctx, args),
            "upload" => interaction::upload(ctx, args),
            "viewport" => interaction::viewport(ctx, args),
            "screenshot" => screenshot::screenshot(ctx, args),
            "pdf" => screenshot::pdf(ctx, args),
            other => Err(CommandError::unknown_command(other)),
        }
    }
}

fn no_browser() -> CommandError {
    CommandError::failed(
        "no browser in this daemon (BROWSE_TEST_NO_BROWSER=1 is a launcher test mode)",
    )
}

/// What a tab command gets: the session, its tab, and the tab's state (locked for the command).
pub struct Ctx<'a> {
    pub session: &'a Session,
    pub tab: &'a Arc<TabHandle>,
    pub state: &'a mut TabState,
}

/// Evaluates `expression` in the tab's main frame and returns its value (by value).
/// An exception thrown by the page becomes a [`CommandError`].
pub fn evaluate(tab: &Tab, expression: &str, await_promise: bool) -> Result<Value, CommandError> {
    let mut request = evaluate_request(expression, true);
    request.user_gesture = Some(true);
    request.await_promise = Some(await_promise);
    request.timeout = Some(SCRIPT_TIMEOUT.as_millis() as f64);
    let reply = tab
        .call_method(request)
        .map_err(|e| CommandError::failed(format!("{e:#}")))?;
    if let Some(details) = reply.exception_details {
        return Err(script_error(details));
    }
    Ok(reply.result.value.unwrap_or(Value::Null))
}

/// A `Runtime.evaluate` of `expression` in the main frame, silent, everything else default.
pub(crate) fn evaluate_request(expression: &str, return_by_value: bool) -> Runtime::Evaluate {
    Runtime::Evaluate {
        expression: expression.to_owned(),
        object_group: None,
        include_command_line_api: None,
        silent: Some(true),
        context_id: None,
        return_by_value: Some(return_by_value),
        generate_preview: None,
        user_gesture: None,
        await_promise: None,
        throw_on_side_effect: None,
        timeout: None,
        disable_breaks: None,
        repl_mode: None,
        allow_unsafe_eval_blocked_by_csp: None,
        unique_context_id: None,
        serialization_options: None,
    }
}

/// The error a page script threw, as the user should read it: its description (message and
/// stack) when there is one, else CDP's summary text.
pub(crate) fn script_error(details: Runtime::ExceptionDetails) -> CommandError {
    let message = details
        .exception
        .and_then(|ex| ex.description)
        .unwrap_or(details.text);
    CommandError::failed(message)
}
