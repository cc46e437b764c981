//! The `browse` command line: global flags, help, and the short life of one call — find or
//! start the daemon, send the command, print the answer, exit with a documented code.
//!
//! Data goes to stdout, diagnostics to stderr with a `[browse] ` prefix. Exit codes:
//! 0 success, 1 the command failed, 2 bad usage, 3 no daemon could be started.

mod args;
mod lifecycle;
mod local;
mod output;
mod structured;

use std::process::ExitCode;

use crate::catalogue;
use crate::client::{Reply, TransportError};
use crate::launcher::paths::StatePaths;
use crate::launcher::{self, ConnectOptions, Daemon, LaunchError};
use crate::wire::CommandRequest;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NO_DAEMON: u8 = 3;
}

/// Global flags, removed from argv wherever they appear (gstack does the same).
#[derive(Debug, Default, Clone)]
pub struct Globals {
    pub force_restart: bool,
    pub tab_id: Option<u64>,
    /// `--untrusted-envelope` / `BROWSE_UNTRUSTED_ENVELOPE`; `None` leaves it to the daemon.
    pub envelope: Option<bool>,
    /// `--json` / `BROWSE_JSON=1`: one JSON object per call on stdout (see `output`).
    pub json: bool,
    /// `--session NAME` / `BROWSE_SESSION`: an independent browser of this workspace.
    pub session: Option<String>,
    /// `--headed` / `BROWSE_HEADED=1`: a visible Chromium (gstack's global flag).
    pub headed: bool,
    /// `--cdp-url URL` / `BROWSE_CDP_URL`: drive a browser that already runs there.
    pub cdp_url: Option<String>,
    /// `--ephemeral` / `BROWSE_EPHEMERAL=1`: a throw-away profile removed at exit.
    pub ephemeral: bool,
    /// `--profile DIR` / `BROWSE_PROFILE`: a persistent profile the user chooses.
    pub profile: Option<String>,
}

