//! `state save|load <name>` (gstack's, `meta-commands.ts`): the browser's cookies, the open
//! tabs' URLs and (beyond gstack) each origin's `localStorage`, in
//! `<state dir>/browse-states/<name>.json`.
//!
//! The file is gstack's version 1 (`{version, savedAt, cookies, pages}`, which gstack loads)
//! plus Playwright's `storageState` `origins` list (`[{origin, localStorage: [{name,
//! value}]}]`), which gstack ignores. It holds live credentials: the folder is 0700 and the
//! file 0600, written by the atomic writer, and neither is ever reached through a symlink.
//! A loaded file is untrusted input: size-capped, read without following a link, every URL
//! through `goto`'s policy, malformed cookies dropped.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use headless_chrome::protocol::cdp::{Network, Page};
use serde_json::{json, Value};

use super::{navigation, state};
use crate::browser::events::lock;
use crate::browser::page::{evaluate, CommandError, CommandResult};
use crate::browser::session::{Session, TabHandle};
use crate::browser::url_policy;

/// The folder under the state dir (gstack's name).
const STATES_DIR: &str = "browse-states";

/// The largest state file `state load` reads (bytes).
const MAX_STATE_FILE: u64 = 64 * 1024 * 1024;

/// gstack's usage line for this command (it has no `browse` in it).
const USAGE: &str = "Usage: state save|load <name>";

/// `state save <name>` / `state load <name>`; runs outside any tab lock because `load`
/// replaces the tabs.
pub fn state(session: &Session, args: &[String], cwd: &Path) -> CommandResult {
    let (Some(action), Some(name)) = (args.first(), args.get(1)) else {
        return Err(CommandError::failed(USAGE));
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(CommandError::failed(
            "State name must be alphanumeric (a-z, 0-9, _, -)",
        ));
    }
    match action.as_str() {
        "save" => save(session, &states_dir()?.join(format!("{name}.json"))),
        "load" => load(session, &states_dir()?.join(format!("{name}.json")), cwd),
        _ => Err(CommandError::failed(USAGE)),
    }
}

/// `<state dir>/browse-states`, made 0700 if missing; a symlink there is refused. The state
/// dir is where the launcher put this daemon's record (`BROWSE_STATE_FILE`).
fn states_dir() -> Result<PathBuf, CommandError> {
    let record = std::env::var_os("BROWSE_STATE_FILE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| CommandError::failed("state: this daemon has no state directory"))?;
    let dir = record
        .parent()
        .ok_or_else(|| CommandError::failed("state: this daemon has no state directory"))?
        .join(STATES_DIR);
    let refuse = || {
        CommandError::failed(format!(
            "Refusing to use {}: it is not a real directory (a symlink or a file). Remove it.",
            dir.display()
        ))
    };
    match fs::symlink_metadata(&dir) {
        Ok(meta) if !meta.is_dir() => return Err(refuse()),
        Ok(_) => {}
        Err(_) => match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(CommandError::failed(format!(
                    "Cannot create {}: {e}",
                    dir.display()
                )))
            }
        },
    }
    // mkdir never follows a link, but one may have appeared since the first look.
    let meta = fs::symlink_metadata(&dir).map_err(|_| refuse())?;
    if !meta.is_dir() {
        return Err(refuse());
    }
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
            CommandError::failed(format!("Cannot make {} private: {e}", dir.display()))
        })?;
    }
    Ok(dir)
}

/// `State saved: <path> (<n> cookies, <m> pages)` and gstack's plaintext warning.
fn save(session: &Session, path: &Path) -> CommandResult {
    let (active, tabs) = session.tab_list();
    let first = tabs.first().ok_or_else(|| {
        CommandError::failed_with_hint("no tab is open", "Open one with 'browse newtab [url]'.")
    })?;
    let cookies = first
        .cdp
        .call_method(Network::GetAllCookies(None))
        .map_err(|e| CommandError::failed(format!("{e:#}")))?
        .cookies;
    let pages: Vec<Value> = tabs
        .iter()
        .map(|tab| {
            let url = tab.events.url();
            json!({
                "url": if url == "about:blank" { String::new() } else { url },
                "isActive": tab.id == active,
            })
        })
        .collect();
    let origins = local_storage_by_origin(&tabs);
    let data = json!({
        "version": 1,
        "savedAt": crate::clock::iso8601_now(),
        "cookies": cookies.iter().map(cookie_json).collect::<Vec<_>>(),
        "pages": pages,
        "origins": origins,
    });
    let text =
        serde_json::to_string_pretty(&data).map_err(|e| CommandError::failed(e.to_string()))?;
    crate::atomic_file::write_atomic(path, text.as_bytes(), 0o600)
        .map_err(|e| CommandError::failed(format!("Cannot write {}: {e}", path.display())))?;
    Ok(format!(
        "State saved: {} ({} cookies, {} pages)\n⚠️  Cookies stored in plaintext. Delete when no longer needed.",
        path.display(),
        cookies.len(),
        pages.len()
    ))
}

