//! Exact transport tests: the real `mcpgw` binary relays JSON lines on piped
//! stdin/stdout to the scriptable Rust upstream in `tests/server/`, and each test
//! asserts on both what reached stdout and what the upstream recorded.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use base64::Engine;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::server::{
    ERA2_VERSION, Ev, Gate, PROTOCOL_VERSION, Reply, Seen, TOKEN, TestServer, WAIT, echo_result,
    notification, rpc_error,
};

// ---- the relay process -------------------------------------------------------

/// How to start one `mcpgw` relay process.
pub struct Spawn {
    args: Vec<String>,
    env: Vec<(String, String)>,
    token: Option<String>,
    home: Option<TempDir>,
}

/// `mcpgw ARGS...` with the upstream's token in `MCPGW_BEARER_TOKEN`.
pub fn relay(args: &[&str]) -> Spawn {
    Spawn {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        token: Some(TOKEN.to_owned()),
        home: None,
    }
}

impl Spawn {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The token to send; `None` sets no token at all.
    pub fn token(mut self, token: Option<&str>) -> Self {
        self.token = token.map(str::to_owned);
        self
    }

    /// Use this directory as HOME (e.g. one with a config file in it).
    pub fn home(mut self, home: TempDir) -> Self {
        self.home = Some(home);
        self
    }

    pub fn spawn(self) -> Relay {
        let home = self.home.unwrap_or_else(|| TempDir::new().unwrap());
        let mut cmd = crate::isolated_command(home.path());
        cmd.args(&self.args);
        if let Some(token) = &self.token {
            cmd.env("MCPGW_BEARER_TOKEN", token);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawn mcpgw");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let stderr_task = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Relay {
            child,
            stdin,
            stdout,
            stdout_seen: Vec::new(),
            stderr,
            stderr_task,
            _home: home,
        }
    }
}

/// A running relay with piped stdio.
pub struct Relay {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    /// Every stdout line read so far.
    stdout_seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    stderr_task: tokio::task::JoinHandle<()>,
    _home: TempDir,
}

/// What a relay left behind once it exited.
pub struct Finished {
    pub status: ExitStatus,
    /// stdout lines not read before `finish`.
    pub rest: Vec<String>,
    /// Every stdout line of the run.
    pub all_stdout: Vec<String>,
    pub stderr: String,
}

impl Relay {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("relay still running")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The buffer size of the pipe the relay writes its stdout to.
    #[cfg(target_os = "linux")]
    pub fn stdout_pipe_bytes(&mut self) -> i32 {
        use std::os::fd::AsRawFd;
        let fd = self.stdout.get_mut().get_ref().as_raw_fd();
        // SAFETY: F_GETPIPE_SZ only reads the size of a pipe we hold open.
        unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) }
    }

    /// Writes one line (a newline is added).
    pub async fn send(&mut self, line: &str) {
        assert!(!line.contains('\n'), "one message per line");
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write to relay stdin");
        stdin.flush().await.unwrap();
    }

    pub async fn send_json(&mut self, message: &Value) {
        self.send(&message.to_string()).await;
    }

    /// The next stdout line, failing the test after [`WAIT`] or at EOF.
    pub async fn recv(&mut self) -> String {
        match tokio::time::timeout(WAIT, self.stdout.next_line()).await {
            Ok(Ok(Some(line))) => {
                self.stdout_seen.push(line.clone());
                line
            }
            Ok(Ok(None)) => panic!("relay closed stdout; stderr:\n{}", self.stderr()),
            Ok(Err(err)) => panic!("reading relay stdout: {err}; stderr:\n{}", self.stderr()),
            Err(_) => panic!(
                "no stdout line within {WAIT:?}; lines so far: {:?}; stderr:\n{}",
                self.stdout_seen,
                self.stderr()
            ),
        }
    }

    /// The next stdout line, read `chunk` bytes at a time with `pause` between
    /// reads: a slow client. Fails the test after a minute.
    pub async fn recv_slowly(&mut self, pause: Duration, chunk: usize) -> String {
        let reader = self.stdout.get_mut();
        let mut line = Vec::new();
        let mut buf = vec![0u8; chunk];
        let read = async {
            loop {
                let n = reader.read(&mut buf).await.expect("read stdout");
                assert!(n > 0, "stdout ended inside a line: {} bytes", line.len());
                line.extend_from_slice(&buf[..n]);
                if line.ends_with(b"\n") {
                    return;
                }
                tokio::time::sleep(pause).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("a minute without the whole line");
        line.pop();
        String::from_utf8(line).expect("stdout is UTF-8")
    }

    /// The next stdout line as JSON.
    pub async fn recv_json(&mut self) -> Value {
        let line = self.recv().await;
        serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line}"))
    }

    /// The next stdout line, which must be the answer to request `id`.
    pub async fn answer(&mut self, id: Value) -> Value {
        let message = self.recv_json().await;
        assert_eq!(
            message["id"], id,
            "expected the answer to id {id}, got {message}"
        );
        message
    }

    /// `initialize` (id 0) and `notifications/initialized`, like every MCP client;
    /// waits until the upstream has seen the notification so later assertions on
    /// request order hold. Returns the initialize answer.
    pub async fn handshake(&mut self, server: &TestServer) -> Value {
        self.send(&init_line(0)).await;
        let answer = self.answer(json!(0)).await;
        assert!(
            answer.get("result").is_some(),
            "initialize failed: {answer}"
        );
        self.send(INITIALIZED).await;
        server.wait_for_rpc("notifications/initialized").await;
        answer
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Closes stdin, reads stdout to EOF and waits for the exit (each bounded by [`WAIT`]).
    pub async fn finish(mut self) -> Finished {
        self.stdin = None;
        let mut rest = Vec::new();
        let read_all = async {
            while let Some(line) = self.stdout.next_line().await.expect("read stdout") {
                rest.push(line);
            }
        };
        if tokio::time::timeout(WAIT, read_all).await.is_err() {
            panic!(
                "relay did not close stdout within {WAIT:?} after stdin EOF; stderr:\n{}",
                self.stderr()
            );
        }
        let status = match tokio::time::timeout(WAIT, self.child.wait()).await {
            Ok(status) => status.unwrap(),
            Err(_) => panic!(
                "relay did not exit within {WAIT:?}; stderr:\n{}",
                self.stderr()
            ),
        };
        let _ = tokio::time::timeout(WAIT, &mut self.stderr_task).await;
        let mut all_stdout = std::mem::take(&mut self.stdout_seen);
        all_stdout.extend(rest.iter().cloned());
        Finished {
            status,
            rest,
            all_stdout,
            stderr: self.stderr(),
        }
    }
}

impl Finished {
    /// Exit 0, with stderr in the failure message.
    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "relay exited with {}; stderr:\n{}",
            self.status,
            self.stderr
        );
    }
}

