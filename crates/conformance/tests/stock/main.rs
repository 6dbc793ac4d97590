//! Conformance scenarios for API.md §4 (stock): locations, the adjustment ledger, stock and
//! inventory levels, product history, transfers, barcodes, bad input and concurrency.
//!
//! Every scenario runs on both servers (cookie, JWT) and both databases (SQLite, PostgreSQL),
//! e.g. `transfers::approving_a_transfer_moves_the_stock::jwt_postgres`. The concurrency
//! scenarios print their figures: run them with `-- concurrency --nocapture` to see them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

mod adjustments;
mod bad_input;
mod barcodes;
mod concurrency;
mod history;
mod hot_rows;
mod idempotency;
mod levels;
mod locations;
mod transfers;
