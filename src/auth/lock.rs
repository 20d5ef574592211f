//! Where the cross-process locks and the background-login log live: one lock per
//! profile and purpose, so every mcpgw process of the user refreshes (or opens a
//! browser for) a login at most once at a time.

use std::path::PathBuf;

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

/// `<cache>/locks/<profile>.<purpose>.lock`
pub fn path(profile: &str, purpose: Purpose) -> Result<PathBuf, StoreError> {
    let purpose = match purpose {
        Purpose::Refresh => "refresh",
        Purpose::Login => "login",
    };
    let dir = cache_dir()
        .ok_or_else(|| StoreError::Failed("no home directory for lock files".into()))?
        .join("locks");
    Ok(dir.join(format!("{}.{purpose}.lock", fs::encode_file_name(profile))))
}

/// `<cache>/<profile>.login.log`: the messages of a login a relay started in
/// the background (its own stderr may be gone by the time it finishes).
pub fn login_log_path(profile: &str) -> Option<PathBuf> {
    Some(cache_dir()?.join(format!("{}.login.log", fs::encode_file_name(profile))))
}
