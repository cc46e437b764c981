//! Timers and switches read from the environment, in one place so tests can shorten every
//! timer and the README can list them. Durations are milliseconds, as in gstack.

use std::time::Duration;

/// `BROWSE_CDP_URL` (the CLI's `--cdp-url` sets it for the daemon it starts): drive the
/// browser already running there instead of launching one. `http(s)://host:port` (its
/// `/json/version` names the WebSocket) or `ws://…/devtools/browser/…`, with whatever query
/// string (a farm's token) it needs.
pub fn cdp_url() -> Option<String> {
    std::env::var("BROWSE_CDP_URL")
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The profile the daemon's Chromium uses, as the record names it: `BROWSE_EPHEMERAL=1` (the
/// CLI's `--ephemeral`) gives `ephemeral`, a throw-away profile removed at exit;
/// `BROWSE_PROFILE=DIR` (the CLI's `--profile DIR`, made absolute against the CLI's current
/// directory) a persistent profile of the user's; neither (`None`) the workspace's own.
pub fn profile() -> Option<String> {
    if std::env::var("BROWSE_EPHEMERAL").is_ok_and(|v| v.trim() == "1") {
        return Some(crate::launcher::profile::EPHEMERAL.to_owned());
    }
    let dir = std::env::var("BROWSE_PROFILE").ok()?;
    crate::launcher::profile::absolute(&dir)
        .ok()
        .map(|p| p.display().to_string())
}

/// `url` with its query string and userinfo hidden, for messages and logs (a farm's token
/// lives there).
pub fn redact_url(url: &str) -> String {
    let (without_query, had_query) = match url.split_once('?') {
        Some((base, _)) => (base, true),
        None => (url, false),
    };
    let redacted = match without_query.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) if !host.contains('/') || host.find('/') > rest.find('@') => {
                format!("{scheme}://***@{host}")
            }
            _ => without_query.to_owned(),
        },
        None => without_query.to_owned(),
    };
    if had_query {
        format!("{redacted}?***")
    } else {
        redacted
    }
}

/// `BROWSE_HANG_GRACE`: how long Chromium may miss heartbeats before the daemon calls it hung
/// and fails waiting calls (10000 ms). A stopped process (SIGSTOP) is reported at once.
pub fn hang_grace() -> Duration {
    millis("BROWSE_HANG_GRACE", 10_000)
}

/// `BROWSE_HEADED=1` (the CLI's `--headed` sets it for the daemon it starts): a visible
/// Chromium window instead of headless. gstack's record `mode` is then `headed`.
pub fn headed() -> bool {
    std::env::var("BROWSE_HEADED").is_ok_and(|v| v.trim() == "1")
}

/// gstack's `mode` for the record, `/health` and `status`: `headed` or `launched` (headless).
pub fn mode_name() -> &'static str {
    if headed() {
        "headed"
    } else {
        "launched"
    }
}

/// gstack's `configHash`: the first 16 hex digits of
/// `sha256(JSON.stringify({proxy: null, headed}))` (`proxy-config.ts`), precomputed since
/// proxies are not supported.
pub fn config_hash() -> &'static str {
    if headed() {
        "5d55da6d39d487d2"
    } else {
        "303a7eeccc03078b"
    }
}

/// `BROWSE_START_TIMEOUT`: how long a starter waits for a daemon (15 s, 30 s when `CI` is set).
pub fn start_timeout() -> Duration {
    let default = if std::env::var_os("CI").is_some() {
        30_000
    } else {
        15_000
    };
    millis("BROWSE_START_TIMEOUT", default).max(Duration::from_millis(1))
}

