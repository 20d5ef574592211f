//! Reading just enough of a JSON-RPC message to route it. Bodies are relayed as
//! the bytes that arrived; nothing here re-serialises a message, so unknown
//! methods, fields and future protocol revisions pass through untouched.

use bytes::Bytes;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::memory::MessageBuffer;
use crate::relay::errors::code;
use crate::relay::scan::{self, Members, ScanError, Scanned, Scanner, Shape};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Notification,
    /// The client's answer to a server→client request.
    Response,
    /// A JSON array (2025-03-26 batching): relayed as is.
    Batch,
}

#[derive(Debug)]
pub struct Message {
    /// The stdin line, sent upstream byte for byte.
    pub body: Bytes,
    pub kind: Kind,
    pub id: Option<Box<RawValue>>,
    pub method: Option<String>,
    /// `params._meta["io.modelcontextprotocol/protocolVersion"]`: set on era-2 requests.
    pub era2_version: Option<String>,
    /// `params`, parsed only where routing needs it (era-2 header mirroring,
    /// tool calls, cancellation).
    pub params: Option<Value>,
}

impl Message {
    pub fn tool_name(&self) -> Option<&str> {
        self.params.as_ref()?.get("name")?.as_str()
    }

    /// For `notifications/cancelled`: the id of the request being cancelled.
    pub fn cancelled_request(&self) -> Option<&Value> {
        self.params.as_ref()?.get("requestId")
    }
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    method: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    result: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ParamsPeek<'a> {
    #[serde(rename = "_meta", borrow)]
    meta: Option<MetaPeek<'a>>,
}

#[derive(Deserialize)]
struct MetaPeek<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow)]
    protocol_version: Option<std::borrow::Cow<'a, str>>,
}

/// A stdin line that cannot be relayed, with the JSON-RPC error it earns.
#[derive(Debug)]
pub struct Rejected {
    pub id: Option<Box<RawValue>>,
    pub code: i64,
    pub message: String,
}

/// The whitespace JSON allows around a value: space, tab, CR and LF. Not
/// `is_ascii_whitespace`, which also takes form feeds that JSON parsers reject.
pub fn is_json_space(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

pub fn trim_json_space(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !is_json_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_json_space(b))
        .map_or(start, |at| at + 1);
    &bytes[start..end]
}

/// `want_tool_name`: parse `tools/call` params even in era 1 (for tool filtering).
pub fn parse(line: Bytes, want_tool_name: bool) -> Result<Message, Rejected> {
    let trimmed = trim_json_space(&line);
    if trimmed.first() == Some(&b'[') {
        return match serde_json::from_slice::<IgnoredAny>(trimmed) {
            Ok(_) => Ok(Message {
                body: line,
                kind: Kind::Batch,
                id: None,
                method: None,
                era2_version: None,
                params: None,
            }),
            Err(err) => Err(Rejected {
                id: None,
                code: code::PARSE_ERROR,
                message: format!("parse error: {err}"),
            }),
        };
    }
    let incoming: Incoming = match serde_json::from_slice(trimmed) {
        Ok(incoming) => incoming,
        Err(err) if err.is_syntax() || err.is_eof() => {
            return Err(Rejected {
                id: None,
                code: code::PARSE_ERROR,
                message: format!("parse error: {err}"),
            });
        }
        Err(err) => {
            // Valid JSON of the wrong shape: salvage the id if there is one.
            let id = serde_json::from_slice::<Value>(trimmed)
                .ok()
                .and_then(|v| {
                    v.get("id")
                        .filter(|id| id.is_string() || id.is_number())
                        .cloned()
                })
                .and_then(|id| serde_json::value::to_raw_value(&id).ok());
            return Err(Rejected {
                id,
                code: code::INVALID_REQUEST,
                message: format!("invalid JSON-RPC message: {err}"),
            });
        }
    };
    let id = incoming.id.map(ToOwned::to_owned);
    let kind = match (
        &incoming.method,
        &id,
        incoming.result.is_some() || incoming.error.is_some(),
    ) {
        (Some(_), Some(_), _) => Kind::Request,
        (Some(_), None, _) => Kind::Notification,
        (None, Some(_), true) => Kind::Response,
        _ => {
            return Err(Rejected {
                id,
                code: code::INVALID_REQUEST,
                message: "invalid JSON-RPC message: expected a request, notification or response"
                    .into(),
            });
        }
    };
    let method = incoming.method.map(|m| m.into_owned());
    // The envelope is looked for only where it can be: a second pass over every
    // request's params costs (a name spelt with escapes has a backslash).
    let era2_version = incoming
        .params
        .filter(|params| {
            let text = params.get().as_bytes();
            memchr::memmem::find(text, b"_meta").is_some() || memchr::memchr(b'\\', text).is_some()
        })
        .and_then(|params| serde_json::from_str::<ParamsPeek>(params.get()).ok())
        .and_then(|peek| peek.meta?.protocol_version.map(|v| v.into_owned()));
    // Parsing params into a tree costs; only what routing reads is parsed.
    let needs_params = match method.as_deref() {
        Some("notifications/cancelled") => true,
        Some("tools/call") => want_tool_name || era2_version.is_some(),
        Some("prompts/get" | "resources/read") => era2_version.is_some(),
        _ => false,
    };
    let params = if needs_params {
        incoming
            .params
            .and_then(|p| serde_json::from_str(p.get()).ok())
    } else {
        None
    };
    Ok(Message {
        body: line,
        kind,
        id,
        method,
        era2_version,
        params,
    })
}

