//! The OAuth 2.0 protocol for a native app (RFC 8252 + PKCE) against Alibaba Cloud's
//! endpoints: authorize URL, code exchange, refresh, revocation and userinfo.
//!
//! Token requests go through the `oauth2` crate, driven over the process's one
//! reqwest client (src/http/mod.rs) via its async HTTP-client hook, so no second HTTP
//! stack is linked. Revocation and userinfo are plain requests: oauth2 refuses
//! non-https revocation URLs, which would rule out loopback stand-ins in tests.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use oauth2::basic::{BasicTokenIntrospectionResponse, BasicTokenType};
use oauth2::{
    AccessToken, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::auth::store::Identity;
use crate::config::{OAuthConfig, check_url};
use crate::error::CliError;
use crate::output::terminal_safe;
use crate::secret::Secret;

/// One token request may take this long before it counts as a transient failure.
const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Revocation and userinfo are best effort; do not keep the user waiting.
const AUXILIARY_TIMEOUT: Duration = Duration::from_secs(10);

/// Error codes after which the refresh token (or the client) is unusable: only a
/// new login helps (Alibaba documents these as permanent).
const PERMANENT_ERRORS: [&str; 4] = [
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "invalid_token",
];

/// Endpoints and client settings for one login, checked once.
#[derive(Debug, Clone)]
pub struct Provider {
    pub client_id: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub revocation_endpoint: Option<Url>,
    pub userinfo_endpoint: Option<Url>,
    pub scope: String,
    pub resource: Option<String>,
}

impl Provider {
    /// From the configuration; a missing client id is an error that says where to get one.
    pub fn from_config(
        oauth: &OAuthConfig,
        config_path: &std::path::Path,
    ) -> Result<Self, CliError> {
        let client_id = oauth
            .client_id
            .clone()
            .ok_or_else(|| missing_client_id(oauth, config_path))?;
        Ok(Self {
            client_id,
            authorization_endpoint: endpoint_url("authorization", &oauth.authorization_endpoint)?,
            token_endpoint: endpoint_url("token", &oauth.token_endpoint)?,
            revocation_endpoint: optional_endpoint("revocation", &oauth.revocation_endpoint)?,
            userinfo_endpoint: optional_endpoint("userinfo", &oauth.userinfo_endpoint)?,
            scope: oauth.scope.clone(),
            resource: oauth.resource.clone().filter(|r| !r.trim().is_empty()),
        })
    }

    /// For refreshing a stored login: the client and token endpoint the tokens were issued by.
    pub fn for_refresh(
        client_id: &str,
        token_endpoint: &str,
        resource: Option<String>,
    ) -> Result<Self, CliError> {
        let token_endpoint = endpoint_url("token", token_endpoint)?;
        Ok(Self {
            client_id: client_id.to_owned(),
            authorization_endpoint: token_endpoint.clone(),
            token_endpoint,
            revocation_endpoint: None,
            userinfo_endpoint: None,
            scope: String::new(),
            resource,
        })
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.scope
            .split_whitespace()
            .map(|s| Scope::new(s.to_owned()))
    }
}

fn missing_client_id(oauth: &OAuthConfig, config_path: &std::path::Path) -> CliError {
    CliError::user("no OAuth client id is configured").with_hint(format!(
        "create one in the RAM console: OAuth Applications → Create Application → type NativeApp, \
         scope {scope}, redirect URI {redirect} (register it exactly, port included); then set \
         oauth.clientId in {path} or MCPGW_CLIENT_ID",
        scope = oauth.scope,
        redirect = oauth.redirect_uri,
        path = config_path.display()
    ))
}

/// An endpoint must be https, or plain http on a loopback host (local stand-ins):
/// a configured value never reaches a browser or a token request otherwise.
pub fn endpoint_url(what: &str, value: &str) -> Result<Url, CliError> {
    let url = Url::parse(value.trim()).map_err(|err| {
        CliError::user(format!(
            "the OAuth {what} endpoint `{value}` is not a valid URL: {err}"
        ))
    })?;
    crate::config::check_url(&url, false).map_err(|problem| {
        CliError::user(format!("refusing OAuth {what} endpoint {url}: {problem}"))
    })?;
    Ok(url)
}

fn optional_endpoint(what: &str, value: &str) -> Result<Option<Url>, CliError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        endpoint_url(what, value).map(Some)
    }
}

