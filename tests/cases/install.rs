//! `install.sh` end to end, into a temporary HOME and prefix.
//!
//! - `--binary` with the binary these tests already built, so CI does not compile a
//!   release build too (the `--from-source` path is the same script with cargo);
//! - the default download path against a loopback HTTP server playing the release
//!   host, serving archives that `packaging/archive.sh` builds from that same binary
//!   (the script the release workflow runs, so the tested layout is the released one):
//!   install and run, `latest.txt`, `--version`, a tampered archive, a missing
//!   SHA256SUMS entry, a platform without archives, and re-running.
//!
//! Unix only (install.sh is POSIX sh; Windows has install.ps1).
#![cfg(unix)]

use crate::text;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

fn install(home: &Path, prefix: &Path, path_env: &str, extra: &[&str]) -> Output {
    install_with(home, prefix, path_env, extra, &[])
}

fn install_with(
    home: &Path,
    prefix: &Path,
    path_env: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let mut cmd = Command::new("/bin/sh");
    cmd.arg(script).arg("--prefix").arg(prefix).args(extra);
    cmd.env_clear().env("HOME", home).env("PATH", path_env);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().expect("run install.sh")
}

#[track_caller]
fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "install.sh failed\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn install_into_a_temporary_home_and_prefix() {
    let tmp = TempDir::new().unwrap();
    let home = tmp.path().join("home");
    let prefix = tmp.path().join("prefix");
    std::fs::create_dir_all(&home).unwrap();
    let binary = crate::mcpgw_bin();
    let binary = binary.to_str().unwrap();
    let path_env = "/usr/local/bin:/usr/bin:/bin";

    let out = install(&home, &prefix, path_env, &["--binary", binary]);
    assert_ok(&out);
    let stdout = text(&out.stdout);
    let bindir = prefix.join("bin");
    assert!(
        stdout.contains(&format!("{} is not on your PATH", bindir.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("mcpgw login") && stdout.contains("mcpgw setup claude"),
        "{stdout}"
    );

    // The installed binary runs and generates what was installed.
    let installed = bindir.join("mcpgw");
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(
        text(&version.stdout).trim(),
        concat!("mcpgw ", env!("CARGO_PKG_VERSION"))
    );
    let bash = Command::new(&installed)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success());
    let bash_file = home.join(".local/share/bash-completion/completions/mcpgw");
    assert_eq!(
        std::fs::read(&bash_file).unwrap(),
        bash.stdout,
        "bash completions installed"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        std::fs::read(prefix.join("share/man/man1/mcpgw.1")).unwrap(),
        std::fs::read(root.join("man/mcpgw.1")).unwrap()
    );

    // Idempotent: a second run succeeds and leaves the same files, no temporaries.
    let before = (files_under(&home), files_under(&prefix));
    let out = install(
        &home,
        &prefix,
        &format!("{}:{path_env}", bindir.display()),
        &["--binary", binary],
    );
    assert_ok(&out);
    assert!(
        !text(&out.stdout).contains("is not on your PATH"),
        "bin dir is on PATH now"
    );
    assert_eq!((files_under(&home), files_under(&prefix)), before);
}

