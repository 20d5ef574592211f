//! The one clap definition of mcpgw's command line. Completions and the man page
//! are generated from [`Cli::command`], so every flag lives here.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{
    ArgAction, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};

const AFTER_HELP: &str = "\
Getting started:
  mcpgw login                     Sign in to Alibaba Cloud in the browser
  mcpgw services add ecs URL      Name an MCP server created in the Alibaba Cloud
                                  console (copy its Streamable HTTP URL, …/mcp)
  mcpgw setup claude --apply      Register every service with Claude Code
  mcpgw doctor                    Check configuration, login and every service

What an MCP client runs:
  mcpgw ecs                       Relay stdio to the `ecs` service
  mcpgw --read-only ecs           The same, exposing only read-only tools
  mcpgw https://openapi-mcp.ap-southeast-1.aliyuncs.com/accounts/1/custom/ecs/id/x/mcp
                                  Relay to a full URL instead of an alias

In relay mode stdout carries JSON-RPC only; logs go to stderr (-v, MCPGW_LOG).";

/// Bridge stdio MCP clients such as Claude Code to the Alibaba Cloud OpenAPI MCP
/// Server, signing requests with your Alibaba Cloud OAuth login.
#[derive(Parser, Debug)]
#[command(
    name = "mcpgw",
    version,
    after_help = AFTER_HELP,
    override_usage = "mcpgw [OPTIONS] <SERVICE>\n       mcpgw [OPTIONS] <COMMAND>",
    // A bare `mcpgw` shows the short help instead of one error line.
    arg_required_else_help = true,
    subcommand_help_heading = "Commands"
)]
pub struct Cli {
    /// Service alias from the configuration, or a full https:// URL of an MCP server.
    /// Runs the stdio relay (same as `mcpgw relay SERVICE`).
    #[arg(value_name = "SERVICE")]
    pub service: Option<String>,

    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub relay: RelayArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Login profile to use; each profile has its own tokens and may override settings
    #[arg(long, global = true, env = "MCPGW_PROFILE", default_value = "default")]
    pub profile: String,

    /// Configuration file [default: <config dir>/mcpgw/config.json]
    #[arg(long, global = true, env = "MCPGW_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Alibaba Cloud site whose OAuth and MCP endpoints are used [default: intl]
    #[arg(long, global = true, env = "MCPGW_SITE", value_enum)]
    pub site: Option<Site>,

    /// More log output on stderr (-v info, -vv debug, -vvv trace); MCPGW_LOG takes a
    /// tracing filter such as `mcpgw=debug`
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Also append logs to this file
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,

    /// Extra PEM CA certificate to trust for every HTTPS connection (e.g. a
    /// corporate TLS-inspecting proxy's root)
    #[arg(long, global = true, env = "MCPGW_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Site {
    /// International site (alibabacloud.com)
    Intl,
    /// China site (aliyun.com)
    Cn,
}

#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Relay options")]
pub struct RelayArgs {
    /// Bearer token to send instead of the stored login (prefer the env variable:
    /// arguments are visible to other local users)
    #[arg(
        long,
        env = "MCPGW_BEARER_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub bearer_token: Option<String>,

    /// Shell command that prints a bearer token on stdout; run again when the
    /// upstream rejects the token
    #[arg(long, env = "MCPGW_TOKEN_COMMAND", value_name = "CMD")]
    pub token_command: Option<String>,

    /// Allow a plain http:// upstream that is not on loopback
    #[arg(long)]
    pub allow_http: bool,

    /// Seconds one request may take upstream before it is answered with an error
    /// (0 = no limit)
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,

    /// Extra HTTP header for every upstream request, `Name: value`; `${VAR}` is
    /// expanded from the environment (repeatable)
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Only expose tools whose name matches this glob, e.g. 'Describe*'
    /// (repeatable; case-insensitive; `*`, `?`, `[ab]`, `{a,b}`)
    #[arg(long, value_name = "GLOB")]
    pub allow_tool: Vec<String>,

    /// Hide tools whose name matches this glob, e.g. 'Delete*' (repeatable; wins
    /// over --allow-tool)
    #[arg(long, value_name = "GLOB")]
    pub deny_tool: Vec<String>,

    /// Only expose tools that read: names starting with a read verb (Describe, List,
    /// Get, Query, Search, Check, ...) or tools annotated readOnlyHint
    #[arg(long)]
    pub read_only: bool,

    /// Never start a browser login from the relay; answer with an error instead
    #[arg(long, env = "MCPGW_NO_AUTO_LOGIN", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_auto_login: bool,

    /// Largest message accepted from the client or the server, e.g. 64MiB, 500KB,
    /// 1048576; a larger one is answered with an error and the relay goes on
    #[arg(
        long,
        env = "MCPGW_MAX_MESSAGE_SIZE",
        value_name = "SIZE",
        default_value = "64MiB",
        value_parser = parse_size
    )]
    pub max_message_size: usize,
}

