//! The one MCP-over-HTTP client: everything mcpgw sends to an MCP server goes
//! through [`Upstream`], whether it relays a client (`mcpgw ecs`) or probes a
//! server (`mcpgw doctor`). It adds the token (refreshing once after a 401), the
//! session and era-2 headers, reads JSON and event-stream answers, resumes
//! streams that end early, and keeps the standalone GET stream. Session
//! bookkeeping (initialize replay, DELETE) is in `session.rs`.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use url::Url;

use crate::auth::Auth;
use crate::error::{CliError, CliResult};
use crate::http::{Endpoint, Http, SendError};
use crate::relay::era2::{self, ToolHeaderMaps};
use crate::relay::errors::{self, Failure, snippet_suffix};
use crate::relay::message::{self, FromServer, Message};
use crate::relay::session::{Session, session_gone};
use crate::relay::sse::EventStream;
use crate::relay::streams::{is_event_stream, read_body};
use crate::secret::Secret;

const ACCEPT_BOTH: &str = "application/json, text/event-stream";
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Pages of `tools/list` fetched at most when learning era-2 header annotations.
const MAX_TOOL_PAGES: usize = 20;

pub struct Upstream {
    pub(super) url: Url,
    endpoint: Endpoint,
    auth: Auth,
    extra_headers: HeaderMap,
    /// The largest message accepted from the server, in bytes.
    pub(super) max_message: usize,
    /// Where server messages go that are not the answer being awaited (the
    /// relay's stdout; nowhere for a probe).
    sink: mpsc::Sender<Bytes>,
    pub(super) session: Mutex<Session>,
    pub(super) reinit_lock: tokio::sync::Mutex<()>,
    /// `x-mcp-header` annotations learned from era-2 `tools/list` results.
    tool_maps: Mutex<Option<ToolHeaderMaps>>,
    pub(super) get_stream: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// POST headers for the current token and session (see `post_headers`).
    post_template: Mutex<Option<PostTemplate>>,
}

/// The POST headers built for one token and session.
struct PostTemplate {
    token: Secret,
    session_id: Option<HeaderValue>,
    protocol_version: Option<HeaderValue>,
    headers: HeaderMap,
}

/// How a request's answer arrived.
pub enum Outcome {
    /// The JSON-RPC response to the request, ready for stdout.
    Response(Bytes),
    /// An HTTP error whose body was itself a JSON-RPC answer for this request.
    Forward(Bytes),
}

impl Outcome {
    pub fn into_line(self) -> Bytes {
        match self {
            Outcome::Response(line) | Outcome::Forward(line) => line,
        }
    }
}

/// One POST's result: a success to read, or an HTTP error with its body.
pub(super) enum Posted {
    Success(reqwest::Response),
    Refused { status: StatusCode, body: Bytes },
}

pub(super) struct Sent {
    pub posted: Posted,
    /// The session generation when a session id was sent (a 404 then means the
    /// session is gone).
    pub session_generation: Option<u64>,
}

impl Upstream {
    pub fn new(
        url: Url,
        http: &Http,
        auth: Auth,
        extra_headers: HeaderMap,
        max_message: usize,
        sink: mpsc::Sender<Bytes>,
    ) -> Arc<Self> {
        Arc::new(Self {
            endpoint: http.endpoint(&url),
            url,
            auth,
            extra_headers,
            max_message,
            sink,
            session: Mutex::new(Session::default()),
            reinit_lock: tokio::sync::Mutex::new(()),
            tool_maps: Mutex::new(None),
            get_stream: Mutex::new(None),
            post_template: Mutex::new(None),
        })
    }

    pub(super) async fn emit(&self, line: impl Into<Bytes>) {
        // A closed channel means shutdown is under way (or nobody listens).
        let _ = self.sink.send(line.into()).await;
    }

    pub(super) fn unreachable(&self, err: impl Into<SendError>) -> Failure {
        let host = self.url.host_str().unwrap_or("the MCP server");
        Failure::unreachable(host, self.url.as_str(), err.into())
    }

