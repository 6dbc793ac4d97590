//! Webhooks (API §11) against a real HTTP receiver on loopback: signed deliveries, retries
//! with the same delivery id and body, order per object, the delivery log, ping, the
//! outbox's "an event exists if and only if its change committed", two instances sharing
//! the work without duplicates, and the SSRF guard.

use std::time::Duration;

use conformance::fixtures::{book, main_location, product};
use conformance::instance::second_instance;
use conformance::receiver::{Hit, Receiver};
use conformance::{json, variants, Client, TestApp, Value};

/// Private addresses allowed (the receiver is on loopback) and retries 100 ms apart, so a
/// scenario sees a delivery's whole life in a second.
fn fast_local(s: &mut inventory_web::Settings) {
    s.webhook_allow_private = true;
    s.webhook_retry_delays = "100ms,100ms,100ms,100ms,100ms,100ms,100ms".into();
}

const WAIT: Duration = Duration::from_secs(30);

async fn register(root: &Client, url: &str, events: &[&str]) -> (i64, String) {
    let r = root
        .post("/api/webhooks", json!({"url": url, "events": events}))
        .await;
    let body = r.expect(201).clone();
    let secret = body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 30, "{body}");
    assert_eq!(body["url"], json!(url));
    assert_eq!(body["is_active"], json!(true));
    (body["id"].as_i64().unwrap(), secret)
}

async fn new_product(root: &Client, sku: &str, name: &str) -> i64 {
    product(root, json!({"sku": sku, "name": name, "price": "5.00"})).await["id"]
        .as_i64()
        .unwrap()
}

/// The successful deliveries, one per delivery id (a retried one counts once).
fn delivered(hits: &[Hit]) -> Vec<Hit> {
    hits.iter().filter(|h| h.ok()).cloned().collect()
}

async fn stock_and_product_events_arrive_signed_retried_and_in_order(app: TestApp) {
    let root = app.root().await;
    let rx = Receiver::start().await;
    rx.fail_first("/hook", 2);
    let url = format!("{}/hook", rx.base_url);
    let (hook, secret) = register(
        &root,
        &url,
        &["stock.changed", "product.created", "product.updated"],
    )
    .await;
    // The list and the detail never show the secret again.
    let listed = root.get("/api/webhooks").await.expect(200).clone();
    assert_eq!(listed["count"], json!(1));
    assert!(listed["results"][0].get("secret").is_none(), "{listed}");
    let one = root
        .get(&format!("/api/webhooks/{hook}"))
        .await
        .expect(200)
        .clone();
    assert!(one.get("secret").is_none(), "{one}");

    let p = new_product(&root, "HOOK-1", "Hooked").await;
    let main = main_location(&root).await;
    let r1 = book(&root, p, Some(main), "receive", 7).await;
    let r2 = book(&root, p, Some(main), "sale", 2).await;
    root.patch(
        &format!("/api/products/{p}"),
        json!({"name": "Hooked again"}),
    )
    .await
    .expect(200);

    // created, two ledger rows, updated: four events, each answered 500, 500, then 200.
    let hits = rx.wait_until(WAIT, |h| delivered(h).len() >= 4).await;
    let ok = delivered(&hits);
    assert_eq!(ok.len(), 4, "{ok:#?}");
    for h in &hits {
        assert!(h.signed_with(&secret), "every request is signed: {h:#?}");
        let body = h.json();
        assert_eq!(
            body["id"],
            json!(h.delivery),
            "the body's id is the delivery id"
        );
        assert_eq!(body["event"], json!(h.event));
        assert!(
            body["at"].is_string() && body.get("data").is_some(),
            "{body}"
        );
        let ts: i64 = h.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 120, "{h:#?}");
    }
    // Each delivery took three attempts with the very same body.
    for d in &ok {
        let tries: Vec<&Hit> = hits.iter().filter(|h| h.delivery == d.delivery).collect();
        assert_eq!(tries.len(), 3, "{tries:#?}");
        assert!(tries.iter().all(|t| t.body == d.body));
        assert_eq!(
            tries.iter().map(|t| t.answered).collect::<Vec<_>>(),
            vec![500, 500, 200]
        );
    }
    // In order for the one product: created, received, sold, updated — and no later event
    // was even tried before an earlier one was delivered.
    let events: Vec<&str> = ok.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(
        events,
        vec![
            "product.created",
            "stock.changed",
            "stock.changed",
            "product.updated"
        ]
    );
    assert_eq!(ok[1].json()["data"]["id"], r1["id"]);
    assert_eq!(ok[2].json()["data"]["id"], r2["id"]);
    assert_eq!(ok[2].json()["data"]["quantity_after"], json!(5));
    assert_eq!(ok[3].json()["data"]["name"], json!("Hooked again"));
    let mut delivered_so_far = std::collections::BTreeSet::new();
    for h in &hits {
        for earlier in ok.iter().filter(|o| o.delivery < h.delivery) {
            assert!(
                delivered_so_far.contains(&earlier.delivery),
                "delivery {} was tried before {} was delivered",
                h.delivery,
                earlier.delivery
            );
        }
        if h.ok() {
            delivered_so_far.insert(h.delivery);
        }
    }

    // The delivery log: every attempt, newest first.
    let log = root
        .get(&format!("/api/webhooks/{hook}/deliveries?page_size=100"))
        .await
        .expect(200)
        .clone();
    assert_eq!(log["count"], json!(12), "{log}");
    let rows = log["results"].as_array().unwrap();
    let first = &rows[rows.len() - 1];
    assert_eq!(first["attempt"], json!(1));
    assert_eq!(first["status_code"], json!(500));
    assert!(first["error"].as_str().unwrap().contains("500"), "{first}");
    assert!(first["duration_ms"].is_i64());
    assert_eq!(rows[0]["attempt"], json!(3));
    assert_eq!(rows[0]["status_code"], json!(200));
    assert_eq!(rows[0]["error"], json!(""));

    // Ping: a `ping` event to this webhook alone.
    let q = root
        .post(&format!("/api/webhooks/{hook}/ping"), json!({}))
        .await
        .expect(202)
        .clone();
    assert_eq!(q["event"], json!("ping"));
    let hits = rx
        .wait_until(WAIT, |h| delivered(h).iter().any(|x| x.event == "ping"))
        .await;
    let ping = delivered(&hits)
        .into_iter()
        .find(|x| x.event == "ping")
        .unwrap();
    assert_eq!(json!(ping.delivery), q["delivery_id"]);
    assert!(ping.signed_with(&secret));

    // The audit log has the webhook's creation, without its secret.
    let audit = root
        .get("/api/audit-logs?object_type=webhook")
        .await
        .expect(200)
        .clone();
    assert_eq!(audit["results"][0]["action"], json!("create"));
    assert!(!audit.to_string().contains(&secret), "{audit}");
}

