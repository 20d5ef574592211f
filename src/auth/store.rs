//! Where a login's tokens live: one entry per profile in the OS keychain (service
//! `mcpgw`, account = profile) holding a JSON record, or — only when the user opts
//! in with `MCPGW_TOKEN_STORE=file` / `tokenStore: "file"` — a 0600 file in the data
//! dir.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::{TokenStoreKind, data_dir};
use crate::fs;
use crate::secret::Secret;

pub const SERVICE: &str = "mcpgw";

/// Windows Credential Manager refuses blobs over CRED_MAX_CREDENTIAL_BLOB_SIZE
/// (5 × 512 bytes); long JWTs in a record pass that easily.
#[cfg_attr(not(windows), allow(dead_code))]
const WINDOWS_BLOB_LIMIT: usize = 2560;
const SPLIT_MAGIC: &str = "mcpgw-split:1:";

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---- the record ------------------------------------------------------------

/// What one login leaves behind. Secrets mask themselves in Debug.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    #[serde(default = "one")]
    pub version: u32,
    pub access_token: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Absolute expiry of the access token (Unix seconds); `None` when the server
    /// did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub site: String,
    pub client_id: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub obtained_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

fn one() -> u32 {
    1
}

impl TokenRecord {
    /// Seconds the access token has left (negative when expired); `None` = unknown.
    pub fn remaining(&self, now: i64) -> Option<i64> {
        self.expires_at.map(|at| at - now)
    }

    /// Good to send without refreshing first: more than the margin left, or no
    /// expiry known. The margin is at most half the token's lifetime, so a login
    /// whose tokens live no longer than the margin is not refreshed on every request.
    pub fn is_fresh(&self, now: i64, margin: Duration) -> bool {
        let margin = i64::try_from(margin.as_secs()).unwrap_or(i64::MAX);
        let margin = match self.expires_at {
            Some(at) if at > self.obtained_at => margin.min((at - self.obtained_at) / 2),
            _ => margin,
        };
        self.remaining(now).is_none_or(|left| left > margin)
    }

    /// Still accepted by the server as far as we know (not past its expiry).
    pub fn is_unexpired(&self, now: i64) -> bool {
        self.remaining(now).is_none_or(|left| left > 0)
    }

    pub fn can_refresh(&self) -> bool {
        self.refresh_token.as_ref().is_some_and(|t| !t.is_empty())
    }

    /// Takes a refresh response in. Refresh tokens rotate: keep the new one when it
    /// comes, the old one otherwise.
    pub fn apply_refresh(&mut self, refreshed: Refreshed, now: i64) {
        self.access_token = refreshed.access_token;
        if let Some(refresh) = refreshed.refresh_token.filter(|t| !t.is_empty()) {
            self.refresh_token = Some(refresh);
        }
        self.expires_at = refreshed
            .expires_in
            .map(|secs| now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX)));
        if let Some(scope) = refreshed.scope {
            self.scope = scope;
        }
        self.obtained_at = now;
    }
}

/// What a refresh brings back, as far as the record keeps it.
pub struct Refreshed {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
}

/// Who is logged in, for `login` and `status`; never part of any decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

impl Identity {
    /// `alice (account 123)` and the like; `None` when nothing is known. The
    /// claims came from the network: the text is [`crate::output::terminal_safe`].
    pub fn describe(&self) -> Option<String> {
        crate::output::who(
            self.name.as_deref().or(self.subject.as_deref()),
            self.account_id.as_deref(),
        )
        .map(|who| crate::output::terminal_safe(&who))
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.account_id.is_none() && self.subject.is_none()
    }

