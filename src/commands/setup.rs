//! `mcpgw setup claude [SERVICE…] [--apply]`: the `claude mcp add` lines that
//! register configured services with Claude Code, printed, or run with `--apply`.
//!
//! `--apply` runs `claude` as a program with an argument list, never through a
//! shell, so nothing in a service name or path is interpreted. A server that is
//! already registered under the same `aliyun-<svc>` name is replaced (removed, then
//! added again) so re-running after moving the binary fixes the registration.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cli::is_command_name;
use crate::cli::{GlobalArgs, SetupCommand};
use crate::config::Config;
use crate::error::{CliError, CliResult, Context};
use crate::output::Out;

pub fn run(command: &SetupCommand, global: &GlobalArgs, config: &Config) -> CliResult {
    match command {
        SetupCommand::Claude { services, apply } => claude(services, *apply, global, config),
    }
}

/// One `claude mcp add` invocation: the server name and the arguments after `claude`.
#[derive(Debug)]
struct Registration {
    server: String,
    args: Vec<OsString>,
}

fn claude(requested: &[String], apply: bool, global: &GlobalArgs, config: &Config) -> CliResult {
    let services = pick_services(requested, config)?;
    let exe = mcpgw_path()?;
    let registrations: Vec<Registration> = services
        .iter()
        .map(|service| registration(service, &exe, global))
        .collect();

    if !apply {
        let mut out = Out::default();
        for registration in &registrations {
            writeln!(out, "claude {}", shell_line(&registration.args))?;
        }
        out.print()?;
        eprintln!("mcpgw: run these lines, or `mcpgw setup claude --apply` to run them for you");
        return Ok(());
    }

    let claude = find_on_path("claude").ok_or_else(|| {
        CliError::user("`claude` (Claude Code) is not on PATH")
            .with_hint("install Claude Code, or run the lines `mcpgw setup claude` prints in the right environment")
    })?;
    let mut failed = 0;
    let mut out = Out::default();
    for registration in &registrations {
        match apply_one(&claude, registration) {
            Ok(replaced) => {
                let verb = if replaced { "replaced" } else { "added" };
                writeln!(
                    out,
                    "✓ {}: {verb} (mcpgw {})",
                    registration.server,
                    last_arg(registration)
                )?;
            }
            Err(err) => {
                failed += 1;
                writeln!(out, "✗ {}: {err}", registration.server)?;
            }
        }
    }
    if failed > 0 {
        out.print()?;
        return Err(CliError::user(format!(
            "{failed} of {} registrations failed",
            registrations.len()
        ))
        .with_hint(
            "run the failing `claude mcp add` line by hand to see Claude Code's full message",
        ));
    }
    writeln!(
        out,
        "Restart Claude Code (or run `/mcp` in it) to pick up the servers; `claude mcp list` checks them."
    )?;
    Ok(out.print()?)
}

fn last_arg(registration: &Registration) -> String {
    registration
        .args
        .last()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn pick_services(requested: &[String], config: &Config) -> Result<Vec<String>, CliError> {
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
            .with_hint(
                "add it first: `mcpgw services add NAME URL`, then `mcpgw setup claude NAME`",
            ));
        }
        if !config.services.contains_key(name) {
            // resolve_service's error lists the aliases and says how to add one.
            config.resolve_service(name, true)?;
        }
    }
    Ok(requested.to_vec())
}

fn registration(service: &str, exe: &Path, global: &GlobalArgs) -> Registration {
    let server = format!("aliyun-{}", sanitize(service));
    let mut args: Vec<OsString> = ["mcp", "add", "--scope", "user", &server, "--"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(exe.as_os_str().to_owned());
    // Claude Code starts the relay in its own environment: carry the choices made here.
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
    Registration { server, args }
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

/// Runs one registration; `Ok(true)` when an existing server was replaced.
fn apply_one(claude: &Path, registration: &Registration) -> Result<bool, ClaudeFailed> {
    let (ok, message) = run_claude(claude, &registration.args)?;
    if ok {
        return Ok(false);
    }
    if !message.contains("already exists") {
        return Err(ClaudeFailed::Refused(message));
    }
    let remove: Vec<OsString> = ["mcp", "remove", "--scope", "user", &registration.server]
        .iter()
        .map(OsString::from)
        .collect();
    let (removed, message) = run_claude(claude, &remove)?;
    if !removed {
        return Err(ClaudeFailed::Refused(format!(
            "cannot replace the existing registration: {message}"
        )));
    }
    let (ok, message) = run_claude(claude, &registration.args)?;
    if ok {
        Ok(true)
    } else {
        Err(ClaudeFailed::Refused(message))
    }
}

/// Why one registration did not go through.
#[derive(Debug, thiserror::Error)]
enum ClaudeFailed {
    #[error("cannot run {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Claude Code's own message.
    #[error("{0}")]
    Refused(String),
}

/// Runs `claude ARGS` (no shell, no stdin); returns success and its output, trimmed.
fn run_claude(claude: &Path, args: &[OsString]) -> Result<(bool, String), ClaudeFailed> {
    let output = Command::new(claude)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ClaudeFailed::Spawn {
            path: claude.to_owned(),
            source,
        })?;
    let mut message = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(stdout.trim());
    }
    if message.is_empty() {
        message = format!("claude exited with {}", output.status);
    }
    Ok((output.status.success(), message))
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
    use crate::cli::Site;

    #[test]
    fn registration_carries_profile_config_and_site() {
        let global = GlobalArgs {
            profile: "work".into(),
            config: Some(PathBuf::from("/etc/mcpgw.json")),
            site: Some(Site::Cn),
            ..Default::default()
        };
        let r = registration("ecs", Path::new("/opt/my tools/mcpgw"), &global);
        assert_eq!(r.server, "aliyun-ecs");
        assert_eq!(
            format!("claude {}", shell_line(&r.args)),
            "claude mcp add --scope user aliyun-ecs -- '/opt/my tools/mcpgw' --profile work --config /etc/mcpgw.json --site cn ecs"
        );
    }

    #[test]
    fn default_profile_is_the_plain_line_and_command_names_use_relay() {
        let global = GlobalArgs {
            profile: "default".into(),
            ..Default::default()
        };
        let r = registration("ecs", Path::new("/home/u/.local/bin/mcpgw"), &global);
        assert_eq!(
            shell_line(&r.args),
            "mcp add --scope user aliyun-ecs -- /home/u/.local/bin/mcpgw ecs"
        );
        let r = registration("status", Path::new("/b/mcpgw"), &global);
        assert_eq!(
            shell_line(&r.args),
            "mcp add --scope user aliyun-status -- /b/mcpgw relay status"
        );
        assert_eq!(sanitize("a.b c"), "a-b-c");
    }

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