/// Debug without the token: the parsed command line may be logged.
impl std::fmt::Debug for RelayArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayArgs")
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "****"))
            .field("token_command", &self.token_command)
            .field("allow_http", &self.allow_http)
            .field("timeout", &self.timeout)
            .field("headers", &self.headers.len())
            .field("allow_tool", &self.allow_tool)
            .field("deny_tool", &self.deny_tool)
            .field("read_only", &self.read_only)
            .field("no_auto_login", &self.no_auto_login)
            .field("max_message_size", &self.max_message_size)
            .finish()
    }
}

/// `64MiB`, `500KB`, `2G`, `1048576`: bytes, with an optional K/M/G suffix
/// (powers of 1024, with or without `i` and `B`).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 64MiB or 1048576"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(format!("unknown size unit `{other}` (use K, M or G)")),
    };
    let bytes = number
        .checked_mul(1 << shift)
        .and_then(|b| usize::try_from(b).ok())
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if bytes < 1024 {
        return Err(format!(
            "`{text}` is too small: messages need at least 1KiB"
        ));
    }
    Ok(bytes)
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the stdio relay for SERVICE (for aliases that share a command's name)
    Relay {
        /// Service alias or full https:// URL
        service: String,
        #[command(flatten)]
        relay: RelayArgs,
    },
    /// Sign in to Alibaba Cloud in the browser and store the tokens
    Login(LoginArgs),
    /// Show who is logged in, token expiry and configured services
    Status(StatusArgs),
    /// Revoke and delete the stored tokens
    Logout(LogoutArgs),
    /// List, add or remove service aliases
    #[command(subcommand)]
    Services(ServicesCommand),
    /// Check configuration, login, keychain and every service, with fixes
    Doctor(DoctorArgs),
    /// List the tools of SERVICE as an MCP client sees them through `mcpgw SERVICE`
    Tools(ToolsArgs),
    /// Call one tool of SERVICE and print its result
    Call(CallArgs),
    /// Register services with an MCP client (Claude Code, Cursor, VS Code, ...):
    /// prints what it would change, `--apply` does it
    #[command(subcommand)]
    Setup(SetupCommand),
    /// Print a shell completion script (install.sh installs them for you)
    Completions {
        /// Shell to complete for
        #[arg(value_enum)]
        shell: clap_complete_shell::Shell,
    },
}

/// Kept separate so the clap_complete dependency stays in completions.rs.
pub mod clap_complete_shell {
    #[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Shell {
        Bash,
        Zsh,
        Fish,
        Powershell,
        Elvish,
    }
}

#[derive(Args, Debug, Default)]
pub struct LoginArgs {
    /// Print the sign-in URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Paste the redirected URL (or code) back into the terminal; for SSH sessions.
    /// Chosen automatically when no display is available
    #[arg(long)]
    pub paste: bool,
    /// Seconds to wait for the browser to come back
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub timeout: u64,
    /// Redirect URI registered on the OAuth app (loopback http only)
    #[arg(long, env = "MCPGW_REDIRECT_URI", value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// Started by a relay that has no usable login: waits for any other login,
    /// never reads the terminal, reports progress on stdout one word per line
    #[arg(long, hide = true)]
    pub background: bool,
}

#[derive(Args, Debug, Default)]
pub struct StatusArgs {
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
    /// Every profile that has a login or configuration
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug, Default)]
pub struct LogoutArgs {
    /// Log out of every profile
    #[arg(long)]
    pub all: bool,
    /// Delete the local tokens without revoking them at Alibaba Cloud
    #[arg(long)]
    pub no_revoke: bool,
}

#[derive(Subcommand, Debug)]
pub enum ServicesCommand {
    /// List service aliases with their resolved URLs
    List {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
        /// Aliases only, one per line (for shell completions)
        #[arg(long, hide = true, conflicts_with = "json")]
        names: bool,
    },
    /// Add or replace an alias: the server's URL from the Alibaba Cloud MCP console
    /// (…/mcp), or a path under the MCP base URL
    Add {
        /// Alias to use, e.g. `ecs` (letters, digits, `-`, `_`)
        name: String,
        /// Streamable HTTP URL of the MCP server, or a path such as
        /// /accounts/UID/custom/NAME/id/ID/mcp
        #[arg(value_name = "PATH|URL")]
        target: String,
    },
    /// Remove an alias from the configuration file
    Remove {
        /// Alias to remove
        name: String,
    },
}

