//! The launcher's invariants (ARCHITECTURE.md, launcher-design.md) with real `browse`
//! processes. These run the daemon in its browser-less test mode so that stampedes and faults
//! can run many times quickly; tests/chromium_launcher.rs repeats the key ones with Chromium.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use common::*;

const SETTLE: Duration = Duration::from_secs(20);

/// Stampede of `n` cold `browse status` calls: one daemon, identical answers, no leftovers.
fn assert_one_daemon_after_stampede(n: usize) {
    let ws = Workspace::browserless();
    let outs = ws.stampede(n, &["status"]);
    for out in &outs {
        assert!(out.status.success(), "a CLI failed: {}", stderr(out));
    }
    let pids: std::collections::BTreeSet<_> = outs.iter().map(status_pid).collect();
    assert_eq!(pids.len(), 1, "CLIs saw different daemons: {pids:?}");
    assert_eq!(ws.daemons().len(), 1, "daemons alive: {:?}", ws.daemons());
    let record = ws.record().expect("record");
    assert_eq!(
        pids.into_iter().next().flatten(),
        record["pid"].as_u64().map(|p| p as u32)
    );
    let health = health(&ws).expect("health");
    assert_eq!(health["instanceId"], record["instanceId"]);
    assert!(
        ws.leftover_temps().is_empty(),
        "temps: {:?}",
        ws.leftover_temps()
    );
}

#[test]
fn stampedes_elect_exactly_one_daemon() {
    for n in [2, 8, 32, 64] {
        assert_one_daemon_after_stampede(n);
    }
}

#[test]
fn state_dir_and_record_are_private() {
    let ws = Workspace::browserless();
    // gstack's rule appends `.gstack/` to a project .gitignore only when git does not ignore
    // the state dir already; its own `*` .gitignore does, so the project file is untouched.
    let git_init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(ws.path())
        .status();
    let git_works = git_init.is_ok_and(|s| s.success());
    fs::write(ws.path().join(".gitignore"), "target/\n").unwrap();
    ws.ok(&["status"]);
    if git_works {
        let ignore = fs::read_to_string(ws.path().join(".gitignore")).unwrap();
        assert_eq!(ignore, "target/\n");
    }
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&ws.state_dir()), 0o700);
    assert_eq!(mode(&ws.state_file()), 0o600);
    assert_eq!(
        fs::read_to_string(ws.state_dir().join(".gitignore")).unwrap(),
        "*\n"
    );
    let health = health(&ws).expect("health");
    let (port, token) = ws.endpoint();
    assert!(
        !health.to_string().contains(&token),
        "/health leaks the token"
    );
    assert!(!ws.ok(&["status"]).contains(&token));
    let log = fs::read_to_string(ws.state_dir().join("browse-daemon.log")).unwrap();
    assert!(!log.contains(&token), "the daemon log holds the token");
    let unauthorized = ureq::post(&format!("http://127.0.0.1:{port}/command"))
        .set("Authorization", "Bearer wrong")
        .send_string(r#"{"command":"stop"}"#);
    assert!(matches!(unauthorized, Err(ureq::Error::Status(401, _))));
    assert_eq!(
        ws.daemons().len(),
        1,
        "an unauthorized stop must not stop the daemon"
    );
}

#[test]
fn stop_returns_when_the_daemon_is_gone_and_stopping_nothing_succeeds() {
    let ws = Workspace::browserless();
    let out = ws.run(&["stop"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "No daemon running — nothing to stop.\n");
    ws.ok(&["status"]);
    assert_eq!(ws.ok(&["stop"]), "Server stopped\n");
    assert!(
        ws.daemons().is_empty(),
        "daemon still alive after stop returned"
    );
    assert!(!ws.state_file().exists(), "record left behind");
    assert_eq!(ws.ok(&["stop"]), "No daemon running — nothing to stop.\n");
}

#[test]
fn stop_on_a_stale_record_cleans_it() {
    let ws = Workspace::browserless();
    fs::create_dir_all(ws.state_dir()).unwrap();
    fs::write(ws.state_file(), fake_record(dead_pid(), 1, 1)).unwrap();
    assert_eq!(
        ws.ok(&["stop"]),
        "No daemon running (cleaned stale state) — nothing to stop.\n"
    );
    assert!(!ws.state_file().exists());
}

#[test]
fn restart_replaces_the_daemon_through_the_election() {
    let ws = Workspace::browserless();
    let first = status_pid(&ws.run(&["status"])).unwrap();
    assert_eq!(ws.ok(&["restart"]), "Restarting...\n");
    let second = status_pid(&ws.run(&["status"])).unwrap();
    assert_ne!(first, second);
    assert_eq!(ws.daemons(), vec![second]);
}

/// A pid that certainly belongs to no process: a child we started and reaped.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn stale_record_with_a_dead_pid_is_replaced() {
    let ws = Workspace::browserless();
    fs::create_dir_all(ws.state_dir()).unwrap();
    fs::write(ws.state_file(), fake_record(dead_pid(), 12345, 1)).unwrap();
    fs::write(ws.state_dir().join("browse.json.tmp.1.deadbeef"), "{").unwrap();
    let outs = ws.stampede(8, &["status"]);
    assert!(outs.iter().all(|o| o.status.success()));
    assert_eq!(ws.daemons().len(), 1);
    assert!(
        ws.leftover_temps().is_empty(),
        "a killed writer's temp was not swept"
    );
}