/// A cookie as Playwright's `context.cookies()` writes it (the shape gstack saves).
fn cookie_json(c: &Network::Cookie) -> Value {
    json!({
        "name": c.name,
        "value": c.value,
        "domain": c.domain,
        "path": c.path,
        "expires": if c.session { -1.0 } else { c.expires },
        "httpOnly": c.http_only,
        "secure": c.secure,
        "sameSite": match c.same_site {
            Some(Network::CookieSameSite::Strict) => "Strict",
            Some(Network::CookieSameSite::None) => "None",
            _ => "Lax",
        },
    })
}

/// `[{origin, localStorage: [{name, value}]}]` for each http(s) origin a tab shows, once.
fn local_storage_by_origin(tabs: &[Arc<TabHandle>]) -> Vec<Value> {
    let mut origins: Vec<Value> = Vec::new();
    for tab in tabs {
        let Ok(found) = evaluate(
            &tab.cdp,
            "location.protocol.startsWith('http') ? { origin: location.origin, localStorage: Object.entries(localStorage).map(([name, value]) => ({ name, value })) } : null",
            false,
        ) else {
            continue;
        };
        let Some(origin) = found.get("origin").and_then(Value::as_str) else {
            continue;
        };
        if !origins.iter().any(|o| o["origin"] == origin) {
            origins.push(found);
        }
    }
    origins
}

/// `State loaded: <n> cookies, <m> pages`: cookies added (merged, as gstack), the saved tabs
/// opened with each origin's localStorage in place before their pages run (an origin no
/// saved tab shows is not restored), then the old tabs closed (replaced, as gstack). The
/// counts are what was done (gstack prints the file's counts): a line follows for each page
/// skipped or not loaded, and one for the cookies skipped.
fn load(session: &Session, path: &Path, cwd: &Path) -> CommandResult {
    let data = read_state_file(path)?;
    let (Some(cookies), Some(pages)) = (
        data.get("cookies").and_then(Value::as_array),
        data.get("pages").and_then(Value::as_array),
    ) else {
        return Err(CommandError::failed(
            "Invalid state file: expected cookies and pages arrays",
        ));
    };
    let params: Vec<Network::CookieParam> = cookies.iter().filter_map(saved_cookie).collect();
    let cookies_set = params.len();
    let mut notes = Vec::new();
    if cookies_set < cookies.len() {
        notes.push(format!(
            "Skipped {} of {} cookies (malformed, or for a metadata or .internal host)",
            cookies.len() - cookies_set,
            cookies.len()
        ));
    }
    let (_, old_tabs) = session.tab_list();
    let first = old_tabs.first().ok_or_else(|| {
        CommandError::failed_with_hint("no tab is open", "Open one with 'browse newtab [url]'.")
    })?;
    if !params.is_empty() {
        first
            .cdp
            .call_method(Network::SetCookies { cookies: params })
            .map_err(|e| {
                CommandError::failed(format!("Chromium refused the saved cookies: {e:#}"))
            })?;
    }
    let storage = local_storage_script(data.get("origins"));

    let mut opened = Vec::new();
    let mut loaded = 0;
    let mut active = None;
    for page in pages {
        let url = page.get("url").and_then(Value::as_str).unwrap_or_default();
        // A URL goto would refuse is skipped, as gstack does (the file may be tampered with).
        let target = if url.is_empty() {
            None
        } else {
            match url_policy::validate(url, cwd) {
                Ok(target) => Some(target),
                Err(e) => {
                    let reason = e.body.error.lines().next().unwrap_or_default().to_owned();
                    tracing::warn!("state load: skipping {url}: {reason}");
                    notes.push(format!("Skipped page {url}: {reason}"));
                    continue;
                }
            }
        };
        let tab = session.open_tab()?;
        // A page saved without a URL is restored as the blank tab it was.
        if target.is_none() {
            loaded += 1;
        }
        if let Some(target) = &target {
            let _serial = lock(&tab.serial);
            // A page that fails to load still gets its tab, as in gstack.
            match navigate_restoring(&tab, target, storage.as_deref()) {
                Ok(_) => loaded += 1,
                Err(e) => {
                    let reason = e.body.error.lines().next().unwrap_or_default().to_owned();
                    tracing::warn!("state load: {target}: {reason}");
                    notes.push(format!(
                        "Page not loaded (its tab is open): {target}: {reason}"
                    ));
                }
            }
        }
        if page.get("isActive") == Some(&Value::Bool(true)) {
            active = Some(tab.id);
        }
        opened.push(tab.id);
    }
    if opened.is_empty() {
        opened.push(session.open_tab()?.id);
    }
    for tab in &old_tabs {
        if let Some(tab) = session.forget_tab(tab.id) {
            let _serial = lock(&tab.serial);
            if let Err(e) = tab.cdp.close_target() {
                tracing::warn!("state load: closing tab {}: {e:#}", tab.id);
            }
        }
    }
    let active = active.or(opened.last().copied()).unwrap_or_default();
    session.activate_tab(active);
    let mut text = format!("State loaded: {cookies_set} cookies, {loaded} pages");
    for note in notes {
        text.push('\n');
        text.push_str(&note);
    }
    Ok(text)
}