/// How long the daemon's spawner will wait for it: `BROWSE_SPAWNER_WAIT_MS`, which the spawner
/// sets to what is left of its `BROWSE_START_TIMEOUT`, else (started by hand) [`start_timeout`].
/// Everything the daemon does before it is ready fits inside this, so that its own cause
/// ("Chromium did not open its DevTools socket within N s") reaches every waiting CLI before
/// any of them gives up with a generic timeout.
pub fn spawner_wait() -> Duration {
    match std::env::var(crate::launcher::spawn::SPAWNER_WAIT_ENV) {
        Ok(_) => millis(crate::launcher::spawn::SPAWNER_WAIT_ENV, 0),
        Err(_) => start_timeout(),
    }
}

/// How long Chromium may take to open its DevTools socket when the spawner waits `wait`: all
/// of it but a margin (a fifth, at most 3 s) for connecting to it and publishing the record.
pub fn launch_budget(wait: Duration) -> Duration {
    wait.saturating_sub((wait / 5).min(Duration::from_secs(3)))
        .max(Duration::from_millis(1))
}

/// When the daemon gives up on its whole start (Chromium answering DevTools, the first tab,
/// the record) when the spawner waits `wait`: all of it but half the launch margin.
pub fn start_limit(wait: Duration) -> Duration {
    wait.saturating_sub((wait / 10).min(Duration::from_millis(1_500)))
        .max(Duration::from_millis(1))
}

/// `BROWSE_BROWSER_TIMEOUT`: how long Chromium may take to answer the heartbeat's browser-level
/// call (`Browser.getVersion`) before the daemon reports it unresponsive (2000 ms, the limit
/// gstack's compatibility spec sets for `healthy`).
pub fn browser_timeout() -> Duration {
    millis("BROWSE_BROWSER_TIMEOUT", 2_000).max(Duration::from_millis(50))
}

/// `BROWSE_ACTION_TIMEOUT`: how long an action (click, fill, hover, select, an element shot,
/// `html <sel>`) waits for its element to exist and be actionable (5000 ms, gstack's timeout
/// for Playwright's actions). Tests shorten it to reach the timeout error quickly.
pub fn action_timeout() -> Duration {
    millis("BROWSE_ACTION_TIMEOUT", 5_000).max(Duration::from_millis(1))
}

/// `BROWSE_CLOSE_TIMEOUT`: on shutdown, how long Chromium gets to close after `Browser.close`
/// (flushing cookies and storage to the profile) before its process group is killed (5000 ms).
pub fn close_timeout() -> Duration {
    millis("BROWSE_CLOSE_TIMEOUT", 5_000)
}

/// `BROWSE_DOWNLOAD_GRACE`: on shutdown (`stop`, idle, a signal), how long downloads still in
/// progress get to finish before Chromium is closed, which cancels them (10000 ms).
pub fn download_grace() -> Duration {
    millis("BROWSE_DOWNLOAD_GRACE", 10_000)
}

/// How long a `stop` waits for the daemon to be gone: its whole shutdown (downloads, then
/// Chromium's close, each bounded above) and a margin for in-flight requests and a loaded
/// machine; at least 20 s.
pub fn stop_deadline() -> Duration {
    (download_grace() + close_timeout() + Duration::from_secs(10)).max(Duration::from_secs(20))
}

/// `BROWSE_IDLE_TIMEOUT`: idle shutdown of the daemon (30 minutes; 0 means at once).
pub fn idle_timeout() -> Duration {
    millis("BROWSE_IDLE_TIMEOUT", 1_800_000)
}

/// `BROWSE_WATCH_INTERVAL`: how often the daemon re-reads its record and checks its lock file.
pub fn watch_interval() -> Duration {
    millis("BROWSE_WATCH_INTERVAL", 2_000).max(Duration::from_millis(10))
}

/// `BROWSE_HEARTBEAT_INTERVAL`: how often the daemon checks that Chromium still answers.
pub fn heartbeat_interval() -> Duration {
    millis("BROWSE_HEARTBEAT_INTERVAL", 5_000).max(Duration::from_millis(50))
}

/// `BROWSE_COMMAND_TIMEOUT`: how long the CLI waits for one command's answer (30 s).
pub fn command_timeout() -> Duration {
    millis("BROWSE_COMMAND_TIMEOUT", 30_000).max(Duration::from_millis(1))
}

