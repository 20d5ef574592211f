//! A stand-in for Alibaba Cloud's OAuth endpoints (as ARCHITECTURE.md's "Alibaba
//! Cloud facts" describe them) plus a minimal MCP upstream that accepts only the
//! access tokens it issued.
//!
//! - `GET /oauth2/v1/auth` — the sign-in page of a user who is already signed in:
//!   it checks the client, the exact redirect URI, PKCE S256, and redirects back
//!   with a single-use code (or `error=access_denied` in deny mode).
//! - `POST /v1/token` — form-encoded, no client secret; `authorization_code`
//!   (code + verifier + exact redirect URI) and `refresh_token` (rotating,
//!   single-use refresh tokens). Errors are Alibaba's JSON
//!   `{"error","error_description","requestId"}` with HTTP 400.
//! - `POST /v1/revoke` — form `token`, `client_id`.
//! - `GET /v1/userinfo` — Bearer.
//! - `POST /mcp` — JSON-RPC with `Authorization: Bearer <issued access token>`,
//!   401 otherwise.
//!
//! It binds 127.0.0.1 port 0 before `start` returns and runs on its own thread,
//! so tests drive it with plain blocking calls.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

pub const CLIENT_ID: &str = "4103531455503354461";
pub const LOGIN_NAME: &str = "alice@1234567890.onaliyun.com";
pub const ACCOUNT_ID: &str = "1234567890";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// How the sign-in page answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    Approve,
    Deny,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub authorize: u32,
    pub code_exchanges: u32,
    pub refreshes: u32,
    pub failed_token_requests: u32,
    pub revocations: u32,
    pub userinfo: u32,
    pub mcp_ok: u32,
    pub mcp_unauthorized: u32,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    used: bool,
}

struct Access {
    expires_at: u64,
    revoked: bool,
}

struct Refresh {
    used: bool,
    revoked: bool,
    scope: String,
}

struct Inner {
    redirect_uris: Vec<String>,
    consent: Consent,
    /// The `error_description` of a declined sign-in.
    deny_description: String,
    /// The `login_name` claim of id_tokens and userinfo.
    login_name: String,
    /// `serverInfo.name` of the MCP upstream.
    server_name: String,
    expires_in: u64,
    expires_in_as_string: bool,
    fail_next_token_requests: u32,
    codes: HashMap<String, Grant>,
    access: HashMap<String, Access>,
    refresh: HashMap<String, Refresh>,
    /// Every secret handed out (codes, tokens), for "never in the logs" checks.
    issued: Vec<String>,
    counts: Counts,
    /// The `resource` parameter of the last authorize and token request.
    resources: Vec<Option<String>>,
    serial: u64,
}

#[derive(Clone)]
pub struct AuthServer {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    /// Refresh requests wait while this is `false` (after being counted).
    refresh_gate: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AuthServer {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            redirect_uris: Vec::new(),
            consent: Consent::Approve,
            deny_description: "the user declined".into(),
            login_name: LOGIN_NAME.into(),
            server_name: "stand-in".into(),
            expires_in: 3600,
            expires_in_as_string: false,
            fail_next_token_requests: 0,
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            issued: Vec::new(),
            counts: Counts::default(),
            resources: Vec::new(),
            serial: 0,
        }));
        let refresh_gate = Arc::new(tokio::sync::watch::channel(true).0);
        let app = Router::new()
            .route("/oauth2/v1/auth", get(authorize))
            .route("/v1/token", post(token))
            .route("/v1/revoke", post(revoke))
            .route("/v1/userinfo", get(userinfo))
            .route("/mcp", any(mcp))
            .with_state((inner.clone(), refresh_gate.clone()));
        std::thread::Builder::new()
            .name("authserver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    axum::serve(listener, app).await.unwrap();
                });
            })
            .unwrap();
        Self {
            base,
            inner,
            refresh_gate,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn authorization_endpoint(&self) -> String {
        format!("{}/oauth2/v1/auth", self.base)
    }
    pub fn token_endpoint(&self) -> String {
        format!("{}/v1/token", self.base)
    }
    pub fn revocation_endpoint(&self) -> String {
        format!("{}/v1/revoke", self.base)
    }
    pub fn userinfo_endpoint(&self) -> String {
        format!("{}/v1/userinfo", self.base)
    }
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// Registers a redirect URI on the app; the authorize and token endpoints
    /// accept only exact matches.
    pub fn register_redirect(&self, uri: &str) {
        self.lock().redirect_uris.push(uri.to_owned());
    }
    pub fn set_consent(&self, consent: Consent) {
        self.lock().consent = consent;
    }
    /// What a declined sign-in says in `error_description`.
    pub fn set_deny_description(&self, text: &str) {
        self.lock().deny_description = text.to_owned();
    }
    /// The user's name in id_tokens and userinfo (a hostile server's, say).
    pub fn set_login_name(&self, name: &str) {
        self.lock().login_name = name.to_owned();
    }
    /// The MCP upstream's `serverInfo.name`.
    pub fn set_server_name(&self, name: &str) {
        self.lock().server_name = name.to_owned();
    }
    pub fn set_expires_in(&self, secs: u64) {
        self.lock().expires_in = secs;
    }
    /// Send `expires_in` as a JSON string ("3600"), a quirk seen from Alibaba.
    pub fn set_expires_in_as_string(&self, on: bool) {
        self.lock().expires_in_as_string = on;
    }
    /// The next `n` token requests fail with HTTP 503.
    pub fn fail_next_token_requests(&self, n: u32) {
        self.lock().fail_next_token_requests = n;
    }
    /// Every access token issued so far stops working (as if its time ran out).
    pub fn expire_access_tokens(&self) {
        for access in self.lock().access.values_mut() {
            access.expires_at = 0;
        }
    }
    /// The grant is gone: refresh tokens are refused with invalid_grant.
    pub fn revoke_refresh_tokens(&self) {
        for refresh in self.lock().refresh.values_mut() {
            refresh.revoked = true;
        }
    }
    /// Hold refresh requests (they are counted first) until [`Self::open_refreshes`].
    pub fn hold_refreshes(&self) {
        self.refresh_gate.send_replace(false);
    }
    pub fn open_refreshes(&self) {
        self.refresh_gate.send_replace(true);
    }
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }
    pub fn issued_secrets(&self) -> Vec<String> {
        self.lock().issued.clone()
    }
    pub fn resources(&self) -> Vec<Option<String>> {
        self.lock().resources.clone()
    }
    pub fn live_refresh_tokens(&self) -> usize {
        self.lock()
            .refresh
            .values()
            .filter(|r| !r.used && !r.revoked)
            .count()
    }
    pub fn is_access_token_valid(&self, token: &str) -> bool {
        valid_access(&self.lock(), token)
    }
    pub fn is_refresh_token_revoked(&self, token: &str) -> bool {
        self.lock().refresh.get(token).is_some_and(|r| r.revoked)
    }
}

