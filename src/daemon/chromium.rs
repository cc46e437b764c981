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
        let build = Build::of(&binary);
        crate::launcher::paths::create_private_dir(profile_dir).with_context(|| {
            format!(
                "cannot create the Chromium profile {}",
                profile_dir.display()
            )
        })?;
        let mut command = Command::new(&binary);
        command
            .args(launch_args(profile_dir, build))
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

/// Which Chromium program runs: what it can do, and so which switches apply to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// The browser (`chromium`, `google-chrome`): headless with `--headless=new`, or headed.
    Full,
    /// Chromium's headless-only build (`chromium-headless-shell`, Playwright's
    /// `chrome-headless-shell`): the same engine and DevTools protocol without the browser
    /// layer (no windows, address bar, extensions, sync, first-run or popup blocker). It starts
    /// about twice as fast and its tree holds about 120 MB less after one `goto`
    /// (BENCHMARKS.md, "The headless shell"), but it cannot be headed.
    HeadlessShell,
}

impl Build {
    /// Recognised by file name (`*headless-shell` or `*headless_shell`), after following
    /// symbolic links: a link named like the shell that leads to a full Chromium (as in a
    /// hand-made Playwright cache) is the full browser. Costs one `realpath`, no process.
    pub fn of(binary: &Path) -> Build {
        let real = std::fs::canonicalize(binary).unwrap_or_else(|_| binary.to_path_buf());
        let name = real
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.contains("headless-shell") || name.contains("headless_shell") {
            Build::HeadlessShell
        } else {
            Build::Full
        }
    }
}

