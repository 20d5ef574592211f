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
/// A refresh ahead of expiry, while the current token still works, is one quick
/// try: a slow token endpoint must not hold every request up.
const EARLY_REFRESH_DEADLINE: Duration = Duration::from_secs(10);
/// After an early refresh failed for now, the current token is used without
/// trying again for this long.
const REFRESH_PAUSE: Duration = Duration::from_secs(30);

pub struct StoreSource {
    profile: String,
    store_kind: TokenStoreKind,
    http: reqwest::Client,
    margin: Duration,
    refresh_deadline: Duration,
    auto_login: bool,
    /// How long a relay may hold requests for a browser login, counted from
    /// `started`: the client's connection budget, not one request's.
    hold: Duration,
    started: Instant,
    launch: LoginLaunch,
    /// Where the cross-process refresh lock lives (`None`: no cache directory).
    lock_dir: Option<PathBuf>,
    /// The record in use: read without any I/O on the hot path.
    hot: std::sync::Mutex<Option<TokenRecord>>,
    /// An early refresh failed for now: no new try before this.
    refresh_paused_until: std::sync::Mutex<Option<Instant>>,
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
            started: Instant::now(),
            launch: LoginLaunch {
                config_path: config.file_found.then(|| config.path.clone()),
                site: config.site.as_str(),
            },
            lock_dir: lock::dir().ok(),
            hot: std::sync::Mutex::new(None),
            refresh_paused_until: std::sync::Mutex::new(None),
            slow: Mutex::new(SlowState::default()),
        }
    }

    fn hot_record(&self) -> Option<TokenRecord> {
        self.hot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_hot(&self, record: Option<TokenRecord>) {
        *self.hot.lock().unwrap_or_else(|e| e.into_inner()) = record;
    }

    /// The hot record's token while it is fresh, or while it is valid and early
    /// refreshes are paused after a failure.
    fn fresh_hot_token(&self) -> Option<Secret> {
        let record = self.hot_record()?;
        let now = now_unix();
        let usable = record.is_fresh(now, self.margin)
            || (record.is_unexpired(now) && self.refresh_paused());
        usable.then_some(record.access_token)
    }

    fn refresh_paused(&self) -> bool {
        let paused = self
            .refresh_paused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        paused.is_some_and(|until| Instant::now() < until)
    }

    fn pause_refresh(&self) {
        *self
            .refresh_paused_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Instant::now().checked_add(REFRESH_PAUSE);
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
            Some(record) if record.can_refresh() => {
                let valid = record.is_unexpired(now_unix());
                let deadline = if valid {
                    EARLY_REFRESH_DEADLINE.min(self.refresh_deadline)
                } else {
                    self.refresh_deadline
                };
                match self.refresh(&mut slow, None, deadline).await {
                    Ok(fresh) => fresh,
                    // Still valid for a while: use it, and try again a little later.
                    Err(failure) if failure.is_transient() && valid => {
                        tracing::warn!(
                            "token refresh failed, using the current token until it expires: {failure}"
                        );
                        self.pause_refresh();
                        record
                    }
                    Err(failure) => self.after_failed_refresh(&mut slow, failure).await?,
                }
            }
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
                match self
                    .refresh(&mut slow, Some(token.clone()), self.refresh_deadline)
                    .await
                {
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
        deadline: Duration,
    ) -> Result<TokenRecord, RefreshFailure> {
        let job = RefreshJob {
            profile: self.profile.clone(),
            store: self.store(slow).await?,
            http: self.http.clone(),
            lock_dir: self.lock_dir.clone(),
            margin: self.margin,
            deadline: Instant::now()
                .checked_add(deadline)
                .unwrap_or_else(|| Instant::now() + MAX_REFRESH_DEADLINE),
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
        let hold = self.hold.saturating_sub(self.started.elapsed());
        match background::wait_for_login(progress, hold).await {
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

#[cfg(test)]
mod tests {
    //! The state machine against an in-memory keychain and a local token endpoint
    //! that counts its requests and answers as scripted.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::State;
    use axum::http::StatusCode;

    use super::*;
    use crate::auth::store::memory::MemorySlots;

    const OLD_ACCESS: &str = "acc-OLD-secret";
    const OLD_REFRESH: &str = "ref-OLD-secret";

    #[derive(Clone, Copy)]
    enum Answer {
        Tokens,
        InvalidGrant,
        Unavailable,
    }

    struct Endpoint {
        answer: Answer,
        requests: AtomicUsize,
        /// The refresh tokens that were sent, in order.
        sent: std::sync::Mutex<Vec<String>>,
    }

    impl Endpoint {
        fn requests(&self) -> usize {
            self.requests.load(Ordering::SeqCst)
        }
    }

    async fn token(
        State(endpoint): State<Arc<Endpoint>>,
        body: String,
    ) -> (
        StatusCode,
        [(axum::http::HeaderName, &'static str); 1],
        String,
    ) {
        let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
        let n = endpoint.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let refresh = url::form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "refresh_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        endpoint.sent.lock().unwrap().push(refresh);
        match endpoint.answer {
            Answer::Tokens => (
                StatusCode::OK,
                json,
                format!(
                    r#"{{"access_token":"acc-{n}","token_type":"Bearer","expires_in":3600,"refresh_token":"ref-{n}"}}"#
                ),
            ),
            Answer::InvalidGrant => (
                StatusCode::BAD_REQUEST,
                json,
                r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#.into(),
            ),
            Answer::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                json,
                r#"{"error":"server_error"}"#.into(),
            ),
        }
    }

    /// A token endpoint on 127.0.0.1; returns its state and URL.
    async fn endpoint(answer: Answer) -> (Arc<Endpoint>, String) {
        let state = Arc::new(Endpoint {
            answer,
            requests: AtomicUsize::new(0),
            sent: Default::default(),
        });
        let app = axum::Router::new()
            .route("/v1/token", axum::routing::post(token))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (state, url)
    }

    fn record(token_endpoint: &str, expires_in: i64) -> TokenRecord {
        let now = now_unix();
        TokenRecord {
            version: 1,
            access_token: Secret::new(OLD_ACCESS),
            refresh_token: Some(Secret::new(OLD_REFRESH)),
            expires_at: Some(now + expires_in),
            scope: "/acs/mcp-server".into(),
            site: "intl".into(),
            client_id: "4103531455503354461".into(),
            token_endpoint: token_endpoint.to_owned(),
            revocation_endpoint: None,
            resource: None,
            // An hour-long token, so the 5 min margin applies in full.
            obtained_at: now + expires_in - 3600,
            identity: None,
        }
    }

    struct Fixture {
        source: Arc<StoreSource>,
        store: TokenStore,
        locks: tempfile::TempDir,
    }

    impl Fixture {
        /// A source over a memory store holding `record` (if any); transient
        /// failures are not retried (the deadline has passed at once).
        fn new(record: Option<&TokenRecord>) -> Self {
            let store = TokenStore::Memory(MemorySlots::default());
            if let Some(record) = record {
                store.save("default", record).unwrap();
            }
            let locks = tempfile::tempdir().unwrap();
            let source = Arc::new(StoreSource {
                profile: "default".into(),
                store_kind: TokenStoreKind::Keychain,
                http: crate::http::client(None).unwrap().client,
                margin: Duration::from_secs(300),
                refresh_deadline: Duration::ZERO,
                auto_login: false,
                hold: Duration::ZERO,
                started: Instant::now(),
                launch: LoginLaunch {
                    config_path: None,
                    site: "intl",
                },
                lock_dir: Some(locks.path().to_owned()),
                hot: std::sync::Mutex::new(None),
                refresh_paused_until: std::sync::Mutex::new(None),
                slow: Mutex::new(SlowState {
                    store: Some(store.clone()),
                    login: None,
                }),
            });
            Self {
                source,
                store,
                locks,
            }
        }

        fn stored(&self) -> Option<TokenRecord> {
            self.store.load("default").unwrap()
        }
    }

    #[tokio::test]
    async fn fresh_token_is_sent_without_refreshing() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        let f = Fixture::new(Some(&record(&url, 3600)));
        assert_eq!(f.source.bearer().await.unwrap().expose(), OLD_ACCESS);
        assert_eq!(f.source.bearer().await.unwrap().expose(), OLD_ACCESS);
        assert_eq!(endpoint.requests(), 0);
    }

    #[tokio::test]
    async fn inside_the_margin_refreshes_once_and_stores_the_rotated_tokens() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        let f = Fixture::new(Some(&record(&url, 100)));
        assert_eq!(f.source.bearer().await.unwrap().expose(), "acc-1");
        assert_eq!(endpoint.requests(), 1);
        assert_eq!(*endpoint.sent.lock().unwrap(), [OLD_REFRESH]);
        let stored = f.stored().unwrap();
        assert_eq!(stored.access_token.expose(), "acc-1");
        assert_eq!(stored.refresh_token.as_ref().unwrap().expose(), "ref-1");
        assert!(stored.remaining(now_unix()).unwrap() > 3500);
        // Now fresh: the hot path, no second request.
        assert_eq!(f.source.bearer().await.unwrap().expose(), "acc-1");
        assert_eq!(endpoint.requests(), 1);
    }

    #[tokio::test]
    async fn a_rejected_token_is_refreshed_once() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        let f = Fixture::new(Some(&record(&url, 3600)));
        let old = f.source.bearer().await.unwrap();
        let fresh = f.source.rejected(&old).await.unwrap().unwrap();
        assert_eq!(fresh.expose(), "acc-1");
        assert_eq!(f.stored().unwrap().refresh_token.unwrap().expose(), "ref-1");
        // A second request that was rejected with the old token gets the new one.
        let again = f.source.rejected(&old).await.unwrap().unwrap();
        assert_eq!(again.expose(), "acc-1");
        assert_eq!(f.source.bearer().await.unwrap().expose(), "acc-1");
        assert_eq!(endpoint.requests(), 1);
    }

    #[tokio::test]
    async fn invalid_grant_removes_the_login_and_says_to_log_in() {
        let (endpoint, url) = endpoint(Answer::InvalidGrant).await;
        let f = Fixture::new(Some(&record(&url, 100)));
        let err = f.source.bearer().await.unwrap_err();
        assert!(matches!(err, AuthError::LoginExpired { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("invalid_grant") && text.contains("run `mcpgw login` to sign in again"),
            "{text}"
        );
        let shown = format!("{text} {err:?} {}", crate::error::full_message(&err));
        assert!(!shown.contains("secret"), "a token in {shown}");
        assert!(f.stored().is_none(), "the dead login is deleted");
        assert_eq!(endpoint.requests(), 1);
        // Nothing left to refresh: no further token requests.
        assert!(matches!(
            f.source.bearer().await.unwrap_err(),
            AuthError::NotLoggedIn { .. }
        ));
        assert_eq!(endpoint.requests(), 1);
    }

    #[tokio::test]
    async fn a_transient_failure_keeps_using_a_valid_token() {
        let (endpoint, url) = endpoint(Answer::Unavailable).await;
        let f = Fixture::new(Some(&record(&url, 100)));
        assert_eq!(f.source.bearer().await.unwrap().expose(), OLD_ACCESS);
        assert_eq!(endpoint.requests(), 1);
        let stored = f.stored().unwrap();
        assert_eq!(stored.refresh_token.unwrap().expose(), OLD_REFRESH);
        // Still inside the margin, but early refreshes pause after a failure: the
        // next requests use the valid token at once instead of asking again.
        for _ in 0..3 {
            assert_eq!(f.source.bearer().await.unwrap().expose(), OLD_ACCESS);
        }
        assert_eq!(endpoint.requests(), 1);
        // Once the pause is over, it tries again.
        *f.source.refresh_paused_until.lock().unwrap() = Some(Instant::now());
        assert_eq!(f.source.bearer().await.unwrap().expose(), OLD_ACCESS);
        assert_eq!(endpoint.requests(), 2);
    }

    #[tokio::test]
    async fn a_transient_failure_with_an_expired_token_is_an_error() {
        let (endpoint, url) = endpoint(Answer::Unavailable).await;
        let f = Fixture::new(Some(&record(&url, -10)));
        let err = f.source.bearer().await.unwrap_err();
        assert!(matches!(err, AuthError::Refresh(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with("cannot refresh the login") && text.contains("HTTP 503"),
            "{text}"
        );
        assert!(f.stored().is_some(), "a transient failure keeps the login");
        assert_eq!(endpoint.requests(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_refresh_once() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        let f = Fixture::new(Some(&record(&url, 100)));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let source = f.source.clone();
                tokio::spawn(async move { source.bearer().await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().expose(), "acc-1");
        }
        assert_eq!(endpoint.requests(), 1);
    }

    #[tokio::test]
    async fn a_refresh_by_another_process_is_picked_up() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        let f = Fixture::new(Some(&record(&url, 100)));
        // This process holds the old record, inside the margin...
        f.source.set_hot(Some(record(&url, 100)));
        // ...while another one has refreshed and stored new tokens.
        let mut other = record(&url, 3600);
        other.access_token = Secret::new("acc-other");
        f.store.save("default", &other).unwrap();
        assert_eq!(f.source.bearer().await.unwrap().expose(), "acc-other");
        // After a 401 too: the store's newer token is the retry.
        let mut newer = record(&url, 3600);
        newer.access_token = Secret::new("acc-newer");
        f.store.save("default", &newer).unwrap();
        let retry = f.source.rejected(&Secret::new("acc-other")).await.unwrap();
        assert_eq!(retry.unwrap().expose(), "acc-newer");
        assert_eq!(endpoint.requests(), 0);
    }

    fn job(f: &Fixture, deadline: Instant) -> RefreshJob {
        RefreshJob {
            profile: "default".into(),
            store: f.store.clone(),
            http: crate::http::client(None).unwrap().client,
            lock_dir: Some(f.locks.path().to_owned()),
            margin: Duration::from_secs(300),
            deadline,
            rejected: None,
        }
    }

    #[tokio::test]
    async fn the_refresh_job_rereads_the_store_under_the_lock() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        // Fresh by the time the lock is ours: the previous holder refreshed.
        let f = Fixture::new(Some(&record(&url, 3600)));
        let record = job(&f, Instant::now()).run().await.unwrap();
        assert_eq!(record.access_token.expose(), OLD_ACCESS);
        assert_eq!(endpoint.requests(), 0);
    }

    #[tokio::test]
    async fn a_refresh_lock_held_too_long_is_transient() {
        let (endpoint, url) = endpoint(Answer::Tokens).await;
        let f = Fixture::new(Some(&record(&url, 100)));
        let path = lock::path_in(f.locks.path(), "default", lock::Purpose::Refresh);
        let _held = lock::try_lock(&path).unwrap().unwrap();
        let failure = job(&f, Instant::now()).run().await.unwrap_err();
        assert!(
            matches!(failure, RefreshFailure::LockTimeout) && failure.is_transient(),
            "{failure:?}"
        );
        assert_eq!(endpoint.requests(), 0);
    }
}
