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

/// The ids of one page of the plain product list, as read through `base`.
async fn page_ids(c: &Client, base: &str, page: i64) -> Vec<i64> {
    c.get(&format!("{base}/api/products?page={page}&page_size=20"))
        .await
        .expect(200)["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

/// The version of the set of live products (which tells every instance when its map of list
/// positions is stale) is spread over the same sixteen slots: a creator holds only its new
/// product's slot, so creates do not queue on one row; and the version still moves with every
/// create and delete, whichever slot it lands in, so deep pages stay exact across instances.
async fn creators_share_no_row_and_deep_pages_follow_every_slot(app: TestApp) {
    let root = app.root().await;
    let second = conformance::instance::second_instance(&app).await;
    // 1,100 products: page 52 (offset 1,020) lies past the first position mark (every 1,000).
    let mut csv = String::from("sku,name,price\n");
    for i in 0..1100 {
        csv.push_str(&format!("DEEP-{i:04},Deep {i},1.00\n"));
    }
    root.raw(
        conformance::Raw::new(conformance::Method::POST, "/api/products/import")
            .body("text/csv", csv),
    )
    .await
    .expect(200);
    let mut ids: Vec<i64> = vec![];
    let mut next = Some("/api/products?page_size=100".to_owned());
    while let Some(path) = next {
        let page = root.get(&path).await.expect(200).clone();
        ids.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
        next = page["next"]
            .as_str()
            .map(|u| u[u.find("/api/").unwrap()..].to_owned());
    }
    assert_eq!(ids.len(), 1100);
    // The first instance maps the positions.
    assert_eq!(page_ids(&root, "", 52).await, ids[1020..1040].to_vec());

    // The second deletes five products in five different slots, before the page.
    let gone: Vec<i64> = ids[3..8].to_vec();
    let slots: std::collections::HashSet<i64> = gone.iter().map(|id| id % SLOTS).collect();
    assert_eq!(slots.len(), 5, "{gone:?}");
    for id in &gone {
        root.delete(&format!("{}/api/products/{id}", second.base_url))
            .await
            .expect(204);
    }
    ids.retain(|id| !gone.contains(id));
    assert_eq!(
        page_ids(&root, "", 52).await,
        ids[1020..1040].to_vec(),
        "deletions on another instance, in five slots, shift the page at once"
    );

    // A transaction holds slot 0's row of the version, as a product create in flight does.
    let last = *ids.last().unwrap();
    if (last + 1) % SLOTS == 0 {
        product(
            &root,
            json!({"sku": "DEEP-SKIP", "name": "Skip", "price": "1.00"}),
        )
        .await;
    }
    let url = app.settings.database_url.clone();
    let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut c = PgConnection::establish(&url).unwrap();
        c.batch_execute(
            "BEGIN; UPDATE list_versions SET version = version WHERE name = 'products_live'",
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        let _ = hold_rx.recv();
        c.batch_execute("COMMIT").unwrap();
    });
    locked_rx.await.unwrap();
    let created = tokio::time::timeout(
        Duration::from_secs(20),
        product(
            &root,
            json!({"sku": "DEEP-NEW", "name": "New", "price": "1.00"}),
        ),
    )
    .await
    .expect("a create in another slot went through while slot 0 was held");
    assert_ne!(created["id"].as_i64().unwrap() % SLOTS, 0, "{created}");
    hold_tx.send(()).unwrap();
    holder.join().unwrap();
    // The new product is last in id order: the last page shows it, read on the second instance.
    let count = root.get("/api/products?page_size=1").await.expect(200)["count"]
        .as_i64()
        .unwrap();
    let last_page = page_ids(&root, &second.base_url, (count + 19) / 20).await;
    assert_eq!(last_page.last(), created["id"].as_i64().as_ref());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creators_share_no_row_and_deep_pages_follow_every_slot_jwt_postgres() {
    conformance::run(
        Auth::Jwt,
        Backend::Postgres,
        conformance::default_settings,
        creators_share_no_row_and_deep_pages_follow_every_slot,
    )
    .await;
}
