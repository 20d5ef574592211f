//! `mcpgw doctor`: every check a working setup needs, each with ✓/✗ and the fix.
//! Exit 0 only when all pass. `--json` for scripts.
//!
//! Checks, in order: the config file parses; an OAuth client id is set; the login
//! redirect port is free; the token store is reachable; a login is stored, its access
//! token is valid and it can be refreshed (an access token close to expiry is
//! refreshed now, through the relay's own single-flight path, so a working refresh
//! is proven and the rotated token saved); the clock agrees with the token
//! endpoint's `Date`; proxy variables; and each configured service answers
//! `initialize` with the current token.
//!
//! Doctor never opens a browser: it runs the token source with auto-login off.

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Value, json};
use url::Url;

use bytes::Bytes;
use reqwest::header::HeaderMap;

use crate::auth::login::RedirectTarget;
use crate::auth::oauth::Provider;
use crate::auth::store::{self, Identity, StoreError, TokenRecord, TokenStore, now_unix};
use crate::auth::{Auth, SourceKind};
use crate::cli::{DoctorArgs, GlobalArgs, RelayArgs};
use crate::config::{self, Config, TokenStoreKind};
use crate::error::{CliError, CliResult};
use crate::output::{self, Out};
use crate::relay::errors::{Failure, code};
use crate::relay::message;
use crate::relay::upstream::Upstream;
use crate::secret::Secret;

/// Each network check gives up after this long.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(15);
/// More skew than this makes token expiry times wrong enough to matter.
const MAX_CLOCK_SKEW_SECS: i64 = 60;
/// A protocol revision every Streamable HTTP server knows; servers answer with theirs.
const INITIALIZE_PROTOCOL_VERSION: &str = "2025-06-18";
const PROXY_VARS: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Not applicable, or impossible to run after an earlier failure.
    Skip,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Check {
    fn new(id: &str, title: &str, status: Status, detail: impl Into<String>) -> Self {
        Check {
            id: id.into(),
            title: title.into(),
            status,
            detail: detail.into(),
            fix: None,
            notes: Vec::new(),
        }
    }
    fn pass(id: &str, title: &str, detail: impl Into<String>) -> Self {
        Self::new(id, title, Status::Pass, detail)
    }
    fn fail(id: &str, title: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            fix: Some(fix.into()),
            ..Self::new(id, title, Status::Fail, detail)
        }
    }
    fn skip(id: &str, title: &str, detail: impl Into<String>) -> Self {
        Self::new(id, title, Status::Skip, detail)
    }
    fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

pub async fn run(global: &GlobalArgs, args: &DoctorArgs) -> CliResult {
    let checks = diagnose(global).await;
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    let mut out = Out::default();
    if args.json {
        let doc = json!({"ok": failed == 0, "profile": global.profile, "checks": checks});
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        print_human(&mut out, &checks)?;
    }
    out.print()?;
    if failed > 0 {
        return Err(
            CliError::user(format!("{failed} of {} checks failed", checks.len()))
                .with_hint("each ✗ above has a `fix:` line"),
        );
    }
    Ok(())
}

fn print_human(out: &mut impl Write, checks: &[Check]) -> std::io::Result<()> {
    let width = checks
        .iter()
        .map(|c| c.title.chars().count())
        .max()
        .unwrap_or(0);
    for check in checks {
        let mark = match check.status {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "-",
        };
        writeln!(out, "{mark} {:<width$}  {}", check.title, check.detail)?;
        for note in &check.notes {
            writeln!(out, "    note: {note}")?;
        }
        if let Some(fix) = &check.fix {
            writeln!(out, "    fix: {fix}")?;
        }
    }
    Ok(())
}

