//! No hot rows on PostgreSQL (the kept aggregates' slots): a booking takes the lock of its
//! category's aggregate row until it commits, so with one row a category every sale in a busy
//! category waited for the one before it, on every instance. Each category now has 16 rows and
//! a product adds to the one of its id. Shown with locks, not timings: a transaction holds one
//! slot's row, a sale of a product in another slot of the same category goes through at once,
//! and a sale in the held slot waits for it.

use std::time::Duration;

use conformance::fixtures::{category, product};
use conformance::{json, Auth, Backend, Client, TestApp};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

const SLOTS: i64 = inventory_core::services::stats::PG_SLOTS;

async fn sell(c: &Client, product: i64) -> u16 {
    c.post(
        "/api/stock-adjustments",
        json!({"product_id": product, "kind": "sale", "quantity": 1, "reason": "hot row"}),
    )
    .await
    .status
    .as_u16()
}

async fn sellers_of_one_category_wait_only_for_their_own_slot(app: TestApp) {
    let root = std::sync::Arc::new(app.root().await);
    let cat = category(&root, "Busy category").await;
    let mut ids = vec![];
    // Enough products that two share a slot.
    for i in 0..=SLOTS {
        let p = product(
            &root,
            json!({"sku": format!("HOT-{i}"), "name": format!("Hot {i}"), "price": "3.00",
                   "category_id": cat, "quantity": 100}),
        )
        .await;
        ids.push(p["id"].as_i64().unwrap());
    }
    let held = ids[0];
    let other = ids[1];
    let twin = *ids[1..]
        .iter()
        .find(|p| *p % SLOTS == held % SLOTS)
        .expect("17 products: one shares the first one's slot");

    // Another transaction holds the row of `held`'s slot, as a booking in flight does.
    let url = app.settings.database_url.clone();
    let slot = held % SLOTS;
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut c = PgConnection::establish(&url).unwrap();
        c.batch_execute(&format!(
            "BEGIN; UPDATE category_stats SET quantity = quantity \
             WHERE category_key = {cat} AND slot = {slot}"
        ))
        .unwrap();
        locked_tx.send(()).unwrap();
        let _ = hold_rx.recv();
        c.batch_execute("COMMIT").unwrap();
    });
    locked_rx.await.unwrap();

    // Another slot of the same category: not held up.
    let r = tokio::time::timeout(Duration::from_secs(20), sell(&root, other)).await;
    assert_eq!(
        r.ok(),
        Some(201),
        "a sale in another slot of the category went through while one slot was held"
    );

    // The held slot: the sale waits for the lock, and completes once it is released.
    let c2 = root.clone();
    let waiting = tokio::spawn(async move { sell(&c2, twin).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !waiting.is_finished(),
        "a sale in the held slot waits for the transaction holding it"
    );
    hold_tx.send(()).unwrap();
    assert_eq!(waiting.await.unwrap(), 201);
    holder.join().unwrap();

    // The figures are whole: 17 products, 17 × 100 − 2 units (the only stock there is).
    let dash = root.get("/api/dashboard").await.expect(200).clone();
    let busy = dash["products"]["by_category"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category_id"] == json!(cat))
        .unwrap()
        .clone();
    assert_eq!(busy["count"], json!(SLOTS + 1), "{dash}");
    assert_eq!(
        dash["inventory"]["total_quantity"],
        json!((SLOTS + 1) * 100 - 2),
        "{dash}"
    );
    let listed = root
        .get(&format!("/api/products?category={cat}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(listed["count"], json!(SLOTS + 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sellers_of_one_category_wait_only_for_their_own_slot_jwt_postgres() {
    conformance::run(
        Auth::Jwt,
        Backend::Postgres,
        conformance::default_settings,
        sellers_of_one_category_wait_only_for_their_own_slot,
    )
    .await;
}