#[test]
fn a_stale_record_naming_a_live_unrelated_process_never_signals_it() {
    let ws = Workspace::browserless();
    let mut sleeper = Command::new("sleep").arg("300").spawn().unwrap();
    let pid = sleeper.id();
    let real_start = start_time(pid).unwrap();
    fs::create_dir_all(ws.state_dir()).unwrap();
    // The record names the sleeper's pid (as after pid reuse) with another start time.
    fs::write(ws.state_file(), fake_record(pid, real_start + 1, 1)).unwrap();
    let outs = ws.stampede(8, &["status"]);
    assert!(outs.iter().all(|o| o.status.success()));
    assert_eq!(ws.daemons().len(), 1);
    // Every path that kills: --force-restart, stop --force-restart, and again with a record.
    fs::write(ws.state_file(), fake_record(pid, real_start + 1, 1)).unwrap();
    ws.run(&["--force-restart", "status"]);
    fs::write(ws.state_file(), fake_record(pid, real_start + 1, 1)).unwrap();
    ws.run(&["stop", "--force-restart"]);
    assert!(is_live(pid), "the unrelated process was signalled");
    assert_eq!(sleeper.try_wait().unwrap(), None);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

#[test]
fn a_record_naming_pid_1_or_a_foreign_listener_is_stale() {
    let ws = Workspace::browserless();
    fs::create_dir_all(ws.state_dir()).unwrap();
    fs::write(ws.state_file(), fake_record(1, 999_999_999, 1)).unwrap();
    ws.ok(&["status"]);
    ws.ok(&["stop"]);
    let foreign = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = foreign.server_addr().to_ip().unwrap().port();
    let answer = std::thread::spawn(move || {
        // Answers like a healthy daemon of another workspace.
        for req in foreign.incoming_requests() {
            let body = r#"{"status":"healthy","mode":"launched","uptime":1,"tabs":1,"terminalPort":null,"pid":1,"instanceId":"other","version":"0.1.0","startedAt":"x"}"#;
            let _ = req.respond(tiny_http::Response::from_string(body));
        }
    });
    fs::write(ws.state_file(), fake_record(dead_pid(), 1, port)).unwrap();
    let out = ws.run(&["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(ws.record().unwrap()["port"].as_u64(), Some(u64::from(port)));
    drop(answer);
}

#[test]
fn corrupted_records_of_every_kind_mean_no_daemon() {
    let full = fake_record(dead_pid(), 1, 1);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("not json", b"not-json".to_vec()),
        (
            "wrong types",
            br#"{"pid":"x","port":"y","token":7}"#.to_vec(),
        ),
        ("truncated", full.as_bytes()[..full.len() / 2].to_vec()),
        ("oversized", vec![b' '; 100 * 1024]),
    ];
    for (what, bytes) in cases {
        let ws = Workspace::browserless();
        fs::create_dir_all(ws.state_dir()).unwrap();
        fs::write(ws.state_file(), bytes).unwrap();
        let out = ws.run(&["status"]);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        assert_eq!(ws.daemons().len(), 1, "{what}");
        assert!(ws.record().is_some(), "{what}: record not rewritten");
    }
    let ws = Workspace::browserless();
    fs::create_dir_all(ws.state_file().join("junk")).unwrap();
    let out = ws.run(&["status"]);
    assert!(out.status.success(), "directory in place: {}", stderr(&out));
    assert!(ws.record().is_some());
}

#[test]
fn gstack_dir_as_a_regular_file_is_a_clear_error() {
    let ws = Workspace::browserless();
    fs::write(ws.state_dir(), "not a directory").unwrap();
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("a file exists at that path"), "{err}");
    assert_eq!(err.lines().filter(|l| !l.is_empty()).count(), 1, "{err}");
}

#[test]
fn read_only_state_dir_is_a_clear_error_and_leaves_nothing() {
    let ws = Workspace::browserless();
    fs::create_dir_all(ws.state_dir()).unwrap();
    fs::write(ws.state_dir().join("browse.lock"), "").unwrap();
    fs::write(ws.state_dir().join("browse-daemon.log"), "").unwrap();
    fs::write(ws.state_dir().join(".gitignore"), "*\n").unwrap();
    fs::set_permissions(ws.state_dir(), fs::Permissions::from_mode(0o700)).unwrap();
    // Root ignores mode bits; the immutable attribute stops root too.
    let immutable = Command::new("chattr")
        .arg("+i")
        .arg(ws.state_dir())
        .status();
    if !immutable.is_ok_and(|s| s.success()) {
        eprintln!("chattr +i unavailable here; read-only case not exercised");
        return;
    }
    let out = ws.run(&["status"]);
    let _ = Command::new("chattr")
        .arg("-i")
        .arg(ws.state_dir())
        .status();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // The leader finds out before it spawns: it cannot reserve the shared start error.
    assert!(
        stderr(&out).contains("cannot write in the state directory"),
        "{}",
        stderr(&out)
    );
    assert!(ws.daemons().is_empty());
    assert!(ws.leftover_temps().is_empty());
}

#[test]
fn a_start_failure_is_shared_by_every_waiter() {
    let ws_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = ws_port.local_addr().unwrap().port().to_string();
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_PORT", &busy);
    let outs = ws.stampede(16, &["status"]);
    for out in &outs {
        assert_eq!(out.status.code(), Some(3), "{}", stderr(out));
        let err = stderr(out);
        assert!(
            err.contains(&format!("Port {busy} (from BROWSE_PORT env) is in use")),
            "a waiter did not report the cause: {err}"
        );
    }
    assert!(ws.daemons().is_empty());
}

#[test]
fn autostart_can_be_disabled() {
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_NO_AUTOSTART", "1");
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("BROWSE_NO_AUTOSTART is set"));
    assert!(ws.daemons().is_empty());
}

