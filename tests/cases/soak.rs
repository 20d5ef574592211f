//! Soak: 100k calls and 1k stream reconnects through one relay, its memory
//! sampled as it goes; the resident set must stay flat after warm-up. Ignored by
//! default (about 30 s, 3.6k calls/s, even in a debug build); run it with
//!
//! ```text
//! cargo test --release --test cli soak -- --ignored --nocapture
//! ```
//!
//! Linux only (it reads VmRSS from `/proc/<pid>/status`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::transport::relay;
use crate::server::{Ev, Reply, TestServer, echo_result};

const CALLS: u64 = 100_000;
/// Every this many calls, one whose SSE reply closes early and is resumed with a GET.
const RECONNECT_EVERY: u64 = 100;
/// Requests written ahead of the answers read.
const WINDOW: u64 = 32;
const SAMPLE_EVERY: u64 = 5_000;
/// Samples before this many calls are warm-up (allocator pools, connection, caches).
const WARM_UP: u64 = 20_000;
/// The whole run must finish within this (it stops by itself).
const DEADLINE: Duration = Duration::from_secs(600);

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("soak needs Linux /proc/<pid>/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

fn request(n: u64) -> String {
    let tool = if n.is_multiple_of(RECONNECT_EVERY) {
        "resumable"
    } else {
        "echo"
    };
    json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
           "params": {"name": tool, "arguments": {"n": n}}})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak run, about 30 s: cargo test --release --test cli soak -- --ignored"]
async fn soak_100k_calls_and_1k_reconnects_keep_memory_flat() {
    let server = TestServer::builder()
        .on("tools/call", |req| {
            if req["params"]["name"] == "resumable" {
                Reply::Sse(vec![Ev::Prime, Ev::CloseEarly, Ev::Msg(echo_result(req))])
            } else {
                Reply::Json(echo_result(req))
            }
        })
        .start()
        .await;
    let mut relay = relay(&[&server.url()]).spawn();
    relay.handshake(&server).await;
    let pid = relay.pid();

    let run = async {
        let started = Instant::now();
        let mut answered = vec![false; CALLS as usize + 1];
        let mut samples: Vec<(u64, u64)> = Vec::new();
        let (mut sent, mut received) = (0u64, 0u64);
        while received < CALLS {
            while sent < CALLS && sent - received < WINDOW {
                sent += 1;
                relay.send(&request(sent)).await;
            }
            let answer: Value = relay.recv_json().await;
            let id = answer["id"].as_u64().unwrap_or_else(|| panic!("{answer}"));
            assert!(answer.get("result").is_some(), "call {id} failed: {answer}");
            assert!(
                !std::mem::replace(&mut answered[id as usize], true),
                "two answers for {id}"
            );
            received += 1;
            if received % SAMPLE_EVERY == 0 {
                samples.push((received, vm_rss_kib(pid)));
            }
        }
        (started.elapsed(), samples)
    };
    let (elapsed, samples) = tokio::time::timeout(DEADLINE, run)
        .await
        .expect("the soak run did not finish in time");
    let resumed = server
        .requests()
        .iter()
        .filter(|seen| seen.header("last-event-id").is_some())
        .count() as u64;
    eprintln!(
        "soak: {CALLS} calls in {elapsed:.1?} ({:.0} calls/s), {resumed} resumed streams",
        CALLS as f64 / elapsed.as_secs_f64()
    );
    eprintln!("soak: VmRSS (calls, KiB): {samples:?}");
    assert_eq!(
        resumed,
        CALLS / RECONNECT_EVERY,
        "every early close was resumed once"
    );

    let warm: Vec<u64> = samples
        .iter()
        .filter(|(n, _)| *n >= WARM_UP)
        .map(|(_, kib)| *kib)
        .collect();
    let baseline = warm[..3].iter().copied().max().unwrap();
    let last = warm[warm.len() - 3..].iter().copied().max().unwrap();
    let allowed = baseline + (baseline / 5).max(4 * 1024);
    assert!(
        last <= allowed,
        "VmRSS grew from {baseline} KiB after warm-up to {last} KiB (allowed {allowed} KiB): {samples:?}"
    );
    relay.finish().await.assert_success();
}
