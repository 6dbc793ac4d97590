//! Outstanding and revoked JWTs (simplejwt's blacklist app), in the database so every server
//! instance sees a revocation at once.
//!
//! Each login starts a *family*: a row of kind `family`, whose id every token of that login
//! carries. Revoking the family kills all its access and refresh tokens immediately.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{now, Db, DbConn};
use crate::error::CoreResult;
use crate::models::UserRow;
use crate::schema::{jwt_tokens, users};

fn insert(
    conn: &mut DbConn,
    jti: &str,
    user_id: i64,
    family: &str,
    kind: &str,
    expires_at: NaiveDateTime,
    revoked: bool,
) -> CoreResult<()> {
    let t = now();
    diesel::insert_into(jwt_tokens::table)
        .values((
            jwt_tokens::jti.eq(jti),
            jwt_tokens::user_id.eq(user_id),
            jwt_tokens::family.eq(family),
            jwt_tokens::token_type.eq(kind),
            jwt_tokens::expires_at.eq(expires_at),
            jwt_tokens::created_at.eq(t),
            jwt_tokens::revoked_at.eq(revoked.then_some(t)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a new login's family and its first refresh token.
pub fn start_family(
    db: &Db,
    user_id: i64,
    family: &str,
    refresh_jti: &str,
    expires_at: NaiveDateTime,
) -> CoreResult<()> {
    db.write(|c| {
        insert(c, family, user_id, family, "family", expires_at, false)?;
        insert(
            c,
            refresh_jti,
            user_id,
            family,
            "refresh",
            expires_at,
            false,
        )
    })
}

pub enum Rotation {
    /// The token was current; it is now rotated and `new_jti` recorded in its place.
    Rotated,
    /// The token was already rotated: presented twice means stolen; the family is revoked.
    Reused,
    /// Revoked, expired, or never issued by us.
    Invalid,
}

/// Rotates a refresh token in one conditional statement, so two concurrent refreshes of the
/// same token cannot both succeed.
pub fn rotate(
    db: &Db,
    jti: &str,
    user_id: i64,
    family: &str,
    new_jti: &str,
    new_expires_at: NaiveDateTime,
) -> CoreResult<Rotation> {
    db.write(|c| {
        let t = now();
        let family_live: Option<String> = jwt_tokens::table
            .find(family)
            .filter(jwt_tokens::revoked_at.is_null())
            .select(jwt_tokens::jti)
            .first(c)
            .optional()?;
        let n = diesel::update(
            jwt_tokens::table
                .find(jti)
                .filter(jwt_tokens::token_type.eq("refresh"))
                .filter(jwt_tokens::user_id.eq(user_id))
                .filter(jwt_tokens::rotated_at.is_null())
                .filter(jwt_tokens::revoked_at.is_null())
                .filter(jwt_tokens::expires_at.gt(t)),
        )
        .set(jwt_tokens::rotated_at.eq(t))
        .execute(c)?;
        if n == 1 && family_live.is_some() {
            insert(
                c,
                new_jti,
                user_id,
                family,
                "refresh",
                new_expires_at,
                false,
            )?;
            return Ok(Rotation::Rotated);
        }
        let rotated: Option<Option<NaiveDateTime>> = jwt_tokens::table
            .find(jti)
            .select(jwt_tokens::rotated_at)
            .first(c)
            .optional()?;
        if matches!(rotated, Some(Some(_))) {
            revoke_family_on(c, family)?;
            return Ok(Rotation::Reused);
        }
        Ok(Rotation::Invalid)
    })
}

fn revoke_family_on(conn: &mut DbConn, family: &str) -> CoreResult<()> {
    diesel::update(
        jwt_tokens::table
            .filter(jwt_tokens::family.eq(family))
            .filter(jwt_tokens::revoked_at.is_null()),
    )
    .set(jwt_tokens::revoked_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// Blacklists one refresh token; `false` when it was not a live token of ours.
pub fn blacklist(db: &Db, jti: &str) -> CoreResult<bool> {
    db.write(|c| {
        let n = diesel::update(
            jwt_tokens::table
                .find(jti)
                .filter(jwt_tokens::token_type.eq("refresh"))
                .filter(jwt_tokens::revoked_at.is_null()),
        )
        .set(jwt_tokens::revoked_at.eq(now()))
        .execute(c)?;
        Ok(n > 0)
    })
}

/// Revokes a presented access token at once (logout), by recording its id as revoked.
pub fn revoke_access(
    conn: &mut DbConn,
    jti: &str,
    user_id: i64,
    family: &str,
    expires_at: NaiveDateTime,
) -> CoreResult<()> {
    let exists: Option<String> = jwt_tokens::table
        .find(jti)
        .select(jwt_tokens::jti)
        .first(conn)
        .optional()?;
    if exists.is_some() {
        diesel::update(jwt_tokens::table.find(jti))
            .set(jwt_tokens::revoked_at.eq(now()))
            .execute(conn)?;
        return Ok(());
    }
    insert(conn, jti, user_id, family, "access", expires_at, true)
}

/// True when the token itself or its login family has been revoked.
pub fn is_revoked(conn: &mut DbConn, jti: &str, family: &str) -> CoreResult<bool> {
    let n: i64 = jwt_tokens::table
        .filter(jwt_tokens::jti.eq(jti).or(jwt_tokens::jti.eq(family)))
        .filter(jwt_tokens::revoked_at.is_not_null())
        .count()
        .get_result(conn)?;
    let family_known: i64 = jwt_tokens::table
        .filter(jwt_tokens::jti.eq(family))
        .count()
        .get_result(conn)?;
    Ok(n > 0 || family_known == 0)
}

/// The active user behind an access token whose login family is live and which was not itself
/// revoked: one query per authenticated request.
pub fn user_for_access(
    conn: &mut DbConn,
    user_id: i64,
    jti: &str,
    family: &str,
) -> CoreResult<Option<UserRow>> {
    use diesel::dsl::{exists, not};
    Ok(users::table
        .find(user_id)
        .filter(users::is_active.eq(true))
        .filter(exists(
            jwt_tokens::table
                .filter(jwt_tokens::jti.eq(family))
                .filter(jwt_tokens::revoked_at.is_null()),
        ))
        .filter(not(exists(
            jwt_tokens::table
                .filter(jwt_tokens::jti.eq(jti))
                .filter(jwt_tokens::revoked_at.is_not_null()),
        )))
        .first(conn)
        .optional()?)
}

/// Drops token rows nobody can present any more: expired access and refresh tokens, then the
/// login families left without a live refresh token (their access tokens, shorter-lived than
/// any refresh token, have expired too). Revocations of live tokens stay.
pub fn purge_expired(db: &Db) -> CoreResult<usize> {
    db.write(|c| {
        let t = now();
        let tokens = diesel::delete(
            jwt_tokens::table
                .filter(jwt_tokens::token_type.ne("family"))
                .filter(jwt_tokens::expires_at.le(t)),
        )
        .execute(c)?;
        let families = crate::sql::query(
            "DELETE FROM jwt_tokens WHERE token_type = 'family' AND NOT EXISTS \
             (SELECT 1 FROM jwt_tokens r WHERE r.family = jwt_tokens.jti AND r.token_type = 'refresh')",
        )
        .execute(c)?;
        Ok(tokens + families)
    })
}
