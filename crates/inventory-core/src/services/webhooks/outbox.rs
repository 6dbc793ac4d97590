//! The webhook outbox: events written with their change, and the sender's side of it —
//! claiming what is due, recording each attempt, scheduling the retry.
//!
//! Guarantees and what they rest on:
//! - An event exists if and only if its change committed: [`emit`] runs on the change's own
//!   connection, inside its transaction.
//! - At least once: a delivery stays `pending` until an attempt got a 2xx. A sender claims a
//!   delivery by setting `leased_until`; if its instance dies mid-send the lease runs out and
//!   any instance sends it again (same delivery id, same body).
//! - In order for one object: only the oldest pending delivery of a (webhook, object) pair is
//!   ever due, so a retried event is never overtaken by a later one about the same object.
//! - Bounded: after the last retry a delivery is `failed` and the object's later events go on.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use serde_json::Value;

use crate::db::{now, Db, DbConn};
use crate::error::CoreResult;
use crate::schema::{webhook_attempts, webhook_deliveries as wd, webhooks};
use crate::ts::SqlTs;
use crate::types::WebhookEvent;

/// The event `POST /api/webhooks/{id}/ping` sends.
pub const PING: &str = "ping";

/// How long a claimed delivery is the claimer's alone: the 10 s request timeout and room to
/// record the attempt. After it, another instance may send it again.
pub const LEASE_SECS: i64 = 60;

/// A delivery's states.
const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// One row per active webhook subscribed to the event; none (and no other cost than the
/// statement) when nobody subscribes. The event name is matched with its quotes, so
/// `product.created` never matches a longer name.
const EMIT: &str = "INSERT INTO webhook_deliveries \
     (webhook_id, event, object_key, data, created_at, state, attempts, next_attempt_at) \
     SELECT w.id, $1, $2, $3, $4, 'pending', 0, $4 FROM webhooks w \
     WHERE w.is_active AND w.events LIKE $5";

/// Writes `event` about `object_key` (e.g. `product:12`; delivery order is kept per key) to
/// the outbox of every active webhook that subscribes to it. Call it inside the change's
/// transaction, with the object as the API shows it.
pub fn emit(c: &mut DbConn, event: WebhookEvent, object_key: &str, data: &Value) -> CoreResult<()> {
    crate::sql::query(EMIT)
        .bind::<Text, _>(event.as_str())
        .bind::<Text, _>(object_key)
        .bind::<Text, _>(data.to_string())
        .bind::<Timestamp, _>(now())
        .bind::<Text, _>(format!("%\"{}\"%", event.as_str()))
        .execute(c)?;
    Ok(())
}

/// An event a change raises, ready for [`emit_all`].
#[derive(Debug, Clone)]
pub struct Event {
    pub event: WebhookEvent,
    pub object_key: String,
    pub data: Value,
}

impl Event {
    /// `event` about `object`, as the API shows it, keyed by its audit type and id (so one
    /// product's events arrive in order).
    pub fn about<T: serde::Serialize + crate::audit::Audited>(
        event: WebhookEvent,
        object: &T,
    ) -> CoreResult<Event> {
        Ok(Event {
            event,
            object_key: format!("{}:{}", T::TYPE, object.audit_id()),
            data: serde_json::to_value(object)
                .map_err(|e| crate::error::CoreError::Internal(e.to_string()))?,
        })
    }
}

/// Writes a change's events. With no active webhook at all (the usual case) that is one
/// small read; it sees what the per-event statements would, so nothing is skipped that they
/// would have queued.
pub fn emit_all(c: &mut DbConn, events: &[Event]) -> CoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let on = any_active(c)?;
    emit_if(c, on, events)
}

/// Whether any webhook is active: asked by a booking before it locks its rows, so that on
/// PostgreSQL the read is not one more round trip while other sellers of the product wait.
pub fn any_active(c: &mut DbConn) -> CoreResult<bool> {
    let any: i64 = webhooks::table
        .filter(webhooks::is_active.eq(true))
        .count()
        .get_result(c)?;
    Ok(any > 0)
}

/// Writes a change's events when [`any_active`], asked earlier in the same transaction, said
/// some webhook listens. A webhook activated in between is like one activated just after the
/// commit: it hears of later changes.
pub fn emit_if(c: &mut DbConn, on: bool, events: &[Event]) -> CoreResult<()> {
    if !on {
        return Ok(());
    }
    for e in events {
        emit(c, e.event, &e.object_key, &e.data)?;
    }
    Ok(())
}

/// Queues one event for one webhook (a ping), answering the delivery's id.
pub fn queue_one(
    c: &mut DbConn,
    webhook_id: i64,
    event: &str,
    object_key: &str,
    data: &Value,
) -> CoreResult<i64> {
    let t = now();
    Ok(diesel::insert_into(wd::table)
        .values((
            wd::webhook_id.eq(webhook_id),
            wd::event.eq(event),
            wd::object_key.eq(object_key),
            wd::data.eq(data.to_string()),
            wd::created_at.eq(t),
            wd::state.eq(PENDING),
            wd::attempts.eq(0),
            wd::next_attempt_at.eq(t),
        ))
        .returning(wd::id)
        .get_result(c)?)
}

