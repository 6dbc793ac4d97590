//! API tokens (API.md §11): long-lived credentials for scripts and other systems, sent as
//! `Authorization: Token <secret>` on both servers.
//!
//! The secret is shown once, in the answer that creates it; the database keeps its SHA-256
//! only. A token dies when it is revoked or expires, when its user is deactivated, and when
//! the user's password changes (`users::revoke_logins` revokes them with the sessions). Every
//! check is a row in the shared database, so a revocation holds on every instance at the
//! next request.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{self, Audited, Entry};
use crate::auth::{Ctx, Principal, TokenGrant};
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::paging::{PageReq, Paged};
use crate::schema::api_tokens;
use crate::services::users::{find_by_id, load_principal};
use crate::ts::{fmt_ts, SqlTs, SqlTsOpt};
use crate::types::{ser_ts, ser_ts_opt};

/// What every secret starts with, so a leaked one is recognisable (secret scanners, logs).
pub const SCHEME_PREFIX: &str = "inv_";
/// Random characters after the scheme prefix: 40 of 62 symbols, about 238 bits.
const SECRET_CHARS: usize = 40;
/// How much of the secret the lists show, to tell tokens apart without revealing them.
const SHOWN: usize = SCHEME_PREFIX.len() + 8;
/// `last_used_at` is written at most this often, so reads do not turn into writes.
const TOUCH_EVERY_SECS: i64 = 60;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    #[serde(skip)]
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    #[serde(skip)]
    pub token_hash: String,
    pub read_only: bool,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = SqlTs)]
    pub expires_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts_opt")]
    #[diesel(deserialize_as = SqlTsOpt)]
    #[schema(value_type = Option<String>)]
    pub last_used_at: Option<NaiveDateTime>,
    #[serde(skip)]
    #[diesel(deserialize_as = SqlTsOpt)]
    pub revoked_at: Option<NaiveDateTime>,
}

impl Audited for ApiToken {
    const TYPE: &'static str = "api_token";
    fn audit_id(&self) -> String {
        self.id.to_string()
    }
    fn audit_repr(&self) -> String {
        format!("{} ({}…)", self.name, self.prefix)
    }
}

/// The create answer: the token's fields and, this once, its secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The secret; it is never shown again.
    #[serde(rename = "token")]
    pub secret: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub name: Option<String>,
    /// 1–365, default 90.
    pub expires_in_days: Option<i64>,
    /// Default false.
    pub read_only: Option<bool>,
}

/// The input, checked: every problem named by its field.
struct NewToken {
    name: String,
    days: i64,
    read_only: bool,
}

impl NewToken {
    fn parse(input: TokenInput) -> CoreResult<NewToken> {
        let mut errs = Errors::default();
        let name = input.name.map(|n| n.trim().to_owned()).unwrap_or_default();
        if name.is_empty() {
            errs.add("name", "This field is required.");
        } else if name.chars().count() > 100 {
            errs.add("name", "Ensure this field has no more than 100 characters.");
        }
        let days = input.expires_in_days.unwrap_or(90);
        if !(1..=365).contains(&days) {
            errs.add("expires_in_days", "Ensure this value is between 1 and 365.");
        }
        errs.finish()?;
        Ok(NewToken {
            name,
            days,
            read_only: input.read_only.unwrap_or(false),
        })
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    let mut s = String::with_capacity(SCHEME_PREFIX.len() + SECRET_CHARS);
    s.push_str(SCHEME_PREFIX);
    s.push_str(&Alphanumeric.sample_string(&mut rand::rngs::OsRng, SECRET_CHARS));
    s
}

/// Whether a presented value can be a secret of ours at all (checked before any lookup).
pub fn well_formed(secret: &str) -> bool {
    secret.len() == SCHEME_PREFIX.len() + SECRET_CHARS
        && secret.starts_with(SCHEME_PREFIX)
        && secret[SCHEME_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// The caller behind a token, for the servers' auth layers: a missing, revoked or expired
/// token, or one whose user is inactive, is a 401 `token_not_valid`. A read-only token on an
/// unsafe method is a 403. `last_used_at` is written only when it is a minute old, and then
/// by a conditional update, so parallel requests on several instances write it once.
pub fn authenticate(core: &Core, secret: &str, unsafe_method: bool) -> CoreResult<Principal> {
    if !well_formed(secret) {
        return Err(CoreError::token_not_valid());
    }
    let h = hash(secret);
    let t = now();
    let (token, principal) = core.db.read(|c| {
        let Some(token) = api_tokens::table
            .filter(api_tokens::token_hash.eq(&h))
            .select(ApiToken::as_select())
            .first(c)
            .optional()?
        else {
            return Err(CoreError::token_not_valid());
        };
        if token.revoked_at.is_some() || token.expires_at <= t {
            return Err(CoreError::token_not_valid());
        }
        let Some((principal, _)) = load_principal(c, token.user_id)? else {
            return Err(CoreError::token_not_valid());
        };
        Ok((token, principal))
    })?;
    if unsafe_method && token.read_only {
        return Err(CoreError::forbidden(
            "read_only_token",
            "This token is read-only.",
        ));
    }
    let stale = t - Duration::seconds(TOUCH_EVERY_SECS);
    if token.last_used_at.is_none_or(|u| u <= stale) {
        core.db.write(|c| {
            diesel::update(
                api_tokens::table.find(token.id).filter(
                    api_tokens::last_used_at
                        .is_null()
                        .or(api_tokens::last_used_at.le(stale)),
                ),
            )
            .set(api_tokens::last_used_at.eq(t))
            .execute(c)?;
            Ok(())
        })?;
    }
    Ok(Principal {
        api_token: Some(TokenGrant {
            id: token.id,
            read_only: token.read_only,
        }),
        ..principal
    })
}

/// Tokens are made by a person who signed in, never by another token (a leaked token must
/// not be able to outlive its own revocation).
fn not_by_token(ctx: &Ctx) -> CoreResult<&Principal> {
    let p = ctx.user()?;
    if p.api_token.is_some() {
        return Err(CoreError::forbidden(
            "permission_denied",
            "An API token cannot do this; sign in with a password.",
        ));
    }
    Ok(p)
}

/// `POST /api/auth/tokens`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: TokenInput) -> CoreResult<CreatedToken> {
    let user_id = not_by_token(ctx)?.user_id;
    let new = NewToken::parse(input)?;
    let secret = new_secret();
    let t = now();
    core.db.write(|c| {
        let token: ApiToken = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user_id),
                api_tokens::name.eq(&new.name),
                api_tokens::prefix.eq(&secret[..SHOWN]),
                api_tokens::token_hash.eq(hash(&secret)),
                api_tokens::read_only.eq(new.read_only),
                api_tokens::created_at.eq(t),
                api_tokens::expires_at.eq(t + Duration::days(new.days)),
            ))
            .returning(api_tokens::all_columns)
            .get_result(c)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "token_create",
                &token,
                serde_json::json!({
                    "name": [null, token.name],
                    "read_only": [null, token.read_only],
                    "expires_at": [null, fmt_ts(&token.expires_at)],
                }),
            ),
        )?;
        Ok(CreatedToken {
            token,
            secret: secret.clone(),
        })
    })
}

