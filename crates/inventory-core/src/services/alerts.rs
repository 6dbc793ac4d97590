//! Low-stock alerts: opened when a product's quantity crosses to or below its reorder level
//! (one open alert a product, guarded by a partial unique index), resolved by themselves when
//! stock rises above it again, and emailed to managers and admins after commit. Beside them,
//! `oversold` alerts: a location holds less than confirmed sales orders reserved there (only
//! a correction or a count can do that), open until every location is covered again.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::email::Email;
use crate::error::{CoreError, CoreResult};
use crate::paging::{PageReq, Paged};
use crate::schema::{alerts, products, users};
use crate::types::AlertStatus;
use crate::types::{ser_ts, ser_ts_opt, Role};

#[derive(Debug, Clone, Queryable, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: i64,
    pub product_id: i64,
    pub kind: String,
    pub quantity: i64,
    pub threshold: i64,
    pub status: String,
    pub acknowledged_by: Option<i64>,
    #[serde(serialize_with = "ser_ts_opt")]
    pub acknowledged_at: Option<chrono::NaiveDateTime>,
    #[serde(serialize_with = "ser_ts_opt")]
    pub resolved_at: Option<chrono::NaiveDateTime>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    pub status: Option<String>,
    pub product: Option<i64>,
}

/// An alert opened by a change, to announce once the change has committed.
#[derive(Debug, Clone)]
pub struct Opened {
    pub alert: Alert,
    pub sku: String,
    pub name: String,
}

const OVERSOLD: &str = "oversold";

/// Opens or resolves the product's `oversold` alert after a change that may have put a
/// location below (or back above) what is reserved there; on the change's transaction.
/// Quantity is the product's available total (negative while oversold), threshold what is
/// reserved in all.
pub fn oversold_changed(conn: &mut DbConn, ctx: &Ctx, product_id: i64) -> CoreResult<()> {
    use crate::schema::stock_levels;
    let short: i64 = stock_levels::table
        .filter(stock_levels::product_id.eq(product_id))
        .filter(stock_levels::quantity.lt(stock_levels::reserved))
        .count()
        .get_result(conn)?;
    let open = alerts::table
        .filter(alerts::product_id.eq(product_id))
        .filter(alerts::kind.eq(OVERSOLD))
        .filter(alerts::status.ne(AlertStatus::Resolved.as_str()));
    let t = now();
    if short == 0 {
        diesel::update(open)
            .set((
                alerts::status.eq(AlertStatus::Resolved.as_str()),
                alerts::resolved_at.eq(Some(t)),
            ))
            .execute(conn)?;
        return Ok(());
    }
    if open.count().get_result::<i64>(conn)? > 0 {
        return Ok(());
    }
    // A product has a handful of levels: summed here, the same on both databases.
    let (quantity, reserved) = stock_levels::table
        .filter(stock_levels::product_id.eq(product_id))
        .select((stock_levels::quantity, stock_levels::reserved))
        .load::<(i64, i64)>(conn)?
        .into_iter()
        .fold((0i64, 0i64), |(q, r), (lq, lr)| (q + lq, r + lr));
    let sku: String = products::table
        .find(product_id)
        .select(products::sku)
        .first(conn)?;
    let alert: Alert = diesel::insert_into(alerts::table)
        .values((
            alerts::product_id.eq(product_id),
            alerts::kind.eq(OVERSOLD),
            alerts::quantity.eq(quantity - reserved),
            alerts::threshold.eq(reserved),
            alerts::status.eq(AlertStatus::Open.as_str()),
            alerts::created_at.eq(t),
        ))
        .returning(alerts::all_columns)
        .get_result(conn)?;
    opened_event(conn, &alert)?;
    audit::record(
        conn,
        ctx,
        Entry {
            action: "create",
            object_type: "alert",
            object_id: alert.id.to_string(),
            object_repr: format!("{OVERSOLD} {sku}"),
            changes: serde_json::json!({"quantity": [null, alert.quantity], "threshold": [null, reserved]}),
        },
    )?;
    Ok(())
}

/// Re-evaluates a product's alert state after its quantity or reorder level changed, on the
/// change's own transaction. `before` is the quantity before the change.
pub fn after_change(
    conn: &mut DbConn,
    ctx: &Ctx,
    product_id: i64,
    before: i64,
    level_before: i64,
) -> CoreResult<Option<Opened>> {
    let (quantity, level): (i64, i64) = products::table
        .find(product_id)
        .select((products::quantity, products::reorder_level))
        .first(conn)?;
    crossed(
        conn,
        ctx,
        product_id,
        (before, level_before),
        (quantity, level),
    )
}

