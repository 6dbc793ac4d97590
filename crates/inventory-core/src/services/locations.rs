//! Locations: warehouses and stores. There is always exactly one default location.

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::Location;
use crate::paging::{parse_ordering, PageReq, Paged};
use crate::schema::{locations, stock_levels, transfers};
use crate::types::TransferStatus;
use crate::types::{bounded_text, required_text};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub kind: Option<String>,
    pub address: Option<String>,
    pub is_active: Option<bool>,
    pub is_default: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocationQuery {
    pub ordering: Option<String>,
    pub kind: Option<String>,
    pub is_active: Option<bool>,
}

fn parse_code(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty()
        || t.len() > 32
        || !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err("A code is 1–32 letters, digits, '-', '_' or '.'.".into());
    }
    Ok(t.to_uppercase())
}

fn parse_kind(s: &str) -> Result<String, String> {
    match s {
        "warehouse" | "store" | "other" => Ok(s.to_owned()),
        other => Err(format!(
            "\"{other}\" is not a valid choice (warehouse, store, other)."
        )),
    }
}

struct Fields {
    code: Option<String>,
    name: Option<String>,
    kind: Option<String>,
    address: Option<String>,
}

fn validate(input: &LocationInput) -> CoreResult<Fields> {
    let mut errs = Errors::default();
    let fields = check(input, false, &mut errs);
    errs.finish()?;
    Ok(fields)
}

/// A new location's fields, with the code and name a create cannot do without.
fn validate_new(input: &LocationInput) -> CoreResult<(Fields, String, String)> {
    let mut errs = Errors::default();
    let fields = check(input, true, &mut errs);
    let (code, name) = errs.finish_with(fields.code.clone().zip(fields.name.clone()))?;
    Ok((fields, code, name))
}

