//! The relay's contract as a property (issue 10), against the real `mcpgw` binary:
//! whatever the upstream does — per method and per tool, a randomly chosen
//! misbehaviour — and whatever the client writes,
//!
//! 1. every request with an id gets exactly one response with that id (the
//!    server's or mcpgw's own error), batches one per request in them;
//! 2. stdout carries only complete single-line UTF-8 JSON-RPC messages;
//! 3. after stdin EOF the process ends (status 0) within a bound;
//! 4. no line is larger than `--max-message-size` (plus an error's overhead), and
//!    a line or answer over it gets an error while the relay goes on.
//!
//! `PROPTEST_CASES` sets the number of cases (default 12; each starts a process).

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::server::{BATCH, Ev, Gate, Reply, TOKEN, TestServer, echo_result, rpc_result};

const TIMEOUT_SECS: u64 = 2;
const MAX_MESSAGE: usize = 256 * 1024;
/// What an error line may add to the limit (the id, code and message text).
const ERROR_OVERHEAD: usize = 4096;
/// The relay's ORDERING_WAIT and EOF_GRACE (`src/relay/mod.rs`).
const ORDERING_WAIT: Duration = Duration::from_secs(2);
const EOF_GRACE: Duration = Duration::from_secs(2);
/// Process start, scheduling on a shared machine: never reached by a passing run.
const SLACK: Duration = Duration::from_secs(6);

/// What the upstream does with one kind of message.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Correct,
    /// Never answers (a gate nobody opens).
    Hang,
    Html,
    InvalidUtf8,
    WrongId,
    /// Junk events (HTML, an id-only object, a bare array) before the answer.
    JunkEvents,
    EndlessJson,
    EndlessSse,
    Status500,
    Status500Empty,
    Status429,
    Status429Empty,
    Unauthorized,
    /// The SSE reply closes after the priming event; a GET resumes it.
    CloseEarlyResumed,
    /// The SSE reply ends without the answer and without an event id: nothing to resume.
    CloseEarlyLost,
    /// An answer larger than `--max-message-size`.
    Oversized,
}

const FAULTS: &[Fault] = &[
    Fault::Correct,
    Fault::Hang,
    Fault::Html,
    Fault::InvalidUtf8,
    Fault::WrongId,
    Fault::JunkEvents,
    Fault::EndlessJson,
    Fault::EndlessSse,
    Fault::Status500,
    Fault::Status500Empty,
    Fault::Status429,
    Fault::Status429Empty,
    Fault::Unauthorized,
    Fault::CloseEarlyResumed,
    Fault::CloseEarlyLost,
    Fault::Oversized,
];

/// The correct answer to `message`: a result per request (a batch: an array of
/// them; `None` when it holds none), nothing for a notification.
fn correct(message: &Value) -> Option<Value> {
    if let Some(items) = message.as_array() {
        let answers: Vec<Value> = items.iter().filter_map(correct).collect();
        return (!answers.is_empty()).then(|| Value::Array(answers));
    }
    message.get("id")?;
    Some(match message["method"].as_str() {
        Some("tools/call") => echo_result(message),
        _ => rpc_result(message, json!({})),
    })
}

