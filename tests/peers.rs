//! gstack's daemon is a peer (issue 8 item 10): a live gstack daemon (a record without
//! `instanceId`) is used through the shared wire protocol, gstack's `browse.json.lock` is
//! respected while a live gstack starter holds it, and a mixed stampede of our CLIs and
//! gstack's ends with one daemon.
//!
//! The fake peer is this test binary re-run as `bun …/server.ts` (argv[0] `bun`, a last
//! argument naming a `server.ts`, which libtest takes for a filter that matches nothing): it
//! speaks gstack's `/health` and `/command` and writes gstack's record, as the compatibility
//! spec (§2.3, §3.2, §3.3) says.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

const FAKE_ENV: &str = "BROWSE_TEST_FAKE_GSTACK_DIR";
const FAKE_UNHEALTHY_ENV: &str = "BROWSE_TEST_FAKE_GSTACK_UNHEALTHY";
const FAKE_TOKEN: &str = "11111111-2222-4333-8444-555555555555";
const FAKE_URL: &str = "http://fake-gstack.invalid/";

/// The fake gstack daemon's body; a no-op unless run by [`start_fake_gstack`].
#[test]
fn fake_gstack_daemon() {
    let Some(dir) = std::env::var_os(FAKE_ENV).map(PathBuf::from) else {
        return;
    };
    let state_file = PathBuf::from(std::env::var_os("BROWSE_STATE_FILE").expect("state file"));
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().expect("ip").port();
    let record = serde_json::json!({
        "pid": std::process::id(), "port": port, "token": FAKE_TOKEN,
        "startedAt": "2026-11-30T10:00:00.000Z", "serverPath": dir.join("server.ts"),
        "mode": "launched", "configHash": "303a7eeccc03078b"
    });
    let temp = state_file.with_extension("json.tmp.fake");
    fs::write(&temp, record.to_string()).expect("record");
    fs::rename(&temp, &state_file).expect("publish record");
    let log = dir.join("commands.log");
    for mut request in server.incoming_requests() {
        let json = tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap();
        if request.url() == "/health" {
            let status = if std::env::var_os(FAKE_UNHEALTHY_ENV).is_some() {
                "unhealthy"
            } else {
                "healthy"
            };
            let body = format!(
                r#"{{"status":"{status}","mode":"launched","uptime":1,"tabs":1,"terminalPort":null}}"#
            );
            let _ = request.respond(tiny_http::Response::from_string(body).with_header(json));
            continue;
        }
        let authorized = request
            .headers()
            .iter()
            .any(|h| h.field.equiv("Authorization") && h.value == format!("Bearer {FAKE_TOKEN}"));
        if !authorized {
            let _ = request.respond(
                tiny_http::Response::from_string(r#"{"error":"Unauthorized"}"#)
                    .with_status_code(401)
                    .with_header(json),
            );
            continue;
        }
        let mut body = String::new();
        let _ = request.as_reader().read_to_string(&mut body);
        let command: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let name = command["command"].as_str().unwrap_or_default().to_owned();
        let mut logged = fs::read_to_string(&log).unwrap_or_default();
        logged.push_str(&name);
        logged.push('\n');
        fs::write(&log, logged).expect("log");
        let answer = match name.as_str() {
            "url" => FAKE_URL.to_owned(),
            "status" => format!(
                "Status: healthy\nMode: launched\nURL: {FAKE_URL}\nTabs: 1\nPID: {}",
                std::process::id()
            ),
            "stop" => "Server stopped".to_owned(),
            other => format!("fake gstack ran {other}"),
        };
        let _ = request.respond(tiny_http::Response::from_string(answer));
        if name == "stop" {
            let _ = fs::remove_file(&state_file);
            std::process::exit(0);
        }
    }
}

/// Starts the fake gstack daemon for `ws` and waits until its record is published.
fn start_fake_gstack(ws: &Workspace, dir: &Path) -> Child {
    start_fake_gstack_with(ws, dir, &[])
}

fn start_fake_gstack_with(ws: &Workspace, dir: &Path, env: &[(&str, &str)]) -> Child {
    fs::create_dir_all(ws.state_dir()).expect("state dir");
    let child = Command::new(std::env::current_exe().expect("test binary"))
        .envs(env.iter().copied())
        .arg0("bun")
        .args([
            "fake_gstack_daemon",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .arg(dir.join("server.ts"))
        .env(FAKE_ENV, dir)
        .env("BROWSE_STATE_FILE", ws.state_file())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn fake gstack");
    wait_until(
        "the fake gstack daemon publishes its record",
        SETTLE,
        || ws.record().is_some_and(|r| r["token"] == FAKE_TOKEN),
    );
    child
}

const SETTLE: Duration = Duration::from_secs(20);

fn commands_seen(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("commands.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_live_gstack_daemon_is_used_its_lock_respected_and_no_second_daemon_started() {
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_START_TIMEOUT", "30000");
    let fake_dir = tempfile::tempdir().expect("fake dir");
    fs::create_dir_all(ws.state_dir()).expect("state dir");
    // A gstack starter is electing: its O_EXCL lock names it (a live process standing in).
    let mut starter = Command::new("sleep").arg("60").spawn().expect("sleep");
    let lock = ws.state_dir().join("browse.json.lock");
    fs::write(&lock, format!("{}\n", starter.id())).expect("gstack lock");
    // Our CLIs arrive while it holds the lock.
    let logs: Vec<PathBuf> = (0..4)
        .map(|i| fake_dir.path().join(format!("cli{i}.err")))
        .collect();
    let clis: Vec<Child> = logs
        .iter()
        .map(|log| {
            ws.command(&["url"])
                .stdout(Stdio::piped())
                .stderr(fs::File::create(log).expect("log"))
                .spawn()
                .expect("spawn browse")
        })
        .collect();
    wait_until("our CLIs wait for gstack's starter", SETTLE, || {
        logs.iter().any(|l| {
            fs::read_to_string(l)
                .unwrap_or_default()
                .contains("gstack's browse is starting the server")
        })
    });
    assert!(
        ws.daemons().is_empty(),
        "a daemon started under gstack's lock"
    );
    assert_eq!(
        fs::read_to_string(&lock).expect("lock").trim(),
        starter.id().to_string(),
        "gstack's lock was taken from a live starter"
    );
    // The starter's daemon comes up, and the starter lets its lock go.
    let mut fake = start_fake_gstack(&ws, fake_dir.path());
    fs::remove_file(&lock).expect("release gstack lock");
    let _ = starter.kill();
    let _ = starter.wait();
    for (cli, log) in clis.into_iter().zip(&logs) {
        let out = cli.wait_with_output().expect("wait browse");
        assert!(
            out.status.success(),
            "{}",
            fs::read_to_string(log).unwrap_or_default()
        );
        assert_eq!(stdout(&out).trim(), FAKE_URL);
    }
    // Warm: the peer is used at once, its record kept as gstack wrote it.
    assert_eq!(ws.ok(&["url"]).trim(), FAKE_URL);
    assert!(ws.daemons().is_empty(), "a second daemon was started");
    let record = ws.record().expect("record");
    assert_eq!(record["token"], FAKE_TOKEN);
    assert!(
        record.get("instanceId").is_none(),
        "gstack's record was overwritten"
    );
    assert_eq!(commands_seen(fake_dir.path()).len(), 5);
    // `stop` stops the peer through its protocol and returns once it is gone.
    let out = ws.run(&["stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = fake.wait().expect("fake exits");
    assert!(status.success());
    assert!(ws.daemons().is_empty());
}

#[test]
fn a_stale_gstack_lock_is_not_respected_and_our_daemon_takes_and_releases_it() {
    let ws = Workspace::browserless();
    fs::create_dir_all(ws.state_dir()).expect("state dir");
    let lock = ws.state_dir().join("browse.json.lock");
    // A starter that died holding it (no such pid).
    fs::write(&lock, "999999999\n").expect("stale lock");
    let out = ws.run(&["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ws.daemons().len(), 1);
    assert!(!lock.exists(), "our starter left gstack's lock behind");
}

#[test]
fn an_unhealthy_gstack_daemon_is_kept_unless_forced_and_a_fake_one_is_never_signalled() {
    let mut ws = Workspace::browserless();
    ws.set("BROWSE_START_TIMEOUT", "1500");
    let fake_dir = tempfile::tempdir().expect("fake dir");
    let mut fake = start_fake_gstack_with(&ws, fake_dir.path(), &[(FAKE_UNHEALTHY_ENV, "1")]);
    // Alive but not healthy: busy, not replaced, and no second daemon beside it.
    let out = ws.run(&["url"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Daemon busy"), "{}", stderr(&out));
    assert!(ws.daemons().is_empty(), "a second daemon beside gstack's");
    assert!(
        fake.try_wait().expect("fake").is_none(),
        "gstack's daemon was signalled"
    );
    // --force-restart replaces the proven gstack daemon (SIGINT), then starts ours.
    ws.set("BROWSE_START_TIMEOUT", "30000");
    let out = ws.run(&["--force-restart", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ended = fake.wait().expect("fake ends");
    assert!(!ended.success(), "the fake gstack daemon was not stopped");
    assert_eq!(ws.daemons().len(), 1);
    ws.ok(&["stop"]);
    // A gstack-format record naming a process that is not a gstack daemon of this workspace:
    // never signalled, even with --force-restart; the record is just stale.
    let mut bystander = Command::new("sleep").arg("60").spawn().expect("sleep");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("addr").port();
    let record = serde_json::json!({
        "pid": bystander.id(), "port": port, "token": FAKE_TOKEN,
        "startedAt": "2026-11-30T10:00:00.000Z", "serverPath": "/x/server.ts", "mode": "launched"
    });
    fs::write(ws.state_file(), record.to_string()).expect("record");
    let out = ws.run(&["--force-restart", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        bystander.try_wait().expect("sleep").is_none(),
        "a bystander was signalled"
    );
    let _ = bystander.kill();
    let _ = bystander.wait();
}

/// Live gstack daemons (`bun …/server.ts`) serving this workspace.
fn gstack_daemons(ws: &Workspace) -> Vec<u32> {
    let state_file = ws.state_file();
    live_processes()
        .into_iter()
        .filter(|p| p.cmdline.iter().any(|a| a.ends_with("server.ts")))
        .filter(|p| {
            p.environ
                .get("BROWSE_STATE_FILE")
                .is_some_and(|f| Path::new(f) == state_file)
        })
        .map(|p| p.pid)
        .collect()
}

fn gstack_cli(ws: &Workspace, gstack: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(gstack);
    cmd.args(args)
        .current_dir(ws.path())
        .env_remove("BROWSE_STATE_FILE")
        .env("BROWSE_PARENT_PID", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn real_gstack_and_browse_share_one_daemon() {
    let Ok(gstack) = std::env::var("GSTACK_BROWSE") else {
        // Straight to the stream (not eprintln!, which the test harness captures), so the
        // skip shows in every run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED real_gstack_and_browse_share_one_daemon: set GSTACK_BROWSE to gstack's \
             browse binary (and put bun on PATH) to run it"
        );
        return;
    };
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    // A mixed cold stampede: 8 of ours and 8 of gstack's.
    let mut children: Vec<(&str, Child)> = Vec::new();
    for _ in 0..8 {
        children.push(("browse", ws.spawn(&["url"])));
        children.push((
            "gstack",
            gstack_cli(&ws, &gstack, &["url"]).spawn().expect("gstack"),
        ));
    }
    for (who, child) in children {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{who}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), "about:blank", "{who}");
    }
    let total = ws.daemons().len() + gstack_daemons(&ws).len();
    assert_eq!(
        total,
        1,
        "ours {:?}, gstack's {:?}",
        ws.daemons(),
        gstack_daemons(&ws)
    );
    ws.ok(&["stop"]);
    wait_until("everything stopped", SETTLE, || {
        ws.daemons().is_empty() && gstack_daemons(&ws).is_empty()
    });
    // gstack's daemon first: ours uses it and starts none.
    let out = gstack_cli(&ws, &gstack, &["url"]).output().expect("gstack");
    assert!(out.status.success(), "{}", stderr(&out));
    let peer = gstack_daemons(&ws);
    assert_eq!(peer.len(), 1);
    assert_eq!(ws.ok(&["url"]).trim(), "about:blank");
    assert!(ws.daemons().is_empty(), "a second daemon beside gstack's");
    ws.ok(&["stop"]);
    wait_until("gstack's daemon stopped", SETTLE, || {
        gstack_daemons(&ws).is_empty()
    });
}
