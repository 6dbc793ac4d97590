//! Incrementally kept aggregates (`category_stats`, `supplier_stats`) so the dashboard and the
//! list counts cost the same at a hundred or a million products.
//!
//! Every change to what a product contributes (quantity, price, category, reorder level, its
//! supplier links, deletion) adjusts them in the same transaction. The generic way is
//! [`detach`] before the change and [`attach`] after it; the hot path, a ledger booking, uses
//! [`quantity_changed`], two single statements. [`verify`] recomputes everything from the base
//! tables, for tests and for `check`.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::DbConn;
use crate::error::{CoreError, CoreResult};
use crate::schema::products;

/// The stats row key of a product's category (0 for none).
pub fn category_key(category_id: Option<i64>) -> i64 {
    category_id.unwrap_or(0)
}

pub fn ensure_category_row(conn: &mut DbConn, category_id: i64) -> CoreResult<()> {
    crate::sql::query("INSERT INTO category_stats (category_key) VALUES ($1) ON CONFLICT (category_key) DO NOTHING")
        .bind::<BigInt, _>(category_id)
        .execute(conn)?;
    Ok(())
}

pub fn ensure_supplier_row(conn: &mut DbConn, supplier_id: i64) -> CoreResult<()> {
    crate::sql::query(
        "INSERT INTO supplier_stats (supplier_id) VALUES ($1) ON CONFLICT (supplier_id) DO NOTHING",
    )
    .bind::<BigInt, _>(supplier_id)
    .execute(conn)?;
    Ok(())
}

/// Marks the set of live products as changed (a product created, deleted or imported), so
/// cached list positions are rebuilt; on the change's own transaction.
pub fn bump_live_set(conn: &mut DbConn) -> CoreResult<()> {
    use crate::schema::list_versions;
    diesel::update(list_versions::table.find("products_live"))
        .set(list_versions::version.eq(list_versions::version + 1))
        .execute(conn)?;
    Ok(())
}

/// The current version of the live product set.
pub fn live_set_version(conn: &mut DbConn) -> CoreResult<i64> {
    use crate::schema::list_versions;
    Ok(list_versions::table
        .find("products_live")
        .select(list_versions::version)
        .first(conn)
        .optional()?
        .unwrap_or(0))
}

/// Removes a product's whole contribution (call before changing it).
pub fn detach(conn: &mut DbConn, product_id: i64) -> CoreResult<()> {
    apply(conn, product_id, -1)
}

/// Adds a product's whole contribution (call after changing it). Deleted products add nothing.
pub fn attach(conn: &mut DbConn, product_id: i64) -> CoreResult<()> {
    apply(conn, product_id, 1)
}

/// (category, price, quantity, reorder level, deleted at) of a product.
type Facts = (Option<i64>, i64, i64, i64, Option<chrono::NaiveDateTime>);

fn apply(conn: &mut DbConn, product_id: i64, sign: i64) -> CoreResult<()> {
    let row: Option<Facts> = products::table
        .find(product_id)
        .select((
            products::category_id,
            products::price_cents,
            products::quantity,
            products::reorder_level,
            products::deleted_at,
        ))
        .first(conn)
        .optional()?;
    let Some((category_id, price, quantity, level, deleted_at)) = row else {
        return Ok(());
    };
    if deleted_at.is_some() {
        return Ok(());
    }
    let value = price
        .checked_mul(quantity)
        .ok_or_else(CoreError::out_of_range)?;
    crate::sql::query(
        "UPDATE category_stats SET products = products + $1, low_stock = low_stock + $2, \
         out_of_stock = out_of_stock + $3, quantity = quantity + $4, value = value + $5 \
         WHERE category_key = $6",
    )
    .bind::<BigInt, _>(sign)
    .bind::<BigInt, _>(sign * i64::from(quantity <= level))
    .bind::<BigInt, _>(sign * i64::from(quantity == 0))
    .bind::<BigInt, _>(sign * quantity)
    .bind::<BigInt, _>(sign * value)
    .bind::<BigInt, _>(category_key(category_id))
    .execute(conn)?;
    crate::sql::query(
        "UPDATE supplier_stats SET products = products + $1, \
         supplied_value = supplied_value + $2 * (SELECT ps.quantity FROM product_suppliers ps \
             WHERE ps.product_id = $3 AND ps.supplier_id = supplier_stats.supplier_id), \
         stock_value = stock_value + $4 \
         WHERE supplier_id IN (SELECT supplier_id FROM product_suppliers WHERE product_id = $3)",
    )
    .bind::<BigInt, _>(sign)
    .bind::<BigInt, _>(sign * price)
    .bind::<BigInt, _>(product_id)
    .bind::<BigInt, _>(sign * value)
    .execute(conn)?;
    Ok(())
}

/// What a booking changed: the product as it is after the booking, and the quantity before.
pub struct QuantityChange {
    pub product_id: i64,
    pub category_id: Option<i64>,
    pub price: i64,
    pub reorder_level: i64,
    pub before: i64,
    pub after: i64,
    pub deleted: bool,
}

