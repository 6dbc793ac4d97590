//! The webhook sender: a background task on every instance that claims due deliveries from
//! the outbox (`inventory_core::services::webhooks::outbox`), signs and posts them, and
//! records each attempt. Instances share the work through the database's leases; a restart
//! loses nothing (an unanswered claim's lease runs out and the delivery is sent again, with
//! the same delivery id and body: at least once).
//!
//! Requests are signed `X-Inventory-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw
//! body>">`, keyed with the webhook's secret, with the Unix timestamp in
//! `X-Inventory-Timestamp`, so a receiver can check both origin and freshness.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use inventory_core::services::webhooks::{guard, outbox};
use inventory_core::Core;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sha2::Sha256;

/// How long a receiver has to answer before the attempt counts as failed.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle sender looks for due deliveries.
const POLL: Duration = Duration::from_millis(500);
/// Deliveries claimed (and sent concurrently) at a time.
const BATCH: i64 = 16;
/// Finished deliveries are kept this long for the delivery log.
pub const KEEP_DAYS: i64 = 30;

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` keyed with `secret`: what
/// `X-Inventory-Signature` carries after `sha256=`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Resolves names for the sender and drops the addresses the SSRF guard forbids, so a name
/// that resolves to a private address at send time is never called, whatever it resolved to
/// when the webhook was saved.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs: Vec<SocketAddr> = found
                .filter(|a| allow_private || guard::allowed(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no address webhooks may call").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Makes ring this process's TLS provider for HTTP clients (what `rustls` uses when a
/// client is built without one of its own). Idempotent: a provider already installed stays.
pub fn install_crypto() {
    drop(rustls::crypto::ring::default_provider().install_default());
}

fn client(allow_private: bool) -> Result<reqwest::Client, String> {
    install_crypto();
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(TIMEOUT)
        // A redirect could lead anywhere, past the guard: a receiver must answer itself.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(GuardedResolver { allow_private })
        .user_agent(concat!("inventory-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// A URL whose host is an address (no name to resolve) is checked here; names are checked
/// by [`GuardedResolver`] as they resolve.
fn literal_allowed(url: &str, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => std::net::IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => std::net::IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if guard::allowed(ip) {
        Ok(())
    } else {
        Err(format!("{ip} is not an address webhooks may call"))
    }
}

/// Why a request got no answer, in words for the delivery log (never the secret or body).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
        let mut last = String::from("could not connect");
        while let Some(s) = source {
            last = format!("could not connect: {s}");
            source = s.source();
        }
        last
    } else {
        e.to_string()
    }
}

async fn attempt(
    client: &reqwest::Client,
    due: &outbox::Due,
    allow_private: bool,
) -> outbox::Outcome {
    let started = Instant::now();
    let elapsed = |s: Instant| i64::try_from(s.elapsed().as_millis()).unwrap_or(i64::MAX);
    if let Err(e) = literal_allowed(&due.url, allow_private) {
        return outbox::Outcome {
            status_code: None,
            error: e,
            duration_ms: 0,
        };
    }
    let body = due.body();
    let timestamp = chrono::Utc::now().timestamp();
    let sent = client
        .post(&due.url)
        .header("Content-Type", "application/json")
        .header("X-Inventory-Event", &due.event)
        .header("X-Inventory-Delivery", due.id.to_string())
        .header("X-Inventory-Timestamp", timestamp.to_string())
        .header(
            "X-Inventory-Signature",
            format!("sha256={}", signature(&due.secret, timestamp, &body)),
        )
        .body(body)
        .send()
        .await;
    match sent {
        Ok(resp) => {
            let status = resp.status();
            outbox::Outcome {
                status_code: Some(status.as_u16()),
                error: if status.is_success() {
                    String::new()
                } else {
                    format!("the receiver answered {status}")
                },
                duration_ms: elapsed(started),
            }
        }
        Err(e) => outbox::Outcome {
            status_code: None,
            error: describe(&e),
            duration_ms: elapsed(started),
        },
    }
}

/// Sends one claimed delivery and records the attempt.
async fn deliver(
    core: &Core,
    client: &reqwest::Client,
    due: outbox::Due,
    schedule: &Arc<Vec<Duration>>,
    allow_private: bool,
) {
    let outcome = attempt(client, &due, allow_private).await;
    let result = if outcome.succeeded() {
        "delivered"
    } else {
        "failed_attempt"
    };
    metrics::counter!("webhook_deliveries_total", "event" => due.event.clone(), "result" => result)
        .increment(1);
    let (c, s) = (core.clone(), schedule.clone());
    let id = due.id;
    let recorded =
        tokio::task::spawn_blocking(move || outbox::finish(&c.db, &due, &outcome, &s)).await;
    match recorded {
        Ok(Ok("failed")) => tracing::warn!(
            delivery = id,
            "webhook delivery gave up after its last retry"
        ),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(delivery = id, error = %e, "could not record a webhook attempt")
        }
        Err(e) => tracing::warn!(delivery = id, error = %e, "webhook attempt task failed"),
    }
}

/// Starts the sender on the current runtime: claims what is due, sends a batch concurrently,
/// and looks again at once while there is more, or after [`POLL`] when there is none. It
/// stops once `server` (the app state's lifetime token) is gone.
pub fn spawn(
    server: std::sync::Weak<()>,
    core: Core,
    schedule: Vec<Duration>,
    allow_private: bool,
) {
    let schedule = Arc::new(schedule);
    tokio::spawn(async move {
        let client = match client(allow_private) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook sender could not start; no webhooks will be sent");
                return;
            }
        };
        // Ends with the server whose state it was started for.
        while server.strong_count() > 0 {
            let c = core.clone();
            let due = tokio::task::spawn_blocking(move || outbox::claim_due(&c.db, BATCH)).await;
            match due {
                Ok(Ok(list)) if !list.is_empty() => {
                    let sends = list
                        .into_iter()
                        .map(|d| deliver(&core, &client, d, &schedule, allow_private));
                    futures_util::future::join_all(sends).await;
                    continue;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not claim webhook deliveries"),
                Err(e) => tracing::warn!(error = %e, "webhook claim task failed"),
            }
            tokio::time::sleep(POLL).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        // Checked against a value computed independently, with Python's hmac module:
        // hmac.new(b"whsec_test", b"1700000000.{\"id\":1}", hashlib.sha256).hexdigest().
        assert_eq!(
            signature("whsec_test", 1_700_000_000, "{\"id\":1}"),
            "2f441ba4b3b2d50d28a9ab9d9fd8880376ecd1eb5d0435401553f5d8d0a5dcf8"
        );
    }

    #[test]
    fn literal_private_addresses_are_refused_unless_allowed() {
        assert!(literal_allowed("http://127.0.0.1:9/x", false).is_err());
        assert!(literal_allowed("http://[::1]:9/x", false).is_err());
        assert!(literal_allowed("http://10.0.0.1/x", false).is_err());
        assert!(literal_allowed("http://127.0.0.1:9/x", true).is_ok());
        assert!(literal_allowed("https://example.com/x", false).is_ok());
    }
}
