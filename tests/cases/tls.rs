//! `--ca-cert` against a real TLS upstream whose certificate is signed by a
//! private CA (as behind a corporate TLS-inspecting proxy): trusted with the
//! flag, refused without it.

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;

use super::transport::{init_line, relay};
use crate::server::TestServer;
use crate::server::tls::TlsListener;

/// Starts an HTTPS MCP upstream for `localhost`; returns its URL and the CA's PEM.
async fn tls_upstream() -> (String, String) {
    let app = Router::new().route(
        "/mcp",
        post(|body: axum::Json<Value>| async move {
            match body.get("id") {
                Some(id) => {
                    let result = json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "tls", "version": "1"}});
                    axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": result})).into_response()
                }
                None => StatusCode::ACCEPTED.into_response(),
            }
        }),
    );
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}/mcp", tcp.local_addr().unwrap().port());
    let (listener, ca_pem) = TlsListener::localhost(tcp);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, ca_pem)
}

#[tokio::test]
async fn ca_cert_flag_trusts_a_private_ca() {
    let (url, ca_pem) = tls_upstream().await;
    let dir = TempDir::new().unwrap();
    let ca_file = dir.path().join("corp-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();

    let mut trusted = relay(&[&url, "--ca-cert", ca_file.to_str().unwrap()]).spawn();
    trusted.send(&init_line(1)).await;
    let answer = trusted.answer(json!(1)).await;
    assert_eq!(answer["result"]["serverInfo"]["name"], "tls", "{answer}");
    trusted.finish().await.assert_success();

    let mut untrusted = relay(&[&url]).spawn();
    untrusted.send(&init_line(2)).await;
    let answer = untrusted.answer(json!(2)).await;
    assert_eq!(answer["error"]["code"], -32002, "{answer}");
    let message = answer["error"]["message"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        message.contains("certificate"),
        "the error should name the certificate problem: {message}"
    );
    untrusted.finish().await.assert_success();
}

#[tokio::test]
async fn unreadable_ca_cert_is_a_user_error() {
    let dir = TempDir::new().unwrap();
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let output = crate::isolated_command(dir.path())
        .args([
            "https://localhost:9/mcp",
            "--ca-cert",
            not_pem.to_str().unwrap(),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("ca.pem"));
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn the_system_ca_store_is_read_only_for_a_tls_connection() {
    // A machine whose CA store cannot be read (SSL_CERT_FILE/SSL_CERT_DIR point at
    // nothing, as in a bare container): a relay to a plain-http server never needs
    // it, one over TLS says why it cannot check the certificate, and --ca-cert
    // still works on its own.
    let dir = TempDir::new().unwrap();
    let nowhere = dir.path().join("no-ca-store");
    let nowhere = nowhere.to_str().unwrap();
    let without_store = |args: &[&str]| {
        relay(args)
            .env("SSL_CERT_FILE", nowhere)
            .env("SSL_CERT_DIR", nowhere)
    };

    let server = TestServer::start().await;
    let mut plain = without_store(&[&server.url()]).spawn();
    plain.handshake(&server).await;
    plain.finish().await.assert_success();

    let (url, ca_pem) = tls_upstream().await;
    let mut tls = without_store(&[&url]).spawn();
    tls.send(&init_line(2)).await;
    let answer = tls.answer(json!(2)).await;
    assert_eq!(answer["error"]["code"], -32002, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cannot load the trusted CA certificates"),
        "the error should say the CA store could not be read: {message}"
    );
    tls.finish().await.assert_success();

    let ca_file = dir.path().join("corp-ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let mut with_ca = without_store(&[&url, "--ca-cert", ca_file.to_str().unwrap()]).spawn();
    with_ca.send(&init_line(3)).await;
    let answer = with_ca.answer(json!(3)).await;
    assert_eq!(answer["result"]["serverInfo"]["name"], "tls", "{answer}");
    with_ca.finish().await.assert_success();
}
