//! What the core counts for operators, through the `metrics` facade (a no-op until the web
//! layer installs a recorder): ledger bookings, counted only once their transaction commits,
//! so a refused or rolled-back change never shows as stock movement.

use std::cell::RefCell;

use crate::types::AdjustmentKind;

/// Committed ledger rows, labelled by `kind`.
pub const LEDGER_BOOKINGS: &str = "inventory_ledger_bookings_total";

thread_local! {
    /// Bookings of the transaction running on this thread (a transaction never leaves the
    /// thread that opened it).
    static PENDING: RefCell<Vec<AdjustmentKind>> = const { RefCell::new(Vec::new()) };
}

/// A booking made inside the current transaction.
pub(crate) fn booked(kind: AdjustmentKind) {
    PENDING.with(|p| p.borrow_mut().push(kind));
}

/// A transaction begins: nothing of an earlier one may be left.
pub(crate) fn begin() {
    PENDING.with(|p| p.borrow_mut().clear());
}

/// The transaction ended; its bookings count only if it committed.
pub(crate) fn end(committed: bool) {
    let kinds = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
    if committed {
        for k in kinds {
            metrics::counter!(LEDGER_BOOKINGS, "kind" => k.as_str()).increment(1);
        }
    }
}