#[test]
fn install_without_cargo_says_how_to_get_it() {
    let tmp = TempDir::new().unwrap();
    // PATH with the few tools the script needs before it looks for cargo.
    let tools = tmp.path().join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    #[cfg(unix)]
    {
        let real = ["/usr/bin/dirname", "/bin/dirname"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap();
        std::os::unix::fs::symlink(real, tools.join("dirname")).unwrap();
    }
    let out = install(
        tmp.path(),
        &tmp.path().join("prefix"),
        tools.to_str().unwrap(),
        &["--from-source"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cargo was not found on PATH"),
        "{}",
        text(&out.stderr)
    );
    assert!(!tmp.path().join("prefix/bin/mcpgw").exists());
    let out = install(
        tmp.path(),
        &tmp.path().join("prefix"),
        tools.to_str().unwrap(),
        &["--binary", "/nonexistent"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not an executable file"),
        "{}",
        text(&out.stderr)
    );
}

// ---- the download path, against a loopback release host ------------------------------

const VERSION: &str = env!("CARGO_PKG_VERSION");
const TRIPLE: &str = "x86_64-unknown-linux-musl";

fn archive_name(version: &str, triple: &str) -> String {
    format!("mcpgw-{version}-{triple}.tar.gz")
}

/// A static file server on 127.0.0.1 (port chosen by the OS) for `root`: `GET /a/b`
/// answers the file `root/a/b` or 404, one thread per connection, and records every
/// path asked for. Each test lays out its own release tree under `root/<test>/`.
struct ReleaseHost {
    url: String,
    root: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    /// The mcpgw binary packed into the archive: the test binary, stripped.
    binary: PathBuf,
    /// The archive `packaging/archive.sh` built from the test binary, and its SHA256SUMS.
    archive: PathBuf,
    sums: String,
}

fn release_host() -> &'static ReleaseHost {
    static HOST: OnceLock<ReleaseHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-release");
        let _ = std::fs::remove_dir_all(&root);
        let build = root.join("build");
        std::fs::create_dir_all(&build).unwrap();
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        // The test binary without its debug info (a sixth of the size, so every
        // download, checksum and copy below is quicker); as it is where `strip` is missing.
        let binary = root.join("mcpgw");
        let stripped = Command::new("strip")
            .arg("-o")
            .arg(&binary)
            .arg(crate::mcpgw_bin())
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            std::fs::copy(crate::mcpgw_bin(), &binary).unwrap();
        }
        let out = Command::new("sh")
            .arg(manifest.join("packaging/archive.sh"))
            .args([TRIPLE, VERSION])
            .arg(&binary)
            .arg(&build)
            .env("ARCHIVE_GZIP_LEVEL", "1") // a debug binary is large; size is not tested here
            .output()
            .unwrap();
        assert_ok_named("packaging/archive.sh", &out);
        let archive = PathBuf::from(text(&out.stdout).trim());
        assert_eq!(archive, build.join(archive_name(VERSION, TRIPLE)));
        let out = Command::new("sh")
            .arg(manifest.join("packaging/sha256sums.sh"))
            .arg(&build)
            .output()
            .unwrap();
        assert_ok_named("packaging/sha256sums.sh", &out);
        let sums = std::fs::read_to_string(build.join("SHA256SUMS")).unwrap();

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let (serve_root, serve_log) = (root.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, log) = (serve_root.clone(), serve_log.clone());
                std::thread::spawn(move || serve(stream, &root, &log));
            }
        });
        ReleaseHost {
            url,
            root,
            log,
            binary,
            archive,
            sums,
        }
    })
}

fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request.split(' ').nth(1).unwrap_or("/").to_owned();
    log.lock().unwrap().push(path.clone());
    let file = root.join(path.trim_start_matches('/'));
    let mut stream = stream;
    match std::fs::read(&file) {
        Ok(body) if !path.contains("..") => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
        _ => {
            let _ = stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\nConnection: close\r\n\r\nnot found\n",
            );
        }
    }
}

