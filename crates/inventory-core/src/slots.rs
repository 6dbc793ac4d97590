//! The slots that spread a shared row over several on PostgreSQL, so concurrent writers of
//! one category, supplier or the live product set do not queue on one row's lock. Below the
//! services: the kept aggregates (`services::stats`) and the live-set version
//! (`positions`) both use it.

use crate::db::DbConn;

/// How many rows a category's and a supplier's aggregates are spread over on PostgreSQL.
/// Sixteen makes 64 sellers of one category four to a row, while the dashboard still reads
/// at most sixteen small rows a category. A slot's row is made by the first change that adds
/// to it (every write is an upsert), so a category of three products has at most three.
pub const PG_SLOTS: i64 = 16;

/// The slot a product's contributions go to on this connection's database: the one rule for
/// it (a slot number already taken `% PG_SLOTS` maps to itself on PostgreSQL).
pub fn slot(conn: &DbConn, product_id: i64) -> i64 {
    match conn {
        DbConn::Pg(_) => product_id.rem_euclid(PG_SLOTS),
        DbConn::Sqlite(_) => 0,
    }
}