/// The items of a client batch, each parsed as a line of its own would be;
/// items that are not JSON-RPC are left out (the server answers those).
pub fn batch_items(body: &[u8], want_tool_name: bool) -> Vec<Message> {
    let Ok(items) = serde_json::from_slice::<Vec<&RawValue>>(trim_json_space(body)) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            parse(
                Bytes::copy_from_slice(item.get().as_bytes()),
                want_tool_name,
            )
            .ok()
        })
        .collect()
}

/// What an upstream message is. Only messages that passed the check
/// (`scan.rs`: UTF-8 and JSON all the way through) have one.
#[derive(Debug)]
pub enum FromServer<'a> {
    /// A response (result or error) to the request with this id (`null` included).
    Response(Option<&'a RawValue>),
    /// A request or notification from the server.
    Message,
    /// A JSON array: a batch (2025-03-26).
    Batch,
}

/// A message from the MCP server, checked: the bytes to write (one line when
/// the check passed) and what the check found.
#[derive(Debug)]
pub struct ServerMessage {
    pub line: Bytes,
    check: Result<Scanned, ScanError>,
}

impl ServerMessage {
    /// Checks a whole message.
    pub fn check(bytes: Bytes) -> Self {
        let check = scan::scan(&bytes);
        Self::checked(bytes, check)
    }

    /// A message already checked as it arrived (see [`scan::Scanner`]).
    pub fn checked(bytes: Bytes, check: Result<Scanned, ScanError>) -> Self {
        let line = match &check {
            Ok(scanned) if scanned.line_breaks => one_line(bytes),
            Ok(_) => trim_end(bytes),
            Err(_) => bytes,
        };
        Self { line, check }
    }

    /// What the message is, or why it may not reach the client.
    pub fn kind(&self) -> Result<FromServer<'_>, String> {
        match &self.check {
            Ok(scanned) => interpret(&self.line, scanned),
            Err(err) => Err(err.to_string()),
        }
    }

    /// The ids this message answers: one for a response, each response's in a
    /// batch, none for anything else (or for a message that failed the check).
    pub fn answered_ids(&self) -> Vec<Box<RawValue>> {
        let Ok(scanned) = &self.check else {
            return Vec::new();
        };
        let answers = |m: &Members| -> Option<Box<RawValue>> {
            (!m.method && m.answer && m.duplicate.is_none())
                .then(|| raw_id(&self.line, m))
                .flatten()
                .map(ToOwned::to_owned)
        };
        match &scanned.shape {
            Shape::Message(m) => answers(m).into_iter().collect(),
            Shape::Batch(items) => items.iter().flatten().filter_map(answers).collect(),
            Shape::Scalar => Vec::new(),
        }
    }
}

/// A message from the MCP server as it arrives: every byte kept is checked
/// (`scan.rs`) on the way in, so the check is done when the last byte is.
#[derive(Default)]
pub struct IncomingMessage {
    /// The first chunk, kept as it came while it is the only one: a body that
    /// arrives in one piece is passed on without a copy.
    first: Bytes,
    /// Everything, once a second piece arrived.
    rest: MessageBuffer,
    scanner: Scanner,
}

