//! Downloads a page starts (a `download` link, a `Content-Disposition: attachment` answer, a
//! navigation to a file): each lands in the workspace's downloads folder and is recorded, so
//! none is lost silently (headless Chromium otherwise drops them or writes them somewhere
//! nobody looks).
//!
//! Chromium is told at start (`Browser.setDownloadBehavior`, `allowAndName`, events on) to
//! write each download into the folder under its GUID; `Browser.downloadWillBegin` records it,
//! `Browser.downloadProgress` follows it, and on `completed` the file gets its suggested name
//! (made safe and unique, never replacing a file) and mode 0600. The folder is 0700, so a
//! download is readable by nobody else while it is written. A browser we did not launch
//! (`--cdp-url`) keeps its own download behaviour: its filesystem is not ours.
//!
//! Chromium reports a download only once it has sniffed the first bytes of a body whose type
//! it may sniff (`application/octet-stream`, `text/plain`, none): on a slow answer that is
//! seconds after the headers arrived (measured: 8 s at 1 byte/s), and a shutdown meanwhile
//! would lose it. So each tab session's `Network` events are followed too ([`Downloads::attach`]):
//! a navigation (`requestWillBeSent` of type `Document`) whose headers
//! (`responseReceivedExtraInfo`, sent as they arrive, before sniffing) say it is a download
//! (a 2xx with `Content-Disposition: attachment`, or `application/octet-stream`, which no
//! frame renders) counts as a download *starting* until Chromium reports it (then the
//! record above takes over), the page loads it after all (`loadingFinished`), or it fails
//! (`loadingFailed`; an abort is given [`REPORT_AFTER_ABORT`] for Chromium's report, which
//! follows the navigation's abort). Plain page navigations are never counted. A link with
//! the `download` attribute is followed the same way: Chromium (156) requests it as a
//! `Document` in the tab's session and reports it only after sniffing, as a plain link to a
//! file (`faults.rs::a_download_attribute_link_…`).

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::events::lock;
use crate::cdp::{Browser, Tab};

/// Where a download stands.
#[derive(Debug, Clone, PartialEq)]
pub enum DownloadState {
    /// A navigation's headers said it is a download, and Chromium has not reported it yet
    /// (it holds the first bytes for sniffing). Counts as in progress; `seq` is 0.
    Starting,
    InProgress,
    /// Saved at this path (bytes).
    Completed(PathBuf, u64),
    Canceled,
    /// Finished, but could not be given its name; the file is still at this path.
    Failed(String),
}

/// One download the page started.
#[derive(Debug, Clone)]
pub struct Download {
    /// Counts downloads in this daemon from 1.
    pub seq: u64,
    pub url: String,
    pub suggested_name: String,
    pub received: u64,
    pub state: DownloadState,
}

/// How long a download navigation that was aborted still counts as starting, waiting for
/// Chromium to report the download (a download navigation is aborted just before
/// `Browser.downloadWillBegin`; measured 30 ms apart). A navigation aborted for another reason
/// stops counting then.
pub const REPORT_AFTER_ABORT: Duration = Duration::from_secs(3);

/// A navigation whose headers say it is a download, before Chromium reports it.
struct Starting {
    /// The CDP session and `Network` request id.
    key: String,
    download: Download,
    /// When its request was aborted (or `None` while it runs).
    aborted: Option<Instant>,
    /// When its headers said download.
    seen: Instant,
}

impl Starting {
    fn counts(&self) -> bool {
        self.aborted
            .is_none_or(|at| at.elapsed() < REPORT_AFTER_ABORT)
    }
}

#[derive(Default)]
struct Log {
    dir: Option<PathBuf>,
    /// Why downloads are not kept in the workspace, when [`Downloads::watch`] failed.
    off: Option<String>,
    next_seq: u64,
    /// `next_seq + 1` when `downloads` last listed the record (0: never): what began since
    /// is what the caller has not seen.
    listed_before: u64,
    items: Vec<Download>,
    by_guid: HashMap<String, usize>,
    starting: Vec<Starting>,
    /// The URLs of downloads Chromium reported lately, and when.
    recently_reported: Vec<(String, Instant)>,
    /// The navigations (session/request keys) whose headers said download, and when, for
    /// [`Downloads::began_on`]; kept [`DOWNLOAD_NAVIGATIONS_KEPT`].
    download_navigations: Vec<(String, Instant)>,
}