    /// POSTs `message` with the current token; after a 401, once more with a
    /// fresh one when the token source has one.
    pub(super) async fn post(&self, message: &Message) -> Result<Sent, Failure> {
        let mut auth_retried = false;
        loop {
            let token = self.auth.bearer().await?;
            let (headers, session_generation) = self.post_headers_for(message, &token);
            let response = self
                .endpoint
                .send(Method::POST, headers, message.body.clone())
                .await
                .map_err(|err| self.unreachable(err))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !auth_retried {
                auth_retried = true;
                if self.auth.rejected(&token).await?.is_some() {
                    continue;
                }
            }
            let posted = if status.is_success() {
                Posted::Success(response)
            } else {
                Posted::Refused {
                    status,
                    body: read_error_body(response).await,
                }
            };
            return Ok(Sent {
                posted,
                session_generation,
            });
        }
    }

    /// Sends a request (re-initializing the session once when it expired) and
    /// relays everything the server sends until the response arrives.
    pub async fn exchange(self: &Arc<Self>, message: &Message) -> Result<Outcome, Failure> {
        let id = message.id.as_deref().expect("requests have ids");
        if message.era2_version.is_some() && message.method.as_deref() == Some("tools/call") {
            self.learn_tool_headers(message).await;
        }
        let mut reinitialized = false;
        loop {
            let sent = self.post(message).await?;
            match sent.posted {
                Posted::Success(response) if response.status() == StatusCode::ACCEPTED => {
                    return Err(Failure::protocol(
                        "the MCP server accepted the request but sent no response (HTTP 202)",
                    ));
                }
                Posted::Success(response) => {
                    if message.method.as_deref() == Some("initialize") {
                        self.begin_session(message, &response);
                    }
                    let outcome = self.read_response(response, id, true).await?;
                    self.after_response(message, &outcome);
                    return Ok(outcome);
                }
                Posted::Refused { status, body } => {
                    if let Some(generation) = sent.session_generation
                        && !reinitialized
                        && session_gone(status, &body)
                    {
                        reinitialized = true;
                        tracing::info!("the MCP session expired; starting a new one");
                        self.reinitialize(generation).await?;
                        continue;
                    }
                    return errors::http_error(status, &body, id).map(Outcome::Forward);
                }
            }
        }
    }

    /// Sends a notification or the client's answer to a server request. Nothing
    /// comes back for the client but messages on an event-stream body.
    /// `accepted` fires once the server has taken the message (its status is in),
    /// before any event-stream body is read.
    pub async fn one_way(
        self: &Arc<Self>,
        message: &Message,
        accepted: Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), Failure> {
        let initialized = message.method.as_deref() == Some("notifications/initialized");
        let mut reinitialized = false;
        let mut accepted = accepted;
        loop {
            let sent = self.post(message).await?;
            match sent.posted {
                Posted::Success(response) => {
                    if initialized {
                        self.session.lock().unwrap().initialized = true;
                        // The lines after `initialized` wait for the GET stream's answer
                        // too: a server may send its first requests there as soon as the
                        // client is initialized, and drops them while no stream is open.
                        self.start_get_stream(accepted.take());
                    }
                    if let Some(accepted) = accepted.take() {
                        let _ = accepted.send(());
                    }
                    // A 200 with a body is allowed; its messages still belong to the client.
                    if is_event_stream(&response) {
                        self.relay_events(&mut EventStream::new(response, self.max_message))
                            .await;
                    }
                    return Ok(());
                }
                Posted::Refused { status, body } => {
                    if let Some(generation) = sent.session_generation
                        && !reinitialized
                        && !initialized
                        && session_gone(status, &body)
                    {
                        reinitialized = true;
                        if self.reinitialize(generation).await.is_ok() {
                            continue;
                        }
                    }
                    return Err(Failure::new(
                        errors::code::UPSTREAM_HTTP,
                        format!(
                            "the MCP server refused it: HTTP {status}{}",
                            snippet_suffix(&body)
                        ),
                    ));
                }
            }
        }
    }

