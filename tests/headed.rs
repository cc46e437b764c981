//! Headed mode (issue 12): `--headed` (or `BROWSE_HEADED=1`) starts a visible Chromium, here on
//! a virtual X server the test starts itself (Xvfb, installed by `scripts/setup`); a daemon
//! started in one mode refuses a request for the other with gstack's mismatch message.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// An Xvfb server on a display of its own, killed on drop.
struct XServer {
    display: String,
    child: Child,
}

impl XServer {
    fn start() -> Self {
        let number = 90 + std::process::id() % 400;
        let child = Command::new("Xvfb")
            .arg(format!(":{number}"))
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is missing: run scripts/setup (Debian package xvfb)");
        let socket = format!("/tmp/.X11-unix/X{number}");
        let server = XServer {
            display: format!(":{number}"),
            child,
        };
        // The socket appears before the server answers (and a stale one may be left by an
        // earlier server on this display): wait until a screenshot comes back.
        wait_until("Xvfb answers", Duration::from_secs(20), || {
            Path::new(&socket).exists() && !server.screenshot().is_empty()
        });
        server
    }

    /// `xwininfo -root -tree`: every window's line, titles included.
    fn window_tree(&self) -> String {
        let out = Command::new("xwininfo")
            .args(["-root", "-tree", "-display", &self.display])
            .output()
            .expect("xwininfo (Debian package x11-utils)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A screenshot of the whole screen (`xwd`), as its raw bytes.
    fn screenshot(&self) -> Vec<u8> {
        Command::new("xwd")
            .args(["-root", "-silent", "-display", &self.display])
            .output()
            .expect("xwd (Debian package x11-apps)")
            .stdout
    }
}

impl Drop for XServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn headed_mode_opens_a_real_window_and_modes_never_mix() {
    let _slot = chromium_slot();
    let x = XServer::start();
    let pages = PageServer::start(&[(
        "/headed.html",
        "<title>Headed proof page</title><body style='background:#c33'><h1>visible</h1></body>",
    )]);
    let mut ws = Workspace::with_chromium();
    ws.set("DISPLAY", &x.display);
    // Chromium chosen from PATH: headed skips the headless shell there for the full browser.
    ws.chromium_from_path();
    let blank = x.screenshot();

    let out = ws.run(&["--headed", "goto", &pages.url("/headed.html")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ws.chromium_exe(),
        std::path::Path::new("/usr/lib/chromium/chromium")
    );
    assert!(
        stderr(&out).contains("Starting server in headed mode..."),
        "{}",
        stderr(&out)
    );
    assert!(ws.ok(&["--headed", "status"]).contains("\nMode: headed\n"));
    let record = ws.record().expect("record");
    assert_eq!(record["mode"], "headed");
    assert_eq!(record["configHash"], "5d55da6d39d487d2");

    // A window with the page's title exists on the screen, and the screen is no longer blank.
    wait_until(
        "Chromium's window shows the page",
        Duration::from_secs(30),
        || x.window_tree().contains("Headed proof page"),
    );
    let shot = x.screenshot();
    assert_eq!(shot.len(), blank.len(), "same screen, same image size");
    let changed = shot.iter().zip(&blank).filter(|(a, b)| a != b).count();
    assert!(
        changed > 10_000,
        "only {changed} bytes of the screen changed"
    );

    // A headless request to the headed daemon is refused, not served by the wrong browser.
    let out = ws.run(&["url"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("existing daemon has different config (proxy/headed mismatch)."),
        "{}",
        stderr(&out)
    );
    ws.ok(&["stop"]);

    // And the reverse.
    assert!(ws.ok(&["status"]).contains("\nMode: launched\n"));
    let out = ws.run(&["--headed", "url"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("existing daemon was started without --proxy/--headed."),
        "{}",
        stderr(&out)
    );
    let out = ws
        .command(&["url"])
        .env("BROWSE_HEADED", "1")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "BROWSE_HEADED=1 is --headed");
}

/// The headless shell cannot open a window: named for `--headed`, it is refused with the cause
/// and a hint on one line, before any Chromium starts.
#[test]
fn headed_with_the_headless_shell_named_is_refused_with_a_hint() {
    let mut ws = Workspace::with_chromium();
    ws.set("DISPLAY", ":0");
    ws.set("BROWSE_CHROME", "/usr/bin/chromium-headless-shell");
    let out = ws.run(&["--headed", "url"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("/usr/bin/chromium-headless-shell (from BROWSE_CHROME) is Chromium's headless shell, which cannot open a window for --headed. Point BROWSE_CHROME at a full Chromium"),
        "{err}"
    );
    assert!(ws.chromium_all().is_empty());
}
