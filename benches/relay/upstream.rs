//! The bench's upstream: a small, fast MCP Streamable HTTP server (axum over
//! hyper, on its own runtime and threads) so the bridges' cost is what we see, not
//! the server's. `/mcp` answers with JSON bodies, `/mcp-sse` with event streams.
//! It checks what a real server checks (bearer token, session id, Accept and
//! Content-Type) and counts every refusal, so a misconfigured bridge fails loudly
//! instead of being measured while it talks to nothing.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use axum::serve::ListenerExt;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Size of the large tool result on the wire (inside the JSON string).
pub const BLOB_BYTES: usize = 10 * 1024 * 1024;
/// Size of the huge one (`blob_huge`), over mcpgw's default message limit.
pub const HUGE_BLOB_BYTES: usize = 100 * 1024 * 1024;
/// Bytes per body chunk when a large result is streamed.
const CHUNK: usize = 64 * 1024;
const KNOWN_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// Why the upstream turned requests away; all zero after a clean bridge run.
#[derive(Default, Debug)]
pub struct Refusals {
    pub bad_token: AtomicU64,
    pub bad_session: AtomicU64,
    pub bad_headers: AtomicU64,
    pub bad_body: AtomicU64,
}

impl Refusals {
    /// Total refusals so far; a phase compares it before and after.
    pub fn total(&self) -> u64 {
        [
            &self.bad_token,
            &self.bad_session,
            &self.bad_headers,
            &self.bad_body,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

struct Shared {
    authorization: String,
    session_prefix: String,
    sessions: AtomicU64,
    refusals: Arc<Refusals>,
    /// The JSON-escaped text of the large result, shared by every response.
    blob: Bytes,
    /// The huge one, made when first asked for.
    huge_blob: std::sync::OnceLock<Bytes>,
}

pub struct Upstream {
    pub addr: SocketAddr,
    /// The same server over TLS, for `localhost`, with a certificate signed by
    /// `ca_pem` (a private CA made for this run).
    pub tls_addr: SocketAddr,
    pub ca_pem: String,
    pub refusals: Arc<Refusals>,
    /// Owns the server's threads; dropping the upstream stops them.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // Dropped inside the bench's own runtime, where a blocking shutdown panics.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Upstream {
    /// Binds 127.0.0.1:0 and serves on two dedicated worker threads. Every request
    /// must carry `Authorization: Bearer <token>`.
    pub fn start(token: &str) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("upstream")
            .enable_all()
            .build()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind upstream")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let refusals = Arc::new(Refusals::default());
        let shared = Arc::new(Shared {
            authorization: format!("Bearer {token}"),
            session_prefix: format!("bench-{:x}-", addr.port()),
            sessions: AtomicU64::new(0),
            refusals: refusals.clone(),
            blob: blob_text(BLOB_BYTES),
            huge_blob: std::sync::OnceLock::new(),
        });
        let router = axum::Router::new().fallback(handle).with_state(shared);
        let tls_listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind upstream")?;
        tls_listener.set_nonblocking(true)?;
        let tls_addr = tls_listener.local_addr()?;
        let (tls_listener, ca_pem) = {
            let _runtime = runtime.enter();
            crate::tls::TlsListener::localhost(tokio::net::TcpListener::from_std(tls_listener)?)
        };
        let tls_router = router.clone();
        runtime.spawn(async move {
            axum::serve(tls_listener, tls_router)
                .await
                .expect("upstream TLS server");
        });
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener)
                .expect("register listener")
                .tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
            axum::serve(listener, router)
                .await
                .expect("upstream server");
        });
        Ok(Self {
            addr,
            tls_addr,
            ca_pem,
            refusals,
            runtime: Some(runtime),
        })
    }

    pub fn tls_url(&self) -> String {
        format!("https://localhost:{}/mcp", self.tls_addr.port())
    }

    pub fn url(&self, sse: bool) -> String {
        format!(
            "http://{}/{}",
            self.addr,
            if sse { "mcp-sse" } else { "mcp" }
        )
    }
}