impl IncomingMessage {
    pub fn len(&self) -> usize {
        self.first.len() + self.rest.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a chunk of the body. An error means the message is bad whatever
    /// follows: the caller may stop reading.
    pub fn push_chunk(&mut self, chunk: Bytes) -> Result<(), ScanError> {
        let checked = self.scanner.feed(&chunk);
        if self.is_empty() {
            self.first = chunk;
        } else {
            self.push_copy(&chunk);
        }
        checked
    }

    /// Adds bytes that are copied in (an event's data, found line by line).
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), ScanError> {
        self.push_copy(bytes);
        self.scanner.feed(bytes)
    }

    fn push_copy(&mut self, bytes: &[u8]) {
        if !self.first.is_empty() {
            self.rest.extend(&std::mem::take(&mut self.first));
        }
        self.rest.extend(bytes);
    }

    /// The message and the verdict on it.
    pub fn finish(self) -> ServerMessage {
        let bytes = if self.rest.is_empty() {
            self.first
        } else {
            self.rest.freeze()
        };
        ServerMessage::checked(bytes, self.scanner.finish())
    }
}

/// Classifies one upstream message, or says why it is not JSON-RPC.
pub fn classify(message: &[u8]) -> Result<FromServer<'_>, String> {
    let scanned = scan::scan(message).map_err(|err| err.to_string())?;
    interpret(message, &scanned)
}

fn interpret<'a>(message: &'a [u8], scanned: &Scanned) -> Result<FromServer<'a>, String> {
    match &scanned.shape {
        Shape::Scalar => Err("not a JSON-RPC message: a JSON value that is not an object".into()),
        Shape::Batch(items) => {
            if items.iter().any(Option::is_none) {
                return Err("not a JSON-RPC batch: an item is not an object".into());
            }
            if let Some(field) = items.iter().flatten().find_map(|m| m.duplicate) {
                return Err(format!("not a JSON-RPC batch: duplicate field `{field}`"));
            }
            Ok(FromServer::Batch)
        }
        Shape::Message(m) => {
            if let Some(field) = m.duplicate {
                return Err(format!("not a JSON-RPC message: duplicate field `{field}`"));
            }
            match (m.method, m.answer) {
                (true, _) => Ok(FromServer::Message),
                (false, true) => Ok(FromServer::Response(raw_id(message, m))),
                (false, false) => Err("not a JSON-RPC message: no method, result or error".into()),
            }
        }
    }
}

/// The `id` of a checked message object.
fn raw_id<'a>(message: &'a [u8], members: &Members) -> Option<&'a RawValue> {
    let span = members.id.clone()?;
    let text = std::str::from_utf8(&message[span]).ok()?;
    serde_json::from_str(text).ok()
}

/// Makes a JSON text a single stdout line. Outside strings a raw CR or LF can
/// only be whitespace (inside strings JSON requires escapes), so replacing them
/// with spaces keeps the value identical. Bodies without one (the usual case,
/// however large) are passed on without a copy.
pub fn one_line(json: impl Into<Bytes>) -> Bytes {
    let json = trim_end(json.into());
    let Some(first) = memchr::memchr2(b'\n', b'\r', &json) else {
        return json;
    };
    let mut owned = Vec::from(json);
    let mut at = first;
    loop {
        owned[at] = b' ';
        match memchr::memchr2(b'\n', b'\r', &owned[at + 1..]) {
            Some(next) => at += 1 + next,
            None => break,
        }
    }
    Bytes::from(owned)
}

/// Trailing JSON whitespace off (a body's final newline is framing, not message).
fn trim_end(bytes: Bytes) -> Bytes {
    let end = bytes
        .iter()
        .rposition(|b| !is_json_space(b))
        .map_or(0, |at| at + 1);
    bytes.slice(..end)
}

