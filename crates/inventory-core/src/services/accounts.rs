//! Self-service account flows: registration with email verification, password reset and
//! password change. Tokens are random, stored hashed, single-use and expiring; emails go out
//! only after the change has committed.

use chrono::Duration;
use diesel::prelude::*;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::audit::{self, Entry};
use crate::auth::{self, Ctx};
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::email::Email;
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{User, UserRow};
use crate::schema::{account_tokens, users};
use crate::services::lower;
use crate::services::users::{find_by_id, parse_username, revoke_logins};
use crate::types::{bounded_text, EmailAddress};

const VERIFY: &str = "verify_email";
const RESET: &str = "password_reset";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub token: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailInput {
    pub email: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmInput {
    pub token: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordInput {
    pub old_password: String,
    pub new_password: String,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// Issues a single-use token; older unused tokens of the same purpose stop working.
fn issue(conn: &mut DbConn, user_id: i64, purpose: &str, ttl: Duration) -> CoreResult<String> {
    let t = now();
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user_id))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(t))
    .execute(conn)?;
    let token = hex::encode(rand::random::<[u8; 24]>());
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::token_hash.eq(token_hash(&token)),
            account_tokens::user_id.eq(user_id),
            account_tokens::purpose.eq(purpose),
            account_tokens::expires_at.eq(t + ttl),
            account_tokens::created_at.eq(t),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Spends a token in one conditional statement (so it works exactly once); its user id.
fn redeem(conn: &mut DbConn, token: &str, purpose: &str) -> CoreResult<i64> {
    let t = now();
    let user_id: Option<i64> = diesel::update(
        account_tokens::table
            .find(token_hash(token))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(t)),
    )
    .set(account_tokens::used_at.eq(t))
    .returning(account_tokens::user_id)
    .get_result(conn)
    .optional()?;
    user_id.ok_or_else(|| CoreError::validation("token", "This link is invalid, used or expired."))
}

fn password_errors(errs: &mut Errors, field: &str, password: &str, username: &str, email: &str) {
    if let Err(reasons) = auth::check_password(password, username, email) {
        for r in reasons {
            errs.add(field, r);
        }
    }
}

/// The page an emailed link opens (`/verify-email?token=…`); tokens are URL-safe already.
fn link(core: &Core, page: &str, token: &str) -> String {
    format!("{}/{page}?token={token}", core.config.public_url)
}

fn verification_email(core: &Core, u: &UserRow, token: &str) -> Email {
    Email {
        to: u.email.clone(),
        subject: "Confirm your email address".into(),
        body: format!(
            "Hello {},\n\nconfirm your address to activate your account by opening this link:\n\n\
             {}\n\nIt works once and expires in 24 hours. A program can send the token itself \
             to POST /api/auth/verify-email:\n\n    {token}\n",
            u.username,
            link(core, "verify-email", token)
        ),
    }
}

/// `POST /api/auth/register`: inactive until the emailed token is confirmed.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn register(core: &Core, ctx: &Ctx, input: RegisterInput) -> CoreResult<User> {
    if !core.config.registration {
        return Err(CoreError::forbidden(
            "registration_closed",
            "Self-registration is turned off.",
        ));
    }
    let mut errs = Errors::default();
    let username = errs.field("username", parse_username(&input.username));
    let email = errs.take("email", EmailAddress::parse(&input.email));
    let first = errs.field("first_name", bounded_text(input.first_name.trim(), 150));
    let last = errs.field("last_name", bounded_text(input.last_name.trim(), 150));
    password_errors(
        &mut errs,
        "password",
        &input.password,
        &input.username,
        &input.email,
    );
    let email = errs.finish_with(email)?;
    let hash = auth::hash_password(&input.password, core.config.bcrypt_cost)?;
    let role = core.config.registration_role;
    let (row, token) = core.db.write(|c| {
        let t = now();
        let row: UserRow = diesel::insert_into(users::table)
            .values((
                users::username.eq(&username),
                users::username_key.eq(crate::types::username_key(&username)),
                users::email.eq(&email),
                users::password_hash.eq(&hash),
                users::first_name.eq(&first),
                users::last_name.eq(&last),
                users::role.eq(role.as_str()),
                users::is_active.eq(false),
                users::is_staff.eq(false),
                users::is_superuser.eq(false),
                users::email_verified.eq(false),
                users::date_joined.eq(t),
                users::auth_epoch.eq(t),
            ))
            .returning(users::all_columns)
            .get_result(c)?;
        let token = issue(c, row.id, VERIFY, Duration::hours(24))?;
        audit::record_as(
            c,
            ctx,
            Some(row.id),
            Some(&row.username),
            Entry::of(
                "register",
                &row,
                serde_json::json!({"username": [null, row.username], "role": [null, row.role]}),
            ),
        )?;
        Ok((row, token))
    })?;
    core.mailer
        .send_all(&[verification_email(core, &row, &token)]);
    Ok(row.into())
}

/// `POST /api/auth/verify-email`: activates the account; a token works once.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn verify_email(core: &Core, ctx: &Ctx, token: &str) -> CoreResult<User> {
    core.db.write(|c| {
        let user_id = redeem(c, token, VERIFY)?;
        let row: UserRow = diesel::update(users::table.find(user_id))
            .set((users::is_active.eq(true), users::email_verified.eq(true)))
            .returning(users::all_columns)
            .get_result(c)?;
        audit::record_as(
            c,
            ctx,
            Some(row.id),
            Some(&row.username),
            Entry::of(
                "verify_email",
                &row,
                serde_json::json!({"is_active": [false, true], "email_verified": [false, true]}),
            ),
        )?;
        Ok(row.into())
    })
}

