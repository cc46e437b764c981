//! `chain`: several commands in one call, in gstack's JSON form (`[["goto","url"],["text"]]`)
//! or its pipe form (`goto url | text`, one step per ` | ` or per line; a word that starts
//! with a double quote runs to the closing one, quotes inside a word are kept).
//!
//! Each sub-command goes through [`Session::execute`], so it is dispatched, pinned and
//! enveloped exactly as if it had been sent alone. By default (gstack) the chain never stops
//! at an error and always succeeds as a whole; failures appear as `[<label>] ERROR: <message>`
//! blocks. With `--strict` it stops at the first failure and fails, naming the step.
//!
//! Lifecycle commands are the daemon's, not the session's: `status` is answered here with the
//! same text the server gives (the daemon is this process), while `stop` and `restart` are
//! refused inside a chain, since ending the daemon halfway through a chain helps nobody.

use serde_json::Value;

use crate::browser::page::{CommandError, CommandResult};
use crate::browser::session::Session;
use crate::catalogue;
use crate::wire::CommandRequest;

const USAGE: &str = "Usage: echo '[[\"goto\",\"url\"],[\"text\"]]' | browse chain\n   \
                     or: browse chain 'goto url | click @e5 | snapshot -ic'";

/// Runs the chain given in `req.args` (`[--strict] <input>`).
pub fn run(session: &Session, req: &CommandRequest) -> CommandResult {
    let strict = req.args.iter().any(|a| a == "--strict");
    let input = req
        .args
        .iter()
        .find(|a| *a != "--strict")
        .map(|s| s.trim())
        .unwrap_or_default();
    if input.is_empty() {
        return Err(CommandError::failed(USAGE));
    }
    let commands = parse(input)?;
    let total = commands.len();
    let mut blocks = Vec::with_capacity(total);
    for (step, words) in commands.into_iter().enumerate() {
        let name = words.first().cloned().unwrap_or_default();
        let (block, failed) = run_one(session, req, words);
        match failed {
            Some(hint) if strict => {
                // The steps that ran go to stdout, the failing one and why the chain stopped
                // to stderr: a script keeps what succeeded. The step's own hint leads ours.
                let stopped = format!(
                    "chain --strict stopped at step {} of {total} ({name}); later steps did not run",
                    step + 1
                );
                let failed = CommandError::failed(block);
                let mut error = match hint {
                    Some(hint) => failed.add_hint(&hint),
                    None => failed,
                }
                .add_hint(&stopped);
                error.body.output = (!blocks.is_empty()).then(|| blocks.join("\n\n"));
                return Err(error);
            }
            // gstack's block is the error line; the hint, when there is one, follows it on
            // a line of its own, as the command alone prints it.
            Some(Some(hint)) => blocks.push(format!("{block}\n{hint}")),
            _ => blocks.push(block),
        }
    }
    Ok(blocks.join("\n\n"))
}

/// One step's `[label] result` block (`[label] ERROR: <error>` when it failed) and, when it
/// failed, `Some` of the error's hint.
fn run_one(
    session: &Session,
    parent: &CommandRequest,
    words: Vec<String>,
) -> (String, Option<Option<String>>) {
    let mut words = words.into_iter();
    let Some(name) = words.next() else {
        return ("[] ERROR: empty command".into(), Some(None));
    };
    let args: Vec<String> = words.collect();
    let canonical = catalogue::lookup(&name).map(|c| c.name);
    let label = match canonical {
        Some(c) if c != name => format!("{name}→{c}"),
        _ => name.clone(),
    };
    let outcome = match canonical {
        Some("chain") => Err(CommandError::failed(
            "Nested chain commands are not allowed",
        )),
        Some("status") => Ok(session.status_text()),
        Some(lifecycle @ ("stop" | "restart")) => Err(CommandError::failed(format!(
            "'{lifecycle}' cannot run inside chain; run it on its own"
        ))),
        _ => session.execute(&CommandRequest {
            command: name,
            args,
            tab_id: parent.tab_id,
            envelope: parent.envelope,
            cwd: parent.cwd.clone(),
        }),
    };
    match outcome {
        Ok(result) => (format!("[{label}] {result}"), None),
        Err(e) => (
            format!("[{label}] ERROR: {}", e.body.error),
            Some(e.body.hint),
        ),
    }
}

/// JSON first (an array of word arrays); anything that is not a JSON array is the pipe form.
fn parse(input: &str) -> Result<Vec<Vec<String>>, CommandError> {
    match serde_json::from_str::<Value>(input) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Array(words) => Ok(words.into_iter().map(word).collect()),
                _ => Err(CommandError::failed(
                    "chain: each command must be a JSON array of words, e.g. [[\"goto\",\"url\"],[\"text\"]]",
                )),
            })
            .collect(),
        _ => Ok(input
            .lines()
            .flat_map(|line| line.split(" | "))
            .map(str::trim)
            .filter(|segment| !segment.is_empty())
            .map(tokenize)
            .collect()),
    }
}

/// A JSON word as JavaScript's `String(v)` would give it.
fn word(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Splits a pipe segment on spaces. A double quote that opens a word groups it up to the
/// closing quote, and both vanish (`fill #q "hello world"`); a quote inside a word is part
/// of it (`js document.querySelector(".x").value`).
fn tokenize(segment: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in segment.chars() {
        match ch {
            '"' if quoted => quoted = false,
            '"' if current.is_empty() => quoted = true,
            ' ' if !quoted => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(ch),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(
            parse(r#"[["goto","http://x"],["wait",500],["text"]]"#).unwrap(),
            vec![vec!["goto", "http://x"], vec!["wait", "500"], vec!["text"]]
        );
        assert_eq!(
            parse(r#"goto http://x | fill #q "hello world" |  | text"#).unwrap(),
            vec![
                vec!["goto", "http://x"],
                vec!["fill", "#q", "hello world"],
                vec!["text"]
            ]
        );
        assert!(parse(r#"[1]"#).is_err());
    }

    #[test]
    fn quotes_group_and_vanish() {
        assert_eq!(tokenize(r#"js "a  b"c d"#), vec!["js", "a  bc", "d"]);
        assert_eq!(
            tokenize(r#"js document.querySelector(".x").value"#),
            vec!["js", r#"document.querySelector(".x").value"#]
        );
    }

    #[test]
    fn pipe_form_takes_one_step_per_line_too() {
        assert_eq!(
            parse("goto http://x\ntext | url\n\n").unwrap(),
            vec![vec!["goto", "http://x"], vec!["text"], vec!["url"]]
        );
    }
}
