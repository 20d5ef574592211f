//! mcpgw under the client its users run it under: Claude Code (npm
//! `@anthropic-ai/claude-code`, installed by tests/peers/install.sh). Its
//! `claude mcp list` health check starts each configured server and performs the
//! MCP handshake, offline, with a private HOME.

use std::path::{Path, PathBuf};
use std::process::Output;

use tempfile::TempDir;

use crate::server::{TOKEN, TestServer};

fn claude_bin() -> PathBuf {
    let bin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/claude/node_modules/.bin/claude");
    assert!(
        bin.exists(),
        "Claude Code is not installed: run `sh tests/peers/install.sh`"
    );
    bin
}

async fn claude(home: &Path, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(claude_bin());
    crate::isolate(cmd.as_std_mut(), home);
    cmd.args(args)
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("MCP_TIMEOUT", "20000")
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("claude did not finish within 120 s")
        .expect("claude runs")
}

/// Registers `mcpgw <url>` the way the README says (`claude mcp add --scope user`)
/// and returns what `claude mcp list` printed.
async fn health_check(token: &str, url: &str) -> String {
    let home = TempDir::new().unwrap();
    let mcpgw = crate::mcpgw_bin();
    let env = format!("MCPGW_BEARER_TOKEN={token}");
    let add = claude(
        home.path(),
        &[
            "mcp",
            "add",
            "--scope",
            "user",
            "aliyun-test",
            "-e",
            &env,
            "--",
            mcpgw.to_str().unwrap(),
            url,
        ],
    )
    .await;
    assert!(
        add.status.success(),
        "claude mcp add failed: {}",
        String::from_utf8_lossy(&add.stderr)
    );
    let list = claude(home.path(), &["mcp", "list"]).await;
    let stdout = String::from_utf8_lossy(&list.stdout).into_owned();
    stdout
        .lines()
        .find(|line| line.starts_with("aliyun-test"))
        .unwrap_or_else(|| {
            panic!(
                "aliyun-test missing from `claude mcp list`:\n{stdout}\n{}",
                String::from_utf8_lossy(&list.stderr)
            )
        })
        .to_owned()
}

#[tokio::test]
async fn claude_code_health_check_connects_through_mcpgw() {
    let server = TestServer::start().await;
    let line = health_check(TOKEN, &server.url()).await;
    assert!(line.contains("Connected"), "{line}");
    let initializes = server.rpcs("initialize");
    assert!(
        !initializes.is_empty(),
        "Claude Code's initialize never reached the upstream"
    );
    let expected = format!("Bearer {TOKEN}");
    assert_eq!(
        initializes[0].header("authorization"),
        Some(expected.as_str())
    );
}

#[tokio::test]
async fn claude_code_reports_failure_when_the_token_is_rejected() {
    let server = TestServer::start().await;
    let line = health_check("wrong-token", &server.url()).await;
    assert!(
        !line.contains("Connected"),
        "a rejected token must not look healthy: {line}"
    );
    assert!(
        !server.rpcs("initialize").is_empty(),
        "the relay never tried the upstream"
    );
}
