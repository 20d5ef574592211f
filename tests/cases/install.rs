//! `install.sh` end to end, into a temporary HOME and prefix, with the binary these
//! tests already built (`--binary`), so CI does not compile a release build too.
//! The real `cargo install` path is the same script minus `--binary`.

use std::path::Path;
use std::process::{Command, Output};

use tempfile::TempDir;

fn install(home: &Path, prefix: &Path, path_env: &str, extra: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh");
    let mut cmd = Command::new("/bin/sh");
    cmd.arg(script).arg("--prefix").arg(prefix).args(extra);
    cmd.env_clear().env("HOME", home).env("PATH", path_env);
    cmd.output().expect("run install.sh")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
        &[],
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
