//! The ledger's lists: adjustments and a product's history, by page number or by cursor
//! (API.md §11). Both go newest first.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::Ctx;
use crate::context::Core;
use crate::cursor::{CursorPage, CursorReq};
use crate::db::{DbConn, MultiBackend};
use crate::error::{CoreError, CoreResult};
use crate::models::Adjustment;
use crate::paging::{PageReq, Paged};
use crate::schema::{locations, products, stock_adjustments, users};
use crate::services::audit_log::parse_span;
use crate::types::{ser_ts, AdjustmentKind};

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdjustmentFilter {
    pub product: Option<i64>,
    pub location: Option<i64>,
    pub kind: Option<String>,
    pub user: Option<i64>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// The filter, checked once, as the query both kinds of page start from.
fn adjustments_query(
    f: &AdjustmentFilter,
) -> CoreResult<impl Fn() -> stock_adjustments::BoxedQuery<'static, MultiBackend>> {
    let kind = f
        .kind
        .as_deref()
        .map(|k| AdjustmentKind::parse_field("kind", k))
        .transpose()?;
    let (since, until) = parse_span(f.since.as_deref(), f.until.as_deref())?;
    let (product, location, user) = (f.product, f.location, f.user);
    Ok(move || {
        let mut q = stock_adjustments::table.into_boxed();
        if let Some(p) = product {
            q = q.filter(stock_adjustments::product_id.eq(p));
        }
        if let Some(l) = location {
            q = q.filter(stock_adjustments::location_id.eq(l));
        }
        if let Some(k) = kind {
            q = q.filter(stock_adjustments::kind.eq(k.as_str()));
        }
        if let Some(u) = user {
            q = q.filter(stock_adjustments::user_id.eq(u));
        }
        if let Some(s) = since {
            q = q.filter(stock_adjustments::created_at.ge(s));
        }
        if let Some(u) = until {
            q = q.filter(stock_adjustments::created_at.lt(u));
        }
        q
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_adjustments(
    core: &Core,
    ctx: &Ctx,
    f: &AdjustmentFilter,
    page: PageReq,
) -> CoreResult<Paged<Adjustment>> {
    ctx.read_operations()?;
    let query = adjustments_query(f)?;
    core.db
        .read(|c| page.load(c, query, |q| q.order(stock_adjustments::id.desc())))
}

/// `GET /api/stock-adjustments?cursor=`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn adjustments_by_cursor(
    core: &Core,
    ctx: &Ctx,
    f: &AdjustmentFilter,
    cursor: &CursorReq,
) -> CoreResult<CursorPage<Adjustment>> {
    ctx.read_operations()?;
    cursor.check("-id", 0)?;
    let query = adjustments_query(f)?;
    core.db.read(|c| {
        let rows: Vec<Adjustment> =
            crate::newest_first_window!(query(), cursor, stock_adjustments::id).load(c)?;
        Ok(cursor.finish("-id", rows, |r| (vec![], r.id)))
    })
}

/// One line of a product's history, as a person reads it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub id: i64,
    #[serde(serialize_with = "ser_ts")]
    pub at: chrono::NaiveDateTime,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub kind: String,
    pub location_id: i64,
    pub location_code: String,
    pub delta: i64,
    pub quantity_after: i64,
    pub product_quantity_after: i64,
    pub reason: String,
    pub reference: String,
}

type HistoryRow = (Adjustment, Option<String>, String);

impl From<HistoryRow> for HistoryEntry {
    fn from((a, username, code): HistoryRow) -> Self {
        HistoryEntry {
            id: a.id,
            at: a.created_at,
            user_id: a.user_id,
            username,
            kind: a.kind,
            location_id: a.location_id,
            location_code: code,
            delta: a.delta,
            quantity_after: a.quantity_after,
            product_quantity_after: a.product_quantity_after,
            reason: a.reason,
            reference: a.reference,
        }
    }
}

fn product_exists(c: &mut DbConn, product_id: i64) -> CoreResult<()> {
    let exists: Option<i64> = products::table
        .find(product_id)
        .select(products::id)
        .first(c)
        .optional()?;
    exists.map(|_| ()).ok_or(CoreError::NotFound)
}

/// A history query's rows with who booked them and where.
macro_rules! with_names {
    ($q:expr) => {
        $q.left_join(users::table.on(users::id.nullable().eq(stock_adjustments::user_id)))
            .inner_join(locations::table.on(locations::id.eq(stock_adjustments::location_id)))
            .select((
                stock_adjustments::all_columns,
                users::username.nullable(),
                locations::code,
            ))
    };
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = product_id))]
pub fn history(
    core: &Core,
    ctx: &Ctx,
    product_id: i64,
    page: PageReq,
) -> CoreResult<Paged<HistoryEntry>> {
    ctx.read_operations()?;
    core.db.read(|c| {
        product_exists(c, product_id)?;
        // Counted without the joins: each row has one location and at most one user.
        let rows: Paged<HistoryRow> = page.load(
            c,
            || stock_adjustments::table.filter(stock_adjustments::product_id.eq(product_id)),
            |q| with_names!(q).order(stock_adjustments::id.desc()),
        )?;
        Ok(rows.map(HistoryEntry::from))
    })
}

/// `GET /api/products/{id}/history?cursor=`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = product_id))]
pub fn history_by_cursor(
    core: &Core,
    ctx: &Ctx,
    product_id: i64,
    cursor: &CursorReq,
) -> CoreResult<CursorPage<HistoryEntry>> {
    ctx.read_operations()?;
    cursor.check("-id", 0)?;
    core.db.read(|c| {
        product_exists(c, product_id)?;
        let base = stock_adjustments::table
            .filter(stock_adjustments::product_id.eq(product_id))
            .into_boxed::<MultiBackend>();
        let base = with_names!(base);
        let rows: Vec<HistoryRow> =
            crate::newest_first_window!(base, cursor, stock_adjustments::id).load(c)?;
        Ok(cursor
            .finish("-id", rows, |r| (vec![], r.0.id))
            .map(HistoryEntry::from))
    })
}
