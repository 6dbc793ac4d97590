//! Reliability scenarios (issue: faults and hostile input): each defect a probe found, as a
//! test that failed before its fix, on both servers and both databases; and the database
//! outage, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod csv_formulas;
mod hostile_input;
mod minor;
mod money_limits;
mod outage;
