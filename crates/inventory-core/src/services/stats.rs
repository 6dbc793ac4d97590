//! Incrementally kept aggregates (`category_stats`, `supplier_stats`) so the dashboard and the
//! list counts cost the same at a hundred or a million products.
//!
//! Every change to what a product contributes (quantity, price, category, reorder level, its
//! supplier links, deletion) adjusts them in the same transaction. The generic way is
//! [`detach`] before the change and [`attach`] after it; the hot path, a ledger booking, uses
//! [`quantities_changed`], two statements. [`verify`] recomputes everything from the base
//! tables, for tests and for `check`.
//!
//! On PostgreSQL each category's and supplier's aggregates are spread over [`PG_SLOTS`] rows
//! ("slots"): a product adds to the slot `product_id % PG_SLOTS` of its category and of each
//! of its suppliers, and readers add the slots up. One row a category made every booking in a
//! busy category wait for the one before it to commit (the row's lock is held to the end of
//! the transaction), across every instance. SQLite has one writer at a time, so a hot row
//! costs it nothing: it keeps one slot, and reads the same shape.

use std::sync::LazyLock;

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::DbConn;
use crate::error::{CoreError, CoreResult};
use crate::schema::products;

/// The stats row key of a product's category (0 for none).
pub fn category_key(category_id: Option<i64>) -> i64 {
    category_id.unwrap_or(0)
}

pub use crate::slots::{slot, PG_SLOTS};

/// Creates a new category's first aggregate row, zero, so it is listed before it has
/// products. Its other slots are made by the first change that adds to them.
pub fn ensure_category_row(conn: &mut DbConn, category_id: i64) -> CoreResult<()> {
    crate::sql::query(
        "INSERT INTO category_stats (category_key, slot) VALUES ($1, 0) \
         ON CONFLICT (category_key, slot) DO NOTHING",
    )
    .bind::<BigInt, _>(category_id)
    .execute(conn)?;
    Ok(())
}

/// Creates a new supplier's first aggregate row, zero (see [`ensure_category_row`]).
pub fn ensure_supplier_row(conn: &mut DbConn, supplier_id: i64) -> CoreResult<()> {
    crate::sql::query(
        "INSERT INTO supplier_stats (supplier_id, slot) VALUES ($1, 0) \
         ON CONFLICT (supplier_id, slot) DO NOTHING",
    )
    .bind::<BigInt, _>(supplier_id)
    .execute(conn)?;
    Ok(())
}

