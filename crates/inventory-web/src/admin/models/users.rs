//! Users: admins list and change them, superusers add them (with a password typed twice) and
//! grant the staff site; unlock and "send password reset" are buttons. Deleting deactivates.

use inventory_core::auth::Ctx;
use inventory_core::services::{accounts, users};
use inventory_core::types::Role;
use inventory_core::{Core, CoreError};
use serde_json::Value;

use super::{id_of, input, json, paged, str_of};
use crate::admin::forms::{FieldSpec, Kind};
use crate::admin::model::{
    api_filter, filter, show, sort, ColKind, CoreResult, FilterKind, ListParams, Meta, ModelAdmin,
};
use crate::admin::ui::{ActionButton, FormView};
use crate::admin::web::{Errors, FormData};

pub struct Users;

pub const ROLES: &[(&str, &str)] = Role::CHOICES;

static META: Meta = Meta {
    slug: "users",
    singular: "user",
    plural: "users",
    object_type: "user",
    columns: &[
        sort("username", "Username", ColKind::Text),
        show("email", "Email", ColKind::Text),
        show("first_name", "First name", ColKind::Text),
        show("last_name", "Last name", ColKind::Text),
        show("role", "Role", ColKind::Text),
        show("is_active", "Active", ColKind::Bool),
        show("is_staff", "Staff", ColKind::Bool),
        show("last_login", "Last login", ColKind::Time),
    ],
    filters: &[
        filter("role", "role", "role", FilterKind::Choice(ROLES)),
        filter("is_active", "is_active", "active", FilterKind::Bool),
    ],
    searchable: true,
};

fn roles() -> Vec<(String, String)> {
    ROLES
        .iter()
        .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
        .collect()
}

