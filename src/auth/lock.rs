//! Where the cross-process locks and the background-login log live: one lock per
//! profile and purpose, so every mcpgw process of the user refreshes (or opens a
//! browser for) a login at most once at a time.

use std::path::{Path, PathBuf};

use crate::auth::store::StoreError;
use crate::config::cache_dir;
use crate::fs;

pub use crate::fs::{lock, try_lock};

/// What a lock serialises.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Refresh,
    Login,
}

/// `<cache>/locks`: the directory every lock file lives in.
pub fn dir() -> Result<PathBuf, StoreError> {
    Ok(cache_dir()
        .ok_or_else(|| StoreError::Failed("no home directory for lock files".into()))?
        .join("locks"))
}

/// `<cache>/locks/<profile>.<purpose>.lock`
pub fn path(profile: &str, purpose: Purpose) -> Result<PathBuf, StoreError> {
    Ok(path_in(&dir()?, profile, purpose))
}

/// `<dir>/<profile>.<purpose>.lock`: [`path`] under a directory of the caller's
/// choice (a relay's, or a test's own temporary one).
pub fn path_in(dir: &Path, profile: &str, purpose: Purpose) -> PathBuf {
    let purpose = match purpose {
        Purpose::Refresh => "refresh",
        Purpose::Login => "login",
    };
    dir.join(format!("{}.{purpose}.lock", fs::encode_file_name(profile)))
}

/// `<cache>/<profile>.login.log`: the messages of a login a relay started in
/// the background (its own stderr may be gone by the time it finishes).
pub fn login_log_path(profile: &str) -> Option<PathBuf> {
    Some(cache_dir()?.join(format!("{}.login.log", fs::encode_file_name(profile))))
}
