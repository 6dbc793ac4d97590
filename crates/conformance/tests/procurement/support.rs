//! Helpers for the procurement and insight scenarios: a cast of users, bookings, orders, an
//! SMTP sink, a small CSV reader and the test-expanding macros this target needs.

pub use conformance::fixtures::{adjust, book, ledger, main_location};
use conformance::{json, Client, Resp, TestApp, Value};
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Macros

/// Like `conformance::variants!`, on a multi-threaded runtime so that requests fired together
/// really run in parallel: cookie/jwt × sqlite/postgres.
macro_rules! parallel_variants {
    (@one $name:ident, $test:ident, $auth:ident, $backend:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $test() {
            conformance::run(
                conformance::Auth::$auth,
                conformance::Backend::$backend,
                conformance::default_settings,
                super::$name,
            )
            .await;
        }
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                parallel_variants!(@one $name, cookie_sqlite, Cookie, Sqlite);
                parallel_variants!(@one $name, jwt_sqlite, Jwt, Sqlite);
                parallel_variants!(@one $name, cookie_postgres, Cookie, Postgres);
                parallel_variants!(@one $name, jwt_postgres, Jwt, Postgres);
            }
        )*
    };
}

/// Scenarios `async fn name(app: TestApp, sink: SmtpSink)` run against a server whose
/// `EMAIL_URL` points at a fresh SMTP sink of their own: cookie/jwt × sqlite/postgres.
macro_rules! smtp_variants {
    (@one $name:ident, $test:ident, $auth:ident, $backend:ident) => {
        #[tokio::test]
        async fn $test() {
            let sink = crate::support::SmtpSink::start();
            crate::support::use_smtp_port(sink.port());
            conformance::run(
                conformance::Auth::$auth,
                conformance::Backend::$backend,
                crate::support::smtp_settings,
                |app| super::$name(app, sink),
            )
            .await;
        }
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                smtp_variants!(@one $name, cookie_sqlite, Cookie, Sqlite);
                smtp_variants!(@one $name, jwt_sqlite, Jwt, Sqlite);
                smtp_variants!(@one $name, cookie_postgres, Cookie, Postgres);
                smtp_variants!(@one $name, jwt_postgres, Jwt, Postgres);
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// SMTP sink

thread_local! {
    static SMTP_PORT: std::cell::Cell<Option<u16>> = const { std::cell::Cell::new(None) };
}

/// Makes [`smtp_settings`], called later on this same thread by `conformance::run`, point the
/// server at `127.0.0.1:port`.
pub fn use_smtp_port(port: u16) {
    SMTP_PORT.with(|p| p.set(Some(port)));
}

/// A settings tweak: mail goes out by SMTP to the sink registered with [`use_smtp_port`].
pub fn smtp_settings(s: &mut inventory_web::Settings) {
    let port = SMTP_PORT
        .with(std::cell::Cell::get)
        .expect("use_smtp_port was called before the server started");
    s.email_url = Some(inventory_web::settings::Secret::new(format!(
        "smtp://127.0.0.1:{port}"
    )));
}

/// One message as the sink received it.
#[derive(Clone, Debug)]
pub struct SmtpMessage {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section (headers and body), dot-stuffing undone.
    pub data: String,
}

impl SmtpMessage {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut lines = self.data.split("\r\n").peekable();
        let prefix = format!("{}:", name.to_ascii_lowercase());
        while let Some(line) = lines.next() {
            if line.is_empty() {
                return None;
            }
            if line.to_ascii_lowercase().starts_with(&prefix) {
                let mut v = line[prefix.len()..].trim().to_owned();
                while let Some(next) = lines.peek() {
                    if next.starts_with(' ') || next.starts_with('\t') {
                        v.push(' ');
                        v.push_str(next.trim());
                        lines.next();
                    } else {
                        break;
                    }
                }
                return Some(v);
            }
        }
        None
    }
}

/// A tiny SMTP server on a random loopback port: it accepts everything and keeps each message.
/// Speaks just enough SMTP for a real client (lettre): 220 greeting, EHLO/HELO 250,
/// MAIL/RCPT 250, DATA 354 … "." 250, RSET/NOOP 250, QUIT 221.
#[derive(Clone)]
pub struct SmtpSink {
    port: u16,
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
    stop: Arc<AtomicBool>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP sink");
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (messages.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let m = m.clone();
                std::thread::spawn(move || {
                    let _ = serve_smtp(conn, &m);
                });
            }
        });
        SmtpSink {
            port,
            messages,
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn messages(&self) -> Vec<SmtpMessage> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits up to five seconds for messages matching `pred`, returning all that match.
    pub async fn wait_for(
        &self,
        what: &str,
        pred: impl Fn(&SmtpMessage) -> bool,
    ) -> Vec<SmtpMessage> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found: Vec<SmtpMessage> = self.messages().into_iter().filter(&pred).collect();
            if !found.is_empty() {
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "the SMTP sink received no {what}; it has: {:#?}",
                    self.messages()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops accepting connections (the accept loop wakes on one last connection).
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve_smtp(conn: TcpStream, messages: &Mutex<Vec<SmtpMessage>>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = conn.try_clone()?;
    let mut input = BufReader::new(conn);
    out.write_all(b"220 sink.test ESMTP conformance sink\r\n")?;
    let (mut from, mut rcpt) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            out.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?;
        } else if upper.starts_with("HELO") {
            out.write_all(b"250 sink.test\r\n")?;
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&cmd[10..]);
            rcpt.clear();
            out.write_all(b"250 OK\r\n")?;
        } else if upper.starts_with("RCPT TO:") {
            rcpt.push(address(&cmd[8..]));
            out.write_all(b"250 OK\r\n")?;
        } else if upper == "DATA" {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            messages.lock().unwrap().push(SmtpMessage {
                mail_from: from.clone(),
                rcpt_to: std::mem::take(&mut rcpt),
                data,
            });
            out.write_all(b"250 OK queued\r\n")?;
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            // RSET, NOOP and anything else: fine.
            out.write_all(b"250 OK\r\n")?;
        }
    }
}

