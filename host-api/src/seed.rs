//! `wasi:random/insecure-seed` answered without a WASI context. Rust std guests call it
//! once per instance to seed their `HashMap`s, and it is often the only WASI function a
//! plugin calls; wasmtime-wasi's own version builds the call's whole `WasiCtx` for it
//! (random generators, clocks, streams: about 5,000 instructions per call). Ours hands
//! out a fresh value per call from the thread's std hasher keys, so no two calls share a
//! seed and no call's context is built for it. Every other WASI function still goes
//! through the lazily built, nothing-granted context of `crate::state`.

use crate::state::CallState;
use std::hash::{BuildHasher, RandomState};
use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

/// The interface as wasmtime-wasi links it (its WASI 0.2 patch version); guests importing
/// any 0.2.x resolve to it. A test checks that the name matches wasmtime-wasi's, so that
/// ours replaces its function instead of sitting beside it unused.
pub(crate) const INSECURE_SEED: &str = "wasi:random/insecure-seed@0.2.12";

/// Replaces wasmtime-wasi's `insecure-seed` in `linker` (which must already hold WASI).
pub(crate) fn link_insecure_seed(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let linked = linker.instance(INSECURE_SEED)?.func_wrap(
        "insecure-seed",
        |_: StoreContextMut<'_, CallState>, (): ()| Ok((fresh_seed(),)),
    );
    linker.allow_shadowing(false);
    linked
}

/// 128 bits that differ on every call: std's `RandomState::new` takes this thread's
/// random keys (from the OS, once per thread) with a counter bumped on each use, and
/// SipHash turns them into unrelated values. Not secret (the interface promises no
/// cryptographic quality), but not guessable from another call's seed either.
pub(crate) fn fresh_seed() -> (u64, u64) {
    let keys = RandomState::new();
    (keys.hash_one(0u8), keys.hash_one(1u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::Engine;

    #[test]
    fn seeds_differ_from_call_to_call() {
        let seeds: std::collections::HashSet<(u64, u64)> =
            (0..1000).map(|_| fresh_seed()).collect();
        assert_eq!(seeds.len(), 1000);
    }

    /// Without shadowing, defining the function again fails only if wasmtime-wasi put it
    /// under the same name: then `link_insecure_seed` replaces it.
    #[test]
    fn the_name_is_the_one_wasmtime_wasi_links() {
        let engine = Engine::default();
        let mut linker: Linker<CallState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        let again = linker.instance(INSECURE_SEED).unwrap().func_wrap(
            "insecure-seed",
            |_: StoreContextMut<'_, CallState>, (): ()| Ok((fresh_seed(),)),
        );
        assert!(
            again.is_err(),
            "wasmtime-wasi links insecure-seed under another name"
        );
        link_insecure_seed(&mut linker).unwrap();
    }
}