    pub(super) fn from_claims(claims: &serde_json::Value) -> Self {
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| match claims.get(*k)? {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        Identity {
            name: text(&["login_name", "preferred_username", "upn", "name", "email"]),
            account_id: text(&["aid", "account_id", "uid"]),
            subject: text(&["sub"]),
        }
    }
}

// ---- errors ----------------------------------------------------------------

/// What went wrong with the token store. Keychain errors are kept in words only
/// (see [`describe`]): some of them carry the stored secret's bytes. Other causes
/// are kept as the error's source; the message repeats the cause's text so that
/// callers showing only `to_string()` still say why.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No keychain to talk to (headless Linux without a Secret Service, a locked
    /// keychain the user declined to unlock, ...).
    #[error(
        "no OS keychain is reachable ({0}); to keep the tokens in a file readable only by you instead, \
         set MCPGW_TOKEN_STORE=file (or \"tokenStore\": \"file\" in config.json)"
    )]
    Unavailable(String),
    /// A failure with no cause to keep (or a keychain error, in words).
    #[error("the token store failed: {0}")]
    Failed(String),
    /// The file store (or a lock file next to it) could not be used.
    #[error("the token store failed: {action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    /// The record could not be encoded (never happens with a well-formed record).
    #[error("the token store failed: cannot encode the login: {0}")]
    Encode(#[source] serde_json::Error),
    /// The blocking task running a store call panicked or was cancelled.
    #[error("the token store failed: the token store task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Not kept: a parse error of the stored JSON may quote the tokens in it.
    #[error(
        "the stored login for profile `{profile}` is unreadable; run `{login}` again",
        profile = .0,
        login = crate::output::login_command(.0)
    )]
    Corrupt(String),
}

impl StoreError {
    fn io(action: String, source: std::io::Error) -> Self {
        Self::Io { action, source }
    }
}

/// A token-store failure on the command line: the user's to fix, with the way out
/// when there is no keychain.
impl From<StoreError> for crate::error::CliError {
    fn from(err: StoreError) -> Self {
        let cli = crate::error::CliError::user(err.to_string());
        let cli = match &err {
            StoreError::Unavailable(_) => cli.with_hint(
                "on a desktop, unlock or start your keyring (GNOME Keyring, KWallet); on a headless machine use MCPGW_TOKEN_STORE=file",
            ),
            _ => cli,
        };
        cli.with_source(err)
    }
}

// ---- the store ---------------------------------------------------------------

#[derive(Debug, Clone)]
pub enum TokenStore {
    Keychain,
    File {
        dir: PathBuf,
    },
    /// An in-memory keychain for unit tests; shared by its clones, as the real
    /// keychain is shared by every process.
    #[cfg(test)]
    Memory(memory::MemorySlots),
}

impl TokenStore {
    pub fn open(kind: TokenStoreKind) -> Result<Self, StoreError> {
        match kind {
            TokenStoreKind::Keychain => {
                keychain_init()?;
                Ok(Self::Keychain)
            }
            TokenStoreKind::File => {
                let dir = data_dir()
                    .ok_or_else(|| {
                        StoreError::Failed("no home directory to keep the token file in".into())
                    })?
                    .join("tokens");
                Ok(Self::File { dir })
            }
        }
    }

    /// For `status`: which backend, in words.
    pub fn describe(&self) -> String {
        match self {
            Self::Keychain => keychain_name().to_owned(),
            Self::File { dir } => format!("file {}", dir.display()),
            #[cfg(test)]
            Self::Memory(_) => "memory".to_owned(),
        }
    }

    pub fn kind(&self) -> TokenStoreKind {
        match self {
            Self::File { .. } => TokenStoreKind::File,
            _ => TokenStoreKind::Keychain,
        }
    }

    pub fn file_path(&self, profile: &str) -> Option<PathBuf> {
        match self {
            Self::File { dir } => Some(dir.join(format!("{}.json", fs::encode_file_name(profile)))),
            _ => None,
        }
    }

