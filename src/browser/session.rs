//! The browser session: one Chromium connection, its tabs with stable ids (adopted, listed,
//! activated, forgotten), the emulation every tab gets, and which tab a request targets.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::downloads::Downloads;
use super::events::{lock, DialogPolicy, PageEvents};
use super::frames::{ActiveFrame, Frames};
use super::page::CommandError;
use super::refs;
use super::routes::RouteTable;
use super::session_setup::{SessionKind, SessionSetup};
use super::workers::Workers;
use crate::cdp::{Browser, Tab};
use crate::wire::CommandRequest;

mod popups;

/// One tab: a stable id, its CDP handle, its recorded events, and the lock that serialises
/// the commands sent to it.
pub struct TabHandle {
    pub id: u64,
    pub cdp: Arc<Tab>,
    pub events: Arc<PageEvents>,
    /// The tab's frames: out-of-process iframe sessions and each frame's execution context.
    pub frames: Arc<Frames>,
    /// Held for the whole of each command on this tab; guards the per-tab state too.
    pub serial: Mutex<TabState>,
}

/// State kept per tab (gstack keeps the same per tab): refs and the last snapshot.
#[derive(Default)]
pub struct TabState {
    pub refs: refs::RefMap,
    pub last_snapshot: Option<String>,
    /// The keyboard and mouse as the page last saw them (`keydown`, `mouse down`, …).
    pub input: InputState,
    /// The frame commands act in after `frame <sel>`; `None` for the main frame.
    pub frame: Option<ActiveFrame>,
}

/// What Playwright's `Keyboard` and `Mouse` remember per page between calls: the modifier
/// keys and other keys held down, where the mouse is and which buttons it holds.
#[derive(Debug, Default, Clone)]
pub struct InputState {
    /// CDP modifier bits held by `keydown` (Alt 1, Control 2, Meta 4, Shift 8).
    pub modifiers: u32,
    /// Keys held by `keydown` (their `code`), so a second keydown is an auto-repeat.
    pub pressed: HashSet<String>,
    /// The mouse position in viewport CSS px, as last moved by a command.
    pub mouse: (f64, f64),
    /// CDP button bits held by `mouse down` (left 1, right 2, middle 4).
    pub buttons: u32,
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
/// A new tab gets every setting that differs from Chromium's default ([`Emulation::apply`]);
/// a command that changes one applies that one to every open tab itself.
#[derive(Debug, Clone, Default)]
pub struct Emulation {
    /// `viewport WxH [--scale N]`: width, height, device scale factor.
    pub viewport: Option<(u32, u32, f64)>,
    /// A device preset's mobile flag (`Emulation.setDeviceMetricsOverride{mobile}`: meta
    /// viewport, overlay scrollbars).
    pub mobile: bool,
    /// Touch events and `maxTouchPoints` (`Emulation.setTouchEmulationEnabled`).
    pub touch: bool,
    /// `useragent <ua>` or a device preset's (`Emulation.setUserAgentOverride`).
    pub user_agent: Option<String>,
    /// Chromium's own user agent, read once when an override first needs it as a base.
    pub default_user_agent: Option<String>,
    /// `header Name:value`, cumulative, in the order set (`Network.setExtraHTTPHeaders`).
    pub extra_headers: Vec<(String, String)>,
    /// `set geo`: latitude, longitude (degrees), accuracy (m).
    pub geolocation: Option<(f64, f64, f64)>,
    /// `set timezone`: an IANA id (`Emulation.setTimezoneOverride`).
    pub timezone: Option<String>,
    /// `set locale`: a BCP 47 tag (`Emulation.setLocaleOverride` and `Accept-Language`).
    pub locale: Option<String>,
    /// `set media`: CSS media features (`prefers-color-scheme`, `prefers-reduced-motion`).
    pub media_features: Vec<(String, String)>,
    /// `set offline on`: every request fails (`Network.emulateNetworkConditions`).
    pub offline: bool,
    /// What the first `set device` replaced, which `set device off` puts back; `None` while
    /// no device preset is on.
    pub before_device: Option<DeviceBaseline>,
}

/// The settings a device preset overrides and `set device off` restores. `mobile` and
/// `touch` are always off outside a preset, so they need no record.
#[derive(Debug, Clone)]
pub struct DeviceBaseline {
    /// The viewport before the preset (width, height in CSS px; device scale factor).
    pub viewport: Option<(u32, u32, f64)>,
    /// The user's own `useragent`, if any (set before the preset or while it was on).
    pub user_agent: Option<String>,
}

impl Emulation {
    /// gstack's defaults: the 1280x720 viewport and nothing else overridden.
    pub fn new() -> Self {
        Self {
            viewport: Some(DEFAULT_VIEWPORT),
            ..Self::default()
        }
    }

