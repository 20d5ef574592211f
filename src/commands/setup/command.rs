//! Clients with their own `mcp add` command: Claude Code, Gemini CLI, Codex.
//! Their command writes the client's configuration in the client's own format,
//! so mcpgw runs it (as a program with an argument list, never through a shell)
//! rather than editing the file itself.
//!
//! Replacing: Claude Code refuses a name that exists, so the old one is removed
//! and the server added again; `gemini mcp add` and `codex mcp add` replace an
//! entry of the same name themselves.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Launch, find_on_path, shell_line};
use crate::cli::SetupArgs;
use crate::error::{CliError, CliResult};
use crate::output::Out;

pub struct CommandClient {
    /// `mcpgw setup NAME`.
    pub setup_name: &'static str,
    /// The program on PATH.
    pub program: &'static str,
    pub title: &'static str,
    /// The arguments (after the program) that register one server.
    add: fn(&Launch) -> Vec<OsString>,
    /// The arguments that remove one, when `add` refuses an existing name.
    remove: Option<fn(&str) -> Vec<OsString>>,
    /// What to do after registering.
    next: &'static str,
}

pub static CLAUDE: CommandClient = CommandClient {
    setup_name: "claude",
    program: "claude",
    title: "Claude Code",
    add: |launch| {
        let mut args = os(&["mcp", "add", "--scope", "user", &launch.server, "--"]);
        args.push(launch.program.clone().into_os_string());
        args.extend(launch.args.iter().cloned());
        args
    },
    remove: Some(|server| os(&["mcp", "remove", "--scope", "user", server])),
    next: "Restart Claude Code (or run `/mcp` in it) to pick up the servers; `claude mcp list` checks them.",
};

/// `gemini mcp add --scope user NAME COMMAND -- ARGS…` (the `--` keeps mcpgw's
/// own options such as `--profile` away from Gemini's option parser).
pub static GEMINI: CommandClient = CommandClient {
    setup_name: "gemini",
    program: "gemini",
    title: "Gemini CLI",
    add: |launch| {
        let mut args = os(&["mcp", "add", "--scope", "user", &launch.server]);
        args.push(launch.program.clone().into_os_string());
        args.push("--".into());
        args.extend(launch.args.iter().cloned());
        args
    },
    remove: None,
    next: "Restart Gemini CLI to pick up the servers; `gemini mcp list` checks them.",
};

pub static CODEX: CommandClient = CommandClient {
    setup_name: "codex",
    program: "codex",
    title: "Codex",
    add: |launch| {
        let mut args = os(&["mcp", "add", &launch.server, "--"]);
        args.push(launch.program.clone().into_os_string());
        args.extend(launch.args.iter().cloned());
        args
    },
    remove: None,
    next: "Start a new Codex session to pick up the servers; `codex mcp list` shows them.",
};

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

pub fn run(client: &CommandClient, launches: &[Launch], args: &SetupArgs) -> CliResult {
    if !args.apply {
        let mut out = Out::default();
        for launch in launches {
            writeln!(
                out,
                "{} {}",
                client.program,
                shell_line(&(client.add)(launch))
            )?;
        }
        out.print()?;
        eprintln!(
            "mcpgw: run these lines, or `mcpgw setup {} --apply` to run them for you",
            client.setup_name
        );
        return Ok(());
    }

    let program = find_on_path(client.program).ok_or_else(|| {
        CliError::user(format!(
            "`{}` ({}) is not on PATH",
            client.program, client.title
        ))
        .with_hint(format!(
            "install {}, or run the lines `mcpgw setup {}` prints in the right environment",
            client.title, client.setup_name
        ))
    })?;
    let mut failed = 0;
    let mut out = Out::default();
    for launch in launches {
        match apply_one(client, &program, launch) {
            Ok(verb) => writeln!(
                out,
                "✓ {}: {verb} (mcpgw {})",
                launch.server,
                launch.service()
            )?,
            Err(err) => {
                failed += 1;
                writeln!(out, "✗ {}: {err}", launch.server)?;
            }
        }
    }
    if failed > 0 {
        out.print()?;
        return Err(CliError::user(format!(
            "{failed} of {} registrations failed",
            launches.len()
        ))
        .with_hint(format!(
            "run the failing `{} mcp add` line by hand to see {}'s full message",
            client.program, client.title
        )));
    }
    writeln!(out, "{}", client.next)?;
    Ok(out.print()?)
}

