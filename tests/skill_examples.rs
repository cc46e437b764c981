//! SKILL.md's examples are real: every ```console block in it is run, in document order, in
//! one workspace with a real Chromium, against the demo site below, and each command's output
//! must match what the guide shows. Edit the guide and this test fails until the shown output
//! is what `browse` really prints.
//!
//! The format (also described in an HTML comment at the top of SKILL.md):
//! - A ```console block holds commands and their output. A line starting with `$ ` is a
//!   command: optional `NAME=value` environment words, then `browse` and its arguments, split
//!   like a POSIX shell (single and double quotes, backslash escapes). An unquoted word starting
//!   with `#` begins a comment; a comment `# exit N` says the command exits with N (else 0).
//! - The lines after a command, up to the next command or the block's end, are its output:
//!   stdout and stderr as a terminal shows them (both go to one pipe, in the order written).
//! - `...` alone on a line matches any number of lines (zero too); `...` inside a line matches
//!   any characters within that line (pids, timestamps, sizes).
//! - `http://127.0.0.1:8080` stands for the demo site served by this test (its real port
//!   differs) and is replaced in commands and output alike.
//! - Blocks of any other language (```sh) are not run, so they must not show output: a `$ `
//!   line in one is an error.
//!
//! `SKILL_EXAMPLES_PRINT=1` prints every command's real output, to update the guide.

mod common;

use std::io::{Read, Seek};
use std::process::Stdio;

use common::*;

const SKILL: &str = include_str!("../SKILL.md");

/// The address the guide's examples use for the demo site.
const DOC_BASE: &str = "http://127.0.0.1:8080";

const HOME: &str = r#"<!doctype html><title>Acme</title>
<h1>Acme</h1>
<p>Tools for makers.</p>
<a href="/login">Sign in</a> <a href="/about">About us</a>
"#;

/// A login form that, once submitted, is replaced by a greeting 300 ms later (a DOM change
/// that makes the form's refs stale, and something to `wait` for).
const LOGIN: &str = r#"<!doctype html><title>Sign in</title>
<h1>Sign in</h1>
<form id="login">
<label>Email <input name="email" type="email"></label>
<label>Password <input name="password" type="password"></label>
<label>Plan <select name="plan"><option value="free">Free</option><option value="pro">Pro</option></select></label>
<label><input type="checkbox" name="remember"> Remember me</label>
<button type="submit">Sign in</button>
</form>
<script>
document.getElementById('login').addEventListener('submit', (e) => {
  e.preventDefault();
  const email = e.target.email.value;
  setTimeout(() => {
    const p = document.createElement('p');
    p.id = 'welcome';
    p.textContent = 'Hello, ' + email;
    e.target.replaceWith(p);
  }, 300);
});
</script>
"#;

const ABOUT: &str = r#"<!doctype html><title>About</title>
<h1>About us</h1>
<p>Acme makes tools.</p>
"#;

/// A button that appears 500 ms after load and counts its clicks (auto-wait).
const FEED: &str = r#"<!doctype html><title>Feed</title>
<h1>Feed</h1>
<ul id="items"><li>First post</li></ul>
<script>
setTimeout(() => {
  const b = document.createElement('button');
  b.id = 'more';
  b.textContent = 'Load more';
  b.onclick = () => {
    const li = document.createElement('li');
    li.textContent = 'Second post';
    document.getElementById('items').append(li);
  };
  document.body.append(b);
}, 500);
</script>
"#;

/// One `$ …` line of a console block and the output shown under it.
#[derive(Debug, Clone, PartialEq)]
struct Example {
    /// 1-based line in SKILL.md, for failure messages.
    line: usize,
    command: String,
    env: Vec<(String, String)>,
    args: Vec<String>,
    exit: i32,
    expected: Vec<String>,
}

/// Every console block's commands, in document order, or what is malformed (with its line).
fn examples(doc: &str) -> Result<Vec<Example>, String> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    let mut in_other = false;
    for (i, line) in doc.lines().enumerate() {
        let line_no = i + 1;
        if let Some(info) = line.trim_start().strip_prefix("```") {
            if in_console || in_other {
                in_console = false;
                in_other = false;
            } else if info.trim() == "console" {
                in_console = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if in_other && line.starts_with("$ ") {
            return Err(format!(
                "SKILL.md:{line_no}: a `$ ` command with output belongs in a ```console block"
            ));
        }
        if !in_console {
            continue;
        }
        if let Some(command) = line.strip_prefix("$ ") {
            out.push(parse_command(line_no, command)?);
        } else {
            let example = out.last_mut().ok_or(format!(
                "SKILL.md:{line_no}: output before any `$ ` command"
            ))?;
            example.expected.push(line.to_owned());
        }
    }
    if in_console || in_other {
        return Err("SKILL.md: a code block is not closed".into());
    }
    Ok(out)
}

fn parse_command(line: usize, command: &str) -> Result<Example, String> {
    let (words, comment) = shell_words(command);
    let exit = match comment.as_deref().map(str::trim) {
        Some(c) if c.starts_with("exit ") => c["exit ".len()..]
            .trim()
            .parse()
            .map_err(|_| format!("SKILL.md:{line}: bad `# exit N` comment: {c}"))?,
        _ => 0,
    };
    let mut env = Vec::new();
    let mut rest = words.into_iter().peekable();
    while let Some(word) = rest.next_if(|w| {
        w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        })
    }) {
        let (k, v) = word.split_once('=').expect("checked above");
        env.push((k.to_owned(), v.to_owned()));
    }
    if rest.next().as_deref() != Some("browse") {
        return Err(format!(
            "SKILL.md:{line}: a console command must run `browse`: {command}"
        ));
    }
    Ok(Example {
        line,
        command: command.to_owned(),
        env,
        args: rest.collect(),
        exit,
        expected: Vec::new(),
    })
}

