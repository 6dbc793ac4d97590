//! Prometheus metrics on `METRICS_BIND` (API.md §12), through the `metrics` facade and
//! `metrics-exporter-prometheus` (the metrics-rs project): the core counts ledger bookings
//! without knowing of HTTP or Prometheus, and this module adds the request histograms and
//! the pool gauges and serves the text format on its own address, so the scrape endpoint is
//! never reachable through the public listener or its proxy.

use std::sync::OnceLock;

use actix_web::{web, App, HttpResponse, HttpServer};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets in seconds: our requests take from tens of microseconds to, for an
/// import, seconds; the default buckets start at 5 ms and would put nearly every request in
/// the first one.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Whether requests are being measured (only when `METRICS_BIND` is set, so the per-request
/// route lookup costs nothing otherwise).
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// Installs the process-wide recorder once (a process may start several servers in tests).
fn install() -> Result<&'static PrometheusHandle, String> {
    if let Some(h) = HANDLE.get() {
        return Ok(h);
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            LATENCY_BUCKETS,
        )
        .map_err(|e| e.to_string())?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
    Ok(HANDLE.get_or_init(|| handle))
}

/// One answered request: a count and a latency sample by method, route template (never the
/// concrete path, whose ids would make one series per object) and status.
pub fn record_request(method: &str, route: String, status: u16, seconds: f64) {
    let labels = [
        ("method", method.to_owned()),
        ("route", plain_template(route)),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(seconds);
}

/// `/api/products/{id:\d+}` → `/api/products/{id}`: the route as the document names it, not
/// the router's pattern.
fn plain_template(route: String) -> String {
    if !route.contains(':') {
        return route;
    }
    let mut out = String::with_capacity(route.len());
    let mut in_regex = false;
    let mut depth = 0usize;
    for ch in route.chars() {
        match ch {
            '{' => {
                depth += 1;
                if !in_regex {
                    out.push(ch);
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    in_regex = false;
                    out.push(ch);
                }
            }
            ':' if depth == 1 => in_regex = true,
            _ if !in_regex => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Starts the metrics listener beside the API when `METRICS_BIND` is set. It stops with the
/// process's signals like the main server.
pub fn spawn(state: &crate::AppState) -> std::io::Result<()> {
    let Some(bind) = state
        .settings
        .metrics_bind
        .clone()
        .filter(|b| !b.is_empty())
    else {
        return Ok(());
    };
    let handle = install().map_err(std::io::Error::other)?;
    describe();
    let core = state.core.clone();
    let server = HttpServer::new(move || {
        let core = core.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let core = core.clone();
                async move {
                    let pool = core.db.pool_state();
                    metrics::gauge!("db_pool_connections").set(f64::from(pool.connections));
                    metrics::gauge!("db_pool_idle_connections")
                        .set(f64::from(pool.idle_connections));
                    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.max_size));
                    HttpResponse::Ok()
                        .content_type("text/plain; version=0.0.4; charset=utf-8")
                        .body(handle.render())
                }
            }),
        )
    })
    .workers(1)
    .bind(&bind)?;
    tokio::spawn(server.run());
    tracing::info!(bind = %bind, "metrics listening");
    Ok(())
}

fn describe() {
    metrics::describe_counter!("http_requests_total", "Answered HTTP requests.");
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time from the request's arrival to its answer."
    );
    metrics::describe_counter!(
        inventory_core::metrics::LEDGER_BOOKINGS,
        "Committed stock-ledger rows, by kind."
    );
    metrics::describe_gauge!("db_pool_connections", "Open database connections.");
    metrics::describe_gauge!("db_pool_idle_connections", "Idle database connections.");
    metrics::describe_gauge!("db_pool_max_connections", "The pool's size (DB_POOL_SIZE).");
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_lose_their_patterns() {
        assert_eq!(
            super::plain_template("/api/products/{id:\\d+}/suppliers/{s:\\d{1,3}}".into()),
            "/api/products/{id}/suppliers/{s}"
        );
        assert_eq!(
            super::plain_template("/api/products".into()),
            "/api/products"
        );
    }
}