fn reply(fault: Fault, message: &Value) -> Reply {
    let answer = correct(message);
    let Some(answer) = answer else {
        // Notifications and batches of them: the faults that concern a POST.
        return match fault {
            Fault::Hang => Reply::gated(&Gate::new(), Reply::Accepted),
            Fault::Html => Reply::status(200, "text/html", "<html>proxy</html>"),
            Fault::Status500 => Reply::status(500, "text/plain", "boom"),
            Fault::Status429Empty => Reply::status(429, "text/plain", ""),
            Fault::Unauthorized => Reply::status(401, "application/json", "{}"),
            Fault::EndlessJson => Reply::Endless("application/json"),
            _ => Reply::Accepted,
        };
    };
    match fault {
        Fault::Correct => Reply::Json(answer),
        Fault::Hang => Reply::gated(&Gate::new(), Reply::Json(answer)),
        Fault::Html => Reply::status(200, "text/html", "<html><body>Sign in</body></html>"),
        Fault::InvalidUtf8 => Reply::Raw {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\xff\xfe\"}".to_vec(),
        },
        Fault::WrongId => Reply::Json(rpc_result(&json!({"id": "not-yours"}), json!({}))),
        Fault::JunkEvents => Reply::Sse(vec![
            Ev::Prime,
            Ev::Raw("data: <html>oops</html>\n\n".into()),
            Ev::Raw("data: {\"id\":1}\n\n".into()),
            Ev::Raw("data: [1,2]\n\n".into()),
            Ev::Raw("data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\u{1}".into()),
            Ev::Raw("\n\n".into()),
            Ev::Msg(answer),
        ]),
        Fault::EndlessJson => Reply::Endless("application/json"),
        Fault::EndlessSse => Reply::Endless("text/event-stream"),
        Fault::Status500 => Reply::status(500, "text/html", "<h1>Internal Server Error</h1>"),
        Fault::Status500Empty => Reply::status(500, "text/plain", ""),
        Fault::Status429 => Reply::status(429, "application/json", r#"{"error":"slow down"}"#),
        Fault::Status429Empty => Reply::status(429, "text/plain", ""),
        Fault::Unauthorized => Reply::status(401, "application/json", r#"{"error":"invalid_token"}"#),
        Fault::CloseEarlyResumed => Reply::Sse(vec![Ev::Prime, Ev::CloseEarly, Ev::Msg(answer)]),
        Fault::CloseEarlyLost => Reply::Raw {
            status: 200,
            headers: vec![("content-type", "text/event-stream".into())],
            body: b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n\n".to_vec(),
        },
        Fault::Oversized => Reply::Json(json!({
            "jsonrpc": "2.0",
            "id": message.get("id").cloned().unwrap_or(Value::Null),
            "result": {"content": [{"type": "text", "text": "x".repeat(MAX_MESSAGE + 1)}]}
        })),
    }
}

const TOOLS: usize = 3;

/// One message of a line or a batch.
#[derive(Debug, Clone, Copy)]
enum Item {
    Call(usize),
    Ping,
    List,
    Notify,
}

#[derive(Debug, Clone)]
enum Line {
    One(Item),
    Batch(Vec<Item>),
    Junk(usize),
    /// Valid JSON of the wrong shape with an id: answered with that id.
    JunkWithId,
    Blank,
    /// A line over `--max-message-size`.
    TooLong,
}

const JUNK: &[&[u8]] = &[
    b"not json",
    b"{",
    b"[1,2",
    b"\xff\xfe{\"jsonrpc\":\"2.0\"}",
    b"{\"jsonrpc\":\"2.0\"}",
    b"[]",
    b"null",
    b"  \t ",
];

#[derive(Debug, Clone)]
struct Case {
    sessions: bool,
    tools: [Fault; TOOLS],
    ping: Fault,
    list: Fault,
    notify: Fault,
    batch: Fault,
    lines: Vec<Line>,
}

fn fault() -> impl Strategy<Value = Fault> {
    proptest::sample::select(FAULTS)
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (0..TOOLS).prop_map(Item::Call),
        1 => Just(Item::Ping),
        1 => Just(Item::List),
        1 => Just(Item::Notify),
    ]
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        8 => item().prop_map(Line::One),
        2 => proptest::collection::vec(item(), 1..4).prop_map(Line::Batch),
        2 => (0..JUNK.len()).prop_map(Line::Junk),
        1 => Just(Line::JunkWithId),
        1 => Just(Line::Blank),
        1 => Just(Line::TooLong),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        [fault(), fault(), fault()],
        (fault(), fault(), fault(), fault()),
        proptest::collection::vec(line(), 1..7),
    )
        .prop_map(
            |(sessions, tools, (ping, list, notify, batch), lines)| Case {
                sessions,
                tools,
                ping,
                list,
                notify,
                batch,
                lines,
            },
        )
}

