//! `mcpgw login`: the browser sign-in (authorization code + PKCE, RFC 8252) with a
//! one-shot loopback listener, or a pasted redirect URL when the browser runs on
//! another machine. Also the `--background` mode a relay starts when it has no
//! usable login.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::auth::lock;
use crate::auth::oauth::{self, AuthorizationRequest, Provider};
use crate::auth::store::{self, Identity, StoreError, TokenRecord, TokenStore, now_unix};
use crate::cli::{GlobalArgs, LoginArgs};
use crate::config::{Config, TokenStoreKind, UrlProblem};
use crate::error::{CliError, CliResult, Context};
use crate::output::{login_command, profile_flag, terminal_safe};
use crate::secret::Secret;

/// A browser that connected but sends nothing is dropped after this long.
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Connections to the listener read at the same time; more wait in the backlog.
const MAX_CONNECTIONS: usize = 16;

pub async fn run(global: &GlobalArgs, args: &LoginArgs, config: &Config) -> CliResult {
    let started = now_unix();
    let progress = Progress {
        background: args.background,
    };
    let result = login(global, args, config, &progress, started).await;
    if let Err(err) = &result {
        progress.report("error", &crate::error::full_message(err));
    }
    result
}

/// Where the background mode reports to its relay, and where messages for a
/// person go otherwise.
struct Progress {
    background: bool,
}

impl Progress {
    /// One protocol line on stdout for the relay that started us. A relay that
    /// has gone away closed the pipe; that is fine, the login goes on.
    fn report(&self, word: &str, detail: &str) {
        if self.background {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{word} {detail}");
            let _ = out.flush();
        }
    }

    /// A message for the person at the terminal. In background mode stderr may be
    /// a pipe nobody reads any more, so it goes through tracing, which ignores
    /// write errors.
    fn say(&self, message: &str) {
        if self.background {
            tracing::warn!("{message}");
        } else {
            eprintln!("{message}");
        }
    }
}

async fn login(
    global: &GlobalArgs,
    args: &LoginArgs,
    config: &Config,
    progress: &Progress,
    started: i64,
) -> CliResult {
    let provider = Provider::from_config(&config.oauth, &config.path)?;
    let redirect_text = args
        .redirect_uri
        .clone()
        .unwrap_or_else(|| config.oauth.redirect_uri.clone());
    let redirect = RedirectTarget::parse(&redirect_text)?;
    let profile = config.profile.as_str();
    // Before any browser opens: a --ca-cert that cannot be used fails now.
    let http = crate::http::client(global.ca_cert.as_deref())?.client;

    // Find out now, before any browser opens, whether the tokens can be kept.
    let (store, existing) = open_store(config.token_store, profile).await?;
    if store.kind() == TokenStoreKind::File {
        progress.say(&format!(
            "warning: tokens will be kept in the plain file {} (readable only by you), because the token store is set \
             to `file`; unset MCPGW_TOKEN_STORE / tokenStore to use the OS keychain",
            store.file_path(profile).expect("file store").display()
        ));
    }
    if args.background && existing.as_ref().is_some_and(usable) {
        progress.report("done", "");
        return Ok(());
    }

    let _lock = match login_lock(&store, profile, args, progress, started).await? {
        LoginLock::Ours(lock) => lock,
        LoginLock::Finished(record) => {
            progress.report("done", "");
            if !args.background {
                print_success(global, config, &record);
            }
            return Ok(());
        }
    };

    let started_at = Instant::now();
    let (request, code, mut reply) = sign_in(
        &provider,
        &redirect,
        args,
        progress,
        &login_command(profile),
    )
    .await?;
    let stored = exchange_and_store(&http, &provider, config, &store, &request, &code).await;
    let record = match stored {
        Ok(record) => record,
        Err((err, page_text)) => {
            if let Some(reply) = reply.as_mut() {
                reply.send(page(false, "Sign-in failed", page_text)).await;
            }
            return Err(err);
        }
    };
    if let Some(reply) = reply.as_mut() {
        let who = describe_identity(&record);
        reply
            .send(page(true, "Signed in to Alibaba Cloud", &format!("mcpgw is now signed in{who}. You can close this tab and return to the terminal.")))
            .await;
    }
    tracing::info!("login completed in {} ms", started_at.elapsed().as_millis());
    progress.report("done", "");
    if !args.background {
        print_success(global, config, &record);
    }
    Ok(())
}

