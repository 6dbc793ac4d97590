//! The stock ledger: the only code that changes a quantity.
//!
//! Every change is one conditional statement on the level row (`quantity + d >= 0`), so
//! concurrent requests can neither lose an update nor drive stock negative, on either backend
//! and across server instances. The product total follows in the same transaction.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use crate::audit;
use crate::auth::Ctx;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult};
use crate::models::Adjustment;
use crate::schema::{locations, product_suppliers};
use crate::services::stats;
use crate::services::webhooks::outbox;
use crate::types::{AdjustmentKind, Cost, WebhookEvent};

pub fn default_location(conn: &mut DbConn) -> CoreResult<i64> {
    locations::table
        .filter(locations::is_default.eq(true))
        .select(locations::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| CoreError::Internal("no default location".into()))
}

/// Checks that a location exists and is active, for bookings that name one.
pub fn active_location(conn: &mut DbConn, id: i64) -> CoreResult<i64> {
    let active: Option<bool> = locations::table
        .find(id)
        .select(locations::is_active)
        .first(conn)
        .optional()?;
    match active {
        Some(true) => Ok(id),
        Some(false) => Err(CoreError::validation(
            "location_id",
            "This location is inactive.",
        )),
        None => Err(CoreError::validation("location_id", "No such location.")),
    }
}

/// A ledger booking to make.
pub struct Booking<'a> {
    pub product_id: i64,
    pub location_id: i64,
    pub kind: AdjustmentKind,
    pub delta: i64,
    pub reason: &'a str,
    pub reference: &'a str,
    /// What a unit of a receipt cost, when the caller knows (a `receive` that names it, an
    /// order receipt at its line's price). `None` costs the row by §10's defaults.
    pub unit_cost: Option<i64>,
}

/// Books one ledger row: level, product total and audit entry, on the caller's transaction.
/// A change that would leave the location below zero is `insufficient_stock`, and so is an
/// outgoing movement that would take what confirmed sales orders reserved there.
pub fn book(conn: &mut DbConn, ctx: &Ctx, b: Booking<'_>) -> CoreResult<Adjustment> {
    Ok(book_full(conn, ctx, b, 0)?.row)
}

/// A booked ledger row with what the low-stock rule needs of its product, read by the
/// booking's own statements so the caller need not read the product again.
pub struct Booked {
    pub row: Adjustment,
    pub reorder_level: i64,
    /// The product's average cost after this booking (§10).
    pub average_cost: Option<i64>,
}

/// As [`book`]; `release` is for a shipment that consumes that many units of its own order's
/// reservation in the same statement: the level's quantity and reservation drop together, so
/// the units never count as free in between.
pub fn book_full(conn: &mut DbConn, ctx: &Ctx, b: Booking<'_>, release: i64) -> CoreResult<Booked> {
    let line = BatchLine {
        product_id: b.product_id,
        delta: b.delta,
        unit_cost: b.unit_cost,
        release,
    };
    let batch = Batch {
        location_id: b.location_id,
        kind: b.kind,
        reason: b.reason,
        reference: b.reference,
        lines: std::slice::from_ref(&line),
    };
    book_batch(conn, ctx, &batch)?
        .pop()
        .ok_or_else(|| CoreError::Internal("a booking booked nothing".into()))
}

/// One line of a [`Batch`]: a product, its signed change, what a unit cost when the caller
/// knows ([`Booking::unit_cost`]), and how much of its own order's reservation it consumes.
pub struct BatchLine {
    pub product_id: i64,
    pub delta: i64,
    pub unit_cost: Option<i64>,
    pub release: i64,
}

/// Movements of one kind at one location, one line per product (a shipment's, a receipt's or a
/// return's lines).
pub struct Batch<'a> {
    pub location_id: i64,
    pub kind: AdjustmentKind,
    pub reason: &'a str,
    pub reference: &'a str,
    pub lines: &'a [BatchLine],
}

/// What a booked product row answered.
#[derive(QueryableByName)]
struct ProductAfter {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    category_id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    price_cents: i64,
    #[diesel(sql_type = BigInt)]
    reorder_level: i64,
    #[diesel(sql_type = BigInt)]
    deleted: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    average_cost: Option<i64>,
}

/// What a ledger insert answered.
#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    product_id: i64,
}

/// What a booked level row answered.
#[derive(QueryableByName)]
struct LevelAfter {
    #[diesel(sql_type = BigInt)]
    product_id: i64,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(sql_type = BigInt)]
    reserved: i64,
}

