//! Cursor pagination (API.md §11): a list walked by position instead of by page number.
//!
//! A cursor names a boundary row by the values of the list's ordering keys and its id, and a
//! direction. The next page is "the rows after that one in the list's order", read with a
//! keyset condition through the ordering's index, so a deep page costs what the first does
//! and rows inserted or deleted meanwhile never shift the walk: no row that existed when the
//! walk began is repeated or skipped.
//!
//! The cursor is opaque to clients (URL-safe base64 of a small JSON object) and carries the
//! ordering it was made for: a cursor used with another ordering, or one that does not decode,
//! is a 400.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

/// One ordering key's value on the boundary row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    Int(i64),
    Text(String),
}

impl Key {
    /// A timestamp, kept to the nanosecond so the boundary compares equal to its own row.
    pub fn time(t: &NaiveDateTime) -> Key {
        Key::Text(t.format("%Y-%m-%dT%H:%M:%S%.9f").to_string())
    }

    pub fn as_int(&self) -> CoreResult<i64> {
        match self {
            Key::Int(i) => Ok(*i),
            Key::Text(_) => Err(bad_cursor()),
        }
    }

    pub fn as_text(&self) -> CoreResult<&str> {
        match self {
            Key::Text(s) => Ok(s),
            Key::Int(_) => Err(bad_cursor()),
        }
    }

    pub fn as_time(&self) -> CoreResult<NaiveDateTime> {
        NaiveDateTime::parse_from_str(self.as_text()?, "%Y-%m-%dT%H:%M:%S%.f")
            .map_err(|_| bad_cursor())
    }
}

/// Where a cursor points: after (or, walking back, before) one row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Position {
    /// The ordering the cursor belongs to.
    o: String,
    /// Walking towards the start of the list.
    #[serde(default)]
    b: bool,
    /// The ordering keys' values on the boundary row.
    #[serde(default)]
    k: Vec<Key>,
    /// The boundary row's id.
    i: i64,
}

fn bad_cursor() -> CoreError {
    CoreError::validation("cursor", "Invalid cursor.")
}

/// A request for one page by cursor.
#[derive(Debug, Clone)]
pub struct CursorReq {
    size: i64,
    at: Option<Position>,
}

/// One page by cursor: the rows in list order and the cursors of the pages beside it
/// (`Some("")` is the start of the list).
#[derive(Debug, Clone)]
pub struct CursorPage<T> {
    pub results: Vec<T>,
    pub next: Option<String>,
    pub previous: Option<String>,
}

impl<T> CursorPage<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> CursorPage<U> {
        CursorPage {
            results: self.results.into_iter().map(f).collect(),
            next: self.next,
            previous: self.previous,
        }
    }
}

/// Whether the keyset condition keeps rows above or below a boundary value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Above,
    Below,
}

impl CursorReq {
    /// `raw` is the `cursor` parameter (empty: the start of the list); `size` the page size,
    /// already checked.
    pub fn parse(raw: &str, size: i64) -> CoreResult<CursorReq> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(CursorReq { size, at: None });
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad_cursor())?;
        let at: Position = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
        Ok(CursorReq { size, at: Some(at) })
    }

    /// Refuses a cursor made for another ordering (the list's ordering as a string, e.g.
    /// `-price,name`; `-id` for the lists that only go newest first).
    pub fn check(&self, ordering: &str, keys: usize) -> CoreResult<()> {
        match &self.at {
            Some(p) if p.o != ordering || p.k.len() != keys => Err(CoreError::validation(
                "cursor",
                "This cursor belongs to another ordering of the list.",
            )),
            _ => Ok(()),
        }
    }

    /// Rows to read: one more than the page, to know whether another follows.
    pub fn limit(&self) -> i64 {
        self.size + 1
    }

    /// Whether the rows are read towards the start (then in reverse order).
    pub fn backward(&self) -> bool {
        self.at.as_ref().is_some_and(|p| p.b)
    }

    /// The boundary: its key values and id, or `None` at the start.
    pub fn boundary(&self) -> Option<(&[Key], i64)> {
        self.at.as_ref().map(|p| (p.k.as_slice(), p.i))
    }

    /// Which side of the boundary a key ordered `desc` keeps on this walk.
    pub fn side(&self, desc: bool) -> Dir {
        if desc != self.backward() {
            Dir::Below
        } else {
            Dir::Above
        }
    }

    /// Whether a key ordered `desc` is read descending on this walk.
    pub fn read_desc(&self, desc: bool) -> bool {
        desc != self.backward()
    }

    /// Turns the rows read (in walking order, up to [`CursorReq::limit`]) into the page and
    /// the cursors beside it; `key` gives a row's ordering key values and id.
    pub fn finish<T>(
        &self,
        ordering: &str,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> (Vec<Key>, i64),
    ) -> CursorPage<T> {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        let more = rows.len() > size;
        rows.truncate(size);
        let backward = self.backward();
        if backward {
            rows.reverse();
        }
        let cursor = |row: &T, b: bool| {
            let (k, i) = key(row);
            let p = Position {
                o: ordering.to_owned(),
                b,
                k,
                i,
            };
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&p).unwrap_or_default())
        };
        let (has_next, has_previous) = if backward {
            (true, more)
        } else {
            (more, self.at.is_some())
        };
        let next = match rows.last() {
            Some(r) if has_next => Some(cursor(r, false)),
            // Nothing was left before the boundary: the next page is the list's start.
            None if backward => Some(String::new()),
            _ => None,
        };
        let previous = match rows.first() {
            Some(r) if has_previous => Some(cursor(r, true)),
            _ => None,
        };
        CursorPage {
            results: rows,
            next,
            previous,
        }
    }
}

