//! Product CSV import and export, and CSV rendering of report rows.
//!
//! Export walks the products by id in chunks (keyset, never OFFSET) so a million rows stream
//! in constant memory. Import is all-or-nothing: every row is checked first and every problem
//! reported with its row and column; only a clean file touches the database, in one transaction.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::auth::Ctx;
use crate::context::Core;
use crate::db::{now, DbConn};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::models::Product;
use crate::schema::{categories, products};
use crate::services::products::{NewProduct, ProductChanges, Writes};
use crate::types::{bounded_text, required_text, Barcode, Money, Quantity, Sku};

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
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
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
            crate::csvsafe::write_record(
                &mut w,
                [
                    p.sku,
                    p.name,
                    Money::format(p.price_cents),
                    p.description,
                    cat.unwrap_or_default(),
                    p.barcode.unwrap_or_default(),
                    p.reorder_level.to_string(),
                    p.reorder_quantity.to_string(),
                    p.unit,
                ],
            )
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

/// Reads and checks an import file without touching the database: the number of rows, or
/// every problem by row and column (what the import refuses before it writes anything).
pub fn check_file(body: &[u8]) -> Result<usize, FieldErrors> {
    parse(body).map(|rows| rows.len())
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
    let key = if line == 0 {
        column.to_owned()
    } else {
        format!("row {line}: {column}")
    };
    errors.entry(key).or_default().push(msg.into());
}

/// The most rows one import may hold. An import is all or nothing, so on SQLite its write
/// phase holds the one writer from start to end; at this size that is a few seconds (3.5 s
/// for 100,000 new products in a release build), well inside the time a write waits for its
/// turn, so no other write fails because an import runs. It also bounds the parsed rows an
/// import keeps in memory.
pub const MAX_ROWS: usize = 100_000;

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
        if n == MAX_ROWS {
            errors.insert(
                "file".into(),
                vec![format!(
                    "An import holds at most {MAX_ROWS} rows; split the file and import the \
                     parts one after another."
                )],
            );
            return Err(errors);
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                add(&mut errors, line, "row", format!("Malformed CSV: {e}"));
                continue;
            }
        };
        let get = |c: &str| {
            idx.get(c)
                .and_then(|i| rec.get(*i))
                .map(|v| crate::csvsafe::unescape(v).to_owned())
        };
        let num = |errors: &mut FieldErrors, c: &str| -> Option<i64> {
            let v = get(c)?;
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            match v
                .parse::<i64>()
                .map_err(|_| "A whole number is required.".to_string())
                .and_then(|q| Quantity::parse(q).map(Quantity::get))
            {
                Ok(q) => Some(q),
                Err(m) => {
                    add(errors, line, c, m);
                    None
                }
            }
        };
        let sku = match Sku::parse(&get("sku").unwrap_or_default()) {
            Ok(s) => String::from(s),
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
            Some(b) => Barcode::parse(&b)
                .map(|b| Some(String::from(b)))
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
            *created += 1;
            crate::services::catalog::insert_category(conn, ctx, name, "")?.id
        }
    };
    cache.insert(name.to_owned(), id);
    Ok(id)
}

/// A unique violation met while writing row `line` (another request took the value after the
/// checks): the whole import is refused with the row named. The transaction is not used
/// again after it (PostgreSQL has aborted it).
fn row_conflict(line: usize, e: CoreError) -> CoreError {
    match e {
        CoreError::Conflict { detail, errors, .. } => {
            let mut out = FieldErrors::new();
            let field = errors
                .keys()
                .next()
                .cloned()
                .unwrap_or_else(|| "row".into());
            add(&mut out, line, &field, detail);
            CoreError::Validation {
                detail: "The import was refused; nothing was changed.".into(),
                errors: out,
            }
        }
        CoreError::NotFound => {
            let mut out = FieldErrors::new();
            add(
                &mut out,
                line,
                "sku",
                "This product changed or was deleted while the file was being imported; import the file again.",
            );
            CoreError::Conflict {
                code: "conflict",
                detail: "The import was refused; nothing was changed.".into(),
                errors: out,
            }
        }
        other => other,
    }
}

/// The live products with the file's SKUs, by SKU.
fn live_by_sku(conn: &mut DbConn, rows: &[Row]) -> CoreResult<HashMap<String, Product>> {
    let mut out = HashMap::new();
    for chunk in rows.chunks(500) {
        let skus: Vec<&str> = chunk.iter().map(|r| r.sku.as_str()).collect();
        let found: Vec<Product> = products::table
            .filter(products::deleted_at.is_null())
            .filter(products::sku.eq_any(&skus))
            .load(conn)?;
        out.extend(found.into_iter().map(|p| (p.sku.clone(), p)));
    }
    Ok(out)
}

