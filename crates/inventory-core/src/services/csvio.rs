//! Product CSV import and export, and CSV rendering of report rows.
//!
//! Export walks the products by id in chunks (keyset, never OFFSET) so a million rows stream
//! in constant memory. Import is all-or-nothing: every row is checked first and every problem
//! reported with its row and column; only a clean file touches the database, in one transaction.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::audit::{self, Changes, Entry};
use crate::auth::Ctx;
use crate::db::{now, Core, DbConn};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::models::Product;
use crate::schema::{categories, products};
use crate::services::stats;
use crate::types::{bounded_text, parse_barcode, parse_quantity, parse_sku, required_text, Money};

/// The product columns, in export order; `sku`, `name` and `price` are required on import.
pub const COLUMNS: [&str; 9] = [
    "sku",
    "name",
    "price",
    "description",
    "category",
    "barcode",
    "reorder_level",
    "reorder_quantity",
    "unit",
];
const REQUIRED: [&str; 3] = ["sku", "name", "price"];

/// One chunk of the export, after product id `after`; `None` when done.
pub fn export_chunk(
    core: &Core,
    ctx: &Ctx,
    after: i64,
    size: i64,
) -> CoreResult<Option<(i64, Vec<u8>)>> {
    ctx.read_catalog(core.config.public_read)?;
    core.db.read(|c| {
        let rows: Vec<(Product, Option<String>)> = products::table
            .left_join(categories::table)
            .filter(products::deleted_at.is_null())
            .filter(products::id.gt(after))
            .order(products::id)
            .limit(size)
            .select((products::all_columns, categories::name.nullable()))
            .load(c)?;
        let Some(last) = rows.last().map(|(p, _)| p.id) else {
            return Ok(None);
        };
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::with_capacity(rows.len() * 80));
        for (p, cat) in rows {
            w.write_record([
                p.sku,
                p.name,
                Money::format(p.price_cents),
                p.description,
                cat.unwrap_or_default(),
                p.barcode.unwrap_or_default(),
                p.reorder_level.to_string(),
                p.reorder_quantity.to_string(),
                p.unit,
            ])
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(Some((last, bytes)))
    })
}

pub fn header_line() -> Vec<u8> {
    let mut line = COLUMNS.join(",").into_bytes();
    line.push(b'\n');
    line
}

#[derive(Debug, Clone)]
struct Row {
    line: usize,
    sku: String,
    name: String,
    price: i64,
    description: Option<String>,
    category: Option<String>,
    barcode: Option<Option<String>>,
    reorder_level: Option<i64>,
    reorder_quantity: Option<i64>,
    unit: Option<String>,
}

/// Import counts, for the answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub created: usize,
    pub updated: usize,
    /// Rows whose product already had exactly these values.
    pub unchanged: usize,
    pub categories_created: usize,
}

fn add(errors: &mut FieldErrors, line: usize, column: &str, msg: impl Into<String>) {
    errors
        .entry(format!("row {line}: {column}"))
        .or_default()
        .push(msg.into());
}

