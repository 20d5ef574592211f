//! The stored login as a token source: a state machine over the token store.
//!
//! The hot path hands out the cached record's token without any I/O. Anything
//! else (first use, inside the refresh margin, after a 401) takes the slow path,
//! one caller at a time per process: re-read the store (another process may have
//! refreshed or logged in), refresh when needed (see [`super::refresh`]), keep
//! using a still-valid token when a refresh fails transiently, and with no usable
//! login start or join the browser login (see [`super::background`]) or say
//! which command to run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, watch};

use crate::auth::background::{self, LoginLaunch, LoginProgress, LoginWait};
use crate::auth::refresh::{RefreshFailure, RefreshJob};
use crate::auth::store::{self, StoreError, TokenRecord, TokenStore, now_unix};
use crate::auth::{AuthError, LoginGone, lock, refresh_margin};
use crate::cli::RelayArgs;
use crate::config::{Config, TokenStoreKind};
use crate::secret::Secret;

/// A refresh that keeps failing transiently gives up after this long (or the
/// request's own timeout when shorter).
const MAX_REFRESH_DEADLINE: Duration = Duration::from_secs(120);

pub struct StoreSource {
    profile: String,
    store_kind: TokenStoreKind,
    http: reqwest::Client,
    margin: Duration,
    refresh_deadline: Duration,
    auto_login: bool,
    hold: Duration,
    launch: LoginLaunch,
    /// Where the cross-process refresh lock lives (`None`: no cache directory).
    lock_dir: Option<PathBuf>,
    /// The record in use: read without any I/O on the hot path.
    hot: std::sync::Mutex<Option<TokenRecord>>,
    /// One slow path (store read, refresh, login) at a time within the process.
    slow: Mutex<SlowState>,
}

#[derive(Default)]
struct SlowState {
    store: Option<TokenStore>,
    login: Option<watch::Receiver<LoginProgress>>,
}

impl StoreSource {
    pub fn new(relay: &RelayArgs, config: &Config, http: reqwest::Client) -> Self {
        let refresh_deadline = match relay.timeout {
            0 => MAX_REFRESH_DEADLINE,
            secs => Duration::from_secs(secs).min(MAX_REFRESH_DEADLINE),
        };
        let hold = std::env::var("MCPGW_AUTO_LOGIN_WAIT")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or_else(|| {
                background::hold_budget(std::env::var("MCP_TIMEOUT").ok().as_deref())
            });
        Self {
            profile: config.profile.clone(),
            store_kind: config.token_store,
            http,
            margin: refresh_margin(),
            refresh_deadline,
            auto_login: !relay.no_auto_login,
            hold,
            launch: LoginLaunch {
                config_path: config.file_found.then(|| config.path.clone()),
                site: config.site.as_str(),
            },
            lock_dir: lock::dir().ok(),
            hot: std::sync::Mutex::new(None),
            slow: Mutex::new(SlowState::default()),
        }
    }

