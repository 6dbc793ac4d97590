//! Password logins as both servers and the staff site run them: who the username is, whether
//! it is locked (counted from the attempt log, so unknown names lock alike and every instance
//! agrees), the attempt and audit records, and the logout entry; and the attempt log's list.

use chrono::Duration;
use diesel::prelude::*;
use serde::Deserialize;

use super::find_by_username;
use crate::audit::{self, Entry};
use crate::auth::{Ctx, Principal};
use crate::context::Core;
use crate::cursor::{CursorPage, CursorReq};
use crate::db::MultiBackend;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult};
use crate::models::{LoginAttempt, UserRow};
use crate::paging::{PageReq, Paged};
use crate::schema::{login_attempts, users};
use crate::services::lower;
/// Loads the user behind a session or token; inactive users are treated as gone.
pub fn load_principal(conn: &mut DbConn, user_id: i64) -> CoreResult<Option<(Principal, UserRow)>> {
    let Some(row) = users::table
        .find(user_id)
        .first::<UserRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if !row.is_active {
        return Ok(None);
    }
    Ok(Some((Principal::from_user(&row)?, row)))
}

fn record_attempt(
    conn: &mut DbConn,
    ctx: &Ctx,
    username: &str,
    user_id: Option<i64>,
    success: bool,
    reason: &str,
) -> CoreResult<()> {
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::username.eq(username),
            login_attempts::user_id.eq(user_id),
            login_attempts::ip.eq(ctx.ip.as_deref()),
            login_attempts::user_agent.eq(ctx.user_agent.chars().take(500).collect::<String>()),
            login_attempts::success.eq(success),
            login_attempts::reason.eq(reason),
            login_attempts::at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Seconds left of a lockout for `username`, if it is locked now.
///
/// Counted from the login attempts, so unknown usernames lock exactly like known ones (no
/// enumeration), and several server instances see the same state.
fn lockout_remaining(
    core: &Core,
    conn: &mut DbConn,
    username: &str,
    user: Option<&UserRow>,
) -> CoreResult<Option<i64>> {
    let t = now();
    let window = Duration::minutes(core.config.lockout_minutes);
    let mut since = t - window;
    let last_success: Option<chrono::NaiveDateTime> = login_attempts::table
        .filter(lower(login_attempts::username).eq(username.to_lowercase()))
        .filter(login_attempts::success.eq(true))
        .select(diesel::dsl::max(login_attempts::at))
        .first(conn)?;
    if let Some(s) = last_success {
        since = since.max(s);
    }
    if let Some(r) = user.and_then(|u| u.lockout_reset_at) {
        since = since.max(r);
    }
    let threshold = i64::from(core.config.lockout_threshold.max(1));
    let failures: Vec<chrono::NaiveDateTime> = login_attempts::table
        .filter(lower(login_attempts::username).eq(username.to_lowercase()))
        .filter(login_attempts::success.eq(false))
        .filter(login_attempts::reason.eq("invalid_credentials"))
        .filter(login_attempts::at.gt(since))
        .select(login_attempts::at)
        .order(login_attempts::at.desc())
        .limit(threshold)
        .load(conn)?;
    if (failures.len() as i64) < threshold {
        return Ok(None);
    }
    let until = failures[0] + window;
    let left = (until - t).num_seconds();
    Ok((left > 0).then_some(left.max(1)))
}

/// The first half of a password login: who the username is and whether it is locked. A locked
/// username is refused here, before any password is looked at, so even the right password
/// gets `account_locked` while the lock lasts.
pub struct LoginCheck {
    username: String,
    user: Option<UserRow>,
}

impl LoginCheck {
    /// The hash to check the password against; `None` for an unknown (or unusable) username,
    /// which must still cost a full bcrypt check (see [`auth::verify_or_dummy`]).
    pub fn hash(&self) -> Option<String> {
        self.user.as_ref().map(|u| u.password_hash.clone())
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn login_check(core: &Core, ctx: &Ctx, username: &str) -> CoreResult<LoginCheck> {
    // One spelling per account for lookups and lockout counting: `ａｄｍｉｎ` is `admin`.
    let username = crate::types::normalize_username(username);
    let username = username.as_str();
    if username.is_empty() || username.chars().count() > 150 {
        return Ok(LoginCheck {
            username: String::new(),
            user: None,
        });
    }
    let (user, locked) = core.db.read(|c| {
        let user = find_by_username(c, username)?;
        let locked = lockout_remaining(core, c, username, user.as_ref())?;
        Ok((user, locked))
    })?;
    if let Some(secs) = locked {
        core.db.write(|c| {
            record_attempt(
                c,
                ctx,
                username,
                user.as_ref().map(|u| u.id),
                false,
                "locked",
            )
        })?;
        return Err(CoreError::Forbidden {
            code: "account_locked",
            detail: "Too many failed logins; the account is locked for a while.".into(),
            retry_after: Some(secs),
        });
    }
    Ok(LoginCheck {
        username: username.to_owned(),
        user,
    })
}

/// Where a password login happens: the JSON API, or the staff site, which only staff may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginSite {
    Api,
    Staff,
}

/// The refusal of a right password on the staff site for a user who is not staff.
pub fn not_staff() -> CoreError {
    CoreError::forbidden("not_staff", "This account cannot use the staff site.")
}

/// The second half: record the attempt (and, on success, `last_login` and the audit entry).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn login_finish(
    core: &Core,
    ctx: &Ctx,
    check: LoginCheck,
    password_ok: bool,
) -> CoreResult<UserRow> {
    login_finish_at(core, ctx, check, password_ok, LoginSite::Api)
}

/// As [`login_finish`] for a given site. On the staff site a right password of a user who is
/// not staff is refused with [`not_staff`]: the attempt is logged (reason `not_staff`) but
/// does not count toward the lockout, which counts wrong passwords only.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn login_finish_at(
    core: &Core,
    ctx: &Ctx,
    check: LoginCheck,
    password_ok: bool,
    site: LoginSite,
) -> CoreResult<UserRow> {
    let LoginCheck { username, user } = check;
    if username.is_empty() {
        return Err(invalid_credentials());
    }
    let username = username.as_str();
    match user {
        Some(u) if password_ok && u.is_active && site == LoginSite::Staff && !u.is_staff => {
            core.db
                .write(|c| record_attempt(c, ctx, username, Some(u.id), false, "not_staff"))?;
            Err(not_staff())
        }
        Some(u) if password_ok && u.is_active => core.db.write(|c| {
            let t = now();
            diesel::update(users::table.find(u.id))
                .set(users::last_login.eq(t))
                .execute(c)?;
            record_attempt(c, ctx, username, Some(u.id), true, "")?;
            audit::record_as(
                c,
                ctx,
                Some(u.id),
                Some(&u.username),
                Entry::of("login", &u, serde_json::json!({})),
            )?;
            Ok(UserRow {
                last_login: Some(t),
                ..u
            })
        }),
        Some(u) if password_ok => {
            core.db
                .write(|c| record_attempt(c, ctx, username, Some(u.id), false, "inactive"))?;
            Err(invalid_credentials())
        }
        other => {
            core.db.write(|c| {
                record_attempt(
                    c,
                    ctx,
                    username,
                    other.as_ref().map(|u| u.id),
                    false,
                    "invalid_credentials",
                )
            })?;
            Err(invalid_credentials())
        }
    }
}

