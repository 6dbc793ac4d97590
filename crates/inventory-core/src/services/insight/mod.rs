//! Reorder suggestions and reports, computed by SQL aggregates.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde::{Deserialize, Serialize};

use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, Backend};
use crate::error::{CoreError, CoreResult};
use crate::schema::{product_suppliers, suppliers};
use crate::services::orders::{self, LineInput, Order};
use crate::services::stats::split_sum_cost;
use crate::types::{ser_cost_wide, ser_money_opt};

mod valuation;
use valuation::ValueParts;
pub use valuation::{valuation, Amount, Basis, Valuation, ValuationRow};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestedSupplier {
    pub supplier_id: i64,
    pub name: String,
    #[serde(serialize_with = "ser_money_opt")]
    #[schema(value_type = Option<String>)]
    pub unit_cost: Option<i64>,
    pub lead_time_days: Option<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub product_id: i64,
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    /// `on_hand` less what confirmed sales orders reserved: what the reorder rule counts.
    pub available: i64,
    pub on_order: i64,
    pub reorder_level: i64,
    /// Units sold or shipped a day over the last 30 days (÷ 30), to two decimals.
    pub avg_daily_sales: f64,
    pub suggested_quantity: i64,
    pub supplier: Option<SuggestedSupplier>,
}

/// (product id, supplier id, supplier name, unit cost, lead time) of a preferred link.
type PreferredRow = (i64, i64, String, Option<i64>, Option<i32>);

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
    #[diesel(sql_type = BigInt)]
    reserved: i64,
    #[diesel(sql_type = BigInt)]
    reorder_level: i64,
    #[diesel(sql_type = BigInt)]
    reorder_quantity: i64,
    #[diesel(sql_type = BigInt)]
    on_order: i64,
    #[diesel(sql_type = BigInt)]
    sold_30d: i64,
}

const CANDIDATES: &str = "SELECT * FROM (SELECT p.id, p.sku, p.name, p.quantity, p.reorder_level, p.reorder_quantity, \
    p.reserved, \
    CAST(COALESCE((SELECT SUM(l.quantity - l.received_quantity) FROM purchase_order_lines l \
        JOIN purchase_orders o ON o.id = l.order_id \
        WHERE l.product_id = p.id AND o.status IN ('submitted', 'approved', 'partially_received')), 0) AS BIGINT) AS on_order, \
    CAST(COALESCE((SELECT SUM(-a.delta) FROM stock_adjustments a \
        WHERE a.product_id = p.id AND a.kind IN ('sale', 'shipment') AND a.created_at >= $1), 0) AS BIGINT) AS sold_30d \
    FROM products p WHERE p.deleted_at IS NULL) x \
    WHERE x.quantity - x.reserved + x.on_order <= x.reorder_level ORDER BY x.id";

/// `suggested = max(reorder_quantity, level − available − on_order + ⌈avg_daily_sales × lead_time⌉)`
/// with `avg_daily_sales = sold_30d / 30` (sales and shipments), computed in integers so the
/// ceiling is exact; `available` is on hand less what sales orders reserved.
pub fn suggested_quantity(
    reorder_quantity: i64,
    level: i64,
    available: i64,
    on_order: i64,
    sold_30d: i64,
    lead_time_days: i64,
) -> i64 {
    let demand = (sold_30d.saturating_mul(lead_time_days) + 29).div_euclid(30);
    let gap = level - available - on_order + demand;
    reorder_quantity.max(gap)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn suggestions(core: &Core, ctx: &Ctx) -> CoreResult<Vec<Suggestion>> {
    ctx.read_operations()?;
    let since = now() - Duration::days(30);
    core.db.read(|c| {
        let rows: Vec<Candidate> = crate::sql::query(CANDIDATES)
            .bind::<Timestamp, _>(since)
            .load(c)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let preferred: Vec<PreferredRow> = if ids.is_empty() {
            vec![]
        } else {
            product_suppliers::table
                .inner_join(suppliers::table)
                .filter(product_suppliers::product_id.eq_any(&ids))
                .filter(product_suppliers::is_preferred.eq(true))
                .select((
                    product_suppliers::product_id,
                    suppliers::id,
                    suppliers::name,
                    product_suppliers::unit_cost_cents,
                    product_suppliers::lead_time_days,
                ))
                .load(c)?
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let supplier = preferred
                    .iter()
                    .find(|p| p.0 == r.id)
                    .map(|p| SuggestedSupplier {
                        supplier_id: p.1,
                        name: p.2.clone(),
                        unit_cost: p.3,
                        lead_time_days: p.4,
                    });
                let lead = supplier
                    .as_ref()
                    .and_then(|s| s.lead_time_days)
                    .unwrap_or(0) as i64;
                Suggestion {
                    product_id: r.id,
                    sku: r.sku,
                    name: r.name,
                    on_hand: r.quantity,
                    available: r.quantity - r.reserved,
                    on_order: r.on_order,
                    reorder_level: r.reorder_level,
                    avg_daily_sales: (r.sold_30d as f64 / 30.0 * 100.0).round() / 100.0,
                    suggested_quantity: suggested_quantity(
                        r.reorder_quantity,
                        r.reorder_level,
                        r.quantity - r.reserved,
                        r.on_order,
                        r.sold_30d,
                        lead,
                    ),
                    supplier,
                }
            })
            .collect())
    })
}