    /// Applies these settings to one tab (every tab comes through here when it is adopted):
    /// the viewport always, the rest only where they differ from Chromium's defaults.
    pub fn apply(&self, tab: &Tab) -> anyhow::Result<()> {
        self.apply_metrics(tab)?;
        if self.touch {
            self.apply_touch(tab)?;
        }
        self.apply_to_frame(tab)
    }

    /// Applies the settings an out-of-process iframe's session holds of its own (every
    /// setting but the viewport and touch, which belong to the tab's main frame), where they
    /// differ from Chromium's defaults: user agent, headers, geolocation, time zone, locale,
    /// media features, offline.
    pub fn apply_to_frame(&self, tab: &Tab) -> anyhow::Result<()> {
        self.apply_to_worker(tab)?;
        if self.geolocation.is_some() {
            self.apply_geolocation(tab)?;
        }
        if !self.media_features.is_empty() {
            self.apply_media(tab)?;
        }
        if self.offline {
            self.apply_offline(tab)?;
        }
        Ok(())
    }

    /// Applies what a dedicated worker's session takes of these settings, while it waits
    /// to run, where they differ from Chromium's defaults: the user agent and
    /// `Accept-Language`, extra headers, time zone and locale, as a page has them
    /// (Playwright's `CRNetworkManager.addSession` gives a worker's session the extra
    /// headers). Offline is not sent: a worker's `Network.emulateNetworkConditions` answers
    /// "Not supported" (Chromium 156). A change made while a worker runs is sent to it too
    /// (`commands/emulation.rs`): its later requests carry the new headers and user agent,
    /// while its `navigator.userAgent` keeps the one it started with (Chromium).
    pub fn apply_to_worker(&self, tab: &Tab) -> anyhow::Result<()> {
        if self.user_agent.is_some() || self.locale.is_some() {
            self.apply_user_agent(tab)?;
        }
        if !self.extra_headers.is_empty() {
            self.apply_headers(tab)?;
        }
        if self.timezone.is_some() {
            self.apply_timezone(tab)?;
        }
        if self.locale.is_some() {
            self.apply_locale(tab)?;
        }
        Ok(())
    }

