//! The one integration-test binary: process-level tests of `mcpgw` against real
//! loopback servers. Cases live in `tests/cases/`, the Rust test upstream in
//! `tests/server/`, third-party peers (Python SDK, npm packages) in `tests/peers/`.

mod authserver;
mod cases;
mod server;

use std::path::{Path, PathBuf};

/// Process output as text, for assertions and their messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The process exited with `code`; its output is in the failure message.
#[track_caller]
pub fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Path of the `mcpgw` binary cargo built for these tests.
pub fn mcpgw_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mcpgw"))
}

/// A `std::process::Command` for mcpgw with a private HOME and config/data/cache
/// dirs under `home`, no inherited MCPGW_* settings, and no proxy, so a test sees
/// only what it sets up.
pub fn isolated_command(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(mcpgw_bin());
    isolate(&mut cmd, home);
    cmd
}

pub fn isolate(cmd: &mut std::process::Command, home: &Path) {
    for (key, _) in std::env::vars() {
        if key.starts_with("MCPGW_") || key.ends_with("_PROXY") || key.ends_with("_proxy") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env_remove("BROWSER")
        .env_remove("DISPLAY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        // keyrings and session buses are found through the runtime dir: keep the developer's out of reach
        .env("XDG_RUNTIME_DIR", home.join(".runtime"));
}