#[derive(Args, Debug, Default)]
pub struct DoctorArgs {
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum SetupCommand {
    /// Claude Code: runs `claude mcp add --scope user ...`
    Claude(SetupArgs),
    /// Gemini CLI: runs `gemini mcp add --scope user ...` (~/.gemini/settings.json)
    Gemini(SetupArgs),
    /// OpenAI Codex CLI: runs `codex mcp add ...` (~/.codex/config.toml)
    Codex(SetupArgs),
    /// Cursor: edits ~/.cursor/mcp.json
    Cursor(SetupArgs),
    /// VS Code: edits the user mcp.json (`servers`, `type: "stdio"`)
    #[command(name = "vscode", alias = "code")]
    Vscode(SetupArgs),
    /// Claude Desktop: edits claude_desktop_config.json
    #[command(name = "claude-desktop")]
    ClaudeDesktop(SetupArgs),
    /// Windsurf: edits ~/.codeium/windsurf/mcp_config.json
    Windsurf(SetupArgs),
}

#[derive(Args, Debug, Default, Clone)]
pub struct SetupArgs {
    /// Services to register [default: all configured]
    #[arg(value_name = "SERVICE")]
    pub services: Vec<String>,
    /// Make the change (run the client's command, or write its file) instead of
    /// printing it
    #[arg(long)]
    pub apply: bool,
    /// The file to edit instead of the client's user-level one (clients set up by
    /// file: cursor, vscode, claude-desktop, windsurf), e.g. a project's
    /// .vscode/mcp.json or .cursor/mcp.json
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// Which MCP protocol era `tools` and `call` speak.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// `initialize` first (2025-11-25); the stateless era when the server refuses it
    #[default]
    Auto,
    /// The initialize/session era only
    Session,
    /// The stateless 2026-07-28 era only (no initialize, an envelope per request)
    Stateless,
}

/// What `tools` and `call` share: the service and how to reach it.
#[derive(Args, Debug, Clone)]
pub struct ShellTarget {
    /// Service alias from the configuration, or a full https:// URL
    #[arg(value_name = "SERVICE")]
    pub service: String,
    /// Protocol era to speak to the server
    #[arg(long, value_enum, default_value_t = Protocol::Auto)]
    pub protocol: Protocol,
    #[command(flatten)]
    pub relay: RelayArgs,
}

#[derive(Args, Debug)]
#[command(after_help = "\
The list is what an MCP client gets from `mcpgw SERVICE` with the same options:
--read-only, --allow-tool, --deny-tool and the service's rules in the config
apply. RW is `read` when mcpgw's read-only mode lets the tool through (a read verb
or readOnlyHint), else `write`.

Examples:
  mcpgw tools ecs
  mcpgw tools ecs --read-only --all     also the hidden tools, and why
  mcpgw tools ecs --json | jq -r '.tools[].name'")]
pub struct ToolsArgs {
    /// Also list the tools the filter hides, with the rule that hides each
    #[arg(long)]
    pub all: bool,
    /// Machine-readable output: the tools as the server described them, plus
    /// mcpgw's `access` and `hiddenBy` for each
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: ShellTarget,
}

#[derive(Args, Debug)]
#[command(after_help = "\
ARGS is one JSON object, `-` to read it from stdin, or pairs: key=value sets a
string, key:=json any JSON value (number, true, array, object).

Text content is printed as text; --json prints the whole result. Progress goes
to stderr. Exit status: 0 success, 1 the tool reported an error (isError) or
something to fix, 2 usage or internal error.

Examples:
  mcpgw call ecs DescribeRegions
  mcpgw call ecs DescribeInstances RegionId=cn-hangzhou PageSize:=10
  mcpgw call ecs DescribeInstances '{\"RegionId\": \"cn-hangzhou\"}'
  echo '{\"RegionId\": \"cn-hangzhou\"}' | mcpgw call ecs DescribeInstances -")]
pub struct CallArgs {
    /// Print the raw result as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub target: ShellTarget,
    /// Tool name, as `mcpgw tools SERVICE` lists it
    #[arg(value_name = "TOOL")]
    pub tool: String,
    /// The tool's arguments: a JSON object, `-` (JSON on stdin), or key=value and
    /// key:=json pairs
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
}

impl Cli {
    /// Parses the process's arguments, exiting with clap's usage error on failure.
    pub fn parse_args() -> Cli {
        Cli::try_parse_checked(std::env::args_os()).unwrap_or_else(|err| err.exit())
    }

