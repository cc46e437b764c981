//! Where a call's answer goes. Plain mode keeps gstack's formats: data on stdout, errors on
//! stderr. JSON mode (`--json` or `BROWSE_JSON=1`) prints exactly one object on stdout per
//! call, success or failure, with the same exit codes:
//!
//! `{"ok":true,"command":"tabs","result":…}` or
//! `{"ok":false,"command":"goto","error":"…","hint":"…","exitCode":1}`.
//!
//! `result` is structured for the commands `structured` knows, else the text. Progress notes
//! (`[browse] Starting server...`) stay on stderr in both modes.
//!
//! Page content (text, link names, titles, script errors) is the page's to choose, control
//! characters too: printed to a terminal, `ESC [2J` clears it and `ESC ]0;…` retitles it. On a
//! terminal, plain mode shows them as Unicode control pictures instead (`␛[2J`,
//! [`visible_controls`]); a pipe or file gets the bytes as they are, as gstack prints them.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::OnceLock;

use serde_json::{json, Value};

use super::structured;

static JSON: OnceLock<bool> = OnceLock::new();
static PARTIAL: OnceLock<String> = OnceLock::new();
static COMMAND: OnceLock<String> = OnceLock::new();

/// Chooses the mode for this call (first call wins).
pub fn set_json(on: bool) {
    let _ = JSON.set(on);
}

/// Names the command the answer is for (first call wins).
pub fn set_command(name: &str) {
    let _ = COMMAND.set(name.to_owned());
}

/// True in JSON mode.
pub fn json() -> bool {
    JSON.get().copied().unwrap_or(false)
}

fn command() -> &'static str {
    COMMAND.get().map_or("", String::as_str)
}

/// A successful answer; exit 0.
pub fn result(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    if json() {
        let value = json!({
            "ok": true,
            "command": command(),
            "result": structured::result(command(), text),
        });
        let _ = writeln!(out, "{value}");
    } else {
        let text = for_stream(text, std::io::stdout().is_terminal());
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}

/// What a failing command produced before it failed (`chain --strict`'s completed steps):
/// on stdout now in plain mode, followed by a blank line as between chain blocks; in JSON mode
/// carried as the error object's `output`.
pub fn partial(text: Option<&str>) {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return;
    };
    if json() {
        let _ = PARTIAL.set(text.to_owned());
        return;
    }
    let text = for_stream(text, std::io::stdout().is_terminal());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}\n");
    let _ = out.flush();
}

/// A failure with exit `code`. In plain mode `error` and `hint` go to stderr, `error` with
/// the `[browse] ` prefix when `ours` (the CLI's own words, not the daemon's).
pub fn error(code: u8, error: &str, hint: Option<&str>, ours: bool) -> ExitCode {
    if json() {
        let mut value = json!({
            "ok": false,
            "command": command(),
            "error": error,
            "exitCode": code,
        });
        if let Some(hint) = hint {
            value["hint"] = Value::String(hint.to_owned());
        }
        if let Some(partial) = PARTIAL.get() {
            value["output"] = Value::String(partial.clone());
        }
        outln!("{value}");
    } else {
        let prefix = if ours { "[browse] " } else { "" };
        let tty = std::io::stderr().is_terminal();
        errln!("{prefix}{}", for_stream(error, tty));
        if let Some(hint) = hint {
            errln!("{}", for_stream(hint, tty));
        }
    }
    ExitCode::from(code)
}

/// A note the daemon left besides its answer, on stderr as `[browse] <note>` (both modes:
/// notes are not data). A note may quote a page's words, so a terminal gets its control
/// characters as pictures, as it does the answer's.
pub fn note(note: &str) {
    errln!(
        "[browse] {}",
        for_stream(note, std::io::stderr().is_terminal())
    );
}

/// `text` as it may be written to a stream: unchanged unless the stream is a terminal.
fn for_stream(text: &str, terminal: bool) -> Cow<'_, str> {
    if terminal {
        visible_controls(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` with every control character a terminal would act on shown as a picture of it:
/// C0 controls but line feed and tab as U+2400 + code (`ESC` as `␛`, `CR` as `␍`), `DEL` as
/// `␡`, and the C1 controls (U+0080-U+009F, `CSI` among them) as `�`.
fn visible_controls(text: &str) -> Cow<'_, str> {
    let acts = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                c if !acts(c) => c,
                '\u{7f}' => '\u{2421}',
                c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
                _ => '\u{fffd}',
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_a_terminal_acts_on_are_shown_not_sent() {
        assert_eq!(
            visible_controls("a\u{1b}[2Jb\u{1b}]0;t\u{7}c\rd\u{7f}\u{9b}e"),
            "a\u{241b}[2Jb\u{241b}]0;t\u{2407}c\u{240d}d\u{2421}\u{fffd}e"
        );
        // Lines, tabs and text are left as they are, without a copy.
        assert!(matches!(
            visible_controls("é\tx\n→"),
            Cow::Borrowed("é\tx\n→")
        ));
        assert_eq!(for_stream("\u{1b}[31m", false), "\u{1b}[31m");
    }
}
