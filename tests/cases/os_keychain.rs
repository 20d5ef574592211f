//! The token store against the real OS keychain on the macOS (Keychain) and Windows
//! (Credential Manager) CI runners (.github/workflows/ci.yml runs `cases::os_keychain`
//! there). Linux's Secret Service is covered end to end by `login.rs` with a private
//! GNOME Keyring; a write there needs the stand-in authorization server and a
//! scripted browser, which are Linux-only, so here the store is opened, read and
//! deleted from through the CLI, for a profile of its own:
//!
//! - `mcpgw doctor --json` opens the keychain and reads the profile's entry (none):
//!   the token store check passes and names the OS keychain;
//! - `mcpgw logout --no-revoke` reads and deletes it: nothing there is not an error,
//!   and twice is the same.
#![cfg(any(target_os = "macos", windows))]

use std::process::Output;

use serde_json::Value;
use tempfile::TempDir;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const KEYCHAIN: &str = if cfg!(target_os = "macos") {
    "macOS Keychain"
} else {
    "Windows Credential Manager"
};

fn mcpgw(home: &TempDir, profile: &str, args: &[&str]) -> Output {
    let mut cmd = crate::isolated_command(home.path());
    cmd.arg("--profile").arg(profile).args(args);
    cmd.env("MCPGW_TOKEN_STORE", "keychain")
        .env("MCPGW_TOKEN_ENDPOINT", "http://127.0.0.1:9/token")
        .output()
        .expect("run mcpgw")
}

#[test]
fn the_os_keychain_is_opened_read_and_deleted_from() {
    let home = TempDir::new().unwrap();
    let profile = format!("ci-keychain-{}", std::process::id());

    let out = mcpgw(&home, &profile, &["doctor", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", text(&out.stdout), text(&out.stderr)));
    let store = report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["id"] == "token_store")
        .unwrap_or_else(|| panic!("no token_store check in {report:#}"));
    assert_eq!(store["status"], "pass", "{report:#}");
    assert!(
        store.to_string().contains(KEYCHAIN),
        "the check names {KEYCHAIN}: {store}"
    );

    for _ in 0..2 {
        let out = mcpgw(&home, &profile, &["logout", "--no-revoke"]);
        assert!(
            out.status.success(),
            "logout from the {KEYCHAIN}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}
