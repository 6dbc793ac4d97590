//! Where the live products sit in id order, for the deep pages of the plain product list, and
//! the version of the live set that keeps that knowledge exact on every instance: any change
//! to which products are live bumps it in the change's own transaction.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::CoreResult;
use crate::schema::products;
use crate::slots;
use diesel::sql_types::{BigInt, Text};

/// A mark every this many live products.
pub const MARK_EVERY: i64 = 1000;

/// The row of the live-set version that slot `slot` (a [`slots::slot`]) adds to. On
/// PostgreSQL a single row was a hot row, every product create queueing on it until the
/// creator committed (2 ms a bump under 32 creators in `pg_stat_statements`); the version is
/// now the sum of one row a slot, which every committed change raises by one, so it moves
/// exactly when the live set did. Slot 0 keeps the single row's old name.
fn slot_name(slot: i64) -> String {
    match slot {
        0 => "products_live".to_owned(),
        n => format!("products_live.{n}"),
    }
}

/// Marks the set of live products as changed (product `product_id` created or deleted, or an
/// import that made it), so cached list positions are rebuilt; on the change's own
/// transaction, in the product's slot.
pub fn bump_live_set(conn: &mut DbConn, product_id: i64) -> CoreResult<()> {
    let name = slot_name(slots::slot(conn, product_id));
    crate::sql::query(
        "INSERT INTO list_versions (name, version) VALUES ($1, 1) \
         ON CONFLICT (name) DO UPDATE SET version = list_versions.version + 1",
    )
    .bind::<Text, _>(name)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

/// The current version of the live product set: the sum of its slots' rows.
pub fn live_set_version(conn: &mut DbConn) -> CoreResult<i64> {
    static SQL: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let names: Vec<String> = (0..slots::PG_SLOTS)
            .map(|s| format!("'{}'", slot_name(s)))
            .collect();
        // Made once for the life of the process, like the batch statements' texts.
        Box::leak(
            format!(
                "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM list_versions \
                 WHERE name IN ({})",
                names.join(", ")
            )
            .into_boxed_str(),
        )
    });
    let row: Version = crate::sql::query(sql).get_result(conn)?;
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