/// A stored login that needs no browser: still valid, or refreshable.
fn usable(record: &TokenRecord) -> bool {
    record.is_unexpired(now_unix()) || record.can_refresh()
}

/// The token store, and the profile's current login (`None` when unreadable:
/// this login replaces it).
async fn open_store(
    kind: TokenStoreKind,
    profile: &str,
) -> CliResult<(TokenStore, Option<TokenRecord>)> {
    let profile = profile.to_owned();
    store::blocking(move || {
        let store = TokenStore::open(kind)?;
        let existing = match store.load(&profile) {
            Ok(existing) => existing,
            Err(StoreError::Corrupt(_)) => None,
            Err(err) => return Err(err),
        };
        Ok((store, existing))
    })
    .await
    .map_err(CliError::from)
}

enum LoginLock {
    /// This process signs in, holding the profile's login lock.
    Ours(crate::fs::FileLock),
    /// Another login finished while we waited for the lock: its record.
    Finished(Box<TokenRecord>),
}

/// One login per profile at a time: two would fight over the callback port and
/// open two browser windows. After waiting for another one, its result counts
/// when it is new enough (any usable login, for the background mode).
async fn login_lock(
    store: &TokenStore,
    profile: &str,
    args: &LoginArgs,
    progress: &Progress,
    started: i64,
) -> CliResult<LoginLock> {
    let lock_path = lock::path(profile, lock::Purpose::Login).map_err(CliError::from)?;
    let lock_failed = |err: std::io::Error| {
        CliError::user(format!("cannot lock {}", lock_path.display())).with_source(err)
    };
    if let Some(lock) = lock::try_lock(&lock_path).map_err(lock_failed)? {
        return Ok(LoginLock::Ours(lock));
    }
    progress.report("waiting", "");
    progress
        .say("Another mcpgw login for this profile is in progress; waiting for it to finish...");
    let lock = lock::lock(&lock_path, login_timeout(args))
        .await
        .map_err(lock_failed)?
        .ok_or_else(|| {
            CliError::user("another mcpgw login is still in progress").with_hint(
                "finish the sign-in that is open in your browser, or wait for it to time out, then try again",
            )
        })?;
    let (store, profile) = (store.clone(), profile.to_owned());
    let current = store::blocking(move || store.load(&profile))
        .await
        .ok()
        .flatten()
        .filter(|r| usable(r) && (args.background || r.obtained_at >= started));
    Ok(match current {
        Some(record) => LoginLock::Finished(Box::new(record)),
        None => LoginLock::Ours(lock),
    })
}

fn login_timeout(args: &LoginArgs) -> Duration {
    Duration::from_secs(args.timeout.max(1))
}

/// The browser part: listen on the redirect URI, open (or show) the authorize
/// URL, and wait for the code to come back (or be pasted).
async fn sign_in(
    provider: &Provider,
    redirect: &RedirectTarget,
    args: &LoginArgs,
    progress: &Progress,
    login: &str,
) -> CliResult<(AuthorizationRequest, Secret, Option<Reply>)> {
    let listener = redirect.bind().await?;
    let port = listener
        .local_addr()
        .context("cannot read the address of the sign-in listener")?
        .port();
    let redirect_uri = redirect.uri_for(port);
    let request = oauth::authorization_request(provider, &redirect_uri)?;

    let headless = headless();
    let paste = !args.background && (args.paste || (headless && std::io::stdin().is_terminal()));
    let browser_env = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let try_browser = !args.no_browser && !args.paste && (browser_env.is_some() || !headless);

    progress.report("url", request.url.as_str());
    let opened = try_browser
        && match open_browser(&request.url, browser_env.as_deref()) {
            Ok(()) => true,
            Err(err) => {
                progress.say(&format!("Could not open a browser ({err})."));
                false
            }
        };
    show_url(progress, &request.url, opened, paste, &redirect_uri);
    let rules = CallbackRules::new(redirect, port, &request.state, login);
    let (code, reply) =
        wait_for_code(&listener, rules, progress, paste, login_timeout(args)).await?;
    Ok((request, code, reply))
}

/// Tells the person where to sign in and what happens next.
fn show_url(progress: &Progress, url: &Url, opened: bool, paste: bool, redirect_uri: &str) {
    if opened {
        progress.say(
            "Opened the Alibaba Cloud sign-in page in your browser. If it did not open, visit:",
        );
    } else if paste {
        progress.say("Open this URL in a browser on any machine and sign in:");
    } else {
        progress.say("Open this URL in your browser to sign in:");
    }
    // On its own line so it can be copied (or picked up by scripts) whole.
    progress.say(url.as_str());
    if paste {
        progress.say(
            "When the browser shows an error page at 127.0.0.1 (it cannot reach this machine), copy the whole URL \
             from its address bar and paste it here (or just the code):",
        );
    } else {
        progress.say(&format!(
            "Waiting for the browser to come back to {redirect_uri} ..."
        ));
    }
}

