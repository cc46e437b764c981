//! What a workspace's files can and cannot make `browse` do (issue 8, items 1-4): a record is
//! untrusted input and never makes us signal a process we cannot prove is ours; nothing is
//! written through a symlink we did not make; a copied workspace gets its own daemon; a deleted
//! workspace stays deleted. Tests that could signal the wrong process run inside a throw-away
//! PID namespace with canary processes.

mod common;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const SETTLE: Duration = Duration::from_secs(20);

/// Shell helpers for the namespace scripts: `start_of PID` (kernel start time), `fake_record
/// DAEMON_PID DAEMON_START CHROME_PID CHROME_START` (a well-formed record with this host's name
/// and a port nobody answers on), `run ARGS` (prints `exit N browse ARGS`), and `report NAME...`
/// (prints `alive NAME` or `dead NAME` for the canaries held in those variables).
const PRELUDE: &str = r#"
set -u
start_of() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }
host=$(cat /proc/sys/kernel/hostname)
fake_record() {
  printf '{"pid":%s,"port":1,"token":"00000000-0000-4000-8000-000000000000","startedAt":"2026-01-01T00:00:00.000Z","serverPath":"/nonexistent","mode":"launched","schema":1,"instanceId":"00000000000000000000000000000000","pidStartTime":%s,"version":"0.1.0","chromePid":%s,"chromeStartTime":%s,"hostname":"%s"}\n' "$1" "$2" "$3" "$4" "$host" > .gstack/browse.json
}
run() { "$BROWSE" "$@" >/dev/null 2>>cli.err; echo "exit $? browse $*"; }
report() {
  for name in "$@"; do
    eval "pid=\$$name"
    if kill -0 "$pid" 2>/dev/null; then echo "alive $name"; else echo "dead $name"; fi
  done
}
profile="$PWD/.gstack/chromium-profile"
sleep 600 & plain=$!
setsid sleep 600 & leader=$!
setsid sh -c 'while :; do sleep 1; done' chromium "--user-data-dir=$profile" & fake_chromium=$!
mkdir -p .gstack
"#;

fn assert_all_exit_zero_and_canaries_alive(ws: &Workspace, out: &std::process::Output) {
    let text = stdout(out);
    let cli_errors = fs::read_to_string(ws.path().join("cli.err")).unwrap_or_default();
    for line in text.lines().filter(|l| l.starts_with("exit ")) {
        assert!(
            line.starts_with("exit 0 "),
            "{line}\nscript output:\n{text}\nstderr: {}\nCLI errors:\n{cli_errors}",
            stderr(out)
        );
    }
    for canary in ["plain", "leader", "fake_chromium"] {
        assert!(
            text.contains(&format!("alive {canary}\n")),
            "canary {canary} was signalled:\n{text}\nCLI errors:\n{cli_errors}"
        );
    }
}

#[test]
fn a_record_naming_pid_1_or_canaries_never_makes_us_signal_them() {
    let ws = Workspace::browserless();
    let script = format!(
        r#"{PRELUDE}
# PID 1 (this shell) with its real start time and this host's name: killpg(1) is kill(-1).
fake_record 1 "$(start_of 1)" 1 "$(start_of 1)"
run status
run stop
fake_record 1 "$(start_of 1)" 1 "$(start_of 1)"
run --force-restart status
run stop
fake_record 1 "$(start_of 1)" 1 "$(start_of 1)"
run stop --force-restart
# A dead daemon whose "Chromium" is a live group leader, or a process that even runs this
# workspace's profile flag but was never started by a daemon.
fake_record 999999 1 "$leader" "$(start_of $leader)"
run status
run stop
fake_record 999999 1 "$fake_chromium" "$(start_of $fake_chromium)"
run --force-restart status
run stop
# A "daemon" that is a live group leader with its real start time.
fake_record "$leader" "$(start_of $leader)" "$fake_chromium" "$(start_of $fake_chromium)"
run --force-restart status
run stop
fake_record "$leader" "$(start_of $leader)" "$fake_chromium" "$(start_of $fake_chromium)"
run stop --force-restart
report plain leader fake_chromium
"#
    );
    let out = run_in_pid_namespace(&ws, &script);
    assert_all_exit_zero_and_canaries_alive(&ws, &out);
}

