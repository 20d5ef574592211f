//! Files mcpgw writes: atomic replacement, private (owner-only) files and
//! directories, names derived from profile names, and cross-process lock files.
//! Platform differences in permissions live here and nowhere else.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Who may read the file [`write_atomic`] leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Owner only (0600), whatever the old file had: token files.
    Private,
    /// The old file's permissions, or owner-only for a new file: config files.
    KeepExisting,
}

/// Writes `bytes` to a new owner-only temp file in the same directory, flushes it
/// to disk, then renames it over `path`: readers see the old content or the new,
/// never a torn or briefly world-readable file. A symlink at `path` is replaced,
/// so callers that want to write through one resolve it first.
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match access {
        Access::Private => create_private_dir(dir)?,
        Access::KeepExisting => std::fs::create_dir_all(dir)?,
    }
    let keep = match access {
        Access::Private => None,
        Access::KeepExisting => std::fs::metadata(path).ok().map(|m| m.permissions()),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let (tmp, mut file) = new_temp_file(dir, &file_name)?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some(permissions) = keep {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(err) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err);
    }
    // Make the rename itself durable where the platform allows syncing a directory.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn new_temp_file(dir: &Path, file_name: &str) -> std::io::Result<(PathBuf, File)> {
    let mut attempt = 0u32;
    loop {
        let candidate = dir.join(format!(".{file_name}.{}.{attempt}.tmp", std::process::id()));
        match create_private_file(&candidate) {
            Ok(file) => return Ok((candidate, file)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}

/// A new file readable and writable by the owner only; fails if it exists.
#[cfg(unix)]
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// A new file; on Windows the user's profile directories are already private.
#[cfg(not(unix))]
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Creates `dir` (and its parents) with owner-only access where it is new, and
/// refuses a `dir` that another user owns or that group or others may write:
/// whoever can write there could swap mcpgw's lock, log or token files.
#[cfg(unix)]
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.uid() != effective_uid() {
        return Err(refused(format!(
            "{} belongs to another user (uid {}); mcpgw keeps its files only in directories of its own user",
            dir.display(),
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(refused(format!(
            "{} may be written by other users (mode {:o}); run `chmod go-w {}`",
            dir.display(),
            meta.mode() & 0o7777,
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn effective_uid() -> u32 {
    unsafe extern "C" {
        // POSIX: always succeeds, no arguments, no memory touched.
        safe fn geteuid() -> u32;
    }
    geteuid()
}

fn refused(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, message)
}

/// `O_NOFOLLOW` where its value is known: opening a symbolic link then fails
/// instead of following it. Elsewhere 0, and only the `symlink_metadata` check
/// in [`open_no_follow`] refuses links (with a window between check and open).
#[cfg(unix)]
const O_NOFOLLOW: i32 = if cfg!(any(
    target_vendor = "apple",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)) {
    0x0100
} else if cfg!(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    )
)) {
    0o100000
} else if cfg!(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )
)) {
    0o400000
} else {
    0
};

/// Opens (creating owner-only) a file mcpgw keeps returning to, a lock or a log:
/// a symbolic link there is refused, and so is a file of another user or one
/// with a second name (a hard link), rather than written through.
fn open_no_follow(path: &Path, options: &mut OpenOptions) -> std::io::Result<File> {
    let is_link = || std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let link_refused = || {
        refused(format!(
            "{} is a symbolic link; mcpgw does not follow links for its lock and log files",
            path.display()
        ))
    };
    if is_link() {
        return Err(link_refused());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        options.mode(0o600).custom_flags(O_NOFOLLOW);
        // A link that appeared after the check: O_NOFOLLOW made the open fail.
        let file = options
            .open(path)
            .map_err(|err| if is_link() { link_refused() } else { err })?;
        let meta = file.metadata()?;
        if !meta.is_file() || meta.uid() != effective_uid() || meta.nlink() != 1 {
            return Err(refused(format!(
                "{} is not a plain file of this user with one name; remove it and try again",
                path.display()
            )));
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(not(unix))]
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// A private file someone loosened is put back to owner-only; returns whether it was.
#[cfg(unix)]
pub fn tighten_permissions(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            true
        }
        _ => false,
    }
}

#[cfg(not(unix))]
pub fn tighten_permissions(_path: &Path) -> bool {
    false
}

/// Opens `path` for appending, creating it owner-only: log files. A missing
/// directory is created private; an existing one is the caller's choice (a
/// `--log-file /tmp/mcpgw.log`; mcpgw's own logs check theirs with
/// [`create_private_dir`] first). Either way the file must be a plain file of
/// this user, never a link (see [`open_no_follow`]).
pub fn open_private_append(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        create_private_dir(dir)?;
    }
    open_no_follow(path, OpenOptions::new().create(true).append(true))
}

/// Profile names become file names: keep `[A-Za-z0-9_-]`, %-escape the rest.
pub fn encode_file_name(name: &str) -> String {
    let mut out = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The inverse of [`encode_file_name`]; `None` for a name it could not have made.
pub fn decode_file_name(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(name.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---- cross-process locks -------------------------------------------------------

/// An exclusive advisory lock on a file, released on drop (and by the OS when the
/// process dies, so a crashed holder never wedges the others).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    open_no_follow(
        path,
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true),
    )
}

/// Takes the lock if it is free right now.
pub fn try_lock(path: &Path) -> std::io::Result<Option<FileLock>> {
    let file = open_lock_file(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(FileLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(err)) => Err(err),
    }
}

/// Waits up to `timeout` for the lock; `Ok(None)` when it stayed taken. The
/// blocking wait runs on a detached thread so an abandoned wait never holds up
/// the runtime's shutdown; if the lock arrives after we gave up, it is dropped
/// (released) at once.
pub async fn lock(path: &Path, timeout: Duration) -> std::io::Result<Option<FileLock>> {
    if let Some(lock) = try_lock(path)? {
        return Ok(Some(lock));
    }
    let file = open_lock_file(path)?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("mcpgw-lock".into())
        .spawn(move || {
            let result = file.lock().map(|()| FileLock { _file: file });
            let _ = tx.send(result);
        })?;
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(result)) => result.map(Some),
        Ok(Err(_)) => Err(std::io::Error::other("the lock waiter vanished")),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip_as_file_names() {
        for name in ["default", "work", "a/b", "..", "名字", "x%y"] {
            let encoded = encode_file_name(name);
            assert!(
                !encoded.contains('/') && !encoded.contains('.'),
                "{encoded}"
            );
            assert_eq!(decode_file_name(&encoded).as_deref(), Some(name));
        }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn atomic_writes_are_private_or_keep_the_old_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, "{}").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&config, b"{\"a\":1}", Access::KeepExisting).unwrap();
        assert_eq!(mode(&config), 0o640);
        let fresh = dir.path().join("new/config.json");
        write_atomic(&fresh, b"{}", Access::KeepExisting).unwrap();
        assert_eq!(mode(&fresh), 0o600, "a new file starts owner-only");
        let token = dir.path().join("tokens/default.json");
        std::fs::create_dir_all(token.parent().unwrap()).unwrap();
        std::fs::write(&token, "old").unwrap();
        std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&token, b"new", Access::Private).unwrap();
        assert_eq!(mode(&token), 0o600);
        assert_eq!(std::fs::read_to_string(&token).unwrap(), "new");
        let leftovers: Vec<_> = std::fs::read_dir(token.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn lock_and_log_files_refuse_links_and_foreign_dirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();

        // A fresh directory is owner-only, and so are the files in it.
        let locks = dir.path().join("cache/locks");
        let lock_path = locks.join("default.login.lock");
        drop(try_lock(&lock_path).unwrap().expect("free"));
        assert_eq!(mode(&locks), 0o700);
        assert_eq!(mode(&lock_path), 0o600);
        let log = dir.path().join("cache/default.login.log");
        drop(open_private_append(&log).unwrap());
        assert_eq!(mode(&log), 0o600);

        // A symbolic link where a lock or log file goes is refused, and the
        // file it points at is left alone.
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep").unwrap();
        let linked_lock = locks.join("work.login.lock");
        std::os::unix::fs::symlink(&target, &linked_lock).unwrap();
        let err = try_lock(&linked_lock).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let linked_log = dir.path().join("cache/work.login.log");
        std::os::unix::fs::symlink(&target, &linked_log).unwrap();
        assert!(
            open_private_append(&linked_log)
                .unwrap_err()
                .to_string()
                .contains("symbolic link")
        );
        // A dangling link too (O_CREAT would otherwise create its target).
        let dangling = locks.join("x.refresh.lock");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(try_lock(&dangling).is_err());
        assert!(!dir.path().join("nowhere").exists());
        // Past the up-front check, O_NOFOLLOW itself refuses the link.
        let mut options = OpenOptions::new();
        std::os::unix::fs::OpenOptionsExt::custom_flags(options.read(true), O_NOFOLLOW);
        assert!(
            options.open(&linked_lock).is_err(),
            "O_NOFOLLOW is {O_NOFOLLOW:o}"
        );
        // A second name (hard link) for some other file of ours is refused too.
        let hard = locks.join("hard.login.lock");
        std::fs::hard_link(&target, &hard).unwrap();
        assert!(try_lock(&hard).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");

        // A log file in a shared directory (`--log-file /tmp/x.log`) is fine, as
        // long as it is this user's own plain file.
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        drop(open_private_append(&shared.join("mine.log")).unwrap());
        assert!(
            create_private_dir(&shared).is_err(),
            "but mcpgw keeps nothing there"
        );
        if effective_uid() == 0 {
            let planted = shared.join("planted.log");
            std::fs::write(&planted, "").unwrap();
            std::os::unix::fs::chown(&planted, Some(65534), None).unwrap();
            assert!(
                open_private_append(&planted).is_err(),
                "another user's file"
            );
        }

        // A lock directory others may write to is refused, with how to fix it.
        std::fs::set_permissions(&locks, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = try_lock(&lock_path).unwrap_err();
        assert!(
            err.to_string().contains("may be written by other users"),
            "{err}"
        );
        std::fs::set_permissions(&locks, std::fs::Permissions::from_mode(0o770)).unwrap();
        assert!(
            try_lock(&lock_path).is_err(),
            "group-writable is refused too"
        );
        std::fs::set_permissions(&locks, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(try_lock(&lock_path).unwrap().is_some());
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn o_nofollow_matches_the_platform() {
        assert_eq!(O_NOFOLLOW, libc::O_NOFOLLOW);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_of_another_user_is_refused() {
        // Not root: `/` belongs to someone else. Root: give a directory away.
        let dir = tempfile::tempdir().unwrap();
        let foreign = if effective_uid() == 0 {
            let foreign = dir.path().join("nobody");
            std::fs::create_dir(&foreign).unwrap();
            std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).unwrap();
            foreign
        } else {
            PathBuf::from("/")
        };
        let err = create_private_dir(&foreign).unwrap_err();
        assert!(err.to_string().contains("belongs to another user"), "{err}");
        assert!(try_lock(&foreign.join("x.lock")).is_err());
    }

    #[tokio::test]
    async fn lock_is_exclusive_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/x.lock");
        let first = try_lock(&path).unwrap().expect("free");
        assert!(try_lock(&path).unwrap().is_none(), "second holder refused");
        assert!(
            lock(&path, Duration::from_millis(50))
                .await
                .unwrap()
                .is_none(),
            "wait times out"
        );
        let waiter = tokio::spawn({
            let path = path.clone();
            async move {
                lock(&path, Duration::from_secs(10))
                    .await
                    .unwrap()
                    .is_some()
            }
        });
        // Let the waiter find the lock taken and start its blocking wait first.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        drop(first);
        assert!(waiter.await.unwrap(), "waiter gets the lock once released");
    }
}