/// Drafts one purchase order per preferred supplier from the current suggestions, all in one
/// transaction. Products without a preferred supplier are left out.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn draft_orders(core: &Core, ctx: &Ctx) -> CoreResult<Vec<Order>> {
    ctx.basic_stock()?;
    let list = suggestions(core, ctx)?;
    let mut by_supplier: BTreeMap<i64, Vec<LineInput>> = BTreeMap::new();
    for s in list {
        if let Some(sup) = s.supplier {
            if s.suggested_quantity > 0 {
                by_supplier
                    .entry(sup.supplier_id)
                    .or_default()
                    .push(LineInput {
                        product_id: s.product_id,
                        quantity: s.suggested_quantity,
                        unit_price: Some(serde_json::Value::String(crate::types::Money::format(
                            sup.unit_cost.unwrap_or(0),
                        ))),
                    });
            }
        }
    }
    core.db.write(|c| {
        by_supplier
            .iter()
            .map(|(supplier_id, lines)| {
                orders::draft_on(
                    c,
                    ctx,
                    *supplier_id,
                    None,
                    None,
                    "Drafted from reorder suggestions",
                    lines,
                )
            })
            .collect()
    })
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    pub since: Option<String>,
    pub until: Option<String>,
    pub granularity: Option<String>,
    pub product: Option<i64>,
    pub location: Option<i64>,
}

#[derive(Debug, Default, Clone, Serialize, utoipa::ToSchema)]
pub struct MovementRow {
    pub period: String,
    pub received: i64,
    pub sold: i64,
    pub removed: i64,
    pub adjusted: i64,
    pub transferred: i64,
    pub net: i64,
    /// Σ units sold or shipped × their `unit_cost`, less what restocked returns gave back.
    #[serde(serialize_with = "ser_cost_wide")]
    #[schema(value_type = String)]
    pub cost_of_goods_sold: i128,
    /// Σ units received (receipts and purchase-order receipts) × their `unit_cost`.
    #[serde(serialize_with = "ser_cost_wide")]
    #[schema(value_type = String)]
    pub received_value: i128,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Movements {
    pub rows: Vec<MovementRow>,
}

#[derive(QueryableByName)]
struct DayKind {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(embed)]
    parts: ValueParts,
}

fn parse_day(field: &str, s: &str) -> CoreResult<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s).map(|t| t.naive_utc().date()))
        .map_err(|_| CoreError::validation(field, "Enter a date as YYYY-MM-DD."))
}

fn period_of(day: NaiveDate, granularity: &str) -> String {
    match granularity {
        "week" => {
            let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            monday.format("%Y-%m-%d").to_string()
        }
        "month" => day.format("%Y-%m").to_string(),
        _ => day.format("%Y-%m-%d").to_string(),
    }
}