/// Runs one registration; says whether it added or replaced a server.
fn apply_one(
    client: &CommandClient,
    program: &Path,
    launch: &Launch,
) -> Result<&'static str, Failed> {
    let add = (client.add)(launch);
    let (ok, message) = run_program(program, &add)?;
    if ok {
        // Gemini CLI says "... updated in user settings" when it replaced one.
        return Ok(if message.contains("updated") {
            "replaced"
        } else {
            "added"
        });
    }
    let Some(remove) = client.remove.filter(|_| message.contains("already exists")) else {
        return Err(Failed::Refused(message));
    };
    let (removed, message) = run_program(program, &remove(&launch.server))?;
    if !removed {
        return Err(Failed::Refused(format!(
            "cannot replace the existing registration: {message}"
        )));
    }
    match run_program(program, &add)? {
        (true, _) => Ok("replaced"),
        (false, message) => Err(Failed::Refused(message)),
    }
}

/// Why one registration did not go through.
#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error("cannot run {path}: {source}")]
    Spawn {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The client's own message.
    #[error("{0}")]
    Refused(String),
}

/// Runs `program ARGS` (no shell, no stdin); returns success and its output, trimmed.
fn run_program(program: &Path, args: &[OsString]) -> Result<(bool, String), Failed> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Failed::Spawn {
            path: program.to_owned(),
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
        message = format!("{} exited with {}", program.display(), output.status);
    }
    Ok((output.status.success(), message))
}

#[cfg(test)]
mod tests {
    use super::super::launch;
    use super::*;
    use crate::cli::{GlobalArgs, Site};

    fn line(client: &CommandClient, launch: &Launch) -> String {
        format!("{} {}", client.program, shell_line(&(client.add)(launch)))
    }

    #[test]
    fn each_client_line_carries_profile_config_and_site() {
        let global = GlobalArgs {
            profile: "work".into(),
            config: Some(PathBuf::from("/etc/mcpgw.json")),
            site: Some(Site::Cn),
            ..Default::default()
        };
        let l = launch("ecs", Path::new("/opt/my tools/mcpgw"), &global);
        assert_eq!(l.server, "aliyun-ecs");
        let tail = "--profile work --config /etc/mcpgw.json --site cn ecs";
        assert_eq!(
            line(&CLAUDE, &l),
            format!("claude mcp add --scope user aliyun-ecs -- '/opt/my tools/mcpgw' {tail}")
        );
        assert_eq!(
            line(&GEMINI, &l),
            format!("gemini mcp add --scope user aliyun-ecs '/opt/my tools/mcpgw' -- {tail}")
        );
        assert_eq!(
            line(&CODEX, &l),
            format!("codex mcp add aliyun-ecs -- '/opt/my tools/mcpgw' {tail}")
        );
    }

    #[test]
    fn default_profile_is_the_plain_line_and_command_names_use_relay() {
        let global = GlobalArgs {
            profile: "default".into(),
            ..Default::default()
        };
        let l = launch("ecs", Path::new("/home/u/.local/bin/mcpgw"), &global);
        assert_eq!(
            line(&CLAUDE, &l),
            "claude mcp add --scope user aliyun-ecs -- /home/u/.local/bin/mcpgw ecs"
        );
        let l = launch("status", Path::new("/b/mcpgw"), &global);
        assert_eq!(
            line(&CODEX, &l),
            "codex mcp add aliyun-status -- /b/mcpgw relay status"
        );
        assert_eq!(super::super::sanitize("a.b c"), "a-b-c");
    }
}