/// A change that fails leaves no event; the one that commits right after it does.
async fn a_change_that_fails_leaves_no_event(app: TestApp) {
    let root = app.root().await;
    let rx = Receiver::start().await;
    let (hook, _) = register(&root, &format!("{}/stock", rx.base_url), &["stock.changed"]).await;
    let p = new_product(&root, "HOOK-2", "Scarce").await;
    let main = main_location(&root).await;
    book(&root, p, Some(main), "receive", 1).await;
    let r = root
        .post(
            "/api/stock-adjustments",
            json!({"product_id": p, "location_id": main, "kind": "sale", "quantity": 5, "reason": "too many"}),
        )
        .await;
    r.expect(409);
    book(&root, p, Some(main), "sale", 1).await;
    // Then a ping, which is queued last: once it is in, everything before it had its turn.
    root.post(&format!("/api/webhooks/{hook}/ping"), json!({}))
        .await
        .expect(202);
    let hits = rx
        .wait_until(WAIT, |h| {
            h.iter().any(|x| x.event == "ping") && delivered(h).len() >= 3
        })
        .await;
    let deltas: Vec<Value> = delivered(&hits)
        .iter()
        .filter(|h| h.event == "stock.changed")
        .map(|h| h.json()["data"]["delta"].clone())
        .collect();
    assert_eq!(deltas, vec![json!(1), json!(-1)], "{hits:#?}");
}

