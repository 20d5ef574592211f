//! `mcpgw tools` and `mcpgw call` against the scriptable upstream: the tools an MCP
//! client would see through the relay, pagination, both protocol eras, the tool
//! filter, progress on stderr, and the exit codes.

use crate::{assert_exit, text};
use std::io::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;

use super::transport::{INITIALIZED, init_line, relay};
use crate::server::{
    ERA2_VERSION, Ev, Reply, TOKEN, TestServer, echo_result, is_era2, notification, rpc_error,
    rpc_result,
};

/// A config.json whose `mcpServer.services` is `services`.
pub(super) fn write_config(home: &Path, services: Value) {
    let dir = home.join(".config/mcpgw");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        json!({"mcpServer": {"services": services}}).to_string(),
    )
    .unwrap();
}

/// Runs `mcpgw ARGS` with the upstream's token, feeding `stdin`.
async fn mcpgw(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut cmd = crate::isolated_command(home);
    cmd.args(args)
        .env("MCPGW_BEARER_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = tokio::process::Command::from(cmd).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(crate::server::WAIT, child.wait_with_output())
        .await
        .expect("mcpgw finished in time")
        .unwrap()
}

#[track_caller]
pub(super) fn assert_stderr_has(output: &Output, wanted: &str) {
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(wanted),
        "stderr lacks {wanted:?}:\n{stderr}"
    );
}

/// Two pages: a read tool with a two-line description, a write tool, a tool only
/// its annotation makes read-only, then (after the cursor) a secret getter.
fn paged_tools(req: &Value) -> Reply {
    let page = match req["params"]["cursor"].as_str() {
        None => json!({"tools": [
            {"name": "DescribeInstances", "description": "Lists ECS instances.\nWith filters.",
             "inputSchema": {"type": "object"}},
            {"name": "DeleteInstance", "description": "Deletes one instance",
             "inputSchema": {"type": "object"}},
            {"name": "RunReport", "description": "Builds a report",
             "annotations": {"readOnlyHint": true}, "inputSchema": {"type": "object"}},
        ], "nextCursor": "page-2"}),
        Some("page-2") => json!({"tools": [
            {"name": "GetSecret", "description": "Reads a secret", "inputSchema": {"type": "object"}},
        ]}),
        Some(other) => panic!("unexpected cursor {other}"),
    };
    Reply::Json(rpc_result(req, page))
}

fn names(tools: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = tools
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// What the relay itself answers to a client that lists every page.
async fn names_through_the_relay(home: &Path, server: &TestServer) -> Vec<String> {
    let home_copy = TempDir::new().unwrap();
    copy_config(home, home_copy.path());
    let mut relay = relay(&["--read-only", "ecs"]).home(home_copy).spawn();
    relay.send(&init_line(0)).await;
    relay.answer(json!(0)).await;
    relay.send(INITIALIZED).await;
    server.wait_for_rpc("notifications/initialized").await;
    let mut tools = Vec::new();
    let mut cursor = Value::Null;
    for id in 1.. {
        let params = if cursor.is_null() {
            json!({})
        } else {
            json!({"cursor": cursor})
        };
        relay
            .send_json(
                &json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params}),
            )
            .await;
        let answer = relay.answer(json!(id)).await;
        tools.extend(
            answer["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        cursor = answer["result"]["nextCursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    relay.finish().await;
    names(&tools)
}

fn copy_config(from: &Path, to: &Path) {
    let rel = ".config/mcpgw/config.json";
    std::fs::create_dir_all(to.join(".config/mcpgw")).unwrap();
    std::fs::copy(from.join(rel), to.join(rel)).unwrap();
}

#[tokio::test]
async fn tools_lists_what_the_relay_exposes_and_why_the_rest_is_hidden() {
    let server = TestServer::builder()
        .on("tools/list", paged_tools)
        .start()
        .await;
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": {"url": server.url(), "denyTools": ["*Secret*"]}}),
    );

    let out = mcpgw(home.path(), &["tools", "ecs", "--read-only"], "").await;
    assert_exit(&out, 0);
    let table = text(&out.stdout);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "RW", "DESCRIPTION"], "{table}");
    assert_eq!(
        rows[1..]
            .iter()
            .map(|r| r[..2].join(" "))
            .collect::<Vec<_>>(),
        ["DescribeInstances read", "RunReport read"],
        "{table}"
    );
    assert!(
        table.contains("Lists ECS instances.") && !table.contains("With filters"),
        "first line of the description only: {table}"
    );
    assert_stderr_has(&out, "2 of 4 tools shown; 2 hidden by the tool filter");

    // Exactly what an MCP client gets through `mcpgw --read-only ecs`.
    let visible: Vec<String> = rows[1..].iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(names_through_the_relay(home.path(), &server).await, visible);

    let out = mcpgw(
        home.path(),
        &["tools", "ecs", "--read-only", "--all", "--json"],
        "",
    )
    .await;
    assert_exit(&out, 0);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["service"], "ecs");
    assert_eq!(doc["hidden"], 2);
    let by_name = |name: &str| -> Value {
        doc["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} missing: {doc}"))
    };
    assert_eq!(by_name("DeleteInstance")["access"], "write");
    assert_eq!(
        by_name("DeleteInstance")["hiddenBy"],
        "blocked by --read-only"
    );
    assert_eq!(
        by_name("GetSecret")["hiddenBy"],
        "blocked by denyTools `*Secret*` in the config"
    );
    assert_eq!(by_name("RunReport")["hiddenBy"], Value::Null);
    assert_eq!(
        by_name("RunReport")["tool"]["annotations"]["readOnlyHint"],
        true
    );

    // Both pages were fetched, the second with the server's cursor, and each run
    // ended its session.
    let lists = server.rpcs("tools/list");
    assert!(
        lists
            .iter()
            .any(|r| r.json()["params"]["cursor"] == "page-2")
    );
    assert!(server.live_sessions().is_empty(), "sessions were ended");
}

