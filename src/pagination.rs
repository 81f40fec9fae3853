//! Cursor pagination: `?limit=&cursor=` → `{ "items": [...], "next_cursor": ... }`.
//!
//! A cursor is the opaque, URL-safe encoding of the sort key of the last item returned, so
//! a page never repeats or skips an item when others are inserted meanwhile.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items to return (1 to 100, default 20).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<u32, AppError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(AppError::field(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }

    /// Decodes the cursor into the sort key it was made from.
    pub fn decode<K: for<'de> Deserialize<'de>>(&self) -> Result<Option<K>, AppError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .map(Some)
            .ok_or_else(|| {
                AppError::field(
                    "cursor",
                    "invalid_cursor",
                    "cursor must be a next_cursor value from a previous page",
                )
            })
    }
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A whole list in one page (lists that are short by nature: services, call types,
    /// users...): the same shape as any other list, with no next page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }

    /// Builds a page from up to `limit + 1` rows: the extra row only tells that more exist.
    pub fn from_rows<K: Serialize>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Self {
        let limit = limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| encode_cursor(&key(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let params = PageParams {
            limit: None,
            cursor: Some(encode_cursor(&("2026-01-01", 42))),
        };
        assert_eq!(
            params.decode::<(String, i32)>().expect("valid"),
            Some(("2026-01-01".to_owned(), 42))
        );
    }

    #[test]
    fn bad_cursor_and_limit_are_field_errors() {
        let params = PageParams {
            limit: Some(0),
            cursor: Some("!!".into()),
        };
        assert!(params.limit().is_err());
        assert!(params.decode::<i32>().is_err());
    }

    #[test]
    fn the_extra_row_makes_a_cursor() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(encode_cursor(&2)));
        let last = Page::from_rows(vec![1, 2], 2, |n| *n);
        assert_eq!(last.next_cursor, None);
    }
}
