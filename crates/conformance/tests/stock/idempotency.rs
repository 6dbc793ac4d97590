//! API.md §11, idempotency keys: a POST retried with the same `Idempotency-Key` changes
//! nothing and gets the first answer again, byte for byte — also when twenty copies arrive at
//! once, on one instance or spread over two sharing the database.

use crate::concurrency::instances;
use crate::support::*;
use conformance::{json, variants, Client, Method, Raw, Resp, TestApp, Value};
use futures_util::future::join_all;
use std::sync::Arc;

async fn keyed(c: &Client, url: &str, key: &str, body: &Value) -> Resp {
    c.raw(
        Raw::new(Method::POST, url)
            .json(body)
            .header("Idempotency-Key", key),
    )
    .await
}

fn replayed(r: &Resp) -> bool {
    r.header("idempotency-replayed").as_deref() == Some("true")
}

async fn a_retried_post_changes_nothing_and_gets_the_first_answer_again(app: TestApp) {
    let root = app.root().await;
    let clerk = app.user_with_role("employee").await;
    let p = new_product(&root, "IDEM-1").await;
    book(&root, p, None, "receive", 10).await;
    let sale = adjustment(p, None, "sale", 3);

    let first = keyed(&clerk, "/api/stock-adjustments", "sale-0001", &sale).await;
    first.expect(201);
    assert!(!replayed(&first), "{first:?}");
    let again = keyed(&clerk, "/api/stock-adjustments", "sale-0001", &sale).await;
    again.expect(201);
    assert!(replayed(&again), "the replay says so: {again:?}");
    assert_eq!(again.text, first.text, "the first answer, byte for byte");
    assert_eq!(total(&root, p).await, 7, "booked once");
    assert_eq!(
        ledger_count(&root, &format!("product={p}&kind=sale")).await,
        1
    );

    // The same key with another body is a mistake, not a retry.
    let other = adjustment(p, None, "sale", 4);
    keyed(&clerk, "/api/stock-adjustments", "sale-0001", &other)
        .await
        .expect_error(422, "idempotency_key_reused");
    assert_eq!(total(&root, p).await, 7);

    // A key belongs to one user and one path.
    keyed(&root, "/api/stock-adjustments", "sale-0001", &sale)
        .await
        .expect(201);
    assert_eq!(
        total(&root, p).await,
        4,
        "another user's key is another key"
    );
    let c = keyed(
        &clerk,
        "/api/categories",
        "sale-0001",
        &json!({"name": "Keyed"}),
    )
    .await;
    c.expect(201);
    assert!(!replayed(&c), "another path's key is another key");

    // A refusal is an answer too: kept and replayed, even once it would now succeed.
    let big = adjustment(p, None, "sale", 6);
    keyed(&clerk, "/api/stock-adjustments", "sale-0002", &big)
        .await
        .expect_error(409, "insufficient_stock");
    book(&root, p, None, "receive", 10).await;
    let r = keyed(&clerk, "/api/stock-adjustments", "sale-0002", &big).await;
    r.expect_error(409, "insufficient_stock");
    assert!(replayed(&r));
    assert_eq!(total(&root, p).await, 14, "the refused sale never booked");

    // The key itself is checked.
    for bad in [String::new(), "k".repeat(256), "tab\there".to_owned()] {
        keyed(&clerk, "/api/stock-adjustments", &bad, &sale)
            .await
            .expect(400);
    }
    assert_eq!(total(&root, p).await, 14);
    // Other methods ignore the header.
    let get = clerk
        .raw(
            Raw::new(Method::GET, format!("/api/products/{p}"))
                .header("Idempotency-Key", "sale-0001"),
        )
        .await;
    get.expect(200);
    assert!(!replayed(&get));
}

const COPIES: usize = 20;

/// Twenty copies of one keyed sale, released together (spread over `n` instances): exactly
/// one books, every other copy is the replay of its answer or a 409 while it runs.
async fn parallel_duplicates(app: TestApp, n: usize) {
    let root = app.root().await;
    let p = new_product(&root, "IDEM-PAR").await;
    book(&root, p, None, "receive", 100).await;
    let (bases, _second) = instances(&app, n).await;
    let root = Arc::new(root);
    let body = adjustment(p, None, "sale", 1);
    let barrier = Arc::new(tokio::sync::Barrier::new(COPIES));
    let tasks = (0..COPIES).map(|i| {
        let (root, barrier, body) = (root.clone(), barrier.clone(), body.clone());
        let url = format!("{}/api/stock-adjustments", bases[i % bases.len()]);
        tokio::spawn(async move {
            barrier.wait().await;
            keyed(&root, &url, "one-sale-only", &body).await
        })
    });
    let answers: Vec<Resp> = join_all(tasks)
        .await
        .into_iter()
        .map(|j| j.expect("a request task panicked"))
        .collect();
    let booked: Vec<&Resp> = answers
        .iter()
        .filter(|r| r.status.as_u16() == 201 && !replayed(r))
        .collect();
    assert_eq!(booked.len(), 1, "exactly one copy runs: {answers:?}");
    for r in &answers {
        match r.status.as_u16() {
            201 => assert_eq!(r.text, booked[0].text, "a replay is the first answer"),
            409 => assert_eq!(r.code(), "idempotency_in_progress", "{r:?}"),
            _ => panic!("a copy is a booking, a replay or a 409: {r:?}"),
        }
    }
    assert_eq!(total(&root, p).await, 99, "one unit sold");
    assert_eq!(
        ledger_count(&root, &format!("product={p}&kind=sale")).await,
        1
    );
    // Once it is done, every retry is the replay.
    let late = keyed(
        &root,
        &format!("{}/api/stock-adjustments", bases[bases.len() - 1]),
        "one-sale-only",
        &body,
    )
    .await;
    assert!(replayed(&late) && late.text == booked[0].text, "{late:?}");
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    println!(
        "{:?}/{:?}/{n} instance(s): {COPIES} copies answered {statuses:?}",
        app.auth, app.backend
    );
}

async fn twenty_parallel_copies_of_a_keyed_sale_book_once(app: TestApp) {
    parallel_duplicates(app, 1).await;
}

async fn twenty_parallel_copies_across_two_instances_book_once(app: TestApp) {
    parallel_duplicates(app, 2).await;
}

variants!(a_retried_post_changes_nothing_and_gets_the_first_answer_again);

parallel_variants!(all:
    twenty_parallel_copies_of_a_keyed_sale_book_once,
    twenty_parallel_copies_across_two_instances_book_once,
);
