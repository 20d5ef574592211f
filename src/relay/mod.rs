//! The stdio ⇄ Streamable HTTP relay.
//!
//! Why not rmcp's transports: rmcp's `StreamableHttpClientTransport` and its
//! stdio transport deserialise every message into typed `ClientJsonRpcMessage` /
//! `ServerJsonRpcMessage` enums and serialise them again. A relay must be
//! transparent: unknown methods, extra fields, and protocol revisions newer than
//! the crate (the 2026-07-28 envelope) must pass byte for byte, and a 10 MB tool
//! result should not be rebuilt as a tree of values. So the relay moves the bytes
//! it receives and peeks at only the fields it routes on (`message.rs`); rmcp's
//! SSE decoder (`sse-stream`) is used for the event streams.
//!
//! Shape: one thread reads stdin lines, one writes stdout lines, and a
//! current-thread runtime runs one task per in-flight request. Notifications and
//! the client's responses are POSTed in order before the next line is read, so
//! `notifications/initialized` reaches the server before the requests after it.

mod era2;
pub mod errors;
pub mod filter;
mod message;
mod sse;
mod stdio;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use url::Url;

use crate::auth::{Auth, AuthError};
use crate::cli::RelayArgs;
use crate::config::ResolvedService;
use crate::relay::era2::ToolHeaderMaps;
use crate::relay::errors::{code, jsonrpc_error};
use crate::relay::filter::ToolPolicy;
use crate::relay::message::{Kind, Message};
use crate::secret::Secret;
use crate::relay::sse::{EventStream, one_line};

const ACCEPT_BOTH: &str = "application/json, text/event-stream";
const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// How many times a request's event stream is resumed without new events.
const MAX_RESUMES: u32 = 5;
const DEFAULT_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);
const SHUTDOWN_DELETE_TIMEOUT: Duration = Duration::from_secs(2);
/// How much of an error body goes into a JSON-RPC error message.
const SNIPPET_CHARS: usize = 300;

pub async fn run(
    target: ResolvedService,
    args: &RelayArgs,
    auth: Auth,
    http: reqwest::Client,
) -> anyhow::Result<()> {
    let extra_headers = parse_extra_headers(&args.headers, &|name| std::env::var(name).ok())?;
    let policy = ToolPolicy::new(&target.filter, args)?;
    let stdio = crate::relay::stdio::start()?;
    let (mut lines, out_tx, mut stdout_closed, writer) =
        (stdio.lines, stdio.out, stdio.stdout_closed, stdio.writer);

    tracing::info!(url = %target.url, service = %target.name, "relaying stdio to upstream");
    let relay = Arc::new(Relay {
        url: target.url,
        http,
        auth,
        out: out_tx,
        timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        extra_headers,
        session: Mutex::new(Session::default()),
        reinit_lock: tokio::sync::Mutex::new(()),
        in_flight: Mutex::new(HashMap::new()),
        tool_maps: Mutex::new(None),
        get_stream: Mutex::new(None),
        policy,
        era2_seen: AtomicBool::new(false),
        post_template: Mutex::new(None),
    });

    let mut tasks = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let ending = loop {
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = &mut shutdown => break Ending::Signal,
            _ = &mut stdout_closed => break Ending::StdoutClosed,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let Some(line) = line else { break Ending::Eof };
        let inline = relay.clone().dispatch(line, &mut tasks);
        if let Some(inline) = inline {
            tokio::select! {
                _ = inline => {}
                _ = &mut shutdown => break Ending::Signal,
                _ = &mut stdout_closed => break Ending::StdoutClosed,
            }
        }
    };
    tracing::debug!(?ending, in_flight = tasks.len(), "shutting down");
    match ending {
        // The client may still read answers to what it sent before closing stdin.
        Ending::Eof => {
            tokio::select! {
                _ = async { while tasks.join_next().await.is_some() {} } => {}
                _ = &mut shutdown => tasks.shutdown().await,
            }
        }
        Ending::Signal | Ending::StdoutClosed => tasks.shutdown().await,
    }
    relay.end_session().await;
    drop(relay);
    // The writer ends once every sender is gone and the queue is flushed.
    writer.finish().await;
    Ok(())
}