/// As [`after_change`] for a ledger booking, which already knows the product's quantity and
/// level from its own statements: no read of the product unless an alert opens.
pub fn after_booking(
    conn: &mut DbConn,
    ctx: &Ctx,
    booked: &crate::services::stock::Booked,
) -> CoreResult<Option<Opened>> {
    let a = &booked.row;
    let level = booked.reorder_level;
    crossed(
        conn,
        ctx,
        a.product_id,
        (a.product_quantity_after - a.delta, level),
        (a.product_quantity_after, level),
    )
}

/// As [`after_booking`] for the rows of one batch booking: the products left above their
/// reorder level have their open alerts resolved in one statement; only those at or below it
/// are looked at one by one (and only those crossing down can open an alert).
pub fn after_bookings(
    conn: &mut DbConn,
    ctx: &Ctx,
    booked: &[crate::services::stock::Booked],
) -> CoreResult<Vec<Opened>> {
    let above: Vec<i64> = booked
        .iter()
        .filter(|b| b.row.product_quantity_after > b.reorder_level)
        .map(|b| b.row.product_id)
        .collect();
    if !above.is_empty() {
        resolve_low(conn, &above)?;
    }
    let mut opened = Vec::new();
    for b in booked
        .iter()
        .filter(|b| b.row.product_quantity_after <= b.reorder_level)
    {
        if let Some(o) = after_booking(conn, ctx, b)? {
            opened.push(o);
        }
    }
    Ok(opened)
}

/// Resolves the open low-stock and out-of-stock alerts of products now above their level, one
/// kept statement per [`crate::sql::MAX_BATCH`] products.
fn resolve_low(conn: &mut DbConn, product_ids: &[i64]) -> CoreResult<()> {
    use crate::sql::{batch, keys, Vals, MAX_BATCH};
    let t = now();
    for chunk in product_ids.chunks(MAX_BATCH) {
        let mut vals = Vals::default();
        vals.time(t).text(AlertStatus::Resolved.as_str());
        for p in chunk {
            vals.int(*p);
        }
        batch(
            "alerts.resolve_low",
            chunk.len(),
            |n| {
                // The states are written as literals, not bound: a partial index is only used
                // when the statement's own text implies its condition, so `status <> $2` read
                // every alert the service ever raised (the plans test caught it).
                format!(
                    "UPDATE alerts SET status = $2, resolved_at = $1 WHERE product_id IN ({}) \
                     AND kind <> '{OVERSOLD}' AND status <> '{}'",
                    keys(n, 3, 1, 0),
                    AlertStatus::Resolved.as_str()
                )
            },
            vals,
        )?
        .execute(conn)?;
    }
    Ok(())
}

/// The low-stock rule on `(quantity, reorder level)` before and after a change: resolve when
/// above the level, open one alert on crossing to or below it.
fn crossed(
    conn: &mut DbConn,
    ctx: &Ctx,
    product_id: i64,
    (before, level_before): (i64, i64),
    (quantity, level): (i64, i64),
) -> CoreResult<Option<Opened>> {
    let t = now();
    if quantity > level {
        resolve_low(conn, &[product_id])?;
        return Ok(None);
    }
    let was_above = before > level_before;
    if !was_above {
        return Ok(None);
    }
    let open: i64 = alerts::table
        .filter(alerts::product_id.eq(product_id))
        .filter(alerts::kind.ne(OVERSOLD))
        .filter(alerts::status.ne(AlertStatus::Resolved.as_str()))
        .count()
        .get_result(conn)?;
    if open > 0 {
        return Ok(None);
    }
    let (sku, name): (String, String) = products::table
        .find(product_id)
        .select((products::sku, products::name))
        .first(conn)?;
    let kind = if quantity == 0 {
        "out_of_stock"
    } else {
        "low_stock"
    };
    let alert: Alert = diesel::insert_into(alerts::table)
        .values((
            alerts::product_id.eq(product_id),
            alerts::kind.eq(kind),
            alerts::quantity.eq(quantity),
            alerts::threshold.eq(level),
            alerts::status.eq(AlertStatus::Open.as_str()),
            alerts::created_at.eq(t),
        ))
        .returning(alerts::all_columns)
        .get_result(conn)?;
    opened_event(conn, &alert)?;
    audit::record(
        conn,
        ctx,
        Entry {
            action: "create",
            object_type: "alert",
            object_id: alert.id.to_string(),
            object_repr: format!("{kind} {sku}"),
            changes: serde_json::json!({"quantity": [null, quantity], "threshold": [null, level]}),
        },
    )?;
    Ok(Some(Opened { alert, sku, name }))
}

