//! The shared per-address budget of the authentication endpoints: a burst of the limit, then
//! one unit every minute / limit, counted in the database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use inventory_core::services::auth_budget::{purge_idle, take};

mod support;

#[test]
fn a_burst_of_the_limit_then_one_per_interval() {
    let (core, _ctx, _dir) = support::core("auth-budget");
    let t0 = 1_800_000_000_000_i64;
    for i in 0..3 {
        assert_eq!(
            take(&core.db, "10.0.0.1", 3, t0).unwrap(),
            Ok(()),
            "unit {i}"
        );
    }
    // The fourth waits for the first interval (20 s) to pass; another address is untouched.
    assert_eq!(take(&core.db, "10.0.0.1", 3, t0).unwrap(), Err(20));
    assert_eq!(take(&core.db, "10.0.0.1", 3, t0 + 5_000).unwrap(), Err(15));
    assert_eq!(take(&core.db, "10.0.0.2", 3, t0).unwrap(), Ok(()));
    assert_eq!(take(&core.db, "10.0.0.1", 3, t0 + 20_000).unwrap(), Ok(()));
    assert_eq!(take(&core.db, "10.0.0.1", 3, t0 + 20_000).unwrap(), Err(20));
    // A limit of 0 is no limit.
    assert_eq!(take(&core.db, "10.0.0.1", 0, t0).unwrap(), Ok(()));
    // Once both budgets are whole again their rows go, and a full burst passes.
    assert_eq!(purge_idle(&core.db, t0 + 20_000 + 120_000).unwrap(), 2);
    for _ in 0..3 {
        assert_eq!(take(&core.db, "10.0.0.1", 3, t0 + 200_000).unwrap(), Ok(()));
    }
}
