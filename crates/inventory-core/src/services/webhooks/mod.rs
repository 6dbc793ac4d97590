//! Webhooks (API.md §11): admins register URLs that are told when stock, products, alerts,
//! transfers and orders change.
//!
//! A change writes its events to an outbox (`outbox::emit`) inside its own transaction, so
//! an event exists if and only if the change committed. A background sender (in the web
//! crate, the one part that speaks HTTP) claims due deliveries with a lease, signs and posts
//! them, and records every attempt here (`outbox::finish`). Secrets are generated here, shown
//! once in the create answer, and never written to the audit log or a log line.

pub mod guard;
pub mod outbox;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Audited, Changes, Entry};
use crate::auth::{Ctx, Principal};
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::paging::{PageReq, Paged};
use crate::schema::{webhook_attempts, webhooks};
use crate::ts::SqlTs;
use crate::types::{ser_ts, Role, WebhookEvent};

/// What every secret starts with, so a leaked one is recognisable.
const SECRET_PREFIX: &str = "whsec_";
/// Random characters after the prefix: 40 of 62 symbols, about 238 bits.
const SECRET_CHARS: usize = 40;
/// Longest URL accepted; longer ones are not addresses anyone types.
const MAX_URL: usize = 2000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct Row {
    id: i64,
    url: String,
    events: String,
    is_active: bool,
    created_by: Option<i64>,
    #[diesel(deserialize_as = SqlTs)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = SqlTs)]
    updated_at: NaiveDateTime,
}

/// A webhook as the API shows it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub is_active: bool,
    pub created_by: Option<i64>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "ser_ts")]
    pub updated_at: NaiveDateTime,
}

impl Row {
    fn into_webhook(self) -> Webhook {
        Webhook {
            id: self.id,
            url: self.url,
            events: parse_events(&self.events),
            is_active: self.is_active,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl Audited for Webhook {
    const TYPE: &'static str = "webhook";
    fn audit_id(&self) -> String {
        self.id.to_string()
    }
    fn audit_repr(&self) -> String {
        self.url.clone()
    }
}

/// The stored event list (a JSON array of names); names no longer known are dropped.
fn parse_events(stored: &str) -> Vec<WebhookEvent> {
    serde_json::from_str::<Vec<String>>(stored)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| WebhookEvent::parse(e).ok())
        .collect()
}

fn store_events(events: &[WebhookEvent]) -> String {
    serde_json::Value::from(WebhookEvent::strs(events)).to_string()
}

/// The create answer: the webhook and, this once, the secret its requests are signed with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret; it is never shown again.
    pub secret: String,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// `http` or `https`; refused when it resolves to a loopback, private or link-local
    /// address (unless the server allows them).
    pub url: Option<String>,
    /// One or more of the event names.
    pub events: Option<Vec<String>>,
    /// Default true.
    pub is_active: Option<bool>,
}

/// A checked input: every problem named by its field.
struct Checked {
    url: Option<String>,
    events: Option<Vec<WebhookEvent>>,
    is_active: Option<bool>,
}

impl Checked {
    /// `full`: a create or a PUT, where `url` and `events` are required.
    fn parse(core: &Core, input: WebhookInput, full: bool) -> CoreResult<Checked> {
        let mut errs = Errors::default();
        let url = match input.url.map(|u| u.trim().to_owned()) {
            None if full => {
                errs.add("url", "This field is required.");
                None
            }
            None => None,
            Some(u) => errs.take("url", check_url(core, &u)),
        };
        let events = match input.events {
            None if full => {
                errs.add("events", "This field is required.");
                None
            }
            None => None,
            Some(list) => errs.take("events", check_events(&list)),
        };
        errs.finish()?;
        Ok(Checked {
            url,
            events,
            is_active: input.is_active,
        })
    }
}

fn check_url(core: &Core, u: &str) -> Result<String, String> {
    if u.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if u.len() > MAX_URL {
        return Err(format!(
            "Ensure this field has no more than {MAX_URL} characters."
        ));
    }
    let parsed = url::Url::parse(u).map_err(|_| "Enter a valid URL.".to_owned())?;
    guard::check(&parsed, core.config.webhook_allow_private)?;
    Ok(parsed.to_string())
}

fn check_events(list: &[String]) -> Result<Vec<WebhookEvent>, String> {
    if list.is_empty() {
        return Err("Name at least one event.".into());
    }
    let mut events = Vec::with_capacity(list.len());
    for name in list {
        let e = WebhookEvent::parse(name.trim()).map_err(|_| {
            format!(
                "\"{name}\" is not an event ({}).",
                WebhookEvent::strs(WebhookEvent::ALL).join(", ")
            )
        })?;
        if !events.contains(&e) {
            events.push(e);
        }
    }
    Ok(events)
}

fn new_secret() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    let mut s = String::with_capacity(SECRET_PREFIX.len() + SECRET_CHARS);
    s.push_str(SECRET_PREFIX);
    s.push_str(&Alphanumeric.sample_string(&mut rand::rngs::OsRng, SECRET_CHARS));
    s
}

/// Webhooks reach outside: only admins see or change them.
fn admin(ctx: &Ctx) -> CoreResult<&Principal> {
    ctx.require(&[Role::Admin])
}

fn find(c: &mut DbConn, id: i64) -> CoreResult<Row> {
    Ok(webhooks::table.find(id).select(Row::as_select()).first(c)?)
}