pub async fn diagnose(global: &GlobalArgs) -> Vec<Check> {
    let mut checks = Vec::new();
    let config = match config::load(global) {
        Ok(config) => {
            checks.push(config_check(&config));
            config
        }
        Err(err) => {
            let fix = err
                .hint
                .clone()
                .unwrap_or_else(|| "fix the file, or move it away to start over".into());
            checks.push(Check::fail("config", "config file", err.message, fix));
            checks.push(Check::skip(
                "rest",
                "other checks",
                "skipped until the config file loads",
            ));
            return checks;
        }
    };
    let http = match crate::http::client(global.ca_cert.as_deref()) {
        Ok(http) => http,
        Err(err) => {
            checks.push(Check::fail(
                "http",
                "HTTP client",
                format!("{err:#}"),
                "check --ca-cert FILE",
            ));
            return checks;
        }
    };

    checks.push(client_id_check(&config));
    checks.push(redirect_port_check(&config.oauth.redirect_uri));
    let from_store = token_source_is_store(&config, &http.client);
    let token = token_checks(&config, &http.client, &mut checks).await;
    checks.push(clock_check(&http.client, &config.oauth.token_endpoint).await);
    checks.push(proxy_check(&|key| std::env::var(key).ok()));
    service_checks(&config, &http, token.as_ref(), from_store, &mut checks).await;
    checks
}

// ---- configuration -------------------------------------------------------------

fn config_check(config: &Config) -> Check {
    let services = match config.services.len() {
        1 => "1 service".to_owned(),
        n => format!("{n} services"),
    };
    let mut check = if config.file_found {
        Check::pass(
            "config",
            "config file",
            format!(
                "{} ({services}, profile {})",
                config.path.display(),
                config.profile
            ),
        )
    } else {
        Check::pass(
            "config",
            "config file",
            format!(
                "{} not found; using defaults ({services})",
                config.path.display()
            ),
        )
    };
    check.notes.extend(config.warnings.iter().cloned());
    check
}

fn client_id_check(config: &Config) -> Check {
    match Provider::from_config(&config.oauth, &config.path) {
        Ok(provider) => Check::pass(
            "client_id",
            "OAuth client",
            format!(
                "client id {} ({} site, token endpoint {})",
                provider.client_id,
                config.site.as_str(),
                provider.token_endpoint
            ),
        ),
        Err(err) => Check::fail(
            "client_id",
            "OAuth client",
            err.message,
            err.hint.unwrap_or_else(|| {
                "set oauth.clientId in the config file or MCPGW_CLIENT_ID".into()
            }),
        ),
    }
}

/// Checks the redirect URI by the rule `mcpgw login` uses and binds its port.
pub fn redirect_port_check(redirect_uri: &str) -> Check {
    const ID: &str = "redirect_port";
    const TITLE: &str = "login redirect port";
    let change = "register another http://127.0.0.1:PORT/callback on the OAuth app and set oauth.redirectUri \
                  (or MCPGW_REDIRECT_URI) to it";
    let target = match RedirectTarget::parse(redirect_uri) {
        Ok(target) => target,
        Err(err) => return Check::fail(ID, TITLE, err.message, change),
    };
    let address = target.socket_addr();
    match TcpListener::bind(address) {
        Ok(_) => Check::pass(ID, TITLE, format!("{address} is free ({redirect_uri})")),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => Check::fail(
            ID,
            TITLE,
            format!("{address} is in use by another program"),
            format!("stop that program (a `mcpgw login` still waiting?), or {change}"),
        ),
        Err(err) => Check::fail(
            ID,
            TITLE,
            format!("cannot listen on {address}: {err}"),
            change,
        ),
    }
}

// ---- tokens --------------------------------------------------------------------

/// The relay settings doctor checks with: the environment's token, no browser.
fn doctor_relay_args() -> RelayArgs {
    RelayArgs {
        bearer_token: std::env::var("MCPGW_BEARER_TOKEN").ok(),
        token_command: std::env::var("MCPGW_TOKEN_COMMAND").ok(),
        no_auto_login: true,
        timeout: NETWORK_TIMEOUT.as_secs(),
        ..Default::default()
    }
}

fn token_source_is_store(config: &Config, http: &reqwest::Client) -> bool {
    Auth::new(&doctor_relay_args(), config, http.clone()).source_kind() == SourceKind::Store
}

