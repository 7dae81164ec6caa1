//! Rebuilds the binary when the embedded web UI (`web/dist`, see `src/web.rs`) changes:
//! `include_dir!` alone does not tell cargo which files it read.
//!
//! On Linux with glibc, the binary's relative relocations are packed (`DT_RELR`): at every
//! start the loader then reads a table of about 20 KB instead of one of about 1.6 MB (a
//! 24-byte entry per pointer in the binary's data), and those pages stayed resident (idle
//! RSS about 3 MB lower, README "Performance"). Such a binary needs glibc 2.36 or newer
//! where it is built and where it runs (binutils 2.38 or LLVM's lld 15 to link it);
//! `AUTOMATIONS_PACK_RELOCS=0` at build time makes one for older systems.

fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
    println!("cargo:rerun-if-env-changed=AUTOMATIONS_PACK_RELOCS");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let wanted = std::env::var("AUTOMATIONS_PACK_RELOCS").map_or(true, |v| v != "0");
    if os == "linux" && env == "gnu" && wanted {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
