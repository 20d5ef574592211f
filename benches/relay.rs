//! Side-by-side benchmark of stdio→Streamable-HTTP bridges (issue 5): mcpgw,
//! mcp-remote (npm), mcp-proxy (PyPI) and a direct in-process HTTP client, all in
//! one run against the same local upstream (`relay/upstream.rs`).
//!
//!     cargo bench-relay                 # full run, prints a Markdown report
//!     cargo bench-relay -- --smoke      # CI: mcpgw + direct, seconds
//!
//! `cargo bench-relay` (an alias in .cargo/config.toml) is `cargo bench --profile
//! bench-harness --bench relay`: the harness builds quickly into its own folder,
//! and the full run measures the shipped binary, which it builds with `cargo build
//! --release --locked` (so target/release/mcpgw is the shipped build afterwards,
//! too). The smoke run measures the harness's own quick build of mcpgw instead.
//!
//! Options (after `--`): `--smoke` (or MCPGW_BENCH_SMOKE=1), `--only a,b` (bridges
//! among mcpgw, mcp-remote, mcp-proxy), `--phases a,b` (among cold, tls,
//! latency, throughput, big, huge; to profile one). Env: MCPGW_BENCH_BIN (mcpgw binary to
//! measure instead of the one cargo built), MCPGW_BENCH_PEERS (peer install dir,
//! default target/bench-peers; missing peers are installed by
//! benches/install-peers.sh), MCPGW_BENCH_SMAPS=1 (print what idle RSS is made of),
//! MCPGW_BENCH_BIG_CALLS (large results per bridge, default 5; more for a steadier
//! median when comparing two builds), MCPGW_BENCH_DIRECT=hyper (the direct calls
//! over hyper-util instead of reqwest). The report goes to stdout, progress to stderr.
#![allow(clippy::print_stdout)]

#[path = "relay/bridge.rs"]
mod bridge;
#[path = "relay/direct.rs"]
mod direct;
#[path = "relay/layout.rs"]
mod layout;
#[path = "relay/report.rs"]
mod report;
#[path = "../tests/server/tls.rs"]
mod tls;
#[path = "relay/upstream.rs"]
mod upstream;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use serde_json::value::RawValue;
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use crate::bridge::{Bridge, Spec};
use crate::direct::Direct;
use crate::upstream::{BLOB_BYTES, HUGE_BLOB_BYTES, Upstream};

pub const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcpgw-bench","version":"1.0.0"}}}"#;
pub const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const TOOLS_LIST_ID: u64 = 1;
/// Concurrent in-flight calls in the throughput phase.
const WIDTH: usize = 64;

/// How much of everything to do.
#[derive(Clone, Debug)]
pub struct Plan {
    pub smoke: bool,
    pub cold_runs: usize,
    pub warmup: usize,
    pub calls: usize,
    /// Length of one throughput window; direct and bridge windows alternate.
    pub throughput_for: Duration,
    pub throughput_rounds: usize,
    /// Separate throughput runs for mcpgw (each `throughput_rounds` windows), for
    /// the spread of its share of direct.
    pub throughput_runs: usize,
    pub big_calls: usize,
    /// 100 MiB results per bridge (0: the phase is skipped).
    pub huge_calls: usize,
    /// Which phases run (`--phases cold,latency,throughput,big`); for profiling one.
    pub phases: Vec<String>,
}

impl Plan {
    fn runs(&self, phase: &str) -> bool {
        self.phases.is_empty() || self.phases.iter().any(|p| p == phase)
    }
}

impl Plan {
    fn full() -> Self {
        Self {
            smoke: false,
            cold_runs: 20,
            warmup: 200,
            calls: 2000,
            throughput_for: Duration::from_secs(1),
            throughput_rounds: 5,
            throughput_runs: 5,
            big_calls: 5,
            huge_calls: 3,
            phases: Vec::new(),
        }
    }

    fn smoke() -> Self {
        Self {
            smoke: true,
            cold_runs: 7,
            warmup: 50,
            calls: 300,
            throughput_for: Duration::from_millis(300),
            throughput_rounds: 3,
            throughput_runs: 1,
            big_calls: 1,
            huge_calls: 0,
            phases: Vec::new(),
        }
    }
}

