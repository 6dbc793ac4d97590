//! The audit log: written by services inside their own transaction, never on its own.

use diesel::prelude::*;
use serde_json::{json, Map, Value};

use crate::auth::Ctx;
use crate::db::{now, DbConn};
use crate::error::CoreResult;
use crate::models;
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

impl From<Changes> for Value {
    fn from(c: Changes) -> Value {
        c.into_value()
    }
}

/// An object the audit log can name. Each kind says once how it is typed, identified and
/// recognised by a person, so every entry about it reads the same whichever path wrote it.
pub trait Audited {
    const TYPE: &'static str;
    fn audit_id(&self) -> String;
    fn audit_repr(&self) -> String;
}

macro_rules! audited {
    ($($ty:ty => $name:literal, |$o:ident| $repr:expr;)*) => {$(
        impl Audited for $ty {
            const TYPE: &'static str = $name;
            fn audit_id(&self) -> String {
                self.id.to_string()
            }
            fn audit_repr(&self) -> String {
                let $o = self;
                $repr
            }
        }
    )*};
}

audited! {
    models::Product => "product", |p| format!("{} {}", p.sku, p.name);
    models::Category => "category", |c| c.name.clone();
    models::Supplier => "supplier", |s| s.name.clone();
    models::Customer => "customer", |c| c.name.clone();
    models::Location => "location", |l| l.code.clone();
    models::UserRow => "user", |u| u.username.clone();
    models::Transfer => "transfer", |t| format!(
        "{} × product {} from {} to {}",
        t.quantity, t.product_id, t.from_location_id, t.to_location_id
    );
    crate::services::orders::Order => "purchase_order", |o| o.number.clone();
    crate::services::sales::SalesOrder => "sales_order", |o| o.number.clone();
}

impl<'a> Entry<'a> {
    /// The entry for `action` on `object`: the one builder every service uses.
    pub fn of<T: Audited>(action: &'a str, object: &T, changes: impl Into<Value>) -> Entry<'a> {
        Entry {
            action,
            object_type: T::TYPE,
            object_id: object.audit_id(),
            object_repr: object.audit_repr(),
            changes: changes.into(),
        }
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

/// An entry ready to insert (many at once with [`record_many`]).
#[derive(Debug, Clone, diesel::Insertable)]
#[diesel(table_name = audit_logs, treat_none_as_default_value = false)]
pub struct NewEntry {
    pub at: chrono::NaiveDateTime,
    pub user_id: Option<i64>,
    pub username: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub object_repr: String,
    pub changes: String,
    pub ip: Option<String>,
    pub request_id: String,
}

impl NewEntry {
    /// The entry `ctx`'s caller makes now.
    pub fn by(ctx: &Ctx, e: Entry<'_>) -> NewEntry {
        NewEntry {
            at: now(),
            user_id: ctx.user_id(),
            username: ctx
                .principal
                .as_ref()
                .map(|p| p.username.clone())
                .unwrap_or_default(),
            action: e.action.to_owned(),
            object_type: e.object_type.to_owned(),
            object_id: e.object_id,
            object_repr: e.object_repr,
            changes: e.changes.to_string(),
            ip: ctx.ip.clone(),
            request_id: ctx.request_id.clone(),
        }
    }
}

/// Entries of one action on objects of one type (a shipment's ledger rows), written by one
/// kept statement per chunk of entries ([`crate::sql::chunks`]); each is `(object_id, object_repr,
/// changes)`.
pub fn record_same(
    conn: &mut DbConn,
    ctx: &Ctx,
    action: &str,
    object_type: &str,
    entries: Vec<(String, String, Value)>,
) -> CoreResult<()> {
    use crate::sql::{batch, rows, Vals};
    crate::services::idempotency::mark(conn, ctx)?;
    let at = now();
    let username = ctx
        .principal
        .as_ref()
        .map(|p| p.username.clone())
        .unwrap_or_default();
    for chunk in crate::sql::chunks(&entries) {
        let mut vals = Vals::default();
        vals.time(at)
            .null_int(ctx.user_id())
            .text(username.as_str())
            .text(action)
            .text(object_type)
            .null_text(ctx.ip.clone())
            .text(ctx.request_id.as_str());
        for (id, repr, changes) in chunk {
            vals.text(id.as_str())
                .text(repr.as_str())
                .text(changes.to_string());
        }
        batch(
            "audit.same",
            chunk.len(),
            |n| {
                format!(
                    "INSERT INTO audit_logs (at, user_id, username, action, object_type, \
                     object_id, object_repr, changes, ip, request_id) VALUES {}",
                    rows(n, 8, 3, |b| format!(
                        "$1, $2, $3, $4, $5, ${b}, ${}, ${}, $6, $7",
                        b + 1,
                        b + 2
                    ))
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    Ok(())
}

/// Writes many entries with multi-row statements (a bulk change's), on the change's own
/// transaction.
pub fn record_many(conn: &mut DbConn, ctx: &Ctx, entries: &[NewEntry]) -> CoreResult<()> {
    if !entries.is_empty() {
        crate::services::idempotency::mark(conn, ctx)?;
    }
    // 10 columns a row: 500 rows stay far below either engine's bind limit.
    for chunk in entries.chunks(500) {
        match conn {
            DbConn::Sqlite(c) => {
                diesel::insert_into(audit_logs::table)
                    .values(chunk)
                    .execute(c)?;
            }
            DbConn::Pg(c) => {
                diesel::insert_into(audit_logs::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    Ok(())
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
    crate::services::idempotency::mark(conn, ctx)?;
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
