//! The CLI contract a script can rely on (issue 11): relative paths are the caller's, a named
//! tab that does not exist is an error, unknown flags and wrong arity are usage errors (exit 2)
//! answered before any daemon or browser starts, and `--` ends the flags.

mod common;

use common::*;

/// Runs `browse` in `ws` and asserts a usage error that started nothing.
fn assert_usage_error(ws: &Workspace, args: &[&str], expect: &str) {
    let out = ws.run(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(
        stderr(&out).contains(expect),
        "{args:?}: stderr lacks {expect:?}: {}",
        stderr(&out)
    );
    assert!(
        !ws.state_dir().exists(),
        "{args:?} created {} (a usage error must not start anything)",
        ws.state_dir().display()
    );
}

#[test]
fn usage_errors_exit_2_without_starting_anything() {
    let ws = Workspace::with_chromium();
    assert_usage_error(&ws, &["goto"], "Usage: browse goto <url>");
    assert_usage_error(&ws, &["goto", "a", "b"], "at most 1 argument");
    assert_usage_error(&ws, &["status", "--json"], "Unknown status flag: --json");
    assert_usage_error(&ws, &["tabs", "--json"], "Unknown tabs flag: --json");
    assert_usage_error(&ws, &["text", "--json"], "Unknown text flag: --json");
    assert_usage_error(&ws, &["stop", "--all"], "Unknown stop flag: --all");
    assert_usage_error(&ws, &["snapshot", "-x"], "Unknown snapshot flag: -x");
    assert_usage_error(&ws, &["snapshot", "-d"], "-d needs a value");
    assert_usage_error(&ws, &["--verbose", "status"], "--verbose");
    assert_usage_error(&ws, &["url", "extra"], "'url' takes no arguments");
    assert!(ws.daemons().is_empty());
}

#[test]
fn help_for_one_command_lists_its_flags() {
    let ws = Workspace::with_chromium();
    for args in [&["help", "snapshot"][..], &["snapshot", "--help"][..]] {
        let help = ws.ok(args);
        assert!(help.starts_with("Usage: browse snapshot"), "{help}");
        assert!(help.contains("-i, --interactive"), "{help}");
        assert!(help.contains("-d, --depth <N>"), "{help}");
    }
    assert!(!ws.state_dir().exists());
}

#[test]
fn relative_paths_are_the_callers_and_named_tabs_must_exist() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/p.html", "<title>p</title><p>hello</p>")]);
    let ws = Workspace::with_chromium();
    let sub = ws.path().join("sub").join("dir");
    std::fs::create_dir_all(&sub).expect("subdir");
    std::fs::write(sub.join("t.js"), "6 * 7").expect("script");
    let in_sub = |args: &[&str]| {
        let out = ws.command(args).current_dir(&sub).output().expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    };
    in_sub(&["goto", &pages.url("/p.html")]);
    assert_eq!(in_sub(&["eval", "t.js"]), "42\n");
    in_sub(&["screenshot", "rel.png"]);
    assert!(
        sub.join("rel.png").is_file(),
        "the screenshot lands in the caller's dir"
    );
    assert!(!ws.path().join("rel.png").exists());
    in_sub(&["js", "document.title", "--out", "title.txt"]);
    assert!(sub.join("title.txt").is_file());

    // `--` ends flags: the word after it is the command's, even if it looks like one.
    assert_eq!(ws.ok(&["js", "--", "-1"]), "-1\n");

    for args in [
        &["--tab-id", "99", "url"][..],
        &["--tab-id", "99", "text"][..],
    ] {
        let out = ws.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains("Tab 99 not found"),
            "{}",
            stderr(&out)
        );
    }
    let mut pinned = ws.command(&["text"]);
    let out = pinned.env("BROWSE_TAB", "99").output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Tab 99 not found"));
    assert_eq!(ws.ok(&["--tab-id", "1", "text"]), "hello\n");
}
