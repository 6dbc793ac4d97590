//! Conformance scenarios for API.md §5 (purchase orders) and §6 (insight: low-stock alerts,
//! reorder suggestions, reports, product import/export) plus the audit log's CSV (§7).
//!
//! Every scenario runs on both servers (cookie, JWT) and both databases (SQLite, PostgreSQL),
//! e.g. `orders::receiving_more_than_ordered_is_refused_and_changes_nothing::jwt_postgres`.
//! Figures (concurrency, the worked reorder examples) are printed: run with `--nocapture`.
//! The 100,000-product import/export timing is `#[ignore]`d: `perf -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod support;

mod alerts;
mod bad_input;
mod concurrency;
mod import_export;
mod orders;
mod perf;
mod receiving;
mod reports;
mod round_trip;
mod suggestions;
