//! Faults around the daemon's browser and its start (issue 8, items 5, 6, 8 and 9): a frozen
//! Chromium, a Chromium that hangs at launch, a full disk, a caller's inherited descriptor, and
//! what a graceful stop must keep. Every case runs real processes; timers are shortened through
//! the environment. The only processes signalled are ones this test started and identified
//! (the workspace's own Chromium and daemon), so no PID namespace is needed.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const SETTLE: Duration = Duration::from_secs(30);

/// The workspace's one Chromium main process, as recorded and as found in the process table.
fn recorded_chromium(ws: &Workspace) -> u32 {
    let pid = ws.record().expect("record")["chromePid"]
        .as_u64()
        .expect("chromePid") as u32;
    assert_eq!(
        ws.chromium_mains(),
        vec![pid],
        "not this workspace's Chromium"
    );
    pid
}

fn health_status(ws: &Workspace) -> Option<String> {
    Some(health(ws)?.get("status")?.as_str()?.to_owned())
}

#[test]
fn a_frozen_chromium_is_reported_at_once_and_stop_recovers() {
    let _slot = chromium_slot();
    let mut ws = Workspace::with_chromium();
    ws.set("BROWSE_BROWSER_TIMEOUT", "500");
    ws.set("BROWSE_START_TIMEOUT", "20000");
    ws.ok(&["status"]);
    let daemon = ws.daemons()[0];
    let chrome = recorded_chromium(&ws);
    signal(chrome, libc::SIGSTOP);

    // A command already waiting on the frozen browser is released with the cause.
    let began = Instant::now();
    let err = ws.fails(&["js", "1+1"]);
    assert!(
        err.contains(&format!("Chromium (pid {chrome}) is stopped")),
        "{err}"
    );
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "{:?}",
        began.elapsed()
    );

    // Once the daemon knows, every command is refused at once, with the cause and a way out.
    wait_until("/health says unhealthy", SETTLE, || {
        health_status(&ws).as_deref() == Some("unhealthy")
    });
    let began = Instant::now();
    let err = ws.fails(&["text"]);
    assert!(
        began.elapsed() < Duration::from_secs(3),
        "{:?}",
        began.elapsed()
    );
    assert!(err.contains("is stopped (SIGSTOP or a debugger)"), "{err}");
    assert!(err.contains("browse restart"), "{err}");
    let status = ws.ok(&["status"]);
    assert!(status.starts_with("Status: unhealthy\n"), "{status}");
    assert!(status.contains("Cause: Chromium"), "{status}");

    // `stop` works on it, and leaves nothing behind.
    let began = Instant::now();
    assert_eq!(ws.ok(&["stop"]), "Server stopped\n");
    assert!(
        began.elapsed() < Duration::from_secs(10),
        "{:?}",
        began.elapsed()
    );
    assert!(!is_live(daemon));
    assert!(!ws.state_file().exists(), "stop left the record");
    wait_until("the frozen Chromium's group is gone", SETTLE, || {
        ws.chromium_all().is_empty()
    });

    // The next command starts a fresh browser.
    let status = ws.ok(&["status"]);
    assert!(status.starts_with("Status: healthy\n"), "{status}");
    assert_ne!(recorded_chromium(&ws), chrome);
}

/// Runs `n` CLIs at once and returns, per CLI, its exit code and its `Server failed to start`
/// line onwards (the cause).
fn racing_causes(outs: &[std::process::Output]) -> Vec<(Option<i32>, String)> {
    outs.iter()
        .map(|o| {
            let err = stderr(o);
            let cause = err
                .find("Server failed to start")
                .map(|at| err[at..].to_owned())
                .unwrap_or(err);
            (o.status.code(), cause)
        })
        .collect()
}

#[test]
fn a_chromium_that_hangs_at_launch_is_reported_with_the_same_cause_by_every_racer() {
    let _slot = chromium_slot();
    let mut ws = Workspace::with_chromium();
    let fake = ws.path().join("hanging-chromium");
    fs::write(&fake, "#!/bin/sh\nsleep 120\n").unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    ws.set("BROWSE_CHROME", fake.to_str().unwrap());
    ws.set("BROWSE_START_TIMEOUT", "4000");
    let began = Instant::now();
    let outs = ws.stampede(8, &["status"]);
    let took = began.elapsed();
    let causes = racing_causes(&outs);
    for (code, cause) in &causes {
        assert_eq!(*code, Some(3), "{cause}");
        assert!(
            cause.contains("did not open its DevTools socket within"),
            "a racer did not get the daemon's cause: {cause}"
        );
        assert_eq!(cause, &causes[0].1, "racers printed different causes");
    }
    assert!(took < Duration::from_secs(8), "the stampede took {took:?}");
    assert!(ws.daemons().is_empty());
    wait_until("the hanging launcher is gone", SETTLE, || {
        ws.chromium_all().is_empty()
    });
}

