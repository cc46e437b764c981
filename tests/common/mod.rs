//! Test support: a throw-away workspace, real `browse` processes run in it, a process table
//! scan for its daemons and Chromium, a fixture HTTP server on 127.0.0.1, and waiting for a
//! condition under a deadline (never a bare sleep).
#![allow(dead_code)]

pub mod recording;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

pub mod png;

pub const BROWSE: &str = env!("CARGO_BIN_EXE_browse");

/// Polls `cond` until it holds or `within` passes; panics with `what` on timeout.
pub fn wait_until(what: &str, within: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    let mut backoff = Duration::from_millis(2);
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for: {what}"
        );
        thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_millis(50));
    }
}

/// Serialises the tests that start a real Chromium: two at once on a 2-core machine only
/// measure contention.
pub fn chromium_slot() -> MutexGuard<'static, ()> {
    static SLOT: Mutex<()> = Mutex::new(());
    SLOT.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh project directory (with a `.git` entry) whose `.gstack/` belongs to this test.
pub struct Workspace {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
    pub browserless: bool,
}

impl Workspace {
    /// A workspace whose daemons run without Chromium (launcher race and fault tests).
    pub fn browserless() -> Self {
        let mut ws = Self::new_inner(true);
        ws.set("BROWSE_TEST_NO_BROWSER", "1");
        ws
    }

    /// A workspace whose daemons run a real Chromium.
    pub fn with_chromium() -> Self {
        Self::new_inner(false)
    }

    fn new_inner(browserless: bool) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("browse-test-")
            .tempdir()
            .expect("tempdir");
        fs::create_dir(dir.path().join(".git")).expect(".git");
        let mut ws = Workspace {
            dir,
            env: Vec::new(),
            browserless,
        };
        ws.set("BROWSE_WATCH_INTERVAL", "200");
        ws.set("BROWSE_HEARTBEAT_INTERVAL", "200");
        ws.set("BROWSE_START_TIMEOUT", "60000");
        ws
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// Makes this workspace's daemons pick their Chromium themselves, from PATH, whatever the
    /// test run's environment names (an empty variable counts as unset).
    pub fn chromium_from_path(&mut self) {
        for var in ["BROWSE_CHROME", "CHROME", "GSTACK_CHROMIUM_PATH"] {
            self.set(var, "");
        }
    }

    /// Makes this workspace's daemons find only a full Chromium: PATH is a folder of the
    /// workspace laid out like Debian's package (`bin/chromium`, its launcher script, beside
    /// `lib/chromium/chromium`, the program), with no headless shell on it.
    pub fn only_full_chromium_on_path(&mut self) {
        let root = self.path().join("full-chromium");
        fs::create_dir_all(root.join("bin")).expect("bin");
        fs::create_dir_all(root.join("lib/chromium")).expect("lib");
        std::os::unix::fs::symlink("/usr/bin/chromium", root.join("bin/chromium")).expect("link");
        std::os::unix::fs::symlink(
            "/usr/lib/chromium/chromium",
            root.join("lib/chromium/chromium"),
        )
        .expect("link");
        self.chromium_from_path();
        let bin = root.join("bin");
        self.set("PATH", bin.to_str().expect("utf-8 path"));
    }