#[test]
fn a_spawner_killed_before_readiness_leaves_one_working_daemon() {
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_TEST_START_DELAY_MS", "1500");
    let mut spawner = ws.spawn(&["status"]);
    wait_until("daemon process started", SETTLE, || {
        !ws.daemons().is_empty()
    });
    spawner.kill().unwrap();
    spawner.wait().unwrap();
    let outs = ws.stampede(8, &["status"]);
    assert!(outs.iter().all(|o| o.status.success()));
    assert_eq!(ws.daemons().len(), 1);
}

#[test]
fn sigkill_of_the_daemon_then_a_stampede_starts_exactly_one_new_daemon() {
    let ws = Workspace::browserless();
    sigkill_daemon_then_stampede(&ws, 8);
}

#[test]
fn a_deleted_lock_file_never_yields_a_second_daemon() {
    let ws = Workspace::browserless();
    let pid = status_pid(&ws.run(&["status"])).unwrap();
    fs::remove_file(ws.state_dir().join("browse.lock")).unwrap();
    let outs = ws.stampede(8, &["status"]);
    assert!(outs.iter().all(|o| status_pid(o) == Some(pid)));
    assert_eq!(ws.daemons(), vec![pid]);
    // The daemon re-locks the new file, so a starter finds the lock held again.
    wait_until("lock re-taken by the daemon", SETTLE, || {
        Command::new("flock")
            .args(["-n", "-x"])
            .arg(ws.state_dir().join("browse.lock"))
            .arg("true")
            .status()
            .is_ok_and(|s| !s.success())
    });
}

