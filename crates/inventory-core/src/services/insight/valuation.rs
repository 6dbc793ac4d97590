//! What stock is worth: now, or as of a past moment (API.md §10, §11).

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::{Backend, DbConn};
use serde::Serialize;

use crate::auth::Ctx;
use crate::context::Core;
use crate::error::{CoreError, CoreResult};
use crate::services::stats::{join, join_cost, split_sum, split_sum_cost};

/// What stock is valued at (§10): what it cost (the products' average cost, four places) or
/// what it sells for (price, two places, as the dashboard shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Cost,
    Price,
}

impl Basis {
    pub fn parse(s: Option<&str>) -> CoreResult<Basis> {
        match s.map(str::trim) {
            None | Some("") | Some("cost") => Ok(Basis::Cost),
            Some("price") => Ok(Basis::Price),
            Some(other) => Err(CoreError::validation(
                "basis",
                format!("\"{other}\" is not a valid choice (cost, price)."),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Cost => "cost",
            Basis::Price => "price",
        }
    }

    /// The columns summing `quantity` × a product's unit value in the basis' minor units
    /// (read as [`ValueParts`]).
    fn value_columns(self, quantity: &str) -> String {
        match self {
            Basis::Cost => split_sum_cost(quantity, "COALESCE(p.average_cost, 0)", "value"),
            Basis::Price => format!(
                "{}, CAST(0 AS BIGINT) AS value_r_hi, CAST(0 AS BIGINT) AS value_r_lo",
                split_sum(&format!("p.price_cents * {quantity}"), "value")
            ),
        }
    }
}

/// An exact amount: cents at price, ten-thousandths at cost, printed with its own places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub minor: i128,
    pub basis: Basis,
}

impl Amount {
    pub fn format(&self) -> String {
        match self.basis {
            Basis::Cost => crate::types::Cost::format_wide(self.minor),
            Basis::Price => crate::types::Money::format_wide(self.minor),
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.format())
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValuationRow {
    pub key: Option<i64>,
    pub name: String,
    pub quantity: i64,
    #[schema(value_type = String)]
    pub value: Amount,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Valuation {
    /// `cost` or `price`: what `value` multiplies the quantity by.
    pub basis: &'static str,
    /// The moment asked for with `as_of`; absent for a valuation of now.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::types::ser_ts_opt"
    )]
    pub as_of: Option<NaiveDateTime>,
    pub rows: Vec<ValuationRow>,
    pub total_quantity: i64,
    #[schema(value_type = String)]
    pub total_value: Amount,
}

#[derive(QueryableByName)]
struct VRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    key: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(embed)]
    parts: ValueParts,
}

/// The four columns of [`stats::split_sum_cost`] (or, at price, [`split_sum`]'s two and two
/// zeros) that an exact value is read back from.
#[derive(QueryableByName)]
pub(super) struct ValueParts {
    #[diesel(sql_type = BigInt)]
    value_hi: i64,
    #[diesel(sql_type = BigInt)]
    value_lo: i64,
    #[diesel(sql_type = BigInt)]
    value_r_hi: i64,
    #[diesel(sql_type = BigInt)]
    value_r_lo: i64,
}

impl ValueParts {
    /// At price the rest columns are zero and the first pair holds the cents; at cost the
    /// first pair holds the whole cents and the rest the ten-thousandths below them.
    pub(super) fn value(&self, basis: Basis) -> i128 {
        match basis {
            Basis::Cost => join_cost(
                self.value_hi,
                self.value_lo,
                self.value_r_hi,
                self.value_r_lo,
            ),
            Basis::Price => join(self.value_hi, self.value_lo),
        }
    }
}

// Values are summed in exact parts (`stats::split_sum`, `stats::split_sum_cost`): each part of
// a product's value fits 64 bits (the ledger refuses a booking that would not), a catalogue's
// sum need not.

/// Where the statements read products and stock levels from: the tables (now), or the same
/// columns as of the moment bound to `$1`, computed once per statement (a `MATERIALIZED`
/// common table: SQLite would otherwise flatten the query and run a product's index descent
/// again for every use of its columns, 0.62 s instead of 0.26 s at 120k products).
struct Sources {
    /// The `WITH` bodies of the as-of tables, `None` now.
    products_at: Option<&'static str>,
    levels_at: Option<&'static str>,
}

