//! `kill -9` under write load, with restarts: every write the server acknowledged is still
//! there, and the ledger, the stock levels and the kept aggregates agree. And SIGTERM: the
//! requests in flight are answered before the process ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::Backend;
use serde_json::json;

use crate::process::{database, free_port, http, token, Server};

/// (adjustment id, product id, delta) of every acknowledged booking.
type Acked = Arc<Mutex<Vec<(i64, i64, i64)>>>;

async fn crash_under_load(backend: Backend) {
    let Some(db) = database(backend) else { return };
    let port = free_port();
    let mut server = Server::start(&db.url, port);
    let base = server.base.clone();
    let tok = token(&base).await;
    let c = http();
    let mut products = vec![];
    for i in 0..4 {
        let r = c
            .post(format!("{base}/api/products"))
            .bearer_auth(&tok)
            .json(&json!({"sku": format!("K-{i}"), "name": format!("Kettle {i}"), "price": "9.99", "quantity": 100000}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        products.push(v["id"].as_i64().unwrap());
    }
    let acked: Acked = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = vec![];
    for w in 0..8usize {
        let (acked, stop, base, tok, products) = (
            acked.clone(),
            stop.clone(),
            base.clone(),
            tok.clone(),
            products.clone(),
        );
        workers.push(tokio::spawn(async move {
            let c = http();
            let mut n = 0usize;
            let mut failures = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let pid = products[(n + w) % products.len()];
                let (kind, delta): (&str, i64) = if n.is_multiple_of(4) { ("receive", 3) } else { ("sale", -1) };
                let r = c
                    .post(format!("{base}/api/stock-adjustments"))
                    .bearer_auth(&tok)
                    .json(&json!({"product_id": pid, "kind": kind, "quantity": delta.abs(), "reason": "load"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().as_u16() == 201 => {
                        if let Ok(v) = r.json::<serde_json::Value>().await {
                            acked.lock().unwrap().push((v["id"].as_i64().unwrap(), pid, delta));
                        }
                    }
                    Ok(r) => assert!(r.status().as_u16() < 500 || r.status().as_u16() == 503, "{}", r.status()),
                    Err(_) => {
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
            failures
        }));
    }
    let mut downtime = Duration::ZERO;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let (url, port) = server.kill9();
        let down = Instant::now();
        server = tokio::task::spawn_blocking(move || Server::start(&url, port))
            .await
            .unwrap();
        downtime += down.elapsed();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut refused = 0;
    for w in workers {
        refused += w.await.unwrap();
    }
    drop(server);
    // Every acknowledged booking is in the ledger with its delta; everything agrees.
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "enough load to mean something: {}",
        acked.len()
    );
    let url = db.url.clone();
    let missing = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use inventory_core::schema::stock_adjustments as sa;
        let core = inventory_core::db::Db::connect(&url, 1).unwrap();
        core.read(inventory_core::services::stats::verify).unwrap();
        core.read(inventory_core::services::stats::verify_ledger)
            .unwrap();
        let rows: Vec<(i64, i64, i64)> = core
            .read(|c| {
                Ok(sa::table
                    .select((sa::id, sa::product_id, sa::delta))
                    .load(c)?)
            })
            .unwrap();
        let have: std::collections::HashSet<(i64, i64, i64)> = rows.into_iter().collect();
        acked.iter().filter(|a| !have.contains(a)).count()
    })
    .await
    .unwrap();
    assert_eq!(missing, 0, "acknowledged bookings lost");
    eprintln!(
        "kill -9 ({backend:?}): 3 kills under 8 writers, {} acknowledged bookings all kept, {refused} requests refused while down, {:.2}s to restart in all; ledger, levels and aggregates verify",
        acked_len(&db.url),
        downtime.as_secs_f64()
    );
}

fn acked_len(url: &str) -> i64 {
    use diesel::prelude::*;
    use inventory_core::schema::stock_adjustments as sa;
    let core = inventory_core::db::Db::connect(url, 1).unwrap();
    core.read(|c| Ok(sa::table.count().get_result::<i64>(c)?))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_write_load_keeps_every_acknowledged_write_sqlite() {
    crash_under_load(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_under_write_load_keeps_every_acknowledged_write_postgres() {
    crash_under_load(Backend::Postgres).await;
}

/// SIGTERM with requests in flight: each is answered, then the process exits cleanly.
async fn drain(backend: Backend) {
    let Some(db) = database(backend) else { return };
    let server = Server::start(&db.url, free_port());
    let base = server.base.clone();
    let tok = token(&base).await;
    let c = http();
    let r = c
        .post(format!("{base}/api/products"))
        .bearer_auth(&tok)
        .json(&json!({"sku": "D-1", "name": "Drain", "price": "1.00", "quantity": 100000}))
        .send()
        .await
        .unwrap();
    let pid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    // A large import (seconds of work) and many bookings in flight.
    let mut csv = String::from("sku,name,price\n");
    for i in 0..8000 {
        csv.push_str(&format!("DR-{i:05},Drained {i},1.00\n"));
    }
    let mut inflight = vec![];
    {
        let (c, base, tok) = (c.clone(), base.clone(), tok.clone());
        inflight.push(tokio::spawn(async move {
            c.post(format!("{base}/api/products/import"))
                .bearer_auth(&tok)
                .header("Content-Type", "text/csv")
                .body(csv)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for _ in 0..30 {
        let (c, base, tok) = (c.clone(), base.clone(), tok.clone());
        inflight.push(tokio::spawn(async move {
            c.post(format!("{base}/api/stock-adjustments"))
                .bearer_auth(&tok)
                .json(&json!({"product_id": pid, "kind": "sale", "quantity": 1}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.sigterm();
    let started = Instant::now();
    let mut answered = 0;
    for t in inflight {
        let s = t
            .await
            .unwrap()
            .expect("an in-flight request is answered, not cut");
        assert!(s == 200 || s == 201, "{s}");
        answered += 1;
    }
    let mut server = server;
    let status = tokio::task::spawn_blocking(move || {
        let s = server.child.wait().unwrap();
        (s, server)
    })
    .await
    .unwrap()
    .0;
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
    eprintln!(
        "SIGTERM ({backend:?}): {answered} requests in flight all answered; exited cleanly {:.2}s after the signal",
        started.elapsed().as_secs_f64()
    );
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        let core = inventory_core::db::Db::connect(&url, 1).unwrap();
        core.read(inventory_core::services::stats::verify).unwrap();
        core.read(inventory_core::services::stats::verify_ledger)
            .unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_the_requests_in_flight_sqlite() {
    drain(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_the_requests_in_flight_postgres() {
    drain(Backend::Postgres).await;
}