#[test]
fn force_restart_kills_a_proven_chromium_group_and_never_a_planted_one() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    let script = format!(
        r#"{PRELUDE}
field() {{ sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p" .gstack/browse.json; }}
gone() {{ # waits up to 20 s for no live process to be left in group $1
  i=0
  while [ $i -lt 400 ]; do
    if ! ps -eo pgid=,stat= | awk -v g="$1" '$1==g && $2 !~ /^Z/' | grep -q .; then return 0; fi
    sleep 0.05; i=$((i+1))
  done
  return 1
}}
run status
daemon=$(field pid); chrome=$(field chromePid)
# A frozen daemon whose record names a planted "Chromium" running this workspace's profile.
kill -STOP "$daemon"
sed -i "s/\"chromePid\": [0-9]*/\"chromePid\": $fake_chromium/; s/\"chromeStartTime\": [0-9]*/\"chromeStartTime\": $(start_of $fake_chromium)/" .gstack/browse.json
run --force-restart status
if gone "$chrome"; then echo "old chromium group gone"; fi
# The genuine record of a frozen daemon: its Chromium group is proven and killed.
daemon=$(field pid); chrome=$(field chromePid)
kill -STOP "$daemon"
run --force-restart status
if gone "$chrome"; then echo "proven chromium group gone"; fi
run stop
report plain leader fake_chromium
"#
    );
    let out = run_in_pid_namespace(&ws, &script);
    assert_all_exit_zero_and_canaries_alive(&ws, &out);
    let text = stdout(&out);
    assert!(text.contains("old chromium group gone"), "{text}");
    assert!(text.contains("proven chromium group gone"), "{text}");
}

/// A canary file: its bytes and mode must never change.
fn canary_file(dir: &Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("canary {name}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn assert_canary_untouched(path: &Path) {
    let name = path.file_name().unwrap().to_string_lossy();
    assert_eq!(
        fs::read_to_string(path).unwrap(),
        format!("canary {name}\n"),
        "{} was written through a symlink",
        path.display()
    );
    let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "{} was chmod-ed", path.display());
}

#[test]
fn a_symlinked_state_dir_is_refused_and_its_target_untouched() {
    let ws = Workspace::browserless();
    let elsewhere = tempfile::tempdir().unwrap();
    fs::set_permissions(elsewhere.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let keep = canary_file(elsewhere.path(), "keep");
    symlink(elsewhere.path(), ws.state_dir()).unwrap();
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("is a symbolic link"), "{err}");
    assert!(err.contains("BROWSE_STATE_FILE"), "no hint: {err}");
    assert_eq!(err.lines().filter(|l| !l.is_empty()).count(), 1, "{err}");
    assert!(ws.daemons().is_empty());
    assert_canary_untouched(&keep);
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 1);
    let mode = fs::metadata(elsewhere.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o755, "the link's target was chmod-ed");
}

#[test]
fn files_in_the_state_dir_are_never_written_through_symlinks() {
    let mut ws = Workspace::browserless();
    let elsewhere = tempfile::tempdir().unwrap();
    fs::create_dir(ws.state_dir()).unwrap();
    let planted = [
        ".gitignore",
        "browse-startup-error.log",
        "browse-console.log",
        "browse-network.log",
        "browse-dialog.log",
        "browse-daemon.log",
        "browse.json",
    ];
    let canaries: Vec<_> = planted
        .iter()
        .map(|name| {
            let canary = canary_file(elsewhere.path(), name);
            symlink(&canary, ws.state_dir().join(name)).unwrap();
            canary
        })
        .collect();
    // A start that fails writes browse-startup-error.log; the next one writes the rest.
    ws.set("BROWSE_PORT", "not-a-port");
    let out = ws.run(&["status"]);
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stderr(&out).contains("BROWSE_PORT"), "{}", stderr(&out));
    ws.set("BROWSE_PORT", "");
    ws.env.retain(|(k, _)| k != "BROWSE_PORT");
    ws.ok(&["status"]);
    ws.ok(&["stop"]);
    for canary in &canaries {
        assert_canary_untouched(canary);
    }
    for name in planted {
        let link = ws.state_dir().join(name);
        if let Ok(meta) = fs::symlink_metadata(&link) {
            assert!(
                !meta.file_type().is_symlink(),
                "{name} is still a symlink we write to"
            );
        }
    }
    let profile = ws.state_dir().join("chromium-profile");
    assert!(fs::symlink_metadata(&profile).is_err() || profile.is_dir());
}

