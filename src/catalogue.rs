//! The command catalogue: every command's name, synopsis and one-line description, shared by
//! the CLI's help and the daemon's unknown-command errors so the two never disagree.

/// One command as users see it.
#[derive(Debug, Clone, Copy)]
pub struct CommandInfo {
    pub name: &'static str,
    pub category: &'static str,
    pub synopsis: &'static str,
    pub description: &'static str,
    /// The fewest words (positional or flags) the command needs.
    pub min_words: usize,
    /// The most positional words it takes; [`ANY`] for no limit.
    pub max_positional: usize,
    /// Every flag it accepts; the CLI refuses any other (exit 2) before starting a daemon.
    pub flags: &'static [Flag],
    /// gstack's own usage line where it words it differently from `browse <name> <synopsis>`
    /// (scripts may match it); see [`CommandInfo::usage_line`].
    pub gstack_usage: Option<&'static str>,
}

/// No limit on positional words (`type`, `js`, `chain`, …).
pub const ANY: usize = usize::MAX;

/// One flag of one command: `--long`, an optional one-letter alias, and the name of its value
/// when it takes one (`--depth N`, also written `--depth=N`).
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub value: Option<&'static str>,
    pub help: &'static str,
}

/// A flag without a value.
const fn switch(long: &'static str, help: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        value: None,
        help,
    }
}

/// A flag that takes a value.
const fn valued(long: &'static str, value: &'static str, help: &'static str) -> Flag {
    Flag {
        long,
        short: None,
        value: Some(value),
        help,
    }
}

impl Flag {
    /// The same flag with a one-letter alias (`-i` for `--interactive`).
    const fn or(mut self, short: char) -> Flag {
        self.short = Some(short);
        self
    }
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
        min_words: 0,
        max_positional: 0,
        flags: &[],
        gstack_usage: None,
    }
}

impl CommandInfo {
    /// Takes at least `min` words and at most `max` positional ones.
    const fn words(mut self, min: usize, max: usize) -> Self {
        self.min_words = min;
        self.max_positional = max;
        self
    }

    const fn flags(mut self, flags: &'static [Flag]) -> Self {
        self.flags = flags;
        self
    }

    const fn gstack_usage(mut self, line: &'static str) -> Self {
        self.gstack_usage = Some(line);
        self
    }

    /// The usage line printed for a wrong command line: gstack's words where it has its own,
    /// else `Usage: browse <name> <synopsis>`.
    pub fn usage_line(&self) -> String {
        match self.gstack_usage {
            Some(line) => line.to_owned(),
            None => format!("Usage: browse {} {}", self.name, self.synopsis)
                .trim_end()
                .to_owned(),
        }
    }

    /// The flag `word` names (`--depth`, `-d`), if this command has it.
    pub fn flag(&self, word: &str) -> Option<&'static Flag> {
        let flags: &'static [Flag] = self.flags;
        if let Some(long) = word.strip_prefix("--") {
            flags.iter().find(|f| &f.long[2..] == long)
        } else {
            let mut chars = word.strip_prefix('-')?.chars();
            let (Some(letter), None) = (chars.next(), chars.next()) else {
                return None;
            };
            flags.iter().find(|f| f.short == Some(letter))
        }
    }
}

/// `--out <file>` and `--raw` of `js` and `eval`.
const OUT_FLAGS: &[Flag] = &[
    valued(
        "--out",
        "FILE",
        "write the result to FILE instead of stdout",
    ),
    switch("--raw", "write strings without JSON quoting"),
];

