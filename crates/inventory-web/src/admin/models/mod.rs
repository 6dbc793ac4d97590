//! The models of the staff site, one file per area, and the helpers they share: objects as
//! the API's JSON, bodies read by the API's input types, and choice lists for selects.

mod audit;
mod catalog;
mod orders;
mod products;
mod stock;
mod transfers;
mod users;

use inventory_core::auth::Ctx;
use inventory_core::paging::{PageReq, Paged};
use inventory_core::{Core, CoreError};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::model::{CoreResult, ModelAdmin};

pub static ALL: &[&dyn ModelAdmin] = &[
    &products::Products,
    &catalog::Categories,
    &catalog::Suppliers,
    &catalog::Locations,
    &stock::StockLevels,
    &stock::Adjustments,
    &transfers::Transfers,
    &orders::Orders,
    &stock::Alerts,
    &users::Users,
    &audit::AuditLog,
    &audit::LoginAttempts,
];

/// An object as the API shows it.
pub fn json<T: Serialize>(t: &T) -> CoreResult<Value> {
    serde_json::to_value(t).map_err(|e| CoreError::Internal(format!("serialize: {e}")))
}

/// A page as (count, objects).
pub fn paged<T: Serialize>(p: Paged<T>) -> CoreResult<(i64, Vec<Value>)> {
    let rows = p.results.iter().map(json).collect::<CoreResult<Vec<_>>>()?;
    Ok((p.count, rows))
}

/// A body read by the API's input type, with the API's field errors and messages.
pub fn input<T: DeserializeOwned + 'static>(body: Value) -> CoreResult<T> {
    let bytes = serde_json::to_vec(&body).map_err(|e| CoreError::Internal(e.to_string()))?;
    crate::extract::parse_json::<T>(&bytes).map_err(|e| CoreError::Validation {
        detail: e.body.detail,
        errors: e.body.errors.unwrap_or_default(),
    })
}

/// Every item of a paged list, up to `cap` (choice lists for selects).
pub fn gather<T>(
    cap: usize,
    mut f: impl FnMut(PageReq) -> CoreResult<Paged<T>>,
) -> CoreResult<Vec<T>> {
    let mut out = vec![];
    let mut page = 1;
    loop {
        let p = f(PageReq::new(Some(page), Some(PageReq::MAX_SIZE))?)?;
        let (n, count) = (p.results.len(), p.count);
        out.extend(p.results);
        // Stop at the last page: asking past it would be a 404.
        if n == 0 || out.len() as i64 >= count || out.len() >= cap {
            break;
        }
        page += 1;
    }
    out.truncate(cap);
    Ok(out)
}

pub fn id_of(obj: &Value) -> i64 {
    obj.get("id").and_then(Value::as_i64).unwrap_or(0)
}

pub fn str_of<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The objects' creator, for "employees change only what they created".
pub fn created_by(obj: &Value) -> Option<i64> {
    obj.get("created_by").and_then(Value::as_i64)
}

/// Whether the core's catalog rule lets the caller change or delete `obj`; with no object
/// (`Null`), whether it may change any at all.
pub fn may_modify_catalog(ctx: &Ctx, obj: &Value) -> bool {
    if obj.is_null() {
        return ctx.create_catalog().is_ok();
    }
    ctx.modify_catalog(created_by(obj)).is_ok()
}

/// How many choices a select offers before it becomes a number input with suggestions.
pub const CHOICES: i64 = 1000;

fn pairs(v: Vec<(i64, String)>) -> Vec<(String, String)> {
    v.into_iter().map(|(id, n)| (id.to_string(), n)).collect()
}

/// (id, name) of the categories, by name.
pub fn category_choices(core: &Core, ctx: &Ctx) -> CoreResult<Vec<(String, String)>> {
    Ok(pairs(inventory_core::services::names::category_choices(
        core, ctx, CHOICES,
    )?))
}

pub fn supplier_choices(core: &Core, ctx: &Ctx) -> CoreResult<Vec<(String, String)>> {
    Ok(pairs(inventory_core::services::names::supplier_choices(
        core, ctx, CHOICES,
    )?))
}

pub fn location_choices(core: &Core, ctx: &Ctx) -> CoreResult<Vec<(String, String)>> {
    Ok(pairs(inventory_core::services::names::location_choices(
        core, ctx, CHOICES,
    )?))
}

/// The first choices of a filter panel (it shows fifty).
pub fn filter_choices(core: &Core, ctx: &Ctx, filter: &str) -> CoreResult<Vec<(String, String)>> {
    use inventory_core::services::names;
    Ok(pairs(match filter {
        "category_id" => names::category_choices(core, ctx, 50)?,
        "supplier_id" => names::supplier_choices(core, ctx, 50)?,
        "location_id" => names::location_choices(core, ctx, 50)?,
        _ => vec![],
    }))
}

/// The first products by name (a long catalogue is typed by id with these as suggestions).
pub fn product_choices(core: &Core, ctx: &Ctx) -> CoreResult<Vec<(String, String)>> {
    use inventory_core::services::products;
    let f = products::ProductFilter {
        ordering: Some("name".into()),
        ..Default::default()
    };
    Ok(gather(301, |p| products::list_rows(core, ctx, &f, p))?
        .into_iter()
        .map(|p| (p.id.to_string(), format!("{} — {}", p.sku, p.name)))
        .collect())
}

/// Names for ids in a list's cells (a product's category, a transfer's locations).
pub fn name_map(choices: &[(String, String)]) -> std::collections::HashMap<i64, String> {
    choices
        .iter()
        .filter_map(|(id, name)| id.parse().ok().map(|i| (i, name.clone())))
        .collect()
}

/// Sets `out` on each row to a name for the id in `id_field`, looked up for the whole page at
/// once by `names`.
fn label(
    rows: &mut [Value],
    id_field: &str,
    out: &str,
    names: impl FnOnce(&[i64]) -> CoreResult<std::collections::HashMap<i64, String>>,
) -> CoreResult<()> {
    let ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.get(id_field).and_then(Value::as_i64))
        .collect();
    let names = names(&ids)?;
    for r in rows.iter_mut() {
        name_into(r, id_field, out, &names);
    }
    Ok(())
}

/// Sets `out` on each row to the "SKU name" of the product in `id_field`.
pub fn label_products(
    core: &Core,
    ctx: &Ctx,
    rows: &mut [Value],
    id_field: &str,
    out: &str,
) -> CoreResult<()> {
    label(rows, id_field, out, |ids| {
        inventory_core::services::names::products(core, ctx, ids)
    })
}

/// Sets `out` on each row to the username of the user in `id_field`.
pub fn label_users(
    core: &Core,
    ctx: &Ctx,
    rows: &mut [Value],
    id_field: &str,
    out: &str,
) -> CoreResult<()> {
    label(rows, id_field, out, |ids| {
        inventory_core::services::names::users(core, ctx, ids)
    })
}

/// Sets `obj[field]` to the name of the id in `obj[id_field]`.
pub fn name_into(
    obj: &mut Value,
    id_field: &str,
    field: &str,
    names: &std::collections::HashMap<i64, String>,
) {
    let name = obj
        .get(id_field)
        .and_then(Value::as_i64)
        .map(|id| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")));
    if let Some(o) = obj.as_object_mut() {
        o.insert(
            field.to_owned(),
            name.map(Value::String).unwrap_or(Value::Null),
        );
    }
}