/// stdin for a case: initialize and initialized, then the case's lines; the ids
/// that must be answered; how many lines may each hold the next up to ORDERING_WAIT.
struct Script {
    stdin: Vec<u8>,
    ids: Vec<Value>,
    one_way: u32,
}

fn script(case: &Case) -> Script {
    let mut ids = vec![json!(0)];
    let mut next = 1u64;
    let mut one_way = 1;
    let mut message = |item: Item, ids: &mut Vec<Value>| -> Value {
        // Numbers and strings, both valid JSON-RPC ids.
        let id = if next.is_multiple_of(3) {
            json!(format!("s-{next}"))
        } else {
            json!(next)
        };
        next += 1;
        let mut request = |method: &str, params: Value| {
            ids.push(id.clone());
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        };
        match item {
            Item::Call(tool) => request(
                "tools/call",
                json!({"name": format!("t{tool}"), "arguments": {"n": tool}}),
            ),
            Item::Ping => request("ping", json!({})),
            Item::List => request("resources/list", json!({})),
            Item::Notify => json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}),
        }
    };
    let mut lines: Vec<Vec<u8>> = vec![
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "contract", "version": "1"}}})
        .to_string()
        .into_bytes(),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
    ];
    for (n, line) in case.lines.iter().enumerate() {
        lines.push(match line {
            Line::One(item) => {
                if matches!(item, Item::Notify) {
                    one_way += 1;
                }
                message(*item, &mut ids).to_string().into_bytes()
            }
            Line::Batch(items) => {
                if items.iter().all(|i| matches!(i, Item::Notify)) {
                    one_way += 1;
                }
                let batch: Vec<Value> = items.iter().map(|i| message(*i, &mut ids)).collect();
                Value::Array(batch).to_string().into_bytes()
            }
            Line::Junk(which) => JUNK[*which].to_vec(),
            Line::JunkWithId => {
                let id = json!(format!("junk-{n}"));
                ids.push(id.clone());
                json!({"jsonrpc": "2.0", "id": id, "method": 42})
                    .to_string()
                    .into_bytes()
            }
            Line::Blank => Vec::new(),
            Line::TooLong => {
                let mut line =
                    br#"{"jsonrpc":"2.0","method":"notifications/x","params":""#.to_vec();
                line.resize(MAX_MESSAGE + 10, b'y');
                line.extend_from_slice(br#""}"#);
                line
            }
        });
    }
    let mut stdin = lines.join(&b'\n');
    stdin.push(b'\n');
    Script {
        stdin,
        ids,
        one_way,
    }
}

async fn upstream(case: &Case) -> TestServer {
    let case = case.clone();
    let mut builder = TestServer::builder();
    if !case.sessions {
        builder = builder.no_sessions();
    }
    let tools = case.tools;
    builder
        .on("tools/call", move |req| {
            let tool = req["params"]["name"].as_str().unwrap_or("");
            let fault = (0..TOOLS)
                .find(|n| tool == format!("t{n}"))
                .map_or(Fault::Correct, |n| tools[n]);
            reply(fault, req)
        })
        .on("ping", move |req| reply(case.ping, req))
        .on("resources/list", move |req| reply(case.list, req))
        .on("notifications/roots/list_changed", move |req| {
            reply(case.notify, req)
        })
        .on(BATCH, move |req| reply(case.batch, req))
        .start()
        .await
}