/// How long [`Log::download_navigations`] keeps an entry: longer than any action waits.
const DOWNLOAD_NAVIGATIONS_KEPT: Duration = Duration::from_secs(120);

impl Log {
    /// Downloads in progress, those still starting (not yet reported by Chromium) last.
    fn in_progress(&self) -> impl Iterator<Item = &Download> {
        self.items
            .iter()
            .filter(|d| d.state == DownloadState::InProgress)
            .chain(
                self.starting
                    .iter()
                    .filter(|s| s.counts())
                    .map(|s| &s.download),
            )
    }
}

/// How often a wait looks at the record again without a change: a starting download that
/// was aborted stops counting by the clock ([`REPORT_AFTER_ABORT`]), not by an event.
const RECHECK: Duration = Duration::from_millis(100);

/// The daemon's downloads: the folder they land in and what happened to each.
#[derive(Default)]
pub struct Downloads {
    log: Mutex<Log>,
    changed: Condvar,
}

impl Downloads {
    /// Creates `dir` (0700, refusing a symlink or a non-directory there), points Chromium's
    /// downloads at it, and follows them on a thread of their own.
    /// Its error is also kept for [`off`](Self::off).
    pub fn watch(self: &Arc<Self>, browser: &Browser, dir: &Path) -> anyhow::Result<()> {
        let watched = self.watch_in(browser, dir);
        if let Err(e) = &watched {
            lock(&self.log).off = Some(format!("{e:#}"));
        }
        watched
    }

    fn watch_in(self: &Arc<Self>, browser: &Browser, dir: &Path) -> anyhow::Result<()> {
        create_private_dir(dir).map_err(|e| {
            anyhow::anyhow!("cannot create the downloads folder {}: {e}", dir.display())
        })?;
        let events = browser.watch_events("Browser.download");
        browser.call_raw(
            "Browser.setDownloadBehavior",
            json!({
                "behavior": "allowAndName",
                "downloadPath": dir.display().to_string(),
                "eventsEnabled": true,
            }),
            Duration::from_secs(15),
        )?;
        lock(&self.log).dir = Some(dir.to_owned());
        let weak: Weak<Downloads> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("downloads".into())
            .spawn(move || {
                for event in events {
                    let Some(downloads) = weak.upgrade() else {
                        return;
                    };
                    downloads.handle(&event);
                }
            })?;
        Ok(())
    }

    /// The downloads folder, once [`watch`](Self::watch) set it up.
    pub fn dir(&self) -> Option<PathBuf> {
        lock(&self.log).dir.clone()
    }

    /// Why downloads are not kept in the workspace (the error of [`watch`](Self::watch));
    /// `None` when they are, or when nothing tried (a browser we did not launch).
    pub fn off(&self) -> Option<String> {
        lock(&self.log).off.clone()
    }

    /// Every download recorded, oldest first, then those still starting (state
    /// [`DownloadState::Starting`]).
    pub fn list(&self) -> Vec<Download> {
        let log = lock(&self.log);
        let starting = log
            .starting
            .iter()
            .filter(|s| s.counts())
            .map(|s| s.download.clone());
        log.items.iter().cloned().chain(starting).collect()
    }

    /// The downloads that began since `seq` was the next number and `since` (both read when
    /// a command began): those Chromium reported, numbered `seq` or later, then those still
    /// starting whose headers arrived at or after `since`. A click on a link to a file
    /// returns once the headers say download, usually before Chromium reports it (it does
    /// after the first bytes), so the command that set it off names it either way.
    pub fn begun_since(&self, seq: u64, since: Instant) -> Vec<Download> {
        let log = lock(&self.log);
        let reported = log.items.iter().filter(|d| d.seq >= seq).cloned();
        let starting = log
            .starting
            .iter()
            .filter(|s| s.counts() && s.seen >= since)
            .map(|s| s.download.clone());
        reported.chain(starting).collect()
    }

