//! Process tests of the tooling commands: `services`, `doctor`, `setup claude`,
//! `completions`. Each runs the real binary in a private HOME.

use crate::{assert_exit, text};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::isolated_command;
use crate::server::{TOKEN, TestServer};

const CONSOLE_URL: &str =
    "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1234567890/custom/ecs-ops/id/AbC123/mcp";

fn config_path(home: &Path) -> PathBuf {
    home.join(".config/mcpgw/config.json")
}

fn write_config(home: &Path, text: &str) {
    let path = config_path(home);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn mcpgw(home: &Path, args: &[&str]) -> Output {
    isolated_command(home)
        .args(args)
        .output()
        .expect("run mcpgw")
}

// ---- services ------------------------------------------------------------------

#[test]
fn services_add_list_remove_round_trip() {
    let home = TempDir::new().unwrap();
    let out = mcpgw(home.path(), &["services", "add", "ecs", CONSOLE_URL]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains(&format!("Added service `ecs`: {CONSOLE_URL}")));
    let written = std::fs::read_to_string(config_path(home.path())).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&written).unwrap(),
        json!({"mcpServer": {"services": {"ecs": CONSOLE_URL}}})
    );

    let out = mcpgw(
        home.path(),
        &["services", "add", "rds", "/accounts/1/custom/rds/id/x/mcp"],
    );
    assert_exit(&out, 0);
    let out = mcpgw(home.path(), &["services", "list", "--json"]);
    assert_exit(&out, 0);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let services = listed["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[0]["name"], "ecs");
    assert_eq!(services[0]["url"], CONSOLE_URL);
    assert_eq!(services[0]["source"], "config");
    // A path is joined to the default (intl) MCP base URL.
    assert_eq!(
        services[1]["url"],
        "https://openapi-mcp.ap-southeast-1.aliyuncs.com/accounts/1/custom/rds/id/x/mcp"
    );

    let out = mcpgw(home.path(), &["services", "list"]);
    let table = text(&out.stdout);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("ecs") && l.contains(CONSOLE_URL) && l.contains("config")),
        "{table}"
    );

    assert_exit(&mcpgw(home.path(), &["services", "remove", "rds"]), 0);
    let out = mcpgw(home.path(), &["services", "remove", "rds"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("no service `rds`"),
        "{}",
        text(&out.stderr)
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(config_path(home.path())).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({"mcpServer": {"services": {"ecs": CONSOLE_URL}}})
    );
}

#[test]
fn services_add_refuses_sse_and_offers_the_mcp_url() {
    let home = TempDir::new().unwrap();
    let sse = CONSOLE_URL.replace("/mcp", "/sse");
    let out = mcpgw(home.path(), &["services", "add", "ecs", &sse]);
    assert_exit(&out, 1);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("legacy HTTP+SSE"), "{stderr}");
    assert!(
        stderr.contains(&format!("hint: mcpgw services add ecs {CONSOLE_URL}")),
        "{stderr}"
    );
    assert!(!config_path(home.path()).exists(), "nothing is written");
}

