//! Workspace resolution: which `.gstack/` directory a `browse` call belongs to, and the names of
//! every file the launcher keeps there.
//!
//! `BROWSE_STATE_FILE` wins; otherwise the nearest ancestor of the current directory holding a
//! `.git` entry (directory or file, so worktrees and submodules work) is the project root; otherwise
//! the current directory is. No subprocess is spawned: this runs on every warm command.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Every path the launcher and the daemon use for one workspace.
#[derive(Debug, Clone)]
pub struct StatePaths {
    /// The project the state belongs to (daemon cwd defaults to the CLI's cwd, not this).
    pub project_dir: PathBuf,
    /// `<project>/.gstack`, mode 0700.
    pub state_dir: PathBuf,
    /// `browse.json`, the state record.
    pub state_file: PathBuf,
    /// `browse.lock`, the advisory election lock.
    pub lock_file: PathBuf,
    /// `browse-daemon.log`, the daemon's stdout and stderr.
    pub daemon_log: PathBuf,
    /// `browse-start-error.json`, the shared cause of the last failed start.
    pub start_error_file: PathBuf,
    /// `browse-startup-error.log`, gstack's human-readable start failure.
    pub startup_error_log: PathBuf,
    /// `chromium-profile/`, the per-workspace Chromium profile.
    pub profile_dir: PathBuf,
    /// True when the state dir is the default `.gstack` (and so ours to chmod and fill).
    pub default_location: bool,
}

impl StatePaths {
    /// Resolves the workspace from the environment and the current directory.
    pub fn resolve() -> Result<Self> {
        if let Some(file) = std::env::var_os("BROWSE_STATE_FILE").filter(|v| !v.is_empty()) {
            let file = absolute(Path::new(&file))?;
            return Ok(Self::from_state_file(file, false));
        }
        let cwd = std::env::current_dir()
            .context("cannot read the current directory; cd somewhere that exists")?;
        let project = find_project_root(&cwd).unwrap_or(cwd);
        Ok(Self::from_state_file(
            project.join(".gstack").join("browse.json"),
            true,
        ))
    }

    /// The workspace's paths for the named session: `sessions/<name>/` beside the default
    /// session's record (`.gstack/sessions/<name>/browse.json`), with its own lock, record,
    /// log, profile and daemon. `None` is the default session at gstack's paths.
    ///
    /// # Errors
    /// A name that is not 1-64 of `[A-Za-z0-9_.-]`, starting with a letter or digit (so it can
    /// never be `..` or leave the sessions folder); the errors of [`StatePaths::resolve`].
    pub fn resolve_session(session: Option<&str>) -> Result<Self> {
        let base = Self::resolve()?;
        let Some(name) = session else {
            return Ok(base);
        };
        validate_session_name(name)?;
        let state_file = base
            .state_dir
            .join(SESSIONS_DIR)
            .join(name)
            .join("browse.json");
        Ok(Self::from_state_file(state_file, base.default_location))
    }

    /// Builds the set of paths around an absolute state-file path.
    pub fn from_state_file(state_file: PathBuf, default_location: bool) -> Self {
        let state_dir = state_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        // A named session's state dir is `<root state dir>/sessions/<name>`; its project is
        // the root state dir's parent, as for the default session.
        let root_state_dir = session_root(&state_dir).unwrap_or(&state_dir);
        let project_dir = root_state_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| state_dir.clone());
        Self {
            lock_file: state_dir.join("browse.lock"),
            daemon_log: state_dir.join("browse-daemon.log"),
            start_error_file: state_dir.join("browse-start-error.json"),
            startup_error_log: state_dir.join("browse-startup-error.log"),
            profile_dir: state_dir.join("chromium-profile"),
            project_dir,
            state_dir,
            state_file,
            default_location,
        }
    }

    /// Creates the state directory (0700) with a `.gitignore` of `*`, or checks an existing one.
    ///
    /// A state directory that is a symbolic link is refused, wherever it points: everything we
    /// write there (record, lock, logs, the Chromium profile) would land in a directory we did
    /// not make. A directory we did not create at a location the user chose (`BROWSE_STATE_FILE`
    /// pointing into `/tmp`, say) is used as it is: we never chmod or fill someone else's
    /// directory.
    pub fn ensure_state_dir(&self) -> Result<()> {
        if let Some(root) = session_root(&self.state_dir) {
            // A session lives under the root state dir and its `sessions/` folder: both are
            // made (or checked) the same way first, so no link on the way is followed.
            let root_paths = Self::from_state_file(root.join("browse.json"), self.default_location);
            root_paths.ensure_state_dir()?;
            let sessions = root.join(SESSIONS_DIR);
            refuse_symlink(&sessions)?;
            match fs::DirBuilder::new().mode(0o700).create(&sessions) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(state_dir_error(&sessions, &e)),
            }
            refuse_symlink(&sessions)?;
        }
        let dir = &self.state_dir;
        refuse_symlink(dir)?;
        let created = match fs::DirBuilder::new().mode(0o700).create(dir) {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| state_dir_error(dir, &e))?;
                true
            }
            Err(e) => return Err(state_dir_error(dir, &e)),
        };
        // mkdir never follows a symlink, but one may have appeared since the first look.
        refuse_symlink(dir)?;
        let meta = fs::symlink_metadata(dir).map_err(|e| state_dir_error(dir, &e))?;
        if !meta.is_dir() {
            bail!(
                "Cannot create state directory {}: a file exists at that path (remove it or set BROWSE_STATE_FILE)",
                dir.display()
            );
        }
        if created || self.default_location {
            if meta.permissions().mode() & 0o777 != 0o700 {
                fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
                    anyhow::anyhow!(
                        "Cannot make state directory {} private (chmod 0700): {e}",
                        dir.display()
                    )
                })?;
            }
            let ignore = dir.join(".gitignore");
            if read_no_follow(&ignore).map(|c| c != b"*\n").unwrap_or(true) {
                // Replaced by rename, so a symlink planted there is replaced, never written
                // through. Best effort: a read-only state dir is reported by the write that
                // matters.
                let _ = crate::atomic_file::write_atomic(&ignore, b"*\n", 0o600);
            }
        }
        Ok(())
    }

    /// The session's name, `None` for the default session.
    pub fn session_name(&self) -> Option<String> {
        session_root(&self.state_dir)?;
        Some(self.state_dir.file_name()?.to_string_lossy().into_owned())
    }

    /// The workspace as people name it: the project dir, plus ` [session NAME]` for a named
    /// session.
    pub fn label(&self) -> String {
        match self.session_name() {
            Some(name) => format!("{} [session {name}]", self.project_dir.display()),
            None => self.project_dir.display().to_string(),
        }
    }

    /// Which state directory this is, for `/health`'s `stateDirId`: FNV-1a 64 of the canonical
    /// path, as 16 hex digits. `None` when the directory cannot be resolved (it is gone).
    pub fn state_dir_id(&self) -> Option<String> {
        let canonical = fs::canonicalize(&self.state_dir).ok()?;
        Some(format!(
            "{:016x}",
            crate::fnv::fnv1a64(canonical.as_os_str().as_bytes())
        ))
    }
}

