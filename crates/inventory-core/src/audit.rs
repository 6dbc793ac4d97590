//! The audit log: written by services inside their own transaction, never on its own.

use diesel::prelude::*;
use serde_json::{json, Map, Value};

use crate::auth::Ctx;
use crate::db::{now, DbConn};
use crate::error::CoreResult;
use crate::schema::audit_logs;

/// The `changes` object: field → `[old, new]`.
#[derive(Debug, Default)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Self {
        Changes::default()
    }

    /// Records a field only when it really changed.
    pub fn diff<T: serde::Serialize + PartialEq>(&mut self, field: &str, old: &T, new: &T) {
        if old != new {
            self.0.insert(field.to_owned(), json!([old, new]));
        }
    }

    /// Records a created (or deleted) object's field: `[null, value]`.
    pub fn set<T: serde::Serialize>(&mut self, field: &str, value: &T) {
        self.0.insert(field.to_owned(), json!([Value::Null, value]));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// What one audit entry is about.
pub struct Entry<'a> {
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub object_repr: String,
    pub changes: Value,
}

/// Writes one entry on `conn`, which must be the connection of the change's own transaction.
pub fn record(conn: &mut DbConn, ctx: &Ctx, e: Entry<'_>) -> CoreResult<()> {
    record_as(
        conn,
        ctx,
        ctx.user_id(),
        ctx.principal.as_ref().map(|p| p.username.as_str()),
        e,
    )
}

/// As [`record`], naming the user explicitly (a login has no principal yet).
pub fn record_as(
    conn: &mut DbConn,
    ctx: &Ctx,
    user_id: Option<i64>,
    username: Option<&str>,
    e: Entry<'_>,
) -> CoreResult<()> {
    diesel::insert_into(audit_logs::table)
        .values((
            audit_logs::at.eq(now()),
            audit_logs::user_id.eq(user_id),
            audit_logs::username.eq(username.unwrap_or("")),
            audit_logs::action.eq(e.action),
            audit_logs::object_type.eq(e.object_type),
            audit_logs::object_id.eq(e.object_id),
            audit_logs::object_repr.eq(e.object_repr),
            audit_logs::changes.eq(e.changes.to_string()),
            audit_logs::ip.eq(ctx.ip.as_deref()),
            audit_logs::request_id.eq(&ctx.request_id),
        ))
        .execute(conn)?;
    Ok(())
}