#[test]
fn idle_shutdown_waits_for_the_request_in_flight() {
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_IDLE_TIMEOUT", "200");
    let out = ws.run(&["__test-sleep", "1500"]);
    assert!(
        out.status.success(),
        "the in-flight request was cut: {}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "slept 1500ms\n");
    wait_until("idle daemon exited", SETTLE, || ws.daemons().is_empty());
    assert!(!ws.state_file().exists(), "idle exit left its record");
}

#[test]
fn stop_racing_in_flight_commands_drains_them() {
    let ws = Workspace::browserless();
    ws.ok(&["status"]);
    let in_flight: Vec<_> = (0..4).map(|_| ws.spawn(&["__test-sleep", "800"])).collect();
    wait_until("requests in flight", SETTLE, || {
        health(&ws).and_then(|h| h["inFlight"].as_u64()) == Some(4)
    });
    assert_eq!(ws.ok(&["stop"]), "Server stopped\n");
    assert!(ws.daemons().is_empty());
    for child in in_flight {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
}

#[test]
fn a_busy_daemon_is_kept_unless_forced() {
    let mut ws = Workspace::browserless();
    let pid = status_pid(&ws.run(&["status"])).unwrap();
    signal(pid, libc::SIGSTOP);
    ws.set("BROWSE_START_TIMEOUT", "1000");
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Daemon busy"), "{}", stderr(&out));
    assert!(
        is_live(pid),
        "a busy daemon was killed without --force-restart"
    );
    ws.set("BROWSE_START_TIMEOUT", "60000");
    let out = ws.run(&["--force-restart", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(status_pid(&out), Some(pid));
    assert!(!is_live(pid));
    assert_eq!(ws.daemons().len(), 1);
}

#[test]
fn a_newer_cli_replaces_an_older_daemon_and_an_older_cli_never_downgrades() {
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_TEST_VERSION", "0.0.1");
    let old = status_pid(&ws.run(&["status"])).unwrap();
    ws.set("BROWSE_TEST_VERSION", "0.1.0");
    let out = ws.run(&["status"]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("replacing daemon browse 0.0.1"),
        "{}",
        stderr(&out)
    );
    let new = status_pid(&out).unwrap();
    assert_ne!(new, old);
    ws.set("BROWSE_TEST_VERSION", "0.0.1");
    let out = ws.run(&["status"]);
    assert_eq!(
        status_pid(&out),
        Some(new),
        "an older CLI replaced a newer daemon"
    );
    assert_eq!(ws.daemons(), vec![new]);
}

#[test]
fn the_daemon_leaves_when_its_record_names_another_instance() {
    let ws = Workspace::browserless();
    let pid = status_pid(&ws.run(&["status"])).unwrap();
    let mut record = ws.record().unwrap();
    record["instanceId"] = "someone-else".into();
    fs::write(ws.state_file(), record.to_string()).unwrap();
    wait_until("split-brain daemon exits", SETTLE, || !is_live(pid));
    // It must not delete a record that is not its own.
    assert_eq!(ws.record().unwrap()["instanceId"], "someone-else");
}

#[test]
fn bad_usage_and_unknown_commands_fail_clearly() {
    let ws = Workspace::browserless();
    let out = ws.run(&["--tab-id"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ws.run(&["sttaus"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(ws.daemons().is_empty(), "a typo started a daemon");
    assert!(stderr(&out)
        .contains("Unknown command: 'sttaus'. Did you mean 'status'?\nAvailable commands: "));
    let help = ws.run(&["--help"]);
    assert!(help.status.success() && stdout(&help).contains("goto"));
    let listed = ws.ok(&["help"]);
    for command in ["goto", "snapshot", "click", "screenshot", "chain", "stop"] {
        assert!(
            listed.contains(&format!("  {command} ")),
            "help lacks {command}"
        );
    }
    let one = ws.ok(&["click", "--help"]);
    assert!(
        one.starts_with(
            "Usage: browse click <sel>
"
        ),
        "{one}"
    );
    assert!(ws.ok(&[]).contains("Usage: browse"));
    assert!(ws.daemons().len() <= 1);
}

#[test]
fn a_token_that_stops_matching_fails_authentication_once() {
    let ws = Workspace::browserless();
    ws.ok(&["status"]);
    let mut record = ws.record().unwrap();
    record["token"] = "ffffffff-ffff-4fff-bfff-ffffffffffff".into();
    fs::write(ws.state_file(), record.to_string()).unwrap();
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("[browse] Auth failed — server may have restarted. Retrying...")
            && err.contains("[browse] Authentication failed"),
        "{err}"
    );
    assert_eq!(
        ws.daemons().len(),
        1,
        "an auth failure must not restart the daemon"
    );
}
