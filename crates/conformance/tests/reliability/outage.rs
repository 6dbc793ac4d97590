//! PostgreSQL going away: requests answer 503 `database_unavailable` fast with `Retry-After`,
//! `/ready` answers 503 within a second, and service comes back without a restart.
//!
//! The outage is real for the server under test and nobody else: its database stops taking
//! connections and its existing ones are cut (`ALLOW_CONNECTIONS false` and
//! `pg_terminate_backend`), which is what a stopped server looks like from the pool.

use std::time::{Duration, Instant};

use conformance::{database_name, postgres_admin, server_variants, TestApp};

fn cut(db: &str) {
    postgres_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).unwrap();
    postgres_admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
    ))
    .unwrap();
}

fn restore(db: &str) {
    postgres_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).unwrap();
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, Option<String>, String, f64) {
    let started = Instant::now();
    let r = http.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.text().await.unwrap_or_default();
    (status, retry, body, started.elapsed().as_secs_f64())
}

async fn a_database_outage_answers_503_fast_and_recovers(app: TestApp) {
    if app.backend != conformance::Backend::Postgres {
        return;
    }
    let root = app.root().await;
    conformance::fixtures::simple_product(&root, "UP-1", "1.00").await;
    let db = database_name(&app.settings.database_url);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let base = app.base_url.clone();
    cut(&db);

    // Twenty requests at once during the outage.
    let mut tasks = vec![];
    for i in 0..20 {
        let (http, base) = (http.clone(), base.clone());
        let path = if i % 2 == 0 {
            "/api/products"
        } else {
            "/api/categories"
        };
        tasks.push(tokio::spawn(async move {
            get(&http, &format!("{base}{path}")).await
        }));
    }
    let mut slowest: f64 = 0.0;
    for t in tasks {
        let (status, retry, body, secs) = t.await.unwrap();
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("database_unavailable"), "{body}");
        assert!(retry.is_some(), "Retry-After on a 503");
        slowest = slowest.max(secs);
    }
    assert!(slowest < 2.0, "503 within 2 s, took {slowest:.2}s");
    for _ in 0..5 {
        let (status, _, _, secs) = get(&http, &format!("{base}/ready")).await;
        assert_eq!(status, 503);
        assert!(
            secs < 1.2,
            "/ready answers within a second, took {secs:.2}s"
        );
    }
    eprintln!("outage: slowest 503 {slowest:.3}s");

    restore(&db);
    let back = Instant::now();
    loop {
        let (status, _, body, _) = get(&http, &format!("{base}/api/products")).await;
        if status == 200 {
            assert!(body.contains("UP-1"));
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "service resumes without a restart: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _, _, _) = get(&http, &format!("{base}/ready")).await;
    assert_eq!(status, 200);
    eprintln!(
        "outage: recovered {:.3}s after the database came back",
        back.elapsed().as_secs_f64()
    );
}

server_variants!(Jwt, a_database_outage_answers_503_fast_and_recovers);
