//! The Chromium process: finding the binary, launching it in its own process group tied to the
//! daemon's life, learning its DevTools address, and killing its whole group on the way out.
//!
//! We launch Chromium ourselves rather than through `headless_chrome`'s launcher because the
//! launcher invariants need control the crate does not give: its own process group (so a kill
//! reaches every renderer), `PR_SET_PDEATHSIG` (so it dies with the daemon even on SIGKILL), and
//! no inherited lock descriptor. `headless_chrome` then connects to the DevTools WebSocket.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;

use crate::launcher::identity;

/// How long Chromium gets to print its DevTools address.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(20);

/// A running Chromium that this daemon started.
pub struct Chromium {
    child: Child,
    pub pid: u32,
    pub start_time: u64,
    pub ws_url: String,
}

impl Chromium {
    /// Launches Chromium with a per-workspace profile and waits for its DevTools address.
    pub fn launch(profile_dir: &Path) -> Result<Self> {
        let binary = find_binary()?;
        std::fs::create_dir_all(profile_dir).with_context(|| {
            format!(
                "cannot create the Chromium profile {}",
                profile_dir.display()
            )
        })?;
        let mut command = Command::new(&binary);
        command
            .args(launch_args(profile_dir))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start Chromium at {}", binary.display()))?;
        let pid = child.id();
        let start_time = identity::start_time(pid).unwrap_or(0);
        let stderr = child
            .stderr
            .take()
            .context("Chromium's stderr was not captured")?;
        let ws_url = match wait_for_devtools_url(stderr) {
            Ok(url) => url,
            Err(e) => {
                let mut chromium = Chromium {
                    child,
                    pid,
                    start_time,
                    ws_url: String::new(),
                };
                chromium.kill();
                return Err(e.context(format!("Chromium ({}) did not start", binary.display())));
            }
        };
        Ok(Chromium {
            child,
            pid,
            start_time,
            ws_url,
        })
    }

    /// True once the Chromium main process has exited.
    pub fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Ends the whole process group: SIGTERM, a short grace period, then SIGKILL; reaps the
    /// main process so no zombie is left.
    pub fn kill(&mut self) {
        let Ok(raw) = i32::try_from(self.pid) else {
            return;
        };
        let group = Pid::from_raw(raw);
        let _ = signal::killpg(group, Signal::SIGTERM);
        let until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Renderers and helpers may outlive the main process: the group kill reaches them.
        let _ = signal::killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

fn launch_args(profile_dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "--headless=new",
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-breakpad",
        // Playwright's switches: no back-forward cache (a `back` must load the page again, not
        // restore stale DOM state), and no throttling of pages that are not in front.
        "--disable-back-forward-cache",
        "--disable-features=Translate,MediaRouter,OptimizationHints,BackForwardCache",
        "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows",
        "--disable-renderer-backgrounding",
        // Pages open windows without a user gesture too (Playwright's switch).
        "--disable-popup-blocking",
        "--metrics-recording-only",
        "--mute-audio",
        "--hide-scrollbars",
        "--password-store=basic",
        "--use-mock-keychain",
        "--window-size=1280,720",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile_dir.display()));
    if nix::unistd::geteuid().is_root() || std::env::var_os("GSTACK_CHROMIUM_NO_SANDBOX").is_some()
    {
        // Chromium refuses to run sandboxed as root.
        args.push("--no-sandbox".into());
    }
    // `BROWSE_CHROME_ARGS`: extra flags (a proxy, a V8 heap limit, …), split on spaces.
    if let Ok(extra) = std::env::var("BROWSE_CHROME_ARGS") {
        args.extend(extra.split_whitespace().map(str::to_owned));
    }
    args.push("about:blank".into());
    args
}

/// `BROWSE_CHROME`, then `CHROME`, then `GSTACK_CHROMIUM_PATH`, then the usual names on PATH.
pub fn find_binary() -> Result<PathBuf> {
    for var in ["BROWSE_CHROME", "CHROME", "GSTACK_CHROMIUM_PATH"] {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(&value);
            if is_executable(&path) {
                return Ok(path);
            }
            bail!(
                "no Chromium at {} (from {var}): not an executable file. Fix {var} or unset it",
                path.display()
            );
        }
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "chrome",
    ];
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path_var) {
        for name in names {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    bail!("no Chromium found: set BROWSE_CHROME or install chromium (apt-get install chromium)")
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Reads Chromium's stderr until it prints its DevTools address; keeps forwarding the rest to
/// our stderr (the daemon log) so the pipe never fills and blocks Chromium.
fn wait_for_devtools_url(stderr: std::process::ChildStderr) -> Result<String> {
    let (tx, rx) = mpsc::channel::<Result<String, String>>();
    std::thread::Builder::new()
        .name("chromium-stderr".into())
        .spawn(move || {
            let mut tx = Some(tx);
            let mut recent: Vec<String> = Vec::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(Ok(url.trim().to_owned()));
                    }
                    continue;
                }
                eprintln!("[chromium] {line}");
                if tx.is_some() {
                    recent.push(line);
                    if recent.len() > 8 {
                        recent.remove(0);
                    }
                }
            }
            if let Some(tx) = tx.take() {
                let _ = tx.send(Err(format!(
                    "it exited before opening DevTools{}",
                    if recent.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", recent.join(" | "))
                    }
                )));
            }
        })
        .context("cannot start the Chromium log reader")?;
    match rx.recv_timeout(LAUNCH_TIMEOUT) {
        Ok(Ok(url)) => Ok(url),
        Ok(Err(why)) => Err(anyhow!(why)),
        Err(_) => Err(anyhow!(
            "it did not open DevTools within {}s",
            LAUNCH_TIMEOUT.as_secs()
        )),
    }
}
