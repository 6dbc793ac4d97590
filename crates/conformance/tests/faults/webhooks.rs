//! Webhook deliveries across a `kill -9`: the sender's process dies while the receiver holds
//! its requests, a new process starts on the same database, and every event still arrives.
//! At least once means the deliveries in flight at the kill may arrive twice (their answers
//! were never read), and nothing else may: no event lost, none sent again once delivered,
//! the same body and delivery id on every copy.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use conformance::receiver::{Hit, Receiver};
use conformance::Backend;
use serde_json::json;

use crate::process::{database, free_port, http, token, Server};

/// Products moved, one event each (more than the sender's batch of 16, so some are still
/// waiting in the outbox at the kill).
const EVENTS: usize = 24;

fn server_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("RUST_LOG", "error"),
        ("WEBHOOK_ALLOW_PRIVATE", "true"),
        (
            "WEBHOOK_RETRY_DELAYS",
            "200ms,200ms,200ms,200ms,200ms,200ms,200ms",
        ),
    ]
}

/// `(delivery count, of which delivered)` as the database has them.
fn outbox_state(url: &str) -> (i64, i64) {
    use diesel::prelude::*;
    use diesel::sql_types::BigInt;
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = BigInt)]
        n_all: i64,
        #[diesel(sql_type = BigInt)]
        n_done: i64,
    }
    let core = inventory_core::db::Db::connect(url, 1).unwrap();
    let c: Counts = core
        .read(|c| {
            Ok(diesel::sql_query(
                "SELECT COUNT(*) AS n_all, \
                 COALESCE(SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END), 0) AS n_done \
                 FROM webhook_deliveries",
            )
            .get_result(c)?)
        })
        .unwrap();
    (c.n_all, c.n_done)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_deliveries_survive_a_kill_9_of_the_sender() {
    let Some(db) = database(Backend::Sqlite) else {
        return;
    };
    let rx = Receiver::start().await;
    // Every request is recorded on arrival and answered 3 s later: the kill lands while the
    // first batch waits for its answers.
    rx.hold("/hook", Duration::from_secs(3));
    let port = free_port();
    let (url, env) = (db.url.clone(), server_env());
    let server = tokio::task::spawn_blocking(move || Server::start_with(&url, port, &env, None))
        .await
        .unwrap();
    let base = server.base.clone();
    let tok = token(&base).await;
    let c = http();
    let mut products = vec![];
    for i in 0..EVENTS {
        let r = c
            .post(format!("{base}/api/products"))
            .bearer_auth(&tok)
            .json(&json!({"sku": format!("W-{i}"), "name": format!("Whisk {i}"), "price": "4.00"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        products.push(v["id"].as_i64().unwrap());
    }
    let r = c
        .post(format!("{base}/api/webhooks"))
        .bearer_auth(&tok)
        .json(&json!({"url": format!("{}/hook", rx.base_url), "events": ["stock.changed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let hook: serde_json::Value = r.json().await.unwrap();
    let secret = hook["secret"].as_str().unwrap().to_owned();
    // One receipt a product: one `stock.changed` event each, about different objects, so
    // the sender may send them side by side.
    let mut bookings = BTreeSet::new();
    for p in &products {
        let r = c
            .post(format!("{base}/api/stock-adjustments"))
            .bearer_auth(&tok)
            .json(&json!({"product_id": p, "kind": "receive", "quantity": 5, "reason": "hooked"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        bookings.insert(v["id"].as_i64().unwrap());
    }

    // The first requests are in the receiver's hands: kill the sender now.
    rx.wait_until(Duration::from_secs(30), |hits| !hits.is_empty())
        .await;
    let (url, port) = server.kill9();
    let in_flight: BTreeSet<i64> = rx.hits().iter().map(|h| h.delivery).collect();
    assert!(!in_flight.is_empty());
    rx.hold("/hook", Duration::ZERO);

    // A new process on the same database picks the work up: what was never claimed at once,
    // what the dead process held once its lease has run out.
    let restarted = Instant::now();
    let env = server_env();
    let server = tokio::task::spawn_blocking(move || Server::start_with(&url, port, &env, None))
        .await
        .unwrap();
    let url = db.url.clone();
    let limit =
        Duration::from_secs(inventory_core::services::webhooks::outbox::LEASE_SECS as u64 + 60);
    loop {
        let u = url.clone();
        let (all, done) = tokio::task::spawn_blocking(move || outbox_state(&u))
            .await
            .unwrap();
        assert_eq!(all, EVENTS as i64, "one delivery per committed booking");
        if done == all {
            break;
        }
        assert!(
            restarted.elapsed() < limit,
            "{done} of {all} delivered {:?} after the restart; the receiver got {:#?}",
            restarted.elapsed(),
            rx.hits()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let took = restarted.elapsed();
    // Nothing is sent again once the outbox says delivered.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let hits = rx.hits();
    drop(server);

    let mut copies: BTreeMap<i64, Vec<&Hit>> = BTreeMap::new();
    for h in &hits {
        assert!(h.signed_with(&secret), "every copy is signed: {h:?}");
        copies.entry(h.delivery).or_default().push(h);
    }
    assert_eq!(copies.len(), EVENTS, "one delivery id per event: {hits:#?}");
    let booked: BTreeSet<i64> = copies
        .values()
        .map(|c| c[0].json()["data"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        booked, bookings,
        "every committed booking reached the receiver"
    );
    let mut twice = 0;
    for (delivery, c) in &copies {
        assert!(
            c.iter().all(|h| h.body == c[0].body),
            "a resent delivery carries the same body: {c:#?}"
        );
        if c.len() > 1 {
            twice += 1;
            assert!(
                in_flight.contains(delivery),
                "only what was in flight at the kill is sent again: {delivery} {c:#?}"
            );
            assert_eq!(c.len(), 2, "sent again once, not more: {c:#?}");
        }
    }
    assert!(twice > 0, "the kill landed while requests were in flight");
    eprintln!(
        "webhooks across kill -9: {EVENTS} events, {} in flight at the kill, {twice} received twice, all delivered {:.1}s after the restart",
        in_flight.len(),
        took.as_secs_f64()
    );
}
