//! Categories and suppliers: plain catalog objects with ownership rules.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;

use crate::audit::{self, Changes, Entry};
use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, Errors};
use crate::models::{Category, Supplier};
use crate::paging::{parse_ordering, PageReq, Paged};
use crate::schema::{
    categories, category_stats, product_suppliers, products, supplier_stats, suppliers,
};
use crate::services::stats;
use crate::services::{contains_pattern, lower};
use crate::types::{bounded_text, double_option, required_text, EmailAddress};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub ordering: Option<String>,
    pub search: Option<String>,
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_categories(
    core: &Core,
    ctx: &Ctx,
    q: &ListQuery,
    page: PageReq,
) -> CoreResult<Paged<Category>> {
    ctx.read_catalog(core.config.public_read)?;
    let ordering = parse_ordering(q.ordering.as_deref(), &["name", "created_at"])?;
    let query = || {
        let mut b = categories::table.into_boxed();
        if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
            b = b.filter(
                lower(categories::name)
                    .like(contains_pattern(s))
                    .escape('\\'),
            );
        }
        b
    };
    core.db.read(|c| {
        page.load(c, query, |mut b| {
            for (field, desc) in &ordering {
                b = match (field.as_str(), desc) {
                    ("name", false) => b.then_order_by(categories::name.asc()),
                    ("name", true) => b.then_order_by(categories::name.desc()),
                    (_, false) => b.then_order_by(categories::created_at.asc()),
                    (_, true) => b.then_order_by(categories::created_at.desc()),
                };
            }
            b.then_order_by(categories::id.asc())
        })
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get_category(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Category> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| Ok(categories::table.find(id).first(c)?))
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create_category(core: &Core, ctx: &Ctx, input: CategoryInput) -> CoreResult<Category> {
    ctx.create_catalog()?;
    let mut errs = Errors::default();
    let name = match &input.name {
        Some(n) => errs.take("name", required_text(n, 100)),
        None => {
            errs.add("name", "This field is required.");
            None
        }
    };
    let description = errs.take(
        "description",
        bounded_text(input.description.as_deref().unwrap_or(""), 2000),
    );
    errs.finish()?;
    let (Some(name), Some(description)) = (name, description) else {
        return Err(CoreError::from_fields(Default::default()));
    };
    core.db
        .write(|c| insert_category(c, ctx, &name, &description))
}

/// Inserts a checked category on the caller's transaction, with its aggregate row and audit
/// entry: the one way a category comes to be (the API, the staff site, a CSV import naming a
/// new one).
pub fn insert_category(
    c: &mut DbConn,
    ctx: &Ctx,
    name: &str,
    description: &str,
) -> CoreResult<Category> {
    let t = now();
    let row: Category = diesel::insert_into(categories::table)
        .values((
            categories::name.eq(name),
            categories::description.eq(description),
            categories::created_by.eq(ctx.user_id()),
            categories::created_at.eq(t),
            categories::updated_at.eq(t),
        ))
        .returning(categories::all_columns)
        .get_result(c)?;
    stats::ensure_category_row(c, row.id)?;
    let mut ch = Changes::new();
    ch.set("name", &row.name);
    ch.set("description", &row.description);
    audit::record(c, ctx, Entry::of("create", &row, ch))?;
    Ok(row)
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update_category(
    core: &Core,
    ctx: &Ctx,
    id: i64,
    input: CategoryInput,
) -> CoreResult<Category> {
    ctx.create_catalog()?;
    let mut errs = Errors::default();
    let name = input
        .name
        .as_deref()
        .and_then(|n| errs.take("name", required_text(n, 100)));
    let description = input
        .description
        .as_deref()
        .and_then(|d| errs.take("description", bounded_text(d, 2000)));
    errs.finish()?;
    core.db.write(|c| {
        let old: Category = categories::table.find(id).first(c)?;
        ctx.modify_catalog(old.created_by)?;
        let row: Category = diesel::update(categories::table.find(id))
            .set((
                categories::name.eq(name.clone().unwrap_or(old.name.clone())),
                categories::description.eq(description.clone().unwrap_or(old.description.clone())),
                categories::updated_at.eq(now()),
            ))
            .returning(categories::all_columns)
            .get_result(c)?;
        let mut ch = Changes::new();
        ch.diff("name", &old.name, &row.name);
        ch.diff("description", &old.description, &row.description);
        audit::record(c, ctx, Entry::of("update", &row, ch))?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete_category(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.create_catalog()?;
    core.db.write(|c| {
        let old: Category = categories::table.find(id).first(c)?;
        ctx.modify_catalog(old.created_by)?;
        let used: i64 = products::table
            .filter(products::category_id.eq(id))
            .filter(products::deleted_at.is_null())
            .count()
            .get_result(c)?;
        if used > 0 {
            return Err(CoreError::conflict(
                "in_use",
                format!("The category is used by {used} product(s)."),
            ));
        }
        // Soft-deleted products keep their history, not their category.
        diesel::update(products::table.filter(products::category_id.eq(id)))
            .set(products::category_id.eq(None::<i64>))
            .execute(c)?;
        diesel::delete(categories::table.find(id)).execute(c)?;
        diesel::delete(category_stats::table.filter(category_stats::category_key.eq(id)))
            .execute(c)?;
        let mut ch = Changes::new();
        ch.diff("name", &Some(old.name.clone()), &None);
        audit::record(c, ctx, Entry::of("delete", &old, ch))?;
        Ok(())
    })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupplierInput {
    pub name: Option<String>,
    pub contact_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub contract_terms: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub contract_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    pub contract_end: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<f64>)]
    pub rating: Option<Option<serde_json::Value>>,
    pub is_active: Option<bool>,
}

/// A rating 0–5 with at most one decimal, kept as tenths.
fn parse_rating(v: &serde_json::Value) -> Result<i32, String> {
    let text = match v {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.trim().to_owned(),
        _ => return Err("A valid number is required.".into()),
    };
    let msg = || "Enter a rating from 0 to 5 with at most one decimal.".to_string();
    let (i, f) = text.split_once('.').unwrap_or((&text, ""));
    if i.is_empty()
        || !i.chars().all(|c| c.is_ascii_digit())
        || !f.chars().all(|c| c.is_ascii_digit())
    {
        return Err(msg());
    }
    if f.len() > 1 && f[1..].chars().any(|c| c != '0') {
        return Err(msg());
    }
    if i.len() > 1 {
        return Err(msg());
    }
    let whole: i32 = i.parse().map_err(|_| msg())?;
    let tenth: i32 = f.chars().next().and_then(|c| c.to_digit(10)).unwrap_or(0) as i32;
    let v = whole * 10 + tenth;
    if (0..=50).contains(&v) {
        Ok(v)
    } else {
        Err(msg())
    }
}

struct SupplierFields {
    name: Option<String>,
    contact_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    contract_terms: Option<String>,
    rating: Option<Option<i32>>,
}

fn validate_supplier(input: &SupplierInput) -> CoreResult<SupplierFields> {
    let mut errs = Errors::default();
    let fields = check_supplier(input, false, &mut errs);
    errs.finish()?;
    Ok(fields)
}

/// A new supplier's fields, with the name a create cannot do without.
fn validate_new_supplier(input: &SupplierInput) -> CoreResult<(SupplierFields, String)> {
    let mut errs = Errors::default();
    let fields = check_supplier(input, true, &mut errs);
    let name = errs.finish_with(fields.name.clone())?;
    Ok((fields, name))
}

fn check_supplier(input: &SupplierInput, creating: bool, errs: &mut Errors) -> SupplierFields {
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
    let contact_name = text(errs, "contact_name", &input.contact_name, 200);
    let phone = text(errs, "phone", &input.phone, 32);
    let address = text(errs, "address", &input.address, 1000);
    let contract_terms = text(errs, "contract_terms", &input.contract_terms, 5000);
    let email = match input.email.as_deref().map(str::trim) {
        Some("") => Some(String::new()),
        Some(e) => errs.take("email", EmailAddress::parse(e)).map(String::from),
        None => None,
    };
    let rating = match &input.rating {
        Some(Some(v)) => errs.take("rating", parse_rating(v)).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    if let (Some(Some(s)), Some(Some(e))) = (input.contract_start, input.contract_end) {
        if e < s {
            errs.add("contract_end", "The contract cannot end before it starts.");
        }
    }
    SupplierFields {
        name,
        contact_name,
        email,
        phone,
        address,
        contract_terms,
        rating,
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn list_suppliers(
    core: &Core,
    ctx: &Ctx,
    q: &ListQuery,
    page: PageReq,
) -> CoreResult<Paged<Supplier>> {
    ctx.read_catalog(core.config.public_read)?;
    let ordering = parse_ordering(q.ordering.as_deref(), &["name", "rating", "created_at"])?;
    let query = || {
        let mut b = suppliers::table.into_boxed();
        if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
            b = b.filter(
                lower(suppliers::name)
                    .like(contains_pattern(s))
                    .escape('\\'),
            );
        }
        b
    };
    core.db.read(|c| {
        page.load(c, query, |mut b| {
            for (field, desc) in &ordering {
                b = match (field.as_str(), desc) {
                    ("name", false) => b.then_order_by(suppliers::name.asc()),
                    ("name", true) => b.then_order_by(suppliers::name.desc()),
                    ("rating", false) => b.then_order_by(suppliers::rating.asc()),
                    ("rating", true) => b.then_order_by(suppliers::rating.desc()),
                    (_, false) => b.then_order_by(suppliers::created_at.asc()),
                    (_, true) => b.then_order_by(suppliers::created_at.desc()),
                };
            }
            b.then_order_by(suppliers::id.asc())
        })
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn get_supplier(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Supplier> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| Ok(suppliers::table.find(id).first(c)?))
}

fn supplier_changes(old: Option<&Supplier>, new: &Supplier) -> Changes {
    let mut ch = Changes::new();
    macro_rules! field {
        ($f:ident) => {
            match old {
                Some(o) => ch.diff(stringify!($f), &o.$f, &new.$f),
                None => ch.set(stringify!($f), &new.$f),
            }
        };
    }
    field!(name);
    field!(contact_name);
    field!(email);
    field!(phone);
    field!(address);
    field!(contract_terms);
    field!(contract_start);
    field!(contract_end);
    field!(rating);
    field!(is_active);
    ch
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn create_supplier(core: &Core, ctx: &Ctx, input: SupplierInput) -> CoreResult<Supplier> {
    let p = ctx.create_catalog()?.clone();
    let (v, name) = validate_new_supplier(&input)?;
    core.db.write(|c| {
        let t = now();
        let row: Supplier = diesel::insert_into(suppliers::table)
            .values((
                suppliers::name.eq(&name),
                suppliers::contact_name.eq(v.contact_name.clone().unwrap_or_default()),
                suppliers::email.eq(v.email.clone().unwrap_or_default()),
                suppliers::phone.eq(v.phone.clone().unwrap_or_default()),
                suppliers::address.eq(v.address.clone().unwrap_or_default()),
                suppliers::contract_terms.eq(v.contract_terms.clone().unwrap_or_default()),
                suppliers::contract_start.eq(input.contract_start.flatten()),
                suppliers::contract_end.eq(input.contract_end.flatten()),
                suppliers::rating.eq(v.rating.flatten()),
                suppliers::is_active.eq(input.is_active.unwrap_or(true)),
                suppliers::created_by.eq(p.user_id),
                suppliers::created_at.eq(t),
                suppliers::updated_at.eq(t),
            ))
            .returning(suppliers::all_columns)
            .get_result(c)?;
        stats::ensure_supplier_row(c, row.id)?;
        audit::record(
            c,
            ctx,
            Entry::of("create", &row, supplier_changes(None, &row)),
        )?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn update_supplier(
    core: &Core,
    ctx: &Ctx,
    id: i64,
    input: SupplierInput,
) -> CoreResult<Supplier> {
    ctx.create_catalog()?;
    let v = validate_supplier(&input)?;
    core.db.write(|c| {
        let old: Supplier = suppliers::table.find(id).first(c)?;
        ctx.modify_catalog(old.created_by)?;
        let start = input.contract_start.unwrap_or(old.contract_start);
        let end = input.contract_end.unwrap_or(old.contract_end);
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                return Err(CoreError::validation(
                    "contract_end",
                    "The contract cannot end before it starts.",
                ));
            }
        }
        let row: Supplier = diesel::update(suppliers::table.find(id))
            .set((
                suppliers::name.eq(v.name.clone().unwrap_or(old.name.clone())),
                suppliers::contact_name
                    .eq(v.contact_name.clone().unwrap_or(old.contact_name.clone())),
                suppliers::email.eq(v.email.clone().unwrap_or(old.email.clone())),
                suppliers::phone.eq(v.phone.clone().unwrap_or(old.phone.clone())),
                suppliers::address.eq(v.address.clone().unwrap_or(old.address.clone())),
                suppliers::contract_terms.eq(v
                    .contract_terms
                    .clone()
                    .unwrap_or(old.contract_terms.clone())),
                suppliers::contract_start.eq(start),
                suppliers::contract_end.eq(end),
                suppliers::rating.eq(v.rating.unwrap_or(old.rating)),
                suppliers::is_active.eq(input.is_active.unwrap_or(old.is_active)),
                suppliers::updated_at.eq(now()),
            ))
            .returning(suppliers::all_columns)
            .get_result(c)?;
        audit::record(
            c,
            ctx,
            Entry::of("update", &row, supplier_changes(Some(&old), &row)),
        )?;
        Ok(row)
    })
}

#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id(), id = id))]
pub fn delete_supplier(core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
    ctx.create_catalog()?;
    core.db.write(|c| {
        let old: Supplier = suppliers::table.find(id).first(c)?;
        ctx.modify_catalog(old.created_by)?;
        if crate::services::orders::supplier_has_open_orders(c, id)? {
            return Err(CoreError::conflict(
                "in_use",
                "The supplier has open purchase orders.",
            ));
        }
        let links =
            diesel::delete(product_suppliers::table.filter(product_suppliers::supplier_id.eq(id)))
                .execute(c)?;
        diesel::delete(suppliers::table.find(id)).execute(c)?;
        diesel::delete(supplier_stats::table.filter(supplier_stats::supplier_id.eq(id)))
            .execute(c)?;
        let mut ch = Changes::new();
        ch.diff("name", &Some(old.name.clone()), &None);
        if links > 0 {
            ch.diff("product_links", &links, &0);
        }
        audit::record(c, ctx, Entry::of("delete", &old, ch))?;
        Ok(())
    })
}
