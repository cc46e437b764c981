//! `console`, `network` and `dialog`: print or clear the capture buffers (kept by
//! `browser::capture`, fed by every tab's events).

use crate::browser::capture::global;
use crate::browser::page::CommandResult;
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

/// `network [--clear]`.
pub fn network(_session: &Session, args: &[String]) -> CommandResult {
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
