//! Why a request could not be answered by the MCP server, and how that reaches the
//! client. Every relay failure is a [`Failure`]: what happened, what to do about
//! it, and the cause. It becomes a JSON-RPC error here and nowhere else; doctor
//! shows the same two halves as a check's detail and fix.

use std::error::Error as StdError;

use bytes::Bytes;
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::auth::AuthError;
use crate::error::full_message;
use crate::http::SendError;
use crate::relay::message;
use crate::relay::message::one_line;

/// JSON-RPC error codes. The -320xx server range carries mcpgw's own failures.
pub mod code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    /// The upstream answered with an HTTP error and no JSON-RPC body.
    pub const UPSTREAM_HTTP: i64 = -32001;
    /// The upstream could not be reached (DNS, connect, TLS, reset).
    pub const UPSTREAM_UNREACHABLE: i64 = -32002;
    /// The request's deadline passed.
    pub const TIMEOUT: i64 = -32003;
    /// No usable token, or the upstream rejected it.
    pub const AUTH: i64 = -32004;
    /// The upstream's reply could not be relayed (broken stream, bad framing).
    pub const UPSTREAM_PROTOCOL: i64 = -32005;
    /// A tool call blocked by a local filter rule.
    pub const TOOL_FILTERED: i64 = -32006;
}

/// How much of an error body goes into a message.
const SNIPPET_CHARS: usize = 300;

#[derive(Debug)]
pub struct Failure {
    pub code: i64,
    /// What happened, in one line.
    pub problem: String,
    /// What the user can do about it, when there is something.
    pub fix: Option<String>,
    /// Boxed: failures travel in `Result`s on the hot path and should stay small.
    pub data: Option<Box<Value>>,
    pub source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Failure {
    pub fn new(code: i64, problem: impl Into<String>) -> Self {
        Self {
            code,
            problem: problem.into(),
            fix: None,
            data: None,
            source: None,
        }
    }

    pub fn protocol(problem: impl Into<String>) -> Self {
        Self::new(code::UPSTREAM_PROTOCOL, problem)
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(Box::new(data));
        self
    }

    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The text the client shows: the problem, then what to do.
    pub fn message(&self) -> String {
        match &self.fix {
            Some(fix) => format!("{}; {fix}", self.problem),
            None => self.problem.clone(),
        }
    }

    /// The JSON-RPC error response for the request `id` (`None`: id unknown).
    pub fn to_jsonrpc(&self, id: Option<&RawValue>) -> Vec<u8> {
        jsonrpc_error(id, self.code, &self.message(), self.data.as_deref())
    }

    /// The server could not be reached, or the connection broke before an answer.
    pub fn unreachable(host: &str, url: &str, err: SendError) -> Self {
        let what = if err.is_timeout() {
            "timed out connecting to"
        } else {
            "cannot reach"
        };
        Failure::new(
            code::UPSTREAM_UNREACHABLE,
            format!(
                "{what} the MCP server at {host}: {}",
                full_message(&err)
            ),
        )
        .with_fix("check the network and proxy settings (HTTPS_PROXY, --ca-cert) and the service URL (`mcpgw services list`)")
        .with_data(serde_json::json!({ "url": url }))
        .with_source(err)
    }

    /// The response body broke off mid-way.
    pub fn broken(err: reqwest::Error) -> Self {
        Failure::protocol(format!(
            "the MCP server's response broke off: {}",
            full_message(&err)
        ))
        .with_source(err)
    }

    /// An HTTP error status without a JSON-RPC answer in its body: the one table
    /// of what each status means for the user.
    pub fn http(status: StatusCode, body: &[u8]) -> Self {
        let snippet = snippet(body);
        let shown = if snippet.is_empty() {
            String::new()
        } else {
            format!(": {snippet}")
        };
        let data = serde_json::json!({ "status": status.as_u16(), "body": snippet });
        let (code, problem, fix) = match status {
            StatusCode::UNAUTHORIZED => (
                code::AUTH,
                format!("the MCP server rejected the token (HTTP 401{shown})"),
                "run `mcpgw login` (or check MCPGW_BEARER_TOKEN / --token-command)",
            ),
            StatusCode::FORBIDDEN if snippet.contains("insufficient_scope") => (
                code::UPSTREAM_HTTP,
                format!(
                    "HTTP 403 from the MCP server{shown}: the token lacks a scope this server needs"
                ),
                "add the scope to oauth.scope in the config and run `mcpgw login`",
            ),
            StatusCode::FORBIDDEN => (
                code::UPSTREAM_HTTP,
                format!(
                    "HTTP 403 from the MCP server{shown}: the signed-in user may not use this MCP server"
                ),
                "log in as a user of the Alibaba Cloud account that owns the server, with scope /acs/mcp-server",
            ),
            StatusCode::NOT_FOUND => (
                code::UPSTREAM_HTTP,
                format!("HTTP 404 from the MCP server{shown}: no MCP server at this URL"),
                "copy the server's URL from the Alibaba Cloud MCP console again and check it with `mcpgw services list`",
            ),
            s if s.is_redirection() => (
                code::UPSTREAM_HTTP,
                format!(
                    "HTTP {s} from the MCP server: it redirects elsewhere, and mcpgw follows no redirect (it would carry your token and headers to a host nobody checked)"
                ),
                "configure the URL the server redirects to, after checking it is the MCP server you mean",
            ),
            StatusCode::TOO_MANY_REQUESTS => (
                code::UPSTREAM_HTTP,
                format!("HTTP 429 from the MCP server{shown}: the server is rate limiting"),
                "wait and try again",
            ),
            s if s.is_server_error() => (
                code::UPSTREAM_HTTP,
                format!("HTTP {s} from the MCP server{shown}: the MCP server failed"),
                "try again later",
            ),
            s => (
                code::UPSTREAM_HTTP,
                format!("HTTP {s} from the MCP server{shown}: the MCP server refused the request"),
                "check that the URL is the server's Streamable HTTP URL (…/mcp)",
            ),
        };
        Failure::new(code, problem).with_fix(fix).with_data(data)
    }
}

impl From<AuthError> for Failure {
    fn from(err: AuthError) -> Self {
        Failure::new(code::AUTH, err.to_string()).with_source(err)
    }
}

/// What an HTTP error body means for the request `id`: the server's own
/// JSON-RPC error (forwarded, with our id when the server could not read it), or
/// our mapping of the status.
pub fn http_error(status: StatusCode, body: &Bytes, id: &RawValue) -> Result<Bytes, Failure> {
    match jsonrpc_error_body(body, id) {
        Some(forward) => Ok(forward),
        None => Err(Failure::http(status, body)),
    }
}

/// A JSON-RPC error without an id, answering the request `id` (the only request
/// its stream or body can belong to), rewritten with that id.
pub fn adopt_error(body: &Bytes, id: &RawValue) -> Option<Bytes> {
    jsonrpc_error_body(body, id)
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

/// An error body as one short line.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &collapsed[..cut]),
        None => collapsed,
    }
}

