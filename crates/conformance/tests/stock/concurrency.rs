//! API.md §4: "Concurrent requests never lose an update and never drive stock negative, on
//! either database and across several server instances." Real parallel requests (tokio tasks
//! on a multi-threaded runtime, released together by a barrier), against one server and
//! against two servers sharing one database. Figures are printed (see them with --nocapture).

use crate::support::*;
use crate::transfers::request;
use conformance::instance::{second_instance, SecondInstance};
use conformance::race::{all_at_once, tally, Race};
use conformance::{json, Method, Resp, TestApp};
use std::sync::Arc;
use std::time::Duration;

/// The base URLs requests are spread over: the test's server, and a second one if asked.
pub async fn instances(app: &TestApp, n: usize) -> (Vec<String>, Option<SecondInstance>) {
    assert!(n == 1 || n == 2);
    if n == 1 {
        return (vec![app.base_url.clone()], None);
    }
    let second = second_instance(app).await;
    (
        vec![app.base_url.clone(), second.base_url.clone()],
        Some(second),
    )
}

fn label(app: &TestApp, n: usize) -> String {
    format!(
        "{:?}/{:?}/{} instance{}",
        app.auth,
        app.backend,
        n,
        if n == 1 { "" } else { "s" }
    )
}

const SALES: usize = 60;
const IN_STOCK: i64 = 20;
const SELLERS: usize = 4;

async fn concurrent_sales(app: TestApp, n: usize) {
    let root = app.root().await;
    let main = main_location(&root).await;
    let p = new_product(&root, "HOT-1").await;
    book(&root, p, Some(main), "receive", IN_STOCK).await;
    let mut sellers = Vec::new();
    for _ in 0..SELLERS {
        sellers.push(Arc::new(app.user_with_role("employee").await));
    }
    let (bases, _second) = instances(&app, n).await;

    let requests = (0..SALES)
        .map(|i| {
            let body = json!({"product_id": p, "location_id": main, "kind": "sale", "quantity": 1, "reason": format!("sale #{i}")});
            let url = format!("{}/api/stock-adjustments", bases[i % bases.len()]);
            (sellers[i % SELLERS].clone(), Method::POST, url, Some(body))
        })
        .collect();
    let Race {
        answers,
        took,
        elapsed,
    } = all_at_once(requests).await;
    let counts = tally(&answers);
    let created: Vec<&Resp> = answers
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .collect();
    let conflicts: Vec<&Resp> = answers
        .iter()
        .filter(|r| r.status.as_u16() == 409)
        .collect();
    let slowest = took.iter().copied().max().unwrap_or_default();

    let final_level = level(&root, p, main).await;
    let final_total = total(&root, p).await;
    let sale_rows = ledger_count(&root, &format!("product={p}&kind=sale")).await;
    println!(
        "[stock concurrency] sales {}: requests={SALES} in_stock={IN_STOCK} created={} conflicts={} other={:?} \
         final_level={final_level} final_total={final_total} sale_rows={sale_rows} duration={}ms slowest={}ms",
        label(&app, n),
        created.len(),
        conflicts.len(),
        counts.iter().filter(|(s, _)| **s != 201 && **s != 409).collect::<Vec<_>>(),
        elapsed.as_millis(),
        slowest.as_millis(),
    );

    assert_eq!(
        counts.get(&201).copied().unwrap_or(0),
        IN_STOCK as usize,
        "exactly the stock is sold: {counts:?}"
    );
    assert_eq!(
        counts.get(&409).copied().unwrap_or(0),
        SALES - IN_STOCK as usize,
        "the rest conflict: {counts:?}"
    );
    for r in &conflicts {
        assert_eq!(r.body["code"], "insufficient_stock", "{r:?}");
    }
    // No lost update: each success saw a different quantity after it, 19 down to 0.
    let mut afters: Vec<i64> = created
        .iter()
        .map(|r| r.body["quantity_after"].as_i64().unwrap())
        .collect();
    afters.sort();
    assert_eq!(
        afters,
        (0..IN_STOCK).collect::<Vec<_>>(),
        "every sale saw its own quantity_after"
    );
    let mut product_afters: Vec<i64> = created
        .iter()
        .map(|r| r.body["product_quantity_after"].as_i64().unwrap())
        .collect();
    product_afters.sort();
    assert_eq!(
        product_afters,
        (0..IN_STOCK).collect::<Vec<_>>(),
        "every sale saw its own product_quantity_after"
    );
    assert_eq!(final_level, 0);
    assert_eq!(final_total, 0);
    assert_eq!(
        sale_rows, IN_STOCK as u64,
        "exactly one sale row per success"
    );
    assert_eq!(
        ledger_count(&root, &format!("product={p}")).await,
        IN_STOCK as u64 + 1
    );
}

