//! Timers and switches read from the environment, in one place so tests can shorten every
//! timer and the README can list them. Durations are milliseconds, as in gstack.

use std::time::Duration;

/// `BROWSE_START_TIMEOUT`: how long a starter waits for a daemon (15 s, 30 s when `CI` is set).
pub fn start_timeout() -> Duration {
    let default = if std::env::var_os("CI").is_some() {
        30_000
    } else {
        15_000
    };
    millis("BROWSE_START_TIMEOUT", default).max(Duration::from_millis(1))
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
                eprintln!("[browse] ignoring {name}={v:?}: not a whole number of milliseconds");
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
