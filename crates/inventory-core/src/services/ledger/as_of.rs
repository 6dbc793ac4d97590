//! Stock as of a past moment (API.md §11), read from the ledger.
//!
//! Every ledger row keeps what it left behind: the level's quantity, the product's quantity
//! and the product's average cost after it. So the state at a moment T is, for each level
//! (or product), its last row at or before T: one descent of the `(product, location,
//! created_at)` (or `(product, created_at)`) index, whatever the ledger's length. No
//! snapshots are kept: there is nothing to refresh, nothing to fall out of date, and a
//! product's answer costs the same at a thousand rows or a million. A whole valuation costs
//! one descent a product (measured in docs/performance.md).
//!
//! Reservations are promises, not ledger movements, so answers as of a moment give
//! quantities only: `reserved` and `available` are left out.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use serde::Serialize;

use super::{InventoryRow, LevelFilter, LocationQuantity};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult};
use crate::models::StockLevel;
use crate::paging::{PageReq, Paged};
use crate::services::products::{self as catalog_products, ProductFilter};
use crate::types::ser_ts;

/// `?as_of=`: an RFC 3339 instant (or a date, meaning its midnight UTC), not in the future.
pub fn parse_as_of(raw: Option<&str>) -> CoreResult<Option<NaiveDateTime>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let t = crate::services::audit_log::parse_instant("as_of", raw)?;
    if t > now() {
        return Err(CoreError::validation(
            "as_of",
            "This moment is in the future; stock can only be told as of now or earlier.",
        ));
    }
    Ok(Some(t))
}

/// One stock level, now (with its reservations) or as of a moment (quantities only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, QueryableByName)]
pub struct LevelRow {
    #[diesel(sql_type = BigInt)]
    pub product_id: i64,
    #[diesel(sql_type = BigInt)]
    pub location_id: i64,
    #[diesel(sql_type = BigInt)]
    pub quantity: i64,
    /// What confirmed sales orders hold here. Absent as of a past moment: reservations are
    /// promises, not ledger movements.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub reserved: Option<i64>,
    /// `quantity − reserved`; absent as of a past moment.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    pub available: Option<i64>,
    /// When the quantity last changed (as of a moment: the last change at or before it).
    #[serde(serialize_with = "ser_ts")]
    #[diesel(sql_type = Timestamp, deserialize_as = crate::ts::SqlTs)]
    pub updated_at: NaiveDateTime,
}

impl From<StockLevel> for LevelRow {
    fn from(l: StockLevel) -> Self {
        LevelRow {
            product_id: l.product_id,
            location_id: l.location_id,
            quantity: l.quantity,
            reserved: Some(l.reserved),
            available: Some(l.available),
            updated_at: l.updated_at,
        }
    }
}

/// The levels of live-at-T products in a product range and a location range, each with its
/// last row at or before `$1`. Ranges rather than optional filters keep one statement whose
/// plan is an index range either way (a `$2 IS NULL OR …` condition would plan as a scan).
const LEVELS: &str = "SELECT s1.product_id, s1.location_id, a.quantity_after AS quantity, \
     CAST(NULL AS BIGINT) AS reserved, CAST(NULL AS BIGINT) AS available, \
     a.created_at AS updated_at \
     FROM (SELECT s0.product_id, s0.location_id, \
       (SELECT a2.id FROM stock_adjustments a2 WHERE a2.product_id = s0.product_id \
        AND a2.location_id = s0.location_id AND a2.created_at <= $1 \
        ORDER BY a2.created_at DESC, a2.id DESC LIMIT 1) AS last_id \
       FROM stock_levels s0 JOIN products p ON p.id = s0.product_id \
       WHERE s0.product_id BETWEEN $2 AND $3 AND s0.location_id BETWEEN $4 AND $5 \
       AND p.created_at <= $1 AND (p.deleted_at IS NULL OR p.deleted_at > $1)) s1 \
     JOIN stock_adjustments a ON a.id = s1.last_id \
     ORDER BY s1.product_id, s1.location_id LIMIT $6 OFFSET $7";

