//! The average cost after each ledger row, for rows booked before the ledger kept it.
//!
//! Migration 000014 gave `stock_adjustments` the column `average_cost_after` and left the
//! rows already there at -1. Stock as of a past moment is valued from that column, so each
//! such product's ledger is replayed here once, at start-up, with the very rule a booking
//! uses ([`Cost::next_average`]). A database with nothing left to replay costs one probe of
//! a partial index that holds no entries.

use diesel::prelude::*;

use super::{Db, DbConn};
use crate::error::CoreResult;
use crate::schema::stock_adjustments as sa;
use crate::types::{AdjustmentKind, Cost};

/// Products replayed in one write transaction: small enough that a booking waiting for the
/// writer behind a start-up replay of another instance waits well under its limit.
const PRODUCTS_PER_TRANSACTION: i64 = 200;

/// The marker migration 000014 left on rows whose average is not known yet.
const UNKNOWN: i64 = -1;

impl Db {
    /// Replays every product that still has rows marked [`UNKNOWN`]. Instances starting
    /// together may replay the same product twice; both write the same values, and only to
    /// rows still marked, so a row booked meanwhile (which carries its own average) is kept.
    pub(crate) fn fill_average_costs(&self) -> CoreResult<()> {
        let mut replayed = 0usize;
        loop {
            let pending: Vec<i64> = self.read(|c| {
                Ok(sa::table
                    .filter(sa::average_cost_after.eq(UNKNOWN))
                    .select(sa::product_id)
                    .distinct()
                    .order(sa::product_id)
                    .limit(PRODUCTS_PER_TRANSACTION)
                    .load(c)?)
            })?;
            if pending.is_empty() {
                break;
            }
            replayed += pending.len();
            self.write(|c| {
                for product_id in &pending {
                    replay(c, *product_id)?;
                }
                Ok(())
            })?;
        }
        if replayed > 0 {
            tracing::info!(
                products = replayed,
                "filled in the average cost after each earlier ledger row"
            );
        }
        Ok(())
    }
}

/// Walks one product's ledger in booking order (ids follow the order in which bookings held
/// the product's row) and writes each run of rows that share an average with one statement.
fn replay(c: &mut DbConn, product_id: i64) -> CoreResult<()> {
    let rows: Vec<(i64, String, i64, i64, i64)> = sa::table
        .filter(sa::product_id.eq(product_id))
        .order(sa::id)
        .select((
            sa::id,
            sa::kind,
            sa::delta,
            sa::product_quantity_after,
            sa::unit_cost,
        ))
        .load(c)?;
    let mut average: Option<i64> = None;
    // The current run: its first and last id and its average.
    let mut run: Option<(i64, i64, Option<i64>)> = None;
    for (id, kind, delta, quantity_after, unit_cost) in rows {
        let receipt = matches!(
            AdjustmentKind::parse(&kind),
            Ok(AdjustmentKind::Receive | AdjustmentKind::OrderReceipt)
        );
        average = Cost::next_average(receipt, delta, quantity_after, unit_cost, average);
        run = match run {
            Some((first, _, a)) if a == average => Some((first, id, a)),
            Some(done) => {
                write_run(c, product_id, done)?;
                Some((id, id, average))
            }
            None => Some((id, id, average)),
        };
    }
    if let Some(done) = run {
        write_run(c, product_id, done)?;
    }
    Ok(())
}

fn write_run(
    c: &mut DbConn,
    product_id: i64,
    (first, last, average): (i64, i64, Option<i64>),
) -> CoreResult<()> {
    diesel::update(
        sa::table
            .filter(sa::product_id.eq(product_id))
            .filter(sa::id.between(first, last))
            .filter(sa::average_cost_after.eq(UNKNOWN)),
    )
    .set(sa::average_cost_after.eq(average))
    .execute(c)?;
    Ok(())
}