/// Printable text that looks like an API answer (escaped JSON, one object per
/// line), exactly `len` bytes on the wire and never cut inside an escape.
fn blob_text(len: usize) -> Bytes {
    let unit = br#"{\"InstanceId\":\"i-bp1bench0000000001\",\"Status\":\"Running\",\"Cpu\":2,\"Memory\":4096,\"ZoneId\":\"cn-hangzhou-h\"}\n"#;
    let mut out = BytesMut::with_capacity(len);
    while out.len() + unit.len() <= len {
        out.put_slice(unit);
    }
    out.resize(len, b' ');
    out.freeze()
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    method: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct InitParams<'a> {
    #[serde(rename = "protocolVersion", borrow)]
    protocol_version: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CallParams<'a> {
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    arguments: Option<EchoArgs<'a>>,
}

#[derive(Deserialize)]
struct EchoArgs<'a> {
    #[serde(default, borrow)]
    text: Option<&'a RawValue>,
}

const TOOLS: &str = r#"{"tools":[{"name":"echo","description":"Returns its text argument","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}},{"name":"blob","description":"Returns a 10 MiB text result","inputSchema":{"type":"object","properties":{}}},{"name":"blob_huge","description":"Returns a 100 MiB text result","inputSchema":{"type":"object","properties":{}}}]}"#;

async fn handle(State(st): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let sse = match parts.uri.path() {
        "/mcp" => false,
        "/mcp-sse" => true,
        // Discovery probes (.well-known/...) and anything else.
        _ => return status(StatusCode::NOT_FOUND),
    };
    let authorized = parts
        .headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == st.authorization.as_bytes());
    if !authorized {
        st.refusals.bad_token.fetch_add(1, Ordering::Relaxed);
        let mut resp = status(StatusCode::UNAUTHORIZED);
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        return resp;
    }
    match parts.method {
        Method::POST => {}
        Method::DELETE => {
            return match session_check(&st, &parts.headers) {
                Ok(()) => status(StatusCode::OK),
                Err(code) => status(code),
            };
        }
        // No standalone server→client stream.
        _ => return status(StatusCode::METHOD_NOT_ALLOWED),
    }

    let accept = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let json_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        st.refusals.bad_headers.fetch_add(1, Ordering::Relaxed);
        return status(StatusCode::NOT_ACCEPTABLE);
    }
    if !json_type {
        st.refusals.bad_headers.fetch_add(1, Ordering::Relaxed);
        return status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        st.refusals.bad_body.fetch_add(1, Ordering::Relaxed);
        return status(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let Ok(msg) = serde_json::from_slice::<Message>(&body) else {
        st.refusals.bad_body.fetch_add(1, Ordering::Relaxed);
        return status(StatusCode::BAD_REQUEST);
    };

    if msg.method.as_deref() == Some("initialize") {
        let requested = msg
            .params
            .and_then(|p| serde_json::from_str::<InitParams>(p.get()).ok())
            .and_then(|p| p.protocol_version.map(|v| v.into_owned()));
        let version = requested
            .filter(|v| KNOWN_VERSIONS.contains(&v.as_str()))
            .unwrap_or_else(|| "2025-06-18".to_owned());
        let result = format!(
            r#"{{"protocolVersion":"{version}","capabilities":{{"tools":{{"listChanged":false}}}},"serverInfo":{{"name":"mcpgw-bench-upstream","version":"1.0.0"}}}}"#
        );
        let session = format!(
            "{}{}",
            st.session_prefix,
            st.sessions.fetch_add(1, Ordering::Relaxed)
        );
        let mut resp = respond(sse, msg.id, &[Bytes::from(result)]);
        resp.headers_mut()
            .insert("mcp-session-id", session.parse().expect("ascii"));
        return resp;
    }
    if let Err(code) = session_check(&st, &parts.headers) {
        return status(code);
    }
    let (Some(id), Some(method)) = (msg.id, msg.method.as_deref()) else {
        // Notifications and responses to server requests.
        return status(StatusCode::ACCEPTED);
    };
    match method {
        "tools/list" => respond(sse, Some(id), &[Bytes::from_static(TOOLS.as_bytes())]),
        "ping" => respond(sse, Some(id), &[Bytes::from_static(b"{}")]),
        "tools/call" => {
            let Some(call) = msg
                .params
                .and_then(|p| serde_json::from_str::<CallParams>(p.get()).ok())
            else {
                return rpc_error(sse, id, -32602, "tools/call needs params.name");
            };
            match call.name.as_ref() {
                "echo" => {
                    let text = call
                        .arguments
                        .and_then(|a| a.text)
                        .map_or("\"\"", |t| t.get());
                    let result = format!(
                        r#"{{"content":[{{"type":"text","text":{text}}}],"isError":false}}"#
                    );
                    respond(sse, Some(id), &[Bytes::from(result)])
                }
                "blob" => respond(sse, Some(id), &text_result(&st.blob)),
                "blob_huge" => {
                    let blob = st.huge_blob.get_or_init(|| blob_text(HUGE_BLOB_BYTES));
                    respond(sse, Some(id), &text_result(blob))
                }
                other => rpc_error(sse, id, -32602, &format!("unknown tool {other}")),
            }
        }
        other => rpc_error(sse, id, -32601, &format!("method not found: {other}")),
    }
}

/// A tool result holding `blob` as its text, in chunks as a streaming server
/// sends it.
fn text_result(blob: &Bytes) -> Vec<Bytes> {
    let mut parts = vec![Bytes::from_static(
        br#"{"content":[{"type":"text","text":""#,
    )];
    let mut at = 0;
    while at < blob.len() {
        let end = (at + CHUNK).min(blob.len());
        parts.push(blob.slice(at..end));
        at = end;
    }
    parts.push(Bytes::from_static(br#""}],"isError":false}"#));
    parts
}

fn session_check(st: &Shared, headers: &HeaderMap) -> Result<(), StatusCode> {
    let Some(value) = headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) else {
        st.refusals.bad_session.fetch_add(1, Ordering::Relaxed);
        return Err(StatusCode::BAD_REQUEST);
    };
    let known = value
        .strip_prefix(&st.session_prefix)
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n < st.sessions.load(Ordering::Relaxed));
    if known {
        Ok(())
    } else {
        st.refusals.bad_session.fetch_add(1, Ordering::Relaxed);
        Err(StatusCode::NOT_FOUND)
    }
}

fn status(code: StatusCode) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = code;
    resp
}

