//! PostgreSQL going away under load and coming back: while it is away every request is a fast
//! 503 `database_unavailable` with `Retry-After` (never a hang, never a 500), `/ready` says so
//! within a second, and service resumes without restarting the server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::{database_name, postgres_admin, Backend};
use serde_json::json;

use crate::process::{database, free_port, http, token, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_and_started_under_load() {
    let Some(db) = database(Backend::Postgres) else {
        return;
    };
    let server = Server::start(&db.url, free_port());
    let base = server.base.clone();
    let tok = token(&base).await;
    let c = http();
    let r = c
        .post(format!("{base}/api/products"))
        .bearer_auth(&tok)
        .json(&json!({"sku": "PG-1", "name": "Pump", "price": "1.00", "quantity": 100000}))
        .send()
        .await
        .unwrap();
    let pid = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let name = database_name(&db.url);
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    // (status, seconds, while down?) of every request.
    let seen: Arc<Mutex<Vec<(u16, f64, bool)>>> = Arc::default();
    let mut workers = vec![];
    for w in 0..6 {
        let (down, stop, seen, base, tok) = (
            down.clone(),
            stop.clone(),
            seen.clone(),
            base.clone(),
            tok.clone(),
        );
        workers.push(tokio::spawn(async move {
            let c = http();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let was_down = down.load(Ordering::Relaxed);
                let t = Instant::now();
                let r = if (n + w) % 2 == 0 {
                    c.get(format!("{base}/api/products/{pid}"))
                        .bearer_auth(&tok)
                        .send()
                        .await
                } else {
                    c.post(format!("{base}/api/stock-adjustments"))
                        .bearer_auth(&tok)
                        .json(&json!({"product_id": pid, "kind": "sale", "quantity": 1}))
                        .send()
                        .await
                };
                let status = r.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
                if status == 503 {
                    let retry = r
                        .as_ref()
                        .ok()
                        .and_then(|r| r.headers().get("retry-after").cloned());
                    assert!(retry.is_some(), "503 with Retry-After");
                }
                seen.lock().unwrap().push((
                    status,
                    t.elapsed().as_secs_f64(),
                    was_down && down.load(Ordering::Relaxed),
                ));
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The outage: the database refuses connections and its sessions are cut.
    postgres_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).unwrap();
    postgres_admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .unwrap();
    down.store(true, Ordering::Relaxed);
    let mut ready_slowest: f64 = 0.0;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let t = Instant::now();
        let r = c.get(format!("{base}/ready")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        ready_slowest = ready_slowest.max(t.elapsed().as_secs_f64());
    }
    down.store(false, Ordering::Relaxed);
    postgres_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).unwrap();
    let back = Instant::now();
    loop {
        let r = c.get(format!("{base}/ready")).send().await.unwrap();
        if r.status().as_u16() == 200 {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "recovers without a restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = back.elapsed().as_secs_f64();
    // The probe has a connection of its own; the pool refills in the background with a
    // backoff of up to half its connection wait, so the workers may need a moment more. Service
    // is back when twenty requests in a row succeed, within ten seconds of the database.
    let serving = loop {
        let latest: Vec<u16> = seen
            .lock()
            .unwrap()
            .iter()
            .rev()
            .take(20)
            .map(|s| s.0)
            .collect();
        if latest.len() == 20 && latest.iter().all(|s| *s == 200 || *s == 201) {
            break back.elapsed().as_secs_f64();
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "serving again within 10 s: {latest:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    let during: Vec<_> = seen.iter().filter(|s| s.2).collect();
    assert!(!during.is_empty());
    assert!(
        during.iter().all(|s| s.0 == 503),
        "only 503 while the database is away: {during:?}"
    );
    let slowest = during.iter().map(|s| s.1).fold(0.0, f64::max);
    assert!(slowest < 2.0, "503 within 2 s, took {slowest:.2}s");
    assert!(
        seen.iter().all(|s| s.0 != 500 && s.0 != 0),
        "no 500, no hang-up"
    );
    eprintln!(
        "PostgreSQL outage under load: {} requests, {} during the outage all 503 (slowest {slowest:.3}s), /ready 503 in at most {ready_slowest:.3}s, ready again {recovered:.2}s and serving twenty in a row {serving:.2}s after it came back",
        seen.len(),
        during.len()
    );
    drop(server);
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
