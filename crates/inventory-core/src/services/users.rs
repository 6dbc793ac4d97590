//! Users: creation, listing, the admin's changes, profile, and password login with lockout.

use chrono::Duration;
use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::{self, Ctx, Principal};
use crate::db::{now, Core, Db, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{LoginAttempt, User, UserRow};
use crate::paging::{PageReq, Paged};
use crate::schema::{jwt_tokens, login_attempts, sessions, users};
use crate::services::{contains_pattern, lower};
use crate::types::{bounded_text, parse_email, Role};

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
pub struct UserFilter {
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub search: Option<String>,
}

/// A username: 1–150 characters of letters, digits and `@.+-_` (Django's rule).
pub fn parse_username(s: &str) -> Result<String, String> {
    let t = s.trim();
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
    email: String,
    role: Role,
    first_name: String,
    last_name: String,
    phone: String,
}

fn validate_new(input: &NewUserInput, default_role: Role) -> CoreResult<ValidNewUser> {
    let mut errs = Errors::default();
    let username = errs.take("username", parse_username(&input.username));
    let email = errs.take("email", parse_email(&input.email));
    let role = match &input.role {
        Some(r) => errs.take("role", Role::parse(r)),
        None => Some(default_role),
    };
    let first_name = errs.take("first_name", bounded_text(input.first_name.trim(), 150));
    let last_name = errs.take("last_name", bounded_text(input.last_name.trim(), 150));
    let phone = errs.take("phone", bounded_text(input.phone.trim(), 32));
    if let Err(reasons) = auth::check_password(&input.password, &input.username, &input.email) {
        for r in reasons {
            errs.add("password", r);
        }
    }
    errs.finish()?;
    match (username, email, role, first_name, last_name, phone) {
        (
            Some(username),
            Some(email),
            Some(role),
            Some(first_name),
            Some(last_name),
            Some(phone),
        ) => Ok(ValidNewUser {
            username,
            email,
            role,
            first_name,
            last_name,
            phone,
        }),
        _ => Err(CoreError::Internal("validation inconsistency".into())),
    }
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
    audit::record(
        conn,
        ctx,
        Entry {
            action: "create",
            object_type: "user",
            object_id: row.id.to_string(),
            object_repr: row.username.clone(),
            changes: ch.into_value(),
        },
    )?;
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
    Ok(users::table
        .filter(lower(users::username).eq(username.to_lowercase()))
        .first::<UserRow>(conn)
        .optional()?)
}

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
        let count: i64 = query().count().get_result(c)?;
        page.check_in_range(count)?;
        let rows: Vec<UserRow> = query()
            .order(users::id)
            .limit(page.page_size)
            .offset(page.offset())
            .load(c)?;
        Ok(Paged {
            count,
            results: rows.into_iter().map(User::from).collect(),
        })
    })
}

/// Admins see anyone; everyone sees themselves; anyone else is refused.
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<User> {
    let p = ctx.user()?;
    if p.user_id != id && ctx.manage_users().is_err() {
        return Err(CoreError::permission_denied());
    }
    core.db.read(|c| Ok(find_by_id(c, id)?.into()))
}

/// Revokes every cookie session and token family of a user at once (their access tokens die
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
    Ok(())
}

pub fn patch(core: &Core, ctx: &Ctx, id: i64, input: UserPatch) -> CoreResult<User> {
    let actor = ctx.manage_users()?.clone();
    let mut errs = Errors::default();
    let email = input
        .email
        .as_deref()
        .and_then(|e| errs.take("email", parse_email(e)));
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
        let new_email = email.clone().unwrap_or(old.email.clone());
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
        audit::record(
            c,
            ctx,
            Entry {
                action,
                object_type: "user",
                object_id: id.to_string(),
                object_repr: row.username.clone(),
                changes: ch.into_value(),
            },
        )?;
        Ok(row.into())
    })
}

/// `DELETE /api/users/{id}`: deactivates, so history keeps pointing at the user.
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

pub fn unlock(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<User> {
    ctx.manage_users()?;
    core.db.write(|c| {
        let row: UserRow = diesel::update(users::table.find(id))
            .set(users::lockout_reset_at.eq(now()))
            .returning(users::all_columns)
            .get_result(c)?;
        audit::record(
            c,
            ctx,
            Entry {
                action: "unlock",
                object_type: "user",
                object_id: id.to_string(),
                object_repr: row.username.clone(),
                changes: serde_json::json!({}),
            },
        )?;
        Ok(row.into())
    })
}

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
        audit::record(
            c,
            ctx,
            Entry {
                action: "update",
                object_type: "user",
                object_id: row.id.to_string(),
                object_repr: row.username.clone(),
                changes: ch.into_value(),
            },
        )?;
        Ok(row.into())
    })
}

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

pub fn login_check(core: &Core, ctx: &Ctx, username: &str) -> CoreResult<LoginCheck> {
    let username = username.trim();
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

/// The second half: record the attempt (and, on success, `last_login` and the audit entry).
pub fn login_finish(
    core: &Core,
    ctx: &Ctx,
    check: LoginCheck,
    password_ok: bool,
) -> CoreResult<UserRow> {
    let LoginCheck { username, user } = check;
    if username.is_empty() {
        return Err(invalid_credentials());
    }
    let username = username.as_str();
    match user {
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
                Entry {
                    action: "login",
                    object_type: "user",
                    object_id: u.id.to_string(),
                    object_repr: u.username.clone(),
                    changes: serde_json::json!({}),
                },
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

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AttemptFilter {
    pub username: Option<String>,
    pub ip: Option<String>,
    pub success: Option<bool>,
}

pub fn login_attempts(
    core: &Core,
    ctx: &Ctx,
    f: &AttemptFilter,
    page: PageReq,
) -> CoreResult<Paged<LoginAttempt>> {
    ctx.read_audit()?;
    let query = || {
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
    };
    core.db.read(|c| {
        let count: i64 = query().count().get_result(c)?;
        page.check_in_range(count)?;
        let results = query()
            .order(login_attempts::id.desc())
            .limit(page.page_size)
            .offset(page.offset())
            .load(c)?;
        Ok(Paged { count, results })
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
            Entry {
                action: "password_change",
                object_type: "user",
                object_id: user.id.to_string(),
                object_repr: user.username.clone(),
                changes: serde_json::json!({}),
            },
        )
    })
}
