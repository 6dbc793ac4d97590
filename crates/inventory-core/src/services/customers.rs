//! Customers: whom sales orders are for. Their contact details are private to signed-in
//! users (never guest-readable, whatever `PUBLIC_READ` says).

use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::now;
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::Customer;
use crate::paging::{parse_ordering, PageReq, Paged};
use crate::schema::customers;
use crate::services::{contains_pattern, lower};
use crate::types::{bounded_text, required_text, EmailAddress, Role};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    /// Unique, 1–200 characters.
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub billing_address: Option<String>,
    pub shipping_address: Option<String>,
    pub notes: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// `name` or `created_at`, `-` for descending.
    pub ordering: Option<String>,
    /// Part of the name or the email address, any case.
    pub search: Option<String>,
    pub is_active: Option<bool>,
}

/// The checked fields of a customer body; `None` means "not given".
struct Fields {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    billing_address: Option<String>,
    shipping_address: Option<String>,
    notes: Option<String>,
}

fn check(input: &CustomerInput, creating: bool, errs: &mut Errors) -> Fields {
    let name = match (&input.name, creating) {
        (Some(n), _) => errs.take("name", required_text(n, 200)),
        (None, true) => {
            errs.add("name", "This field is required.");
            None
        }
        (None, false) => None,
    };
    let text = |errs: &mut Errors, field: &str, v: &Option<String>, max: usize| {
        v.as_deref()
            .and_then(|s| errs.take(field, bounded_text(s.trim(), max)))
    };
    let email = match input.email.as_deref().map(str::trim) {
        Some("") => Some(String::new()),
        Some(e) => errs.take("email", EmailAddress::parse(e)).map(String::from),
        None => None,
    };
    Fields {
        name,
        email,
        phone: text(errs, "phone", &input.phone, 32),
        billing_address: text(errs, "billing_address", &input.billing_address, 1000),
        shipping_address: text(errs, "shipping_address", &input.shipping_address, 1000),
        notes: text(errs, "notes", &input.notes, 5000),
    }
}

fn changes(old: Option<&Customer>, new: &Customer) -> Changes {
    let mut ch = Changes::new();
    macro_rules! field {
        ($($f:ident),*) => {$(
            match old {
                Some(o) => ch.diff(stringify!($f), &o.$f, &new.$f),
                None => ch.set(stringify!($f), &new.$f),
            }
        )*};
    }
    field!(
        name,
        email,
        phone,
        billing_address,
        shipping_address,
        notes,
        is_active
    );
    ch
}

/// Changing a customer: employees only those they created, managers and up any.
fn may_change(ctx: &Ctx, c: &Customer) -> CoreResult<()> {
    let p = ctx.sell()?;
    if p.role == Role::Employee && !p.is_superuser && c.created_by != Some(p.user_id) {
        return Err(CoreError::forbidden(
            "permission_denied",
            "Employees may change only the customers they created.",
        ));
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list(
    core: &Core,
    ctx: &Ctx,
    q: &CustomerQuery,
    page: PageReq,
) -> CoreResult<Paged<Customer>> {
    ctx.read_operations()?;
    let ordering = parse_ordering(q.ordering.as_deref(), &["name", "created_at"])?;
    let query = || {
        let mut b = customers::table.into_boxed();
        if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = contains_pattern(s);
            b = b.filter(
                lower(customers::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(customers::email).like(pattern).escape('\\')),
            );
        }
        if let Some(a) = q.is_active {
            b = b.filter(customers::is_active.eq(a));
        }
        b
    };
    core.db.read(|c| {
        page.load(c, query, |mut b| {
            for (field, desc) in &ordering {
                b = match (field.as_str(), desc) {
                    ("name", false) => b.then_order_by(customers::name.asc()),
                    ("name", true) => b.then_order_by(customers::name.desc()),
                    (_, false) => b.then_order_by(customers::created_at.asc()),
                    (_, true) => b.then_order_by(customers::created_at.desc()),
                };
            }
            b.then_order_by(customers::id.asc())
        })
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Customer> {
    ctx.read_operations()?;
    core.db.read(|c| Ok(customers::table.find(id).first(c)?))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create(core: &Core, ctx: &Ctx, input: CustomerInput) -> CoreResult<Customer> {
    let p = ctx.sell()?.clone();
    let mut errs = Errors::default();
    let v = check(&input, true, &mut errs);
    let name = errs.finish_with(v.name.clone())?;
    core.db.write(|c| {
        let t = now();
        let row: Customer = diesel::insert_into(customers::table)
            .values((
                customers::name.eq(&name),
                customers::email.eq(v.email.clone().unwrap_or_default()),
                customers::phone.eq(v.phone.clone().unwrap_or_default()),
                customers::billing_address.eq(v.billing_address.clone().unwrap_or_default()),
                customers::shipping_address.eq(v.shipping_address.clone().unwrap_or_default()),
                customers::notes.eq(v.notes.clone().unwrap_or_default()),
                customers::is_active.eq(input.is_active.unwrap_or(true)),
                customers::created_by.eq(p.user_id),
                customers::created_at.eq(t),
                customers::updated_at.eq(t),
            ))
            .returning(customers::all_columns)
            .get_result(c)?;
        audit::record(c, ctx, Entry::of("create", &row, changes(None, &row)))?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update(core: &Core, ctx: &Ctx, id: i64, input: CustomerInput) -> CoreResult<Customer> {
    ctx.sell()?;
    let mut errs = Errors::default();
    let v = check(&input, false, &mut errs);
    errs.finish()?;
    core.db.write(|c| {
        let old: Customer = customers::table.find(id).first(c)?;
        may_change(ctx, &old)?;
        let row: Customer = diesel::update(customers::table.find(id))
            .set((
                customers::name.eq(v.name.clone().unwrap_or(old.name.clone())),
                customers::email.eq(v.email.clone().unwrap_or(old.email.clone())),
                customers::phone.eq(v.phone.clone().unwrap_or(old.phone.clone())),
                customers::billing_address.eq(v
                    .billing_address
                    .clone()
                    .unwrap_or(old.billing_address.clone())),
                customers::shipping_address.eq(v
                    .shipping_address
                    .clone()
                    .unwrap_or(old.shipping_address.clone())),
                customers::notes.eq(v.notes.clone().unwrap_or(old.notes.clone())),
                customers::is_active.eq(input.is_active.unwrap_or(old.is_active)),
                customers::updated_at.eq(now()),
            ))
            .returning(customers::all_columns)
            .get_result(c)?;
        let ch = changes(Some(&old), &row);
        if !ch.is_empty() {
            audit::record(c, ctx, Entry::of("update", &row, ch))?;
        }
        Ok(row)
    })
}

/// Managers and up only: a customer's history belongs to the business, not to whoever
/// entered it.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.require(&[Role::Manager, Role::Admin])?;
    core.db.write(|c| {
        let old: Customer = customers::table.find(id).first(c)?;
        if crate::services::sales::customer_has_open_orders(c, id)? {
            return Err(CoreError::conflict(
                "in_use",
                "The customer has sales orders that are neither shipped nor cancelled.",
            ));
        }
        diesel::delete(customers::table.find(id)).execute(c)?;
        let mut ch = Changes::new();
        ch.diff("name", &Some(old.name.clone()), &None);
        audit::record(c, ctx, Entry::of("delete", &old, ch))?;
        Ok(())
    })
}