/// A booking's level and product rows as PostgreSQL's one statement for both answers them.
#[derive(QueryableByName)]
struct BothAfter {
    #[diesel(embed)]
    product: ProductAfter,
    #[diesel(sql_type = BigInt)]
    level_quantity: i64,
    #[diesel(sql_type = BigInt)]
    level_reserved: i64,
}

impl BothAfter {
    fn split(self) -> (LevelAfter, ProductAfter) {
        let level = LevelAfter {
            product_id: self.product.id,
            quantity: self.level_quantity,
            reserved: self.level_reserved,
        };
        (level, self.product)
    }
}

/// The levels' conditional update for `n` lines: $1 time, $2 location, $3 whether the
/// movement respects reservations, then (product, delta, release) a line from $4.
fn levels_update(n: usize) -> String {
    use crate::sql::{case, keys};
    if n > crate::sql::MAX_BATCH {
        // A bulk batch joins its lines as a table: a CASE of 128 branches, evaluated
        // five times for each of 128 rows, cost PostgreSQL 3.5 ms a statement.
        return format!(
            "UPDATE stock_levels SET quantity = quantity + v.column2, \
             reserved = reserved - v.column3, updated_at = $1 FROM (VALUES {}) AS v \
             WHERE location_id = $2 AND product_id = v.column1 \
             AND quantity + v.column2 >= 0 \
             AND quantity + v.column2 >= reserved * $3 - v.column3 \
             AND reserved >= v.column3 RETURNING product_id, quantity, reserved",
            crate::sql::rows(n, 4, 3, |f| format!("${f}, ${}, ${}", f + 1, f + 2))
        );
    }
    let d = case("product_id", n, 4, 3, 0, 1);
    let r = case("product_id", n, 4, 3, 0, 2);
    let p = keys(n, 4, 3, 0);
    format!(
        "UPDATE stock_levels SET quantity = quantity + {d}, reserved = reserved - {r}, \
         updated_at = $1 WHERE location_id = $2 AND product_id IN ({p}) \
         AND quantity + {d} >= 0 AND quantity + {d} >= reserved * $3 - {r} \
         AND reserved >= {r} RETURNING product_id, quantity, reserved"
    )
}

/// The products' update for `n` lines whose (product, delta, release) start at placeholder
/// `first`, $1 the time; `extra` is added to its condition.
fn products_update(n: usize, first: usize, extra: &str) -> String {
    use crate::sql::{case, keys};
    let d = case("id", n, first, 3, 0, 1);
    let r = case("id", n, first, 3, 0, 2);
    let p = keys(n, first, 3, 0);
    format!(
        "UPDATE products SET quantity = quantity + {d}, reserved = reserved - {r}, \
         updated_at = $1 WHERE id IN ({p}) {extra} \
         RETURNING id, quantity, category_id, price_cents, reorder_level, \
         CAST(CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS deleted, \
         average_cost"
    )
}

/// Books every line of `b` as [`book_full`] books one, with one statement per table for all
/// the lines (levels, products, aggregates, ledger, audit), so an n-line movement costs about
/// what one booking does rather than n times it. All or nothing: any line short of stock
/// refuses the whole batch (`insufficient_stock`), and the caller's transaction rolls back.
/// The answer follows the order of `b.lines`.
pub fn book_batch(conn: &mut DbConn, ctx: &Ctx, b: &Batch<'_>) -> CoreResult<Vec<Booked>> {
    let mut seen = std::collections::HashSet::new();
    if b.lines.iter().any(|l| !seen.insert(l.product_id)) {
        return Err(CoreError::Internal("a batch names a product twice".into()));
    }
    let mut out = Vec::with_capacity(b.lines.len());
    for chunk in crate::sql::chunks(b.lines) {
        out.extend(book_chunk(conn, ctx, b, chunk)?);
    }
    Ok(out)
}