/// Emails each opened alert to the active managers and admins (and superusers).
pub fn notify(core: &Core, opened: &[Opened]) {
    if opened.is_empty() {
        return;
    }
    let recipients: Vec<String> = match core.db.read(|c| {
        Ok(users::table
            .filter(users::is_active.eq(true))
            .filter(
                users::role
                    .eq_any([Role::Manager.as_str(), Role::Admin.as_str()])
                    .or(users::is_superuser.eq(true)),
            )
            .select(users::email)
            .load::<String>(c)?)
    }) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot list alert recipients");
            return;
        }
    };
    let mut emails = Vec::new();
    for o in opened {
        let what = if o.alert.kind == "out_of_stock" {
            "is out of stock"
        } else {
            "is low on stock"
        };
        for to in &recipients {
            emails.push(Email {
                to: to.clone(),
                subject: format!("[inventory] {} {what}", o.sku),
                body: format!(
                    "{} ({}) {what}: {} left, reorder level {}.\n\nAlert #{} — acknowledge it with POST /api/alerts/{}/acknowledge.\n",
                    o.name, o.sku, o.alert.quantity, o.alert.threshold, o.alert.id, o.alert.id
                ),
            });
        }
    }
    core.mailer.send_all(&emails);
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(core: &Core, ctx: &Ctx, f: &AlertFilter, page: PageReq) -> CoreResult<Paged<Alert>> {
    ctx.read_operations()?;
    let status = f
        .status
        .as_deref()
        .map(|s| AlertStatus::parse_field("status", s))
        .transpose()?;
    let query = || {
        let mut q = alerts::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(alerts::status.eq(s.as_str()));
        }
        if let Some(p) = f.product {
            q = q.filter(alerts::product_id.eq(p));
        }
        q
    };
    core.db
        .read(|c| page.load(c, query, |q| q.order(alerts::id.desc())))
}

/// One alert, for anyone who reads operations.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Alert> {
    ctx.read_operations()?;
    core.db.read(|c| Ok(alerts::table.find(id).first(c)?))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn acknowledge(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Alert> {
    let p = ctx.basic_stock()?.clone();
    core.db.write(|c| {
        let t = now();
        let updated: Option<Alert> =
            diesel::update(alerts::table.find(id).filter(alerts::status.eq(AlertStatus::Open.as_str())))
                .set((
                    alerts::status.eq(AlertStatus::Acknowledged.as_str()),
                    alerts::acknowledged_by.eq(Some(p.user_id)),
                    alerts::acknowledged_at.eq(Some(t)),
                ))
                .returning(alerts::all_columns)
                .get_result(c)
                .optional()?;
        let Some(a) = updated else {
            let status: Option<String> = alerts::table
                .find(id)
                .select(alerts::status)
                .first(c)
                .optional()?;
            return Err(match status {
                None => CoreError::NotFound,
                Some(s) => CoreError::conflict(
                    "invalid_transition",
                    format!("The alert is {s}; only an open alert can be acknowledged."),
                ),
            });
        };
        audit::record(
            c,
            ctx,
            Entry {
                action: "acknowledge",
                object_type: "alert",
                object_id: a.id.to_string(),
                object_repr: format!("{} of product {}", a.kind, a.product_id),
                changes: serde_json::json!({"status": [AlertStatus::Open.as_str(), AlertStatus::Acknowledged.as_str()]}),
            },
        )?;
        Ok(a)
    })
}

/// An opened alert is an `alert.opened` event, ordered with its product's stock events.
fn opened_event(conn: &mut DbConn, alert: &Alert) -> CoreResult<()> {
    let data = serde_json::to_value(alert).map_err(|e| CoreError::Internal(e.to_string()))?;
    crate::services::webhooks::outbox::emit_all(
        conn,
        &[crate::services::webhooks::outbox::Event {
            event: crate::types::WebhookEvent::AlertOpened,
            object_key: format!("product:{}", alert.product_id),
            data,
        }],
    )
}
