//! The relay's contract under a misbehaving upstream (ARCHITECTURE.md, SECURITY.md):
//! every request gets exactly one answer, stdout carries only JSON-RPC, nothing
//! waits forever or grows without bound, and tokens stay where they belong. Each
//! test scripts one fault of the upstream in `tests/server/` and checks what the
//! client sees and what the server saw.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::transport::{INITIALIZED, assert_error, call, ping, relay};
use crate::server::{BATCH, Ev, Gate, Reply, TestServer, notification, rpc_result};

/// A line the relay wrote must be one JSON-RPC message.
fn assert_jsonrpc(line: &str) -> Value {
    let value: Value = serde_json::from_str(line)
        .unwrap_or_else(|err| panic!("not JSON on stdout ({err}): {line}"));
    assert_eq!(value["jsonrpc"], "2.0", "not JSON-RPC on stdout: {line}");
    value
}

fn html_page() -> Reply {
    Reply::status(
        200,
        "text/html",
        "<html><body><form>Sign in to the corporate proxy</form></body></html>",
    )
}

// ---- one answer per request, within the deadline --------------------------------

#[tokio::test]
async fn a_notification_the_server_never_takes_holds_nothing_up() {
    let never = Gate::new();
    let server = TestServer::builder()
        .on("notifications/roots/list_changed", move |_| {
            Reply::gated(&never, Reply::Accepted)
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay
        .send(r#"{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}"#)
        .await;
    relay.send(&ping(7)).await;
    let answer = relay.answer(json!(7)).await;
    assert!(answer.get("result").is_some(), "{answer}");
    // stdin EOF ends the relay although the notification's POST never returned.
    let started = Instant::now();
    let done = relay.finish().await;
    done.assert_success();
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_batch_to_a_server_that_never_answers_gets_an_error_per_request() {
    let never = Gate::new();
    let server = TestServer::builder()
        .on(BATCH, move |_| Reply::gated(&never, Reply::Accepted))
        .start()
        .await;
    let mut relay = relay(&["--timeout", "1", &server.url()]).spawn();
    relay.handshake(&server).await;
    relay
        .send(&format!("[{},{},{INITIALIZED}]", ping(1), ping(2)))
        .await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let error = relay.recv_json().await;
        assert_eq!(error["error"]["code"], -32003, "{error}");
        ids.push(error["id"].as_i64().unwrap());
    }
    ids.sort();
    assert_eq!(ids, [1, 2]);
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn a_batch_answered_in_part_gets_errors_for_the_rest() {
    let server = TestServer::builder()
        .on(BATCH, |batch| {
            Reply::Json(json!([rpc_result(&batch[0], json!({"ok": 1}))]))
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send(&format!("[{},{}]", ping(1), ping(2))).await;
    let answered = relay.recv_json().await;
    assert_eq!(answered[0]["id"], 1, "{answered}");
    let missing = relay.answer(json!(2)).await;
    assert_error(&missing, json!(2), -32005);
    relay.finish().await.assert_success();
}

// ---- only JSON-RPC on stdout ---------------------------------------------------------

#[tokio::test]
async fn an_html_page_instead_of_an_answer_is_an_error_not_output() {
    let server = TestServer::builder()
        .on("tools/call", |_| html_page())
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(3), "echo", json!({}))).await;
    let error = relay.answer(json!(3)).await;
    let message = assert_error(&error, json!(3), -32005);
    assert!(
        message.contains("not JSON") && message.contains("proxy"),
        "{message}"
    );
    let done = relay.finish().await;
    done.all_stdout.iter().for_each(|line| {
        assert_jsonrpc(line);
    });
}

#[tokio::test]
async fn an_answer_with_invalid_utf8_or_another_id_is_an_error() {
    let server = TestServer::builder()
        .on("tools/call", |req| {
            if req["params"]["name"] == "bytes" {
                let mut body = format!(r#"{{"jsonrpc":"2.0","id":{},"result":{{"t":""#, req["id"])
                    .into_bytes();
                body.extend_from_slice(b"\xff\xfe\"}}");
                Reply::Raw {
                    status: 200,
                    headers: vec![("content-type", "application/json".into())],
                    body,
                }
            } else {
                Reply::Json(rpc_result(&json!({"id": 999}), json!({})))
            }
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(1), "bytes", json!({}))).await;
    let message = assert_error(&relay.answer(json!(1)).await, json!(1), -32005);
    assert!(message.contains("UTF-8"), "{message}");
    relay.send_json(&call(json!(2), "other", json!({}))).await;
    let message = assert_error(&relay.answer(json!(2)).await, json!(2), -32005);
    assert!(message.contains("another request"), "{message}");
    let done = relay.finish().await;
    assert!(
        done.all_stdout
            .iter()
            .all(|line| assert_jsonrpc(line)["id"] != 999),
        "the wrong-id answer reached stdout: {:?}",
        done.all_stdout
    );
}

#[tokio::test]
async fn events_that_are_not_json_rpc_are_dropped() {
    let server = TestServer::builder()
        .on("tools/call", |req| {
            Reply::Sse(vec![
                Ev::Prime,
                Ev::Raw("data: <html>oops</html>\n\n".into()),
                Ev::Raw("data: {\"half\":\n\n".into()),
                Ev::Msg(json!({"jsonrpc": "2.0", "id": 12345, "result": {}})),
                Ev::Msg(notification(
                    "notifications/progress",
                    json!({"progress": 1}),
                )),
                Ev::Msg(rpc_result(req, json!({"done": true}))),
            ])
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(5), "echo", json!({}))).await;
    let progress = assert_jsonrpc(&relay.recv().await);
    assert_eq!(progress["method"], "notifications/progress", "{progress}");
    let answer = relay.answer(json!(5)).await;
    assert_eq!(answer["result"]["done"], true);
    let done = relay.finish().await;
    assert_eq!(
        done.all_stdout.len(),
        3,
        "initialize, progress, answer: {:?}",
        done.all_stdout
    );
}

// ---- bounded memory ----------------------------------------------------------------

#[tokio::test]
async fn an_endless_answer_stops_at_the_size_limit_and_the_relay_goes_on() {
    let server = TestServer::builder()
        .on("tools/call", |req| match req["params"]["name"].as_str() {
            Some("json") => Reply::Endless("application/json"),
            _ => Reply::Sse(vec![
                Ev::Prime,
                Ev::Raw("data: {\"x\":\"".into()),
                Ev::Raw("y".repeat(3 << 20)),
            ]),
        })
        .start()
        .await;
    let mut relay = relay(&["--max-message-size", "1MiB", &server.url()]).spawn();
    relay.handshake(&server).await;
    for (id, tool) in [(1, "json"), (2, "sse")] {
        relay.send_json(&call(json!(id), tool, json!({}))).await;
        let message = assert_error(&relay.answer(json!(id)).await, json!(id), -32005);
        assert!(message.contains("larger than the 1 MiB limit"), "{message}");
    }
    relay.send(&ping(3)).await;
    assert!(relay.answer(json!(3)).await.get("result").is_some());
    relay.finish().await.assert_success();
}

/// The check runs as the body arrives: a body that is not JSON from its first
/// byte is refused then, not read on to the size limit (here, never).
#[tokio::test]
async fn an_endless_body_that_is_not_json_is_refused_at_its_first_bytes() {
    let server = TestServer::builder()
        .on("tools/call", |_| Reply::EndlessJunk)
        .start()
        .await;
    let mut relay = relay(&["--max-message-size", "1GiB", &server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(1), "junk", json!({}))).await;
    let message = assert_error(&relay.answer(json!(1)).await, json!(1), -32005);
    assert!(message.contains("not JSON"), "{message}");
    relay.send(&ping(2)).await;
    assert!(relay.answer(json!(2)).await.get("result").is_some());
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn a_stdin_line_over_the_limit_is_refused_and_the_next_one_relayed() {
    let server = TestServer::start().await;
    let mut relay = relay(&["--max-message-size", "64KiB", &server.url()]).spawn();
    relay.handshake(&server).await;
    let big = call(json!(1), "echo", json!({"text": "z".repeat(200_000)}));
    relay.send_json(&big).await;
    let error = relay.recv_json().await;
    assert_eq!(error["id"], Value::Null, "{error}");
    assert_eq!(error["error"]["code"], -32600, "{error}");
    relay.send(&ping(2)).await;
    assert!(relay.answer(json!(2)).await.get("result").is_some());
    relay.finish().await.assert_success();
    assert!(
        server.rpcs("tools/call").is_empty(),
        "the oversized line went upstream"
    );
}

// ---- no tight loops ------------------------------------------------------------------

#[tokio::test]
async fn retry_zero_on_the_get_stream_is_not_a_tight_loop() {
    let server = TestServer::builder()
        .get_raw("retry: 0\nid: 1\ndata: \n\n")
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    // An observation window, not a synchronisation: count reconnects in it.
    let window = Duration::from_millis(2500);
    tokio::time::sleep(window).await;
    let gets = server.of_method(axum::http::Method::GET).len();
    relay.finish().await.assert_success();
    assert!(
        gets <= 4,
        "{gets} GETs in {window:?}: reconnects need a floor"
    );
    assert!(gets >= 1, "the relay never opened the GET stream");
}

// ---- tokens stay where they belong ------------------------------------------------------

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = TestServer::start().await;
    elsewhere.expect_no_requests();
    let target = elsewhere.url();
    let server = TestServer::builder()
        .on("tools/call", move |_| Reply::Raw {
            status: 307,
            headers: vec![("location", target.clone())],
            body: Vec::new(),
        })
        .start()
        .await;
    let mut relay = relay(&["-H", "X-Tenant: t-1", &server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(4), "echo", json!({}))).await;
    let message = assert_error(&relay.answer(json!(4)).await, json!(4), -32001);
    assert!(message.contains("307"), "{message}");
    relay.finish().await.assert_success();
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn a_loopback_upstream_is_never_reached_through_a_proxy() {
    let proxy = TestServer::start().await;
    proxy.expect_no_requests();
    let server = TestServer::start().await;
    let mut relay = relay(&[&server.url()])
        .env("HTTP_PROXY", &proxy.base_url())
        .env("ALL_PROXY", &proxy.base_url())
        .spawn();
    relay.handshake(&server).await;
    relay.finish().await.assert_success();
    assert!(
        proxy.requests().is_empty(),
        "loopback traffic went to the proxy"
    );
}

#[test]
fn the_stored_login_is_not_sent_to_a_host_nobody_trusted() {
    let home = tempfile::TempDir::new().unwrap();
    let out = crate::isolated_command(home.path())
        .arg("https://someone-else.invalid/mcp")
        .env("MCPGW_TOKEN_STORE", "file")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("refusing to send your Alibaba Cloud login"),
        "{stderr}"
    );
    assert!(stderr.contains("trustedHosts"), "{stderr}");
    assert!(out.stdout.is_empty());
}

// ---- the tool filter fails closed ------------------------------------------------------

#[tokio::test]
async fn the_tool_filter_fails_closed() {
    let server = TestServer::builder()
        .on("tools/list", |req| {
            // Deeper than any JSON reader will go: unreadable, so not passed on.
            let mut deep = json!("leaf");
            for _ in 0..200 {
                deep = json!([deep]);
            }
            Reply::Json(rpc_result(req, json!({"tools": [], "x": deep})))
        })
        .start()
        .await;
    let mut relay = relay(&["--deny-tool", "Delete*", &server.url()]).spawn();
    relay.handshake(&server).await;
    // A call whose name cannot be read (params nested too deep) does not go out.
    let mut deep = json!({});
    for _ in 0..200 {
        deep = json!({"a": deep});
    }
    relay
        .send_json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "DeleteInstance", "arguments": deep}}))
        .await;
    assert_error(&relay.answer(json!(1)).await, json!(1), -32006);
    // A batch with a blocked call is not sent at all.
    let batch = format!(
        "[{},{}]",
        call(json!(2), "DeleteInstance", json!({})),
        ping(3)
    );
    relay.send(&batch).await;
    let mut codes = [relay.recv_json().await, relay.recv_json().await];
    codes.sort_by_key(|m| m["id"].as_i64());
    assert_error(&codes[0], json!(2), -32006);
    assert_error(&codes[1], json!(3), -32006);
    // tools/list that cannot be filtered is withheld.
    relay
        .send(r#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#)
        .await;
    assert!(relay.answer(json!(4)).await.get("error").is_some());
    relay.finish().await.assert_success();
    assert!(
        server.rpcs("tools/call").is_empty(),
        "a blocked call went upstream"
    );
}

// ---- a slow reader gets whole lines --------------------------------------------------

#[tokio::test]
async fn a_slow_reader_after_eof_still_gets_every_line_whole() {
    let server = TestServer::builder()
        .on("tools/call", |req| {
            Reply::Json(rpc_result(req, json!({"text": "w".repeat(4 << 20)})))
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    relay.send_json(&call(json!(9), "big", json!({}))).await;
    server.wait_for_rpc("tools/call").await;
    relay.close_stdin();
    // Read slowly: about 600 KiB/s, so the 4 MiB answer takes longer than the
    // writer's old 5 s cut-off. The pauses pace the reader; they synchronise nothing.
    let line = relay
        .recv_slowly(Duration::from_millis(50), 32 * 1024)
        .await;
    let answer = assert_jsonrpc(&line);
    assert_eq!(answer["id"], 9);
    assert_eq!(answer["result"]["text"].as_str().unwrap().len(), 4 << 20);
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn the_largest_numbers_the_settings_take_do_not_overflow() {
    let server = TestServer::start().await;
    let max = u64::MAX.to_string();
    let mut relay = relay(&["--timeout", &max, &server.url()])
        .env("MCPGW_REFRESH_MARGIN", &max)
        .env("MCPGW_AUTO_LOGIN_WAIT", &max)
        .env("MCP_TIMEOUT", &max)
        .spawn();
    relay.handshake(&server).await;
    relay.send(&ping(1)).await;
    assert!(relay.answer(json!(1)).await.get("result").is_some());
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn doctor_does_not_call_a_redirected_server_healthy() {
    let server = TestServer::builder()
        .on("initialize", |_| Reply::Raw {
            status: 308,
            headers: vec![("location", "https://elsewhere.example/mcp".into())],
            body: Vec::new(),
        })
        .start()
        .await;
    let home = tempfile::TempDir::new().unwrap();
    let config = home.path().join(".config/mcpgw/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        json!({"mcpServer": {"services": {"ecs": server.url()}}}).to_string(),
    )
    .unwrap();
    let mut cmd = crate::isolated_command(home.path());
    cmd.args(["doctor", "--json"])
        .env("MCPGW_BEARER_TOKEN", crate::server::TOKEN)
        .env("MCPGW_TOKEN_ENDPOINT", "http://127.0.0.1:9/token");
    let out = tokio::process::Command::from(cmd).output().await.unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let service = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "service:ecs")
        .unwrap();
    assert_eq!(service["status"], "fail", "{service}");
    assert!(
        service["detail"].as_str().unwrap().contains("redirect"),
        "{service}"
    );
}