/// `BROWSE_HANG_CHECK`: while a command runs, how often the daemon checks that the page's
/// main thread still answers (a stuck page script is then stopped).
pub fn hang_check() -> Duration {
    millis("BROWSE_HANG_CHECK", 4_000).max(Duration::from_millis(100))
}

/// `BROWSE_NAVIGATION_TIMEOUT`: how long a navigation may take to reach `DOMContentLoaded`
/// (15 s, Playwright's and gstack's navigation timeout) before it is stopped.
pub fn navigation_timeout() -> Duration {
    millis("BROWSE_NAVIGATION_TIMEOUT", 15_000).max(Duration::from_millis(1))
}

/// `BROWSE_FRAME_TIMEOUT`: how long `snapshot` waits for iframes still loading their document
/// to reach `DOMContentLoaded`, and for an out-of-process iframe's renderer to answer (3 s),
/// before it leaves that frame's content out and says so on stderr; well under
/// the command's own limit, so one hung frame never holds up the page's snapshot. Paid once
/// per frame: later snapshots do not wait again for a frame that used it up. Also how long
/// `frame --name/--url` looks for a matching frame before it says none is there.
pub fn frame_timeout() -> Duration {
    millis("BROWSE_FRAME_TIMEOUT", 3_000).max(Duration::from_millis(1))
}

/// `BROWSE_SCRIPT_TIMEOUT`: how long `js` and `eval` wait for the page's promise to settle
/// (15 s, inside the CLI's 30 s) before they report that it did not.
pub fn script_timeout() -> Duration {
    millis("BROWSE_SCRIPT_TIMEOUT", 15_000).max(Duration::from_millis(1))
}

/// `BROWSE_NO_AUTOSTART=1`: never start a daemon.
pub fn autostart_disabled() -> bool {
    std::env::var("BROWSE_NO_AUTOSTART").is_ok_and(|v| v == "1")
}

/// `BROWSE_TEST_NO_BROWSER=1`: the daemon runs without Chromium. Only for launcher race and
/// fault tests that need hundreds of runs; every browser command then fails.
pub fn browserless() -> bool {
    std::env::var("BROWSE_TEST_NO_BROWSER").is_ok_and(|v| v == "1")
}

/// `BROWSE_TEST_START_DELAY_MS`: extra start-up time before the daemon publishes its record,
/// so tests can kill a spawner while its daemon is still starting.
pub fn test_start_delay() -> Duration {
    millis("BROWSE_TEST_START_DELAY_MS", 0)
}

/// `BROWSE_TEST_WORKER_SETUP_DELAY_MS`: extra time before a service or shared worker's set-up
/// starts, so tests can prove its first requests wait for it however slow it is.
pub fn test_worker_setup_delay() -> Duration {
    millis("BROWSE_TEST_WORKER_SETUP_DELAY_MS", 0)
}

/// `BROWSE_TEST_VERSION`: the version this binary reports (tests of version skew only).
pub fn version() -> String {
    std::env::var("BROWSE_TEST_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| env!("CARGO_PKG_VERSION").to_owned())
}

fn millis(name: &str, default_ms: u64) -> Duration {
    match std::env::var(name) {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(ms) => Duration::from_millis(ms),
            Err(_) => {
                errln!("[browse] ignoring {name}={v:?}: not a whole number of milliseconds");
                Duration::from_millis(default_ms)
            }
        },
        Err(_) => Duration::from_millis(default_ms),
    }
}

/// Orders two dotted version strings numerically (`0.10.0` > `0.9.3`); junk sorts lowest.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parse = |s: &str| -> Vec<u64> {
        s.split(['.', '-', '+'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parse(a).cmp(&parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("0.10.0", "0.9.3"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.0", "1.0.0"), Ordering::Equal);
        assert_eq!(compare_versions("0.1.0", "0.2.0"), Ordering::Less);
    }
}