#[track_caller]
fn assert_ok_named(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed\nstdout:\n{}\nstderr:\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// One test's release tree, `root/<name>/`: `latest.txt` and `v<VERSION>/` with the
/// archive and SHA256SUMS as given. Returns the base URL to hand to install.sh.
fn lay_out(name: &str, latest: &str, archive: Option<&[u8]>, sums: &str) -> String {
    let host = release_host();
    let dir = host.root.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let release = dir.join(format!("v{VERSION}"));
    std::fs::create_dir_all(&release).unwrap();
    std::fs::write(dir.join("latest.txt"), latest).unwrap();
    let target = release.join(archive_name(VERSION, TRIPLE));
    match archive {
        Some(bytes) => std::fs::write(&target, bytes).unwrap(),
        None => std::fs::hard_link(&host.archive, &target).unwrap(),
    }
    std::fs::write(release.join("SHA256SUMS"), sums).unwrap();
    format!("{}/{name}", host.url)
}

/// Paths asked of the release host under `/<name>/`, in order.
fn requests(name: &str) -> Vec<String> {
    let prefix = format!("/{name}/");
    release_host()
        .log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// A PATH for install.sh: a fake `uname` answering `os`/`arch`, then links to the
/// machine's /usr/bin and /bin tools without `leave_out` (cargo and rustup always:
/// no test here may start a build).
fn tools_path(dir: &Path, os: &str, arch: &str, leave_out: &[&str]) -> String {
    let fake = dir.join("fake");
    let sys = dir.join("sys");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::create_dir_all(&sys).unwrap();
    let uname = fake.join("uname");
    std::fs::write(
        &uname,
        format!(
            "#!/bin/sh\ncase \"$1\" in -s) echo {os} ;; -m) echo {arch} ;; *) echo {os} ;; esac\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&uname, std::fs::Permissions::from_mode(0o755)).unwrap();
        for system_dir in ["/usr/bin", "/bin"] {
            for entry in std::fs::read_dir(system_dir)
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                let banned = ["cargo", "rustc", "rustup"]
                    .iter()
                    .chain(leave_out)
                    .any(|b| name == *b || name.starts_with(&format!("{b}-")));
                let link = sys.join(&name);
                if !banned && !link.exists() {
                    let _ = std::os::unix::fs::symlink(entry.path(), link);
                }
            }
        }
    }
    format!("{}:{}", fake.display(), sys.display())
}

/// Every file under `dirs` with the SHA-256 of its content.
fn snapshot(dirs: &[&Path]) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for dir in dirs {
        for file in files_under(dir) {
            let digest = Sha256::digest(std::fs::read(&file).unwrap());
            all.insert(file, format!("{digest:x}"));
        }
    }
    all
}

/// A temporary HOME, prefix, TMPDIR and tools dir for one run.
struct Sandbox {
    _tmp: TempDir,
    home: PathBuf,
    prefix: PathBuf,
    tmpdir: PathBuf,
    tools: PathBuf,
}

fn sandbox() -> Sandbox {
    let tmp = TempDir::new().unwrap();
    let (home, prefix, tmpdir, tools) = (
        tmp.path().join("home"),
        tmp.path().join("prefix"),
        tmp.path().join("tmp"),
        tmp.path().join("tools"),
    );
    for dir in [&home, &tmpdir, &tools] {
        std::fs::create_dir_all(dir).unwrap();
    }
    Sandbox {
        _tmp: tmp,
        home,
        prefix,
        tmpdir,
        tools,
    }
}

impl Sandbox {
    fn run(&self, path_env: &str, base_url: &str, extra: &[&str]) -> Output {
        self.run_env(path_env, base_url, extra, &[])
    }

    fn run_env(
        &self,
        path_env: &str,
        base_url: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut all = vec![
            ("MCPGW_INSTALL_BASE_URL", base_url),
            ("TMPDIR", self.tmpdir.to_str().unwrap()),
        ];
        all.extend_from_slice(env);
        let out = install_with(&self.home, &self.prefix, path_env, extra, &all);
        assert_eq!(
            files_under(&self.tmpdir),
            Vec::<String>::new(),
            "install.sh left temporary files behind"
        );
        out
    }

    /// As `curl -fsSL .../install.sh | sh -s -- ARGS` runs it: the script on stdin,
    /// from a directory that is not a checkout.
    fn run_piped(&self, path_env: &str, base_url: &str, extra: &[&str]) -> Output {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
        let out = Command::new("/bin/sh")
            .args(["-s", "--", "--prefix"])
            .arg(&self.prefix)
            .args(extra)
            .current_dir(&self.home)
            .stdin(std::fs::File::open(script).unwrap())
            .env_clear()
            .env("HOME", &self.home)
            .env("PATH", path_env)
            .env("MCPGW_INSTALL_BASE_URL", base_url)
            .env("TMPDIR", &self.tmpdir)
            .output()
            .expect("run install.sh on stdin");
        assert_eq!(files_under(&self.tmpdir), Vec::<String>::new());
        out
    }

    fn files(&self) -> BTreeMap<String, String> {
        snapshot(&[&self.home, &self.prefix])
    }
}

#[test]
fn download_installs_the_latest_release_and_rerunning_changes_nothing() {
    let host = release_host();
    let base = lay_out("latest", &format!("{VERSION}\n"), None, &host.sums);
    let b = sandbox();
    let path_env = tools_path(&b.tools, "Linux", "x86_64", &[]);

    let out = b.run(&path_env, &base, &[]);
    assert_ok(&out);
    let stdout = text(&out.stdout);
    let archive = archive_name(VERSION, TRIPLE);
    assert!(stdout.contains(&format!("Verified {archive}")), "{stdout}");
    assert_eq!(
        requests("latest"),
        [
            "latest.txt".to_owned(),
            format!("v{VERSION}/SHA256SUMS"),
            format!("v{VERSION}/{archive}"),
        ]
    );

    // The archive's binary, installed, runs; its man pages and completions are in place.
    let installed = b.prefix.join("bin/mcpgw");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(&host.binary).unwrap()
    );
    let version = Command::new(&installed).arg("--version").output().unwrap();
    assert_eq!(text(&version.stdout).trim(), format!("mcpgw {VERSION}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for page in ["mcpgw.1", "mcpgw-login.1", "mcpgw-relay.1"] {
        assert_eq!(
            std::fs::read(b.prefix.join("share/man/man1").join(page)).unwrap(),
            std::fs::read(root.join("man").join(page)).unwrap(),
            "{page}"
        );
    }
    assert!(
        b.home
            .join(".local/share/bash-completion/completions/mcpgw")
            .is_file()
    );

    // Again: the same files with the same content, nothing left over.
    let before = b.files();
    let out = b.run(&path_env, &base, &[]);
    assert_ok(&out);
    assert_eq!(b.files(), before);
    assert_eq!(
        requests("latest").len(),
        6,
        "the second run downloaded again"
    );
}

#[test]
fn version_pins_a_release_without_asking_for_the_latest_when_piped() {
    let host = release_host();
    // latest.txt names a release that does not exist: following it would fail.
    let base = lay_out("pinned", "9.9.9\n", None, &host.sums);
    let b = sandbox();
    let path_env = tools_path(&b.tools, "Linux", "amd64", &[]);
    let out = b.run_piped(&path_env, &base, &["--version", &format!("v{VERSION}")]);
    assert_ok(&out);
    assert!(b.prefix.join("bin/mcpgw").is_file());
    assert!(
        b.prefix.join("share/man/man1/mcpgw.1").is_file(),
        "man pages from the archive"
    );
    let asked = requests("pinned");
    assert!(!asked.iter().any(|p| p == "latest.txt"), "{asked:?}");
    assert_eq!(asked.len(), 2, "{asked:?}");

    // Without --version it follows latest.txt to 9.9.9, which is not there: a clear
    // error naming the URL, and the installed files stay as they were.
    let before = b.files();
    let out = b.run(&path_env, &base, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("could not download {base}/v9.9.9/SHA256SUMS"))
            && stderr.contains("MCPGW_INSTALL_BASE_URL"),
        "{stderr}"
    );
    assert_eq!(b.files(), before);
}