/// Ledger movements per day, week (labelled by its Monday) or month, from `since` to `until`
/// inclusive (default: the last 30 days). Every period in the range has a row.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn movements(core: &Core, ctx: &Ctx, q: &MovementQuery) -> CoreResult<Movements> {
    ctx.read_operations()?;
    let granularity = q.granularity.as_deref().unwrap_or("day");
    if !["day", "week", "month"].contains(&granularity) {
        return Err(CoreError::validation(
            "granularity",
            format!("\"{granularity}\" is not a valid choice (day, week, month)."),
        ));
    }
    let today = now().date();
    let until = q
        .until
        .as_deref()
        .map(|s| parse_day("until", s))
        .transpose()?
        .unwrap_or(today);
    let since = q
        .since
        .as_deref()
        .map(|s| parse_day("since", s))
        .transpose()?
        .unwrap_or(until - Duration::days(29));
    if since > until {
        return Err(CoreError::validation(
            "since",
            "since must not be after until.",
        ));
    }
    if (until - since).num_days() > 3660 {
        return Err(CoreError::validation(
            "since",
            "The range is limited to ten years.",
        ));
    }
    let day_expr = match core.db.backend() {
        Backend::Sqlite => "substr(created_at, 1, 10)",
        Backend::Postgres => "to_char(created_at, 'YYYY-MM-DD')",
    };
    let mut sql = format!(
        "SELECT {day_expr} AS day, kind, CAST(SUM(delta) AS BIGINT) AS total, {} \
         FROM stock_adjustments WHERE created_at >= $1 AND created_at < $2",
        split_sum_cost("delta", "unit_cost", "value")
    );
    if q.product.is_some() {
        sql.push_str(" AND product_id = $3");
    }
    if q.location.is_some() {
        sql.push_str(if q.product.is_some() {
            " AND location_id = $4"
        } else {
            " AND location_id = $3"
        });
    }
    sql.push_str(&format!(" GROUP BY {day_expr}, kind"));
    let start = since.and_time(chrono::NaiveTime::MIN);
    let end = (until + Duration::days(1)).and_time(chrono::NaiveTime::MIN);
    let rows: Vec<DayKind> = core.db.read(|c| {
        let base = diesel::sql_query(sql.clone())
            .bind::<Timestamp, _>(start)
            .bind::<Timestamp, _>(end);
        Ok(match (q.product, q.location) {
            (Some(p), Some(l)) => base.bind::<BigInt, _>(p).bind::<BigInt, _>(l).load(c)?,
            (Some(p), None) => base.bind::<BigInt, _>(p).load(c)?,
            (None, Some(l)) => base.bind::<BigInt, _>(l).load(c)?,
            (None, None) => base.load(c)?,
        })
    })?;
    let mut periods: BTreeMap<String, MovementRow> = BTreeMap::new();
    let mut d = since;
    while d <= until {
        let p = period_of(d, granularity);
        periods.entry(p.clone()).or_insert_with(|| MovementRow {
            period: p,
            ..MovementRow::default()
        });
        d += Duration::days(1);
    }
    for r in rows {
        let Ok(day) = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d") else {
            continue;
        };
        let Some(row) = periods.get_mut(&period_of(day, granularity)) else {
            continue;
        };
        let value = r.parts.value(Basis::Cost);
        match r.kind.as_str() {
            "receive" | "order_receipt" => {
                row.received += r.total;
                row.received_value += value;
            }
            // Shipments are sales; a restocked return takes back units and their cost.
            "sale" | "shipment" | "return" => {
                row.sold -= r.total;
                row.cost_of_goods_sold -= value;
            }
            "remove" | "loss" => row.removed -= r.total,
            "correction" | "audit" => row.adjusted += r.total,
            "transfer_in" | "transfer_out" => row.transferred += r.total,
            _ => {}
        }
        row.net += r.total;
    }
    Ok(Movements {
        rows: periods.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::suggested_quantity;

    #[test]
    fn reorder_formula_counts_demand_over_lead_time_rounded_up() {
        // level 20, 5 on hand, 3 on order, 45 sold in 30 days (1.5/day), 7 days lead time:
        // 20 - 5 - 3 + ceil(10.5) = 23, above the reorder quantity of 10.
        assert_eq!(suggested_quantity(10, 20, 5, 3, 45, 7), 23);
        // A large reorder quantity wins.
        assert_eq!(suggested_quantity(50, 20, 5, 3, 45, 7), 50);
        // No sales, no lead time: just fill the gap.
        assert_eq!(suggested_quantity(0, 10, 4, 0, 0, 0), 6);
    }
}
