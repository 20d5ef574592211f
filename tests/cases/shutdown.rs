//! Shutdown must not depend on what the upstream does: with no session to end
//! and a GET stream stuck in its retry back-off, stdin EOF still exits promptly.
//! (Found by the conformance suite's `initialize` scenario, whose server issues
//! no session id and answers GET with an error.)

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};

use super::transport::{init_line, relay};

async fn upstream_without_sessions_failing_gets(get_status: StatusCode) -> String {
    let app = Router::new().route(
        "/mcp",
        post(|body: axum::Json<Value>| async move {
            match body.get("id") {
                Some(id) => {
                    let result = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "t", "version": "1"}});
                    (StatusCode::OK, axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result}))).into_response_parts()
                }
                None => (StatusCode::ACCEPTED, axum::Json(Value::Null)).into_response_parts(),
            }
        })
        .get(move || async move { get_status }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

trait IntoParts {
    fn into_response_parts(self) -> axum::response::Response;
}

impl IntoParts for (StatusCode, axum::Json<Value>) {
    fn into_response_parts(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        if self.0 == StatusCode::ACCEPTED {
            self.0.into_response()
        } else {
            self.into_response()
        }
    }
}

async fn exits_promptly_after_eof(get_status: StatusCode) {
    let url = upstream_without_sessions_failing_gets(get_status).await;
    let mut relay = relay(&[&url, "-vv"]).spawn();
    relay.send(&init_line(1)).await;
    assert!(relay.answer(json!(1)).await.get("result").is_some());
    relay
        .send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        .await;
    relay
        .send(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        .await;
    relay.answer(json!(2)).await;
    // `finish` fails the test if the relay does not exit within its bound.
    relay.finish().await.assert_success();
}

#[tokio::test]
async fn eof_exits_while_get_stream_backs_off_after_5xx() {
    exits_promptly_after_eof(StatusCode::INTERNAL_SERVER_ERROR).await;
}

#[tokio::test]
async fn eof_exits_when_get_answers_400() {
    exits_promptly_after_eof(StatusCode::BAD_REQUEST).await;
}