    /// The viewport and the mobile flag (`Emulation.setDeviceMetricsOverride`).
    pub fn apply_metrics(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        if let Some((width, height, scale)) = self.viewport {
            tab.call_method(Cdp::SetDeviceMetricsOverride {
                width,
                height,
                device_scale_factor: scale,
                mobile: self.mobile,
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

    /// Touch on or off (`Emulation.setTouchEmulationEnabled`, 5 touch points as Playwright).
    pub fn apply_touch(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        tab.call_method(Cdp::SetTouchEmulationEnabled {
            enabled: self.touch,
            max_touch_points: self.touch.then_some(5),
        })?;
        Ok(())
    }

    /// What a device preset sets on a tab: metrics, touch and the user agent (`set device`).
    pub fn apply_device(&self, tab: &Tab) -> anyhow::Result<()> {
        self.apply_metrics(tab)?;
        self.apply_touch(tab)?;
        self.apply_user_agent(tab)
    }

    /// The user agent and `Accept-Language` (`Emulation.setUserAgentOverride`); Chromium's own
    /// agent when only the locale is overridden.
    pub fn apply_user_agent(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        let user_agent = self
            .user_agent
            .clone()
            .or_else(|| self.default_user_agent.clone())
            .unwrap_or_default();
        tab.call_method(Cdp::SetUserAgentOverride {
            user_agent,
            accept_language: self.locale.clone(),
            platform: None,
            user_agent_metadata: None,
        })?;
        Ok(())
    }

    /// The extra request headers (`Network.setExtraHTTPHeaders`); none clears them.
    pub fn apply_headers(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Network;
        let headers: serde_json::Map<String, serde_json::Value> = self
            .extra_headers
            .iter()
            .map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone())))
            .collect();
        tab.call_method(Network::SetExtraHTTPHeaders {
            headers: Network::Headers(Some(serde_json::Value::Object(headers))),
        })?;
        Ok(())
    }

    /// The position `navigator.geolocation` reports (`Emulation.setGeolocationOverride`);
    /// none clears it.
    pub fn apply_geolocation(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        let (latitude, longitude, accuracy) = match self.geolocation {
            Some((lat, lon, acc)) => (Some(lat), Some(lon), Some(acc)),
            None => (None, None, None),
        };
        tab.call_method(Cdp::SetGeolocationOverride {
            latitude,
            longitude,
            accuracy,
            altitude: None,
            altitude_accuracy: None,
            heading: None,
            speed: None,
        })?;
        Ok(())
    }

    /// The time zone (`Emulation.setTimezoneOverride`; the empty id restores the host's).
    pub fn apply_timezone(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        tab.call_method(Cdp::SetTimezoneOverride {
            timezone_id: self.timezone.clone().unwrap_or_default(),
        })?;
        Ok(())
    }

    /// The locale of `Intl` and `navigator.language` (`Emulation.setLocaleOverride`).
    pub fn apply_locale(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        tab.call_method(Cdp::SetLocaleOverride {
            locale: self.locale.clone(),
        })?;
        Ok(())
    }

    /// The emulated CSS media features (`Emulation.setEmulatedMedia`); none clears them.
    pub fn apply_media(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Emulation as Cdp;
        tab.call_method(Cdp::SetEmulatedMedia {
            media: None,
            features: Some(
                self.media_features
                    .iter()
                    .map(|(name, value)| Cdp::MediaFeature {
                        name: name.clone(),
                        value: value.clone(),
                    })
                    .collect(),
            ),
        })?;
        Ok(())
    }

    /// Offline or back online (`Network.emulateNetworkConditions`).
    pub fn apply_offline(&self, tab: &Tab) -> anyhow::Result<()> {
        use headless_chrome::protocol::cdp::Network;
        tab.call_method(Network::EmulateNetworkConditions {
            offline: self.offline,
            latency: 0.0,
            download_throughput: -1.0,
            upload_throughput: -1.0,
            connection_Type: None,
            packet_loss: None,
            packet_queue_length: None,
            packet_reordering: None,
        })?;
        Ok(())
    }
}

/// The daemon's browser: Chromium's CDP connection and the tab table.
pub struct Session {
    browser: Option<Browser>,
    tabs: Mutex<Tabs>,
    /// Sticky, daemon-wide dialog policy (accept by default).
    pub(crate) dialog_policy: Arc<Mutex<DialogPolicy>>,
    /// Viewport and other emulation applied to every current and future tab (and its
    /// out-of-process iframes, see `session_setup.rs`).
    pub(crate) emulation: Arc<Mutex<Emulation>>,
    /// Where relative paths and `file://./` resolve: the cwd of the CLI that started us.
    pub cwd: PathBuf,
    /// Ids of the page targets that are, or are being made, tabs. Held while we create a tab
    /// (until its id is in), so a target we create is never mistaken for one a page opened.
    known_targets: Mutex<HashSet<String>>,
    /// A browser we did not launch (`--cdp-url`): its other pages belong to someone else, so
    /// only pages opened by our own tabs are adopted.
    remote: bool,
    /// `route` / `unroute`: mocked and blocked requests, applied to every tab.
    pub(crate) routes: Arc<RouteTable>,
    /// Downloads the pages started (see `downloads.rs`).
    pub(crate) downloads: Arc<Downloads>,
    /// Service and shared workers: auto-attached at the browser level, given the routes
    /// before they run (see `workers.rs`, `session/popups.rs`).
    browser_workers: Arc<Workers>,
    /// Set once the daemon closes its pages to exit ([`Session::close_pages`],
    /// [`Session::close_own_tabs`]): the last tab closing then leaves no tab, instead of a
    /// blank one taking its place (one more page, and renderer, for the exit to close).
    closing_pages: std::sync::atomic::AtomicBool,
}

impl Session {
    /// Wraps a connected browser (or none, in the browser-less test mode) and adopts its
    /// initial tab as tab 1.
    ///
    /// A `remote` browser (one we did not launch, `--cdp-url`) gets a page target of our own
    /// rather than one of the pages already open there, which belong to someone else.
    pub fn new(browser: Option<Browser>, cwd: PathBuf, remote: bool) -> anyhow::Result<Self> {
        let emulation = Arc::new(Mutex::new(Emulation::new()));
        let routes: Arc<RouteTable> = Arc::default();
        let downloads: Arc<Downloads> = Arc::default();
        let browser_workers = Workers::new(Arc::new(SessionSetup {
            emulation: Arc::clone(&emulation),
            routes: Arc::clone(&routes),
            downloads: Arc::clone(&downloads),
        }));
        let session = Session {
            browser,
            tabs: Mutex::new(Tabs {
                next_id: 1,
                active: 0,
                map: BTreeMap::new(),
            }),
            dialog_policy: Arc::new(Mutex::new(DialogPolicy::default())),
            emulation,
            cwd,
            known_targets: Mutex::new(HashSet::new()),
            remote,
            routes,
            downloads,
            browser_workers,
            closing_pages: std::sync::atomic::AtomicBool::new(false),
        };
        if let Some(browser) = &session.browser {
            let tab = if remote {
                browser.new_tab()?
            } else {
                browser.initial_tab()?
            };
            lock(&session.known_targets).insert(tab.get_target_id().clone());
            session.adopt(tab)?;
        }
        Ok(session)
    }