/// `<a@b>` or ` <a@b> SIZE=…` → `a@b`.
fn address(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_owned(),
        _ => s.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny CSV reader (RFC 4180: quoted fields, doubled quotes, CRLF or LF)

pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                any = false;
            }
            c => field.push(c),
        }
    }
    if any {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// A CSV answer as rows of `header → value` maps, asserting a text/csv content type and a
/// header row that names at least `columns`.
#[track_caller]
pub fn csv_records(r: &Resp, columns: &[&str]) -> Vec<std::collections::BTreeMap<String, String>> {
    assert_eq!(r.status.as_u16(), 200, "a CSV answer is a 200: {r:?}");
    let ct = r.header("content-type").unwrap_or_default();
    assert!(
        ct.to_ascii_lowercase().starts_with("text/csv"),
        "CSV is served as text/csv, got {ct:?}: {r:?}"
    );
    let rows = parse_csv(&r.text);
    assert!(!rows.is_empty(), "a CSV answer has a header row: {r:?}");
    let header = &rows[0];
    for c in columns {
        assert!(
            header.iter().any(|h| h == c),
            "the CSV header names `{c}`: {header:?}"
        );
    }
    rows[1..]
        .iter()
        .map(|row| {
            assert_eq!(
                row.len(),
                header.len(),
                "every CSV row has as many fields as the header: {row:?} vs {header:?}"
            );
            header.iter().cloned().zip(row.iter().cloned()).collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The cast and the catalog

/// The people of a small shop: the superuser, and one signed-in user of each role.
pub struct Cast {
    pub root: Client,
    pub admin: Client,
    pub manager: Client,
    pub employee: Client,
    pub auditor: Client,
    pub guest: Client,
}

pub async fn cast(app: &TestApp) -> Cast {
    Cast {
        root: app.root().await,
        admin: app.user_with_role("admin").await,
        manager: app.user_with_role("manager").await,
        employee: app.user_with_role("employee").await,
        auditor: app.user_with_role("auditor").await,
        guest: app.client(),
    }
}

/// The email address of a signed-in client.
pub fn email_of(c: &Client) -> String {
    c.user()["email"]
        .as_str()
        .expect("a signed-in user has an email")
        .to_owned()
}

/// Creates a product from `fields` (adding a name and price when missing) and returns its id.
#[track_caller]
pub fn product<'a>(c: &'a Client, sku: &'a str, fields: Value) -> impl Future<Output = i64> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let mut body = json!({"sku": sku, "name": format!("Product {sku}"), "price": "2.50"});
        for (k, v) in fields.as_object().cloned().unwrap_or_default() {
            body[k] = v;
        }
        let r = c.post("/api/products", body).await;
        assert_eq!(
            r.status.as_u16(),
            201,
            "creating product {sku} failed (called at {caller}): {r:?}"
        );
        r.id()
    }
}

/// Creates a supplier and returns its id.
pub async fn supplier(c: &Client, name: &str) -> i64 {
    conformance::fixtures::supplier(c, name).await
}

/// Links `supplier` to `product` with the given link fields.
#[track_caller]
pub fn link<'a>(
    c: &'a Client,
    product: i64,
    supplier: i64,
    extra: Value,
) -> impl Future<Output = Value> + 'a {
    conformance::fixtures::link(c, product, supplier, extra)
}

