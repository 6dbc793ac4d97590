//! API.md §12 logging, read from a real server's output: one JSON line per request with
//! method, path, status, duration, request id and user; a client's 4xx at info with no Rust
//! debug dump; never a password, a token or a query string in the log.

use conformance::Backend;

use crate::process::{database, free_port, http, token, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_line_per_request_and_no_secrets() {
    let Some(db) = database(Backend::Sqlite) else {
        return;
    };
    let log = std::env::temp_dir().join(format!("access-{}.log", free_port()));
    let server = Server::start_with(
        &db.url,
        free_port(),
        &[("RUST_LOG", "info"), ("LOG_FORMAT", "json")],
        Some(&log),
    );
    let base = server.base.clone();
    let c = http();
    let secret_password = "Unlogged-Password-9931";
    let refused = c
        .post(format!("{base}/api/token"))
        .header("X-Request-Id", "log-refused-login")
        .json(&serde_json::json!({"username": "root", "password": secret_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let tok = token(&base).await;
    let missing = c
        .get(format!("{base}/api/products/987654?secret_query=abc123"))
        .bearer_auth(&tok)
        .header("X-Request-Id", "log-missing-product")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let listed = c
        .get(format!("{base}/api/products"))
        .bearer_auth(&tok)
        .header("X-Request-Id", "log-list")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let me: serde_json::Value = c
        .get(format!("{base}/api/auth/me"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.sigterm();
    drop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).ok();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    let access = |id: &str| -> Vec<&serde_json::Value> {
        lines
            .iter()
            .filter(|l| l["target"] == "access" && l["fields"]["request_id"] == id)
            .collect()
    };
    for id in ["log-refused-login", "log-missing-product", "log-list"] {
        assert_eq!(access(id).len(), 1, "one line for {id}: {text}");
    }
    let miss = access("log-missing-product")[0];
    assert_eq!(miss["level"], "INFO", "a 404 is the client's: {miss}");
    assert_eq!(miss["fields"]["status"], 404);
    assert_eq!(miss["fields"]["method"], "GET");
    assert_eq!(miss["fields"]["path"], "/api/products/987654");
    assert_eq!(miss["fields"]["user_id"], me["id"], "{miss}");
    assert!(miss["fields"]["duration_ms"].is_string());
    let ok = access("log-list")[0];
    assert_eq!(
        (ok["level"].as_str(), ok["fields"]["status"].as_u64()),
        (Some("INFO"), Some(200))
    );
    let refused = access("log-refused-login")[0];
    assert_eq!(refused["fields"]["status"], 401);
    assert!(refused["fields"]["user_id"].is_null());
    for needle in [
        secret_password,
        tok.as_str(),
        "abc123",
        "ApiError",
        "exception",
    ] {
        assert!(!text.contains(needle), "the log holds {needle:?}: {text}");
    }
    assert!(
        lines
            .iter()
            .all(|l| l["level"] != "WARN" && l["level"] != "ERROR"),
        "nothing went wrong, so nothing is a warning: {text}"
    );
}