/// Everything measured for one bridge; phases that did not run stay empty.
#[derive(Default)]
pub struct Measured {
    pub name: &'static str,
    pub version: String,
    pub cold_ms: Vec<f64>,
    /// The direct client's cold start, measured alternately with this bridge's.
    pub cold_direct_ms: Vec<f64>,
    pub idle_rss_kb: Vec<u64>,
    /// The same over TLS (mcpgw only: the peers would need their own CA settings).
    pub tls_cold_ms: Vec<f64>,
    pub tls_idle_rss_kb: Vec<u64>,
    pub latency_us: Vec<f64>,
    /// Paired direct latencies (same calls, interleaved with the bridge's).
    pub direct_latency_us: Vec<f64>,
    pub throughput: Option<f64>,
    pub direct_throughput: Option<f64>,
    pub peak_small_kb: Option<u64>,
    /// mcpgw's share of direct throughput in each separate run.
    pub throughput_shares: Vec<f64>,
    /// [JSON, SSE]
    pub big: [Option<Big>; 2],
    /// The 100 MiB JSON result, with the limit raised where a bridge has one.
    pub huge: Option<Huge>,
    /// mcpgw with its default limit: the error that refused the 100 MiB result.
    pub huge_refusal: Option<String>,
    pub disk_bytes: Option<u64>,
    pub error: Option<String>,
}

#[derive(Clone, Copy)]
pub struct Huge {
    pub ms: f64,
    pub direct_ms: f64,
    pub hwm_kb: u64,
    /// RSS once initialized, before the first 100 MiB result.
    pub idle_kb: u64,
}

#[derive(Clone, Copy)]
pub struct Big {
    pub ms: f64,
    pub direct_ms: f64,
    pub hwm_kb: u64,
}

/// The binary users get: `cargo build --release --locked` into target/release/,
/// as the README's install-from-source does. (The harness's own build of mcpgw
/// unifies the dev-dependencies' features and lives in its profile's folder.)
fn shipped_build(root: &Path) -> anyhow::Result<PathBuf> {
    eprintln!("building the shipped mcpgw: cargo build --release --locked --bin mcpgw");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--locked", "--bin", "mcpgw"])
        .current_dir(root)
        .status()
        .context("cannot run cargo to build the release binary")?;
    ensure!(status.success(), "cargo build --release failed ({status})");
    Ok(root.join("target/release/mcpgw"))
}

/// How the binary's code is laid out, for its version line. A Linux build from
/// this checkout must have its startup path packed (build.rs): the smoke run
/// fails if it has not, since idle RSS would then measure a different layout.
fn startup_path(mcpgw: &Path, smoke: bool) -> anyhow::Result<String> {
    if !cfg!(target_os = "linux") {
        return Ok(String::new());
    }
    match layout::section_size(mcpgw, layout::STARTUP_PATH)? {
        Some(size) => Ok(format!(
            ", startup path packed ({:.1} MiB)",
            size as f64 / 1048576.0
        )),
        None if smoke => anyhow::bail!(
            "{} has no {} section: build.rs did not pack its startup path (is \
             MCPGW_LINK_STARTUP_PATH=1 still in .cargo/config.toml?)",
            mcpgw.display(),
            layout::STARTUP_PATH
        ),
        None => Ok(", startup path not packed".into()),
    }
}