/// Every command, grouped by category in the order help prints them.
pub const COMMANDS: &[CommandInfo] = &[
    c(
        "goto",
        "Navigation",
        "<url>",
        "Navigate the active tab to an http(s), file or about:blank URL",
    )
    .words(1, 1),
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
    )
    .words(1, 2)
    .flags(&[
        switch(
            "--networkidle",
            "wait until the network is idle (500 ms without requests)",
        ),
        switch("--load", "wait for the load event"),
        switch("--domcontentloaded", "wait for DOMContentLoaded"),
    ]),
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
    )
    .words(0, 1),
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
    )
    .words(1, ANY)
    .flags(OUT_FLAGS),
    c(
        "eval",
        "Inspection",
        "<file.js> [--out <file>] [--raw]",
        "Evaluate a JavaScript file in the page",
    )
    .words(1, 1)
    .flags(OUT_FLAGS),
    c(
        "attrs",
        "Inspection",
        "<sel>",
        "Print an element's attributes as JSON",
    )
    .words(1, 1),
    c(
        "is",
        "Inspection",
        "<visible|hidden|enabled|disabled|checked|editable|focused> <sel>",
        "Print true or false for an element state",
    )
    .words(2, 2),
    c(
        "css",
        "Inspection",
        "<sel> <prop>",
        "Print an element's computed CSS property",
    )
    .words(2, 2),
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
    )
    .words(1, 1),
    c(
        "storage",
        "Inspection",
        "[set <key> <value>]",
        "Print localStorage and sessionStorage as JSON, or set a key",
    )
    .words(0, ANY),
    c(
        "snapshot",
        "Reading",
        "[-i] [-c] [-d N] [-s sel] [-D] [-C]",
        "Print the accessibility tree with @e refs for interaction",
    )
    .flags(&[
        switch(
            "--interactive",
            "only interactive elements (and the cursor scan)",
        )
        .or('i'),
        switch("--compact", "drop empty structural nodes").or('c'),
        valued("--depth", "N", "at most N levels deep").or('d'),
        valued("--selector", "SEL", "only the subtree of SEL").or('s'),
        switch("--diff", "unified diff against the previous snapshot").or('D'),
        switch(
            "--cursor-interactive",
            "add @c refs for clickable elements with no ARIA role",
        )
        .or('C'),
        valued("--output", "PATH", "where annotated screenshots go").or('o'),
        switch("--annotate", "annotated screenshot (not supported yet)").or('a'),
        switch("--heatmap", "heatmap screenshot (not supported yet)").or('H'),
    ]),
    c(
        "click",
        "Interaction",
        "<sel>",
        "Click an element (CSS selector or @ref)",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse click <selector>"),
    c(
        "fill",
        "Interaction",
        "<sel> <value>",
        "Replace an input's value",
    )
    .words(2, ANY)
    .gstack_usage("Usage: browse fill <selector> <value>"),
    c(
        "select",
        "Interaction",
        "<sel> <value>",
        "Choose the first option whose value or label matches",
    )
    .words(2, ANY)
    .gstack_usage("Usage: browse select <selector> <value>"),
    c(
        "hover",
        "Interaction",
        "<sel>",
        "Move the mouse over an element",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse hover <selector>"),
    c(
        "type",
        "Interaction",
        "<text>",
        "Type text into the focused element",
    )
    .words(1, ANY),
    c(
        "press",
        "Interaction",
        "<key>",
        "Press a key or chord (Enter, Shift+Enter, Control+A)",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse press <key> (e.g., Enter, Tab, Escape)"),
    c(
        "scroll",
        "Interaction",
        "[sel] [--times N] [--wait ms]",
        "Scroll an element into view, or to the bottom",
    )
    .words(0, 1)
    .flags(&[
        valued("--times", "N", "scroll to the bottom N times"),
        valued("--wait", "MS", "pause between scrolls"),
    ]),
    c(
        "upload",
        "Interaction",
        "<sel> <file...>",
        "Set the files of a file input",
    )
    .words(2, ANY)
    .gstack_usage("Usage: browse upload <selector> <file1> [file2...]"),
    c(
        "viewport",
        "Interaction",
        "<W>x<H> [--scale N]",
        "Set the viewport size for every tab",
    )
    .words(1, 1)
    .flags(&[valued("--scale", "N", "device scale factor")])
    .gstack_usage("Usage: browse viewport [<WxH>] [--scale <n>]  (e.g. 375x812, or --scale 2 to keep current size)"),
    c(
        "dialog-accept",
        "Interaction",
        "[text]",
        "Accept dialogs from now on (with prompt text)",
    )
    .words(0, ANY),
    c(
        "dialog-dismiss",
        "Interaction",
        "",
        "Dismiss dialogs from now on",
    ),
    c(
        "screenshot",
        "Capture",
        "[path] [--full|--viewport] [sel] [--clip x,y,w,h] [--base64] [--max-size px]",
        "Save a screenshot (PNG, or JPEG for .jpg); full pages over 2000 px are scaled down and say so",
    )
    .words(0, 2)
    .flags(&[
        switch("--full", "the whole page (the default)"),
        switch("--viewport", "only the visible viewport"),
        valued("--selector", "SEL", "only the element SEL"),
        valued(
            "--clip",
            "X,Y,W,H",
            "only this rectangle (CSS px, page coordinates)",
        ),
        switch("--base64", "print a data: URL instead of writing a file"),
        valued(
            "--max-size",
            "PX",
            "scale a full page down to at most PX on its longest side (default 2000; 0: never)",
        ),
    ]),
    c("pdf", "Capture", "[path]", "Save the page as PDF")
        .words(0, 1)
        .flags(&[
            valued(
                "--format",
                "SIZE",
                "paper: Letter, Legal, Tabloid, Ledger, A3, A4, A5",
            ),
            valued("--page-size", "SIZE", "same as --format"),
            switch("--landscape", "landscape orientation"),
            switch("--print-background", "print background graphics"),
        ]),
    c(
        "console",
        "Capture",
        "[--errors] [--clear]",
        "Print captured console messages",
    )
    .flags(&[
        switch("--errors", "only errors and warnings"),
        switch("--clear", "print, then empty the buffer"),
    ]),
    c(
        "network",
        "Capture",
        "[--clear]",
        "Print captured network requests",
    )
    .flags(&[switch("--clear", "print, then empty the buffer")]),
    c("dialog", "Capture", "[--clear]", "Print captured dialogs")
        .flags(&[switch("--clear", "print, then empty the buffer")]),
    c(
        "tabs",
        "Tabs",
        "",
        "List tabs; the active one is marked with →",
    ),
    c("tab", "Tabs", "<id>", "Switch to a tab").words(1, 1),
    c(
        "newtab",
        "Tabs",
        "[url] [--json]",
        "Open a tab (and make it active)",
    )
    .words(0, 1)
    .flags(&[switch("--json", "print {\"tabId\":N,\"url\":…}")]),
    c(
        "closetab",
        "Tabs",
        "[id]",
        "Close a tab (the active one by default)",
    )
    .words(0, 1),
    c(
        "chain",
        "Server",
        "[--strict] [json | 'cmd args | cmd args']",
        "Run several commands in one call (args or stdin)",
    )
    .words(0, ANY)
    .flags(&[switch(
        "--strict",
        "stop at the first failing step and exit 1, naming it",
    )]),
    c(
        "status",
        "Server",
        "",
        "Show the daemon's status, active URL, tab count and pid",
    )
    .flags(&[switch("--no-start", "report \"Status: not running\" (exit 1) instead of starting a daemon")]),
    c(
        "stop",
        "Server",
        "",
        "Stop the daemon and its Chromium; stopping a dead daemon succeeds",
    )
    .flags(&[switch("--all", "stop every daemon of this user on this machine (see list)")]),
    c(
        "restart",
        "Server",
        "",
        "Stop the daemon and start a fresh one",
    ),
    c(
        "list",
        "Server",
        "",
        "List every running daemon of this user: workspace, pid, uptime, tabs, memory",
    ),
    c(
        "logs",
        "Server",
        "[-n N] [-f]",
        "Print the daemon log's last lines (-f: keep following)",
    )
    .flags(&[
        valued("--lines", "N", "how many lines (default 50)").or('n'),
        switch("--follow", "keep printing new lines until interrupted").or('f'),
    ]),
    c(
        "doctor",
        "Server",
        "",
        "Check Chromium, the state dir, flock, loopback, and time a cold start",
    ),
    c(
        "version",
        "Server",
        "",
        "Print this CLI's version and the running daemon's",
    ),
    c(
        "completions",
        "Server",
        "<bash|zsh|fish|elvish|powershell>",
        "Print a shell completion script",
    )
    .words(1, 1),
    c(
        "skill",
        "Server",
        "",
        "Print SKILL.md: how a coding agent should drive browse",
    ),
    c("help", "Server", "", "List every command").words(0, 1),
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
         Usage: browse [--json] [--session NAME] [--headed] [--force-restart] [--tab-id N] [--untrusted-envelope] <command> [args...]\n",
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
        "--session <NAME>",
        "Use the workspace's independent browser NAME (or set BROWSE_SESSION)",
    );
    help_row(
        &mut out,
        "--cdp-url <URL>",
        "Drive the browser already running there (or set BROWSE_CDP_URL)",
    );
    help_row(
        &mut out,
        "--headed",
        "Start a visible Chromium (or set BROWSE_HEADED=1)",
    );
    help_row(
        &mut out,
        "--json",
        "Print one JSON object per call (or set BROWSE_JSON=1)",
    );
    help_row(
        &mut out,
        "--untrusted-envelope",
        "Wrap page content in gstack's untrusted-content markers",
    );
    out.push_str("\nRun 'browse <command> --help' for one command.\n");
    out
}

/// `browse help <cmd>` and `browse <cmd> --help`: usage, description, and every flag, all
/// from the catalogue entry (the same one the CLI checks words against).
pub fn command_help_text(info: &CommandInfo) -> String {
    let mut out = format!(
        "Usage: browse {}\n\n{}\n",
        format!("{} {}", info.name, info.synopsis).trim_end(),
        info.description
    );
    if !info.flags.is_empty() {
        out.push_str("\nFlags:\n");
        for flag in info.flags {
            let mut usage = match flag.short {
                Some(letter) => format!("-{letter}, {}", flag.long),
                None => format!("    {}", flag.long),
            };
            if let Some(value) = flag.value {
                usage.push_str(&format!(" <{value}>"));
            }
            help_row(&mut out, &usage, flag.help);
        }
    }
    out.push_str(
        "\nGlobal flags (any command): --json, --session <NAME>, --cdp-url <URL>, --headed, --tab-id <N>, --force-restart, --untrusted-envelope\n",
    );
    out.push_str("Use -- to end flags: browse fill '#q' -- --literal-text\n");
    out
}

/// The catalogue as a clap command tree, for generated shell completions (clap_complete):
/// one subcommand per command with its flags. Parsing does not go through it (`cli/args.rs`
/// checks words against the same entries).
pub fn clap_command() -> clap::Command {
    let mut root = clap::Command::new("browse")
        .version(env!("CARGO_PKG_VERSION"))
        .about("drive a headless Chromium from the shell")
        .disable_help_subcommand(true)
        .arg(
            clap::Arg::new("json")
                .long("json")
                .global(true)
                .action(clap::ArgAction::SetTrue),
        )
        .arg(
            clap::Arg::new("headed")
                .long("headed")
                .global(true)
                .action(clap::ArgAction::SetTrue),
        )
        .arg(
            clap::Arg::new("session")
                .long("session")
                .global(true)
                .value_name("NAME"),
        )
        .arg(
            clap::Arg::new("tab-id")
                .long("tab-id")
                .global(true)
                .value_name("N"),
        )
        .arg(
            clap::Arg::new("force-restart")
                .long("force-restart")
                .global(true)
                .action(clap::ArgAction::SetTrue),
        );
    for info in COMMANDS {
        let mut sub = clap::Command::new(info.name).about(info.description);
        // `newtab --json` is also the global flag; one declaration serves both.
        for flag in info.flags.iter().filter(|f| f.long != "--json") {
            let mut arg = clap::Arg::new(flag.long)
                .long(&flag.long[2..])
                .help(flag.help);
            if let Some(letter) = flag.short {
                arg = arg.short(letter);
            }
            arg = match flag.value {
                Some(value) => arg.value_name(value),
                None => arg.action(clap::ArgAction::SetTrue),
            };
            sub = sub.arg(arg);
        }
        if info.max_positional > 0 {
            sub = sub.arg(clap::Arg::new("args").num_args(0..).value_name("ARGS"));
        }
        root = root.subcommand(sub);
    }
    root
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
    fn the_completion_tree_is_a_valid_clap_command() {
        clap_command().debug_assert();
    }

    #[test]
    fn every_command_is_in_help() {
        let help = help_text();
        for info in COMMANDS {
            assert!(help.contains(info.name));
        }
    }
}
