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

#[cfg(test)]
mod tests {
    use super::*;

    /// Recurses `depth` times with a 1 KiB frame each: more than a tokio worker's 2 MiB
    /// stack at 4,000 levels, well within the checking thread's.
    fn deep(depth: usize) -> usize {
        let frame = std::hint::black_box([depth as u8; 1024]);
        if depth == 0 {
            return frame[0] as usize;
        }
        deep(depth - 1) + frame[1] as usize % 2
    }

    #[tokio::test]
    async fn a_panic_is_one_checker_failed_answer_and_the_next_check_runs() {
        let failed = contained::<(), _>(|| panic!("injected checker failure")).await;
        let Err(ApiError::CheckerFailed(detail)) = failed else {
            panic!("{failed:?}")
        };
        assert_eq!(detail, "injected checker failure");
        let formatted = contained::<(), _>(|| panic!("{} and {}", "formatted", 2)).await;
        assert!(matches!(formatted, Err(ApiError::CheckerFailed(d)) if d == "formatted and 2"));
        assert_eq!(contained(|| Ok(deep(4_000))).await.unwrap(), 2_000);
    }
}
