//! Process tests of the command line: help, exit codes, configuration layering,
//! the old Node gateway's config.json, and the plain-http guard. Subcommands that
//! other work is building (login, status, logout, services, doctor, completions)
//! are deliberately not exercised here.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::transport::{INITIALIZED, init_line, relay};
use crate::server::TestServer;

/// `mcpgw ARGS` with a private HOME; stdin is empty so a relay ends at once.
fn mcpgw(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::from_std(crate::isolated_command(home));
    cmd.args(args).write_stdin("");
    cmd
}

/// Writes `config` where mcpgw looks by default: `$XDG_CONFIG_HOME/mcpgw/config.json`.
fn home_with_config(config: &Value) -> TempDir {
    let home = TempDir::new().unwrap();
    write_config(&default_config_path(home.path()), config);
    home
}

fn default_config_path(home: &Path) -> PathBuf {
    home.join(".config/mcpgw/config.json")
}

fn write_config(path: &Path, config: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(config).unwrap()).unwrap();
}

/// A port nothing listens on: connections to it are refused.
fn dead_base_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// Runs `mcpgw ARGS` as a relay with `home`, does `initialize` +
/// `notifications/initialized`, and returns the stderr of the finished run.
async fn relay_handshake(home: TempDir, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut spawn = relay(args).home(home);
    for (key, value) in env {
        spawn = spawn.env(key, value);
    }
    let mut relay = spawn.spawn();
    relay.send(&init_line(1)).await;
    let answer = relay.answer(json!(1)).await;
    assert!(
        answer.get("result").is_some(),
        "initialize failed: {answer}"
    );
    relay.send(INITIALIZED).await;
    let done = relay.finish().await;
    done.assert_success();
    done.stderr
}

#[test]
fn help_works() {
    let home = TempDir::new().unwrap();
    mcpgw(home.path(), &["--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Usage:").and(predicate::str::contains("SERVICE")))
        .stdout(predicate::str::contains("login").and(predicate::str::contains("relay")));
}

#[test]
fn no_arguments_is_a_usage_error() {
    let home = TempDir::new().unwrap();
    mcpgw(home.path(), &[])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty());
}

#[test]
fn unknown_alias_lists_configured_aliases_and_hints() {
    let home = home_with_config(
        &json!({"mcpServer": {"services": {"ecs": "/ecs/mcp", "oss": "/oss/mcp"}}}),
    );
    mcpgw(home.path(), &["rds"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("rds"))
        .stderr(predicate::str::contains("ecs").and(predicate::str::contains("oss")))
        .stderr(predicate::str::contains("hint").and(predicate::str::contains("services add")));
}

#[test]
fn usage_errors_exit_2() {
    // Every subcommand is built now, so the "not yet available" path has no user
    // left; what remains of exit code 2 is clap's usage errors.
    let home = TempDir::new().unwrap();
    for args in [
        &["--no-such-flag", "ecs"][..],
        &["relay"],
        &["ecs", "--timeout", "soon"],
    ] {
        mcpgw(home.path(), args)
            .assert()
            .code(2)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::starts_with("error:"));
    }
}

#[test]
fn plain_http_to_non_loopback_host_is_refused() {
    let home = home_with_config(
        &json!({"mcpServer": {"baseUrl": "http://mcp.example.com", "services": {"ecs": "/ecs/mcp"}}}),
    );
    for service in ["http://mcp.example.com/mcp", "ecs"] {
        mcpgw(home.path(), &[service])
            .env("MCPGW_BEARER_TOKEN", "t")
            .assert()
            .code(1)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("--allow-http"));
    }
}

#[tokio::test]
async fn alias_from_config_file_reaches_upstream() {
    let server = TestServer::start().await;
    let config = json!({"mcpServer": {"baseUrl": server.base_url(), "services": {"demo": "/mcp", "login": "mcp"}}});
    relay_handshake(home_with_config(&config), &["demo"], &[]).await;
    // `mcpgw relay NAME` reaches an alias that shares a subcommand's name.
    relay_handshake(home_with_config(&config), &["relay", "login"], &[]).await;
    let posts = server.posts();
    assert_eq!(posts.len(), 4, "seen:\n{}", server.describe());
    assert!(posts.iter().all(|p| p.path == "/mcp"));
}

#[tokio::test]
async fn env_base_url_beats_config_file() {
    let server = TestServer::start().await;
    let config =
        json!({"mcpServer": {"baseUrl": dead_base_url(), "services": {"demo": "/svc/mcp"}}});
    relay_handshake(
        home_with_config(&config),
        &["demo"],
        &[("MCPGW_MCP_BASE_URL", &server.base_url())],
    )
    .await;
    let posts = server.posts();
    assert_eq!(posts.len(), 2, "seen:\n{}", server.describe());
    assert_eq!(posts[0].path, "/svc/mcp");
}