    /// [`Downloads::begun_since`], waiting until `deadline` for one to begin when none has:
    /// for a navigation Chromium aborted because its answer is a download, whose record the
    /// event threads may not have written yet when the abort is seen.
    pub fn wait_begun_since(&self, seq: u64, since: Instant, deadline: Instant) -> Vec<Download> {
        self.wait_for(deadline, |log| {
            log.next_seq >= seq || log.starting.iter().any(|s| s.counts() && s.seen >= since)
        });
        self.begun_since(seq, since)
    }

    /// The number the next download will get: downloads with a `seq` at or above a value read
    /// before a command began were started during it.
    pub fn next_seq(&self) -> u64 {
        lock(&self.log).next_seq + 1
    }

    /// Forgets the record (the files stay); how many entries went.
    pub fn clear(&self) -> usize {
        let mut log = lock(&self.log);
        let n = log.items.len();
        log.items.clear();
        log.by_guid.clear();
        n
    }

    /// How many downloads Chromium is still writing (counted under the lock: `/health` and
    /// the idle clock ask on every call and tick, so the record is not copied).
    pub fn in_progress_count(&self) -> usize {
        lock(&self.log).in_progress().count()
    }

    /// The downloads Chromium is still writing, oldest first.
    pub fn in_progress(&self) -> Vec<Download> {
        lock(&self.log).in_progress().cloned().collect()
    }

    /// Waits until no download is in progress; false at the deadline.
    pub fn wait_idle(&self, deadline: Instant) -> bool {
        self.wait_for(deadline, |log| log.in_progress().next().is_none())
    }

