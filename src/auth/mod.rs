//! Where the relay's bearer token comes from, in order: `--bearer-token` /
//! `MCPGW_BEARER_TOKEN`, `--token-command`, then the stored login.
//!
//! The relay asks [`Auth::bearer`] before each request (a cached value on the hot
//! path) and [`Auth::rejected`] after an upstream 401, which may yield a fresh token
//! to retry with once.
//!
//! For the stored login this module also refreshes: proactively when less than the
//! margin is left, reactively after a 401. Refresh is single-flight across every
//! mcpgw process of the user (a lock file in the cache dir, then a re-read of the
//! store), because refresh tokens rotate and are single-use: two processes
//! refreshing with the same one would log the user out. With no usable login the
//! relay starts the browser login itself (a detached `mcpgw login --background`,
//! serialised by another lock so several relays open one browser window).

pub mod lock;
pub mod login;
pub mod oauth;
pub mod store;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex, watch};

use crate::auth::oauth::{OAuthError, Provider};
use crate::auth::store::{StoreError, TokenRecord, TokenStore, now_unix};
use crate::cli::RelayArgs;
use crate::config::{Config, TokenStoreKind};
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("not logged in: run `mcpgw login`{profile_hint}")]
    NotLoggedIn { profile_hint: String },
    #[error("the token command failed: {0}")]
    Command(String),
    /// The login is gone for good (revoked, expired refresh token, client changed).
    #[error("{reason}; run `mcpgw login`{profile_hint} to sign in again")]
    LoginExpired {
        reason: String,
        profile_hint: String,
    },
    /// The relay's own browser login is still waiting for the user.
    #[error("{0}")]
    LoginPending(String),
    #[error("{0}")]
    Store(String),
    #[error("{0}")]
    Other(String),
}

/// Refresh this long before the access token expires (MCPGW_REFRESH_MARGIN, seconds).
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// A refresh that keeps failing transiently gives up after this long (or the
/// request's own timeout when shorter).
const MAX_REFRESH_DEADLINE: Duration = Duration::from_secs(120);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// Claude Code waits MCP_TIMEOUT for a server's first answer (30 s unless set) and
/// its SDK caps the initialize request at 60 s regardless.
const CLIENT_DEFAULT_STARTUP: Duration = Duration::from_secs(30);
const CLIENT_MAX_STARTUP: Duration = Duration::from_secs(60);
/// Answer this long before the client would give up, so it gets our message rather
/// than its own timeout.
const HOLD_SAFETY: Duration = Duration::from_secs(5);
const TOKEN_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

enum Source {
    Static(Secret),
    Command(String),
    Store(Arc<StoreSource>),
}

pub struct Auth {
    source: Source,
    /// The token in use for the static and command sources.
    cached: Mutex<Option<Secret>>,
}

impl Auth {
    pub fn new(relay: &RelayArgs, config: &Config, http: reqwest::Client) -> Self {
        let source = if let Some(token) = relay
            .bearer_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Source::Static(Secret::new(token))
        } else if let Some(command) = relay.token_command.clone().filter(|c| !c.trim().is_empty()) {
            Source::Command(command)
        } else {
            Source::Store(Arc::new(StoreSource::new(relay, config, http)))
        };
        Self {
            source,
            cached: Mutex::new(None),
        }
    }

    /// Always this token, or none at all (an empty [`Secret`], sent as no
    /// `Authorization` header): for probes such as `mcpgw doctor`'s.
    pub fn fixed(token: Option<Secret>) -> Self {
        Self {
            source: Source::Static(token.unwrap_or_default()),
            cached: Mutex::new(None),
        }
    }

    /// A token to send now.
    pub async fn bearer(&self) -> Result<Secret, AuthError> {
        if let Source::Store(store) = &self.source {
            return store.bearer().await;
        }
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref() {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// The upstream rejected `token`. Returns a different token to retry with once,
    /// or `None` when there is nothing better to offer.
    pub async fn rejected(&self, token: &Secret) -> Result<Option<Secret>, AuthError> {
        if let Source::Store(store) = &self.source {
            return store.rejected(token).await;
        }
        let mut cached = self.cached.lock().await;
        // Another request already replaced the rejected token.
        if let Some(current) = cached.as_ref()
            && current != token
        {
            return Ok(Some(current.clone()));
        }
        match &self.source {
            Source::Static(_) => Ok(None),
            _ => {
                let fresh = self.fetch().await?;
                let changed = &fresh != token;
                *cached = Some(fresh.clone());
                Ok(changed.then_some(fresh))
            }
        }
    }

    async fn fetch(&self) -> Result<Secret, AuthError> {
        match &self.source {
            Source::Static(token) => Ok(token.clone()),
            Source::Command(command) => run_token_command(command).await,
            Source::Store(_) => unreachable!("the store has its own path"),
        }
    }
}

/// How long before expiry a stored access token is refreshed (MCPGW_REFRESH_MARGIN,
/// seconds; 5 min by default). Every reader of the margin asks here.
pub fn refresh_margin() -> Duration {
    std::env::var("MCPGW_REFRESH_MARGIN")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_REFRESH_MARGIN)
}

