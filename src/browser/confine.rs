//! Where commands may read and write files: inside the daemon's cwd or the temp dir, judged
//! after `..` and symlinks are resolved, with gstack's `Path must be within: …` refusal.
//!
//! Outputs are also refused when they would write through a symlink or onto something that is
//! not a regular file (a directory, a device), and inputs must be regular files: a command
//! told to write `out.png` must not end up truncating whatever `out.png` points at.

use std::path::{Component, Path, PathBuf};

use super::CommandError;
/// gstack's temp root on POSIX: outputs may always go here.
pub const TEMP_DIR: &str = "/tmp";

/// A fresh path in the temp dir for a command given no output path (`screenshot`, `pdf`):
/// unique to the workspace (a hash of the daemon's directory) and to the call (time in ms and
/// a per-daemon counter), so concurrent jobs on one machine never overwrite each other's
/// files (gstack writes every workspace's shots to one `/tmp/browse-screenshot.png`).
pub fn default_output(stem: &str, extension: &str, workspace: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let workspace_id = crate::fnv::fnv1a64(workspace.as_os_str().as_bytes());
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{TEMP_DIR}/{stem}-{:08x}-{ms}-{call}.{extension}",
        workspace_id as u32
    )
}

/// True when `resolved` (already canonical) lies inside the temp dir, `cwd` (the caller's
/// directory) or the daemon's own working directory (the workspace it was started from).
pub fn is_allowed(resolved: &Path, cwd: &Path) -> bool {
    let daemon_dir = std::env::current_dir().ok();
    let mut roots = vec![Path::new(TEMP_DIR), cwd];
    roots.extend(daemon_dir.as_deref());
    roots.iter().any(|dir| {
        dir.canonicalize()
            .is_ok_and(|dir| resolved.starts_with(dir))
    })
}

/// gstack's refusal text.
pub fn refusal(cwd: &Path) -> CommandError {
    CommandError::failed(format!(
        "Path must be within: {TEMP_DIR}, {}",
        cwd.display()
    ))
}

/// An existing regular file to read, relative to `cwd`.
pub fn input(cwd: &Path, raw: &str) -> Result<PathBuf, CommandError> {
    let real = cwd
        .join(raw)
        .canonicalize()
        .map_err(|_| CommandError::failed(format!("File not found: {raw}")))?;
    if !is_allowed(&real, cwd) {
        return Err(refusal(cwd));
    }
    if !real.is_file() {
        return Err(CommandError::failed(format!("Not a regular file: {raw}")));
    }
    Ok(real)
}

/// Where to write `raw` (relative to `cwd`): the deepest existing ancestor is resolved by the
/// filesystem, the rest are plain names. The path itself must not be a symlink or anything but
/// a regular file, and must name a file: an empty path, or one ending in `/` or `/.` (a
/// folder), is refused; the path's own parsing drops that ending, so `shots/` was written as
/// a file named `shots`.
pub fn output(cwd: &Path, raw: &str) -> Result<PathBuf, CommandError> {
    if raw.is_empty() {
        return Err(CommandError::failed_with_hint(
            "The output path is empty",
            "Name the file to write, e.g. out.png.",
        ));
    }
    if raw.ends_with('/') || raw.ends_with("/.") || raw == "." {
        let folder = raw.trim_end_matches('.').trim_end_matches('/');
        let folder = if folder.is_empty() { "." } else { folder };
        return Err(CommandError::failed_with_hint(
            format!("Not a file name: {raw} names a folder"),
            format!("Name the file inside it, e.g. {folder}/<name> (missing folders are created)."),
        ));
    }
    let joined = cwd.join(raw);
    if let Ok(meta) = std::fs::symlink_metadata(&joined) {
        if meta.file_type().is_symlink() {
            return Err(CommandError::failed(format!(
                "Refusing to write through a symlink: {raw}"
            )));
        }
        if !meta.is_file() {
            return Err(CommandError::failed(format!("Not a regular file: {raw}")));
        }
    }
    let mut existing = joined.as_path();
    let mut tail = Vec::new();
    let resolved = loop {
        if let Ok(real) = existing.canonicalize() {
            break tail.iter().rev().fold(real, |acc: PathBuf, p| acc.join(p));
        }
        match existing.components().next_back() {
            Some(Component::Normal(name)) => tail.push(name.to_owned()),
            // `..` or `.` over a directory that does not exist: refuse rather than guess.
            _ => return Err(refusal(cwd)),
        }
        existing = existing.parent().ok_or_else(|| refusal(cwd))?;
    };
    if is_allowed(&resolved, cwd) {
        Ok(resolved)
    } else {
        Err(refusal(cwd))
    }
}

/// Creates the missing directories above an output path [`output`] allowed (Playwright's
/// `screenshot({path})` does the same), so every command that writes a file accepts
/// `out/new/x.ext`. The path was resolved inside an allowed root, so the new directories
/// are too.
pub fn create_parents(target: &Path) -> Result<(), CommandError> {
    match target.parent() {
        Some(parent) => std::fs::create_dir_all(parent)
            .map_err(|e| CommandError::failed(format!("Cannot create {}: {e}", parent.display()))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<PathBuf, CommandError>) -> String {
        r.err().map(|e| e.body.error).unwrap_or_default()
    }

    #[test]
    fn outputs_stay_inside_cwd_or_tmp_and_never_follow_links() {
        let cwd = tempfile::tempdir().unwrap();
        let ok = output(cwd.path(), "sub/dir/a.png").unwrap();
        assert!(ok.starts_with(cwd.path().canonicalize().unwrap()));
        assert!(output(cwd.path(), "/tmp/x.png").is_ok());
        assert_eq!(
            err(output(cwd.path(), "/etc/x.png")),
            format!("Path must be within: /tmp, {}", cwd.path().display())
        );
        assert!(output(cwd.path(), "nope/../../../../etc/x.png").is_err());
        std::os::unix::fs::symlink("/etc/hostname", cwd.path().join("link.png")).unwrap();
        assert_eq!(
            err(output(cwd.path(), "link.png")),
            "Refusing to write through a symlink: link.png"
        );
        for folder in ["new/", "new/.", "./", ".", "/tmp/"] {
            assert!(
                err(output(cwd.path(), folder)).starts_with("Not a file name: "),
                "{folder}"
            );
        }
        assert!(!cwd.path().join("new").exists());
        assert_eq!(err(output(cwd.path(), "")), "The output path is empty");
        std::fs::create_dir(cwd.path().join("d.png")).unwrap();
        assert_eq!(
            err(output(cwd.path(), "d.png")),
            "Not a regular file: d.png"
        );
        assert_eq!(
            err(output(cwd.path(), "/dev/null")),
            "Not a regular file: /dev/null"
        );
    }

    #[test]
    fn inputs_must_be_regular_files_inside() {
        let cwd = tempfile::tempdir().unwrap();
        std::fs::write(cwd.path().join("a.js"), "1").unwrap();
        assert!(input(cwd.path(), "a.js").is_ok());
        assert_eq!(
            err(input(cwd.path(), "missing.js")),
            "File not found: missing.js"
        );
        assert!(err(input(cwd.path(), "/etc/passwd")).starts_with("Path must be within: /tmp, "));
        assert_eq!(err(input(cwd.path(), ".")), "Not a regular file: .");
    }
}
