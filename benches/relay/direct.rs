//! The floor every bridge is compared with: the same MCP requests made in-process
//! over HTTP with one keep-alive client (reqwest, as a Rust MCP client would).
//! mcpgw itself sends over hyper-util without reqwest's per-request layers, so
//! under load it can outrun this floor (see the README's throughput section);
//! `MCPGW_BENCH_DIRECT=hyper` makes the calls over hyper-util too, the floor of
//! that stack.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

type HyperClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<Bytes>,
>;

/// Which client makes the calls, from `MCPGW_BENCH_DIRECT` (`reqwest` by default).
pub fn client_name() -> &'static str {
    match std::env::var("MCPGW_BENCH_DIRECT").as_deref() {
        Ok("hyper") => "hyper-util",
        _ => "reqwest",
    }
}

pub struct Direct {
    client: reqwest::Client,
    /// Set with `MCPGW_BENCH_DIRECT=hyper`: the calls go over this instead.
    hyper: Option<(HyperClient, http::Uri)>,
    url: String,
    headers: HeaderMap,
}

impl Direct {
    /// A fresh client: connects, initializes and sends `notifications/initialized`.
    /// Returns the time until the initialize response was complete.
    pub async fn connect(url: &str, token: &str) -> anyhow::Result<(Self, Duration)> {
        let start = Instant::now();
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(128)
            .build()?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        let mut auth = HeaderValue::from_str(&format!("Bearer {token}"))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        let resp = client
            .post(url)
            .headers(headers.clone())
            .body(crate::INITIALIZE)
            .send()
            .await
            .context("direct initialize")?;
        let status = resp.status();
        let session = resp.headers().get("mcp-session-id").cloned();
        let body = resp.bytes().await?;
        let elapsed = start.elapsed();
        if !status.is_success() {
            bail!("direct initialize: HTTP {status}");
        }
        let message = message_bytes(&body)?;
        let version =
            serde_json::from_slice::<serde_json::Value>(&message)?["result"]["protocolVersion"]
                .as_str()
                .context("initialize result without protocolVersion")?
                .to_owned();
        if let Some(session) = session {
            headers.insert("mcp-session-id", session);
        }
        headers.insert("mcp-protocol-version", HeaderValue::from_str(&version)?);
        let hyper = match client_name() {
            "hyper-util" => {
                let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
                tcp.set_nodelay(true);
                let client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .pool_max_idle_per_host(128)
                .build(tcp);
                Some((client, url.parse()?))
            }
            _ => None,
        };
        let direct = Self {
            client,
            hyper,
            url: url.to_owned(),
            headers,
        };
        let resp = direct
            .post(Bytes::from_static(crate::INITIALIZED.as_bytes()))
            .await?;
        if resp.status() != reqwest::StatusCode::ACCEPTED {
            bail!("direct notifications/initialized: HTTP {}", resp.status());
        }
        Ok((direct, elapsed))
    }

    async fn post(&self, body: Bytes) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .body(body)
            .send()
            .await?)
    }

    /// One request; returns the JSON-RPC response (taken out of the event stream
    /// when the upstream answers with SSE).
    pub async fn call(&self, body: Bytes) -> anyhow::Result<Bytes> {
        let (status, body) = match &self.hyper {
            Some((client, uri)) => {
                use http_body_util::BodyExt;
                let mut request = http::Request::new(http_body_util::Full::new(body));
                *request.method_mut() = http::Method::POST;
                *request.uri_mut() = uri.clone();
                *request.headers_mut() = self.headers.clone();
                let resp = client.request(request).await?;
                let status = resp.status();
                (status, resp.into_body().collect().await?.to_bytes())
            }
            None => {
                let resp = self.post(body).await?;
                let status = resp.status();
                (status, resp.bytes().await?)
            }
        };
        if !status.is_success() {
            bail!("direct call: HTTP {status}");
        }
        message_bytes(&body)
    }
}

/// The JSON-RPC message in a response body: the body itself, or the `data:` of
/// the (single) SSE event.
fn message_bytes(body: &Bytes) -> anyhow::Result<Bytes> {
    if body.first() == Some(&b'{') {
        return Ok(body.clone());
    }
    // memchr, as any client worth comparing with finds the line end: a byte loop
    // took 3 ms of a 10 MiB event, which flattered every bridge's ratio.
    let start = memchr::memmem::find(body, b"data: ").context("SSE body without data")? + 6;
    let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |n| start + n);
    Ok(body.slice(start..end))
}
