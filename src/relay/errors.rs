//! Relay failures and how they reach the client: JSON-RPC error objects.

use serde::Serialize;
use serde_json::value::RawValue;

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

#[derive(Serialize)]
struct ErrorObject<'a> {
    code: i64,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a serde_json::Value>,
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
    data: Option<&serde_json::Value>,
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
    serde_json::to_vec(&response).expect("error response serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_response_keeps_id_verbatim() {
        let id = RawValue::from_string("\"abc\"".into()).unwrap();
        let line = jsonrpc_error(Some(&id), code::TIMEOUT, "too slow", None);
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
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
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["id"], serde_json::Value::Null);
        assert_eq!(value["error"]["data"]["x"], 1);
    }
}
