//! Users: creation, listing, the admin's changes, profile, passwords; logins in `login.rs`.

mod login;

pub use login::{
    invalid_credentials, load_principal, login_attempts, login_attempts_by_cursor, login_check,
    login_finish, login_finish_at, not_staff, record_logout, AttemptFilter, LoginCheck, LoginSite,
};

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::{self, Ctx};
use crate::context::Core;
use crate::db::{now, Db, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{User, UserRow};
use crate::paging::{PageReq, Paged};
use crate::schema::{jwt_tokens, sessions, users};
use crate::services::{contains_pattern, lower};
use crate::types::{bounded_text, EmailAddress, Role};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    pub username: String,
    pub email: String,
    pub password: String,
    pub role: Option<String>,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub search: Option<String>,
}

/// A username: 1–150 characters of letters, digits and `@.+-_` (Django's rule).
pub fn parse_username(s: &str) -> Result<String, String> {
    let t = crate::types::normalize_username(s);
    let t = t.as_str();
    if t.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if t.chars().count() > 150 {
        return Err("Ensure this field has no more than 150 characters.".into());
    }
    if !t
        .chars()
        .all(|c| c.is_alphanumeric() || "@.+-_".contains(c))
    {
        return Err("Enter a valid username: letters, digits and @/./+/-/_ only.".into());
    }
    Ok(t.to_owned())
}

struct ValidNewUser {
    username: String,
    email: EmailAddress,
    role: Role,
    first_name: String,
    last_name: String,
    phone: String,
}

fn validate_new(input: &NewUserInput, default_role: Role) -> CoreResult<ValidNewUser> {
    let mut errs = Errors::default();
    let username = errs.field("username", parse_username(&input.username));
    let email = errs.take("email", EmailAddress::parse(&input.email));
    let role = match &input.role {
        Some(r) => errs.take("role", Role::parse(r)).unwrap_or(default_role),
        None => default_role,
    };
    let first_name = errs.field("first_name", bounded_text(input.first_name.trim(), 150));
    let last_name = errs.field("last_name", bounded_text(input.last_name.trim(), 150));
    let phone = errs.field("phone", bounded_text(input.phone.trim(), 32));
    if let Err(reasons) = auth::check_password(&input.password, &input.username, &input.email) {
        for r in reasons {
            errs.add("password", r);
        }
    }
    let email = errs.finish_with(email)?;
    Ok(ValidNewUser {
        username,
        email,
        role,
        first_name,
        last_name,
        phone,
    })
}

fn insert_user(
    conn: &mut DbConn,
    ctx: &Ctx,
    v: &ValidNewUser,
    hash: &str,
    superuser: bool,
    active: bool,
) -> CoreResult<UserRow> {
    let t = now();
    let row: UserRow = diesel::insert_into(users::table)
        .values((
            users::username.eq(&v.username),
            users::username_key.eq(crate::types::username_key(&v.username)),
            users::email.eq(&v.email),
            users::password_hash.eq(hash),
            users::first_name.eq(&v.first_name),
            users::last_name.eq(&v.last_name),
            users::phone.eq(&v.phone),
            users::role.eq(v.role.as_str()),
            users::is_active.eq(active),
            users::is_staff.eq(superuser),
            users::is_superuser.eq(superuser),
            users::email_verified.eq(active),
            users::date_joined.eq(t),
            users::auth_epoch.eq(t),
        ))
        .returning(users::all_columns)
        .get_result(conn)?;
    let mut ch = Changes::new();
    ch.set("username", &row.username);
    ch.set("email", &row.email);
    ch.set("role", &row.role);
    ch.set("is_superuser", &row.is_superuser);
    audit::record(conn, ctx, Entry::of("create", &row, ch))?;
    Ok(row)
}

/// The `createsuperuser` command: the only way to get `is_staff` and `is_superuser`.
pub fn create_superuser(
    db: &Db,
    username: &str,
    email: &str,
    password: &str,
    bcrypt_cost: u32,
) -> CoreResult<User> {
    let input = NewUserInput {
        username: username.into(),
        email: email.into(),
        password: password.into(),
        role: Some("admin".into()),
        first_name: String::new(),
        last_name: String::new(),
        phone: String::new(),
    };
    let v = validate_new(&input, Role::Admin)?;
    let hash = auth::hash_password(password, bcrypt_cost)?;
    let row = db.write(|c| insert_user(c, &Ctx::system(), &v, &hash, true, true))?;
    Ok(row.into())
}

/// `POST /api/users`: superusers only; the new user is active and verified, never staff.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: NewUserInput) -> CoreResult<User> {
    ctx.require_superuser()?;
    let v = validate_new(&input, Role::Employee)?;
    let hash = auth::hash_password(&input.password, core.config.bcrypt_cost)?;
    let row = core
        .db
        .write(|c| insert_user(c, ctx, &v, &hash, false, true))?;
    Ok(row.into())
}