/// The token-store and login checks. Returns the token to try the services with.
async fn token_checks(
    config: &Config,
    http: &reqwest::Client,
    checks: &mut Vec<Check>,
) -> Option<Secret> {
    let login_hint = output::login_command(&config.profile);
    let auth = Auth::new(&doctor_relay_args(), config, http.clone());
    let source = auth.source_kind();

    let using_store = source == SourceKind::Store;
    let record = match store_check(config, using_store, &login_hint, checks).await {
        Some(record) => record,
        None => return None,
    };

    match source {
        SourceKind::Token | SourceKind::Command(_) => {
            let (id, what) = match &source {
                SourceKind::Token => (
                    "MCPGW_BEARER_TOKEN",
                    "the token in MCPGW_BEARER_TOKEN".to_owned(),
                ),
                SourceKind::Command(command) => (
                    "MCPGW_TOKEN_COMMAND",
                    format!("the token command `{command}`"),
                ),
                SourceKind::Store => unreachable!(),
            };
            let not_used = format!("not used: relays started with {id} set take {what}");
            match auth.bearer().await {
                Ok(token) => {
                    checks.push(Check::pass("login", "token", format!("from {what}")));
                    checks.push(Check::skip("token_valid", "access token", not_used.clone()));
                    checks.push(Check::skip("token_refresh", "refresh", not_used));
                    Some(token)
                }
                Err(err) => {
                    checks.push(Check::fail(
                        "login",
                        "token",
                        err.to_string(),
                        format!("fix {id}, or unset it to use the stored login"),
                    ));
                    None
                }
            }
        }
        SourceKind::Store => {
            let Some(record) = record else {
                checks.push(Check::fail(
                    "login",
                    "login",
                    format!("not logged in (profile {})", config.profile),
                    login_hint.clone(),
                ));
                checks.push(Check::skip("token_valid", "access token", "no login"));
                checks.push(Check::skip("token_refresh", "refresh", "no login"));
                return None;
            };
            checks.push(login_check(config, &record, &login_hint));
            stored_token_checks(&auth, &record, &login_hint, checks).await
        }
    }
}

/// Whether the token store opens and holds this profile's login. `None` when the
/// other token checks cannot run; `Some(record)` otherwise.
async fn store_check(
    config: &Config,
    using_store: bool,
    login_hint: &str,
    checks: &mut Vec<Check>,
) -> Option<Option<TokenRecord>> {
    let kind = config.token_store;
    let profile = config.profile.clone();
    let loaded = store::blocking(move || {
        TokenStore::open(kind).and_then(|store| store.load(&profile).map(|record| (store, record)))
    })
    .await;
    match loaded {
        Ok((store, record)) => {
            let mut check = Check::pass("token_store", "token store", store.describe());
            if store.kind() == TokenStoreKind::File {
                check = check.note("the file store was chosen (tokenStore / MCPGW_TOKEN_STORE); it is readable only by you");
            }
            checks.push(check);
            Some(record)
        }
        Err(err) if !using_store => {
            checks.push(Check::skip(
                "token_store",
                "token store",
                format!("not used by this environment: {err}"),
            ));
            Some(None)
        }
        Err(StoreError::Corrupt(_)) => {
            checks.push(Check::pass("token_store", "token store", "reachable"));
            checks.push(Check::fail(
                "login",
                "login",
                "the stored login is unreadable",
                login_hint,
            ));
            None
        }
        Err(err) => {
            let fix = match kind {
                TokenStoreKind::Keychain => {
                    "unlock or start your keychain (GNOME Keyring / KWallet on Linux), or opt in to \
                                             the file store: MCPGW_TOKEN_STORE=file or \"tokenStore\": \"file\" in config.json"
                }
                TokenStoreKind::File => {
                    "check the permissions of the data directory (~/.local/share/mcpgw on Linux)"
                }
            };
            checks.push(Check::fail(
                "token_store",
                "token store",
                err.to_string(),
                fix,
            ));
            Some(None)
        }
    }
}

fn login_check(config: &Config, record: &TokenRecord, login_hint: &str) -> Check {
    let who = record
        .identity
        .as_ref()
        .and_then(Identity::describe)
        .map(|name| format!("logged in as {name}"))
        .unwrap_or_else(|| "logged in".to_owned());
    let mut check = Check::pass(
        "login",
        "login",
        format!(
            "{who} (client id {}, {} ago)",
            record.client_id,
            output::duration(now_unix() - record.obtained_at)
        ),
    );
    if let Some(configured) = &config.oauth.client_id
        && configured != &record.client_id
    {
        check = Check::fail(
            "login",
            "login",
            format!(
                "{who} with client id {}, but the config now says {configured}",
                record.client_id
            ),
            format!("{login_hint} (to log in with the configured client)"),
        );
    }
    if !record.site.is_empty() && record.site != config.site.as_str() {
        check = check.note(format!(
            "the login is for the {} site; the config selects {}",
            record.site,
            config.site.as_str()
        ));
    }
    check
}

