//! The dashboard: every figure is one SQL aggregate, so it costs the same at 100 or 1,000,000
//! products in memory, and money stays exact (integer cents summed in the database).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;

use crate::auth::Ctx;
use crate::context::Core;
use crate::error::CoreResult;
use crate::services::stats::join;
use crate::types::ser_money_wide;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub products: ProductFigures,
    pub suppliers: SupplierFigures,
    pub inventory: InventoryFigures,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductFigures {
    pub total: i64,
    pub low_stock: i64,
    pub out_of_stock: i64,
    pub by_category: Vec<CategoryCount>,
    pub by_supplier: Vec<SupplierCount>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SupplierFigures {
    pub value: Vec<SupplierValue>,
    pub most_products: Vec<SupplierCount>,
    pub least_products: Vec<SupplierCount>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InventoryFigures {
    pub total_quantity: i64,
    #[serde(serialize_with = "ser_money_wide")]
    #[schema(value_type = String)]
    pub total_value: i128,
}

#[derive(Debug, Clone, Serialize, QueryableByName, utoipa::ToSchema)]
pub struct CategoryCount {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub category_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub category: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplierCount {
    pub supplier_id: i64,
    pub supplier: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplierValue {
    pub supplier_id: i64,
    pub supplier: String,
    #[serde(serialize_with = "ser_money_wide")]
    #[schema(value_type = String)]
    pub supplied_value: i128,
    #[serde(serialize_with = "ser_money_wide")]
    #[schema(value_type = String)]
    pub stock_value: i128,
}

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    low_stock: i64,
    #[diesel(sql_type = BigInt)]
    out_of_stock: i64,
    #[diesel(sql_type = BigInt)]
    total_quantity: i64,
    #[diesel(sql_type = BigInt)]
    value_hi: i64,
    #[diesel(sql_type = BigInt)]
    value_lo: i64,
}

#[derive(QueryableByName)]
struct SupplierRow {
    #[diesel(sql_type = BigInt)]
    supplier_id: i64,
    #[diesel(sql_type = Text)]
    supplier: String,
    #[diesel(sql_type = BigInt)]
    count: i64,
    #[diesel(sql_type = BigInt)]
    supplied_value_hi: i64,
    #[diesel(sql_type = BigInt)]
    supplied_value_lo: i64,
    #[diesel(sql_type = BigInt)]
    stock_value_hi: i64,
    #[diesel(sql_type = BigInt)]
    stock_value_lo: i64,
}

// Every figure reads the kept aggregates (`stats.rs`): a few rows (its slots) per category and
// per supplier, however many products there are.
const TOTALS: &str = "SELECT CAST(COALESCE(SUM(products), 0) AS BIGINT) AS total, \
    CAST(COALESCE(SUM(low_stock), 0) AS BIGINT) AS low_stock, \
    CAST(COALESCE(SUM(out_of_stock), 0) AS BIGINT) AS out_of_stock, \
    CAST(COALESCE(SUM(quantity), 0) AS BIGINT) AS total_quantity, \
    CAST(COALESCE(SUM(value_hi), 0) AS BIGINT) AS value_hi, \
    CAST(COALESCE(SUM(value_lo), 0) AS BIGINT) AS value_lo FROM category_stats";

const BY_CATEGORY: &str = "SELECT c.id AS category_id, c.name AS category, \
    CAST(COALESCE(s.products, 0) AS BIGINT) AS count \
    FROM categories c LEFT JOIN (SELECT category_key, SUM(products) AS products \
    FROM category_stats GROUP BY category_key) s ON s.category_key = c.id ORDER BY c.name, c.id";

const UNCATEGORISED: &str =
    "SELECT CAST(NULL AS BIGINT) AS category_id, CAST(NULL AS TEXT) AS category, \
    CAST(COALESCE(SUM(products), 0) AS BIGINT) AS count FROM category_stats WHERE category_key = 0";

const BY_SUPPLIER: &str = "SELECT s.id AS supplier_id, s.name AS supplier, \
    CAST(COALESCE(st.products, 0) AS BIGINT) AS count, \
    CAST(COALESCE(st.supplied_value_hi, 0) AS BIGINT) AS supplied_value_hi, \
    CAST(COALESCE(st.supplied_value_lo, 0) AS BIGINT) AS supplied_value_lo, \
    CAST(COALESCE(st.stock_value_hi, 0) AS BIGINT) AS stock_value_hi, \
    CAST(COALESCE(st.stock_value_lo, 0) AS BIGINT) AS stock_value_lo \
    FROM suppliers s LEFT JOIN (SELECT supplier_id, SUM(products) AS products, \
    SUM(supplied_value_hi) AS supplied_value_hi, SUM(supplied_value_lo) AS supplied_value_lo, \
    SUM(stock_value_hi) AS stock_value_hi, SUM(stock_value_lo) AS stock_value_lo \
    FROM supplier_stats GROUP BY supplier_id) st ON st.supplier_id = s.id ORDER BY s.name, s.id";

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn dashboard(core: &Core, ctx: &Ctx) -> CoreResult<Dashboard> {
    ctx.read_operations()?;
    core.db.read(|c| {
        let totals: Totals = crate::sql::query(TOTALS).get_result(c)?;
        let mut by_category: Vec<CategoryCount> = crate::sql::query(BY_CATEGORY).load(c)?;
        let uncategorised: CategoryCount = crate::sql::query(UNCATEGORISED).get_result(c)?;
        if uncategorised.count > 0 {
            by_category.push(uncategorised);
        }
        let suppliers: Vec<SupplierRow> = crate::sql::query(BY_SUPPLIER).load(c)?;
        let by_supplier: Vec<SupplierCount> = suppliers
            .iter()
            .map(|s| SupplierCount {
                supplier_id: s.supplier_id,
                supplier: s.supplier.clone(),
                count: s.count,
            })
            .collect();
        let mut most = by_supplier.clone();
        most.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.supplier.cmp(&b.supplier))
        });
        most.truncate(5);
        let mut least = by_supplier.clone();
        least.sort_by(|a, b| {
            a.count
                .cmp(&b.count)
                .then_with(|| a.supplier.cmp(&b.supplier))
        });
        least.truncate(5);
        let value = suppliers
            .into_iter()
            .map(|s| SupplierValue {
                supplier_id: s.supplier_id,
                supplier: s.supplier,
                supplied_value: join(s.supplied_value_hi, s.supplied_value_lo),
                stock_value: join(s.stock_value_hi, s.stock_value_lo),
            })
            .collect();
        Ok(Dashboard {
            products: ProductFigures {
                total: totals.total,
                low_stock: totals.low_stock,
                out_of_stock: totals.out_of_stock,
                by_category,
                by_supplier,
            },
            suppliers: SupplierFigures {
                value,
                most_products: most,
                least_products: least,
            },
            inventory: InventoryFigures {
                total_quantity: totals.total_quantity,
                total_value: join(totals.value_hi, totals.value_lo),
            },
        })
    })
}
