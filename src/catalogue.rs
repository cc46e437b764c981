//! The command catalogue: every command's name, synopsis and one-line description, shared by
//! the CLI's help and the daemon's unknown-command errors so the two never disagree.

/// One command as users see it.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    pub name: &'static str,
    pub category: &'static str,
    pub synopsis: &'static str,
    pub description: &'static str,
}

const fn c(
    name: &'static str,
    category: &'static str,
    synopsis: &'static str,
    description: &'static str,
) -> CommandInfo {
    CommandInfo {
        name,
        category,
        synopsis,
        description,
    }
}

/// Every command, grouped by category in the order help prints them.
pub const COMMANDS: &[CommandInfo] = &[
    c(
        "goto",
        "Navigation",
        "<url>",
        "Navigate the active tab to an http(s), file or about:blank URL",
    ),
    c("back", "Navigation", "", "Go back one step in history"),
    c(
        "forward",
        "Navigation",
        "",
        "Go forward one step in history",
    ),
    c("reload", "Navigation", "", "Reload the page"),
    c("url", "Navigation", "", "Print the active tab's URL"),
    c(
        "wait",
        "Navigation",
        "<sel> [ms] | --networkidle [ms] | --load | --domcontentloaded",
        "Wait for an element to be visible, or for a load state",
    ),
    c(
        "text",
        "Reading",
        "",
        "Print the page's text, one trimmed line per line",
    ),
    c(
        "html",
        "Reading",
        "[sel]",
        "Print the page's HTML, or an element's innerHTML",
    ),
    c("links", "Reading", "", "List links as '<text> → <href>'"),
    c(
        "forms",
        "Reading",
        "",
        "List forms and their fields as JSON (secrets redacted)",
    ),
    c(
        "js",
        "Inspection",
        "<expr> [--out <file>] [--raw]",
        "Evaluate JavaScript in the page and print the result",
    ),
    c(
        "eval",
        "Inspection",
        "<file.js> [--out <file>] [--raw]",
        "Evaluate a JavaScript file in the page",
    ),
    c(
        "attrs",
        "Inspection",
        "<sel>",
        "Print an element's attributes as JSON",
    ),
    c(
        "is",
        "Inspection",
        "<visible|hidden|enabled|disabled|checked|editable|focused> <sel>",
        "Print true or false for an element state",
    ),
    c(
        "css",
        "Inspection",
        "<sel> <prop>",
        "Print an element's computed CSS property",
    ),
    c(
        "cookies",
        "Inspection",
        "",
        "List every cookie as JSON (secrets redacted)",
    ),
    c(
        "cookie",
        "Interaction",
        "<name>=<value>",
        "Set a cookie for the current page's host",
    ),
    c(
        "storage",
        "Inspection",
        "[set <key> <value>]",
        "Print localStorage and sessionStorage as JSON, or set a key",
    ),
    c(
        "snapshot",
        "Reading",
        "[-i] [-c] [-d N] [-s sel] [-D] [-C]",
        "Print the accessibility tree with @e refs for interaction",
    ),
    c(
        "click",
        "Interaction",
        "<sel>",
        "Click an element (CSS selector or @ref)",
    ),
    c(
        "fill",
        "Interaction",
        "<sel> <value>",
        "Replace an input's value",
    ),
    c(
        "select",
        "Interaction",
        "<sel> <value>",
        "Choose an option by value or label",
    ),
    c(
        "hover",
        "Interaction",
        "<sel>",
        "Move the mouse over an element",
    ),
    c(
        "type",
        "Interaction",
        "<text>",
        "Type text into the focused element",
    ),
    c(
        "press",
        "Interaction",
        "<key>",
        "Press a key or chord (Enter, Shift+Enter, Control+A)",
    ),
    c(
        "scroll",
        "Interaction",
        "[sel] [--times N] [--wait ms]",
        "Scroll an element into view, or to the bottom",
    ),
    c(
        "upload",
        "Interaction",
        "<sel> <file...>",
        "Set the files of a file input",
    ),
    c(
        "viewport",
        "Interaction",
        "<W>x<H> [--scale N]",
        "Set the viewport size for every tab",
    ),
    c(
        "dialog-accept",
        "Interaction",
        "[text]",
        "Accept dialogs from now on (with prompt text)",
    ),
    c(
        "dialog-dismiss",
        "Interaction",
        "",
        "Dismiss dialogs from now on",
    ),
    c(
        "screenshot",
        "Capture",
        "[path] [--full|--viewport] [sel] [--clip x,y,w,h] [--base64]",
        "Save a screenshot (PNG, or JPEG for .jpg)",
    ),
    c("pdf", "Capture", "[path]", "Save the page as PDF"),
    c(
        "console",
        "Capture",
        "[--errors] [--clear]",
        "Print captured console messages",
    ),
    c(
        "network",
        "Capture",
        "[--clear]",
        "Print captured network requests",
    ),
    c("dialog", "Capture", "[--clear]", "Print captured dialogs"),
    c(
        "tabs",
        "Tabs",
        "",
        "List tabs; the active one is marked with →",
    ),
    c("tab", "Tabs", "<id>", "Switch to a tab"),
    c(
        "newtab",
        "Tabs",
        "[url] [--json]",
        "Open a tab (and make it active)",
    ),
    c(
        "closetab",
        "Tabs",
        "[id]",
        "Close a tab (the active one by default)",
    ),
    c(
        "chain",
        "Server",
        "[json | 'cmd args | cmd args']",
        "Run several commands in one call (args or stdin)",
    ),
    c(
        "status",
        "Server",
        "",
        "Show the daemon's status, active URL, tab count and pid",
    ),
    c(
        "stop",
        "Server",
        "",
        "Stop the daemon and its Chromium; stopping a dead daemon succeeds",
    ),
    c(
        "restart",
        "Server",
        "",
        "Stop the daemon and start a fresh one",
    ),
    c("help", "Server", "", "List every command"),
];