/// Entry point of every `browse` call that is not the daemon.
pub fn run(argv: Vec<String>) -> ExitCode {
    let (globals, rest) = match split_globals(argv) {
        Ok(split) => split,
        Err(message) => return usage_error(&message),
    };
    output::set_json(globals.json);
    // The daemon this CLI may start inherits its environment: that is how it learns the
    // mode and the browser (single-threaded here, before anything reads the environment).
    if globals.headed {
        std::env::set_var("BROWSE_HEADED", "1");
    }
    if let Some(url) = &globals.cdp_url {
        std::env::set_var("BROWSE_CDP_URL", url);
    }
    if globals.ephemeral && globals.profile.is_some() {
        return usage_error("--ephemeral and --profile exclude each other: choose one");
    }
    if globals.ephemeral {
        std::env::set_var("BROWSE_EPHEMERAL", "1");
    }
    if let Some(dir) = &globals.profile {
        match crate::launcher::profile::absolute(dir) {
            Ok(dir) => std::env::set_var("BROWSE_PROFILE", dir),
            Err(e) => return usage_error(&format!("--profile {dir:?}: {e}")),
        }
    }
    if let Some(command) = rest.first() {
        output::set_command(command);
    }
    // clap reads the global part (`--version`, `--help`, a mistyped global flag); the
    // command's own words are checked against the catalogue by `args::check`, which keeps
    // `--` (clap would swallow it).
    let (head, tail) = rest.split_at(rest.len().min(1));
    let matches = match clap_command()
        .try_get_matches_from(std::iter::once("browse".to_owned()).chain(head.iter().cloned()))
    {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let Some(command) = matches.get_one::<String>("command").cloned() else {
        return output::result(&catalogue::help_text());
    };
    let mut args: Vec<String> = tail.to_vec();
    if command == "help" {
        return match args.first() {
            Some(name) => command_help(name),
            None => output::result(&catalogue::help_text()),
        };
    }
    let wants_help = args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h");
    if wants_help {
        return command_help(&command);
    }
    // A typo needs no daemon: answer it here, with the daemon's own words.
    match catalogue::lookup(&command) {
        // Usage errors never start a browser: arity and flags are checked here.
        Some(info) => match args::check(info, args) {
            Ok(words) => args = words,
            Err(args::UsageError(message)) if message.is_empty() => {
                return output::error(exit::USAGE, &info.usage_line(), None, false)
            }
            // A usage line of its own (gstack's `Usage: snapshot -d <number>`) says it all.
            Err(args::UsageError(message)) if message.starts_with("Usage: ") => {
                return output::error(exit::USAGE, &message, None, false)
            }
            Err(args::UsageError(message)) => {
                return output::error(exit::USAGE, &message, Some(&info.usage_line()), false)
            }
        },
        // The daemon's internal test commands (`__test-sleep`) go through unchecked.
        None if command.starts_with("__") => {}
        None => {
            let body = catalogue::unknown_command(&command);
            return print_error(&body.error, body.hint.as_deref());
        }
    }
    // In JSON mode newtab answers with its own JSON too, parsed into `result`.
    if command == "newtab" && globals.json && !args.iter().any(|a| a == "--json") {
        args.push("--json".into());
    }
    if command == "chain" && args.iter().all(|a| a == "--strict") {
        if let Some(input) = chain_from_stdin() {
            args.push(input);
        }
    }
    let paths = match StatePaths::resolve_session(globals.session.as_deref()) {
        Ok(p) => p,
        Err(e) if globals.session.is_some() && e.to_string().starts_with("invalid session") => {
            return usage_error(&format!("{e:#}"))
        }
        Err(e) => return fail(exit::FAILED, &format!("{e:#}")),
    };
    let has = |flag: &str| args.iter().any(|a| a == flag);
    match command.as_str() {
        "stop" if has("--all") => local::stop_all(&globals),
        "status" if has("--no-start") => local::status_no_start(&paths),
        "version" => local::version(&paths),
        "logs" => local::logs(&paths, &args),
        "list" => local::list(),
        "doctor" => local::doctor(&paths),
        "completions" => local::completions(&args),
        "skill" => local::skill(),
        "stop" => lifecycle::stop(&paths, &globals),
        "restart" => lifecycle::restart(&paths, &globals),
        _ => {
            let mut req = CommandRequest::new(command, args);
            req.tab_id = globals.tab_id;
            req.envelope = globals.envelope;
            // Relative paths are the caller's: the daemon resolves them against this.
            req.cwd = std::env::current_dir()
                .ok()
                .map(|dir| dir.to_string_lossy().into_owned());
            run_remote(&paths, &globals, &req)
        }
    }
}

fn clap_command() -> clap::Command {
    clap::Command::new("browse")
        .version(env!("CARGO_PKG_VERSION"))
        .override_help(catalogue::help_text())
        .override_usage(
            "browse [--json] [--session NAME] [--cdp-url URL] [--headed] [--tab-id N] [--force-restart] [--untrusted-envelope] <command> [args...]",
        )
        .disable_help_subcommand(true)
        // `--help` after a command is that command's help, handled below; before one it is
        // the general help.
        .disable_help_flag(true)
        .arg(clap::Arg::new("command").value_name("COMMAND"))
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help),
        )
}

/// Pulls `--force-restart`, `--tab-id N` and `--untrusted-envelope` out of argv; `BROWSE_TAB`
/// is the default tab and `BROWSE_UNTRUSTED_ENVELOPE` (1 or 0) the default envelope choice.
fn split_globals(argv: Vec<String>) -> Result<(Globals, Vec<String>), String> {
    let mut globals = Globals {
        tab_id: std::env::var("BROWSE_TAB")
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        envelope: match std::env::var("BROWSE_UNTRUSTED_ENVELOPE")
            .as_deref()
            .map(str::trim)
        {
            Ok("1") => Some(true),
            Ok("0") => Some(false),
            _ => None,
        },
        json: std::env::var("BROWSE_JSON").is_ok_and(|v| v.trim() == "1"),
        headed: crate::settings::headed(),
        cdp_url: crate::settings::cdp_url(),
        ephemeral: std::env::var("BROWSE_EPHEMERAL").is_ok_and(|v| v.trim() == "1"),
        profile: std::env::var("BROWSE_PROFILE")
            .ok()
            .filter(|v| !v.trim().is_empty()),
        session: std::env::var("BROWSE_SESSION")
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty()),
        ..Globals::default()
    };
    let mut rest = Vec::with_capacity(argv.len());
    let mut words = argv.into_iter();
    while let Some(word) = words.next() {
        if word == "--" {
            // Everything after `--` is the command's, globals included.
            rest.push(word);
            rest.extend(words.by_ref());
            break;
        }
        if word == "--force-restart" {
            globals.force_restart = true;
        } else if word == "--cdp-url" {
            let value = words
                .next()
                .ok_or("--cdp-url needs a URL (http://host:port or ws://…)")?;
            globals.cdp_url = Some(value);
        } else if let Some(value) = word.strip_prefix("--cdp-url=") {
            globals.cdp_url = Some(value.to_owned());
        } else if word == "--ephemeral" {
            globals.ephemeral = true;
        } else if word == "--profile" {
            let value = words.next().ok_or("--profile needs a directory")?;
            globals.profile = Some(value);
        } else if let Some(value) = word.strip_prefix("--profile=") {
            globals.profile = Some(value.to_owned());
        } else if word == "--headed" {
            globals.headed = true;
        } else if word == "--json" && !command_has_own_json_flag(&rest) {
            globals.json = true;
        } else if word == "--untrusted-envelope" {
            globals.envelope = Some(true);
        } else if word == "--session" {
            let value = words.next().ok_or("--session needs a session name")?;
            globals.session = Some(value);
        } else if let Some(value) = word.strip_prefix("--session=") {
            globals.session = Some(value.to_owned());
        } else if word == "--tab-id" {
            let value = words.next().ok_or("--tab-id needs a tab number")?;
            globals.tab_id = Some(parse_tab(&value)?);
        } else if let Some(value) = word.strip_prefix("--tab-id=") {
            globals.tab_id = Some(parse_tab(value)?);
        } else {
            rest.push(word);
        }
    }
    Ok((globals, rest))
}

