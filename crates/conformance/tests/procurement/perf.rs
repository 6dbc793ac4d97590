//! How long importing and exporting 100,000 products through HTTP takes. Slow, so ignored by
//! default: `cargo test -p conformance --test procurement perf -- --ignored --nocapture`.
//! The products are created by the import itself, then exported, then the export is imported
//! again (100,000 upserts that change nothing).

use crate::support::parse_csv;
use conformance::{Auth, Backend, TestApp};
use std::time::{Duration, Instant};

const PRODUCTS: usize = 100_000;

fn big_csv() -> String {
    let mut s = String::with_capacity(PRODUCTS * 90);
    s.push_str("sku,name,price,description,category,reorder_level,reorder_quantity,unit\n");
    for i in 0..PRODUCTS {
        s.push_str(&format!(
            "PERF-{i:06},\"Product {i}, size {}\",{}.{:02},Bulk item number {i},Category {},{},{},pcs\n",
            i % 7,
            i % 1000,
            i % 100,
            i % 25,
            i % 50,
            10 + i % 90
        ));
    }
    s
}

async fn import_and_export_100k(app: TestApp) {
    let root = app.root().await;
    // The harness client times out after 60 s; this one waits as long as it takes.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(1800))
        .build()
        .unwrap();
    let auth = |rb: reqwest::RequestBuilder| match app.auth {
        Auth::Jwt => rb.bearer_auth(root.access_token().unwrap()),
        Auth::Cookie => rb
            .header(
                "Cookie",
                format!(
                    "sessionid={}; csrftoken={}",
                    root.cookie("sessionid").unwrap(),
                    root.cookie("csrftoken").unwrap()
                ),
            )
            .header("X-CSRFToken", root.cookie("csrftoken").unwrap()),
    };
    let body = big_csv();
    let size = body.len();

    let t = Instant::now();
    let r = auth(http.post(format!("{}/api/products/import", app.base_url)))
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("import request");
    let status = r.status();
    let answer = r.text().await.unwrap_or_default();
    let import_time = t.elapsed();
    assert!(
        status.is_success(),
        "importing {PRODUCTS} products: {status} {answer}"
    );

    let t = Instant::now();
    let r = auth(http.get(format!("{}/api/products/export?format=csv", app.base_url)))
        .send()
        .await
        .expect("export request");
    assert_eq!(r.status().as_u16(), 200);
    let exported = r.text().await.expect("export body");
    let export_time = t.elapsed();
    let rows = parse_csv(&exported);
    assert_eq!(rows.len(), PRODUCTS + 1, "header + one row per product");

    let t = Instant::now();
    let r = auth(http.post(format!("{}/api/products/import", app.base_url)))
        .header("Content-Type", "text/csv")
        .body(exported.clone())
        .send()
        .await
        .expect("re-import request");
    let status = r.status();
    let answer2 = r.text().await.unwrap_or_default();
    let reimport_time = t.elapsed();
    assert!(
        status.is_success(),
        "re-importing the export: {status} {answer2}"
    );

    let count = root.get("/api/products?page_size=1").await.count();
    assert_eq!(count, PRODUCTS as u64);
    println!(
        "[procurement perf] {:?}/{:?}: import of {PRODUCTS} new products ({:.1} MiB CSV) took {:.2} s ({:.0} rows/s), answer {answer}; \
         export took {:.2} s ({:.1} MiB, {:.0} rows/s); re-import of the export (100,000 unchanged upserts) took {:.2} s, answer {answer2}",
        app.auth,
        app.backend,
        size as f64 / 1048576.0,
        import_time.as_secs_f64(),
        PRODUCTS as f64 / import_time.as_secs_f64(),
        export_time.as_secs_f64(),
        exported.len() as f64 / 1048576.0,
        PRODUCTS as f64 / export_time.as_secs_f64(),
        reimport_time.as_secs_f64(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: imports and exports 100,000 products"]
async fn import_and_export_100k_products_sqlite() {
    conformance::run(
        Auth::Jwt,
        Backend::Sqlite,
        conformance::default_settings,
        import_and_export_100k,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow: imports and exports 100,000 products"]
async fn import_and_export_100k_products_postgres() {
    conformance::run(
        Auth::Jwt,
        Backend::Postgres,
        conformance::default_settings,
        import_and_export_100k,
    )
    .await;
}