/// The hot path: a ledger booking changed one product's quantity.
pub fn quantity_changed(conn: &mut DbConn, c: &QuantityChange) -> CoreResult<()> {
    if c.deleted || c.before == c.after {
        return Ok(());
    }
    let delta = c.after - c.before;
    let value_delta = c
        .price
        .checked_mul(delta)
        .ok_or_else(CoreError::out_of_range)?;
    let low = i64::from(c.after <= c.reorder_level) - i64::from(c.before <= c.reorder_level);
    let out = i64::from(c.after == 0) - i64::from(c.before == 0);
    crate::sql::query(
        "UPDATE category_stats SET low_stock = low_stock + $1, out_of_stock = out_of_stock + $2, \
         quantity = quantity + $3, value = value + $4 WHERE category_key = $5",
    )
    .bind::<BigInt, _>(low)
    .bind::<BigInt, _>(out)
    .bind::<BigInt, _>(delta)
    .bind::<BigInt, _>(value_delta)
    .bind::<BigInt, _>(category_key(c.category_id))
    .execute(conn)?;
    crate::sql::query(
        "UPDATE supplier_stats SET stock_value = stock_value + $1 \
         WHERE supplier_id IN (SELECT supplier_id FROM product_suppliers WHERE product_id = $2)",
    )
    .bind::<BigInt, _>(value_delta)
    .bind::<BigInt, _>(c.product_id)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Row6 {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = BigInt)]
    a: i64,
    #[diesel(sql_type = BigInt)]
    b: i64,
    #[diesel(sql_type = BigInt)]
    c: i64,
    #[diesel(sql_type = BigInt)]
    d: i64,
    #[diesel(sql_type = BigInt)]
    e: i64,
}

const KEPT_CATEGORIES: &str = "SELECT category_key AS k, products AS a, low_stock AS b, out_of_stock AS c, \
    quantity AS d, value AS e FROM category_stats WHERE products <> 0 OR quantity <> 0 OR value <> 0 \
    OR low_stock <> 0 OR out_of_stock <> 0 ORDER BY category_key";
const FRESH_CATEGORIES: &str = "SELECT CAST(COALESCE(category_id, 0) AS BIGINT) AS k, CAST(COUNT(*) AS BIGINT) AS a, \
    CAST(SUM(CASE WHEN quantity <= reorder_level THEN 1 ELSE 0 END) AS BIGINT) AS b, \
    CAST(SUM(CASE WHEN quantity = 0 THEN 1 ELSE 0 END) AS BIGINT) AS c, CAST(SUM(quantity) AS BIGINT) AS d, \
    CAST(SUM(price_cents * quantity) AS BIGINT) AS e FROM products WHERE deleted_at IS NULL \
    GROUP BY COALESCE(category_id, 0) ORDER BY 1";
const KEPT_SUPPLIERS: &str =
    "SELECT supplier_id AS k, products AS a, supplied_value AS b, stock_value AS c, \
    CAST(0 AS BIGINT) AS d, CAST(0 AS BIGINT) AS e FROM supplier_stats \
    WHERE products <> 0 OR supplied_value <> 0 OR stock_value <> 0 ORDER BY supplier_id";
const FRESH_SUPPLIERS: &str = "SELECT ps.supplier_id AS k, CAST(COUNT(*) AS BIGINT) AS a, \
    CAST(SUM(p.price_cents * ps.quantity) AS BIGINT) AS b, CAST(SUM(p.price_cents * p.quantity) AS BIGINT) AS c, \
    CAST(0 AS BIGINT) AS d, CAST(0 AS BIGINT) AS e FROM product_suppliers ps JOIN products p ON p.id = ps.product_id \
    WHERE p.deleted_at IS NULL GROUP BY ps.supplier_id ORDER BY 1";

/// Recomputes the aggregates from the base tables and compares; `Err` names the first drift.
pub fn verify(conn: &mut DbConn) -> CoreResult<()> {
    let kept: Vec<Row6> = crate::sql::query(KEPT_CATEGORIES).load(conn)?;
    let fresh: Vec<Row6> = crate::sql::query(FRESH_CATEGORIES).load(conn)?;
    if kept != fresh {
        return Err(CoreError::Internal(format!(
            "category stats drifted: kept {kept:?}, fresh {fresh:?}"
        )));
    }
    let kept: Vec<Row6> = crate::sql::query(KEPT_SUPPLIERS).load(conn)?;
    let fresh: Vec<Row6> = crate::sql::query(FRESH_SUPPLIERS).load(conn)?;
    let fresh: Vec<Row6> = fresh
        .into_iter()
        .filter(|r| r.a != 0 || r.b != 0 || r.c != 0)
        .collect();
    if kept != fresh {
        return Err(CoreError::Internal(format!(
            "supplier stats drifted: kept {kept:?}, fresh {fresh:?}"
        )));
    }
    Ok(())
}
