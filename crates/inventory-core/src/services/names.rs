//! Names for ids, a page's worth at a time: screens show "HAM-1 Claw hammer" and "dana" where
//! the API's objects carry `product_id` and `requested_by`. One query a kind, however many
//! rows the page has.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::auth::Ctx;
use crate::context::Core;
use crate::error::CoreResult;
use crate::schema::{products, users};

fn distinct(ids: &[i64]) -> Vec<i64> {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// `id → "SKU name"` of products (deleted ones too: history still names them).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn products(core: &Core, ctx: &Ctx, ids: &[i64]) -> CoreResult<HashMap<i64, String>> {
    ctx.read_catalog(core.config.public_read)?;
    let ids = distinct(ids);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    core.db.read(|c| {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<(i64, String, String)> = products::table
                .filter(products::id.eq_any(chunk))
                .select((products::id, products::sku, products::name))
                .load(c)?;
            out.extend(
                rows.into_iter()
                    .map(|(id, sku, name)| (id, format!("{sku} {name}"))),
            );
        }
        Ok(out)
    })
}

/// `id → username` for anyone signed in (operations show who did what).
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn users(core: &Core, ctx: &Ctx, ids: &[i64]) -> CoreResult<HashMap<i64, String>> {
    ctx.read_operations()?;
    let ids = distinct(ids);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    core.db.read(|c| {
        let rows: Vec<(i64, String)> = users::table
            .filter(users::id.eq_any(&ids))
            .select((users::id, users::username))
            .load(c)?;
        Ok(rows.into_iter().collect())
    })
}

/// `(id, name)` of the first `limit` categories by name: the choices of a select or filter,
/// in one query.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn category_choices(core: &Core, ctx: &Ctx, limit: i64) -> CoreResult<Vec<(i64, String)>> {
    use crate::schema::categories;
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        Ok(categories::table
            .select((categories::id, categories::name))
            .order((categories::name, categories::id))
            .limit(limit)
            .load(c)?)
    })
}

/// `(id, name)` of the first `limit` suppliers by name.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn supplier_choices(core: &Core, ctx: &Ctx, limit: i64) -> CoreResult<Vec<(i64, String)>> {
    use crate::schema::suppliers;
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        Ok(suppliers::table
            .select((suppliers::id, suppliers::name))
            .order((suppliers::name, suppliers::id))
            .limit(limit)
            .load(c)?)
    })
}

/// `(id, "CODE — name")` of the first `limit` locations by code.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn location_choices(core: &Core, ctx: &Ctx, limit: i64) -> CoreResult<Vec<(i64, String)>> {
    use crate::schema::locations;
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        let rows: Vec<(i64, String, String)> = locations::table
            .select((locations::id, locations::code, locations::name))
            .order((locations::code, locations::id))
            .limit(limit)
            .load(c)?;
        Ok(rows
            .into_iter()
            .map(|(id, code, name)| (id, format!("{code} — {name}")))
            .collect())
    })
}

/// `id → name` of the given categories.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn categories(core: &Core, ctx: &Ctx, ids: &[i64]) -> CoreResult<HashMap<i64, String>> {
    use crate::schema::categories;
    ctx.read_catalog(core.config.public_read)?;
    let ids = distinct(ids);
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    core.db.read(|c| {
        let rows: Vec<(i64, String)> = categories::table
            .filter(categories::id.eq_any(&ids))
            .select((categories::id, categories::name))
            .load(c)?;
        Ok(rows.into_iter().collect())
    })
}