pub fn find_by_id(conn: &mut DbConn, id: i64) -> CoreResult<UserRow> {
    Ok(users::table.find(id).first::<UserRow>(conn)?)
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> CoreResult<Option<UserRow>> {
    let username = crate::types::normalize_username(username);
    Ok(users::table
        .filter(lower(users::username).eq(username.to_lowercase()))
        .first::<UserRow>(conn)
        .optional()?)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(core: &Core, ctx: &Ctx, f: &UserFilter, page: PageReq) -> CoreResult<Paged<User>> {
    ctx.manage_users()?;
    if let Some(r) = &f.role {
        Role::parse(r).map_err(|m| CoreError::validation("role", m))?;
    }
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(r) = &f.role {
            q = q.filter(users::role.eq(r.clone()));
        }
        if let Some(a) = f.is_active {
            q = q.filter(users::is_active.eq(a));
        }
        if let Some(s) = f.search.as_deref().filter(|s| !s.is_empty()) {
            let p = contains_pattern(s);
            q = q.filter(
                lower(users::username)
                    .like(p.clone())
                    .escape('\\')
                    .or(lower(users::email).like(p.clone()).escape('\\'))
                    .or(lower(users::first_name).like(p.clone()).escape('\\'))
                    .or(lower(users::last_name).like(p).escape('\\')),
            );
        }
        q
    };
    core.db.read(|c| {
        let rows: Paged<UserRow> = page.load(c, query, |q| q.order(users::id))?;
        Ok(rows.map(User::from))
    })
}

/// Admins see anyone; everyone sees themselves; anyone else is refused.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<User> {
    let p = ctx.user()?;
    if p.user_id != id && ctx.manage_users().is_err() {
        return Err(CoreError::permission_denied());
    }
    core.db.read(|c| Ok(find_by_id(c, id)?.into()))
}

/// Revokes every cookie session, token family and API token of a user at once (their access tokens die
/// with their family), except the login `keep` when given (a password change keeps the
/// session or token family it was made from).
pub fn revoke_logins(conn: &mut DbConn, user_id: i64, keep: Option<&str>) -> CoreResult<()> {
    let t = now();
    let keep = keep.unwrap_or("");
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::login_id.is_null().or(sessions::login_id.ne(keep))),
    )
    .execute(conn)?;
    diesel::update(
        jwt_tokens::table
            .filter(jwt_tokens::user_id.eq(user_id))
            .filter(jwt_tokens::family.ne(keep))
            .filter(jwt_tokens::revoked_at.is_null()),
    )
    .set(jwt_tokens::revoked_at.eq(t))
    .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set(users::auth_epoch.eq(t))
        .execute(conn)?;
    // API tokens have no login to keep: a token can change no password (API.md §11).
    crate::services::api_tokens::revoke_all(conn, user_id, t)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn patch(core: &Core, ctx: &Ctx, id: i64, input: UserPatch) -> CoreResult<User> {
    let actor = ctx.manage_users()?.clone();
    let mut errs = Errors::default();
    let email = input
        .email
        .as_deref()
        .and_then(|e| errs.take("email", EmailAddress::parse(e)));
    let role = input
        .role
        .as_deref()
        .and_then(|r| errs.take("role", Role::parse(r)));
    let first = input
        .first_name
        .as_deref()
        .and_then(|s| errs.take("first_name", bounded_text(s.trim(), 150)));
    let last = input
        .last_name
        .as_deref()
        .and_then(|s| errs.take("last_name", bounded_text(s.trim(), 150)));
    let phone = input
        .phone
        .as_deref()
        .and_then(|s| errs.take("phone", bounded_text(s.trim(), 32)));
    errs.finish()?;
    core.db.write(|c| {
        let old = find_by_id(c, id)?;
        if old.is_superuser && !actor.is_superuser {
            return Err(CoreError::forbidden(
                "permission_denied",
                "Only a superuser may change a superuser.",
            ));
        }
        if id == actor.user_id
            && (role.is_some_and(|r| r.as_str() != old.role) || input.is_active == Some(false))
        {
            return Err(CoreError::forbidden(
                "permission_denied",
                "You cannot change your own role or deactivate yourself.",
            ));
        }
        let new_email = email
            .clone()
            .map_or_else(|| old.email.clone(), String::from);
        let new_role = role
            .map(|r| r.as_str().to_owned())
            .unwrap_or(old.role.clone());
        let new_first = first.clone().unwrap_or(old.first_name.clone());
        let new_last = last.clone().unwrap_or(old.last_name.clone());
        let new_phone = phone.clone().unwrap_or(old.phone.clone());
        let new_active = input.is_active.unwrap_or(old.is_active);
        let row: UserRow = diesel::update(users::table.find(id))
            .set((
                users::email.eq(&new_email),
                users::role.eq(&new_role),
                users::first_name.eq(&new_first),
                users::last_name.eq(&new_last),
                users::phone.eq(&new_phone),
                users::is_active.eq(new_active),
            ))
            .returning(users::all_columns)
            .get_result(c)?;
        let mut ch = Changes::new();
        ch.diff("email", &old.email, &row.email);
        ch.diff("role", &old.role, &row.role);
        ch.diff("first_name", &old.first_name, &row.first_name);
        ch.diff("last_name", &old.last_name, &row.last_name);
        ch.diff("phone", &old.phone, &row.phone);
        ch.diff("is_active", &old.is_active, &row.is_active);
        if old.is_active && !row.is_active {
            revoke_logins(c, id, None)?;
        }
        let action = if old.role != row.role {
            "role_change"
        } else {
            "update"
        };
        audit::record(c, ctx, Entry::of(action, &row, ch))?;
        Ok(row.into())
    })
}