#[tokio::test]
async fn config_flag_and_env_choose_the_file() {
    let server = TestServer::start().await;
    // The default file knows only `other`; the explicit file knows `alt`.
    let home = home_with_config(
        &json!({"mcpServer": {"baseUrl": server.base_url(), "services": {"other": "/other"}}}),
    );
    let elsewhere = TempDir::new().unwrap();
    let explicit = elsewhere.path().join("custom.json");
    write_config(
        &explicit,
        &json!({"mcpServer": {"baseUrl": server.base_url(), "services": {"alt": "/alt/mcp"}}}),
    );
    let explicit = explicit.to_str().unwrap().to_owned();

    mcpgw(home.path(), &["--config", &explicit, "other"])
        .env("MCPGW_BEARER_TOKEN", "t")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("alt"));
    mcpgw(
        home.path(),
        &[
            "--config",
            home.path().join("missing.json").to_str().unwrap(),
            "alt",
        ],
    )
    .assert()
    .code(1)
    .stderr(predicate::str::contains("missing.json"));

    relay_handshake(home, &["--config", &explicit, "alt"], &[]).await;
    let home = TempDir::new().unwrap();
    relay_handshake(home, &["alt"], &[("MCPGW_CONFIG", &explicit)]).await;
    let posts = server.posts();
    assert_eq!(posts.len(), 4, "seen:\n{}", server.describe());
    assert!(posts.iter().all(|p| p.path == "/alt/mcp"));
}

#[tokio::test]
async fn old_gateway_config_is_accepted_with_one_warning_per_obsolete_key() {
    let server = TestServer::start().await;
    // The Node gateway's file, unchanged apart from pointing at the test upstream.
    let config = json!({
        "port": 3000,
        "gatewayBaseUrl": "http://localhost:3000",
        "oauth": {
            "clientId": 4103531455503354461_u64,
            "authorizationEndpoint": "https://signin.aliyun.com/oauth2/v1/auth",
            "tokenEndpoint": "https://oauth.aliyun.com/v1/token",
            "scope": "openid /acs/mcp-server"
        },
        "mcpServer": {
            "baseUrl": server.base_url(),
            "services": {"ecs": "/accounts/1/custom/ecs/id/abc/mcp", "oss": "/accounts/1/custom/oss/id/def/mcp"}
        }
    });
    let stderr = relay_handshake(home_with_config(&config), &["ecs"], &[]).await;

    let posts = server.posts();
    assert_eq!(posts.len(), 2, "seen:\n{}", server.describe());
    assert!(
        posts
            .iter()
            .all(|p| p.path == "/accounts/1/custom/ecs/id/abc/mcp")
    );
    let lines_with = |needle: &str| stderr.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(lines_with("gatewayBaseUrl"), 1, "stderr:\n{stderr}");
    assert_eq!(
        lines_with("`port`") + lines_with("\"port\"") + lines_with("'port'"),
        1,
        "stderr:\n{stderr}"
    );
    for key in [
        "clientId",
        "authorizationEndpoint",
        "tokenEndpoint",
        "scope",
        "baseUrl",
        "services",
    ] {
        assert_eq!(
            lines_with(key),
            0,
            "`{key}` still applies and must not be warned about; stderr:\n{stderr}"
        );
    }
}

/// `mcpgw services list | head -1`: a reader that goes away early is not an error.
#[cfg(unix)]
#[test]
fn output_to_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let services: serde_json::Map<String, Value> = (0..2000)
        .map(|i| {
            (
                format!("svc{i:04}"),
                json!(format!("/accounts/1/custom/s{i}/id/x/mcp")),
            )
        })
        .collect();
    let home = home_with_config(&json!({"mcpServer": {"services": services}}));
    let mut child = crate::isolated_command(home.path())
        .args(["services", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe while most of the listing is unwritten.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 4];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"NAME");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit {status}; stderr: {stderr}");
    assert!(stderr.is_empty(), "nothing to report: {stderr}");
}

/// `--ca-cert` is global: login and logout use it for their HTTPS requests too,
/// so a bad file is refused there as it is for the relay.
#[test]
fn ca_cert_applies_to_login_and_logout() {
    let home = TempDir::new().unwrap();
    let not_pem = home.path().join("corp.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    for command in [
        ["logout", "--no-revoke"].as_slice(),
        &["login", "--no-browser"],
    ] {
        mcpgw(home.path(), command)
            .args(["--ca-cert", not_pem.to_str().unwrap()])
            .env("MCPGW_TOKEN_STORE", "file")
            .env("MCPGW_CLIENT_ID", "4103531455503354461")
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("corp.pem").and(predicate::str::contains("--ca-cert")),
            );
    }
}
