//! Rebuilds the binary when the embedded web UI (`web/dist`, see `src/web.rs`) changes:
//! `include_dir!` alone does not tell cargo which files it read.
//!
//! On Linux with glibc, the binary's relative relocations are packed (`DT_RELR`): at every
//! start the loader then reads a table of about 20 KB instead of one of about 1.6 MB (a
//! 24-byte entry per pointer in the binary's data), and those pages stayed resident (idle
//! RSS about 3 MB lower, README "Performance"). Such a binary runs only on glibc 2.36 or
//! newer, so it is packed only when built natively on such a system (the glibc of the
//! machine that builds it is the one it will most likely run on; `getconf` tells it):
//! elsewhere, and for cross builds, the binary is built as before and runs on older glibc.
//! `AUTOMATIONS_PACK_RELOCS=0` at build time turns packing off, `=1` forces it.

/// The first glibc whose loader understands packed relocations.
const RELR_GLIBC: (u32, u32) = (2, 36);

fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
    println!("cargo:rerun-if-env-changed=AUTOMATIONS_PACK_RELOCS");
    if pack_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

fn pack_relocations() -> bool {
    match std::env::var("AUTOMATIONS_PACK_RELOCS").as_deref() {
        Ok("0") => return false,
        Ok("1") => return true,
        _ => {}
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let native = var("TARGET") == var("HOST");
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    native && linux_gnu && build_glibc().is_some_and(|v| v >= RELR_GLIBC)
}

/// The glibc of the building machine, from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn build_glibc() -> Option<(u32, u32)> {
    let out = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.trim().strip_prefix("glibc ")?;
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    Some((major, minor))
}
