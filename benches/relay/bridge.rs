//! Drives one bridge process over its stdio the way an MCP client does (one
//! JSON-RPC message per line) and reads its memory from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Longest wait for one answer; a bridge that takes longer is broken, not slow.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// How to start one bridge against a given upstream URL.
#[derive(Clone)]
pub struct Spec {
    pub name: &'static str,
    pub program: PathBuf,
    /// Arguments; `{url}` is replaced by the upstream URL.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub version: String,
    /// Extra arguments for the 100 MiB result (mcpgw's message size limit).
    pub huge_args: Vec<String>,
    /// Extra arguments that trust the CA file `{ca}` (empty: not measured over TLS).
    pub ca_args: Vec<String>,
}

pub struct Bridge {
    pub name: &'static str,
    child: Child,
    pub stdin: Option<ChildStdin>,
    pub stdout: LineReader,
    pub pid: u32,
    stderr_path: PathBuf,
}

impl Bridge {
    /// Starts the bridge with a clean environment: PATH, a private HOME under
    /// `scratch`, and the spec's variables (the token travels in those, never argv).
    pub fn spawn(spec: &Spec, url: &str, scratch: &Path) -> anyhow::Result<Self> {
        let home = scratch.join("home");
        std::fs::create_dir_all(&home)?;
        let stderr_path = scratch.join(format!("{}.stderr", spec.name));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_path)?;
        let mut cmd = Command::new(&spec.program);
        cmd.args(spec.args.iter().map(|a| a.replace("{url}", url)))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("TMPDIR", scratch)
            .env("LANG", "C.UTF-8")
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", spec.program.display()))?;
        let pid = child.id().context("child has no pid")?;
        let stdin = child.stdin.take();
        let stdout = LineReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Self {
            name: spec.name,
            child,
            stdin,
            stdout,
            pid,
            stderr_path,
        })
    }

    pub async fn send(&mut self, line: &[u8]) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("stdin already closed")?;
        // One write per message, as a line-buffered client would do.
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line);
        buf.push(b'\n');
        stdin
            .write_all(&buf)
            .await
            .with_context(|| format!("{} closed its stdin", self.name))?;
        Ok(())
    }

    /// Reads one stdout line into `buf` (cleared first, newline stripped).
    pub async fn recv_line(&mut self, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        buf.clear();
        let n = tokio::time::timeout(ANSWER_TIMEOUT, self.stdout.read_line(buf))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "{} sent no answer within {:?}{}",
                    self.name,
                    ANSWER_TIMEOUT,
                    self.stderr_tail()
                )
            })??;
        if n == 0 {
            bail!(
                "{} closed stdout (exited?){}",
                self.name,
                self.stderr_tail()
            );
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        Ok(())
    }

    /// Reads lines until the response with this id; other messages (notifications,
    /// server requests) are skipped.
    pub async fn recv_response(&mut self, id: u64, buf: &mut Vec<u8>) -> anyhow::Result<()> {
        self.recv_response_at(id, buf).await.map(drop)
    }

    /// Like [`Self::recv_response`], returning when the response's last byte
    /// arrived: the client's own parsing of a 10 MB line (to find its id) is not
    /// the bridge's time.
    pub async fn recv_response_at(
        &mut self,
        id: u64,
        buf: &mut Vec<u8>,
    ) -> anyhow::Result<std::time::Instant> {
        loop {
            self.recv_line(buf).await?;
            let arrived = std::time::Instant::now();
            match response_id(buf) {
                Some(got) if got == id => return Ok(arrived),
                _ => continue,
            }
        }
    }

    /// Closes stdin (the client went away) and waits for the bridge to exit.
    pub async fn close(mut self) -> anyhow::Result<()> {
        drop(self.stdin.take());
        match tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                // Not our concern here (some peers ignore stdin EOF); don't leak it.
                let _ = self.child.start_kill();
                let _ = self.child.wait().await;
            }
        }
        Ok(())
    }

    /// Memory of the bridge and all its descendants (node and python bridges may
    /// spawn helpers), summed.
    pub fn memory(&self) -> Memory {
        let mut total = Memory::default();
        for pid in process_tree(self.pid) {
            if let Some(m) = Memory::of(pid) {
                total.rss_kb += m.rss_kb;
                total.hwm_kb += m.hwm_kb;
            }
        }
        total
    }

    /// Resident memory of the bridge process by mapping (binary, heap, stacks…),
    /// largest first; printed with MCPGW_BENCH_SMAPS=1 to see what idle RSS is made of.
    pub fn rss_by_mapping(&self) -> String {
        let smaps =
            std::fs::read_to_string(format!("/proc/{}/smaps", self.pid)).unwrap_or_default();
        let mut by_name: Vec<(String, u64)> = Vec::new();
        let mut name = String::new();
        for line in smaps.lines() {
            let mut fields = line.split_whitespace();
            let first = fields.next().unwrap_or("");
            if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                name = fields.nth(4).unwrap_or("[anon]").to_owned();
            } else if first == "Rss:" {
                let kb = fields
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                match by_name.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, total)) => *total += kb,
                    None => by_name.push((name.clone(), kb)),
                }
            }
        }
        by_name.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        let threads =
            std::fs::read_dir(format!("/proc/{}/task", self.pid)).map_or(0, |d| d.count());
        let parts: Vec<String> = by_name
            .iter()
            .filter(|(_, kb)| *kb >= 64)
            .map(|(n, kb)| format!("{kb} kB {n}"))
            .collect();
        format!("{threads} threads; {}", parts.join(", "))
    }

    pub fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(15)..];
        if tail.is_empty() {
            String::new()
        } else {
            format!("\n  {} stderr:\n    {}", self.name, tail.join("\n    "))
        }
    }
}

