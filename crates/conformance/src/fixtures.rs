//! Small builders for the objects scenarios need, each asserting the create succeeded.

use crate::client::{Client, Resp};
use serde_json::{json, Value};
use std::future::Future;

/// Creates a category and returns its id.
pub async fn category(c: &Client, name: &str) -> i64 {
    let r = c
        .post("/api/categories", json!({"name": name, "description": ""}))
        .await;
    r.expect(201);
    r.id()
}

/// Creates a supplier and returns its id.
pub async fn supplier(c: &Client, name: &str) -> i64 {
    let r = c
        .post("/api/suppliers", json!({"name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', ""))}))
        .await;
    r.expect(201);
    r.id()
}

/// Creates a product with the given fields (at least `sku`, `name`, `price`) and returns it.
#[track_caller]
pub fn product<'a>(c: &'a Client, fields: Value) -> impl std::future::Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = c.post("/api/products", fields).await;
        assert_eq!(
            r.status.as_u16(),
            201,
            "creating a product failed (called at {caller}): {r:?}"
        );
        r.body.clone()
    }
}

/// Creates a product with just `sku`, `name` and `price`, and returns its id.
pub async fn simple_product(c: &Client, sku: &str, price: &str) -> i64 {
    product(
        c,
        json!({"sku": sku, "name": format!("Product {sku}"), "price": price}),
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

/// Links a supplier to a product with extra link fields, returning the link.
#[track_caller]
pub fn link<'a>(
    c: &'a Client,
    product_id: i64,
    supplier_id: i64,
    extra: Value,
) -> impl std::future::Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let mut body = json!({"supplier_id": supplier_id});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = c
            .post(&format!("/api/products/{product_id}/suppliers"), body)
            .await;
        assert_eq!(
            r.status.as_u16(),
            201,
            "linking a supplier failed (called at {caller}): {r:?}"
        );
        r.body.clone()
    }
}

/// Creates a location (needs a manager or above) and returns its id.
pub async fn location(c: &Client, code: &str) -> i64 {
    let r = c
        .post(
            "/api/locations",
            json!({"code": code, "name": format!("Location {code}"), "kind": "store"}),
        )
        .await;
    r.expect(201);
    r.id()
}

/// The id of the object in the list at `path` whose `field` equals `value` (walks all pages).
pub async fn find_id(c: &Client, path: &str, field: &str, value: &str) -> i64 {
    let all = all_pages(c, path).await;
    all.iter()
        .find(|o| o[field] == json!(value))
        .and_then(|o| o["id"].as_i64())
        .unwrap_or_else(|| panic!("no object with {field} = {value} in {path}"))
}

/// Every result of a paginated list, following `next` links.
pub async fn all_pages(c: &Client, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut next = Some(format!("{path}{sep}page_size=100"));
    let mut guard = 0;
    while let Some(url) = next {
        let r = c.get(&url).await;
        out.extend(r.page());
        next = r.body["next"].as_str().map(str::to_owned);
        guard += 1;
        assert!(guard < 50, "too many pages at {path}");
    }
    out
}

/// A money answer as a number of cents, asserting it is a decimal string with two places.
#[track_caller]
pub fn cents(v: &Value) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("money is answered as a string, got {v}"));
    let (whole, frac) = s
        .split_once('.')
        .unwrap_or_else(|| panic!("money has two decimal places, got {s:?}"));
    assert_eq!(frac.len(), 2, "money has two decimal places, got {s:?}");
    whole.parse::<i64>().unwrap() * 100 + frac.parse::<i64>().unwrap()
}

// Stock: bookings and the ledger, shared by the stock and procurement suites.

/// The id of the default location a fresh database has, `MAIN`.
pub async fn main_location(c: &Client) -> i64 {
    find_id(c, "/api/locations", "code", "MAIN").await
}

/// The body of an adjustment request.
pub fn adjustment(product: i64, location: Option<i64>, kind: &str, quantity: i64) -> Value {
    let mut body = json!({
        "product_id": product,
        "kind": kind,
        "quantity": quantity,
        "reason": format!("{kind} of {quantity}"),
    });
    if let Some(l) = location {
        body["location_id"] = json!(l);
    }
    body
}

/// `POST /api/stock-adjustments`.
pub async fn adjust(
    c: &Client,
    product: i64,
    location: Option<i64>,
    kind: &str,
    quantity: i64,
) -> Resp {
    c.post(
        "/api/stock-adjustments",
        adjustment(product, location, kind, quantity),
    )
    .await
}

/// Books an adjustment, asserting 201, and returns the ledger row.
#[track_caller]
pub fn book<'a>(
    c: &'a Client,
    product: i64,
    location: Option<i64>,
    kind: &'a str,
    quantity: i64,
) -> impl Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = adjust(c, product, location, kind, quantity).await;
        assert_eq!(
            r.status.as_u16(),
            201,
            "booking {kind} {quantity} failed (called at {caller}): {r:?}"
        );
        r.body.clone()
    }
}

/// Every ledger row matching `query` (e.g. `product=3&kind=sale`).
pub async fn ledger(c: &Client, query: &str) -> Vec<Value> {
    if query.is_empty() {
        all_pages(c, "/api/stock-adjustments").await
    } else {
        all_pages(c, &format!("/api/stock-adjustments?{query}")).await
    }
}