fn list(arg: Option<String>) -> Vec<String> {
    arg.map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn main() -> ExitCode {
    let mut plan = Plan::full();
    let mut only: Option<Vec<String>> = None;
    let mut phases = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => plan = Plan::smoke(),
            "--only" => only = Some(list(args.next())),
            "--phases" => phases = list(args.next()),
            // `cargo bench` passes --bench; filters are not used.
            "--bench" => {}
            other if other.starts_with('-') => {
                eprintln!("bench: unknown option {other}");
                return ExitCode::from(2);
            }
            _ => {}
        }
    }
    if std::env::var("MCPGW_BENCH_SMOKE").is_ok_and(|v| !v.is_empty() && v != "0") {
        plan = Plan::smoke();
    }
    plan.phases = phases;
    if let Some(calls) = std::env::var("MCPGW_BENCH_BIG_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        plan.big_calls = calls;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match runtime.block_on(run(plan, only)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("bench: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(plan: Plan, only: Option<Vec<String>>) -> anyhow::Result<ExitCode> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mcpgw = match std::env::var_os("MCPGW_BENCH_BIN") {
        Some(path) => PathBuf::from(path),
        // The smoke run checks the harness's own quick build for gross regressions.
        None if plan.smoke => PathBuf::from(env!("CARGO_BIN_EXE_mcpgw")),
        None => shipped_build(&root)?,
    };
    let peers_dir = std::env::var_os("MCPGW_BENCH_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench-peers"));
    let wanted = |name: &str| {
        only.as_ref().map_or(!plan.smoke || name == "mcpgw", |o| {
            o.iter().any(|n| n == name)
        })
    };

    let token = random_token()?;
    let mut specs = Vec::new();
    if wanted("mcpgw") {
        let startup_path = startup_path(&mcpgw, plan.smoke)?;
        specs.push(Spec {
            name: "mcpgw",
            program: mcpgw.clone(),
            args: vec!["{url}".into()],
            env: vec![("MCPGW_BEARER_TOKEN".into(), token.clone())],
            huge_args: vec!["--max-message-size".into(), "256MiB".into()],
            ca_args: vec!["--ca-cert".into(), "{ca}".into()],
            version: format!(
                "{}, binary {}{startup_path}",
                command_version(&mcpgw, "--version").unwrap_or_else(|| "?".into()),
                mcpgw.strip_prefix(&root).unwrap_or(&mcpgw).display()
            ),
        });
    }
    let want_remote = wanted("mcp-remote");
    let want_proxy = wanted("mcp-proxy");
    if want_remote || want_proxy {
        ensure_peers(&root, &peers_dir, want_remote, want_proxy)?;
    }
    if want_remote {
        let pkg =
            std::fs::read_to_string(peers_dir.join("node/node_modules/mcp-remote/package.json"))?;
        let version = serde_json::from_str::<serde_json::Value>(&pkg)?["version"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        specs.push(Spec {
            name: "mcp-remote",
            program: peers_dir.join("node/node_modules/.bin/mcp-remote"),
            // mcp-remote expands ${VAR} in header values: the token stays out of argv.
            args: [
                "{url}",
                "--transport",
                "http-only",
                "--silent",
                "--header",
                "Authorization:${MCPGW_BENCH_AUTH}",
            ]
            .map(String::from)
            .to_vec(),
            env: vec![
                ("MCPGW_BENCH_AUTH".into(), format!("Bearer {token}")),
                ("MCP_REMOTE_CONFIG_DIR".into(), String::new()), // set per run below
            ],
            huge_args: Vec::new(),
            ca_args: Vec::new(),
            version: format!(
                "mcp-remote {version}, node {}",
                command_version(Path::new("node"), "--version").unwrap_or_default()
            ),
        });
    }
    if want_proxy {
        let python = peers_dir.join("venv/bin/python");
        let version = python_package_version(&peers_dir, "mcp_proxy").unwrap_or_else(|| "?".into());
        let sdk = python_package_version(&peers_dir, "mcp").unwrap_or_else(|| "?".into());
        specs.push(Spec {
            name: "mcp-proxy",
            program: peers_dir.join("venv/bin/mcp-proxy"),
            args: [
                "--transport",
                "streamablehttp",
                "--log-level",
                "WARNING",
                "{url}",
            ]
            .map(String::from)
            .to_vec(),
            // mcp-proxy turns API_ACCESS_TOKEN into `Authorization: Bearer …`.
            env: vec![("API_ACCESS_TOKEN".into(), token.clone())],
            huge_args: Vec::new(),
            ca_args: Vec::new(),
            version: format!(
                "mcp-proxy {version} (mcp {sdk}), {}",
                command_version(&python, "--version").unwrap_or_default()
            ),
        });
    }

    let upstream = Upstream::start(&token)?;
    let scratch = tempfile::Builder::new().prefix("mcpgw-bench-").tempdir()?;
    eprintln!("bench: upstream on {}, plan {plan:?}", upstream.addr);

    let mut results = Vec::new();
    for spec in &specs {
        let mut spec = spec.clone();
        for (key, value) in &mut spec.env {
            if key == "MCP_REMOTE_CONFIG_DIR" {
                *value = scratch.path().join("mcp-auth").display().to_string();
            }
        }
        let mut m = Measured {
            name: spec.name,
            version: spec.version.clone(),
            ..Default::default()
        };
        m.disk_bytes = match spec.name {
            "mcpgw" => std::fs::metadata(&mcpgw).ok().map(|md| md.len()),
            "mcp-remote" => Some(dir_size(&peers_dir.join("node"))),
            _ => Some(dir_size(&peers_dir.join("venv"))),
        };
        eprintln!("bench: measuring {} ({})", spec.name, spec.version);
        let run_dir = scratch.path().join(spec.name);
        std::fs::create_dir_all(&run_dir)?;
        if let Err(err) = measure(&plan, &spec, &upstream, &token, &run_dir, &mut m).await {
            eprintln!("bench: {} failed: {err:#}", spec.name);
            m.error = Some(format!("{err:#}"));
        }
        results.push(m);
    }

    let machine = report::Machine::probe();
    let text = report::render(
        &plan,
        &machine,
        &results,
        upstream::BLOB_BYTES,
        upstream::HUGE_BLOB_BYTES,
    );
    println!("{text}");
    let failures = report::gate(&plan, &results);
    for failure in &failures {
        eprintln!("bench: FAIL {failure}");
    }
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// All phases for one bridge, in order: cold starts (with idle RSS), sequential
/// latency paired with direct calls, 64-way throughput, a 10 MiB result as JSON
/// and as SSE in fresh processes, then a 100 MiB JSON result. The upstream's refusal counters must not
/// move: a bridge that sends a wrong token or session is broken, not slow.
async fn measure(
    plan: &Plan,
    spec: &Spec,
    up: &Upstream,
    token: &str,
    dir: &Path,
    m: &mut Measured,
) -> anyhow::Result<()> {
    let refused_before = up.refusals.total();
    let refusals_ok = |phase: &str| -> anyhow::Result<()> {
        let now = up.refusals.total();
        ensure!(
            now == refused_before,
            "{phase}: the upstream refused {} request(s) from {}: {:?} — misconfigured bridge",
            now - refused_before,
            spec.name,
            up.refusals
        );
        Ok(())
    };
    if plan.runs("cold") {
        cold_starts(plan, spec, up, token, dir, m).await?;
        refusals_ok("cold start")?;
    }
    if plan.runs("tls") && !spec.ca_args.is_empty() {
        tls_cold_starts(plan, spec, up, dir, m).await?;
        refusals_ok("cold start over TLS")?;
    }
    let mut id = 100u64;
    if plan.runs("latency") || plan.runs("throughput") {
        small_calls(plan, spec, up, token, dir, m, &mut id).await?;
        refusals_ok("small calls")?;
    }
    if plan.runs("big") {
        big_results(plan, spec, up, token, dir, m, &mut id).await?;
        refusals_ok("10 MiB results")?;
    }
    if plan.runs("huge") && plan.huge_calls > 0 {
        huge_results(plan, spec, up, token, dir, m, &mut id).await?;
        refusals_ok("100 MiB results")?;
    }
    Ok(())
}

/// Spawn → initialize answer on stdout, alternating with the direct client's cold
/// start (fresh client and connection) so both see the same machine state. Idle
/// RSS is read once the handshake is over.
async fn cold_starts(
    plan: &Plan,
    spec: &Spec,
    up: &Upstream,
    token: &str,
    dir: &Path,
    m: &mut Measured,
) -> anyhow::Result<()> {
    let url = up.url(false);
    let mut line = Vec::new();
    for run in 0..plan.cold_runs {
        let (_direct, direct_cold) = Direct::connect(&url, token).await?;
        m.cold_direct_ms.push(ms(direct_cold));
        let (cold, rss_kb) = cold_start(spec, &url, dir, run == 0, &mut line).await?;
        m.cold_ms.push(ms(cold));
        m.idle_rss_kb.push(rss_kb);
        eprintln!(
            "  cold start {run}: {:.2} ms (direct {:.2} ms), idle RSS {rss_kb} kB",
            ms(cold),
            ms(direct_cold),
        );
    }
    Ok(())
}

/// The cold starts again against the upstream's https address, the bridge trusting
/// the run's private CA: the system CA store is read and a TLS handshake made, as
/// with the real MCP servers (the plain-http stand-in needs neither).
async fn tls_cold_starts(
    plan: &Plan,
    spec: &Spec,
    up: &Upstream,
    dir: &Path,
    m: &mut Measured,
) -> anyhow::Result<()> {
    let ca = dir.join("bench-ca.pem");
    std::fs::write(&ca, &up.ca_pem)?;
    let mut spec = spec.clone();
    let ca = ca.display().to_string();
    spec.args
        .extend(spec.ca_args.iter().map(|a| a.replace("{ca}", &ca)));
    let url = up.tls_url();
    let mut line = Vec::new();
    for run in 0..plan.cold_runs {
        let (cold, rss_kb) = cold_start(&spec, &url, dir, false, &mut line).await?;
        m.tls_cold_ms.push(ms(cold));
        m.tls_idle_rss_kb.push(rss_kb);
        eprintln!(
            "  cold start over TLS {run}: {:.2} ms, idle RSS {rss_kb} kB",
            ms(cold)
        );
    }
    Ok(())
}

/// One spawn → initialize answer; returns that time and the RSS once the
/// handshake is over.
async fn cold_start(
    spec: &Spec,
    url: &str,
    dir: &Path,
    show_smaps: bool,
    line: &mut Vec<u8>,
) -> anyhow::Result<(Duration, u64)> {
    let start = Instant::now();
    let mut bridge = Bridge::spawn(spec, url, dir)?;
    bridge.send(INITIALIZE.as_bytes()).await?;
    bridge.recv_response(0, line).await.context("initialize")?;
    let cold = start.elapsed();
    check_initialize(line).with_context(|| format!("{} initialize answer", spec.name))?;
    handshake_rest(&mut bridge, line).await?;
    let memory = bridge.memory();
    if show_smaps && std::env::var_os("MCPGW_BENCH_SMAPS").is_some() {
        eprintln!("  idle RSS of {}: {}", spec.name, bridge.rss_by_mapping());
    }
    bridge.close().await?;
    Ok((cold, memory.rss_kb))
}

/// Sequential latency, then throughput, in one long-lived bridge. Latency calls
/// are interleaved one by one with the direct client's (the order flips every
/// call) so both see the same noise.
async fn small_calls(
    plan: &Plan,
    spec: &Spec,
    up: &Upstream,
    token: &str,
    dir: &Path,
    m: &mut Measured,
    id: &mut u64,
) -> anyhow::Result<()> {
    let url = up.url(false);
    let (direct, _) = Direct::connect(&url, token).await?;
    let mut line = Vec::new();
    let mut bridge = ready_bridge(spec, &url, dir, &mut line).await?;
    if plan.runs("latency") {
        for i in 0..plan.warmup + plan.calls {
            *id += 1;
            let request = echo_call(*id);
            let (b, d) = if i % 2 == 0 {
                let d = time_direct(&direct, &request, *id).await?;
                (time_bridge(&mut bridge, &request, *id, &mut line).await?, d)
            } else {
                let b = time_bridge(&mut bridge, &request, *id, &mut line).await?;
                (b, time_direct(&direct, &request, *id).await?)
            };
            if i >= plan.warmup {
                m.latency_us.push(b);
                m.direct_latency_us.push(d);
            }
        }
        eprintln!(
            "  latency p50 {:.0} µs (direct {:.0} µs)",
            report::percentile(&m.latency_us, 0.5),
            report::percentile(&m.direct_latency_us, 0.5)
        );
    }
    if plan.runs("throughput") {
        // Alternate direct and bridge windows; a run's medians give its share of
        // direct. mcpgw gets several runs, for the spread; the report shows the
        // median run.
        let runs = if spec.name == "mcpgw" {
            plan.throughput_runs
        } else {
            1
        };
        let mut shares = Vec::new();
        for _ in 0..runs.max(1) {
            let (mut bridge_rates, mut direct_rates) = (Vec::new(), Vec::new());
            for _ in 0..plan.throughput_rounds {
                direct_rates.push(direct_throughput(&direct, plan.throughput_for, id).await?);
                bridge_rates.push(bridge_throughput(&mut bridge, plan.throughput_for, id).await?);
            }
            let (rate, direct_rate) =
                (report::median(&bridge_rates), report::median(&direct_rates));
            eprintln!("  throughput {rate:.0}/s (direct {direct_rate:.0}/s)");
            shares.push((rate / direct_rate, rate, direct_rate));
        }
        shares.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (_, rate, direct_rate) = shares[(shares.len() - 1) / 2];
        m.throughput = Some(rate);
        m.direct_throughput = Some(direct_rate);
        if spec.name == "mcpgw" {
            m.throughput_shares = shares.iter().map(|s| s.0).collect();
        }
    }
    m.peak_small_kb = Some(bridge.memory().hwm_kb);
    bridge.close().await
}

/// A 10 MiB result as JSON, then as SSE, each in a fresh bridge so VmHWM is this
/// phase's peak.
async fn big_results(
    plan: &Plan,
    spec: &Spec,
    up: &Upstream,
    token: &str,
    dir: &Path,
    m: &mut Measured,
    id: &mut u64,
) -> anyhow::Result<()> {
    for (slot, sse) in [(0, false), (1, true)] {
        let url = up.url(sse);
        let (direct, _) = Direct::connect(&url, token).await?;
        let mut line = Vec::new();
        let mut bridge = ready_bridge(spec, &url, dir, &mut line).await?;
        let label = format!("{} 10 MiB result", spec.name);
        let (times, direct_times) = timed_results(
            &direct,
            &mut bridge,
            (plan.big_calls, blob_call, BLOB_BYTES),
            &label,
            id,
            &mut line,
        )
        .await?;
        let hwm_kb = bridge.memory().hwm_kb;
        bridge.close().await?;
        let big = Big {
            ms: report::median(&times),
            direct_ms: report::median(&direct_times),
            hwm_kb,
        };
        eprintln!(
            "  10 MiB {}: {:.1} ms (direct {:.1} ms), peak RSS {} kB",
            if sse { "SSE" } else { "JSON" },
            big.ms,
            big.direct_ms,
            hwm_kb
        );
        m.big[slot] = Some(big);
    }
    Ok(())
}

/// A 100 MiB JSON result, over mcpgw's default message limit: first refused with
/// that limit (mcpgw only), then relayed with the limit raised, in a fresh
/// bridge whose RSS is read once it is initialized and again at its peak.
async fn huge_results(
    plan: &Plan,
    spec: &Spec,
    up: &Upstream,
    token: &str,
    dir: &Path,
    m: &mut Measured,
    id: &mut u64,
) -> anyhow::Result<()> {
    let url = up.url(false);
    let mut line = Vec::new();
    if !spec.huge_args.is_empty() {
        let mut bridge = ready_bridge(spec, &url, dir, &mut line).await?;
        *id += 1;
        bridge.send(huge_call(*id).as_bytes()).await?;
        bridge.recv_response(*id, &mut line).await?;
        let refusal = refusal_message(&line, *id)
            .with_context(|| format!("{} with its default limit", spec.name))?;
        eprintln!("  100 MiB with the default limit: {refusal}");
        m.huge_refusal = Some(refusal);
        bridge.close().await?;
    }
    let mut spec = spec.clone();
    spec.args.extend(spec.huge_args.iter().cloned());
    let (direct, _) = Direct::connect(&url, token).await?;
    let mut bridge = ready_bridge(&spec, &url, dir, &mut line).await?;
    let idle_kb = bridge.memory().rss_kb;
    let label = format!("{} 100 MiB result", spec.name);
    let (times, direct_times) = timed_results(
        &direct,
        &mut bridge,
        (plan.huge_calls, huge_call, HUGE_BLOB_BYTES),
        &label,
        id,
        &mut line,
    )
    .await?;
    let huge = Huge {
        ms: report::median(&times),
        direct_ms: report::median(&direct_times),
        hwm_kb: bridge.memory().hwm_kb,
        idle_kb,
    };
    bridge.close().await?;
    eprintln!(
        "  100 MiB JSON: {:.1} ms (direct {:.1} ms), peak RSS {} kB (idle {} kB)",
        huge.ms, huge.direct_ms, huge.hwm_kb, huge.idle_kb
    );
    m.huge = Some(huge);
    Ok(())
}

/// The message of the JSON-RPC error that answered `id`.
fn refusal_message(line: &[u8], id: u64) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_slice(line)?;
    ensure!(value["id"] == id, "answer to another request: {value}");
    value["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "not refused: {}",
                String::from_utf8_lossy(&line[..line.len().min(200)])
            )
        })
}