const LEVELS_COUNT: &str = "SELECT COUNT(*) AS n FROM stock_levels s0 \
     JOIN products p ON p.id = s0.product_id \
     WHERE s0.product_id BETWEEN $2 AND $3 AND s0.location_id BETWEEN $4 AND $5 \
     AND p.created_at <= $1 AND (p.deleted_at IS NULL OR p.deleted_at > $1) \
     AND EXISTS (SELECT 1 FROM stock_adjustments a2 WHERE a2.product_id = s0.product_id \
       AND a2.location_id = s0.location_id AND a2.created_at <= $1)";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn range(v: Option<i64>) -> (i64, i64) {
    v.map_or((i64::MIN, i64::MAX), |v| (v, v))
}

fn levels_at(
    c: &mut DbConn,
    t: NaiveDateTime,
    product: Option<i64>,
    location: Option<i64>,
    limit: i64,
    offset: i64,
) -> CoreResult<Vec<LevelRow>> {
    let (p0, p1) = range(product);
    let (l0, l1) = range(location);
    Ok(crate::sql::query(LEVELS)
        .bind::<Timestamp, _>(t)
        .bind::<BigInt, _>(p0)
        .bind::<BigInt, _>(p1)
        .bind::<BigInt, _>(l0)
        .bind::<BigInt, _>(l1)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(c)?)
}

/// `GET /api/stock-levels?as_of=`: the levels that had seen a movement by then, with what
/// was there, in the list's order (product, then location).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn stock_levels_at(
    core: &Core,
    ctx: &Ctx,
    f: &LevelFilter,
    t: NaiveDateTime,
    page: PageReq,
) -> CoreResult<Paged<LevelRow>> {
    ctx.read_catalog(core.config.public_read)?;
    let (p0, p1) = range(f.product);
    let (l0, l1) = range(f.location);
    core.db.read(|c| {
        let count = crate::sql::query(LEVELS_COUNT)
            .bind::<Timestamp, _>(t)
            .bind::<BigInt, _>(p0)
            .bind::<BigInt, _>(p1)
            .bind::<BigInt, _>(l0)
            .bind::<BigInt, _>(l1)
            .get_result::<Count>(c)?
            .n;
        page.check_in_range(count)?;
        let results = levels_at(c, t, f.product, f.location, page.page_size, page.offset())?;
        Ok(Paged { count, results })
    })
}

/// `GET /api/inventory/levels?as_of=`: today's catalogue, paged with the product list's
/// filters, each product with the quantities it had at the moment. A filter or ordering on
/// quantity would pick and sort products by today's figures beside past ones, so it is
/// refused rather than answered misleadingly.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn inventory_levels_at(
    core: &Core,
    ctx: &Ctx,
    f: &ProductFilter,
    t: NaiveDateTime,
    page: PageReq,
) -> CoreResult<Paged<InventoryRow>> {
    if f.low_stock.is_some() || f.low_stock_threshold.is_some() {
        return Err(CoreError::validation(
            "as_of",
            "low_stock compares today's quantities; it cannot be combined with as_of.",
        ));
    }
    if f.ordering
        .as_deref()
        .is_some_and(|o| o.contains("quantity"))
    {
        return Err(CoreError::validation(
            "as_of",
            "Ordering by quantity uses today's quantities; it cannot be combined with as_of.",
        ));
    }
    let products_page = catalog_products::list_rows(core, ctx, f, page)?;
    let cats = super::category_names(core, &products_page.results)?;
    core.db.read(|c| {
        let mut rows = Vec::with_capacity(products_page.results.len());
        for p in products_page.results.iter() {
            let levels = levels_at(c, t, Some(p.id), None, i64::MAX, 0)?;
            let quantity = levels.iter().map(|l| l.quantity).sum();
            rows.push(InventoryRow {
                id: p.id,
                sku: p.sku.clone(),
                name: p.name.clone(),
                category: p.category_id.and_then(|id| cats.get(&id).cloned()),
                quantity,
                reserved: None,
                available: None,
                reorder_level: p.reorder_level,
                low_stock: quantity <= p.reorder_level,
                locations: levels
                    .into_iter()
                    .map(|l| LocationQuantity {
                        location_id: l.location_id,
                        quantity: l.quantity,
                        reserved: None,
                        available: None,
                    })
                    .collect(),
            });
        }
        Ok(Paged {
            count: products_page.count,
            results: rows,
        })
    })
}