    /// Sends a JSON-RPC batch (2025-03-26) whose requests have `ids`, relays the
    /// server's messages and the answers to those ids, and returns the ids answered.
    pub async fn batch(
        &self,
        message: &Message,
        ids: &[Box<RawValue>],
    ) -> Result<Vec<Box<RawValue>>, Failure> {
        let response = match self.post(message).await?.posted {
            Posted::Success(response) => response,
            Posted::Refused { status, body } => {
                return Err(Failure::http(status, &body));
            }
        };
        if response.status() == StatusCode::ACCEPTED {
            return Ok(Vec::new());
        }
        if !is_event_stream(&response) {
            let body = read_body(response, self.max_message).await?;
            if message::trim_json_space(&body.line).is_empty() {
                return Ok(Vec::new());
            }
            if let Err(problem) = body.kind() {
                return Err(Failure::protocol(format!(
                    "the MCP server's answer to the batch is {problem}{}",
                    snippet_suffix(&body.line)
                )));
            }
            // Only answers to this batch's own requests may reach the client: one to
            // any other id would be a second answer to someone else's request.
            let answered = body.answered_ids();
            let ours = |id: &RawValue| ids.iter().any(|mine| message::same_id(mine, id));
            if answered.is_empty() || !answered.iter().all(|id| ours(id)) {
                tracing::warn!(
                    "dropped an answer to the batch that answers none or others of its requests"
                );
                return Ok(Vec::new());
            }
            self.emit(body.line).await;
            return Ok(answered);
        }
        let mut events = EventStream::new(response, self.max_message);
        let mut answered: Vec<Box<RawValue>> = Vec::new();
        while let Some(Ok(event)) = events.next_message().await {
            let fresh: Vec<Box<RawValue>> = event
                .answered_ids()
                .into_iter()
                .filter(|id| ids.iter().any(|ours| message::same_id(ours, id)))
                .filter(|id| !answered.iter().any(|done| message::same_id(done, id)))
                .collect();
            match event.kind().map(|kind| matches!(kind, FromServer::Message)) {
                Ok(true) => self.emit(event.line).await,
                Ok(false) if !fresh.is_empty() => {
                    answered.extend(fresh);
                    self.emit(event.line).await;
                }
                Ok(false) => tracing::warn!("dropped a response to no request of the batch"),
                Err(problem) => tracing::warn!("dropped an event that is {problem}"),
            }
            if !ids.is_empty() && answered.len() == ids.len() {
                break;
            }
        }
        Ok(answered)
    }

    /// Session and era-2 bookkeeping after a successful answer.
    pub(super) fn after_response(&self, message: &Message, outcome: &Outcome) {
        let Outcome::Response(line) = outcome else {
            return;
        };
        match message.method.as_deref() {
            Some("initialize") => self.negotiated(line),
            Some("tools/list") if message.era2_version.is_some() => {
                if let Ok(value) = serde_json::from_slice::<Value>(line)
                    && let Some(result) = value.get("result")
                {
                    self.tool_maps
                        .lock()
                        .unwrap()
                        .get_or_insert_with(ToolHeaderMaps::default)
                        .learn(result);
                }
            }
            _ => {}
        }
    }

    /// The headers of the POST for `message`; also returns the session generation
    /// when a session id was sent.
    fn post_headers_for(&self, message: &Message, token: &Secret) -> (HeaderMap, Option<u64>) {
        let (headers, generation) = match &message.era2_version {
            Some(version) => {
                let mut headers = self.post_headers(token, None);
                let maps = self.tool_maps.lock().unwrap();
                era2::mirror_headers(
                    &mut headers,
                    version,
                    message.method.as_deref().unwrap_or(""),
                    message.params.as_ref(),
                    maps.as_ref(),
                );
                (headers, None)
            }
            None => {
                let session = self.session.lock().unwrap();
                let headers = self.post_headers(token, Some(&session));
                (headers, session.sent_generation())
            }
        };
        (headers, generation)
    }