/// Trades the code for tokens, learns who signed in, and stores the login. On
/// failure, also the text for the browser's result page.
async fn exchange_and_store(
    http: &reqwest::Client,
    provider: &Provider,
    config: &Config,
    store: &TokenStore,
    request: &AuthorizationRequest,
    code: &Secret,
) -> Result<TokenRecord, (CliError, &'static str)> {
    let tokens = oauth::exchange_code(http, provider, request, code)
        .await
        .map_err(|err| {
            let err = CliError::user("the sign-in could not be completed")
                .with_source(err)
                .with_hint(format!("run `{}` again; if it keeps failing, check oauth.clientId and the redirect URI registered on the OAuth app", login_command(&config.profile)));
            (err, "mcpgw could not exchange the sign-in for tokens. See the terminal for details.")
        })?;
    let identity = match tokens
        .id_token
        .as_ref()
        .and_then(oauth::identity_from_id_token)
    {
        Some(identity) => Some(identity),
        None => match &provider.userinfo_endpoint {
            Some(endpoint) => oauth::userinfo(http, endpoint, &tokens.access_token).await,
            None => None,
        },
    };
    let now = now_unix();
    let record = TokenRecord {
        version: 1,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        // Any `expires_in` a server sends, even past i64, is a time (far) ahead.
        expires_at: tokens
            .expires_in
            .map(|secs| now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))),
        scope: tokens.scope.unwrap_or_else(|| provider.scope.clone()),
        site: config.site.as_str().to_owned(),
        client_id: provider.client_id.clone(),
        token_endpoint: provider.token_endpoint.to_string(),
        revocation_endpoint: provider.revocation_endpoint.as_ref().map(Url::to_string),
        resource: provider.resource.clone(),
        obtained_at: now,
        identity,
    };
    let (store, profile, saved) = (store.clone(), config.profile.clone(), record.clone());
    store::blocking(move || store.save(&profile, &saved))
        .await
        .map_err(|err| {
            (
                CliError::from(err),
                "You signed in, but mcpgw could not store the tokens. See the terminal for details.",
            )
        })?;
    Ok(record)
}

/// No local browser can be expected: an SSH session, or a Unix without a display.
fn headless() -> bool {
    let set = |key: &str| std::env::var_os(key).is_some_and(|v| !v.is_empty());
    let ssh = set("SSH_CONNECTION") || set("SSH_TTY");
    let no_display =
        cfg!(all(unix, not(target_os = "macos"))) && !set("DISPLAY") && !set("WAYLAND_DISPLAY");
    ssh || no_display
}

