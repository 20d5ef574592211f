//! The stdio ⇄ Streamable HTTP relay: `mcpgw <SERVICE>`.
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
//! Shape: `stdio.rs` reads stdin lines and writes stdout lines (on the runtime
//! thread for pipes, on threads for terminals and files); a current-thread
//! runtime runs one task per in-flight request, each talking to the server
//! through the one [`Upstream`]. Notifications and the client's responses are
//! sent in order before the next line is read, so `notifications/initialized`
//! reaches the server before the requests after it.

pub(crate) mod era2;
pub mod errors;
pub mod filter;
pub mod message;
pub mod scan;
mod session;
pub(crate) mod sse;
mod stdio;
mod streams;
pub mod upstream;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::auth::Auth;
use crate::cli::RelayArgs;
use crate::config::ResolvedService;
use crate::error::CliResult;
use crate::relay::errors::{Failure, code, jsonrpc_error};
use crate::relay::filter::ToolPolicy;
use crate::relay::message::{Kind, Message};
use crate::relay::stdio::Input;
use crate::relay::upstream::{Outcome, Upstream, parse_extra_headers};

/// How long a notification or client response may hold up the lines after it:
/// until the server has accepted it, but no longer than this.
const ORDERING_WAIT: Duration = Duration::from_secs(2);
/// The deadline of a notification's or client response's POST (or `--timeout`,
/// when shorter): they are answered at once by any working server.
const ONE_WAY_TIMEOUT: Duration = Duration::from_secs(60);
/// After stdin closes and every request is answered, pending notifications get
/// this long before the relay exits.
const EOF_GRACE: Duration = Duration::from_secs(2);
/// Lines read ahead while a barrier holds them: enough to notice EOF, bounded so
/// a client that floods stdin meets backpressure instead of growing our memory.
const MAX_QUEUED_LINES: usize = 64;

pub async fn run(
    target: ResolvedService,
    args: &RelayArgs,
    auth: Auth,
    http: crate::http::Http,
) -> CliResult {
    let extra_headers = parse_extra_headers(&args.headers, &|name| std::env::var(name).ok())?;
    let policy = ToolPolicy::new(&target.filter, args)?;
    let stdio = stdio::start(args.max_message_size)?;
    let (mut lines, out, mut stdout_closed, writer) =
        (stdio.lines, stdio.out, stdio.stdout_closed, stdio.writer);

    tracing::info!(url = %target.url, service = %target.name, "relaying stdio to upstream");
    let timeout = (args.timeout > 0).then(|| Duration::from_secs(args.timeout));
    let relay = Arc::new(Relay {
        upstream: Upstream::new(
            target.url,
            &http,
            auth,
            extra_headers,
            args.max_message_size,
            out.clone(),
        ),
        out,
        timeout,
        one_way_timeout: timeout.map_or(ONE_WAY_TIMEOUT, |t| t.min(ONE_WAY_TIMEOUT)),
        max_message: args.max_message_size,
        in_flight: Mutex::new(HashMap::new()),
        policy,
        era2_seen: AtomicBool::new(false),
    });

    let mut tasks = Tasks::default();
    let mut queue: VecDeque<Input> = VecDeque::new();
    let mut barrier: Option<Barrier> = None;
    let mut stdin_open = true;
    let mut shutdown = std::pin::pin!(shutdown_signal());
    let ending = loop {
        // Finished tasks are collected here, when a line comes, rather than by
        // waking this loop for each: one wake-up less per request.
        tasks.reap();
        while barrier.is_none()
            && let Some(input) = queue.pop_front()
        {
            barrier = relay.clone().dispatch(input, &mut tasks);
        }
        if !stdin_open && queue.is_empty() && barrier.is_none() {
            break Ending::Eof;
        }
        tokio::select! {
            input = lines.recv(), if stdin_open && queue.len() < MAX_QUEUED_LINES => match input {
                Some(input) => queue.push_back(input),
                None => stdin_open = false,
            },
            _ = async { barrier.as_mut().expect("guarded").await }, if barrier.is_some() => {
                barrier = None;
            }
            _ = &mut shutdown => break Ending::Signal,
            _ = &mut stdout_closed => break Ending::StdoutClosed,
        }
    };
    tracing::debug!(?ending, in_flight = tasks.requests.len(), "shutting down");
    match ending {
        // The client may still read answers to what it sent before closing stdin.
        Ending::Eof => {
            tokio::select! {
                _ = async { while tasks.requests.join_next().await.is_some() {} } => {}
                _ = &mut shutdown => tasks.requests.shutdown().await,
                _ = &mut stdout_closed => tasks.requests.shutdown().await,
            }
            let pending = async { while tasks.one_way.join_next().await.is_some() {} };
            let _ = tokio::time::timeout(EOF_GRACE, pending).await;
        }
        Ending::Signal | Ending::StdoutClosed => tasks.requests.shutdown().await,
    }
    tasks.one_way.shutdown().await;
    relay.upstream.end_session().await;
    drop(relay);
    // The writer ends once every sender is gone and the queue is flushed.
    writer.finish().await;
    Ok(())
}

