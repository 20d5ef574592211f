//! Linux release builds from this repository place the code a relay runs from
//! spawn to idle together, in front of the rest (`link/startup-path.ld`).
//!
//! Why: the kernel maps a binary's code 64 KiB around each page a process touches,
//! so the code pages an idle relay holds follow how widely the linker scattered its
//! startup path more than how much code there is (the README's benchmark section
//! has the numbers). A linker script with `INSERT` adds one output section to the
//! linker's own layout; GNU ld, lld and zig's linker take it.
//!
//! When: `.cargo/config.toml` opts in with `MCPGW_LINK_STARTUP_PATH=1`, so builds
//! from this checkout (release archives, wheels, the benchmark) get it, and
//! `cargo install` from crates.io, which may meet a linker without linker scripts
//! (mold), does not. Debug builds are left alone: matching hundreds of patterns
//! against every section of a test binary would slow each link for nothing.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MCPGW_LINK_STARTUP_PATH");
    let wanted = env::var("MCPGW_LINK_STARTUP_PATH").is_ok_and(|v| v == "1");
    let linux = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let release = env::var("PROFILE").is_ok_and(|profile| profile == "release");
    if !(wanted && linux && release) {
        return;
    }
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = Path::new(&manifest_dir).join("link/startup-path.ld");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bin=mcpgw=-Wl,-T,{}", script.display());
}