    /// Clap's parse plus one rule clap cannot express: a SERVICE or relay options
    /// given together with a command would be silently ignored, so they are refused.
    /// (Clap's `args_conflicts_with_subcommands` would also stop `mcpgw -v doctor`
    /// and `mcpgw --profile work status` from finding their command.)
    pub fn try_parse_checked<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let cli = Cli::from_arg_matches(&matches).map_err(|err| err.format(&mut command))?;
        if let Some(name) = matches.subcommand_name() {
            let given = relay_args_on_command_line(&matches);
            if !given.is_empty() {
                return Err(command.error(
                    clap::error::ErrorKind::ArgumentConflict,
                    format!(
                        "{} cannot be used with the `{name}` command; relay options go with a service: \
                         `mcpgw [OPTIONS] <SERVICE>`",
                        given.join(", ")
                    ),
                ));
            }
        }
        Ok(cli)
    }

    /// The relay target and its options, whichever way the relay was requested.
    pub fn relay_target(&self) -> Option<(&str, &RelayArgs)> {
        match (&self.command, &self.service) {
            (Some(Command::Relay { service, relay }), _) => Some((service, relay)),
            (None, Some(service)) => Some((service, &self.relay)),
            _ => None,
        }
    }
}

/// Subcommand names: an alias with one of these names is reachable only as
/// `mcpgw relay NAME`.
pub fn is_command_name(name: &str) -> bool {
    Cli::command()
        .get_subcommands()
        .any(|c| c.get_name() == name || c.get_all_aliases().any(|a| a == name))
        || name == "help"
}

/// The top-level SERVICE and relay options that were typed (not from env or defaults).
fn relay_args_on_command_line(matches: &ArgMatches) -> Vec<String> {
    let relay = RelayArgs::augment_args(clap::Command::new("relay"));
    let mut given = Vec::new();
    if matches.value_source("service") == Some(ValueSource::CommandLine) {
        given.push("SERVICE".to_owned());
    }
    for arg in relay.get_arguments() {
        if matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
            given.push(
                arg.get_long()
                    .map_or_else(|| arg.get_id().to_string(), |long| format!("--{long}")),
            );
        }
    }
    given
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_checked(std::iter::once("mcpgw").chain(args.iter().copied()))
    }

    #[test]
    fn global_options_before_a_command() {
        let cli = parse(&["--profile", "work", "-v", "status"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Status(_))));
        assert_eq!(cli.global.profile, "work");
        assert_eq!(cli.global.verbose, 1);
        let cli = parse(&["-v", "services", "list"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Services(ServicesCommand::List { json: false, .. }))
        ));
    }

    #[test]
    fn bare_mcpgw_shows_help() {
        let err = parse(&[]).unwrap_err();
        assert_eq!(
            err.kind(),
            clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        assert!(err.to_string().contains("Getting started:"), "{err}");
    }

    #[test]
    fn relay_options_with_a_command_are_refused() {
        let err = parse(&["--read-only", "doctor"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(
            err.to_string()
                .contains("--read-only cannot be used with the `doctor` command"),
            "{err}"
        );
        let err = parse(&["ecs", "status"]).unwrap_err();
        assert!(
            err.to_string()
                .contains("SERVICE cannot be used with the `status` command"),
            "{err}"
        );
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_service_runs_relay() {
        let cli = parse(&["ecs", "--timeout", "5"]).unwrap();
        let (service, relay) = cli.relay_target().unwrap();
        assert_eq!(service, "ecs");
        assert_eq!(relay.timeout, 5);
    }

    #[test]
    fn relay_subcommand_allows_service_named_like_a_command() {
        let cli = parse(&["relay", "login", "--read-only"]).unwrap();
        let (service, relay) = cli.relay_target().unwrap();
        assert_eq!(service, "login");
        assert!(relay.read_only);
    }

    #[test]
    fn subcommand_wins_over_service() {
        let cli = parse(&["status", "--json"]).unwrap();
        assert!(cli.relay_target().is_none());
        assert!(matches!(
            cli.command,
            Some(Command::Status(StatusArgs { json: true, .. }))
        ));
    }

    #[test]
    fn global_options_after_subcommand() {
        let cli = parse(&["login", "--profile", "work", "--site", "cn"]).unwrap();
        assert_eq!(cli.global.profile, "work");
        assert_eq!(cli.global.site, Some(Site::Cn));
    }

    #[test]
    fn sizes_and_their_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("500KB"), Ok(500 << 10));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("12").is_err(), "too small");
        assert!(
            parse_size("18446744073709551615G").is_err(),
            "overflow is an error, not a panic"
        );
        assert!(parse_size("lots").is_err() && parse_size("5T").is_err());
        let relay = parse(&["ecs", "--bearer-token", "tok-secret"])
            .unwrap()
            .relay;
        assert_eq!(relay.max_message_size, 64 << 20);
        assert!(!format!("{relay:?}").contains("tok-secret"));
    }

    #[test]
    fn repeatable_filters_and_headers() {
        let cli = parse(&[
            "ecs",
            "--allow-tool",
            "Describe*",
            "--allow-tool",
            "List*",
            "-H",
            "X-A: 1",
        ])
        .unwrap();
        let (_, relay) = cli.relay_target().unwrap();
        assert_eq!(relay.allow_tool, ["Describe*", "List*"]);
        assert_eq!(relay.headers, ["X-A: 1"]);
    }
}