fn book_chunk(
    conn: &mut DbConn,
    ctx: &Ctx,
    b: &Batch<'_>,
    lines: &[BatchLine],
) -> CoreResult<Vec<Booked>> {
    use crate::sql::{batch, case, keys, Vals};
    let t = now();
    let n = lines.len();
    let webhooks_on = outbox::any_active(conn)?;
    // One statement shape for every kind: the floor is `reserved − release` for movements
    // that may not eat other orders' reservations, 0 for receipts, corrections and counts
    // (which record what is physically there, and may leave `available` below zero).
    let respects: i64 = match b.kind {
        AdjustmentKind::Sale
        | AdjustmentKind::Remove
        | AdjustmentKind::Loss
        | AdjustmentKind::TransferOut
        | AdjustmentKind::Shipment => 1,
        AdjustmentKind::Receive
        | AdjustmentKind::Correction
        | AdjustmentKind::Audit
        | AdjustmentKind::TransferIn
        | AdjustmentKind::OrderReceipt
        | AdjustmentKind::Return => 0,
    };
    // Only stock coming in can need a new level row: taking from a location that never held
    // the product finds no row below and is refused like any shortfall.
    let incoming: Vec<i64> = lines
        .iter()
        .filter(|l| l.delta > 0)
        .map(|l| l.product_id)
        .collect();
    for chunk in crate::sql::chunks(&incoming) {
        let mut vals = Vals::default();
        vals.int(b.location_id).time(t);
        for id in chunk {
            vals.int(*id);
        }
        batch(
            "book.new_levels",
            chunk.len(),
            |n| {
                format!(
                    "INSERT INTO stock_levels (product_id, location_id, quantity, updated_at) \
                     VALUES {} ON CONFLICT (product_id, location_id) DO NOTHING",
                    crate::sql::rows(n, 3, 1, |f| format!("${f}, $1, 0, $2"))
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    // Levels: $1 time, $2 location, $3 respects, then (product, delta, release) a line.
    let mut vals = Vals::default();
    vals.time(t).int(b.location_id).int(respects);
    for l in lines {
        vals.int(l.product_id).int(l.delta).int(l.release);
    }
    let (levels, products) = if matches!(conn, DbConn::Pg(_)) {
        // One round trip for both rows on PostgreSQL, where every statement between the
        // level's lock and the commit is time other sellers of the product wait. The
        // products' update asks for the levels' count first, so all the levels are locked
        // before any product, as on every other path (no lock-order deadlock), and it
        // changes nothing when a level refused.
        let both: Vec<BothAfter> = batch(
            "book.levels_products",
            n,
            |n| {
                format!(
                    "WITH l AS ({}), p AS ({}) SELECT p.*, l.quantity AS level_quantity, \
                     l.reserved AS level_reserved FROM l JOIN p ON p.id = l.product_id",
                    levels_update(n),
                    products_update(n, 4, &format!("AND (SELECT COUNT(*) FROM l) = {n}"))
                )
            },
            vals,
        )?
        .load(conn)?;
        if both.len() != n {
            return Err(CoreError::insufficient_stock());
        }
        both.into_iter().map(BothAfter::split).unzip()
    } else {
        let levels: Vec<LevelAfter> = batch("book.levels", n, levels_update, vals)?.load(conn)?;
        if levels.len() != n {
            return Err(CoreError::insufficient_stock());
        }
        // Products: $1 time, then (product, delta, release) a line; the product's own total
        // of reservations drops with its level's.
        let mut vals = Vals::default();
        vals.time(t);
        for l in lines {
            vals.int(l.product_id).int(l.delta).int(l.release);
        }
        let products: Vec<ProductAfter> =
            batch("book.products", n, |n| products_update(n, 2, ""), vals)?.load(conn)?;
        if products.len() != n {
            return Err(CoreError::NotFound);
        }
        (levels, products)
    };
    let preferred = preferred_costs(conn, b.kind, lines, &products)?;
    let mut changes = Vec::with_capacity(n);
    let mut rows = Vec::with_capacity(n);
    let mut averages = Vec::with_capacity(n);
    let mut moved = Vec::new();
    for l in lines {
        let (Some(level), Some(product)) = (
            levels.iter().find(|x| x.product_id == l.product_id),
            products.iter().find(|x| x.id == l.product_id),
        ) else {
            return Err(CoreError::insufficient_stock());
        };
        // Only a correction or a count can leave a level below its reservation, and a
        // receipt or a cancelled order can lift it back: the oversold alert is looked at
        // only then.
        let was_short = level.quantity - l.delta < level.reserved + l.release;
        let is_short = level.quantity < level.reserved;
        if was_short != is_short {
            crate::services::alerts::oversold_changed(conn, ctx, l.product_id)?;
        }
        crate::metrics::booked(b.kind);
        // The product row is now locked (PostgreSQL) or the database is (SQLite): the
        // average read above cannot change before the one written below.
        let (unit_cost, average_cost) = costing(
            b.kind,
            l,
            product,
            preferred.get(&l.product_id).copied().flatten(),
        )?;
        if average_cost != product.average_cost {
            moved.push((l.product_id, average_cost));
        }
        changes.push(stats::QuantityChange {
            product_id: l.product_id,
            category_id: product.category_id,
            price: product.price_cents,
            reorder_level: product.reorder_level,
            before: product.quantity - l.delta,
            after: product.quantity,
            deleted: product.deleted != 0,
        });
        rows.push((l, level.quantity, product.quantity, unit_cost));
        averages.push(average_cost);
    }
    for chunk in crate::sql::chunks(&moved) {
        let mut vals = Vals::default();
        for (id, average) in chunk {
            vals.int(*id).null_int(*average);
        }
        batch(
            "book.averages",
            chunk.len(),
            |n| {
                format!(
                    "UPDATE products SET average_cost = {} WHERE id IN ({})",
                    case("id", n, 1, 2, 0, 1),
                    keys(n, 1, 2, 0)
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    stats::quantities_changed(conn, &changes)?;
    // Ledger rows: $1 location, $2 kind, $3 reason, $4 reference, $5 user, $6 time, then
    // (product, delta, level after, product after, unit cost, average after) a line.
    let mut vals = Vals::default();
    vals.int(b.location_id)
        .text(b.kind.as_str())
        .text(b.reason)
        .text(b.reference)
        .null_int(ctx.user_id())
        .time(t);
    for ((l, quantity_after, product_after, unit_cost), average) in rows.iter().zip(&averages) {
        vals.int(l.product_id)
            .int(l.delta)
            .int(*quantity_after)
            .int(*product_after)
            .int(*unit_cost)
            .null_int(*average);
    }
    let ids: Vec<Inserted> = batch(
        "book.ledger",
        n,
        |n| {
            format!(
                "INSERT INTO stock_adjustments (product_id, location_id, kind, delta, \
                 quantity_after, product_quantity_after, reason, reference, user_id, \
                 created_at, unit_cost, average_cost_after) VALUES {} RETURNING id, product_id",
                crate::sql::rows(n, 7, 6, |f| format!(
                    "${f}, $1, $2, ${}, ${}, ${}, $3, $4, $5, $6, ${}, ${}",
                    f + 1,
                    f + 2,
                    f + 3,
                    f + 4,
                    f + 5
                ))
            )
        },
        vals,
    )?
    .load(conn)?;
    let booked: Vec<Adjustment> = rows
        .iter()
        .zip(&averages)
        .map(|((l, quantity_after, product_after, unit_cost), average)| {
            let id = ids
                .iter()
                .find(|x| x.product_id == l.product_id)
                .map(|x| x.id)
                .ok_or_else(|| CoreError::Internal("a ledger row went missing".into()))?;
            Ok(Adjustment {
                id,
                product_id: l.product_id,
                location_id: b.location_id,
                kind: b.kind.as_str().to_owned(),
                delta: l.delta,
                quantity_after: *quantity_after,
                product_quantity_after: *product_after,
                reason: b.reason.to_owned(),
                reference: b.reference.to_owned(),
                user_id: ctx.user_id(),
                created_at: t,
                unit_cost: *unit_cost,
                average_cost_after: *average,
            })
        })
        .collect::<CoreResult<_>>()?;
    audit::record_same(
        conn,
        ctx,
        "create",
        "stock_adjustment",
        booked
            .iter()
            .map(|row| {
                let (q, pq) = (row.quantity_after, row.product_quantity_after);
                (
                    row.id.to_string(),
                    format!("{} {:+} of product {}", row.kind, row.delta, row.product_id),
                    serde_json::json!({
                        "quantity": [q - row.delta, q],
                        "product_quantity": [pq - row.delta, pq],
                    }),
                )
            })
            .collect(),
    )?;
    // Each ledger row is a `stock.changed` event, in order per product.
    let events = booked
        .iter()
        .map(|row| {
            Ok(outbox::Event {
                event: WebhookEvent::StockChanged,
                object_key: format!("product:{}", row.product_id),
                data: serde_json::to_value(row).map_err(|e| CoreError::Internal(e.to_string()))?,
            })
        })
        .collect::<CoreResult<Vec<_>>>()?;
    outbox::emit_if(conn, webhooks_on, &events)?;
    let mut by_product: std::collections::HashMap<i64, Adjustment> =
        booked.into_iter().map(|r| (r.product_id, r)).collect();
    lines
        .iter()
        .zip(averages)
        .map(|(l, average_cost)| {
            let product = products.iter().find(|x| x.id == l.product_id);
            match (by_product.remove(&l.product_id), product) {
                (Some(row), Some(p)) => Ok(Booked {
                    row,
                    reorder_level: p.reorder_level,
                    average_cost,
                }),
                _ => Err(CoreError::Internal("a booked row went missing".into())),
            }
        })
        .collect()
}

/// Where a line's unit cost comes from (§10): the cost a receipt names, the product's
/// average, or (a plain receipt that names none, or a product that never had stock come in)
/// its preferred supplier link, else its average or price. [`preferred_costs`] reads the links
/// only for the lines that need them, and [`costing`] uses the same answer.
enum CostSource {
    Given(i64),
    Average(i64),
    Preferred,
}

fn cost_source(kind: AdjustmentKind, l: &BatchLine, average: Option<i64>) -> CostSource {
    let receipt = matches!(kind, AdjustmentKind::Receive | AdjustmentKind::OrderReceipt);
    match (l.unit_cost, average) {
        (Some(given), _) if receipt => CostSource::Given(given),
        (_, Some(avg)) if kind != AdjustmentKind::Receive => CostSource::Average(avg),
        _ => CostSource::Preferred,
    }
}

/// The preferred supplier link's unit cost of each line that needs one, in one query for
/// the chunk: a product with no preferred link, or one without a cost, maps to `None`.
fn preferred_costs(
    conn: &mut DbConn,
    kind: AdjustmentKind,
    lines: &[BatchLine],
    products: &[ProductAfter],
) -> CoreResult<std::collections::HashMap<i64, Option<i64>>> {
    let wanted: Vec<i64> = lines
        .iter()
        .filter(|l| {
            let average = products
                .iter()
                .find(|p| p.id == l.product_id)
                .and_then(|p| p.average_cost);
            matches!(cost_source(kind, l, average), CostSource::Preferred)
        })
        .map(|l| l.product_id)
        .collect();
    let mut out = std::collections::HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    // Lowest supplier id first, so the first row seen of a product is the one that counts.
    let links: Vec<(i64, Option<i64>)> = product_suppliers::table
        .filter(product_suppliers::product_id.eq_any(&wanted))
        .filter(product_suppliers::is_preferred.eq(true))
        .order((
            product_suppliers::product_id,
            product_suppliers::supplier_id,
        ))
        .select((
            product_suppliers::product_id,
            product_suppliers::unit_cost_cents,
        ))
        .load(conn)?;
    for (product_id, cents) in links {
        out.entry(product_id)
            .or_insert_with(|| cents.map(|c| Cost::from_cents(c).0));
    }
    Ok(out)
}

/// Costs one booking by §10 and works out the product's perpetual average after it (the
/// caller writes it, for a whole chunk at once): a receipt (`receive`, order receipt) moves
/// the average to the weighted one, rounded half-even; every other row
/// is costed at the average and leaves it alone. A product with no average yet (nothing ever
/// came in) is costed at its preferred supplier's cost (`preferred`, read for the lines
/// [`cost_source`] picks), else its price, and its first incoming
/// units set the average. Refuses (400) a cost whose value reports could not sum exactly
/// ([`stats::cost_value_fits`]). Answers the row's unit cost and the average after it.
fn costing(
    kind: AdjustmentKind,
    l: &BatchLine,
    product: &ProductAfter,
    preferred: Option<i64>,
) -> CoreResult<(i64, Option<i64>)> {
    let receipt = matches!(kind, AdjustmentKind::Receive | AdjustmentKind::OrderReceipt);
    let average = product.average_cost;
    let unit_cost = match cost_source(kind, l, average) {
        CostSource::Given(given) => given,
        CostSource::Average(avg) => avg,
        CostSource::Preferred => match preferred {
            Some(link) => link,
            None => average.unwrap_or_else(|| Cost::from_cents(product.price_cents).0),
        },
    };
    let new_average = Cost::next_average(receipt, l.delta, product.quantity, unit_cost, average);
    if !stats::cost_value_fits(l.delta, unit_cost)
        || !stats::cost_value_fits(product.quantity, new_average.unwrap_or(0))
    {
        return Err(CoreError::out_of_range());
    }
    Ok((unit_cost, new_average))
}