// ---- the authorization request ---------------------------------------------

/// What the login must remember between opening the browser and the callback.
pub struct AuthorizationRequest {
    pub url: Url,
    pub state: Secret,
    pub verifier: Secret,
    pub redirect_uri: String,
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// Builds the authorize URL with a fresh PKCE S256 pair and state.
pub fn authorization_request(
    provider: &Provider,
    redirect_uri: &str,
) -> Result<AuthorizationRequest, CliError> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|err| {
        CliError::user(format!(
            "redirect URI `{redirect_uri}` is not a valid URL: {err}"
        ))
    })?;
    let client = oauth2::Client::<
        AliErrorResponse,
        AliTokenResponse,
        BasicTokenIntrospectionResponse,
        StandardRevocableToken,
        AliErrorResponse,
    >::new(ClientId::new(provider.client_id.clone()))
    .set_auth_uri(AuthUrl::from_url(provider.authorization_endpoint.clone()))
    .set_redirect_uri(redirect);
    // 32 random bytes → a 43-character verifier, the minimum RFC 7636 allows and
    // what Alibaba's own CLI sends.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(provider.scopes())
        .set_pkce_challenge(challenge);
    if let Some(resource) = &provider.resource {
        request = request.add_extra_param("resource", resource.clone());
    }
    let (url, state) = request.url();
    check_url(&url, false)
        .map_err(|problem| CliError::user(format!("refusing to open {url}: {problem}")))?;
    Ok(AuthorizationRequest {
        url,
        state: Secret::new(state.secret().clone()),
        verifier: Secret::new(verifier.secret().clone()),
        redirect_uri: redirect_uri.to_owned(),
    })
}

// ---- token requests --------------------------------------------------------

/// Tokens from a successful code exchange or refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
    pub id_token: Option<Secret>,
}

/// A failed token request. No variant holds a response body: the body of a
/// successful response that failed to parse would hold the tokens.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The grant or client is no longer valid: only a new login helps.
    #[error("the authorization server refused: {0}")]
    Permanent(ServerError),
    /// A well-formed OAuth error that is not known to be permanent.
    #[error("the authorization server answered with an error: {0}")]
    Rejected(ServerError),
    /// Transient: the endpoint could not be reached, or the answer not read.
    #[error("cannot reach the token endpoint: {0}")]
    Unreachable(#[source] HttpError),
    /// Transient: an OAuth error with a 5xx status.
    #[error("the token endpoint failed (HTTP {status}): {server}")]
    ServerFailure { status: u16, server: ServerError },
    /// Transient: the answer is not the expected JSON; only where it went wrong
    /// is kept (the parse error itself may quote the tokens).
    #[error("the token endpoint's answer ({status}) is not the expected JSON (at `{path}`)")]
    Unreadable { status: StatusText, path: String },
    /// Transient: what oauth2 says about an answer it cannot use.
    #[error("the token endpoint's answer ({status}): {message}")]
    Other { status: StatusText, message: String },
    /// The redirect URI of the authorization request is not a URL.
    #[error("{0}")]
    Redirect(#[source] url::ParseError),
}

#[cfg(test)]
impl OAuthError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }

    pub fn is_transient(&self) -> bool {
        !matches!(self, Self::Permanent(_) | Self::Rejected(_))
    }
}

/// `HTTP 502`, or `no HTTP status` when none came back.
#[derive(Debug, Clone, Copy)]
pub struct StatusText(Option<u16>);

impl fmt::Display for StatusText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(status) => write!(f, "HTTP {status}"),
            None => f.write_str("no HTTP status"),
        }
    }
}

/// Alibaba's token-endpoint error body: `{"error", "error_description", "requestId"}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerError {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(
        default,
        rename = "requestId",
        alias = "request_id",
        alias = "RequestId",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
}

/// Every part is the server's text, shown through [`terminal_safe`].
impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&terminal_safe(&self.error))?;
        if let Some(description) = self.error_description.as_deref().filter(|d| !d.is_empty()) {
            write!(f, " ({})", terminal_safe(description))?;
        }
        if let Some(id) = self.request_id.as_deref().filter(|d| !d.is_empty()) {
            write!(f, " [requestId {}]", terminal_safe(id))?;
        }
        Ok(())
    }
}