impl ModelAdmin for Users {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.manage_users().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let mut f: users::UserFilter = api_filter(p, self.meta())?;
        if p.ordering.is_some() {
            // The users list has one order (by username); the column link says so.
            f.search = f.search.take();
        }
        paged(users::list(core, ctx, &f, p.page_req()?)?)
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        ctx.manage_users()?;
        json(&users::get(core, ctx, id)?)
    }
    fn repr(&self, obj: &Value) -> String {
        str_of(obj, "username").to_owned()
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.require_superuser().is_ok()
    }
    fn fields(&self, _: &Core, ctx: &Ctx, obj: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        let Some(_) = obj else {
            return Ok(vec![
                FieldSpec::new("username", "Username", Kind::Text)
                    .required()
                    .help("Letters, digits and @ . + - _ only."),
                FieldSpec::new("email", "Email", Kind::Email).required(),
                FieldSpec::new("password1", "Password", Kind::Password).required().help(
                    "At least 10 characters, not all digits, not containing the username, and not easy to guess.",
                ),
                FieldSpec::new("password2", "Password confirmation", Kind::Password).required(),
                FieldSpec::new("role", "Role", Kind::Choice(roles())).required(),
                FieldSpec::new("first_name", "First name", Kind::Text),
                FieldSpec::new("last_name", "Last name", Kind::Text),
                FieldSpec::new("phone", "Phone", Kind::Text),
            ]);
        };
        let mut f = vec![
            FieldSpec::new("username", "Username", Kind::ReadOnly),
            FieldSpec::new("email", "Email", Kind::Email).required(),
            FieldSpec::new("first_name", "First name", Kind::Text),
            FieldSpec::new("last_name", "Last name", Kind::Text),
            FieldSpec::new("phone", "Phone", Kind::Text),
            FieldSpec::new("role", "Role", Kind::Choice(roles())).required(),
            FieldSpec::new("is_active", "Active", Kind::Bool),
        ];
        if ctx.require_superuser().is_ok() {
            f.push(
                FieldSpec::new("is_staff", "Staff status", Kind::Bool)
                    .help("Whether the user may sign in to this staff site."),
            );
        }
        f.extend([
            FieldSpec::new("is_superuser", "Superuser", Kind::ReadOnly),
            FieldSpec::new("email_verified", "Email verified", Kind::ReadOnly),
            FieldSpec::new("date_joined", "Joined", Kind::ReadOnly),
            FieldSpec::new("last_login", "Last login", Kind::ReadOnly),
        ]);
        Ok(f)
    }
    fn defaults(&self, _: &Core, _: &Ctx) -> CoreResult<serde_json::Map<String, Value>> {
        let mut m = serde_json::Map::new();
        m.insert("role".into(), Value::String("employee".into()));
        Ok(m)
    }
    fn precheck(&self, form: &FormData, errors: &mut Errors) {
        if form.has("password1") && form.text("password1") != form.text("password2") {
            errors
                .entry("password2".into())
                .or_default()
                .push("The two password fields didn't match.".into());
        }
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        let mut body = body;
        if let Some(o) = body.as_object_mut() {
            let pw = o.remove("password1").unwrap_or(Value::Null);
            o.remove("password2");
            o.insert("password".into(), pw);
        }
        let user = users::create(core, ctx, input(body).map_err(password_field)?)
            .map_err(password_field)?;
        json(&user)
    }
    fn can_change(&self, ctx: &Ctx, _obj: &Value) -> bool {
        ctx.manage_users().is_ok()
    }
    fn update(&self, core: &Core, ctx: &Ctx, id: i64, body: Value) -> CoreResult<Value> {
        let mut body = body;
        let staff = body
            .as_object_mut()
            .and_then(|o| o.remove("is_staff"))
            .and_then(|v| v.as_bool());
        let user = users::patch(core, ctx, id, input(body)?)?;
        let user = match staff {
            Some(s) if s != user.is_staff => users::set_staff(core, ctx, id, s)?,
            _ => user,
        };
        json(&user)
    }
    fn can_delete(&self, ctx: &Ctx, obj: &Value) -> bool {
        ctx.manage_users().is_ok()
            && (obj.is_null()
                || (obj.get("is_active").and_then(Value::as_bool) == Some(true)
                    && obj.get("id").and_then(Value::as_i64) != ctx.user_id()))
    }
    fn delete_word(&self) -> &'static str {
        "Deactivate"
    }
    fn delete_summary(&self, _: &Core, _: &Ctx, _: &Value) -> CoreResult<Vec<String>> {
        Ok(vec![
            "The user can no longer sign in; every session and token of theirs stops working."
                .into(),
            "Their history (adjustments, orders, audit entries) keeps pointing at them.".into(),
        ])
    }
    fn delete(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
        users::deactivate(core, ctx, id)
    }
    fn decorate(&self, _: &Core, ctx: &Ctx, obj: &Value, form: &mut FormView) -> CoreResult<()> {
        if ctx.manage_users().is_err() {
            return Ok(());
        }
        let id = id_of(obj);
        form.buttons.push(ActionButton {
            label: "Unlock".into(),
            href: format!("/admin/users/{id}/unlock/"),
            fields: vec![],
            confirm: false,
            danger: false,
            primary: false,
        });
        if obj.get("is_active").and_then(Value::as_bool) == Some(true) {
            form.buttons.push(ActionButton {
                label: "Send password reset".into(),
                href: format!("/admin/users/{id}/password_reset/"),
                fields: vec![],
                confirm: true,
                danger: false,
                primary: false,
            });
        }
        Ok(())
    }
    fn object_action(
        &self,
        core: &Core,
        ctx: &Ctx,
        id: i64,
        action: &str,
        _: &FormData,
    ) -> CoreResult<String> {
        match action {
            "unlock" => {
                let u = users::unlock(core, ctx, id)?;
                Ok(format!(
                    "{} is unlocked: failed logins before now no longer count.",
                    u.username
                ))
            }
            "password_reset" => {
                let u = users::get(core, ctx, id)?;
                ctx.manage_users()?;
                accounts::request_reset(core, ctx, &u.email)?;
                Ok(format!("A password reset link was sent to {}.", u.email))
            }
            _ => Err(CoreError::NotFound),
        }
    }
    fn action_confirm(&self, action: &str) -> Option<(&'static str, bool, Vec<FieldSpec>)> {
        (action == "password_reset").then(|| ("Send password reset", false, vec![]))
    }
}

/// The API calls the password `password`; this form calls it `password1`.
fn password_field(e: CoreError) -> CoreError {
    match e {
        CoreError::Validation { detail, mut errors } => {
            if let Some(m) = errors.remove("password") {
                errors.insert("password1".into(), m);
            }
            CoreError::Validation { detail, errors }
        }
        other => other,
    }
}
