//! The webhook outbox in the core: an event exists only if its change committed; a claim is
//! the claimer's alone until its lease runs out, after which (the claimer died mid-send) the
//! same delivery, with the same body, is claimed again; retries follow the schedule and end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diesel::connection::SimpleConnection;
use inventory_core::services::ledger::{self, AdjustmentInput};
use inventory_core::services::products::{self as catalog, ProductInput};
use inventory_core::services::webhooks::{self, outbox, WebhookInput};
use inventory_core::types::WebhookEvent;
use inventory_core::CoreError;

mod support;

fn setup(
    name: &str,
) -> (
    inventory_core::context::Core,
    inventory_core::auth::Ctx,
    i64,
) {
    let (core, ctx, _dir) = support::core(name);
    webhooks::create(
        &core,
        &ctx,
        WebhookInput {
            // A public address: saving it resolves nothing and sends nothing.
            url: Some("https://93.184.216.34/hook".into()),
            events: Some(vec!["stock.changed".into(), "product.created".into()]),
            is_active: None,
        },
    )
    .unwrap();
    let p = catalog::create(
        &core,
        &ctx,
        ProductInput {
            sku: Some("OUT-1".into()),
            name: Some("Outboxed".into()),
            price: Some(serde_json::json!("3.00")),
            ..ProductInput::default()
        },
    )
    .unwrap();
    (core, ctx, p.product.id)
}

fn receive(
    core: &inventory_core::context::Core,
    ctx: &inventory_core::auth::Ctx,
    product_id: i64,
    quantity: i64,
) {
    ledger::create_adjustment(
        core,
        ctx,
        AdjustmentInput {
            product_id,
            location_id: None,
            kind: "receive".into(),
            quantity,
            reason: String::new(),
            reference: None,
            unit_cost: None,
        },
    )
    .unwrap();
}

#[test]
fn events_exist_only_for_committed_changes() {
    let (core, ctx, p) = setup("outbox-commit");
    // The product's creation is one event.
    let due = outbox::claim_due(&core.db, 100).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].event, "product.created");
    // A change that fails after writing its event leaves nothing.
    let failed: Result<(), CoreError> = core.db.write(|c| {
        outbox::emit(
            c,
            WebhookEvent::StockChanged,
            &format!("product:{p}"),
            &serde_json::json!({"n": 1}),
        )?;
        Err(CoreError::Internal("changed my mind".into()))
    });
    assert!(failed.is_err());
    // A refused booking (more than there is) leaves nothing either.
    let refused = ledger::create_adjustment(
        &core,
        &ctx,
        AdjustmentInput {
            product_id: p,
            location_id: None,
            kind: "sale".into(),
            quantity: 5,
            reason: String::new(),
            reference: None,
            unit_cost: None,
        },
    );
    assert!(refused.is_err());
    let count = |core: &inventory_core::context::Core| -> i64 {
        core.db
            .read(|c| {
                use diesel::prelude::*;
                Ok(inventory_core::schema::webhook_deliveries::table
                    .count()
                    .get_result(c)?)
            })
            .unwrap()
    };
    assert_eq!(count(&core), 1);
    // A booking that commits is one more.
    receive(&core, &ctx, p, 2);
    assert_eq!(count(&core), 2);
}

#[test]
fn a_lease_is_exclusive_until_it_runs_out_and_retries_end() {
    let (core, ctx, p) = setup("outbox-lease");
    let created = outbox::claim_due(&core.db, 100).unwrap().remove(0);
    // The creation is held by its claimer: the product's stock event waits behind it (order
    // per object), and nothing else is due.
    receive(&core, &ctx, p, 4);
    assert!(outbox::claim_due(&core.db, 100).unwrap().is_empty());

    // The claimer "dies" without recording an attempt; once its lease has run out another
    // sender claims the same delivery, with the same body.
    core.db
        .write(|c| {
            c.batch_execute(
                "UPDATE webhook_deliveries SET leased_until = datetime('now', '-1 seconds') \
                 WHERE leased_until IS NOT NULL",
            )?;
            Ok(())
        })
        .unwrap();
    let again = outbox::claim_due(&core.db, 100).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, created.id);
    assert_eq!(again[0].body(), created.body());

    // Two failures with a schedule of two delays, then the third attempt fails for good.
    let schedule = [Duration::ZERO, Duration::ZERO];
    let fail = outbox::Outcome {
        status_code: Some(503),
        error: "the receiver answered 503".into(),
        duration_ms: 5,
    };
    let mut due = again.into_iter().next().unwrap();
    for expected in ["pending", "pending", "failed"] {
        assert_eq!(
            outbox::finish(&core.db, &due, &fail, &schedule).unwrap(),
            expected
        );
        if expected == "pending" {
            let next = outbox::claim_due(&core.db, 100).unwrap();
            assert_eq!(next.len(), 1, "retried: {next:?}");
            assert_eq!(next[0].id, due.id);
            due = next.into_iter().next().unwrap();
        }
    }
    // With the creation given up, the stock event goes out; a 2xx delivers it for good.
    let stock = outbox::claim_due(&core.db, 100).unwrap();
    assert_eq!(stock.len(), 1);
    assert_eq!(stock[0].event, "stock.changed");
    let ok = outbox::Outcome {
        status_code: Some(204),
        error: String::new(),
        duration_ms: 3,
    };
    assert_eq!(
        outbox::finish(&core.db, &stock[0], &ok, &schedule).unwrap(),
        "delivered"
    );
    assert!(outbox::claim_due(&core.db, 100).unwrap().is_empty());
    let attempts = webhooks::attempts(&core, &ctx, 1, Default::default()).unwrap();
    assert_eq!(attempts.count, 4);
}
