//! Clients configured by a JSON file: Cursor, VS Code, Claude Desktop, Windsurf.
//!
//! The file is edited through jsonc-parser's concrete syntax tree, as `services
//! add` edits config.json: only the `aliyun-<svc>` entries change; other servers,
//! keys, comments (VS Code's mcp.json is JSONC), order and indentation stay as
//! they were. Without `--apply` nothing is written. An entry of the same name is
//! replaced only when it runs mcpgw; someone else's server is left alone.

use std::io::Write;
use std::path::{Path, PathBuf};

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstInputValue, CstRootNode};
use serde_json::{Value, json};

use super::Launch;
use crate::cli::SetupArgs;
use crate::error::{CliError, CliResult, Context};
use crate::output::Out;

pub struct FileClient {
    /// `mcpgw setup NAME`.
    pub setup_name: &'static str,
    pub title: &'static str,
    /// The user-level file, from the home or the platform's config directory.
    path: fn(&directories::BaseDirs) -> PathBuf,
    /// The object that maps server names to servers.
    key: &'static str,
    /// Entries say `"type": "stdio"` (VS Code's format).
    typed: bool,
    /// The client reads comments and trailing commas (JSONC).
    jsonc: bool,
    next: &'static str,
}

pub static CURSOR: FileClient = FileClient {
    setup_name: "cursor",
    title: "Cursor",
    path: |dirs| dirs.home_dir().join(".cursor/mcp.json"),
    key: "mcpServers",
    typed: false,
    jsonc: false,
    next: "Cursor picks up the change by itself (Settings → MCP shows the servers).",
};

pub static VSCODE: FileClient = FileClient {
    setup_name: "vscode",
    title: "VS Code",
    // Linux ~/.config/Code/User, macOS ~/Library/Application Support/Code/User,
    // Windows %APPDATA%\Code\User.
    path: |dirs| dirs.config_dir().join("Code").join("User").join("mcp.json"),
    key: "servers",
    typed: true,
    jsonc: true,
    next: "VS Code picks up the change (Command Palette → MCP: List Servers shows them).",
};

pub static CLAUDE_DESKTOP: FileClient = FileClient {
    setup_name: "claude-desktop",
    title: "Claude Desktop",
    // macOS ~/Library/Application Support/Claude, Windows %APPDATA%\Claude
    // (Linux has no official build; ~/.config/Claude is where unofficial ones look).
    path: |dirs| {
        dirs.config_dir()
            .join("Claude")
            .join("claude_desktop_config.json")
    },
    key: "mcpServers",
    typed: false,
    jsonc: false,
    next: "Quit and restart Claude Desktop to pick up the servers.",
};

pub static WINDSURF: FileClient = FileClient {
    setup_name: "windsurf",
    title: "Windsurf",
    path: |dirs| dirs.home_dir().join(".codeium/windsurf/mcp_config.json"),
    key: "mcpServers",
    typed: false,
    jsonc: false,
    next: "Press Refresh in Windsurf's MCP panel (Cascade → MCP servers) to pick up the servers.",
};

/// What happens to one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Add,
    Replace,
    Unchanged,
}

pub fn run(client: &FileClient, launches: &[Launch], args: &SetupArgs) -> CliResult {
    let path = match &args.file {
        Some(path) => path.clone(),
        None => {
            let dirs = directories::BaseDirs::new().ok_or_else(|| {
                CliError::user("cannot find your home directory")
                    .with_hint("set HOME, or give the file with --file PATH")
            })?;
            (client.path)(&dirs)
        }
    };
    // Write through a symlink (dotfile managers) instead of replacing it.
    let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let original = match std::fs::read_to_string(&real) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => {
            return Err(CliError::user(format!("cannot read {}", path.display())).with_source(err));
        }
    };
    let (updated, changes) = edit(client, original.as_deref(), launches, &path)?;

    let mut out = Out::default();
    if !args.apply {
        writeln!(out, "{} ({}):", path.display(), client.title)?;
        for (launch, change) in launches.iter().zip(&changes) {
            let verb = match change {
                Change::Add => "would add",
                Change::Replace => "would replace",
                Change::Unchanged => "up to date",
            };
            let entry = serde_json::to_string(&entry(client, launch))?;
            writeln!(out, "  {verb} \"{}\": {entry}", launch.server)?;
        }
        out.print()?;
        if changes.iter().any(|c| *c != Change::Unchanged) {
            eprintln!(
                "mcpgw: nothing was written; `mcpgw setup {} --apply` writes these entries (the rest of the file stays as it is)",
                client.setup_name
            );
        }
        return Ok(());
    }
    if original.as_deref() != Some(updated.as_str()) {
        crate::fs::write_atomic(&real, updated.as_bytes(), crate::fs::Access::KeepExisting)
            .user_context(format!("cannot write {}", path.display()))?;
    }
    for (launch, change) in launches.iter().zip(&changes) {
        let verb = match change {
            Change::Add => "added",
            Change::Replace => "replaced",
            Change::Unchanged => "already up to date",
        };
        writeln!(
            out,
            "✓ {}: {verb} (mcpgw {}) in {}",
            launch.server,
            launch.service(),
            path.display()
        )?;
    }
    writeln!(out, "{}", client.next)?;
    Ok(out.print()?)
}

