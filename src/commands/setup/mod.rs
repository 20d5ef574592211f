//! `mcpgw setup CLIENT [SERVICE…] [--apply]`: registers configured services with
//! an MCP client, each in its own way:
//!
//! - clients with their own `mcp add` command (Claude Code, Gemini CLI, Codex):
//!   the commands are printed, or run with `--apply` (`command.rs`);
//! - clients configured by a JSON file (Cursor, VS Code, Claude Desktop,
//!   Windsurf): the entries are shown, or written with `--apply` (`file.rs`),
//!   keeping everything else in the file as it was.
//!
//! Every client gets the same server: `aliyun-<svc>` running this mcpgw with the
//! `--profile`, `--config` and `--site` given to `setup`. Re-running replaces the
//! older registration of the same name, so it is safe after moving the binary.

mod command;
mod file;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cli::is_command_name;
use crate::cli::{GlobalArgs, SetupCommand};
use crate::config::Config;
use crate::error::{CliError, CliResult, Context};

pub fn run(command: &SetupCommand, global: &GlobalArgs, config: &Config) -> CliResult {
    let (client, args) = match command {
        SetupCommand::Claude(args) => (Client::Command(&command::CLAUDE), args),
        SetupCommand::Gemini(args) => (Client::Command(&command::GEMINI), args),
        SetupCommand::Codex(args) => (Client::Command(&command::CODEX), args),
        SetupCommand::Cursor(args) => (Client::File(&file::CURSOR), args),
        SetupCommand::Vscode(args) => (Client::File(&file::VSCODE), args),
        SetupCommand::ClaudeDesktop(args) => (Client::File(&file::CLAUDE_DESKTOP), args),
        SetupCommand::Windsurf(args) => (Client::File(&file::WINDSURF), args),
    };
    let setup_name = match client {
        Client::Command(c) => c.setup_name,
        Client::File(f) => f.setup_name,
    };
    let services = pick_services(&args.services, config, setup_name)?;
    let exe = mcpgw_path()?;
    let launches: Vec<Launch> = services
        .iter()
        .map(|service| launch(service, &exe, global))
        .collect();
    match client {
        Client::Command(client) => {
            if args.file.is_some() {
                return Err(CliError::usage(format!(
                    "--file is for clients set up by editing a file; {} is set up with its own `mcp add` command",
                    client.title
                )));
            }
            command::run(client, &launches, args)
        }
        Client::File(client) => file::run(client, &launches, args),
    }
}

enum Client {
    Command(&'static command::CommandClient),
    File(&'static file::FileClient),
}

/// One server to register: its name in the client and the command that starts it.
#[derive(Debug, Clone)]
struct Launch {
    server: String,
    program: PathBuf,
    args: Vec<OsString>,
}

impl Launch {
    fn service(&self) -> String {
        self.args
            .last()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    fn args_lossy(&self) -> Vec<String> {
        self.args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }
}

fn pick_services(
    requested: &[String],
    config: &Config,
    setup_name: &str,
) -> Result<Vec<String>, CliError> {
    if requested.is_empty() {
        if config.services.is_empty() {
            return Err(CliError::user("no services are configured").with_hint(
                "add one first: `mcpgw services add NAME <URL from the Alibaba Cloud MCP console>`",
            ));
        }
        return Ok(config.services.keys().cloned().collect());
    }
    for name in requested {
        if name.contains("://") {
            return Err(CliError::usage(format!(
                "`{name}` is a URL; setup registers service aliases"
            ))
            .with_hint(format!(
                "add it first: `mcpgw services add NAME URL`, then `mcpgw setup {setup_name} NAME`"
            )));
        }
        if !config.services.contains_key(name) {
            // resolve_service's error lists the aliases and says how to add one.
            config.resolve_service(name, true)?;
        }
    }
    Ok(requested.to_vec())
}

fn launch(service: &str, exe: &Path, global: &GlobalArgs) -> Launch {
    let mut args: Vec<OsString> = Vec::new();
    // The client starts the relay in its own environment: carry the choices made here.
    if global.profile != "default" {
        args.extend(["--profile".into(), global.profile.clone().into()]);
    }
    if let Some(path) = &global.config {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        args.extend(["--config".into(), absolute.into_os_string()]);
    }
    if let Some(site) = global.site {
        args.extend(["--site".into(), site.as_str().into()]);
    }
    if is_command_name(service) {
        args.push("relay".into());
    }
    args.push(service.into());
    Launch {
        server: format!("aliyun-{}", sanitize(service)),
        program: exe.to_owned(),
        args,
    }
}

/// Claude Code server names: letters, digits, `-` and `_`.
fn sanitize(service: &str) -> String {
    service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// This binary's path. When `mcpgw` on PATH is this same file (e.g. a package
/// manager's symlink), that stable path is used, so an upgrade that moves the real
/// file does not break the registration.
fn mcpgw_path() -> CliResult<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the path of the running mcpgw")?;
    let real = std::fs::canonicalize(&exe).unwrap_or_else(|_| exe.clone());
    if let Some(on_path) = find_on_path("mcpgw")
        && std::fs::canonicalize(&on_path).is_ok_and(|p| p == real)
    {
        return Ok(on_path);
    }
    Ok(exe)
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let extensions: Vec<String> = if cfg!(windows) {
        std::env::var("PATHEXT")
            .unwrap_or_else(|_| ".EXE;.CMD;.BAT".into())
            .split(';')
            .map(str::to_owned)
            .collect()
    } else {
        vec![String::new()]
    };
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .find_map(|dir| {
            extensions
                .iter()
                .map(|ext| dir.join(format!("{program}{ext}")))
                .find(|candidate| is_executable(candidate))
        })
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// The arguments as one line a POSIX shell reads back unchanged.
fn shell_line(args: &[OsString]) -> String {
    args.iter()
        .map(|arg| shell_quote(&arg.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn quoting_round_trips_through_sh() {
        for arg in ["plain", "with space", "it's", "$HOME", "a\"b", "", "*"] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(arg)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), arg);
        }
    }
}
