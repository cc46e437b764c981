//! The browser the daemon drives, and the dispatch of browser commands to their handlers.
//!
//! Commands run on blocking threads. Commands for one tab are serialised by that tab's lock;
//! commands for different tabs run in parallel. Nothing here knows about lock files, records
//! or HTTP: a command is a name and words in, text or a [`CommandError`] out.
//!
//! Layers: this file (dispatch: name → handler, tab choice, watchdog) → `commands/` (one file
//! per help group) → `page` (Ctx, CommandError, evaluate), `session` (tabs) and the machinery
//! (selector and its css_syntax check, frames, events, capture buffers, refs, watchdog, keys,
//! envelope, confine, url_policy)
//! → `crate::cdp`. Handlers never import this file.

mod bodies;
pub mod capture;
mod commands;
mod confine;
pub mod cookie_carry;
mod css_syntax;
mod downloads;
pub mod envelope;
pub mod events;
pub mod frames;
mod har;
mod keys;
pub mod notes;
mod page;
pub mod refs;
mod routes;
mod selector;
mod session;
mod session_setup;
pub mod url_policy;
mod watchdog;
mod workers;

use std::path::PathBuf;
use std::sync::Arc;

use crate::catalogue;
use crate::wire::CommandRequest;
use commands::{capture as capture_commands, chain, inspection, interaction, navigation, reading};
use commands::{emulation, input, network, saved_state, screenshot, snapshot, state, tabs};
use events::lock;
pub use page::{CommandError, CommandResult, Ctx};
pub use session::Session;
use session::{TabHandle, TabState};

/// How long a command failing with `net::ERR_ABORTED` (a navigation Chromium gave up on,
/// as it does when the answer is a download) waits for that download's record.
const ABORTED_DOWNLOAD_WAIT: std::time::Duration = std::time::Duration::from_millis(2000);

impl Session {
    /// A failed command's error, with a hint naming the downloads it set off: `goto` to a
    /// file served as an attachment fails with Playwright's `net::ERR_ABORTED` while the file
    /// downloads, and the user must learn where it went, not only that the navigation failed.
    fn name_downloads_in_error(
        &self,
        error: CommandError,
        seq: u64,
        began: std::time::Instant,
    ) -> CommandError {
        let aborted = error.body.error.contains("net::ERR_ABORTED");
        let begun = if aborted {
            self.downloads
                .wait_begun_since(seq, began, began + ABORTED_DOWNLOAD_WAIT)
        } else {
            self.downloads.begun_since(seq, began)
        };
        if begun.is_empty() {
            // Chromium also aborts a navigation whose answer is a file when downloads are
            // denied (`.gstack/downloads` unusable): then nothing is recorded, so say why.
            return match self.downloads.off().filter(|_| aborted) {
                Some(off) => error.add_hint(&format!(
                    "If the URL is a file, it was not saved: {off} (then 'browse restart')."
                )),
                None => error,
            };
        }
        let named = network::download_lines(&begun).replace('\n', "; ");
        error.add_hint(&format!(
            "It set off a download: {named} ('browse downloads --wait' waits for it to end; \
             'browse download <url> [path]' fetches a file without navigating)."
        ))
    }

    /// Leaves a note naming the tabs opened while a command ran (`target=_blank`,
    /// `window.open`): the newest became the active tab (gstack's rule), so the commands after
    /// it act there, while the command's own line names the page it ran on. Without the note a
    /// `click` that opened a popup looked like any other, and the next `snapshot` or `click`
    /// acted on a page the user never chose.
    fn name_opened_tabs(&self, command: &str, first_new: u64, was_active: u64) {
        // A page opened by the command's last input is a tab once its target events are in.
        self.settle_popups();
        let (active, tabs) = self.tab_list();
        let opened: Vec<String> = tabs
            .iter()
            .filter(|t| t.id >= first_new)
            .map(|t| {
                let url = t.events.url();
                if url.is_empty() || url == "about:blank" {
                    format!("[{}]", t.id)
                } else {
                    format!("[{}] {url}", t.id)
                }
            })
            .collect();
        if opened.is_empty() {
            return;
        }
        let back = if was_active != active && tabs.iter().any(|t| t.id == was_active) {
            format!(" ('browse tab {was_active}' goes back)")
        } else {
            String::new()
        };
        // "A page": usually the one the command acted on, but a timer of any page may have
        // fired meanwhile.
        notes::say(format!(
            "a page opened {} while {command} ran: {}; tab {active} is now the active tab, \
             where later commands act{back}",
            if opened.len() == 1 { "a tab" } else { "tabs" },
            opened.join(", ")
        ));
    }

