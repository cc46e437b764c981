//! Named sessions (issue 12): `--session NAME` / `BROWSE_SESSION` is an independent browser of
//! the workspace under `.gstack/sessions/NAME/`, and every launcher invariant holds per
//! session: a cold stampede over K sessions ends with exactly K daemons (and K Chromiums),
//! each CLI answered by its own session's daemon.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;

/// Starts `n` CLIs at once, CLI `i` in session `s{i % k}`, and returns (session, status pid).
fn stampede_over_sessions(ws: &Workspace, n: usize, k: usize) -> Vec<(String, u32)> {
    let children: Vec<(String, std::process::Child)> = (0..n)
        .map(|i| {
            let session = format!("s{}", i % k);
            let child = ws.spawn(&["--session", &session, "status"]);
            (session, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(session, child)| {
            let out = child.wait_with_output().expect("wait browse");
            assert!(out.status.success(), "{session}: {}", stderr(&out));
            (session, status_pid(&out).expect("status names a pid"))
        })
        .collect()
}

/// Every CLI of a session saw the same daemon, sessions saw different ones.
fn one_daemon_per_session(answers: &[(String, u32)], k: usize) -> HashMap<String, u32> {
    let mut by_session: HashMap<String, HashSet<u32>> = HashMap::new();
    for (session, pid) in answers {
        by_session.entry(session.clone()).or_default().insert(*pid);
    }
    assert_eq!(by_session.len(), k);
    let pids: HashMap<String, u32> = by_session
        .into_iter()
        .map(|(session, pids)| {
            assert_eq!(
                pids.len(),
                1,
                "session {session} saw several daemons: {pids:?}"
            );
            (session, pids.into_iter().next().unwrap_or_default())
        })
        .collect();
    let distinct: HashSet<u32> = pids.values().copied().collect();
    assert_eq!(distinct.len(), k, "two sessions share a daemon: {pids:?}");
    pids
}

#[test]
fn a_stampede_over_four_sessions_elects_four_daemons() {
    let ws = Workspace::browserless();
    let answers = stampede_over_sessions(&ws, 32, 4);
    let pids = one_daemon_per_session(&answers, 4);
    let mut live = ws.daemons_of_every_session();
    live.sort_unstable();
    let mut expected: Vec<u32> = pids.values().copied().collect();
    expected.sort_unstable();
    assert_eq!(live, expected);
    assert!(
        ws.daemons().is_empty(),
        "no default-session daemon was asked for"
    );
    for session in pids.keys() {
        let dir = ws.state_dir().join("sessions").join(session);
        assert!(
            dir.join("browse.json").is_file(),
            "{session} has its own record"
        );
        assert!(dir.join("browse.lock").is_file());
    }
    // The environment variable names the session too; stop reaches only that one.
    let out = ws
        .command(&["stop"])
        .env("BROWSE_SESSION", "s1")
        .output()
        .expect("stop");
    assert!(out.status.success(), "{}", stderr(&out));
    wait_until(
        "s1's daemon gone",
        std::time::Duration::from_secs(20),
        || !is_live(pids["s1"]),
    );
    for session in ["s0", "s2", "s3"] {
        assert!(is_live(pids[session]), "stopping s1 stopped {session}");
    }
}

#[test]
fn a_stampede_over_four_sessions_with_chromium_elects_four_browsers() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    let answers = stampede_over_sessions(&ws, 32, 4);
    let pids = one_daemon_per_session(&answers, 4);
    assert_eq!(ws.daemons_of_every_session().len(), 4);
    wait_until(
        "exactly four Chromiums",
        std::time::Duration::from_secs(30),
        || ws.chromium_mains_of_every_session().len() == 4,
    );
    // Sessions are independent browsers: a page opened in one is not in another.
    let pages = PageServer::start(&[("/s.html", "<p>in s0</p>")]);
    ws.ok(&["--session", "s0", "goto", &pages.url("/s.html")]);
    assert_eq!(ws.ok(&["--session", "s0", "text"]), "in s0\n");
    assert_eq!(ws.ok(&["--session", "s1", "url"]), "about:blank\n");
    for session in pids.keys() {
        ws.ok(&["--session", session, "stop"]);
    }
    assert!(ws.chromium_mains_of_every_session().is_empty());
}

#[test]
fn session_names_cannot_leave_the_sessions_folder() {
    let ws = Workspace::browserless();
    for bad in ["../x", "..", ".hidden", "a/b", "", "-x", &"n".repeat(65)] {
        let out = ws.run(&["--session", bad, "status"]);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("invalid session name"),
            "{}",
            stderr(&out)
        );
    }
    assert!(!ws.state_dir().exists(), "a refused name created state");
}