type Shared = State<(Arc<Mutex<Inner>>, Arc<tokio::sync::watch::Sender<bool>>)>;

fn lock(state: &Arc<Mutex<Inner>>) -> MutexGuard<'_, Inner> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn params(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn fresh(inner: &mut Inner, prefix: &str) -> String {
    inner.serial += 1;
    let random: u64 = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64)
        .rotate_left(17)
        ^ inner.serial;
    let secret = format!("{prefix}-{:016x}{:04}", random, inner.serial);
    inner.issued.push(secret.clone());
    secret
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body =
        json!({"error": error, "error_description": description, "requestId": "6C1A0B4E-TEST-REQ"});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn bad_page(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain")],
        message.to_owned(),
    )
        .into_response()
}

async fn authorize(State((state, _)): Shared, uri: Uri) -> Response {
    let q = params(uri.query().unwrap_or(""));
    let mut inner = lock(&state);
    inner.counts.authorize += 1;
    inner.resources.push(q.get("resource").cloned());
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return bad_page("unknown client_id");
    }
    // Exact match, port included; never redirect to an unregistered URI.
    let Some(redirect) = q
        .get("redirect_uri")
        .filter(|r| inner.redirect_uris.contains(r))
        .cloned()
    else {
        return bad_page("redirect_uri is not registered for this application");
    };
    let mut back = url::Url::parse(&redirect).unwrap();
    {
        let mut pairs = back.query_pairs_mut();
        if q.get("response_type").map(String::as_str) != Some("code") {
            pairs.append_pair("error", "unsupported_response_type");
        } else if q.get("code_challenge_method").map(String::as_str) != Some("S256")
            || q.get("code_challenge").is_none_or(|c| c.len() != 43)
        {
            pairs
                .append_pair("error", "invalid_request")
                .append_pair("error_description", "PKCE S256 is required");
        } else if inner.consent == Consent::Deny {
            pairs
                .append_pair("error", "access_denied")
                .append_pair("error_description", &inner.deny_description);
        } else {
            let code = fresh(&mut inner, "code");
            inner.codes.insert(
                code.clone(),
                Grant {
                    client_id: CLIENT_ID.into(),
                    redirect_uri: redirect.clone(),
                    challenge: q["code_challenge"].clone(),
                    scope: q.get("scope").cloned().unwrap_or_default(),
                    used: false,
                },
            );
            pairs.append_pair("code", &code);
        }
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
    }
    (StatusCode::FOUND, [(header::LOCATION, back.to_string())]).into_response()
}

fn issue(inner: &mut Inner, scope: &str) -> Value {
    let access = fresh(inner, "at");
    let refresh = fresh(inner, "rt");
    let expires_in = inner.expires_in;
    inner.access.insert(
        access.clone(),
        Access {
            expires_at: now().saturating_add(expires_in),
            revoked: false,
        },
    );
    inner.refresh.insert(
        refresh.clone(),
        Refresh {
            used: false,
            revoked: false,
            scope: scope.to_owned(),
        },
    );
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": if inner.expires_in_as_string { json!(expires_in.to_string()) } else { json!(expires_in) },
        "refresh_token": refresh,
        "scope": scope,
    });
    if scope.split(' ').any(|s| s == "openid") {
        let claims = json!({"sub": "203945", "login_name": inner.login_name, "aid": ACCOUNT_ID, "iss": "stand-in", "aud": CLIENT_ID});
        let part =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let id_token = format!(
            "{}.{}.{}",
            part(&json!({"alg": "RS256"})),
            part(&claims),
            fresh(inner, "sig")
        );
        inner.issued.push(id_token.clone());
        body["id_token"] = json!(id_token);
    }
    body
}

