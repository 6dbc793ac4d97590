//! Requests released together: the races of the concurrency scenarios (last units, parallel
//! receipts, approvals, shipments of one order) all start this way, so the contract's "never
//! lose an update" is tested with real parallel requests, not requests that happen to overlap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use crate::{Client, Method, Raw, Resp, Value};

/// What a race answered: each request's answer and how long it took, in the order sent, and
/// how long the whole race took.
#[derive(Debug)]
pub struct Race {
    pub answers: Vec<Resp>,
    pub took: Vec<Duration>,
    pub elapsed: Duration,
}

/// Sends every `(client, method, path, body)` at once: each request waits on a barrier until
/// all are ready, so none starts ahead of the others.
pub async fn all_at_once(requests: Vec<(Arc<Client>, Method, String, Option<Value>)>) -> Race {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let started = Instant::now();
    let tasks = requests.into_iter().map(|(client, method, path, body)| {
        let barrier = barrier.clone();
        tokio::spawn(async move {
            let mut raw = Raw::new(method, path);
            if let Some(b) = &body {
                raw = raw.json(b);
            }
            barrier.wait().await;
            let t = Instant::now();
            let r = client.raw(raw).await;
            (r, t.elapsed())
        })
    });
    let (answers, took) = join_all(tasks)
        .await
        .into_iter()
        .map(|j| j.expect("a request task panicked"))
        .unzip();
    Race {
        answers,
        took,
        elapsed: started.elapsed(),
    }
}

/// How many answers had each status.
pub fn tally(answers: &[Resp]) -> BTreeMap<u16, usize> {
    let mut m = BTreeMap::new();
    for r in answers {
        *m.entry(r.status.as_u16()).or_insert(0) += 1;
    }
    m
}

/// How many answers had `status`.
pub fn count(answers: &[Resp], status: u16) -> usize {
    answers
        .iter()
        .filter(|r| r.status.as_u16() == status)
        .count()
}