#[derive(Debug)]
enum Ending {
    Eof,
    Signal,
    StdoutClosed,
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[derive(Default)]
struct Session {
    id: Option<HeaderValue>,
    protocol_version: Option<HeaderValue>,
    /// The client's initialize request, replayed when the session expires.
    initialize: Option<Bytes>,
    initialized: bool,
    /// Bumped on every re-initialize, so concurrent 404s re-initialize once.
    generation: u64,
}

struct Relay {
    url: Url,
    http: reqwest::Client,
    auth: Auth,
    out: mpsc::Sender<Bytes>,
    timeout: Option<Duration>,
    extra_headers: HeaderMap,
    session: Mutex<Session>,
    reinit_lock: tokio::sync::Mutex<()>,
    /// In-flight era-2 requests by id, for cancellation.
    in_flight: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    /// `x-mcp-header` annotations learned from era-2 `tools/list` results.
    tool_maps: Mutex<Option<ToolHeaderMaps>>,
    get_stream: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Tool filtering (`--allow-tool`, `--deny-tool`, `--read-only`); `None` costs nothing.
    policy: Option<ToolPolicy>,
    /// The client has sent 2026-07-28 requests.
    era2_seen: AtomicBool,
    /// POST headers for the current token (see `post_headers`).
    post_template: Mutex<Option<(Secret, HeaderMap)>>,
}

/// Why a request could not be answered by the upstream; becomes a JSON-RPC error.
#[derive(Debug)]
struct Failure {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl Failure {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl From<AuthError> for Failure {
    fn from(err: AuthError) -> Self {
        Failure::new(code::AUTH, err.to_string())
    }
}

/// How a response body is consumed.
enum Outcome {
    /// The JSON-RPC response to the request, ready for stdout.
    Response(Bytes),
    /// An HTTP error whose body was itself a JSON-RPC answer for this request.
    Forward(Bytes),
}

impl Relay {
    /// Routes one stdin line. Requests run as tasks; anything that must be
    /// ordered is returned as a future for the caller to finish first.
    fn dispatch(
        self: Arc<Self>,
        line: Bytes,
        tasks: &mut JoinSet<()>,
    ) -> Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> {
        let message = match message::parse(line, self.policy.is_some()) {
            Ok(message) => message,
            Err(rejected) => {
                tracing::warn!("rejected a stdin line: {}", rejected.message);
                let error = jsonrpc_error(
                    rejected.id.as_deref(),
                    rejected.code,
                    &rejected.message,
                    None,
                );
                return Some(Box::pin(async move { self.emit(error).await }));
            }
        };
        if let (Some(policy), Some("tools/call")) = (&self.policy, message.method.as_deref())
            && let Err(rule) = policy.check_call(message.tool_name().unwrap_or(""))
        {
            tracing::info!("{rule}");
            let error = jsonrpc_error(message.id.as_deref(), code::TOOL_FILTERED, &rule, None);
            return Some(Box::pin(async move { self.emit(error).await }));
        }
        match message.kind {
            // initialize is a barrier: nothing after it makes sense before the session exists.
            Kind::Request if message.method.as_deref() == Some("initialize") => {
                Some(Box::pin(self.request(message)))
            }
            Kind::Request => {
                // Only era-2 requests can be cancelled by closing their stream.
                let era2_key = message
                    .era2_version
                    .as_ref()
                    .and(message.id.as_ref())
                    .map(|id| id.get().to_owned());
                let abort = tasks.spawn(self.clone().request(message));
                if let Some(key) = era2_key {
                    self.era2_seen.store(true, Ordering::Relaxed);
                    self.in_flight.lock().unwrap().insert(key, abort);
                }
                None
            }
            Kind::Notification
                if message.method.as_deref() == Some("notifications/cancelled")
                    && self.cancel_era2(&message) =>
            {
                None
            }
            Kind::Notification | Kind::Response => Some(Box::pin(self.one_way(message))),
            Kind::Batch => {
                tasks.spawn(self.clone().batch(message));
                None
            }
        }
    }

    /// Era 2 has no client→server notifications: cancelling an era-2 request means
    /// closing its stream. Returns whether the notification was consumed here.
    fn cancel_era2(&self, message: &Message) -> bool {
        let Some(target) = message.cancelled_request() else {
            return false;
        };
        let key = target.to_string();
        match self.in_flight.lock().unwrap().remove(&key) {
            Some(abort) => {
                abort.abort();
                tracing::debug!(request = %key, "cancelled an era-2 request by closing its stream");
                true
            }
            // Not an era-2 request in flight: finished already: in era 2 there is nothing to send; in era 1 the
            // server may still want to hear it.
            None => {
                message.era2_version.is_some()
                    || (self.era2_seen.load(Ordering::Relaxed)
                        && self.session.lock().unwrap().initialize.is_none())
            }
        }
    }

    async fn emit(&self, line: impl Into<Bytes>) {
        // A closed channel means shutdown is under way; the line has nowhere to go.
        let _ = self.out.send(line.into()).await;
    }

