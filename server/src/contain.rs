//! Runs the checking of untrusted definitions where a failure cannot reach the process.
//!
//! The parser bounds every recursive pass (`automations_grammar::limits`), so checking
//! never needs much stack; this is the second line of defence. Each check runs on its own
//! thread with a large stack (tokio workers have 2 MiB) and under `catch_unwind`, so a
//! checker bug on some input becomes one 500 `checker_failed` answer instead of a crash
//! that would end every run in flight. The async caller awaits the answer without
//! blocking its worker.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::ApiError;

/// Stack of a checking thread; reserved, only touched pages use memory.
const CHECK_STACK_BYTES: usize = 64 << 20;

/// Runs `work` on a fresh thread with a large stack; a panic becomes
/// [`ApiError::CheckerFailed`].
pub async fn contained<T, F>(work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("definition-check".into())
        .stack_size(CHECK_STACK_BYTES)
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(work));
            let _ = tx.send(outcome);
        })
        .map_err(|e| ApiError::internal(format!("cannot start a checking thread: {e}")))?;
    match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(ApiError::CheckerFailed(panic_text(&*panic))),
        Err(_) => Err(ApiError::CheckerFailed("the checking thread ended".into())),
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}