/// `newtab --json` is gstack's own flag (its raw `{"tabId":…}` answer): after such a command
/// `--json` stays the command's; anywhere else it is the global JSON mode.
fn command_has_own_json_flag(words_so_far: &[String]) -> bool {
    words_so_far
        .first()
        .and_then(|name| catalogue::lookup(name))
        .is_some_and(|info| info.flag("--json").is_some())
}

/// `chain` with no arguments reads its commands from stdin (gstack trims it). A terminal is
/// not read: the daemon's usage text is more helpful than a silent wait.
fn chain_from_stdin() -> Option<String> {
    use std::io::{IsTerminal, Read};
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return None;
    }
    let mut input = String::new();
    stdin.read_to_string(&mut input).ok()?;
    let input = input.trim();
    (!input.is_empty()).then(|| input.to_owned())
}

fn parse_tab(value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("--tab-id takes a tab number, not {value:?}"))
}

fn command_help(name: &str) -> ExitCode {
    match catalogue::lookup(name) {
        Some(info) => output::result(&catalogue::command_help_text(info)),
        None => usage_error(&format!(
            "unknown command '{name}'; run 'browse help' for the list"
        )),
    }
}

/// Runs a daemon command with gstack's recovery rules: one retry after a lost connection
/// (restarting a dead daemon through the election), one after a token change.
fn run_remote(paths: &StatePaths, globals: &Globals, req: &CommandRequest) -> ExitCode {
    let opts = ConnectOptions {
        force_restart: globals.force_restart,
    };
    let daemon = match connect(paths, opts) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let timeout = answer_timeout(req);
    match daemon.client().command(req, timeout) {
        // It began shutting down after we chose it; the command never ran there.
        Ok(Reply::Err { status: 503, body })
            if body.error.starts_with(crate::wire::SHUTTING_DOWN_ERROR) =>
        {
            errln!(
                "[browse] The server (pid {}) is shutting down; running the command on a new one once it has exited...",
                daemon.record.pid
            );
            rerun_on_successor(paths, opts, req, timeout)
        }
        Ok(reply) => finish_reply(paths, &daemon, req, reply),
        Err(TransportError::TimedOut) => timed_out(paths, &daemon, timeout),
        Err(e) => {
            if launcher::is_alive(paths, &daemon.record) && launcher::find_running(paths).is_some()
            {
                errln!("[browse] Server was briefly unresponsive (busy); retrying command...");
                match daemon.client().command(req, timeout) {
                    Ok(reply) => finish_reply(paths, &daemon, req, reply),
                    Err(_) => fail(exit::FAILED, "Server unresponsive after retry — aborting"),
                }
            } else {
                tracing::debug!("lost the daemon: {e}");
                match launcher::succession::newer_claim(paths, &crate::settings::version()) {
                    Some(version) => errln!(
                        "[browse] The daemon is being replaced by browse {version}; retrying the command on it..."
                    ),
                    None => errln!("[browse] Server connection lost. Restarting..."),
                }
                rerun_on_successor(paths, opts, req, timeout)
            }
        }
    }
}