/// The product–supplier link, or `None`.
pub async fn link_of(c: &Client, product: i64, supplier: i64) -> Option<Value> {
    let r = c.get(&format!("/api/products/{product}/suppliers")).await;
    let links = match &r.body {
        Value::Array(a) => a.clone(),
        Value::Object(o) if o.contains_key("results") => r.page(),
        _ => panic!("unexpected answer listing links: {r:?}"),
    };
    links
        .into_iter()
        .find(|l| l["supplier_id"] == json!(supplier))
}

/// The `quantity` (units supplied so far) of a link.
pub async fn link_quantity(c: &Client, product: i64, supplier: i64) -> i64 {
    link_of(c, product, supplier)
        .await
        .unwrap_or_else(|| panic!("product {product} is linked to supplier {supplier}"))["quantity"]
        .as_i64()
        .expect("a link has an integer quantity")
}

// ---------------------------------------------------------------------------------------------
// Stock

/// The product's total quantity.
#[track_caller]
pub fn quantity<'a>(c: &'a Client, product: i64) -> impl Future<Output = i64> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = c.get(&format!("/api/products/{product}")).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "reading product {product} (called at {caller}): {r:?}"
        );
        r.body["quantity"].as_i64().expect("integer quantity")
    }
}

/// The quantity of `product` at `location` (0 when there is no row).
pub async fn level(c: &Client, product: i64, location: i64) -> i64 {
    let rows = c
        .get(&format!(
            "/api/stock-levels?product={product}&location={location}"
        ))
        .await
        .page();
    rows.iter()
        .find(|r| r["product_id"] == json!(product) && r["location_id"] == json!(location))
        .map(|r| r["quantity"].as_i64().expect("integer quantity"))
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Orders

pub fn line(product: i64, quantity: i64) -> Value {
    json!({"product_id": product, "quantity": quantity})
}

pub fn priced_line(product: i64, quantity: i64, price: &str) -> Value {
    json!({"product_id": product, "quantity": quantity, "unit_price": price})
}

pub fn order_body(supplier: i64, lines: Vec<Value>) -> Value {
    json!({"supplier_id": supplier, "notes": "for the shelves", "lines": lines})
}

/// `POST /api/orders`, asserting 201 `draft`, and returns the order.
#[track_caller]
pub fn draft<'a>(c: &'a Client, body: Value) -> impl Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = c.post("/api/orders", body).await;
        assert_eq!(
            r.status.as_u16(),
            201,
            "creating an order failed (called at {caller}): {r:?}"
        );
        assert_eq!(r.body["status"], "draft", "a new order is a draft: {r:?}");
        r.body.clone()
    }
}

/// `POST /api/orders/{id}/{action}` (`submit`, `approve`, `cancel`; no body).
pub async fn act(c: &Client, id: i64, action: &str) -> Resp {
    c.post_empty(&format!("/api/orders/{id}/{action}")).await
}

/// Performs `action`, asserting 200 and the resulting status.
#[track_caller]
pub fn step<'a>(
    c: &'a Client,
    id: i64,
    action: &'a str,
    to: &'a str,
) -> impl Future<Output = Value> + 'a {
    let caller = std::panic::Location::caller();
    async move {
        let r = act(c, id, action).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "{action} of order {id} failed (called at {caller}): {r:?}"
        );
        assert_eq!(
            r.body["status"],
            json!(to),
            "{action} makes the order {to} (called at {caller}): {r:?}"
        );
        r.body.clone()
    }
}

/// `POST /api/orders/{id}/receive` with `(product, quantity)` lines.
pub async fn receive(c: &Client, id: i64, lines: &[(i64, i64)]) -> Resp {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(p, q)| json!({"product_id": p, "quantity": q}))
        .collect();
    c.post(
        &format!("/api/orders/{id}/receive"),
        json!({ "lines": lines }),
    )
    .await
}

pub async fn order(c: &Client, id: i64) -> Value {
    c.get(&format!("/api/orders/{id}"))
        .await
        .expect(200)
        .clone()
}

pub async fn order_status(c: &Client, id: i64) -> String {
    order(c, id).await["status"]
        .as_str()
        .expect("status is a string")
        .to_owned()
}

/// Drafts an order from `employee`, submits it, and (with `manager`) approves it.
pub async fn approved_order(employee: &Client, manager: &Client, body: Value) -> Value {
    let o = draft(employee, body).await;
    let id = o["id"].as_i64().unwrap();
    step(employee, id, "submit", "submitted").await;
    step(manager, id, "approve", "approved").await
}

/// Whether `s` looks like `PO-000123` (PO-, then at least six digits).
pub fn is_order_number(s: &str) -> bool {
    s.strip_prefix("PO-")
        .is_some_and(|d| d.len() >= 6 && d.chars().all(|c| c.is_ascii_digit()))
}

/// The id in an order (or any object) body.
#[track_caller]
pub fn id_of(v: &Value) -> i64 {
    v["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer id in {v}"))
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}