fn parse(body: &[u8]) -> Result<Vec<Row>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let text = match std::str::from_utf8(body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)) {
        Ok(t) => t,
        Err(e) => {
            errors.insert(
                "file".into(),
                vec![format!("The file is not UTF-8 (byte {}).", e.valid_up_to())],
            );
            return Err(errors);
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_lowercase()).collect(),
        Err(e) => {
            errors.insert(
                "file".into(),
                vec![format!("Cannot read the header row: {e}")],
            );
            return Err(errors);
        }
    };
    let mut seen_cols = HashSet::new();
    for h in &headers {
        if !COLUMNS.contains(&h.as_str()) {
            errors.entry("header".into()).or_default().push(format!(
                "Unknown column \"{h}\"; allowed: {}.",
                COLUMNS.join(", ")
            ));
        } else if !seen_cols.insert(h.clone()) {
            errors
                .entry("header".into())
                .or_default()
                .push(format!("Column \"{h}\" appears twice."));
        }
    }
    for r in REQUIRED {
        if !headers.iter().any(|h| h == r) {
            errors
                .entry("header".into())
                .or_default()
                .push(format!("Required column \"{r}\" is missing."));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let idx: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut rows = Vec::new();
    let mut skus: HashMap<String, usize> = HashMap::new();
    for (n, rec) in reader.records().enumerate() {
        let line = n + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                add(&mut errors, line, "row", format!("Malformed CSV: {e}"));
                continue;
            }
        };
        let get = |c: &str| idx.get(c).and_then(|i| rec.get(*i)).map(str::to_owned);
        let num = |errors: &mut FieldErrors, c: &str| -> Option<i64> {
            let v = get(c)?;
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            match v
                .parse::<i64>()
                .map_err(|_| "A whole number is required.".to_string())
                .and_then(parse_quantity)
            {
                Ok(q) => Some(q),
                Err(m) => {
                    add(errors, line, c, m);
                    None
                }
            }
        };
        let sku = match parse_sku(&get("sku").unwrap_or_default()) {
            Ok(s) => s,
            Err(m) => {
                add(&mut errors, line, "sku", m);
                String::new()
            }
        };
        if !sku.is_empty() {
            if let Some(first) = skus.insert(sku.clone(), line) {
                add(
                    &mut errors,
                    line,
                    "sku",
                    format!("Duplicate SKU: already on row {first}."),
                );
            }
        }
        let name = required_text(&get("name").unwrap_or_default(), 200).unwrap_or_else(|m| {
            add(&mut errors, line, "name", m);
            String::new()
        });
        let price = Money::parse_str(get("price").unwrap_or_default().trim())
            .map(|m| m.0)
            .unwrap_or_else(|m| {
                add(&mut errors, line, "price", m);
                0
            });
        let description = get("description").and_then(|d| {
            bounded_text(&d, 5000)
                .map_err(|m| add(&mut errors, line, "description", m))
                .ok()
        });
        let category = get("category").filter(|c| !c.is_empty()).and_then(|c| {
            required_text(&c, 100)
                .map_err(|m| add(&mut errors, line, "category", m))
                .ok()
        });
        let barcode = match get("barcode") {
            None => None,
            Some(b) if b.is_empty() => Some(None),
            Some(b) => parse_barcode(&b)
                .map(Some)
                .map_err(|m| add(&mut errors, line, "barcode", m))
                .ok(),
        };
        let reorder_level = num(&mut errors, "reorder_level");
        let reorder_quantity = num(&mut errors, "reorder_quantity");
        let unit = get("unit").filter(|u| !u.is_empty()).and_then(|u| {
            required_text(&u, 20)
                .map_err(|m| add(&mut errors, line, "unit", m))
                .ok()
        });
        rows.push(Row {
            line,
            sku,
            name,
            price,
            description,
            category,
            barcode,
            reorder_level,
            reorder_quantity,
            unit,
        });
    }
    if rows.is_empty() && errors.is_empty() {
        errors.insert(
            "file".into(),
            vec!["The file has a header but no rows.".into()],
        );
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn category_id(
    conn: &mut DbConn,
    ctx: &Ctx,
    cache: &mut HashMap<String, i64>,
    name: &str,
    created: &mut usize,
) -> CoreResult<i64> {
    if let Some(id) = cache.get(name) {
        return Ok(*id);
    }
    let found: Option<i64> = categories::table
        .filter(categories::name.eq(name))
        .select(categories::id)
        .first(conn)
        .optional()?;
    let id = match found {
        Some(id) => id,
        None => {
            let t = now();
            let id: i64 = diesel::insert_into(categories::table)
                .values((
                    categories::name.eq(name),
                    categories::description.eq(""),
                    categories::created_by.eq(ctx.user_id()),
                    categories::created_at.eq(t),
                    categories::updated_at.eq(t),
                ))
                .returning(categories::id)
                .get_result(conn)?;
            stats::ensure_category_row(conn, id)?;
            let mut ch = Changes::new();
            ch.set("name", &name);
            audit::record(
                conn,
                ctx,
                Entry {
                    action: "create",
                    object_type: "category",
                    object_id: id.to_string(),
                    object_repr: name.to_owned(),
                    changes: ch.into_value(),
                },
            )?;
            *created += 1;
            id
        }
    };
    cache.insert(name.to_owned(), id);
    Ok(id)
}

/// `POST /api/products/import`: upsert by SKU, all or nothing.
pub fn import(core: &Core, ctx: &Ctx, body: &[u8]) -> CoreResult<ImportResult> {
    let p = ctx.create_catalog()?.clone();
    let rows = parse(body).map_err(|errors| CoreError::Validation {
        detail: "The import was refused; nothing was changed.".into(),
        errors,
    })?;
    core.db.write(|c| {
        let mut result = ImportResult {
            created: 0,
            updated: 0,
            unchanged: 0,
            categories_created: 0,
        };
        let mut cache = HashMap::new();
        let mut conflicts = FieldErrors::new();
        let t = now();
        for r in &rows {
            let cat = match &r.category {
                Some(n) => Some(category_id(
                    c,
                    ctx,
                    &mut cache,
                    n,
                    &mut result.categories_created,
                )?),
                None => None,
            };
            let existing: Option<Product> = products::table
                .filter(products::sku.eq(&r.sku))
                .filter(products::deleted_at.is_null())
                .first(c)
                .optional()?;
            match existing {
                Some(old) => {
                    if ctx.modify_catalog(old.created_by).is_err() {
                        add(
                            &mut conflicts,
                            r.line,
                            "sku",
                            "You may not change this product (created by someone else).",
                        );
                        continue;
                    }
                    let target = (
                        r.name.clone(),
                        r.price,
                        r.description.clone().unwrap_or(old.description.clone()),
                        if r.category.is_some() {
                            cat
                        } else {
                            old.category_id
                        },
                        r.barcode.clone().unwrap_or(old.barcode.clone()),
                        r.reorder_level.unwrap_or(old.reorder_level),
                        r.reorder_quantity.unwrap_or(old.reorder_quantity),
                        r.unit.clone().unwrap_or(old.unit.clone()),
                    );
                    let current = (
                        old.name.clone(),
                        old.price_cents,
                        old.description.clone(),
                        old.category_id,
                        old.barcode.clone(),
                        old.reorder_level,
                        old.reorder_quantity,
                        old.unit.clone(),
                    );
                    if target == current {
                        // Nothing to change: "last updated" stays as it was.
                        result.unchanged += 1;
                        continue;
                    }
                    stats::detach(c, old.id)?;
                    let res = diesel::update(products::table.find(old.id))
                        .set((
                            products::name.eq(&target.0),
                            products::price_cents.eq(target.1),
                            products::description.eq(&target.2),
                            products::category_id.eq(target.3),
                            products::barcode.eq(&target.4),
                            products::reorder_level.eq(target.5),
                            products::reorder_quantity.eq(target.6),
                            products::unit.eq(&target.7),
                            products::updated_at.eq(t),
                        ))
                        .returning(products::all_columns)
                        .get_result::<Product>(c);
                    let new = match res {
                        Ok(n) => n,
                        Err(e) => match CoreError::from(e) {
                            CoreError::Conflict { detail, .. } => {
                                add(&mut conflicts, r.line, "barcode", detail);
                                continue;
                            }
                            other => return Err(other),
                        },
                    };
                    stats::attach(c, new.id)?;
                    let mut ch = Changes::new();
                    ch.diff("name", &old.name, &new.name);
                    ch.diff(
                        "price",
                        &Money::format(old.price_cents),
                        &Money::format(new.price_cents),
                    );
                    ch.diff("description", &old.description, &new.description);
                    ch.diff("category_id", &old.category_id, &new.category_id);
                    ch.diff("barcode", &old.barcode, &new.barcode);
                    ch.diff("reorder_level", &old.reorder_level, &new.reorder_level);
                    ch.diff(
                        "reorder_quantity",
                        &old.reorder_quantity,
                        &new.reorder_quantity,
                    );
                    ch.diff("unit", &old.unit, &new.unit);
                    if !ch.is_empty() {
                        audit::record(
                            c,
                            ctx,
                            Entry {
                                action: "update",
                                object_type: "product",
                                object_id: new.id.to_string(),
                                object_repr: format!("{} {}", new.sku, new.name),
                                changes: ch.into_value(),
                            },
                        )?;
                    }
                    result.updated += 1;
                }
                None => {
                    let res = diesel::insert_into(products::table)
                        .values((
                            products::sku.eq(&r.sku),
                            products::barcode.eq(r.barcode.clone().flatten()),
                            products::name.eq(&r.name),
                            products::description.eq(r.description.clone().unwrap_or_default()),
                            products::category_id.eq(cat),
                            products::price_cents.eq(r.price),
                            products::quantity.eq(0),
                            products::reorder_level.eq(r.reorder_level.unwrap_or(0)),
                            products::reorder_quantity.eq(r.reorder_quantity.unwrap_or(0)),
                            products::unit.eq(r.unit.clone().unwrap_or_else(|| "pcs".into())),
                            products::created_by.eq(p.user_id),
                            products::created_at.eq(t),
                            products::updated_at.eq(t),
                        ))
                        .returning(products::id)
                        .get_result::<i64>(c);
                    let id = match res {
                        Ok(id) => id,
                        Err(e) => match CoreError::from(e) {
                            CoreError::Conflict { detail, .. } => {
                                add(&mut conflicts, r.line, "barcode", detail);
                                continue;
                            }
                            other => return Err(other),
                        },
                    };
                    stats::attach(c, id)?;
                    stats::bump_live_set(c)?;
                    let mut ch = Changes::new();
                    ch.set("sku", &r.sku);
                    ch.set("name", &r.name);
                    ch.set("price", &Money::format(r.price));
                    audit::record(
                        c,
                        ctx,
                        Entry {
                            action: "create",
                            object_type: "product",
                            object_id: id.to_string(),
                            object_repr: format!("{} {}", r.sku, r.name),
                            changes: ch.into_value(),
                        },
                    )?;
                    result.created += 1;
                }
            }
        }
        if !conflicts.is_empty() {
            // Returning an error rolls the whole import back.
            return Err(CoreError::Validation {
                detail: "The import was refused; nothing was changed.".into(),
                errors: conflicts,
            });
        }
        Ok(result)
    })
}

/// Renders rows as CSV with a header, for the reports' `?format=csv`.
pub fn to_csv<T: serde::Serialize>(rows: &[T]) -> CoreResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)
            .map_err(|e| CoreError::Internal(e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| CoreError::Internal(e.to_string()))
}