    /// Waits until download `seq` has ended (saved, canceled or failed) and returns it;
    /// `None` at the deadline or when it is not (or no longer) recorded.
    pub fn wait_ended(&self, seq: u64, deadline: Instant) -> Option<Download> {
        let mut log = lock(&self.log);
        loop {
            let found = log.items.iter().find(|d| d.seq == seq)?;
            if found.state != DownloadState::InProgress {
                return Some(found.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            log = match self.changed.wait_timeout(log, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Notes that `downloads` listed (or cleared) the record now: [`wait_new_or_busy`]
    /// then looks for downloads that began after this.
    ///
    /// [`wait_new_or_busy`]: Self::wait_new_or_busy
    pub fn mark_listed(&self) {
        let mut log = lock(&self.log);
        log.listed_before = log.next_seq + 1;
    }

    /// Waits until a download has begun since `downloads` last listed the record, or one is
    /// in progress or starting; false at the deadline. A click returns before its download
    /// begins, so `downloads --wait` right after it must not settle for older entries.
    pub fn wait_new_or_busy(&self, deadline: Instant) -> bool {
        self.wait_for(deadline, |log| {
            log.next_seq >= log.listed_before.max(1) || log.in_progress().next().is_some()
        })
    }

    /// Waits until a download numbered `seq` or later has begun; false at the deadline.
    pub fn wait_begun(&self, seq: u64, deadline: Instant) -> bool {
        self.wait_for(deadline, |log| log.next_seq >= seq)
    }

    /// Waits until `done` holds for the log, woken by each change and every [`RECHECK`];
    /// false at the deadline.
    fn wait_for(&self, deadline: Instant, done: impl Fn(&Log) -> bool) -> bool {
        let mut log = lock(&self.log);
        loop {
            if done(&log) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            log = match self.changed.wait_timeout(log, left.min(RECHECK)) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Follows one CDP session's `Network` events (a tab's, or an out-of-process iframe's;
    /// `Network.enable` is the caller's) for navigations that turn out to be downloads, so
    /// that they count before Chromium reports them (see the module's doc). Nothing is
    /// followed for a browser we did not launch (no downloads folder).
    pub fn attach(self: &Arc<Self>, tab: &Arc<Tab>) {
        let weak: Weak<Downloads> = Arc::downgrade(self);
        let session = tab.session_id().to_owned();
        // The session's navigations in flight: request id → URL.
        let documents: Mutex<HashMap<String, String>> = Mutex::default();
        super::events::on_network_request_event(tab, move |method, params, id| {
            let Some(downloads) = weak.upgrade() else {
                return;
            };
            let key = format!("{session}/{id}");
            let mut documents = lock(&documents);
            let is_document = params.get("type").and_then(Value::as_str) == Some("Document");
            match method {
                // A redirect comes again under the same id, with the new URL.
                "Network.requestWillBeSent" if is_document => {
                    if documents.len() >= MAX_NAVIGATIONS_FOLLOWED {
                        documents.clear();
                    }
                    let url = params.pointer("/request/url").and_then(Value::as_str);
                    documents.insert(id.to_owned(), url.unwrap_or("").to_owned());
                }
                "Network.responseReceivedExtraInfo" => {
                    let Some(url) = documents.get(id) else {
                        return;
                    };
                    let status = params.get("statusCode").and_then(Value::as_u64);
                    let headers = params.get("headers").unwrap_or(&Value::Null);
                    if let Some(name) = download_answer(status, headers, url) {
                        downloads.starting(key, url, name);
                    }
                }
                "Network.loadingFinished" | "Network.loadingFailed"
                    if documents.remove(id).is_some() =>
                {
                    // Loaded as a page, or failed; an abort may be the download's own.
                    let aborted =
                        params.get("errorText").and_then(Value::as_str) == Some("net::ERR_ABORTED");
                    downloads.not_starting(&key, aborted);
                }
                _ => {}
            }
        });
    }

    /// Whether a navigation of CDP session `session` whose headers arrived at or after
    /// `since` turned out to be a download (starting, or already reported by Chromium): an
    /// action that started it has nothing more to wait for (no document will commit).
    pub fn began_on(&self, session: &str, since: Instant) -> bool {
        let log = lock(&self.log);
        let prefix = format!("{session}/");
        log.download_navigations
            .iter()
            .any(|(key, at)| *at >= since && key.starts_with(&prefix))
    }

    /// Counts the navigation `key` to `url` as a download starting, unless Chromium has
    /// reported a download of `url` within [`REPORT_AFTER_ABORT`] (events of a tab and of
    /// the browser travel on threads of their own, so its report may be handled first).
    fn starting(&self, key: String, url: &str, suggested_name: String) {
        let mut log = lock(&self.log);
        if log.dir.is_none() || log.starting.iter().any(|s| s.key == key) {
            return;
        }
        log.download_navigations
            .retain(|(_, at)| at.elapsed() < DOWNLOAD_NAVIGATIONS_KEPT);
        log.download_navigations.push((key.clone(), Instant::now()));
        let reported = log
            .recently_reported
            .iter()
            .any(|(reported, at)| reported == url && at.elapsed() < REPORT_AFTER_ABORT);
        if reported {
            return;
        }
        tracing::info!(
            url,
            "download starting (headers received; not reported by Chromium yet)"
        );
        log.starting.push(Starting {
            key,
            download: Download {
                seq: 0,
                url: url.to_owned(),
                suggested_name,
                received: 0,
                state: DownloadState::Starting,
            },
            aborted: None,
            seen: Instant::now(),
        });
        drop(log);
        self.changed.notify_all();
    }

    /// The navigation `key` ended: loaded as a page or failed (it stops counting), or
    /// aborted (it counts for [`REPORT_AFTER_ABORT`] more, unless Chromium reports it).
    fn not_starting(&self, key: &str, aborted: bool) {
        let mut log = lock(&self.log);
        if aborted {
            for s in log.starting.iter_mut().filter(|s| s.key == key) {
                s.aborted.get_or_insert_with(Instant::now);
            }
        } else {
            log.starting.retain(|s| s.key != key);
        }
        log.starting.retain(Starting::counts);
        drop(log);
        self.changed.notify_all();
    }

    fn handle(&self, event: &Value) {
        let method = event.get("method").and_then(Value::as_str).unwrap_or("");
        let Some(params) = event.get("params") else {
            return;
        };
        let text = |key: &str| {
            params
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let guid = text("guid");
        let mut log = lock(&self.log);
        match method {
            "Browser.downloadWillBegin" => {
                let url = text("url");
                // The navigation that was starting is this download now.
                if let Some(at) = log.starting.iter().position(|s| s.download.url == url) {
                    log.starting.remove(at);
                }
                log.recently_reported
                    .retain(|(_, at)| at.elapsed() < REPORT_AFTER_ABORT);
                log.recently_reported.push((url, Instant::now()));
                log.next_seq += 1;
                let seq = log.next_seq;
                let index = log.items.len();
                log.items.push(Download {
                    seq,
                    url: text("url"),
                    suggested_name: text("suggestedFilename"),
                    received: 0,
                    state: DownloadState::InProgress,
                });
                log.by_guid.insert(guid, index);
                tracing::info!(seq, "download began");
            }
            "Browser.downloadProgress" => {
                let Some(index) = log.by_guid.get(&guid).copied() else {
                    return;
                };
                let dir = log.dir.clone();
                let Some(item) = log.items.get_mut(index) else {
                    return;
                };
                item.received = params
                    .get("receivedBytes")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0) as u64;
                match params.get("state").and_then(Value::as_str) {
                    Some("completed") => {
                        item.state = match dir {
                            Some(dir) => finish(&dir, &guid, &item.suggested_name),
                            None => DownloadState::Failed("no downloads folder".into()),
                        };
                        tracing::info!(seq = item.seq, state = ?item.state, "download ended");
                    }
                    Some("canceled") => {
                        item.state = DownloadState::Canceled;
                        if let Some(dir) = dir {
                            let _ = fs::remove_file(dir.join(&guid));
                        }
                    }
                    _ => return,
                }
            }
            _ => return,
        }
        drop(log);
        self.changed.notify_all();
    }
}

/// At most this many navigations in flight are followed per session (a bound on what a page
/// that never lets its navigations end can make us hold).
const MAX_NAVIGATIONS_FOLLOWED: usize = 1000;

/// The name to show for a navigation's answer (HTTP `status`, raw `headers` as CDP's
/// `Network.Headers`) when the answer is a download: a 2xx other than 204/205 (no content)
/// with `Content-Disposition: attachment` (RFC 6266) or `Content-Type:
/// application/octet-stream`. The name is the disposition's `filename`, else the URL's last
/// path segment (made safe); Chromium's own suggestion replaces it once it reports the
/// download. `None` for anything a frame may render.
pub fn download_answer(status: Option<u64>, headers: &Value, url: &str) -> Option<String> {
    if !matches!(status, Some(200..=299)) || matches!(status, Some(204 | 205)) {
        return None;
    }
    let header = |name: &str| {
        headers.as_object().and_then(|all| {
            all.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, value)| value.as_str())
        })
    };
    let disposition = header("content-disposition").unwrap_or("");
    let mut parts = disposition.split(';');
    let attachment = parts
        .next()
        .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("attachment"));
    let octet_stream = header("content-type").is_some_and(|value| {
        value.split(';').next().is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/octet-stream")
        })
    });
    if !attachment && !octet_stream {
        return None;
    }
    let filename = parts.find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("filename")
            .then(|| value.trim().trim_matches('"').to_owned())
    });
    let from_url = || {
        let path = url.split(['?', '#']).next().unwrap_or("");
        path.rsplit('/').next().unwrap_or("").to_owned()
    };
    Some(safe_name(&filename.unwrap_or_else(from_url)))
}