pub fn same_id(a: &RawValue, b: &RawValue) -> bool {
    a.get() == b.get()
        || matches!(
            (serde_json::from_str::<Value>(a.get()), serde_json::from_str::<Value>(b.get())),
            (Ok(x), Ok(y)) if x == y
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_response_to(message: &[u8], id: &RawValue) -> bool {
        matches!(classify(message), Ok(FromServer::Response(Some(theirs))) if same_id(theirs, id))
    }

    #[test]
    fn one_line_replaces_raw_newlines_only() {
        let pretty = b"{\n  \"s\": \"a\\nb\"\r\n}\n".to_vec();
        let line = one_line(pretty);
        assert_eq!(&line[..], b"{   \"s\": \"a\\nb\"  }");
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["s"], "a\nb");
    }

    #[test]
    fn only_json_whitespace_surrounds_a_message() {
        let id = RawValue::from_string("7".into()).unwrap();
        let answer = br#"{"jsonrpc":"2.0","id":7,"result":{}}"#;
        let padded = [b" \t\r\n".as_slice(), answer, b"\r\n \t"].concat();
        assert!(is_response_to(&padded, &id));
        // A form feed is ASCII whitespace but not JSON's: such a body must not
        // reach the client as if it were JSON.
        for bad in [
            [b"\x0c".as_slice(), answer].concat(),
            [answer.as_slice(), b"\x0c"].concat(),
        ] {
            assert!(classify(&bad).is_err());
            assert!(parse(Bytes::from(bad), false).is_err());
        }
        assert_eq!(classify(b"\x0c[]").ok().map(|_| ()), None);
    }

    #[test]
    fn upstream_messages_are_checked_through() {
        let id = RawValue::from_string("7".into()).unwrap();
        assert!(is_response_to(
            br#"{"jsonrpc":"2.0","id":7,"result":{"x":"y"}}"#,
            &id
        ));
        assert!(!is_response_to(
            br#"{"jsonrpc":"2.0","id":8,"result":{}}"#,
            &id
        ));
        assert!(matches!(
            classify(br#"{"jsonrpc":"2.0","method":"notifications/progress"}"#),
            Ok(FromServer::Message)
        ));
        assert!(matches!(
            classify(br#"[{"jsonrpc":"2.0","id":1,"result":{}}]"#),
            Ok(FromServer::Batch)
        ));
        for bad in [
            &b"<html><body>Sign in to the proxy</body></html>"[..],
            b"not json",
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"a\":\"\xff\xfe\"}}",
            b"{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}",
            b"{\"jsonrpc\":\"2.0\",\"id\":7}",
            b"42",
        ] {
            assert!(classify(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
            assert!(!is_response_to(bad, &id));
        }
    }

    fn parse_str(line: &str) -> Result<Message, Rejected> {
        parse(Bytes::copy_from_slice(line.as_bytes()), true)
    }

    #[test]
    fn classifies_messages() {
        let request = parse_str(
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","extra":true}}"#,
        )
        .unwrap();
        assert_eq!(request.kind, Kind::Request);
        assert_eq!(request.id.as_ref().unwrap().get(), "7");
        assert_eq!(request.tool_name(), Some("x"));
        assert_eq!(request.era2_version, None);
        let note = parse_str(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert_eq!(note.kind, Kind::Notification);
        let response = parse_str(r#"{"jsonrpc":"2.0","id":"s1","result":{}}"#).unwrap();
        assert_eq!(response.kind, Kind::Response);
        assert_eq!(
            parse_str(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#)
                .unwrap()
                .kind,
            Kind::Batch
        );
    }

    #[test]
    fn reads_era2_envelope() {
        let line = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#;
        assert_eq!(
            parse_str(line).unwrap().era2_version.as_deref(),
            Some("2026-07-28")
        );
    }

    #[test]
    fn rejects_bad_lines_with_the_right_codes() {
        let err = parse_str("not json").unwrap_err();
        assert_eq!((err.code, err.id.is_none()), (code::PARSE_ERROR, true));
        let err = parse_str(r#"{"foo":1}"#).unwrap_err();
        assert_eq!(err.code, code::INVALID_REQUEST);
        let err = parse_str(r#"{"id":5,"method":12}"#).unwrap_err();
        assert_eq!(
            (err.code, err.id.unwrap().get()),
            (code::INVALID_REQUEST, "5")
        );
        assert_eq!(parse_str(r#"{"a":"#).unwrap_err().code, code::PARSE_ERROR);
    }

    #[test]
    fn matches_responses_by_id() {
        let id = RawValue::from_string("\"a\"".into()).unwrap();
        assert!(is_response_to(
            br#"{"jsonrpc":"2.0","id":"a","result":{}}"#,
            &id
        ));
        assert!(is_response_to(
            br#"{"jsonrpc":"2.0","id":"\u0061","error":{"code":1,"message":"x"}}"#,
            &id
        ));
        assert!(!is_response_to(
            br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#,
            &id
        ));
        assert!(!is_response_to(
            br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#,
            &id
        ));
        assert!(!is_response_to(
            br#"{"jsonrpc":"2.0","id":"b","result":{}}"#,
            &id
        ));
    }
}
