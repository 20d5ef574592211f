//! `mcpgw tools SERVICE`: the tools an MCP client sees through `mcpgw SERVICE`
//! with the same options, and [`Connection`], the small MCP client `tools` and
//! `call` share. It speaks through the relay's own [`Upstream`] (token, refresh,
//! lazy login, sessions, event streams) and applies the relay's [`ToolPolicy`];
//! nothing here is a second MCP-over-HTTP client.
//!
//! Protocol eras: `--protocol auto` sends `initialize` first and, when the server
//! answers it with an error, speaks the stateless 2026-07-28 era instead (every
//! request carries the envelope in `params._meta`).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::auth::Auth;
use crate::cli::{GlobalArgs, Protocol, ShellTarget, ToolsArgs};
use crate::config::Config;
use crate::error::{CliError, CliResult};
use crate::output::{Out, terminal_safe};
use crate::relay::errors::{Failure, code};
use crate::relay::filter::{ToolPolicy, is_read_name};
use crate::relay::message::{self, FromServer};
use crate::relay::upstream::{Upstream, parse_extra_headers};

/// The initialize-era revision asked for; the server may answer with an older one.
const SESSION_VERSION: &str = "2025-11-25";
/// The stateless era's revision.
const STATELESS_VERSION: &str = "2026-07-28";
/// Pages of `tools/list` followed at most (a server that keeps sending cursors).
const MAX_PAGES: usize = 1000;

pub async fn run(global: &GlobalArgs, args: &ToolsArgs, config: &Config) -> CliResult {
    let mut connection = Connection::open(global, config, &args.target).await?;
    let listed = connection.list_tools().await;
    connection.close().await;
    let tools = listed?;
    let entries: Vec<Entry> = tools
        .iter()
        .map(|tool| Entry::new(tool, connection.policy.as_ref()))
        .collect();
    let hidden = entries.iter().filter(|e| e.hidden_by.is_some()).count();
    let shown: Vec<&Entry> = entries
        .iter()
        .filter(|e| args.all || e.hidden_by.is_none())
        .collect();

    let mut out = Out::default();
    if args.json {
        let doc = json!({
            "service": connection.service,
            "url": connection.url,
            "protocolVersion": connection.protocol_version,
            "hidden": hidden,
            "tools": shown.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(out.print()?);
    }
    write_table(&mut out, &shown, args.all)?;
    out.print()?;
    let total = entries.len();
    let summary = match (hidden, args.all) {
        (0, _) => format!("{total} tools"),
        (_, true) => format!("{total} tools, {hidden} hidden by the tool filter"),
        (_, false) => format!(
            "{} of {total} tools shown; {hidden} hidden by the tool filter (--all lists them with the rule)",
            total - hidden
        ),
    };
    eprintln!("mcpgw: {summary}");
    Ok(())
}

/// One listed tool as mcpgw judges it.
struct Entry<'a> {
    tool: &'a Value,
    name: String,
    access: &'static str,
    hidden_by: Option<String>,
}

impl<'a> Entry<'a> {
    fn new(tool: &'a Value, policy: Option<&ToolPolicy>) -> Self {
        let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
        let annotated = tool.pointer("/annotations/readOnlyHint") == Some(&Value::Bool(true));
        let access = if is_read_name(name) || annotated {
            "read"
        } else {
            "write"
        };
        // A tool without a name is left to the client by the relay's filter too.
        let hidden_by = match policy {
            Some(policy) if !name.is_empty() => policy.explain(name),
            _ => None,
        };
        Entry {
            tool,
            name: name.to_owned(),
            access,
            hidden_by,
        }
    }

    fn description(&self) -> String {
        let text = self
            .tool
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        terminal_safe(first)
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "access": self.access,
            "hiddenBy": self.hidden_by,
            "tool": self.tool,
        })
    }
}

fn write_table(out: &mut Out, entries: &[&Entry], all: bool) -> std::io::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = entries.iter().map(|e| terminal_safe(&e.name)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let rules = entries
        .iter()
        .map(|e| e.hidden_by.as_deref().map_or(1, |r| r.chars().count()))
        .max()
        .unwrap_or(0)
        .max("HIDDEN BY".len());
    if all {
        writeln!(
            out,
            "{:width$}  {:5}  {:rules$}  DESCRIPTION",
            "NAME", "RW", "HIDDEN BY"
        )?;
    } else {
        writeln!(out, "{:width$}  {:5}  DESCRIPTION", "NAME", "RW")?;
    }
    for (entry, name) in entries.iter().zip(&names) {
        let description = entry.description();
        if all {
            let hidden = entry.hidden_by.as_deref().unwrap_or("-");
            writeln!(
                out,
                "{name:width$}  {:5}  {hidden:rules$}  {description}",
                entry.access
            )?;
        } else {
            writeln!(out, "{name:width$}  {:5}  {description}", entry.access)?;
        }
    }
    Ok(())
}

