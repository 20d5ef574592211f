//! `mcpgw setup CLIENT` for the clients other than Claude Code (tooling.rs has
//! those tests): the file-configured clients (Cursor, VS Code, Claude Desktop,
//! Windsurf), read back and parsed the way their documentation describes, and
//! Gemini CLI and Codex for real (tests/peers/clients, installed by
//! tests/peers/install.sh), whose own `mcp list`/`get` read what was registered.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use tempfile::TempDir;

use super::shell::{assert_stderr_has, write_config};
use crate::isolated_command;
use crate::server::{TOKEN, TestServer};
use crate::{assert_exit, text};

fn mcpgw(home: &Path, args: &[&str]) -> Output {
    isolated_command(home).args(args).output().unwrap()
}

fn bin() -> String {
    crate::mcpgw_bin().to_str().unwrap().to_owned()
}

/// A JSONC file's value (VS Code's mcp.json takes comments and trailing commas).
fn jsonc(text: &str) -> Value {
    use jsonc_parser::ParseOptions;
    use jsonc_parser::cst::CstRootNode;
    CstRootNode::parse(text, &ParseOptions::default())
        .unwrap()
        .value()
        .unwrap()
        .to_serde_value()
        .unwrap()
}

#[test]
fn setup_cursor_prints_then_applies_keeping_the_other_servers() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": "https://openapi-mcp.cn-hangzhou.aliyuncs.com/id/x/mcp", "status": "/id/y/mcp"}),
    );
    let file = home.path().join(".cursor/mcp.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let original = "{\n  \"mcpServers\": {\n    \"github\": { \"url\": \"https://api.githubcopilot.com/mcp/\" }\n  },\n  \"other\": 1\n}\n";
    std::fs::write(&file, original).unwrap();

    let out = mcpgw(home.path(), &["setup", "cursor"]);
    assert_exit(&out, 0);
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with(&format!("{} (Cursor):\n", file.display())),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "would add \"aliyun-ecs\": {}",
            json!({"command": bin(), "args": ["ecs"]})
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "would add \"aliyun-status\": {}",
            json!({"command": bin(), "args": ["relay", "status"]})
        )),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "nothing written"
    );

    let out = mcpgw(home.path(), &["setup", "cursor", "ecs", "--apply"]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: added (mcpgw ecs)"),
        "{}",
        text(&out.stdout)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("{\n  \"mcpServers\": {\n    \"github\": { \"url\": \"https://api.githubcopilot.com/mcp/\" },\n"),
        "the user's entry and layout are kept:\n{written}"
    );
    let value: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        value,
        json!({"mcpServers": {
            "github": {"url": "https://api.githubcopilot.com/mcp/"},
            "aliyun-ecs": {"command": bin(), "args": ["ecs"]}
        }, "other": 1})
    );

    // Idempotent, and an older mcpgw entry (another path, other flags) is replaced.
    let out = mcpgw(home.path(), &["setup", "cursor", "ecs", "--apply"]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("already up to date"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    let out = mcpgw(
        home.path(),
        &["--profile", "work", "setup", "cursor", "ecs", "--apply"],
    );
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: replaced"),
        "{}",
        text(&out.stdout)
    );
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        value["mcpServers"]["aliyun-ecs"]["args"],
        json!(["--profile", "work", "ecs"])
    );
    assert_eq!(
        value["mcpServers"]["github"]["url"],
        "https://api.githubcopilot.com/mcp/"
    );
}

#[test]
fn setup_vscode_writes_servers_with_type_stdio_and_keeps_comments() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": "https://openapi-mcp.cn-hangzhou.aliyuncs.com/id/x/mcp"}),
    );
    // isolated_command sets XDG_CONFIG_HOME=HOME/.config: VS Code's user dir on Linux.
    let file = home.path().join(".config/Code/User/mcp.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "{\n\t// added by hand\n\t\"servers\": {\n\t\t\"memory\": {\"command\": \"npx\", \"args\": [\"-y\", \"@modelcontextprotocol/server-memory\"]},\n\t},\n\t\"inputs\": [],\n}\n",
    )
    .unwrap();
    let out = mcpgw(home.path(), &["setup", "vscode", "--apply"]);
    assert_exit(&out, 0);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.contains("// added by hand"), "{written}");
    let value = jsonc(&written);
    assert_eq!(
        value["servers"]["aliyun-ecs"],
        json!({"type": "stdio", "command": bin(), "args": ["ecs"]})
    );
    assert_eq!(value["servers"]["memory"]["command"], "npx");
    assert_eq!(value["inputs"], json!([]));
}