    async fn request(self: Arc<Self>, message: Message) {
        let id = message.id.clone();
        let era2 = message.era2_version.is_some();
        let exchange = self.exchange(&message);
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, exchange).await.unwrap_or_else(|_| {
                Err(Failure::new(
                    code::TIMEOUT,
                    format!(
                        "no answer from the MCP server within {}s; the request was abandoned (raise --timeout for slow tools)",
                        limit.as_secs()
                    ),
                ))
            }),
            None => exchange.await,
        };
        match result {
            Ok(Outcome::Response(line) | Outcome::Forward(line)) => self.emit(line).await,
            Err(failure) => {
                tracing::warn!(
                    method = message.method.as_deref().unwrap_or(""),
                    "request failed: {}",
                    failure.message
                );
                self.emit(jsonrpc_error(
                    id.as_deref(),
                    failure.code,
                    &failure.message,
                    failure.data.as_ref(),
                ))
                .await;
            }
        }
        if let Some(id) = id.as_ref().filter(|_| era2) {
            self.in_flight.lock().unwrap().remove(id.get());
        }
    }

    /// POSTs a request (re-authenticating or re-initializing once when needed)
    /// and relays everything the server sends until the response arrives.
    async fn exchange(self: &Arc<Self>, message: &Message) -> Result<Outcome, Failure> {
        let id = message.id.as_deref().expect("requests have ids");
        let era2 = message.era2_version.is_some();
        if era2 && message.method.as_deref() == Some("tools/call") {
            self.learn_tool_headers(message).await;
        }
        let mut auth_retried = false;
        let mut reinitialized = false;
        loop {
            let token = self.auth.bearer().await?;
            let (request, session_generation) = self.post(message, &token);
            let response = request.send().await.map_err(|err| self.unreachable(err))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !auth_retried {
                auth_retried = true;
                if self.auth.rejected(&token).await?.is_some() {
                    continue;
                }
            }
            if status.is_success() {
                if status == StatusCode::ACCEPTED {
                    return Err(Failure::new(
                        code::UPSTREAM_PROTOCOL,
                        "the MCP server accepted the request but sent no response (HTTP 202)",
                    ));
                }
                if message.method.as_deref() == Some("initialize") {
                    self.begin_session(message, &response);
                }
                let outcome = self.read_response(response, id, true).await?;
                return Ok(self.after_response(message, outcome));
            }
            let body = read_error_body(response).await;
            if let Some(generation) = session_generation
                && !reinitialized
                && session_gone(status, &body)
            {
                reinitialized = true;
                tracing::info!("the MCP session expired; starting a new one");
                self.reinitialize(generation).await?;
                continue;
            }
            return self.http_failure(status, &body, id);
        }
    }

    /// Post-processing of a successful response: session bookkeeping and
    /// era-2 header learning.
    fn after_response(&self, message: &Message, outcome: Outcome) -> Outcome {
        let Outcome::Response(line) = &outcome else {
            return outcome;
        };
        match message.method.as_deref() {
            Some("initialize") => {
                let version = serde_json::from_slice::<Value>(line).ok().and_then(|v| {
                    v.pointer("/result/protocolVersion")?
                        .as_str()
                        .map(str::to_owned)
                });
                if let Some(version) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    self.session.lock().unwrap().protocol_version = Some(version);
                }
            }
            Some("tools/list") if message.era2_version.is_some() || self.policy.is_some() => {
                let Ok(mut value) = serde_json::from_slice::<Value>(line) else {
                    return outcome;
                };
                let Some(result) = value.get_mut("result") else {
                    return outcome;
                };
                if message.era2_version.is_some() {
                    self.tool_maps
                        .lock()
                        .unwrap()
                        .get_or_insert_with(ToolHeaderMaps::default)
                        .learn(result);
                }
                if let Some(policy) = &self.policy {
                    policy.filter_tools_list(result);
                    return Outcome::Response(Bytes::from(
                        serde_json::to_vec(&value).expect("a Value serialises"),
                    ));
                }
            }
            _ => {}
        }
        outcome
    }

    fn begin_session(&self, message: &Message, response: &reqwest::Response) {
        let mut session = self.session.lock().unwrap();
        session.id = response.headers().get(SESSION_HEADER).cloned();
        session.protocol_version = None;
        session.initialize = Some(message.body.clone());
        session.initialized = false;
        if let Some(id) = &session.id {
            tracing::debug!(session = ?id, "session started");
        }
    }

