//! The daemon log: `tracing` events and Chromium's stderr lines, written to the daemon's stderr
//! (the spawner points it at `.gstack/browse-daemon.log`).
//!
//! Writing the log must never stop the daemon. A full disk or a broken log file made the
//! daemon panic while logging (tracing-subscriber reports its own write errors with
//! `eprintln!`, which panics when stderr itself is what failed), so the start-up cause was lost.
//! Here a failed write is dropped and remembered: [`failure`] tells the start-up error why the
//! log is missing lines.

use std::io::{self, Write};
use std::sync::Mutex;

/// The first log write that failed, e.g. "No space left on device (os error 28)".
static FIRST_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Installs the `tracing` subscriber (filter from `BROWSE_LOG`, default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BROWSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_ansi(false)
        .log_internal_errors(false)
        .try_init();
}

/// Appends one line of Chromium's stderr to the log.
pub fn chromium_line(line: &str) {
    let _ = LogWriter.write_all(format!("[chromium] {line}\n").as_bytes());
}

/// Why the log could not be written, if a write ever failed.
pub fn failure() -> Option<String> {
    FIRST_FAILURE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
}

/// stderr that reports every write as done: a failure is remembered, never returned.
struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Err(e) = io::stderr().write_all(buf) {
            let mut first = FIRST_FAILURE.lock().unwrap_or_else(|p| p.into_inner());
            if first.is_none() {
                *first = Some(e.to_string());
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