    /// True once the DevTools connection is gone (the browser exited or hung up).
    pub fn browser_disconnected(&self) -> bool {
        self.browser.as_ref().is_some_and(Browser::is_disconnected)
    }

    /// Closes every tab this session opened (`Target.closeTarget`): how a daemon driving a
    /// remote browser leaves it, since the browser itself is not ours to close. Best effort.
    pub fn close_own_tabs(&self) {
        self.closing_pages
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let tabs: Vec<Arc<TabHandle>> = lock(&self.tabs).map.values().cloned().collect();
        for tab in tabs {
            let _ = tab.cdp.close_target();
        }
    }

    /// Starts adopting the pages that pages open as tabs (see `session/popups.rs`).
    pub fn watch_popups(self: &Arc<Self>) -> anyhow::Result<()> {
        popups::watch(self)
    }

    /// Sends the downloads pages start into `dir` (created 0700) and records them. A remote
    /// browser (`--cdp-url`) is left as it is: `dir` is on our filesystem, not its.
    pub fn watch_downloads(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        match &self.browser {
            Some(browser) if !self.remote => self.downloads.watch(browser, dir),
            _ => Ok(()),
        }
    }

    /// How many downloads Chromium is still writing (CDP `Browser.downloadProgress`).
    pub fn downloads_in_progress(&self) -> usize {
        self.downloads.in_progress_count()
    }

    /// Waits until no download is in progress, at most until `deadline` (on shutdown: a
    /// download Chromium is still writing when it closes is canceled and its file removed).
    /// The downloads still in progress at the deadline; empty when every one ended.
    pub fn wait_for_downloads(
        &self,
        deadline: std::time::Instant,
    ) -> Vec<super::downloads::Download> {
        self.downloads.wait_idle(deadline);
        self.downloads.in_progress()
    }

    /// Waits (at most 2 s) until the pages opened so far are tabs: before a command picks
    /// its tab.
    pub(crate) fn settle_popups(&self) {
        popups::settle(self);
    }

    /// Adopts every page Chromium has open that is not a tab yet: for `tabs`, which must list
    /// a page whose discovery event is still on its way.
    pub(crate) fn reconcile_popups(&self) {
        popups::reconcile(self);
    }