/// What to do when the state `missing` (a file in `browse-states/`) does not exist: the names
/// saved there, or how to save one.
fn saved_states_hint(missing: &Path) -> String {
    let mut names: Vec<String> = missing
        .parent()
        .and_then(|dir| fs::read_dir(dir).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            Some(name.strip_suffix(".json")?.to_owned())
        })
        .filter(|name| !name.is_empty() && !name.starts_with('.'))
        .collect();
    names.sort();
    if names.is_empty() {
        "No state is saved in this workspace yet: 'browse state save <name>' saves the \
         browser's cookies, the open tabs and their localStorage."
            .to_owned()
    } else {
        format!(
            "Saved states: {}. Load one with 'browse state load <name>', or save this one \
             first with 'browse state save <name>'.",
            names.join(", ")
        )
    }
}

/// The state file as JSON: a regular file (never through a symlink), at most
/// [`MAX_STATE_FILE`] bytes.
fn read_state_file(path: &Path) -> Result<Value, CommandError> {
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CommandError::failed_with_hint(
                format!("State not found: {}", path.display()),
                saved_states_hint(path),
            ),
            _ => CommandError::failed(format!(
                "Cannot read {} (a symlink is never followed): {e}",
                path.display()
            )),
        })?;
    let meta = file
        .metadata()
        .map_err(|e| CommandError::failed(format!("Cannot read {}: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > MAX_STATE_FILE {
        return Err(CommandError::failed(format!(
            "Invalid state file {}: not a regular file of at most {MAX_STATE_FILE} bytes",
            path.display()
        )));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| CommandError::failed(format!("Cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| CommandError::failed(format!("Invalid state file {}: {e}", path.display())))
}

/// One saved cookie, or `None` when it is malformed or names an internal network domain
/// (gstack's `filterSessionCookies`, except loopback: `goto` allows local servers, so their
/// sessions are restored too).
fn saved_cookie(item: &Value) -> Option<Network::CookieParam> {
    let domain = item.get("domain")?.as_str().filter(|d| !d.is_empty())?;
    let bare = domain.strip_prefix('.').unwrap_or(domain);
    if bare.ends_with(".internal") || bare.starts_with("169.254.") {
        return None;
    }
    let mut cookie = item.clone();
    // Checked like a cookie-import entry, against its own domain.
    if let Some(map) = cookie.as_object_mut() {
        map.remove("partitionKey");
    }
    state::cookie_param(&cookie, bare).ok()
}

/// A script that, run first in a new document, gives its origin the saved `localStorage`
/// items: how a restored tab's page finds its storage already there when its own scripts
/// run (Chromium sets storage only through a frame of that origin). `None` when nothing was
/// saved.
fn local_storage_script(origins: Option<&Value>) -> Option<String> {
    let mut by_origin = serde_json::Map::new();
    for entry in origins.and_then(Value::as_array).into_iter().flatten() {
        let Some(origin) = entry.get("origin").and_then(Value::as_str) else {
            continue;
        };
        if !(origin.starts_with("http://") || origin.starts_with("https://")) {
            continue;
        }
        let items: Vec<Value> = entry
            .get("localStorage")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let name = item.get("name")?.as_str()?;
                let value = item.get("value")?.as_str()?;
                Some(json!([name, value]))
            })
            .collect();
        if !items.is_empty() {
            by_origin.insert(origin.to_owned(), Value::Array(items));
        }
    }
    if by_origin.is_empty() {
        return None;
    }
    Some(format!(
        "(() => {{ const items = ({})[location.origin]; if (!items) return; \
         try {{ for (const [k, v] of items) localStorage.setItem(k, v); }} catch (e) {{}} }})()",
        Value::Object(by_origin)
    ))
}

/// Navigates a restored tab, with `storage` (see [`local_storage_script`]) run first in the
/// new document and removed again after, so later reloads do not undo what the page changed.
fn navigate_restoring(
    tab: &TabHandle,
    target: &str,
    storage: Option<&str>,
) -> Result<(), CommandError> {
    let script = match storage {
        Some(source) => Some(
            tab.cdp
                .call_method(Page::AddScriptToEvaluateOnNewDocument {
                    source: source.to_owned(),
                    world_name: None,
                    include_command_line_api: None,
                    run_immediately: None,
                })
                .map_err(|e| CommandError::failed(format!("Cannot restore localStorage: {e:#}")))?
                .identifier,
        ),
        None => None,
    };
    let result = navigation::navigate(tab, target).map(drop);
    if let Some(identifier) = script {
        let _ = tab
            .cdp
            .call_method(Page::RemoveScriptToEvaluateOnNewDocument { identifier });
    }
    result
}