    /// Builds the POST for `message`. Also returns the session generation when a
    /// session id was sent (a 404 then means the session is gone).
    fn post(&self, message: &Message, token: &Secret) -> (reqwest::RequestBuilder, Option<u64>) {
        let mut headers = self.post_headers(token);
        let mut generation = None;
        if let Some(version) = &message.era2_version {
            let maps = self.tool_maps.lock().unwrap();
            era2::mirror_headers(
                &mut headers,
                version,
                message.method.as_deref().unwrap_or(""),
                message.params.as_ref(),
                maps.as_ref(),
            );
        } else {
            generation = self.session_headers(&mut headers);
        }
        (
            self.http
                .post(self.url.clone())
                .headers(headers)
                .body(message.body.clone()),
            generation,
        )
    }

    /// The headers every POST carries, built once per token rather than per request.
    fn post_headers(&self, token: &Secret) -> HeaderMap {
        let mut template = self.post_template.lock().unwrap();
        if let Some((for_token, headers)) = template.as_ref()
            && for_token == token
        {
            return headers.clone();
        }
        let mut headers = self.base_headers(token);
        headers.insert(header::ACCEPT, HeaderValue::from_static(ACCEPT_BOTH));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        *template = Some((token.clone(), headers.clone()));
        headers
    }

    fn base_headers(&self, token: &Secret) -> HeaderMap {
        let mut headers = self.extra_headers.clone();
        if let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", token.expose())) {
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    /// Adds the session id and negotiated version; returns the generation if a
    /// session id was added.
    fn session_headers(&self, headers: &mut HeaderMap) -> Option<u64> {
        let session = self.session.lock().unwrap();
        if let Some(version) = &session.protocol_version {
            headers.insert(VERSION_HEADER, version.clone());
        }
        let id = session.id.clone()?;
        headers.insert(SESSION_HEADER, id);
        Some(session.generation)
    }

    /// Reads a successful response to the request `id`: a JSON body, or an event
    /// stream whose other messages go to stdout (when `relay_others`) as they
    /// arrive, resumed with GET + Last-Event-ID if the server closes it early.
    async fn read_response(
        &self,
        response: reqwest::Response,
        id: &RawValue,
        relay_others: bool,
    ) -> Result<Outcome, Failure> {
        if !is_event_stream(&response) {
            let body = read_body(response).await.map_err(|err| self.broken(err))?;
            if body.trim_ascii().is_empty() {
                return Err(Failure::new(
                    code::UPSTREAM_PROTOCOL,
                    "the MCP server sent an empty response",
                ));
            }
            return Ok(Outcome::Response(one_line(body)));
        }
        let mut events = EventStream::new(response);
        let mut resumes = 0;
        loop {
            let mut progressed = false;
            while let Some(message) = events.next_message().await {
                let message = match message {
                    Ok(message) => message,
                    Err(err) => {
                        tracing::debug!("event stream broke: {err}");
                        break;
                    }
                };
                progressed = true;
                if message::is_response_to(&message, id) {
                    return Ok(Outcome::Response(message));
                }
                if relay_others {
                    self.emit(message).await;
                }
            }
            let Some(last_event_id) = events.last_event_id.clone() else {
                return Err(Failure::new(
                    code::UPSTREAM_PROTOCOL,
                    "the MCP server closed the event stream before answering, and gave no event id to resume from",
                ));
            };
            resumes = if progressed { 1 } else { resumes + 1 };
            if resumes > MAX_RESUMES {
                return Err(Failure::new(
                    code::UPSTREAM_PROTOCOL,
                    format!(
                        "the MCP server's event stream kept closing without an answer ({MAX_RESUMES} resumes)"
                    ),
                ));
            }
            tokio::time::sleep(events.retry.unwrap_or(DEFAULT_RETRY).min(MAX_RETRY)).await;
            tracing::debug!(last_event_id, "resuming the event stream");
            let response = self.get_events(Some(&last_event_id)).await?;
            let retry = events.retry;
            events = EventStream::new(response);
            events.last_event_id = Some(last_event_id);
            events.retry = retry;
        }
    }

    /// A GET for an event stream, with the session and, when resuming, `Last-Event-ID`.
    fn get_request(&self, token: &Secret, last_event_id: Option<&str>) -> reqwest::RequestBuilder {
        let mut headers = self.base_headers(token);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        self.session_headers(&mut headers);
        if let Some(last) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.insert("last-event-id", last);
        }
        self.http.get(self.url.clone()).headers(headers)
    }

    /// Opens a GET event stream (for resumption or server-initiated messages).
    async fn get_events(&self, last_event_id: Option<&str>) -> Result<reqwest::Response, Failure> {
        let token = self.auth.bearer().await?;
        let response = self
            .get_request(&token, last_event_id)
            .send()
            .await
            .map_err(|err| self.unreachable(err))?;
        if response.status().is_success() && is_event_stream(&response) {
            return Ok(response);
        }
        let status = response.status();
        let body = read_error_body(response).await;
        Err(Failure::new(
            code::UPSTREAM_PROTOCOL,
            format!(
                "could not resume the event stream: HTTP {status}{}",
                snippet_suffix(&body)
            ),
        ))
    }