#[test]
fn tampered_archive_is_refused_and_nothing_changes() {
    let host = release_host();
    let mut bytes = std::fs::read(&host.archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let base = lay_out("tampered", VERSION, Some(&bytes), &host.sums);
    let b = sandbox();
    // An earlier install that must survive untouched.
    std::fs::create_dir_all(b.prefix.join("bin")).unwrap();
    std::fs::write(b.prefix.join("bin/mcpgw"), "#!/bin/sh\necho mcpgw 0.0.1\n").unwrap();
    std::fs::create_dir_all(b.prefix.join("share/man/man1")).unwrap();
    std::fs::write(b.prefix.join("share/man/man1/mcpgw.1"), "old page").unwrap();
    let before = b.files();

    // This one downloads with wget (curl left out of PATH).
    let wget = ["/usr/bin/wget", "/bin/wget"]
        .iter()
        .any(|p| Path::new(p).is_file());
    assert!(
        wget,
        "wget is missing: run `sh tests/peers/install.sh` (apt-get install wget)"
    );
    let path_env = tools_path(&b.tools, "Linux", "x86_64", &["curl"]);
    let out = b.run(&path_env, &base, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "checksum mismatch for {}",
            archive_name(VERSION, TRIPLE)
        )) && stderr.contains("nothing was installed"),
        "{stderr}"
    );
    assert_eq!(b.files(), before, "a refused download changed files");
    assert_eq!(requests("tampered").len(), 3, "{:?}", requests("tampered"));
}