async fn stored_token_checks(
    auth: &Auth,
    record: &TokenRecord,
    login_hint: &str,
    checks: &mut Vec<Check>,
) -> Option<Secret> {
    let now = now_unix();
    let remaining = record.remaining(now);
    let valid = match remaining {
        None => Check::pass("token_valid", "access token", "valid (no expiry recorded)"),
        Some(left) if left > 0 => Check::pass(
            "token_valid",
            "access token",
            format!("valid for {}", output::duration(left)),
        ),
        Some(left) if record.can_refresh() => Check::pass(
            "token_valid",
            "access token",
            format!(
                "expired {} ago; refreshed on use (next check)",
                output::duration(-left)
            ),
        ),
        Some(left) => Check::fail(
            "token_valid",
            "access token",
            format!(
                "expired {} ago and there is no refresh token",
                output::duration(-left)
            ),
            login_hint,
        ),
    };
    checks.push(valid);

    if !record.can_refresh() {
        checks.push(Check::fail(
            "token_refresh",
            "refresh",
            "no refresh token was issued: the login ends when the access token expires",
            format!("{login_hint}; if this repeats, check the OAuth app's refresh token validity in the RAM console"),
        ));
        return record
            .is_unexpired(now)
            .then(|| record.access_token.clone());
    }
    if record.is_fresh(now, crate::auth::refresh_margin()) {
        checks.push(Check::pass(
            "token_refresh",
            "refresh",
            "refresh token present (not used now: the access token is fresh)",
        ));
        return Some(record.access_token.clone());
    }
    // Due for a refresh: do it now, through the relay's own path.
    match auth.bearer().await {
        Ok(token) if token != record.access_token => {
            checks.push(Check::pass(
                "token_refresh",
                "refresh",
                "refreshed just now; the new tokens are stored",
            ));
            Some(token)
        }
        Ok(token) => {
            checks.push(Check::fail(
                "token_refresh",
                "refresh",
                "the refresh failed for now (see the warning above); the current token is still valid",
                "check the network to the token endpoint; run `mcpgw doctor` again later",
            ));
            Some(token)
        }
        Err(err) => {
            checks.push(Check::fail(
                "token_refresh",
                "refresh",
                err.to_string(),
                login_hint,
            ));
            None
        }
    }
}

// ---- network ---------------------------------------------------------------------

async fn clock_check(http: &reqwest::Client, token_endpoint: &str) -> Check {
    const ID: &str = "clock";
    const TITLE: &str = "clock";
    let network_fix =
        "check the network, HTTPS_PROXY/NO_PROXY, and --ca-cert for a TLS-inspecting proxy";
    let before = SystemTime::now();
    let response =
        match tokio::time::timeout(NETWORK_TIMEOUT, http.get(token_endpoint).send()).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => {
                return Check::fail(
                    ID,
                    TITLE,
                    format!(
                        "cannot reach the token endpoint {token_endpoint}: {}",
                        crate::error::full_message(&err)
                    ),
                    network_fix,
                );
            }
            Err(_) => {
                return Check::fail(
                    ID,
                    TITLE,
                    format!(
                        "the token endpoint {token_endpoint} did not answer within {} s",
                        NETWORK_TIMEOUT.as_secs()
                    ),
                    network_fix,
                );
            }
        };
    let after = SystemTime::now();
    let Some(date) = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
    else {
        return Check::skip(
            ID,
            TITLE,
            format!("{token_endpoint} sent no Date header to compare with"),
        );
    };
    let Ok(server) = httpdate::parse_http_date(date) else {
        return Check::skip(
            ID,
            TITLE,
            format!("{token_endpoint} sent an unreadable Date header `{date}`"),
        );
    };
    let skew = skew_secs(server, before, after);
    let host = Url::parse(token_endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    if skew.abs() <= MAX_CLOCK_SKEW_SECS {
        Check::pass(ID, TITLE, format!("within {} s of {host}", skew.abs()))
    } else {
        let direction = if skew > 0 { "behind" } else { "ahead of" };
        Check::fail(
            ID,
            TITLE,
            format!(
                "this machine's clock is {} {direction} {host}",
                output::duration(skew.abs())
            ),
            "turn on time sync (Linux: `timedatectl set-ntp true`; macOS/Windows: set the time automatically)",
        )
    }
}