const APPROVERS: usize = 4;
const ROUNDS: i64 = 5;

async fn concurrent_approvals(app: TestApp, n: usize) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let p = new_product(&root, "RACE-1").await;
    book(&root, p, Some(main), "receive", 2 * ROUNDS).await;
    let mut managers = Vec::new();
    for _ in 0..APPROVERS {
        managers.push(Arc::new(app.user_with_role("manager").await));
    }
    let (bases, _second) = instances(&app, n).await;

    let mut total_ok = 0;
    let mut total_conflicts = 0;
    let mut total_time = Duration::ZERO;
    for round in 0..ROUNDS {
        let t = request(&employee, p, main, l2, 2).await["id"]
            .as_i64()
            .unwrap();
        let requests = (0..APPROVERS)
            .map(|i| {
                let url = format!("{}/api/transfers/{t}/approve", bases[i % bases.len()]);
                (managers[i].clone(), Method::POST, url, None)
            })
            .collect();
        let Race {
            answers, elapsed, ..
        } = all_at_once(requests).await;
        total_time += elapsed;
        let counts = tally(&answers);
        let ok: Vec<&Resp> = answers
            .iter()
            .filter(|r| r.status.as_u16() == 200)
            .collect();
        assert_eq!(
            ok.len(),
            1,
            "round {round}: exactly one approval wins: {counts:?} {answers:?}"
        );
        assert_eq!(
            counts.get(&409).copied().unwrap_or(0),
            APPROVERS - 1,
            "round {round}: the rest conflict: {counts:?}"
        );
        for r in answers.iter().filter(|r| r.status.as_u16() == 409) {
            assert_eq!(r.body["code"], "invalid_transition", "{r:?}");
        }
        total_ok += ok.len();
        total_conflicts += counts.get(&409).copied().unwrap_or(0);
        let t_now = root
            .get(&format!("/api/transfers/{t}"))
            .await
            .expect(200)
            .clone();
        assert_eq!(t_now["status"], "completed");
        assert_eq!(
            t_now["approved_by"], ok[0].body["approved_by"],
            "the winner is the approver on record"
        );
        let s = stock(&root, p).await;
        assert_eq!(
            s.at(main),
            2 * ROUNDS - 2 * (round + 1),
            "round {round}: stock left MAIN once: {s:?}"
        );
        assert_eq!(
            s.at(l2),
            2 * (round + 1),
            "round {round}: stock reached L2 once: {s:?}"
        );
    }
    let outs = ledger_count(&root, &format!("product={p}&kind=transfer_out")).await;
    let ins = ledger_count(&root, &format!("product={p}&kind=transfer_in")).await;
    println!(
        "[stock concurrency] approvals {}: transfers={ROUNDS} approvers_each={APPROVERS} requests={} approved={total_ok} \
         conflicts={total_conflicts} final_main={} final_l2={} transfer_out_rows={outs} transfer_in_rows={ins} duration={}ms",
        label(&app, n),
        ROUNDS as usize * APPROVERS,
        level(&root, p, main).await,
        level(&root, p, l2).await,
        total_time.as_millis(),
    );
    assert_eq!(outs, ROUNDS as u64);
    assert_eq!(ins, ROUNDS as u64);
}