/// Barcodes a row would take from another live product, or that two rows share.
fn barcode_clashes(conn: &mut DbConn, rows: &[Row]) -> CoreResult<FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for r in rows {
        if let Some(Some(b)) = &r.barcode {
            if let Some(line) = first.insert(b.as_str(), r.line) {
                add(
                    &mut errors,
                    r.line,
                    "barcode",
                    format!("Duplicate barcode: already on row {line}."),
                );
            }
        }
    }
    let wanted: Vec<(&str, &Row)> = rows
        .iter()
        .filter_map(|r| match &r.barcode {
            Some(Some(b)) => Some((b.as_str(), r)),
            _ => None,
        })
        .collect();
    for chunk in wanted.chunks(500) {
        let codes: Vec<&str> = chunk.iter().map(|(b, _)| *b).collect();
        let holders: Vec<(String, Option<String>)> = products::table
            .filter(products::deleted_at.is_null())
            .filter(products::barcode.eq_any(&codes))
            .select((products::sku, products::barcode))
            .load(conn)?;
        for (sku, code) in holders {
            let Some(code) = code else { continue };
            for (b, r) in chunk {
                if *b == code && r.sku != sku {
                    add(
                        &mut errors,
                        r.line,
                        "barcode",
                        format!("Barcode {code} already belongs to product {sku}."),
                    );
                }
            }
        }
    }
    Ok(errors)
}

/// `POST /api/products/import`: upsert by SKU, all or nothing.
#[tracing::instrument(level = "debug", skip_all, fields(user = ?ctx.user_id()))]
pub fn import(core: &Core, ctx: &Ctx, body: &[u8]) -> CoreResult<ImportResult> {
    let p = ctx.create_catalog()?.clone();
    let rows = parse(body).map_err(|errors| CoreError::Validation {
        detail: "The import was refused; nothing was changed.".into(),
        errors,
    })?;
    // Everything that only reads happens before the write: the barcode checks and the live
    // products the file names. The write transaction (which holds SQLite's one writer) then
    // does nothing but write.
    let (clashes, mut existing_by_sku) = core
        .db
        .read(|c| Ok((barcode_clashes(c, &rows)?, live_by_sku(c, &rows)?)))?;
    if !clashes.is_empty() {
        return Err(CoreError::Validation {
            detail: "The import was refused; nothing was changed.".into(),
            errors: clashes,
        });
    }
    core.db.write(|c| {
        let mut result = ImportResult {
            created: 0,
            updated: 0,
            unchanged: 0,
            categories_created: 0,
        };
        let mut cache = HashMap::new();
        let mut conflicts = FieldErrors::new();
        let mut writes = Writes::new();
        let mut creates: Vec<NewProduct> = vec![];
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
            match existing_by_sku.remove(&r.sku) {
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
                    // Columns the file leaves out stay as they are.
                    let changes = ProductChanges {
                        sku: None,
                        barcode: r.barcode.clone(),
                        name: Some(r.name.clone()),
                        description: r.description.clone(),
                        category_id: r.category.is_some().then_some(cat),
                        price_cents: Some(r.price),
                        reorder_level: r.reorder_level,
                        reorder_quantity: r.reorder_quantity,
                        unit: r.unit.clone(),
                    };
                    match writes
                        .change(c, ctx, &old, &changes)
                        .map_err(|e| row_conflict(r.line, e))?
                    {
                        Some(_) => result.updated += 1,
                        // Nothing to change: "last updated" stays as it was.
                        None => result.unchanged += 1,
                    }
                }
                None => creates.push(NewProduct {
                    sku: r.sku.clone(),
                    barcode: r.barcode.clone().flatten(),
                    name: r.name.clone(),
                    description: r.description.clone().unwrap_or_default(),
                    category_id: cat,
                    price_cents: r.price,
                    quantity: 0,
                    reorder_level: r.reorder_level.unwrap_or(0),
                    reorder_quantity: r.reorder_quantity.unwrap_or(0),
                    unit: r.unit.clone().unwrap_or_else(|| "pcs".into()),
                    created_by: Some(p.user_id),
                    created_at: t,
                    updated_at: t,
                }),
            }
        }
        if !conflicts.is_empty() {
            // Returning an error rolls the whole import back.
            return Err(CoreError::Validation {
                detail: "The import was refused; nothing was changed.".into(),
                errors: conflicts,
            });
        }
        // The checks above ran before the write, so a clash here is a product created by
        // someone else meanwhile: the whole file is refused, and can simply be sent again.
        result.created = writes
            .insert(c, ctx, creates)
            .map_err(|e| row_conflict(0, e))?
            .len();
        // The shared rows last, so other writes wait on them only for the commit.
        writes.finish(c, ctx)?;
        Ok(result)
    })
}

/// Renders rows as CSV with a header, for the reports' `?format=csv`, every cell escaped
/// against formulas (see [`crate::csvsafe`]).
pub fn to_csv<T: serde::Serialize>(rows: &[T]) -> CoreResult<Vec<u8>> {
    let err = |e: csv::Error| CoreError::Internal(e.to_string());
    let mut plain = csv::Writer::from_writer(Vec::new());
    for r in rows {
        plain.serialize(r).map_err(err)?;
    }
    let plain = plain
        .into_inner()
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(plain.as_slice());
    let mut w = csv::Writer::from_writer(Vec::with_capacity(plain.len()));
    for rec in reader.records() {
        crate::csvsafe::write_record(&mut w, rec.map_err(err)?.iter()).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| CoreError::Internal(e.to_string()))
}