    fn hot_record(&self) -> Option<TokenRecord> {
        self.hot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_hot(&self, record: Option<TokenRecord>) {
        *self.hot.lock().unwrap_or_else(|e| e.into_inner()) = record;
    }

    /// The hot record's token while it is fresh.
    fn fresh_hot_token(&self) -> Option<Secret> {
        self.hot_record()
            .filter(|record| record.is_fresh(now_unix(), self.margin))
            .map(|record| record.access_token)
    }

    /// A token to send now: refreshed first when inside the margin.
    pub async fn bearer(self: &Arc<Self>) -> Result<Secret, AuthError> {
        if let Some(token) = self.fresh_hot_token() {
            return Ok(token);
        }
        let mut slow = self.slow.lock().await;
        // Whoever held the slow path before us may have done the work.
        if let Some(token) = self.fresh_hot_token() {
            return Ok(token);
        }
        let record = match self.load(&mut slow).await? {
            Some(record) if record.is_fresh(now_unix(), self.margin) => record,
            Some(record) if record.can_refresh() => match self.refresh(&mut slow, None).await {
                Ok(fresh) => fresh,
                // Still valid for a while: use it and try again on a later request.
                Err(failure) if failure.is_transient() && record.is_unexpired(now_unix()) => {
                    tracing::warn!(
                        "token refresh failed, using the current token until it expires: {failure}"
                    );
                    record
                }
                Err(failure) => self.after_failed_refresh(&mut slow, failure).await?,
            },
            Some(record) if record.is_unexpired(now_unix()) => record,
            Some(_) | None => self.login_or_fail(&mut slow, None).await?,
        };
        let token = record.access_token.clone();
        self.set_hot(Some(record));
        Ok(token)
    }

    /// The upstream rejected `token`: a different one to retry with, if any.
    pub async fn rejected(self: &Arc<Self>, token: &Secret) -> Result<Option<Secret>, AuthError> {
        let mut slow = self.slow.lock().await;
        // Another request (or process) has already replaced the rejected token.
        if let Some(record) = self.hot_record()
            && &record.access_token != token
            && record.is_unexpired(now_unix())
        {
            return Ok(Some(record.access_token));
        }
        let record = match self.load(&mut slow).await? {
            Some(record) if &record.access_token != token && record.is_unexpired(now_unix()) => {
                record
            }
            Some(record) if record.can_refresh() => {
                match self.refresh(&mut slow, Some(token.clone())).await {
                    Ok(fresh) => fresh,
                    Err(failure) => self.after_failed_refresh(&mut slow, failure).await?,
                }
            }
            _ => {
                self.login_or_fail(&mut slow, Some(LoginGone::Rejected))
                    .await?
            }
        };
        let fresh = record.access_token.clone();
        self.set_hot(Some(record));
        Ok((&fresh != token).then_some(fresh))
    }

    async fn store(&self, slow: &mut SlowState) -> Result<TokenStore, StoreError> {
        if let Some(store) = &slow.store {
            return Ok(store.clone());
        }
        let kind = self.store_kind;
        let store = store::blocking(move || TokenStore::open(kind)).await?;
        slow.store = Some(store.clone());
        Ok(store)
    }

    async fn load(&self, slow: &mut SlowState) -> Result<Option<TokenRecord>, AuthError> {
        let store = self.store(slow).await?;
        let profile = self.profile.clone();
        Ok(store::blocking(move || store.load(&profile)).await?)
    }

    /// Runs the refresh as its own task, so a client that gives up on the request
    /// cannot cancel it halfway: a refresh token is spent once the request is
    /// sent, so the new tokens must always be stored.
    async fn refresh(
        &self,
        slow: &mut SlowState,
        rejected: Option<Secret>,
    ) -> Result<TokenRecord, RefreshFailure> {
        let job = RefreshJob {
            profile: self.profile.clone(),
            store: self.store(slow).await?,
            http: self.http.clone(),
            lock_dir: self.lock_dir.clone(),
            margin: self.margin,
            deadline: Instant::now() + self.refresh_deadline,
            rejected,
        };
        tokio::spawn(job.run())
            .await
            .unwrap_or_else(|err| Err(RefreshFailure::Task(err)))
    }

    async fn after_failed_refresh(
        self: &Arc<Self>,
        slow: &mut SlowState,
        failure: RefreshFailure,
    ) -> Result<TokenRecord, AuthError> {
        self.set_hot(None);
        match failure {
            failure if failure.is_transient() => Err(AuthError::Refresh(failure)),
            RefreshFailure::LoggedOut => self.login_or_fail(slow, None).await,
            permanent => {
                self.login_or_fail(slow, Some(LoginGone::Refresh(permanent)))
                    .await
            }
        }
    }

    /// No usable login: start (or join) the browser login, or explain what to run.
    async fn login_or_fail(
        self: &Arc<Self>,
        slow: &mut SlowState,
        reason: Option<LoginGone>,
    ) -> Result<TokenRecord, AuthError> {
        let profile = self.profile.clone();
        if !self.auto_login {
            return Err(match reason {
                Some(reason) => AuthError::LoginExpired { reason, profile },
                None => AuthError::NotLoggedIn { profile },
            });
        }
        let progress = match &slow.login {
            Some(progress) => progress.clone(),
            None => {
                let progress = background::start_login(&self.profile, &self.launch)?;
                slow.login = Some(progress.clone());
                progress
            }
        };
        match background::wait_for_login(progress, self.hold).await {
            LoginWait::Done => match self.load(slow).await? {
                Some(record) => {
                    // A later failure of this login may start a new one.
                    slow.login = None;
                    Ok(record)
                }
                None => Err(AuthError::NotLoggedIn { profile }),
            },
            LoginWait::Failed(message) => Err(AuthError::LoginExpired {
                reason: LoginGone::BackgroundLogin(message),
                profile,
            }),
            LoginWait::Pending(url) => Err(AuthError::LoginPending(background::pending_message(
                url.as_deref(),
                &profile,
            ))),
        }
    }
}