#[test]
fn setup_claude_desktop_and_windsurf_write_their_own_files() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": "https://openapi-mcp.cn-hangzhou.aliyuncs.com/id/x/mcp"}),
    );
    for (client, file) in [
        // Linux has no official Claude Desktop; its config dir is the XDG one.
        (
            "claude-desktop",
            ".config/Claude/claude_desktop_config.json",
        ),
        ("windsurf", ".codeium/windsurf/mcp_config.json"),
    ] {
        let out = mcpgw(home.path(), &["setup", client, "--apply"]);
        assert_exit(&out, 0);
        let value: Value =
            serde_json::from_str(&std::fs::read_to_string(home.path().join(file)).unwrap())
                .unwrap();
        assert_eq!(
            value,
            json!({"mcpServers": {"aliyun-ecs": {"command": bin(), "args": ["ecs"]}}}),
            "{client}"
        );
    }
}

#[test]
fn setup_files_refuse_what_they_cannot_safely_edit() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": "https://openapi-mcp.cn-hangzhou.aliyuncs.com/id/x/mcp"}),
    );
    let file = home.path().join("elsewhere/mcp.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();

    // Someone else's server under the same name is left alone.
    let theirs = r#"{"mcpServers": {"aliyun-ecs": {"command": "node", "args": ["ecs.js"]}}}"#;
    std::fs::write(&file, theirs).unwrap();
    let out = mcpgw(
        home.path(),
        &[
            "setup",
            "cursor",
            "--apply",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 1);
    assert_stderr_has(&out, "does not run mcpgw");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), theirs);

    // A file that is not JSON is not rewritten.
    std::fs::write(&file, "{ not json").unwrap();
    let out = mcpgw(
        home.path(),
        &[
            "setup",
            "windsurf",
            "--apply",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert_exit(&out, 1);
    assert_stderr_has(&out, "is not valid JSON");
    assert_stderr_has(&out, "fix it first");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{ not json");

    // --file is for file clients only.
    let out = mcpgw(home.path(), &["setup", "codex", "--file", "x.toml"]);
    assert_exit(&out, 2);
    assert_stderr_has(&out, "--file is for clients set up by editing a file");
}

#[test]
fn setup_gemini_and_codex_print_their_own_mcp_add_lines() {
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": "https://openapi-mcp.cn-hangzhou.aliyuncs.com/id/x/mcp"}),
    );
    let out = mcpgw(home.path(), &["--profile", "work", "setup", "gemini"]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!(
            "gemini mcp add --scope user aliyun-ecs {} -- --profile work ecs\n",
            bin()
        )
    );
    let out = mcpgw(home.path(), &["setup", "codex"]);
    assert_exit(&out, 0);
    assert_eq!(
        text(&out.stdout),
        format!("codex mcp add aliyun-ecs -- {} ecs\n", bin())
    );
}

/// tests/peers/clients/node_modules/.bin/NAME, or a failure saying how to get it.
fn client_bin(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/peers/clients/node_modules/.bin")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `sh tests/peers/install.sh` (installs Gemini CLI and Codex into tests/peers/clients)",
        path.display()
    );
    path
}

/// Runs a real client with the private HOME, offline settings and `mcpgw` able
/// to reach the test upstream with the test token.
async fn run_client(program: &Path, home: &Path, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("MCPGW_BEARER_TOKEN", TOKEN)
        // Gemini CLI starts user-level servers only in a trusted folder.
        .env("GEMINI_CLI_TRUST_WORKSPACE", "true")
        .env("NO_UPDATE_NOTIFIER", "1")
        .env_remove("MCPGW_CONFIG")
        .env_remove("MCPGW_PROFILE")
        .kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("the client finished within 120 s")
        .unwrap()
}