/// A bridge started and past its handshake.
async fn ready_bridge(
    spec: &Spec,
    url: &str,
    dir: &Path,
    line: &mut Vec<u8>,
) -> anyhow::Result<Bridge> {
    let mut bridge = Bridge::spawn(spec, url, dir)?;
    bridge.send(INITIALIZE.as_bytes()).await?;
    bridge.recv_response(0, line).await?;
    handshake_rest(&mut bridge, line).await?;
    Ok(bridge)
}

/// `calls` large results (`call` makes the request, `size` is the text's), each
/// from the direct client and then through the bridge; their times in ms, the
/// bridge's timed to the answer's last byte.
async fn timed_results(
    direct: &Direct,
    bridge: &mut Bridge,
    (calls, call, size): (usize, fn(u64) -> String, usize),
    label: &str,
    id: &mut u64,
    line: &mut Vec<u8>,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut times, mut direct_times) = (Vec::new(), Vec::new());
    for _ in 0..calls {
        *id += 1;
        let request = call(*id);
        let start = Instant::now();
        let body = direct.call(Bytes::from(request.clone())).await?;
        direct_times.push(ms(start.elapsed()));
        check_blob(&body, *id, size).with_context(|| format!("direct {label}"))?;
        drop(body);
        let start = Instant::now();
        bridge.send(request.as_bytes()).await?;
        let arrived = bridge.recv_response_at(*id, line).await?;
        times.push(ms(arrived - start));
        check_blob(line, *id, size).context(label.to_owned())?;
    }
    Ok((times, direct_times))
}

