//! `console`, `network` and `dialog`: print or clear the capture buffers (kept by
//! `browser::capture`, fed by every tab's events).

use crate::atomic_file::write_atomic;
use crate::browser::bodies;
use crate::browser::capture::global;
use crate::browser::confine;
use crate::browser::har;
use crate::browser::page::{CommandError, CommandResult};
use crate::browser::session::Session;

/// `console [--errors] [--clear]`.
pub fn console(_session: &Session, args: &[String]) -> CommandResult {
    if args.iter().any(|a| a == "--clear") {
        global().clear_console();
        return Ok("Console buffer cleared.".into());
    }
    let errors_only = args.iter().any(|a| a == "--errors");
    let lines = global().console_lines(errors_only);
    Ok(match (lines.is_empty(), errors_only) {
        (true, true) => "(no console errors)".into(),
        (true, false) => "(no console messages)".into(),
        (false, _) => lines.join("\n"),
    })
}

/// `network [--clear] [--capture [stop] [--filter RE]] [--bodies] [--export FILE]`: the
/// request log, or gstack's body capture (§7.4, `browser::bodies`).
pub fn network(_session: &Session, args: &[String], cwd: &std::path::Path) -> CommandResult {
    if args.iter().any(|a| a == "--capture") {
        return capture_bodies(args);
    }
    if let Some(at) = args.iter().position(|a| a == "--export") {
        return export_bodies(args.get(at + 1), cwd);
    }
    if args.iter().any(|a| a == "--bodies") {
        return Ok(bodies_summary());
    }
    if args.iter().any(|a| a == "--clear") {
        global().clear_network();
        return Ok("Network buffer cleared.".into());
    }
    let lines = global().network_lines();
    Ok(if lines.is_empty() {
        "(no network requests)".into()
    } else {
        lines.join("\n")
    })
}

/// `dialog [--clear]`.
pub fn dialog(_session: &Session, args: &[String]) -> CommandResult {
    if args.iter().any(|a| a == "--clear") {
        global().clear_dialogs();
        return Ok("Dialog buffer cleared.".into());
    }
    let lines = global().dialog_lines();
    Ok(if lines.is_empty() {
        "(no dialogs captured)".into()
    } else {
        lines.join("\n")
    })
}

/// `network --capture [--filter RE]` and `network --capture stop`, gstack's texts.
fn capture_bodies(args: &[String]) -> CommandResult {
    let capture = bodies::global();
    let after = args.iter().skip_while(|a| *a != "--capture").nth(1);
    if after.map(String::as_str) == Some("stop") {
        let (count, bytes) = capture.stop();
        return Ok(format!(
            "Network capture stopped. {count} responses captured ({}KB).",
            kb(bytes)
        ));
    }
    if capture.is_active() {
        return Ok("Capture already active. Use --capture stop first.".into());
    }
    let filter = match args.iter().position(|a| a == "--filter") {
        Some(at) => {
            let pattern = args.get(at + 1).ok_or_else(|| {
                CommandError::failed("network: --filter needs a regular expression")
            })?;
            let re = regex::Regex::new(pattern).map_err(|e| {
                CommandError::failed(format!(
                    "network: --filter {pattern:?} is not a regular expression: {e}"
                ))
            })?;
            Some((pattern.clone(), re))
        }
        None => None,
    };
    let shown = filter.as_ref().map(|(p, _)| p.clone());
    capture.start(filter.map(|(_, re)| re));
    Ok(format!(
        "Network capture started{}. Use --capture stop to stop.",
        shown.map_or_else(String::new, |p| format!(" (filter: {p})"))
    ))
}

/// gstack's `--bodies` summary: `<N> responses (<KB>KB total):` and one line per response.
fn bodies_summary() -> String {
    let (entries, total) = bodies::global().entries();
    if entries.is_empty() {
        return "No captured responses.".into();
    }
    let lines: Vec<String> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let url: String = e.url.chars().take(100).collect();
            format!(
                "  [{}] {} {url} ({}KB{})",
                i + 1,
                e.status,
                kb(e.size),
                if e.body_truncated { ", truncated" } else { "" }
            )
        })
        .collect();
    format!(
        "{} responses ({}KB total):\n{}",
        entries.len(),
        kb(total),
        lines.join("\n")
    )
}

/// `--export FILE`: gstack's JSONL (one response per line), or HAR 1.2 when FILE ends in
/// `.har`. Written atomically, 0600 (bodies may hold secrets), inside the allowed dirs.
fn export_bodies(file: Option<&String>, cwd: &std::path::Path) -> CommandResult {
    let Some(file) = file.filter(|f| !f.starts_with("--")) else {
        return Err(CommandError::failed("Usage: network --export <path>"));
    };
    let target = confine::output(cwd, file)?;
    let (entries, _) = bodies::global().entries();
    let text = if file.to_ascii_lowercase().ends_with(".har") {
        serde_json::to_string_pretty(&har::from_captured(&entries))
            .map_err(|e| CommandError::failed(format!("cannot encode the HAR: {e}")))?
            + "\n"
    } else {
        let mut out = String::new();
        for entry in &entries {
            let line = serde_json::to_string(entry)
                .map_err(|e| CommandError::failed(format!("cannot encode a response: {e}")))?;
            out.push_str(&line);
            out.push('\n');
        }
        if out.is_empty() {
            out.push('\n');
        }
        out
    };
    confine::create_parents(&target)?;
    write_atomic(&target, text.as_bytes(), 0o600)
        .map_err(|e| CommandError::failed(format!("cannot write {file}: {e}")))?;
    Ok(format!(
        "Exported {} captured responses to {file}",
        entries.len()
    ))
}

/// gstack's `Math.round(bytes / 1024)`.
fn kb(bytes: u64) -> u64 {
    (bytes as f64 / 1024.0).round() as u64
}
