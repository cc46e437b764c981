//! The state record `.gstack/browse.json`: its fields (gstack's plus our identity fields), the
//! tolerant reader and the compare-and-delete.
//!
//! Writes go through [`crate::atomic_file::write_atomic`] only, and only a holder of the
//! election lock writes or deletes the record (the daemon for its whole life, or a starter that
//! is cleaning up after a dead daemon).

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic_file;

/// Version of the record layout we write.
pub const SCHEMA: u32 = 1;
/// A record larger than this is not ours.
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// The contents of `browse.json`. Field names are gstack's (camelCase); gstack's readers ignore
/// the fields it does not know.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StateRecord {
    pub pid: u32,
    pub port: u16,
    pub token: String,
    pub started_at: String,
    pub server_path: String,
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    pub schema: u32,
    pub instance_id: String,
    pub pid_start_time: u64,
    pub version: String,
    #[serde(default)]
    pub chrome_pid: Option<u32>,
    #[serde(default)]
    pub chrome_start_time: Option<u64>,
    /// The remote browser this daemon drives (`--cdp-url`), absent when it launched its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cdp_url: Option<String>,
    /// The profile this daemon's Chromium uses when not the workspace's: `ephemeral` or the
    /// absolute `--profile` directory (see `launcher::profile`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub hostname: String,
    /// True for a record gstack's daemon wrote (no `instanceId`): a peer we may use through the
    /// shared wire protocol (`launcher::peer`). Never read from or written to disk.
    #[serde(skip)]
    pub peer: bool,
}

/// Why there is no usable record. Kept for diagnostics; every variant means "no daemon known".
#[derive(Debug, Clone, PartialEq)]
pub enum Unusable {
    Missing,
    Invalid(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => f.write_str("no state record"),
            Unusable::Invalid(why) => write!(f, "unusable state record: {why}"),
        }
    }
}

/// Reads the record. Any problem (missing, empty, garbage, truncated, wrong types, oversized,
/// a directory, another user's file) is an [`Unusable`], never a panic.
pub fn read(path: &Path) -> Result<StateRecord, Unusable> {
    parse(&read_bytes(path)?)
}

/// The fields of a record gstack's daemon wrote (`cli.ts` `ServerState`): no `instanceId`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GstackFields {
    pid: u32,
    port: u16,
    token: String,
    #[serde(default)]
    started_at: String,
    #[serde(default)]
    server_path: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    config_hash: Option<String>,
    #[serde(default)]
    instance_id: Option<String>,
}

/// Reads a record that gstack's daemon wrote (pid, port and token, no `instanceId`) as a
/// [`StateRecord`] marked `peer`, with the start time its pid has now (0 when gone) and this
/// host's name. Our own records, and anything unusable, are `None`. The same checks as
/// [`read`] apply (no symlink, this user's, at most 64 KiB).
pub fn read_peer(path: &Path) -> Option<StateRecord> {
    let bytes = read_bytes(path).ok()?;
    let fields: GstackFields = serde_json::from_slice(&bytes).ok()?;
    if fields.instance_id.is_some_and(|id| !id.is_empty())
        || fields.pid <= 1
        || fields.port == 0
        || fields.token.is_empty()
    {
        return None;
    }
    Some(StateRecord {
        pid: fields.pid,
        port: fields.port,
        token: fields.token,
        started_at: fields.started_at,
        server_path: fields.server_path,
        mode: fields.mode.unwrap_or_else(|| "launched".into()),
        config_hash: fields.config_hash,
        schema: 0,
        instance_id: String::new(),
        pid_start_time: super::identity::start_time(fields.pid).unwrap_or(0),
        version: "gstack".into(),
        chrome_pid: None,
        chrome_start_time: None,
        cdp_url: None,
        profile: None,
        hostname: super::identity::hostname(),
        peer: true,
    })
}

/// A small file of the state directory that another process wrote (gstack's
/// `browse.json.lock`, the succession claim), as read: untrusted input.
pub(super) struct SmallFile {
    /// Its first bytes, up to the limit asked for (none when it cannot be read).
    pub bytes: Vec<u8>,
    pub inode: u64,
    /// Its owner's uid.
    pub uid: u32,
    /// Time since its last write (zero for a clock that went back).
    pub age: std::time::Duration,
}

/// Reads at most `limit` bytes of `path` without following a symlink at it (invariant 10),
/// with its inode, owner and age; `None` when it cannot be opened or examined.
pub(super) fn read_small(path: &Path, limit: u64) -> Option<SmallFile> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    let age = meta.modified().ok()?.elapsed().unwrap_or_default();
    let mut bytes = Vec::new();
    if file.take(limit).read_to_end(&mut bytes).is_err() {
        bytes.clear();
    }
    Some(SmallFile {
        bytes,
        inode: meta.ino(),
        uid: meta.uid(),
        age,
    })
}

