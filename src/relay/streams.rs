//! Reading answers: JSON bodies and event streams, resuming a stream that ends
//! before the answer (GET + `Last-Event-ID` after `retry`), and the standalone GET
//! stream for server-initiated messages.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::value::RawValue;
use tokio::sync::oneshot;

use crate::http::SendError;
use crate::relay::errors::{self, Failure, snippet_suffix};
use crate::relay::message::{self, FromServer, IncomingMessage, ServerMessage};
use crate::relay::sse::{EventStream, StreamError};
use crate::relay::upstream::{Outcome, Upstream, read_error_body};
use crate::secret::Secret;

/// How many times a request's event stream is resumed without new events.
const MAX_RESUMES: u32 = 5;
const DEFAULT_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Floors under the server's `retry`: resuming a request's answer may be quick;
/// reopening the standalone stream after it closed may not be.
const MIN_RESUME_DELAY: Duration = Duration::from_millis(20);
const MIN_RECONNECT_DELAY: Duration = Duration::from_secs(1);

impl Upstream {
    /// Reads a successful response to the request `id`: a JSON body, or an event
    /// stream whose other messages go to the sink (when `relay_others`) as they
    /// arrive, resumed with GET + Last-Event-ID if the server closes it early.
    /// Only checked JSON-RPC leaves here: the answer to `id`, or server messages.
    pub(super) async fn read_response(
        &self,
        response: reqwest::Response,
        id: &RawValue,
        relay_others: bool,
    ) -> Result<Outcome, Failure> {
        if !is_event_stream(&response) {
            let body = read_body(response, self.max_message).await?;
            return answer_in_body(body, id);
        }
        let mut events = EventStream::new(response, self.max_message);
        let mut resumes = 0;
        loop {
            let mut progressed = false;
            while let Some(message) = events.next_message().await {
                let message = match message {
                    Ok(message) => message,
                    Err(err) => {
                        if let StreamError::TooLarge(limit) = err {
                            return Err(too_large(limit));
                        }
                        tracing::debug!("event stream broke: {err}");
                        break;
                    }
                };
                progressed = true;
                match message.kind() {
                    Ok(FromServer::Response(Some(theirs))) if message::same_id(theirs, id) => {
                        return Ok(Outcome::Response(message.line));
                    }
                    // A request's own stream: an error without an id is its answer.
                    Ok(FromServer::Response(None)) => {
                        if let Some(answer) = errors::adopt_error(&message.line, id) {
                            return Ok(Outcome::Forward(answer));
                        }
                        tracing::warn!("dropped a response without an id from the MCP server");
                    }
                    Ok(FromServer::Message) if relay_others => self.emit(message.line).await,
                    Ok(FromServer::Message) => {}
                    Ok(FromServer::Response(Some(_)) | FromServer::Batch) => {
                        tracing::warn!(
                            "dropped a response to another request from the MCP server's stream"
                        );
                    }
                    Err(problem) => {
                        tracing::warn!("dropped an event from the MCP server that is {problem}");
                    }
                }
            }
            let Some(last_event_id) = events.last_event_id.clone() else {
                return Err(Failure::protocol(
                    "the MCP server closed the event stream before answering, and gave no event id to resume from",
                ));
            };
            resumes = if progressed { 1 } else { resumes + 1 };
            if resumes > MAX_RESUMES {
                return Err(Failure::protocol(format!(
                    "the MCP server's event stream kept closing without an answer ({MAX_RESUMES} resumes)"
                )));
            }
            tokio::time::sleep(retry_delay(events.retry, MIN_RESUME_DELAY)).await;
            tracing::debug!(last_event_id, "resuming the event stream");
            let response = self.get_events(Some(&last_event_id)).await?;
            let retry = events.retry;
            events = EventStream::new(response, self.max_message);
            events.last_event_id = Some(last_event_id);
            events.retry = retry;
        }
    }

    /// Relays the server's requests and notifications on a stream that answers no
    /// request of the client's (a notification's POST, the standalone GET stream).
    /// Responses there would be second answers to requests: they are dropped.
    pub(super) async fn relay_events(&self, events: &mut EventStream) {
        while let Some(message) = events.next_message().await {
            let message = match message {
                Ok(message) => message,
                Err(err) => {
                    tracing::debug!("event stream ended: {err}");
                    return;
                }
            };
            match message.kind() {
                Ok(FromServer::Message) => self.emit(message.line).await,
                Ok(FromServer::Response(_) | FromServer::Batch) => {
                    tracing::warn!(
                        "dropped a response the MCP server sent outside any request's stream"
                    );
                }
                Err(problem) => {
                    tracing::warn!("dropped an event from the MCP server that is {problem}");
                }
            }
        }
    }

    /// GETs an event stream, with the session and, when resuming, `Last-Event-ID`.
    async fn get(
        &self,
        token: &Secret,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response, SendError> {
        let mut headers = self.base_headers(token);
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
        self.session_headers(&mut headers);
        if let Some(last) = last_event_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            headers.insert("last-event-id", last);
        }
        self.endpoint()
            .send(Method::GET, headers, Bytes::new())
            .await
    }

