//! The `mcpgw` command: parse, set up logging, dispatch, and map errors to exit
//! codes. Everything else is in the library (`src/lib.rs`), one module per concern.

use mcpgw::cli::{Cli, Command};
use mcpgw::error::{self, CliError, CliResult, Context};
use mcpgw::{auth, commands, config, http, logging, relay};

fn main() {
    mcpgw::memory::configure();
    let cli = Cli::parse_args();
    let _log_guard = match logging::init(&cli.global) {
        Ok(guard) => guard,
        Err(err) => exit_with(&err),
    };
    if let Err(err) = run(cli) {
        exit_with(&err);
    }
}

/// Prints the error once — its message, each distinct cause, the hint — and exits
/// with its code. An error the command's own output already reported prints nothing.
fn exit_with(err: &CliError) -> ! {
    if !err.is_reported() {
        eprintln!("mcpgw: error: {}", error::full_message(err));
        if let Some(hint) = &err.hint {
            eprintln!("  hint: {hint}");
        }
    }
    std::process::exit(err.exit_code);
}

fn run(cli: Cli) -> CliResult {
    // These work without (or report on) the config file, so a broken one cannot stop them.
    match &cli.command {
        Some(Command::Completions { shell }) => return commands::completions::run(*shell),
        Some(Command::Doctor(args)) => {
            return runtime()?.block_on(commands::doctor::run(&cli.global, args));
        }
        _ => {}
    }
    let config = config::load(&cli.global)?;
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }

    if let Some((service, relay_args)) = cli.relay_target() {
        let target = config.resolve_service(service, relay_args.allow_http)?;
        let http = http::client(cli.global.ca_cert.as_deref())?;
        http.prepare_for(&target.url);
        let auth = auth::Auth::new(relay_args, &config, http.client.clone());
        auth.ensure_may_send_to(&config, &target.url)?;
        return runtime()?.block_on(relay::run(target, relay_args, auth, http));
    }

    let global = &cli.global;
    match cli.command {
        Some(Command::Relay { .. }) => unreachable!("handled by relay_target"),
        Some(Command::Login(args)) => runtime()?.block_on(auth::login::run(global, &args, &config)),
        Some(Command::Status(args)) => {
            runtime()?.block_on(commands::status::run(global, &args, &config))
        }
        Some(Command::Logout(args)) => {
            runtime()?.block_on(commands::logout::run(global, &args, &config))
        }
        Some(Command::Tools(args)) => {
            runtime()?.block_on(commands::tools::run(global, &args, &config))
        }
        Some(Command::Call(args)) => {
            runtime()?.block_on(commands::call::run(global, &args, &config))
        }
        Some(Command::Services(command)) => commands::services::run(&command, &config),
        Some(Command::Doctor(_) | Command::Completions { .. }) => {
            unreachable!("handled before the config is loaded")
        }
        Some(Command::Setup(command)) => commands::setup::run(&command, global, &config),
        None => Err(CliError::usage("no service or command given")
            .with_hint("run `mcpgw <SERVICE>` to relay, or `mcpgw --help` for the commands")),
    }
}

/// A current-thread runtime: the relay is I/O bound, and one thread keeps start-up
/// and memory small.
fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