async fn setup_apply(home: &Path, client: &str, bin_dir: &Path, extra: &[&str]) -> Output {
    let mut setup = isolated_command(home);
    setup.args(extra).args(["setup", client, "--apply"]).env(
        "PATH",
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    tokio::process::Command::from(setup).output().await.unwrap()
}

/// `gemini mcp list` starts every server and reports whether it connected: here it
/// runs the registered `mcpgw ecs`, which reaches the loopback upstream.
#[tokio::test]
async fn setup_gemini_with_the_real_gemini_cli() {
    let gemini = client_bin("gemini");
    let upstream = TestServer::start().await;
    let home = TempDir::new().unwrap();
    write_config(home.path(), json!({"ecs": upstream.url()}));
    let out = setup_apply(home.path(), "gemini", gemini.parent().unwrap(), &[]).await;
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: added"),
        "{}",
        text(&out.stdout)
    );
    let out = setup_apply(home.path(), "gemini", gemini.parent().unwrap(), &[]).await;
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("✓ aliyun-ecs: replaced"),
        "{}",
        text(&out.stdout)
    );

    let settings_file = home.path().join(".gemini/settings.json");
    let mut settings: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_file).unwrap()).unwrap();
    assert_eq!(settings["mcpServers"]["aliyun-ecs"]["command"], bin());
    assert_eq!(settings["mcpServers"]["aliyun-ecs"]["args"], json!(["ecs"]));
    // Gemini CLI keeps variables that look like secrets (…TOKEN…) from MCP servers
    // unless the server's `env` names them (README, Client setup); the test's
    // login is such a variable, where a user's is in the keychain.
    settings["mcpServers"]["aliyun-ecs"]["env"] = json!({"MCPGW_BEARER_TOKEN": TOKEN});
    std::fs::write(&settings_file, settings.to_string()).unwrap();

    let out = run_client(&gemini, home.path(), &["mcp", "list"]).await;
    let listed = text(&out.stdout) + &text(&out.stderr);
    assert!(
        listed.contains("aliyun-ecs")
            && listed.contains("Connected")
            && !listed.contains("Disconnected"),
        "{listed}"
    );
    assert!(
        !upstream.rpcs("initialize").is_empty(),
        "gemini reached the upstream through mcpgw"
    );
}

/// `codex mcp get --json` reads back what `codex mcp add` wrote to config.toml.
#[tokio::test]
async fn setup_codex_with_the_real_codex() {
    let codex = client_bin("codex");
    let home = TempDir::new().unwrap();
    write_config(
        home.path(),
        json!({"ecs": "https://openapi-mcp.cn-hangzhou.aliyuncs.com/id/x/mcp", "status": "/id/y/mcp"}),
    );
    let out = setup_apply(home.path(), "codex", codex.parent().unwrap(), &[]).await;
    assert_exit(&out, 0);
    // Again with another profile: the entry is replaced, not duplicated.
    let out = setup_apply(
        home.path(),
        "codex",
        codex.parent().unwrap(),
        &["--profile", "work"],
    )
    .await;
    assert_exit(&out, 0);

    let out = run_client(&codex, home.path(), &["mcp", "get", "aliyun-ecs", "--json"]).await;
    assert_exit(&out, 0);
    let entry: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(entry["transport"]["type"], "stdio");
    assert_eq!(entry["transport"]["command"], bin());
    assert_eq!(
        entry["transport"]["args"],
        json!(["--profile", "work", "ecs"])
    );
    let out = run_client(
        &codex,
        home.path(),
        &["mcp", "get", "aliyun-status", "--json"],
    )
    .await;
    assert_exit(&out, 0);
    let entry: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        entry["transport"]["args"],
        json!(["--profile", "work", "relay", "status"])
    );

    let out = run_client(&codex, home.path(), &["mcp", "list"]).await;
    let listed = text(&out.stdout);
    assert_eq!(listed.matches("aliyun-ecs").count(), 1, "{listed}");
    let toml = std::fs::read_to_string(home.path().join(".codex/config.toml")).unwrap();
    assert_eq!(
        toml.matches("[mcp_servers.aliyun-ecs]").count(),
        1,
        "{toml}"
    );
}
