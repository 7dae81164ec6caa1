//! List pages (§12.1): `{"items": [...], "next_cursor": "..." | null}`, `?limit` (default 50,
//! at most 500) and `?cursor`. Cursors are opaque to clients; a malformed one is a 400.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

/// The limit to use: default 50, capped at 500; 0 is a 400.
pub fn limit(requested: Option<u32>) -> Result<u32, ApiError> {
    match requested {
        None => Ok(DEFAULT_LIMIT),
        Some(0) => Err(ApiError::bad_request(
            "invalid_query",
            "limit must be at least 1 (a page holds at most 500 items; a larger limit reads as 500)",
        )),
        Some(n) => Ok(n.min(MAX_LIMIT)),
    }
}

/// Pages through an in-memory list already sorted newest first; the cursor is the key of
/// the last item of the previous page.
pub fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    limit: u32,
    cursor: Option<&str>,
) -> Result<Page<T>, ApiError> {
    let start = match cursor {
        None => 0,
        Some(c) => items
            .iter()
            .position(|item| key(item) == c)
            .map(|i| i + 1)
            .ok_or_else(|| ApiError::bad_request("invalid_query", "unknown cursor"))?,
    };
    let limit = limit as usize;
    let mut rest: Vec<T> = items.into_iter().skip(start).collect();
    let next_cursor = if rest.len() > limit {
        Some(key(&rest[limit - 1]))
    } else {
        None
    };
    rest.truncate(limit);
    Ok(Page {
        items: rest,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_cursors_to_the_end() {
        let items: Vec<u32> = (0..7).collect();
        let p1 = paginate(items.clone(), |i| i.to_string(), 3, None).unwrap();
        assert_eq!(p1.items, vec![0, 1, 2]);
        let p2 = paginate(
            items.clone(),
            |i| i.to_string(),
            3,
            p1.next_cursor.as_deref(),
        )
        .unwrap();
        assert_eq!(p2.items, vec![3, 4, 5]);
        let p3 = paginate(
            items.clone(),
            |i| i.to_string(),
            3,
            p2.next_cursor.as_deref(),
        )
        .unwrap();
        assert_eq!(p3.items, vec![6]);
        assert!(p3.next_cursor.is_none());
        assert!(paginate(items, |i| i.to_string(), 3, Some("nope")).is_err());
    }

    #[test]
    fn limits_default_and_cap() {
        assert_eq!(limit(None).unwrap(), 50);
        assert_eq!(limit(Some(10_000)).unwrap(), 500);
        assert!(limit(Some(0)).is_err());
    }
}