#[test]
fn services_add_keeps_the_old_gateway_file_as_written() {
    let home = TempDir::new().unwrap();
    let old = "{\n  \"port\": 3000,\n  \"gatewayBaseUrl\": \"http://localhost:3000\",\n  \"oauth\": {\"clientId\": 4103531455503354461},\n  \"mcpServer\": {\n    \"baseUrl\": \"https://openapi-mcp.cn-hangzhou.aliyuncs.com\",\n    \"services\": {\n      \"ecs\": \"/accounts/1/custom/ecs/id/abc/mcp\"\n    }\n  }\n}\n";
    write_config(home.path(), old);
    let out = mcpgw(
        home.path(),
        &[
            "services",
            "add",
            "oss",
            "/accounts/1/custom/oss/id/def/mcp",
        ],
    );
    assert_exit(&out, 0);
    let expected = old.replace(
        "\"ecs\": \"/accounts/1/custom/ecs/id/abc/mcp\"",
        "\"ecs\": \"/accounts/1/custom/ecs/id/abc/mcp\",\n      \"oss\": \"/accounts/1/custom/oss/id/def/mcp\"",
    );
    assert_eq!(
        std::fs::read_to_string(config_path(home.path())).unwrap(),
        expected
    );
    // The old gateway's base URL applies to the new path.
    let out = mcpgw(home.path(), &["services", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed["services"][1]["url"],
        "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/1/custom/oss/id/def/mcp"
    );
}

#[test]
fn services_from_env_are_listed_and_not_removable() {
    let home = TempDir::new().unwrap();
    let out = isolated_command(home.path())
        .args(["services", "list", "--json"])
        .env("MCPGW_SERVICES", "oss=https://example.com/oss/mcp")
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["services"][0]["source"], "env");
    let out = isolated_command(home.path())
        .args(["services", "remove", "oss"])
        .env("MCPGW_SERVICES", "oss=https://example.com/oss/mcp")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("comes from MCPGW_SERVICES"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn services_add_with_a_profile_writes_its_section() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        "{\"mcpServer\": {\"services\": {\"ecs\": \"/top/mcp\"}}}\n",
    );
    let out = mcpgw(
        home.path(),
        &["--profile", "work", "services", "add", "ecs", "/work/mcp"],
    );
    assert_exit(&out, 0);
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(config_path(home.path())).unwrap()).unwrap();
    assert_eq!(written["mcpServer"]["services"]["ecs"], "/top/mcp");
    assert_eq!(
        written["profiles"]["work"]["mcpServer"]["services"]["ecs"],
        "/work/mcp"
    );
}

// ---- completions -----------------------------------------------------------------

#[test]
fn completions_match_the_committed_files_even_with_a_broken_config() {
    let home = TempDir::new().unwrap();
    write_config(home.path(), "{ not json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in [
        ("bash", "mcpgw.bash"),
        ("zsh", "_mcpgw"),
        ("fish", "mcpgw.fish"),
        ("powershell", "_mcpgw.ps1"),
        ("elvish", "mcpgw.elv"),
    ] {
        let out = mcpgw(home.path(), &["completions", shell]);
        assert_exit(&out, 0);
        let committed = std::fs::read(root.join("completions").join(file)).unwrap();
        assert!(
            out.stdout == committed,
            "completions/{file} differs from `mcpgw completions {shell}`"
        );
    }
    let out = mcpgw(home.path(), &["completions", "tcsh"]);
    assert_exit(&out, 2);
}

// ---- setup claude -------------------------------------------------------------------