#[test]
fn a_chromium_whose_devtools_never_answers_is_reported_by_every_racer_in_time() {
    let _slot = chromium_slot();
    // A DevTools port that accepts connections (the kernel's backlog) but never answers the
    // WebSocket handshake.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut ws = Workspace::with_chromium();
    let fake = ws.path().join("silent-chromium");
    fs::write(
        &fake,
        "#!/bin/sh\necho \"DevTools listening on ws://127.0.0.1:$SILENT_PORT/devtools/browser/x\" >&2\nsleep 120\n",
    )
    .unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    ws.set("BROWSE_CHROME", fake.to_str().unwrap());
    ws.set("SILENT_PORT", &port.to_string());
    ws.set("BROWSE_START_TIMEOUT", "4000");
    let began = Instant::now();
    let outs = ws.stampede(4, &["status"]);
    let took = began.elapsed();
    let causes = racing_causes(&outs);
    for (code, cause) in &causes {
        assert_eq!(*code, Some(3), "{cause}");
        assert!(
            cause.contains("did not finish starting within"),
            "a racer did not get the daemon's cause: {cause}"
        );
        assert_eq!(cause, &causes[0].1, "racers printed different causes");
    }
    assert!(took < Duration::from_secs(8), "the stampede took {took:?}");
    wait_until("daemon and fake Chromium gone", SETTLE, || {
        ws.daemons().is_empty() && ws.chromium_all().is_empty()
    });
}

/// Runs `script` with `sh` inside a private mount namespace (`unshare -m`, as root), so that
/// the tmpfs it mounts disappears with it. `$BROWSE`, `$WS` and the workspace's environment
/// are set.
fn in_own_mount_namespace(ws: &Workspace, script: &str) -> std::process::Output {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-ec", script])
        .current_dir(ws.path())
        .env("BROWSE", BROWSE)
        .env("WS", ws.path())
        .env_remove("BROWSE_STATE_FILE")
        .stdin(Stdio::null());
    for (k, v) in &ws.env {
        cmd.env(k, v);
    }
    cmd.output().expect("run unshare")
}

