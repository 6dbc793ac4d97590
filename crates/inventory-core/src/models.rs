//! Rows as stored, and the shapes the API shows of them.
//!
//! Row structs list their fields in the schema's column order (they load with
//! `table::all_columns`). Serialization follows API.md: money as decimal strings, timestamps as
//! RFC 3339 UTC, and never a password hash.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::types::{ser_cost, ser_cost_opt, ser_money, ser_money_opt, ser_ts, ser_ts_opt};

#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub role: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub email_verified: bool,
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub date_joined: NaiveDateTime,
    #[diesel(deserialize_as = crate::ts::SqlTsOpt)]
    pub last_login: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub auth_epoch: NaiveDateTime,
    /// Failed logins before this moment no longer count toward a lockout (admin unlock).
    #[diesel(deserialize_as = crate::ts::SqlTsOpt)]
    pub lockout_reset_at: Option<NaiveDateTime>,
    /// The username's look-alike key (`types::username_key`), unique among users.
    pub username_key: String,
}

/// A user as the API shows it: the hash and the lockout bookkeeping stay inside.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub role: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub email_verified: bool,
    #[serde(serialize_with = "ser_ts")]
    pub date_joined: NaiveDateTime,
    #[serde(serialize_with = "ser_ts_opt")]
    pub last_login: Option<NaiveDateTime>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            phone: r.phone,
            role: r.role,
            is_active: r.is_active,
            is_staff: r.is_staff,
            is_superuser: r.is_superuser,
            email_verified: r.email_verified,
            date_joined: r.date_joined,
            last_login: r.last_login,
        }
    }
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

/// Whom goods are sold to; sales orders name one.
#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub billing_address: String,
    pub shipping_address: String,
    pub notes: String,
    pub is_active: bool,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Supplier {
    pub id: i64,
    pub name: String,
    pub contact_name: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub contract_terms: String,
    pub contract_start: Option<NaiveDate>,
    pub contract_end: Option<NaiveDate>,
    /// Tenths of a star (0–50), shown as a number with one decimal.
    #[serde(serialize_with = "ser_rating")]
    #[schema(value_type = Option<f64>)]
    pub rating: Option<i32>,
    pub is_active: bool,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

fn ser_rating<S: serde::Serializer>(r: &Option<i32>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(t) => s.serialize_f64(f64::from(*t) / 10.0),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub is_active: bool,
    pub is_default: bool,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub barcode: Option<String>,
    pub name: String,
    pub description: String,
    pub category_id: Option<i64>,
    #[serde(rename = "price", serialize_with = "ser_money")]
    #[schema(value_type = String)]
    pub price_cents: i64,
    pub quantity: i64,
    pub reorder_level: i64,
    pub reorder_quantity: i64,
    pub unit: String,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts_opt")]
    #[diesel(deserialize_as = crate::ts::SqlTsOpt)]
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<i64>,
    /// What one unit on hand cost on average (four places); null until the first unit came in.
    #[serde(serialize_with = "ser_cost_opt")]
    #[schema(value_type = Option<String>)]
    pub average_cost: Option<i64>,
    /// Σ over its levels of what confirmed sales orders hold, kept by the statements that
    /// move reservations; answered through [`ProductView`].
    #[serde(skip)]
    pub reserved: i64,
}

/// A product with the summaries of its supplier links, as lists and details show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    #[serde(flatten)]
    pub product: Product,
    /// Σ over its locations of what confirmed sales orders hold.
    pub reserved: i64,
    /// `quantity − reserved`: what can still be sold or moved.
    pub available: i64,
    pub suppliers: Vec<LinkView>,
}