/// Why no browser was opened.
#[derive(Debug, thiserror::Error)]
enum BrowserError {
    #[error("{0}")]
    Refused(#[from] UrlProblem),
    #[error("$BROWSER `{program}` could not be started: {source}")]
    Program {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Opener(#[source] std::io::Error),
}

/// Opens `url` in a browser: `$BROWSER` run directly as a program with the URL as
/// its one argument (no shell ever sees the URL), else the platform's opener.
fn open_browser(url: &Url, browser: Option<&str>) -> Result<(), BrowserError> {
    // The URL was built by mcpgw from a checked endpoint; check again right here so
    // no later change can route a configured value to an opener unchecked.
    crate::config::check_url(url, false)?;
    match browser {
        Some(program) => std::process::Command::new(program.trim())
            .arg(url.as_str())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|source| BrowserError::Program {
                program: program.to_owned(),
                source,
            }),
        None => open::that_detached(url.as_str()).map_err(BrowserError::Opener),
    }
}

// ---- the redirect URI and the listener --------------------------------------

/// The configured loopback redirect URI, checked.
#[derive(Debug, Clone)]
pub struct RedirectTarget {
    url: Url,
    ip: IpAddr,
    port: u16,
}

impl RedirectTarget {
    pub fn parse(text: &str) -> Result<Self, CliError> {
        let hint = "use a loopback redirect URI such as http://127.0.0.1:12355/callback (--redirect-uri, MCPGW_REDIRECT_URI or oauth.redirectUri), registered exactly on the OAuth app";
        let url = Url::parse(text.trim()).map_err(|err| {
            CliError::user(format!("redirect URI `{text}` is not a valid URL: {err}"))
                .with_hint(hint)
        })?;
        if url.scheme() != "http" {
            return Err(CliError::user(format!(
                "redirect URI {url} must use http:// (a loopback listener has no certificate)"
            ))
            .with_hint(hint));
        }
        // Only ever a loopback address: the callback carries the authorization code.
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
            Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }
            _ => {
                return Err(CliError::user(format!(
                    "redirect URI {url} does not point at this machine's loopback address (127.0.0.1 or [::1]); \
                     mcpgw never listens on other addresses"
                ))
                .with_hint(hint));
            }
        };
        let port = url.port().ok_or_else(|| {
            CliError::user(format!("redirect URI {url} needs an explicit port")).with_hint(hint)
        })?;
        Ok(Self { url, ip, port })
    }

    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// The loopback address and port the sign-in callback is served on (port 0:
    /// any free port).
    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    async fn bind(&self) -> Result<TcpListener, CliError> {
        let addr = self.socket_addr();
        TcpListener::bind(addr).await.map_err(|err| {
            if err.kind() == std::io::ErrorKind::AddrInUse {
                CliError::user(format!("port {} on {} is already in use, so the sign-in cannot come back to {}", self.port, self.ip, self.url))
                    .with_hint(
                        "stop whatever is using it, or register another loopback redirect URI on the OAuth app and pass it \
                         with --redirect-uri (or MCPGW_REDIRECT_URI, or oauth.redirectUri in config.json)",
                    )
            } else {
                CliError::user(format!("cannot listen on {addr} for the sign-in callback: {err}"))
            }
        })
    }

    /// The redirect URI to send: as configured, with the real port when it was 0.
    fn uri_for(&self, port: u16) -> String {
        if self.port == 0 {
            let mut url = self.url.clone();
            let _ = url.set_port(Some(port));
            url.to_string()
        } else {
            self.url.to_string()
        }
    }
}

/// The browser's connection, kept open so the page can say how the login ended.
struct Reply {
    stream: TcpStream,
}

impl Reply {
    async fn send(&mut self, response: Vec<u8>) {
        let _ = self.stream.write_all(&response).await;
        let _ = self.stream.shutdown().await;
    }
}

#[derive(Debug)]
enum Callback {
    Code(Secret),
    Error(CliError),
    /// A response to some other authorization request (or none): not ours.
    WrongState,
}

/// What a request to the listener must be to count as this login's callback.
struct CallbackRules {
    path: String,
    state: Secret,
    login: String,
    /// The `Host` values a browser sends to the listener: the loopback names with
    /// the bound port. Anything else (a DNS-rebinding page's own host) is refused.
    hosts: Vec<String>,
}

impl CallbackRules {
    fn new(redirect: &RedirectTarget, port: u16, state: &Secret, login: &str) -> Arc<Self> {
        let mut hosts: Vec<String> = ["127.0.0.1", "[::1]", "localhost"]
            .iter()
            .map(|host| format!("{host}:{port}"))
            .collect();
        if port == 80 {
            hosts.extend(["127.0.0.1", "[::1]", "localhost"].map(str::to_owned));
        }
        Arc::new(Self {
            path: redirect.path().to_owned(),
            state: state.clone(),
            login: login.to_owned(),
            hosts,
        })
    }

    fn host_ok(&self, host: Option<&str>) -> bool {
        host.is_some_and(|host| self.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(host)))
    }
}

/// How one connection to the listener ended.
enum Outcome {
    /// Answered (404, 400, 405) or dropped: the wait goes on.
    Answered,
    /// A callback whose state is not this login's, answered with an error page:
    /// the wait goes on.
    Refused,
    /// This login's callback: a code, or the error the server sent instead.
    Callback(Callback, TcpStream),
}

