//! A browser farm as the remote (issue 12): browserless (the npm package
//! `@browserless.io/browserless`), started by the test on a free 127.0.0.1 port with a token and
//! pointed at the system Chromium, is driven through `--cdp-url http://127.0.0.1:PORT?token=…`.
//! browserless answers `/json/version` with a `webSocketDebuggerUrl` that has no path
//! (`ws://127.0.0.1:PORT`) and starts a fresh Chromium for each WebSocket connection.
//!
//! browserless is installed by `scripts/setup` into `$BROWSERLESS_DIR` (default
//! `.ci-cache/browserless` in the repository); the test fails, naming the fix, when it is not.

mod common;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

const TOKEN: &str = "farm-t0ken";

/// Where `scripts/setup` installs browserless: `$BROWSERLESS_DIR`, else `.ci-cache/browserless`.
fn install_dir() -> PathBuf {
    std::env::var_os("BROWSERLESS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci-cache/browserless"))
}

/// The system Chromium's path: `$BROWSE_CHROME`, else `chromium` on `$PATH`.
fn system_chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("BROWSE_CHROME") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
        .expect("no chromium on PATH (run scripts/setup or set BROWSE_CHROME)")
}

/// A browserless server in its own process group, killed on drop.
struct BrowserlessFarm {
    child: Child,
    port: u16,
    scratch: tempfile::TempDir,
}

impl BrowserlessFarm {
    fn start() -> Self {
        let dir = install_dir();
        let package = dir.join("node_modules/@browserless.io/browserless");
        let entry = package.join("build/index.js");
        assert!(
            entry.is_file(),
            "browserless is not installed at {} (run scripts/setup, or set BROWSERLESS_DIR to \
             a directory where `npm install @browserless.io/browserless` ran)",
            dir.display()
        );
        let scratch = tempfile::tempdir().expect("scratch dir");
        // browserless finds Chromium where playwright-core downloads it; its own download
        // cannot work offline, so that path is made a link to the system Chromium.
        let browsers = scratch.path().join("playwright-browsers");
        let out = Command::new("node")
            .args([
                "-e",
                "console.log(require('playwright-core').chromium.executablePath())",
            ])
            .current_dir(&dir)
            .env("PLAYWRIGHT_BROWSERS_PATH", &browsers)
            .output()
            .expect("run node (install Node.js 20+, see scripts/setup)");
        assert!(out.status.success(), "{}", stderr(&out));
        let expected = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        std::fs::create_dir_all(expected.parent().expect("a parent")).expect("browsers dir");
        std::os::unix::fs::symlink(system_chromium(), &expected).expect("link Chromium");
        // Only the Chromium routes (and management): the others refuse to load without their
        // browsers (Chrome, Edge, Firefox, WebKit).
        let routes = scratch.path().join("routes");
        std::fs::create_dir(&routes).expect("routes dir");
        for name in ["chromium", "management"] {
            std::os::unix::fs::symlink(package.join("build/routes").join(name), routes.join(name))
                .expect("link routes");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        // browserless creates these only when it picks them itself.
        for name in ["data", "downloads"] {
            std::fs::create_dir(scratch.path().join(name)).expect("browserless dirs");
        }
        let log = std::fs::File::create(scratch.path().join("browserless.log")).expect("log");
        let child = Command::new("node")
            .arg(&entry)
            // Its `/meta` route reads `node_modules/playwright-core` from the working directory.
            .current_dir(&dir)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("TOKEN", TOKEN)
            // A session (the daemon's one connection, kept between commands) may last 10 min;
            // the default is 30 s. (-1 is taken literally and times every session out at once.)
            .env("TIMEOUT", "600000")
            .env("ROUTES", &routes)
            .env("PLAYWRIGHT_BROWSERS_PATH", &browsers)
            .env("DATA_DIR", scratch.path().join("data"))
            .env("DOWNLOAD_DIR", scratch.path().join("downloads"))
            .env("DEBUG", "browserless*,-**:trace,-**:verbose")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("start browserless with node");
        let mut farm = BrowserlessFarm {
            child,
            port,
            scratch,
        };
        wait_until(
            "browserless answers /json/version",
            Duration::from_secs(60),
            || {
                assert!(
                    farm.is_running(),
                    "browserless exited:\n{}",
                    farm.log_tail()
                );
                farm.version().is_some()
            },
        );
        farm
    }

    /// `http://127.0.0.1:PORT?token=…`, the address a user of a farm has.
    fn cdp_url(&self) -> String {
        format!("http://127.0.0.1:{}?token={TOKEN}", self.port)
    }

    fn version(&self) -> Option<String> {
        ureq::get(&format!(
            "http://127.0.0.1:{}/json/version?token={TOKEN}",
            self.port
        ))
        .timeout(Duration::from_secs(2))
        .call()
        .ok()?
        .into_string()
        .ok()
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.scratch.path().join("browserless.log"))
            .unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for BrowserlessFarm {
    fn drop(&mut self) {
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // SAFETY: a plain syscall on the group this test created (process_group(0)).
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        let _ = self.child.wait();
        // Playwright starts each Chromium of browserless in a process group of its own, so the
        // kill above misses them and they would outlive the test. They are found by their
        // `--user-data-dir`, which lies in this test's own scratch directory.
        let ours = self.scratch.path().to_string_lossy().into_owned();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.contains("--user-data-dir=") && cmdline.contains(ours.as_str()) {
                // SAFETY: a plain syscall on a Chromium whose profile is in our scratch dir.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

#[test]
fn a_browserless_farm_is_driven_and_left_running() {
    let _slot = chromium_slot();
    let mut farm = BrowserlessFarm::start();
    let pages = PageServer::start(&[("/f.html", REMOTE_PAGE)]);
    let url = pages.url("/f.html");
    let ws = Workspace::with_chromium();
    let cdp = farm.cdp_url();

    assert_eq!(
        ws.ok(&["--cdp-url", &cdp, "goto", &url]),
        format!("Navigated to {url} (200)\n"),
        "browserless log:\n{}",
        farm.log_tail()
    );
    drive_remote_page(&ws, &cdp);
    // The token reaches neither the record's messages nor the daemon log.
    assert!(!ws.daemon_log_tail().contains(TOKEN));

    ws.ok(&["--cdp-url", &cdp, "stop"]);
    assert!(
        farm.is_running(),
        "stop must not end the farm:\n{}",
        farm.log_tail()
    );
    assert!(
        farm.version().is_some(),
        "the farm still answers after stop"
    );

    // A new daemon connects again (browserless gives it a fresh browser).
    assert_eq!(
        ws.ok(&["--cdp-url", &cdp, "goto", &url]),
        format!("Navigated to {url} (200)\n")
    );
    ws.ok(&["--cdp-url", &cdp, "stop"]);
    assert!(farm.is_running());
}
