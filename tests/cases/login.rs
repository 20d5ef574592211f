//! `mcpgw login/status/logout` and the relay's use of the stored login, against the
//! stand-in authorization server (tests/authserver) and, for the keychain, a real
//! Secret Service: a private `dbus-daemon` with an unlocked `gnome-keyring-daemon`.
//!
//! The browser is `$BROWSER` set to a small script that does what a signed-in
//! user's browser does: follow the authorize redirect into mcpgw's loopback
//! callback (curl). Every process runs under a deadline that fails the test.
//!
//! Linux only: they use /proc/net/tcp, sh, curl and GNOME Keyring.
#![cfg(target_os = "linux")]

use crate::text;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::authserver::{ACCOUNT_ID, AuthServer, CLIENT_ID, Consent, LOGIN_NAME};
use crate::isolate;

/// Generous: a passing test never waits for it.
const DEADLINE: Duration = Duration::from_secs(90);

// ---- a real Secret Service ----------------------------------------------------------

/// A private D-Bus session with an unlocked GNOME Keyring, torn down on drop.
struct Keyring {
    dbus: Child,
    keyring: Child,
    address: String,
    runtime_dir: PathBuf,
}

fn require_program(name: &str) {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{name}` is not installed: the keychain tests need a real Secret Service. \
         Install it with `apt-get install -y gnome-keyring dbus dbus-x11 libsecret-tools libglib2.0-bin` \
         (what .ci/run does); these tests never pass silently without it"
    );
}

impl Keyring {
    fn start(home: &Path) -> Keyring {
        for program in [
            "dbus-daemon",
            "gnome-keyring-daemon",
            "gdbus",
            "secret-tool",
        ] {
            require_program(program);
        }
        let runtime_dir = home.join("run");
        std::fs::create_dir_all(&runtime_dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let mut dbus = Command::new("dbus-daemon")
            .arg("--session")
            .arg("--nofork")
            .arg("--print-address=1")
            .arg(format!(
                "--address=unix:path={}",
                runtime_dir.join("bus").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        // dbus-daemon prints its address once it listens: that is the readiness signal.
        let mut address = String::new();
        BufReader::new(dbus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon printed `{address}`"
        );
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start gnome-keyring-daemon");
        // The password of the login keyring it creates and unlocks.
        keyring
            .stdin
            .take()
            .unwrap()
            .write_all(b"mcpgw-test-password")
            .unwrap();
        let ready = Command::new("gdbus")
            .args([
                "wait",
                "--session",
                "--timeout",
                "60",
                "org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .status()
            .expect("run gdbus wait");
        assert!(
            ready.success(),
            "gnome-keyring-daemon never claimed org.freedesktop.secrets"
        );
        Keyring {
            dbus,
            keyring,
            address,
            runtime_dir,
        }
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("XDG_RUNTIME_DIR", &self.runtime_dir);
    }

    /// The stored secret of `profile`, read with libsecret's own tool.
    fn lookup(&self, profile: &str) -> Option<String> {
        let mut cmd = Command::new("secret-tool");
        cmd.args(["lookup", "service", "mcpgw", "username", profile]);
        self.apply(&mut cmd);
        let out = cmd.output().expect("run secret-tool");
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.dbus.kill();
        let _ = self.dbus.wait();
    }
}

// ---- the setup of one test -------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Keychain,
    File,
}

/// What the fake browser does with the URL mcpgw gives it.
enum Browser {
    /// Follow the redirect into the callback, like a signed-in user.
    Follow,
    /// Only note the URL (a user who has not finished yet).
    RecordOnly,
    /// Ignore the URL and load this (old) callback URL instead.
    Replay(String),
    /// Follow, but only once the test opens the gate ([`Setup::open_browser_gate`]).
    GatedFollow,
}

struct Setup {
    home: tempfile::TempDir,
    server: AuthServer,
    redirect_uri: String,
    port: u16,
    keyring: Option<Keyring>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Setup {
    fn new(store: StoreKind) -> Setup {
        let home = tempfile::tempdir().unwrap();
        let server = AuthServer::start();
        let port = free_port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");
        server.register_redirect(&redirect_uri);
        let keyring = (store == StoreKind::Keychain).then(|| Keyring::start(home.path()));
        let setup = Setup {
            home,
            server,
            redirect_uri,
            port,
            keyring,
        };
        setup.set_browser(Browser::Follow);
        setup
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    fn set_browser(&self, browser: Browser) {
        let dir = self.home.path().display();
        let action = match browser {
            Browser::Follow => format!(
                "curl -sS --noproxy '*' -L --max-redirs 2 -o '{dir}/page.html' -w '%{{url_effective}}\\n' \"$1\" >> '{dir}/visited.log'"
            ),
            Browser::RecordOnly => ":".to_owned(),
            Browser::GatedFollow => {
                let gate = self.path("gate");
                let made = Command::new("mkfifo").arg(&gate).status().unwrap();
                assert!(made.success());
                format!(
                    "cat '{dir}/gate' > /dev/null\ncurl -sS --noproxy '*' -L --max-redirs 2 -o '{dir}/page.html' -w '%{{url_effective}}\\n' \"$1\" >> '{dir}/visited.log'"
                )
            }
            Browser::Replay(url) => {
                format!(
                    "curl -sS --noproxy '*' -o '{dir}/page.html' -w '%{{url_effective}}\\n' '{url}' >> '{dir}/visited.log'"
                )
            }
        };
        let script = format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{dir}/opened.log'\n{action}\n");
        let path = self.path("browser.sh");
        std::fs::write(&path, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    /// Lets a [`Browser::GatedFollow`] browser go on (it is blocked reading the fifo).
    fn open_browser_gate(&self) {
        drop(
            std::fs::OpenOptions::new()
                .write(true)
                .open(self.path("gate"))
                .unwrap(),
        );
    }

    fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn page(&self) -> String {
        std::fs::read_to_string(self.path("page.html")).unwrap_or_default()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(crate::mcpgw_bin());
        isolate(&mut cmd, self.home.path());
        cmd.args(args)
            .env("MCPGW_CLIENT_ID", CLIENT_ID)
            .env("MCPGW_SCOPE", "openid /acs/mcp-server")
            .env(
                "MCPGW_AUTHORIZATION_ENDPOINT",
                self.server.authorization_endpoint(),
            )
            .env("MCPGW_TOKEN_ENDPOINT", self.server.token_endpoint())
            .env(
                "MCPGW_REVOCATION_ENDPOINT",
                self.server.revocation_endpoint(),
            )
            .env("MCPGW_USERINFO_ENDPOINT", self.server.userinfo_endpoint())
            .env("MCPGW_REDIRECT_URI", &self.redirect_uri)
            .env("MCPGW_SERVICES", format!("ecs={}", self.server.mcp_url()))
            .env("BROWSER", self.path("browser.sh"))
            .env_remove("SSH_CONNECTION")
            .env_remove("SSH_TTY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("MCP_TIMEOUT");
        match &self.keyring {
            Some(keyring) => keyring.apply(&mut cmd),
            None => {
                cmd.env("MCPGW_TOKEN_STORE", "file");
            }
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        run(self.command(args), None)
    }

    fn login(&self) -> Output {
        let out = self.run(&["login", "-vvv"]);
        assert!(out.status.success(), "login failed:\n{}", text(&out.stderr));
        out
    }

    fn status_json(&self) -> (Value, i32) {
        let out = self.run(&["status", "--json"]);
        let value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("status --json printed {}", text(&out.stdout)));
        (value, out.status.code().unwrap())
    }

    fn token_file(&self) -> PathBuf {
        self.path(".local/share/mcpgw/tokens/default.json")
    }
}

/// Runs a process to completion under [`DEADLINE`], feeding it `stdin`.
fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mcpgw");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input.as_bytes()).unwrap();
    }
    wait(child)
}

fn wait(child: Child) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("mcpgw (pid {pid}) did not finish within {DEADLINE:?}");
        }
    }
}

/// A running mcpgw whose stderr is read as it comes, so a test can wait for a
/// given log line before it lets the next thing happen.
struct Running {
    child: Child,
    stderr_lines: mpsc::Receiver<String>,
    stderr_all: std::sync::Arc<std::sync::Mutex<String>>,
    stderr_done: std::thread::JoinHandle<()>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

fn spawn_streaming(mut cmd: Command, stdin: &str) -> Running {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn mcpgw");
    let stderr = child.stderr.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, stderr_lines) = mpsc::channel();
    let stderr_all = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let all = stderr_all.clone();
    let stderr_done = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.lock().unwrap().push_str(&format!("{line}\n"));
            let _ = tx.send(line);
        }
    });
    let stdout = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Running {
        child,
        stderr_lines,
        stderr_all,
        stderr_done,
        stdout,
    }
}

impl Running {
    fn wait_for_line(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            match self
                .stderr_lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) if pred(&line) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no stderr line {what}; stderr so far:\n{}",
                    self.stderr_all.lock().unwrap()
                ),
            }
        }
    }

    fn finish(self) -> Output {
        let Running {
            child,
            stderr_all,
            stderr_done,
            stdout,
            ..
        } = self;
        let pid = child.id();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut child = child;
            let _ = tx.send(child.wait());
        });
        let status = match rx.recv_timeout(DEADLINE) {
            Ok(status) => status.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                panic!("mcpgw (pid {pid}) did not finish within {DEADLINE:?}");
            }
        };
        let stdout = stdout.join().unwrap();
        stderr_done.join().unwrap();
        let stderr = stderr_all.lock().unwrap().clone().into_bytes();
        Output {
            status,
            stdout,
            stderr,
        }
    }
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;

fn session_input() -> String {
    format!("{INITIALIZE}\n{INITIALIZED}\n{TOOLS_LIST}\n")
}

/// The JSON-RPC responses a relay printed, by id.
fn responses(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("stdout line is not JSON: {line}"))
        })
        .collect()
}

fn response(out: &Output, id: i64) -> Value {
    responses(out)
        .into_iter()
        .find(|r| r["id"] == json!(id))
        .unwrap_or_else(|| {
            panic!(
                "no response with id {id}; stdout:\n{}\nstderr:\n{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        })
}

fn assert_session_ok(out: &Output) {
    let init = response(out, 1);
    assert_eq!(
        init["result"]["serverInfo"]["name"],
        "stand-in",
        "initialize: {init}\nstderr:\n{}",
        text(&out.stderr)
    );
    let tools = response(out, 2);
    assert_eq!(
        tools["result"]["tools"][0]["name"], "DescribeRegions",
        "tools/list: {tools}"
    );
    assert!(
        out.status.success(),
        "relay exit: {:?}\n{}",
        out.status,
        text(&out.stderr)
    );
}

fn assert_no_secret_in(output: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !output.contains(secret.as_str()),
            "a token or code (`{}…`) appeared in the logs",
            &secret[..secret.len().min(6)]
        );
    }
}

/// Reads the child's stderr until the sign-in URL line shows up (the listener is
/// bound before the URL is printed). Returns the URL and the remaining reader.
fn wait_for_url_line(child: &mut Child) -> (String, mpsc::Receiver<String>) {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + DEADLINE;
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("no sign-in URL on stderr");
        if line.starts_with("http://127.0.0.1:") && line.contains("/oauth2/v1/auth?") {
            return (line, rx);
        }
    }
}

/// Loads the authorize URL without following the redirect: what a browser on
/// another machine would end up showing in its address bar.
fn redirect_target(url: &str) -> String {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
            url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    text(&out.stdout)
}

// ---- end to end ------------------------------------------------------------------------

#[test]
fn login_status_relay_refresh_logout_end_to_end_with_the_real_secret_service() {
    let setup = Setup::new(StoreKind::Keychain);
    // Alibaba's quirk: expires_in as a string.
    setup.server.set_expires_in_as_string(true);
    let mut logs = String::new();

    let started = Instant::now();
    let login = setup.login();
    let login_ms = started.elapsed().as_millis();
    logs.push_str(&text(&login.stderr));
    let stdout = text(&login.stdout);
    assert!(
        stdout.contains(LOGIN_NAME) && stdout.contains(ACCOUNT_ID),
        "who is logged in: {stdout}"
    );
    assert!(
        stdout.contains("claude mcp add --scope user aliyun-ecs -- mcpgw ecs"),
        "{stdout}"
    );
    assert!(
        setup.page().contains("Signed in to Alibaba Cloud")
            && setup.page().contains("close this tab")
    );
    let counts = setup.server.counts();
    assert_eq!((counts.authorize, counts.code_exchanges), (1, 1));
    assert_eq!(setup.lines("opened.log").len(), 1);
    eprintln!("measured: login via $BROWSER + loopback callback + Secret Service: {login_ms} ms");

    // The record really is in GNOME Keyring, under service mcpgw / account default.
    let stored: Value = serde_json::from_str(
        &setup
            .keyring
            .as_ref()
            .unwrap()
            .lookup("default")
            .expect("entry in the keyring"),
    )
    .unwrap();
    assert!(
        setup
            .server
            .is_access_token_valid(stored["access_token"].as_str().unwrap())
    );
    assert_eq!(stored["client_id"], CLIENT_ID);
    assert_eq!(stored["token_endpoint"], setup.server.token_endpoint());
    assert!(
        stored["expires_at"].as_i64().unwrap() > stored["obtained_at"].as_i64().unwrap() + 3500
    );
    assert!(
        !setup.token_file().exists(),
        "no token file with the keychain store"
    );

    let (status, code) = setup.status_json();
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["logged_in"], true);
    assert_eq!(status["identity"]["name"], LOGIN_NAME);
    assert_eq!(status["refresh_token"], true);
    assert_eq!(status["client_id"], CLIENT_ID);
    assert!(
        status["access_token_expires_in"].as_i64().unwrap() > 3500,
        "{status}"
    );
    assert!(
        status["store"].as_str().unwrap().contains("Secret Service"),
        "{status}"
    );
    assert_eq!(status["services"][0]["name"], "ecs");
    let human = setup.run(&["status"]);
    assert!(
        text(&human.stdout).contains("expires in 59 min")
            || text(&human.stdout).contains("expires in 1 h"),
        "{}",
        text(&human.stdout)
    );

    let relay = run(setup.command(&["-vvv", "ecs"]), Some(&session_input()));
    logs.push_str(&text(&relay.stderr));
    assert_session_ok(&relay);
    assert_eq!(
        setup.server.counts().refreshes,
        0,
        "a fresh token is used as is"
    );

    // The server ends the access tokens early; the relay's 401 → refresh → retry is invisible.
    setup.server.expire_access_tokens();
    let started = Instant::now();
    let relay = run(setup.command(&["-vvv", "ecs"]), Some(&session_input()));
    eprintln!(
        "measured: relay session with a transparent refresh: {} ms",
        started.elapsed().as_millis()
    );
    logs.push_str(&text(&relay.stderr));
    assert_session_ok(&relay);
    let counts = setup.server.counts();
    assert_eq!(counts.refreshes, 1);
    assert!(
        counts.mcp_unauthorized >= 1,
        "the old token was tried first"
    );
    let stored: Value =
        serde_json::from_str(&setup.keyring.as_ref().unwrap().lookup("default").unwrap()).unwrap();
    assert!(
        setup
            .server
            .is_access_token_valid(stored["access_token"].as_str().unwrap()),
        "the refreshed token was stored"
    );
    let rotated = stored["refresh_token"].as_str().unwrap().to_owned();

    let logout = setup.run(&["logout", "-vvv"]);
    logs.push_str(&text(&logout.stderr));
    assert!(logout.status.success(), "{}", text(&logout.stderr));
    assert!(
        text(&logout.stdout).contains("Logged out of profile `default` and revoked its tokens"),
        "{}",
        text(&logout.stdout)
    );
    assert_eq!(
        setup.server.counts().revocations,
        2,
        "refresh and access token revoked"
    );
    assert!(setup.server.is_refresh_token_revoked(&rotated));
    assert!(
        setup.keyring.as_ref().unwrap().lookup("default").is_none(),
        "entry removed from the keyring"
    );
    let (status, code) = setup.status_json();
    assert_eq!((code, &status["logged_in"]), (1, &json!(false)));

    // Most verbose logging, and still no token or code in any of it.
    assert!(logs.contains("refresh"), "-vvv logs mention the refresh");
    assert_no_secret_in(&logs, &setup.server.issued_secrets());
}

// ---- the file store ------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn file_store_is_opt_in_private_and_atomic() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let setup = Setup::new(StoreKind::File);
    let login = setup.login();
    assert!(
        text(&login.stderr).contains("plain file"),
        "a warning at each login: {}",
        text(&login.stderr)
    );
    let path = setup.token_file();
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let first: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(
        setup
            .server
            .is_access_token_valid(first["access_token"].as_str().unwrap())
    );

    let login = setup.login();
    assert!(text(&login.stderr).contains("plain file"));
    let second = std::fs::metadata(&path).unwrap();
    assert_ne!(
        meta.ino(),
        second.ino(),
        "replaced by rename, not rewritten in place"
    );
    assert_eq!(second.permissions().mode() & 0o777, 0o600);
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["default.json"], "no temp files left behind");
    let (status, code) = setup.status_json();
    assert_eq!(code, 0);
    assert!(
        status["store"].as_str().unwrap().starts_with("file "),
        "{status}"
    );
}

#[test]
fn no_reachable_keychain_is_an_error_naming_the_file_store() {
    let setup = Setup::new(StoreKind::File);
    let mut cmd = setup.command(&["login"]);
    let empty = setup.path("no-bus");
    std::fs::create_dir_all(&empty).unwrap();
    cmd.env_remove("MCPGW_TOKEN_STORE")
        .env("XDG_RUNTIME_DIR", &empty);
    let out = run(cmd, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("MCPGW_TOKEN_STORE=file"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        setup.server.counts().authorize,
        0,
        "no browser before the store is known to work"
    );
}

// ---- security ------------------------------------------------------------------------------

#[test]
fn replayed_callback_and_wrong_state_are_refused() {
    let setup = Setup::new(StoreKind::File);
    setup.login();
    let callback = setup
        .lines("visited.log")
        .pop()
        .expect("the browser reached the callback");
    assert!(
        callback.contains("code=") && callback.contains("state="),
        "{callback}"
    );

    // The listener accepted its one callback and is gone.
    let replay = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-o", "/dev/null", &callback])
        .output()
        .unwrap();
    assert_eq!(
        replay.status.code(),
        Some(7),
        "connection refused after the login"
    );

    // A new login receiving the old callback (old state, old code) refuses it
    // and goes on waiting for its own, here until it times out.
    setup.set_browser(Browser::Replay(callback));
    let out = setup.run(&["login", "--timeout", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("state does not match") && stderr.contains("still waiting"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no sign-in came back within 3 s"),
        "{stderr}"
    );
    assert!(
        setup.page().contains("does not belong to this login"),
        "the browser is told too"
    );
    assert_eq!(
        setup.server.counts().code_exchanges,
        1,
        "the replayed code never reached the token endpoint"
    );
}

// ---- the callback listener under stray requests ------------------------------------

/// `mcpgw login --no-browser` waiting for its callback: the process, its sign-in
/// URL, and the rest of its stderr (read until it exits).
fn start_waiting_login(setup: &Setup, args: &[&str]) -> (Child, String, mpsc::Receiver<String>) {
    let mut all = vec!["login", "--no-browser", "--timeout", "60"];
    all.extend_from_slice(args);
    let mut cmd = setup.command(&all);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (url, rest) = wait_for_url_line(&mut child);
    (child, url, rest)
}

/// Waits for a [`start_waiting_login`] process: its output, stderr included.
fn finish_login(child: Child, rest: mpsc::Receiver<String>) -> (Output, String) {
    let out = wait(child);
    let stderr: Vec<String> = rest.iter().collect();
    (out, stderr.join("\n"))
}

/// One request with curl (`extra` arguments first): the HTTP status and the body.
fn curl(extra: &[&str], url: &str) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--noproxy", "*", "-w", "\n%{http_code}"])
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let all = text(&out.stdout);
    let (body, status) = all.rsplit_once('\n').unwrap_or(("", &all));
    (status.to_owned(), body.to_owned())
}

/// One request to the callback path, as some local process might send it: the
/// HTTP status and the body.
fn get_callback(setup: &Setup, query: &str, host: Option<&str>) -> (String, String) {
    let host = host.map(|host| format!("Host: {host}"));
    let extra: Vec<&str> = host.iter().flat_map(|h| ["-H", h.as_str()]).collect();
    let url = format!("http://127.0.0.1:{}/callback?{query}", setup.port);
    curl(&extra, &url)
}

/// What the signed-in user's browser does with the sign-in URL: follow it into
/// the callback. The final HTTP status and page.
fn follow_sign_in(url: &str) -> (String, String) {
    curl(&["-L", "--max-redirs", "2"], url)
}

fn state_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("the sign-in URL has a state")
}

#[test]
fn a_callback_with_the_wrong_state_is_refused_and_the_login_goes_on() {
    let setup = Setup::new(StoreKind::File);
    let (child, url, rest) = start_waiting_login(&setup, &[]);
    // Any local process (or an old tab) can reach the port: none of them ends
    // the login, each is told why it was refused.
    for query in [
        "code=planted&state=not-this-one",
        "code=planted",
        "error=access_denied",
    ] {
        let (status, body) = get_callback(&setup, query, None);
        assert_eq!(status, "400", "{query}: {body}");
        assert!(body.contains("does not belong to this login"), "{body}");
    }
    assert_eq!(follow_sign_in(&url).0, "200");
    let (out, stderr) = finish_login(child, rest);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("still waiting"), "{stderr}");
    assert_eq!(
        setup.server.counts().code_exchanges,
        1,
        "only the real code reached the token endpoint"
    );
    assert_eq!(setup.status_json().1, 0);
}

#[test]
fn a_request_for_another_host_is_refused_and_the_login_goes_on() {
    let setup = Setup::new(StoreKind::File);
    let (child, url, rest) = start_waiting_login(&setup, &[]);
    // A DNS-rebinding page at evil.example:PORT, even with the right state.
    let state = state_of(&url);
    let evil = format!("evil.example:{}", setup.port);
    let (status, body) = get_callback(&setup, &format!("code=rebound&state={state}"), Some(&evil));
    assert_eq!(status, "400", "{body}");
    let (status, _) = get_callback(&setup, "x=1", Some(&format!("localhost:{}", setup.port)));
    assert_eq!(status, "400", "the loopback names with the port are served");
    assert_eq!(follow_sign_in(&url).0, "200");
    let (out, stderr) = finish_login(child, rest);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(setup.server.counts().code_exchanges, 1);
}

#[test]
fn an_idle_connection_does_not_hold_up_the_callback() {
    let setup = Setup::new(StoreKind::File);
    let (child, url, rest) = start_waiting_login(&setup, &[]);
    // Connected first, saying nothing (or half a request): each alone would
    // hold a one-at-a-time listener for its 10 s head timeout.
    let idle = std::net::TcpStream::connect(("127.0.0.1", setup.port)).unwrap();
    let mut half = std::net::TcpStream::connect(("127.0.0.1", setup.port)).unwrap();
    half.write_all(b"GET /callback HTTP/1.1\r\n").unwrap();
    let started = Instant::now();
    assert_eq!(follow_sign_in(&url).0, "200");
    let elapsed = started.elapsed();
    let (out, stderr) = finish_login(child, rest);
    assert!(out.status.success(), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(5),
        "the callback waited {elapsed:?} behind idle connections"
    );
    drop((idle, half));
}

#[test]
fn a_huge_timeout_waits_as_long_as_it_takes() {
    let setup = Setup::new(StoreKind::File);
    // u64::MAX seconds: no deadline at all, rather than an abort on overflow.
    let out = setup.run(&["login", "--timeout", "18446744073709551615"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(setup.status_json().1, 0);
}

#[test]
fn a_huge_expires_in_is_a_long_valid_token() {
    let setup = Setup::new(StoreKind::File);
    // An `expires_in` at i64::MAX: valid for (very) long, no abort on overflow.
    setup.server.set_expires_in(i64::MAX as u64);
    let out = setup.run(&["login"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (status, code) = setup.status_json();
    assert_eq!(code, 0, "{status}");
    assert_eq!(status["usable"], json!(true), "{status}");
}

#[test]
fn remote_text_never_reaches_the_terminal_or_page_raw() {
    let setup = Setup::new(StoreKind::File);
    // A server that puts escape sequences and a bidi override into the claims.
    setup
        .server
        .set_login_name("alice\x1b[31m\x1b]0;pwned\x07\u{202e}moc.live");
    setup.server.set_server_name("stand-in\x1b[2J\u{9b}");
    let out = setup.login();
    let login_out = text(&out.stdout) + &text(&out.stderr);
    let status = setup.run(&["status"]);
    let status_out = text(&status.stdout) + &text(&status.stderr);
    let doctor = setup.run(&["doctor"]);
    let doctor_out = text(&doctor.stdout) + &text(&doctor.stderr);
    for (what, shown) in [
        ("login", &login_out),
        ("status", &status_out),
        ("doctor", &doctor_out),
    ] {
        assert!(
            !shown.contains('\x1b') && !shown.contains('\x07') && !shown.contains('\u{202e}'),
            "{what} printed remote text raw: {shown:?}"
        );
    }
    assert!(status_out.contains("alice\u{FFFD}[31m"), "{status_out}");
    assert!(doctor_out.contains("stand-in\u{FFFD}[2J"), "{doctor_out}");
    assert!(!setup.page().contains('\x1b'), "{}", setup.page());

    // A declined sign-in whose description carries escape sequences.
    setup.server.set_consent(Consent::Deny);
    setup
        .server
        .set_deny_description("no\x1b]0;pwned\x07\x1b[2J\u{9b}31m");
    let out = setup.run(&["login"]);
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(shown.contains("declined"), "{shown}");
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07') && !shown.contains('\u{9b}'),
        "{shown:?}"
    );
    let page = setup.page();
    assert!(page.contains("Sign-in not completed"), "{page}");
    assert!(
        !page.contains('\x1b') && !page.contains('\u{9b}'),
        "{page:?}"
    );
}

#[test]
fn declined_sign_in_is_a_clear_error_in_browser_and_terminal() {
    let setup = Setup::new(StoreKind::File);
    setup.server.set_consent(Consent::Deny);
    let out = setup.run(&["login"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("declined"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        setup.page().contains("Sign-in not completed") && setup.page().contains("access_denied")
    );
    assert_eq!(setup.status_json().1, 1);
}

#[test]
fn listener_is_loopback_only_answers_404_elsewhere_and_times_out() {
    let setup = Setup::new(StoreKind::File);
    let mut cmd = setup.command(&["login", "--no-browser", "--timeout", "30"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (url, _rest) = wait_for_url_line(&mut child);
    assert!(
        url.starts_with(&setup.server.authorization_endpoint()),
        "{url}"
    );
    assert_eq!(
        setup.lines("opened.log").len(),
        0,
        "--no-browser opens nothing"
    );

    // Every listening socket on the callback port is bound to 127.0.0.1.
    let port_hex = format!(":{:04X}", setup.port);
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap()
        + &std::fs::read_to_string("/proc/net/tcp6").unwrap_or_default();
    let listening: Vec<&str> = tcp
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() > 3 && cols[1].ends_with(&port_hex) && cols[3] == "0A").then_some(cols[1])
        })
        .collect();
    assert_eq!(
        listening,
        [format!("0100007F{port_hex}")],
        "bound addresses"
    );

    let other = Command::new("curl")
        .args([
            "-sS",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://127.0.0.1:{}/favicon.ico", setup.port),
        ])
        .output()
        .unwrap();
    assert_eq!(text(&other.stdout), "404");
    let _ = child.kill();
    let _ = child.wait();

    // A non-loopback redirect URI is refused before anything is bound.
    let out = setup.run(&[
        "login",
        "--redirect-uri",
        &format!("http://0.0.0.0:{}/callback", setup.port),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("never listens on other addresses"),
        "{}",
        text(&out.stderr)
    );

    let started = Instant::now();
    let out = setup.run(&["login", "--no-browser", "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no sign-in came back within 1 s"),
        "{}",
        text(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn busy_callback_port_names_the_alternative() {
    let setup = Setup::new(StoreKind::File);
    let _taken = std::net::TcpListener::bind(("127.0.0.1", setup.port)).unwrap();
    let out = setup.run(&["login"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("already in use")
            && stderr.contains("--redirect-uri")
            && stderr.contains("oauth.redirectUri"),
        "{stderr}"
    );
    assert_eq!(setup.server.counts().authorize, 0);
}

#[test]
fn missing_client_id_says_where_to_get_one() {
    let setup = Setup::new(StoreKind::File);
    let mut cmd = setup.command(&["login"]);
    cmd.env_remove("MCPGW_CLIENT_ID");
    let out = run(cmd, None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no OAuth client id")
            && stderr.contains("NativeApp")
            && stderr.contains("MCPGW_CLIENT_ID"),
        "{stderr}"
    );
}

#[test]
fn paste_mode_takes_the_redirected_url_from_the_terminal() {
    let setup = Setup::new(StoreKind::File);
    let mut cmd = setup.command(&["login", "--paste"]);
    cmd.env_remove("BROWSER")
        .env("MCPGW_RESOURCE", "https://openapi-mcp.example/");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (url, _rest) = wait_for_url_line(&mut child);
    // The browser on "another machine" ends at the callback URL it cannot load.
    let callback = redirect_target(&url);
    assert!(callback.starts_with(&setup.redirect_uri), "{callback}");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{callback}").unwrap();
    drop(stdin);
    let out = wait(child);
    assert!(out.status.success(), "paste login failed");
    assert!(text(&out.stdout).contains(LOGIN_NAME));
    // RFC 8707 resource went on the authorize and the token request.
    assert_eq!(
        setup.server.resources(),
        [
            Some("https://openapi-mcp.example/".to_owned()),
            Some("https://openapi-mcp.example/".to_owned())
        ]
    );
    assert_eq!(setup.status_json().1, 0);
}

// ---- refresh -------------------------------------------------------------------------------

#[test]
fn four_relays_share_one_expired_token_and_refresh_once() {
    let setup = Setup::new(StoreKind::Keychain);
    // The login's access token is expired from the start.
    setup.server.set_expires_in(0);
    setup.login();
    setup.server.set_expires_in(3600);
    // The first refresh is held at the server until the other three relays are
    // seen waiting for the lock: all four really need the refresh at once.
    setup.server.hold_refreshes();

    let started = Instant::now();
    let relays: Vec<Running> = (0..4)
        .map(|_| spawn_streaming(setup.command(&["-vv", "ecs"]), &session_input()))
        .collect();
    let mut waiting = 0;
    let mut refreshing = 0;
    for relay in &relays {
        let line = relay.wait_for_line("about refreshing", |l| {
            l.contains("waiting for it") || l.contains("refreshing the access token")
        });
        if line.contains("waiting for it") {
            waiting += 1
        } else {
            refreshing += 1
        }
    }
    assert_eq!(
        (refreshing, waiting),
        (1, 3),
        "one refreshes, three wait on the lock"
    );
    setup.server.open_refreshes();
    let outputs: Vec<Output> = relays.into_iter().map(Running::finish).collect();
    eprintln!(
        "measured: 4 concurrent relays with one shared refresh: {} ms",
        started.elapsed().as_millis()
    );
    for out in &outputs {
        assert_session_ok(out);
    }
    let counts = setup.server.counts();
    assert_eq!(
        counts.refreshes, 1,
        "single-flight refresh across processes"
    );
    assert_eq!(counts.failed_token_requests, 0);
    assert_eq!(
        counts.mcp_unauthorized, 0,
        "refreshed before sending, not after a 401"
    );
    assert_eq!(setup.server.live_refresh_tokens(), 1);
    let all_logs: String = outputs.iter().map(|o| text(&o.stderr)).collect();
    assert_eq!(all_logs.matches("access token refreshed").count(), 1);
    assert_eq!(
        all_logs.matches("refreshed by another process").count(),
        3,
        "the waiters re-read the store"
    );
}

#[test]
fn proactive_refresh_follows_the_margin() {
    let setup = Setup::new(StoreKind::File);
    // 200 s left of an hour-long token: inside the default 5-minute margin, outside
    // a 60 s one. (The margin is at most half a token's lifetime, so the record is
    // made to say the token was issued an hour before it expires.)
    setup.server.set_expires_in(200);
    setup.login();
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(setup.token_file()).unwrap()).unwrap();
    record["obtained_at"] = json!(record["expires_at"].as_i64().unwrap() - 3600);
    std::fs::write(setup.token_file(), record.to_string()).unwrap();
    setup.server.set_expires_in(3600);
    let mut cmd = setup.command(&["ecs"]);
    cmd.env("MCPGW_REFRESH_MARGIN", "60");
    assert_session_ok(&run(cmd, Some(&session_input())));
    assert_eq!(
        setup.server.counts().refreshes,
        0,
        "200 s left is plenty with a 60 s margin"
    );
    assert_session_ok(&run(setup.command(&["ecs"]), Some(&session_input())));
    let counts = setup.server.counts();
    assert_eq!(counts.refreshes, 1, "default margin: refreshed before use");
    assert_eq!(counts.mcp_unauthorized, 0);
    let (status, _) = setup.status_json();
    assert!(
        status["access_token_expires_in"].as_i64().unwrap() > 3500,
        "{status}"
    );
}

#[test]
fn transient_token_errors_are_retried() {
    let setup = Setup::new(StoreKind::File);
    setup.login();
    setup.server.expire_access_tokens();
    setup.server.fail_next_token_requests(2);
    let relay = run(setup.command(&["ecs"]), Some(&session_input()));
    assert_session_ok(&relay);
    let counts = setup.server.counts();
    assert_eq!((counts.failed_token_requests, counts.refreshes), (2, 3));
}

#[test]
fn permanent_refresh_error_clears_the_login_and_says_run_login() {
    let setup = Setup::new(StoreKind::File);
    setup.login();
    setup.server.expire_access_tokens();
    setup.server.revoke_refresh_tokens();
    let mut cmd = setup.command(&["ecs"]);
    cmd.env("MCPGW_NO_AUTO_LOGIN", "1");
    let relay = run(cmd, Some(&format!("{INITIALIZE}\n")));
    let init = response(&relay, 1);
    assert_eq!(init["error"]["code"], -32004, "{init}");
    let message = init["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("invalid_grant") && message.contains("run `mcpgw login`"),
        "{message}"
    );
    assert!(!setup.token_file().exists(), "the dead login was removed");
    assert_eq!(setup.status_json().1, 1);
    assert_eq!(
        setup.server.counts().authorize,
        1,
        "no browser with --no-auto-login"
    );
}

// ---- lazy login from the relay ---------------------------------------------------------------

#[test]
fn three_relays_without_a_login_open_one_browser() {
    let setup = Setup::new(StoreKind::File);
    // The "user" finishes the sign-in only once all three relays are waiting.
    setup.set_browser(Browser::GatedFollow);
    let started = Instant::now();
    let relays: Vec<Running> = (0..3)
        .map(|_| {
            let mut cmd = setup.command(&["-v", "ecs"]);
            cmd.env("MCPGW_AUTO_LOGIN_WAIT", "60");
            spawn_streaming(cmd, &session_input())
        })
        .collect();
    let mut opened = 0;
    let mut waiting = 0;
    for relay in &relays {
        let line = relay.wait_for_line("about the sign-in", |l| {
            l.contains("sign in to Alibaba Cloud in your browser")
                || l.contains("signing in already")
        });
        if line.contains("/oauth2/v1/auth?") {
            opened += 1
        } else {
            waiting += 1
        }
    }
    assert_eq!((opened, waiting), (1, 2), "one login runs, two wait for it");
    setup.open_browser_gate();
    let outputs: Vec<Output> = relays.into_iter().map(Running::finish).collect();
    eprintln!(
        "measured: 3 relays, one lazy login, all answered after {} ms",
        started.elapsed().as_millis()
    );
    for out in &outputs {
        assert_session_ok(out);
    }
    let counts = setup.server.counts();
    assert_eq!(
        counts.authorize, 1,
        "one browser window for three processes"
    );
    assert_eq!(counts.code_exchanges, 1);
    assert_eq!(setup.lines("opened.log").len(), 1);
}

#[test]
fn slow_lazy_login_answers_with_a_clear_error_and_finishes_for_the_next_start() {
    let setup = Setup::new(StoreKind::File);
    setup.set_browser(Browser::RecordOnly);
    let mut cmd = setup.command(&["ecs"]);
    cmd.env("MCPGW_AUTO_LOGIN_WAIT", "1");
    let relay = run(cmd, Some(&format!("{INITIALIZE}\n")));
    let init = response(&relay, 1);
    assert_eq!(init["error"]["code"], -32004, "{init}");
    let message = init["error"]["message"].as_str().unwrap();
    let opened = setup.lines("opened.log");
    assert_eq!(opened.len(), 1);
    assert!(
        message.contains(&opened[0]) && message.contains("Reconnect"),
        "{message}"
    );

    // The relay is gone; the user now finishes the sign-in in the browser.
    let (_, page) = follow_sign_in(&opened[0]);
    assert!(page.contains("Signed in to Alibaba Cloud"), "{page}");
    assert_eq!(
        setup.status_json().1,
        0,
        "the background login stored the tokens"
    );
    let relay = run(setup.command(&["ecs"]), Some(&session_input()));
    assert_session_ok(&relay);
    assert_eq!(setup.server.counts().authorize, 1);
}

#[test]
fn no_auto_login_answers_not_logged_in() {
    let setup = Setup::new(StoreKind::File);
    for flag in [Some("--no-auto-login"), None] {
        let mut cmd = setup.command(&["ecs"]);
        match flag {
            Some(flag) => {
                cmd.arg(flag);
            }
            None => {
                cmd.env("MCPGW_NO_AUTO_LOGIN", "1");
            }
        }
        let relay = run(cmd, Some(&format!("{INITIALIZE}\n")));
        let init = response(&relay, 1);
        assert_eq!(init["error"]["code"], -32004, "{init}");
        assert!(
            init["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not logged in: run `mcpgw login`"),
            "{init}"
        );
    }
    assert_eq!(setup.server.counts().authorize, 0);
}

// ---- status and logout across profiles ----------------------------------------------------------

#[test]
fn status_all_and_logout_all_are_idempotent() {
    let setup = Setup::new(StoreKind::File);
    setup.login();
    let work = run(setup.command(&["login", "--profile", "work"]), None);
    assert!(work.status.success(), "{}", text(&work.stderr));
    assert!(
        text(&work.stdout).contains("mcpgw --profile work ecs"),
        "{}",
        text(&work.stdout)
    );

    let out = setup.run(&["status", "--all", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = all["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "work"]);
    assert!(
        all["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["logged_in"] == true)
    );

    let out = setup.run(&["logout", "--no-revoke", "--profile", "work"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("not revoked"));
    assert_eq!(setup.server.counts().revocations, 0);

    let out = setup.run(&["logout", "--all"]);
    assert!(out.status.success());
    assert_eq!(setup.server.counts().revocations, 2);
    let again = setup.run(&["logout", "--all"]);
    assert!(again.status.success(), "logging out twice is fine");
    assert!(text(&again.stdout).contains("was not logged in"));
    assert_eq!(setup.run(&["status", "--all"]).status.code(), Some(1));
}

/// Claude Code sends `server/discover` and then `initialize`, and MCP_TIMEOUT bounds
/// the whole connection: the sign-in wait is one budget from the relay's start,
/// not one per request (two requests used to wait twice as long).
#[test]
fn lazy_login_waits_once_per_connection_not_per_request() {
    let setup = Setup::new(StoreKind::File);
    setup.set_browser(Browser::RecordOnly);
    let mut cmd = setup.command(&["ecs"]);
    cmd.env("MCPGW_AUTO_LOGIN_WAIT", "2");
    let discover = r#"{"jsonrpc":"2.0","id":7,"method":"server/discover"}"#;
    let started = std::time::Instant::now();
    let relay = run(cmd, Some(&format!("{discover}\n{INITIALIZE}\n")));
    let elapsed = started.elapsed();
    for id in [7, 1] {
        let answer = response(&relay, id);
        assert_eq!(answer["error"]["code"], -32004, "{answer}");
    }
    // One 2 s budget for both (and start-up), where two holds would take 4 s.
    assert!(
        elapsed < std::time::Duration::from_millis(3500),
        "both answers took {elapsed:?}"
    );
}

/// A login whose tokens live no longer than the margin (a 200 s token, 5 min
/// margin) is not refreshed on every request: the margin shrinks to half the
/// lifetime.
#[test]
fn short_lived_tokens_are_not_refreshed_on_every_request() {
    let setup = Setup::new(StoreKind::File);
    setup.server.set_expires_in(200);
    setup.login();
    for _ in 0..2 {
        assert_session_ok(&run(setup.command(&["ecs"]), Some(&session_input())));
    }
    assert_eq!(setup.server.counts().refreshes, 0);
}
