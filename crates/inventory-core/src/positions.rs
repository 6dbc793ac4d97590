//! Where the live products sit in id order, for the deep pages of the plain product list, and
//! the version of the live set that keeps that knowledge exact on every instance: any change
//! to which products are live bumps it in the change's own transaction.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::CoreResult;
use crate::schema::products;
use crate::services::stats;
use diesel::sql_types::{BigInt, Text};

/// A mark every this many live products.
pub const MARK_EVERY: i64 = 1000;

/// The rows the live-set version is spread over, one a [`stats::slot`]: on PostgreSQL a single
/// row was a hot row, every product create queueing on it until the creator committed (2 ms a
/// bump under 32 creators in `pg_stat_statements`). The version is their sum, which every
/// committed change raises by one, so it moves exactly when the live set did.
const SLOT_NAMES: [&str; stats::PG_SLOTS as usize] = [
    "products_live",
    "products_live.1",
    "products_live.2",
    "products_live.3",
    "products_live.4",
    "products_live.5",
    "products_live.6",
    "products_live.7",
    "products_live.8",
    "products_live.9",
    "products_live.10",
    "products_live.11",
    "products_live.12",
    "products_live.13",
    "products_live.14",
    "products_live.15",
];

/// Marks the set of live products as changed (product `product_id` created or deleted, or an
/// import that made it), so cached list positions are rebuilt; on the change's own
/// transaction, in the product's slot.
pub fn bump_live_set(conn: &mut DbConn, product_id: i64) -> CoreResult<()> {
    let slot = usize::try_from(stats::slot(conn, product_id)).unwrap_or(0);
    crate::sql::query(
        "INSERT INTO list_versions (name, version) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET version = list_versions.version + 1",
    )
    .bind::<Text, _>(SLOT_NAMES.get(slot).copied().unwrap_or(SLOT_NAMES[0]))
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

/// The current version of the live product set.
pub fn live_set_version(conn: &mut DbConn) -> CoreResult<i64> {
    let row: Version = crate::sql::query(
        "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM list_versions \
         WHERE name IN ('products_live', 'products_live.1', 'products_live.2', \
         'products_live.3', 'products_live.4', 'products_live.5', 'products_live.6', \
         'products_live.7', 'products_live.8', 'products_live.9', 'products_live.10', \
         'products_live.11', 'products_live.12', 'products_live.13', 'products_live.14', \
         'products_live.15')",
    )
    .get_result(conn)?;
    Ok(row.v)
}

/// Where every 1000th live product sits in id order, for the unfiltered list's deep pages:
/// a page at offset 50,000 starts from the nearest mark instead of stepping over 50,000 index
/// entries. Valid only for the live-set version it was built at ([`live_set_version`]),
/// which every instance reads from the database, so it is never stale.
#[derive(Default)]
pub struct PositionCache {
    marks: std::sync::Mutex<Option<(i64, Vec<i64>)>>,
}

impl PositionCache {
    /// The marks for the live set as it is now (rebuilt when its version moved).
    pub fn marks(&self, conn: &mut DbConn) -> CoreResult<Vec<i64>> {
        let version = live_set_version(conn)?;
        if let Ok(guard) = self.marks.lock() {
            if let Some((v, marks)) = guard.as_ref() {
                if *v == version {
                    return Ok(marks.clone());
                }
            }
        }
        let ids: Vec<i64> = products::table
            .filter(products::deleted_at.is_null())
            .select(products::id)
            .order(products::id)
            .load(conn)?;
        let marks: Vec<i64> = ids.iter().step_by(MARK_EVERY as usize).copied().collect();
        if let Ok(mut guard) = self.marks.lock() {
            *guard = Some((version, marks.clone()));
        }
        Ok(marks)
    }
}