/// `POST /api/webhooks`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: WebhookInput) -> CoreResult<CreatedWebhook> {
    let user_id = admin(ctx)?.user_id;
    let checked = Checked::parse(core, input, true)?;
    let (Some(url), Some(events)) = (checked.url, checked.events) else {
        return Err(CoreError::Internal(
            "a checked webhook lacks its url".into(),
        ));
    };
    let is_active = checked.is_active.unwrap_or(true);
    let secret = new_secret();
    let t = now();
    core.db.write(|c| {
        let row: i64 = diesel::insert_into(webhooks::table)
            .values((
                webhooks::url.eq(&url),
                webhooks::events.eq(store_events(&events)),
                webhooks::secret.eq(&secret),
                webhooks::is_active.eq(is_active),
                webhooks::created_by.eq(user_id),
                webhooks::created_at.eq(t),
                webhooks::updated_at.eq(t),
            ))
            .returning(webhooks::id)
            .get_result(c)?;
        let webhook = find(c, row)?.into_webhook();
        let mut changes = Changes::new();
        changes.set("url", &webhook.url);
        changes.set("events", &webhook.events);
        changes.set("is_active", &webhook.is_active);
        audit::record(c, ctx, Entry::of("create", &webhook, changes))?;
        Ok(CreatedWebhook {
            webhook,
            secret: secret.clone(),
        })
    })
}

/// `GET /api/webhooks`: oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(core: &Core, ctx: &Ctx, page: PageReq) -> CoreResult<Paged<Webhook>> {
    admin(ctx)?;
    let rows: Paged<Row> = core.db.read(|c| {
        page.load(
            c,
            || webhooks::table.select(Row::as_select()),
            |q| q.order(webhooks::id),
        )
    })?;
    Ok(rows.map(Row::into_webhook))
}

/// `GET /api/webhooks/{id}`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Webhook> {
    admin(ctx)?;
    Ok(core.db.read(|c| find(c, id))?.into_webhook())
}

/// `PUT` (`full`: url and events required) or `PATCH /api/webhooks/{id}`.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update(
    core: &Core,
    ctx: &Ctx,
    id: i64,
    input: WebhookInput,
    full: bool,
) -> CoreResult<Webhook> {
    admin(ctx)?;
    let checked = Checked::parse(core, input, full)?;
    core.db.write(|c| {
        let before = find(c, id)?.into_webhook();
        let url = checked.url.clone().unwrap_or_else(|| before.url.clone());
        let events = checked
            .events
            .clone()
            .unwrap_or_else(|| before.events.clone());
        let is_active = checked.is_active.unwrap_or(before.is_active);
        diesel::update(webhooks::table.find(id))
            .set((
                webhooks::url.eq(&url),
                webhooks::events.eq(store_events(&events)),
                webhooks::is_active.eq(is_active),
                webhooks::updated_at.eq(now()),
            ))
            .execute(c)?;
        let after = find(c, id)?.into_webhook();
        let mut changes = Changes::new();
        changes.diff("url", &before.url, &after.url);
        changes.diff("events", &before.events, &after.events);
        changes.diff("is_active", &before.is_active, &after.is_active);
        if !changes.is_empty() {
            audit::record(c, ctx, Entry::of("update", &after, changes))?;
        }
        Ok(after)
    })
}

/// `DELETE /api/webhooks/{id}`: the webhook, its queued deliveries and their attempts.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    admin(ctx)?;
    core.db.write(|c| {
        let before = find(c, id)?.into_webhook();
        // Explicitly, not by ON DELETE CASCADE: SQLite enforces it only with foreign keys on.
        diesel::delete(webhook_attempts::table.filter(webhook_attempts::webhook_id.eq(id)))
            .execute(c)?;
        diesel::delete(
            crate::schema::webhook_deliveries::table
                .filter(crate::schema::webhook_deliveries::webhook_id.eq(id)),
        )
        .execute(c)?;
        diesel::delete(webhooks::table.find(id)).execute(c)?;
        let mut changes = Changes::new();
        changes.set("url", &before.url);
        changes.set("events", &before.events);
        audit::record(c, ctx, Entry::of("delete", &before, changes))
    })
}

/// One attempt to deliver an event, as `GET /api/webhooks/{id}/deliveries` lists it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub id: i64,
    /// The delivery this attempt belongs to (its `X-Inventory-Delivery`).
    pub delivery_id: i64,
    pub event: String,
    /// The receiver's HTTP status; null when no answer came (refused, timed out).
    pub status_code: Option<i32>,
    /// Why the attempt failed ("" when it succeeded).
    pub error: String,
    pub duration_ms: i64,
    /// 1 for the first try, up to 8.
    pub attempt: i32,
    #[serde(serialize_with = "ser_ts")]
    #[diesel(deserialize_as = SqlTs)]
    pub at: NaiveDateTime,
}

/// `GET /api/webhooks/{id}/deliveries`: every attempt, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn attempts(core: &Core, ctx: &Ctx, id: i64, page: PageReq) -> CoreResult<Paged<Attempt>> {
    admin(ctx)?;
    core.db.read(|c| {
        find(c, id)?;
        page.load(
            c,
            || {
                webhook_attempts::table
                    .filter(webhook_attempts::webhook_id.eq(id))
                    .select(Attempt::as_select())
            },
            |q| q.order(webhook_attempts::id.desc()),
        )
    })
}

/// What `POST /api/webhooks/{id}/ping` answers: the queued delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Queued {
    pub delivery_id: i64,
    pub event: &'static str,
}

/// `POST /api/webhooks/{id}/ping`: queues a `ping` event for this webhook alone (active or
/// not, whatever it subscribes to), sent like any other.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn ping(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Queued> {
    let by = admin(ctx)?.username.clone();
    core.db.write(|c| {
        let hook = find(c, id)?.into_webhook();
        let data = serde_json::json!({"webhook_id": hook.id, "requested_by": by});
        let delivery_id =
            outbox::queue_one(c, hook.id, outbox::PING, &format!("webhook:{id}"), &data)?;
        Ok(Queued {
            delivery_id,
            event: outbox::PING,
        })
    })
}
