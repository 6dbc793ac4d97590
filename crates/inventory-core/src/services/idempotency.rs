//! Idempotency keys (API.md §11): a POST retried after a lost answer changes nothing and gets
//! the first answer again.
//!
//! A key's life, all in the shared database so it holds across instances and restarts:
//! 1. [`claim`], in a transaction of its own before the request runs: one row per user,
//!    method, path and key. A duplicate arriving while it runs finds the row unanswered and
//!    gets 409; one with another body gets 422.
//! 2. [`mark`], called by the audit writers inside the change's own transaction: the row's
//!    `committed_at` commits exactly when the change does.
//! 3. [`finish`] keeps the answer (2xx and 4xx) for replay; [`release`] drops the claim of a
//!    request that failed with a 5xx before changing anything, so a retry runs again.
//!
//! A claim left unanswered by a crash is taken over by the next retry only when its change
//! never committed (`committed_at` empty) and it is older than [`ABANDONED_SECS`]; a claim
//! whose change committed is never run again. Rows live 24 hours.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::auth::Ctx;
use crate::db::{now, Db, DbConn};
use crate::error::{CoreError, CoreResult};
use crate::schema::idempotency_keys as k;

/// How long a key is remembered.
pub const KEEP_HOURS: i64 = 24;
/// After this long an unanswered claim whose change never committed is taken to be
/// abandoned (its process died); well past any request's own time limits.
pub const ABANDONED_SECS: i64 = 300;

/// What a request with a key may do.
#[derive(Debug)]
pub enum Claim {
    /// Run it; the row's id goes into the request's context.
    Run(i64),
    /// Answer this instead, changing nothing.
    Replay {
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
    },
}

/// Checks a header value: 1–255 printable ASCII characters.
pub fn valid_key(key: &[u8]) -> bool {
    (1..=255).contains(&key.len()) && key.iter().all(|b| (0x20..=0x7e).contains(b))
}

/// The body's fingerprint: bodies are compared byte for byte, through their SHA-256.
pub fn body_hash(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[derive(Queryable)]
struct Row {
    id: i64,
    body_hash: String,
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::ts::SqlTsOpt)]
    committed_at: Option<NaiveDateTime>,
    status: Option<i32>,
    content_type: Option<String>,
    response: Option<Vec<u8>>,
}

fn in_progress() -> CoreError {
    CoreError::Conflict {
        code: "idempotency_in_progress",
        detail: "A request with this Idempotency-Key is still being processed.".into(),
        errors: Default::default(),
    }
}

/// Claims `key` for this request, or says what to answer instead.
pub fn claim(
    db: &Db,
    user_id: i64,
    method: &str,
    path: &str,
    key: &str,
    hash: &str,
) -> CoreResult<Claim> {
    let t = now();
    db.write(|c| {
        let found: Option<Row> = k::table
            .filter(k::user_id.eq(user_id))
            .filter(k::method.eq(method))
            .filter(k::path.eq(path))
            .filter(k::idem_key.eq(key))
            .select((
                k::id,
                k::body_hash,
                k::created_at,
                k::committed_at,
                k::status,
                k::content_type,
                k::response,
            ))
            .first(c)
            .optional()?;
        if let Some(row) = found {
            let expired = row.created_at <= t - Duration::hours(KEEP_HOURS);
            let abandoned = row.status.is_none()
                && row.committed_at.is_none()
                && row.created_at <= t - Duration::seconds(ABANDONED_SECS);
            if !expired && !abandoned {
                if row.body_hash != hash {
                    return Err(CoreError::Unprocessable {
                        code: "idempotency_key_reused",
                        detail: "This Idempotency-Key was used with a different request body."
                            .into(),
                    });
                }
                return match row.status {
                    Some(status) => Ok(Claim::Replay {
                        status: u16::try_from(status).unwrap_or(500),
                        content_type: row.content_type,
                        body: row.response.unwrap_or_default(),
                    }),
                    None => Err(in_progress()),
                };
            }
            diesel::delete(k::table.find(row.id)).execute(c)?;
        }
        // The writer is held (SQLite) or the unique index decides (PostgreSQL: a racing
        // claim waits for this one's commit, then fails its insert and is answered 409).
        let id: i64 = diesel::insert_into(k::table)
            .values((
                k::user_id.eq(user_id),
                k::method.eq(method),
                k::path.eq(path),
                k::idem_key.eq(key),
                k::body_hash.eq(hash),
                k::created_at.eq(t),
            ))
            .returning(k::id)
            .get_result(c)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => in_progress(),
                e => e.into(),
            })?;
        Ok(Claim::Run(id))
    })
}

/// Marks the request's claim as committed, on the change's own connection and transaction.
/// Every audit writer calls it, so any change that is audited marks it.
pub fn mark(conn: &mut DbConn, ctx: &Ctx) -> CoreResult<()> {
    if let Some(id) = ctx.idempotency {
        diesel::update(k::table.find(id).filter(k::committed_at.is_null()))
            .set(k::committed_at.eq(now()))
            .execute(conn)?;
    }
    Ok(())
}

/// Keeps the answer of a claimed request for replay.
pub fn finish(
    db: &Db,
    id: i64,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> CoreResult<()> {
    db.write(|c| {
        diesel::update(k::table.find(id))
            .set((
                k::status.eq(i32::from(status)),
                k::content_type.eq(content_type),
                k::response.eq(body),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// Drops the claim of a request that failed with a 5xx, unless its change committed (then
/// it stays unanswered: a retry gets 409 rather than a second change).
pub fn release(db: &Db, id: i64) -> CoreResult<()> {
    db.write(|c| {
        diesel::delete(k::table.find(id).filter(k::committed_at.is_null())).execute(c)?;
        Ok(())
    })
}

/// Drops keys older than [`KEEP_HOURS`]; the housekeeping task calls it.
pub fn purge_expired(db: &Db) -> CoreResult<usize> {
    let cutoff = now() - Duration::hours(KEEP_HOURS);
    db.write(|c| Ok(diesel::delete(k::table.filter(k::created_at.le(cutoff))).execute(c)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_printable_ascii_characters() {
        assert!(valid_key(b"a"));
        assert!(valid_key(&[b'x'; 255]));
        assert!(valid_key(b"order 42 / retry"));
        assert!(!valid_key(b""));
        assert!(!valid_key(&[b'x'; 256]));
        assert!(!valid_key(b"tab\there"));
        assert!(!valid_key("caf\u{e9}".as_bytes()));
    }
}