/// Alternative names, resolved before dispatch.
pub const ALIASES: &[(&str, &str)] = &[];

/// The command `name` refers to, after resolving aliases.
pub fn lookup(name: &str) -> Option<&'static CommandInfo> {
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, target)| *target);
    COMMANDS.iter().find(|c| c.name == canonical)
}

/// gstack's "did you mean": only for inputs of 4+ characters, within edit distance 2 of a
/// command or alias; ties go to the alphabetically first.
pub fn suggest(input: &str) -> Option<&'static str> {
    if input.chars().count() < 4 {
        return None;
    }
    let mut candidates: Vec<(usize, &'static str)> = COMMANDS
        .iter()
        .map(|c| c.name)
        .chain(ALIASES.iter().map(|(a, _)| *a))
        .map(|name| (levenshtein(input, name), name))
        .filter(|(d, _)| *d <= 2)
        .collect();
    candidates.sort();
    candidates.first().map(|(_, name)| *name)
}

/// gstack's unknown-command error: a "did you mean" when one is close, and every name.
pub fn unknown_command(name: &str) -> crate::wire::ErrorBody {
    let mut error = format!("Unknown command: '{name}'.");
    if let Some(s) = suggest(name) {
        error.push_str(&format!(" Did you mean '{s}'?"));
    }
    crate::wire::ErrorBody::with_hint(error, format!("Available commands: {}", all_names()))
}

/// All names, sorted, joined by ", " (the hint of an unknown-command error).
pub fn all_names() -> String {
    let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.join(", ")
}

/// Help text: commands grouped by category, one line each.
pub fn help_text() -> String {
    const CATEGORIES: &[&str] = &[
        "Navigation",
        "Reading",
        "Inspection",
        "Interaction",
        "Capture",
        "Tabs",
        "Server",
    ];
    let mut out = String::from(
        "browse: drive a headless Chromium from the shell\n\n\
         Usage: browse [--force-restart] [--tab-id N] [--untrusted-envelope] <command> [args...]\n",
    );
    for category in CATEGORIES {
        out.push_str(&format!("\n{category}:\n"));
        for info in COMMANDS.iter().filter(|c| c.category == *category) {
            let usage = format!("{} {}", info.name, info.synopsis);
            help_row(&mut out, usage.trim_end(), info.description);
        }
    }
    out.push_str("\nGlobal flags:\n");
    help_row(
        &mut out,
        "--force-restart",
        "Replace a live daemon that does not answer (loses tabs and cookies)",
    );
    help_row(
        &mut out,
        "--tab-id <N>",
        "Run the command against tab N (or set BROWSE_TAB)",
    );
    help_row(
        &mut out,
        "--untrusted-envelope",
        "Wrap page content in gstack's untrusted-content markers",
    );
    out.push_str("\nRun 'browse <command> --help' for one command.\n");
    out
}

/// One `  usage   description` row; a usage too long for the column gets its own line.
fn help_row(out: &mut String, usage: &str, description: &str) {
    const COLUMN: usize = 34;
    if usage.chars().count() <= COLUMN {
        out.push_str(&format!("  {usage:<COLUMN$} {description}\n"));
    } else {
        out.push_str(&format!("  {usage}\n  {:<COLUMN$} {description}\n", ""));
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("stauts"), Some("status"));
        assert_eq!(suggest("got"), None);
        assert_eq!(suggest("zzzzzzzz"), None);
    }

    #[test]
    fn every_command_is_in_help() {
        let help = help_text();
        for info in COMMANDS {
            assert!(help.contains(info.name));
        }
    }
}