fn launch_args(profile_dir: &Path, build: Build) -> Vec<String> {
    let full = build == Build::Full;
    // Switches only the browser layer reads (first run, default-browser prompt, component
    // updater, sync, default apps, extensions, metrics, keychain, popup blocker, the
    // browser's background services): the shell has none of these parts, and its binary does
    // not even hold these switch names, so they are sent to the full browser only.
    let browser_layer = [
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--metrics-recording-only",
        "--use-mock-keychain",
        // Pages open windows without a user gesture too (Playwright's switch). The shell
        // has no popup blocker: `window.open` always opens there.
        "--disable-popup-blocking",
    ];
    let mut args: Vec<String> = [
        "--remote-debugging-port=0",
        "--remote-debugging-address=127.0.0.1",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-breakpad",
        // Playwright's switches: no back-forward cache (a `back` must load the page again, not
        // restore stale DOM state), and no throttling of pages that are not in front.
        "--disable-back-forward-cache",
        "--disable-background-timer-throttling",
        "--disable-backgrounding-occluded-windows",
        "--disable-renderer-backgrounding",
        // The network service as a thread of the browser process instead of a process of its
        // own (about 20 MB PSS): the same network stack, so requests look the same to a page.
        "--enable-features=NetworkServiceInProcess2",
        // localStorage written to the profile as it changes, not batched for seconds: a
        // value a page set just before `stop`, an idle shutdown or a crash is on disk
        // (measured: without it, not on disk 4 s after `setItem`; with it, at once). The
        // same storage API and timing for the page.
        "--enable-aggressive-domstorage-flushing",
        "--mute-audio",
        "--hide-scrollbars",
        "--password-store=basic",
        "--window-size=1280,720",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Features off for both builds. BackForwardCache: see `--disable-back-forward-cache`.
    // SpareRendererForSitePerProcess: no renderer started ahead for a next site (about 12 MB
    // PSS idle). Pages cannot see which process they were given.
    let mut disabled_features = vec!["BackForwardCache", "SpareRendererForSitePerProcess"];
    if full {
        args.extend(browser_layer.iter().map(|s| s.to_string()));
        // Browser parts the shell lacks. WebUIOmniboxPopup, WebUIOmniboxFullPopup,
        // WebUIOmniboxAimPopup: the address bar's drop-down as preloaded web pages
        // (`chrome://omnibox-popup.top-chrome/`, two `browser_ui` targets) in a renderer of
        // their own, started with the browser even headless: about 44 MB PSS (40 MB private)
        // and a renderer start during our own. Browser UI only; headed, the drop-down is drawn
        // natively instead.
        disabled_features.extend([
            "Translate",
            "MediaRouter",
            "OptimizationHints",
            "WebUIOmniboxPopup",
            "WebUIOmniboxFullPopup",
            "WebUIOmniboxAimPopup",
        ]);
        if !crate::settings::headed() {
            args.insert(0, "--headless=new".into());
        }
    } else {
        // The shell is headless by itself (`--headless` is not needed) and has no address bar,
        // translation, media router or optimization hints to turn off.
        //
        // The full browser isolates every site in its own renderer process (Chrome's
        // desktop default, strict site isolation); the shell does not unless asked. Asked,
        // a cross-site iframe is out of process as in the browser: a page stuck in it does
        // not stop the page around it, and pages see the same process model.
        args.push("--site-per-process".into());
    }
    args.push(format!(
        "--disable-features={}",
        disabled_features.join(",")
    ));
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
/// [`past_launcher_script`]). A path named by a variable is used as it is. Headless, the
/// headless shell ([`Build::HeadlessShell`]: `chromium-headless-shell`,
/// `chrome-headless-shell`) anywhere on PATH comes before a full Chromium, as Playwright
/// chooses for headless; headed (`--headed`), only a full Chromium can open the window, so the
/// shell names are not looked for and a variable naming the shell is an error.
pub fn find_binary() -> Result<PathBuf> {
    let headed = crate::settings::headed();
    for var in ["BROWSE_CHROME", "CHROME", "GSTACK_CHROMIUM_PATH"] {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(&value);
            if !is_executable(&path) {
                bail!(
                    "no Chromium at {} (from {var}): not an executable file. Fix {var} or unset it",
                    path.display()
                );
            }
            if headed && Build::of(&path) == Build::HeadlessShell {
                bail!(
                    "{} (from {var}) is Chromium's headless shell, which cannot open a window for --headed. Point {var} at a full Chromium (e.g. /usr/bin/chromium) or run without --headed",
                    path.display()
                );
            }
            return Ok(path);
        }
    }
    const SHELL_NAMES: &[&str] = &["chromium-headless-shell", "chrome-headless-shell"];
    const FULL_NAMES: &[&str] = &[
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
        "chrome",
    ];
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let on_path = |names: &[&str]| {
        std::env::split_paths(&path_var).find_map(|dir| {
            names
                .iter()
                .map(|name| dir.join(name))
                .find(|candidate| is_executable(candidate))
        })
    };
    let found = if headed {
        on_path(FULL_NAMES)
    } else {
        on_path(SHELL_NAMES).or_else(|| on_path(FULL_NAMES))
    };
    match found {
        Some(path) => Ok(past_launcher_script(&path)),
        None if headed => bail!(
            "no Chromium found for --headed (a headless shell cannot open a window): set BROWSE_CHROME or install chromium (apt-get install chromium)"
        ),
        None => bail!(
            "no Chromium found: set BROWSE_CHROME or install chromium-headless-shell or chromium (apt-get install chromium-headless-shell chromium)"
        ),
    }
}

/// The program a distribution's launcher script on PATH starts, when there is one: Debian's
/// `/usr/bin/chromium` is a shell script that runs about eleven programs (CPU checks, crash
/// report clean-up, `/etc/chromium.d/`) before it execs `/usr/lib/chromium/chromium`, which
/// cost 30 ms of CPU and up to ~300 ms of wall time per cold start on a loaded 2-core machine
/// (BENCHMARKS.md, "Cold start: what a fresh profile costs"). What it adds is for a desktop
/// browser (Google API keys, extension and GPU-rasterization switches); Playwright's own
/// Chromium builds run without it too. Debian's `/usr/bin/chromium-headless-shell` adds
/// nothing but runs `/usr/lib/chromium/chromium-headless-shell` without `exec`: started
/// through it, our process group would be led by `sh`, and the parent-death signal would
/// reach `sh`, not Chromium. Only a `#!` script at `<prefix>/bin/<name>` is skipped, and only
/// for an executable ELF file at one of two known places: `<prefix>/lib/<name>/<name>`
/// (Debian's `chromium`) or `<prefix>/lib/chromium/<name>` (Debian's `chromium-*` packages
/// sharing that folder); anything else is returned unchanged.
pub fn past_launcher_script(path: &Path) -> PathBuf {
    let real = (|| {
        let name = path.file_name()?;
        let bin = path.parent()?;
        if bin.file_name()? != "bin" || !starts_with(path, b"#!") {
            return None;
        }
        let lib = bin.parent()?.join("lib");
        [lib.join(name).join(name), lib.join("chromium").join(name)]
            .into_iter()
            .find(|real| is_executable(real) && starts_with(real, b"\x7fELF"))
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

    #[test]
    fn debians_headless_shell_wrapper_is_skipped_for_the_shell_in_lib_chromium() {
        let root = std::env::temp_dir().join(format!("browse-shell-{}", std::process::id()));
        let script = root.join("usr/bin/chromium-headless-shell");
        let real = root.join("usr/lib/chromium/chromium-headless-shell");
        write(
            &script,
            b"#!/bin/sh -e\n\n/usr/lib/chromium/chromium-headless-shell \"$@\"\n",
        );
        assert_eq!(past_launcher_script(&script), script, "no program yet");
        write(&real, b"\x7fELF\x02\x01\x01");
        assert_eq!(past_launcher_script(&script), real);
        // Only under `lib/chromium` or `lib/<name>`: not any folder of lib.
        std::fs::remove_file(&real).unwrap();
        write(
            &root.join("usr/lib/other/chromium-headless-shell"),
            b"\x7fELF\x02\x01\x01",
        );
        assert_eq!(past_launcher_script(&script), script);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_headless_shell_is_recognised_by_its_real_file_name() {
        use super::Build;
        let root = std::env::temp_dir().join(format!("browse-build-{}", std::process::id()));
        let full = root.join("lib/chromium");
        let shell = root.join("lib/chrome-headless-shell");
        write(&full, b"\x7fELF");
        write(&shell, b"\x7fELF");
        assert_eq!(Build::of(&full), Build::Full);
        assert_eq!(Build::of(&shell), Build::HeadlessShell);
        assert_eq!(
            Build::of(Path::new("/opt/x/chromium_headless_shell")),
            Build::HeadlessShell
        );
        // A link named like the shell that leads to the full browser (a hand-made Playwright
        // cache) is the full browser, and the other way round.
        let named_shell = root.join("cache/chrome-headless-shell");
        std::fs::create_dir_all(named_shell.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&full, &named_shell).unwrap();
        assert_eq!(Build::of(&named_shell), Build::Full);
        let named_full = root.join("cache/chromium");
        std::os::unix::fs::symlink(&shell, &named_full).unwrap();
        assert_eq!(Build::of(&named_full), Build::HeadlessShell);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
