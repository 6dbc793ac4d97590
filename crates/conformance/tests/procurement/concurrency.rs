//! API.md §5 under load: order numbers never repeat however many orders are created at once,
//! and clerks receiving the same order at the same moment never take in more than was ordered.
//! Real parallel requests on a multi-threaded runtime, released together by a barrier; the
//! figures are printed (see them with --nocapture).

use crate::support::*;
use conformance::race::{all_at_once, tally, Race};
use conformance::{json, Method, TestApp, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

const CREATIONS: usize = 20;
const CLERKS: usize = 4;

async fn twenty_orders_created_at_once_get_distinct_numbers(app: TestApp) {
    let root = app.root().await;
    let s = supplier(&root, "Rush Supplies").await;
    let p = product(&root, "RUSH-1", json!({})).await;
    link(&root, p, s, json!({"unit_cost": "1.25"})).await;
    let mut clerks = Vec::new();
    for _ in 0..CLERKS {
        clerks.push(Arc::new(app.user_with_role("employee").await));
    }
    let requests = (0..CREATIONS)
        .map(|i| {
            let body = json!({"supplier_id": s, "notes": format!("rush #{i}"), "lines": [{"product_id": p, "quantity": i + 1}]});
            (clerks[i % CLERKS].clone(), Method::POST, "/api/orders".to_owned(), Some(body))
        })
        .collect();
    let Race {
        answers, elapsed, ..
    } = all_at_once(requests).await;
    let counts = tally(&answers);
    let numbers: Vec<String> = answers
        .iter()
        .filter_map(|r| r.body["number"].as_str().map(str::to_owned))
        .collect();
    let distinct: BTreeSet<&String> = numbers.iter().collect();
    println!(
        "[procurement concurrency] {:?}/{:?}: {CREATIONS} orders created at once by {CLERKS} clerks: statuses={counts:?} \
         distinct_numbers={} duration={}ms numbers={numbers:?}",
        app.auth,
        app.backend,
        distinct.len(),
        elapsed.as_millis()
    );
    assert_eq!(
        counts.get(&201).copied(),
        Some(CREATIONS),
        "every creation succeeds: {answers:?}"
    );
    assert_eq!(
        distinct.len(),
        CREATIONS,
        "all numbers are distinct: {numbers:?}"
    );
    for n in &numbers {
        assert!(is_order_number(n), "a number like PO-000123: {n:?}");
    }
    // Each answer is the order that was asked for, and it is stored as answered.
    for (i, r) in answers.iter().enumerate() {
        assert_eq!(r.body["notes"], json!(format!("rush #{i}")));
        assert_eq!(
            r.body["total"],
            json!(format!("{:.2}", 1.25 * (i + 1) as f64))
        );
        let stored = order(&root, r.id()).await;
        assert_eq!(stored["number"], r.body["number"]);
    }
    assert_eq!(root.get("/api/orders").await.count(), CREATIONS as u64);
}

const ROUNDS: usize = 4;
const RECEIVERS: usize = 3;
const ORDERED: i64 = 10;

async fn clerks_receiving_one_order_at_once_never_take_in_more_than_ordered(app: TestApp) {
    let root = app.root().await;
    let manager = app.user_with_role("manager").await;
    let drafter = app.user_with_role("employee").await;
    let s = supplier(&root, "Race Supplies").await;
    let p = product(&root, "RACE-1", json!({})).await;
    link(&root, p, s, json!({"unit_cost": "0.40"})).await;
    let mut clerks = Vec::new();
    for _ in 0..RECEIVERS {
        clerks.push(Arc::new(app.user_with_role("employee").await));
    }
    let mut total_time = Duration::ZERO;
    let mut summary = Vec::new();
    for round in 0..ROUNDS {
        let o = approved_order(&drafter, &manager, order_body(s, vec![line(p, ORDERED)])).await;
        let id = id_of(&o);
        let requests = clerks
            .iter()
            .map(|c| {
                let body = json!({"lines": [{"product_id": p, "quantity": ORDERED}]});
                (
                    c.clone(),
                    Method::POST,
                    format!("/api/orders/{id}/receive"),
                    Some(body),
                )
            })
            .collect();
        let Race {
            answers, elapsed, ..
        } = all_at_once(requests).await;
        total_time += elapsed;
        let counts = tally(&answers);
        summary.push(counts.clone());
        assert_eq!(
            counts.get(&200).copied(),
            Some(1),
            "round {round}: exactly one receipt succeeds: {answers:?}"
        );
        assert_eq!(
            counts.get(&409).copied(),
            Some(RECEIVERS - 1),
            "round {round}: the others are conflicts: {answers:?}"
        );
        let now = order(&root, id).await;
        assert_eq!(now["status"], "received");
        assert_eq!(
            now["lines"][0]["received_quantity"],
            json!(ORDERED),
            "round {round}: {now}"
        );
        let expected = ORDERED * (round as i64 + 1);
        assert_eq!(
            quantity(&root, p).await,
            expected,
            "round {round}: stock went up by what was ordered, once"
        );
        assert_eq!(
            link_quantity(&root, p, s).await,
            expected,
            "round {round}: the link counted it once"
        );
        assert_eq!(
            ledger(&root, &format!("product={p}&kind=order_receipt"))
                .await
                .len(),
            round + 1,
            "round {round}: one receipt row"
        );
    }
    println!(
        "[procurement concurrency] {:?}/{:?}: {ROUNDS} orders of {ORDERED}, {RECEIVERS} clerks each receiving all of it at once: \
         statuses per round={summary:?} final_quantity={} duration={}ms",
        app.auth,
        app.backend,
        quantity(&root, p).await,
        total_time.as_millis()
    );
}

const MANAGERS: usize = 3;

/// Several managers approving one submitted order at the same moment: exactly one approval.
async fn managers_approving_one_order_at_once_approve_it_once(app: TestApp) {
    let root = app.root().await;
    let drafter = app.user_with_role("employee").await;
    let s = supplier(&root, "Approval Supplies").await;
    let p = product(&root, "APPR-1", json!({})).await;
    link(&root, p, s, json!({"unit_cost": "2.00"})).await;
    let mut managers = Vec::new();
    for _ in 0..MANAGERS {
        managers.push(Arc::new(app.user_with_role("manager").await));
    }
    let mut summary = Vec::new();
    for round in 0..ROUNDS {
        let o = draft(&drafter, order_body(s, vec![line(p, 3)])).await;
        let id = id_of(&o);
        step(&drafter, id, "submit", "submitted").await;
        let requests = managers
            .iter()
            .map(|m| {
                (
                    m.clone(),
                    Method::POST,
                    format!("/api/orders/{id}/approve"),
                    None,
                )
            })
            .collect();
        let Race { answers, .. } = all_at_once(requests).await;
        let counts = tally(&answers);
        summary.push(counts.clone());
        assert_eq!(
            counts.get(&200).copied(),
            Some(1),
            "round {round}: one approval: {answers:?}"
        );
        assert_eq!(
            counts.get(&409).copied(),
            Some(MANAGERS - 1),
            "round {round}: the rest are invalid transitions: {answers:?}"
        );
        for r in answers.iter().filter(|r| r.status.as_u16() == 409) {
            assert_eq!(r.body["code"], "invalid_transition", "{r:?}");
        }
        let winner = answers.iter().find(|r| r.status.as_u16() == 200).unwrap();
        let now = order(&root, id).await;
        assert_eq!(now["status"], "approved");
        assert_eq!(
            now["approved_by"], winner.body["approved_by"],
            "the approver on record is the one who won"
        );
    }
    let approvals = conformance::fixtures::all_pages(
        &root,
        "/api/audit-logs?object_type=purchase_order&action=approve",
    )
    .await
    .len();
    println!(
        "[procurement concurrency] {:?}/{:?}: {ROUNDS} orders, {MANAGERS} managers approving each at once: statuses per round={summary:?} approve audit entries={approvals}",
        app.auth, app.backend
    );
    assert_eq!(
        approvals, ROUNDS,
        "one audit entry per approval that happened"
    );
}

/// A manager cancelling an approved order while a clerk receives it: either the order is
/// cancelled and nothing was received, or the goods are in and the cancel was refused.
async fn cancelling_while_receiving_never_leaves_a_cancelled_order_with_goods(app: TestApp) {
    let root = app.root().await;
    let manager = Arc::new(app.user_with_role("manager").await);
    let clerk = Arc::new(app.user_with_role("employee").await);
    let drafter = app.user_with_role("employee").await;
    let s = supplier(&root, "Cancel Supplies").await;
    let p = product(&root, "CANC-1", json!({})).await;
    link(&root, p, s, json!({"unit_cost": "2.00"})).await;
    let mut outcomes = BTreeMap::new();
    let mut expected_stock = 0;
    for round in 0..2 * ROUNDS {
        let o = approved_order(&drafter, &manager, order_body(s, vec![line(p, 6)])).await;
        let id = id_of(&o);
        let Race { answers, .. } = all_at_once(vec![
            (
                clerk.clone(),
                Method::POST,
                format!("/api/orders/{id}/receive"),
                Some(json!({"lines": [{"product_id": p, "quantity": 2}]})),
            ),
            (
                manager.clone(),
                Method::POST,
                format!("/api/orders/{id}/cancel"),
                None,
            ),
        ])
        .await;
        let (rec, can) = (answers[0].status.as_u16(), answers[1].status.as_u16());
        let now = order(&root, id).await;
        let received = now["lines"][0]["received_quantity"].as_i64().unwrap();
        match (rec, can) {
            (200, 409) => {
                assert_eq!(now["status"], "partially_received", "round {round}: {now}");
                assert_eq!(received, 2);
                expected_stock += 2;
            }
            (409, 200) => {
                assert_eq!(now["status"], "cancelled", "round {round}: {now}");
                assert_eq!(
                    received, 0,
                    "round {round}: a cancelled order received nothing: {now}"
                );
            }
            other => panic!(
                "round {round}: exactly one of receive and cancel wins, got {other:?}: {answers:?}"
            ),
        }
        *outcomes
            .entry(if rec == 200 { "received" } else { "cancelled" })
            .or_insert(0) += 1;
        assert_eq!(
            quantity(&root, p).await,
            expected_stock,
            "round {round}: stock matches what was received"
        );
        assert_eq!(
            link_quantity(&root, p, s).await,
            expected_stock,
            "round {round}"
        );
    }
    println!(
        "[procurement concurrency] {:?}/{:?}: receive vs cancel at once, {} rounds: outcomes={outcomes:?} final_quantity={expected_stock}",
        app.auth,
        app.backend,
        2 * ROUNDS
    );
}

const SALES: usize = 15;

/// Sales fired together, the stock crossing the reorder level among them: every sale is
/// booked, exactly one alert opens, and each manager and admin gets one email about it.
async fn concurrent_sales_across_the_level_open_exactly_one_alert(app: TestApp) {
    let root = app.root().await;
    let manager = app.user_with_role("manager").await;
    let admin = app.user_with_role("admin").await;
    let p = product(&root, "RUSH-LOW-1", json!({"reorder_level": 10})).await;
    book(&root, p, None, "receive", 20).await;
    let mut sellers = Vec::new();
    for _ in 0..CLERKS {
        sellers.push(Arc::new(app.user_with_role("employee").await));
    }
    let requests = (0..SALES)
        .map(|i| {
            let body = json!({"product_id": p, "kind": "sale", "quantity": 1, "reason": format!("sale {i}")});
            (sellers[i % CLERKS].clone(), Method::POST, "/api/stock-adjustments".to_owned(), Some(body))
        })
        .collect();
    let Race {
        answers, elapsed, ..
    } = all_at_once(requests).await;
    let counts = tally(&answers);
    let alerts: Vec<Value> = conformance::fixtures::all_pages(&root, "/api/alerts")
        .await
        .into_iter()
        .filter(|a| a["product_id"] == json!(p))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails: Vec<String> = app
        .outbox()
        .into_iter()
        .filter(|m| m.contains("RUSH-LOW-1"))
        .collect();
    println!(
        "[procurement concurrency] {:?}/{:?}: {SALES} sales at once from 20 with level 10: statuses={counts:?} alerts={} emails={} duration={}ms",
        app.auth,
        app.backend,
        alerts.len(),
        mails.len(),
        elapsed.as_millis()
    );
    assert_eq!(counts.get(&201).copied(), Some(SALES), "{answers:?}");
    assert_eq!(quantity(&root, p).await, 5);
    assert_eq!(alerts.len(), 1, "exactly one alert: {alerts:?}");
    assert_eq!(alerts[0]["status"], "open");
    assert_eq!(alerts[0]["threshold"], json!(10));
    assert_eq!(
        alerts[0]["quantity"],
        json!(10),
        "opened by the sale that reached the level: {alerts:?}"
    );
    for who in [&manager, &admin] {
        let to = email_of(who);
        assert_eq!(
            mails.iter().filter(|m| m.contains(&to)).count(),
            1,
            "one email to {to}: {mails:?}"
        );
    }
}

parallel_variants!(
    twenty_orders_created_at_once_get_distinct_numbers,
    clerks_receiving_one_order_at_once_never_take_in_more_than_ordered,
    managers_approving_one_order_at_once_approve_it_once,
    cancelling_while_receiving_never_leaves_a_cancelled_order_with_goods,
    concurrent_sales_across_the_level_open_exactly_one_alert,
);