    pub fn load(&self, profile: &str) -> Result<Option<TokenRecord>, StoreError> {
        let bytes = match self {
            Self::Keychain => read_split(&KeychainSlots, profile)?,
            Self::File { .. } => file_read(&self.file_path(profile).expect("file store"))?,
            #[cfg(test)]
            Self::Memory(slots) => read_split(slots, profile)?,
        };
        match bytes {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| StoreError::Corrupt(profile.to_owned())),
        }
    }

    pub fn save(&self, profile: &str, record: &TokenRecord) -> Result<(), StoreError> {
        let json = serde_json::to_vec(record).map_err(StoreError::Encode)?;
        match self {
            Self::Keychain => write_split(&KeychainSlots, profile, &json, keychain_blob_limit()),
            Self::File { .. } => file_write(&self.file_path(profile).expect("file store"), &json),
            #[cfg(test)]
            Self::Memory(slots) => write_split(slots, profile, &json, usize::MAX),
        }
    }

    /// Removes the profile's entry; `Ok(false)` when there was none.
    pub fn delete(&self, profile: &str) -> Result<bool, StoreError> {
        match self {
            Self::Keychain => delete_split(&KeychainSlots, profile),
            Self::File { .. } => {
                let path = self.file_path(profile).expect("file store");
                match std::fs::remove_file(&path) {
                    Ok(()) => Ok(true),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(false),
                    Err(err) => Err(StoreError::io(
                        format!("cannot remove {}", path.display()),
                        err,
                    )),
                }
            }
            #[cfg(test)]
            Self::Memory(slots) => delete_split(slots, profile),
        }
    }

    /// Profiles that have an entry (best effort for keychains that cannot search).
    pub fn profiles(&self) -> BTreeSet<String> {
        match self {
            Self::Keychain => keychain_profiles(),
            Self::File { dir } => std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    fs::decode_file_name(name.strip_suffix(".json")?)
                })
                .collect(),
            #[cfg(test)]
            Self::Memory(slots) => slots.accounts(),
        }
    }
}

// ---- keychain ----------------------------------------------------------------

fn keychain_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(windows) {
        "Windows Credential Manager"
    } else {
        "Secret Service (GNOME Keyring / KWallet)"
    }
}

fn keychain_blob_limit() -> usize {
    if cfg!(windows) {
        WINDOWS_BLOB_LIMIT
    } else {
        usize::MAX
    }
}

/// Why the platform keychain cannot be set up, in words (a keyring error may
/// carry secret bytes, so it is never kept itself). Cloneable: the answer is
/// computed once per process and handed to every caller.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
struct Unreachable(String);

/// Sets keyring-core's default store once per process.
fn keychain_init() -> Result<(), StoreError> {
    static INIT: OnceLock<Result<(), Unreachable>> = OnceLock::new();
    INIT.get_or_init(|| {
        let store = platform_store()?;
        keyring_core::set_default_store(store);
        Ok(())
    })
    .clone()
    .map_err(|Unreachable(reason)| StoreError::Unavailable(reason))
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Unreachable> {
    zbus_secret_service_keyring_store::Store::new()
        .map(|s| s as std::sync::Arc<keyring_core::CredentialStore>)
        .map_err(|err| {
            Unreachable(format!(
                "cannot connect to the Secret Service over D-Bus: {}",
                describe(&err)
            ))
        })
}

#[cfg(target_os = "macos")]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Unreachable> {
    apple_native_keyring_store::keychain::Store::new()
        .map(|s| s as std::sync::Arc<keyring_core::CredentialStore>)
        .map_err(|err| Unreachable(describe(&err)))
}

#[cfg(windows)]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Unreachable> {
    windows_native_keyring_store::Store::new()
        .map(|s| s as std::sync::Arc<keyring_core::CredentialStore>)
        .map_err(|err| Unreachable(describe(&err)))
}

#[cfg(any(target_os = "ios", target_os = "android", not(any(unix, windows))))]
fn platform_store() -> Result<std::sync::Arc<keyring_core::CredentialStore>, Unreachable> {
    Err(Unreachable(
        "this platform has no supported keychain".into(),
    ))
}

/// keyring errors in words, never with their payloads (BadEncoding and
/// BadDataFormat carry the secret's bytes).
fn describe(err: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match err {
        E::PlatformFailure(inner) | E::NoStorageAccess(inner) => inner.to_string(),
        E::NoEntry => "no entry".into(),
        E::BadEncoding(_) | E::BadDataFormat(..) => {
            "the stored value is not in the expected format".into()
        }
        E::TooLong(what, limit) => format!("{what} is longer than the platform limit of {limit}"),
        E::Invalid(what, why) => format!("{what} {why}"),
        E::Ambiguous(entries) => format!("{} matching entries", entries.len()),
        E::NoDefaultStore => "no keychain store is set up".into(),
        E::NotSupportedByStore(vendor) => format!("not supported by {vendor}"),
        _ => "keychain error".into(),
    }
}

