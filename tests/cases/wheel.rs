//! The Python wheel (`pyproject.toml`, maturin `bindings = "bin"`): built for this
//! machine, installed into a fresh venv, and the `mcpgw` it puts on the venv's PATH
//! runs and relays a session to the scriptable upstream (`tests/server/`), the way
//! `uvx --from aliyun-mcpgw mcpgw ecs` / `pipx install aliyun-mcpgw` users run it.
//!
//! The build uses the `wheel-test` profile (a dev build without debug info) in its
//! own target dir, `target/wheel`, so it never touches the binary the other tests
//! run and is cached between runs. maturin comes from `sh tests/peers/install.sh`.
#![cfg(target_os = "linux")]

use crate::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::transport::{INITIALIZED, init_line};
use crate::server::{TOKEN, TestServer, WAIT};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/` of this build (the test binary's mcpgw is `target/debug/mcpgw`).
fn target_dir() -> PathBuf {
    let bin = crate::mcpgw_bin();
    bin.parent()
        .and_then(Path::parent)
        .expect("mcpgw binary under target/<profile>/")
        .to_path_buf()
}

fn maturin() -> PathBuf {
    let path = root().join("tests/peers/.venv/bin/maturin");
    assert!(
        path.is_file(),
        "{} is missing: run `sh tests/peers/install.sh` (it installs maturin from PyPI into tests/peers/.venv)",
        path.display()
    );
    path
}

/// Builds the wheel into `out` and returns its path.
fn build_wheel(out: &Path) -> PathBuf {
    let started = Instant::now();
    let mut cmd = Command::new(maturin());
    cmd.current_dir(root())
        .args([
            "build",
            "--locked",
            "--profile",
            "wheel-test",
            "--target-dir",
        ])
        .arg(target_dir().join("wheel"))
        .arg("--out")
        .arg(out);
    // Cargo's settings for this test run are not the nested build's.
    for (key, _) in std::env::vars() {
        if key.starts_with("CARGO_") && key != "CARGO_HOME" {
            cmd.env_remove(&key);
        }
    }
    let output = cmd.output().expect("run maturin");
    assert!(
        output.status.success(),
        "maturin build failed\nstdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    eprintln!("wheel built in {:.1?}", started.elapsed());
    let wheels: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(
        wheels.len(),
        1,
        "one wheel in {}: {wheels:?}",
        out.display()
    );
    wheels.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn wheel_installs_into_a_fresh_venv_and_relays() {
    let tmp = TempDir::new().unwrap();
    let dist = tmp.path().join("dist");
    let wheel = tokio::task::block_in_place(|| build_wheel(&dist));
    let name = wheel.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with(concat!(
            "aliyun_mcpgw-",
            env!("CARGO_PKG_VERSION"),
            "-py3-none-"
        )),
        "wheel name: {name}"
    );

    // A fresh venv from the machine's python3, and the wheel alone (no index).
    let venv = tmp.path().join("venv");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap_or_else(|err| panic!("run {python} -m venv ({err}): install Python 3 with venv"));
    assert!(out.status.success(), "venv: {}", text(&out.stderr));
    let out = Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip install {name}: {}",
        text(&out.stderr)
    );

    let installed = venv.join("bin/mcpgw");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(
        text(&version.stdout).trim(),
        concat!("mcpgw ", env!("CARGO_PKG_VERSION")),
        "{}",
        text(&version.stderr)
    );

    // A relay round trip through the wheel's binary.
    let server = TestServer::start().await;
    let home = TempDir::new().unwrap();
    let mut cmd = Command::new(&installed);
    crate::isolate(&mut cmd, home.path());
    cmd.arg(server.url())
        .env("MCPGW_BEARER_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn the wheel's mcpgw");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();

    stdin
        .write_all(format!("{}\n", init_line(0)).as_bytes())
        .await
        .unwrap();
    let line = tokio::time::timeout(WAIT, stdout.next_line())
        .await
        .expect("initialize answered in time")
        .unwrap()
        .expect("a stdout line");
    let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["id"], 0, "{answer}");
    assert!(answer["result"]["protocolVersion"].is_string(), "{answer}");

    stdin
        .write_all(format!("{INITIALIZED}\n").as_bytes())
        .await
        .unwrap();
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    stdin
        .write_all(format!("{ping}\n").as_bytes())
        .await
        .unwrap();
    let line = tokio::time::timeout(WAIT, stdout.next_line())
        .await
        .expect("ping answered in time")
        .unwrap()
        .expect("a stdout line");
    let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["id"], 1, "{answer}");
    assert!(answer.get("result").is_some(), "{answer}");

    drop(stdin);
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("exit after stdin EOF")
        .unwrap();
    assert!(status.success(), "exit status {status}");

    // The upstream saw the session with the bearer token.
    let posts = server.posts();
    assert!(
        posts
            .iter()
            .any(|p| p.rpc_method().as_deref() == Some("ping")),
        "{}",
        server.describe()
    );
    for post in &posts {
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}
