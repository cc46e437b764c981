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

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::events::lock;
use crate::cdp::Browser;

/// Where a download stands.
#[derive(Debug, Clone, PartialEq)]
pub enum DownloadState {
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

#[derive(Default)]
struct Log {
    dir: Option<PathBuf>,
    next_seq: u64,
    items: Vec<Download>,
    by_guid: HashMap<String, usize>,
}

impl Log {
    fn in_progress(&self) -> impl Iterator<Item = &Download> {
        self.items
            .iter()
            .filter(|d| d.state == DownloadState::InProgress)
    }
}

/// The daemon's downloads: the folder they land in and what happened to each.
#[derive(Default)]
pub struct Downloads {
    log: Mutex<Log>,
    changed: Condvar,
}

impl Downloads {
    /// Creates `dir` (0700, refusing a symlink or a non-directory there), points Chromium's
    /// downloads at it, and follows them on a thread of their own.
    pub fn watch(self: &Arc<Self>, browser: &Browser, dir: &Path) -> anyhow::Result<()> {
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

    /// Every download recorded, oldest first.
    pub fn list(&self) -> Vec<Download> {
        lock(&self.log).items.clone()
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

    /// Waits until a download numbered `seq` or later has begun; false at the deadline.
    pub fn wait_begun(&self, seq: u64, deadline: Instant) -> bool {
        self.wait_for(deadline, |log| log.next_seq >= seq)
    }

    /// Waits until `done` holds for the log, woken by each change; false at the deadline.
    fn wait_for(&self, deadline: Instant, done: impl Fn(&Log) -> bool) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        let log = lock(&self.log);
        let (log, _) = match self.changed.wait_timeout_while(log, left, |log| !done(log)) {
            Ok(woken) => woken,
            Err(poisoned) => poisoned.into_inner(),
        };
        done(&log)
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