/// Reads a bridge's stdout a line at a time, the way a client that takes large
/// results well does: straight into the line's buffer, a megabyte per read (one
/// copy out of the pipe, and few wake-ups), not through a second buffer.
pub struct LineReader {
    stdout: ChildStdout,
    /// Bytes read past the last line handed out, from `carry_at`.
    carry: Vec<u8>,
    carry_at: usize,
}

impl LineReader {
    const READ_SIZE: usize = 1 << 20;

    fn new(stdout: ChildStdout) -> Self {
        Self {
            stdout,
            carry: Vec::new(),
            carry_at: 0,
        }
    }

    /// The next line into `buf` (cleared first), newline included; 0 at EOF.
    pub async fn read_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        buf.clear();
        let carried = &self.carry[self.carry_at..];
        if let Some(at) = memchr::memchr(b'\n', carried) {
            buf.extend_from_slice(&carried[..=at]);
            self.carry_at += at + 1;
            return Ok(buf.len());
        }
        buf.extend_from_slice(carried);
        self.carry.clear();
        self.carry_at = 0;
        loop {
            let start = buf.len();
            buf.reserve(Self::READ_SIZE);
            if self.stdout.read_buf(buf).await? == 0 {
                return Ok(buf.len());
            }
            if let Some(at) = memchr::memchr(b'\n', &buf[start..]) {
                let end = start + at + 1;
                self.carry.extend_from_slice(&buf[end..]);
                buf.truncate(end);
                return Ok(buf.len());
            }
        }
    }
}

/// The `id` of a JSON-RPC response line, if it is a response with a numeric id.
pub fn response_id(line: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        id: Option<u64>,
        #[serde(borrow)]
        method: Option<&'a serde_json::value::RawValue>,
    }
    // Cheap for small lines; for a 10 MB line this walks the bytes once (after the
    // clock has stopped: see `recv_response_at`).
    let probe: Probe = serde_json::from_slice(line).ok()?;
    if probe.method.is_some() {
        None
    } else {
        probe.id
    }
}

#[derive(Default, Clone, Copy, Debug)]
pub struct Memory {
    pub rss_kb: u64,
    pub hwm_kb: u64,
}

impl Memory {
    /// VmRSS and VmHWM (peak RSS) from /proc/<pid>/status.
    pub fn of(pid: u32) -> Option<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        Some(Self {
            rss_kb: field("VmRSS:")?,
            hwm_kb: field("VmHWM:")?,
        })
    }
}

/// `root` and every live descendant, from the parent links in /proc/*/stat.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The command name may hold spaces and parentheses: fields follow the last ')'.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            if let Some(ppid) = rest
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u32>().ok())
            {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree
}