async fn token(State((state, gate)): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let form = params(std::str::from_utf8(&body).unwrap_or(""));
    if form.get("grant_type").map(String::as_str) == Some("refresh_token") {
        lock(&state).counts.refreshes += 1;
        let mut open = gate.subscribe();
        let _ = open.wait_for(|open| *open).await;
    }
    let mut inner = lock(&state);
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    inner.resources.push(form.get("resource").cloned());
    if inner.fail_next_token_requests > 0 {
        inner.fail_next_token_requests -= 1;
        inner.counts.failed_token_requests += 1;
        return oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "try again later",
        );
    }
    if !form_type.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "form-encoded body required",
        );
    }
    if form.contains_key("client_secret") || headers.contains_key(header::AUTHORIZATION) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "native apps have no client secret",
        );
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    }
    match grant_type.as_str() {
        "authorization_code" => {
            inner.counts.code_exchanges += 1;
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(grant) = inner.codes.get_mut(&code) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown code");
            };
            if grant.used {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "code already used",
                );
            }
            grant.used = true;
            if form.get("redirect_uri") != Some(&grant.redirect_uri) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri does not match",
                );
            }
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            if !(43..=128).contains(&verifier.len()) || computed != grant.challenge {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "code_verifier does not match",
                );
            }
            let (client, scope) = (grant.client_id.clone(), grant.scope.clone());
            assert_eq!(client, CLIENT_ID);
            let body = issue(&mut inner, &scope);
            json_response(body)
        }
        "refresh_token" => {
            let token = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(refresh) = inner.refresh.get_mut(&token) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown refresh token",
                );
            };
            if refresh.revoked {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "refresh token revoked",
                );
            }
            // Rotation: each refresh token works once.
            if refresh.used {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "refresh token already used",
                );
            }
            refresh.used = true;
            let scope = refresh.scope.clone();
            let body = issue(&mut inner, &scope);
            json_response(body)
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "unknown grant_type",
        ),
    }
}

fn json_response(value: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        value.to_string(),
    )
        .into_response()
}

async fn revoke(State((state, _)): Shared, body: Bytes) -> Response {
    let mut inner = lock(&state);
    let form = params(std::str::from_utf8(&body).unwrap_or(""));
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    }
    inner.counts.revocations += 1;
    let token = form.get("token").cloned().unwrap_or_default();
    if let Some(refresh) = inner.refresh.get_mut(&token) {
        refresh.revoked = true;
    }
    if let Some(access) = inner.access.get_mut(&token) {
        access.revoked = true;
    }
    json_response(json!({"requestId": "6C1A0B4E-TEST-REQ"}))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

fn valid_access(inner: &Inner, token: &str) -> bool {
    inner
        .access
        .get(token)
        .is_some_and(|a| !a.revoked && a.expires_at > now())
}

async fn userinfo(State((state, _)): Shared, headers: HeaderMap) -> Response {
    let mut inner = lock(&state);
    inner.counts.userinfo += 1;
    match bearer(&headers) {
        Some(token) if valid_access(&inner, &token) => json_response(
            json!({"sub": "203945", "login_name": inner.login_name, "aid": ACCOUNT_ID, "requestid": "X"}),
        ),
        _ => oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "bad token"),
    }
}

/// A minimal MCP server: initialize (with a session id), notifications → 202,
/// tools/list, anything else echoes its method.
async fn mcp(
    State((state, _)): Shared,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let server_name = {
        let mut inner = lock(&state);
        let ok = bearer(&headers).is_some_and(|t| valid_access(&inner, &t));
        if !ok {
            inner.counts.mcp_unauthorized += 1;
            let mut response = (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"invalid_token"}"#,
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
            return response;
        }
        if method == Method::POST {
            inner.counts.mcp_ok += 1;
        }
        inner.server_name.clone()
    };
    match method {
        Method::POST => {}
        Method::DELETE => return StatusCode::OK.into_response(),
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let Some(id) = message.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let name = message.get("method").and_then(Value::as_str).unwrap_or("");
    let result = match name {
        "initialize" => json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": server_name, "version": "1"}
        }),
        "tools/list" => {
            json!({"tools": [{"name": "DescribeRegions", "inputSchema": {"type": "object"}}]})
        }
        other => json!({"echo": other}),
    };
    let mut response = json_response(json!({"jsonrpc": "2.0", "id": id, "result": result}));
    if name == "initialize" {
        response.headers_mut().insert(
            "mcp-session-id",
            HeaderValue::from_static("stand-in-session"),
        );
    }
    response
}