    /// POSTs a notification or a response to a server request; nothing goes back
    /// to the client, so failures are logged.
    async fn one_way(self: Arc<Self>, message: Message) {
        let initialized = message.method.as_deref() == Some("notifications/initialized");
        let mut auth_retried = false;
        let mut reinitialized = false;
        loop {
            let token = match self.auth.bearer().await {
                Ok(token) => token,
                Err(err) => return tracing::warn!("could not send {}: {err}", describe(&message)),
            };
            let (request, session_generation) = self.post(&message, &token);
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => {
                    return tracing::warn!(
                        "could not send {}: {}",
                        describe(&message),
                        self.unreachable(err).message
                    );
                }
            };
            let status = response.status();
            if status.is_success() {
                // A 200 with a body is allowed; any messages in it still belong to the client.
                if is_event_stream(&response) {
                    let mut events = EventStream::new(response);
                    while let Some(Ok(line)) = events.next_message().await {
                        self.emit(line).await;
                    }
                }
                if initialized {
                    self.session.lock().unwrap().initialized = true;
                    self.start_get_stream();
                }
                return;
            }
            if status == StatusCode::UNAUTHORIZED && !auth_retried {
                auth_retried = true;
                if matches!(self.auth.rejected(&token).await, Ok(Some(_))) {
                    continue;
                }
            }
            let body = read_error_body(response).await;
            if let Some(generation) = session_generation
                && !reinitialized
                && !initialized
                && session_gone(status, &body)
            {
                reinitialized = true;
                if self.reinitialize(generation).await.is_ok() {
                    continue;
                }
            }
            return tracing::warn!(
                "the MCP server refused {}: HTTP {status}{}",
                describe(&message),
                snippet_suffix(&body)
            );
        }
    }

    async fn batch(self: Arc<Self>, message: Message) {
        let result = async {
            let token = self.auth.bearer().await?;
            let (request, _) = self.post(&message, &token);
            let response = request.send().await.map_err(|err| self.unreachable(err))?;
            if response.status() == StatusCode::ACCEPTED {
                return Ok(());
            }
            if !response.status().is_success() {
                let status = response.status();
                let body = read_error_body(response).await;
                return Err(Failure::new(
                    code::UPSTREAM_HTTP,
                    format!("HTTP {status}{}", snippet_suffix(&body)),
                ));
            }
            if is_event_stream(&response) {
                let mut events = EventStream::new(response);
                while let Some(Ok(line)) = events.next_message().await {
                    self.emit(line).await;
                }
            } else {
                let body = read_body(response).await.map_err(|err| self.broken(err))?;
                if !body.trim_ascii().is_empty() {
                    self.emit(one_line(body)).await;
                }
            }
            Ok::<(), Failure>(())
        }
        .await;
        if let Err(failure) = result {
            tracing::warn!("batch failed: {}", failure.message);
            self.emit(jsonrpc_error(None, failure.code, &failure.message, None))
                .await;
        }
    }

    /// Starts a new session after the old one expired: replays the client's
    /// initialize and `notifications/initialized`. The client never sees it.
    async fn reinitialize(self: &Arc<Self>, stale_generation: u64) -> Result<(), Failure> {
        let _guard = self.reinit_lock.lock().await;
        let (initialize, was_initialized) = {
            let mut session = self.session.lock().unwrap();
            if session.generation != stale_generation {
                return Ok(()); // another request already did it
            }
            session.id = None;
            session.protocol_version = None;
            (session.initialize.clone(), session.initialized)
        };
        let initialize = initialize.ok_or_else(|| {
            Failure::new(
                code::UPSTREAM_PROTOCOL,
                "the MCP session expired before it was initialized; restart the client",
            )
        })?;
        let replay = message::parse(initialize, false)
            .map_err(|r| Failure::new(code::UPSTREAM_PROTOCOL, r.message))?;
        let token = self.auth.bearer().await?;
        let (request, _) = self.post(&replay, &token);
        let response = request.send().await.map_err(|err| self.unreachable(err))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_error_body(response).await;
            return Err(Failure::new(
                code::UPSTREAM_HTTP,
                format!(
                    "the MCP session expired and a new one could not be started: HTTP {status}{}",
                    snippet_suffix(&body)
                ),
            ));
        }
        self.begin_session(&replay, &response);
        let id = replay.id.as_deref().expect("initialize is a request");
        let outcome = self.read_response(response, id, false).await?;
        self.after_response(&replay, outcome);
        {
            let mut session = self.session.lock().unwrap();
            session.generation += 1;
        }
        if was_initialized {
            let note = message::parse(
                Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
                false,
            )
            .expect("static notification parses");
            let token = self.auth.bearer().await?;
            let (request, _) = self.post(&note, &token);
            let response = request.send().await.map_err(|err| self.unreachable(err))?;
            if !response.status().is_success() {
                tracing::warn!(
                    "the new session refused notifications/initialized: HTTP {}",
                    response.status()
                );
            }
            self.session.lock().unwrap().initialized = true;
            self.start_get_stream();
        }
        Ok(())
    }

    /// Fetches `tools/list` on the client's behalf when an era-2 `tools/call` names
    /// a tool whose `x-mcp-header` annotations are unknown.
    async fn learn_tool_headers(&self, message: &Message) {
        let Some(tool) = message.tool_name() else {
            return;
        };
        if self
            .tool_maps
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|maps| maps.knows(tool))
        {
            return;
        }
        let envelope = message
            .params
            .as_ref()
            .map(era2::envelope_of)
            .unwrap_or_default();
        let mut maps = ToolHeaderMaps::default();
        let mut cursor: Option<String> = None;
        for page in 0..20 {
            let mut params = serde_json::json!({ "_meta": envelope });
            if let Some(cursor) = &cursor {
                params["cursor"] = Value::String(cursor.clone());
            }
            let id = format!("\"mcpgw-tools-list-{page}\"");
            let body = serde_json::json!({"jsonrpc": "2.0", "id": format!("mcpgw-tools-list-{page}"), "method": "tools/list", "params": params});
            let Ok(list) = message::parse(Bytes::from(body.to_string()), false) else {
                return;
            };
            let Ok(token) = self.auth.bearer().await else {
                return;
            };
            let (request, _) = self.post(&list, &token);
            let Ok(response) = request.send().await else {
                return;
            };
            if !response.status().is_success() {
                return tracing::debug!(
                    "tools/list for x-mcp-header discovery failed: HTTP {}",
                    response.status()
                );
            }
            let raw_id = RawValue::from_string(id).expect("quoted id is JSON");
            let Ok(Outcome::Response(line)) = self.read_response(response, &raw_id, false).await
            else {
                return;
            };
            let Ok(value) = serde_json::from_slice::<Value>(&line) else {
                return;
            };
            let Some(result) = value.get("result") else {
                return;
            };
            maps.learn(result);
            cursor = result
                .get("nextCursor")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        let mut learned = self.tool_maps.lock().unwrap();
        let target = learned.get_or_insert_with(ToolHeaderMaps::default);
        *target = maps;
    }

    /// The standalone GET stream for server-initiated messages (era 1).
    fn start_get_stream(self: &Arc<Self>) {
        let mut slot = self.get_stream.lock().unwrap();
        if let Some(previous) = slot.take() {
            previous.abort();
        }
        let relay = Arc::clone(self);
        *slot = Some(tokio::spawn(async move { relay.run_get_stream().await }));
    }

    async fn run_get_stream(&self) {
        let mut last_event_id: Option<String> = None;
        let mut delay = DEFAULT_RETRY;
        let mut failures = 0u32;
        loop {
            if self.session.lock().unwrap().initialize.is_none() {
                return;
            }
            let token = match self.auth.bearer().await {
                Ok(token) => token,
                Err(_) => return,
            };
            match self
                .get_request(&token, last_event_id.as_deref())
                .send()
                .await
            {
                Ok(response) if response.status().is_success() && is_event_stream(&response) => {
                    tracing::debug!("GET event stream open");
                    failures = 0;
                    let mut events = EventStream::new(response);
                    events.last_event_id = last_event_id.take();
                    while let Some(Ok(line)) = events.next_message().await {
                        self.emit(line).await;
                    }
                    last_event_id = events.last_event_id;
                    if let Some(retry) = events.retry {
                        delay = retry.min(MAX_RETRY);
                    }
                }
                Ok(response) if response.status() == StatusCode::METHOD_NOT_ALLOWED => {
                    return tracing::debug!("the MCP server offers no GET event stream");
                }
                Ok(response)
                    if matches!(
                        response.status(),
                        StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ) =>
                {
                    // The next request re-initializes or re-authenticates and restarts the stream.
                    return tracing::debug!("GET event stream refused: HTTP {}", response.status());
                }
                Ok(response) if response.status().is_client_error() => {
                    // Any other 4xx: this server has no usable GET stream; asking again won't help.
                    return tracing::debug!("no GET event stream: HTTP {}", response.status());
                }
                Ok(response) => {
                    failures += 1;
                    tracing::debug!("GET event stream refused: HTTP {}", response.status());
                }
                Err(err) => {
                    failures += 1;
                    tracing::debug!("GET event stream failed: {err}");
                }
            }
            let backoff = delay * 2u32.saturating_pow(failures.min(6));
            tokio::time::sleep(backoff.min(MAX_RETRY)).await;
        }
    }

    /// Ends the session at shutdown: DELETE (a 405 or 404 is fine).
    async fn end_session(&self) {
        let get = self.get_stream.lock().unwrap().take();
        if let Some(get) = get {
            get.abort();
            // Resolves once the task is dropped, releasing its hold on the relay.
            let _ = get.await;
        }
        // No session, nothing to end; and no token wanted (that could join a pending login).
        if self.session.lock().unwrap().id.is_none() {
            return;
        }
        let Ok(token) = self.auth.bearer().await else {
            return;
        };
        let mut headers = self.base_headers(&token);
        if self.session_headers(&mut headers).is_none() {
            return;
        }
        let request = self
            .http
            .request(Method::DELETE, self.url.clone())
            .headers(headers)
            .send();
        match tokio::time::timeout(SHUTDOWN_DELETE_TIMEOUT, request).await {
            Ok(Ok(response)) => tracing::debug!("session ended: HTTP {}", response.status()),
            Ok(Err(err)) => tracing::debug!("could not end the session: {err}"),
            Err(_) => tracing::debug!("no answer to the session DELETE"),
        }
    }

    fn unreachable(&self, err: reqwest::Error) -> Failure {
        let host = self.url.host_str().unwrap_or("the MCP server");
        let mut cause = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(inner) = source {
            cause = inner.to_string();
            source = inner.source();
        }
        let what = if err.is_timeout() {
            "timed out connecting to"
        } else {
            "cannot reach"
        };
        Failure::new(
            code::UPSTREAM_UNREACHABLE,
            format!("{what} the MCP server at {host}: {cause}. Check the network and proxy settings (HTTPS_PROXY) and the service URL (`mcpgw services list`)"),
        )
        .with_data(serde_json::json!({ "url": self.url.as_str() }))
    }

    fn broken(&self, err: reqwest::Error) -> Failure {
        Failure::new(
            code::UPSTREAM_PROTOCOL,
            format!("the MCP server's response broke off: {err}"),
        )
    }

    /// Maps an HTTP error to a JSON-RPC error, or forwards the body when it is
    /// already a JSON-RPC error for this request.
    fn http_failure(
        &self,
        status: StatusCode,
        body: &Bytes,
        id: &RawValue,
    ) -> Result<Outcome, Failure> {
        if let Some(forward) = jsonrpc_error_body(body, id) {
            return Ok(Outcome::Forward(forward));
        }
        let snippet = snippet(body);
        let advice = match status {
            StatusCode::UNAUTHORIZED => {
                return Err(Failure::new(
                    code::AUTH,
                    format!(
                        "the MCP server rejected the token (HTTP 401{}); run `mcpgw login` (or check MCPGW_BEARER_TOKEN / --token-command)",
                        if snippet.is_empty() { String::new() } else { format!(": {snippet}") }
                    ),
                )
                .with_data(serde_json::json!({ "status": 401, "body": snippet })));
            }
            StatusCode::FORBIDDEN if snippet.contains("insufficient_scope") => {
                "the token lacks a scope this server needs: add it to oauth.scope in the config and run `mcpgw login`"
            }
            StatusCode::FORBIDDEN => {
                "the signed-in user may not use this MCP server (it must belong to the account that owns it)"
            }
            StatusCode::NOT_FOUND => {
                "no MCP server at this URL: check the service URL with `mcpgw services list`"
            }
            StatusCode::TOO_MANY_REQUESTS => "the server is rate limiting: wait and try again",
            s if s.is_server_error() => "the MCP server failed: try again later",
            _ => "the MCP server refused the request",
        };
        Err(Failure::new(
            code::UPSTREAM_HTTP,
            format!(
                "HTTP {status} from the MCP server{}: {advice}",
                if snippet.is_empty() {
                    String::new()
                } else {
                    format!(" ({snippet})")
                }
            ),
        )
        .with_data(serde_json::json!({ "status": status.as_u16(), "body": snippet })))
    }
}