/// Waits for the one valid callback (or a pasted URL/code) until `timeout`
/// (a timeout too large to represent waits for ever). Every connection is read
/// on its own task under its own head timeout, so a client that connects and
/// says nothing, or a stray request, never holds up the browser's callback.
async fn wait_for_code(
    listener: &TcpListener,
    rules: Arc<CallbackRules>,
    progress: &Progress,
    paste: bool,
    timeout: Duration,
) -> Result<(Secret, Option<Reply>), CliError> {
    let login = rules.login.as_str();
    let deadline = tokio::time::Instant::now().checked_add(timeout);
    let expired = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(expired);
    let mut connections = tokio::task::JoinSet::new();
    let mut pasted = paste.then(|| tokio::io::BufReader::new(tokio::io::stdin()).lines());
    loop {
        tokio::select! {
            accepted = listener.accept(), if connections.len() < MAX_CONNECTIONS => {
                let Ok((stream, _)) = accepted else { continue };
                connections.spawn(serve_connection(stream, rules.clone()));
            }
            Some(done) = connections.join_next(), if !connections.is_empty() => match done {
                Ok(Outcome::Callback(Callback::Code(code), stream)) => return Ok((code, Some(Reply { stream }))),
                Ok(Outcome::Callback(Callback::Error(err), mut stream)) => {
                    let _ = stream.write_all(&page(false, "Sign-in not completed", &err.message)).await;
                    return Err(err);
                }
                Ok(Outcome::Refused) => progress.say(
                    "Refused a sign-in response that does not belong to this login (its state does not match); \
                     still waiting for the browser...",
                ),
                Ok(Outcome::Answered | Outcome::Callback(Callback::WrongState, _)) | Err(_) => {}
            },
            line = async { pasted.as_mut().expect("guarded").next_line().await }, if pasted.is_some() => {
                match line {
                    Ok(Some(line)) if line.trim().is_empty() => {}
                    Ok(Some(line)) => match parse_pasted(line.trim(), &rules.state, login) {
                        Callback::Code(code) => return Ok((code, None)),
                        Callback::Error(err) => return Err(err),
                        Callback::WrongState => return Err(wrong_state(login)),
                    },
                    // stdin closed: only the listener is left.
                    _ => pasted = None,
                }
            }
            () = &mut expired => {
                return Err(CliError::user(format!("no sign-in came back within {} s", timeout.as_secs()))
                    .with_hint(format!("run `{login}` again (--timeout SECS gives more time; --paste when the browser runs on another machine)")));
            }
        }
    }
}

/// One connection to the listener: read its head (for at most
/// [`REQUEST_HEAD_TIMEOUT`]), check its `Host`, and answer anything that is not
/// this login's callback.
async fn serve_connection(stream: TcpStream, rules: Arc<CallbackRules>) -> Outcome {
    let Ok(Some((mut stream, head))) =
        tokio::time::timeout(REQUEST_HEAD_TIMEOUT, read_head(stream)).await
    else {
        return Outcome::Answered;
    };
    if !rules.host_ok(head.host.as_deref()) {
        tracing::debug!("sign-in listener: refused a request for another host");
        let _ = stream
            .write_all(&plain_response(
                "400 Bad Request",
                "Bad Request: unexpected Host",
            ))
            .await;
        return Outcome::Answered;
    }
    match route(&head.target, &rules.path, &rules.state, &rules.login) {
        Route::NotFound => {
            let _ = stream.write_all(&not_found()).await;
            Outcome::Answered
        }
        Route::Done(Callback::WrongState) => {
            let message = "This sign-in response does not belong to this login (its state does not match), so it was \
                 refused. Finish the sign-in in the browser window that mcpgw opened.";
            let _ = stream
                .write_all(&page(false, "Sign-in not completed", message))
                .await;
            Outcome::Refused
        }
        Route::Done(callback) => Outcome::Callback(callback, stream),
    }
}

/// One connection to the callback listener, served as a login serves it (head,
/// `Host`, route, state): `None` when the login would go on waiting, else the
/// code or the error the callback carried. For the fuzz targets (`src/fuzz_entry.rs`).
#[doc(hidden)]
pub async fn serve_callback_connection(
    stream: TcpStream,
    redirect: &RedirectTarget,
    state: &Secret,
) -> Option<Result<Secret, CliError>> {
    let rules = CallbackRules::new(
        redirect,
        redirect.socket_addr().port(),
        state,
        "mcpgw login",
    );
    match serve_connection(stream, rules).await {
        Outcome::Answered | Outcome::Refused | Outcome::Callback(Callback::WrongState, _) => None,
        Outcome::Callback(Callback::Code(code), _) => Some(Ok(code)),
        Outcome::Callback(Callback::Error(err), _) => Some(Err(err)),
    }
}

/// What the listener needs of a request head.
struct Head {
    target: String,
    /// The one `Host` header; `None` when there is none or more than one.
    host: Option<String>,
}

