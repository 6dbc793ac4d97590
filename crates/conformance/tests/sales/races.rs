//! Races for the same units: confirmations for the last units (one instance and two on one
//! PostgreSQL) and parallel shipments of one order, every request released at once.

use std::sync::Arc;

use super::orders::{customer, draft, id, level, stocked};
use conformance::fixtures::ledger;
use conformance::race::count;
use conformance::{json, variants, Client, Method, Resp, TestApp, Value};

/// Sends every request at once on one client (see [`conformance::race::all_at_once`]).
async fn all_at_once(
    client: &Arc<Client>,
    requests: Vec<(Method, String, Option<Value>)>,
) -> Vec<Resp> {
    let requests = requests
        .into_iter()
        .map(|(method, path, body)| (client.clone(), method, path, body))
        .collect();
    conformance::race::all_at_once(requests).await.answers
}

async fn fifty_confirmations_racing_for_twenty_units_reserve_exactly_twenty(app: TestApp) {
    let root = app.root().await;
    let cust = customer(&root, "Rush").await;
    let p = stocked(&root, "RACE-1", "1.00", 20).await;
    let mut requests = Vec::new();
    for _ in 0..50 {
        let o = draft(&root, cust, json!([{"product_id": p, "quantity": 1}])).await;
        requests.push((
            Method::POST,
            format!("/api/sales-orders/{}/confirm", id(&o)),
            Some(json!({})),
        ));
    }
    let client = Arc::new(root.duplicate());
    let answers = all_at_once(&client, requests).await;
    assert_eq!(count(&answers, 200), 20, "{answers:?}");
    assert_eq!(count(&answers, 409), 30, "{answers:?}");
    assert_eq!(level(&root, p).await, (20, 20, 0));
    assert_eq!(
        root.get("/api/sales-orders?status=confirmed").await.count(),
        20
    );
    eprintln!(
        "50 parallel confirmations for 20 units ({:?}): 20 reserved, 30 refused",
        app.backend
    );
}

/// The same race with the confirmations split over two server instances on one database:
/// the guarantee rests on the database's conditional update, not on anything in one process.
async fn confirmations_racing_across_two_instances_reserve_exactly_twenty(app: TestApp) {
    let root = app.root().await;
    let second = conformance::instance::second_instance(&app).await;
    let cust = customer(&root, "Two doors").await;
    let p = stocked(&root, "RACE-2", "1.00", 20).await;
    let mut requests = Vec::new();
    for i in 0..50 {
        let o = draft(&root, cust, json!([{"product_id": p, "quantity": 1}])).await;
        let base = if i % 2 == 0 {
            &app.base_url
        } else {
            &second.base_url
        };
        requests.push((
            Method::POST,
            format!("{base}/api/sales-orders/{}/confirm", id(&o)),
            Some(json!({})),
        ));
    }
    let client = Arc::new(root.duplicate());
    let answers = all_at_once(&client, requests).await;
    // The client shows its own server's answers by path, the second's by full URL.
    let by = |second_one: bool, status: u16| {
        answers
            .iter()
            .filter(|r| r.path.starts_with(&second.base_url) == second_one)
            .filter(|r| r.status.as_u16() == status)
            .count()
    };
    assert_eq!(count(&answers, 200), 20, "{answers:?}");
    assert_eq!(count(&answers, 409), 30, "{answers:?}");
    assert_eq!(
        by(true, 200) + by(true, 409),
        25,
        "half the requests went to each instance: {answers:?}"
    );
    assert_eq!(level(&root, p).await, (20, 20, 0));
    eprintln!(
        "50 parallel confirmations for 20 units over two instances ({:?}): first {} + second {} reserved",
        app.backend,
        by(false, 200),
        by(true, 200)
    );
}

async fn parallel_shipments_of_one_order_never_ship_more_than_ordered(app: TestApp) {
    let root = app.root().await;
    let cust = customer(&root, "Split shipments").await;
    let p = stocked(&root, "SHIP-1", "1.00", 30).await;
    let o = draft(&root, cust, json!([{"product_id": p, "quantity": 10}])).await;
    let oid = id(&o);
    root.post(&format!("/api/sales-orders/{oid}/confirm"), json!({}))
        .await
        .expect(200);
    let requests = (0..20)
        .map(|_| {
            (
                Method::POST,
                format!("/api/sales-orders/{oid}/ship"),
                Some(json!({"lines": [{"product_id": p, "quantity": 1}]})),
            )
        })
        .collect();
    let client = Arc::new(root.duplicate());
    let answers = all_at_once(&client, requests).await;
    assert_eq!(count(&answers, 200), 10, "{answers:?}");
    assert_eq!(count(&answers, 409), 10, "{answers:?}");
    assert_eq!(level(&root, p).await, (20, 0, 20));
    let done = root.get(&format!("/api/sales-orders/{oid}")).await;
    let done = done.expect(200);
    assert_eq!(done["status"], json!("shipped"));
    assert_eq!(done["lines"][0]["shipped_quantity"], json!(10));
    assert_eq!(
        ledger(&root, &format!("product={p}&kind=shipment"))
            .await
            .len(),
        10
    );
}

variants!(
    fifty_confirmations_racing_for_twenty_units_reserve_exactly_twenty,
    confirmations_racing_across_two_instances_reserve_exactly_twenty,
    parallel_shipments_of_one_order_never_ship_more_than_ordered,
);
