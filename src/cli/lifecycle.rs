//! `stop`, `restart` and version skew: the CLI-side lifecycle commands. They talk to the
//! daemon through the launcher's primitives and never delete state themselves.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{exit, fail, launch_failure, output, Globals};
use crate::client::Reply;
use crate::launcher::paths::StatePaths;
use crate::launcher::{self, succession, ConnectOptions, Daemon, StaleOutcome};
use crate::settings::compare_versions;
use crate::wire::{CommandRequest, PROTOCOL};

/// What a stop achieved, before anything is printed.
enum Stopped {
    Graceful,
    Forced,
    NothingRunning,
    CleanedStale,
    AlreadyGone,
}

/// `browse stop`: returns once daemon and Chromium are gone; a dead or absent daemon is success.
pub fn stop(paths: &StatePaths, globals: &Globals) -> ExitCode {
    output::result(match stop_daemon(paths, globals) {
        Ok(Stopped::Graceful) => "Server stopped",
        Ok(Stopped::Forced) => "Daemon stopped (forced — tabs/cookies/logins discarded).",
        Ok(Stopped::NothingRunning) => "No daemon running — nothing to stop.",
        Ok(Stopped::CleanedStale) => "No daemon running (cleaned stale state) — nothing to stop.",
        Ok(Stopped::AlreadyGone) => "Daemon already stopped (cleaned stale state).",
        Err(code) => return code,
    })
}

/// Stops the daemon of `paths` (as `stop` does) without printing the outcome; a failure's
/// message has already gone to stderr.
pub fn stop_quietly(paths: &StatePaths, globals: &Globals) -> Result<(), String> {
    stop_daemon(paths, globals)
        .map(|_| ())
        .map_err(|_| "see the message above".to_owned())
}

/// `browse restart`: stop whatever runs, then elect and start a fresh daemon.
pub fn restart(paths: &StatePaths, globals: &Globals) -> ExitCode {
    if let Err(code) = stop_daemon(paths, globals) {
        return code;
    }
    // gstack prints this before starting; one JSON answer comes only once it is done.
    if !output::json() {
        outln!("Restarting...");
    }
    let opts = ConnectOptions {
        force_restart: globals.force_restart,
    };
    match launcher::connect(paths, opts) {
        Ok(_) if output::json() => output::result("Restarted"),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => launch_failure(&e),
    }
}

/// How long to wait for `health`'s daemon to be gone: the shutdown budget it reports (from
/// its own environment, read when it started), never less than ours
/// ([`crate::settings::stop_deadline`]) for daemons that do not say.
fn shutdown_deadline(health: &crate::wire::Health) -> Instant {
    let theirs = Duration::from_millis(health.shutdown_within_ms.unwrap_or(0));
    Instant::now() + theirs.max(crate::settings::stop_deadline())
}

/// Says once on stderr what a stop waits for: the downloads the daemon lets finish, and
/// for how long (its own `BROWSE_DOWNLOAD_GRACE`).
fn announce_wait(health: &crate::wire::Health) {
    if let Some((what, grace)) = launcher::awaited_downloads(health) {
        errln!(
            "[browse] waiting for {what} to finish ({grace}BROWSE_DOWNLOAD_GRACE of the daemon)"
        );
    }
}

fn stop_daemon(paths: &StatePaths, globals: &Globals) -> Result<Stopped, ExitCode> {
    let daemon = match launcher::find_daemon(paths) {
        Some(daemon) if !daemon.health.stopping => daemon,
        Some(leaving) => {
            // Already shutting down (another stop, idle, a replacement): wait for it.
            announce_wait(&leaving.health);
            let deadline = shutdown_deadline(&leaving.health);
            wait_gone(paths, &leaving.record, deadline)?;
            return Ok(Stopped::Graceful);
        }
        None => {
            let deadline = Instant::now() + crate::settings::stop_deadline();
            return match launcher::clean_stale(paths) {
                Ok(StaleOutcome::NothingThere) => Ok(Stopped::NothingRunning),
                Ok(StaleOutcome::Cleaned) => Ok(Stopped::CleanedStale),
                Ok(StaleOutcome::AliveButSilent(record)) if globals.force_restart => {
                    launcher::kill_daemon(paths, &record);
                    wait_gone(paths, &record, deadline)?;
                    Ok(Stopped::Forced)
                }
                Ok(StaleOutcome::AliveButSilent(record)) => {
                    Err(launch_failure(&launcher::LaunchError::Busy {
                        pid: record.pid,
                    }))
                }
                Err(e) => Err(launch_failure(&e)),
            };
        }
    };
    let record = daemon.record.clone();
    let deadline = shutdown_deadline(&daemon.health);
    if globals.force_restart {
        launcher::kill_daemon(paths, &record);
        wait_gone(paths, &record, deadline)?;
        return Ok(Stopped::Forced);
    }
    announce_wait(&daemon.health);
    // The daemon answers once its downloads have finished or were given up.
    let answer_within = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_secs(10));
    match daemon
        .client()
        .command(&CommandRequest::new("stop", vec![]), answer_within)
    {
        Ok(Reply::Ok(_, notes)) => {
            for note in notes {
                output::note(&note);
            }
            wait_gone(paths, &record, deadline)?;
            Ok(Stopped::Graceful)
        }
        Ok(Reply::Err { body, .. }) => Err(fail(exit::FAILED, &body.error)),
        Err(_) if !launcher::is_alive(paths, &record) => {
            wait_gone(paths, &record, deadline)?;
            Ok(Stopped::AlreadyGone)
        }
        Err(e) => Err(fail(exit::FAILED, &format!("cannot stop the daemon: {e}"))),
    }
}