/// Reads an HTTP/1.1 request head: the request target of a GET (or HEAD) and its `Host`.
async fn read_head(mut stream: TcpStream) -> Option<(TcpStream, Head)> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    if method != "GET" && method != "HEAD" {
        let _ = stream
            .write_all(&plain_response(
                "405 Method Not Allowed",
                "Method Not Allowed",
            ))
            .await;
        return None;
    }
    let mut hosts = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
        .map(|(_, value)| value.trim().to_owned());
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => Some(host),
        _ => None,
    };
    let target = target.to_owned();
    Some((stream, Head { target, host }))
}

enum Route {
    NotFound,
    Done(Callback),
}

/// Decides what a request to the listener means. Only the redirect path counts;
/// there, the state says whether it is this login's callback.
fn route(target: &str, path: &str, state: &Secret, login: &str) -> Route {
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(target)) else {
        return Route::NotFound;
    };
    if url.path() != path {
        return Route::NotFound;
    }
    Route::Done(check_query(
        url.query_pairs().into_owned().collect(),
        state,
        login,
    ))
}

/// The callback's query: its state must be this login's; then a code, or the
/// error the authorization server sent instead (its text made terminal-safe).
fn check_query(pairs: Vec<(String, String)>, state: &Secret, login: &str) -> Callback {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    match get("state") {
        Some(got) if constant_time_eq(got.as_bytes(), state.expose().as_bytes()) => {}
        _ => return Callback::WrongState,
    }
    if let Some(error) = get("error") {
        let description = get("error_description")
            .map(|d| format!(": {}", terminal_safe(d)))
            .unwrap_or_default();
        let message = match error {
            "access_denied" => {
                format!("the sign-in was declined in the browser (access_denied{description})")
            }
            other => format!(
                "Alibaba Cloud reported an error instead of signing in ({}{description})",
                terminal_safe(other)
            ),
        };
        return Callback::Error(
            CliError::user(message).with_hint(format!("run `{login}` again to retry")),
        );
    }
    match get("code").filter(|c| !c.is_empty()) {
        Some(code) => Callback::Code(Secret::new(code)),
        None => Callback::Error(
            CliError::user("the sign-in came back without an authorization code")
                .with_hint(format!("run `{login}` again to retry")),
        ),
    }
}

/// A pasted callback whose state is not this login's.
fn wrong_state(login: &str) -> CliError {
    CliError::user("the sign-in response does not belong to this login (its state does not match), so it was refused")
        .with_hint(format!("run `{login}` again and finish the sign-in in the browser window it opens"))
}