/// Server time minus local time, against the middle of the request (the Date header
/// has one-second resolution, so sub-second precision does not matter).
fn skew_secs(server: SystemTime, before: SystemTime, after: SystemTime) -> i64 {
    let unix = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let local = (unix(before) + unix(after)) / 2.0;
    (unix(server) - local).round() as i64
}

/// Which proxy variables reqwest will use; credentials in them are masked.
pub fn proxy_check(env: &dyn Fn(&str) -> Option<String>) -> Check {
    let set: Vec<(&str, String)> = PROXY_VARS
        .iter()
        .filter_map(|key| env(key).filter(|v| !v.trim().is_empty()).map(|v| (*key, v)))
        .collect();
    if set.is_empty() {
        return Check::pass(
            "proxy",
            "proxy",
            "no proxy variables set: direct connections",
        );
    }
    let mut bad = Vec::new();
    let shown: Vec<String> = set
        .iter()
        .map(|(key, value)| {
            if key.eq_ignore_ascii_case("NO_PROXY") {
                return format!("{key}={value}");
            }
            // reqwest takes `host:port` without a scheme as http://.
            let with_scheme = if value.contains("://") {
                value.clone()
            } else {
                format!("http://{value}")
            };
            match Url::parse(&with_scheme) {
                Ok(mut url) if url.host_str().is_some() => {
                    if url.password().is_some() {
                        let _ = url.set_password(Some("****"));
                    }
                    format!("{key}={url}")
                }
                _ => {
                    bad.push(*key);
                    format!("{key}=(not a URL)")
                }
            }
        })
        .collect();
    let detail = format!("in effect: {}", shown.join(", "));
    if bad.is_empty() {
        Check::pass("proxy", "proxy", detail)
    } else {
        Check::fail(
            "proxy",
            "proxy",
            detail,
            format!(
                "set {} to a proxy URL such as http://proxy.example:3128",
                bad.join(", ")
            ),
        )
    }
}

async fn service_checks(
    config: &Config,
    http: &crate::http::Http,
    token: Option<&Secret>,
    from_store: bool,
    checks: &mut Vec<Check>,
) {
    if config.services.is_empty() {
        checks.push(Check::fail(
            "services",
            "services",
            "no services are configured",
            "mcpgw services add NAME <URL from the Alibaba Cloud MCP console>",
        ));
        return;
    }
    let probes = config.services.keys().map(|name| async move {
        let id = format!("service:{name}");
        let title = format!("service {name}");
        match config.resolve_service(name, false) {
            // The relay would refuse to start for it; say so instead of sending the login.
            Ok(resolved) if from_store && !config.login_may_go_to(&resolved.url) => {
                let err = config.untrusted_host(&resolved.url);
                Check::fail(&id, &title, err.message, err.hint.unwrap_or_default())
            }
            Ok(resolved) => probe_service(http, &resolved.url, token, &id, &title).await,
            Err(err) => Check::fail(
                &id,
                &title,
                err.message,
                err.hint.unwrap_or_else(|| "fix its URL".into()),
            ),
        }
    });
    checks.extend(futures_util::future::join_all(probes).await);
}