    /// Opens a GET event stream to resume a request's answer.
    async fn get_events(&self, last_event_id: Option<&str>) -> Result<reqwest::Response, Failure> {
        let token = self.bearer().await?;
        let response = self
            .get(&token, last_event_id)
            .await
            .map_err(|err| self.unreachable(err))?;
        if response.status().is_success() && is_event_stream(&response) {
            return Ok(response);
        }
        let status = response.status();
        let body = read_error_body(response).await;
        Err(Failure::protocol(format!(
            "could not resume the event stream: HTTP {status}{}",
            snippet_suffix(&body)
        )))
    }

    /// The standalone GET stream for server-initiated messages (era 1). `answered`
    /// is let go once the server has answered the first GET (or it failed).
    pub(super) fn start_get_stream(self: &Arc<Self>, answered: Option<oneshot::Sender<()>>) {
        let mut slot = self.get_stream.lock().unwrap();
        if let Some(previous) = slot.take() {
            previous.abort();
        }
        let upstream = Arc::clone(self);
        *slot = Some(tokio::spawn(async move {
            upstream.run_get_stream(answered).await
        }));
    }

    async fn run_get_stream(&self, mut answered: Option<oneshot::Sender<()>>) {
        let mut last_event_id: Option<String> = None;
        let mut delay = DEFAULT_RETRY;
        let mut failures = 0u32;
        loop {
            if self.session.lock().unwrap().initialize.is_none() {
                return;
            }
            let Ok(token) = self.bearer().await else {
                return;
            };
            let response = self.get(&token, last_event_id.as_deref()).await;
            drop(answered.take());
            match response {
                Ok(response) if response.status().is_success() && is_event_stream(&response) => {
                    tracing::debug!("GET event stream open");
                    failures = 0;
                    let mut events = EventStream::new(response, self.max_message);
                    events.last_event_id = last_event_id.take();
                    self.relay_events(&mut events).await;
                    last_event_id = events.last_event_id;
                    if let Some(retry) = events.retry {
                        delay = retry_delay(Some(retry), MIN_RECONNECT_DELAY);
                    }
                }
                Ok(response) if response.status() == StatusCode::METHOD_NOT_ALLOWED => {
                    return tracing::debug!("the MCP server offers no GET event stream");
                }
                Ok(response) if response.status().is_client_error() => {
                    // 404/401/403: the next request re-initializes or re-authenticates and
                    // restarts the stream; any other 4xx: asking again won't help.
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
}

/// The whole body, at most `limit` bytes, checked as it arrives (`scan.rs`),
/// so the check is done when the last chunk is in. Chunks are copied into one
/// buffer (`message::IncomingMessage`) as they arrive and dropped, so a 10 MB
/// result is held about once rather than as chunks plus a copy; a body that
/// arrives in one chunk is passed on without a copy. A body that fails the
/// check is read no further: what came is enough to say what it was.
pub(super) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<ServerMessage, Failure> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit as u64 {
        return Err(too_large(limit));
    }
    let mut body = IncomingMessage::default();
    while let Some(chunk) = response.chunk().await.map_err(Failure::broken)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        if body.push_chunk(chunk).is_err() {
            break;
        }
    }
    Ok(body.finish())
}

/// A JSON answer to the request `id`, checked: JSON-RPC, UTF-8, the right id.
/// Anything else (a proxy's login page, another request's answer) is an error.
fn answer_in_body(body: ServerMessage, id: &RawValue) -> Result<Outcome, Failure> {
    if message::trim_json_space(&body.line).is_empty() {
        return Err(Failure::protocol("the MCP server sent an empty response"));
    }
    let problem = match body.kind() {
        Ok(FromServer::Response(Some(theirs))) if message::same_id(theirs, id) => {
            return Ok(Outcome::Response(body.line));
        }
        Ok(FromServer::Response(None)) => match errors::adopt_error(&body.line, id) {
            Some(answer) => return Ok(Outcome::Forward(answer)),
            None => "a response without an id".to_owned(),
        },
        Ok(FromServer::Response(Some(_))) => "the answer to another request".to_owned(),
        Ok(FromServer::Message | FromServer::Batch) => "not a response".to_owned(),
        Err(problem) => problem,
    };
    Err(Failure::protocol(format!(
        "the MCP server's answer is {problem}{}",
        snippet_suffix(&body.line)
    ))
    .with_fix(
        "if a proxy or captive portal answered in the server's place, check HTTPS_PROXY/NO_PROXY \
         or sign in to the network; otherwise report it to the server's owner",
    ))
}

fn too_large(limit: usize) -> Failure {
    Failure::protocol(format!(
        "the MCP server's message is larger than the {} MiB limit",
        limit >> 20
    ))
    .with_fix(
        "raise --max-message-size (MCPGW_MAX_MESSAGE_SIZE) if such large results are expected",
    )
}

/// The server's `retry` hint within bounds: never below `floor` (a `retry: 0`
/// would make a tight loop), never above [`MAX_RETRY`].
fn retry_delay(hint: Option<Duration>, floor: Duration) -> Duration {
    hint.unwrap_or(DEFAULT_RETRY).clamp(floor, MAX_RETRY)
}

pub(super) fn is_event_stream(response: &reqwest::Response) -> bool {
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