// ---- messages ----------------------------------------------------------------

/// An era-1 `initialize` request asking for a newer version than the upstream's
/// [`PROTOCOL_VERSION`], so tests can tell the negotiated version from the asked one.
pub fn init_line(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {"roots": {"listChanged": true}, "sampling": {}},
        "clientInfo": {"name": "transport-test", "version": "1.0"}
    }})
    .to_string()
}

pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

pub fn call(id: Value, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

pub fn ping(id: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"}).to_string()
}

/// The era-2 envelope in `params._meta`.
fn era2_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": ERA2_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "transport-test", "version": "1.0"}
    })
}

fn era2(id: u64, method: &str, mut params: Value) -> Value {
    params["_meta"] = era2_meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

pub fn assert_error(message: &Value, id: Value, code: i64) -> String {
    assert_eq!(message["id"], id, "error for the wrong id: {message}");
    assert_eq!(message["error"]["code"], code, "wrong error: {message}");
    assert_eq!(message["jsonrpc"], "2.0", "{message}");
    message["error"]["message"]
        .as_str()
        .expect("error message is a string")
        .to_owned()
}

/// The POST body must be the stdin line byte for byte (without the line's `\n`).
fn assert_body(seen: &Seen, line: &str) {
    assert_eq!(
        String::from_utf8_lossy(&seen.body),
        line,
        "POST body differs from the stdin line"
    );
    assert_eq!(seen.body, line.as_bytes());
}

/// Fails unless every recorded request of the upstream carries the bearer token.
fn assert_all_authorized(server: &TestServer) {
    for request in server.requests() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{} {} without the token",
            request.method,
            request.path
        );
        assert_eq!(request.header_count("authorization"), 1);
    }
}

// ---- headers and bodies ------------------------------------------------------

#[tokio::test]
async fn headers_on_each_request() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();

    relay.send(&init_line(1)).await;
    let init = relay.answer(json!(1)).await;
    assert_eq!(init["result"]["protocolVersion"], PROTOCOL_VERSION);
    relay.send(INITIALIZED).await;
    relay
        .send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        .await;
    relay.answer(json!(2)).await;
    let done = relay.finish().await;
    done.assert_success();

    let posts = server.posts();
    let methods: Vec<_> = posts.iter().map(|p| p.rpc_method().unwrap()).collect();
    assert_eq!(
        methods,
        ["initialize", "notifications/initialized", "tools/list"]
    );
    for post in &posts {
        assert_eq!(post.path, "/mcp");
        assert_eq!(
            post.header("content-type"),
            Some("application/json"),
            "{post:?}"
        );
        let accept = post.header("accept").unwrap_or_default();
        assert!(
            accept.contains("application/json") && accept.contains("text/event-stream"),
            "Accept: {accept}"
        );
    }
    // Before initialize answered, there is nothing to echo.
    assert_eq!(posts[0].header("mcp-session-id"), None);
    assert_eq!(posts[0].header("mcp-protocol-version"), None);
    // Afterwards every request carries the session and the negotiated version (the
    // server's answer, not the version the client asked for).
    for request in server.requests().iter().skip(1) {
        assert_eq!(
            request.header("mcp-session-id"),
            Some("session-1"),
            "{} {}",
            request.method,
            request.path
        );
        assert_eq!(request.header_count("mcp-session-id"), 1);
        assert_eq!(
            request.header("mcp-protocol-version"),
            Some(PROTOCOL_VERSION),
            "{request:?}"
        );
    }
    assert_all_authorized(&server);
}