#[test]
fn missing_checksum_entry_is_refused_before_downloading_the_archive() {
    let host = release_host();
    // SHA256SUMS lists only the x86_64 Linux archive; this is an arm64 Mac.
    let base = lay_out("noentry", VERSION, None, &host.sums);
    let b = sandbox();
    let path_env = tools_path(&b.tools, "Darwin", "arm64", &[]);
    let out = b.run(&path_env, &base, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    let wanted = archive_name(VERSION, "aarch64-apple-darwin");
    assert!(
        stderr.contains(&format!(
            "SHA256SUMS of v{VERSION} has no entry for {wanted}"
        )) && stderr.contains("--from-source"),
        "{stderr}"
    );
    assert_eq!(
        requests("noentry"),
        ["latest.txt".to_owned(), format!("v{VERSION}/SHA256SUMS")]
    );
    assert_eq!(b.files(), BTreeMap::new());
}

#[test]
fn platform_without_archives_falls_back_to_cargo_and_says_how_to_get_it() {
    let host = release_host();
    let base = lay_out("noplatform", VERSION, None, &host.sums);
    let b = sandbox();
    let path_env = tools_path(&b.tools, "FreeBSD", "amd64", &[]);
    let out = b.run(&path_env, &base, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("There is no prebuilt mcpgw for FreeBSD amd64")
            && stdout.contains("Building it from source with cargo instead"),
        "{stdout}"
    );
    assert!(
        stderr.contains("cargo was not found on PATH")
            && stderr.contains("https://rustup.rs")
            && stderr.contains("--binary PATH"),
        "{stderr}"
    );
    assert_eq!(requests("noplatform"), Vec::<String>::new());
    assert_eq!(b.files(), BTreeMap::new());

    // MCPGW_INSTALL_TARGET names the archive to take instead.
    let out = b.run_env(&path_env, &base, &[], &[("MCPGW_INSTALL_TARGET", TRIPLE)]);
    assert_ok(&out);
    assert!(b.prefix.join("bin/mcpgw").is_file());
    assert_eq!(
        requests("noplatform").last(),
        Some(&format!("v{VERSION}/{}", archive_name(VERSION, TRIPLE)))
    );
}

#[test]
fn no_downloader_says_what_to_install() {
    let host = release_host();
    let base = lay_out("nocurl", VERSION, None, &host.sums);
    let b = sandbox();
    let path_env = tools_path(&b.tools, "Linux", "x86_64", &["curl", "wget"]);
    let out = b.run(&path_env, &base, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("neither curl nor wget was found"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(b.files(), BTreeMap::new());
}
