//! The launcher invariants that must also hold with a real Chromium: one daemon and one
//! Chromium per stampede, `stop` leaving nothing, recovery after SIGKILL, and start-up
//! failures reported by every waiter.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::*;

const SETTLE: Duration = Duration::from_secs(30);

fn stampede_with_chromium(n: usize) {
    let ws = Workspace::with_chromium();
    let outs = ws.stampede(n, &["status"]);
    for out in &outs {
        assert!(
            out.status.success(),
            "a CLI failed: {}\n{}",
            stderr(out),
            ws.daemon_log_tail()
        );
    }
    let pids: BTreeSet<_> = outs.iter().map(status_pid).collect();
    assert_eq!(pids.len(), 1, "CLIs saw different daemons: {pids:?}");
    assert_eq!(ws.daemons().len(), 1);
    let record = ws.record().expect("record");
    assert_eq!(
        ws.chromium_mains(),
        vec![record["chromePid"].as_u64().unwrap() as u32],
        "expected exactly the recorded Chromium"
    );
    assert!(ws.leftover_temps().is_empty());
    let lock = ws.state_dir().join("browse.lock");
    for pid in ws.chromium_all() {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .into_iter()
            .flatten()
            .flatten();
        for fd in fds {
            assert_ne!(
                std::fs::read_link(fd.path()).ok().as_deref(),
                Some(lock.as_path()),
                "Chromium process {pid} inherited the election lock"
            );
        }
    }
}

#[test]
fn stampede_of_8_starts_one_chromium() {
    let _slot = chromium_slot();
    stampede_with_chromium(8);
}

#[test]
fn stampede_of_32_starts_one_chromium() {
    let _slot = chromium_slot();
    stampede_with_chromium(32);
}

#[test]
fn stop_leaves_no_daemon_and_no_chromium() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    ws.ok(&["status"]);
    assert!(!ws.chromium_all().is_empty());
    assert_eq!(ws.ok(&["stop"]), "Server stopped\n");
    assert!(ws.daemons().is_empty(), "daemon alive after stop returned");
    assert!(
        ws.chromium_mains().is_empty(),
        "Chromium alive after stop returned"
    );
    wait_until("Chromium helpers gone", SETTLE, || {
        ws.chromium_all().is_empty()
    });
    assert!(!ws.state_file().exists());
}

#[test]
fn sigkill_of_the_daemon_then_a_stampede_leaves_one_daemon_and_no_orphan_chromium() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    ws.ok(&["status"]);
    let old_chrome = ws.record().unwrap()["chromePid"].as_u64().unwrap() as u32;
    sigkill_daemon_then_stampede(&ws, 8);
    let new_chrome = ws.record().unwrap()["chromePid"].as_u64().unwrap() as u32;
    assert_ne!(new_chrome, old_chrome);
    wait_until("old Chromium gone", SETTLE, || !is_live(old_chrome));
    assert_eq!(ws.chromium_mains(), vec![new_chrome]);
}

#[test]
fn chromium_killed_from_outside_ends_the_daemon_cleanly_and_the_next_command_recovers() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/p.html", "<p>back again</p>")]);
    let ws = Workspace::with_chromium();
    let daemon = status_pid(&ws.run(&["status"])).unwrap();
    let chrome = ws.record().unwrap()["chromePid"].as_u64().unwrap() as u32;
    signal(chrome, libc::SIGKILL);
    wait_until("daemon noticed Chromium's death", SETTLE, || {
        !is_live(daemon)
    });
    assert!(
        !ws.state_file().exists(),
        "daemon left its record after Chromium died"
    );
    ws.ok(&["goto", &pages.url("/p.html")]);
    assert_eq!(ws.ok(&["text"]), "back again\n");
}

#[test]
fn missing_chromium_is_reported_fast_by_every_cli_of_a_stampede() {
    let _slot = chromium_slot();
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_CHROME", "/nonexistent/chromium");
    let outs = ws.stampede(16, &["status"]);
    for out in &outs {
        assert_eq!(out.status.code(), Some(3));
        let err = stderr(out);
        // The timeout path would say "Timed out"/"failed to start within": the cause proves
        // that every waiter got the shared failure instead.
        assert!(
            err.contains("no Chromium at /nonexistent/chromium"),
            "{err}"
        );
    }
    assert!(ws.daemons().is_empty());
}