/// A pasted redirect URL, its query string, or the bare code.
fn parse_pasted(text: &str, state: &Secret, login: &str) -> Callback {
    let text = text.trim().trim_matches(|c| c == '"' || c == '\'');
    if let Ok(url) = Url::parse(text)
        && url.query().is_some()
    {
        return check_query(url.query_pairs().into_owned().collect(), state, login);
    }
    let query = text.trim_start_matches('?');
    if query.contains("code=") || query.contains("error=") {
        return check_query(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            state,
            login,
        );
    }
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
    {
        // A bare code has no state to check: the user vouches for it by pasting.
        return Callback::Code(Secret::new(text));
    }
    Callback::Error(
        CliError::user("that is neither the redirected URL nor a code")
            .with_hint("paste the whole address from the browser's address bar"),
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ---- pages --------------------------------------------------------------------------

fn page(ok: bool, title: &str, message: &str) -> Vec<u8> {
    let (status, mark, color) = if ok {
        ("200 OK", "&#10003;", "#1a7f37")
    } else {
        ("400 Bad Request", "&#10007;", "#cf222e")
    };
    let body = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · mcpgw</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f8fa;color:#1f2328;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}}
main{{background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem 2.5rem;max-width:32rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}}
.mark{{font-size:2.5rem;color:{color};line-height:1}}
h1{{font-size:1.35rem;margin:.6rem 0}}
p{{line-height:1.5;margin:.4rem 0}}
.small{{color:#656d76;font-size:.9rem;margin-top:1.2rem}}
</style></head>
<body><main><div class="mark">{mark}</div><h1>{title}</h1><p>{message}</p>
<p class="small">You can close this tab.</p></main></body></html>
"#,
        title = escape_html(title),
        message = escape_html(message),
    );
    http_response(status, "text/html; charset=utf-8", &body)
}

fn not_found() -> Vec<u8> {
    plain_response("404 Not Found", "Not Found")
}

fn plain_response(status: &str, text: &str) -> Vec<u8> {
    http_response(status, "text/plain; charset=utf-8", text)
}

fn http_response(status: &str, content_type: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

// ---- after success -----------------------------------------------------------------

/// ` as alice (account 123)` for the result page; empty when nobody is known.
fn describe_identity(record: &TokenRecord) -> String {
    record
        .identity
        .as_ref()
        .and_then(Identity::describe)
        .map(|who| format!(" as {who}"))
        .unwrap_or_default()
}

/// Who is logged in and the line to give Claude Code.
fn print_success(global: &GlobalArgs, config: &Config, record: &TokenRecord) {
    use std::fmt::Write;
    let who = record
        .identity
        .as_ref()
        .and_then(Identity::describe)
        .unwrap_or_else(|| format!("OAuth client {}", record.client_id));
    let expiry = match record.expires_at {
        Some(at) => format!("access token valid until {}", crate::output::local_time(at)),
        None => "access token expiry not reported".to_owned(),
    };
    let profile = profile_flag(&global.profile);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Logged in to Alibaba Cloud ({}) as {who}, profile `{}`.",
        record.site, config.profile
    );
    let _ = writeln!(out, "{expiry}; mcpgw refreshes it automatically.\n");
    if config.services.is_empty() {
        let _ = writeln!(
            out,
            "Add an MCP server from the Alibaba Cloud console, then register it with Claude Code:"
        );
        let _ = writeln!(
            out,
            "  mcpgw services add ecs <Streamable HTTP URL of the server>"
        );
        let _ = writeln!(
            out,
            "  claude mcp add --scope user aliyun-ecs -- mcpgw{profile} ecs"
        );
    } else {
        let _ = writeln!(out, "Use it from Claude Code:");
        for name in config.services.keys() {
            let _ = writeln!(
                out,
                "  claude mcp add --scope user aliyun-{name} -- mcpgw{profile} {name}"
            );
        }
    }
    let _ = crate::output::print(&out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    const LOGIN: &str = "mcpgw login --profile work";

    fn state() -> Secret {
        Secret::new("s3cr3t-state")
    }

    #[test]
    fn redirect_uri_must_be_loopback_http_with_port() {
        let ok = RedirectTarget::parse("http://127.0.0.1:12355/callback").unwrap();
        assert_eq!(ok.ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(ok.path(), "/callback");
        assert_eq!(ok.socket_addr(), "127.0.0.1:12355".parse().unwrap());
        let v6 = RedirectTarget::parse("http://[::1]:3000/oauth/callback").unwrap();
        assert_eq!(v6.ip, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(v6.socket_addr(), "[::1]:3000".parse().unwrap());
        assert_eq!(
            RedirectTarget::parse("http://localhost:1/cb").unwrap().ip,
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        );
        for bad in [
            "http://0.0.0.0:12355/callback",
            "http://192.168.1.5:12355/callback",
            "http://[::]:12355/callback",
            "http://example.com:12355/callback",
            "https://127.0.0.1:12355/callback",
            "http://127.0.0.1/callback",
        ] {
            assert!(RedirectTarget::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn routing_accepts_only_the_right_state_on_the_right_path() {
        assert!(matches!(
            route("/favicon.ico", "/callback", &state(), LOGIN),
            Route::NotFound
        ));
        assert!(matches!(
            route(
                "/callbackx?code=1&state=s3cr3t-state",
                "/callback",
                &state(),
                LOGIN
            ),
            Route::NotFound
        ));
        match route(
            "/callback?code=abc&state=s3cr3t-state",
            "/callback",
            &state(),
            LOGIN,
        ) {
            Route::Done(Callback::Code(code)) => assert_eq!(code.expose(), "abc"),
            _ => panic!("valid callback refused"),
        }
        match route(
            "/callback?code=abc&state=other",
            "/callback",
            &state(),
            LOGIN,
        ) {
            Route::Done(Callback::WrongState) => {}
            _ => panic!("wrong state accepted"),
        }
        match route("/callback?code=abc", "/callback", &state(), LOGIN) {
            Route::Done(Callback::WrongState) => {}
            _ => panic!("missing state accepted"),
        }
        // An error needs the right state too, or it could end anyone's login.
        match route(
            "/callback?error=access_denied&state=x",
            "/callback",
            &state(),
            LOGIN,
        ) {
            Route::Done(Callback::WrongState) => {}
            _ => panic!("foreign error callback counted"),
        }
        match route(
            "/callback?error=access_denied&state=s3cr3t-state",
            "/callback",
            &state(),
            LOGIN,
        ) {
            Route::Done(Callback::Error(err)) => {
                assert!(err.message.contains("declined"), "{}", err.message);
                assert_eq!(
                    err.hint.as_deref(),
                    Some("run `mcpgw login --profile work` again to retry")
                );
            }
            _ => panic!("error callback not reported"),
        }
        match route("/callback?state=s3cr3t-state", "/callback", &state(), LOGIN) {
            Route::Done(Callback::Error(err)) => {
                assert!(err.message.contains("without an authorization code"))
            }
            _ => panic!("missing code accepted"),
        }
    }

    #[test]
    fn pasted_input_forms() {
        let url = "http://127.0.0.1:12355/callback?code=c1&state=s3cr3t-state";
        assert!(
            matches!(parse_pasted(url, &state(), LOGIN), Callback::Code(c) if c.expose() == "c1")
        );
        assert!(
            matches!(parse_pasted("code=c2&state=s3cr3t-state", &state(), LOGIN), Callback::Code(c) if c.expose() == "c2")
        );
        assert!(
            matches!(parse_pasted("c3-AbC_9", &state(), LOGIN), Callback::Code(c) if c.expose() == "c3-AbC_9")
        );
        assert!(matches!(
            parse_pasted(
                "http://127.0.0.1:12355/callback?code=c1&state=bad",
                &state(),
                LOGIN
            ),
            Callback::WrongState
        ));
        assert!(matches!(
            parse_pasted("not a code!", &state(), LOGIN),
            Callback::Error(_)
        ));
    }

    #[test]
    fn callback_error_text_is_terminal_safe() {
        let target = "/callback?error=server%1b%5b2J&error_description=oops%1b%5b31m%e2%80%ae%c2%9b&state=s3cr3t-state";
        let Route::Done(Callback::Error(err)) = route(target, "/callback", &state(), LOGIN) else {
            panic!("error callback not reported");
        };
        assert!(
            !err.message.chars().any(char::is_control),
            "{:?}",
            err.message
        );
        assert!(!err.message.contains('\u{202e}'), "{:?}", err.message);
        assert!(err.message.contains("oops\u{FFFD}[31m"), "{}", err.message);
        let html = String::from_utf8(page(false, "Sign-in not completed", &err.message)).unwrap();
        let body = html.split("\r\n\r\n").nth(1).unwrap();
        assert!(!body.contains('\x1b') && !body.contains('\u{202e}'));
    }

    #[test]
    fn only_loopback_hosts_with_the_port_are_served() {
        let redirect = RedirectTarget::parse("http://127.0.0.1:0/callback").unwrap();
        let rules = CallbackRules::new(&redirect, 4567, &state(), LOGIN);
        for ok in [
            "127.0.0.1:4567",
            "[::1]:4567",
            "localhost:4567",
            "LocalHost:4567",
        ] {
            assert!(rules.host_ok(Some(ok)), "{ok}");
        }
        for bad in [
            None,
            Some("evil.example:4567"),
            Some("127.0.0.1:4568"),
            Some("127.0.0.1"),
            Some(""),
        ] {
            assert!(!rules.host_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn result_page_is_escaped_html() {
        let response = String::from_utf8(page(false, "Oops", "<script>x</script>")).unwrap();
        assert!(response.starts_with("HTTP/1.1 400"));
        assert!(response.contains("&lt;script&gt;") && !response.contains("<script>"));
        assert!(response.contains("You can close this tab."));
    }

    #[test]
    fn browser_url_is_checked_before_anything_runs() {
        let bad = Url::parse("http://evil.example/auth").unwrap();
        // `false` would succeed if it were run; the check must refuse first.
        assert!(
            open_browser(&bad, Some("false"))
                .unwrap_err()
                .to_string()
                .contains("127.0.0.1")
        );
        let file = Url::parse("file:///etc/passwd").unwrap();
        assert!(open_browser(&file, Some("false")).is_err());
    }

    #[test]
    fn port_zero_uses_the_bound_port() {
        let target = RedirectTarget::parse("http://127.0.0.1:0/callback").unwrap();
        assert_eq!(target.uri_for(4567), "http://127.0.0.1:4567/callback");
        let fixed = RedirectTarget::parse("http://127.0.0.1:12355/callback").unwrap();
        assert_eq!(fixed.uri_for(12355), "http://127.0.0.1:12355/callback");
    }
}
