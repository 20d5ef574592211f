//! The era-1 session: the id and negotiated version every request carries, the
//! client's `initialize` kept for replay, transparent re-initialization when the
//! server forgets the session, and the DELETE that ends it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::relay::errors::{Failure, code, snippet_suffix};
use crate::relay::message::{self, Message};
use crate::relay::upstream::{Posted, Upstream};

const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
const VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");
const SHUTDOWN_DELETE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Default)]
pub struct Session {
    pub id: Option<HeaderValue>,
    pub protocol_version: Option<HeaderValue>,
    /// The client's initialize request, replayed when the session expires.
    pub initialize: Option<Bytes>,
    pub initialized: bool,
    /// Bumped on every re-initialize, so concurrent 404s re-initialize once.
    pub generation: u64,
}

impl Session {
    /// The session id and negotiated version, as request headers.
    pub fn add_headers(&self, headers: &mut HeaderMap) {
        if let Some(version) = &self.protocol_version {
            headers.insert(VERSION_HEADER, version.clone());
        }
        if let Some(id) = &self.id {
            headers.insert(SESSION_HEADER, id.clone());
        }
    }

    /// The generation a request carrying these headers belongs to; `None`
    /// without a session id.
    pub fn sent_generation(&self) -> Option<u64> {
        self.id.as_ref().map(|_| self.generation)
    }
}

/// A 404 on a request that carried a session id means the session is gone. Some
/// servers (the TypeScript SDK's) answer 400 "No valid session ID" instead.
pub fn session_gone(status: StatusCode, body: &Bytes) -> bool {
    status == StatusCode::NOT_FOUND
        || (status == StatusCode::BAD_REQUEST
            && String::from_utf8_lossy(body)
                .to_ascii_lowercase()
                .contains("session"))
}

impl Upstream {
    /// Whether the client has initialized a session (era 1) through this upstream.
    pub fn has_initialize(&self) -> bool {
        self.session.lock().unwrap().initialize.is_some()
    }

    pub(super) fn begin_session(&self, message: &Message, response: &reqwest::Response) {
        let mut session = self.session.lock().unwrap();
        session.id = response.headers().get(SESSION_HEADER).cloned();
        session.protocol_version = None;
        session.initialize = Some(message.body.clone());
        session.initialized = false;
        if let Some(id) = &session.id {
            tracing::debug!(session = ?id, "session started");
        }
    }

    /// Takes the negotiated protocol version from an InitializeResult.
    pub(super) fn negotiated(&self, initialize_result: &[u8]) {
        let version = serde_json::from_slice::<Value>(initialize_result)
            .ok()
            .and_then(|v| {
                v.pointer("/result/protocolVersion")?
                    .as_str()
                    .map(str::to_owned)
            });
        if let Some(version) = version.and_then(|v| HeaderValue::from_str(&v).ok()) {
            self.session.lock().unwrap().protocol_version = Some(version);
        }
    }

    /// Adds the session id and negotiated version; returns the generation if a
    /// session id was added.
    pub(super) fn session_headers(&self, headers: &mut HeaderMap) -> Option<u64> {
        let session = self.session.lock().unwrap();
        session.add_headers(headers);
        session.sent_generation()
    }

    /// Starts a new session after the old one expired: replays the client's
    /// initialize and `notifications/initialized`. The client never sees it.
    pub(super) async fn reinitialize(
        self: &Arc<Self>,
        stale_generation: u64,
    ) -> Result<(), Failure> {
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
            Failure::protocol("the MCP session expired before it was initialized")
                .with_fix("restart the MCP client")
        })?;
        let replay = message::parse(initialize, false).map_err(|r| Failure::protocol(r.message))?;
        let response = match self.post(&replay).await?.posted {
            Posted::Success(response) => response,
            Posted::Refused { status, body } => {
                return Err(Failure::new(
                    code::UPSTREAM_HTTP,
                    format!(
                        "the MCP session expired and a new one could not be started: HTTP {status}{}",
                        snippet_suffix(&body)
                    ),
                ));
            }
        };
        self.begin_session(&replay, &response);
        let id = replay.id.as_deref().expect("initialize is a request");
        let outcome = self.read_response(response, id, false).await?;
        self.after_response(&replay, &outcome);
        self.session.lock().unwrap().generation += 1;
        if was_initialized {
            let note = message::parse(
                Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
                false,
            )
            .expect("static notification parses");
            if let Posted::Refused { status, .. } = self.post(&note).await?.posted {
                tracing::warn!("the new session refused notifications/initialized: HTTP {status}");
            }
            self.session.lock().unwrap().initialized = true;
            self.start_get_stream(None);
        }
        Ok(())
    }

    /// Ends the session: stops the GET stream and sends DELETE (a 405 or 404 is fine).
    pub async fn end_session(&self) {
        let get = self.get_stream.lock().unwrap().take();
        if let Some(get) = get {
            get.abort();
            // Resolves once the task is dropped, releasing its hold on the upstream.
            let _ = get.await;
        }
        // No session, nothing to end; and no token wanted (that could join a pending login).
        if self.session.lock().unwrap().id.is_none() {
            return;
        }
        let Ok(token) = self.bearer().await else {
            return;
        };
        let mut headers = self.base_headers(&token);
        if self.session_headers(&mut headers).is_none() {
            return;
        }
        let request = self.endpoint().send(Method::DELETE, headers, Bytes::new());
        match tokio::time::timeout(SHUTDOWN_DELETE_TIMEOUT, request).await {
            Ok(Ok(response)) => tracing::debug!("session ended: HTTP {}", response.status()),
            Ok(Err(err)) => tracing::debug!("could not end the session: {err}"),
            Err(_) => tracing::debug!("no answer to the session DELETE"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