    /// The headers of a POST for this token and era-1 session (`None` for era 2),
    /// built once and cloned per request: every request of a session sends the
    /// same ones.
    fn post_headers(&self, token: &Secret, session: Option<&Session>) -> HeaderMap {
        let (id, version) = session.map_or((None, None), |s| {
            (s.id.as_ref(), s.protocol_version.as_ref())
        });
        let mut template = self.post_template.lock().unwrap();
        if let Some(cached) = template.as_ref()
            && cached.token == *token
            && cached.session_id.as_ref() == id
            && cached.protocol_version.as_ref() == version
        {
            return cached.headers.clone();
        }
        let mut headers = self.base_headers(token);
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT_BOTH));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(session) = session {
            session.add_headers(&mut headers);
        }
        *template = Some(PostTemplate {
            token: token.clone(),
            session_id: id.cloned(),
            protocol_version: version.cloned(),
            headers: headers.clone(),
        });
        headers
    }

    /// `--header`s and the token (none for an empty token: an unauthenticated probe).
    pub(super) fn base_headers(&self, token: &Secret) -> HeaderMap {
        let mut headers = self.extra_headers.clone();
        if !token.is_empty()
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
        {
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    pub(super) async fn bearer(&self) -> Result<Secret, Failure> {
        Ok(self.auth.bearer().await?)
    }

    pub(super) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Fetches `tools/list` on the client's behalf when an era-2 `tools/call` names
    /// a tool whose `x-mcp-header` annotations are unknown.
    async fn learn_tool_headers(&self, message: &Message) {
        let Some(tool) = message.tool_name() else {
            return;
        };
        let known = self
            .tool_maps
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|maps| maps.knows(tool));
        if known {
            return;
        }
        let envelope = message
            .params
            .as_ref()
            .map(era2::envelope_of)
            .unwrap_or_default();
        let mut maps = ToolHeaderMaps::default();
        let mut cursor: Option<String> = None;
        for page in 0..MAX_TOOL_PAGES {
            let Some(result) = self
                .tools_list_page(page, &envelope, cursor.as_deref())
                .await
            else {
                return;
            };
            maps.learn(&result);
            cursor = result
                .get("nextCursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        *self.tool_maps.lock().unwrap() = Some(maps);
    }

    /// One page of mcpgw's own era-2 `tools/list`; `None` when it failed.
    async fn tools_list_page(
        &self,
        page: usize,
        envelope: &serde_json::Map<String, Value>,
        cursor: Option<&str>,
    ) -> Option<Value> {
        let mut params = serde_json::json!({ "_meta": envelope });
        if let Some(cursor) = cursor {
            params["cursor"] = Value::String(cursor.to_owned());
        }
        let id = format!("mcpgw-tools-list-{page}");
        let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params});
        let list = message::parse(Bytes::from(body.to_string()), false).ok()?;
        let response = match self.post(&list).await.ok()?.posted {
            Posted::Success(response) => response,
            Posted::Refused { status, .. } => {
                tracing::debug!("tools/list for x-mcp-header discovery failed: HTTP {status}");
                return None;
            }
        };
        let raw_id = list.id.as_deref()?;
        let Outcome::Response(line) = self.read_response(response, raw_id, false).await.ok()?
        else {
            return None;
        };
        let mut value = serde_json::from_slice::<Value>(&line).ok()?;
        value.get_mut("result").map(Value::take)
    }
}

pub(super) async fn read_error_body(mut response: reqwest::Response) -> Bytes {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    Bytes::from(body)
}

/// `--header 'Name: value'` with `${VAR}` expanded from the environment.
pub fn parse_extra_headers(
    specs: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> CliResult<HeaderMap> {
    let hint = "give each header as -H 'Name: value'; ${VAR} takes a value from the environment";
    let mut headers = HeaderMap::new();
    for spec in specs {
        let bad = |why: &str| CliError::usage(format!("--header `{spec}`: {why}")).with_hint(hint);
        let (name, value) = spec
            .split_once(':')
            .ok_or_else(|| bad("not `Name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|err| bad("bad header name").with_source(err))?;
        let value = expand_env(value.trim(), env).map_err(|why| bad(&why))?;
        let mut value = HeaderValue::from_str(&value)
            .map_err(|err| bad("the value is not a valid header value").with_source(err))?;
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(headers)
}

fn expand_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "`${` without a closing `}`".to_owned())?;
        let name = &after[..end];
        let value = env(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_headers_expand_env() {
        let env = |name: &str| (name == "TENANT").then(|| "t-1".to_owned());
        let headers = parse_extra_headers(
            &["X-Tenant: ${TENANT}/x".into(), "X-Plain:  v ".into()],
            &env,
        )
        .unwrap();
        assert_eq!(headers["x-tenant"], "t-1/x");
        assert_eq!(headers["x-plain"], "v");
        let err = parse_extra_headers(&["X-A: ${NOPE}".into()], &env).unwrap_err();
        assert!(err.message.contains("NOPE is not set"), "{err}");
        assert!(parse_extra_headers(&["no colon".into()], &env).is_err());
    }
}