/// notifications/initialized, then a tools/list round trip so the bridge is past
/// its handshake (and idle) when we look at it.
async fn handshake_rest(bridge: &mut Bridge, line: &mut Vec<u8>) -> anyhow::Result<()> {
    bridge.send(INITIALIZED.as_bytes()).await?;
    bridge
        .send(
            format!(
                r#"{{"jsonrpc":"2.0","id":{TOOLS_LIST_ID},"method":"tools/list","params":{{}}}}"#
            )
            .as_bytes(),
        )
        .await?;
    bridge
        .recv_response(TOOLS_LIST_ID, line)
        .await
        .context("tools/list")?;
    let value: serde_json::Value = serde_json::from_slice(line)?;
    let tools = value["result"]["tools"]
        .as_array()
        .with_context(|| format!("tools/list answer: {value}"))?;
    ensure!(
        tools.iter().any(|t| t["name"] == "echo"),
        "tools/list lacks echo: {value}"
    );
    Ok(())
}

fn echo_call(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"bench call {id}"}}}}}}"#
    )
}

fn huge_call(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"blob_huge","arguments":{{}}}}}}"#
    )
}

fn blob_call(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"blob","arguments":{{}}}}}}"#
    )
}

async fn time_direct(direct: &Direct, request: &str, id: u64) -> anyhow::Result<f64> {
    let body = Bytes::copy_from_slice(request.as_bytes());
    let start = Instant::now();
    let answer = direct.call(body).await?;
    let elapsed = start.elapsed();
    check_echo(&answer, id).context("direct call")?;
    Ok(us(elapsed))
}