/// What the stdin loop waits for before it dispatches the next line: the server
/// has the `initialize`, the notification, or the client's response.
type Barrier = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Default)]
struct Tasks {
    /// Requests and batches: each ends with its answers written.
    requests: JoinSet<()>,
    /// Notifications and the client's responses.
    one_way: JoinSet<()>,
}

impl Tasks {
    /// Drops the tasks that have finished.
    fn reap(&mut self) {
        while self.requests.try_join_next().is_some() {}
        while self.one_way.try_join_next().is_some() {}
    }
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

struct Relay {
    upstream: Arc<Upstream>,
    out: mpsc::Sender<Bytes>,
    timeout: Option<Duration>,
    one_way_timeout: Duration,
    max_message: usize,
    /// In-flight era-2 requests by id, for cancellation.
    in_flight: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    /// Tool filtering (`--allow-tool`, `--deny-tool`, `--read-only`); `None` costs nothing.
    policy: Option<ToolPolicy>,
    /// The client has sent 2026-07-28 requests.
    era2_seen: AtomicBool,
}

impl Relay {
    /// Routes one stdin line. Everything runs as a task; what later lines must
    /// wait for is returned as a barrier.
    fn dispatch(self: Arc<Self>, input: Input, tasks: &mut Tasks) -> Option<Barrier> {
        let line = match input {
            Input::Line(line) => line,
            Input::TooLong => {
                let error = jsonrpc_error(
                    None,
                    code::INVALID_REQUEST,
                    &format!(
                        "the message is larger than the {} MiB limit (--max-message-size) and was not sent",
                        self.max_message >> 20
                    ),
                    None,
                );
                tracing::warn!("rejected a stdin line over the message size limit");
                tasks.requests.spawn(async move { self.emit(error).await });
                return None;
            }
        };
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
                tasks.requests.spawn(async move { self.emit(error).await });
                return None;
            }
        };
        if let Some(policy) = &self.policy
            && let Err(rule) = policy.check_message(&message)
        {
            tracing::info!("{rule}");
            let error = jsonrpc_error(message.id.as_deref(), code::TOOL_FILTERED, &rule, None);
            tasks.requests.spawn(async move { self.emit(error).await });
            return None;
        }
        match message.kind {
            // initialize is a barrier: nothing after it makes sense before the session exists.
            Kind::Request if message.method.as_deref() == Some("initialize") => {
                let (done, finished) = oneshot::channel::<()>();
                tasks.requests.spawn(async move {
                    self.request(message).await;
                    drop(done);
                });
                Some(Box::pin(async move {
                    let _ = finished.await;
                }))
            }
            Kind::Request => {
                // Only era-2 requests can be cancelled by closing their stream.
                let era2_key = message
                    .era2_version
                    .as_ref()
                    .and(message.id.as_ref())
                    .map(|id| id.get().to_owned());
                let abort = tasks.requests.spawn(self.clone().request(message));
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
            Kind::Notification | Kind::Response => {
                let (accepted, taken) = oneshot::channel();
                tasks.one_way.spawn(self.one_way(message, accepted));
                Some(Box::pin(async move {
                    let _ = tokio::time::timeout(ORDERING_WAIT, taken).await;
                }))
            }
            Kind::Batch => {
                tasks.requests.spawn(self.batch(message));
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
            // Not in flight (finished already): in era 2 there is nothing to send; in
            // era 1 the server may still want to hear it.
            None => {
                message.era2_version.is_some()
                    || (self.era2_seen.load(Ordering::Relaxed) && !self.upstream.has_initialize())
            }
        }
    }

    async fn emit(&self, line: impl Into<Bytes>) {
        // A closed channel means shutdown is under way; the line has nowhere to go.
        let _ = self.out.send(line.into()).await;
    }

    async fn request(self: Arc<Self>, message: Message) {
        let exchange = self.upstream.exchange(&message);
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .unwrap_or_else(|_| Err(timed_out(limit))),
            None => exchange.await,
        };
        let line = match result {
            Ok(outcome) => self.filtered(&message, outcome),
            Err(failure) => {
                tracing::warn!(
                    method = message.method.as_deref().unwrap_or(""),
                    "request failed: {}",
                    failure.message()
                );
                Bytes::from(failure.to_jsonrpc(message.id.as_deref()))
            }
        };
        self.emit(line).await;
        if let Some(id) = message
            .id
            .as_ref()
            .filter(|_| message.era2_version.is_some())
        {
            self.in_flight.lock().unwrap().remove(id.get());
        }
    }