#[test]
fn setup_claude_prints_one_line_per_service() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": CONSOLE_URL, "status": "/x/mcp"}}}).to_string(),
    );
    let out = mcpgw(home.path(), &["setup", "claude"]);
    assert_exit(&out, 0);
    let bin = crate::mcpgw_bin();
    let bin = bin.to_str().unwrap();
    assert_eq!(
        text(&out.stdout),
        format!(
            "claude mcp add --scope user aliyun-ecs -- {bin} ecs\nclaude mcp add --scope user aliyun-status -- {bin} relay status\n"
        )
    );
    let out = mcpgw(
        home.path(),
        &["--profile", "work", "setup", "claude", "ecs"],
    );
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!("claude mcp add --scope user aliyun-ecs -- {bin} --profile work ecs\n")
    );
    let out = mcpgw(home.path(), &["setup", "claude", "nope"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("unknown service `nope`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn setup_claude_without_services_or_claude_says_what_to_do() {
    let home = TempDir::new().unwrap();
    let out = mcpgw(home.path(), &["setup", "claude"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("mcpgw services add"),
        "{}",
        text(&out.stderr)
    );
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": CONSOLE_URL}}}).to_string(),
    );
    let empty = TempDir::new().unwrap();
    let out = isolated_command(home.path())
        .args(["setup", "claude", "--apply"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("`claude` (Claude Code) is not on PATH"),
        "{}",
        text(&out.stderr)
    );
}

/// A stand-in `claude` that logs its arguments and, like Claude Code, refuses to
/// add a name twice.
#[cfg(unix)]
fn fake_claude(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let script = r#"#!/bin/sh
printf '%s\n' "$*" >> "$FAKE_CLAUDE_DIR/log"
if [ "$1 $2" = "mcp add" ]; then
    if grep -qx "$5" "$FAKE_CLAUDE_DIR/registered" 2>/dev/null; then
        echo "MCP server $5 already exists in user config" >&2
        exit 1
    fi
    echo "$5" >> "$FAKE_CLAUDE_DIR/registered"
    echo "Added stdio MCP server $5"
elif [ "$1 $2" = "mcp remove" ]; then
    grep -vx "$5" "$FAKE_CLAUDE_DIR/registered" > "$FAKE_CLAUDE_DIR/r.tmp"
    mv "$FAKE_CLAUDE_DIR/r.tmp" "$FAKE_CLAUDE_DIR/registered"
fi
"#;
    let path = dir.join("claude");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn setup_claude_apply_runs_claude_without_a_shell_and_replaces() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": CONSOLE_URL}}}).to_string(),
    );
    let fake = TempDir::new().unwrap();
    fake_claude(fake.path());
    let path = format!("{}:/usr/bin:/bin", fake.path().display());
    let run = || {
        isolated_command(home.path())
            .args(["setup", "claude", "--apply"])
            .env("PATH", &path)
            .env("FAKE_CLAUDE_DIR", fake.path())
            .output()
            .unwrap()
    };
    let out = run();
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: added"),
        "{}",
        text(&out.stdout)
    );
    let out = run();
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: replaced"),
        "{}",
        text(&out.stdout)
    );
    let log = std::fs::read_to_string(fake.path().join("log")).unwrap();
    let bin = crate::mcpgw_bin();
    let add = format!("mcp add --scope user aliyun-ecs -- {} ecs", bin.display());
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            add.as_str(),
            add.as_str(),
            "mcp remove --scope user aliyun-ecs",
            add.as_str()
        ]
    );
}

// ---- doctor ------------------------------------------------------------------------

/// A token endpoint stand-in: GET answers 405 (with hyper's Date header); POST is
/// a refresh that hands out `fresh-token` and rotates the refresh token.
struct TokenEndpoint {
    url: String,
    forms: Arc<Mutex<Vec<String>>>,
    _task: tokio::task::JoinHandle<()>,
}