/// Runs the command on the daemon that follows a lost one (restarted, or the newer daemon
/// that replaced it). A refused connection means the command never reached anyone, so while
/// the daemon is still being replaced (the one found stops before our command arrives) it is
/// sent again, a few times within `BROWSE_START_TIMEOUT` (a daemon that dies at every start
/// is not chased for long); any other second failure aborts as gstack does.
fn rerun_on_successor(
    paths: &StatePaths,
    opts: ConnectOptions,
    req: &CommandRequest,
    timeout: std::time::Duration,
) -> ExitCode {
    let deadline = std::time::Instant::now() + crate::settings::start_timeout();
    let mut backoff = std::time::Duration::from_millis(5);
    let mut refusals = 0;
    loop {
        let daemon = match connect(paths, opts) {
            Ok(d) => d,
            Err(code) => return code,
        };
        match daemon.client().command(req, timeout) {
            Ok(reply) => return finish_reply(paths, &daemon, req, reply),
            Err(TransportError::TimedOut) => return timed_out(paths, &daemon, timeout),
            Err(TransportError::Refused)
                if refusals < 5 && std::time::Instant::now() < deadline =>
            {
                refusals += 1;
                tracing::debug!(
                    "daemon {} refused the command; looking again",
                    daemon.record.pid
                );
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(std::time::Duration::from_millis(100));
            }
            Err(_) => return fail(exit::FAILED, "Server crashed twice in a row — aborting"),
        }
    }
}

/// How long to wait for the daemon's answer: `BROWSE_COMMAND_TIMEOUT`, raised above a
/// command's own limit when it is longer (`wait <sel> 120000` must not be cut at 30 s; gstack's
/// defect 8 in the compatibility spec).
fn answer_timeout(req: &CommandRequest) -> std::time::Duration {
    let base = crate::settings::command_timeout();
    let own_limit_ms = match req.command.as_str() {
        "wait" => req
            .args
            .iter()
            .filter_map(|a| a.parse::<u64>().ok())
            .map(|ms| ms.min(300_000))
            .max(),
        _ => None,
    };
    match own_limit_ms {
        Some(ms) => base.max(std::time::Duration::from_millis(ms + 5_000)),
        None => base,
    }
}

/// Connects, then settles version skew: a newer CLI replaces an older idle daemon once; an
/// older CLI uses a newer daemon if the protocol matches and never downgrades it.
fn connect(paths: &StatePaths, opts: ConnectOptions) -> Result<Daemon, ExitCode> {
    let daemon = launcher::connect(paths, opts).map_err(|e| launch_failure(&e))?;
    refuse_mode_mismatch(&daemon)?;
    lifecycle::settle_version_skew(paths, daemon, opts)
}

/// gstack's config-mismatch refusal (`cli.ts`): a headed request to a headless daemon, or the
/// reverse, is refused rather than silently served by the wrong kind of browser.
fn refuse_mode_mismatch(daemon: &Daemon) -> Result<(), ExitCode> {
    let wanted_remote = crate::settings::cdp_url();
    if daemon.record.cdp_url != wanted_remote {
        let describe = |url: &Option<String>| match url {
            Some(url) => format!("the remote browser at {}", crate::settings::redact_url(url)),
            None => "its own Chromium".to_owned(),
        };
        return Err(output::error(
            exit::FAILED,
            &format!(
                "[browse] existing daemon drives {}, not {}.",
                describe(&daemon.record.cdp_url),
                describe(&wanted_remote)
            ),
            Some("Run 'browse stop' first to switch browsers (or use --session for a second one)."),
            false,
        ));
    }
    let wanted_profile = crate::settings::profile();
    if daemon.record.cdp_url.is_none() && daemon.record.profile != wanted_profile {
        let describe = |profile: &Option<String>| match profile.as_deref() {
            None => "the workspace's profile".to_owned(),
            Some(crate::launcher::profile::EPHEMERAL) => "a throw-away profile".to_owned(),
            Some(dir) => format!("the profile {dir}"),
        };
        return Err(output::error(
            exit::FAILED,
            &format!(
                "[browse] existing daemon uses {}, not {}.",
                describe(&daemon.record.profile),
                describe(&wanted_profile)
            ),
            Some("Run 'browse stop' first to switch profiles (or use --session for a second one)."),
            false,
        ));
    }
    let want = crate::settings::mode_name();
    let have = daemon.health.mode.as_str();
    if have == want || !matches!(have, "launched" | "headed") {
        return Ok(());
    }
    let error = if have == "launched" {
        "[browse] existing daemon was started without --proxy/--headed."
    } else {
        "[browse] existing daemon has different config (proxy/headed mismatch)."
    };
    Err(output::error(
        exit::FAILED,
        error,
        Some("Run 'browse stop', then run the command again with the mode you want."),
        false,
    ))
}

