//! Transfers between locations with an approval step. Each state change is one conditional
//! statement (`... WHERE status = 'pending'`), so two managers approving at once move the stock
//! once; the move itself (`transfer_out` + `transfer_in`) commits with the status or not at all.

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::Transfer;
use crate::paging::{PageReq, Paged};
use crate::schema::transfers;
use crate::services::ledger::{bookable_location, live_product};
use crate::services::stock::{self, Booking};
use crate::services::webhooks::outbox;
use crate::types::TransferStatus;
use crate::types::{bounded_text, Quantity, Role};
use crate::types::{AdjustmentKind, WebhookEvent};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    pub product_id: i64,
    pub from_location_id: i64,
    pub to_location_id: i64,
    pub quantity: i64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(default)]
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransferFilter {
    pub status: Option<String>,
    pub product: Option<i64>,
    pub location: Option<i64>,
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: TransferInput) -> CoreResult<Transfer> {
    let p = ctx.basic_stock()?.clone();
    let mut errs = Errors::default();
    if input.quantity <= 0 {
        errs.add("quantity", "Ensure this value is greater than 0.");
    } else if let Err(m) = Quantity::parse(input.quantity) {
        errs.add("quantity", m);
    }
    if input.from_location_id == input.to_location_id {
        errs.add(
            "to_location_id",
            "A transfer must go to a different location.",
        );
    }
    let note = errs.take("note", bounded_text(input.note.trim(), 1000));
    errs.finish()?;
    core.db.write(|c| {
        live_product(c, input.product_id)?;
        bookable_location(c, Some(input.from_location_id))?;
        bookable_location(c, Some(input.to_location_id))?;
        let t = now();
        let row: Transfer = diesel::insert_into(transfers::table)
            .values((
                transfers::product_id.eq(input.product_id),
                transfers::from_location_id.eq(input.from_location_id),
                transfers::to_location_id.eq(input.to_location_id),
                transfers::quantity.eq(input.quantity),
                transfers::status.eq(TransferStatus::Pending.as_str()),
                transfers::note.eq(note.clone().unwrap_or_default()),
                transfers::requested_by.eq(p.user_id),
                transfers::created_at.eq(t),
                transfers::updated_at.eq(t),
            ))
            .returning(transfers::all_columns)
            .get_result(c)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "create",
                &row,
                serde_json::json!({"status": [null, TransferStatus::Pending.as_str()]}),
            ),
        )?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Transfer> {
    ctx.read_operations()?;
    core.db.read(|c| Ok(transfers::table.find(id).first(c)?))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(
    core: &Core,
    ctx: &Ctx,
    f: &TransferFilter,
    page: PageReq,
) -> CoreResult<Paged<Transfer>> {
    ctx.read_operations()?;
    let status = f
        .status
        .as_deref()
        .map(|s| TransferStatus::parse_field("status", s))
        .transpose()?;
    let query = || {
        let mut q = transfers::table.into_boxed();
        if let Some(s) = status {
            q = q.filter(transfers::status.eq(s.as_str()));
        }
        if let Some(p) = f.product {
            q = q.filter(transfers::product_id.eq(p));
        }
        if let Some(l) = f.location {
            q = q.filter(
                transfers::from_location_id
                    .eq(l)
                    .or(transfers::to_location_id.eq(l)),
            );
        }
        q
    };
    core.db
        .read(|c| page.load(c, query, |q| q.order(transfers::id.desc())))
}

/// Moves `pending` → `to` in one conditional statement; a transfer that is not pending (or
/// was decided by someone else a moment ago) is an `invalid_transition`.
fn transition(
    conn: &mut DbConn,
    ctx: &Ctx,
    id: i64,
    to: TransferStatus,
    reason: &str,
    decider: bool,
) -> CoreResult<Transfer> {
    let t = now();
    let approved_by = if decider { ctx.user_id() } else { None };
    let updated: Option<Transfer> = diesel::update(
        transfers::table
            .find(id)
            .filter(transfers::status.eq(TransferStatus::Pending.as_str())),
    )
    .set((
        transfers::status.eq(to.as_str()),
        transfers::approved_by.eq(approved_by),
        transfers::decided_at.eq(Some(t)),
        transfers::reason.eq(reason),
        transfers::updated_at.eq(t),
    ))
    .returning(transfers::all_columns)
    .get_result(conn)
    .optional()?;
    match updated {
        Some(row) => Ok(row),
        None => {
            let current: Option<String> = transfers::table
                .find(id)
                .select(transfers::status)
                .first(conn)
                .optional()?;
            match current {
                None => Err(CoreError::NotFound),
                Some(s) => Err(CoreError::conflict(
                    "invalid_transition",
                    format!("The transfer is {s}; only a pending transfer can become {to}."),
                )),
            }
        }
    }
}

fn load_for_decision(core: &Core, id: i64) -> CoreResult<Transfer> {
    core.db.read(|c| Ok(transfers::table.find(id).first(c)?))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn approve(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Transfer> {
    let p = ctx.manager_stock()?.clone();
    let before = load_for_decision(core, id)?;
    if before.requested_by == p.user_id && !p.is_superuser {
        return Err(CoreError::forbidden(
            "self_approval",
            "You cannot approve a transfer you requested.",
        ));
    }
    core.db.write(|c| {
        let row = transition(c, ctx, id, TransferStatus::Completed, "", true)?;
        let reference = format!("transfer #{}", row.id);
        stock::book(
            c,
            ctx,
            Booking {
                product_id: row.product_id,
                location_id: row.from_location_id,
                kind: AdjustmentKind::TransferOut,
                delta: -row.quantity,
                reason: &row.note,
                reference: &reference,
                unit_cost: None,
            },
        )?;
        stock::book(
            c,
            ctx,
            Booking {
                product_id: row.product_id,
                location_id: row.to_location_id,
                kind: AdjustmentKind::TransferIn,
                delta: row.quantity,
                reason: &row.note,
                reference: &reference,
                unit_cost: None,
            },
        )?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "approve",
                &row,
                serde_json::json!({"status": [TransferStatus::Pending.as_str(), TransferStatus::Completed.as_str()]}),
            ),
        )?;
        outbox::emit_all(
            c,
            &[outbox::Event::about(WebhookEvent::TransferCompleted, &row)?],
        )?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn reject(core: &Core, ctx: &Ctx, id: i64, input: DecisionInput) -> CoreResult<Transfer> {
    ctx.manager_stock()?;
    let reason =
        bounded_text(input.reason.trim(), 1000).map_err(|m| CoreError::validation("reason", m))?;
    core.db.write(|c| {
        let row = transition(c, ctx, id, TransferStatus::Rejected, &reason, true)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "reject",
                &row,
                serde_json::json!({"status": [TransferStatus::Pending.as_str(), TransferStatus::Rejected.as_str()]}),
            ),
        )?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn cancel(core: &Core, ctx: &Ctx, id: i64, input: DecisionInput) -> CoreResult<Transfer> {
    let p = ctx.basic_stock()?.clone();
    let reason =
        bounded_text(input.reason.trim(), 1000).map_err(|m| CoreError::validation("reason", m))?;
    let before = load_for_decision(core, id)?;
    let manager = p.is_superuser || matches!(p.role, Role::Manager | Role::Admin);
    if before.requested_by != p.user_id && !manager {
        return Err(CoreError::forbidden(
            "permission_denied",
            "Only the requester or a manager can cancel a transfer.",
        ));
    }
    core.db.write(|c| {
        let row = transition(c, ctx, id, TransferStatus::Cancelled, &reason, false)?;
        audit::record(
            c,
            ctx,
            Entry::of(
                "cancel",
                &row,
                serde_json::json!({"status": [TransferStatus::Pending.as_str(), TransferStatus::Cancelled.as_str()]}),
            ),
        )?;
        Ok(row)
    })
}
