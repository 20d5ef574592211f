//! The bodies of the cargo-fuzz targets in `fuzz/fuzz_targets/` (each target is a
//! one-line call of a function here), so the same code runs on stable: the unit
//! test below replays every seed in `fuzz/corpus/<target>/`. Each function feeds
//! the input to the parsers of one boundary and asserts what must hold for any
//! input, beyond not panicking.
//!
//! Not reachable from here: the stdin `LineAssembler` (private to `relay/stdio.rs`),
//! so `stdin_line` starts at the framed line.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use base64::Engine;
use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::auth::login::{RedirectTarget, serve_callback_connection};
use crate::cli::GlobalArgs;
use crate::config::{check_url, resolve_text};
use crate::relay::era2::{ToolHeaderMaps, encode_header_value, mirror_headers};
use crate::relay::errors::{code, jsonrpc_error};
use crate::relay::message::{self, FromServer, Kind, ServerMessage, one_line};
use crate::relay::scan::{self, Scanner, Shape};
use crate::relay::sse::EventStream;
use crate::secret::Secret;

/// The targets, by the name of their corpus directory.
/// A target: its input, checked.
pub type Target = fn(&[u8]);

pub const TARGETS: &[(&str, Target)] = &[
    ("stdin_line", stdin_line),
    ("sse_events", sse_events),
    ("server_message", server_message),
    ("era2_headers", era2_headers),
    ("config_file", config_file),
    ("login_callback", login_callback),
];

// ---- stdin lines --------------------------------------------------------------

/// One stdin line through `message::parse` (the first byte picks
/// `want_tool_name`): what is accepted is routed by what it is, and what is
/// rejected earns an error line that is one line of JSON-RPC with the salvaged id.
pub fn stdin_line(data: &[u8]) {
    let Some((&flags, line)) = data.split_first() else {
        return;
    };
    let want_tool_name = flags & 1 == 1;
    match message::parse(Bytes::copy_from_slice(line), want_tool_name) {
        Ok(message) => {
            assert_eq!(message.body, line, "the line is relayed byte for byte");
            serde_json::from_slice::<serde::de::IgnoredAny>(line)
                .expect("parse accepted a line that is not JSON");
            match message.kind {
                Kind::Request => assert!(message.id.is_some() && message.method.is_some()),
                Kind::Notification => assert!(message.id.is_none() && message.method.is_some()),
                Kind::Response => assert!(message.id.is_some() && message.method.is_none()),
                Kind::Batch => {
                    assert!(message::trim_json_space(line).starts_with(b"["));
                    // A nested array comes back as a `Batch` item (whatever the doc
                    // of batch_items says); the server answers it. Requests in a
                    // batch are what the relay counts answers for.
                    for item in message::batch_items(&message.body, want_tool_name) {
                        if item.kind == Kind::Request {
                            assert!(item.id.is_some() && item.method.is_some());
                        }
                    }
                }
            }
            if let Some(id) = &message.id {
                check_error_line(Some(id), code::TIMEOUT, "no answer in time");
            }
        }
        Err(rejected) => {
            assert!(
                [code::PARSE_ERROR, code::INVALID_REQUEST].contains(&rejected.code),
                "{rejected:?}"
            );
            check_error_line(rejected.id.as_deref(), rejected.code, &rejected.message);
        }
    }
}

/// The error line mcpgw would write for `id`: one line, valid JSON-RPC, same id.
fn check_error_line(id: Option<&serde_json::value::RawValue>, code: i64, text: &str) {
    let line = jsonrpc_error(id, code, text, None);
    assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
    if id.is_some_and(|id| serde_json::from_str::<Value>(id.get()).is_err()) {
        // The client's own id echoed byte for byte, e.g. a number out of f64
        // range (`1E400`): valid JSON text that serde_json will not read back.
        return;
    }
    let value: Value = serde_json::from_slice(&line).expect("an error line is JSON");
    assert_eq!(value["jsonrpc"], "2.0");
    assert_eq!(value["error"]["code"], code);
    let expected: Value = id.map_or(Value::Null, |id| {
        serde_json::from_str(id.get()).expect("an id is JSON")
    });
    assert_eq!(value["id"], expected);
}

// ---- SSE ------------------------------------------------------------------------

