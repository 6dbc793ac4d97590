//! Helpers for the stock scenarios: bookings, level and ledger snapshots.

use conformance::fixtures::all_pages;
pub use conformance::fixtures::{adjust, adjustment, book, ledger, main_location};
use conformance::{json, Client, Value};
use std::collections::BTreeMap;

/// Creates a location with `code` (needs a manager or above) and returns its id.
pub async fn new_location(c: &Client, code: &str) -> i64 {
    conformance::fixtures::location(c, code).await
}

/// Creates a product with no stock and returns its id.
pub async fn new_product(c: &Client, sku: &str) -> i64 {
    conformance::fixtures::simple_product(c, sku, "2.50").await
}

/// The quantity of `product` at `location` per `GET /api/stock-levels` (0 when there is no row).
pub async fn level(c: &Client, product: i64, location: i64) -> i64 {
    let rows = c
        .get(&format!(
            "/api/stock-levels?product={product}&location={location}"
        ))
        .await
        .page();
    assert!(
        rows.len() <= 1,
        "one stock level per product and location: {rows:?}"
    );
    for r in &rows {
        assert_eq!(
            r["product_id"],
            json!(product),
            "stock-levels?product= filters: {rows:?}"
        );
        assert_eq!(
            r["location_id"],
            json!(location),
            "stock-levels?location= filters: {rows:?}"
        );
    }
    rows.first()
        .map(|r| r["quantity"].as_i64().expect("integer quantity"))
        .unwrap_or(0)
}

/// The product's total quantity per `GET /api/products/{id}`.
pub async fn total(c: &Client, product: i64) -> i64 {
    let r = c.get(&format!("/api/products/{product}")).await;
    r.expect(200)["quantity"]
        .as_i64()
        .unwrap_or_else(|| panic!("product has an integer quantity: {r:?}"))
}

/// The number of ledger rows matching `query`.
pub async fn ledger_count(c: &Client, query: &str) -> u64 {
    if query.is_empty() {
        c.get("/api/stock-adjustments").await.count()
    } else {
        c.get(&format!("/api/stock-adjustments?{query}"))
            .await
            .count()
    }
}

/// Everything a user could see about a product's stock: total, level per location, ledger size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stock {
    pub total: i64,
    pub levels: BTreeMap<i64, i64>,
    pub ledger_rows: u64,
}

impl Stock {
    pub fn at(&self, location: i64) -> i64 {
        self.levels.get(&location).copied().unwrap_or(0)
    }
}

/// A snapshot of the product's stock; also checks that the total is the sum of its levels.
pub async fn stock(c: &Client, product: i64) -> Stock {
    let rows = all_pages(c, &format!("/api/stock-levels?product={product}")).await;
    let mut levels = BTreeMap::new();
    for r in &rows {
        assert_eq!(
            r["product_id"],
            json!(product),
            "stock-levels?product= filters: {rows:?}"
        );
        let q = r["quantity"].as_i64().expect("integer quantity");
        assert!(q >= 0, "no level is ever negative: {rows:?}");
        if q != 0 {
            levels.insert(r["location_id"].as_i64().expect("integer location_id"), q);
        }
    }
    let total = total(c, product).await;
    assert_eq!(
        total,
        levels.values().sum::<i64>(),
        "a product's quantity is the sum over its locations: {rows:?}"
    );
    let ledger_rows = ledger_count(c, &format!("product={product}")).await;
    Stock {
        total,
        levels,
        ledger_rows,
    }
}

/// A timestamp field parsed as RFC 3339 in UTC.
#[track_caller]
pub fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("a timestamp is a string, got {v}"));
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s:?} is not RFC 3339: {e}"));
    assert_eq!(t.offset().local_minus_utc(), 0, "timestamps are UTC: {s}");
    t.with_timezone(&chrono::Utc)
}

/// A GTIN (EAN-8, UPC-A, EAN-13) made of `body` plus its correct check digit.
pub fn gtin(body: &str) -> String {
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).expect("digits");
            if i % 2 == 0 {
                d * 3
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// The same code with a wrong check digit.
pub fn wrong_check_digit(code: &str) -> String {
    let (body, check) = code.split_at(code.len() - 1);
    let d = check.parse::<u32>().expect("digit");
    format!("{body}{}", (d + 1) % 10)
}

/// Like `variants!`, on a multi-threaded runtime so the requests really run in parallel.
/// `all:` gives cookie/jwt × sqlite/postgres; `postgres:` gives cookie/jwt on PostgreSQL only.
macro_rules! parallel_variants {
    (@one $name:ident, $test:ident, $auth:ident, $backend:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $test() {
            conformance::run(conformance::Auth::$auth, conformance::Backend::$backend, conformance::default_settings, super::$name).await;
        }
    };
    (all: $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                parallel_variants!(@one $name, cookie_sqlite, Cookie, Sqlite);
                parallel_variants!(@one $name, jwt_sqlite, Jwt, Sqlite);
                parallel_variants!(@one $name, cookie_postgres, Cookie, Postgres);
                parallel_variants!(@one $name, jwt_postgres, Jwt, Postgres);
            }
        )*
    };
}
