//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds
//! `migrations/sqlite` and `migrations/postgres` at compile time, and cargo does not
//! otherwise see files that no Rust source names.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