    /// A `tools/list` result without the tools the policy hides. One that cannot
    /// be read is not passed on unfiltered: the client gets an error instead.
    fn filtered(&self, message: &Message, outcome: Outcome) -> Bytes {
        let (Some(policy), Some("tools/list"), Outcome::Response(line)) =
            (&self.policy, message.method.as_deref(), &outcome)
        else {
            return outcome.into_line();
        };
        let mut value = match serde_json::from_slice::<Value>(line) {
            Ok(value) => value,
            Err(err) => {
                tracing::warn!("cannot read the tools/list result to filter it: {err}");
                let failure = Failure::protocol(
                    "the MCP server's tools/list result could not be read, so the tool filter could not apply; it was withheld",
                );
                return Bytes::from(failure.to_jsonrpc(message.id.as_deref()));
            }
        };
        if let Some(result) = value.get_mut("result") {
            policy.filter_tools_list(result);
        }
        Bytes::from(serde_json::to_vec(&value).expect("a Value serialises"))
    }

    /// Notifications and the client's responses: nothing goes back to the
    /// client, so failures are logged.
    async fn one_way(self: Arc<Self>, message: Message, accepted: oneshot::Sender<()>) {
        let send = self.upstream.one_way(&message, Some(accepted));
        match tokio::time::timeout(self.one_way_timeout, send).await {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => {
                tracing::warn!(
                    "could not send {}: {}",
                    describe(&message),
                    failure.message()
                );
            }
            Err(_) => tracing::warn!(
                "the MCP server did not take {} within {}s; it was abandoned",
                describe(&message),
                self.one_way_timeout.as_secs()
            ),
        }
    }

    /// A batch gets one answer per request in it: the server's, or an error.
    /// With a tool filter, a batch holding any call the filter would block (or
    /// cannot read) is not sent at all.
    async fn batch(self: Arc<Self>, message: Message) {
        let items = message::batch_items(&message.body, self.policy.is_some());
        let ids: Vec<Box<RawValue>> = items
            .iter()
            .filter(|item| item.kind == Kind::Request)
            .filter_map(|item| item.id.clone())
            .collect();
        let blocked = self.policy.as_ref().and_then(|policy| {
            items
                .iter()
                .find_map(|item| policy.check_message(item).err())
        });
        if let Some(rule) = blocked {
            tracing::info!("batch not sent: {rule}");
            let failure = Failure::new(
                code::TOOL_FILTERED,
                format!("the batch was not sent: {rule}"),
            );
            return self.answer_each(&ids, &failure).await;
        }
        let send = self.upstream.batch(&message, &ids);
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, send)
                .await
                .unwrap_or_else(|_| Err(timed_out(limit))),
            None => send.await,
        };
        let (unanswered, failure): (Vec<Box<RawValue>>, Failure) = match result {
            Ok(answered) => (
                ids.into_iter()
                    .filter(|id| !answered.iter().any(|done| message::same_id(done, id)))
                    .collect(),
                Failure::protocol("the MCP server did not answer this request of the batch"),
            ),
            Err(failure) => (ids, failure),
        };
        if !unanswered.is_empty() {
            tracing::warn!(
                "batch: {} requests unanswered: {}",
                unanswered.len(),
                failure.message()
            );
        }
        self.answer_each(&unanswered, &failure).await;
    }

    async fn answer_each(&self, ids: &[Box<RawValue>], failure: &Failure) {
        for id in ids {
            self.emit(failure.to_jsonrpc(Some(id))).await;
        }
    }
}

fn timed_out(limit: Duration) -> Failure {
    Failure::new(
        code::TIMEOUT,
        format!("no answer from the MCP server within {}s", limit.as_secs()),
    )
    .with_fix("the request was abandoned (raise --timeout for slow tools)")
}

fn describe(message: &Message) -> String {
    match (&message.method, message.kind) {
        (Some(method), _) => format!("`{method}`"),
        (None, Kind::Response) => "a response to the server".to_owned(),
        _ => "a message".to_owned(),
    }
}