fn wait_gone(
    paths: &StatePaths,
    record: &launcher::record::StateRecord,
    deadline: Instant,
) -> Result<(), ExitCode> {
    let waited = Instant::now();
    if launcher::wait_for_exit(paths, record, deadline) {
        Ok(())
    } else {
        Err(fail(
            exit::FAILED,
            &format!(
                "daemon {} did not exit within its shutdown budget ({}s more waited)",
                record.pid,
                waited.elapsed().as_secs()
            ),
        ))
    }
}

/// A newer CLI replaces an older daemon at most once per race; an older CLI uses a newer daemon
/// when the protocol matches and otherwise refuses, never downgrading.
///
/// Replacing goes through the succession claim (`launcher::succession`): only its holder asks
/// the daemon to stop, after checking again that the daemon is still older, and it holds the
/// claim until its own daemon runs, so older starters wait for it instead of starting an old
/// one again. The daemon stops only if nothing is in flight and no other CLI is between its
/// health check and its command; otherwise it is kept and used.
pub fn settle_version_skew(
    paths: &StatePaths,
    daemon: Daemon,
    opts: ConnectOptions,
) -> Result<Daemon, ExitCode> {
    if daemon.record.peer {
        // gstack's daemon speaks the shared protocol; it is used, never replaced for a version.
        return Ok(daemon);
    }
    let ours = crate::settings::version();
    let theirs = daemon.health.version.clone();
    match compare_versions(&ours, &theirs) {
        std::cmp::Ordering::Equal => Ok(daemon),
        std::cmp::Ordering::Less => {
            if daemon.health.protocol == PROTOCOL {
                Ok(daemon)
            } else {
                Err(fail(
                    exit::FAILED,
                    &format!(
                        "the running daemon is browse {theirs} (protocol {}), newer than this CLI ({ours}, protocol {PROTOCOL}). Use the newer browse, or stop the daemon with it",
                        daemon.health.protocol
                    ),
                ))
            }
        }
        std::cmp::Ordering::Greater => replace_older(paths, daemon, opts, &ours),
    }
}

/// The newer CLI's side of [`settle_version_skew`].
fn replace_older(
    paths: &StatePaths,
    daemon: Daemon,
    opts: ConnectOptions,
    ours: &str,
) -> Result<Daemon, ExitCode> {
    let claim = match succession::claim(paths, ours) {
        Ok(Some(claim)) => claim,
        // Another CLI is replacing it (or the state dir cannot be written): use it meanwhile;
        // a command that finds it gone is retried on its successor.
        Ok(None) => return Ok(daemon),
        Err(e) => {
            tracing::debug!("cannot claim the succession: {e}");
            return Ok(daemon);
        }
    };
    // Holding the claim, look again: the daemon may have been replaced or may be gone.
    let current = match launcher::find_running(paths) {
        Some(current) => current,
        None => return launcher::connect(paths, opts).map_err(|e| launch_failure(&e)),
    };
    let theirs = current.health.version.clone();
    if compare_versions(ours, &theirs).is_le() {
        return Ok(current);
    }
    let stop_if_idle = CommandRequest::new("stop", vec!["--if-idle".into()]);
    match current
        .client()
        .command(&stop_if_idle, Duration::from_secs(10))
    {
        Ok(Reply::Ok(..)) => {
            errln!(
                "[browse] replacing daemon browse {theirs} with browse {ours} (it had no request in flight)"
            );
            let deadline = shutdown_deadline(&current.health);
            wait_gone(paths, &current.record, deadline)?;
            let started = launcher::connect(paths, opts).map_err(|e| launch_failure(&e));
            drop(claim);
            started
        }
        _ => {
            errln!(
                "[browse] daemon runs browse {theirs}, this CLI is {ours}; it is busy, so it is kept for now (run 'browse restart' to upgrade it)"
            );
            Ok(current)
        }
    }
}