    /// The program the recorded Chromium main process runs (`/proc/<chromePid>/exe`).
    pub fn chromium_exe(&self) -> PathBuf {
        let record = self.record().expect("record");
        let pid = record["chromePid"].as_u64().expect("chromePid");
        fs::read_link(format!("/proc/{pid}/exe")).expect("Chromium's exe")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path().join(".gstack")
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir().join("browse.json")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BROWSE);
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("BROWSE_STATE_FILE")
            .env_remove("BROWSE_TAB")
            .env_remove("BROWSE_TEST_VERSION")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `browse <args>` to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run browse")
    }

    /// Runs `browse <args>`, asserting exit 0, and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "browse {args:?} failed ({}):\nstdout: {}\nstderr: {}\nlog:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.daemon_log_tail()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `browse <args>`, asserting exit 1 (the command failed), and returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "browse {args:?} should fail:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs `browse <args>`, asserting exit 2 (the CLI refused the command line itself, before
    /// any daemon), and returns stderr.
    pub fn usage_fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "browse {args:?} should be a usage error:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Starts `browse <args>` without waiting.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn browse")
    }

    /// Runs `n` copies of `browse <args>` at once (all released together) and collects them.
    pub fn stampede(&self, n: usize, args: &[&str]) -> Vec<Output> {
        let children: Vec<Child> = (0..n).map(|_| self.spawn(args)).collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait browse"))
            .collect()
    }

    pub fn record(&self) -> Option<serde_json::Value> {
        let text = fs::read_to_string(self.state_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The running daemon's port and token, from the state record.
    pub fn endpoint(&self) -> (u16, String) {
        let record = self.record().expect("state record");
        let port = record["port"].as_u64().expect("port");
        let token = record["token"].as_str().expect("token");
        (u16::try_from(port).expect("port fits"), token.to_owned())
    }

    /// `(status, body)` of a POST to the daemon, with its own token unless `token` is given.
    pub fn post(&self, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
        let (port, own) = self.endpoint();
        let reply = ureq::post(&format!("http://127.0.0.1:{port}{path}"))
            .set(
                "Authorization",
                &format!("Bearer {}", token.unwrap_or(&own)),
            )
            .set("Content-Type", "application/json")
            .send_string(body);
        match reply {
            Ok(r) => (r.status(), r.into_string().expect("body")),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().expect("body")),
            Err(e) => panic!("POST {path}: {e}"),
        }
    }

    pub fn daemon_log_tail(&self) -> String {
        let log =
            fs::read_to_string(self.state_dir().join("browse-daemon.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Live (non-zombie) daemon processes serving this workspace.
    pub fn daemons(&self) -> Vec<u32> {
        let state_file = self.state_file();
        self.daemons_where(|file| file == state_file.as_path())
    }

    /// Live daemons of named sessions and the default one (state files under `.gstack/`).
    pub fn daemons_of_every_session(&self) -> Vec<u32> {
        let state_dir = self.state_dir();
        self.daemons_where(|file| file.starts_with(&state_dir))
    }

    fn daemons_where(&self, state_file_matches: impl Fn(&Path) -> bool) -> Vec<u32> {
        live_processes()
            .into_iter()
            .filter(|p| p.cmdline.get(1).map(String::as_str) == Some("__daemon"))
            .filter(|p| {
                p.environ
                    .get("BROWSE_STATE_FILE")
                    .is_some_and(|file| state_file_matches(Path::new(file)))
            })
            .map(|p| p.pid)
            .collect()
    }

    /// Live Chromium main processes of every session of this workspace.
    pub fn chromium_mains_of_every_session(&self) -> Vec<u32> {
        let prefix = format!("--user-data-dir={}/", self.state_dir().display());
        live_processes()
            .into_iter()
            .filter(|p| p.cmdline.iter().any(|a| a.starts_with(&prefix)))
            .filter(|p| !p.cmdline.iter().any(|a| a.starts_with("--type=")))
            .map(|p| p.pid)
            .collect()
    }

    /// Live Chromium main processes (not renderers or helpers) using this workspace's profile.
    pub fn chromium_mains(&self) -> Vec<u32> {
        self.chromium_processes(true)
    }

    /// Every live Chromium process (main, renderers, helpers) using this workspace's profile.
    pub fn chromium_all(&self) -> Vec<u32> {
        self.chromium_processes(false)
    }

    fn chromium_processes(&self, mains_only: bool) -> Vec<u32> {
        let flag = format!(
            "--user-data-dir={}",
            self.state_dir().join("chromium-profile").display()
        );
        live_processes()
            .into_iter()
            .filter(|p| p.cmdline.iter().any(|a| a == &flag))
            .filter(|p| !mains_only || !p.cmdline.iter().any(|a| a.starts_with("--type=")))
            .map(|p| p.pid)
            .collect()
    }

    /// Temp files left beside the record.
    pub fn leftover_temps(&self) -> Vec<String> {
        fs::read_dir(self.state_dir())
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| n.contains(".tmp."))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stops the daemon and waits until nothing of this workspace runs.
    pub fn shut_down(&self) {
        // The workspace may have been deleted by the test: then there is nothing to run in.
        let _ = self.command(&["stop"]).output();
        for pid in self.daemons_of_every_session() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        for pid in self.chromium_mains_of_every_session() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        for pid in self.chromium_all() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        wait_until("workspace processes gone", Duration::from_secs(20), || {
            self.daemons().is_empty() && self.chromium_all().is_empty()
        });
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if !thread::panicking() || !self.daemons().is_empty() {
            self.shut_down();
        }
    }
}

/// One process from /proc.
pub struct Proc {
    pub pid: u32,
    pub cmdline: Vec<String>,
    pub environ: HashMap<String, String>,
}

/// Every process that is not a zombie, with its command line and environment.
pub fn live_processes() -> Vec<Proc> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if !is_live(pid) {
            continue;
        }
        let split = |bytes: Vec<u8>| -> Vec<String> {
            bytes
                .split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        };
        let cmdline = split(fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default());
        let environ = split(fs::read(format!("/proc/{pid}/environ")).unwrap_or_default())
            .into_iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect();
        out.push(Proc {
            pid,
            cmdline,
            environ,
        });
    }
    out
}

/// True when `pid` exists and is not a zombie.
pub fn is_live(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    !matches!(
        stat[close + 1..].split_whitespace().next(),
        Some("Z") | Some("X") | None
    )
}

/// Fixture pages served on 127.0.0.1 by a real HTTP server, for the life of the value.
pub struct PageServer {
    pub base: String,
    server: Arc<tiny_http::Server>,
    thread: Option<thread::JoinHandle<()>>,
}

impl PageServer {
    /// Serves `pages` (path → HTML); anything else is a 404.
    pub fn start(pages: &[(&str, &str)]) -> Self {
        let pages: HashMap<String, String> = pages
            .iter()
            .map(|(p, body)| (p.to_string(), body.to_string()))
            .collect();
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind fixture server"));
        let port = server.server_addr().to_ip().expect("ip addr").port();
        let worker = Arc::clone(&server);
        let thread = thread::spawn(move || {
            for request in worker.incoming_requests() {
                let path = request.url().split('?').next().unwrap_or("/").to_owned();
                let html =
                    tiny_http::Header::from_bytes("Content-Type", "text/html; charset=utf-8")
                        .expect("header");
                let response = match pages.get(&path) {
                    Some(body) => tiny_http::Response::from_string(body.clone()).with_header(html),
                    None => tiny_http::Response::from_string("not found")
                        .with_status_code(404)
                        .with_header(html),
                };
                let _ = request.respond(response);
            }
        });
        PageServer {
            base: format!("http://127.0.0.1:{port}"),
            server,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `GET /health` of the daemon the record names (None if it does not answer).
pub fn health(ws: &Workspace) -> Option<serde_json::Value> {
    let port = ws.record()?.get("port")?.as_u64()?;
    let resp = ureq::get(&format!("http://127.0.0.1:{port}/health"))
        .timeout(Duration::from_secs(2))
        .call()
        .ok()?;
    serde_json::from_str(&resp.into_string().ok()?).ok()
}

/// The `PID: N` line of a `status` answer.
pub fn status_pid(out: &Output) -> Option<u32> {
    stdout(out)
        .lines()
        .find_map(|l| l.strip_prefix("PID: "))
        .and_then(|p| p.trim().parse().ok())
}

/// The kernel start time of `pid` (field 22 of /proc/<pid>/stat).
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// A syntactically valid record naming `pid`/`port`, for stale-record tests.
pub fn fake_record(pid: u32, pid_start_time: u64, port: u16) -> String {
    serde_json::json!({
        "pid": pid, "port": port, "token": "00000000-0000-4000-8000-000000000000",
        "startedAt": "2026-01-01T00:00:00.000Z", "serverPath": "/nonexistent", "mode": "launched",
        "schema": 1, "instanceId": "00000000000000000000000000000000",
        "pidStartTime": pid_start_time, "version": "0.1.0", "chromePid": pid,
        "chromeStartTime": pid_start_time, "hostname": hostname()
    })
    .to_string()
}

pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a pid and signal number; no memory is involved.
    unsafe {
        libc::kill(pid as i32, sig);
    }
}

/// SIGKILLs the workspace's running daemon, then cold-starts `n` CLIs at once; asserts they all
/// succeed with exactly one new daemon. Returns (old, new) daemon pids.
pub fn sigkill_daemon_then_stampede(ws: &Workspace, n: usize) -> (u32, u32) {
    let old = status_pid(&ws.run(&["status"])).expect("status pid");
    signal(old, libc::SIGKILL);
    wait_until("old daemon dead", Duration::from_secs(30), || !is_live(old));
    let outs = ws.stampede(n, &["status"]);
    assert!(outs.iter().all(|o| o.status.success()));
    let daemons = ws.daemons();
    assert_eq!(daemons.len(), 1, "daemons after the stampede: {daemons:?}");
    assert_ne!(daemons[0], old);
    (old, daemons[0])
}

/// Runs `script` under `sh` as PID 1 of a throw-away PID namespace (`unshare -fp --mount-proc`;
/// we are root): a bug that signals the wrong process, even `kill(-1)`, reaches only processes
/// of that namespace, and all of them die with the script. The script runs in the workspace
/// with its environment; `$BROWSE` is the binary under test.
pub fn run_in_pid_namespace(ws: &Workspace, script: &str) -> Output {
    let mut cmd = Command::new("unshare");
    cmd.args(["-fp", "--mount-proc", "sh", "-c", script])
        .current_dir(ws.path())
        .env_remove("BROWSE_STATE_FILE")
        .env_remove("BROWSE_TAB")
        .env_remove("BROWSE_TEST_VERSION")
        .env("BROWSE", BROWSE)
        .stdin(Stdio::null());
    for (k, v) in &ws.env {
        cmd.env(k, v);
    }
    cmd.output()
        .expect("run unshare (needs root and util-linux)")
}

/// The page both remote-browser tests (a bare Chromium, browserless) drive.
pub const REMOTE_PAGE: &str = "<title>Remote</title><p id=out>start</p>\
    <button onclick=\"document.getElementById('out').textContent='clicked'\">Press</button>";

/// Drives [`REMOTE_PAGE`], already loaded through `--cdp-url cdp`: text, `snapshot -i`, a
/// click on its ref, and the page's answer to it; and checks no local Chromium was launched.
pub fn drive_remote_page(ws: &Workspace, cdp: &str) {
    assert!(
        ws.chromium_mains().is_empty(),
        "no local Chromium was launched by browse"
    );
    assert_eq!(ws.ok(&["--cdp-url", cdp, "text"]), "startPress\n");
    let snapshot = ws.ok(&["--cdp-url", cdp, "snapshot", "-i"]);
    assert!(snapshot.contains("@e1 [button] \"Press\""), "{snapshot}");
    ws.ok(&["--cdp-url", cdp, "click", "@e1"]);
    assert_eq!(
        ws.ok(&[
            "--cdp-url",
            cdp,
            "js",
            "document.getElementById('out').textContent"
        ]),
        "clicked\n"
    );
}