/// A receiver that never answers 2xx gets the first try and seven retries, then the delivery
/// fails for good and the object's next event goes out.
async fn retries_end_after_eight_attempts(app: TestApp) {
    let root = app.root().await;
    let rx = Receiver::start().await;
    rx.fail_first("/down", 8);
    let (hook, _) = register(
        &root,
        &format!("{}/down", rx.base_url),
        &["product.created", "product.updated"],
    )
    .await;
    let p = new_product(&root, "HOOK-3", "Doomed").await;
    root.patch(&format!("/api/products/{p}"), json!({"name": "Second"}))
        .await
        .expect(200);
    // The receiver fails the first 8 tries of each delivery: the first delivery is dropped
    // after its 8th; the second gets its 8 failures too and then nothing more.
    let hits = rx
        .wait_until(WAIT, |h| {
            h.iter().filter(|x| x.event == "product.updated").count() >= 8
        })
        .await;
    let created = hits.iter().filter(|x| x.event == "product.created").count();
    assert_eq!(created, 8, "{hits:#?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rx.hits().len(), 16, "no ninth attempt: {:#?}", rx.hits());
    let log = root
        .get(&format!("/api/webhooks/{hook}/deliveries?page_size=100"))
        .await
        .expect(200)
        .clone();
    assert_eq!(log["count"], json!(16));
    assert_eq!(log["results"][0]["attempt"], json!(8));
}

/// Two instances' senders share one outbox: every event is delivered exactly once when
/// nothing fails, however the claims interleave.
async fn two_instances_deliver_each_event_once(app: TestApp) {
    let root = app.root().await;
    let second = second_instance(&app).await;
    let rx = Receiver::start().await;
    register(&root, &format!("{}/both", rx.base_url), &["stock.changed"]).await;
    let p = new_product(&root, "HOOK-4", "Shared").await;
    let main = main_location(&root).await;
    for _ in 0..20 {
        book(&root, p, Some(main), "receive", 1).await;
    }
    let hits = rx.wait_until(WAIT, |h| delivered(h).len() >= 20).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let hits_after = rx.hits();
    assert_eq!(hits_after.len(), hits.len(), "nothing more arrived");
    let mut ids: Vec<i64> = hits_after.iter().map(|h| h.delivery).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(hits_after.len(), 20, "each delivery once: {hits_after:#?}");
    // In order: quantity after each row is 1, 2, … 20.
    let after: Vec<i64> = hits_after
        .iter()
        .map(|h| h.json()["data"]["quantity_after"].as_i64().unwrap())
        .collect();
    assert_eq!(after, (1..=20).collect::<Vec<_>>());
    drop(second);
}

variants!(with fast_local:
    stock_and_product_events_arrive_signed_retried_and_in_order,
    a_change_that_fails_leaves_no_event,
    retries_end_after_eight_attempts,
    two_instances_deliver_each_event_once,
);

/// Without WEBHOOK_ALLOW_PRIVATE a URL reaching loopback, a private network or the cloud's
/// metadata address is refused, as are other schemes, unknown events and non-admins.
async fn webhook_input_is_checked_and_private_addresses_refused(app: TestApp) {
    let root = app.root().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.7/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "ftp://93.184.216.34/hook",
        "not a url",
        "",
    ] {
        let r = root
            .post(
                "/api/webhooks",
                json!({"url": url, "events": ["stock.changed"]}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 400, "{url}: {r:?}");
        assert!(r.body["errors"]["url"].is_array(), "{url}: {r:?}");
    }
    for events in [
        json!([]),
        json!(["stock.exploded"]),
        json!(["ping"]),
        json!("stock.changed"),
    ] {
        let r = root
            .post(
                "/api/webhooks",
                json!({"url": "https://93.184.216.34/x", "events": events}),
            )
            .await;
        assert_eq!(r.status.as_u16(), 400, "{events}: {r:?}");
    }
    let r = root
        .post("/api/webhooks", json!({"events": ["stock.changed"]}))
        .await;
    assert!(r.expect(400)["errors"]["url"].is_array());
    for role in ["manager", "employee", "auditor"] {
        let c = app.user_with_role(role).await;
        c.get("/api/webhooks").await.expect(403);
        c.post(
            "/api/webhooks",
            json!({"url": "https://93.184.216.34/x", "events": ["stock.changed"]}),
        )
        .await
        .expect(403);
    }
    app.client().get("/api/webhooks").await.expect(401);
    root.get("/api/webhooks/999").await.expect(404);
    root.post("/api/webhooks/999/ping", json!({}))
        .await
        .expect(404);
    // A public address is accepted (nothing is sent until an event happens), changed,
    // switched off and deleted.
    let r = root
        .post(
            "/api/webhooks",
            json!({"url": "https://93.184.216.34/x", "events": ["stock.changed", "stock.changed"]}),
        )
        .await;
    let hook = r.expect(201).clone();
    assert_eq!(hook["events"], json!(["stock.changed"]));
    let id = hook["id"].as_i64().unwrap();
    let r = root
        .patch(
            &format!("/api/webhooks/{id}"),
            json!({"is_active": false, "events": ["alert.opened"]}),
        )
        .await;
    let changed = r.expect(200).clone();
    assert_eq!(changed["is_active"], json!(false));
    assert_eq!(changed["events"], json!(["alert.opened"]));
    root.put(&format!("/api/webhooks/{id}"), json!({"is_active": true}))
        .await
        .expect(400);
    root.delete(&format!("/api/webhooks/{id}"))
        .await
        .expect(204);
    root.get(&format!("/api/webhooks/{id}")).await.expect(404);
    let audit = root
        .get(&format!(
            "/api/audit-logs?object_type=webhook&object_id={id}"
        ))
        .await
        .expect(200)
        .clone();
    let actions: Vec<&str> = audit["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["delete", "update", "create"]);
}

variants!(webhook_input_is_checked_and_private_addresses_refused);
