//! The audit log and the login attempts: read-only, for auditors and admins.

use inventory_core::auth::Ctx;
use inventory_core::services::{audit_log, users};
use inventory_core::{Core, CoreError};
use serde_json::Value;

use super::{json, paged, str_of};
use crate::admin::forms::{FieldSpec, Kind};
use crate::admin::model::{
    api_filter, col, filter, show, ColKind, CoreResult, FilterKind, ListParams, Meta, ModelAdmin,
};

pub struct AuditLog;

pub const ACTIONS: &[(&str, &str)] = &[
    ("create", "Create"),
    ("update", "Update"),
    ("delete", "Delete"),
    ("login", "Login"),
    ("logout", "Logout"),
    ("approve", "Approve"),
    ("reject", "Reject"),
    ("cancel", "Cancel"),
    ("receive", "Receive"),
    ("role_change", "Role change"),
    ("confirm", "Confirm"),
    ("ship", "Ship"),
    ("return", "Return"),
    ("token_create", "Token created"),
    ("token_revoke", "Token revoked"),
    ("acknowledge", "Acknowledge"),
    ("unlock", "Unlock"),
    ("register", "Register"),
    ("verify_email", "Email verified"),
    ("password_change", "Password change"),
    ("password_reset_request", "Password reset requested"),
];

pub const OBJECT_TYPES: &[(&str, &str)] = &[
    ("product", "Product"),
    ("category", "Category"),
    ("supplier", "Supplier"),
    ("location", "Location"),
    ("stock_adjustment", "Adjustment"),
    ("transfer", "Transfer"),
    ("purchase_order", "Purchase order"),
    ("user", "User"),
    ("alert", "Alert"),
    ("product_supplier", "Product–supplier link"),
    ("customer", "Customer"),
    ("sales_order", "Sales order"),
    ("api_token", "API token"),
    ("webhook", "Webhook"),
];

static META: Meta = Meta {
    slug: "audit-log",
    singular: "audit entry",
    plural: "audit entries",
    object_type: "audit_log",
    columns: &[
        col("id", "Entry"),
        show("at", "When", ColKind::Time),
        show("username", "User", ColKind::Text),
        show("action", "Action", ColKind::Text),
        show("object_type", "Object type", ColKind::Text),
        show("object_repr", "Object", ColKind::Text),
        show("ip", "IP", ColKind::Text),
    ],
    filters: &[
        filter("action", "action", "action", FilterKind::Choice(ACTIONS)),
        filter(
            "object_type",
            "object_type",
            "object type",
            FilterKind::Choice(OBJECT_TYPES),
        ),
        filter("user_id", "user", "user", FilterKind::Fk),
        filter("object_id", "object_id", "object", FilterKind::Fk),
        filter("since", "since", "since", FilterKind::Date),
        filter("until", "until", "until", FilterKind::Date),
    ],
    searchable: false,
};

impl ModelAdmin for AuditLog {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.read_audit().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: audit_log::AuditFilter = api_filter(p, self.meta())?;
        paged(audit_log::list(core, ctx, &f, p.page_req()?)?)
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        json(&audit_log::get(core, ctx, id)?)
    }
    fn repr(&self, obj: &Value) -> String {
        format!(
            "#{} {} {} {}",
            obj.get("id").and_then(Value::as_i64).unwrap_or(0),
            str_of(obj, "action"),
            str_of(obj, "object_type"),
            str_of(obj, "object_repr")
        )
    }
    fn fields(&self, _: &Core, _: &Ctx, _: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        Ok([
            ("at", "When"),
            ("username", "User"),
            ("user_id", "User id"),
            ("action", "Action"),
            ("object_type", "Object type"),
            ("object_id", "Object id"),
            ("object_repr", "Object"),
            ("changes", "Changes"),
            ("ip", "IP address"),
            ("request_id", "Request id"),
        ]
        .into_iter()
        .map(|(f, l)| FieldSpec::new(f, l, Kind::ReadOnly))
        .collect())
    }
}

pub struct LoginAttempts;

static ATTEMPTS: Meta = Meta {
    slug: "login-attempts",
    singular: "login attempt",
    plural: "login attempts",
    object_type: "login_attempt",
    columns: &[
        col("id", "Attempt"),
        show("at", "When", ColKind::Time),
        show("username", "Username", ColKind::Text),
        show("success", "Success", ColKind::Bool),
        show("reason", "Reason", ColKind::Text),
        show("ip", "IP", ColKind::Text),
        show("user_agent", "Browser", ColKind::Text),
    ],
    filters: &[filter("success", "success", "success", FilterKind::Bool)],
    searchable: false,
};

impl ModelAdmin for LoginAttempts {
    fn meta(&self) -> &'static Meta {
        &ATTEMPTS
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.read_audit().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: users::AttemptFilter = api_filter(p, self.meta())?;
        paged(users::login_attempts(core, ctx, &f, p.page_req()?)?)
    }
    fn get(&self, _: &Core, _: &Ctx, _: i64) -> CoreResult<Value> {
        Err(CoreError::NotFound)
    }
    fn has_detail(&self) -> bool {
        false
    }
}