#[tokio::test]
async fn tools_falls_back_to_the_stateless_era_when_initialize_is_refused() {
    let server = TestServer::builder()
        .on("initialize", |req| {
            Reply::Json(rpc_error(req, -32601, "Method not found: initialize"))
        })
        .on("tools/list", |req| {
            if is_era2(req) {
                Reply::Json(rpc_result(req, crate::server::tool_list()))
            } else {
                Reply::Json(rpc_error(req, -32600, "envelope required"))
            }
        })
        .start()
        .await;
    let home = TempDir::new().unwrap();
    write_config(home.path(), json!({"ecs": server.url()}));
    let out = mcpgw(home.path(), &["tools", "ecs", "--json"], "").await;
    assert_exit(&out, 0);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["protocolVersion"], ERA2_VERSION);
    assert_eq!(
        names(doc["tools"].as_array().unwrap()),
        ["echo", "lookup", "slow"]
    );
    let list = server.wait_for_rpc("tools/list").await;
    let meta = &list.json()["params"]["_meta"];
    assert_eq!(meta["io.modelcontextprotocol/clientInfo"]["name"], "mcpgw");
    assert_eq!(list.header("mcp-method"), Some("tools/list"));

    // --protocol session does not fall back: the server's refusal is the error.
    let out = mcpgw(home.path(), &["tools", "ecs", "--protocol", "session"], "").await;
    assert_exit(&out, 1);
    assert_stderr_has(&out, "ecs answered initialize with error -32601");
}

/// A server that refuses both eras: the error says what initialize got, too.
#[tokio::test]
async fn tools_says_why_it_tried_the_stateless_era() {
    let server = TestServer::builder()
        .on("initialize", |req| {
            Reply::Json(rpc_error(req, -32601, "Method not found: initialize"))
        })
        .on("tools/list", |req| {
            Reply::Json(rpc_error(req, -32603, "broken"))
        })
        .start()
        .await;
    let home = TempDir::new().unwrap();
    write_config(home.path(), json!({"ecs": server.url()}));
    let out = mcpgw(home.path(), &["tools", "ecs"], "").await;
    assert_exit(&out, 1);
    assert_stderr_has(
        &out,
        "ecs answered tools/list with error -32603: broken (in the stateless 2026-07-28 era, \
         tried because ecs answered initialize with error -32601: Method not found: initialize)",
    );
}

/// tools/call: `echo` reports progress first; `fail` reports isError.
fn call_server() -> crate::server::Builder {
    TestServer::builder()
        .on("tools/list", paged_tools)
        .on("tools/call", |req| match req["params"]["name"].as_str() {
            Some("fail") => Reply::Json(rpc_result(
                req,
                json!({"content": [{"type": "text", "text": "boom: no such region"}], "isError": true}),
            )),
            _ => Reply::Sse(vec![
                Ev::Prime,
                Ev::Msg(notification(
                    "notifications/progress",
                    json!({"progressToken": req["params"]["_meta"]["progressToken"],
                           "progress": 1, "total": 2, "message": "halfway"}),
                )),
                Ev::Msg(echo_result(req)),
            ]),
        })
}

#[tokio::test]
async fn call_prints_text_progress_and_the_raw_result() {
    let server = call_server().start().await;
    let home = TempDir::new().unwrap();
    write_config(home.path(), json!({"ecs": server.url()}));

    let out = mcpgw(
        home.path(),
        &[
            "call",
            "ecs",
            "echo",
            "RegionId=cn-hangzhou",
            "PageSize:=10",
            "Tags:=[\"a\"]",
        ],
        "",
    )
    .await;
    assert_exit(&out, 0);
    let printed = text(&out.stdout);
    assert!(printed.ends_with('\n'), "{printed:?}");
    assert_eq!(
        serde_json::from_str::<Value>(printed.trim()).unwrap(),
        json!({"RegionId": "cn-hangzhou", "PageSize": 10, "Tags": ["a"]}),
        "the text content, as text"
    );
    assert_stderr_has(&out, "mcpgw: progress: 1/2 (50%) halfway");
    let call = server.wait_for_rpc("tools/call").await.json();
    assert!(
        call["params"]["_meta"]["progressToken"].is_string(),
        "{call}"
    );

    // `-` reads the arguments from stdin; --json prints the whole result.
    let out = mcpgw(
        home.path(),
        &["call", "ecs", "echo", "-", "--json"],
        r#"{"text": "from stdin"}"#,
    )
    .await;
    assert_exit(&out, 0);
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["isError"], false);
    assert_eq!(
        serde_json::from_str::<Value>(result["content"][0]["text"].as_str().unwrap()).unwrap(),
        json!({"text": "from stdin"})
    );
}