/// Creates `dir` (0700) if missing, refusing a symbolic link at its name: for directories we
/// fill inside the state dir (the Chromium profile).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let meta = fs::symlink_metadata(dir)?;
            if meta.is_dir() {
                Ok(())
            } else {
                Err(io::Error::other(
                    "it is not a directory (a symbolic link or a file); remove it",
                ))
            }
        }
        Err(e) => Err(e),
    }
}

/// Refuses a state directory that is a symbolic link, with the one-line error and its hint.
/// The folder under a state dir that holds named sessions.
pub const SESSIONS_DIR: &str = "sessions";

/// The root state dir when `state_dir` is a named session's (`<root>/sessions/<name>`).
fn session_root(state_dir: &Path) -> Option<&Path> {
    let sessions = state_dir.parent()?;
    (sessions.file_name()? == SESSIONS_DIR).then_some(())?;
    sessions.parent()
}

/// Session names are 1-64 of `[A-Za-z0-9_.-]`, starting with a letter or digit.
fn validate_session_name(name: &str) -> Result<()> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !valid {
        bail!(
            "invalid session name {name:?}: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        );
    }
    Ok(())
}

fn refuse_symlink(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = fs::read_link(dir)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            bail!(
                "Refusing to use state directory {}: it is a symbolic link (to {target}), and browse writes nothing through a link it did not make. Replace it with a real directory (rm {0}) or set BROWSE_STATE_FILE",
                dir.display()
            )
        }
        _ => Ok(()),
    }
}

/// Reads a small file without following a symlink at its path.
fn read_no_follow(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?
        .take(64 * 1024)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

impl StatePaths {
    /// gstack's rule: when the project has a `.gitignore` and git does not already ignore
    /// `.gstack/`, append a `.gstack/` line. Run once per daemon start, never on the warm path;
    /// a missing or slow git only means the line is not added.
    pub fn ensure_project_ignores_state_dir(&self) {
        if self.state_dir.file_name().and_then(|n| n.to_str()) != Some(".gstack") {
            return;
        }
        let gitignore = self.project_dir.join(".gitignore");
        if !gitignore.is_file() {
            return;
        }
        let Ok(mut child) = std::process::Command::new("git")
            .args(["check-ignore", "-q", "--", ".gstack/"])
            .current_dir(&self.project_dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        else {
            return;
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        // Exit 1 means "not ignored"; anything else (ignored, not a repository, no git) means
        // leave the file alone.
        if status.and_then(|s| s.code()) == Some(1) {
            let mut text = fs::read_to_string(&gitignore).unwrap_or_default();
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(".gstack/\n");
            let _ = fs::write(&gitignore, text);
        }
    }
}

fn state_dir_error(dir: &Path, e: &io::Error) -> anyhow::Error {
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS) => anyhow::anyhow!(
            "Cannot create state directory {}: permission denied",
            dir.display()
        ),
        Some(libc::ENOTDIR) | Some(libc::EEXIST) => anyhow::anyhow!(
            "Cannot create state directory {}: a file exists at that path (remove it or set BROWSE_STATE_FILE)",
            dir.display()
        ),
        _ => anyhow::anyhow!("Cannot create state directory {}: {e}", dir.display()),
    }
}

/// The nearest ancestor (or `start` itself) that holds a `.git` entry.
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| fs::symlink_metadata(dir.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(cwd.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_to_the_git_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        let deep = root.join("a/b/c");
        fs::create_dir_all(&deep).unwrap();
        fs::write(root.join(".git"), "gitdir: elsewhere\n").unwrap();
        assert_eq!(find_project_root(&deep), Some(root.clone()));
        assert_eq!(find_project_root(&root), Some(root));
    }

    #[test]
    fn state_paths_hang_off_the_state_file() {
        let p = StatePaths::from_state_file(PathBuf::from("/w/.gstack/browse.json"), true);
        assert_eq!(p.project_dir, PathBuf::from("/w"));
        assert_eq!(p.lock_file, PathBuf::from("/w/.gstack/browse.lock"));
    }
}