// ---- the client ------------------------------------------------------------------

/// A server message that arrived while a request was waiting for its answer.
pub(super) type OnMessage<'a> = &'a mut dyn FnMut(&Value);

/// One conversation with an MCP server through the relay's upstream client.
pub(super) struct Connection {
    upstream: Arc<Upstream>,
    /// The envelope every request carries in the stateless era; `None` in the
    /// initialize era.
    envelope: Option<Value>,
    next_id: u64,
    pub policy: Option<ToolPolicy>,
    timeout: Option<Duration>,
    /// Notifications and requests the server sends while a request is open.
    incoming: mpsc::Receiver<Bytes>,
    pub service: String,
    pub url: String,
    pub protocol_version: String,
    /// Why the stateless era is spoken with `--protocol auto`: the server's answer
    /// to `initialize`, added to later errors.
    fell_back: Option<String>,
}

impl Connection {
    /// Resolves the service, checks where the token may go, and opens the
    /// conversation in the era `--protocol` asks for.
    pub async fn open(
        global: &GlobalArgs,
        config: &Config,
        target: &ShellTarget,
    ) -> CliResult<Self> {
        let relay = &target.relay;
        let resolved = config.resolve_service(&target.service, relay.allow_http)?;
        let http = crate::http::client(global.ca_cert.as_deref())?;
        let auth = Auth::new(relay, config, http.client.clone());
        auth.ensure_may_send_to(config, &resolved.url)?;
        let headers: HeaderMap =
            parse_extra_headers(&relay.headers, &|name| std::env::var(name).ok())?;
        let policy = ToolPolicy::new(&resolved.filter, relay)?;
        let (sink, incoming) = mpsc::channel(64);
        let upstream = Upstream::new(
            resolved.url.clone(),
            &http,
            auth,
            headers,
            relay.max_message_size,
            sink,
        );
        let mut connection = Connection {
            upstream,
            envelope: None,
            next_id: 0,
            policy,
            timeout: (relay.timeout > 0).then(|| Duration::from_secs(relay.timeout)),
            incoming,
            service: resolved.name.clone(),
            url: resolved.url.to_string(),
            protocol_version: String::new(),
            fell_back: None,
        };
        match target.protocol {
            Protocol::Stateless => connection.go_stateless(),
            Protocol::Session => connection
                .initialize()
                .await
                .map_err(|refused| refused.error)?,
            Protocol::Auto => {
                if let Err(refused) = connection.initialize().await {
                    if !refused.server_said_no {
                        return Err(refused.error);
                    }
                    tracing::info!(
                        "initialize was refused ({}); trying the stateless 2026-07-28 era",
                        refused.error.message
                    );
                    connection.go_stateless();
                    connection.fell_back = Some(refused.error.message);
                }
            }
        }
        Ok(connection)
    }

    fn go_stateless(&mut self) {
        self.envelope = Some(json!({
            "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": client_info(),
        }));
        self.protocol_version = STATELESS_VERSION.to_owned();
    }