/// The server entry for one launch, in the client's format.
fn entry(client: &FileClient, launch: &Launch) -> Value {
    let mut entry = json!({
        "command": launch.program.to_string_lossy(),
        "args": launch.args_lossy(),
    });
    if client.typed {
        let mut typed = json!({"type": "stdio"});
        typed
            .as_object_mut()
            .expect("an object")
            .extend(entry.as_object_mut().expect("an object").clone());
        entry = typed;
    }
    entry
}

/// The file's new text and what changes for each launch. The file must be one
/// the client itself can read: mcpgw never rewrites a file it cannot parse.
fn edit(
    client: &FileClient,
    original: Option<&str>,
    launches: &[Launch],
    path: &Path,
) -> CliResult<(String, Vec<Change>)> {
    let text = original.filter(|t| !t.trim().is_empty()).unwrap_or("{}\n");
    let fix = "fix it first; mcpgw does not rewrite a file it cannot read";
    // The syntax tree takes comments and trailing commas; a strict-JSON client does not.
    if !client.jsonc
        && let Err(err) = serde_json::from_str::<Value>(text)
    {
        return Err(
            CliError::user(format!("{} is not valid JSON: {err}", path.display())).with_hint(fix),
        );
    }
    let root = CstRootNode::parse(text, &ParseOptions::default()).map_err(|err| {
        CliError::user(format!("{} cannot be parsed: {err}", path.display())).with_hint(fix)
    })?;
    let not_object = |what: &str| {
        CliError::user(format!("{what} in {} is not a JSON object", path.display())).with_hint(fix)
    };
    let top = root
        .object_value_or_create()
        .ok_or_else(|| not_object("the top level"))?;
    let servers = top
        .object_value_or_create(client.key)
        .ok_or_else(|| not_object(&format!("`{}`", client.key)))?;
    let mut changes = Vec::new();
    for launch in launches {
        let wanted = entry(client, launch);
        let change = match servers.get(&launch.server) {
            Some(prop) => {
                let existing = prop
                    .value()
                    .and_then(|v| v.to_serde_value())
                    .unwrap_or(Value::Null);
                if existing == wanted {
                    Change::Unchanged
                } else if runs_mcpgw(&existing) {
                    prop.set_value(input_value(&wanted));
                    Change::Replace
                } else {
                    return Err(CliError::user(format!(
                        "`{}` in {} is a server that does not run mcpgw; it is left alone",
                        launch.server,
                        path.display()
                    ))
                    .with_hint("rename or remove that entry, then run this again"));
                }
            }
            None => {
                servers.append(&launch.server, input_value(&wanted));
                Change::Add
            }
        };
        changes.push(change);
    }
    let mut updated = root.to_string();
    if !updated.ends_with('\n') && original.is_none_or(|t| t.ends_with('\n') || t.trim().is_empty())
    {
        updated.push('\n');
    }
    // A last guard against a broken edit: what we write must load.
    let loads = if client.jsonc {
        jsonc_value(&updated).is_some()
    } else {
        serde_json::from_str::<Value>(&updated).is_ok()
    };
    if !loads {
        return Err(CliError::internal(format!(
            "internal error: the edited {} would not be valid",
            path.display()
        )));
    }
    Ok((updated, changes))
}

/// An entry mcpgw wrote earlier: its command is an `mcpgw` binary (any path), or
/// it runs the Python package (`uvx --from aliyun-mcpgw mcpgw …`).
fn runs_mcpgw(entry: &Value) -> bool {
    let command = entry.get("command").and_then(Value::as_str).unwrap_or("");
    // Windows paths too, whatever this platform's separator.
    let file = command
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let stem = file.strip_suffix(".exe").unwrap_or(&file);
    let args = entry.get("args").and_then(Value::as_array);
    stem == "mcpgw"
        || args.is_some_and(|args| args.iter().any(|a| a.as_str() == Some("aliyun-mcpgw")))
}