fn map_keyring(err: keyring_core::Error) -> StoreError {
    use keyring_core::Error as E;
    match err {
        E::NoStorageAccess(_) | E::PlatformFailure(_) | E::NoDefaultStore => {
            StoreError::Unavailable(describe(&err))
        }
        other => StoreError::Failed(describe(&other)),
    }
}

/// Named secret slots: the keychain, or a map in tests.
trait Slots {
    fn get(&self, account: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn set(&self, account: &str, value: &[u8]) -> Result<(), StoreError>;
    fn remove(&self, account: &str) -> Result<bool, StoreError>;
}

struct KeychainSlots;

impl Slots for KeychainSlots {
    fn get(&self, account: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let entry = keyring_core::Entry::new(SERVICE, account).map_err(map_keyring)?;
        match entry.get_secret() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_keyring(err)),
        }
    }

    fn set(&self, account: &str, value: &[u8]) -> Result<(), StoreError> {
        let entry = keyring_core::Entry::new(SERVICE, account).map_err(map_keyring)?;
        entry.set_secret(value).map_err(map_keyring)
    }

    fn remove(&self, account: &str) -> Result<bool, StoreError> {
        let entry = keyring_core::Entry::new(SERVICE, account).map_err(map_keyring)?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(map_keyring(err)),
        }
    }
}

fn part_account(profile: &str, index: usize) -> String {
    format!("{profile}#part{index}")
}

/// A record larger than `limit` is written as numbered parts plus a small head
/// entry `mcpgw-split:1:<count>`; parts go first so a reader never sees a head
/// whose parts are missing.
fn write_split(
    slots: &dyn Slots,
    profile: &str,
    data: &[u8],
    limit: usize,
) -> Result<(), StoreError> {
    let previous_parts = match slots.get(profile)? {
        Some(head) => split_count(&head).unwrap_or(0),
        None => 0,
    };
    let parts = if data.len() <= limit {
        slots.set(profile, data)?;
        0
    } else {
        let chunks: Vec<&[u8]> = data.chunks(limit).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            slots.set(&part_account(profile, i + 1), chunk)?;
        }
        slots.set(profile, format!("{SPLIT_MAGIC}{}", chunks.len()).as_bytes())?;
        chunks.len()
    };
    for stale in parts + 1..=previous_parts {
        let _ = slots.remove(&part_account(profile, stale));
    }
    Ok(())
}

fn split_count(head: &[u8]) -> Option<usize> {
    std::str::from_utf8(head)
        .ok()?
        .strip_prefix(SPLIT_MAGIC)?
        .parse()
        .ok()
}

fn read_split(slots: &dyn Slots, profile: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let Some(head) = slots.get(profile)? else {
        return Ok(None);
    };
    let Some(count) = split_count(&head) else {
        return Ok(Some(head));
    };
    let mut data = Vec::new();
    for i in 1..=count {
        match slots.get(&part_account(profile, i))? {
            Some(part) => data.extend_from_slice(&part),
            None => return Err(StoreError::Corrupt(profile.to_owned())),
        }
    }
    Ok(Some(data))
}

fn delete_split(slots: &dyn Slots, profile: &str) -> Result<bool, StoreError> {
    let count = slots
        .get(profile)?
        .as_deref()
        .and_then(split_count)
        .unwrap_or(0);
    let existed = slots.remove(profile)?;
    for i in 1..=count {
        let _ = slots.remove(&part_account(profile, i));
    }
    Ok(existed)
}

fn keychain_profiles() -> BTreeSet<String> {
    let spec = std::collections::HashMap::from([("service", SERVICE)]);
    match keyring_core::Entry::search(&spec) {
        Ok(entries) => entries
            .iter()
            .filter_map(|entry| entry.get_specifiers())
            .filter(|(service, _)| service == SERVICE)
            .map(|(_, account)| account)
            .filter(|account| !account.contains("#part"))
            .collect(),
        Err(err) => {
            tracing::debug!("cannot list keychain entries: {}", describe(&err));
            BTreeSet::new()
        }
    }
}

