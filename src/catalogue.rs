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
    /// One command line that shows the command at work, for `browse help <cmd>`.
    pub example: &'static str,
    /// What a successful call prints on stdout.
    pub output: &'static str,
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
        example: "",
        output: "",
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

    /// An example command line and what a successful call prints.
    const fn doc(mut self, example: &'static str, output: &'static str) -> Self {
        self.example = example;
        self.output = output;
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
    .words(1, 1)
    .doc("browse goto https://example.com", "Navigated to <url> (<HTTP status>)"),
    c("back", "Navigation", "", "Go back one step in history")
    .doc("browse back", "Back → <url>"),
    c(
        "forward",
        "Navigation",
        "",
        "Go forward one step in history",
    )
    .doc("browse forward", "Forward → <url>"),
    c("reload", "Navigation", "", "Reload the page")
    .doc("browse reload", "Reloaded <url>"),
    c("url", "Navigation", "", "Print the active tab's URL")
    .doc("browse url", "the active tab's URL"),
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
    ])
    .gstack_usage("Usage: browse wait <selector|--networkidle|--load|--domcontentloaded>")
    .doc("browse wait '#results' 10000", "Element <sel> appeared / Network idle / Page loaded"),
    c(
        "text",
        "Reading",
        "",
        "Print the page's text, one trimmed line per line",
    )
    .doc("browse text", "the page's visible text, one trimmed line per line"),
    c(
        "html",
        "Reading",
        "[sel]",
        "Print the page's HTML, or an element's innerHTML",
    )
    .words(0, 1)
    .doc("browse html '#main'", "HTML (the whole document, or the element's innerHTML)"),
    c("links", "Reading", "", "List links as '<text> → <href>'")
    .doc("browse links", "one \"<text> → <href>\" line per link"),
    c(
        "forms",
        "Reading",
        "",
        "List forms and their fields as JSON (secrets redacted)",
    )
    .doc("browse forms", "JSON: every form with its fields (passwords redacted)"),
    c(
        "js",
        "Inspection",
        "<expr> [--out <file>] [--raw]",
        "Evaluate JavaScript in the page and print the result",
    )
    .words(1, ANY)
    .flags(OUT_FLAGS)
    .gstack_usage("Usage: browse js <expression> [--out <file>] [--raw]")
    .doc("browse js 'document.title'", "the value (strings raw, others as JSON); with --out, where it was written"),
    c(
        "eval",
        "Inspection",
        "<file.js> [--out <file>] [--raw]",
        "Evaluate a JavaScript file in the page",
    )
    .words(1, 1)
    .flags(OUT_FLAGS)
    .gstack_usage("Usage: browse eval <js-file> [--out <file>] [--raw]")
    .doc("browse eval script.js", "the script's return value, as js prints it"),
    c(
        "attrs",
        "Inspection",
        "<sel>",
        "Print an element's attributes as JSON",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse attrs <selector>")
    .doc("browse attrs 'a.logo'", "JSON object of the attributes"),
    c(
        "is",
        "Inspection",
        "<visible|hidden|enabled|disabled|checked|editable|focused> <sel>",
        "Print true or false for an element state",
    )
    .words(2, 2)
    .gstack_usage("Usage: browse is <property> <selector>\nProperties: visible, hidden, enabled, disabled, checked, editable, focused")
    .doc("browse is visible '#submit'", "true or false"),
    c(
        "css",
        "Inspection",
        "<sel> <prop>",
        "Print an element's computed CSS property",
    )
    .words(2, 2)
    .gstack_usage("Usage: browse css <selector> <property>")
    .doc("browse css h1 font-size", "the computed value, e.g. 32px"),
    c(
        "cookies",
        "Inspection",
        "",
        "List every cookie as JSON (secrets redacted)",
    )
    .doc("browse cookies", "JSON array of cookies (values of secret-looking names redacted)"),
    c(
        "cookie",
        "Interaction",
        "<name>=<value>",
        "Set a cookie for the current page's host",
    )
    .words(1, 1)
    .doc("browse cookie session=abc123", "Cookie set: <name>=****"),
    c(
        "storage",
        "Inspection",
        "[set <key> <value>]",
        "Print localStorage and sessionStorage as JSON, or set a key",
    )
    .words(0, ANY)
    .doc("browse storage set theme dark", "JSON of localStorage and sessionStorage, or Set localStorage[\"<key>\"]"),
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
    ])
    .doc("browse snapshot -i", "one \"@eN [role] \\\"name\\\"\" line per node, indented two spaces per level; -i adds @cN lines for clickable elements without a role"),
    c(
        "click",
        "Interaction",
        "<sel>",
        "Click an element (CSS selector or @ref)",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse click <selector>")
    .doc("browse click @e3", "Clicked <sel> → now at <url>"),
    c(
        "fill",
        "Interaction",
        "<sel> <value>",
        "Replace an input's value",
    )
    .words(2, ANY)
    .gstack_usage("Usage: browse fill <selector> <value>")
    .doc("browse fill '#email' me@example.com", "Filled <sel>"),
    c(
        "select",
        "Interaction",
        "<sel> <value>",
        "Choose the first option whose value or label matches",
    )
    .words(2, ANY)
    .gstack_usage("Usage: browse select <selector> <value>")
    .doc("browse select '#country' Norway", "Selected \"<value>\" in <sel>"),
    c(
        "hover",
        "Interaction",
        "<sel>",
        "Move the mouse over an element",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse hover <selector>")
    .doc("browse hover @e5", "Hovered <sel>"),
    c(
        "type",
        "Interaction",
        "<text>",
        "Type text into the focused element",
    )
    .words(1, ANY)
    .doc("browse type 'hello world'", "Typed <N> characters"),
    c(
        "press",
        "Interaction",
        "<key>",
        "Press a key or chord (Enter, Shift+Enter, Control+A)",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse press <key> (e.g., Enter, Tab, Escape)")
    .doc("browse press Enter", "Pressed <key>"),
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
    ])
    .doc("browse scroll '#footer'", "Scrolled <sel> into view, or Scrolled to bottom"),
    c(
        "upload",
        "Interaction",
        "<sel> <file...>",
        "Set the files of a file input",
    )
    .words(2, ANY)
    .gstack_usage("Usage: browse upload <selector> <file1> [file2...]")
    .doc("browse upload '#avatar' photo.png", "Uploaded: <name> (<size>B), ..."),
    c(
        "viewport",
        "Interaction",
        "<W>x<H> [--scale N]",
        "Set the viewport size for every tab",
    )
    .words(1, 1)
    .flags(&[valued("--scale", "N", "device scale factor")])
    .gstack_usage("Usage: browse viewport [<WxH>] [--scale <n>]  (e.g. 375x812, or --scale 2 to keep current size)")
    .doc("browse viewport 375x812 --scale 2", "Viewport set to <W>x<H>"),
    c(
        "dialog-accept",
        "Interaction",
        "[text]",
        "Accept dialogs from now on (with prompt text)",
    )
    .words(0, ANY)
    .doc("browse dialog-accept 'my answer'", "Dialogs will be accepted (with prompt text)"),
    c(
        "dialog-dismiss",
        "Interaction",
        "",
        "Dismiss dialogs from now on",
    )
    .doc("browse dialog-dismiss", "Dialogs will be dismissed"),
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
    ])
    .doc("browse screenshot shot.png --viewport", "Screenshot saved: <path> (a data: URL with --base64)"),
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
        ])
    .doc("browse pdf page.pdf --format A4", "PDF saved: <path>"),
    c(
        "console",
        "Capture",
        "[--errors] [--clear]",
        "Print captured console messages",
    )
    .flags(&[
        switch("--errors", "only errors and warnings"),
        switch("--clear", "print, then empty the buffer"),
    ])
    .doc("browse console --errors", "one \"[time] [level] text\" line per message"),
    c(
        "network",
        "Capture",
        "[--clear]",
        "Print captured network requests",
    )
    .flags(&[switch("--clear", "print, then empty the buffer")])
    .doc("browse network", "one \"METHOD url → status (ms, bytes)\" line per request"),
    c("dialog", "Capture", "[--clear]", "Print captured dialogs")
        .flags(&[switch("--clear", "print, then empty the buffer")])
    .doc("browse dialog", "one \"[time] [type] \\\"message\\\" → accepted|dismissed\" line per dialog"),
    c(
        "tabs",
        "Tabs",
        "",
        "List tabs; the active one is marked with →",
    )
    .doc("browse tabs", "one \"[id] title — url\" line per tab; → marks the active one"),
    c("tab", "Tabs", "<id>", "Switch to a tab").words(1, 1)
    .doc("browse tab 2", "Switched to tab <id>"),
    c(
        "newtab",
        "Tabs",
        "[url] [--json]",
        "Open a tab (and make it active)",
    )
    .words(0, 1)
    .flags(&[switch("--json", "print {\"tabId\":N,\"url\":…}")])
    .doc("browse newtab https://example.com", "Opened tab <id> → <url> ({\"tabId\":N,\"url\":...} with --json)"),
    c(
        "closetab",
        "Tabs",
        "[id]",
        "Close a tab (the active one by default)",
    )
    .words(0, 1)
    .doc("browse closetab 2", "Closed tab <id>"),
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
    )])
    .doc("browse chain --strict 'goto https://example.com | text'", "one \"[command] result\" block per step, blank-line separated"),
    c(
        "status",
        "Server",
        "",
        "Show the daemon's status, active URL, tab count and pid",
    )
    .flags(&[switch("--no-start", "report \"Status: not running\" (exit 1) instead of starting a daemon")])
    .doc("browse status --no-start", "Status, Mode, URL, Tabs and PID lines"),
    c(
        "stop",
        "Server",
        "",
        "Stop the daemon and its Chromium; stopping a dead daemon succeeds",
    )
    .flags(&[switch("--all", "stop every daemon of this user on this machine (see list)")])
    .doc("browse stop", "Server stopped (or why nothing had to be stopped)"),
    c(
        "restart",
        "Server",
        "",
        "Stop the daemon and start a fresh one",
    )
    .doc("browse restart", "Restarting..."),
    c(
        "list",
        "Server",
        "",
        "List every running daemon of this user: workspace, pid, uptime, tabs, memory",
    )
    .doc("browse list", "one \"<workspace>  pid N  up Ns  N tabs  N MiB\" line per daemon"),
    c(
        "logs",
        "Server",
        "[-n N] [-f]",
        "Print the daemon log's last lines (-f: keep following)",
    )
    .flags(&[
        valued("--lines", "N", "how many lines (default 50)").or('n'),
        switch("--follow", "keep printing new lines until interrupted").or('f'),
    ])
    .doc("browse logs -n 100", "the daemon log's last lines"),
    c(
        "doctor",
        "Server",
        "",
        "Check Chromium, the state dir, flock, loopback, and time a cold start",
    )
    .doc("browse doctor", "one \"[ok|warn|FAIL] check\" line per check; exit 1 if any failed"),
    c(
        "version",
        "Server",
        "",
        "Print this CLI's version and the running daemon's",
    )
    .doc("browse version", "this CLI's version and protocol, and the daemon's"),
    c(
        "completions",
        "Server",
        "<bash|zsh|fish|elvish|powershell>",
        "Print a shell completion script",
    )
    .words(1, 1)
    .doc("browse completions bash > ~/.local/share/bash-completion/completions/browse", "a completion script for the shell"),
    c(
        "skill",
        "Server",
        "",
        "Print SKILL.md: how a coding agent should drive browse",
    )
    .doc("browse skill > SKILL.md", "the agent guide (Markdown)"),
    c("help", "Server", "", "List every command").words(0, 1)
    .doc("browse help snapshot", "the command list, or one command's usage, flags, example and output"),
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
         Usage: browse [--json] [--session NAME] [--cdp-url URL] [--headed] [--force-restart] [--tab-id N] [--untrusted-envelope] <command> [args...]\n",
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
    if !info.example.is_empty() {
        out.push_str(&format!("\nExample:\n  {}\n", info.example));
    }
    if !info.output.is_empty() {
        out.push_str(&format!("\nOutput: {}\n", info.output));
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
    fn every_command_has_an_example_and_an_output() {
        for info in COMMANDS {
            assert!(
                info.example.starts_with(&format!("browse {}", info.name)),
                "{}",
                info.name
            );
            assert!(!info.output.is_empty(), "{}", info.name);
            let help = command_help_text(info);
            assert!(
                help.contains("Example:") && help.contains("Output: "),
                "{help}"
            );
        }
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
