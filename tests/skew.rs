//! Version skew (issue 8 item 7): CLIs of two versions racing in one workspace. A newer CLI
//! replaces an older daemon at most once per race, never while another CLI is between its
//! health check and its command, and every CLI of both versions exits 0.

mod common;

use std::process::{Child, Output};

use common::*;

const OLD: &str = "0.1.0";
const NEW: &str = "0.2.0";

fn spawn_as(ws: &Workspace, version: &str, args: &[&str]) -> Child {
    ws.command(args)
        .env("BROWSE_TEST_VERSION", version)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn browse")
}

fn run_as(ws: &Workspace, version: &str, args: &[&str]) -> Output {
    spawn_as(ws, version, args)
        .wait_with_output()
        .expect("wait browse")
}

/// `n` CLIs released together, alternating the old and the new version.
fn mixed_stampede(ws: &Workspace, n: usize) -> Vec<(&'static str, Output)> {
    let children: Vec<(&str, Child)> = (0..n)
        .map(|i| {
            let version = if i % 2 == 0 { OLD } else { NEW };
            (version, spawn_as(ws, version, &["status"]))
        })
        .collect();
    children
        .into_iter()
        .map(|(v, c)| (v, c.wait_with_output().expect("wait browse")))
        .collect()
}

fn count_lines(outputs: &[(&str, Output)], needle: &str) -> usize {
    outputs
        .iter()
        .map(|(_, o)| stderr(o).matches(needle).count())
        .sum()
}

/// One race: every CLI exits 0, at most one daemon start besides `cold_starts`, at most one
/// replacement, and exactly one daemon at the end, never older than the version that
/// replaced it.
fn race_and_check(ws: &Workspace, n: usize, cold_starts: usize) {
    let outputs = mixed_stampede(ws, n);
    let all_stderr: Vec<String> = outputs
        .iter()
        .map(|(v, o)| format!("[{v}] {}", stderr(o)))
        .collect();
    for (version, out) in &outputs {
        assert!(
            out.status.success(),
            "a {version} CLI failed ({}): {}\nall CLIs:\n{}",
            out.status,
            stderr(out),
            all_stderr.join("\n")
        );
    }
    let replacements = count_lines(&outputs, "replacing daemon browse");
    let starts = count_lines(&outputs, "[browse] Starting server");
    assert!(
        replacements <= 1,
        "{replacements} replacements in one race:\n{}",
        all_stderr.join("\n")
    );
    assert!(
        starts <= cold_starts + 1,
        "{starts} daemon starts in one race:\n{}",
        all_stderr.join("\n")
    );
    let daemons = ws.daemons();
    assert_eq!(
        daemons.len(),
        1,
        "daemons at the end: {daemons:?}\n{}",
        all_stderr.join("\n")
    );
    let version = health(ws).expect("the daemon answers")["version"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if replacements == 1 {
        assert_eq!(version, NEW, "the replacement was undone");
    }
    // Every CLI was answered by a daemon: the one of the end, or the one it replaced.
    let answered: std::collections::BTreeSet<Option<u32>> =
        outputs.iter().map(|(_, o)| status_pid(o)).collect();
    assert!(
        !answered.contains(&None) && answered.len() <= 1 + replacements,
        "answered by {answered:?}"
    );
}

fn stop_all(ws: &Workspace) {
    let out = run_as(ws, NEW, &["stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ws.daemons().is_empty());
}

#[test]
fn a_mixed_version_stampede_replaces_an_older_daemon_at_most_once() {
    let ws = Workspace::browserless();
    for _round in 0..3 {
        // An older daemon runs when the race begins: the case that made replacements
        // ping-pong and CLIs fail with "Server crashed twice in a row".
        let out = run_as(&ws, OLD, &["status"]);
        assert!(out.status.success(), "{}", stderr(&out));
        race_and_check(&ws, 16, 0);
        stop_all(&ws);
    }
    // Cold: the first daemon is started by either version.
    race_and_check(&ws, 16, 1);
}

#[test]
fn a_mixed_version_stampede_with_chromium_replaces_at_most_once() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    let out = run_as(&ws, OLD, &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    race_and_check(&ws, 8, 0);
    assert_eq!(ws.chromium_mains().len(), 1, "one Chromium at the end");
    stop_all(&ws);
    race_and_check(&ws, 8, 1);
    assert_eq!(ws.chromium_mains().len(), 1, "one Chromium at the end");
}

#[test]
fn a_cli_between_its_health_check_and_its_command_keeps_the_daemon() {
    let ws = Workspace::browserless();
    let old = status_pid(&run_as(&ws, OLD, &["status"])).expect("old daemon");
    let (port, token) = ws.endpoint();
    // An older CLI checks the daemon's health (its command is yet to come)...
    let probe = ureq::get(&format!("http://127.0.0.1:{port}/health"))
        .set("x-browse-caller", "an-older-cli")
        .call()
        .expect("health");
    assert_eq!(probe.status(), 200);
    // ...so a newer CLI does not pull the daemon from under it.
    let out = run_as(&ws, NEW, &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("it is busy, so it is kept for now"),
        "{}",
        stderr(&out)
    );
    assert_eq!(status_pid(&out), Some(old));
    // Its command arrives: the daemon is no longer awaited, and the next newer CLI replaces it.
    let reply = ureq::post(&format!("http://127.0.0.1:{port}/command"))
        .set("x-browse-caller", "an-older-cli")
        .set("Authorization", &format!("Bearer {token}"))
        .send_string(r#"{"command":"status"}"#)
        .expect("command");
    assert_eq!(reply.status(), 200);
    let out = run_as(&ws, NEW, &["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("replacing daemon browse 0.1.0 with browse 0.2.0"),
        "{}",
        stderr(&out)
    );
    assert_ne!(status_pid(&out), Some(old));
    assert_eq!(ws.daemons().len(), 1);
}
