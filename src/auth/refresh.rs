//! One refresh of a stored login, single-flight across every mcpgw process of the
//! user: refresh tokens rotate and are single-use, so two processes refreshing
//! with the same one would log the user out. The job takes the profile's refresh
//! lock, re-reads the store (whoever held the lock may have refreshed already),
//! and only then asks the token endpoint, retrying transient failures with
//! backoff until its deadline.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::auth::lock;
use crate::auth::oauth::{self, OAuthError, Provider, ServerError};
use crate::auth::store::{Refreshed, StoreError, TokenRecord, TokenStore, blocking, now_unix};
use crate::error::CliError;
use crate::secret::Secret;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Why a refresh produced no new token. [`RefreshFailure::is_transient`] tells
/// whether trying again later may help.
#[derive(Debug, thiserror::Error)]
pub enum RefreshFailure {
    /// The store could not be read (or the lock directory found).
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another mcpgw process has been refreshing the login for too long")]
    LockTimeout,
    /// Network trouble, a 5xx, or an OAuth error not known to be permanent.
    #[error(transparent)]
    Request(OAuthError),
    #[error("refresh task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Permanent: only a new login helps.
    #[error("the stored login has no refresh token")]
    NoRefreshToken,
    /// Permanent: the stored token endpoint is not one mcpgw may use.
    #[error("{0}")]
    Endpoint(#[source] CliError),
    /// Permanent: the grant is dead; the store entry has been deleted.
    #[error("the stored login is no longer valid ({0}) and was removed")]
    Revoked(ServerError),
    /// Someone logged out meanwhile.
    #[error("the stored login was removed meanwhile")]
    LoggedOut,
}

impl RefreshFailure {
    /// Worth trying again later (network, 5xx, store or lock trouble).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Store(_)
                | Self::Lock { .. }
                | Self::LockTimeout
                | Self::Request(_)
                | Self::Task(_)
        )
    }
}

pub struct RefreshJob {
    pub profile: String,
    pub store: TokenStore,
    pub http: reqwest::Client,
    /// Where the refresh lock lives; `None` when there is no cache directory.
    pub lock_dir: Option<PathBuf>,
    pub margin: Duration,
    pub deadline: Instant,
    /// The token the upstream rejected (reactive refresh), if any.
    pub rejected: Option<Secret>,
}

impl RefreshJob {
    pub async fn run(self) -> Result<TokenRecord, RefreshFailure> {
        let _lock = self.lock().await?;
        // Whoever held the lock before us may have refreshed already.
        let mut record = self.load().await?.ok_or(RefreshFailure::LoggedOut)?;
        let now = now_unix();
        let already_done = match &self.rejected {
            Some(rejected) => &record.access_token != rejected && record.is_unexpired(now),
            None => record.is_fresh(now, self.margin),
        };
        if already_done {
            tracing::debug!("the login was refreshed by another process");
            return Ok(record);
        }
        let Some(refresh_token) = record.refresh_token.clone() else {
            return Err(RefreshFailure::NoRefreshToken);
        };
        let provider = Provider::for_refresh(
            &record.client_id,
            &record.token_endpoint,
            record.resource.clone(),
        )
        .map_err(RefreshFailure::Endpoint)?;
        let tokens = self.request(&provider, &refresh_token).await?;
        let refreshed = Refreshed {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            scope: tokens.scope,
        };
        record.apply_refresh(refreshed, now_unix());
        let (store, profile, saved) = (self.store.clone(), self.profile.clone(), record.clone());
        if let Err(err) = blocking(move || store.save(&profile, &saved)).await {
            // The old refresh token is spent; this process can still use the new
            // tokens, the others will have to log in again.
            tracing::error!("refreshed the login but could not store it: {err}");
        }
        tracing::info!("access token refreshed");
        Ok(record)
    }

    /// The profile's refresh lock, waiting for another process until the deadline.
    async fn lock(&self) -> Result<crate::fs::FileLock, RefreshFailure> {
        let dir = self
            .lock_dir
            .clone()
            .ok_or_else(|| StoreError::Failed("no home directory for lock files".into()))?;
        let path = lock::path_in(&dir, &self.profile, lock::Purpose::Refresh);
        let failed = |source| RefreshFailure::Lock {
            path: path.clone(),
            source,
        };
        if let Some(lock) = lock::try_lock(&path).map_err(failed)? {
            return Ok(lock);
        }
        tracing::debug!("another mcpgw process is refreshing the login; waiting for it");
        let wait = self.deadline.saturating_duration_since(Instant::now());
        lock::lock(&path, wait)
            .await
            .map_err(failed)?
            .ok_or(RefreshFailure::LockTimeout)
    }

    /// The token request, retried with backoff while it fails transiently. A
    /// permanent refusal deletes the stored login.
    async fn request(
        &self,
        provider: &Provider,
        refresh_token: &Secret,
    ) -> Result<oauth::Tokens, RefreshFailure> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            tracing::debug!("refreshing the access token");
            match oauth::refresh(&self.http, provider, refresh_token).await {
                Ok(tokens) => return Ok(tokens),
                Err(OAuthError::Permanent(server)) => {
                    let (store, profile) = (self.store.clone(), self.profile.clone());
                    let _ = blocking(move || store.delete(&profile)).await;
                    return Err(RefreshFailure::Revoked(server));
                }
                Err(err) => {
                    if Instant::now() + backoff > self.deadline {
                        return Err(RefreshFailure::Request(err));
                    }
                    tracing::warn!(
                        "token refresh failed, retrying in {} ms: {err}",
                        backoff.as_millis()
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    async fn load(&self) -> Result<Option<TokenRecord>, RefreshFailure> {
        let (store, profile) = (self.store.clone(), self.profile.clone());
        Ok(blocking(move || store.load(&profile)).await?)
    }
}
