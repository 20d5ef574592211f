//! Logs go to stderr (stdout is the JSON-RPC channel) and, with `--log-file`, to a
//! file as well. `MCPGW_LOG` takes a tracing filter; `-v` raises the default level.

use std::io::IsTerminal;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult, Context};

pub struct LogGuard;

pub fn init(global: &GlobalArgs) -> CliResult<LogGuard> {
    let level = match global.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = match std::env::var("MCPGW_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::try_new(spec.trim()).map_err(|err| {
            CliError::usage(format!("MCPGW_LOG=`{spec}` is not a valid tracing filter"))
                .with_hint("e.g. MCPGW_LOG=mcpgw=debug")
                .with_source(err)
        })?,
        _ => EnvFilter::new(format!("mcpgw={level},warn")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match &global.log_file {
        Some(path) => {
            let file = crate::fs::open_private_append(path)
                .user_context(format!("cannot open log file {}", path.display()))?;
            let file = Arc::new(file);
            builder
                .with_ansi(false)
                .with_writer(std::io::stderr.and(file))
                .init();
        }
        None => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init(),
    }
    Ok(LogGuard)
}
