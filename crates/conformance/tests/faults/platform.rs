//! API.md §12 for platforms that start the process for us: `PORT` alone makes the server
//! listen on every interface at that port (as Heroku-like platforms expect), and `BIND`, when
//! given too, wins; and Prometheus metrics on `METRICS_BIND`, read as Prometheus would.

use conformance::Backend;
use serde_json::json;

use crate::process::{database, free_port, http, token, Server};

/// The value of the first sample line of `name` whose labels contain every `label`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_pool_and_committed_bookings() {
    let Some(db) = database(Backend::Sqlite) else {
        return;
    };
    let metrics_port = free_port();
    let metrics_bind = format!("127.0.0.1:{metrics_port}");
    let server = Server::start_with(
        &db.url,
        free_port(),
        &[("METRICS_BIND", &metrics_bind), ("RUST_LOG", "error")],
        None,
    );
    let base = server.base.clone();
    let c = http();
    let tok = token(&base).await;
    let created: serde_json::Value = c
        .post(format!("{base}/api/products"))
        .bearer_auth(&tok)
        .json(&json!({"sku": "MET-1", "name": "Metered", "price": "1.00", "quantity": 5}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_i64().unwrap();
    for _ in 0..3 {
        let r = c
            .get(format!("{base}/api/products/{id}"))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let sale = |quantity: i64| {
        c.post(format!("{base}/api/stock-adjustments"))
            .bearer_auth(&tok)
            .json(&json!({"product_id": id, "kind": "sale", "quantity": quantity, "reason": "m"}))
            .send()
    };
    assert_eq!(sale(2).await.unwrap().status(), 201);
    // Refused (more than in stock): rolled back, so never counted as a booking.
    assert_eq!(sale(50).await.unwrap().status(), 409);

    let text = c
        .get(format!("http://{metrics_bind}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let detail = [
        "method=\"GET\"",
        "route=\"/api/products/{id}\"",
        "status=\"200\"",
    ];
    assert_eq!(
        sample(&text, "http_requests_total", &detail),
        Some(3.0),
        "{text}"
    );
    let mut bucket = detail.to_vec();
    bucket.push("le=\"+Inf\"");
    assert_eq!(
        sample(&text, "http_request_duration_seconds_bucket", &bucket),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "http_requests_total", &["status=\"409\""]),
        Some(1.0),
        "{text}"
    );
    let booked = |kind: &str| {
        sample(
            &text,
            "inventory_ledger_bookings_total",
            &[&format!("kind=\"{kind}\"")],
        )
    };
    assert_eq!(booked("receive"), Some(1.0), "{text}");
    assert_eq!(
        booked("sale"),
        Some(1.0),
        "the refused sale is not counted: {text}"
    );
    assert!(
        sample(&text, "db_pool_max_connections", &[]).is_some_and(|v| v >= 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "db_pool_connections", &[]).is_some(),
        "{text}"
    );
    // The API's own listener does not serve the metrics.
    let public = c.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    server.sigterm();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_is_honoured_and_bind_wins_over_it() {
    let Some(db) = database(Backend::Sqlite) else {
        return;
    };
    let port = free_port();
    let port_text = port.to_string();
    // Only PORT: the server must answer there (`Server` waits for `/ready` on that port).
    let server = Server::start_with(&db.url, port, &[("PORT", &port_text)], None);
    let health = http()
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    server.sigterm();
    drop(server);

    // BIND and PORT: BIND decides, and nothing listens on PORT.
    let bound = free_port();
    let ignored = free_port();
    let bind = format!("127.0.0.1:{bound}");
    let ignored_text = ignored.to_string();
    let server = Server::start_with(
        &db.url,
        bound,
        &[("BIND", &bind), ("PORT", &ignored_text)],
        None,
    );
    let refused = http()
        .get(format!("http://127.0.0.1:{ignored}/health"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "nothing should listen on PORT when BIND is set"
    );
    server.sigterm();
}

/// Several instances starting at once on a fresh PostgreSQL database (a compose file or an
/// orchestrator starts them together) all bring the schema up and none fails on another's
/// half-made tables.
#[test]
fn instances_migrating_together_on_postgres_all_succeed() {
    let db = match conformance::TestDb::create(Backend::Postgres) {
        Ok(db) => db,
        Err(e) => {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                "PostgreSQL is required in CI: {e:?}"
            );
            return;
        }
    };
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(crate::process::binary())
                .arg("migrate")
                .env("DATABASE_URL", &db.url)
                .env("SECRET_KEY", "faults-secret-key-0123456789abcdefghijkl")
                .env("RUST_LOG", "error")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // All four are running before the first is waited for.
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a concurrent migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