/// The ordering as a cursor records it: `-price,name`.
pub fn ordering_name(ordering: &[(String, bool)]) -> String {
    ordering
        .iter()
        .map(|(f, desc)| if *desc { format!("-{f}") } else { f.clone() })
        .collect::<Vec<_>>()
        .join(",")
}

/// Applies a cursor to a boxed query of a list that goes newest first (`id` descending):
/// the bound on the id, the walking order and the limit.
#[macro_export]
macro_rules! newest_first_window {
    ($query:expr, $cursor:expr, $id:expr) => {{
        let cursor: &$crate::cursor::CursorReq = $cursor;
        let mut q = $query;
        if let Some((_, id)) = cursor.boundary() {
            q = match cursor.side(true) {
                $crate::cursor::Dir::Below => q.filter($id.lt(id)),
                $crate::cursor::Dir::Above => q.filter($id.gt(id)),
            };
        }
        if cursor.read_desc(true) {
            q.order($id.desc()).limit(cursor.limit())
        } else {
            q.order($id.asc()).limit(cursor.limit())
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_forward_and_back_names_its_neighbours() {
        let start = CursorReq::parse("", 2).unwrap();
        let page = start.finish("-id", vec![9, 8, 7], |r| (vec![], *r));
        assert_eq!(page.results, vec![9, 8]);
        assert!(page.previous.is_none(), "the first page has no previous");
        let next = CursorReq::parse(page.next.as_deref().unwrap(), 2).unwrap();
        assert_eq!(next.boundary().map(|(_, i)| i), Some(8));
        assert!(!next.backward());
        let page2 = next.finish("-id", vec![7], |r| (vec![], *r));
        assert!(page2.next.is_none(), "the last page has no next");
        let back = CursorReq::parse(page2.previous.as_deref().unwrap(), 2).unwrap();
        assert!(back.backward());
        // Read towards the start: 8 then 9, shown in list order.
        let page1 = back.finish("-id", vec![8, 9], |r| (vec![], *r));
        assert_eq!(page1.results, vec![9, 8]);
        assert!(page1.previous.is_none() && page1.next.is_some());
    }

    #[test]
    fn a_foreign_or_broken_cursor_is_refused() {
        assert!(CursorReq::parse("not base64 !", 2).is_err());
        assert!(CursorReq::parse("e30", 2).is_err(), "{{}} lacks the fields");
        let page = CursorReq::parse("", 1)
            .unwrap()
            .finish("name", vec![1, 2], |r| {
                (vec![Key::Text(format!("n{r}"))], *r)
            });
        let c = CursorReq::parse(page.next.as_deref().unwrap(), 1).unwrap();
        assert!(c.check("name", 1).is_ok());
        assert!(c.check("-name", 1).is_err());
        assert!(c.check("name,sku", 2).is_err());
    }

    #[test]
    fn timestamps_survive_the_cursor_exactly() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_nano_opt(1, 2, 3, 179_011_000)
            .unwrap();
        assert_eq!(Key::time(&t).as_time().unwrap(), t);
    }
}