fn describe(message: &Message) -> String {
    match (&message.method, message.kind) {
        (Some(method), _) => format!("`{method}`"),
        (None, Kind::Response) => "a response to the server".to_owned(),
        _ => "a message".to_owned(),
    }
}

/// The whole body. Chunks are copied into one buffer as they arrive and dropped,
/// so a 10 MB result is held about once rather than as chunks plus a copy; a body
/// that arrives in one chunk is passed on without a copy.
async fn read_body(mut response: reqwest::Response) -> Result<Bytes, reqwest::Error> {
    let expected = response.content_length().unwrap_or(0) as usize;
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut body = Vec::with_capacity(expected.max(first.len() + second.len()));
    body.extend_from_slice(&first);
    body.extend_from_slice(&second);
    drop((first, second));
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        })
}

/// A 404 on a request that carried a session id means the session is gone. Some
/// servers (the TypeScript SDK's) answer 400 "No valid session ID" instead.
fn session_gone(status: StatusCode, body: &Bytes) -> bool {
    status == StatusCode::NOT_FOUND
        || (status == StatusCode::BAD_REQUEST
            && String::from_utf8_lossy(body)
                .to_ascii_lowercase()
                .contains("session"))
}

const MAX_ERROR_BODY: usize = 64 * 1024;