// ---- file store ----------------------------------------------------------------

fn file_read(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            if fs::tighten_permissions(path) {
                tracing::warn!(
                    "{} was readable by other users; set it to owner-only",
                    path.display()
                );
            }
            Ok(Some(bytes))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(StoreError::io(
            format!("cannot read {}", path.display()),
            err,
        )),
    }
}

fn file_write(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    fs::write_atomic(path, data, fs::Access::Private)
        .map_err(|err| StoreError::io(format!("cannot write {}", path.display()), err))
}

/// Keychain and file calls block (D-Bus, Security.framework, disk): this runs
/// them off the runtime thread. The one place that does.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|err| Err(StoreError::Task(err)))
}

#[cfg(test)]
pub mod memory {
    //! The in-memory keychain behind [`TokenStore::Memory`](super::TokenStore).

    use std::collections::{BTreeSet, HashMap};
    use std::sync::{Arc, Mutex};

    use super::{Slots, StoreError};

    #[derive(Clone, Default)]
    pub struct MemorySlots(Arc<Mutex<HashMap<String, Vec<u8>>>>);

    /// The values are secrets: never shown.
    impl std::fmt::Debug for MemorySlots {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("MemorySlots(..)")
        }
    }

    impl MemorySlots {
        fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }

        pub(super) fn accounts(&self) -> BTreeSet<String> {
            self.map()
                .keys()
                .filter(|account| !account.contains("#part"))
                .cloned()
                .collect()
        }
    }

    impl Slots for MemorySlots {
        fn get(&self, account: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.map().get(account).cloned())
        }
        fn set(&self, account: &str, value: &[u8]) -> Result<(), StoreError> {
            self.map().insert(account.to_owned(), value.to_vec());
            Ok(())
        }
        fn remove(&self, account: &str) -> Result<bool, StoreError> {
            Ok(self.map().remove(account).is_some())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// Slots that enforce a size limit per value, like Windows' Credential Manager.
    struct LimitedSlots {
        limit: usize,
        map: RefCell<HashMap<String, Vec<u8>>>,
    }

    impl Slots for LimitedSlots {
        fn get(&self, account: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.map.borrow().get(account).cloned())
        }
        fn set(&self, account: &str, value: &[u8]) -> Result<(), StoreError> {
            if value.len() > self.limit {
                return Err(StoreError::Failed(format!(
                    "{} bytes is over the limit",
                    value.len()
                )));
            }
            self.map
                .borrow_mut()
                .insert(account.to_owned(), value.to_vec());
            Ok(())
        }
        fn remove(&self, account: &str) -> Result<bool, StoreError> {
            Ok(self.map.borrow_mut().remove(account).is_some())
        }
    }

    fn record(access_len: usize) -> TokenRecord {
        TokenRecord {
            version: 1,
            access_token: Secret::new("a".repeat(access_len)),
            refresh_token: Some(Secret::new("r".repeat(access_len))),
            expires_at: Some(1_000),
            scope: "/acs/mcp-server".into(),
            site: "intl".into(),
            client_id: "4103531455503354461".into(),
            token_endpoint: "https://oauth.alibabacloud.com/v1/token".into(),
            revocation_endpoint: None,
            resource: None,
            obtained_at: 10,
            identity: None,
        }
    }

    #[test]
    fn long_tokens_survive_the_windows_blob_limit() {
        let slots = LimitedSlots {
            limit: WINDOWS_BLOB_LIMIT,
            map: RefCell::default(),
        };
        let big = serde_json::to_vec(&record(4000)).unwrap();
        assert!(big.len() > 3 * WINDOWS_BLOB_LIMIT);
        // Unsplit, the platform would refuse it.
        assert!(slots.set("default", &big).is_err());
        write_split(&slots, "default", &big, WINDOWS_BLOB_LIMIT).unwrap();
        assert!(slots.map.borrow().len() >= 4, "head + parts");
        assert_eq!(
            read_split(&slots, "default").unwrap().unwrap(),
            big,
            "no truncation"
        );
        let back: TokenRecord = serde_json::from_slice(&big).unwrap();
        assert_eq!(back.access_token.expose().len(), 4000);

        // Shrinking removes stale parts; deleting removes everything.
        let small = serde_json::to_vec(&record(10)).unwrap();
        write_split(&slots, "default", &small, WINDOWS_BLOB_LIMIT).unwrap();
        assert_eq!(slots.map.borrow().len(), 1);
        assert_eq!(read_split(&slots, "default").unwrap().unwrap(), small);
        write_split(&slots, "default", &big, WINDOWS_BLOB_LIMIT).unwrap();
        assert!(delete_split(&slots, "default").unwrap());
        assert!(slots.map.borrow().is_empty());
        assert!(!delete_split(&slots, "default").unwrap());
    }

    #[test]
    fn missing_part_is_corrupt_not_truncated() {
        let slots = LimitedSlots {
            limit: 100,
            map: RefCell::default(),
        };
        write_split(&slots, "p", &[b'x'; 250], 100).unwrap();
        slots.remove(&part_account("p", 2)).unwrap();
        assert!(matches!(
            read_split(&slots, "p"),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn rotation_keeps_old_refresh_token_when_none_comes_back() {
        let mut rec = record(5);
        let tokens = |refresh: Option<&str>| Refreshed {
            access_token: Secret::new("new-access"),
            refresh_token: refresh.map(Secret::new),
            expires_in: Some(3600),
            scope: None,
        };
        rec.apply_refresh(tokens(None), 100);
        assert_eq!(rec.refresh_token.as_ref().unwrap().expose(), "rrrrr");
        assert_eq!(rec.expires_at, Some(3700));
        rec.apply_refresh(tokens(Some("rotated")), 200);
        assert_eq!(rec.refresh_token.as_ref().unwrap().expose(), "rotated");
        assert_eq!(rec.access_token.expose(), "new-access");
    }

    #[test]
    fn the_margin_is_at_most_half_the_lifetime() {
        // A 5 min token with the default 5 min margin: fresh for its first half.
        let mut rec = record(1);
        rec.obtained_at = 700;
        rec.expires_at = Some(1000);
        let margin = Duration::from_secs(300);
        assert!(rec.is_fresh(800, margin));
        assert!(!rec.is_fresh(860, margin));
    }

    #[test]
    fn freshness_and_margin() {
        let rec = record(1); // expires at 1000
        let margin = Duration::from_secs(300);
        assert!(rec.is_fresh(600, margin));
        assert!(!rec.is_fresh(800, margin));
        assert!(rec.is_unexpired(999));
        assert!(!rec.is_unexpired(1000));
    }

    #[test]
    fn record_debug_hides_tokens() {
        let text = format!("{:?}", record(8));
        assert!(
            !text.contains("aaaaaaaa") && !text.contains("rrrrrrrr"),
            "{text}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn file_store_is_private_and_replaced_atomically() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("mcpgw-store-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = TokenStore::File {
            dir: dir.join("tokens"),
        };
        store.save("default", &record(3)).unwrap();
        let path = store.file_path("default").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(dir.join("tokens"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        // A reader holding the old file keeps the old content: the new record is a
        // new inode renamed into place, not an in-place rewrite.
        let old = std::fs::File::open(&path).unwrap();
        let old_ino = std::os::unix::fs::MetadataExt::ino(&old.metadata().unwrap());
        store.save("default", &record(7)).unwrap();
        let new_ino = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).unwrap());
        assert_ne!(old_ino, new_ino);
        assert_eq!(
            store
                .load("default")
                .unwrap()
                .unwrap()
                .access_token
                .expose(),
            "aaaaaaa"
        );
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::read_dir(dir.join("tokens")).unwrap().count(),
            1,
            "no temp files left"
        );
        assert_eq!(
            store.profiles().into_iter().collect::<Vec<_>>(),
            ["default"]
        );
        // Loosened permissions are tightened on read.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.load("default").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(store.delete("default").unwrap());
        assert!(!store.delete("default").unwrap());
        assert!(store.load("default").unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