/// Gives the finished file `dir/<guid>` its suggested name (safe, unique) and mode 0600.
fn finish(dir: &Path, guid: &str, suggested: &str) -> DownloadState {
    let written = dir.join(guid);
    if let Err(e) = fs::set_permissions(&written, fs::Permissions::from_mode(0o600)) {
        return DownloadState::Failed(format!("{}: {e}", written.display()));
    }
    let size = fs::metadata(&written).map(|m| m.len()).unwrap_or(0);
    let name = safe_name(suggested);
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
        _ => (name.clone(), String::new()),
    };
    for n in 0..1000 {
        let candidate = if n == 0 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){extension}"))
        };
        // A hard link never replaces an existing name: the first free one wins.
        match fs::hard_link(&written, &candidate) {
            Ok(()) => {
                let _ = fs::remove_file(&written);
                return DownloadState::Completed(candidate, size);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return DownloadState::Failed(format!("{}: {e}", written.display())),
        }
    }
    DownloadState::Failed(format!(
        "no free name for {name}; the file is {}",
        written.display()
    ))
}

/// A file name from a page's suggestion: its last path part, no control characters, no
/// leading dots (no hidden files, no `..`), at most 200 bytes; `download` when nothing is left.
pub fn safe_name(suggested: &str) -> String {
    let last = suggested.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_owned();
    let mut name = String::new();
    for c in cleaned.chars() {
        if name.len() + c.len_utf8() > 200 {
            break;
        }
        name.push(c);
    }
    if name.is_empty() {
        "download".into()
    } else {
        name
    }
}

