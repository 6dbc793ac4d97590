//! Server-side cookie sessions, stored in the database so they can be revoked and shared by
//! several server instances. Keys are stored hashed: a database leak does not leak sessions.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{now, Db};
use crate::error::CoreResult;
use crate::schema::sessions;

pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The stored state of a live session, or `None` when missing or expired.
pub fn load(db: &Db, key: &str) -> CoreResult<Option<String>> {
    let h = key_hash(key);
    db.read(|c| {
        Ok(sessions::table
            .find(h)
            .filter(sessions::expires_at.gt(now()))
            .select(sessions::data)
            .first(c)
            .optional()?)
    })
}

fn expiry(ttl_seconds: i64) -> NaiveDateTime {
    now() + Duration::seconds(ttl_seconds)
}

/// Who a session belongs to: the user and the login it came from (kept in their own columns so
/// a user's sessions can be revoked at once, sparing the current login when asked to).
#[derive(Debug, Clone, Default)]
pub struct Owner {
    pub user_id: Option<i64>,
    pub login_id: Option<String>,
}

pub fn save(db: &Db, key: &str, data: &str, owner: &Owner, ttl_seconds: i64) -> CoreResult<()> {
    let h = key_hash(key);
    db.write(|c| {
        diesel::insert_into(sessions::table)
            .values((
                sessions::key_hash.eq(h),
                sessions::user_id.eq(owner.user_id),
                sessions::login_id.eq(owner.login_id.as_deref()),
                sessions::data.eq(data),
                sessions::expires_at.eq(expiry(ttl_seconds)),
                sessions::created_at.eq(now()),
            ))
            .execute(c)?;
        Ok(())
    })
}

/// Updates a live session; `false` when it no longer exists (it was revoked or expired).
pub fn update(db: &Db, key: &str, data: &str, owner: &Owner, ttl_seconds: i64) -> CoreResult<bool> {
    let h = key_hash(key);
    db.write(|c| {
        let n = diesel::update(
            sessions::table
                .find(h)
                .filter(sessions::expires_at.gt(now())),
        )
        .set((
            sessions::data.eq(data),
            sessions::user_id.eq(owner.user_id),
            sessions::login_id.eq(owner.login_id.as_deref()),
            sessions::expires_at.eq(expiry(ttl_seconds)),
        ))
        .execute(c)?;
        Ok(n > 0)
    })
}

/// Extends an idle timeout. Reads first and writes only when the expiry would move by more
/// than a minute, so a busy session does not turn every read request into a write.
pub fn touch(db: &Db, key: &str, ttl_seconds: i64) -> CoreResult<()> {
    let h = key_hash(key);
    let current: Option<NaiveDateTime> = db.read(|c| {
        Ok(sessions::table
            .find(&h)
            .select(sessions::expires_at)
            .first(c)
            .optional()?)
    })?;
    match current {
        Some(exp) if exp + Duration::seconds(60) < expiry(ttl_seconds) => {}
        _ => return Ok(()),
    }
    db.write(|c| {
        diesel::update(sessions::table.find(h))
            .set(sessions::expires_at.eq(expiry(ttl_seconds)))
            .execute(c)?;
        Ok(())
    })
}

pub fn delete(db: &Db, key: &str) -> CoreResult<()> {
    let h = key_hash(key);
    db.write(|c| {
        diesel::delete(sessions::table.find(h)).execute(c)?;
        Ok(())
    })
}

/// Drops expired sessions; run now and then so the table does not grow without bound.
pub fn purge_expired(db: &Db) -> CoreResult<usize> {
    db.write(|c| {
        Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now()))).execute(c)?)
    })
}
