//! Cursor pagination for admin lists: rows come in `(time, id)` order (creation time for
//! resources, event time for clicks) and a cursor names the last row of a page, so pages never skip or repeat a row while others are
//! inserted.

use super::Invalid;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The row's creation or event time in UTC milliseconds.
    pub at: i64,
    pub id: String,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.at, self.id)
    }

    pub fn decode(raw: &str) -> Result<Self, Invalid> {
        let invalid = || {
            Invalid::new(
                "cursor",
                "invalid_cursor",
                "cursor is not one this API returned; start again without it",
            )
        };
        let (ms, id) = raw.split_once('.').ok_or_else(invalid)?;
        let at = ms.parse::<i64>().map_err(|_| invalid())?;
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if id_ok {
            Ok(Self {
                at,
                id: id.to_owned(),
            })
        } else {
            Err(invalid())
        }
    }
}

/// Parses `limit`: absent is the default, otherwise 1 to [`MAX_PAGE_SIZE`].
pub fn page_size(raw: Option<&str>) -> Result<u32, Invalid> {
    match raw {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
            .ok_or_else(|| {
                Invalid::new(
                    "limit",
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursor = Cursor {
            at: 1_700_000_000_123,
            id: "lnk_abc-DEF_1".into(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn forged_cursors_are_refused() {
        for bad in ["", "abc", "12.", ".id", "x.id", "1.a b", "1.a'--"] {
            assert!(Cursor::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(Some("500")).unwrap(), 500);
        for bad in ["0", "501", "-1", "ten"] {
            assert_eq!(page_size(Some(bad)).unwrap_err().field, "limit");
        }
    }
}