// ---- the stored login ----------------------------------------------------------

/// What the relay needs to start `mcpgw login --background` with the same settings.
#[derive(Debug, Clone)]
struct LoginLaunch {
    config_path: Option<std::path::PathBuf>,
    site: &'static str,
}

struct StoreSource {
    profile: String,
    store_kind: TokenStoreKind,
    http: reqwest::Client,
    margin: Duration,
    refresh_deadline: Duration,
    auto_login: bool,
    hold: Duration,
    launch: LoginLaunch,
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
    fn new(relay: &RelayArgs, config: &Config, http: reqwest::Client) -> Self {
        let env_secs = |key: &str| {
            std::env::var(key)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let margin = refresh_margin();
        let refresh_deadline = match relay.timeout {
            0 => MAX_REFRESH_DEADLINE,
            secs => Duration::from_secs(secs).min(MAX_REFRESH_DEADLINE),
        };
        let hold = env_secs("MCPGW_AUTO_LOGIN_WAIT")
            .map(Duration::from_secs)
            .unwrap_or_else(|| hold_budget(std::env::var("MCP_TIMEOUT").ok().as_deref()));
        Self {
            profile: config.profile.clone(),
            store_kind: config.token_store,
            http,
            margin,
            refresh_deadline,
            auto_login: !relay.no_auto_login,
            hold,
            launch: LoginLaunch {
                config_path: config.file_found.then(|| config.path.clone()),
                site: config.site.as_str(),
            },
            hot: std::sync::Mutex::new(None),
            slow: Mutex::new(SlowState::default()),
        }
    }

    fn profile_hint(&self) -> String {
        if self.profile == "default" {
            String::new()
        } else {
            format!(" --profile {}", self.profile)
        }
    }

    fn hot_record(&self) -> Option<TokenRecord> {
        self.hot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_hot(&self, record: Option<TokenRecord>) {
        *self.hot.lock().unwrap_or_else(|e| e.into_inner()) = record;
    }

    async fn bearer(self: &Arc<Self>) -> Result<Secret, AuthError> {
        if let Some(record) = self.hot_record()
            && record.is_fresh(now_unix(), self.margin)
        {
            return Ok(record.access_token);
        }
        let mut slow = self.slow.lock().await;
        if let Some(record) = self.hot_record()
            && record.is_fresh(now_unix(), self.margin)
        {
            return Ok(record.access_token);
        }
        let record = self.load(&mut slow).await?;
        let record = match record {
            Some(record) if record.is_fresh(now_unix(), self.margin) => record,
            Some(record) if record.can_refresh() => match self.refresh(&mut slow, None).await {
                Ok(fresh) => fresh,
                // Still valid for a while: use it and try again on a later request.
                Err(RefreshFailure::Transient(reason)) if record.is_unexpired(now_unix()) => {
                    tracing::warn!(
                        "token refresh failed, using the current token until it expires: {reason}"
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

    async fn rejected(self: &Arc<Self>, token: &Secret) -> Result<Option<Secret>, AuthError> {
        let mut slow = self.slow.lock().await;
        // Another request (or process) has already replaced the rejected token.
        if let Some(record) = self.hot_record()
            && &record.access_token != token
            && record.is_unexpired(now_unix())
        {
            return Ok(Some(record.access_token));
        }
        let record = self.load(&mut slow).await?;
        let record = match record {
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
                let reason = "the MCP server rejected the stored token and it cannot be refreshed"
                    .to_owned();
                self.login_or_fail(&mut slow, Some(reason)).await?
            }
        };
        let fresh = record.access_token.clone();
        self.set_hot(Some(record));
        Ok((&fresh != token).then_some(fresh))
    }

    async fn store(&self, slow: &mut SlowState) -> Result<TokenStore, AuthError> {
        if let Some(store) = &slow.store {
            return Ok(store.clone());
        }
        let kind = self.store_kind;
        let store = blocking(move || TokenStore::open(kind)).await?;
        slow.store = Some(store.clone());
        Ok(store)
    }

    async fn load(&self, slow: &mut SlowState) -> Result<Option<TokenRecord>, AuthError> {
        let store = self.store(slow).await?;
        let profile = self.profile.clone();
        blocking(move || store.load(&profile)).await
    }

    /// Single-flight refresh. Runs as its own task so that a request cancelled
    /// mid-refresh cannot lose a rotated refresh token: once sent, the refresh is
    /// always completed and stored.
    async fn refresh(
        &self,
        slow: &mut SlowState,
        rejected: Option<Secret>,
    ) -> Result<TokenRecord, RefreshFailure> {
        let store = self
            .store(slow)
            .await
            .map_err(|e| RefreshFailure::Transient(e.to_string()))?;
        let job = RefreshJob {
            profile: self.profile.clone(),
            store,
            http: self.http.clone(),
            margin: self.margin,
            deadline: Instant::now() + self.refresh_deadline,
            rejected,
        };
        tokio::spawn(job.run()).await.unwrap_or_else(|err| {
            Err(RefreshFailure::Transient(format!(
                "refresh task failed: {err}"
            )))
        })
    }

    async fn after_failed_refresh(
        self: &Arc<Self>,
        slow: &mut SlowState,
        failure: RefreshFailure,
    ) -> Result<TokenRecord, AuthError> {
        self.set_hot(None);
        match failure {
            RefreshFailure::Transient(reason) => Err(AuthError::Other(format!(
                "cannot refresh the login: {reason}"
            ))),
            RefreshFailure::LoggedOut => self.login_or_fail(slow, None).await,
            RefreshFailure::Permanent(reason) => self.login_or_fail(slow, Some(reason)).await,
        }
    }

    /// No usable login: start (or join) the browser login, or explain what to run.
    async fn login_or_fail(
        self: &Arc<Self>,
        slow: &mut SlowState,
        reason: Option<String>,
    ) -> Result<TokenRecord, AuthError> {
        let profile_hint = self.profile_hint();
        if !self.auto_login {
            return Err(match reason {
                Some(reason) => AuthError::LoginExpired {
                    reason,
                    profile_hint,
                },
                None => AuthError::NotLoggedIn { profile_hint },
            });
        }
        let progress = match &slow.login {
            Some(progress) => progress.clone(),
            None => {
                let progress = self.start_login()?;
                slow.login = Some(progress.clone());
                progress
            }
        };
        match wait_for_login(progress, self.hold).await {
            LoginWait::Done => match self.load(slow).await? {
                Some(record) => {
                    // A later failure of this login may start a new one.
                    slow.login = None;
                    Ok(record)
                }
                None => Err(AuthError::NotLoggedIn { profile_hint }),
            },
            LoginWait::Failed(message) => Err(AuthError::LoginExpired {
                reason: format!(
                    "the browser sign-in started by mcpgw did not complete ({message})"
                ),
                profile_hint,
            }),
            LoginWait::Pending(url) => Err(AuthError::LoginPending(pending_message(
                url.as_deref(),
                &profile_hint,
            ))),
        }
    }

    /// Starts `mcpgw login --background` in its own process group, so it outlives
    /// this relay when the client gives up on it (the sign-in then serves the next
    /// start). Its stdout reports progress, one word per line.
    fn start_login(&self) -> Result<watch::Receiver<LoginProgress>, AuthError> {
        let exe = std::env::current_exe()
            .map_err(|err| AuthError::Other(format!("cannot start the browser login: {err}")))?;
        let mut command = tokio::process::Command::new(exe);
        command
            .arg("login")
            .arg("--background")
            .arg("--profile")
            .arg(&self.profile)
            .arg("--site")
            .arg(self.launch.site);
        if let Some(path) = &self.launch.config_path {
            command.arg("--config").arg(path);
        }
        // Never the relay's stdin/stdout: those carry JSON-RPC. Not its stderr either:
        // the login may outlive the relay, and a pipe nobody reads any more would
        // break its logging (and keep the client's pipe open). Progress comes over
        // our own pipe; the details go to a log file.
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(login_log(&self.profile))
            .kill_on_drop(false);
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|err| AuthError::Other(format!("cannot start the browser login: {err}")))?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = watch::channel(LoginProgress::Starting);
        tracing::info!(
            "no usable login for profile `{}`: starting the browser sign-in",
            self.profile
        );
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            let mut last_error = None;
            while let Ok(Some(line)) = lines.next_line().await {
                let (word, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
                match word {
                    "url" => {
                        tracing::warn!(
                            "sign in to Alibaba Cloud in your browser to continue: {rest}"
                        );
                        let _ = tx.send(LoginProgress::Url(rest.to_owned()));
                    }
                    "waiting" => {
                        tracing::info!(
                            "another mcpgw process is signing in already; waiting for it"
                        );
                        let _ = tx.send(LoginProgress::Waiting);
                    }
                    "done" => {
                        let _ = tx.send(LoginProgress::Done);
                    }
                    "error" => last_error = Some(rest.to_owned()),
                    _ => {}
                }
            }
            let status = child.wait().await;
            if !matches!(*tx.borrow(), LoginProgress::Done) {
                let message = last_error.unwrap_or_else(|| match status {
                    Ok(status) => format!("the login process ended with {status}"),
                    Err(err) => err.to_string(),
                });
                let _ = tx.send(LoginProgress::Failed(message));
            }
        });
        Ok(rx)
    }
}

/// Where a background login's messages go (see [`lock::login_log_path`]).
fn login_log(profile: &str) -> Stdio {
    let file =
        lock::login_log_path(profile).and_then(|path| crate::fs::open_private_append(&path).ok());
    match file {
        Some(file) => Stdio::from(file),
        None => Stdio::null(),
    }
}

/// How long to hold a request while the browser sign-in runs: just under the
/// client's startup timeout (MCP_TIMEOUT in milliseconds, 30 s when unset, at
/// most 60 s), so a quick sign-in is invisible and a slow one gets a clear error
/// instead of the client's "timed out".
fn hold_budget(mcp_timeout_ms: Option<&str>) -> Duration {
    let client = mcp_timeout_ms
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .unwrap_or(CLIENT_DEFAULT_STARTUP)
        .min(CLIENT_MAX_STARTUP);
    client
        .saturating_sub(HOLD_SAFETY)
        .max(Duration::from_secs(1))
}

fn pending_message(url: Option<&str>, profile_hint: &str) -> String {
    let open = match url {
        Some(url) => format!(
            "mcpgw opened the Alibaba Cloud sign-in page in your browser (if it did not open, visit {url})"
        ),
        None => {
            "an Alibaba Cloud sign-in is waiting in your browser (started by another mcpgw process)"
                .to_owned()
        }
    };
    format!(
        "not logged in yet: {open}. Finish signing in, then reconnect this server (in Claude Code: /mcp → Reconnect). \
         Or run `mcpgw login{profile_hint}` in a terminal."
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LoginProgress {
    Starting,
    Waiting,
    Url(String),
    Done,
    Failed(String),
}

enum LoginWait {
    Done,
    Failed(String),
    Pending(Option<String>),
}

async fn wait_for_login(progress: watch::Receiver<LoginProgress>, hold: Duration) -> LoginWait {
    let mut waiter = progress.clone();
    let finished = async move {
        waiter
            .wait_for(|p| matches!(p, LoginProgress::Done | LoginProgress::Failed(_)))
            .await
            .map(|state| state.clone())
    };
    match tokio::time::timeout(hold, finished).await {
        Ok(Ok(LoginProgress::Failed(message))) => LoginWait::Failed(message),
        Ok(Ok(_)) => LoginWait::Done,
        Ok(Err(_)) => LoginWait::Failed("the login process vanished".into()),
        Err(_) => match &*progress.borrow() {
            LoginProgress::Url(url) => LoginWait::Pending(Some(url.clone())),
            _ => LoginWait::Pending(None),
        },
    }
}

// ---- refresh -----------------------------------------------------------------------

#[derive(Debug)]
enum RefreshFailure {
    /// Worth trying again later (network, 5xx, lock held too long).
    Transient(String),
    /// The grant is dead; the store entry has been deleted.
    Permanent(String),
    /// Someone logged out meanwhile.
    LoggedOut,
}

struct RefreshJob {
    profile: String,
    store: TokenStore,
    http: reqwest::Client,
    margin: Duration,
    deadline: Instant,
    /// The token the upstream rejected (reactive refresh), if any.
    rejected: Option<Secret>,
}

impl RefreshJob {
    async fn run(self) -> Result<TokenRecord, RefreshFailure> {
        let transient = |e: StoreError| RefreshFailure::Transient(e.to_string());
        let lock_path = lock::path(&self.profile, lock::Purpose::Refresh).map_err(transient)?;
        let lock_failed = |e: std::io::Error| {
            RefreshFailure::Transient(format!("cannot lock {}: {e}", lock_path.display()))
        };
        let _lock = match lock::try_lock(&lock_path).map_err(lock_failed)? {
            Some(lock) => lock,
            None => {
                tracing::debug!("another mcpgw process is refreshing the login; waiting for it");
                let wait = self.deadline.saturating_duration_since(Instant::now());
                lock::lock(&lock_path, wait)
                    .await
                    .map_err(lock_failed)?
                    .ok_or_else(|| {
                        RefreshFailure::Transient(
                            "another mcpgw process has been refreshing the login for too long"
                                .into(),
                        )
                    })?
            }
        };
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
            return Err(RefreshFailure::Permanent(
                "the stored login has no refresh token".into(),
            ));
        };
        let provider = Provider::for_refresh(
            &record.client_id,
            &record.token_endpoint,
            record.resource.clone(),
        )
        .map_err(|err| RefreshFailure::Permanent(err.message))?;
        let mut backoff = FIRST_BACKOFF;
        loop {
            tracing::debug!("refreshing the access token");
            match oauth::refresh(&self.http, &provider, &refresh_token).await {
                Ok(tokens) => {
                    record.apply_refresh(tokens, now_unix());
                    let store = self.store.clone();
                    let (profile, saved) = (self.profile.clone(), record.clone());
                    if let Err(err) = blocking(move || store.save(&profile, &saved)).await {
                        // The old refresh token is spent; this process can still use the
                        // new tokens, the others will have to log in again.
                        tracing::error!("refreshed the login but could not store it: {err}");
                    }
                    tracing::info!("access token refreshed");
                    return Ok(record);
                }
                Err(OAuthError::Permanent(server)) => {
                    let store = self.store.clone();
                    let profile = self.profile.clone();
                    let _ = blocking(move || store.delete(&profile)).await;
                    return Err(RefreshFailure::Permanent(format!(
                        "the stored login is no longer valid ({server}) and was removed"
                    )));
                }
                Err(err) => {
                    if Instant::now() + backoff > self.deadline {
                        return Err(RefreshFailure::Transient(err.to_string()));
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
        let store = self.store.clone();
        let profile = self.profile.clone();
        blocking(move || store.load(&profile))
            .await
            .map_err(|e| RefreshFailure::Transient(e.to_string()))
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, AuthError> {
    store::blocking(work)
        .await
        .map_err(|err| AuthError::Store(err.to_string()))
}

async fn run_token_command(command: &str) -> Result<Secret, AuthError> {
    let mut cmd = if cfg!(windows) {
        let mut cmd = tokio::process::Command::new("cmd");
        cmd.arg("/C").arg(command);
        cmd
    } else {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg(command);
        cmd
    };
    // stdin must not be the relay's stdin: that is the JSON-RPC channel.
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(TOKEN_COMMAND_TIMEOUT, cmd.output())
        .await
        .map_err(|_| {
            AuthError::Command(format!(
                "no answer within {}s",
                TOKEN_COMMAND_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|err| AuthError::Command(format!("cannot run it: {err}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_line = stderr.lines().next().unwrap_or("").trim();
        return Err(AuthError::Command(format!(
            "{} {first_line}",
            output.status
        )));
    }
    let token = String::from_utf8(output.stdout)
        .map_err(|_| AuthError::Command("it printed non-UTF-8 output".into()))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Command("it printed nothing".into()));
    }
    Ok(Secret::new(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hold_budget_follows_mcp_timeout() {
        assert_eq!(hold_budget(None), Duration::from_secs(25));
        assert_eq!(hold_budget(Some("20000")), Duration::from_secs(15));
        // Claude Code's SDK caps the first request at 60 s whatever MCP_TIMEOUT says.
        assert_eq!(hold_budget(Some("100000")), Duration::from_secs(55));
        assert_eq!(hold_budget(Some("3000")), Duration::from_secs(1));
        assert_eq!(hold_budget(Some("nonsense")), Duration::from_secs(25));
    }

    #[test]
    fn pending_message_says_what_to_do() {
        let text = pending_message(Some("https://signin.example/auth?x=1"), " --profile work");
        assert!(text.contains("https://signin.example/auth?x=1"));
        assert!(
            text.contains("Reconnect") && text.contains("mcpgw login --profile work"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn login_wait_reports_pending_then_done() {
        let (tx, rx) = watch::channel(LoginProgress::Starting);
        tx.send(LoginProgress::Url("https://x/auth".into()))
            .unwrap();
        assert!(
            matches!(wait_for_login(rx.clone(), Duration::from_millis(10)).await, LoginWait::Pending(Some(u)) if u == "https://x/auth")
        );
        let waiter = tokio::spawn(wait_for_login(rx, Duration::from_secs(10)));
        tokio::task::yield_now().await;
        tx.send(LoginProgress::Done).unwrap();
        assert!(matches!(waiter.await.unwrap(), LoginWait::Done));
    }
}
