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
    assert_usage_error(
        &ws,
        &["status", "--verbose"],
        "Unknown status flag: --verbose",
    );
    assert_usage_error(&ws, &["tabs", "--all"], "Unknown tabs flag: --all");
    assert_usage_error(&ws, &["text", "--raw"], "Unknown text flag: --raw");
    assert_usage_error(&ws, &["stop", "--bogus"], "Unknown stop flag: --bogus");
    assert_usage_error(&ws, &["snapshot", "-x"], "Unknown snapshot flag: -x");
    assert_usage_error(&ws, &["snapshot", "-d"], "Usage: snapshot -d <value>");
    assert_usage_error(&ws, &["--verbose", "status"], "--verbose");
    assert_usage_error(&ws, &["url", "extra"], "'url' takes no arguments");
    assert!(ws.daemons().is_empty());
}

/// Parses the one line `browse --json …` printed and checks the documented envelope.
fn json_answer(out: &std::process::Output) -> serde_json::Value {
    let text = stdout(out);
    assert_eq!(text.lines().count(), 1, "one JSON object per call: {text}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("stdout is JSON");
    let ok = value["ok"].as_bool().expect("ok is a boolean");
    assert!(value["command"].is_string(), "{value}");
    assert_eq!(ok, out.status.success(), "{value}");
    if ok {
        assert!(value.get("result").is_some(), "{value}");
    } else {
        assert!(value["error"].is_string(), "{value}");
        assert_eq!(value["exitCode"].as_i64(), out.status.code().map(i64::from));
    }
    value
}

#[test]
fn each_subcommand_with_too_few_or_too_many_words_is_a_usage_error() {
    let ws = Workspace::with_chromium();
    for (args, expect) in [
        (&["set", "device"][..], "Usage: browse set device <name>"),
        (&["set", "geo", "1", "2", "3", "4"], "Usage: browse set geo"),
        (&["set", "timezone"], "Usage: browse set timezone <id>"),
        (
            &["set", "locale", "en", "fr"],
            "Usage: browse set locale <tag>",
        ),
        (
            &["set", "media", "dark", "reduced-motion", "x"],
            "Usage: browse set media",
        ),
        (
            &["set", "offline", "on", "now"],
            "Usage: browse set offline [on|off]",
        ),
        (&["mouse", "move", "1"], "Usage: browse mouse move <x> <y>"),
        (
            &["mouse", "down", "left", "right"],
            "Usage: browse mouse down [button]",
        ),
        (
            &["mouse", "up", "left", "right"],
            "Usage: browse mouse up [button]",
        ),
        (&["mouse", "wheel"], "Usage: browse mouse wheel <dy> [dx]"),
        (
            &["storage", "set"],
            "Usage: browse storage set <key> [value]",
        ),
        (&["storage", "clear", "now"], "Usage: browse storage clear"),
        (&["is", "visible"], "Usage: browse is <property> <selector>"),
        (&["state", "load"], "Usage: state save|load <name>"),
    ] {
        assert_usage_error(&ws, args, expect);
    }
}

#[test]
fn json_mode_prints_one_object_per_call_with_structured_results() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[(
        "/j.html",
        "<title>J</title><a href='/x'>X link</a><button>Go</button><input placeholder=User value=alice><script>console.log('hi')</script>",
    )]);
    let ws = Workspace::with_chromium();
    let run = |args: &[&str]| json_answer(&ws.run(args));
    assert_eq!(run(&["--json", "goto", &pages.url("/j.html")])["ok"], true);
    let status = run(&["status", "--json"])["result"].clone();
    assert_eq!(status["status"], "healthy");
    assert!(status["pid"].is_u64() && status["tabs"] == 1, "{status}");
    let tabs = run(&["--json", "tabs"])["result"].clone();
    assert_eq!(tabs[0]["title"], "J");
    assert_eq!(tabs[0]["active"], true);
    let links = run(&["--json", "links"])["result"].clone();
    assert_eq!(links[0]["text"], "X link");
    assert!(links[0]["href"].as_str().is_some_and(|h| h.ends_with("/x")));
    let snapshot = run(&["--json", "snapshot", "-i"])["result"].clone();
    let nodes = snapshot["nodes"].as_array().expect("nodes");
    assert!(
        nodes.iter().any(|n| n["ref"] == "@e2"
            && n["role"] == "button"
            && n["name"] == "Go"
            && n["depth"] == 0),
        "{snapshot}"
    );
    assert!(
        nodes
            .iter()
            .any(|n| n["role"] == "textbox" && n["value"] == "alice"),
        "{snapshot}"
    );
    let console = run(&["--json", "console"])["result"].clone();
    assert!(
        console
            .as_array()
            .is_some_and(|c| c.iter().any(|e| e["level"] == "log" && e["text"] == "hi")),
        "{console}"
    );
    let network = run(&["--json", "network"])["result"].clone();
    assert!(
        network
            .as_array()
            .is_some_and(|n| n.iter().any(|e| e["status"] == 200 && e["method"] == "GET")),
        "{network}"
    );
    assert_eq!(run(&["--json", "is", "visible", "button"])["result"], true);
    assert_eq!(run(&["--json", "text"])["result"], "X linkGo");

    // Failures are JSON on stdout too, with the same exit codes.
    let failed = ws.run(&["--json", "click", "#missing"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(json_answer(&failed)["error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    let usage = ws
        .command(&["goto"])
        .env("BROWSE_JSON", "1")
        .output()
        .expect("run");
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(json_answer(&usage)["error"], "Usage: browse goto <url>");
    assert_eq!(run(&["--json", "stop"])["result"], "Server stopped");
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

/// `console`/`network`/`dialog --clear` only empty their buffer and say so (gstack's
/// `read-commands.ts`; `tests/commands_capture.rs` checks the answer): the help must not
/// promise the entries first. `route --content-type` goes with `--body` as well as
/// `--body-file`, so the usage line must not tie it to `--body-file`.
#[test]
fn help_says_what_clear_and_route_content_type_do() {
    let ws = Workspace::with_chromium();
    for (command, answer) in [
        ("console", "Console buffer cleared."),
        ("network", "Network buffer cleared."),
        ("dialog", "Dialog buffer cleared."),
    ] {
        let help = ws.ok(&[command, "--help"]);
        let clear = help
            .lines()
            .find(|l| l.trim_start().starts_with("--clear"))
            .unwrap_or_else(|| panic!("{command} --help has no --clear line: {help}"));
        assert!(!clear.contains("print, then"), "{command}: {clear}");
        assert!(clear.contains(answer), "{command}: {clear}");
    }
    let route = ws.ok(&["route", "--help"]);
    assert!(
        route.starts_with(
            "Usage: browse route <pattern> [--abort | --status N --body TEXT | --body-file F] [--content-type T]"
        ),
        "{route}"
    );
    assert!(!ws.state_dir().exists(), "help starts nothing");
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

#[test]
fn chain_strict_stops_at_the_first_failure_and_the_pipe_form_keeps_quotes() {
    let _slot = chromium_slot();
    let pages = PageServer::start(&[("/c.html", "<p class=x>value x</p>")]);
    let ws = Workspace::with_chromium();
    let url = pages.url("/c.html");

    // gstack's default: every step runs, the chain succeeds as a whole.
    let out = ws.run(&["chain", &format!("goto {url} | click #missing | url")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("[click] ERROR:"));
    assert!(stdout(&out).contains(&format!("[url] {url}")));

    // --strict: stops at step 2, exit 1, names the step; step 3 never ran.
    ws.ok(&["goto", "about:blank"]);
    let out = ws.run(&[
        "chain",
        "--strict",
        &format!("goto {url} | click #missing | goto about:blank"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("[click] ERROR:"), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("[goto] Navigated to "),
        "the steps that ran stay on stdout: {}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("ERROR"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("stopped at step 2 of 3 (click)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        ws.ok(&["url"]),
        format!("{url}\n"),
        "step 3 must not have run"
    );
    // A failing step's hint: on its own line without --strict; with it, the JSON error
    // stays the step's one line and the hint leads with the step's own.
    let out = ws.run(&["chain", "tab 99 | url"]);
    assert!(
        stdout(&out).starts_with(
            "[tab] ERROR: Tab 99 not found\nRun 'browse tabs' for the open tabs' ids.\n\n[url] "
        ),
        "{}",
        stdout(&out)
    );
    let out = ws.run(&["--json", "chain", "--strict", "url | tab 99 | url"]);
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(answer["error"], "[tab] ERROR: Tab 99 not found", "{answer}");
    assert_eq!(
        answer["hint"],
        "Run 'browse tabs' for the open tabs' ids. chain --strict stopped at step 2 of 3 (tab); \
         later steps did not run",
        "{answer}"
    );

    // Quotes inside a word stay; steps may come one per line on stdin.
    let mut child = ws
        .command(&["chain", "--strict"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn chain");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "goto {url}").expect("write");
        writeln!(stdin, "js document.querySelector(\".x\").textContent").expect("write");
    }
    let out = child.wait_with_output().expect("chain");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("[js] value x"), "{}", stdout(&out));
}

/// `list` and `stop --all` see every daemon of the user on the machine, so this runs inside a
/// throw-away PID namespace: there they see exactly the two started here, and nothing a
/// concurrent test (or the developer) runs.
#[test]
fn list_and_stop_all_cover_every_workspace_and_nothing_else() {
    let ws = Workspace::browserless();
    let script = r#"
        set -e
        mkdir -p one/.git two/.git
        (cd one && "$BROWSE" status >/dev/null)
        (cd two && "$BROWSE" status >/dev/null)
        "$BROWSE" list
        echo ---
        "$BROWSE" --json list
        echo ---
        "$BROWSE" stop --all
        echo ---
        "$BROWSE" list
    "#;
    let out = run_in_pid_namespace(&ws, script);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let parts: Vec<&str> = text.split("---\n").collect();
    assert_eq!(parts.len(), 4, "{text}");
    let root = ws.path().canonicalize().expect("canonical root");
    for name in ["one", "two"] {
        let dir = root.join(name).display().to_string();
        assert!(
            parts[0].contains(&format!("{dir}  pid ")),
            "list lacks {dir}: {}",
            parts[0]
        );
        assert!(parts[2].contains(&format!("Stopped {dir}")), "{}", parts[2]);
    }
    assert_eq!(parts[0].lines().count(), 2, "{}", parts[0]);
    assert!(
        parts[1].starts_with("{\"command\":\"list\",\"ok\":true"),
        "{}",
        parts[1]
    );
    assert_eq!(parts[3], "(no daemons running)\n");
}

#[test]
fn version_status_no_start_logs_and_completions_start_nothing() {
    let ws = Workspace::browserless();
    let version = ws.ok(&["version"]);
    assert!(
        version.starts_with(&format!("browse {} (protocol ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    assert!(version.contains("daemon not running"));
    let out = ws.run(&["status", "--no-start"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "Status: not running\n");
    for shell in ["bash", "zsh", "fish"] {
        let script = ws.ok(&["completions", shell]);
        assert!(
            script.contains("snapshot") && script.contains("interactive"),
            "{shell}"
        );
    }
    let skill = ws.ok(&["skill"]);
    assert!(skill.starts_with("# Driving `browse`"), "{skill}");
    assert!(skill.contains("snapshot -i"));
    assert!(ws.daemons().is_empty(), "a local command started a daemon");

    ws.ok(&["status"]);
    assert!(ws
        .ok(&["status", "--no-start"])
        .starts_with("Status: healthy"));
    assert!(ws
        .ok(&["version"])
        .contains("\ndaemon 0.1.0 (protocol 1, pid "));
    let logs = ws.ok(&["logs", "-n", "2"]);
    assert_eq!(logs.lines().count(), 2, "{logs}");
    let doctor = ws.ok(&["doctor"]);
    for check in [
        "Chromium: ",
        "state dir: ",
        "filesystem: ",
        "loopback: ",
        "daemon: running",
    ] {
        assert!(doctor.contains(check), "doctor lacks {check:?}: {doctor}");
    }
    ws.ok(&["stop"]);
    let doctor = ws.ok(&["doctor"]);
    assert!(
        doctor.contains("[ok  ] cold start: daemon and Chromium ready in "),
        "{doctor}"
    );
    assert!(ws.daemons().is_empty(), "doctor leaves no daemon behind");
}