fn list_of(core: &Core, user_id: i64, page: PageReq) -> CoreResult<Paged<ApiToken>> {
    core.db.read(|c| {
        page.load(
            c,
            || {
                api_tokens::table
                    .filter(api_tokens::user_id.eq(user_id))
                    .filter(api_tokens::revoked_at.is_null())
                    .select(ApiToken::as_select())
            },
            |q| q.order(api_tokens::id.desc()),
        )
    })
}

/// `GET /api/auth/tokens`: the caller's own live tokens, newest first, never a secret.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_mine(core: &Core, ctx: &Ctx, page: PageReq) -> CoreResult<Paged<ApiToken>> {
    let user_id = ctx.user()?.user_id;
    list_of(core, user_id, page)
}

/// `GET /api/users/{id}/tokens` (admins).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = user_id))]
pub fn list_for_user(
    core: &Core,
    ctx: &Ctx,
    user_id: i64,
    page: PageReq,
) -> CoreResult<Paged<ApiToken>> {
    ctx.manage_users()?;
    core.db.read(|c| find_by_id(c, user_id).map(|_| ()))?;
    list_of(core, user_id, page)
}

fn revoke(core: &Core, ctx: &Ctx, user_id: i64, token_id: i64) -> CoreResult<()> {
    core.db.write(|c| {
        let t = now();
        let token: Option<ApiToken> = diesel::update(
            api_tokens::table
                .find(token_id)
                .filter(api_tokens::user_id.eq(user_id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(t))
        .returning(api_tokens::all_columns)
        .get_result(c)
        .optional()?;
        let token = token.ok_or(CoreError::NotFound)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "token_revoke",
                &token,
                serde_json::json!({ "revoked_at": [null, fmt_ts(&t)] }),
            ),
        )
    })
}

/// `DELETE /api/auth/tokens/{id}`: the caller's own token (another's is a 404).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = token_id))]
pub fn revoke_mine(core: &Core, ctx: &Ctx, token_id: i64) -> CoreResult<()> {
    let user_id = ctx.user()?.user_id;
    revoke(core, ctx, user_id, token_id)
}

/// `DELETE /api/users/{id}/tokens/{token_id}` (admins).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = token_id))]
pub fn revoke_for_user(core: &Core, ctx: &Ctx, user_id: i64, token_id: i64) -> CoreResult<()> {
    ctx.manage_users()?;
    revoke(core, ctx, user_id, token_id)
}

/// Revokes every live token of a user (deactivation, password change), in the caller's
/// transaction.
pub fn revoke_all(conn: &mut DbConn, user_id: i64, at: NaiveDateTime) -> CoreResult<()> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// Refuses a password change made with a token (API.md §11).
pub fn forbid_for_token(ctx: &Ctx) -> CoreResult<()> {
    not_by_token(ctx).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_well_formed_and_distinct() {
        let a = new_secret();
        let b = new_secret();
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed(&a[..a.len() - 1]));
        assert!(!well_formed(&format!("xyz_{}", &a[4..])));
        assert!(!well_formed(&format!("{}!", &a[..a.len() - 1])));
    }
}
