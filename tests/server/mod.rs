//! A scriptable MCP Streamable HTTP upstream for exact transport tests.
//!
//! It listens on 127.0.0.1 (port chosen by the OS, bound before `start` returns),
//! records every request it sees (method, path, headers, body) and behaves like a
//! strict MCP server by default: bearer token check, `Mcp-Session-Id` issued on
//! `initialize` and required afterwards, JSON replies, 202 for notifications and
//! responses, 405 for GET. Each test changes what it needs:
//!
//! ```ignore
//! let gate = Gate::new();
//! let server = TestServer::builder()
//!     .sse_replies()                       // answer requests with SSE
//!     .gated_tool("slow", gate.clone())    // tools/call "slow" waits for the test
//!     .on("tools/list", |req| Reply::Json(rpc_result(req, json!({"tools": []}))))
//!     .start()
//!     .await;
//! // ... drive the relay ...
//! let call = server.wait_for_rpc("tools/call").await;
//! gate.open();
//! ```
//!
//! Waiting is event driven (a watch channel bumped on every change) with a
//! generous deadline that fails the test; nothing here sleeps.

// Each test uses a different slice of this upstream.
#![allow(dead_code)]

pub mod tls;

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// The "method" under which [`Builder::on`] scripts the reply to a JSON-RPC batch.
pub const BATCH: &str = "[batch]";

/// The bearer token the upstream accepts unless the builder says otherwise.
pub const TOKEN: &str = "test-token-5f1c";
/// How long any wait may take before the test fails: generous, because CI
/// machines are shared, yet a passing test never waits for it.
pub const WAIT: Duration = Duration::from_secs(10);
/// The `protocolVersion` the upstream answers `initialize` with unless the builder
/// says otherwise (deliberately not the newest, so tests see the negotiated one).
pub const PROTOCOL_VERSION: &str = "2025-06-18";
/// Retry delay announced in priming events: short, so resumption tests are fast.
pub const RETRY_MS: u64 = 20;
/// The era-2 protocol revision.
pub const ERA2_VERSION: &str = "2026-07-28";

// ---- gates -------------------------------------------------------------------

/// A one-way latch the test opens to let a held-back reply continue. Opening
/// before anyone waits is fine: the latch stays open.
#[derive(Clone)]
pub struct Gate(Arc<watch::Sender<bool>>);