/// Grants or takes away `is_staff` (the staff site's door). Only a superuser, only on the
/// staff site, never through the API; not on oneself. Taking it away ends the user's staff
/// sessions' use of the site at their next page.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn set_staff(core: &Core, ctx: &Ctx, id: i64, is_staff: bool) -> CoreResult<User> {
    let actor = ctx.require_superuser()?.clone();
    if id == actor.user_id {
        return Err(CoreError::forbidden(
            "permission_denied",
            "You cannot change your own staff status.",
        ));
    }
    core.db.write(|c| {
        let old = find_by_id(c, id)?;
        if old.is_staff == is_staff {
            return Ok(old.into());
        }
        let row: UserRow = diesel::update(users::table.find(id))
            .set(users::is_staff.eq(is_staff))
            .returning(users::all_columns)
            .get_result(c)?;
        let mut ch = Changes::new();
        ch.diff("is_staff", &old.is_staff, &row.is_staff);
        audit::record(c, ctx, Entry::of("update", &row, ch))?;
        Ok(row.into())
    })
}

/// `DELETE /api/users/{id}`: deactivates, so history keeps pointing at the user.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn deactivate(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    patch(
        core,
        ctx,
        id,
        UserPatch {
            is_active: Some(false),
            ..UserPatch::default()
        },
    )
    .map(|_| ())
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn unlock(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<User> {
    ctx.manage_users()?;
    core.db.write(|c| {
        let row: UserRow = diesel::update(users::table.find(id))
            .set(users::lockout_reset_at.eq(now()))
            .returning(users::all_columns)
            .get_result(c)?;
        audit::record(c, ctx, Entry::of("unlock", &row, serde_json::json!({})))?;
        Ok(row.into())
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn update_profile(core: &Core, ctx: &Ctx, input: ProfilePatch) -> CoreResult<User> {
    let p = ctx.user()?.clone();
    let mut errs = Errors::default();
    let first = input
        .first_name
        .as_deref()
        .and_then(|s| errs.take("first_name", bounded_text(s.trim(), 150)));
    let last = input
        .last_name
        .as_deref()
        .and_then(|s| errs.take("last_name", bounded_text(s.trim(), 150)));
    let phone = input
        .phone
        .as_deref()
        .and_then(|s| errs.take("phone", bounded_text(s.trim(), 32)));
    errs.finish()?;
    core.db.write(|c| {
        let old = find_by_id(c, p.user_id)?;
        let row: UserRow = diesel::update(users::table.find(p.user_id))
            .set((
                users::first_name.eq(first.unwrap_or(old.first_name.clone())),
                users::last_name.eq(last.unwrap_or(old.last_name.clone())),
                users::phone.eq(phone.unwrap_or(old.phone.clone())),
            ))
            .returning(users::all_columns)
            .get_result(c)?;
        let mut ch = Changes::new();
        ch.diff("first_name", &old.first_name, &row.first_name);
        ch.diff("last_name", &old.last_name, &row.last_name);
        ch.diff("phone", &old.phone, &row.phone);
        audit::record(c, ctx, Entry::of("update", &row, ch))?;
        Ok(row.into())
    })
}

/// Sets a password from the command line (`changepassword`), revoking every login of the user.
pub fn set_password(db: &Db, username: &str, password: &str, bcrypt_cost: u32) -> CoreResult<()> {
    let user = db
        .read(|c| find_by_username(c, username))?
        .ok_or(CoreError::NotFound)?;
    if let Err(reasons) = auth::check_password(password, &user.username, &user.email) {
        let mut errs = Errors::default();
        for r in reasons {
            errs.add("password", r);
        }
        errs.finish()?;
    }
    let hash = auth::hash_password(password, bcrypt_cost)?;
    db.write(|c| {
        diesel::update(users::table.find(user.id))
            .set(users::password_hash.eq(&hash))
            .execute(c)?;
        revoke_logins(c, user.id, None)?;
        audit::record(
            c,
            &Ctx::system(),
            Entry::of("password_change", &user, serde_json::json!({})),
        )
    })
}
