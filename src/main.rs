//! `browse`: one binary, two roles. Called by users it is a short-lived CLI that forwards a
//! command to the workspace's daemon (starting it if needed); called as `browse __daemon` by
//! the launcher it is that daemon.
// An I/O error must never become a panic (exit 101, message lost): print through `say`.
#![deny(clippy::print_stdout, clippy::print_stderr)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[macro_use]
mod say;

mod atomic_file;
mod browser;
mod catalogue;
mod cdp;
mod cli;
mod client;
mod clock;
mod daemon;
mod descriptors;
mod fnv;
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