impl Sources {
    fn products(&self) -> &'static str {
        if self.products_at.is_some() {
            "pa"
        } else {
            "products"
        }
    }

    fn levels(&self) -> &'static str {
        if self.levels_at.is_some() {
            "la"
        } else {
            "stock_levels"
        }
    }

    /// The `WITH` clause a statement using products (and `levels`) needs.
    fn with(&self, levels: bool) -> String {
        let mut parts = vec![];
        if let Some(p) = self.products_at {
            parts.push(format!("pa AS MATERIALIZED ({p})"));
        }
        if let (true, Some(l)) = (levels, self.levels_at) {
            parts.push(format!("la AS MATERIALIZED ({l})"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("WITH {} ", parts.join(", "))
        }
    }
}

const NOW: Sources = Sources {
    products_at: None,
    levels_at: None,
};

/// Each product that existed at `$1` (created by then, not deleted by then) with the quantity
/// and average cost its last ledger row at or before `$1` left it with. A product without one
/// had nothing and drops out. Categories, suppliers and prices are today's: the ledger keeps
/// quantities and costs, not the catalogue's past.
const PRODUCTS_AT: &str = "SELECT p0.id, p0.category_id, p0.price_cents, \
     CAST(NULL AS TIMESTAMP) AS deleted_at, a.product_quantity_after AS quantity, \
     a.average_cost_after AS average_cost \
     FROM (SELECT p1.id, p1.category_id, p1.price_cents, \
       (SELECT a2.id FROM stock_adjustments a2 WHERE a2.product_id = p1.id AND a2.created_at <= $1 \
        ORDER BY a2.created_at DESC, a2.id DESC LIMIT 1) AS last_id \
       FROM products p1 WHERE p1.created_at <= $1 AND (p1.deleted_at IS NULL OR p1.deleted_at > $1)) p0 \
     JOIN stock_adjustments a ON a.id = p0.last_id";

/// Each stock level with the quantity its last ledger row at or before `$1` left there.
const LEVELS_AT: &str = "SELECT s1.product_id, s1.location_id, a.quantity_after AS quantity \
     FROM (SELECT s0.product_id, s0.location_id, \
       (SELECT a2.id FROM stock_adjustments a2 WHERE a2.product_id = s0.product_id \
        AND a2.location_id = s0.location_id AND a2.created_at <= $1 \
        ORDER BY a2.created_at DESC, a2.id DESC LIMIT 1) AS last_id \
       FROM stock_levels s0) s1 \
     JOIN stock_adjustments a ON a.id = s1.last_id";

const THEN: Sources = Sources {
    products_at: Some(PRODUCTS_AT),
    levels_at: Some(LEVELS_AT),
};

/// The same on PostgreSQL, whose planner evaluates the scalar subquery of [`PRODUCTS_AT`]
/// twice a product and hashes the whole ledger to join it (0.7 s at 100k products and 1M
/// rows); a lateral join is one backward index descent a product, in a nested loop.
const PRODUCTS_AT_PG: &str = "SELECT p1.id, p1.category_id, p1.price_cents, \
     CAST(NULL AS TIMESTAMP) AS deleted_at, a.product_quantity_after AS quantity, \
     a.average_cost_after AS average_cost \
     FROM products p1 CROSS JOIN LATERAL (SELECT a2.product_quantity_after, a2.average_cost_after \
       FROM stock_adjustments a2 WHERE a2.product_id = p1.id AND a2.created_at <= $1 \
       ORDER BY a2.created_at DESC, a2.id DESC LIMIT 1) a \
     WHERE p1.created_at <= $1 AND (p1.deleted_at IS NULL OR p1.deleted_at > $1)";

const LEVELS_AT_PG: &str = "SELECT s0.product_id, s0.location_id, a.quantity_after AS quantity \
     FROM stock_levels s0 CROSS JOIN LATERAL (SELECT a2.quantity_after \
       FROM stock_adjustments a2 WHERE a2.product_id = s0.product_id \
       AND a2.location_id = s0.location_id AND a2.created_at <= $1 \
       ORDER BY a2.created_at DESC, a2.id DESC LIMIT 1) a";

const THEN_PG: Sources = Sources {
    products_at: Some(PRODUCTS_AT_PG),
    levels_at: Some(LEVELS_AT_PG),
};

fn by_category(basis: Basis, from: &Sources) -> String {
    format!(
        "{}SELECT p.category_id AS key, c.name AS name, CAST(COALESCE(SUM(p.quantity), 0) AS BIGINT) AS quantity, {} \
         FROM {} p LEFT JOIN categories c ON c.id = p.category_id WHERE p.deleted_at IS NULL \
         GROUP BY p.category_id, c.name ORDER BY c.name",
        from.with(false),
        basis.value_columns("p.quantity"),
        from.products()
    )
}

fn by_location(basis: Basis, from: &Sources) -> String {
    format!(
        "{}SELECT l.id AS key, l.code AS name, CAST(COALESCE(SUM(s.quantity), 0) AS BIGINT) AS quantity, {} \
         FROM locations l LEFT JOIN {} s ON s.location_id = l.id \
         LEFT JOIN {} p ON p.id = s.product_id AND p.deleted_at IS NULL \
         WHERE p.id IS NOT NULL OR s.product_id IS NULL \
         GROUP BY l.id, l.code ORDER BY l.code",
        from.with(true),
        basis.value_columns("s.quantity"),
        from.levels(),
        from.products()
    )
}

fn by_supplier(basis: Basis, from: &Sources) -> String {
    let value = basis.value_columns("p.quantity");
    let products = from.products();
    format!(
        "{}SELECT s.id AS key, s.name AS name, CAST(COALESCE(SUM(p.quantity), 0) AS BIGINT) AS quantity, {value} \
         FROM suppliers s LEFT JOIN product_suppliers ps ON ps.supplier_id = s.id \
         LEFT JOIN {products} p ON p.id = ps.product_id AND p.deleted_at IS NULL \
         GROUP BY s.id, s.name \
         UNION ALL \
         SELECT CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(COALESCE(SUM(p.quantity), 0) AS BIGINT), {value} \
         FROM {products} p \
         WHERE p.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM product_suppliers ps WHERE ps.product_id = p.id)",
        from.with(false)
    )
}

fn totals(basis: Basis, from: &Sources) -> String {
    format!(
        "{}SELECT CAST(NULL AS BIGINT) AS key, CAST(NULL AS TEXT) AS name, \
         CAST(COALESCE(SUM(p.quantity), 0) AS BIGINT) AS quantity, {} \
         FROM {} p WHERE p.deleted_at IS NULL",
        from.with(false),
        basis.value_columns("p.quantity"),
        from.products()
    )
}

/// Every (moment, basis, grouping) statement, built once: `[now, then on SQLite, then on
/// PostgreSQL][cost, price]`.
static STATEMENTS: LazyLock<[[[String; 4]; 2]; 3]> = LazyLock::new(|| {
    [NOW, THEN, THEN_PG].map(|from| {
        [Basis::Cost, Basis::Price].map(|b| {
            [
                by_category(b, &from),
                by_location(b, &from),
                by_supplier(b, &from),
                totals(b, &from),
            ]
        })
    })
});

/// Runs one valuation statement, binding the moment when there is one.
fn load(c: &mut DbConn, sql: &'static str, as_of: Option<NaiveDateTime>) -> CoreResult<Vec<VRow>> {
    Ok(match as_of {
        None => crate::sql::query(sql).load(c)?,
        Some(t) => crate::sql::query(sql).bind::<Timestamp, _>(t).load(c)?,
    })
}

/// Stock value grouped by category, location or supplier, at cost or at price, now or as of
/// a past moment (from the ledger: each product's quantity and average cost after its last
/// row by then). Totals are the whole inventory's; by supplier a product linked to two
/// suppliers counts in both rows.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn valuation(
    core: &Core,
    ctx: &Ctx,
    group_by: &str,
    basis: Basis,
    as_of: Option<NaiveDateTime>,
) -> CoreResult<Valuation> {
    ctx.read_operations()?;
    let moment = match (as_of, core.db.backend()) {
        (None, _) => 0,
        (Some(_), Backend::Sqlite) => 1,
        (Some(_), Backend::Postgres) => 2,
    };
    let set: &'static [String; 4] = &STATEMENTS[moment][usize::from(basis == Basis::Price)];
    let sql: &'static str = match group_by {
        "category" => &set[0],
        "location" => &set[1],
        "supplier" => &set[2],
        other => {
            return Err(CoreError::validation(
                "group_by",
                format!("\"{other}\" is not a valid choice (category, location, supplier)."),
            ))
        }
    };
    let amount = |minor: i128| Amount { minor, basis };
    core.db.read(|c| {
        let rows = load(c, sql, as_of)?;
        // By category and by location the rows split the whole inventory, so their sum is
        // the total; by supplier a product may count twice and the total is read apart.
        let (total_quantity, total_value) = if group_by == "supplier" {
            let total = load(c, set[3].as_str(), as_of)?;
            total
                .first()
                .map_or((0, 0), |t| (t.quantity, t.parts.value(basis)))
        } else {
            rows.iter().fold((0i64, 0i128), |(q, v), r| {
                (q.saturating_add(r.quantity), v + r.parts.value(basis))
            })
        };
        let unnamed = match group_by {
            "category" => "Uncategorised",
            _ => "No supplier",
        };
        let mut rows: Vec<ValuationRow> = rows
            .into_iter()
            .filter(|r| r.key.is_some() || r.quantity != 0 || r.parts.value(basis) != 0)
            .map(|r| ValuationRow {
                value: amount(r.parts.value(basis)),
                name: r.name.unwrap_or_else(|| unnamed.to_owned()),
                key: r.key,
                quantity: r.quantity,
            })
            .collect();
        if group_by == "supplier" {
            rows.sort_by(|a, b| (a.key.is_none(), &a.name).cmp(&(b.key.is_none(), &b.name)));
        }
        Ok(Valuation {
            basis: basis.as_str(),
            as_of,
            rows,
            total_quantity,
            total_value: amount(total_value),
        })
    })
}