/// A delivery the sender now holds: what to post, where, and with which secret.
#[derive(Debug, Clone, Queryable)]
pub struct Due {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    /// The event's `data`, JSON text exactly as written with the change.
    pub data: String,
    #[diesel(deserialize_as = SqlTs)]
    pub created_at: NaiveDateTime,
    /// Attempts made before this one.
    pub attempts: i32,
    pub url: String,
    pub secret: String,
}

impl Due {
    /// The body posted, the same bytes on every attempt: `{"id", "event", "at", "data"}`
    /// with `id` the delivery's id and `at` when the change committed.
    pub fn body(&self) -> String {
        format!(
            "{{\"id\":{},\"event\":{},\"at\":{},\"data\":{}}}",
            self.id,
            Value::from(self.event.as_str()),
            Value::from(crate::ts::fmt_ts(&self.created_at)),
            self.data
        )
    }
}

/// The oldest due deliveries (at most `limit`) that no earlier pending delivery of the same
/// (webhook, object) holds back, whose webhook is active and whose lease (if any) ran out.
const DUE: &str = "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
     WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
     AND (d.leased_until IS NULL OR d.leased_until < $1) AND w.is_active \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id \
       AND e.object_key = d.object_key AND e.state = 'pending' AND e.id < d.id) \
     ORDER BY d.next_attempt_at, d.id LIMIT $2";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Claims what is due for this sender: marks each with a lease in one write transaction, and
/// keeps only those whose lease this call set (another instance claiming the same rows at
/// the same moment gets the others, or none).
pub fn claim_due(db: &Db, limit: i64) -> CoreResult<Vec<Due>> {
    let t = now();
    // Most looks find nothing: ask on a read connection first, so an idle sender never takes
    // SQLite's write lock from the bookings.
    let any: Vec<Id> = db.read(|c| {
        Ok(crate::sql::query(DUE)
            .bind::<Timestamp, _>(t)
            .bind::<BigInt, _>(1)
            .load::<Id>(c)?)
    })?;
    if any.is_empty() {
        return Ok(vec![]);
    }
    db.write(|c| {
        let ids: Vec<i64> = crate::sql::query(DUE)
            .bind::<Timestamp, _>(t)
            .bind::<BigInt, _>(limit)
            .load::<Id>(c)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let claimed: Vec<i64> = diesel::update(
            wd::table
                .filter(wd::id.eq_any(&ids))
                .filter(wd::state.eq(PENDING))
                .filter(wd::leased_until.is_null().or(wd::leased_until.lt(t))),
        )
        .set(wd::leased_until.eq(t + Duration::seconds(LEASE_SECS)))
        .returning(wd::id)
        .get_results(c)?;
        Ok(wd::table
            .inner_join(webhooks::table)
            .filter(wd::id.eq_any(&claimed))
            .order(wd::id)
            .select((
                wd::id,
                wd::webhook_id,
                wd::event,
                wd::data,
                wd::created_at,
                wd::attempts,
                webhooks::url,
                webhooks::secret,
            ))
            .load(c)?)
    })
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The receiver's status, when it answered.
    pub status_code: Option<u16>,
    /// Why it failed; empty on success.
    pub error: String,
    pub duration_ms: i64,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Records an attempt and moves the delivery on: delivered on a 2xx; else retried after
/// `retry_after[attempts made]`, or failed once every delay is used (so a delivery gets
/// `retry_after.len() + 1` attempts). Answers the delivery's state after it.
pub fn finish(
    db: &Db,
    due: &Due,
    outcome: &Outcome,
    retry_after: &[std::time::Duration],
) -> CoreResult<&'static str> {
    let t = now();
    let attempt = due.attempts + 1;
    let next = if outcome.succeeded() {
        None
    } else {
        usize::try_from(due.attempts)
            .ok()
            .and_then(|i| retry_after.get(i))
            .map(|d| t + Duration::milliseconds(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    };
    let state = match (outcome.succeeded(), next) {
        (true, _) => DELIVERED,
        (false, Some(_)) => PENDING,
        (false, None) => FAILED,
    };
    db.write(|c| {
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(due.id),
                webhook_attempts::webhook_id.eq(due.webhook_id),
                webhook_attempts::event.eq(&due.event),
                webhook_attempts::attempt.eq(attempt),
                webhook_attempts::status_code.eq(outcome.status_code.map(i32::from)),
                webhook_attempts::error.eq(&outcome.error),
                webhook_attempts::duration_ms.eq(outcome.duration_ms),
                webhook_attempts::at.eq(t),
            ))
            .execute(c)?;
        diesel::update(wd::table.find(due.id).filter(wd::state.eq(PENDING)))
            .set((
                wd::state.eq(state),
                wd::attempts.eq(attempt),
                wd::next_attempt_at.eq(next.unwrap_or(t)),
                wd::leased_until.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
        Ok(state)
    })
}

/// Drops deliveries (and their attempts) that ended more than `keep_days` ago, so the outbox
/// stays the size of what is recent. Answers how many deliveries went.
pub fn purge_finished(db: &Db, keep_days: i64) -> CoreResult<usize> {
    let before = now() - Duration::days(keep_days);
    db.write(|c| {
        let old = wd::table
            .filter(wd::state.ne(PENDING))
            .filter(wd::created_at.lt(before))
            .select(wd::id);
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(old)))
            .execute(c)?;
        Ok(diesel::delete(
            wd::table
                .filter(wd::state.ne(PENDING))
                .filter(wd::created_at.lt(before)),
        )
        .execute(c)?)
    })
}
