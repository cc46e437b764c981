//! Profiles (issue 12 item 4): `--ephemeral` runs Chromium in a throw-away profile under the
//! state dir, removed when the daemon stops, so nothing carries over; `--profile DIR` keeps a
//! user's profile across daemons, is refused while another live Chromium holds it (Chromium's
//! own `SingletonLock`, never deleted), and a CLI asking for another profile than the running
//! daemon's is refused.

mod common;

use std::fs;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

const SET_COOKIE: &str = "document.cookie = 'kept=yes; max-age=3600; path=/'; 'set'";

fn pages() -> PageServer {
    PageServer::start(&[("/c.html", "<title>cookie page</title><p>c</p>")])
}

fn ephemeral_dirs(ws: &Workspace) -> Vec<String> {
    fs::read_dir(ws.state_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("chromium-profile-ephemeral-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ephemeral_profile_forgets_cookies_and_is_removed_at_stop() {
    let _slot = chromium_slot();
    let pages = pages();
    let mut ws = Workspace::with_chromium();
    ws.ok(&["--ephemeral", "goto", &pages.url("/c.html")]);
    assert_eq!(ws.ok(&["--ephemeral", "js", SET_COOKIE]), "set\n");
    assert_eq!(
        ws.ok(&["--ephemeral", "js", "document.cookie"]),
        "kept=yes\n"
    );
    let record = ws.record().expect("record");
    assert_eq!(record["profile"], "ephemeral");
    let dirs = ephemeral_dirs(&ws);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(!ws.state_dir().join("chromium-profile").exists());
    ws.ok(&["stop"]);
    wait_until("the daemon is gone", Duration::from_secs(20), || {
        ws.daemons().is_empty() && ws.chromium_mains().is_empty()
    });
    assert!(ephemeral_dirs(&ws).is_empty(), "{:?}", ephemeral_dirs(&ws));

    // The environment variable asks for the same thing.
    ws.set("BROWSE_EPHEMERAL", "1");
    ws.ok(&["goto", &pages.url("/c.html")]);
    assert_eq!(ws.ok(&["js", "document.cookie"]), "\n");
    ws.ok(&["stop"]);
    wait_until(
        "the ephemeral profile is removed",
        Duration::from_secs(20),
        || ephemeral_dirs(&ws).is_empty(),
    );
}

#[test]
fn ephemeral_profile_left_by_a_killed_daemon_is_removed_by_the_next_start() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    ws.ok(&["--ephemeral", "status"]);
    let pid = ws.record().expect("record")["pid"].as_u64().expect("pid") as u32;
    assert_eq!(ephemeral_dirs(&ws).len(), 1);
    signal(pid, 9);
    wait_until("the daemon is dead", Duration::from_secs(20), || {
        !is_live(pid)
    });
    ws.ok(&["--ephemeral", "status"]);
    let left = ephemeral_dirs(&ws);
    assert_eq!(left.len(), 1, "only the new daemon's profile: {left:?}");
    ws.ok(&["stop"]);
}

#[test]
fn chosen_profile_keeps_cookies_and_is_refused_while_another_browser_holds_it() {
    let _slot = chromium_slot();
    let pages = pages();
    let ws = Workspace::with_chromium();
    let dir = ws.path().join("my-profile");
    // Relative to the CLI's current directory, created if missing.
    ws.ok(&["--profile", "my-profile", "goto", &pages.url("/c.html")]);
    assert!(dir.is_dir());
    assert_eq!(
        ws.record().expect("record")["profile"],
        dir.display().to_string()
    );
    assert_eq!(
        ws.ok(&["--profile", "my-profile", "js", SET_COOKIE]),
        "set\n"
    );

    // A different profile than the running daemon's is refused.
    let refused = ws.fails(&["js", "1"]);
    assert!(
        refused.contains("existing daemon uses the profile"),
        "{refused}"
    );
    assert!(refused.contains("browse stop"), "{refused}");
    let refused = ws.fails(&["--ephemeral", "js", "1"]);
    assert!(refused.contains("not a throw-away profile"), "{refused}");

    ws.ok(&["stop"]);
    wait_until("the daemon is gone", Duration::from_secs(20), || {
        ws.daemons().is_empty() && ws.chromium_mains().is_empty()
    });
    let abs = dir.display().to_string();
    ws.ok(&["--profile", &abs, "goto", &pages.url("/c.html")]);
    assert_eq!(
        ws.ok(&["--profile", &abs, "js", "document.cookie"]),
        "kept=yes\n"
    );
    ws.ok(&["stop"]);
    wait_until("the daemon is gone", Duration::from_secs(20), || {
        ws.daemons().is_empty() && ws.chromium_mains().is_empty()
    });

    // Another live Chromium on that profile: refused, and its lock is left alone.
    let mut other = Command::new("/usr/bin/chromium")
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
            &format!("--user-data-dir={abs}"),
            "about:blank",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let lock = dir.join("SingletonLock");
    wait_until(
        "the other Chromium locks the profile",
        Duration::from_secs(30),
        || fs::read_link(&lock).is_ok(),
    );
    let target = fs::read_link(&lock).expect("lock");
    // Exit 3, as for every daemon that cannot start.
    let out = ws.run(&["--profile", &abs, "status"]);
    assert_eq!(out.status.code(), Some(3));
    let refused = stderr(&out);
    assert!(
        refused.contains("is in use by another browser"),
        "{refused}"
    );
    assert!(
        refused.contains(&format!("pid {}", other.id())),
        "{refused}"
    );
    assert_eq!(fs::read_link(&lock).expect("lock kept"), target);
    assert!(ws.daemons().is_empty());
    let _ = other.kill();
    let _ = other.wait();
    ws.shut_down();
}
