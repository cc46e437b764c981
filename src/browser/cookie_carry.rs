//! Persistent cookies carried over a graceful exit, so that none is lost to Chromium's own
//! cookie store.
//!
//! Chromium writes cookies to its profile's SQLite store in batches (about every 30 s) and
//! once more at shutdown; in one of ~142 stress exits (SIGTERM, a loaded machine, Chromium
//! closed gracefully by `Browser.close`) a cookie set just before was missing at the next
//! start while everything else the page wrote survived. So each graceful exit first saves
//! the persistent cookies (`Storage.getCookies`, those with `session: false` that have not
//! expired) to `browse-cookies.json` in the state dir (0600, temp file + atomic rename), with
//! the profile folder they belong to. The next daemon with that same profile reads the file
//! and removes it at once, before it restores anything (so a later crash cannot bring back
//! cookies deleted since), and sets only the saved cookies its profile does not have
//! (`Storage.setCookies`; same name, domain, path and partition): whatever the profile kept
//! wins. Session cookies are never saved; a cookie the page deleted before the exit is not in
//! the file; a throw-away `--ephemeral` profile is never carried.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use crate::cdp::Browser;

/// The file's name in the state dir.
pub const FILE_NAME: &str = "browse-cookies.json";

/// A saved file larger than this (bytes) is not read (Chromium keeps at most ~3,300 cookies
/// of at most 4 KB each).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Saves the browser's persistent cookies for `profile` to `file`; how many were saved.
/// Errors name the CDP call or the file that failed.
pub fn save(
    browser: &Browser,
    profile: &Path,
    file: &Path,
    timeout: Duration,
) -> anyhow::Result<usize> {
    let answer = browser.call_raw("Storage.getCookies", json!({}), timeout)?;
    let now = unix_seconds();
    let persistent: Vec<Value> = answer
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| persistent_and_unexpired(c, now))
        .cloned()
        .collect();
    let saved = json!({ "profile": profile.display().to_string(), "cookies": persistent });
    crate::atomic_file::write_atomic(file, saved.to_string().as_bytes(), 0o600)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    Ok(persistent.len())
}

/// Reads and removes `file`, then sets in the browser the saved cookies of `profile` that it
/// lacks; how many were set. No file is no error (0).
pub fn restore(
    browser: &Browser,
    profile: &Path,
    file: &Path,
    timeout: Duration,
) -> anyhow::Result<usize> {
    let Some(text) =
        take(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
    else {
        return Ok(0);
    };
    let saved: Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!("{} is not what browse wrote ({e}); ignored", file.display())
    })?;
    if saved.get("profile").and_then(Value::as_str) != Some(&profile.display().to_string()) {
        // Saved from another profile: not this one's to receive.
        return Ok(0);
    }
    let now = unix_seconds();
    let current = browser.call_raw("Storage.getCookies", json!({}), timeout)?;
    let have: Vec<String> = current
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(identity)
        .collect();
    let missing: Vec<Value> = saved
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| persistent_and_unexpired(c, now))
        .filter(|c| !have.contains(&identity(c)))
        .map(as_param)
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let n = missing.len();
    browser.call_raw("Storage.setCookies", json!({ "cookies": missing }), timeout)?;
    Ok(n)
}

/// What makes a cookie the same cookie (RFC 6265 §5.3 step 11, and its partition).
fn identity(cookie: &Value) -> String {
    let field = |k: &str| cookie.get(k).map(Value::to_string).unwrap_or_default();
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        field("name"),
        field("domain"),
        field("path"),
        field("partitionKey")
    )
}

/// A `Network.Cookie` from `Storage.getCookies` as the `Network.CookieParam` that sets it
/// again (the fields both share; `size`, `session` and the opaque flag are not settable).
fn as_param(cookie: &Value) -> Value {
    let mut param = serde_json::Map::new();
    for key in [
        "name",
        "value",
        "domain",
        "path",
        "expires",
        "httpOnly",
        "secure",
        "sameSite",
        "priority",
        "sourceScheme",
        "sourcePort",
        "partitionKey",
    ] {
        if let Some(v) = cookie.get(key) {
            param.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(param)
}

/// Now, in seconds since the Unix epoch (CDP's cookie `expires`).
fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Whether the `Storage.getCookies`-shaped `cookie` outlives the browser (`session: false`)
/// and has not expired at `now` (seconds since the Unix epoch).
fn persistent_and_unexpired(cookie: &Value, now: f64) -> bool {
    cookie.get("session").and_then(Value::as_bool) == Some(false)
        && cookie
            .get("expires")
            .and_then(Value::as_f64)
            .is_some_and(|e| e > now)
}

/// The file's text, removed first (a link is not followed); `None` when there is none.
fn take(file: &Path) -> io::Result<Option<String>> {
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(file);
    let mut handle = match opened {
        Ok(h) => h,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            // A link or something else that is not ours: removed, never read.
            let _ = fs::remove_file(file);
            return Err(e);
        }
    };
    fs::remove_file(file)?;
    let mut text = String::new();
    handle
        .by_ref()
        .take(MAX_FILE_BYTES)
        .read_to_string(&mut text)?;
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_the_same_by_name_domain_path_and_partition() {
        let a = json!({"name": "k", "domain": "a.test", "path": "/", "value": "1"});
        let b = json!({"name": "k", "domain": "a.test", "path": "/", "value": "2"});
        let c = json!({"name": "k", "domain": "a.test", "path": "/x", "value": "1"});
        assert_eq!(identity(&a), identity(&b));
        assert_ne!(identity(&a), identity(&c));
        let param = as_param(&json!({"name": "k", "value": "v", "size": 2, "session": false}));
        assert_eq!(param, json!({"name": "k", "value": "v"}));
    }
}
