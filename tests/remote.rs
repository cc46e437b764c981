//! Remote browsers (issue 12): `--cdp-url` makes the daemon drive a Chromium that already runs
//! (here one the test starts with `--remote-debugging-port=0`, as a farm would run it) instead
//! of launching one. The election is unchanged; `stop` closes only the tabs the daemon opened
//! and leaves the browser running; a browser that goes away is reported, and the next daemon
//! says why it cannot connect.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// A Chromium with an open DevTools port, in its own process group, killed on drop.
struct RemoteChromium {
    child: Child,
    ws_url: String,
    _profile: tempfile::TempDir,
}

impl RemoteChromium {
    fn start() -> Self {
        let profile = tempfile::tempdir().expect("profile dir");
        let binary = std::env::var("BROWSE_CHROME").unwrap_or_else(|_| "chromium".into());
        let mut child = Command::new(binary)
            .args([
                "--headless=new",
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start Chromium (run scripts/setup)");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url.trim().to_owned());
                    }
                }
            }
        });
        let ws_url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium printed its DevTools address");
        RemoteChromium {
            child,
            ws_url,
            _profile: profile,
        }
    }

    /// `http://127.0.0.1:<port>`, the form a user usually has.
    fn http_url(&self) -> String {
        let host_port = self
            .ws_url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap_or_default();
        format!("http://{host_port}")
    }

    /// The page targets' URLs, from the browser's own `/json/list`.
    fn page_urls(&self) -> Vec<String> {
        let body = ureq::get(&format!("{}/json/list", self.http_url()))
            .call()
            .expect("/json/list")
            .into_string()
            .expect("body");
        let targets: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        targets
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|t| t["type"] == "page")
                    .filter_map(|t| t["url"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILLs the whole group (the browser and its renderers) and reaps the main process.
    fn kill(&mut self) {
        if let Ok(pgid) = i32::try_from(self.child.id()) {
            // SAFETY: a plain syscall on the group this test created (process_group(0)).
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

impl Drop for RemoteChromium {
    fn drop(&mut self) {
        self.kill();
    }
}

#[test]
fn a_remote_chromium_is_driven_and_left_running() {
    let _slot = chromium_slot();
    let mut remote = RemoteChromium::start();
    let pages = PageServer::start(&[("/r.html", REMOTE_PAGE)]);
    let url = pages.url("/r.html");
    let ws = Workspace::with_chromium();
    let cdp = remote.http_url();

    assert_eq!(
        ws.ok(&["--cdp-url", &cdp, "goto", &url]),
        format!("Navigated to {url} (200)\n")
    );
    assert_eq!(ws.record().expect("record")["cdpUrl"], cdp.as_str());
    drive_remote_page(&ws, &cdp);
    assert!(
        remote.page_urls().contains(&url),
        "our tab is a page of the remote"
    );
    // The remote's own page (its about:blank) is someone else's: never one of our tabs.
    assert_eq!(ws.ok(&["--cdp-url", &cdp, "tabs"]).lines().count(), 1);

    // Asking for another browser is refused, with the way out.
    let out = ws.run(&["url"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("existing daemon drives the remote browser at"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("browse stop"), "{}", stderr(&out));

    // stop closes our tab and leaves the browser running.
    ws.ok(&["stop"]);
    assert!(
        remote.is_running(),
        "stop must not end a browser it did not launch"
    );
    wait_until("our tab is closed", Duration::from_secs(10), || {
        !remote.page_urls().contains(&url)
    });

    // The ws:// form works too.
    let out = ws
        .command(&["goto", &url])
        .env("BROWSE_CDP_URL", &remote.ws_url)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut ws_form = ws.command(&["stop"]);
    assert!(ws_form
        .env("BROWSE_CDP_URL", &remote.ws_url)
        .output()
        .expect("stop")
        .status
        .success());
    assert!(remote.is_running());
}

#[test]
fn a_remote_that_goes_away_is_reported_and_the_next_start_says_why() {
    let _slot = chromium_slot();
    let mut remote = RemoteChromium::start();
    let ws = Workspace::with_chromium();
    let cdp = remote.http_url();
    ws.ok(&["--cdp-url", &cdp, "url"]);
    let daemon = ws.daemons()[0];
    remote.kill();
    wait_until(
        "the daemon notices and exits",
        Duration::from_secs(20),
        || !is_live(daemon),
    );
    assert!(ws
        .daemon_log_tail()
        .contains("the remote browser closed the DevTools connection"));
    let out = ws.run(&["--cdp-url", &cdp, "url"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("cannot connect to the remote browser at {cdp}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_token_in_the_cdp_url_never_reaches_messages() {
    let ws = Workspace::with_chromium();
    let out = ws.run(&["--cdp-url", "http://127.0.0.1:9/?token=s3cret", "url"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot connect to the remote browser at http://127.0.0.1:9/?***"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("s3cret"), "{}", stderr(&out));
    assert!(!ws.daemon_log_tail().contains("s3cret"));
}
