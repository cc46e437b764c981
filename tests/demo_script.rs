//! `scripts/demo` leaves nothing behind: its scratch folder (site copy, the daemon's state and
//! Chromium profile) is removed when it succeeds, when a step fails and when it is signalled.
//! The script runs for real (real `browse`, real Chromium, its own fixture server); a wrapper
//! around `browse` records the folder each call ran in and plays the failure or the signal.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{chromium_slot, BROWSE};

/// A `browse` wrapper in `dir` that appends its working directory to `dir/calls`, then acts
/// as `extra` says for the command named first (`fail`: exit 1; `term`: SIGTERM its parent,
/// the demo's shell) and otherwise runs the real `browse`.
fn wrapper(dir: &Path, command: &str, extra: &str) -> PathBuf {
    let path = dir.join("browse");
    let action = match extra {
        "fail" => "exit 1".to_owned(),
        "term" => format!("kill -TERM $PPID; exec {BROWSE} \"$@\""),
        _ => format!("exec {BROWSE} \"$@\""),
    };
    let script = format!(
        "#!/usr/bin/env bash\npwd >> {calls}\nif [[ \"$1\" == \"{command}\" ]]; then {action}; fi\nexec {BROWSE} \"$@\"\n",
        calls = dir.join("calls").display()
    );
    fs::write(&path, script).expect("wrapper");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Runs `scripts/demo` with `browse` = the wrapper and `TMPDIR` = a fresh folder; returns the
/// exit code, the folders the wrapper saw it run in (the demo's scratch folder among them),
/// the temp folder and the output.
fn run_demo(command: &str, extra: &str) -> (Option<i32>, Vec<PathBuf>, tempfile::TempDir, String) {
    let bin = tempfile::tempdir().expect("bin dir");
    let tmp = tempfile::tempdir().expect("tmp dir");
    let browse = wrapper(bin.path(), command, extra);
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/demo"))
        .env("BROWSE_DEMO_BIN", &browse)
        .env("TMPDIR", tmp.path())
        .env_remove("BROWSE_STATE_FILE")
        .output()
        .expect("run scripts/demo");
    let calls = fs::read_to_string(bin.path().join("calls")).unwrap_or_default();
    let folders = calls.lines().map(PathBuf::from).collect();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if extra.is_empty() {
        // The screenshot is kept beside the binary, out of the scratch folder.
        assert!(
            bin.path().join("demo-welcome.png").is_file(),
            "no screenshot kept:\n{text}"
        );
    }
    (out.status.code(), folders, tmp, text)
}

/// The scratch folder the demo ran its steps in, which must be gone.
fn assert_cleaned(folders: &[PathBuf], tmp: &Path, text: &str) {
    let work = folders
        .iter()
        .find(|f| f.starts_with(tmp))
        .unwrap_or_else(|| panic!("no step ran in a folder under {tmp:?}: {folders:?}\n{text}"));
    assert!(!work.exists(), "{work:?} was left behind\n{text}");
    let left: Vec<_> = fs::read_dir(tmp).expect("tmp").flatten().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}\n{text}");
}

#[test]
fn the_demo_removes_its_scratch_folder_on_success_failure_and_sigterm() {
    let _slot = chromium_slot();
    let (code, folders, tmp, text) = run_demo("none", "");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("demo: screenshot at"), "{text}");
    assert_cleaned(&folders, tmp.path(), &text);

    let (code, folders, tmp, text) = run_demo("click", "fail");
    assert_eq!(code, Some(1), "{text}");
    assert_cleaned(&folders, tmp.path(), &text);

    let (code, folders, tmp, text) = run_demo("text", "term");
    assert_eq!(code, Some(143), "{text}");
    assert!(!text.contains("demo: screenshot at"), "{text}");
    assert_cleaned(&folders, tmp.path(), &text);
}
