//! Online backup and restore: a copy taken while sales and receipts are being booked restores
//! to a database whose ledger, stock levels and aggregates all verify, and holds exactly the
//! bookings committed before it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use inventory_core::auth::Ctx;
use inventory_core::context::{Core, CoreConfig};
use inventory_core::db::{restore, Db};
use inventory_core::email::Mailer;
use inventory_core::services::ledger::{self, AdjustmentInput};
use inventory_core::services::products::{self, ProductInput};
use inventory_core::services::stats;

mod support;

fn core(dir: &std::path::Path) -> (Core, Ctx, String) {
    let url = format!("sqlite://{}", dir.join("live.db").display());
    let (core, ctx) = support::core_at(dir, &url, 4);
    (core, ctx, url)
}

fn count_adjustments(url: &str) -> i64 {
    let db = Db::connect(url, 1).unwrap();
    let page = inventory_core::paging::PageReq::new(Some(1), Some(1)).unwrap();
    let ctx = support::root_ctx(1);
    let core = Core {
        db,
        config: CoreConfig::default(),
        mailer: Arc::new(
            Mailer::new(
                None,
                "x@localhost",
                std::env::temp_dir().join("unused-outbox"),
            )
            .unwrap(),
        ),
        positions: Arc::default(),
    };
    ledger::list_adjustments(&core, &ctx, &Default::default(), page)
        .unwrap()
        .count
}

#[test]
fn a_backup_taken_under_write_load_restores_to_a_database_that_verifies() {
    let dir = std::env::temp_dir().join(format!("core-backup-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let (core, ctx, _live) = core(&dir);
    let mut ids = vec![];
    for i in 0..20 {
        let p = products::create(
            &core,
            &ctx,
            ProductInput {
                sku: Some(format!("B{i}")),
                name: Some(format!("Bolt {i}")),
                price: Some(serde_json::json!("1.25")),
                quantity: Some(1000),
                ..ProductInput::default()
            },
        )
        .unwrap();
        ids.push(p.product.id);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let booked = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (core, ctx, stop, booked, ids) = (
                core.clone(),
                ctx.clone(),
                stop.clone(),
                booked.clone(),
                ids.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let kind = if n.is_multiple_of(3) {
                        "receive"
                    } else {
                        "sale"
                    };
                    let r = ledger::create_adjustment(
                        &core,
                        &ctx,
                        AdjustmentInput {
                            product_id: ids[(n + w) % ids.len()],
                            location_id: None,
                            kind: kind.into(),
                            quantity: 1,
                            reason: "load".into(),
                            reference: None,
                            unit_cost: None,
                        },
                    );
                    if r.is_ok() {
                        booked.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let backup = dir.join("copy.db");
    let before = booked.load(Ordering::Relaxed);
    core.db.backup(&backup).unwrap();
    let after = booked.load(Ordering::Relaxed);
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let total = booked.load(Ordering::Relaxed);
    assert!(
        total > after,
        "bookings went on during and after the backup"
    );
    // A second backup to the same file is refused rather than overwriting it.
    assert!(core.db.backup(&backup).is_err());

    // Restore into a fresh place; the copy verifies and holds what was committed before it.
    let target_url = format!("sqlite://{}", dir.join("restored.db").display());
    restore(&backup, &target_url, false).unwrap();
    let restored = Db::connect(&target_url, 1).unwrap();
    restored.read(stats::verify).unwrap();
    restored.read(stats::verify_ledger).unwrap();
    drop(restored);
    // The 20 starting receipts plus the bookings committed by the time the copy was taken.
    let in_copy = count_adjustments(&target_url) as usize - 20;
    // (A booking is counted just after its commit, so up to one a worker may be in the copy
    // and not yet counted when the backup returned.)
    assert!(
        in_copy >= before && in_copy <= after + 4,
        "the copy is one instant: {before} <= {in_copy} <= {after} + 4"
    );
    // The live database verifies too, with every booking.
    core.db.read(stats::verify).unwrap();
    core.db.read(stats::verify_ledger).unwrap();
    eprintln!(
        "backup under load: {total} bookings in all, {in_copy} in the copy (between {before} and {after})"
    );
    // A damaged file is refused and leaves the target as it was.
    let bad = dir.join("bad.db");
    std::fs::write(&bad, b"not a database at all").unwrap();
    assert!(restore(&bad, &target_url, false).is_err());
    let still = Db::connect(&target_url, 1).unwrap();
    still.read(stats::verify_ledger).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