/// An upstream event stream (the first byte picks how the rest is cut into
/// chunks) through the SSE decoder and the message check: the messages do not
/// depend on where the chunks were cut, each that passes is one line of valid
/// UTF-8 JSON whose answered ids agree with what it is.
pub fn sse_events(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let whole = decode(vec![Bytes::copy_from_slice(body)]);
    let chunked = decode(chunks(body, cut));
    assert_eq!(whole, chunked, "the chunk boundaries changed the events");
    for message in &whole.messages {
        check_from_server(&ServerMessage::check(message.clone()));
    }
    // one_line on anything: no line breaks; a JSON text keeps its value.
    let line = one_line(Bytes::copy_from_slice(body));
    assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
    if let Ok(before) = serde_json::from_slice::<Value>(body) {
        let after: Value = serde_json::from_slice(&line).expect("one_line keeps JSON valid");
        assert_eq!(before, after, "one_line changed the value");
    }
}

// ---- server messages ------------------------------------------------------------

/// The routing members serde_json reads from a message object.
#[derive(serde::Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    id: Option<&'a serde_json::value::RawValue>,
    method: Option<serde::de::IgnoredAny>,
    result: Option<serde::de::IgnoredAny>,
    error: Option<serde::de::IgnoredAny>,
}

/// A message body (the first byte picks how it is cut into chunks) through the
/// message check (`relay/scan/`), held to serde_json: accepted exactly when it
/// is UTF-8 and JSON, with the same verdict (and first bad byte) wherever the
/// chunks were cut, and the same `id`, `method` and answer members as serde reads.
pub fn server_message(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let whole = scan::scan(body);
    let mut scanner = Scanner::default();
    let chunked = chunks(body, cut)
        .iter()
        .try_for_each(|chunk| scanner.feed(chunk))
        .and_then(|()| scanner.finish());
    assert_eq!(
        whole.clone().map_err(|err| err.at()),
        chunked.map_err(|err| err.at()),
        "the chunk boundaries changed the verdict"
    );
    let text = std::str::from_utf8(body);
    let json = text
        .ok()
        .and_then(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).ok());
    assert_eq!(whole.is_ok(), json.is_some(), "{whole:?}");
    let Ok(scanned) = whole else {
        return;
    };
    let peek = serde_json::from_slice::<Peek>(body);
    match &scanned.shape {
        Shape::Message(members) if members.duplicate.is_none() => {
            // serde decodes member names, and refuses one with a lone surrogate
            // escape (`\ud9e9` and no low half); the grammar allows it, and such a
            // name is no routing member.
            let peek = match peek {
                Ok(peek) => peek,
                Err(err)
                    if err.to_string().contains("surrogate")
                        || err.to_string().contains("hex escape") =>
                {
                    return;
                }
                Err(err) => panic!("serde refused an object without duplicate members: {err}"),
            };
            let id = members.id.clone().map(|span| &body[span]);
            assert_eq!(id, peek.id.map(|id| id.get().as_bytes()));
            assert_eq!(members.method, peek.method.is_some());
            assert_eq!(
                members.answer,
                peek.result.is_some() || peek.error.is_some()
            );
        }
        Shape::Message(_) => assert!(peek.is_err(), "serde took a duplicate member"),
        Shape::Batch(_) => assert!(body.trim_ascii_start().starts_with(b"[")),
        Shape::Scalar => assert!(peek.is_err()),
    }
    check_from_server(&ServerMessage::checked(
        Bytes::copy_from_slice(body),
        Ok(scanned),
    ));
}

fn chunks(body: &[u8], cut: u8) -> Vec<Bytes> {
    // Sizes cycle through a few lengths that `cut` picks, 1-byte chunks included.
    let sizes = [usize::from(cut % 13) + 1, 1, usize::from(cut / 13) + 2, 3];
    let mut out = Vec::new();
    let mut rest = body;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        out.push(Bytes::copy_from_slice(chunk));
        rest = tail;
    }
    out
}

#[derive(Debug, PartialEq)]
struct Decoded {
    messages: Vec<Bytes>,
    failed: bool,
    last_event_id: Option<String>,
    retry: Option<std::time::Duration>,
}

