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

mod era2;
pub mod errors;
pub mod filter;
pub mod message;
mod session;
mod sse;
mod stdio;
mod streams;
pub mod upstream;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::auth::Auth;
use crate::cli::RelayArgs;
use crate::config::ResolvedService;
use crate::error::CliResult;
use crate::relay::errors::{Failure, code, jsonrpc_error};
use crate::relay::filter::ToolPolicy;
use crate::relay::message::{Kind, Message};
use crate::relay::upstream::{Outcome, Upstream, parse_extra_headers};

pub async fn run(
    target: ResolvedService,
    args: &RelayArgs,
    auth: Auth,
    http: reqwest::Client,
) -> CliResult {
    let extra_headers = parse_extra_headers(&args.headers, &|name| std::env::var(name).ok())?;
    let policy = ToolPolicy::new(&target.filter, args)?;
    let stdio = stdio::start()?;
    let (mut lines, out, mut stdout_closed, writer) =
        (stdio.lines, stdio.out, stdio.stdout_closed, stdio.writer);

    tracing::info!(url = %target.url, service = %target.name, "relaying stdio to upstream");
    let relay = Arc::new(Relay {
        upstream: Upstream::new(target.url, http, auth, extra_headers, out.clone()),
        out,
        timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        in_flight: Mutex::new(HashMap::new()),
        policy,
        era2_seen: AtomicBool::new(false),
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
    relay.upstream.end_session().await;
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

struct Relay {
    upstream: Arc<Upstream>,
    out: mpsc::Sender<Bytes>,
    timeout: Option<Duration>,
    /// In-flight era-2 requests by id, for cancellation.
    in_flight: Mutex<HashMap<String, tokio::task::AbortHandle>>,
    /// Tool filtering (`--allow-tool`, `--deny-tool`, `--read-only`); `None` costs nothing.
    policy: Option<ToolPolicy>,
    /// The client has sent 2026-07-28 requests.
    era2_seen: AtomicBool,
}

type Inline = std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

impl Relay {
    /// Routes one stdin line. Requests run as tasks; anything that must be
    /// ordered is returned as a future for the caller to finish first.
    fn dispatch(self: Arc<Self>, line: Bytes, tasks: &mut JoinSet<()>) -> Option<Inline> {
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
        let id = message.id.clone();
        let era2 = message.era2_version.is_some();
        let exchange = self.upstream.exchange(&message);
        let result = match self.timeout {
            Some(limit) => tokio::time::timeout(limit, exchange)
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::new(
                        code::TIMEOUT,
                        format!("no answer from the MCP server within {}s", limit.as_secs()),
                    )
                    .with_fix("the request was abandoned (raise --timeout for slow tools)"))
                }),
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
                Bytes::from(failure.to_jsonrpc(id.as_deref()))
            }
        };
        self.emit(line).await;
        if let Some(id) = id.as_ref().filter(|_| era2) {
            self.in_flight.lock().unwrap().remove(id.get());
        }
    }

    /// A `tools/list` result without the tools the policy hides.
    fn filtered(&self, message: &Message, outcome: Outcome) -> Bytes {
        let (Some(policy), Some("tools/list"), Outcome::Response(line)) =
            (&self.policy, message.method.as_deref(), &outcome)
        else {
            return outcome.into_line();
        };
        let Ok(mut value) = serde_json::from_slice::<Value>(line) else {
            return outcome.into_line();
        };
        let Some(result) = value.get_mut("result") else {
            return outcome.into_line();
        };
        policy.filter_tools_list(result);
        Bytes::from(serde_json::to_vec(&value).expect("a Value serialises"))
    }

    /// Notifications and the client's responses: nothing goes back to the
    /// client, so failures are logged.
    async fn one_way(self: Arc<Self>, message: Message) {
        if let Err(failure) = self.upstream.one_way(&message).await {
            tracing::warn!(
                "could not send {}: {}",
                describe(&message),
                failure.message()
            );
        }
    }

    async fn batch(self: Arc<Self>, message: Message) {
        if let Err(failure) = self.upstream.batch(&message).await {
            tracing::warn!("batch failed: {}", failure.message());
            self.emit(failure.to_jsonrpc(None)).await;
        }
    }
}

fn describe(message: &Message) -> String {
    match (&message.method, message.kind) {
        (Some(method), _) => format!("`{method}`"),
        (None, Kind::Response) => "a response to the server".to_owned(),
        _ => "a message".to_owned(),
    }
}