async fn time_bridge(
    bridge: &mut Bridge,
    request: &str,
    id: u64,
    line: &mut Vec<u8>,
) -> anyhow::Result<f64> {
    let start = Instant::now();
    bridge.send(request.as_bytes()).await?;
    bridge.recv_response(id, line).await?;
    let elapsed = start.elapsed();
    check_echo(line, id).with_context(|| format!("{} call", bridge.name))?;
    Ok(us(elapsed))
}

#[derive(serde::Deserialize)]
struct Answer<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

fn answer(line: &[u8], id: u64) -> anyhow::Result<&RawValue> {
    let a: Answer = serde_json::from_slice(line).context("answer is not JSON-RPC")?;
    if let Some(error) = a.error {
        bail!("JSON-RPC error for id {id}: {}", error.get());
    }
    ensure!(a.id == Some(id), "answer id {:?}, expected {id}", a.id);
    a.result.context("answer without result")
}

fn check_initialize(line: &[u8]) -> anyhow::Result<()> {
    let result = answer(line, 0)?;
    ensure!(
        result.get().contains("protocolVersion"),
        "not an InitializeResult: {}",
        result.get()
    );
    Ok(())
}

fn check_echo(line: &[u8], id: u64) -> anyhow::Result<()> {
    let result: serde_json::Value = serde_json::from_str(answer(line, id)?.get())?;
    let text = result["content"][0]["text"]
        .as_str()
        .context("no text content")?;
    ensure!(text == format!("bench call {id}"), "echo returned {text:?}");
    Ok(())
}