/// oauth2's error-response slot, wrapping Alibaba's shape.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct AliErrorResponse(ServerError);

impl fmt::Display for AliErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl oauth2::ErrorResponse for AliErrorResponse {}

/// The token response, lenient where Alibaba is: `expires_in` as a number or a
/// numeric string, `token_type` in any case or absent.
#[derive(Debug, Deserialize, Serialize)]
pub struct AliTokenResponse {
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "token_type")]
    token_type: BasicTokenType,
    #[serde(default, deserialize_with = "number_or_string")]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, rename = "scope", deserialize_with = "space_delimited")]
    scopes: Option<Vec<Scope>>,
    #[serde(default)]
    id_token: Option<Secret>,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

fn token_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BasicTokenType, D::Error> {
    Ok(
        match Option::<String>::deserialize(deserializer)?
            .map(|s| s.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("bearer") => BasicTokenType::Bearer,
            Some("mac") => BasicTokenType::Mac,
            Some(other) => BasicTokenType::Extension(other.to_owned()),
        },
    )
}

/// `expires_in` seen as `3600` and as `"3600"`.
fn number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    use serde_json::Value;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("expires_in is not a non-negative number")),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expires_in is not a numeric string")),
        Some(_) => Err(serde::de::Error::custom(
            "expires_in is neither a number nor a string",
        )),
    }
}

fn space_delimited<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Scope>>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(|s| {
        s.split_whitespace()
            .map(|scope| Scope::new(scope.to_owned()))
            .collect()
    }))
}

impl oauth2::TokenResponse for AliTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

impl From<AliTokenResponse> for Tokens {
    fn from(response: AliTokenResponse) -> Self {
        Tokens {
            access_token: Secret::new(response.access_token.into_secret()),
            refresh_token: response.refresh_token.map(|t| Secret::new(t.into_secret())),
            expires_in: response.expires_in,
            scope: response
                .scopes
                .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
            id_token: response.id_token,
        }
    }
}

type TokenClient = oauth2::Client<
    AliErrorResponse,
    AliTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    AliErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

fn token_client(provider: &Provider) -> TokenClient {
    oauth2::Client::new(ClientId::new(provider.client_id.clone()))
        .set_token_uri(TokenUrl::from_url(provider.token_endpoint.clone()))
}

/// Exchanges the authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    http: &reqwest::Client,
    provider: &Provider,
    request: &AuthorizationRequest,
    code: &Secret,
) -> Result<Tokens, OAuthError> {
    let redirect = RedirectUrl::new(request.redirect_uri.clone()).map_err(OAuthError::Redirect)?;
    let client = token_client(provider).set_redirect_uri(redirect);
    let mut exchange = client
        .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(request.verifier.expose().to_owned()));
    if let Some(resource) = &provider.resource {
        exchange = exchange.add_extra_param("resource", resource.clone());
    }
    let adapter = HttpAdapter::new(http);
    let result = exchange.request_async(&adapter).await;
    result
        .map(Tokens::from)
        .map_err(|err| classify(err, adapter.last_status()))
}

/// One refresh request. Rotation is the caller's business: a new refresh token
/// comes back in `Tokens::refresh_token` when the server rotates.
pub async fn refresh(
    http: &reqwest::Client,
    provider: &Provider,
    refresh_token: &Secret,
) -> Result<Tokens, OAuthError> {
    let client = token_client(provider);
    let token = RefreshToken::new(refresh_token.expose().to_owned());
    let mut exchange = client.exchange_refresh_token(&token);
    if let Some(resource) = &provider.resource {
        exchange = exchange.add_extra_param("resource", resource.clone());
    }
    let adapter = HttpAdapter::new(http);
    let result = exchange.request_async(&adapter).await;
    result
        .map(Tokens::from)
        .map_err(|err| classify(err, adapter.last_status()))
}