async fn token_endpoint() -> TokenEndpoint {
    use axum::routing::post;
    let forms = Arc::new(Mutex::new(Vec::new()));
    let seen = forms.clone();
    let app = axum::Router::new().route(
        "/token",
        post(move |body: String| {
            seen.lock().unwrap().push(body);
            async {
                axum::Json(json!({
                    "access_token": "fresh-token",
                    "token_type": "Bearer",
                    "expires_in": "3600",
                    "refresh_token": "refresh-2"
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TokenEndpoint {
        url,
        forms,
        _task: task,
    }
}

/// A redirect port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn doctor_command(
    home: &Path,
    token_endpoint: &str,
    redirect_port: u16,
) -> tokio::process::Command {
    let mut cmd = isolated_command(home);
    cmd.args(["doctor", "--json"])
        .env("MCPGW_CLIENT_ID", "4103531455503354461")
        .env("MCPGW_TOKEN_ENDPOINT", token_endpoint)
        .env(
            "MCPGW_REDIRECT_URI",
            format!("http://127.0.0.1:{redirect_port}/callback"),
        )
        .env("MCPGW_TOKEN_STORE", "file");
    tokio::process::Command::from(cmd)
}

fn checks(out: &Output) -> Value {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    report
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

#[tokio::test]
async fn doctor_passes_with_a_working_setup_and_an_env_token() {
    let upstream = TestServer::start().await;
    let tokens = token_endpoint().await;
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": upstream.url()}}}).to_string(),
    );
    let out = doctor_command(home.path(), &tokens.url, free_port())
        .env("MCPGW_BEARER_TOKEN", TOKEN)
        .output()
        .await
        .unwrap();
    let report = checks(&out);
    assert_exit(&out, 0);
    assert_eq!(report["ok"], true, "{report:#}");
    for id in [
        "config",
        "client_id",
        "redirect_port",
        "token_store",
        "login",
        "clock",
        "proxy",
    ] {
        assert_eq!(check(&report, id)["status"], "pass", "{id}: {report:#}");
    }
    let service = check(&report, "service:ecs");
    assert_eq!(service["status"], "pass", "{report:#}");
    assert!(
        service["detail"]
            .as_str()
            .unwrap()
            .contains("mcpgw-test-upstream"),
        "{service}"
    );
    // The probe was a real initialize with the token, and its session was closed.
    let init = &upstream.rpcs("initialize")[0];
    assert_eq!(
        init.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(
        upstream.live_sessions().is_empty(),
        "doctor ends the session it opened"
    );
    assert!(
        tokens.forms.lock().unwrap().is_empty(),
        "no refresh with an env token"
    );
}

#[tokio::test]
async fn doctor_reports_each_failure_with_a_fix() {
    let upstream = TestServer::start().await;
    let tokens = token_endpoint().await;
    let home = TempDir::new().unwrap();
    let dead = format!("http://127.0.0.1:{}/mcp", free_port());
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": upstream.url(), "gone": dead}}}).to_string(),
    );
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port();
    let out = doctor_command(home.path(), &tokens.url, busy_port)
        .env("MCPGW_BEARER_TOKEN", "wrong-token")
        .env("HTTPS_PROXY", "http://user:hunter2@proxy.invalid:3128")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .await
        .unwrap();
    assert_exit(&out, 1);
    let report = checks(&out);
    assert_eq!(report["ok"], false);
    let port = check(&report, "redirect_port");
    assert_eq!(port["status"], "fail");
    assert!(
        port["fix"].as_str().unwrap().contains("oauth.redirectUri"),
        "{port}"
    );
    let ecs = check(&report, "service:ecs");
    assert_eq!(ecs["status"], "fail");
    assert!(
        ecs["detail"]
            .as_str()
            .unwrap()
            .contains("rejected the token (HTTP 401"),
        "{ecs}"
    );
    assert!(
        ecs["fix"].as_str().unwrap().contains("mcpgw login"),
        "{ecs}"
    );
    let gone = check(&report, "service:gone");
    assert_eq!(gone["status"], "fail");
    assert!(
        gone["detail"].as_str().unwrap().contains("cannot reach"),
        "{gone}"
    );
    let proxy = check(&report, "proxy");
    assert!(
        proxy["detail"]
            .as_str()
            .unwrap()
            .contains("HTTPS_PROXY=http://user:****@proxy.invalid:3128"),
        "{proxy}"
    );
    assert!(!text(&out.stdout).contains("hunter2") && !text(&out.stderr).contains("wrong-token"));
    drop(busy);

    // Human output: ✓/✗ marks and fix lines.
    let mut cmd = isolated_command(home.path());
    cmd.args(["doctor"])
        .env("MCPGW_BEARER_TOKEN", "wrong-token")
        .env("MCPGW_TOKEN_ENDPOINT", &tokens.url);
    // Async: the upstreams run on this test's runtime.
    let out = tokio::process::Command::from(cmd).output().await.unwrap();
    assert_exit(&out, 1);
    let human = text(&out.stdout);
    assert!(
        human
            .lines()
            .any(|l| l.starts_with("✗ service ecs") && l.contains("HTTP 401")),
        "{human}"
    );
    assert!(human.lines().any(|l| l.starts_with("✓ clock")), "{human}");
    assert!(
        human.lines().any(|l| l.starts_with("✓ config file")),
        "{human}"
    );
    assert!(human.contains("    fix: "), "{human}");
}

#[tokio::test]
async fn doctor_refreshes_a_stale_stored_login() {
    let upstream = TestServer::builder()
        .token(Some("fresh-token"))
        .start()
        .await;
    let tokens = token_endpoint().await;
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": upstream.url()}}}).to_string(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let record_path = home.path().join(".local/share/mcpgw/tokens/default.json");
    std::fs::create_dir_all(record_path.parent().unwrap()).unwrap();
    let record = json!({
        "version": 1,
        "access_token": "stale-token",
        "refresh_token": "refresh-1",
        "expires_at": now - 120,
        "scope": "/acs/mcp-server",
        "site": "intl",
        "client_id": "4103531455503354461",
        "token_endpoint": tokens.url,
        "obtained_at": now - 3720,
        "identity": {"name": "alice@example"}
    });
    std::fs::write(&record_path, record.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&record_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = doctor_command(home.path(), &tokens.url, free_port())
        .output()
        .await
        .unwrap();
    let report = checks(&out);
    assert_exit(&out, 0);
    assert!(
        check(&report, "login")["detail"]
            .as_str()
            .unwrap()
            .contains("logged in as alice@example"),
        "{report:#}"
    );
    assert!(
        check(&report, "token_valid")["detail"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{report:#}"
    );
    assert!(
        check(&report, "token_refresh")["detail"]
            .as_str()
            .unwrap()
            .contains("refreshed just now"),
        "{report:#}"
    );
    assert_eq!(
        check(&report, "service:ecs")["status"],
        "pass",
        "{report:#}"
    );
    let forms = tokens.forms.lock().unwrap().clone();
    assert_eq!(forms.len(), 1, "exactly one refresh: {forms:?}");
    assert!(
        forms[0].contains("grant_type=refresh_token")
            && forms[0].contains("refresh_token=refresh-1"),
        "{forms:?}"
    );
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).unwrap()).unwrap();
    assert_eq!(stored["access_token"], "fresh-token");
    assert_eq!(
        stored["refresh_token"], "refresh-2",
        "the rotated refresh token is kept"
    );
}

#[test]
fn doctor_reports_a_broken_config_file() {
    let home = TempDir::new().unwrap();
    write_config(home.path(), "{ not json");
    let out = mcpgw(home.path(), &["doctor"]);
    assert_exit(&out, 1);
    let human = text(&out.stdout);
    assert!(human.starts_with("✗ config file"), "{human}");
    assert!(human.contains("fix: "), "{human}");
}

#[test]
fn doctor_without_a_login_says_to_log_in() {
    let home = TempDir::new().unwrap();
    let out = isolated_command(home.path())
        .args(["doctor", "--json"])
        .env("MCPGW_TOKEN_STORE", "file")
        .env("MCPGW_TOKEN_ENDPOINT", "http://127.0.0.1:9/token")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let report = checks(&out);
    let login = check(&report, "login");
    assert_eq!(login["status"], "fail");
    assert_eq!(login["fix"], "mcpgw login");
    assert_eq!(check(&report, "client_id")["status"], "fail");
    assert!(
        check(&report, "client_id")["fix"]
            .as_str()
            .unwrap()
            .contains("NativeApp")
    );
    assert_eq!(check(&report, "services")["status"], "fail");
}

/// With the real Claude Code CLI (`MCPGW_CLAUDE_BIN`, else the copy
/// tests/peers/install.sh puts in tests/peers/claude): `setup claude --apply`
/// registers the service and `claude mcp list`'s health check starts `mcpgw` and
/// connects through it to the loopback upstream. Without either it fails and says
/// how to get it.
#[tokio::test]
async fn setup_claude_with_the_real_claude_code() {
    let peer =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/claude/node_modules/.bin/claude");
    let Some(claude) = std::env::var_os("MCPGW_CLAUDE_BIN")
        .map(PathBuf::from)
        .or_else(|| peer.exists().then_some(peer))
    else {
        panic!(
            "Claude Code is not installed: run `sh tests/peers/install.sh` (or set MCPGW_CLAUDE_BIN)"
        );
    };
    let upstream = TestServer::start().await;
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": upstream.url()}}}).to_string(),
    );
    let path = format!(
        "{}:{}",
        claude.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut setup = isolated_command(home.path());
    setup
        .args(["setup", "claude", "--apply"])
        .env("PATH", &path);
    let out = tokio::process::Command::from(setup).output().await.unwrap();
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: added"),
        "{}",
        text(&out.stdout)
    );

    let mut list = tokio::process::Command::new(&claude);
    list.args(["mcp", "list"])
        .env("HOME", home.path())
        .env("PATH", &path)
        .env("MCPGW_BEARER_TOKEN", TOKEN)
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env_remove("MCPGW_CONFIG")
        .env_remove("MCPGW_PROFILE");
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), list.output())
        .await
        .unwrap()
        .unwrap();
    let listed = text(&out.stdout);
    assert!(
        listed.contains("aliyun-ecs") && listed.contains("Connected"),
        "{listed}\n{}",
        text(&out.stderr)
    );
    assert!(
        !upstream.rpcs("initialize").is_empty(),
        "the health check reached the upstream through mcpgw"
    );
}

/// Runs the committed bash completion for the words of `line` (the last one is the
/// word being completed) and returns the candidates.
#[cfg(unix)]
fn bash_complete(home: &Path, bin_dir: &Path, line: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/mcpgw.bash");
    let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _mcpgw_with_aliases mcpgw \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" "),
        line.len() - 1
    );
    let mut cmd = std::process::Command::new("bash");
    crate::isolate(&mut cmd, home);
    let out = cmd
        .args(["--noprofile", "--norc", "-c", &program])
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(unix)]
#[test]
fn bash_completion_offers_service_aliases_where_a_service_goes() {
    assert!(
        std::process::Command::new("bash")
            .arg("--version")
            .output()
            .is_ok(),
        "this test needs bash on PATH (apt-get install bash)"
    );
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        &json!({"mcpServer": {"services": {"ecs": "/e/mcp", "oss": "/o/mcp"}},
                "profiles": {"work": {"mcpServer": {"services": {"rds": "/r/mcp"}}}}})
        .to_string(),
    );
    let bin_dir = TempDir::new().unwrap();
    std::os::unix::fs::symlink(crate::mcpgw_bin(), bin_dir.path().join("mcpgw")).unwrap();
    let first = bash_complete(home.path(), bin_dir.path(), &["mcpgw", ""]);
    for word in ["ecs", "oss", "relay", "services", "doctor"] {
        assert!(
            first.iter().any(|w| w == word),
            "{word} missing from {first:?}"
        );
    }
    assert!(
        !first.iter().any(|w| w.contains("SERVICE")),
        "placeholder left in {first:?}"
    );
    assert_eq!(
        bash_complete(home.path(), bin_dir.path(), &["mcpgw", "o"]),
        ["oss"]
    );
    assert_eq!(
        bash_complete(
            home.path(),
            bin_dir.path(),
            &["mcpgw", "services", "remove", "e"]
        ),
        ["ecs"]
    );
    assert_eq!(
        bash_complete(
            home.path(),
            bin_dir.path(),
            &["mcpgw", "setup", "claude", "ecs", "o"]
        ),
        ["oss"]
    );
    let work = bash_complete(
        home.path(),
        bin_dir.path(),
        &["mcpgw", "--profile", "work", "relay", ""],
    );
    assert!(
        work.iter().any(|w| w == "rds"),
        "the typed --profile is used: {work:?}"
    );
    let add = bash_complete(
        home.path(),
        bin_dir.path(),
        &["mcpgw", "services", "add", "e"],
    );
    assert!(
        !add.iter().any(|w| w == "ecs"),
        "no aliases where a new name goes: {add:?}"
    );
}

#[test]
fn services_add_creates_a_named_config_file() {
    let home = tempfile::TempDir::new().unwrap();
    let named = home.path().join("team.json");
    let named_arg = named.to_str().unwrap();
    let url = "https://openapi-mcp.cn-hangzhou.aliyuncs.com/accounts/7/custom/oss/id/q/mcp";
    let added = mcpgw(
        home.path(),
        &["--config", named_arg, "services", "add", "oss", url],
    );
    assert_exit(&added, 0);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&named).unwrap()).unwrap();
    assert_eq!(written["mcpServer"]["services"]["oss"], url);
    let listed = mcpgw(
        home.path(),
        &["--config", named_arg, "services", "list", "--json"],
    );
    assert_exit(&listed, 0);
    assert!(text(&listed.stdout).contains(url));
}