/// POSIX-shell word splitting (quotes, backslashes) and the trailing `#` comment, if any.
fn shell_words(line: &str) -> (Vec<String>, Option<String>) {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '#' if word.is_none() => return (words, Some(chars.collect())),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            w.extend(chars.next());
                        }
                        _ => w.push(c),
                    }
                }
            }
            '\\' => {
                word.get_or_insert_with(String::new).extend(chars.next());
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    (words, None)
}

/// True when `actual` matches `pattern`, where `...` matches any characters.
fn line_matches(pattern: &str, actual: &str) -> bool {
    let mut parts = pattern.split("...");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// True when the `actual` lines match the `expected` ones, where a `...` line matches any
/// number of lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(first, a) && lines_match(rest, more)),
    }
}

/// Runs one example; its stdout and stderr share one file, as on a terminal.
fn run(ws: &Workspace, example: &Example) -> (Option<i32>, String) {
    let mut merged = tempfile::tempfile().expect("output file");
    let mut cmd = ws.command(&example.args.iter().map(String::as_str).collect::<Vec<_>>());
    cmd.stdout(Stdio::from(merged.try_clone().expect("dup")))
        .stderr(Stdio::from(merged.try_clone().expect("dup")));
    for (k, v) in &example.env {
        cmd.env(k, v);
    }
    let status = cmd.status().expect("run browse");
    let mut text = String::new();
    merged.rewind().expect("rewind");
    merged.read_to_string(&mut text).expect("read output");
    (status.code(), text)
}

#[test]
fn every_console_example_in_skill_md_prints_what_it_shows() {
    let _slot = chromium_slot();
    let site = PageServer::start(&[
        ("/", HOME),
        ("/login", LOGIN),
        ("/about", ABOUT),
        ("/feed", FEED),
    ]);
    let doc = SKILL.replace(DOC_BASE, &site.base);
    let examples = examples(&doc).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        examples.len() >= 30,
        "SKILL.md has only {} console examples; was the format changed?",
        examples.len()
    );
    let print = std::env::var_os("SKILL_EXAMPLES_PRINT").is_some();
    let ws = Workspace::with_chromium();
    let mut failures = Vec::new();
    for example in &examples {
        let (code, output) = run(&ws, example);
        let actual: Vec<&str> = output.lines().collect();
        if print {
            println!("$ {}  [exit {code:?}]\n{output}", example.command);
        }
        if code != Some(example.exit) || !lines_match(&example.expected, &actual) {
            failures.push(format!(
                "SKILL.md:{}: $ {}\n  exit: expected {}, got {code:?}\n  expected:\n{}\n  actual:\n{}",
                example.line,
                example.command,
                example.exit,
                indent(&example.expected.join("\n")),
                indent(&output)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} SKILL.md examples differ from real output (demo site at {}):\n\n{}",
        failures.len(),
        examples.len(),
        site.base,
        failures.join("\n\n")
    );
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    |{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The checker itself can fail: wrong lines, extra or missing lines, wrong exit codes in the
/// comment, and commands other than `browse` are all caught.
#[test]
fn the_example_format_is_parsed_and_matched_strictly() {
    let doc = "text\n```console\n$ browse goto 'http://x/?a b' # exit 1\nNavigated ... (200)\n\
               ...\nlast\n```\n```sh\nbrowse stop   # not run\n```\n";
    let parsed = examples(doc).expect("valid examples");
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].args, ["goto", "http://x/?a b"]);
    assert_eq!(parsed[0].exit, 1);
    assert_eq!(parsed[0].line, 3);
    let expected = &parsed[0].expected;
    assert!(lines_match(expected, &["Navigated to x (200)", "last"]));
    assert!(lines_match(
        expected,
        &["Navigated to x (200)", "a", "b", "last"]
    ));
    assert!(!lines_match(expected, &["Navigated to x (404)", "last"]));
    assert!(!lines_match(expected, &["Navigated to x (200)"]));
    assert!(!lines_match(
        expected,
        &["Navigated to x (200)", "last", "extra"]
    ));
    assert!(!lines_match(&["a".into()], &["a", "b"]));
    assert!(!lines_match(&["a".into(), "b".into()], &["a"]));
    assert!(line_matches("PID: ...", "PID: 42"));
    assert!(!line_matches("a...a", "a"));

    let with_env = examples("```console\n$ BROWSE_TAB=2 browse \"a \\\"b\\\"\" c\\ d '#x'\n```\n")
        .expect("valid example");
    assert_eq!(with_env[0].env, [("BROWSE_TAB".into(), "2".into())]);
    assert_eq!(with_env[0].args, ["a \"b\"", "c d", "#x"]);
    assert_eq!(with_env[0].exit, 0);

    assert!(examples("```console\n$ ls\n```\n").is_err());
    assert!(examples("```console\norphan output\n```\n").is_err());
    assert!(examples("```console\n$ browse url # exit one\n```\n").is_err());
    assert!(examples("```console\n$ browse url\n").is_err());
    assert!(examples("```sh\n$ browse url\nhttp://x/\n```\n").is_err());
}
