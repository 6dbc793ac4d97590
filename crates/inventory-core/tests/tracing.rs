//! Every service call is a tracing span named after the service, carrying who called it and
//! the object's id: what an operator filters on (`RUST_LOG=inventory_core=debug`) to follow
//! one request through the core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use inventory_core::services::ledger::{self, AdjustmentInput};
use inventory_core::services::products::{self, ProductInput};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// (target, span name, recorded fields) of every span opened.
type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

struct Spans(Seen);

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?};", field.name(), value));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Spans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _id: &tracing::span::Id,
        _ctx: Context<'_, S>,
    ) {
        let mut f = Fields(String::new());
        attrs.record(&mut f);
        let m = attrs.metadata();
        self.0
            .lock()
            .unwrap()
            .push((m.target().to_owned(), m.name().to_owned(), f.0));
    }
}

mod support;

#[test]
fn service_calls_are_spans_with_the_caller_and_the_object() {
    let (core, ctx, dir) = support::core("tracing");
    let seen: Seen = Arc::default();
    let subscriber = tracing_subscriber::registry().with(Spans(seen.clone()));
    let product = tracing::subscriber::with_default(subscriber, || {
        let p = products::create(
            &core,
            &ctx,
            ProductInput {
                sku: Some("T1".into()),
                name: Some("Tap".into()),
                price: Some(serde_json::json!("3.00")),
                ..ProductInput::default()
            },
        )
        .unwrap();
        ledger::create_adjustment(
            &core,
            &ctx,
            AdjustmentInput {
                product_id: p.product.id,
                location_id: None,
                kind: "receive".into(),
                quantity: 4,
                reason: String::new(),
                reference: None,
                unit_cost: None,
            },
        )
        .unwrap();
        products::get(&core, &ctx, p.product.id, false).unwrap();
        p
    });
    let seen = seen.lock().unwrap().clone();
    let user = format!("user=Some({});", ctx.user_id().unwrap());
    let span = |module: &str, name: &str| {
        seen.iter()
            .find(|(target, n, _)| {
                n == name && target.starts_with(&format!("inventory_core::services::{module}"))
            })
            .unwrap_or_else(|| panic!("no span {name} in {seen:?}"))
            .clone()
    };
    let (target, _, fields) = span("products", "create");
    assert!(target.ends_with("products::write"), "{target}");
    assert!(fields.contains(&user), "{fields}");
    let (_, _, fields) = span("ledger", "create_adjustment");
    assert!(fields.contains(&user), "{fields}");
    let (_, _, fields) = span("products", "get");
    assert!(fields.contains(&user), "{fields}");
    assert!(
        fields.contains(&format!("id={};", product.product.id)),
        "{fields}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
