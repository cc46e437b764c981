//! Where a call's answer goes. Plain mode keeps gstack's formats: data on stdout, errors on
//! stderr. JSON mode (`--json` or `BROWSE_JSON=1`) prints exactly one object on stdout per
//! call, success or failure, with the same exit codes:
//!
//! `{"ok":true,"command":"tabs","result":…}` or
//! `{"ok":false,"command":"goto","error":"…","hint":"…","exitCode":1}`.
//!
//! `result` is structured for the commands `structured` knows, else the text. Progress notes
//! (`[browse] Starting server...`) stay on stderr in both modes.

use std::io::Write;
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
        errln!("{prefix}{error}");
        if let Some(hint) = hint {
            errln!("{hint}");
        }
    }
    ExitCode::from(code)
}