/// Two transfers competing for the same stock, approved at the same moment by different
/// managers: one completes, the other is `insufficient_stock` and stays pending.
async fn competing_transfers(app: TestApp, n: usize) {
    let root = app.root().await;
    let employee = app.user_with_role("employee").await;
    let main = main_location(&root).await;
    let l2 = new_location(&root, "L2").await;
    let l3 = new_location(&root, "L3").await;
    let p = new_product(&root, "RACE-2").await;
    book(&root, p, Some(main), "receive", 10).await;
    let m1 = Arc::new(app.user_with_role("manager").await);
    let m2 = Arc::new(app.user_with_role("manager").await);
    let (bases, _second) = instances(&app, n).await;

    let a = request(&employee, p, main, l2, 7).await["id"]
        .as_i64()
        .unwrap();
    let b = request(&employee, p, main, l3, 7).await["id"]
        .as_i64()
        .unwrap();
    let Race {
        answers, elapsed, ..
    } = all_at_once(vec![
        (
            m1,
            Method::POST,
            format!("{}/api/transfers/{a}/approve", bases[0]),
            None,
        ),
        (
            m2,
            Method::POST,
            format!("{}/api/transfers/{b}/approve", bases[bases.len() - 1]),
            None,
        ),
    ])
    .await;
    let counts = tally(&answers);
    let s = stock(&root, p).await;
    println!(
        "[stock concurrency] competing transfers {}: requests=2 statuses={counts:?} final_main={} final_l2={} final_l3={} duration={}ms",
        label(&app, n),
        s.at(main),
        s.at(l2),
        s.at(l3),
        elapsed.as_millis()
    );
    assert_eq!(
        counts.get(&200),
        Some(&1),
        "one transfer completes: {answers:?}"
    );
    assert_eq!(
        counts.get(&409),
        Some(&1),
        "the other conflicts: {answers:?}"
    );
    let loser = answers.iter().find(|r| r.status.as_u16() == 409).unwrap();
    assert_eq!(loser.body["code"], "insufficient_stock", "{loser:?}");
    let winner = answers.iter().find(|r| r.status.as_u16() == 200).unwrap();
    let (won, lost, won_at) = if winner.body["id"] == json!(a) {
        (a, b, l2)
    } else {
        (b, a, l3)
    };
    assert_eq!(
        root.get(&format!("/api/transfers/{won}")).await.expect(200)["status"],
        "completed"
    );
    assert_eq!(
        root.get(&format!("/api/transfers/{lost}"))
            .await
            .expect(200)["status"],
        "pending"
    );
    assert_eq!(s.at(main), 3);
    assert_eq!(s.at(won_at), 7);
    assert_eq!(s.total, 10);
    assert_eq!(
        ledger_count(&root, &format!("product={p}&kind=transfer_out")).await,
        1
    );
    assert_eq!(
        ledger_count(&root, &format!("product={p}&kind=transfer_in")).await,
        1
    );
}

async fn sixty_concurrent_sales_against_twenty_in_stock(app: TestApp) {
    concurrent_sales(app, 1).await;
}
async fn sixty_concurrent_sales_across_two_instances(app: TestApp) {
    concurrent_sales(app, 2).await;
}
async fn managers_approving_one_transfer_at_once_move_stock_once(app: TestApp) {
    concurrent_approvals(app, 1).await;
}
async fn managers_approving_one_transfer_at_once_across_two_instances(app: TestApp) {
    concurrent_approvals(app, 2).await;
}
async fn competing_transfers_approved_at_once_never_oversell(app: TestApp) {
    competing_transfers(app, 1).await;
}
async fn competing_transfers_approved_at_once_across_two_instances(app: TestApp) {
    competing_transfers(app, 2).await;
}

parallel_variants!(all:
    sixty_concurrent_sales_against_twenty_in_stock,
    managers_approving_one_transfer_at_once_move_stock_once,
    competing_transfers_approved_at_once_never_oversell,
    // Two instances sharing one database: required on PostgreSQL, and run on SQLite too
    // (one file shared by two processes' worth of pools is the same promise).
    sixty_concurrent_sales_across_two_instances,
    managers_approving_one_transfer_at_once_across_two_instances,
    competing_transfers_approved_at_once_across_two_instances,
);