/// Creates `dir` with mode 0700 if missing; an existing symlink or non-directory is refused.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let meta = fs::symlink_metadata(dir)?;
            if meta.is_dir() {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            } else {
                Err(io::Error::other(
                    "it is not a directory (a symbolic link or a file); remove it",
                ))
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_names_are_made_safe() {
        assert_eq!(safe_name("report.pdf"), "report.pdf");
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("..\\x\\.bashrc"), "bashrc");
        assert_eq!(safe_name(".."), "download");
        assert_eq!(safe_name(""), "download");
        assert_eq!(safe_name("a\nb.txt"), "ab.txt");
        assert!(safe_name(&"é".repeat(300)).len() <= 200);
    }

    #[test]
    fn only_answers_that_are_downloads_count_as_starting() {
        let url = "http://127.0.0.1:1/dir/report.pdf?x=1";
        let answer = |status, headers: Value| download_answer(Some(status), &headers, url);
        assert_eq!(
            answer(
                200,
                json!({"Content-Disposition": "attachment; filename=\"a b.zip\""})
            ),
            Some("a b.zip".into())
        );
        assert_eq!(
            answer(200, json!({"content-disposition": "ATTACHMENT"})),
            Some("report.pdf".into())
        );
        assert_eq!(
            answer(
                200,
                json!({"Content-Type": "application/octet-stream; x=y"})
            ),
            Some("report.pdf".into())
        );
        assert_eq!(
            answer(
                200,
                json!({"Content-Disposition": "attachment; filename=../../.bashrc"})
            ),
            Some("bashrc".into())
        );
        // What a frame renders, or no content at all, is no download.
        assert_eq!(answer(200, json!({"Content-Type": "text/html"})), None);
        assert_eq!(
            answer(
                200,
                json!({"Content-Disposition": "inline; filename=a.pdf"})
            ),
            None
        );
        assert_eq!(
            answer(404, json!({"Content-Disposition": "attachment"})),
            None
        );
        assert_eq!(
            answer(204, json!({"Content-Disposition": "attachment"})),
            None
        );
        assert_eq!(
            download_answer(None, &json!({"Content-Disposition": "attachment"}), url),
            None
        );
        assert_eq!(answer(200, json!(null)), None);
    }

    #[test]
    fn finished_files_never_replace_others() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), "old").unwrap();
        fs::write(dir.path().join("guid-1"), "new").unwrap();
        let state = finish(dir.path(), "guid-1", "a.txt");
        let expected = dir.path().join("a (1).txt");
        assert_eq!(state, DownloadState::Completed(expected.clone(), 3));
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "old");
        let mode = fs::metadata(&expected).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(!dir.path().join("guid-1").exists());
    }
}