/// A JSONC text's value (comments and trailing commas allowed).
fn jsonc_value(text: &str) -> Option<Value> {
    CstRootNode::parse(text, &ParseOptions::default())
        .ok()?
        .value()?
        .to_serde_value()
}

fn input_value(value: &Value) -> CstInputValue {
    match value {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(items) => CstInputValue::Array(items.iter().map(input_value).collect()),
        Value::Object(map) => CstInputValue::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), input_value(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn launch(service: &str, program: &str) -> Launch {
        Launch {
            server: format!("aliyun-{service}"),
            program: PathBuf::from(program),
            args: vec![OsString::from(service)],
        }
    }

    fn run_edit(
        client: &FileClient,
        text: Option<&str>,
        launches: &[Launch],
    ) -> CliResult<(String, Vec<Change>)> {
        edit(client, text, launches, Path::new("/x/mcp.json"))
    }

    #[test]
    fn a_missing_file_gets_the_client_format() {
        let (text, changes) = run_edit(&VSCODE, None, &[launch("ecs", "/bin/mcpgw")]).unwrap();
        assert_eq!(changes, [Change::Add]);
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"servers": {"aliyun-ecs": {"type": "stdio", "command": "/bin/mcpgw", "args": ["ecs"]}}})
        );
        let (text, _) = run_edit(&CURSOR, Some(""), &[launch("ecs", "/bin/mcpgw")]).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({"mcpServers": {"aliyun-ecs": {"command": "/bin/mcpgw", "args": ["ecs"]}}})
        );
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn other_entries_comments_and_layout_are_kept_and_old_mcpgw_entries_replaced() {
        let original = "{\n    // my servers\n    \"servers\": {\n        \"github\": {\"type\": \"http\", \"url\": \"https://x\"},\n        \"aliyun-ecs\": {\"type\": \"stdio\", \"command\": \"/old/place/mcpgw\", \"args\": [\"ecs\"]},\n    },\n    \"inputs\": []\n}\n";
        let (text, changes) =
            run_edit(&VSCODE, Some(original), &[launch("ecs", "/new/mcpgw")]).unwrap();
        assert_eq!(changes, [Change::Replace]);
        assert!(text.starts_with("{\n    // my servers\n    \"servers\": {\n        \"github\": {\"type\": \"http\", \"url\": \"https://x\"},\n"), "{text}");
        assert!(text.contains("\"inputs\": []"), "{text}");
        let value = jsonc_value(&text).unwrap();
        assert_eq!(value["servers"]["aliyun-ecs"]["command"], "/new/mcpgw");
        assert_eq!(value["servers"]["github"]["url"], "https://x");
        let (again, changes) =
            run_edit(&VSCODE, Some(&text), &[launch("ecs", "/new/mcpgw")]).unwrap();
        assert_eq!((again, changes), (text, vec![Change::Unchanged]));
    }

    #[test]
    fn foreign_entries_and_unreadable_files_are_refused() {
        let theirs =
            r#"{"mcpServers": {"aliyun-ecs": {"command": "node", "args": ["server.js"]}}}"#;
        let err = run_edit(&CURSOR, Some(theirs), &[launch("ecs", "/bin/mcpgw")]).unwrap_err();
        assert!(
            err.message.contains("does not run mcpgw"),
            "{}",
            err.message
        );
        // Strict JSON clients do not read comments, so mcpgw does not accept them either.
        let err = run_edit(
            &CLAUDE_DESKTOP,
            Some("{// hi\n}"),
            &[launch("ecs", "/bin/mcpgw")],
        )
        .unwrap_err();
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        let err = run_edit(
            &WINDSURF,
            Some(r#"{"mcpServers": []}"#),
            &[launch("ecs", "/bin/mcpgw")],
        )
        .unwrap_err();
        assert!(err.message.contains("`mcpServers`"), "{}", err.message);
        let uvx = json!({"command": "uvx", "args": ["--from", "aliyun-mcpgw", "mcpgw", "ecs"]});
        assert!(runs_mcpgw(&uvx) && runs_mcpgw(&json!({"command": "C:\\bin\\MCPGW.exe"})));
    }
}