#[derive(Debug, Clone, Queryable, QueryableByName)]
#[diesel(table_name = crate::schema::product_suppliers)]
pub struct LinkRow {
    pub product_id: i64,
    pub supplier_id: i64,
    pub quantity: i64,
    pub unit_cost_cents: Option<i64>,
    pub lead_time_days: Option<i32>,
    pub contract_ref: String,
    pub is_preferred: bool,
    pub created_by: Option<i64>,
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

/// A product–supplier link with the supplier's name, the "through" row of the many-to-many.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    pub product_id: i64,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub quantity: i64,
    #[serde(serialize_with = "ser_money_opt")]
    #[schema(value_type = Option<String>)]
    pub unit_cost: Option<i64>,
    pub lead_time_days: Option<i32>,
    pub contract_ref: String,
    pub is_preferred: bool,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: NaiveDateTime,
}

impl LinkView {
    pub fn new(r: LinkRow, supplier_name: String) -> Self {
        LinkView {
            product_id: r.product_id,
            supplier_id: r.supplier_id,
            supplier_name,
            quantity: r.quantity,
            unit_cost: r.unit_cost_cents,
            lead_time_days: r.lead_time_days,
            contract_ref: r.contract_ref,
            is_preferred: r.is_preferred,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct StockLevel {
    pub product_id: i64,
    pub location_id: i64,
    pub quantity: i64,
    /// What confirmed sales orders hold here until they ship.
    pub reserved: i64,
    /// `quantity − reserved`: what a sale, removal, loss, transfer or another order may take.
    /// Below zero only after a correction or count found less than was promised (oversold).
    pub available: i64,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

impl StockLevel {
    /// The columns a [`StockLevel`] is read from, `available` computed by the database.
    #[allow(clippy::type_complexity)]
    pub fn columns() -> (
        crate::schema::stock_levels::product_id,
        crate::schema::stock_levels::location_id,
        crate::schema::stock_levels::quantity,
        crate::schema::stock_levels::reserved,
        diesel::helper_types::Sub<
            crate::schema::stock_levels::quantity,
            crate::schema::stock_levels::reserved,
        >,
        crate::schema::stock_levels::updated_at,
    ) {
        use crate::schema::stock_levels as s;
        (
            s::product_id,
            s::location_id,
            s::quantity,
            s::reserved,
            s::quantity - s::reserved,
            s::updated_at,
        )
    }
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub id: i64,
    pub product_id: i64,
    pub location_id: i64,
    pub kind: String,
    pub delta: i64,
    pub quantity_after: i64,
    pub product_quantity_after: i64,
    pub reason: String,
    pub reference: String,
    pub user_id: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    /// What one unit of this movement cost (four places): a receipt's own cost, else the
    /// product's average cost at that moment.
    #[serde(serialize_with = "ser_cost")]
    #[schema(value_type = String)]
    pub unit_cost: i64,
    /// The product's average cost after this movement (four places; null while nothing has
    /// come in): what stock as of this moment is valued at.
    #[serde(serialize_with = "ser_cost_opt")]
    #[schema(value_type = Option<String>)]
    pub average_cost_after: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    pub id: i64,
    pub product_id: i64,
    pub from_location_id: i64,
    pub to_location_id: i64,
    pub quantity: i64,
    pub status: String,
    pub note: String,
    pub requested_by: i64,
    pub approved_by: Option<i64>,
    #[serde(serialize_with = "ser_ts_opt")]
    #[diesel(deserialize_as = crate::ts::SqlTsOpt)]
    pub decided_at: Option<NaiveDateTime>,
    pub reason: String,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct AuditRow {
    pub id: i64,
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub at: NaiveDateTime,
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[serde(serialize_with = "ser_ts")]
    pub at: NaiveDateTime,
    pub user_id: Option<i64>,
    pub username: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub object_repr: String,
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub ip: Option<String>,
    pub request_id: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: r.at,
            user_id: r.user_id,
            username: r.username,
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            object_repr: r.object_repr,
            changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
            ip: r.ip,
            request_id: r.request_id,
        }
    }
}

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct LoginAttempt {
    pub id: i64,
    pub username: String,
    pub user_id: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: String,
    pub success: bool,
    pub reason: String,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = crate::ts::SqlTs)]
    pub at: NaiveDateTime,
}
