//! The principals of recently seen tokens, so that a request does not read the database
//! to authenticate (the hottest read of the ingest path).
//!
//! An entry answers for at most [`TOKEN_CACHE_MAX_AGE`] after the read that made it
//! *started*; after that the token is read again. Tokens are revoked by another process
//! (`automations token revoke`), which no notification reaches, so the bound is what
//! makes a revoke effective: the command waits twice the bound after its commit before it
//! returns, and from then on every running server refuses the token (its entry, if any,
//! was read after the commit). Unknown and revoked tokens are never cached: they are read
//! every time, as before. The cache holds at most [`MAX_ENTRIES`] tokens (past that it
//! starts over), so a flood of distinct tokens cannot grow it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Principal;

/// How long a token's principal is used without reading it again.
pub const TOKEN_CACHE_MAX_AGE: Duration = Duration::from_millis(50);

/// Tokens cached at most.
pub const MAX_ENTRIES: usize = 4096;

/// Token hash -> principal and when the read that found it started.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl TokenCache {
    /// The principal of `token_hash` if it was read less than the bound ago.
    pub fn get(&self, token_hash: &str) -> Option<Principal> {
        self.get_at(token_hash, Instant::now())
    }

    fn get_at(&self, token_hash: &str, now: Instant) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (principal, read_at) = entries.get(token_hash)?;
        (now.saturating_duration_since(*read_at) < TOKEN_CACHE_MAX_AGE).then(|| principal.clone())
    }

    /// Remembers `principal` for `token_hash`, found by a read that started at `read_at`.
    pub fn insert(&self, token_hash: &str, principal: &Principal, read_at: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(token_hash) {
            entries.clear();
        }
        entries.insert(token_hash.to_string(), (principal.clone(), read_at));
    }

    /// Forgets every entry of token `token_id` (revoked through this server).
    pub fn forget_token(&self, token_id: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, (principal, _)| principal.token_id != token_id);
    }

    /// Forgets `token_hash` (a read found it unknown or revoked).
    pub fn forget(&self, token_hash: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token_hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Scope;

    fn principal(id: &str) -> Principal {
        Principal {
            token_id: id.into(),
            token_name: "n".into(),
            workspace_id: "w".into(),
            scopes: vec![Scope::RecordsWrite],
            rate_limit: None,
        }
    }

    #[test]
    fn entries_answer_within_the_bound_only() {
        let cache = TokenCache::default();
        let read_at = Instant::now();
        cache.insert("h", &principal("t1"), read_at);
        let hit = cache
            .get_at("h", read_at + TOKEN_CACHE_MAX_AGE / 2)
            .unwrap();
        assert_eq!(hit.token_id, "t1");
        assert!(cache.get_at("h", read_at + TOKEN_CACHE_MAX_AGE).is_none());
        assert!(cache.get_at("other", read_at).is_none());
        cache.forget("h");
        assert!(cache.get_at("h", read_at).is_none());
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = TokenCache::default();
        let now = Instant::now();
        for n in 0..MAX_ENTRIES + 10 {
            cache.insert(&format!("h{n}"), &principal("t"), now);
        }
        let len = cache.entries.lock().unwrap().len();
        assert!(len <= MAX_ENTRIES, "{len} entries");
        assert!(
            cache
                .get_at(&format!("h{}", MAX_ENTRIES + 9), now)
                .is_some()
        );
    }
}