    async fn initialize(&mut self) -> Result<(), Refused> {
        let params = json!({
            "protocolVersion": SESSION_VERSION,
            "capabilities": {},
            "clientInfo": client_info(),
        });
        let answer = self
            .exchange("initialize", params, &mut |_| {})
            .await
            .map_err(|failed| Refused {
                // An HTTP error without a JSON-RPC body: a stateless server may answer so.
                server_said_no: failed.code == Some(code::UPSTREAM_HTTP),
                error: failed.error,
            })?;
        let result = answer.map_err(|error| Refused {
            server_said_no: true,
            error: self.rpc_error("initialize", &error),
        })?;
        self.protocol_version = result
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or(SESSION_VERSION)
            .to_owned();
        let initialized = message::parse(
            Bytes::from(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            false,
        )
        .expect("a valid notification");
        self.upstream
            .one_way(&initialized, None)
            .await
            .map_err(|failure| Refused {
                server_said_no: false,
                error: failure_to_cli(failure),
            })?;
        Ok(())
    }

    /// Sends one request and waits for its answer, passing what the server sends
    /// meanwhile to `on_message`. `Ok(Err(error))` is the server's JSON-RPC error.
    pub async fn exchange(
        &mut self,
        method: &str,
        mut params: Value,
        on_message: OnMessage<'_>,
    ) -> Result<Result<Value, Value>, Failed> {
        self.next_id += 1;
        if let Some(envelope) = &self.envelope {
            let meta = params
                .as_object_mut()
                .expect("params are an object")
                .entry("_meta")
                .or_insert_with(|| json!({}));
            if let (Some(meta), Some(envelope)) = (meta.as_object_mut(), envelope.as_object()) {
                meta.extend(envelope.clone());
            }
        }
        let body =
            json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params});
        let request = message::parse(Bytes::from(body.to_string()), true).map_err(|rejected| {
            CliError::internal(format!("cannot build {method}: {}", rejected.message))
        })?;
        let upstream = self.upstream.clone();
        let exchange = upstream.exchange(&request);
        tokio::pin!(exchange);
        let deadline = async {
            match self.timeout {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        let outcome = loop {
            tokio::select! {
                outcome = &mut exchange => break outcome,
                Some(line) = self.incoming.recv() => self.take_server_message(&line, on_message),
                () = &mut deadline => {
                    let limit = self.timeout.unwrap_or_default().as_secs();
                    return Err(CliError::user(format!("no answer to {method} from {} within {limit} s", self.service))
                        .with_hint("raise --timeout for slow tools (0 = no limit)").into());
                }
            }
        };
        while let Ok(line) = self.incoming.try_recv() {
            self.take_server_message(&line, on_message);
        }
        let line = match outcome {
            Ok(outcome) => outcome.into_line(),
            Err(failure) => {
                return Err(Failed {
                    code: Some(failure.code),
                    error: failure_to_cli(failure),
                });
            }
        };
        let mut answer: Value = serde_json::from_slice(&line).map_err(|err| {
            CliError::user(format!(
                "{} sent an answer to {method} that is not JSON",
                self.service
            ))
            .with_source(err)
        })?;
        if let Some(error) = answer.get_mut("error") {
            return Ok(Err(error.take()));
        }
        Ok(Ok(answer
            .get_mut("result")
            .map(Value::take)
            .unwrap_or(Value::Null)))
    }

    /// A server notification goes to `on_message`; a server request gets an answer
    /// (`ping` an empty result, anything else "not supported"), so it does not wait.
    fn take_server_message(&self, line: &[u8], on_message: OnMessage<'_>) {
        let Ok(value) = serde_json::from_slice::<Value>(line) else {
            return;
        };
        let is_request = value.get("method").is_some();
        if let (Ok(FromServer::Message), true, Some(id)) =
            (message::classify(line), is_request, value.get("id"))
        {
            let method = value.get("method").and_then(Value::as_str).unwrap_or("");
            let answer = if method == "ping" {
                json!({"jsonrpc": "2.0", "id": id, "result": {}})
            } else {
                json!({"jsonrpc": "2.0", "id": id, "error": {
                    "code": -32601,
                    "message": format!("mcpgw call does not support {method}"),
                }})
            };
            if let Ok(answer) = message::parse(Bytes::from(answer.to_string()), false) {
                let upstream = self.upstream.clone();
                tokio::spawn(async move {
                    if let Err(failure) = upstream.one_way(&answer, None).await {
                        tracing::debug!(
                            "answering the server's request failed: {}",
                            failure.message()
                        );
                    }
                });
            }
            return;
        }
        on_message(&value);
    }

    /// Every tool the server lists, following `nextCursor`. The policy learns the
    /// `readOnlyHint` annotations on the way, as the relay's does.
    pub async fn list_tools(&mut self) -> CliResult<Vec<Value>> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let params = match &cursor {
                Some(cursor) => json!({"cursor": cursor}),
                None => json!({}),
            };
            let result = self
                .exchange("tools/list", params, &mut |_| {})
                .await?
                .map_err(|error| self.rpc_error("tools/list", &error))?;
            if let Some(policy) = &self.policy {
                // Learns the annotations; the copy's filtered list is not needed.
                policy.filter_tools_list(&mut result.clone());
            }
            match result.get("tools") {
                Some(Value::Array(page)) => tools.extend(page.iter().cloned()),
                _ => {
                    return Err(CliError::user(format!(
                        "{}'s tools/list result has no `tools` list",
                        self.service
                    ))
                    .with_hint("check that this URL is an MCP server that offers tools"));
                }
            }
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(next) if Some(next) != cursor.as_deref() => cursor = Some(next.to_owned()),
                _ => return Ok(tools),
            }
        }
        Err(CliError::user(format!(
            "{} kept sending tools/list pages ({MAX_PAGES} followed)",
            self.service
        )))
    }

    /// A JSON-RPC error from the server as a CLI error.
    pub fn rpc_error(&self, method: &str, error: &Value) -> CliError {
        let text = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        let number = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let mut message = format!(
            "{} answered {method} with error {number}: {}",
            self.service,
            terminal_safe(text)
        );
        if let Some(refused) = &self.fell_back {
            message.push_str(&format!(
                " (in the stateless 2026-07-28 era, tried because {refused})"
            ));
        }
        CliError::user(message)
    }

    /// Ends the session (DELETE) in the initialize era.
    pub async fn close(&self) {
        if self.envelope.is_none() {
            self.upstream.end_session().await;
        }
    }
}