    /// Registers a CDP tab under the next stable id, makes it active, and applies the
    /// daemon-wide emulation to it. Every tab, the first included, comes through here.
    pub(crate) fn adopt(&self, cdp: Arc<Tab>) -> anyhow::Result<Arc<TabHandle>> {
        cdp.set_default_timeout(Duration::from_secs(15));
        let setup = Arc::new(SessionSetup {
            emulation: Arc::clone(&self.emulation),
            routes: Arc::clone(&self.routes),
            downloads: Arc::clone(&self.downloads),
        });
        setup.prepare(&cdp, SessionKind::Tab)?;
        // Playwright's rule: every page behaves as the focused, visible one. Without it a tab
        // behind another is `hidden`, and Chromium throttles its timers and animation frames
        // (a click on it took 5.5 s; rAF-based scripts and screenshots timed out).
        cdp.call_method(
            headless_chrome::protocol::cdp::Emulation::SetFocusEmulationEnabled { enabled: true },
        )?;
        // A page target's main frame id is its target id.
        let main_frame = Some(cdp.get_target_id().clone());
        // Before PageEvents enables Runtime: the frames' contexts are reported then.
        let frames = Frames::attach(&cdp, setup);
        let events = PageEvents::attach(&cdp, main_frame, Arc::clone(&self.dialog_policy))?;
        let mut tabs = lock(&self.tabs);
        let id = tabs.next_id;
        tabs.next_id += 1;
        let handle = Arc::new(TabHandle {
            id,
            cdp,
            events,
            frames,
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
        // Held while the target is created and claimed, so that the browser-level watcher
        // (`session/popups.rs`), which Chromium tells of the new page at once, finds it ours
        // and lets it run; released before the tab's set-up, whose calls need the page to run
        // (held longer, the set-up and the watcher waited on each other until a timeout).
        let cdp = {
            let mut known = lock(&self.known_targets);
            let cdp = browser
                .new_tab()
                .map_err(|e| CommandError::failed(format!("cannot open a tab: {e:#}")))?;
            known.insert(cdp.get_target_id().clone());
            cdp
        };
        Ok(self.adopt(cdp)?)
    }

    /// True once the daemon is closing its pages to exit: no tab replaces the last one.
    pub(crate) fn closing_pages(&self) -> bool {
        self.closing_pages.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The id the next tab will get: tabs with this id or a higher one were opened later.
    pub(crate) fn next_tab_id(&self) -> u64 {
        lock(&self.tabs).next_id
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

    /// gstack's `status` answer, from the heartbeat's latest view of Chromium. When Chromium
    /// does not answer, a last line gives the cause (gstack has no such line).
    pub fn status_text(&self) -> String {
        let fault = self.browser_fault();
        let mut text = format!(
            "Status: {}\nMode: {}\nURL: {}\nTabs: {}\nPID: {}",
            if fault.is_none() {
                "healthy"
            } else {
                "unhealthy"
            },
            crate::settings::mode_name(),
            self.active_url(),
            self.tab_count(),
            std::process::id()
        );
        if let Some(cause) = fault {
            text.push_str(&format!("\nCause: {cause}"));
        }
        text
    }

    /// Why Chromium is considered unresponsive (the heartbeat's cause), if it is.
    pub fn browser_fault(&self) -> Option<String> {
        self.browser.as_ref().and_then(Browser::unresponsive)
    }

    /// The active tab's refs as `(ref, role, name)` in ref order, for `GET /refs`. Waits for a
    /// command running on that tab to finish, as any command would.
    pub fn active_refs(&self) -> Vec<(String, String, String)> {
        let Some(tab) = self.active_tab() else {
            return Vec::new();
        };
        let state = lock(&tab.serial);
        // e1, e2, …, e10 in number order; @c refs after the @e ones.
        state
            .refs
            .iter()
            .map(|(key, e)| (format!("@{key}"), e.role.to_string(), e.name.clone()))
            .collect()
    }

    fn active_tab(&self) -> Option<Arc<TabHandle>> {
        let tabs = lock(&self.tabs);
        tabs.map.get(&tabs.active).cloned()
    }

    /// The tab a request targets: its pinned `tabId`, else the active tab. Pinning never
    /// changes the active tab; a pinned tab that does not exist is an error (acting on another
    /// tab instead would report success for the wrong page).
    pub(crate) fn target_tab(&self, pinned: Option<u64>) -> Result<Arc<TabHandle>, CommandError> {
        if self.browser.is_none() {
            return Err(no_browser());
        }
        let tabs = lock(&self.tabs);
        match pinned {
            Some(id) => tabs.map.get(&id).cloned().ok_or_else(|| {
                CommandError::failed_with_hint(
                    format!("Tab {id} not found"),
                    "Run 'browse tabs' for the open tabs' ids.",
                )
            }),
            None => tabs.map.get(&tabs.active).cloned().ok_or_else(|| {
                CommandError::failed_with_hint(
                    "no tab is open",
                    "Open one with 'browse newtab [url]'.",
                )
            }),
        }
    }

    /// Where the request's relative paths resolve: the caller's directory when it sent one
    /// that exists, else the daemon's.
    pub(crate) fn caller_dir(&self, req: &CommandRequest) -> PathBuf {
        req.cwd
            .as_deref()
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute() && dir.is_dir())
            .unwrap_or_else(|| self.cwd.clone())
    }

    /// An untyped browser-level CDP call (no tab), for `cdp` with a browser-scoped method.
    pub(crate) fn browser_call_raw(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, CommandError> {
        let Some(browser) = &self.browser else {
            return Err(no_browser());
        };
        browser
            .call_raw(method, params, Duration::from_secs(30))
            .map_err(|e| CommandError::failed(format!("{e:#}")))
    }

    /// Whether Chromium answers a browser-level call (no page involved) within `timeout`.
    /// Always Ok in the browser-less test mode.
    pub fn probe_browser(&self, timeout: Duration) -> anyhow::Result<()> {
        match &self.browser {
            Some(b) => b.probe(timeout),
            None => Ok(()),
        }
    }

    /// Records the heartbeat's verdict: with a cause, every CDP call waiting or made later
    /// fails at once with it; `None` once the browser answers again.
    pub fn set_browser_unresponsive(&self, cause: Option<String>) {
        if let Some(b) = &self.browser {
            b.set_unresponsive(cause);
        }
    }

    /// Saves the persistent cookies of `profile` to `file` before a graceful exit (see
    /// `cookie_carry.rs`); how many. Errors name the CDP call or the file. (The daemon reaches
    /// Chromium only through the session, as `probe_browser` and `close_browser` do: the
    /// DevTools connection stays the session's.)
    pub fn save_cookies(
        &self,
        profile: &std::path::Path,
        file: &std::path::Path,
        timeout: Duration,
    ) -> anyhow::Result<usize> {
        super::cookie_carry::save(self.launched_browser()?, profile, file, timeout)
    }

    /// Takes the cookies a graceful exit saved for `profile` from `file` (removing it) and
    /// sets those the profile lacks (see `cookie_carry.rs`); how many.
    pub fn restore_cookies(
        &self,
        profile: &std::path::Path,
        file: &std::path::Path,
        timeout: Duration,
    ) -> anyhow::Result<usize> {
        super::cookie_carry::restore(self.launched_browser()?, profile, file, timeout)
    }

    /// The browser's DevTools connection, for the daemon's own calls; an error in a daemon
    /// without one (`BROWSE_TEST_NO_BROWSER=1`).
    fn launched_browser(&self) -> anyhow::Result<&crate::cdp::Browser> {
        anyhow::Context::context(self.browser.as_ref(), "no browser in this daemon")
    }

    /// Closes every page Chromium has open (CDP `Target.getTargets`, then
    /// `Target.closeTarget` for each), each call given what is left until `deadline`, so that
    /// their renderers exit and drop their Web Storage connections before the browser closes
    /// (see `daemon/server.rs::commit_web_storage`); how many were asked to close.
    pub fn close_pages(&self, deadline: std::time::Instant) -> usize {
        let Some(browser) = &self.browser else {
            return 0;
        };
        self.closing_pages
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let left = || deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(targets) = browser.call_raw("Target.getTargets", serde_json::json!({}), left())
        else {
            return 0;
        };
        let pages: Vec<String> = targets
            .get("targetInfos")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter(|info| crate::cdp::is_tab_page(info))
            .filter_map(|info| info.get("targetId")?.as_str().map(str::to_owned))
            .collect();
        pages
            .iter()
            .filter(|id| {
                browser
                    .call_raw(
                        "Target.closeTarget",
                        serde_json::json!({ "targetId": id }),
                        left(),
                    )
                    .is_ok()
            })
            .count()
    }

    /// Waits, at most `timeout`, until the localStorage commits Chromium has started are on
    /// disk (see `cdp::Browser::wait_for_storage_commits`). Errors name the CDP call.
    pub fn wait_for_storage_commits(&self, timeout: Duration) -> anyhow::Result<()> {
        self.launched_browser()?.wait_for_storage_commits(timeout)
    }

    /// Asks Chromium to close gracefully (CDP `Browser.close`), so that it writes cookies and
    /// storage to the profile. False when there is no browser or it did not take the request.
    pub fn close_browser(&self, timeout: Duration) -> bool {
        self.browser
            .as_ref()
            .is_some_and(|b| b.close(timeout).is_ok())
    }
}

fn no_browser() -> CommandError {
    CommandError::failed(
        "no browser in this daemon (BROWSE_TEST_NO_BROWSER=1 is a launcher test mode)",
    )
}
