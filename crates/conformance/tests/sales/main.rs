//! Conformance scenarios for the sales side (docs/api-reference.md §11): customers, sales
//! orders with reservations and shipments.
//!
//! Every scenario runs on both servers (cookie, JWT) and both databases (SQLite, PostgreSQL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod as_of;
mod cost;
mod customers;
mod orders;
mod races;
mod shipments;
