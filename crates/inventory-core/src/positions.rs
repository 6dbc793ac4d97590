//! Where the live products sit in id order, for the deep pages of the plain product list, and
//! the version of the live set that keeps that knowledge exact on every instance: any change
//! to which products are live bumps it in the change's own transaction.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::CoreResult;
use crate::schema::products;

/// A mark every this many live products.
pub const MARK_EVERY: i64 = 1000;

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

/// Where every 1000th live product sits in id order, for the unfiltered list's deep pages:
/// a page at offset 50,000 starts from the nearest mark instead of stepping over 50,000 index
/// entries. Valid only for the live-set version it was built at (`stats::live_set_version`),
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