impl Gate {
    pub fn new() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }

    pub fn open(&self) {
        self.0.send_replace(true);
    }

    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`, so this only returns once opened.
        let _ = rx.wait_for(|open| *open).await;
    }
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

// ---- scripted replies --------------------------------------------------------

/// What the upstream answers to one POSTed message.
pub enum Reply {
    /// 200 `application/json` with this message (or SSE when `sse_replies()` is on).
    Json(Value),
    /// 200 `text/event-stream` with these steps.
    Sse(Vec<Ev>),
    /// 202 Accepted, no body.
    Accepted,
    /// Any status with a body and content type, e.g. a 500 with an HTML page.
    Status {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Hold the reply until the gate opens. If the client goes away meanwhile, the
    /// request is counted as aborted (see [`TestServer::wait_aborted`]).
    Gated(Gate, Box<Reply>),
    /// Exactly these bytes, status and headers (invalid UTF-8, redirects, ...).
    Raw {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// 200 with this content type and a body that begins as a message (a JSON
    /// answer, or an event's data) and never ends: only a size limit stops it.
    Endless(&'static str),
    /// 200 `application/json` with a body of `x` that never ends.
    EndlessJunk,
}

impl Reply {
    pub fn status(status: u16, content_type: &'static str, body: impl Into<String>) -> Self {
        Self::Status {
            status,
            content_type,
            body: body.into(),
        }
    }

    pub fn gated(gate: &Gate, reply: Reply) -> Self {
        Self::Gated(gate.clone(), Box::new(reply))
    }
}

/// One step of an SSE reply. Events get ids `ev-1`, `ev-2`, ... (unique per server).
pub enum Ev {
    /// The priming event: an id, `retry:` [`RETRY_MS`] and empty data.
    Prime,
    /// A message event carrying this JSON-RPC message.
    Msg(Value),
    /// Bytes written as they are (for framing edge cases).
    Raw(String),
    /// Pause the stream until the gate opens.
    Wait(Gate),
    /// End the stream here; the remaining steps are served to a GET whose
    /// `Last-Event-ID` is the last id sent, as a resumable server would.
    CloseEarly,
}

type Handler = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// `{"jsonrpc":"2.0","id":<req.id>,"result":result}`
pub fn rpc_result(req: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"].clone(), "result": result})
}

/// `{"jsonrpc":"2.0","id":<req.id>,"error":{"code","message"}}`
pub fn rpc_error(req: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"].clone(), "error": {"code": code, "message": message}})
}

/// A notification message (server → client).
pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// The built-in `tools/call` answer: the arguments echoed back as text.
pub fn echo_result(req: &Value) -> Value {
    let args = req["params"]["arguments"].clone();
    rpc_result(
        req,
        json!({"content": [{"type": "text", "text": args.to_string()}], "isError": false}),
    )
}

/// The built-in tool list. `lookup` has `x-mcp-header` annotations for era 2.
pub fn tool_list() -> Value {
    json!({"tools": [
        {"name": "echo", "description": "Echoes its arguments",
         "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}}},
        {"name": "slow", "description": "Answers when the test lets it",
         "inputSchema": {"type": "object"}},
        {"name": "lookup", "description": "Routes by region",
         "inputSchema": {"type": "object", "properties": {
             "region": {"type": "string", "x-mcp-header": "Region"},
             "count": {"type": "integer", "x-mcp-header": "Count"},
             "dryRun": {"type": "boolean", "x-mcp-header": "Dry-Run"},
             "query": {"type": "string"}
         }}}
    ]})
}

/// True when the message carries the era-2 (2026-07-28) per-request envelope.
pub fn is_era2(message: &Value) -> bool {
    message["params"]["_meta"]
        .get("io.modelcontextprotocol/protocolVersion")
        .is_some()
}

// ---- what was seen -----------------------------------------------------------

/// One HTTP request as the upstream received it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The client's address: the same port means the same (kept-alive) connection.
    pub peer: SocketAddr,
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Standalone GET streams open when this request arrived.
    pub get_streams_open: usize,
}

impl Seen {
    /// The header's value (the first, if repeated); `None` when absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("header value is ASCII"))
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers.get_all(name).iter().count()
    }

    /// The body parsed as JSON; panics (failing the test) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body of {} {} is not JSON ({err}): {:?}",
                self.method, self.path, self.body
            )
        })
    }

    /// The JSON-RPC method of a POSTed message.
    pub fn rpc_method(&self) -> Option<String> {
        if self.method != Method::POST {
            return None;
        }
        serde_json::from_slice::<Value>(&self.body).ok()?["method"]
            .as_str()
            .map(str::to_owned)
    }

    pub fn rpc_id(&self) -> Option<Value> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()?
            .get("id")
            .cloned()
    }

    pub fn is(&self, method: Method) -> bool {
        self.method == method
    }
}

// ---- the server --------------------------------------------------------------

#[derive(Clone)]
struct Settings {
    token: Option<String>,
    sessions: bool,
    unknown_session_status: StatusCode,
    protocol_version: Option<String>,
    sse_replies: bool,
    get_stream: bool,
    /// How long a GET waits before it is answered.
    get_delay: Duration,
    /// Every GET is answered with this event-stream text, then the stream ends.
    get_raw: Option<String>,
    delete_status: Option<StatusCode>,
}

pub struct Builder {
    settings: Settings,
    handlers: HashMap<String, Handler>,
}

impl Builder {
    /// Accept this bearer token only (default [`TOKEN`]); `None` accepts any request.
    pub fn token(mut self, token: Option<&str>) -> Self {
        self.settings.token = token.map(str::to_owned);
        self
    }

    /// Issue no `Mcp-Session-Id` and check none (default: sessions on).
    pub fn no_sessions(mut self) -> Self {
        self.settings.sessions = false;
        self
    }

    /// Status for a request with an unknown session (default 404; server-everything
    /// answers 400 with a body that mentions the session).
    pub fn unknown_session_status(mut self, status: u16) -> Self {
        self.settings.unknown_session_status = StatusCode::from_u16(status).unwrap();
        self
    }

    /// Answer `initialize` with this `protocolVersion` (default [`PROTOCOL_VERSION`]).
    pub fn protocol_version(mut self, version: &str) -> Self {
        self.settings.protocol_version = Some(version.to_owned());
        self
    }

    /// Send `Reply::Json` answers to requests as SSE: a priming event, then the message.
    pub fn sse_replies(mut self) -> Self {
        self.settings.sse_replies = true;
        self
    }

    /// Offer a standalone GET SSE stream (default: 405).
    /// Answer every GET with this event-stream text and end the stream.
    pub fn get_raw(mut self, text: &str) -> Self {
        self.settings.get_raw = Some(text.to_owned());
        self
    }

    pub fn get_stream(mut self) -> Self {
        self.settings.get_stream = true;
        self
    }

    /// Answer each GET only after `delay` (a server slow to open its stream).
    pub fn get_delay(mut self, delay: Duration) -> Self {
        self.settings.get_delay = delay;
        self
    }

    /// Answer every DELETE with this status (default: 200 for a live session, else 404).
    pub fn delete_status(mut self, status: u16) -> Self {
        self.settings.delete_status = Some(StatusCode::from_u16(status).unwrap());
        self
    }

    /// Script the reply to messages with this JSON-RPC method (requests and
    /// notifications). The handler gets the parsed message.
    pub fn on(
        mut self,
        method: &str,
        handler: impl Fn(&Value) -> Reply + Send + Sync + 'static,
    ) -> Self {
        self.handlers.insert(method.to_owned(), Arc::new(handler));
        self
    }

    /// `tools/call` of tool `name` answers (the echo) only once `gate` opens;
    /// other tools answer at once.
    pub fn gated_tool(self, name: &str, gate: Gate) -> Self {
        let name = name.to_owned();
        self.on("tools/call", move |req| {
            if req["params"]["name"] == name.as_str() {
                Reply::gated(&gate, Reply::Json(echo_result(req)))
            } else {
                Reply::Json(echo_result(req))
            }
        })
    }

    /// Binds 127.0.0.1:0 and starts serving; the port is open when this returns.
    pub async fn start(self) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            settings: self.settings,
            handlers: self.handlers,
            log: Mutex::new(Vec::new()),
            changed: watch::channel(0).0,
            sessions: Mutex::new(HashSet::new()),
            next_session: AtomicU64::new(1),
            next_event: AtomicU64::new(1),
            remainders: Mutex::new(HashMap::new()),
            get_streams: Mutex::new(Vec::new()),
            aborted: Mutex::new(Vec::new()),
            panicked: AtomicBool::new(false),
            unused_ok: AtomicBool::new(false),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app)
                .await
                .expect("test upstream failed");
        });
        TestServer { addr, shared, task }
    }
}

struct Shared {
    settings: Settings,
    handlers: HashMap<String, Handler>,
    log: Mutex<Vec<Seen>>,
    /// Bumped on every change a test may wait for.
    changed: watch::Sender<u64>,
    sessions: Mutex<HashSet<String>>,
    next_session: AtomicU64,
    next_event: AtomicU64,
    /// Steps not yet sent when an SSE reply closed early, by last event id.
    remainders: Mutex<HashMap<String, VecDeque<Ev>>>,
    /// Open standalone GET streams; `None` closes one.
    get_streams: Mutex<Vec<mpsc::UnboundedSender<Option<Value>>>>,
    /// JSON-RPC ids of requests whose client went away before the reply finished.
    aborted: Mutex<Vec<Value>>,
    /// A handler panicked: the test fails when the server is dropped.
    panicked: AtomicBool,
    /// The test expects no request at all (see [`TestServer::expect_no_requests`]).
    unused_ok: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler must not hide the recorded requests from the test.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn bump(&self) {
        self.changed.send_modify(|n| *n += 1);
    }

    fn next_event_id(&self) -> String {
        format!("ev-{}", self.next_event.fetch_add(1, Ordering::Relaxed))
    }
}

pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// Like xh's test server: a server that was never asked anything, or whose
/// handler panicked (axum would only have answered 500), fails the test.
impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
        if std::thread::panicking() {
            return;
        }
        if self.shared.panicked.load(Ordering::SeqCst) {
            panic!("a handler of the test upstream panicked (its message is above)");
        }
        if !self.shared.unused_ok.load(Ordering::SeqCst) && lock(&self.shared.log).is_empty() {
            panic!(
                "the test upstream at {} was never hit; if that is the point of the test, call expect_no_requests()",
                self.addr
            );
        }
    }
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder {
            settings: Settings {
                token: Some(TOKEN.to_owned()),
                sessions: true,
                unknown_session_status: StatusCode::NOT_FOUND,
                protocol_version: None,
                sse_replies: false,
                get_stream: false,
                get_delay: Duration::ZERO,
                get_raw: None,
                delete_status: None,
            },
            handlers: HashMap::new(),
        }
    }

    /// A server with all defaults.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:PORT` with no path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/mcp`, the MCP endpoint tests point the relay at.
    pub fn url(&self) -> String {
        format!("{}/mcp", self.base_url())
    }

    /// The test checks that nothing reaches this server: dropping it unused is fine.
    pub fn expect_no_requests(&self) {
        self.shared.unused_ok.store(true, Ordering::SeqCst);
    }

    /// Everything seen so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        lock(&self.shared.log).clone()
    }

    pub fn posts(&self) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == Method::POST)
            .collect()
    }

    /// POSTs of JSON-RPC `method`, in order.
    pub fn rpcs(&self, method: &str) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.rpc_method().as_deref() == Some(method))
            .collect()
    }

    pub fn of_method(&self, method: Method) -> Vec<Seen> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }

    /// Ids of requests the client abandoned before their reply finished.
    pub fn aborted(&self) -> Vec<Value> {
        lock(&self.shared.aborted).clone()
    }

    /// Session ids issued and still valid.
    pub fn live_sessions(&self) -> Vec<String> {
        lock(&self.shared.sessions).iter().cloned().collect()
    }

    /// Forget every session, so the next request with a session id gets the
    /// unknown-session status (404 by default).
    pub fn expire_sessions(&self) {
        lock(&self.shared.sessions).clear();
    }

    /// Send a message on every open standalone GET stream.
    pub fn push_get(&self, message: Value) {
        let mut streams = lock(&self.shared.get_streams);
        streams.retain(|s| !s.is_closed());
        assert!(!streams.is_empty(), "no GET stream is open");
        for stream in streams.iter() {
            let _ = stream.send(Some(message.clone()));
        }
    }

    /// End every open standalone GET stream (the client should reconnect).
    pub fn close_get_streams(&self) {
        for stream in lock(&self.shared.get_streams).drain(..) {
            let _ = stream.send(None);
        }
    }

    /// Waits until `check` holds, failing the test after [`WAIT`] with `what`
    /// and everything recorded.
    pub async fn wait_until(&self, what: &str, mut check: impl FnMut(&Self) -> bool) {
        let mut rx = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            rx.borrow_and_update();
            if check(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                panic!(
                    "test upstream: gave up after {WAIT:?} waiting for {what}; seen:\n{}",
                    self.describe()
                );
            }
        }
    }

    /// Fails the test if a request matching `pred` arrives within `quiet`. Only
    /// for asserting that something does NOT happen too early; never a way to
    /// wait for something.
    pub async fn assert_none_within(
        &self,
        what: &str,
        quiet: Duration,
        pred: impl Fn(&Seen) -> bool,
    ) {
        let mut rx = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            rx.borrow_and_update();
            // Clone out first: `describe` takes the same lock.
            let found = lock(&self.shared.log).iter().find(|r| pred(r)).cloned();
            if let Some(seen) = found {
                panic!(
                    "test upstream: {what}: {} {} arrived; seen:\n{}",
                    seen.method,
                    seen.path,
                    self.describe()
                );
            }
            if tokio::time::timeout_at(deadline, rx.changed())
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// Waits until at least `n` requests were seen; returns them all.
    pub async fn wait_requests(&self, n: usize) -> Vec<Seen> {
        self.wait_until(&format!("{n} requests"), |s| lock(&s.shared.log).len() >= n)
            .await;
        self.requests()
    }

    /// Waits for the first request matching `pred` and returns it.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
        self.wait_until(what, |s| lock(&s.shared.log).iter().any(&pred))
            .await;
        self.requests().into_iter().find(|r| pred(r)).unwrap()
    }

    /// Waits until `n` POSTs of JSON-RPC `method` were seen; returns them.
    pub async fn wait_rpcs(&self, method: &str, n: usize) -> Vec<Seen> {
        self.wait_until(&format!("{n} × {method}"), |s| s.rpcs(method).len() >= n)
            .await;
        self.rpcs(method)
    }

    /// Waits for the first POST of JSON-RPC `method`.
    pub async fn wait_for_rpc(&self, method: &str) -> Seen {
        self.wait_rpcs(method, 1).await.remove(0)
    }

    /// Waits until `n` requests with this HTTP method were seen; returns them.
    pub async fn wait_method(&self, method: Method, n: usize) -> Vec<Seen> {
        self.wait_until(&format!("{n} × {method}"), |s| {
            s.of_method(method.clone()).len() >= n
        })
        .await;
        self.of_method(method)
    }

    /// Waits until `n` standalone GET streams are open at the same time.
    pub async fn wait_get_streams(&self, n: usize) {
        self.wait_until(&format!("{n} open GET streams"), |s| {
            let mut streams = lock(&s.shared.get_streams);
            streams.retain(|s| !s.is_closed());
            streams.len() >= n
        })
        .await;
    }

    /// Waits until `n` requests were abandoned by the client.
    pub async fn wait_aborted(&self, n: usize) -> Vec<Value> {
        self.wait_until(&format!("{n} aborted requests"), |s| {
            lock(&s.shared.aborted).len() >= n
        })
        .await;
        self.aborted()
    }

    /// One line per request seen, for failure messages.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for r in lock(&self.shared.log).iter() {
            let headers: Vec<String> = r
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
                .collect();
            out.push_str(&format!(
                "  {} {} from :{} [{}] {}\n",
                r.method,
                r.path,
                r.peer.port(),
                headers.join("; "),
                String::from_utf8_lossy(&r.body)
            ));
        }
        out
    }
}

// ---- request handling --------------------------------------------------------

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    use futures_util::FutureExt;
    let answer = std::panic::AssertUnwindSafe(respond(shared.clone(), peer, request));
    match answer.catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            shared.panicked.store(true, Ordering::SeqCst);
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "test upstream handler panicked".into(),
            )
        }
    }
}

async fn respond(shared: Arc<Shared>, peer: SocketAddr, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let seen = Seen {
        peer,
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers.clone(),
        body,
        get_streams_open: lock(&shared.get_streams)
            .iter()
            .filter(|stream| !stream.is_closed())
            .count(),
    };
    lock(&shared.log).push(seen.clone());
    shared.bump();

    if let Some(expected) = &shared.settings.token {
        let ok = seen
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {expected}"));
        if !ok {
            let mut response = plain(
                StatusCode::UNAUTHORIZED,
                "application/json",
                r#"{"error":"invalid_token"}"#.into(),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    r#"Bearer error="invalid_token", resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource""#,
                ),
            );
            return response;
        }
    }

    match seen.method {
        Method::POST => post(shared, seen).await,
        Method::GET => {
            tokio::time::sleep(shared.settings.get_delay).await;
            get(shared, seen)
        }
        Method::DELETE => delete(shared, seen),
        _ => plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "method not allowed".into(),
        ),
    }
}

async fn post(shared: Arc<Shared>, seen: Seen) -> Response {
    let content_type = seen.header("content-type").unwrap_or("");
    if !content_type.starts_with("application/json") {
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text/plain",
            "Content-Type must be application/json".into(),
        );
    }
    let accept = seen.header("accept").unwrap_or("");
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return plain(
            StatusCode::NOT_ACCEPTABLE,
            "text/plain",
            "Accept must list application/json and text/event-stream".into(),
        );
    }
    let Ok(message) = serde_json::from_slice::<Value>(&seen.body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}),
        );
    };
    if message.is_array() {
        let reply = match shared.handlers.get(BATCH) {
            Some(handler) => handler(&message),
            None => Reply::Accepted,
        };
        return render(shared, reply, Value::Null, Vec::new()).await;
    }
    let method = message["method"].as_str().map(str::to_owned);
    let is_request = method.is_some() && message.get("id").is_some();

    let mut extra_headers = Vec::new();
    if method.as_deref() == Some("initialize") {
        if shared.settings.sessions {
            let id = format!(
                "session-{}",
                shared.next_session.fetch_add(1, Ordering::Relaxed)
            );
            lock(&shared.sessions).insert(id.clone());
            extra_headers.push(("mcp-session-id", id));
        }
    } else if !is_era2(&message)
        && let Some(response) = check_session(&shared, &seen)
    {
        return response;
    }

    let handler = method
        .as_deref()
        .and_then(|m| shared.handlers.get(m))
        .cloned();
    let reply = match (handler, is_request) {
        (Some(handler), _) => handler(&message),
        (None, false) => Reply::Accepted,
        (None, true) => builtin(&shared, &message),
    };
    render(shared, reply, message["id"].clone(), extra_headers).await
}

/// `None` when the request may proceed.
fn check_session(shared: &Shared, seen: &Seen) -> Option<Response> {
    if !shared.settings.sessions {
        return None;
    }
    match seen.header("mcp-session-id") {
        None => Some(json_response(
            StatusCode::BAD_REQUEST,
            &json!({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Bad Request: Mcp-Session-Id header is required"}}),
        )),
        Some(id) if lock(&shared.sessions).contains(id) => None,
        Some(_) => Some(json_response(
            shared.settings.unknown_session_status,
            &json!({"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}),
        )),
    }
}

fn builtin(shared: &Shared, req: &Value) -> Reply {
    let result = match req["method"].as_str().unwrap_or("") {
        "initialize" => {
            let version = shared
                .settings
                .protocol_version
                .clone()
                .unwrap_or_else(|| PROTOCOL_VERSION.to_owned());
            rpc_result(
                req,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": true}, "logging": {}},
                    "serverInfo": {"name": "mcpgw-test-upstream", "version": "0.0.0"}
                }),
            )
        }
        "tools/list" => rpc_result(req, tool_list()),
        "tools/call" => echo_result(req),
        "ping" => rpc_result(req, json!({})),
        other => rpc_error(req, -32601, &format!("Method not found: {other}")),
    };
    Reply::Json(result)
}

/// Marks a request aborted unless [`AbortGuard::done`] was called first.
struct AbortGuard {
    shared: Arc<Shared>,
    id: Value,
    done: bool,
}

impl AbortGuard {
    fn done(&mut self) {
        self.done = true;
    }
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.shared.aborted).push(self.id.clone());
            self.shared.bump();
        }
    }
}

async fn render(
    shared: Arc<Shared>,
    mut reply: Reply,
    id: Value,
    extra_headers: Vec<(&'static str, String)>,
) -> Response {
    let mut guard = AbortGuard {
        shared: shared.clone(),
        id,
        done: false,
    };
    // Dropping this future (the client hung up) drops the guard undone.
    while let Reply::Gated(gate, inner) = reply {
        gate.wait().await;
        reply = *inner;
    }
    if let Reply::Json(message) = &reply
        && shared.settings.sse_replies
    {
        reply = Reply::Sse(vec![Ev::Prime, Ev::Msg(message.clone())]);
    }
    let mut response = match reply {
        Reply::Json(message) => {
            guard.done();
            json_response(StatusCode::OK, &message)
        }
        Reply::Accepted => {
            guard.done();
            plain(StatusCode::ACCEPTED, "text/plain", String::new())
        }
        Reply::Status {
            status,
            content_type,
            body,
        } => {
            guard.done();
            plain(StatusCode::from_u16(status).unwrap(), content_type, body)
        }
        Reply::Sse(steps) => sse_response(sse_body(shared, steps.into(), Some(guard))),
        Reply::Raw {
            status,
            headers,
            body,
        } => {
            guard.done();
            let mut builder = Response::builder().status(status);
            for (name, value) in headers {
                builder = builder.header(name, value);
            }
            builder.body(Body::from(body)).unwrap()
        }
        Reply::Endless(content_type) => {
            guard.done();
            let start = match content_type {
                "text/event-stream" => "data: {\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\"",
                _ => "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"text\":\"",
            };
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = futures_util::StreamExt::chain(
                futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from_static(
                    start.as_bytes(),
                ))]),
                futures_util::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone())),
            );
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from_stream(stream))
                .unwrap()
        }
        Reply::EndlessJunk => {
            guard.done();
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream =
                futures_util::stream::repeat_with(move || Ok::<_, Infallible>(chunk.clone()));
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        Reply::Gated(..) => unreachable!("unwrapped above"),
    };
    for (name, value) in extra_headers {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_str(&value).unwrap());
    }
    response
}

fn get(shared: Arc<Shared>, seen: Seen) -> Response {
    if let Some(response) = check_session(&shared, &seen) {
        return response;
    }
    if let Some(last) = seen.header("last-event-id") {
        let remainder = lock(&shared.remainders).remove(last);
        if let Some(steps) = remainder {
            return sse_response(sse_body(shared, steps, None));
        }
    }
    if let Some(text) = &shared.settings.get_raw {
        return sse_response(Body::from(text.clone()));
    }
    if !shared.settings.get_stream {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "no GET stream here".into(),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
        return response;
    }
    let (tx, rx) = mpsc::unbounded_channel();
    lock(&shared.get_streams).push(tx);
    shared.bump();
    let priming = format!(
        "id: {}\nretry: {RETRY_MS}\ndata: \n\n",
        shared.next_event_id()
    );
    let stream = futures_util::stream::unfold(
        (Some(priming), rx, shared),
        |(priming, mut rx, shared)| async move {
            if let Some(chunk) = priming {
                return Some((Ok::<_, Infallible>(Bytes::from(chunk)), (None, rx, shared)));
            }
            let message = rx.recv().await.flatten()?;
            let chunk = format!(
                "id: {}\nevent: message\ndata: {message}\n\n",
                shared.next_event_id()
            );
            Some((Ok(Bytes::from(chunk)), (None, rx, shared)))
        },
    );
    sse_response(Body::from_stream(stream))
}

fn delete(shared: Arc<Shared>, seen: Seen) -> Response {
    if let Some(status) = shared.settings.delete_status {
        return plain(status, "text/plain", String::new());
    }
    let removed = seen
        .header("mcp-session-id")
        .is_some_and(|id| lock(&shared.sessions).remove(id));
    let status = if removed {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    plain(status, "text/plain", String::new())
}

struct SseState {
    steps: VecDeque<Ev>,
    shared: Arc<Shared>,
    guard: Option<AbortGuard>,
    last_id: Option<String>,
}

fn sse_body(shared: Arc<Shared>, steps: VecDeque<Ev>, guard: Option<AbortGuard>) -> Body {
    let state = SseState {
        steps,
        shared,
        guard,
        last_id: None,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            let chunk = match st.steps.pop_front() {
                None => {
                    if let Some(guard) = st.guard.as_mut() {
                        guard.done();
                    }
                    return None;
                }
                Some(Ev::Prime) => {
                    let id = st.shared.next_event_id();
                    let chunk = format!("id: {id}\nretry: {RETRY_MS}\ndata: \n\n");
                    st.last_id = Some(id);
                    chunk
                }
                Some(Ev::Msg(message)) => {
                    let id = st.shared.next_event_id();
                    let chunk = format!("id: {id}\nevent: message\ndata: {message}\n\n");
                    st.last_id = Some(id);
                    chunk
                }
                Some(Ev::Raw(text)) => text,
                Some(Ev::Wait(gate)) => {
                    gate.wait().await;
                    continue;
                }
                Some(Ev::CloseEarly) => {
                    let last = st
                        .last_id
                        .clone()
                        .expect("CloseEarly needs an event with an id before it");
                    let rest = std::mem::take(&mut st.steps);
                    lock(&st.shared.remainders).insert(last, rest);
                    if let Some(guard) = st.guard.as_mut() {
                        guard.done();
                    }
                    return None;
                }
            };
            return Some((Ok::<_, Infallible>(Bytes::from(chunk)), st));
        }
    });
    Body::from_stream(stream)
}

fn sse_response(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(body)
        .unwrap()
}

fn json_response(status: StatusCode, message: &Value) -> Response {
    plain(status, "application/json", message.to_string())
}

fn plain(status: StatusCode, content_type: &str, body: String) -> Response {
    let mut builder = Response::builder().status(status);
    if !body.is_empty() {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(Body::from(body)).unwrap()
}