    /// Runs one browser command; page content is enveloped here, centrally, when asked for.
    pub fn execute(&self, req: &CommandRequest) -> CommandResult {
        // Pages opened before this command are tabs before it starts, so that only those it
        // opened are named after it.
        self.settle_popups();
        let first_new_tab = self.next_tab_id();
        let was_active = self.tab_list().0;
        let downloads_before = self.downloads.next_seq();
        let began = std::time::Instant::now();
        // `chain` and `tab-each` run commands that say it themselves.
        let names_its_own = matches!(
            req.command.as_str(),
            "downloads" | "download" | "chain" | "tab-each"
        );
        let result = self.dispatch(req).map_err(|e| {
            if names_its_own {
                e
            } else {
                self.name_downloads_in_error(e, downloads_before, began)
            }
        })?;
        // Those that open or list tabs say so themselves; `chain` and `tab-each` steps too.
        let canonical = catalogue::lookup(&req.command).map_or(req.command.as_str(), |c| c.name);
        let opens_tabs_itself = matches!(
            canonical,
            "newtab" | "tabs" | "tab" | "closetab" | "state" | "chain" | "tab-each"
        );
        if !opens_tabs_itself {
            self.name_opened_tabs(&req.command, first_new_tab, was_active);
        }
        if !names_its_own {
            // A download the command set off is said, never lost silently; in a note (stderr),
            // since the answer is gstack's: `js`'s value or `click`'s line, which scripts and
            // `--json` read, must not grow lines depending on when a download began.
            for download in self.downloads.begun_since(downloads_before, began) {
                let running = matches!(
                    download.state,
                    downloads::DownloadState::InProgress | downloads::DownloadState::Starting
                );
                notes::say(format!(
                    "a download began while {} ran: {}{}",
                    req.command,
                    network::download_lines(std::slice::from_ref(&download)),
                    if running {
                        " ('browse downloads --wait' waits for the end)"
                    } else {
                        ""
                    }
                ));
            }
        }
        if !envelope::enabled(req.envelope) {
            return Ok(result);
        }
        let Some(info) = catalogue::lookup(&req.command) else {
            return Ok(result);
        };
        if info.name == "diff" {
            // gstack names both pages as the source (`diff: <url1> vs <url2>`).
            let source = format!(
                "diff: {} vs {}",
                req.args.first().map_or("", String::as_str),
                req.args.get(1).map_or("", String::as_str)
            );
            return Ok(envelope::wrap(&result, &source));
        }
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
            "status" | "stop" | "restart" | "list" | "logs" | "doctor" | "version"
            | "completions" | "skill" => {
                return Err(CommandError::failed(format!(
                    "'{}' is handled by the daemon, not the browser",
                    info.name
                )))
            }
            _ => {}
        }
        // A page this session's last command opened is a tab before this command picks one.
        self.settle_popups();
        // Commands that manage tabs or run other commands take the tab locks themselves.
        match info.name {
            "tabs" => return tabs::list(self),
            "tab" => return tabs::switch(self, args),
            "newtab" => return tabs::open(self, args, &self.caller_dir(req)),
            "closetab" => return tabs::close(self, args),
            "chain" => return chain::run(self, req),
            "console" => return capture_commands::console(self, args),
            "network" => return capture_commands::network(self, args, &self.caller_dir(req)),
            "dialog" => return capture_commands::dialog(self, args),
            "dialog-accept" => return interaction::dialog_accept(self, args),
            "dialog-dismiss" => return interaction::dialog_dismiss(self, args),
            "tab-each" => return tabs::each(self, req),
            "route" => return network::route(self, args, &self.caller_dir(req)),
            "unroute" => return network::unroute(self, args),
            "routes" => return network::routes(self, args),
            "downloads" => return network::downloads(self, args),
            "state" => return saved_state::state(self, args, &self.caller_dir(req)),
            _ => {}
        }
        let tab = self.target_tab(req.tab_id)?;
        let mut state = lock(&tab.serial);
        // Inside an out-of-process iframe the scripts run in that frame's renderer: watch it.
        let watched = frames::watched_session(&tab, &state);
        let watch = watchdog::HangWatch::arm(watched, crate::settings::hang_check());
        let cwd = self.caller_dir(req);
        let result = self
            .run_on_tab(info.name, &tab, &mut state, args, cwd)
            .map_err(|e| with_playwright_api(info.name, args, e));
        if watch.fired() {
            if result.is_ok() {
                // The command did its part (a click whose listener then never returned).
                notes::say(format!(
                    "the page's JavaScript was stuck (an endless loop?) while {} ran, and was \
                     stopped: the page may be half-updated",
                    info.name
                ));
            }
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
        cwd: PathBuf,
    ) -> CommandResult {
        frames::settle_active_frame(tab, state);
        frames::refuse_in_frame(name, state)?;
        let ctx = &mut Ctx {
            session: self,
            tab,
            state,
            cwd,
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
            "dblclick" => input::dblclick(ctx, args),
            "check" => input::check(ctx, args),
            "uncheck" => input::uncheck(ctx, args),
            "focus" => input::focus(ctx, args),
            "clear" => input::clear(ctx, args),
            "keydown" => input::keydown(ctx, args),
            "keyup" => input::keyup(ctx, args),
            "drag" => input::drag(ctx, args),
            "mouse" => input::mouse(ctx, args),
            "header" => emulation::header(ctx, args),
            "useragent" => emulation::useragent(ctx, args),
            "set" => emulation::set(ctx, args),
            "cookie-import" => state::cookie_import(ctx, args),
            "cookie-delete" => state::cookie_delete(ctx, args),
            "screenshot" => screenshot::screenshot(ctx, args),
            "pdf" => screenshot::pdf(ctx, args),
            "frame" => tabs::frame(ctx, args),
            "download" => network::download(ctx, args),
            "load-html" => navigation::load_html(ctx, args),
            "diff" => navigation::diff(ctx, args),
            "data" => reading::data(ctx, args),
            "media" => reading::media(ctx, args),
            "perf" => inspection::perf(ctx, args),
            "cdp" => inspection::cdp(ctx, args),
            "responsive" => screenshot::responsive(ctx, args),
            "archive" => screenshot::archive(ctx, args),
            "accessibility" => snapshot::accessibility(ctx, args),
            other => Err(CommandError::unknown_command(other)),
        }
    }
}

/// A selector that cannot parse is refused by Playwright with the name of the API that was
/// called (`click: Unexpected token …`), which gstack prints; the same prefix here. `attrs`
/// and `css` call no Playwright API in gstack and keep the bare message.
fn with_playwright_api(command: &str, args: &[String], mut error: CommandError) -> CommandError {
    if !error.body.error.ends_with(css_syntax::SYNTAX_ERROR_TAIL) {
        return error;
    }
    let api = match command {
        "click" | "fill" | "hover" | "screenshot" => command,
        "select" => "selectOption",
        "html" => "innerHTML",
        "wait" => "waitFor",
        "scroll" => "scrollIntoViewIfNeeded",
        "upload" => "setInputFiles",
        "is" => match args.first().map(String::as_str) {
            Some("visible") => "isVisible",
            Some("hidden") => "isHidden",
            Some("enabled") => "isEnabled",
            Some("disabled") => "isDisabled",
            Some("checked") => "isChecked",
            Some("editable") => "isEditable",
            _ => "evaluate",
        },
        _ => return error,
    };
    error.body.error = format!("{api}: {}", error.body.error);
    error
}