/// Runs one case and checks the contract; `Err` says what broke.
async fn check(case: &Case) -> Result<(), String> {
    let server = upstream(case).await;
    let script = script(case);
    let home = tempfile::TempDir::new().unwrap();
    let mut cmd = crate::isolated_command(home.path());
    cmd.args([
        "--timeout",
        &TIMEOUT_SECS.to_string(),
        "--max-message-size",
        "256KiB",
        &server.url(),
    ])
    .env("MCPGW_BEARER_TOKEN", TOKEN)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mcpgw");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let input = script.stdin.clone();
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
        // Dropping stdin is the EOF.
    });
    let errors = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).into_owned()
    });

    let bound =
        Duration::from_secs(TIMEOUT_SECS) + ORDERING_WAIT * script.one_way + EOF_GRACE + SLACK;
    let started = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(bound, stdout.read_to_end(&mut out)).await;
    let status = match read {
        Ok(_) => tokio::time::timeout(bound.saturating_sub(started.elapsed()), child.wait()).await,
        Err(elapsed) => Err(elapsed),
    };
    let _ = child.start_kill();
    writer.abort();
    let stderr = tokio::time::timeout(Duration::from_secs(5), errors)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let context = || {
        format!(
            "\nstdout:\n{}\nstderr:\n{stderr}\nupstream saw:\n{}",
            String::from_utf8_lossy(&out),
            server.describe()
        )
    };
    let status = match status {
        Ok(Ok(status)) => status,
        _ => return Err(format!("no exit within {bound:?} of starting{}", context())),
    };
    if !status.success() {
        return Err(format!("exit status {status}{}", context()));
    }

    // 2: complete lines of UTF-8 JSON-RPC; 4: none over the limit.
    if !out.is_empty() && !out.ends_with(b"\n") {
        return Err(format!("stdout ends inside a line{}", context()));
    }
    let text = std::str::from_utf8(&out)
        .map_err(|err| format!("stdout is not UTF-8: {err}{}", context()))?;
    let mut answered: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        if line.len() > MAX_MESSAGE + ERROR_OVERHEAD {
            return Err(format!("a {}-byte line on stdout{}", line.len(), context()));
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|err| format!("not JSON on stdout ({err}): {line}{}", context()))?;
        let messages = match &value {
            Value::Array(items) if !items.is_empty() => items.clone(),
            Value::Object(_) => vec![value.clone()],
            _ => return Err(format!("not a JSON-RPC message: {line}{}", context())),
        };
        for message in messages {
            if message.get("jsonrpc") != Some(&json!("2.0")) {
                return Err(format!("not JSON-RPC 2.0: {line}{}", context()));
            }
            let is_response = message.get("method").is_none();
            if !is_response {
                continue;
            }
            if message.get("result").is_none() == message.get("error").is_none() {
                return Err(format!("neither result nor error: {line}{}", context()));
            }
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            if id.is_null() {
                // The answer to a junk line: errors only.
                if message.get("error").is_none() {
                    return Err(format!("a result for id null: {line}{}", context()));
                }
                continue;
            }
            *answered.entry(id.to_string()).or_default() += 1;
        }
    }
    // 1: each request id exactly once, and no id that was never sent.
    for id in &script.ids {
        match answered.remove(&id.to_string()) {
            Some(1) => {}
            Some(n) => return Err(format!("{n} answers for id {id}{}", context())),
            None => return Err(format!("no answer for id {id}{}", context())),
        }
    }
    if !answered.is_empty() {
        return Err(format!(
            "answers for ids never sent: {answered:?}{}",
            context()
        ));
    }
    Ok(())
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// The minimal case proptest found: a batch answered with another request's id.
/// That answer stays off stdout and the batch's request gets an error instead.
#[test]
fn a_wrong_id_in_a_batch_reply_stays_off_stdout() {
    let case = Case {
        sessions: false,
        tools: [Fault::Correct; TOOLS],
        ping: Fault::Correct,
        list: Fault::Correct,
        notify: Fault::Correct,
        batch: Fault::WrongId,
        lines: vec![Line::Batch(vec![Item::Call(0)])],
    };
    if let Err(err) = runtime().block_on(check(&case)) {
        panic!("{err}");
    }
}

#[test]
fn the_contract_holds_whatever_the_upstream_and_the_client_do() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    let config = Config {
        cases,
        // Each case is a process run of seconds: shrink a little, keep nothing on disk.
        max_shrink_iters: 24,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&case(), |case| {
        runtime()
            .block_on(check(&case))
            .map_err(TestCaseError::fail)
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