/// Maps oauth2's error to ours without ever carrying a response body along: a
/// parse failure of a *successful* response would otherwise hold the tokens.
fn classify(
    err: RequestTokenError<HttpError, AliErrorResponse>,
    status: Option<u16>,
) -> OAuthError {
    match err {
        RequestTokenError::ServerResponse(AliErrorResponse(server)) => {
            if PERMANENT_ERRORS.contains(&server.error.as_str()) {
                OAuthError::Permanent(server)
            } else if let Some(status) = status.filter(|s| *s >= 500) {
                OAuthError::ServerFailure { status, server }
            } else {
                OAuthError::Rejected(server)
            }
        }
        RequestTokenError::Request(err) => OAuthError::Unreachable(err),
        // The path names the server's JSON keys, oauth2's message may quote its
        // headers: both are remote text.
        RequestTokenError::Parse(err, _body) => OAuthError::Unreadable {
            status: StatusText(status),
            path: terminal_safe(&err.path().to_string()),
        },
        RequestTokenError::Other(message) => OAuthError::Other {
            status: StatusText(status),
            message: terminal_safe(&message),
        },
    }
}

/// oauth2's async HTTP hook over our reqwest client; remembers the last status so
/// errors can say what the server answered.
struct HttpAdapter {
    http: reqwest::Client,
    status: std::sync::Arc<std::sync::Mutex<Option<u16>>>,
}

/// A request that got no usable answer. The message leaves the URL out (kept
/// short) and repeats the causes' text; the reqwest error stays the source.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{}", without_url(.0))]
    Request(#[source] reqwest::Error),
    #[error("{0}")]
    Build(#[source] oauth2::http::Error),
}

impl HttpAdapter {
    fn new(http: &reqwest::Client) -> Self {
        Self {
            http: http.clone(),
            status: Default::default(),
        }
    }

    fn last_status(&self) -> Option<u16> {
        *self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<'c> oauth2::AsyncHttpClient<'c> for HttpAdapter {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut request = reqwest::Request::try_from(request).map_err(HttpError::Request)?;
            *request.timeout_mut() = Some(TOKEN_REQUEST_TIMEOUT);
            let response = self
                .http
                .execute(request)
                .await
                .map_err(HttpError::Request)?;
            *self.status.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(response.status().as_u16());
            let mut builder = oauth2::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = response.bytes().await.map_err(HttpError::Request)?;
            builder.body(body.to_vec()).map_err(HttpError::Build)
        })
    }
}