/// The record's bytes, read as untrusted input.
fn read_bytes(path: &Path) -> Result<Vec<u8>, Unusable> {
    // A symlink at the record's name is not a record (ELOOP lands in Invalid).
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(Unusable::Invalid(format!("cannot open: {e}"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| Unusable::Invalid(format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(Unusable::Invalid("not a regular file".into()));
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Unusable::Invalid(format!(
            "owned by uid {}, not by this user (uid {me})",
            meta.uid()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Unusable::Invalid(format!("cannot read: {e}")))?;
    Ok(bytes)
}

/// Parses record bytes; split from [`read`] so fuzzers and unit tests can drive it directly.
pub fn parse(bytes: &[u8]) -> Result<StateRecord, Unusable> {
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(Unusable::Invalid("larger than 64 KiB".into()));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Unusable::Invalid("empty".into()));
    }
    let record: StateRecord =
        serde_json::from_slice(bytes).map_err(|e| Unusable::Invalid(e.to_string()))?;
    if record.pid == 0 || record.port == 0 || record.token.is_empty() {
        return Err(Unusable::Invalid("pid, port or token missing".into()));
    }
    if record.instance_id.is_empty() {
        return Err(Unusable::Invalid("no instanceId".into()));
    }
    Ok(record)
}

/// Publishes the record (0600) atomically.
pub fn write(path: &Path, record: &StateRecord) -> io::Result<()> {
    let mut json = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
    json.push(b'\n');
    atomic_file::write_atomic(path, &json, 0o600)
}

/// Deletes the record only if it still names `instance_id`. The caller holds the lock.
pub fn remove_if_owned(path: &Path, instance_id: &str) -> bool {
    match read(path) {
        Ok(r) if r.instance_id == instance_id => fs::remove_file(path).is_ok(),
        _ => false,
    }
}

/// Deletes whatever is at the record's path (garbage, a directory of junk, another record).
/// The caller holds the lock and has proven that no daemon owns the record.
pub fn remove_stale(path: &Path) {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = fs::remove_file(path);
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StateRecord {
        StateRecord {
            pid: 42,
            port: 12345,
            token: "t".repeat(36),
            started_at: "2026-08-21T09:14:03.512Z".into(),
            server_path: "/usr/bin/browse".into(),
            mode: "launched".into(),
            config_hash: None,
            schema: SCHEMA,
            instance_id: "9f2c0d5e7a1b4c3d8e6f0a2b1c4d7e9f".into(),
            pid_start_time: 7,
            version: "0.1.0".into(),
            chrome_pid: Some(43),
            chrome_start_time: Some(8),
            cdp_url: None,
            profile: None,
            hostname: "h".into(),
            peer: false,
        }
    }

    #[test]
    fn round_trips_with_gstack_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse.json");
        write(&path, &sample()).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        for key in [
            "\"pid\"",
            "\"startedAt\"",
            "\"serverPath\"",
            "\"instanceId\"",
            "\"pidStartTime\"",
        ] {
            assert!(text.contains(key), "{key} missing in {text}");
        }
        assert!(!text.contains("binaryVersion"));
        assert_eq!(read(&path).unwrap(), sample());
    }

    #[test]
    fn bad_records_are_unusable_not_panics() {
        let full = serde_json::to_vec(&sample()).unwrap();
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"   \n".to_vec(),
            b"not-json".to_vec(),
            full[..full.len() / 2].to_vec(),
            br#"{"pid":"x","port":1,"token":"t"}"#.to_vec(),
            br#"{"pid":0,"port":0,"token":""}"#.to_vec(),
            vec![b' '; 70 * 1024],
            vec![0xff, 0xfe, 0x00],
        ];
        for bytes in cases {
            assert!(parse(&bytes).is_err());
        }
    }

    #[test]
    fn a_directory_or_nothing_is_unusable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse.json");
        assert_eq!(read(&path), Err(Unusable::Missing));
        fs::create_dir(&path).unwrap();
        assert!(matches!(read(&path), Err(Unusable::Invalid(_))));
    }

    #[test]
    fn compare_and_delete_spares_another_instance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("browse.json");
        write(&path, &sample()).unwrap();
        assert!(!remove_if_owned(&path, "someone-else"));
        assert!(path.exists());
        assert!(remove_if_owned(&path, &sample().instance_id));
        assert!(!path.exists());
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests (run long by `scripts/fuzz`): the tolerant reader never panics, and every
    //! record we write reads back equal.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_record_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn fuzz_record_parse_of_mangled_json_never_panics(
            cut in 0usize..400,
            junk in ".{0,16}",
        ) {
            let good = br#"{"pid":42,"port":12345,"token":"tttttttttttttttt","startedAt":"x","serverPath":"/b","mode":"launched","schema":1,"instanceId":"i","pidStartTime":7,"version":"0.1.0","chromePid":43,"hostname":"h"}"#;
            let mut bytes = good[..cut.min(good.len())].to_vec();
            bytes.extend_from_slice(junk.as_bytes());
            let _ = parse(&bytes);
        }

        #[test]
        fn fuzz_written_records_read_back(
            pid in 1u32.., port in 1u16.., token in "[a-z0-9-]{1,40}",
            instance in "[a-f0-9]{1,32}", start in any::<u64>(), chrome in proptest::option::of(1u32..),
        ) {
            let record = StateRecord {
                pid, port, token, started_at: "2026-01-01T00:00:00.000Z".into(),
                server_path: "/bin/browse".into(), mode: "launched".into(), config_hash: None,
                schema: SCHEMA, instance_id: instance, pid_start_time: start,
                version: "0.1.0".into(), chrome_pid: chrome, chrome_start_time: None,
                cdp_url: None, profile: None, hostname: "h".into(), peer: false,
            };
            let bytes = serde_json::to_vec_pretty(&record).unwrap();
            prop_assert_eq!(parse(&bytes).unwrap(), record);
        }
    }
}
