//! API.md §11, cursor pagination: the products, stock-adjustments, history, audit-log and
//! login-attempt lists walked by `?cursor=`, with their filters and ordering; a walk never
//! repeats or skips a row that existed when it began, however rows are inserted meanwhile.

use conformance::fixtures::all_pages;
use conformance::{json, variants, Client, Method, Raw, TestApp, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Every row of a list walked by cursor from its start (`path` with its own query), and the
/// number of pages it took. Each page is checked for the cursor body's shape.
async fn walk(c: &Client, path: &str, size: usize) -> (Vec<Value>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut url = format!("{path}{sep}cursor=&page_size={size}");
    let (mut rows, mut pages) = (vec![], 0);
    loop {
        let r = c.get(&url).await;
        let body = r.expect(200).clone();
        assert!(body.get("count").is_none(), "no count by cursor: {r:?}");
        let page = body["results"].as_array().expect("results").clone();
        assert!(page.len() <= size);
        if pages == 0 {
            assert!(body["previous"].is_null(), "the first page has no previous");
        }
        pages += 1;
        rows.extend(page);
        match body["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    (rows, pages)
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter()
        .map(|r| r["id"].as_i64().expect("an id"))
        .collect()
}

async fn import(c: &Client, prefix: &str, n: usize, price_of: impl Fn(usize) -> String) {
    let mut csv = String::from("sku,name,price\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{prefix}-{i:05},Item {},{}\n",
            i % 97,
            price_of(i)
        ));
    }
    let r = c
        .raw(Raw::new(Method::POST, "/api/products/import").body("text/csv", csv))
        .await;
    r.expect(200);
}

async fn a_cursor_walk_matches_the_numbered_pages_with_filters_and_ordering(app: TestApp) {
    let root = app.root().await;
    import(&root, "CW", 57, |i| format!("{}.00", i % 7)).await;
    for query in [
        "/api/products",
        "/api/products?ordering=-price,name",
        "/api/products?ordering=name,-created_at",
        "/api/products?ordering=-quantity&min_price=2.00",
        "/api/products?search=Item 1",
    ] {
        let by_page = all_pages(&root, query).await;
        let (by_cursor, pages) = walk(&root, query, 8).await;
        assert_eq!(
            ids(&by_cursor),
            ids(&by_page),
            "{query}: the same rows in the same order"
        );
        assert_eq!(pages, by_page.len().div_ceil(8).max(1), "{query}");
    }

    // Walking back from the end gives the same pages in reverse.
    let query = "/api/products?ordering=-price,name&page_size=10&cursor=";
    let mut forward = vec![];
    let mut url = query.to_owned();
    let mut last = Value::Null;
    while let Some(u) = (!url.is_empty()).then(|| url.clone()) {
        let body = root.get(&u).await.expect(200).clone();
        forward.push(ids(body["results"].as_array().unwrap()));
        url = body["next"].as_str().unwrap_or_default().to_owned();
        last = body;
    }
    let mut backward = vec![];
    let mut url = last["previous"].as_str().unwrap_or_default().to_owned();
    while !url.is_empty() {
        let body = root.get(&url).await.expect(200).clone();
        backward.push(ids(body["results"].as_array().unwrap()));
        url = body["previous"].as_str().unwrap_or_default().to_owned();
    }
    backward.reverse();
    assert_eq!(
        backward,
        forward[..forward.len() - 1],
        "previous links retrace the walk"
    );

    // A cursor is opaque but checked.
    let body = root
        .get("/api/products?ordering=name&cursor=&page_size=5")
        .await
        .expect(200)
        .clone();
    let next = body["next"].as_str().unwrap().to_owned();
    let token = next
        .split("cursor=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    root.get(&format!("/api/products?ordering=-price&cursor={token}"))
        .await
        .expect_field_error("cursor");
    for bad in ["zzz", "eyJvIjoiIn0", "%00"] {
        let r = root.get(&format!("/api/products?cursor={bad}")).await;
        assert_eq!(r.status.as_u16(), 400, "{bad}: {r:?}");
    }
}

async fn the_ledger_audit_and_login_lists_walk_by_cursor_newest_first(app: TestApp) {
    let root = app.root().await;
    let p = conformance::fixtures::simple_product(&root, "CW-LEDGER", "1.00").await;
    for q in 1..=13 {
        conformance::fixtures::book(&root, p, None, "receive", q).await;
    }
    let _ = app.client().login("root", "wrong-password-1").await;
    for path in [
        format!("/api/stock-adjustments?product={p}"),
        "/api/stock-adjustments?kind=receive".to_owned(),
        format!("/api/products/{p}/history"),
        "/api/audit-logs".to_owned(),
        "/api/audit-logs?action=create".to_owned(),
        "/api/auth/login-attempts".to_owned(),
    ] {
        let by_page = all_pages(&root, &path).await;
        let (by_cursor, _) = walk(&root, &path, 4).await;
        assert_eq!(ids(&by_cursor), ids(&by_page), "{path}");
        let walked = ids(&by_cursor);
        assert!(
            walked.windows(2).all(|w| w[0] > w[1]),
            "{path}: newest first"
        );
        assert!(!walked.is_empty(), "{path} has rows");
    }
}

const BEFORE: usize = 10_000;

/// 10,000 products walked 100 at a time by cursor, ordered by name, while another task keeps
/// inserting products (some sorting before, some after the walk's position) and deleting the
/// ones it inserted: every product that existed when the walk began is seen exactly once.
async fn walking_ten_thousand_products_while_others_are_inserted_and_deleted(app: TestApp) {
    let root = Arc::new(app.root().await);
    import(&root, "WALK", BEFORE, |i| format!("{}.00", i % 50)).await;
    // What exists before the walk, read by page number.
    let mut before = BTreeSet::new();
    for page in 1..=BEFORE / 100 {
        let r = root
            .get(&format!("/api/products?page_size=100&page={page}"))
            .await;
        assert_eq!(r.count(), BEFORE as u64);
        before.extend(ids(&r.page()));
    }
    assert_eq!(before.len(), BEFORE);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let (root, stop) = (root.clone(), stop.clone());
        tokio::spawn(async move {
            let mut made = 0usize;
            let mut live: Vec<i64> = vec![];
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // Names that sort among the walked ones ("Item 5…") and before all ("A…").
                let name = if made.is_multiple_of(2) {
                    format!("Item {} new", made % 97)
                } else {
                    format!("A new {made}")
                };
                let r = root
                    .post(
                        "/api/products",
                        json!({"sku": format!("NEW-{made}"), "name": name, "price": "1.00"}),
                    )
                    .await;
                live.push(r.expect(201)["id"].as_i64().unwrap());
                made += 1;
                if made.is_multiple_of(3) {
                    let gone = live.remove(0);
                    root.delete(&format!("/api/products/{gone}"))
                        .await
                        .expect(204);
                }
            }
            made
        })
    };
    let (rows, pages) = walk(&root, "/api/products?ordering=name", 100).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let made = churn.await.expect("the churn task");
    let walked = ids(&rows);
    let unique: BTreeSet<i64> = walked.iter().copied().collect();
    assert_eq!(unique.len(), walked.len(), "no row repeated");
    let missing: Vec<&i64> = before.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "no pre-existing row skipped: {} missing",
        missing.len()
    );
    assert!(made > 0, "products were inserted during the walk");
    println!(
        "{:?}/{:?}: walked {} rows in {pages} pages while {made} products were inserted",
        app.auth,
        app.backend,
        walked.len()
    );
}

variants!(
    a_cursor_walk_matches_the_numbered_pages_with_filters_and_ordering,
    the_ledger_audit_and_login_lists_walk_by_cursor_newest_first,
);

/// The walk is the same code on both servers (only signing in differs), so it runs on one,
/// on both databases, with real threads for the walker and the writer.
mod walking_ten_thousand_products_while_others_are_inserted_and_deleted {
    use conformance::{Auth, Backend};
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn jwt_sqlite() {
        conformance::run(
            Auth::Jwt,
            Backend::Sqlite,
            conformance::default_settings,
            super::walking_ten_thousand_products_while_others_are_inserted_and_deleted,
        )
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn jwt_postgres() {
        conformance::run(
            Auth::Jwt,
            Backend::Postgres,
            conformance::default_settings,
            super::walking_ten_thousand_products_while_others_are_inserted_and_deleted,
        )
        .await;
    }
}