#[test]
fn chromium_crashing_at_start_is_reported_with_its_own_words() {
    let _slot = chromium_slot();
    let mut ws = Workspace::with_chromium();
    let fake = ws.path().join("crashing-chromium");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'FATAL: the display is on fire' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    ws.set("BROWSE_CHROME", fake.to_str().unwrap());
    let outs = ws.stampede(8, &["status"]);
    for out in &outs {
        assert_eq!(out.status.code(), Some(3));
        let err = stderr(out);
        assert!(err.contains("exited before opening DevTools"), "{err}");
        assert!(err.contains("the display is on fire"), "{err}");
    }
    assert!(ws.daemons().is_empty());
}

/// The omnibox's drop-down, preloaded as WebUI pages in a renderer of their own (about 44 MB),
/// is switched off: Chromium's own target list (its DevTools HTTP endpoint, on the port it
/// wrote to the profile's `DevToolsActivePort`) holds no `browser_ui` target and no
/// `chrome://…top-chrome` page, and no renderer runs for them.
#[test]
fn chromium_runs_no_preloaded_browser_ui_pages() {
    let _slot = chromium_slot();
    let server = PageServer::start(&[("/", "<title>t</title><p>hello</p>")]);
    // The browser UI pages exist only in the full browser (the headless shell has no UI).
    let mut ws = Workspace::with_chromium();
    ws.only_full_chromium_on_path();
    ws.ok(&["goto", &server.url("/")]);
    assert_eq!(ws.chromium_exe(), Path::new("/usr/lib/chromium/chromium"));
    let port_file = ws.state_dir().join("chromium-profile/DevToolsActivePort");
    let port = std::fs::read_to_string(&port_file).expect("DevToolsActivePort");
    let port = port.lines().next().unwrap().trim().to_owned();
    let list = ureq::get(&format!("http://127.0.0.1:{port}/json/list"))
        .call()
        .expect("Chromium's target list")
        .into_string()
        .unwrap();
    let targets: serde_json::Value = serde_json::from_str(&list).unwrap();
    let targets = targets.as_array().unwrap();
    assert!(
        targets.iter().any(|t| t["url"] == server.url("/")),
        "our page is listed: {list}"
    );
    assert!(
        !targets
            .iter()
            .any(|t| t["type"] == "browser_ui" || t["url"].as_str().unwrap().contains("top-chrome")),
        "preloaded browser UI pages: {list}"
    );
    let webui_renderers: Vec<u32> = live_processes()
        .into_iter()
        .filter(|p| ws.chromium_all().contains(&p.pid))
        .filter(|p| p.cmdline.iter().any(|a| a == "--top-chrome-webui"))
        .map(|p| p.pid)
        .collect();
    assert!(webui_renderers.is_empty(), "{webui_renderers:?}");
    ws.shut_down();
}

/// Headless, the daemon runs Chromium's headless shell when it is on PATH (as Playwright does),
/// started past Debian's wrapper script (which runs it without `exec`): the shell itself leads
/// the process group, so the parent-death signal and the group kill reach it, and `stop`
/// leaves nothing.
#[test]
fn a_headless_daemon_runs_the_headless_shell_itself() {
    let _slot = chromium_slot();
    let server = PageServer::start(&[("/", "<title>t</title><p>hello</p>")]);
    let mut ws = Workspace::with_chromium();
    ws.chromium_from_path();
    ws.ok(&["goto", &server.url("/")]);
    assert_eq!(
        ws.chromium_exe(),
        Path::new("/usr/lib/chromium/chromium-headless-shell")
    );
    let pid = ws.record().expect("record")["chromePid"].as_u64().unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let group = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();
    assert_eq!(group, pid.to_string(), "the shell leads its own group");
    assert!(ws
        .ok(&["js", "navigator.userAgent"])
        .contains("HeadlessChrome/"));
    assert!(ws.ok(&["doctor"]).contains("headless shell"));
    ws.ok(&["stop"]);
    assert!(ws.chromium_all().is_empty(), "{:?}", ws.chromium_all());
}

/// Without a headless shell on PATH, a headless daemon falls back to the full browser (past
/// its launcher script) and works as before.
#[test]
fn without_a_headless_shell_a_headless_daemon_runs_full_chromium() {
    let _slot = chromium_slot();
    let server = PageServer::start(&[("/", "<title>t</title><p>hello</p>")]);
    let mut ws = Workspace::with_chromium();
    ws.only_full_chromium_on_path();
    assert_eq!(
        ws.ok(&["goto", &server.url("/")]),
        format!("Navigated to {} (200)\n", server.url("/"))
    );
    assert_eq!(ws.chromium_exe(), Path::new("/usr/lib/chromium/chromium"));
    assert!(ws.ok(&["text"]).contains("hello"));
    ws.ok(&["stop"]);
    assert!(ws.chromium_all().is_empty());
}
