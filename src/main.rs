//! `browse`: one binary, two roles. Called by users it is a short-lived CLI that forwards a
//! command to the workspace's daemon (starting it if needed); called as `browse __daemon` by
//! the launcher it is that daemon.

mod atomic_file;
mod browser;
mod catalogue;
mod cdp;
mod cli;
mod client;
mod clock;
mod daemon;
mod launcher;
mod settings;
mod wire;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if argv.first().map(String::as_str) == Some(launcher::spawn::DAEMON_ARG) {
        return daemon::run();
    }
    cli::run(argv)
}