fn check_blob(line: &[u8], id: u64, size: usize) -> anyhow::Result<()> {
    let result = answer(line, id)?;
    // Bridges may re-encode the JSON, but the escaped text keeps its length.
    ensure!(
        result.get().len() >= size,
        "result is only {} bytes",
        result.get().len()
    );
    Ok(())
}

async fn direct_throughput(
    direct: &Direct,
    run_for: Duration,
    id: &mut u64,
) -> anyhow::Result<f64> {
    let next = Cell::new(*id);
    let done = Cell::new(0u64);
    let start = Instant::now();
    let deadline = start + run_for;
    let worker = || async {
        while Instant::now() < deadline {
            let my = next.get() + 1;
            next.set(my);
            let answer = direct.call(Bytes::from(echo_call(my))).await?;
            ensure!(answer_ok(&answer)?, "direct answer is not a response");
            done.set(done.get() + 1);
        }
        anyhow::Ok(())
    };
    let results = futures_util::future::join_all((0..WIDTH).map(|_| worker())).await;
    let elapsed = start.elapsed();
    for r in results {
        r.context("direct throughput")?;
    }
    *id = next.get();
    Ok(done.get() as f64 / elapsed.as_secs_f64())
}

/// Keeps WIDTH calls in flight until `run_for` has passed, then one last call
/// marks the end (so the reader never waits on a stream with nothing pending).
async fn bridge_throughput(
    bridge: &mut Bridge,
    run_for: Duration,
    id: &mut u64,
) -> anyhow::Result<f64> {
    let name = bridge.name;
    let permits = Semaphore::new(WIDTH);
    let sent = Cell::new(0u64);
    let writer_done = Cell::new(false);
    let first_id = *id + 1;
    let start = Instant::now();
    let deadline = start + run_for;
    let stdin = bridge.stdin.as_mut().context("stdin closed")?;
    let stdout = &mut bridge.stdout;
    let writer = async {
        let mut next = first_id;
        loop {
            let last = Instant::now() >= deadline;
            permits.acquire().await?.forget();
            let mut line = echo_call(next).into_bytes();
            line.push(b'\n');
            if last {
                writer_done.set(true);
            }
            sent.set(sent.get() + 1);
            stdin.write_all(&line).await?;
            next += 1;
            if last {
                return anyhow::Ok(next);
            }
        }
    };
    let reader = async {
        let mut line = Vec::new();
        let mut received = 0u64;
        while !(writer_done.get() && received == sent.get()) {
            line.clear();
            let n = tokio::time::timeout(Duration::from_secs(60), stdout.read_line(&mut line))
                .await
                .map_err(|_| {
                    anyhow::anyhow!("{name}: no answer for 60 s in the throughput phase")
                })??;
            ensure!(n > 0, "{name} closed stdout in the throughput phase");
            // One parse per line, as the direct client's one per answer.
            if !answer_ok(&line)? {
                continue;
            }
            received += 1;
            permits.add_permits(1);
        }
        anyhow::Ok(received)
    };
    let (next, received) = tokio::try_join!(writer, reader)?;
    let elapsed = start.elapsed();
    *id = next;
    Ok(received as f64 / elapsed.as_secs_f64())
}