fn find_by_email(conn: &mut DbConn, email: &str) -> CoreResult<Option<UserRow>> {
    Ok(users::table
        .filter(lower(users::email).eq(email.trim().to_lowercase()))
        .first(conn)
        .optional()?)
}

/// Sends a fresh verification token to an unverified account; says nothing either way.
pub fn resend_verification(core: &Core, email: &str) -> CoreResult<()> {
    let sent = core.db.write(|c| {
        let Some(u) = find_by_email(c, email)? else {
            return Ok(None);
        };
        if u.email_verified {
            return Ok(None);
        }
        let token = issue(c, u.id, VERIFY, Duration::hours(24))?;
        Ok(Some(verification_email(core, &u, &token)))
    })?;
    if let Some(e) = sent {
        core.mailer.send_all(&[e]);
    }
    Ok(())
}

/// `POST /api/auth/password/reset`: answers the same whether or not the address exists.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn request_reset(core: &Core, ctx: &Ctx, email: &str) -> CoreResult<()> {
    let sent = core.db.write(|c| {
        let Some(u) = find_by_email(c, email)? else {
            return Ok(None);
        };
        if !u.is_active {
            return Ok(None);
        }
        let token = issue(c, u.id, RESET, Duration::hours(1))?;
        audit::record_as(
            c,
            ctx,
            Some(u.id),
            Some(&u.username),
            Entry::of("password_reset_request", &u, serde_json::json!({})),
        )?;
        Ok(Some(Email {
            to: u.email.clone(),
            subject: "Reset your password".into(),
            body: format!(
                "Hello {},\n\nsomeone asked to reset your password. If it was you, choose a new \
                 one here:\n\n{}\n\nThe link works once and expires in 1 hour. If it was not you, \
                 ignore this message. A program can send the token with the new password to \
                 POST /api/auth/password/reset/confirm:\n\n    {token}\n",
                u.username,
                link(core, "reset-password", &token)
            ),
        }))
    })?;
    if let Some(e) = sent {
        core.mailer.send_all(&[e]);
    }
    Ok(())
}

fn set_password(
    conn: &mut DbConn,
    ctx: &Ctx,
    user: &UserRow,
    hash: &str,
    action: &str,
    keep: Option<&str>,
) -> CoreResult<()> {
    diesel::update(users::table.find(user.id))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    // A password change kills every outstanding reset link too.
    diesel::update(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user.id))
            .filter(account_tokens::purpose.eq(RESET))
            .filter(account_tokens::used_at.is_null()),
    )
    .set(account_tokens::used_at.eq(now()))
    .execute(conn)?;
    revoke_logins(conn, user.id, keep)?;
    audit::record_as(
        conn,
        ctx,
        Some(user.id),
        Some(&user.username),
        Entry::of(action, user, serde_json::json!({})),
    )
}

/// `POST /api/auth/password/reset/confirm`: revokes every session and token of the user.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn confirm_reset(core: &Core, ctx: &Ctx, input: ResetConfirmInput) -> CoreResult<()> {
    let hash_of = |u: &UserRow| -> CoreResult<String> {
        let mut errs = Errors::default();
        password_errors(
            &mut errs,
            "new_password",
            &input.new_password,
            &u.username,
            &u.email,
        );
        errs.finish()?;
        auth::hash_password(&input.new_password, core.config.bcrypt_cost)
    };
    // Check the token and the policy before spending bcrypt time, then spend the token in the
    // same transaction that sets the password.
    let preview: Option<UserRow> = core.db.read(|c| {
        let row: Option<i64> = account_tokens::table
            .find(token_hash(&input.token))
            .filter(account_tokens::purpose.eq(RESET))
            .filter(account_tokens::used_at.is_null())
            .filter(account_tokens::expires_at.gt(now()))
            .select(account_tokens::user_id)
            .first(c)
            .optional()?;
        row.map(|id| find_by_id(c, id)).transpose()
    })?;
    let Some(user) = preview else {
        return Err(CoreError::validation(
            "token",
            "This link is invalid, used or expired.",
        ));
    };
    let hash = hash_of(&user)?;
    core.db.write(|c| {
        let user_id = redeem(c, &input.token, RESET)?;
        let user = find_by_id(c, user_id)?;
        set_password(c, ctx, &user, &hash, "password_reset", None)
    })
}

/// `POST /api/auth/password/change`: the caller's other sessions and tokens are revoked.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn change_password(core: &Core, ctx: &Ctx, input: ChangePasswordInput) -> CoreResult<()> {
    crate::services::api_tokens::forbid_for_token(ctx)?;
    let p = ctx.user()?.clone();
    let user = core.db.read(|c| find_by_id(c, p.user_id))?;
    let mut errs = Errors::default();
    if !auth::verify_password(&input.old_password, &user.password_hash) {
        errs.add("old_password", "The current password is not correct.");
    }
    if input.old_password == input.new_password {
        errs.add(
            "new_password",
            "The new password must differ from the current one.",
        );
    }
    password_errors(
        &mut errs,
        "new_password",
        &input.new_password,
        &user.username,
        &user.email,
    );
    errs.finish()?;
    let hash = auth::hash_password(&input.new_password, core.config.bcrypt_cost)?;
    core.db.write(|c| {
        set_password(
            c,
            ctx,
            &user,
            &hash,
            "password_change",
            ctx.login_ref.as_deref(),
        )
    })
}