fn finish_reply(
    paths: &StatePaths,
    daemon: &Daemon,
    req: &CommandRequest,
    reply: Reply,
) -> ExitCode {
    match reply {
        Reply::Ok(text, notes) => print_result(&text, &notes),
        Reply::Err { status: 401, .. } => {
            errln!("[browse] Auth failed — server may have restarted. Retrying...");
            let fresh =
                launcher::find_running(paths).filter(|d| d.record.token != daemon.record.token);
            match fresh.map(|d| d.client().command(req, crate::settings::command_timeout())) {
                Some(Ok(Reply::Ok(text, notes))) => print_result(&text, &notes),
                Some(Ok(Reply::Err { status, body })) if status != 401 => {
                    print_error(&body.error, body.hint.as_deref())
                }
                _ => fail(exit::FAILED, "Authentication failed"),
            }
        }
        Reply::Err { body, .. } => {
            output::partial(body.output.as_deref());
            print_error(&body.error, body.hint.as_deref())
        }
    }
}

fn timed_out(paths: &StatePaths, daemon: &Daemon, timeout: std::time::Duration) -> ExitCode {
    let secs = timeout.as_secs();
    if launcher::is_alive(paths, &daemon.record) {
        fail(
            exit::FAILED,
            &format!("Command timed out after {secs}s (server still alive — busy, not restarting). Retry, or raise load."),
        )
    } else {
        fail(exit::FAILED, &format!("Command timed out after {secs}s"))
    }
}

/// Prints a launcher failure and picks its exit code.
pub fn launch_failure(e: &LaunchError) -> ExitCode {
    let code = match e {
        LaunchError::Busy { .. } => exit::FAILED,
        _ => exit::NO_DAEMON,
    };
    fail(code, &e.to_string())
}

/// The answer on stdout, after the daemon's notes on stderr (both modes: notes are not data).
fn print_result(text: &str, notes: &[String]) -> ExitCode {
    for note in notes {
        output::note(note);
    }
    output::result(text)
}

/// The daemon's error (gstack's words, no prefix) and its hint; exit 1.
fn print_error(error: &str, hint: Option<&str>) -> ExitCode {
    output::error(exit::FAILED, error, hint, false)
}

/// The CLI's own failure, with exit `code`.
fn fail(code: u8, message: &str) -> ExitCode {
    output::error(code, message, None, true)
}

fn usage_error(message: &str) -> ExitCode {
    output::error(exit::USAGE, message, None, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_wait_raises_the_answer_timeout() {
        let wait = CommandRequest::new("wait", vec![".x".into(), "120000".into()]);
        assert_eq!(answer_timeout(&wait).as_secs(), 125);
        let short = CommandRequest::new("wait", vec![".x".into(), "2000".into()]);
        assert_eq!(answer_timeout(&short), crate::settings::command_timeout());
        let capped = CommandRequest::new("wait", vec!["--networkidle".into(), "999999999".into()]);
        assert_eq!(answer_timeout(&capped).as_secs(), 305);
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests (run long by `scripts/fuzz`): global-flag extraction never panics and
    //! never drops or reorders a command's own words.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_split_globals_keeps_every_other_word(
            argv in prop::collection::vec(prop_oneof![
                Just("--force-restart".to_owned()), Just("--tab-id".to_owned()),
                Just("--tab-id=3".to_owned()), "[0-9]{1,3}", ".{0,12}"
            ], 0..12)
        ) {
            if let Ok((_, rest)) = split_globals(argv.clone()) {
                let others: Vec<&String> = argv.iter()
                    .filter(|w| *w != "--force-restart" && !w.starts_with("--tab-id"))
                    .collect();
                prop_assert!(rest.len() <= argv.len());
                for word in &rest {
                    prop_assert!(others.contains(&word));
                }
            }
        }
    }
}