#[test]
fn a_full_disk_is_reported_by_every_racer_and_the_daemon_does_not_panic() {
    let ws = Workspace::browserless();
    let racers = 6;
    // A state dir on a 1 MiB tmpfs that was used once (so its files exist), whose daemon log
    // ends on a page boundary, then the disk is filled: every further byte fails with ENOSPC.
    let script = format!(
        r#"
        mkdir -p "$WS/.gstack" "$WS/out"
        mount -t tmpfs -o size=1m,mode=0700 tmpfs "$WS/.gstack"
        "$BROWSE" status >/dev/null 2>&1
        "$BROWSE" stop >/dev/null 2>&1
        log="$WS/.gstack/browse-daemon.log"
        size=$(stat -c %s "$log")
        pad=$(( (4096 - size % 4096) % 4096 ))
        head -c "$pad" /dev/zero | tr '\0' '\n' >>"$log"
        dd if=/dev/zero of="$WS/.gstack/filler" bs=4096 2>/dev/null || true
        if printf x >>"$WS/.gstack/probe" 2>/dev/null; then echo "disk not full"; exit 9; fi
        for i in $(seq 1 {racers}); do
          ( rc=0; "$BROWSE" status >"$WS/out/$i.out" 2>"$WS/out/$i.err" || rc=$?; echo $rc >"$WS/out/$i.rc" ) &
        done
        wait
        "#
    );
    let out = in_own_mount_namespace(&ws, &script);
    assert!(
        out.status.success(),
        "set-up failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let mut causes = Vec::new();
    for i in 1..=racers {
        let read = |ext: &str| fs::read_to_string(ws.path().join(format!("out/{i}.{ext}")));
        let rc = read("rc").unwrap();
        let err = read("err").unwrap();
        assert_eq!(rc.trim(), "3", "racer {i}: {err}");
        assert!(!err.contains("101"), "the daemon panicked: {err}");
        let cause = err[err.find("Server failed to start").expect(&err)..].to_owned();
        assert!(
            cause.contains("No space left on device"),
            "racer {i}: {cause}"
        );
        causes.push(cause);
    }
    assert!(
        causes.iter().all(|c| c == &causes[0]),
        "racers printed different causes: {causes:#?}"
    );
    assert!(ws.daemons().is_empty());
}

#[test]
fn output_that_cannot_be_written_is_not_a_panic() {
    let ws = Workspace::browserless();
    let devfull = || {
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let out = ws
        .command(&["help"])
        .stdout(devfull())
        .stderr(devfull())
        .status()
        .unwrap();
    assert_ne!(out.code(), Some(101), "the CLI panicked on a failed write");
    let out = ws
        .command(&["stop"])
        .stdout(devfull())
        .stderr(devfull())
        .status()
        .unwrap();
    assert_eq!(out.code(), Some(0));
}

#[test]
fn a_callers_inherited_descriptor_is_not_held_by_the_daemon_or_chromium() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    // fd 7 is the write end of the pipe `cat` reads: `cat` ends only once nobody holds it.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", r#"( exec 7>&1; "$BROWSE" status ) | cat"#])
        .current_dir(ws.path())
        .env("BROWSE", BROWSE)
        .env_remove("BROWSE_STATE_FILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    for (k, v) in &ws.env {
        cmd.env(k, v);
    }
    let mut pipeline = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let finished = loop {
        if pipeline.try_wait().unwrap().is_some() {
            break true;
        }
        if Instant::now() >= deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !finished {
        // Only the pipeline's own process group, which this test started.
        unsafe { libc::killpg(pipeline.id() as i32, libc::SIGKILL) };
        let _ = pipeline.wait();
    }
    assert!(
        finished,
        "the pipeline hung: the daemon or Chromium holds the caller's descriptor"
    );
    let out = pipeline.wait_with_output().unwrap();
    assert!(
        stdout(&out).starts_with("Status: healthy\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(ws.daemons().len(), 1, "the daemon should live on");
}

/// How the daemon is made to exit in [`user_data_survives`].
enum Exit {
    Stop,
    Sigterm,
    Idle,
}

/// Sets a persistent cookie (`max-age=86400`) and a localStorage item from a page on
/// 127.0.0.1, makes the daemon exit at once by `how`, starts a fresh one and reads them back.
fn user_data_survives(how: Exit) {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[
        (
            "/set.html",
            "<p>set</p><script>document.cookie = 'kept=yes; max-age=86400; path=/';\
             localStorage.setItem('keptItem', 'also-kept');</script>",
        ),
        ("/read.html", "<p>read</p>"),
    ]);
    let mut ws = Workspace::with_chromium();
    if let Exit::Idle = how {
        ws.set("BROWSE_IDLE_TIMEOUT", "300");
    }
    ws.ok(&["goto", &pages.url("/set.html")]);
    match how {
        Exit::Stop => assert_eq!(ws.ok(&["stop"]), "Server stopped\n"),
        Exit::Sigterm => {
            let daemon = ws.daemons()[0];
            signal(daemon, libc::SIGTERM);
            wait_until("daemon exited on SIGTERM", SETTLE, || !is_live(daemon));
        }
        Exit::Idle => wait_until("idle daemon exited", SETTLE, || ws.daemons().is_empty()),
    }
    wait_until("old Chromium gone", SETTLE, || ws.chromium_all().is_empty());
    ws.set("BROWSE_IDLE_TIMEOUT", "1800000");
    ws.ok(&["goto", &pages.url("/read.html")]);
    let cookies = ws.ok(&["cookies"]);
    assert!(
        cookies.contains("\"kept\"") && cookies.contains("\"yes\""),
        "the persistent cookie was lost: {cookies}\n{}",
        ws.daemon_log_tail()
    );
    let storage = ws.ok(&["storage"]);
    assert!(
        storage.contains("also-kept"),
        "localStorage was lost: {storage}"
    );
}

#[test]
fn a_cookie_set_just_before_stop_survives_the_restart() {
    user_data_survives(Exit::Stop);
}

#[test]
fn a_cookie_set_just_before_sigterm_survives_the_restart() {
    user_data_survives(Exit::Sigterm);
}

#[test]
fn a_cookie_set_just_before_idle_shutdown_survives_the_restart() {
    user_data_survives(Exit::Idle);
}