fn check(input: &LocationInput, creating: bool, errs: &mut Errors) -> Fields {
    if creating {
        if input.code.is_none() {
            errs.add("code", "This field is required.");
        }
        if input.name.is_none() {
            errs.add("name", "This field is required.");
        }
    }
    let code = input
        .code
        .as_deref()
        .and_then(|s| errs.take("code", parse_code(s)));
    let name = input
        .name
        .as_deref()
        .and_then(|s| errs.take("name", required_text(s, 200)));
    let kind = input
        .kind
        .as_deref()
        .and_then(|s| errs.take("kind", parse_kind(s)));
    let address = input
        .address
        .as_deref()
        .and_then(|s| errs.take("address", bounded_text(s.trim(), 1000)));
    Fields {
        code,
        name,
        kind,
        address,
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(
    core: &Core,
    ctx: &Ctx,
    q: &LocationQuery,
    page: PageReq,
) -> CoreResult<Paged<Location>> {
    ctx.read_catalog(core.config.public_read)?;
    let ordering = parse_ordering(q.ordering.as_deref(), &["code", "name", "created_at"])?;
    if let Some(k) = &q.kind {
        parse_kind(k).map_err(|m| CoreError::validation("kind", m))?;
    }
    let query = || {
        let mut b = locations::table.into_boxed();
        if let Some(k) = &q.kind {
            b = b.filter(locations::kind.eq(k.clone()));
        }
        if let Some(a) = q.is_active {
            b = b.filter(locations::is_active.eq(a));
        }
        b
    };
    core.db.read(|c| {
        page.load(c, query, |mut b| {
            for (f, desc) in &ordering {
                b = match (f.as_str(), desc) {
                    ("code", false) => b.then_order_by(locations::code.asc()),
                    ("code", true) => b.then_order_by(locations::code.desc()),
                    ("name", false) => b.then_order_by(locations::name.asc()),
                    ("name", true) => b.then_order_by(locations::name.desc()),
                    (_, false) => b.then_order_by(locations::created_at.asc()),
                    (_, true) => b.then_order_by(locations::created_at.desc()),
                };
            }
            b.then_order_by(locations::id.asc())
        })
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Location> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| Ok(locations::table.find(id).first(c)?))
}

/// Makes `id` the one default: unset the old one first (the partial unique index allows one).
fn make_default(conn: &mut DbConn, id: i64) -> CoreResult<()> {
    diesel::update(
        locations::table
            .filter(locations::is_default.eq(true))
            .filter(locations::id.ne(id)),
    )
    .set(locations::is_default.eq(false))
    .execute(conn)?;
    diesel::update(locations::table.find(id))
        .set(locations::is_default.eq(true))
        .execute(conn)?;
    Ok(())
}

fn changes(old: Option<&Location>, new: &Location) -> Changes {
    let mut ch = Changes::new();
    macro_rules! field {
        ($f:ident) => {
            match old {
                Some(o) => ch.diff(stringify!($f), &o.$f, &new.$f),
                None => ch.set(stringify!($f), &new.$f),
            }
        };
    }
    field!(code);
    field!(name);
    field!(kind);
    field!(address);
    field!(is_active);
    field!(is_default);
    ch
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: LocationInput) -> CoreResult<Location> {
    let p = ctx.manage_locations()?.clone();
    let (v, code, name) = validate_new(&input)?;
    if input.is_default == Some(true) && input.is_active == Some(false) {
        return Err(CoreError::validation(
            "is_default",
            "The default location must be active.",
        ));
    }
    core.db.write(|c| {
        let t = now();
        let row: Location = diesel::insert_into(locations::table)
            .values((
                locations::code.eq(&code),
                locations::name.eq(&name),
                locations::kind.eq(v.kind.clone().unwrap_or_else(|| "warehouse".into())),
                locations::address.eq(v.address.clone().unwrap_or_default()),
                locations::is_active.eq(input.is_active.unwrap_or(true)),
                locations::is_default.eq(false),
                locations::created_by.eq(p.user_id),
                locations::created_at.eq(t),
                locations::updated_at.eq(t),
            ))
            .returning(locations::all_columns)
            .get_result(c)?;
        if input.is_default == Some(true) {
            make_default(c, row.id)?;
        }
        let row: Location = locations::table.find(row.id).first(c)?;
        audit::record(c, ctx, Entry::of("create", &row, changes(None, &row)))?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update(core: &Core, ctx: &Ctx, id: i64, input: LocationInput) -> CoreResult<Location> {
    ctx.manage_locations()?;
    let v = validate(&input)?;
    core.db.write(|c| {
        let old: Location = locations::table.find(id).first(c)?;
        if old.is_default && input.is_default == Some(false) {
            return Err(CoreError::conflict(
                "default_required",
                "There must always be a default location: make another one the default instead.",
            ));
        }
        let active = input.is_active.unwrap_or(old.is_active);
        if !active && (old.is_default || input.is_default == Some(true)) {
            return Err(CoreError::validation(
                "is_active",
                "The default location must be active.",
            ));
        }
        diesel::update(locations::table.find(id))
            .set((
                locations::code.eq(v.code.clone().unwrap_or(old.code.clone())),
                locations::name.eq(v.name.clone().unwrap_or(old.name.clone())),
                locations::kind.eq(v.kind.clone().unwrap_or(old.kind.clone())),
                locations::address.eq(v.address.clone().unwrap_or(old.address.clone())),
                locations::is_active.eq(active),
                locations::updated_at.eq(now()),
            ))
            .execute(c)?;
        if input.is_default == Some(true) && !old.is_default {
            make_default(c, id)?;
        }
        let row: Location = locations::table.find(id).first(c)?;
        audit::record(c, ctx, Entry::of("update", &row, changes(Some(&old), &row)))?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.manage_locations()?;
    core.db.write(|c| {
        let old: Location = locations::table.find(id).first(c)?;
        if old.is_default {
            return Err(CoreError::conflict(
                "in_use",
                "The default location cannot be deleted.",
            ));
        }
        let held: i64 = stock_levels::table
            .filter(stock_levels::location_id.eq(id))
            .filter(stock_levels::quantity.gt(0))
            .count()
            .get_result(c)?;
        if held > 0 {
            return Err(CoreError::conflict(
                "in_use",
                "The location still holds stock.",
            ));
        }
        let pending: i64 = transfers::table
            .filter(transfers::status.eq(TransferStatus::Pending.as_str()))
            .filter(
                transfers::from_location_id
                    .eq(id)
                    .or(transfers::to_location_id.eq(id)),
            )
            .count()
            .get_result(c)?;
        if pending > 0 {
            return Err(CoreError::conflict(
                "in_use",
                "The location has pending transfers.",
            ));
        }
        diesel::delete(stock_levels::table.filter(stock_levels::location_id.eq(id))).execute(c)?;
        diesel::delete(locations::table.find(id)).execute(c)?;
        let mut ch = Changes::new();
        ch.diff("code", &Some(old.code.clone()), &None);
        audit::record(c, ctx, Entry::of("delete", &old, ch))?;
        Ok(())
    })
}
