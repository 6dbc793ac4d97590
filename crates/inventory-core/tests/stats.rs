//! The kept aggregates against a recomputation: they agree after real changes, and the check
//! notices when they do not.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use inventory_core::auth::{Ctx, Principal};
use inventory_core::db::{Core, CoreConfig, Db};
use inventory_core::email::Mailer;
use inventory_core::services::ledger::{self, AdjustmentInput};
use inventory_core::services::products::{self, ProductInput};
use inventory_core::services::{stats, users};
use inventory_core::types::Role;

fn core() -> (Core, Ctx, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("core-stats-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.join("t.db").display()), 2).unwrap();
    let root =
        users::create_superuser(&db, "root", "root@example.com", "Sup3r-Secret-Pass!", 4).unwrap();
    let core = Core {
        db,
        config: CoreConfig {
            bcrypt_cost: 4,
            ..CoreConfig::default()
        },
        mailer: Arc::new(Mailer::new(None, "inventory@localhost", dir.join("outbox")).unwrap()),
    };
    let ctx = Ctx {
        principal: Some(Principal {
            user_id: root.id,
            username: root.username,
            role: Role::Admin,
            is_superuser: true,
            is_staff: true,
        }),
        ..Ctx::default()
    };
    (core, ctx, dir)
}

#[test]
fn aggregates_follow_bookings_and_the_check_catches_drift() {
    let (core, ctx, dir) = core();
    let p = products::create(
        &core,
        &ctx,
        ProductInput {
            sku: Some("S1".into()),
            name: Some("Saw".into()),
            price: Some(serde_json::json!("12.50")),
            quantity: Some(8),
            reorder_level: Some(5),
            ..ProductInput::default()
        },
    )
    .unwrap();
    ledger::create_adjustment(
        &core,
        &ctx,
        AdjustmentInput {
            product_id: p.product.id,
            location_id: None,
            kind: "sale".into(),
            quantity: 4,
            reason: String::new(),
            reference: None,
        },
    )
    .unwrap();
    core.db
        .read(stats::verify)
        .expect("kept aggregates match after a sale");

    core.db
        .read(|c| {
            c.batch_execute(
                "UPDATE category_stats SET quantity = quantity + 1 WHERE category_key = 0",
            )?;
            Ok(())
        })
        .unwrap();
    assert!(
        core.db.read(stats::verify).is_err(),
        "a drift must be reported"
    );
    let _ = std::fs::remove_dir_all(dir);
}