#[tokio::test]
async fn bodies_pass_byte_exact_both_ways() {
    // Unknown fields, odd spacing, number spellings and \u escapes that any
    // parse-and-reserialise step would change.
    const REQUEST: &str = r#"{"jsonrpc": "2.0","id":"req-é-1","method":"tools/call","params":{"name":"echo","arguments":{"text":"héllo 世界 🚀 \u00e9\"q\"","n":1.50,"big":12345678901234567890,"z":null},"x-future":{"deep":[1,2e3,{}]}},"zzz":true}"#;
    const REPLY: &str = r#"{"result":{"content":[{"type":"text","text":"ünïcødé 🚀 \u00e9"}],"x-extra":1.50},"id":"req-é-1","jsonrpc":"2.0","trailing":{}}"#;
    const UNKNOWN_METHOD: &str =
        r#"{"jsonrpc":"2.0","id":3,"method":"vendor/futureThing","params":{"ä":[]}}"#;
    let server = TestServer::builder()
        .on("tools/call", |_| {
            Reply::status(200, "application/json", REPLY)
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    relay.send(REQUEST).await;
    assert_eq!(relay.recv().await, REPLY);
    relay.send(UNKNOWN_METHOD).await;
    let answer = relay.answer(json!(3)).await;
    assert_eq!(
        answer["error"]["code"], -32601,
        "the upstream's own answer: {answer}"
    );
    relay.finish().await.assert_success();

    assert_body(&server.rpcs("initialize")[0], &init_line(0));
    assert_body(&server.rpcs("notifications/initialized")[0], INITIALIZED);
    assert_body(&server.rpcs("tools/call")[0], REQUEST);
    assert_body(&server.rpcs("vendor/futureThing")[0], UNKNOWN_METHOD);
}

#[tokio::test]
async fn sequential_requests_reuse_kept_alive_connections() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    for id in 1..=6 {
        relay.send(&ping(id)).await;
        relay.answer(json!(id)).await;
    }
    relay.finish().await.assert_success();
    // Up to two pooled connections may be idle (the 405'd GET returned one).
    let ports: std::collections::BTreeSet<u16> =
        server.rpcs("ping").iter().map(|p| p.peer.port()).collect();
    assert!(
        ports.len() <= 2,
        "a new connection per request; seen:\n{}",
        server.describe()
    );
}

// ---- SSE ---------------------------------------------------------------------

#[tokio::test]
async fn sse_events_reach_stdout_as_each_arrives() {
    let gate = Gate::new();
    let release = gate.clone();
    let server = TestServer::builder()
        .on("tools/call", move |req| {
            let token = req["params"]["_meta"]["progressToken"].clone();
            Reply::Sse(vec![
                Ev::Prime,
                Ev::Msg(notification(
                    "notifications/progress",
                    json!({"progressToken": token, "progress": 1, "total": 2}),
                )),
                Ev::Msg(notification(
                    "notifications/message",
                    json!({"level": "info", "data": "halfway ✓"}),
                )),
                Ev::Wait(gate.clone()),
                Ev::Msg(echo_result(req)),
            ])
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    let mut request = call(json!(2), "echo", json!({"text": "hi"}));
    request["params"]["_meta"] = json!({"progressToken": "p-1"});
    relay.send_json(&request).await;
    // Both notifications are readable while the response is still held back, and
    // the priming event (empty data) produced no line.
    let progress = relay.recv_json().await;
    assert_eq!(
        progress,
        notification(
            "notifications/progress",
            json!({"progressToken": "p-1", "progress": 1, "total": 2})
        )
    );
    let log = relay.recv_json().await;
    assert_eq!(log["params"]["data"], "halfway ✓");
    release.open();
    let answer = relay.answer(json!(2)).await;
    assert_eq!(answer["result"]["content"][0]["text"], r#"{"text":"hi"}"#);
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "unexpected stdout: {:?}", done.rest);
}

#[tokio::test]
async fn server_request_on_sse_and_client_answer_posted_back() {
    let gate = Gate::new();
    let release = gate.clone();
    let server = TestServer::builder()
        .sse_replies()
        .on("tools/call", move |req| {
            Reply::Sse(vec![
                Ev::Prime,
                Ev::Msg(json!({"jsonrpc": "2.0", "id": "srv-1", "method": "roots/list"})),
                Ev::Wait(gate.clone()),
                Ev::Msg(echo_result(req)),
            ])
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    relay.send_json(&call(json!(5), "echo", json!({}))).await;
    let server_request = relay.recv_json().await;
    assert_eq!(
        server_request,
        json!({"jsonrpc": "2.0", "id": "srv-1", "method": "roots/list"})
    );
    const ROOTS: &str =
        r#"{"jsonrpc":"2.0","id":"srv-1","result":{"roots":[{"uri":"file:///tmp","name":"tmp"}]}}"#;
    relay.send(ROOTS).await;
    let posted = server
        .wait_for("the client's roots/list answer", |r| {
            r.rpc_id() == Some(json!("srv-1"))
        })
        .await;
    assert_body(&posted, ROOTS);
    assert_eq!(posted.header("mcp-session-id"), Some("session-1"));
    assert_eq!(
        posted.header("mcp-protocol-version"),
        Some(PROTOCOL_VERSION)
    );
    release.open();
    relay.answer(json!(5)).await;
    let done = relay.finish().await;
    done.assert_success();
    assert!(
        done.rest.is_empty(),
        "the 202 for the answer must print nothing: {:?}",
        done.rest
    );
}

#[tokio::test]
async fn accepted_202_prints_nothing() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    relay
        .send(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#)
        .await;
    relay
        .send(r#"{"jsonrpc":"2.0","id":"s-9","result":{}}"#)
        .await;
    relay
        .send(r#"{"jsonrpc":"2.0","id":"s-10","error":{"code":-1,"message":"no"}}"#)
        .await;
    server
        .wait_for("the third message", |r| {
            String::from_utf8_lossy(&r.body).contains(r#""s-10""#)
        })
        .await;
    relay.send(&ping(7)).await;
    // The ping's answer is the very next line: the three 202s printed nothing.
    relay.answer(json!(7)).await;
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "unexpected stdout: {:?}", done.rest);
    let methods: Vec<_> = server.posts().iter().map(|p| p.rpc_method()).collect();
    assert_eq!(
        methods[2..5],
        [
            Some("notifications/roots/list_changed".to_owned()),
            None,
            None
        ],
        "notifications and responses are POSTed in order"
    );
}

#[tokio::test]
async fn sse_framing_edge_cases_each_give_one_json_line() {
    // Multi-line data (joined with \n by SSE), CRLF line ends, comments, an event
    // without `event:`, and the response split across TCP writes mid-line.
    let server = TestServer::builder()
        .on("tools/call", |req| {
            let id = req["id"].clone();
            Reply::Sse(vec![
                Ev::Raw(": keep-alive comment\n\n".into()),
                Ev::Raw("id: a1\r\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\r\ndata: \"method\":\"notifications/message\",\r\ndata: \"params\":{\"level\":\"info\",\"data\":\"crlf ✓\"}}\r\n\r\n".into()),
                Ev::Raw("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":1,\"progress\":1}}\n\n".into()),
                Ev::Raw(format!("id: a2\nevent: message\ndata: {{\"jsonrpc\":\"2.0\",\"id\":{id},")),
                Ev::Raw("\"result\":{\"content\":[]}}\n\n".into()),
            ])
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(2), "echo", json!({}))).await;
    let log = relay.recv_json().await;
    assert_eq!(
        log,
        notification(
            "notifications/message",
            json!({"level": "info", "data": "crlf ✓"})
        )
    );
    let progress = relay.recv_json().await;
    assert_eq!(progress["method"], "notifications/progress");
    let answer = relay.answer(json!(2)).await;
    assert_eq!(answer["result"], json!({"content": []}));
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "unexpected stdout: {:?}", done.rest);
}

#[tokio::test]
async fn pretty_printed_json_reply_becomes_one_line() {
    let server = TestServer::builder()
        .on("tools/call", |req| {
            let pretty = serde_json::to_string_pretty(&echo_result(req)).unwrap();
            assert!(pretty.contains('\n'));
            Reply::status(
                200,
                "application/json; charset=utf-8",
                format!("{pretty}\r\n"),
            )
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    let request = call(json!(2), "echo", json!({"text": "two\nlines"}));
    relay.send_json(&request).await;
    assert_eq!(relay.recv_json().await, echo_result(&request));
    relay.send(&ping(3)).await;
    relay.answer(json!(3)).await;
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "unexpected stdout: {:?}", done.rest);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn stdout_pipe_is_widened_for_large_results() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    let default = relay.stdout_pipe_bytes();
    relay.handshake(&server).await;
    let max: i32 = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .expect("read /proc/sys/fs/pipe-max-size")
        .trim()
        .parse()
        .unwrap();
    // The relay has started (it answered): it asked for the largest pipe allowed,
    // up to 1 MiB; a 64 KiB pipe would cost a wake-up per 64 KiB of a result.
    assert_eq!(relay.stdout_pipe_bytes(), max.min(1 << 20), "was {default}");
    relay.finish().await.assert_success();
}

// ---- concurrency -------------------------------------------------------------

async fn slow_call_does_not_block(sse: bool) {
    let gate = Gate::new();
    let mut builder = TestServer::builder().gated_tool("slow", gate.clone());
    if sse {
        builder = builder.sse_replies();
    }
    let server = builder.start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    relay
        .send_json(&call(json!(2), "slow", json!({"n": 2})))
        .await;
    server.wait_for_rpc("tools/call").await;
    relay
        .send_json(&call(json!(3), "echo", json!({"n": 3})))
        .await;
    relay.send(&ping(4)).await;
    let first = relay.recv_json().await;
    let second = relay.recv_json().await;
    let mut ids = [first["id"].clone(), second["id"].clone()];
    ids.sort_by_key(|id| id.as_i64());
    assert_eq!(
        ids,
        [json!(3), json!(4)],
        "the fast requests are answered while the slow one waits"
    );
    gate.open();
    let slow = relay.answer(json!(2)).await;
    assert_eq!(slow["result"]["content"][0]["text"], r#"{"n":2}"#);
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn slow_call_does_not_block_later_calls_json() {
    slow_call_does_not_block(false).await;
}

#[tokio::test]
async fn slow_call_does_not_block_later_calls_sse() {
    slow_call_does_not_block(true).await;
}

// ---- sessions ----------------------------------------------------------------

async fn session_loss_reinitializes(unknown_session_status: u16) {
    let server = TestServer::builder()
        .unknown_session_status(unknown_session_status)
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay
        .send_json(&call(json!(2), "echo", json!({"n": 2})))
        .await;
    relay.answer(json!(2)).await;

    server.expire_sessions();
    let retried = call(json!(3), "echo", json!({"n": 3})).to_string();
    relay.send(&retried).await;
    let answer = relay.answer(json!(3)).await;
    assert_eq!(answer["result"]["content"][0]["text"], r#"{"n":3}"#);
    // The next line answers the next request: no second initialize answer, no
    // error for id 3 leaked in between.
    relay.send(&ping(4)).await;
    relay.answer(json!(4)).await;
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "unexpected stdout: {:?}", done.rest);

    let posts = server.posts();
    let summary: Vec<_> = posts
        .iter()
        .map(|p| {
            (
                p.rpc_method().unwrap(),
                p.header("mcp-session-id").map(str::to_owned),
            )
        })
        .collect();
    let s = |id: &str| Some(id.to_owned());
    assert_eq!(
        summary,
        [
            ("initialize".to_owned(), None),
            ("notifications/initialized".to_owned(), s("session-1")),
            ("tools/call".to_owned(), s("session-1")),
            ("tools/call".to_owned(), s("session-1")),
            ("initialize".to_owned(), None),
            ("notifications/initialized".to_owned(), s("session-2")),
            ("tools/call".to_owned(), s("session-2")),
            ("ping".to_owned(), s("session-2")),
        ],
        "seen:\n{}",
        server.describe()
    );
    // The replay asks for what the client asked for, and the retry is the original line.
    assert_eq!(posts[4].json()["params"], posts[0].json()["params"]);
    assert_eq!(posts[4].header("mcp-protocol-version"), None);
    assert_body(&posts[6], &retried);
    assert_eq!(
        posts[6].header("mcp-protocol-version"),
        Some(PROTOCOL_VERSION)
    );
    assert_all_authorized(&server);
}

#[tokio::test]
async fn session_404_reinitializes_transparently() {
    session_loss_reinitializes(404).await;
}

#[tokio::test]
async fn session_400_mentioning_session_reinitializes() {
    session_loss_reinitializes(400).await;
}

// ---- resumption and the GET stream -------------------------------------------

async fn early_close_resumes(
    steps_before_close: fn(&Value) -> Vec<Ev>,
    expected_last_event_id: &str,
) {
    let server = TestServer::builder()
        .on("tools/call", move |req| {
            let mut steps = steps_before_close(req);
            steps.push(Ev::CloseEarly);
            steps.push(Ev::Msg(notification(
                "notifications/message",
                json!({"level": "info", "data": "after resume"}),
            )));
            steps.push(Ev::Msg(echo_result(req)));
            Reply::Sse(steps)
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    relay
        .send_json(&call(json!(2), "echo", json!({"n": 2})))
        .await;
    let mut lines = Vec::new();
    loop {
        let message = relay.recv_json().await;
        let done = message["id"] == 2;
        lines.push(message);
        if done {
            break;
        }
    }
    let methods: Vec<_> = lines
        .iter()
        .map(|m| m["method"].as_str().unwrap_or("<response>").to_owned())
        .collect();
    let mut expected: Vec<_> = steps_before_close(&json!({}))
        .iter()
        .filter(|s| matches!(s, Ev::Msg(_)))
        .map(|_| "notifications/progress".to_owned())
        .collect();
    expected.extend(["notifications/message".to_owned(), "<response>".to_owned()]);
    assert_eq!(methods, expected);
    relay.finish().await.assert_success();

    let resume = server
        .requests()
        .into_iter()
        .find(|r| r.method == Method::GET && r.header("last-event-id").is_some())
        .unwrap_or_else(|| panic!("no GET with Last-Event-ID; seen:\n{}", server.describe()));
    assert_eq!(resume.header("last-event-id"), Some(expected_last_event_id));
    assert_eq!(resume.path, "/mcp");
    assert!(
        resume
            .header("accept")
            .unwrap_or_default()
            .contains("text/event-stream")
    );
    assert_eq!(resume.header("mcp-session-id"), Some("session-1"));
    assert_eq!(
        resume.header("mcp-protocol-version"),
        Some(PROTOCOL_VERSION)
    );
    assert_eq!(server.rpcs("tools/call").len(), 1, "resumed, not re-sent");
    assert_all_authorized(&server);
}

#[tokio::test]
async fn early_closed_sse_resumes_with_get_and_last_event_id() {
    // ev-1 is the priming event, ev-2 the progress notification: the last id seen.
    early_close_resumes(
        |_| {
            vec![
                Ev::Prime,
                Ev::Msg(notification(
                    "notifications/progress",
                    json!({"progressToken": 1, "progress": 1}),
                )),
            ]
        },
        "ev-2",
    )
    .await;
}

#[tokio::test]
async fn stream_closed_right_after_priming_event_resumes() {
    // 2025-11-25 servers may close after the priming event alone (id ev-1).
    early_close_resumes(|_| vec![Ev::Prime], "ev-1").await;
}

#[tokio::test]
async fn the_line_after_initialized_waits_until_the_get_stream_is_open() {
    // A server may send its first requests on the GET stream as soon as the client
    // is initialized, and has nowhere to send them until the stream is open: the
    // next request must not overtake the GET, however slowly it is answered.
    let server = TestServer::builder()
        .get_stream()
        .get_delay(Duration::from_millis(300))
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send(&ping(1)).await;
    relay.answer(json!(1)).await;
    let ping = server.rpcs("ping").remove(0);
    assert_eq!(
        ping.get_streams_open, 1,
        "the ping reached the server before its GET stream was open"
    );
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn get_stream_messages_reach_stdout_and_it_reconnects() {
    let server = TestServer::builder().get_stream().start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    server.wait_get_streams(1).await;
    let get = server.of_method(Method::GET).remove(0);
    assert!(
        get.header("accept")
            .unwrap_or_default()
            .contains("text/event-stream"),
        "{get:?}"
    );
    assert_eq!(get.header("mcp-session-id"), Some("session-1"));
    assert_eq!(get.header("mcp-protocol-version"), Some(PROTOCOL_VERSION));
    assert_eq!(get.header("last-event-id"), None);

    let updated = notification(
        "notifications/resources/updated",
        json!({"uri": "file:///a.txt"}),
    );
    server.push_get(updated.clone());
    assert_eq!(relay.recv_json().await, updated);
    let server_request = json!({"jsonrpc": "2.0", "id": 77, "method": "ping"});
    server.push_get(server_request.clone());
    assert_eq!(relay.recv_json().await, server_request);

    // The stream ends: the relay comes back with the last id it saw (ev-1 was
    // the priming event, ev-2 and ev-3 the two messages).
    server.close_get_streams();
    let gets = server.wait_method(Method::GET, 2).await;
    assert_eq!(gets[1].header("last-event-id"), Some("ev-3"));
    assert_eq!(gets[1].header("mcp-session-id"), Some("session-1"));
    server.wait_get_streams(1).await;
    let log = notification(
        "notifications/message",
        json!({"level": "warning", "data": "after reconnect"}),
    );
    server.push_get(log.clone());
    assert_eq!(relay.recv_json().await, log);

    relay.send(&ping(9)).await;
    relay.answer(json!(9)).await;
    relay.finish().await.assert_success();
    assert_all_authorized(&server);
}

#[tokio::test]
async fn get_stream_405_is_tolerated() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    let gets = server.wait_method(Method::GET, 1).await;
    assert_eq!(gets[0].header("mcp-session-id"), Some("session-1"));

    relay.send_json(&call(json!(2), "echo", json!({}))).await;
    relay.answer(json!(2)).await;
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "unexpected stdout: {:?}", done.rest);
    assert_eq!(
        server.of_method(Method::GET).len(),
        1,
        "405 means no GET stream: no retry"
    );
}

// ---- era 2 -------------------------------------------------------------------

fn base64_form(value: &str) -> String {
    format!(
        "=?base64?{}?=",
        base64::engine::general_purpose::STANDARD.encode(value.as_bytes())
    )
}

fn assert_era2_headers(request: &Seen, method: &str, name: Option<&str>) {
    assert_eq!(
        request.header("mcp-protocol-version"),
        Some(ERA2_VERSION),
        "{request:?}"
    );
    assert_eq!(request.header("mcp-method"), Some(method), "{request:?}");
    assert_eq!(request.header("mcp-name"), name, "{request:?}");
    assert_eq!(
        request.header("mcp-session-id"),
        None,
        "era 2 has no sessions: {request:?}"
    );
}

#[tokio::test]
async fn era2_headers_mirror_the_body() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();

    let list = era2(1, "tools/list", json!({}));
    relay.send_json(&list).await;
    let tools = relay.answer(json!(1)).await;
    assert!(
        tools["result"]["tools"].as_array().unwrap().len() >= 3,
        "{tools}"
    );

    let ascii = era2(
        2,
        "tools/call",
        json!({"name": "lookup", "arguments": {"region": "cn-hangzhou", "count": 3, "dryRun": true, "query": "not a header"}}),
    );
    relay.send_json(&ascii).await;
    relay.answer(json!(2)).await;
    let exotic = era2(
        3,
        "tools/call",
        json!({"name": "lookup", "arguments": {"region": "杭州", "count": -7, "dryRun": false}}),
    );
    relay.send_json(&exotic).await;
    relay.answer(json!(3)).await;
    let padded = era2(
        4,
        "tools/call",
        json!({"name": "lookup", "arguments": {"region": " eu-west-1"}}),
    );
    relay.send_json(&padded).await;
    relay.answer(json!(4)).await;
    relay
        .send_json(&era2(
            5,
            "resources/read",
            json!({"uri": "file:///etc/motd"}),
        ))
        .await;
    relay.answer(json!(5)).await;
    relay
        .send_json(&era2(
            6,
            "prompts/get",
            json!({"name": "greet", "arguments": {}}),
        ))
        .await;
    relay.answer(json!(6)).await;
    relay.finish().await.assert_success();

    let by_id = |id: u64| {
        server
            .posts()
            .into_iter()
            .find(|p| p.rpc_id() == Some(json!(id)))
            .unwrap_or_else(|| panic!("no POST for id {id}; seen:\n{}", server.describe()))
    };
    let seen = by_id(1);
    assert_era2_headers(&seen, "tools/list", None);
    assert_body(&seen, &list.to_string());

    let seen = by_id(2);
    assert_era2_headers(&seen, "tools/call", Some("lookup"));
    assert_eq!(seen.header("mcp-param-region"), Some("cn-hangzhou"));
    assert_eq!(seen.header("mcp-param-count"), Some("3"));
    assert_eq!(seen.header("mcp-param-dry-run"), Some("true"));
    let params: Vec<_> = seen
        .headers
        .keys()
        .filter(|k| k.as_str().starts_with("mcp-param-"))
        .collect();
    assert_eq!(
        params.len(),
        3,
        "only annotated arguments become headers: {params:?}"
    );
    assert_body(&seen, &ascii.to_string());

    let seen = by_id(3);
    assert_era2_headers(&seen, "tools/call", Some("lookup"));
    assert_eq!(
        seen.header("mcp-param-region"),
        Some(base64_form("杭州").as_str())
    );
    assert_eq!(seen.header("mcp-param-count"), Some("-7"));
    assert_eq!(seen.header("mcp-param-dry-run"), Some("false"));

    let seen = by_id(4);
    assert_eq!(
        seen.header("mcp-param-region"),
        Some(base64_form(" eu-west-1").as_str())
    );
    assert_eq!(
        seen.header("mcp-param-count"),
        None,
        "absent arguments send no header"
    );

    assert_era2_headers(&by_id(5), "resources/read", Some("file:///etc/motd"));
    assert_era2_headers(&by_id(6), "prompts/get", Some("greet"));
    assert!(server.rpcs("initialize").is_empty());
    assert_all_authorized(&server);
}

#[tokio::test]
async fn era2_relay_fetches_tools_list_itself_for_param_headers() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();

    relay
        .send_json(&era2(
            1,
            "tools/call",
            json!({"name": "lookup", "arguments": {"region": "ap-southeast-1"}}),
        ))
        .await;
    let answer = relay.answer(json!(1)).await;
    assert_eq!(
        answer["result"]["content"][0]["text"],
        r#"{"region":"ap-southeast-1"}"#
    );
    let done = relay.finish().await;
    done.assert_success();
    assert!(
        done.rest.is_empty(),
        "the relay's own tools/list must not reach stdout: {:?}",
        done.rest
    );

    let lists = server.rpcs("tools/list");
    assert_eq!(lists.len(), 1, "seen:\n{}", server.describe());
    assert_eq!(lists[0].header("mcp-method"), Some("tools/list"));
    let call = server.wait_for_rpc("tools/call").await;
    assert_era2_headers(&call, "tools/call", Some("lookup"));
    assert_eq!(call.header("mcp-param-region"), Some("ap-southeast-1"));
}

#[tokio::test]
async fn era2_request_in_an_era1_session_carries_no_session_id() {
    // The era is per request: the envelope decides, not an earlier initialize.
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay
        .send_json(&era2(
            5,
            "tools/call",
            json!({"name": "lookup", "arguments": {"region": "us-east-1"}}),
        ))
        .await;
    relay.answer(json!(5)).await;
    relay.send_json(&call(json!(6), "echo", json!({}))).await;
    relay.answer(json!(6)).await;
    relay.finish().await.assert_success();

    let call5 = server
        .rpcs("tools/call")
        .into_iter()
        .find(|r| r.rpc_id() == Some(json!(5)))
        .unwrap();
    assert_era2_headers(&call5, "tools/call", Some("lookup"));
    assert_eq!(call5.header("mcp-param-region"), Some("us-east-1"));
    let call6 = server
        .rpcs("tools/call")
        .into_iter()
        .find(|r| r.rpc_id() == Some(json!(6)))
        .unwrap();
    assert_eq!(call6.header("mcp-session-id"), Some("session-1"));
    assert_eq!(call6.header("mcp-protocol-version"), Some(PROTOCOL_VERSION));
}

#[tokio::test]
async fn era2_cancellation_aborts_the_post() {
    let gate = Gate::new();
    let hold = gate.clone();
    let server = TestServer::builder()
        .on("tools/call", move |req| {
            Reply::Sse(vec![
                Ev::Prime,
                Ev::Wait(hold.clone()),
                Ev::Msg(echo_result(req)),
            ])
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.send_json(&era2(1, "tools/list", json!({}))).await;
    relay.answer(json!(1)).await;

    relay
        .send_json(&era2(
            7,
            "tools/call",
            json!({"name": "slow", "arguments": {}}),
        ))
        .await;
    server.wait_for_rpc("tools/call").await;
    relay
        .send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user gave up"}}"#)
        .await;
    assert_eq!(
        server.wait_aborted(1).await,
        [json!(7)],
        "the upstream saw the stream closed"
    );

    relay.send_json(&era2(8, "ping", json!({}))).await;
    relay.answer(json!(8)).await;
    gate.open();
    let done = relay.finish().await;
    done.assert_success();
    assert!(
        done.all_stdout
            .iter()
            .all(|line| !line.contains(r#""id":7"#)),
        "a cancelled request gets no answer: {:?}",
        done.all_stdout
    );
    assert!(
        server.rpcs("notifications/cancelled").is_empty(),
        "era 2 has no client notifications on the wire"
    );
}

#[tokio::test]
async fn era2_cancellation_of_a_finished_request_is_not_sent() {
    // The answer may cross the client's cancellation; era 2 still has no
    // client-to-server notifications, so nothing goes upstream.
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.send_json(&era2(3, "ping", json!({}))).await;
    relay.answer(json!(3)).await;
    relay
        .send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#)
        .await;
    relay.send_json(&era2(4, "ping", json!({}))).await;
    relay.answer(json!(4)).await;
    relay.finish().await.assert_success();
    assert!(
        server.rpcs("notifications/cancelled").is_empty(),
        "a late era-2 cancellation reached the upstream"
    );
}

#[tokio::test]
async fn era1_cancellation_is_forwarded_not_a_disconnect() {
    // Before 2026-07-28 a disconnect is not a cancellation: the notification is POSTed.
    let gate = Gate::new();
    let server = TestServer::builder()
        .gated_tool("slow", gate.clone())
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(2), "slow", json!({}))).await;
    server.wait_for_rpc("tools/call").await;
    const CANCEL: &str =
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}"#;
    relay.send(CANCEL).await;
    let cancel = server.wait_for_rpc("notifications/cancelled").await;
    assert_body(&cancel, CANCEL);
    assert_eq!(cancel.header("mcp-session-id"), Some("session-1"));
    assert!(
        server.aborted().is_empty(),
        "the request's stream was closed"
    );
    gate.open();
    relay.finish().await.assert_success();
}

// ---- errors ------------------------------------------------------------------

#[tokio::test]
async fn upstream_401_becomes_auth_error() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).token(Some("wrong-token")).spawn();
    relay.send(&init_line(1)).await;
    let error = relay.recv_json().await;
    let message = assert_error(&error, json!(1), -32004);
    assert!(message.to_lowercase().contains("rejected"), "{message}");
    assert!(
        !message.contains("wrong-token"),
        "the token leaked into the error: {message}"
    );
    let done = relay.finish().await;
    done.assert_success();
    assert!(
        !done.stderr.contains("wrong-token"),
        "token on stderr:\n{}",
        done.stderr
    );
}

#[tokio::test]
async fn upstream_500_becomes_error_with_status_and_snippet() {
    let server = TestServer::builder()
        .on("tools/call", |_| {
            Reply::status(
                500,
                "text/html",
                "<h1>Internal failure: shard 7 is down</h1>",
            )
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay
        .send_json(&call(json!("c-1"), "echo", json!({})))
        .await;
    let message = assert_error(&relay.recv_json().await, json!("c-1"), -32001);
    assert!(message.contains("500"), "{message}");
    assert!(message.contains("shard 7 is down"), "{message}");
    // The relay goes on.
    relay.send(&ping(2)).await;
    relay.answer(json!(2)).await;
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn upstream_4xx_with_jsonrpc_error_for_same_id_passes_verbatim() {
    let server = TestServer::builder()
        .on("tools/call", |req| {
            Reply::status(
                400,
                "application/json",
                rpc_error(req, -32602, "Unknown tool: nope").to_string(),
            )
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    let request = call(json!(12), "nope", json!({}));
    relay.send_json(&request).await;
    assert_eq!(
        relay.recv().await,
        rpc_error(&request, -32602, "Unknown tool: nope").to_string()
    );
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn upstream_4xx_with_jsonrpc_error_for_other_id_answers_this_id() {
    let server = TestServer::builder()
        .on("tools/call", |_| {
            Reply::status(429, "application/json", r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"slow down please"}}"#)
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(5), "echo", json!({}))).await;
    // Either the upstream's error object re-addressed to this id, or a -32001
    // carrying the body as a snippet: the reason must reach the client, with id 5.
    let answer = relay.answer(json!(5)).await;
    let message = answer["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error: {answer}"));
    assert!(message.contains("slow down please"), "{answer}");
    relay.send(&ping(6)).await;
    relay.answer(json!(6)).await;
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn token_command_rerun_once_after_401() {
    let dir = TempDir::new().unwrap();
    // First run prints a stale token, later runs the accepted one.
    let script = format!(
        r#"n=$(cat "$TOKDIR/runs" 2>/dev/null || echo 0); echo $((n+1)) > "$TOKDIR/runs"; if [ "$n" = 0 ]; then echo stale-token; else echo '{TOKEN}'; fi"#
    );
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()])
        .token(None)
        .env("MCPGW_TOKEN_COMMAND", &script)
        .env("TOKDIR", dir.path().to_str().unwrap())
        .spawn();
    relay.send(&init_line(1)).await;
    let answer = relay.answer(json!(1)).await;
    assert!(answer.get("result").is_some(), "{answer}");
    let done = relay.finish().await;
    done.assert_success();
    assert!(done.rest.is_empty(), "one answer only: {:?}", done.rest);
    let inits = server.rpcs("initialize");
    assert_eq!(inits.len(), 2, "seen:\n{}", server.describe());
    assert_eq!(inits[0].header("authorization"), Some("Bearer stale-token"));
    assert_eq!(
        inits[1].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("runs"))
            .unwrap()
            .trim(),
        "2"
    );
    assert!(
        !done.stderr.contains(TOKEN) && !done.stderr.contains("stale-token"),
        "{}",
        done.stderr
    );
}

#[tokio::test]
async fn connection_refused_becomes_unreachable_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/mcp");
    let mut relay = relay(&[&url]).spawn();
    relay.send(&init_line(3)).await;
    assert_error(&relay.recv_json().await, json!(3), -32002);
    relay.send(&ping(4)).await;
    assert_error(&relay.recv_json().await, json!(4), -32002);
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn timeout_becomes_error_for_that_request() {
    let gate = Gate::new();
    let server = TestServer::builder()
        .gated_tool("slow", gate.clone())
        .start()
        .await;
    let mut relay = relay(&[&server.url(), "--timeout", "1"]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(2), "slow", json!({}))).await;
    assert_error(&relay.recv_json().await, json!(2), -32003);
    relay.send_json(&call(json!(3), "echo", json!({}))).await;
    relay.answer(json!(3)).await;
    gate.open();
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn bad_stdin_lines_get_errors_and_relay_continues() {
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;

    relay.send("not json").await;
    assert_error(&relay.recv_json().await, Value::Null, -32700);
    relay.send(r#"{"foo":1}"#).await;
    assert_error(&relay.recv_json().await, Value::Null, -32600);
    relay.send(r#"{"jsonrpc":"2.0","id":9,"foo":1}"#).await;
    assert_error(&relay.recv_json().await, json!(9), -32600);
    relay.send(&ping(10)).await;
    relay.answer(json!(10)).await;
    relay.finish().await.assert_success();

    let bodies: Vec<_> = server
        .posts()
        .iter()
        .map(|p| String::from_utf8_lossy(&p.body).into_owned())
        .collect();
    assert!(
        bodies
            .iter()
            .all(|b| !b.contains("not json") && !b.contains(r#""foo""#)),
        "bad lines are answered locally: {bodies:?}"
    );
}

// ---- shutdown ----------------------------------------------------------------

#[tokio::test]
async fn stdin_eof_delivers_in_flight_answers_then_deletes_session() {
    let gate = Gate::new();
    let server = TestServer::builder()
        .gated_tool("slow", gate.clone())
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay
        .send_json(&call(json!(2), "slow", json!({"last": true})))
        .await;
    server.wait_for_rpc("tools/call").await;

    relay.close_stdin();
    // A relay that stops waiting at EOF ends the session at once; a correct one
    // stays quiet while the call is pending. (A negative check, bounded in time.)
    server
        .assert_none_within(
            "DELETE while a request was in flight",
            Duration::from_millis(300),
            |r| r.method == Method::DELETE,
        )
        .await;
    gate.open();
    let answer = relay.answer(json!(2)).await;
    assert_eq!(answer["result"]["content"][0]["text"], r#"{"last":true}"#);
    let done = relay.finish().await;
    done.assert_success();
    let deletes = server.of_method(Method::DELETE);
    assert_eq!(deletes.len(), 1, "seen:\n{}", server.describe());
    assert_eq!(deletes[0].header("mcp-session-id"), Some("session-1"));
    assert_eq!(deletes[0].path, "/mcp");
    assert_all_authorized(&server);
    assert!(server.live_sessions().is_empty());
}

async fn signal_deletes_session_and_exits_zero(signal: &str) {
    let gate = Gate::new();
    let server = TestServer::builder()
        .gated_tool("slow", gate.clone())
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(2), "slow", json!({}))).await;
    server.wait_for_rpc("tools/call").await;

    // The shell's builtin `kill`: no procps needed on minimal CI images.
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill {signal} {}", relay.pid())])
        .status()
        .expect("run sh -c kill");
    assert!(status.success());
    let deletes = server.wait_method(Method::DELETE, 1).await;
    assert_eq!(deletes[0].header("mcp-session-id"), Some("session-1"));
    // stdin stays open: the signal alone ends the relay.
    let exit = match tokio::time::timeout(WAIT, relay.child.wait()).await {
        Ok(status) => status.unwrap(),
        Err(_) => panic!("relay ignored {signal}; stderr:\n{}", relay.stderr()),
    };
    assert!(exit.success(), "exit {exit}; stderr:\n{}", relay.stderr());
    gate.open();
}

#[tokio::test]
async fn sigterm_deletes_session_and_exits_zero() {
    signal_deletes_session_and_exits_zero("-TERM").await;
}

#[tokio::test]
async fn sigint_deletes_session_and_exits_zero() {
    signal_deletes_session_and_exits_zero("-INT").await;
}

#[tokio::test]
async fn no_session_header_or_delete_when_server_issues_none() {
    let server = TestServer::builder().no_sessions().start().await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send(&ping(1)).await;
    relay.answer(json!(1)).await;
    relay.finish().await.assert_success();
    for request in server.requests() {
        assert_eq!(request.header("mcp-session-id"), None, "{request:?}");
    }
    assert!(
        server.of_method(Method::DELETE).is_empty(),
        "nothing to delete:\n{}",
        server.describe()
    );
    assert_eq!(
        server.rpcs("ping")[0].header("mcp-protocol-version"),
        Some(PROTOCOL_VERSION)
    );
}

// ---- stdout and stderr hygiene -----------------------------------------------

/// A -vvv run through SSE, the GET stream, a server 500 and bad input.
async fn verbose_session(token: &str) -> Finished {
    let server = TestServer::builder()
        .token(Some(token))
        .sse_replies()
        .get_stream()
        .on("resources/list", |_| {
            Reply::status(500, "text/plain", "oops")
        })
        .on("tools/call", |req| {
            Reply::Sse(vec![
                Ev::Prime,
                Ev::Msg(notification(
                    "notifications/message",
                    json!({"level": "debug", "data": "line1\nline2"}),
                )),
                Ev::Msg(echo_result(req)),
            ])
        })
        .start()
        .await;
    let mut relay = relay(&["-vvv", &server.url()]).token(Some(token)).spawn();
    relay.handshake(&server).await;
    server.wait_get_streams(1).await;
    server.push_get(notification("notifications/tools/list_changed", json!({})));
    relay.recv_json().await;
    relay
        .send_json(&call(json!(2), "echo", json!({"text": "multi\nline"})))
        .await;
    relay.recv_json().await;
    relay.answer(json!(2)).await;
    relay
        .send(r#"{"jsonrpc":"2.0","id":3,"method":"resources/list"}"#)
        .await;
    relay.answer(json!(3)).await;
    relay.send("garbage").await;
    relay.recv_json().await;
    let done = relay.finish().await;
    done.assert_success();
    done
}

#[tokio::test]
async fn stdout_is_only_json_lines_even_at_vvv() {
    let done = verbose_session(TOKEN).await;
    assert!(!done.all_stdout.is_empty());
    for line in &done.all_stdout {
        let parsed: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("non-JSON on stdout ({err}): {line}"));
        assert_eq!(parsed["jsonrpc"], "2.0", "{line}");
    }
}

#[tokio::test]
async fn token_never_on_stderr_at_vvv() {
    const SECRET: &str = "tok-9Qz7-never-log-me";
    let done = verbose_session(SECRET).await;
    assert!(!done.stderr.trim().is_empty(), "-vvv should log something");
    assert!(
        !done.stderr.contains(SECRET),
        "token on stderr:\n{}",
        done.stderr
    );
    assert!(
        done.all_stdout.iter().all(|l| !l.contains(SECRET)),
        "token on stdout"
    );
}

#[tokio::test]
async fn proxy_env_vars_are_honoured() {
    // The test upstream doubles as the HTTP proxy: a host that cannot resolve is
    // reachable only through it. NO_PROXY then takes the proxy away again.
    let server = TestServer::start().await;
    let upstream = "http://mcp.example.invalid/mcp";
    let mut proxied = relay(&["--allow-http", upstream])
        .env("HTTP_PROXY", &server.base_url())
        .spawn();
    proxied.handshake(&server).await;
    proxied.finish().await.assert_success();
    let initialize = &server.rpcs("initialize")[0];
    assert_eq!(initialize.header("host"), Some("mcp.example.invalid"));

    let mut direct = relay(&["--allow-http", upstream])
        .env("HTTP_PROXY", &server.base_url())
        .env("NO_PROXY", "example.invalid")
        .spawn();
    direct.send(&init_line(5)).await;
    assert_error(&direct.recv_json().await, json!(5), -32002);
    direct.finish().await.assert_success();
    assert_eq!(server.rpcs("initialize").len(), 1, "NO_PROXY was ignored");
}

#[tokio::test]
async fn stdio_redirected_to_regular_files_works() {
    // Files cannot be non-blocking pipes: the relay falls back to blocking I/O threads.
    let server = TestServer::start().await;
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    std::fs::write(
        &input,
        format!("{}\n{INITIALIZED}\n{}\n", init_line(1), ping(2)),
    )
    .unwrap();
    let mut cmd = crate::isolated_command(dir.path());
    cmd.arg(server.url())
        .env("MCPGW_BEARER_TOKEN", TOKEN)
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(std::fs::File::create(&output).unwrap());
    let status = tokio::task::spawn_blocking(move || cmd.status().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let lines: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["id"], 1);
    assert_eq!(lines[1]["id"], 2);
    assert!(lines[1].get("result").is_some());
}