fn decode(chunks: Vec<Bytes>) -> Decoded {
    let source = futures_util::stream::iter(chunks.into_iter().map(Ok));
    let mut stream = EventStream::from_bytes(source, usize::MAX);
    let mut messages = Vec::new();
    let mut cx = Context::from_waker(Waker::noop());
    let failed = loop {
        let next = std::pin::pin!(stream.next_message());
        match next.poll(&mut cx) {
            Poll::Ready(Some(Ok(message))) => messages.push(message.line),
            Poll::Ready(Some(Err(_))) => break true,
            Poll::Ready(None) => break false,
            Poll::Pending => panic!("the decoder waited although all input was there"),
        }
    };
    Decoded {
        messages,
        failed,
        last_event_id: stream.last_event_id,
        retry: stream.retry,
    }
}

fn check_from_server(message: &ServerMessage) {
    let Ok(kind) = message.kind() else {
        return;
    };
    let line = &message.line;
    assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
    assert!(!line.is_empty() && !message::is_json_space(line.last().unwrap()));
    let text = std::str::from_utf8(line).expect("the check accepted invalid UTF-8");
    serde_json::from_str::<serde::de::IgnoredAny>(text).expect("the check accepted invalid JSON");
    // JSON's grammar allows a lone surrogate escape (`"\udc00"`), which clients
    // take; serde_json's `Value` does not, so such a message is not looked into.
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let answered = message.answered_ids();
    match kind {
        FromServer::Batch => assert!(value.is_array()),
        FromServer::Message => assert!(value.get("method").is_some() && answered.is_empty()),
        FromServer::Response(id) => {
            assert!(value.get("result").is_some() || value.get("error").is_some());
            match id {
                Some(id) => assert!(answered.iter().any(|a| message::same_id(a, id))),
                None => assert!(answered.is_empty()),
            }
        }
    }
}

// ---- era-2 headers --------------------------------------------------------------

/// Era-2 header mirroring from NUL-separated fields (protocol version, method
/// — `0`/`1`/`2` pick tools/call, prompts/get, resources/read — name, an
/// `x-mcp-header` token, an argument): every header value is a valid one, and the
/// encoded values give back the exact text.
pub fn era2_headers(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\0');
    let mut next = || fields.next().unwrap_or("");
    let (version, method, name, token, argument) = (next(), next(), next(), next(), next());
    for field in [version, method, name, token, argument] {
        assert_eq!(decode_header(encode_header_value(field).as_bytes()), field);
    }
    let method = match method {
        "0" => "tools/call",
        "1" => "prompts/get",
        "2" => "resources/read",
        other => other,
    };
    let argument = serde_json::from_str::<Value>(argument).unwrap_or_else(|_| json!(argument));
    let mut maps = ToolHeaderMaps::default();
    maps.learn(
        &json!({"tools": [{"name": name, "inputSchema": {"type": "object", "properties": {
            "a": {"type": "string", "x-mcp-header": token},
            "n": {"type": "object", "properties": {"b": {"x-mcp-header": token}}}
        }}}]}),
    );
    let params =
        json!({"name": name, "uri": name, "arguments": {"a": argument, "n": {"b": argument}}});
    let mut headers = HeaderMap::new();
    mirror_headers(&mut headers, version, method, Some(&params), Some(&maps));
    // Mcp-Method and MCP-Protocol-Version are mirrored as the bytes of the body's
    // text, non-ASCII (obs-text) included: HeaderValue accepts it, servers may not.
    if let Some(mirrored) = headers.get("mcp-method") {
        assert_eq!(mirrored.as_bytes(), method.as_bytes());
    }
    if matches!(method, "tools/call" | "prompts/get" | "resources/read") {
        let mirrored = headers
            .get("mcp-name")
            .expect("the name is always mirrored");
        assert_eq!(decode_header(mirrored.as_bytes()), name);
    }
    for (header, value) in &headers {
        if header.as_str().starts_with("mcp-param-") {
            assert_eq!(method, "tools/call");
            let rendered = match &argument {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(decode_header(value.as_bytes()), rendered);
        }
    }
}

/// The text an encoded header value stands for (plain, or `=?base64?…?=`).
fn decode_header(value: &[u8]) -> String {
    assert!(
        value.iter().all(|b| (0x20..=0x7e).contains(b)),
        "not printable ASCII: {value:?}"
    );
    let text = std::str::from_utf8(value).expect("ASCII");
    match text
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .expect("valid base64");
            String::from_utf8(bytes).expect("the encoded text was UTF-8")
        }
        None => {
            assert_eq!(text.trim(), text, "plain values have no edge whitespace");
            text.to_owned()
        }
    }
}

