//! The Markdown report (values, ratios, issue 5 targets) and the smoke gate.

use std::fmt::Write as _;

use crate::{Measured, Plan};

const KIB: f64 = 1024.0;

pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub kernel: String,
    pub memory_gib: f64,
}

impl Machine {
    pub fn probe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .and_then(|r| r.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        Self {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            memory_gib: mem_kb / KIB / KIB,
        }
    }
}

/// Nearest-rank percentile of unsorted samples; NaN when there are none.
pub fn percentile(samples: &[f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub fn median(samples: &[f64]) -> f64 {
    percentile(samples, 0.5)
}

fn median_kb(samples: &[u64]) -> Option<f64> {
    let v: Vec<f64> = samples.iter().map(|&k| k as f64).collect();
    (!v.is_empty()).then(|| median(&v))
}

/// The values one report row needs, per bridge.
struct Metrics {
    cold_ms: Option<f64>,
    cold_direct_ms: Option<f64>,
    p50: Option<f64>,
    p99: Option<f64>,
    direct_p50: Option<f64>,
    direct_p99: Option<f64>,
    throughput: Option<f64>,
    direct_throughput: Option<f64>,
    idle_mib: Option<f64>,
    tls_cold_ms: Option<f64>,
    tls_idle_mib: Option<f64>,
    peak_small_mib: Option<f64>,
    big: [Option<(f64, f64, f64)>; 2],  // (ms, direct ms, peak MiB)
    huge: Option<(f64, f64, f64, f64)>, // (ms, direct ms, peak MiB, idle MiB)
    disk_mib: Option<f64>,
}

impl Metrics {
    fn of(m: &Measured) -> Self {
        let some = |v: f64| (!v.is_nan()).then_some(v);
        Self {
            cold_ms: some(median(&m.cold_ms)),
            cold_direct_ms: some(median(&m.cold_direct_ms)),
            p50: some(percentile(&m.latency_us, 0.5)),
            p99: some(percentile(&m.latency_us, 0.99)),
            direct_p50: some(percentile(&m.direct_latency_us, 0.5)),
            direct_p99: some(percentile(&m.direct_latency_us, 0.99)),
            throughput: m.throughput,
            direct_throughput: m.direct_throughput,
            idle_mib: median_kb(&m.idle_rss_kb).map(|k| k / KIB),
            tls_cold_ms: some(median(&m.tls_cold_ms)),
            tls_idle_mib: median_kb(&m.tls_idle_rss_kb).map(|k| k / KIB),
            peak_small_mib: m.peak_small_kb.map(|k| k as f64 / KIB),
            big: m
                .big
                .map(|b| b.map(|b| (b.ms, b.direct_ms, b.hwm_kb as f64 / KIB))),
            huge: m.huge.map(|h| {
                (
                    h.ms,
                    h.direct_ms,
                    h.hwm_kb as f64 / KIB,
                    h.idle_kb as f64 / KIB,
                )
            }),
            disk_mib: m.disk_bytes.map(|b| b as f64 / KIB / KIB),
        }
    }

    fn overhead_p50(&self) -> Option<f64> {
        Some(self.p50? - self.direct_p50?)
    }

    fn overhead_p99(&self) -> Option<f64> {
        Some(self.p99? - self.direct_p99?)
    }
}

/// One metric: how to read it for a bridge, and for the direct client.
struct Row {
    label: &'static str,
    unit: &'static str,
    decimals: usize,
    bridge: fn(&Metrics) -> Option<f64>,
    direct: fn(&Metrics) -> Option<f64>,
    /// Whether "÷ direct" means anything for this metric.
    vs_direct: bool,
}

fn rows() -> Vec<Row> {
    fn none(_: &Metrics) -> Option<f64> {
        None
    }
    vec![
        Row {
            label: "cold start: spawn → initialize answer (median)",
            unit: "ms",
            decimals: 2,
            bridge: |m| m.cold_ms,
            direct: |m| m.cold_direct_ms,
            vs_direct: true,
        },
        Row {
            label: "tools/call latency p50",
            unit: "µs",
            decimals: 0,
            bridge: |m| m.p50,
            direct: |m| m.direct_p50,
            vs_direct: true,
        },
        Row {
            label: "tools/call latency p99",
            unit: "µs",
            decimals: 0,
            bridge: |m| m.p99,
            direct: |m| m.direct_p99,
            vs_direct: true,
        },
        Row {
            label: "overhead over direct, p50",
            unit: "µs",
            decimals: 0,
            bridge: Metrics::overhead_p50,
            direct: |_| Some(0.0),
            vs_direct: false,
        },
        Row {
            label: "overhead over direct, p99",
            unit: "µs",
            decimals: 0,
            bridge: Metrics::overhead_p99,
            direct: |_| Some(0.0),
            vs_direct: false,
        },
        Row {
            label: "throughput, 64 in flight",
            unit: "calls/s",
            decimals: 0,
            bridge: |m| m.throughput,
            direct: |m| m.direct_throughput,
            vs_direct: true,
        },
        Row {
            label: "10 MiB result, JSON: time",
            unit: "ms",
            decimals: 1,
            bridge: |m| m.big[0].map(|b| b.0),
            direct: |m| m.big[0].map(|b| b.1),
            vs_direct: true,
        },
        Row {
            label: "10 MiB result, SSE: time",
            unit: "ms",
            decimals: 1,
            bridge: |m| m.big[1].map(|b| b.0),
            direct: |m| m.big[1].map(|b| b.1),
            vs_direct: true,
        },
        Row {
            label: "10 MiB result, JSON: peak RSS",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.big[0].map(|b| b.2),
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "10 MiB result, SSE: peak RSS",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.big[1].map(|b| b.2),
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "100 MiB result, JSON: time",
            unit: "ms",
            decimals: 0,
            bridge: |m| m.huge.map(|h| h.0),
            direct: |m| m.huge.map(|h| h.1),
            vs_direct: true,
        },
        Row {
            label: "100 MiB result, JSON: peak RSS",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.huge.map(|h| h.2),
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "idle RSS after initialize (median)",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.idle_mib,
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "over TLS: cold start (median)",
            unit: "ms",
            decimals: 2,
            bridge: |m| m.tls_cold_ms,
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "over TLS: idle RSS after initialize (median)",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.tls_idle_mib,
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "peak RSS, small calls (after throughput)",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.peak_small_mib,
            direct: none,
            vs_direct: false,
        },
        Row {
            label: "on disk (binary; node_modules; venv)",
            unit: "MiB",
            decimals: 1,
            bridge: |m| m.disk_mib,
            direct: none,
            vs_direct: false,
        },
    ]
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "—".into(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 && a.is_finite() && b.is_finite() => {
            let r = a / b;
            if r >= 10.0 {
                format!("{r:.0}×")
            } else if r >= 0.1 {
                format!("{r:.2}×")
            } else {
                format!("{r:.3}×")
            }
        }
        _ => "—".into(),
    }
}

/// The direct column: the direct samples taken alongside mcpgw (the bridge the
/// targets are about), else alongside the first bridge that has them. Every
/// "÷ direct" ratio uses the samples taken alongside that bridge.
fn direct_value(results: &[Measured], all: &[Metrics], row: &Row) -> Option<f64> {
    let mcpgw = results.iter().position(|m| m.name == "mcpgw");
    mcpgw
        .and_then(|i| (row.direct)(&all[i]))
        .or_else(|| all.iter().find_map(|m| (row.direct)(m)))
}

pub fn render(
    plan: &Plan,
    machine: &Machine,
    results: &[Measured],
    blob_bytes: usize,
    huge_bytes: usize,
) -> String {
    let metrics: Vec<Metrics> = results.iter().map(Metrics::of).collect();
    let remote = results
        .iter()
        .position(|m| m.name == "mcp-remote")
        .map(|i| &metrics[i]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### mcpgw relay benchmark{}\n",
        if plan.smoke { " (smoke)" } else { "" }
    );
    let smoke = if plan.smoke { " -- --smoke" } else { "" };
    let command = match std::env::var("MCPGW_BENCH_BIN") {
        Ok(bin) => format!("MCPGW_BENCH_BIN={bin} cargo bench-relay{smoke}"),
        Err(_) => format!("cargo bench-relay{smoke}"),
    };
    let _ = writeln!(
        out,
        "Reproduce: `{command}` (missing peers are installed into target/bench-peers by \
         benches/install-peers.sh).  "
    );
    let _ = writeln!(
        out,
        "Machine: {} × {} (nproc {}), {:.0} GiB RAM, Linux {}.  ",
        machine.cpus, machine.cpu_model, machine.cpus, machine.memory_gib, machine.kernel
    );
    for m in results {
        let _ = writeln!(out, "{}: {}.  ", m.name, m.version);
    }
    let _ = writeln!(
        out,
        "Upstream: in-process Rust server (axum/hyper) on 127.0.0.1, bearer token checked. \
         Cold start: median of {} spawns, to plain http, and again over TLS to the same server \
         (mcpgw only, trusting a private CA with --ca-cert: the system CA store is read and a \
         handshake made, as with a real MCP server); latency: {} sequential tools/call (after {} warm-up), \
         interleaved call by call with the direct client ({}, keep-alive); throughput: {} calls \
         in flight, median of {} alternating {:.1} s windows (mcpgw: the median of {} such runs); \
         large result: {} MiB of text, median of {} calls, timed to its last byte; huge result: {} MiB \
         (mcpgw with --max-message-size 256MiB), median of {} calls; peak RSS = VmHWM \
         of the bridge's process tree. Direct samples are taken alongside each bridge; \
         the direct column shows those taken alongside mcpgw, and each \"÷ direct\" ratio \
         uses the bridge's own.\n",
        plan.cold_runs,
        plan.calls,
        plan.warmup,
        crate::direct::client_name(),
        crate::WIDTH,
        plan.throughput_rounds,
        plan.throughput_for.as_secs_f64(),
        plan.throughput_runs,
        blob_bytes / (1024 * 1024),
        plan.big_calls,
        huge_bytes / (1024 * 1024),
        plan.huge_calls
    );

    let rows = rows();
    let _ = write!(out, "| metric | direct |");
    for m in results {
        let _ = write!(out, " {} |", m.name);
    }
    let _ = write!(out, "\n|---|---:|");
    for _ in results {
        let _ = write!(out, "---:|");
    }
    out.push('\n');
    for row in &rows {
        let _ = write!(
            out,
            "| {} ({}) | {} |",
            row.label,
            row.unit,
            fmt(direct_value(results, &metrics, row), row.decimals)
        );
        for m in &metrics {
            let _ = write!(out, " {} |", fmt((row.bridge)(m), row.decimals));
        }
        out.push('\n');
    }

    let _ = write!(
        out,
        "\nRatios (lower is better except throughput; each bridge ÷ its paired direct samples, and ÷ mcp-remote):\n\n| metric |"
    );
    for m in results {
        let _ = write!(out, " {} ÷ direct |", m.name);
        if remote.is_some() && m.name != "mcp-remote" {
            let _ = write!(out, " {} ÷ mcp-remote |", m.name);
        }
    }
    let _ = write!(out, "\n|---|");
    for m in results {
        let _ = write!(out, "---:|");
        if remote.is_some() && m.name != "mcp-remote" {
            let _ = write!(out, "---:|");
        }
    }
    out.push('\n');
    for row in rows
        .iter()
        .filter(|r| r.label != "on disk (binary; node_modules; venv)")
    {
        let mut cells = Vec::new();
        for (m, mm) in results.iter().zip(&metrics) {
            cells.push(if row.vs_direct {
                ratio((row.bridge)(mm), (row.direct)(mm))
            } else {
                "—".into()
            });
            if let Some(r) = remote.filter(|_| m.name != "mcp-remote") {
                cells.push(ratio((row.bridge)(mm), (row.bridge)(r)));
            }
        }
        // A metric measured for one bridge only (over TLS) has no ratio at all.
        if cells.iter().all(|c| c == "—") {
            continue;
        }
        let _ = writeln!(out, "| {} | {} |", row.label, cells.join(" | "));
    }

    if let Some(i) = results.iter().position(|m| m.name == "mcpgw") {
        let g = &metrics[i];
        let size_mib = blob_bytes as f64 / KIB / KIB;
        let _ = writeln!(
            out,
            "\nTargets for mcpgw (issues 5 and 13):\n\n| target | measured | met |\n|---|---:|:---:|"
        );
        let mut target = |name: &str, value: Option<f64>, shown: String, ok: fn(f64) -> bool| {
            let met = value.map_or("—", |v| if ok(v) { "yes" } else { "**no**" });
            let _ = writeln!(out, "| {name} | {shown} | {met} |");
        };
        let speedup = remote.and_then(|r| Some(r.cold_ms? / g.cold_ms?));
        target(
            "cold start ≥ 20× faster than mcp-remote",
            speedup,
            fmt(speedup, 0) + "×",
            |v| v >= 20.0,
        );
        let gap = g.cold_ms.zip(g.cold_direct_ms).map(|(a, b)| a - b);
        target(
            "cold start within 5 ms of direct",
            gap,
            fmt(gap, 2) + " ms",
            |v| v <= 5.0,
        );
        target(
            "overhead p50 ≤ 100 µs",
            g.overhead_p50(),
            fmt(g.overhead_p50(), 0) + " µs",
            |v| v <= 100.0,
        );
        target(
            "overhead p99 ≤ 1 ms",
            g.overhead_p99(),
            fmt(g.overhead_p99(), 0) + " µs",
            |v| v <= 1000.0,
        );
        // Every run must reach the target, not just the median one.
        let shares = &results[i].throughput_shares;
        let lowest = shares.iter().copied().reduce(f64::min);
        let spread = match shares.len() {
            0 | 1 => String::new(),
            n => format!(
                // Two decimals: a run just under the target must not print as 90.0.
                " ({n} runs: {:.2} / {:.2} / {:.2} %)",
                100.0 * lowest.unwrap_or(f64::NAN),
                100.0 * median(shares),
                100.0 * shares.iter().copied().fold(f64::MIN, f64::max)
            ),
        };
        let share = g
            .throughput
            .zip(g.direct_throughput)
            .map(|(a, b)| 100.0 * a / b);
        target(
            "64-way throughput ≥ 90 % of direct, every run",
            lowest.map(|v| 100.0 * v).or(share),
            fmt(share, 0) + " %" + &spread,
            |v| v >= 90.0,
        );
        target(
            "idle RSS ≤ 8 MiB",
            g.idle_mib,
            fmt(g.idle_mib, 1) + " MiB",
            |v| v <= 8.0,
        );
        for (slot, kind) in [(0, "JSON"), (1, "SSE")] {
            let time = g.big[slot].map(|b| b.0 / b.1);
            target(
                &format!("10 MiB {kind} result ≤ 2× direct"),
                time,
                fmt(time, 2) + "×",
                |v| v <= 2.0,
            );
        }
        let huge_mib = huge_bytes as f64 / KIB / KIB;
        let over = g.huge.map(|h| (h.2 - h.3) / huge_mib);
        target(
            &format!("peak RSS, {huge_mib:.0} MiB result ≤ idle + 1.5× the result"),
            over,
            g.huge.map_or("—".into(), |h| {
                format!(
                    "{:.1} MiB (idle {:.1} + {:.2}×)",
                    h.2,
                    h.3,
                    (h.2 - h.3) / huge_mib
                )
            }),
            |v| v <= 1.5,
        );
        if let Some(refusal) = &results[i].huge_refusal {
            let _ = writeln!(
                out,
                "| {huge_mib:.0} MiB result with the default limit: the size-limit error | {} | {} |",
                refusal.replace('|', "/"),
                if refusal.contains("limit") {
                    "yes"
                } else {
                    "**no**"
                }
            );
        }
        for (slot, kind) in [(0, "JSON"), (1, "SSE")] {
            let peak = g.big[slot].map(|b| b.2);
            let label = format!("peak RSS, 10 MiB {kind} result ≤ {:.0} MiB", 2.0 * size_mib);
            let _ = writeln!(
                out,
                "| {label} | {} MiB | {} |",
                fmt(peak, 1),
                peak.map_or("—", |v| if v <= 2.0 * size_mib {
                    "yes"
                } else {
                    "**no**"
                })
            );
        }
    }
    for m in results.iter().filter(|m| m.error.is_some()) {
        let _ = writeln!(
            out,
            "\n**{} failed:** {}",
            m.name,
            m.error.as_deref().unwrap_or_default().replace('\n', " ")
        );
    }
    out
}

/// Smoke gate: only gross regressions fail, so a noisy shared CI machine passes.
/// In a full run only failures to measure count.
pub fn gate(plan: &Plan, results: &[Measured]) -> Vec<String> {
    let mut failures: Vec<String> = results
        .iter()
        .filter_map(|m| m.error.as_ref().map(|e| format!("{}: {e}", m.name)))
        .collect();
    if !plan.smoke {
        return failures;
    }
    for m in results
        .iter()
        .filter(|m| m.name == "mcpgw" && m.error.is_none())
    {
        let g = Metrics::of(m);
        if let Some(v) = g.overhead_p50().filter(|&v| v > 2000.0) {
            failures.push(format!("mcpgw overhead p50 {v:.0} µs > 2 ms"));
        }
        if let Some(v) = g.cold_ms.filter(|&v| v > 500.0) {
            failures.push(format!("mcpgw cold start {v:.1} ms > 500 ms"));
        }
        if let Some(v) = g.idle_mib.filter(|&v| v > 64.0) {
            failures.push(format!("mcpgw idle RSS {v:.1} MiB > 64 MiB"));
        }
    }
    failures
}