fn rpc_error(sse: bool, id: &RawValue, code: i32, message: &str) -> Response {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    respond_raw(sse, vec![Bytes::from(body.to_string())], true)
}

/// `{"jsonrpc":"2.0","id":ID,"result":` + result parts + `}`, as JSON or as one
/// SSE `message` event. Results bigger than one chunk are streamed (chunked
/// transfer encoding), as a real server producing them would.
fn respond(sse: bool, id: Option<&RawValue>, result: &[Bytes]) -> Response {
    let id = id.map_or("null", |id| id.get());
    let mut parts = Vec::with_capacity(result.len() + 2);
    parts.push(Bytes::from(format!(
        r#"{{"jsonrpc":"2.0","id":{id},"result":"#
    )));
    parts.extend(result.iter().cloned());
    parts.push(Bytes::from_static(b"}"));
    respond_raw(sse, parts, result.len() <= 1)
}

fn respond_raw(sse: bool, mut parts: Vec<Bytes>, small: bool) -> Response {
    let content_type = if sse {
        parts.insert(0, Bytes::from_static(b"event: message\ndata: "));
        parts.push(Bytes::from_static(b"\n\n"));
        "text/event-stream"
    } else {
        "application/json"
    };
    let body = if small {
        // One write per response: concatenate the few small parts.
        let mut all = BytesMut::with_capacity(parts.iter().map(Bytes::len).sum());
        for p in &parts {
            all.put_slice(p);
        }
        let all = all.freeze();
        if sse {
            Body::from_stream(futures_util::stream::once(async {
                Ok::<_, Infallible>(all)
            }))
        } else {
            Body::from(all)
        }
    } else {
        Body::from_stream(futures_util::stream::iter(
            parts.into_iter().map(Ok::<_, Infallible>),
        ))
    };
    let mut resp = Response::new(body);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    if sse {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache"),
        );
    }
    resp
}