// ---- the config file ------------------------------------------------------------

/// A config file's text through the resolver (default and a named profile):
/// every service it defines resolves to a URL that passes the URL rule, or to an error.
pub fn config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for profile in ["default", "work"] {
        let global = GlobalArgs {
            profile: profile.into(),
            ..Default::default()
        };
        let Ok(config) = resolve_text(&global, &|_| None, text, PathBuf::from("config.json"))
        else {
            continue;
        };
        for name in config.services.keys() {
            if let Ok(service) = config.resolve_service(name, false) {
                assert!(check_url(&service.url, false).is_ok(), "{}", service.url);
                let _ = config.login_may_go_to(&service.url);
            }
        }
    }
}

// ---- the login callback -----------------------------------------------------------

const REDIRECT: &str = "http://127.0.0.1:12355/callback";
const STATE: &str = "st4te-Fz9";

/// A request to the login's callback listener, sent over a loopback connection:
/// whatever it is, the listener answers with HTTP or hands back a callback (then
/// having written nothing), a code is never empty and an error is terminal-safe.
pub fn login_callback(data: &[u8]) {
    static LOOPBACK: OnceLock<(tokio::runtime::Runtime, tokio::net::TcpListener)> = OnceLock::new();
    let (runtime, listener) = LOOPBACK.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        (runtime, listener)
    });
    let redirect = RedirectTarget::parse(REDIRECT).expect("a valid redirect URI");
    let state = Secret::new(STATE);
    let (callback, response) = runtime.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
        // Reset on close: no TIME_WAIT piling up over millions of runs.
        socket.set_zero_linger().expect("SO_LINGER");
        let addr = listener.local_addr().expect("bound");
        let (client, accepted) = tokio::join!(socket.connect(addr), listener.accept());
        let (client, (server, _)) = (client.expect("connect"), accepted.expect("accept"));
        let (mut read, mut write) = client.into_split();
        let send = async {
            let _ = write.write_all(data).await;
            let _ = write.shutdown().await;
        };
        let ((), callback) =
            tokio::join!(send, serve_callback_connection(server, &redirect, &state));
        let mut response = Vec::new();
        let _ = read.read_to_end(&mut response).await;
        (callback, response)
    });
    match callback {
        None => assert!(
            response.is_empty() || response.starts_with(b"HTTP/1.1 "),
            "{:?}",
            String::from_utf8_lossy(&response)
        ),
        Some(result) => {
            assert!(
                response.is_empty(),
                "a callback is answered once the login ends"
            );
            match result {
                Ok(code) => assert!(!code.expose().is_empty()),
                Err(err) => assert!(
                    !err.message.chars().any(char::is_control),
                    "{:?}",
                    err.message
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed seed, through its target: the fuzz corpus as a stable test.
    #[test]
    fn the_fuzz_corpus_replays_on_stable() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (target, run) in TARGETS {
            let dir = corpus.join(target);
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| {
                panic!("the seed corpus {} is missing ({err})", dir.display())
            });
            let mut seeds = 0;
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{target}: seed {} failed", path.display());
                seeds += 1;
            }
            assert!(
                seeds >= 3,
                "{target}: only {seeds} seeds in {}",
                dir.display()
            );
        }
    }

    #[test]
    fn the_targets_check_what_they_claim() {
        // A callback with the right state hands back its code; without, nothing.
        let request = format!(
            "GET /callback?code=abc&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:12355\r\n\r\n"
        );
        login_callback(request.as_bytes());
        // A JSON SSE message cut anywhere decodes the same.
        for cut in [0u8, 1, 7, 200] {
            let mut data = vec![cut];
            data.extend_from_slice(
                b"id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\ndata: \"result\":{}}\n\n",
            );
            sse_events(&data);
        }
        let decoded = decode(vec![Bytes::from_static(
            b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\ndata: \"result\":{}}\n\n",
        )]);
        assert_eq!(decoded.messages.len(), 1);
        assert!(message::classify(&decoded.messages[0]).is_ok());
        // The message check against serde, whole and cut.
        for cut in [0u8, 1, 7, 200] {
            let mut data = vec![cut];
            data.extend_from_slice(br#"{"jsonrpc":"2.0","id":"a\"b","result":{"t":"\u00e9\n"}}"#);
            server_message(&data);
        }
    }
}
