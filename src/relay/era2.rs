//! The 2026-07-28 ("era 2") HTTP envelope: requests carry their protocol version in
//! `params._meta`, and the HTTP headers must mirror the body (`Mcp-Method`,
//! `Mcp-Name`, `Mcp-Param-*`) or the server rejects the request with -32020.
//!
//! `Mcp-Param-*` headers come from `x-mcp-header` annotations in a tool's
//! `inputSchema`, which the relay learns from the `tools/list` results it relays.

use std::collections::HashMap;

use base64::Engine;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

const META_PREFIX: &str = "io.modelcontextprotocol/";

/// For each tool, the argument paths annotated with `x-mcp-header` and their tokens.
#[derive(Debug, Default, Clone)]
pub struct ToolHeaderMaps {
    tools: HashMap<String, Vec<(Vec<String>, String)>>,
}

impl ToolHeaderMaps {
    /// Absorbs one page of a `tools/list` result.
    pub fn learn(&mut self, result: &Value) {
        let Some(tools) = result.get("tools").and_then(Value::as_array) else {
            return;
        };
        for tool in tools {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            let mut annotated = Vec::new();
            if let Some(schema) = tool.get("inputSchema") {
                collect_annotations(schema, &mut Vec::new(), &mut annotated);
            }
            self.tools.insert(name.to_owned(), annotated);
        }
    }

    pub fn knows(&self, tool: &str) -> bool {
        self.tools.contains_key(tool)
    }

    /// `Mcp-Param-*` headers for a call of `tool` with `arguments`.
    pub fn param_headers(&self, tool: &str, arguments: &Value) -> Vec<(HeaderName, HeaderValue)> {
        let Some(annotated) = self.tools.get(tool) else {
            return Vec::new();
        };
        annotated
            .iter()
            .filter_map(|(path, token)| {
                let value = path.iter().try_fold(arguments, |node, key| node.get(key))?;
                let rendered = match value {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                let name = HeaderName::from_bytes(format!("mcp-param-{token}").as_bytes()).ok()?;
                Some((name, encode_header_value(&rendered)))
            })
            .collect()
    }
}

/// Walks `properties` chains only: an annotation anywhere else is not a header.
fn collect_annotations(
    schema: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String)>,
) {
    if !path.is_empty()
        && let Some(token) = schema.get("x-mcp-header").and_then(Value::as_str)
    {
        out.push((path.clone(), token.to_owned()));
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in properties {
            path.push(name.clone());
            collect_annotations(sub, path, out);
            path.pop();
        }
    }
}

/// Printable ASCII without edge whitespace passes as is; anything else is sent as
/// `=?base64?…?=` so the server can recover the exact text.
pub fn encode_header_value(value: &str) -> HeaderValue {
    let plain = value.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && value.trim() == value
        && !(value.starts_with("=?base64?") && value.ends_with("?="));
    let text = if plain {
        value.to_owned()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
        )
    };
    HeaderValue::from_str(&text).expect("printable ASCII is a valid header value")
}

/// The headers that mirror an era-2 request body.
pub fn mirror_headers(
    headers: &mut HeaderMap,
    protocol_version: &str,
    method: &str,
    params: Option<&Value>,
    tool_maps: Option<&ToolHeaderMaps>,
) {
    if let Ok(version) = HeaderValue::from_str(protocol_version) {
        headers.insert("mcp-protocol-version", version);
    }
    if let Ok(method_value) = HeaderValue::from_str(method) {
        headers.insert("mcp-method", method_value);
    }
    let name_key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        _ => return,
    };
    let Some(params) = params else { return };
    if let Some(name) = params.get(name_key).and_then(Value::as_str) {
        headers.insert("mcp-name", encode_header_value(name));
        if method == "tools/call"
            && let Some(maps) = tool_maps
        {
            let no_arguments = Value::Null;
            let arguments = params.get("arguments").unwrap_or(&no_arguments);
            for (header, value) in maps.param_headers(name, arguments) {
                headers.insert(header, value);
            }
        }
    }
}

/// The envelope keys of a request's `_meta` (`io.modelcontextprotocol/*`), for a
/// request the relay makes on the client's behalf.
pub fn envelope_of(params: &Value) -> serde_json::Map<String, Value> {
    params
        .get("_meta")
        .and_then(Value::as_object)
        .map(|meta| {
            meta.iter()
                .filter(|(key, _)| key.starts_with(META_PREFIX))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_values_are_plain_or_base64() {
        assert_eq!(encode_header_value("us-west-1"), "us-west-1");
        assert_eq!(encode_header_value("café"), "=?base64?Y2Fmw6k=?=");
        assert_eq!(encode_header_value(" padded"), "=?base64?IHBhZGRlZA==?=");
        assert_eq!(
            encode_header_value("=?base64?x?="),
            "=?base64?PT9iYXNlNjQ/eD89?="
        );
    }

    #[test]
    fn learns_annotations_on_properties_chains_only() {
        let mut maps = ToolHeaderMaps::default();
        maps.learn(&json!({"tools": [{
            "name": "run",
            "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "dry": {"type": "boolean", "x-mcp-header": "Dry"},
                "opts": {"type": "object", "properties": {"zone": {"type": "integer", "x-mcp-header": "Zone"}}},
                "list": {"type": "array", "items": {"type": "string", "x-mcp-header": "Nope"}}
            }}
        }]}));
        let args = json!({"region": "杭州", "dry": true, "opts": {"zone": 7}, "list": ["a"]});
        let mut headers: Vec<(String, String)> = maps
            .param_headers("run", &args)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        headers.sort();
        assert_eq!(
            headers,
            [
                ("mcp-param-dry".to_owned(), "true".to_owned()),
                (
                    "mcp-param-region".to_owned(),
                    "=?base64?5p2t5bee?=".to_owned()
                ),
                ("mcp-param-zone".to_owned(), "7".to_owned()),
            ]
        );
        assert!(maps.param_headers("other", &args).is_empty());
    }

    #[test]
    fn mirrors_method_name_and_version() {
        let mut headers = HeaderMap::new();
        let params = json!({"uri": "file:///a b", "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "progressToken": 1}});
        mirror_headers(
            &mut headers,
            "2026-07-28",
            "resources/read",
            Some(&params),
            None,
        );
        assert_eq!(headers["mcp-method"], "resources/read");
        assert_eq!(headers["mcp-name"], "file:///a b");
        assert_eq!(headers["mcp-protocol-version"], "2026-07-28");
        let envelope = envelope_of(&params);
        assert_eq!(
            envelope.len(),
            1,
            "progressToken is not part of the envelope"
        );
    }
}