/// `: <snippet>`, or nothing for an empty body.
pub fn snippet_suffix(body: &[u8]) -> String {
    let snippet = snippet(body);
    if snippet.is_empty() {
        String::new()
    } else {
        format!(": {snippet}")
    }
}

#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i64,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
}

#[derive(Serialize)]
struct ErrorResponse<'a> {
    jsonrpc: &'static str,
    id: &'a RawValue,
    error: ErrorObject<'a>,
}

/// A JSON-RPC error response for `id` (`null` when the id is unknown), one line.
pub fn jsonrpc_error(
    id: Option<&RawValue>,
    code: i64,
    message: &str,
    data: Option<&Value>,
) -> Vec<u8> {
    let null = RawValue::from_string("null".to_owned()).expect("null is JSON");
    let response = ErrorResponse {
        jsonrpc: "2.0",
        id: id.unwrap_or(&null),
        error: ErrorObject {
            code,
            message,
            data,
        },
    };
    let line = serde_json::to_vec(&response).expect("error response serialises");
    // A client's id is echoed as it came, and may hold raw CR as whitespace
    // (`{"a":\r1}`): the line must still be one line.
    Vec::from(one_line(line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_response_keeps_id_verbatim() {
        let id = RawValue::from_string("\"abc\"".into()).unwrap();
        let line = jsonrpc_error(Some(&id), code::TIMEOUT, "too slow", None);
        let value: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"jsonrpc":"2.0","id":"abc","error":{"code":-32003,"message":"too slow"}})
        );
        let line = jsonrpc_error(
            None,
            code::PARSE_ERROR,
            "bad",
            Some(&serde_json::json!({"x":1})),
        );
        let value: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["id"], Value::Null);
        assert_eq!(value["error"]["data"]["x"], 1);
    }

    #[test]
    fn an_id_with_raw_whitespace_still_gives_one_line() {
        let id = RawValue::from_string("{\"a\":\r\r{}}".into()).unwrap();
        let line = jsonrpc_error(Some(&id), code::INVALID_REQUEST, "bad", None);
        assert!(!line.contains(&b'\r') && !line.contains(&b'\n'));
        let value: Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["id"], serde_json::json!({"a": {}}));
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
    fn http_statuses_say_what_to_do() {
        let failure = Failure::http(StatusCode::UNAUTHORIZED, b"{\"error\":\"expired\"}");
        assert_eq!(failure.code, code::AUTH);
        assert!(
            failure.message().contains("mcpgw login"),
            "{}",
            failure.message()
        );
        let failure = Failure::http(StatusCode::FORBIDDEN, b"error=\"insufficient_scope\"");
        assert!(failure.fix.as_deref().unwrap().contains("oauth.scope"));
        let failure = Failure::http(StatusCode::TEMPORARY_REDIRECT, b"");
        assert!(
            failure.problem.contains("follows no redirect"),
            "{}",
            failure.problem
        );
        let failure = Failure::http(StatusCode::NOT_FOUND, b"");
        assert_eq!(failure.code, code::UPSTREAM_HTTP);
        assert!(failure.problem.contains("no MCP server at this URL"));
        assert_eq!(failure.data.as_ref().unwrap()["status"], 404);
    }

    #[test]
    fn snippets_are_short_and_single_line() {
        let long = "x".repeat(1000);
        assert_eq!(snippet(long.as_bytes()).chars().count(), SNIPPET_CHARS + 1);
        assert_eq!(snippet(b"a\n  b"), "a b");
    }
}
