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
    /// The subcommands it takes as its first word (`set device`, `mouse move`), each with its
    /// own arity; empty for a command without any.
    pub subcommands: &'static [Subcommand],
    /// One command line that shows the command at work, for `browse help <cmd>`.
    pub example: &'static str,
    /// What a successful call prints on stdout.
    pub output: &'static str,
}

/// One subcommand: the first word of its command's line, and the words that follow it.
#[derive(Debug, Clone, Copy)]
pub struct Subcommand {
    pub name: &'static str,
    /// What follows the subcommand's name (`<x> <y>`), for its usage line.
    pub synopsis: &'static str,
    /// The fewest and most words after the subcommand's name; [`ANY`] for no limit.
    pub min_words: usize,
    pub max_words: usize,
}

/// A subcommand taking `min` to `max` words after its name.
const fn sub(name: &'static str, synopsis: &'static str, min: usize, max: usize) -> Subcommand {
    Subcommand {
        name,
        synopsis,
        min_words: min,
        max_words: max,
    }
}

impl Subcommand {
    /// `Usage: browse <command> <sub> <synopsis>`: what the CLI prints for a wrong number of
    /// words after the subcommand.
    pub fn usage_line(&self, command: &str) -> String {
        format!("Usage: browse {command} {} {}", self.name, self.synopsis)
            .trim_end()
            .to_owned()
    }
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
        subcommands: &[],
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

    /// The subcommands the first word may name, each checked for its own arity.
    const fn subcommands(mut self, subcommands: &'static [Subcommand]) -> Self {
        self.subcommands = subcommands;
        self
    }