/// A workspace at `dir` with the environment of `like`.
fn workspace_at(dir: tempfile::TempDir, like: &Workspace) -> Workspace {
    Workspace {
        dir,
        env: like.env.clone(),
        browserless: like.browserless,
    }
}

#[test]
fn a_copied_workspace_gets_its_own_daemon_and_stop_there_spares_the_original() {
    let ws = Workspace::browserless();
    let original = status_pid(&ws.run(&["status"])).expect("original daemon");
    let copy_dir = tempfile::Builder::new()
        .prefix("browse-copy-")
        .tempdir()
        .unwrap();
    let copied = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", ws.path().display()))
        .arg(copy_dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    let copy = workspace_at(copy_dir, &ws);
    let out = copy.run(&["status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let second = status_pid(&out).expect("copy's daemon");
    assert_ne!(second, original, "the copy drives the original's daemon");
    assert_eq!(copy.daemons(), vec![second]);
    assert_eq!(ws.daemons(), vec![original]);
    let stopped = copy.ok(&["stop"]);
    assert!(stopped.contains("Server stopped"), "{stopped}");
    wait_until("copy's daemon gone", SETTLE, || copy.daemons().is_empty());
    assert!(is_live(original), "stop in the copy stopped the original");
    assert_eq!(status_pid(&ws.run(&["status"])), Some(original));
    // The copy's record names the original: stop there again must not touch it either.
    fs::copy(ws.state_file(), copy.state_file()).unwrap();
    copy.ok(&["stop", "--force-restart"]);
    assert!(
        is_live(original),
        "stop --force-restart in the copy killed the original"
    );
}

/// Starts the daemon and waits until it has made its start-up files (the capture logs are
/// created just after readiness), so that deleting the workspace does not race them.
fn settled_daemon(ws: &Workspace) -> u32 {
    let pid = status_pid(&ws.run(&["status"])).expect("daemon");
    wait_until("the capture logs exist", SETTLE, || {
        [
            "browse-console.log",
            "browse-network.log",
            "browse-dialog.log",
        ]
        .iter()
        .all(|n| ws.state_dir().join(n).exists())
            && ws.leftover_temps().is_empty()
    });
    pid
}

fn assert_deleted_workspace_stays_deleted(ws: &Workspace) {
    let pid = settled_daemon(ws);
    let chromium = ws.chromium_all();
    // `rm -rf` under a live Chromium can fail with "Directory not empty" (it writes its
    // profile meanwhile); a user runs it again, and so do we.
    wait_until("rm -rf of the workspace succeeds", SETTLE, || {
        fs::remove_dir_all(ws.path()).is_ok() || !ws.path().exists()
    });
    wait_until("the daemon of a deleted workspace exits", SETTLE, || {
        !is_live(pid) && chromium.iter().all(|c| !is_live(*c))
    });
    assert!(
        !ws.path().exists(),
        "the deleted workspace was re-created: {:?}",
        fs::read_dir(ws.path()).map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
    );
}

#[test]
fn a_deleted_or_replaced_workspace_stays_that_way() {
    let ws = Workspace::browserless();
    assert_deleted_workspace_stays_deleted(&ws);

    // Replaced: the state dir moved away and a new empty one put in its place.
    let ws = Workspace::browserless();
    let pid = settled_daemon(&ws);
    fs::rename(ws.state_dir(), ws.path().join("old-state")).unwrap();
    fs::create_dir(ws.state_dir()).unwrap();
    wait_until("the daemon of a replaced state dir exits", SETTLE, || {
        !is_live(pid)
    });
    let written: Vec<_> = fs::read_dir(ws.state_dir()).unwrap().flatten().collect();
    assert!(written.is_empty(), "the daemon wrote {written:?}");
}

#[test]
fn a_deleted_workspace_with_chromium_stays_deleted() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    assert_deleted_workspace_stays_deleted(&ws);
}

#[test]
fn a_symlinked_chromium_profile_is_refused_and_its_target_untouched() {
    let _slot = chromium_slot();
    let ws = Workspace::with_chromium();
    let elsewhere = tempfile::tempdir().unwrap();
    let keep = canary_file(elsewhere.path(), "keep");
    fs::create_dir(ws.state_dir()).unwrap();
    symlink(elsewhere.path(), ws.state_dir().join("chromium-profile")).unwrap();
    let out = ws.run(&["status"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("chromium-profile: it is not a directory"),
        "{}",
        stderr(&out)
    );
    assert!(ws.chromium_all().is_empty());
    assert_canary_untouched(&keep);
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 1);
}