/// A request that got no answer from the server: the CLI error, and the relay's
/// failure code when the upstream client reported one.
pub(super) struct Failed {
    code: Option<i64>,
    error: CliError,
}

impl From<CliError> for Failed {
    fn from(error: CliError) -> Self {
        Failed { code: None, error }
    }
}

impl From<Failed> for CliError {
    fn from(failed: Failed) -> Self {
        failed.error
    }
}

/// Why `initialize` did not work: `server_said_no` when the server answered it
/// with an error (a stateless-era server may), so another era is worth a try.
struct Refused {
    server_said_no: bool,
    error: CliError,
}

fn client_info() -> Value {
    json!({"name": "mcpgw", "version": env!("CARGO_PKG_VERSION")})
}

/// The relay's failure as a CLI error: what happened and what to do.
fn failure_to_cli(failure: Failure) -> CliError {
    let mut error = CliError::user(failure.problem.clone());
    if let Some(fix) = &failure.fix {
        error = error.with_hint(fix.clone());
    } else if failure.code == code::UPSTREAM_HTTP || failure.code == code::UPSTREAM_PROTOCOL {
        error = error.with_hint("check the service's URL with `mcpgw doctor`");
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::RelayArgs;
    use crate::config::ToolFilter;

    fn policy(args: RelayArgs) -> ToolPolicy {
        ToolPolicy::new(&ToolFilter::default(), &args)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn entries_say_read_or_write_and_which_rule_hides_them() {
        let policy = policy(RelayArgs {
            read_only: true,
            deny_tool: vec!["*Secret*".into()],
            ..Default::default()
        });
        let annotated = json!({"name": "RunReport", "annotations": {"readOnlyHint": true},
                               "description": "\n  Runs a report.\nSecond line"});
        policy.filter_tools_list(&mut json!({"tools": [annotated.clone()]}));
        let describe = json!({"name": "DescribeInstances"});
        let delete = json!({"name": "DeleteInstance"});
        let secret = json!({"name": "GetSecret"});

        let e = Entry::new(&annotated, Some(&policy));
        assert_eq!((e.access, e.hidden_by.as_deref()), ("read", None));
        assert_eq!(e.description(), "Runs a report.");
        let e = Entry::new(&describe, Some(&policy));
        assert_eq!((e.access, e.hidden_by.as_deref()), ("read", None));
        let e = Entry::new(&delete, Some(&policy));
        assert_eq!(
            (e.access, e.hidden_by.as_deref()),
            ("write", Some("blocked by --read-only"))
        );
        let e = Entry::new(&secret, Some(&policy));
        assert_eq!(
            e.hidden_by.as_deref(),
            Some("blocked by --deny-tool `*Secret*`")
        );
        let e = Entry::new(&delete, None);
        assert_eq!((e.access, e.hidden_by), ("write", None));
    }

    #[test]
    fn descriptions_are_terminal_safe() {
        let tool = json!({"name": "x", "description": "evil \u{1b}[31mred"});
        assert_eq!(
            Entry::new(&tool, None).description(),
            "evil \u{FFFD}[31mred"
        );
    }
}
