//! The Chromium process: finding the binary, launching it in its own process group tied to the
//! daemon's life, learning its DevTools address, and ending its whole group on the way out:
//! gracefully (the caller sends CDP `Browser.close`, we wait for the group) or by SIGKILL.
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

/// A running Chromium that this daemon started.
pub struct Chromium {
    child: Child,
    pub pid: u32,
    pub start_time: u64,
    pub ws_url: String,
}

impl Chromium {
    /// Launches Chromium with a per-workspace profile and waits up to `budget` for its
    /// DevTools address (see [`crate::settings::launch_budget`]).
    pub fn launch(profile_dir: &Path, budget: Duration) -> Result<Self> {
        let binary = find_binary()?;
        crate::launcher::paths::create_private_dir(profile_dir).with_context(|| {
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
        // SAFETY: prctl, close_range and fcntl are async-signal-safe; they only set this
        // child's parent-death signal and descriptor flags. Chromium needs nothing of ours but
        // its standard streams.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                crate::descriptors::only_these_survive_exec(&[])
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
        let ws_url = match wait_for_devtools_url(stderr, budget) {
            Ok(url) => url,
            Err(e) => {
                let mut chromium = Chromium {
                    child,
                    pid,
                    start_time,
                    ws_url: String::new(),
                };
                chromium.kill();
                return Err(match e {
                    LaunchFailure::Exited(why) => {
                        anyhow!("Chromium ({}) did not start: {why}", binary.display())
                    }
                    LaunchFailure::TimedOut => anyhow!(
                        "Chromium ({}) did not open its DevTools socket within {} (the launch budget: BROWSE_START_TIMEOUT minus a margin). Is this machine overloaded? Raise BROWSE_START_TIMEOUT, or check that BROWSE_CHROME names a working Chromium",
                        binary.display(),
                        seconds(budget)
                    ),
                    LaunchFailure::Internal(e) => e,
                });
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

    /// True when Chromium's main process is stopped (SIGSTOP, a debugger), from
    /// `/proc/<pid>/stat` (state `T` or `t`): it cannot answer or close until continued.
    pub fn is_stopped(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|stat| {
                let rest = &stat[stat.rfind(')')? + 1..];
                rest.split_whitespace().next().map(|s| s == "T" || s == "t")
            })
            .unwrap_or(false)
    }

    /// Waits until no live process is left in Chromium's group (the caller has asked it to
    /// close), at most until `deadline`. The main process is not reaped here: as a zombie it
    /// keeps the group id reserved, so a later kill cannot reach a stranger. True when the
    /// whole group ended on its own.
    pub fn wait_for_group_exit(&self, deadline: Instant) -> bool {
        loop {
            if live_members_of_group(self.pid) == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How many renderer processes (`--type=renderer`) of Chromium's group are alive: a
    /// renderer that has exited has dropped its pages' Web Storage connections, which makes
    /// Chromium's storage service commit their changes at once (see `close_chromium`).
    pub fn live_renderers(&self) -> usize {
        members_of_group(self.pid)
            .filter(|pid| {
                // Chromium rewrites a zygote child's command line as one string of
                // space-separated words, so the switch is looked for as a word in it.
                std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                    cmdline
                        .split(|b| *b == 0 || *b == b' ')
                        .any(|arg| arg == b"--type=renderer")
                })
            })
            .count()
    }

    /// Ends the whole process group at once with SIGKILL (renderers and helpers too, even
    /// stopped ones) and reaps the main process, so no zombie is left. Nothing is flushed:
    /// use after `Browser.close` and [`Self::wait_for_group_exit`], or when Chromium is hung.
    pub fn kill(&mut self) {
        let Ok(raw) = i32::try_from(self.pid) else {
            return;
        };
        // Our own unreaped child leads the group, so the group id is still ours to signal.
        if live_members_of_group(self.pid) > 0 {
            let _ = signal::killpg(Pid::from_raw(raw), Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }

    /// SIGKILLs the whole group with no grace period, and reaps the main process: for a
    /// workspace that was deleted, where anything Chromium would save on the way out would
    /// re-create its profile directory.
    pub fn kill_at_once(&mut self) {
        if let Ok(raw) = i32::try_from(self.pid) {
            let _ = signal::killpg(Pid::from_raw(raw), Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// How many processes of process group `pgid` are alive (zombies do not count).
fn live_members_of_group(pgid: u32) -> usize {
    members_of_group(pgid).count()
}

/// The live processes (zombies excluded) of process group `pgid`, from `/proc/<pid>/stat`
/// (state is field 3, the group field 5).
fn members_of_group(pgid: u32) -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(move |pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let group = fields.nth(1).and_then(|g| g.parse::<u32>().ok());
            group == Some(pgid) && !matches!(state, Some("Z") | Some("X"))
        })
}

/// `2.4 s`, `12 s`: a duration as a person reads it.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn launch_args(profile_dir: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
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
        // SpareRendererForSitePerProcess: no renderer started ahead for a next site (about
        // 12 MB PSS idle). Pages cannot see which process they were given.
        // WebUIOmniboxPopup, WebUIOmniboxFullPopup, WebUIOmniboxAimPopup: the address bar's
        // drop-down as preloaded web pages (`chrome://omnibox-popup.top-chrome/`, two
        // `browser_ui` targets) in a renderer of their own, started with the browser even
        // headless: about 44 MB PSS (40 MB private) and a renderer start during our own.
        // Browser UI only; headed, the drop-down is drawn natively instead.
        "--disable-features=Translate,MediaRouter,OptimizationHints,BackForwardCache,SpareRendererForSitePerProcess,WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup",
        // The network service as a thread of the browser process instead of a process of its
        // own (about 20 MB PSS): the same network stack, so requests look the same to a page.
        "--enable-features=NetworkServiceInProcess2",
        "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows",
        "--disable-renderer-backgrounding",
        // Pages open windows without a user gesture too (Playwright's switch).
        "--disable-popup-blocking",
        // localStorage written to the profile as it changes, not batched for seconds: a
        // value a page set just before `stop`, an idle shutdown or a crash is on disk
        // (measured: without it, not on disk 4 s after `setItem`; with it, at once). The
        // same storage API and timing for the page.
        "--enable-aggressive-domstorage-flushing",
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
    if !crate::settings::headed() {
        args.insert(0, "--headless=new".into());
    }
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

/// `BROWSE_CHROME`, then `CHROME`, then `GSTACK_CHROMIUM_PATH`, then the usual names on PATH
/// (a distribution's launcher script there is skipped for the program it starts: see
/// [`past_launcher_script`]). A path named by a variable is used as it is.
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
                return Ok(past_launcher_script(&candidate));
            }
        }
    }
    bail!("no Chromium found: set BROWSE_CHROME or install chromium (apt-get install chromium)")
}

/// The program a distribution's launcher script on PATH starts, when there is one: Debian's
/// `/usr/bin/chromium` is a shell script that runs about eleven programs (CPU checks, crash
/// report clean-up, `/etc/chromium.d/`) before it execs `/usr/lib/chromium/chromium`, which
/// cost 30 ms of CPU and up to ~300 ms of wall time per cold start on a loaded 2-core machine
/// (BENCHMARKS.md, "Cold start: what a fresh profile costs"). What it adds is for a desktop
/// browser (Google API keys, extension and GPU-rasterization switches); Playwright's own
/// Chromium builds run without it too. Only a `#!` script at `<prefix>/bin/<name>` whose
/// `<prefix>/lib/<name>/<name>` is an executable ELF file is skipped; anything else is
/// returned unchanged.
pub fn past_launcher_script(path: &Path) -> PathBuf {
    let real = (|| {
        let name = path.file_name()?;
        let bin = path.parent()?;
        if bin.file_name()? != "bin" || !starts_with(path, b"#!") {
            return None;
        }
        let real = bin.parent()?.join("lib").join(name).join(name);
        (is_executable(&real) && starts_with(&real, b"\x7fELF")).then_some(real)
    })();
    real.unwrap_or_else(|| path.to_path_buf())
}

/// True when the file at `path` begins with `magic` (false when it cannot be read).
fn starts_with(path: &Path, magic: &[u8]) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    let head = &mut head[..magic.len().min(4)];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(head))
        .is_ok_and(|()| head == magic)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Why Chromium did not give us its DevTools address.
enum LaunchFailure {
    /// It exited first; the reason carries its last stderr lines.
    Exited(String),
    /// It was still running when the launch budget ran out.
    TimedOut,
    /// We could not watch it.
    Internal(anyhow::Error),
}

/// Reads Chromium's stderr until it prints its DevTools address; keeps forwarding the rest to
/// the daemon log so the pipe never fills and blocks Chromium.
fn wait_for_devtools_url(
    stderr: std::process::ChildStderr,
    budget: Duration,
) -> std::result::Result<String, LaunchFailure> {
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
                super::log::chromium_line(&line);
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
        .context("cannot start the Chromium log reader")
        .map_err(LaunchFailure::Internal)?;
    match rx.recv_timeout(budget) {
        Ok(Ok(url)) => Ok(url),
        Ok(Err(why)) => Err(LaunchFailure::Exited(why)),
        Err(_) => Err(LaunchFailure::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::past_launcher_script;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    fn write(path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_launcher_script_is_skipped_only_for_the_executable_it_names() {
        let root = std::env::temp_dir().join(format!("browse-launcher-{}", std::process::id()));
        let script = root.join("usr/bin/chromium");
        let real = root.join("usr/lib/chromium/chromium");
        write(
            &script,
            b"#!/bin/sh\nexec /usr/lib/chromium/chromium \"$@\"\n",
        );
        // No program beside it yet: the script is what runs.
        assert_eq!(past_launcher_script(&script), script);
        // A lib file that is not an ELF executable is not trusted as the program.
        write(&real, b"#!/bin/sh\n");
        assert_eq!(past_launcher_script(&script), script);
        write(&real, b"\x7fELF\x02\x01\x01");
        assert_eq!(past_launcher_script(&real), real, "an ELF file is itself");
        assert_eq!(past_launcher_script(&script), real);
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(past_launcher_script(&script), script, "not executable");
        // A binary on PATH is never replaced, even with a lib program beside it.
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o755)).unwrap();
        write(&script, b"\x7fELF\x02\x01\x01");
        assert_eq!(past_launcher_script(&script), script);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