/// A reqwest error with its causes, without the URL (kept short; token URLs carry
/// no secrets either way).
fn without_url(err: &reqwest::Error) -> String {
    let mut message = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else if err.is_body() || err.is_decode() {
        "the response body could not be read".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

// ---- revocation and userinfo -----------------------------------------------

/// Why a revocation did not go through.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("{0}")]
    Endpoint(#[from] crate::config::UrlProblem),
    #[error("{0}")]
    Request(#[source] HttpError),
    #[error("HTTP {status}: {server}")]
    Server { status: u16, server: ServerError },
    #[error("HTTP {0}")]
    Status(u16),
}

/// RFC 7009 revocation as Alibaba takes it: form `token`, `token_type_hint`, `client_id`.
pub async fn revoke(
    http: &reqwest::Client,
    endpoint: &Url,
    client_id: &str,
    token: &Secret,
    hint: &str,
) -> Result<(), RevokeError> {
    check_url(endpoint, false)?;
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.expose())
        .append_pair("token_type_hint", hint)
        .append_pair("client_id", client_id)
        .finish();
    let response = http
        .post(endpoint.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
        .timeout(AUXILIARY_TIMEOUT)
        .send()
        .await
        .map_err(|err| RevokeError::Request(HttpError::Request(err)))?;
    let status = response.status().as_u16();
    if response.status().is_success() {
        return Ok(());
    }
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ServerError>(&body) {
        Ok(server) => Err(RevokeError::Server { status, server }),
        Err(_) => Err(RevokeError::Status(status)),
    }
}

/// Claims of an id_token that came straight from the token endpoint over TLS. Its
/// signature is not checked (OIDC Core §3.1.3.7 allows relying on TLS here), and
/// it is used for display only.
pub fn identity_from_id_token(id_token: &Secret) -> Option<Identity> {
    use base64::Engine;
    let payload = id_token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(Identity::from_claims(&claims)).filter(|id| !id.is_empty())
}

/// The userinfo endpoint's view of the access token's user (best effort).
pub async fn userinfo(
    http: &reqwest::Client,
    endpoint: &Url,
    access_token: &Secret,
) -> Option<Identity> {
    check_url(endpoint, false).ok()?;
    let response = http
        .get(endpoint.clone())
        .bearer_auth(access_token.expose())
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(AUXILIARY_TIMEOUT)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        tracing::debug!(
            status = response.status().as_u16(),
            "userinfo endpoint declined"
        );
        return None;
    }
    let body = response.bytes().await.ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(Identity::from_claims(&claims)).filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Provider {
        Provider {
            client_id: "4103531455503354461".into(),
            authorization_endpoint: Url::parse("https://signin.alibabacloud.com/oauth2/v1/auth")
                .unwrap(),
            token_endpoint: Url::parse("https://oauth.alibabacloud.com/v1/token").unwrap(),
            revocation_endpoint: None,
            userinfo_endpoint: None,
            scope: "openid /acs/mcp-server".into(),
            resource: None,
        }
    }

    #[test]
    fn authorize_url_has_pkce_state_and_scope() {
        let request =
            authorization_request(&provider(), "http://127.0.0.1:12355/callback").unwrap();
        let pairs: std::collections::HashMap<_, _> =
            request.url.query_pairs().into_owned().collect();
        assert_eq!(pairs["client_id"], "4103531455503354461");
        assert_eq!(pairs["response_type"], "code");
        assert_eq!(pairs["redirect_uri"], "http://127.0.0.1:12355/callback");
        assert_eq!(pairs["scope"], "openid /acs/mcp-server");
        assert_eq!(pairs["code_challenge_method"], "S256");
        assert_eq!(pairs["state"], request.state.expose());
        assert!(!pairs.contains_key("resource"));
        let verifier = request.verifier.expose();
        assert!((43..=128).contains(&verifier.len()), "{}", verifier.len());
        use base64::Engine;
        use sha2_check::digest;
        let expected =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest(verifier.as_bytes()));
        assert_eq!(pairs["code_challenge"], expected);
        // A second request never reuses state or verifier.
        let again = authorization_request(&provider(), "http://127.0.0.1:12355/callback").unwrap();
        assert_ne!(again.state, request.state);
        assert_ne!(again.verifier, request.verifier);
    }

    /// SHA-256 via oauth2's own challenge of a known verifier, checked against the
    /// RFC 7636 appendix B example so the test does not trust the code under test.
    mod sha2_check {
        pub fn digest(verifier: &[u8]) -> Vec<u8> {
            let challenge = oauth2::PkceCodeChallenge::from_code_verifier_sha256(
                &oauth2::PkceCodeVerifier::new(String::from_utf8(verifier.to_vec()).unwrap()),
            );
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(challenge.as_str())
                .unwrap()
        }

        #[test]
        fn rfc7636_example() {
            use base64::Engine;
            let out = digest(b"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
            assert_eq!(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out),
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            );
        }
    }

    #[test]
    fn resource_indicator_only_when_configured() {
        let mut p = provider();
        p.resource = Some("https://openapi-mcp.cn-hangzhou.aliyuncs.com".into());
        let request = authorization_request(&p, "http://127.0.0.1:1/callback").unwrap();
        assert!(
            request.url.query_pairs().any(
                |(k, v)| k == "resource" && v == "https://openapi-mcp.cn-hangzhou.aliyuncs.com"
            )
        );
    }

    #[test]
    fn expires_in_number_or_string() {
        let a: AliTokenResponse =
            serde_json::from_str(r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#)
                .unwrap();
        let b: AliTokenResponse = serde_json::from_str(
            r#"{"access_token":"a","token_type":"bearer","expires_in":"3600"}"#,
        )
        .unwrap();
        let c: AliTokenResponse = serde_json::from_str(r#"{"access_token":"a"}"#).unwrap();
        assert_eq!(a.expires_in, Some(3600));
        assert_eq!(b.expires_in, Some(3600));
        assert_eq!(c.expires_in, None);
        assert_eq!(c.token_type, BasicTokenType::Bearer);
        assert!(
            serde_json::from_str::<AliTokenResponse>(r#"{"access_token":"a","expires_in":"soon"}"#)
                .is_err()
        );
    }

    #[test]
    fn alibaba_error_json_and_classification() {
        let body = r#"{"error":"invalid_grant","error_description":"refresh token expired","requestId":"R-1"}"#;
        let parsed: AliErrorResponse = serde_json::from_str(body).unwrap();
        let err = classify(RequestTokenError::ServerResponse(parsed.clone()), Some(400));
        assert!(err.is_permanent());
        assert_eq!(
            err.to_string(),
            "the authorization server refused: invalid_grant (refresh token expired) [requestId R-1]"
        );
        let mut other = parsed;
        other.0.error = "server_error".into();
        assert!(
            classify(RequestTokenError::ServerResponse(other.clone()), Some(503)).is_transient()
        );
        assert!(matches!(
            classify(RequestTokenError::ServerResponse(other), Some(400)),
            OAuthError::Rejected(_)
        ));
        assert!(classify(RequestTokenError::Other("x".into()), Some(502)).is_transient());
    }

    #[test]
    fn server_error_text_reaches_the_terminal_without_escapes() {
        let body = r#"{"error":"invalid_grant\u001b[2J","error_description":"expired\u001b[31m red \u202e\u009b","requestId":"R\u0007"}"#;
        let parsed: AliErrorResponse = serde_json::from_str(body).unwrap();
        let shown =
            classify(RequestTokenError::ServerResponse(parsed.clone()), Some(400)).to_string();
        assert!(
            !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{shown:?}"
        );
        assert!(shown.contains("expired\u{FFFD}[31m red"), "{shown}");
        let revoke = RevokeError::Server {
            status: 400,
            server: parsed.0,
        }
        .to_string();
        assert!(!revoke.contains('\x1b'), "{revoke:?}");
        let other = classify(
            RequestTokenError::Other("bad \x1b]0;x\x07".into()),
            Some(502),
        )
        .to_string();
        assert!(
            !other.contains('\x1b') && !other.contains('\x07'),
            "{other:?}"
        );
    }

    #[test]
    fn endpoint_rules() {
        assert!(endpoint_url("token", "https://oauth.aliyun.com/v1/token").is_ok());
        assert!(endpoint_url("token", "http://127.0.0.1:9/v1/token").is_ok());
        assert!(endpoint_url("token", "http://oauth.aliyun.com/v1/token").is_err());
        assert!(endpoint_url("token", "javascript:alert(1)").is_err());
        assert!(endpoint_url("token", "file:///etc/passwd").is_err());
        assert!(endpoint_url("token", "https://user:pw@example.com/").is_err());
    }

    #[test]
    fn identity_from_unsigned_claims() {
        use base64::Engine;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"2031","login_name":"alice@1234.onaliyun.com","aid":1234}"#);
        let token = Secret::new(format!("eyJhbGciOiJub25lIn0.{claims}.sig"));
        let id = identity_from_id_token(&token).unwrap();
        assert_eq!(id.name.as_deref(), Some("alice@1234.onaliyun.com"));
        assert_eq!(id.account_id.as_deref(), Some("1234"));
        assert_eq!(id.subject.as_deref(), Some("2031"));
        assert!(identity_from_id_token(&Secret::new("garbage")).is_none());
    }

    #[test]
    fn missing_client_id_says_where_to_get_one() {
        let oauth = OAuthConfig {
            client_id: None,
            authorization_endpoint: "https://signin.aliyun.com/oauth2/v1/auth".into(),
            token_endpoint: "https://oauth.aliyun.com/v1/token".into(),
            revocation_endpoint: String::new(),
            userinfo_endpoint: String::new(),
            scope: crate::config::DEFAULT_SCOPE.into(),
            redirect_uri: crate::config::DEFAULT_REDIRECT_URI.into(),
            resource: None,
        };
        let err =
            Provider::from_config(&oauth, std::path::Path::new("/x/config.json")).unwrap_err();
        let hint = err.hint.unwrap();
        assert!(
            hint.contains("NativeApp")
                && hint.contains("MCPGW_CLIENT_ID")
                && hint.contains("12355/callback"),
            "{hint}"
        );
    }
}
