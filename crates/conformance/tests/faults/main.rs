//! Faults, with the real server binary as a separate process: `kill -9` under write load
//! with restarts, SIGTERM with requests in flight, clients that send slowly, PostgreSQL going
//! away under load, and a sweep of hostile input over every operation of the OpenAPI
//! document. Each checks what a user would notice: no acknowledged write lost, the ledger,
//! stock levels and aggregates equal, fast and honest refusals, and never a 5xx for input.
//! Figures go to stderr (`--nocapture`) and into docs/reliability.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod process;

mod crash;
mod logs;
mod outage_load;
mod platform;
mod slow;
mod sweep;
mod webhooks;