    /// The subcommand `word` names, if this command has it.
    pub fn subcommand(&self, word: &str) -> Option<&'static Subcommand> {
        let subcommands: &'static [Subcommand] = self.subcommands;
        subcommands.iter().find(|s| s.name == word)
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
        "<sel> [ms] | --networkidle [ms] | --load [ms] | --domcontentloaded [ms] | --text T | --url PATTERN | --fn EXPR | --gone <sel> [ms]",
        "Wait for an element to be visible, a load state, text, a URL, a JS condition, or an element to go",
    )
    .words(1, 2)
    .flags(&[
        switch(
            "--networkidle",
            "wait until the network is idle (500 ms without requests)",
        ),
        switch("--load", "wait for the load event"),
        switch("--domcontentloaded", "wait for DOMContentLoaded"),
        valued("--text", "T", "until the page's visible text contains T"),
        valued(
            "--url",
            "PATTERN",
            "until the URL matches PATTERN (a glob over the whole URL: * any but /, ** any; else a substring)",
        ),
        valued("--fn", "EXPR", "until the JavaScript EXPR is truthy"),
        valued("--gone", "SEL", "until nothing visible matches SEL"),
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
    .subcommands(&[
        sub("visible", "<sel>", 1, 1),
        sub("hidden", "<sel>", 1, 1),
        sub("enabled", "<sel>", 1, 1),
        sub("disabled", "<sel>", 1, 1),
        sub("checked", "<sel>", 1, 1),
        sub("editable", "<sel>", 1, 1),
        sub("focused", "<sel>", 1, 1),
    ])
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
    .flags(&[switch("--clear", "delete every cookie instead (prints how many)")])
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
        "[set <key> <value> | clear]",
        "Print localStorage and sessionStorage as JSON, set a key, or clear both",
    )
    .words(0, ANY)
    .subcommands(&[
        sub("set", "<key> [value]", 1, 2),
        sub("clear", "", 0, 0),
    ])
    .doc("browse storage set theme dark", "JSON of localStorage and sessionStorage, or Set localStorage[\"<key>\"]"),
    c(
        "snapshot",
        "Reading",
        "[-i] [-c] [-d N] [-s sel] [-D] [-C] [-a] [-H json] [-o path]",
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
        valued("--output", "PATH", "where the -a/-H image goes (default: a fresh /tmp/browse-annotated-….png)").or('o'),
        switch("--annotate", "full-page screenshot with a red box and label on each ref (refs without a box are listed as skipped; a scaled-down image gets a [note] line)").or('a'),
        valued(
            "--heatmap",
            "JSON",
            "full-page screenshot with boxes on chosen refs: '{\"@e1\":\"green\"}' (green, yellow, red, blue, orange, gray); refs without a box are listed as skipped",
        )
        .or('H'),
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
        "<W>x<H> [--scale N] | --device <name>",
        "Set the viewport size for every tab (CSS px, each side 1-16384)",
    )
    .words(1, 1)
    .flags(&[
        valued("--scale", "N", "device scale factor"),
        valued(
            "--device",
            "NAME",
            "a device preset instead (as set device): size, scale, mobile, touch, UA",
        ),
    ])
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
    // Finer input (issue 13): Playwright's semantics, gstack has none of these.
    c(
        "dblclick",
        "Interaction",
        "<sel>",
        "Double-click an element (CSS selector or @ref)",
    )
    .words(1, 1)
    .doc("browse dblclick '#cell'", "Double-clicked <sel> → now at <url>"),
    c(
        "check",
        "Interaction",
        "<sel>",
        "Check a checkbox or radio; fails if its state did not change",
    )
    .words(1, 1)
    .doc("browse check '#terms'", "Checked <sel>"),
    c(
        "uncheck",
        "Interaction",
        "<sel>",
        "Uncheck a checkbox; fails if its state did not change",
    )
    .words(1, 1)
    .doc("browse uncheck '#newsletter'", "Unchecked <sel>"),
    c("focus", "Interaction", "<sel>", "Give an element the keyboard focus")
        .words(1, 1)
        .doc("browse focus '#search'", "Focused <sel>"),
    c(
        "clear",
        "Interaction",
        "<sel>",
        "Empty an input, textarea or contenteditable",
    )
    .words(1, 1)
    .doc("browse clear '#email'", "Cleared <sel>"),
    c(
        "keydown",
        "Interaction",
        "<key>",
        "Hold a key down (modifiers stay held for later keys and clicks)",
    )
    .words(1, 1)
    .doc("browse keydown Shift", "Key down: <key>"),
    c("keyup", "Interaction", "<key>", "Release a key held by keydown")
        .words(1, 1)
        .doc("browse keyup Shift", "Key up: <key>"),
    c(
        "drag",
        "Interaction",
        "<from> <to>",
        "Drag one element onto another (mouse and HTML5 drag and drop)",
    )
    .words(2, 2)
    .doc("browse drag '#card' '#done'", "Dragged <from> → <to>"),
    c(
        "mouse",
        "Interaction",
        "move <x> <y> | down [button] | up [button] | wheel <dy> [dx]",
        "Drive the mouse directly (viewport CSS px)",
    )
    .words(1, 3)
    .subcommands(&[
        sub("move", "<x> <y>", 2, 2),
        sub("down", "[button]", 0, 1),
        sub("up", "[button]", 0, 1),
        sub("wheel", "<dy> [dx]", 1, 2),
    ])
    .doc("browse mouse move 100 200", "Mouse moved to (x, y) / Mouse down (left) at (x, y) / Mouse wheel dx=0 dy=N at (x, y)"),
    // Identity (issue 13): gstack's header and useragent.
    c(
        "header",
        "Interaction",
        "<Name>:<value>",
        "Add a request header to every later request (cumulative; credentials shown as ****)",
    )
    .words(1, ANY)
    .gstack_usage("Usage: browse header <name>:<value>")
    .doc("browse header X-Request-Id:abc123", "Header set: <Name>: <value> (**** for authorization, cookie, x-api-key…)"),
    c(
        "useragent",
        "Interaction",
        "<ua>",
        "Set the user agent of every tab",
    )
    .words(1, ANY)
    .gstack_usage("Usage: browse useragent <string>")
    .doc("browse useragent 'Mozilla/5.0 (X11; Linux x86_64) MyBot/1.0'", "User agent set: <ua>"),
    // Emulation (issue 13): agent-browser's set family; gstack has none.
    c(
        "set",
        "Interaction",
        "device <name> | geo <lat> <lng> [accuracy] | timezone <id> | locale <tag> | media [dark|light] [reduced-motion] | offline [on|off]",
        "Emulate a device, position, time zone, locale, color scheme / reduced motion, or being offline (every tab; 'off' resets)",
    )
    .words(1, ANY)
    .subcommands(&[
        sub("device", "<name>", 1, ANY),
        sub("geo", "<lat> <lng> [accuracy] | off", 1, 3),
        sub("timezone", "<id>", 1, 1),
        sub("locale", "<tag>", 1, 1),
        sub("media", "[dark|light] [reduced-motion]", 0, 2),
        sub("offline", "[on|off]", 0, 1),
    ])
    .doc("browse set device 'iPhone 15'", "Device set: <name> (<W>x<H> @<scale>x, mobile, touch) / Geolocation set: <lat>, <lng> / Timezone set: <id> / Locale set: <tag> / Media set: … / Offline: on|off"),
    // Cookie state (issue 13): gstack's cookie-import, and deleting.
    c(
        "cookie-import",
        "Interaction",
        "<file.json>",
        "Set cookies from a JSON array of {name, value, domain?, path?, …}",
    )
    .words(1, 1)
    .gstack_usage("Usage: browse cookie-import <json-file>")
    .doc("browse cookie-import cookies.json", "Loaded <n> cookies from <file>"),
    c(
        "cookie-delete",
        "Interaction",
        "<name>",
        "Delete every cookie with this name",
    )
    .words(1, 1)
    .doc("browse cookie-delete session", "Deleted <n> cookie(s) named <name>"),
    c(
        "screenshot",
        "Capture",
        "[path] [--full|--viewport] [sel] [--selector sel] [--clip x,y,w,h] [--base64] [--max-size px]",
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
        switch("--clear", "empty the buffer without printing it (says \"Console buffer cleared.\")"),
    ])
    .doc("browse console --errors", "one \"[time] [level] text\" line per message"),
    c(
        "network",
        "Capture",
        "[--clear] [--capture [stop] [--filter RE]] [--bodies] [--export FILE]",
        "Print captured network requests; capture response bodies and export them",
    )
    .words(0, 1)
    .flags(&[
        switch("--clear", "empty the buffer without printing it (says \"Network buffer cleared.\")"),
        switch("--capture", "start keeping response bodies (--capture stop: stop)"),
        valued("--filter", "RE", "with --capture: only URLs matching this regular expression"),
        switch("--bodies", "list the captured responses"),
        valued("--export", "FILE", "write the captured responses: JSONL (gstack), or HAR 1.2 when FILE ends in .har"),
    ])
    .doc("browse network", "one \"METHOD url → status (ms, bytes)\" line per request"),
    c("dialog", "Capture", "[--clear]", "Print captured dialogs")
        .flags(&[switch("--clear", "empty the buffer without printing it (says \"Dialog buffer cleared.\")")])
    .doc("browse dialog", "one \"[time] [type] \\\"message\\\" → accepted|dismissed\" line per dialog"),
    // Network control (issue 13): routes, downloads.
    c(
        "route",
        "Network",
        "<pattern> [--abort | --status N --body TEXT | --body-file F] [--content-type T]",
        "Mock or block every request whose URL matches a glob, on every tab",
    )
    .words(1, 1)
    .flags(&[
        switch("--abort", "fail matching requests (net::ERR_BLOCKED_BY_CLIENT)"),
        valued("--status", "N", "answer with HTTP status N (default 200)"),
        valued("--body", "TEXT", "answer with this body"),
        valued("--body-file", "FILE", "answer with this file's bytes"),
        valued("--content-type", "TYPE", "the answer's Content-Type (default from the file's extension, else text/plain)"),
    ])
    .doc("browse route '**/api/*' --status 200 --body '{\"ok\":true}' --content-type application/json", "Route added: <pattern> → <status> <type> (<n> bytes), or → abort"),
    c("unroute", "Network", "[pattern]", "Remove a route (all routes without a pattern)")
        .words(0, 1)
        .doc("browse unroute '**/api/*'", "Route removed: <pattern> / Removed <n> routes"),
    c("routes", "Network", "", "List the routes and how many requests each answered")
        .doc("browse routes", "one \"<pattern> → <action> [<n> hits]\" line per route"),
    c(
        "download",
        "Network",
        "<url|@ref> [path] [--base64] [--navigate]",
        "Download a URL (or a media element's source) with the page's cookies",
    )
    .words(1, 2)
    .flags(&[
        switch("--base64", "print a data: URL instead of writing a file (at most 10MB)"),
        switch("--navigate", "load the URL as a navigation and take the download it starts (redirects, Content-Disposition)"),
    ])
    .gstack_usage("Usage: download <url|@ref> [path] [--base64] [--navigate]")
    .doc("browse download https://example.com/report.pdf report.pdf", "Downloaded: <path> (<KB>KB, <mime>)"),
    c(
        "downloads",
        "Network",
        "[--wait [ms]] [--clear]",
        "List the files pages downloaded into the workspace's downloads folder",
    )
    .words(0, 1)
    .flags(&[
        switch("--wait", "first wait (default 30000 ms) for a download to begin, unless one began since the last listing, and for every one to end"),
        switch("--clear", "forget the list (the files stay)"),
    ])
    .doc("browse downloads --wait", "one \"[n] <path> (<KB>KB) ← <url>\" line per download"),
    // gstack's Tier B (issue 13): perf, cdp, responsive, archive.
    c("perf", "Inspection", "", "Print the page's load timings (navigation timing)")
        .doc("browse perf", "nine \"<name padded to 12> <n>ms\" lines: dns tcp ssl ttfb download domParse domReady load total"),
    c(
        "cdp",
        "Inspection",
        "<Domain.method> [json-params]",
        "Call one allowlisted Chrome DevTools Protocol method (gstack's allowlist)",
    )
    .words(1, 2)
    .doc("browse cdp Performance.getMetrics", "the result as 2-space JSON (page content inside the untrusted-content envelope)"),
    c(
        "responsive",
        "Capture",
        "[prefix]",
        "Full-page screenshots at mobile (375x812), tablet (768x1024) and desktop (1280x720)",
    )
    .words(0, 1)
    .doc("browse responsive shots/home", "three \"<name> (<W>x<H>): <prefix>-<name>.png\" lines"),
    c("archive", "Capture", "[path]", "Save the page with its resources as one MHTML file")
        .words(0, 1)
        .doc("browse archive page.mhtml", "Archive saved: <path> (<KB>KB, MHTML)"),
    c(
        "load-html",
        "Navigation",
        "<file> [--wait-until load|domcontentloaded|networkidle] | --from-file <payload.json>",
        "Replace the page's document with an HTML file (the URL stays)",
    )
    .words(1, 1)
    .flags(&[
        valued("--wait-until", "STATE", "load, domcontentloaded (default) or networkidle"),
        valued("--from-file", "JSON", "read {\"html\": ..., \"waitUntil\"?: ...} from this file"),
    ])
    .gstack_usage("Usage: browse load-html <file> [--wait-until load|domcontentloaded|networkidle] [--tab-id <N>]  |  load-html --from-file <payload.json> [--tab-id <N>]")
    .doc("browse load-html page.html", "Loaded HTML: <abs path> (<n> bytes)"),
    c(
        "data",
        "Reading",
        "[--jsonld|--og|--meta|--twitter]",
        "Print the page's structured data (JSON-LD, Open Graph, Twitter cards, meta tags) as JSON",
    )
    .flags(&[
        switch("--jsonld", "JSON-LD blocks"),
        switch("--og", "Open Graph properties"),
        switch("--meta", "canonical, description, keywords, author, title"),
        switch("--twitter", "Twitter card tags"),
    ])
    .doc("browse data --og", "2-space JSON {\"jsonLd\",\"openGraph\",\"twitterCards\",\"meta\"} (the parts asked for)"),
    c(
        "media",
        "Reading",
        "[--images] [--videos] [--audio] [selector]",
        "List images, videos, audio and background images with URLs, sizes and types as JSON",
    )
    .words(0, 1)
    .flags(&[
        switch("--images", "only images (and CSS background images)"),
        switch("--videos", "only videos"),
        switch("--audio", "only audio (kind flags combine)"),
    ])
    .doc("browse media --images main", "2-space JSON {\"images\",\"videos\",\"audio\",\"backgroundImages\",\"total\"}"),
    c("diff", "Reading", "<url1> <url2>", "Load two URLs in this tab and diff their text by line")
        .words(2, 2)
        .gstack_usage("Usage: browse diff <url1> <url2>")
        .doc("browse diff https://example.com/a https://example.com/b", "--- <url1>, +++ <url2>, a blank line, then \"+ \", \"- \" or \"  \" per line"),
    // gstack's Tier B: accessibility.
    c(
        "accessibility",
        "Reading",
        "",
        "Print the page's ARIA tree as Playwright's aria-YAML (- role \"name\" [props]: text)",
    )
    .doc("browse accessibility", "one \"- role \\\"name\\\"\" line per node, two spaces deeper per level; links carry \"- /url: <href>\""),
    c(
        "tab-each",
        "Tabs",
        "<command> [args...]",
        "Run a command on every tab; JSON with each tab's result (-- before the inner command's flags)",
    )
    .words(1, ANY)
    .doc("browse tab-each text", "2-space JSON {\"command\",\"args\",\"total\",\"results\":[{\"tabId\",\"url\",\"title\",\"status\",\"output\"}]}"),
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
        "frame",
        "Tabs",
        "<sel|@ref> | --name <name> | --url <substr> | main",
        "Act inside an iframe (text, html, js, snapshot, selectors); main returns",
    )
    .words(1, 1)
    .flags(&[
        valued("--name", "NAME", "the frame whose name is NAME"),
        valued("--url", "SUBSTR", "the first frame whose URL contains SUBSTR"),
    ])
    .gstack_usage("Usage: frame <selector|@ref|--name name|--url pattern|main>")
    .doc("browse frame '#checkout'", "Switched to frame: <url> / Switched to main frame"),
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
    .flags(&[switch("--no-start", "report \"Status: not running\" or \"Status: shutting down\" (exit 1) instead of starting a daemon")])
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
    // Saved state (issue 13): gstack's state save|load.
    c(
        "state",
        "Server",
        "save|load <name>",
        "Save or restore cookies, localStorage and open tabs (.gstack/browse-states/<name>.json)",
    )
    .words(2, 2)
    .gstack_usage("Usage: state save|load <name>")
    .subcommands(&[
        sub("save", "<name>", 1, 1),
        sub("load", "<name>", 1, 1),
    ])
    .doc("browse state save logged-in", "State saved: <path> (<n> cookies, <m> pages) / State loaded: <n> cookies, <m> pages (then a line per page or cookies skipped)"),
    c("help", "Server", "", "List every command").words(0, 1)
    .doc("browse help snapshot", "the command list, or one command's usage, flags, example and output"),
];

/// Alternative names, resolved before dispatch.
pub const ALIASES: &[(&str, &str)] = &[
    // gstack's aliases of load-html (`commands.ts`).
    ("setcontent", "load-html"),
    ("set-content", "load-html"),
    ("setContent", "load-html"),
];

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
        "Network",
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
        assert_eq!(suggest("sttaus"), Some("status"));
        // A tie goes to the alphabetically first, as in gstack (which has `state` too).
        assert_eq!(suggest("stauts"), Some("state"));
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
    fn every_subcommand_is_in_its_synopsis_and_fits_the_commands_arity() {
        for info in COMMANDS {
            for sub in info.subcommands {
                assert!(
                    info.synopsis.contains(sub.name),
                    "{} {}",
                    info.name,
                    sub.name
                );
                assert!(sub.min_words <= sub.max_words, "{} {}", info.name, sub.name);
                assert!(
                    info.max_positional == ANY || sub.max_words < info.max_positional,
                    "{} {}",
                    info.name,
                    sub.name
                );
            }
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
