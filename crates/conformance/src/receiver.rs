//! A real HTTP receiver for webhook scenarios: an actix-web server on a loopback port that
//! records every request it gets (headers and raw body) and answers 500 to the first
//! attempts of each delivery (or to all of them), so retries, ordering and signatures are
//! checked against what really went over the wire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    /// `X-Inventory-Delivery`.
    pub delivery: i64,
    /// `X-Inventory-Event`.
    pub event: String,
    /// `X-Inventory-Timestamp`.
    pub timestamp: String,
    /// `X-Inventory-Signature`.
    pub signature: String,
    pub body: String,
    /// What the receiver answered.
    pub answered: u16,
}

impl Hit {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a body is JSON ({e}): {}", self.body))
    }

    /// Whether the signature is `sha256=` and the hex HMAC-SHA256 of `"<timestamp>.<body>"`
    /// keyed with `secret`, computed here from the bytes received.
    pub fn signed_with(&self, secret: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{}.{}", self.timestamp, self.body).as_bytes());
        self.signature == format!("sha256={}", hex_lower(&mac.finalize().into_bytes()))
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.answered)
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Default)]
struct State {
    hits: Vec<Hit>,
    /// Attempts seen per delivery id.
    seen: HashMap<i64, usize>,
    /// Per path: how many attempts of each delivery fail before one succeeds (`usize::MAX`:
    /// all of them).
    fail_first: HashMap<String, usize>,
    /// Per path: how long the receiver keeps a request before it answers.
    hold: HashMap<String, Duration>,
}

/// The running receiver; stopped when dropped.
pub struct Receiver {
    pub base_url: String,
    state: Arc<Mutex<State>>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let delivery: i64 = header("X-Inventory-Delivery").parse().unwrap_or(-1);
    let path = req.path().to_owned();
    let (answered, hold) = {
        let mut st = state.lock().unwrap();
        let fail_first = st.fail_first.get(&path).copied().unwrap_or(0);
        let n = {
            let n = st.seen.entry(delivery).or_insert(0);
            *n += 1;
            *n
        };
        let answered = if n <= fail_first { 500 } else { 200 };
        let hold = st.hold.get(&path).copied().unwrap_or_default();
        st.hits.push(Hit {
            path,
            delivery,
            event: header("X-Inventory-Event"),
            timestamp: header("X-Inventory-Timestamp"),
            signature: header("X-Inventory-Signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
            answered,
        });
        (answered, hold)
    };
    if !hold.is_zero() {
        actix_web::rt::time::sleep(hold).await;
    }
    if answered == 200 {
        HttpResponse::Ok().body("thanks")
    } else {
        HttpResponse::InternalServerError().body("not yet")
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state: Arc<Mutex<State>> = Arc::default();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind a loopback port for the receiver");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            base_url: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    /// Requests to `path` fail (500) for the first `n` attempts of each delivery.
    pub fn fail_first(&self, path: &str, n: usize) {
        self.state
            .lock()
            .unwrap()
            .fail_first
            .insert(path.to_owned(), n);
    }

    /// Requests to `path` are recorded when they arrive and answered only `d` later, so a
    /// test can stop the sender while its requests are in flight.
    pub fn hold(&self, path: &str, d: Duration) {
        self.state.lock().unwrap().hold.insert(path.to_owned(), d);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.lock().unwrap().hits.clone()
    }

    /// Waits (up to `limit`) until `done` holds for what was received, and answers it;
    /// panics with what was received when it never does.
    pub async fn wait_until(&self, limit: Duration, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let until = std::time::Instant::now() + limit;
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            if std::time::Instant::now() > until {
                panic!("the receiver never got what was expected; it got: {hits:#?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