/// Sends an `initialize` through the relay's own upstream client and reads the
/// answer; the session it opens is ended again.
pub async fn probe_service(
    http: &crate::http::Http,
    url: &Url,
    token: Option<&Secret>,
    id: &str,
    title: &str,
) -> Check {
    // Nobody reads what the server sends besides the answer.
    let (sink, _) = tokio::sync::mpsc::channel(1);
    let upstream = Upstream::new(
        url.clone(),
        http,
        Auth::fixed(token.cloned()),
        HeaderMap::new(),
        MAX_PROBE_ANSWER,
        sink,
    );
    let probe = message::parse(Bytes::from(initialize_probe().to_string()), false)
        .expect("the probe is a JSON-RPC request");
    let outcome = tokio::time::timeout(NETWORK_TIMEOUT, upstream.exchange(&probe))
        .await
        .unwrap_or_else(|_| {
            Err(Failure::new(
                code::TIMEOUT,
                format!(
                    "no answer to initialize within {} s",
                    NETWORK_TIMEOUT.as_secs()
                ),
            )
            .with_fix("check the network and proxy settings; try again later"))
        });
    upstream.end_session().await;
    let line = match outcome {
        Ok(outcome) => outcome.into_line(),
        Err(failure) if failure.code == code::AUTH && token.is_none() => {
            return Check::fail(
                id,
                title,
                format!("{url} needs a login: {}", failure.problem),
                LOGIN_FIX,
            );
        }
        Err(failure) => {
            let fix = failure.fix.clone().unwrap_or_else(|| {
                "check that this is the server's Streamable HTTP URL (…/mcp)".into()
            });
            return Check::fail(id, title, format!("{url}: {}", failure.problem), fix);
        }
    };
    let message: Value = serde_json::from_slice(&line).unwrap_or(Value::Null);
    if let Some(error) = message.get("error") {
        let text = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Check::fail(
            id,
            title,
            format!(
                "{url} answered initialize with an error: {}",
                output::terminal_safe(text)
            ),
            "check that this URL is an MCP server (the console's Streamable HTTP URL ends in /mcp)",
        );
    }
    let result = message.get("result").cloned().unwrap_or(Value::Null);
    let server = result
        .pointer("/serverInfo/name")
        .and_then(Value::as_str)
        .unwrap_or("unnamed server");
    let version = result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or("?");
    // The server's own words: shown terminal-safe.
    let (server, version) = (
        output::terminal_safe(server),
        output::terminal_safe(version),
    );
    Check::pass(id, title, format!("{url}: {server}, protocol {version}"))
}

/// An initialize result is small; anything near this is not one.
const MAX_PROBE_ANSWER: usize = 4 << 20;

const LOGIN_FIX: &str = "mcpgw login (or `mcpgw status` to see the login)";

fn initialize_probe() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": INITIALIZE_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcpgw-doctor", "version": env!("CARGO_PKG_VERSION")}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_port_free_then_busy() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let check = redirect_port_check(&format!("http://127.0.0.1:{port}/callback"));
        assert_eq!(check.status, Status::Fail, "{check:?}");
        assert!(check.detail.contains("in use"), "{}", check.detail);
        drop(listener);
        let check = redirect_port_check(&format!("http://localhost:{port}/callback"));
        assert_eq!(check.status, Status::Pass, "{check:?}");
        assert_eq!(
            redirect_port_check("http://example.com:1/callback").status,
            Status::Fail
        );
        assert_eq!(
            redirect_port_check("https://127.0.0.1:1/callback").status,
            Status::Fail
        );
        // The login's rule: a redirect URI without a port cannot be registered exactly.
        assert_eq!(
            redirect_port_check("http://127.0.0.1/callback").status,
            Status::Fail
        );
    }

    #[test]
    fn proxy_values_are_shown_masked_and_checked() {
        let check = proxy_check(&|_| None);
        assert_eq!(check.status, Status::Pass);
        let env = |key: &str| match key {
            "HTTPS_PROXY" => Some("http://user:secret@proxy.corp:3128".to_owned()),
            "NO_PROXY" => Some("localhost,.internal".to_owned()),
            "http_proxy" => Some("proxy.corp:8080".to_owned()),
            _ => None,
        };
        let check = proxy_check(&env);
        assert_eq!(check.status, Status::Pass, "{check:?}");
        assert!(
            check
                .detail
                .contains("HTTPS_PROXY=http://user:****@proxy.corp:3128/"),
            "{}",
            check.detail
        );
        assert!(!check.detail.contains("secret"));
        assert!(check.detail.contains("NO_PROXY=localhost,.internal"));
        let check = proxy_check(&|key| (key == "ALL_PROXY").then(|| "http://".to_owned()));
        assert_eq!(check.status, Status::Fail, "{check:?}");
    }

    #[test]
    fn skew() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            skew_secs(t + Duration::from_secs(90), t, t + Duration::from_secs(2)),
            89
        );
        assert_eq!(skew_secs(t, t, t), 0);
    }
}