pub fn invalid_credentials() -> CoreError {
    CoreError::Unauthenticated {
        code: "invalid_credentials",
        detail: "No active account found with the given credentials.".into(),
    }
}

/// Writes the logout audit entry.
pub fn record_logout(conn: &mut DbConn, ctx: &Ctx) -> CoreResult<()> {
    let p = ctx.user()?;
    audit::record(
        conn,
        ctx,
        Entry {
            action: "logout",
            object_type: "user",
            object_id: p.user_id.to_string(),
            object_repr: p.username.clone(),
            changes: serde_json::json!({}),
        },
    )
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttemptFilter {
    pub username: Option<String>,
    pub ip: Option<String>,
    pub success: Option<bool>,
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn login_attempts(
    core: &Core,
    ctx: &Ctx,
    f: &AttemptFilter,
    page: PageReq,
) -> CoreResult<Paged<LoginAttempt>> {
    ctx.read_audit()?;
    let query = attempts_query(f);
    core.db
        .read(|c| page.load(c, query, |q| q.order(login_attempts::id.desc())))
}

fn attempts_query(
    f: &AttemptFilter,
) -> impl Fn() -> login_attempts::BoxedQuery<'static, MultiBackend> {
    let f = f.clone();
    move || {
        let mut q = login_attempts::table.into_boxed();
        if let Some(u) = &f.username {
            q = q.filter(lower(login_attempts::username).eq(u.to_lowercase()));
        }
        if let Some(ip) = &f.ip {
            q = q.filter(login_attempts::ip.eq(ip.clone()));
        }
        if let Some(s) = f.success {
            q = q.filter(login_attempts::success.eq(s));
        }
        q
    }
}

/// `GET /api/auth/login-attempts?cursor=`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn login_attempts_by_cursor(
    core: &Core,
    ctx: &Ctx,
    f: &AttemptFilter,
    cursor: &CursorReq,
) -> CoreResult<CursorPage<LoginAttempt>> {
    ctx.read_audit()?;
    cursor.check("-id", 0)?;
    let query = attempts_query(f);
    core.db.read(|c| {
        let rows: Vec<LoginAttempt> =
            crate::newest_first_window!(query(), cursor, login_attempts::id).load(c)?;
        Ok(cursor.finish("-id", rows, |r| (vec![], r.id)))
    })
}
