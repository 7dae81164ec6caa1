//! Rebuilds the binary when the embedded web UI (`web/dist`, see `src/web.rs`) changes:
//! `include_dir!` alone does not tell cargo which files it read.

fn main() {
    println!("cargo:rerun-if-changed=../web/dist");
}