#[tokio::test]
async fn call_exits_1_when_the_tool_reports_an_error_and_2_for_bad_arguments() {
    let server = call_server().start().await;
    let home = TempDir::new().unwrap();
    write_config(home.path(), json!({"ecs": server.url()}));
    let out = mcpgw(home.path(), &["call", "ecs", "fail"], "").await;
    assert_exit(&out, 1);
    assert_eq!(text(&out.stdout), "boom: no such region\n");
    assert_stderr_has(&out, "tool `fail` reported an error");

    let out = mcpgw(home.path(), &["call", "ecs", "echo", "PageSize:=ten"], "").await;
    assert_exit(&out, 2);
    assert_stderr_has(&out, "the value is not JSON");
    assert_eq!(
        server.rpcs("tools/call").len(),
        1,
        "bad arguments send nothing"
    );
}

#[tokio::test]
async fn call_obeys_the_tool_filter() {
    let server = call_server().start().await;
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": {"url": server.url(), "readOnly": true}}),
    );
    let out = mcpgw(
        home.path(),
        &["call", "ecs", "DeleteInstance", "InstanceId=i-1"],
        "",
    )
    .await;
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("tool `DeleteInstance` is blocked by readOnly in the config"),
        "{stderr}"
    );
    assert!(stderr.contains("mcpgw tools ecs --all"), "{stderr}");
    assert!(
        server.rpcs("tools/call").is_empty(),
        "never reached the server"
    );

    // A tool whose annotation says it only reads may be called: the listing shows it.
    let out = mcpgw(home.path(), &["call", "ecs", "RunReport"], "").await;
    assert_exit(&out, 0);
    assert_eq!(server.rpcs("tools/call").len(), 1);
}

#[tokio::test]
async fn call_without_a_login_says_how_to_sign_in() {
    let server = TestServer::start().await;
    server.expect_no_requests();
    let home = TempDir::new().unwrap();
    write_config(home.path(), json!({"ecs": server.url()}));
    let out = crate::isolated_command(home.path())
        .args(["call", "ecs", "echo", "--no-auto-login"])
        .env("MCPGW_CLIENT_ID", "4103531455503354461")
        .env("MCPGW_TOKEN_STORE", "file")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert_stderr_has(&out, "mcpgw login");
}

#[test]
fn call_writes_nothing_to_stdout_when_the_service_is_unknown() {
    let home = TempDir::new().unwrap();
    let mut child = crate::isolated_command(home.path())
        .args(["call", "nope", "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 1);
    assert!(out.stdout.is_empty());
    assert_stderr_has(&out, "unknown service `nope`");
}

/// The MCP Python SDK's server (tests/peers/sdk_server.py), which serves both
/// eras on one endpoint: `tools` and `call` work in the initialize era and with
/// `--protocol stateless`, progress included.
#[test]
fn tools_and_call_against_the_python_sdk_server_in_both_eras() {
    use std::io::BufRead;
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers");
    let python = peers.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `sh tests/peers/install.sh` (installs the MCP Python SDK)",
        python.display()
    );
    let token = "sdk-peer-token-81";
    let mut server = std::process::Command::new(&python)
        .arg(peers.join("sdk_server.py"))
        .env("MCPGW_PEER_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("sdk_server.py printed LISTENING")
            .unwrap();
        if let Some(url) = line.strip_prefix("LISTENING ") {
            break url.to_owned();
        }
    };
    let home = TempDir::new().unwrap();
    let run = |args: &[&str]| {
        crate::isolated_command(home.path())
            .args(args)
            .env("MCPGW_BEARER_TOKEN", token)
            .output()
            .unwrap()
    };
    for protocol in ["session", "stateless"] {
        let out = run(&["tools", &url, "--protocol", protocol, "--json"]);
        assert_exit(&out, 0);
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let names = names(doc["tools"].as_array().unwrap());
        assert!(
            names.contains(&"echo".to_owned()) && names.contains(&"progress".to_owned()),
            "{protocol}: {names:?}"
        );
        if protocol == "stateless" {
            assert_eq!(doc["protocolVersion"], ERA2_VERSION);
        }

        let out = run(&["call", &url, "progress", "steps:=2", "--protocol", protocol]);
        assert_exit(&out, 0);
        assert_eq!(text(&out.stdout), "done 2\n", "{protocol}");
        assert!(
            text(&out.stderr).contains("progress: 2/2 (100%) step 2/2 ✓"),
            "{protocol}: {}",
            text(&out.stderr)
        );
    }
    drop(server.stdin.take());
    server.wait().unwrap();
}