/// Whether `line` is a response (not a server request or notification), failing
/// on an error response.
fn answer_ok(line: &[u8]) -> anyhow::Result<bool> {
    let a: Answer = serde_json::from_slice(line).context("answer is not JSON-RPC")?;
    if a.method.is_some() || a.id.is_none() {
        return Ok(false);
    }
    if let Some(error) = a.error {
        bail!("JSON-RPC error: {}", error.get());
    }
    ensure!(a.result.is_some(), "answer without result");
    Ok(true)
}

/// Installs missing peers with benches/install-peers.sh (never assumes them).
fn ensure_peers(root: &Path, peers: &Path, remote: bool, proxy: bool) -> anyhow::Result<()> {
    let missing = (remote && !peers.join("node/node_modules/.bin/mcp-remote").exists())
        || (proxy && !peers.join("venv/bin/mcp-proxy").exists());
    if !missing {
        return Ok(());
    }
    eprintln!("bench: installing peers with benches/install-peers.sh");
    let status = std::process::Command::new("sh")
        .arg(root.join("benches/install-peers.sh"))
        .env("MCPGW_BENCH_PEERS", peers)
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run benches/install-peers.sh")?;
    ensure!(
        status.success(),
        "benches/install-peers.sh failed ({status})"
    );
    Ok(())
}

fn command_version(program: &Path, arg: &str) -> Option<String> {
    let out = std::process::Command::new(program).arg(arg).output().ok()?;
    let text = String::from_utf8_lossy(if out.stdout.is_empty() {
        &out.stderr
    } else {
        &out.stdout
    })
    .trim()
    .to_owned();
    (!text.is_empty()).then_some(text)
}

/// Version of an installed distribution in the peers venv, from its dist-info.
fn python_package_version(peers: &Path, dist: &str) -> Option<String> {
    let lib = std::fs::read_dir(peers.join("venv/lib"))
        .ok()?
        .flatten()
        .next()?
        .path();
    let prefix = format!("{dist}-");
    std::fs::read_dir(lib.join("site-packages"))
        .ok()?
        .flatten()
        .find_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(&prefix)?.strip_suffix(".dist-info")?;
            Some(version.to_owned())
        })
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(format!(
        "bench-{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