/// `SET` clauses of an upsert adding the inserted row's split value `<name>_hi`/`<name>_lo`
/// to the kept row's, carrying the low part's overflow.
fn add_excluded(table: &str, name: &str) -> String {
    format!(
        "{name}_hi = {table}.{name}_hi + excluded.{name}_hi + ({table}.{name}_lo + excluded.{name}_lo) / {SPLIT}, \
         {name}_lo = ({table}.{name}_lo + excluded.{name}_lo) % {SPLIT}"
    )
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

/// Money aggregates are kept as `hi * SPLIT + lo` with `0 <= lo < SPLIT` (two BIGINT columns):
/// one product's value fits 64 bits, but the sum over a catalogue need not, and SQLite would
/// silently turn an overflowing integer into a float. Sums over many rows add the parts
/// separately, and neither part can overflow for fewer than 2^31 products.
pub const SPLIT: i64 = 1 << 31;

/// `v` as (hi, lo) with `0 <= lo < SPLIT`.
pub fn split(v: i128) -> CoreResult<(i64, i64)> {
    let s = i128::from(SPLIT);
    let hi = i64::try_from(v.div_euclid(s)).map_err(|_| CoreError::out_of_range())?;
    let lo = i64::try_from(v.rem_euclid(s)).map_err(|_| CoreError::out_of_range())?;
    Ok((hi, lo))
}

/// The exact value of a (hi, lo) pair.
pub fn join(hi: i64, lo: i64) -> i128 {
    i128::from(hi) * i128::from(SPLIT) + i128::from(lo)
}

/// A product's stock value, refused (400) when it leaves the 64 bits one value may take.
pub fn product_value(price: i64, quantity: i64) -> CoreResult<i64> {
    price
        .checked_mul(quantity)
        .ok_or_else(CoreError::out_of_range)
}

fn apply(conn: &mut DbConn, product_id: i64, sign: i64) -> CoreResult<()> {
    let mut pending = Pending::default();
    pending.add(conn, product_id, sign)?;
    pending.flush(conn)
}

/// A category slot's gathered change: (products, low stock, out of stock, quantity, value).
type CategoryDelta = (i64, i64, i64, i64, i128);
/// A category slot's change by a booking: (low stock, out of stock, quantity, value).
type BookedDelta = (i64, i64, i64, i128);
/// (category key or supplier id, slot).
type SlotKey = (i64, i64);

/// Aggregate changes gathered in memory and written at once: a bulk change (an import of
/// thousands of rows) adds each product's contribution here and updates each touched
/// aggregate row once at the end, so it holds those hot rows' locks only for its last
/// moments, not for its whole length.
#[derive(Default, Debug)]
pub struct Pending {
    /// (category key, product id % PG_SLOTS) → (products, low stock, out of stock, quantity,
    /// value); the slot is folded to the connection's at [`Pending::flush`].
    categories: std::collections::BTreeMap<SlotKey, CategoryDelta>,
    /// (supplier id, product id % PG_SLOTS) → (products, supplied value, stock value)
    suppliers: std::collections::BTreeMap<SlotKey, (i64, i128, i128)>,
}

impl Pending {
    /// Adds (`sign` 1) or removes (-1) a product's whole contribution as it is now.
    pub fn add(&mut self, conn: &mut DbConn, product_id: i64, sign: i64) -> CoreResult<()> {
        use crate::schema::product_suppliers;
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
        let links: Vec<(i64, i64)> = product_suppliers::table
            .filter(product_suppliers::product_id.eq(product_id))
            .select((product_suppliers::supplier_id, product_suppliers::quantity))
            .load(conn)?;
        self.add_facts(
            product_id,
            category_id,
            price,
            quantity,
            level,
            &links,
            sign,
        )
    }

    /// As [`Pending::add`] for a product whose facts the caller holds (a row it just wrote);
    /// `links` are its (supplier id, units supplied).
    #[allow(clippy::too_many_arguments)]
    pub fn add_facts(
        &mut self,
        product_id: i64,
        category_id: Option<i64>,
        price: i64,
        quantity: i64,
        level: i64,
        links: &[(i64, i64)],
        sign: i64,
    ) -> CoreResult<()> {
        let value = i128::from(product_value(price, quantity)?) * i128::from(sign);
        let slot = product_id.rem_euclid(PG_SLOTS);
        let c = self
            .categories
            .entry((category_key(category_id), slot))
            .or_default();
        c.0 += sign;
        c.1 += sign * i64::from(quantity <= level);
        c.2 += sign * i64::from(quantity == 0);
        c.3 += sign * quantity;
        c.4 += value;
        for (supplier_id, supplied) in links {
            let supplied = i128::from(product_value(price, *supplied)?) * i128::from(sign);
            let s = self.suppliers.entry((*supplier_id, slot)).or_default();
            s.0 += sign;
            s.1 += supplied;
            s.2 += value;
        }
        Ok(())
    }

    /// Writes the gathered changes: one statement per touched aggregate row.
    pub fn flush(self, conn: &mut DbConn) -> CoreResult<()> {
        static CATEGORY: LazyLock<String> = LazyLock::new(|| {
            format!(
                "INSERT INTO category_stats (products, low_stock, out_of_stock, quantity, \
                 value_hi, value_lo, category_key, slot) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (category_key, slot) DO UPDATE SET \
                 products = category_stats.products + excluded.products, \
                 low_stock = category_stats.low_stock + excluded.low_stock, \
                 out_of_stock = category_stats.out_of_stock + excluded.out_of_stock, \
                 quantity = category_stats.quantity + excluded.quantity, {}",
                add_excluded("category_stats", "value")
            )
        });
        static SUPPLIER: LazyLock<String> = LazyLock::new(|| {
            format!(
                "INSERT INTO supplier_stats (products, supplied_value_hi, supplied_value_lo, \
                 stock_value_hi, stock_value_lo, supplier_id, slot) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (supplier_id, slot) DO UPDATE SET \
                 products = supplier_stats.products + excluded.products, {}, {}",
                add_excluded("supplier_stats", "supplied_value"),
                add_excluded("supplier_stats", "stock_value")
            )
        });
        // Gathered by `id % PG_SLOTS`; `slot` maps that to this database's slot (SQLite's
        // gathered slots fold into its one).
        let mut categories: std::collections::BTreeMap<SlotKey, CategoryDelta> = Default::default();
        for ((key, slot), (n, low, out, qty, value)) in self.categories {
            let e = categories.entry((key, self::slot(conn, slot))).or_default();
            *e = (e.0 + n, e.1 + low, e.2 + out, e.3 + qty, e.4 + value);
        }
        let mut suppliers: std::collections::BTreeMap<SlotKey, (i64, i128, i128)> =
            Default::default();
        for ((id, slot), (n, supplied, stock)) in self.suppliers {
            let e = suppliers.entry((id, self::slot(conn, slot))).or_default();
            *e = (e.0 + n, e.1 + supplied, e.2 + stock);
        }
        for ((key, slot), (n, low, out, qty, value)) in categories {
            if (n, low, out, qty, value) == (0, 0, 0, 0, 0) {
                continue;
            }
            let (vh, vl) = split(value)?;
            crate::sql::query(CATEGORY.as_str())
                .bind::<BigInt, _>(n)
                .bind::<BigInt, _>(low)
                .bind::<BigInt, _>(out)
                .bind::<BigInt, _>(qty)
                .bind::<BigInt, _>(vh)
                .bind::<BigInt, _>(vl)
                .bind::<BigInt, _>(key)
                .bind::<BigInt, _>(slot)
                .execute(conn)?;
        }
        for ((supplier_id, slot), (n, supplied, stock)) in suppliers {
            if (n, supplied, stock) == (0, 0, 0) {
                continue;
            }
            let (sh, sl) = split(supplied)?;
            let (vh, vl) = split(stock)?;
            crate::sql::query(SUPPLIER.as_str())
                .bind::<BigInt, _>(n)
                .bind::<BigInt, _>(sh)
                .bind::<BigInt, _>(sl)
                .bind::<BigInt, _>(vh)
                .bind::<BigInt, _>(vl)
                .bind::<BigInt, _>(supplier_id)
                .bind::<BigInt, _>(slot)
                .execute(conn)?;
        }
        Ok(())
    }
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

/// The hot path: a ledger booking changed these products' quantities (each a different
/// product; one for a sale, a shipment's lines). One kept upsert for all their category
/// slots and one for all their supplier slots.
pub fn quantities_changed(conn: &mut DbConn, cs: &[QuantityChange]) -> CoreResult<()> {
    use crate::sql::{batch, Vals};
    let live: Vec<&QuantityChange> = cs
        .iter()
        .filter(|c| !c.deleted && c.before != c.after)
        .collect();
    if live.is_empty() {
        return Ok(());
    }
    // (category key, slot) → (low stock, out of stock, quantity, value)
    let mut categories: std::collections::BTreeMap<SlotKey, BookedDelta> = Default::default();
    let mut products = Vec::with_capacity(live.len());
    for c in &live {
        product_value(c.price, c.after)?;
        let delta = c.after - c.before;
        let value = i128::from(c.price) * i128::from(delta);
        let slot = slot(conn, c.product_id);
        let e = categories
            .entry((category_key(c.category_id), slot))
            .or_default();
        e.0 += i64::from(c.after <= c.reorder_level) - i64::from(c.before <= c.reorder_level);
        e.1 += i64::from(c.after == 0) - i64::from(c.before == 0);
        e.2 += delta;
        e.3 += value;
        let (vh, vl) = split(value)?;
        products.push((c.product_id, vh, vl, slot));
    }
    let categories: Vec<(SlotKey, BookedDelta)> = categories.into_iter().collect();
    for chunk in crate::sql::chunks(&categories) {
        let mut vals = Vals::default();
        for ((key, slot), (low, out, qty, value)) in chunk {
            let (vh, vl) = split(*value)?;
            vals.int(*key)
                .int(*low)
                .int(*out)
                .int(*qty)
                .int(vh)
                .int(vl)
                .int(*slot);
        }
        batch(
            "stats.categories",
            chunk.len(),
            |n| {
                // One row a (category, slot): key, its four deltas, slot. A slot's first
                // change inserts its row; later ones add to it under its primary key.
                let rows = crate::sql::rows(n, 1, 7, |b| {
                    format!(
                        "${b}, ${}, ${}, ${}, ${}, ${}, ${}",
                        b + 6,
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5
                    )
                });
                format!(
                    "INSERT INTO category_stats (category_key, slot, low_stock, out_of_stock, \
                     quantity, value_hi, value_lo) VALUES {rows} \
                     ON CONFLICT (category_key, slot) DO UPDATE SET \
                     low_stock = category_stats.low_stock + excluded.low_stock, \
                     out_of_stock = category_stats.out_of_stock + excluded.out_of_stock, \
                     quantity = category_stats.quantity + excluded.quantity, {}",
                    add_excluded("category_stats", "value")
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    for chunk in crate::sql::chunks(&products) {
        let mut vals = Vals::default();
        for (p, vh, vl, slot) in chunk {
            vals.int(*p).int(*vh).int(*vl).int(*slot);
        }
        batch(
            "stats.suppliers",
            chunk.len(),
            |n| {
                let upsert = format!(
                    "ON CONFLICT (supplier_id, slot) DO UPDATE SET {}",
                    add_excluded("supplier_stats", "stock_value")
                );
                if n == 1 {
                    // One product: its suppliers straight from its links, no grouping.
                    return format!(
                        "INSERT INTO supplier_stats (supplier_id, slot, stock_value_hi, \
                         stock_value_lo) SELECT supplier_id, $4, $2, $3 FROM product_suppliers \
                         WHERE product_id = $1 {upsert}"
                    );
                }
                let lines: Vec<String> = (0..n)
                    .map(|i| {
                        let b = 1 + 4 * i;
                        format!(
                            "SELECT ${b} AS p, ${} AS hi, ${} AS lo, ${} AS sl",
                            b + 1,
                            b + 2,
                            b + 3
                        )
                    })
                    .collect();
                // The lines' values summed per supplier slot of theirs (the low parts'
                // carry taken into the high part), then added as one line's are.
                format!(
                    "INSERT INTO supplier_stats (supplier_id, slot, stock_value_hi, \
                     stock_value_lo) SELECT sid, sl, hi + lo / {SPLIT}, lo % {SPLIT} \
                     FROM (SELECT ps.supplier_id AS sid, x.sl AS sl, \
                     CAST(SUM(x.hi) AS BIGINT) AS hi, CAST(SUM(x.lo) AS BIGINT) AS lo \
                     FROM product_suppliers ps JOIN ({}) x ON ps.product_id = x.p \
                     GROUP BY ps.supplier_id, x.sl) v WHERE true {upsert}",
                    lines.join(" UNION ALL ")
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    Ok(())
}

/// `SUM` of a per-row money expression as two exact parts, `<alias>_hi` and `<alias>_lo`
/// (see [`SPLIT`]); each row's value must fit 64 bits.
pub fn split_sum(expr: &str, alias: &str) -> String {
    format!(
        "CAST(COALESCE(SUM(({expr}) / {SPLIT}), 0) AS BIGINT) AS {alias}_hi, \
         CAST(COALESCE(SUM(({expr}) % {SPLIT}), 0) AS BIGINT) AS {alias}_lo"
    )
}

/// `SUM(quantity × cost)` for a cost in ten-thousandths, as `{alias}_hi/_lo` (the whole cents
/// part) and `{alias}_r_hi/_r_lo` (the rest): a cost value may be a hundred times a price value,
/// so the whole product `quantity × cost` need not fit 64 bits where the price's does; each
/// part does (the ledger checks it). [`join_cost`] puts the four columns together.
pub fn split_sum_cost(quantity: &str, cost: &str, alias: &str) -> String {
    format!(
        "{}, {}",
        split_sum(&format!("{quantity} * ({cost} / 100)"), alias),
        split_sum(
            &format!("{quantity} * ({cost} % 100)"),
            &format!("{alias}_r")
        )
    )
}

/// The exact value (ten-thousandths) of [`split_sum_cost`]'s four columns.
pub fn join_cost(hi: i64, lo: i64, rest_hi: i64, rest_lo: i64) -> i128 {
    join(hi, lo) * 100 + join(rest_hi, rest_lo)
}

/// Whether `quantity × cost` (ten-thousandths) can be summed by [`split_sum_cost`]: the cents
/// part and the rest each fit 64 bits.
pub fn cost_value_fits(quantity: i64, cost: i64) -> bool {
    let fits = |a: i64, b: i64| i64::try_from(i128::from(a) * i128::from(b)).is_ok();
    fits(quantity, cost / 100) && fits(quantity, cost % 100)
}

#[derive(QueryableByName, Debug)]
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
    e_hi: i64,
    #[diesel(sql_type = BigInt)]
    e_lo: i64,
    #[diesel(sql_type = BigInt)]
    f_hi: i64,
    #[diesel(sql_type = BigInt)]
    f_lo: i64,
}

/// A stats row with its money parts joined, for comparison.
type Exact = (i64, i64, i64, i64, i64, i128, i128);

impl Row6 {
    fn exact(&self) -> Exact {
        (
            self.k,
            self.a,
            self.b,
            self.c,
            self.d,
            join(self.e_hi, self.e_lo),
            join(self.f_hi, self.f_lo),
        )
    }
}

/// The kept rows, their slots added up (all-zero ones are dropped by [`exact`]).
const KEPT_CATEGORIES: &str = "SELECT category_key AS k, CAST(SUM(products) AS BIGINT) AS a, \
    CAST(SUM(low_stock) AS BIGINT) AS b, CAST(SUM(out_of_stock) AS BIGINT) AS c, \
    CAST(SUM(quantity) AS BIGINT) AS d, CAST(SUM(value_hi) AS BIGINT) AS e_hi, \
    CAST(SUM(value_lo) AS BIGINT) AS e_lo, CAST(0 AS BIGINT) AS f_hi, CAST(0 AS BIGINT) AS f_lo \
    FROM category_stats GROUP BY category_key ORDER BY category_key";
const KEPT_SUPPLIERS: &str =
    "SELECT supplier_id AS k, CAST(SUM(products) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, \
    CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d, CAST(SUM(supplied_value_hi) AS BIGINT) AS e_hi, \
    CAST(SUM(supplied_value_lo) AS BIGINT) AS e_lo, CAST(SUM(stock_value_hi) AS BIGINT) AS f_hi, \
    CAST(SUM(stock_value_lo) AS BIGINT) AS f_lo FROM supplier_stats \
    GROUP BY supplier_id ORDER BY supplier_id";

static FRESH_CATEGORIES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT CAST(COALESCE(category_id, 0) AS BIGINT) AS k, CAST(COUNT(*) AS BIGINT) AS a, \
         CAST(SUM(CASE WHEN quantity <= reorder_level THEN 1 ELSE 0 END) AS BIGINT) AS b, \
         CAST(SUM(CASE WHEN quantity = 0 THEN 1 ELSE 0 END) AS BIGINT) AS c, \
         CAST(SUM(quantity) AS BIGINT) AS d, {}, CAST(0 AS BIGINT) AS f_hi, \
         CAST(0 AS BIGINT) AS f_lo FROM products WHERE deleted_at IS NULL \
         GROUP BY COALESCE(category_id, 0) ORDER BY 1",
        split_sum("price_cents * quantity", "e")
    )
});

static FRESH_SUPPLIERS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT ps.supplier_id AS k, CAST(COUNT(*) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, \
         CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d, {}, {} \
         FROM product_suppliers ps JOIN products p ON p.id = ps.product_id \
         WHERE p.deleted_at IS NULL GROUP BY ps.supplier_id ORDER BY 1",
        split_sum("p.price_cents * ps.quantity", "e"),
        split_sum("p.price_cents * p.quantity", "f")
    )
});

fn exact(rows: Vec<Row6>) -> Vec<Exact> {
    rows.iter()
        .map(Row6::exact)
        .filter(|r| *r != (r.0, 0, 0, 0, 0, 0, 0))
        .collect()
}

/// Recomputes the aggregates from the base tables and compares; `Err` names the first drift.
pub fn verify(conn: &mut DbConn) -> CoreResult<()> {
    let kept = exact(crate::sql::query(KEPT_CATEGORIES).load(conn)?);
    let fresh = exact(crate::sql::query(FRESH_CATEGORIES.as_str()).load(conn)?);
    if kept != fresh {
        return Err(CoreError::Internal(format!(
            "category stats drifted: kept {kept:?}, fresh {fresh:?}"
        )));
    }
    let kept = exact(crate::sql::query(KEPT_SUPPLIERS).load(conn)?);
    let fresh = exact(crate::sql::query(FRESH_SUPPLIERS.as_str()).load(conn)?);
    if kept != fresh {
        return Err(CoreError::Internal(format!(
            "supplier stats drifted: kept {kept:?}, fresh {fresh:?}"
        )));
    }
    Ok(())
}

#[derive(QueryableByName, Debug)]
struct Mismatch {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The ledger explains every quantity: each stock level is the sum of its location's ledger
/// deltas, and each product's quantity the sum of its levels. `Err` says how many disagree.
/// (With [`verify`], what the fault tests and a restored backup must pass.)
pub fn verify_ledger(conn: &mut DbConn) -> CoreResult<()> {
    const LEVELS: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM stock_levels s \
        WHERE s.quantity <> (SELECT COALESCE(SUM(a.delta), 0) FROM stock_adjustments a \
            WHERE a.product_id = s.product_id AND a.location_id = s.location_id)";
    const PRODUCTS: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM products p \
        WHERE p.quantity <> (SELECT COALESCE(SUM(s.quantity), 0) FROM stock_levels s \
            WHERE s.product_id = p.id)";
    const RESERVED: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM products p \
        WHERE p.reserved <> (SELECT COALESCE(SUM(s.reserved), 0) FROM stock_levels s \
            WHERE s.product_id = p.id)";
    const UNEXPLAINED: &str = "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT a.product_id, a.location_id \
        FROM stock_adjustments a GROUP BY a.product_id, a.location_id HAVING SUM(a.delta) <> 0) x \
        WHERE NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.product_id = x.product_id AND s.location_id = x.location_id)";
    for (what, sql) in [
        ("stock levels differ from their ledger", LEVELS),
        ("product quantities differ from their levels", PRODUCTS),
        ("product reservations differ from their levels", RESERVED),
        ("ledger totals have no stock level", UNEXPLAINED),
    ] {
        let m: Mismatch = crate::sql::query(sql).get_result(conn)?;
        if m.n != 0 {
            return Err(CoreError::Internal(format!("{} {what}", m.n)));
        }
    }
    Ok(())
}