async fn read_error_body(mut response: reqwest::Response) -> Bytes {
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

/// An error body that is a JSON-RPC error: forwarded with the request's id (a
/// server that could not read the id answers with `null`).
fn jsonrpc_error_body(body: &Bytes, id: &RawValue) -> Option<Bytes> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    if !error.is_object() || value.get("method").is_some() {
        return None;
    }
    match value.get("id") {
        Some(theirs) if !theirs.is_null() => {
            let theirs = serde_json::value::to_raw_value(theirs).ok()?;
            message::same_id(&theirs, id).then(|| one_line(body.clone()))
        }
        _ => {
            let code = error
                .get("code")
                .and_then(Value::as_i64)
                .unwrap_or(code::UPSTREAM_HTTP);
            let text = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("error");
            Some(Bytes::from(jsonrpc_error(
                Some(id),
                code,
                text,
                error.get("data"),
            )))
        }
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

fn snippet_suffix(body: &[u8]) -> String {
    let snippet = snippet(body);
    if snippet.is_empty() {
        String::new()
    } else {
        format!(": {snippet}")
    }
}

/// `--header 'Name: value'` with `${VAR}` expanded from the environment.
fn parse_extra_headers(
    specs: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for spec in specs {
        let (name, value) = spec
            .split_once(':')
            .with_context(|| format!("--header `{spec}` is not `Name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .with_context(|| format!("--header `{spec}`: bad header name"))?;
        let value = expand_env(value.trim(), env).with_context(|| format!("--header {name}"))?;
        let mut value = HeaderValue::from_str(&value)
            .with_context(|| format!("--header {name}: the value is not a valid header value"))?;
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(headers)
}

fn expand_env(text: &str, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').context("`${` without a closing `}`")?;
        let name = &after[..end];
        let value = env(name).with_context(|| format!("environment variable {name} is not set"))?;
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
        assert!(format!("{err:#}").contains("NOPE is not set"));
        assert!(parse_extra_headers(&["no colon".into()], &env).is_err());
    }

    #[test]
    fn session_gone_on_404_or_session_400() {
        assert!(session_gone(StatusCode::NOT_FOUND, &Bytes::new()));
        assert!(session_gone(
            StatusCode::BAD_REQUEST,
            &Bytes::from_static(b"Bad Request: No valid session ID provided")
        ));
        assert!(!session_gone(
            StatusCode::BAD_REQUEST,
            &Bytes::from_static(b"bad params")
        ));
    }

    #[test]
    fn error_bodies_forward_with_the_request_id() {
        let id = RawValue::from_string("3".into()).unwrap();
        let same = Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":3,"error":{"code":-32020,"message":"mismatch"}}"#,
        );
        assert_eq!(jsonrpc_error_body(&same, &id).unwrap(), same);
        let null = Bytes::from_static(
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"no session"}}"#,
        );
        let forwarded: Value =
            serde_json::from_slice(&jsonrpc_error_body(&null, &id).unwrap()).unwrap();
        assert_eq!(forwarded["id"], 3);
        assert_eq!(forwarded["error"]["message"], "no session");
        assert!(jsonrpc_error_body(&Bytes::from_static(b"<html>"), &id).is_none());
        let other =
            Bytes::from_static(br#"{"jsonrpc":"2.0","id":4,"error":{"code":1,"message":"x"}}"#);
        assert!(jsonrpc_error_body(&other, &id).is_none());
    }

    #[test]
    fn snippets_are_short_and_single_line() {
        let long = "x".repeat(1000);
        assert_eq!(snippet(long.as_bytes()).chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(snippet(b"a\n  b"), "a b");
    }
}
