//! The keyset condition of a product list walked by cursor: "the rows after the boundary row
//! in the list's ordering", typed per column so each engine compares as it orders.

use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::cursor::{CursorReq, Dir, Key};
use crate::db::MultiBackend;
use crate::error::{CoreError, CoreResult};
use crate::models::Product;
use crate::schema::products;

type Cond = Box<dyn BoxableExpression<products::table, MultiBackend, SqlType = Bool>>;

#[derive(Clone, Copy)]
enum Cmp {
    Beyond(Dir),
    AtLeast(Dir),
    Equal,
}

fn compare(field: &str, cmp: Cmp, v: &Key) -> CoreResult<Cond> {
    macro_rules! on {
        ($col:expr, $val:expr) => {{
            let v = $val;
            match cmp {
                Cmp::Equal => Box::new($col.eq(v)) as Cond,
                Cmp::Beyond(Dir::Above) => Box::new($col.gt(v)),
                Cmp::Beyond(Dir::Below) => Box::new($col.lt(v)),
                Cmp::AtLeast(Dir::Above) => Box::new($col.ge(v)),
                Cmp::AtLeast(Dir::Below) => Box::new($col.le(v)),
            }
        }};
    }
    Ok(match field {
        "name" => on!(products::name, v.as_text()?.to_owned()),
        "sku" => on!(products::sku, v.as_text()?.to_owned()),
        "price" => on!(products::price_cents, v.as_int()?),
        "quantity" => on!(products::quantity, v.as_int()?),
        "created_at" => on!(products::created_at, v.as_time()?),
        "updated_at" => on!(products::updated_at, v.as_time()?),
        _ => on!(products::id, v.as_int()?),
    })
}

/// The value of an ordering key on a row, as a cursor keeps it.
pub fn key_of(field: &str, p: &Product) -> Key {
    match field {
        "name" => Key::Text(p.name.clone()),
        "sku" => Key::Text(p.sku.clone()),
        "price" => Key::Int(p.price_cents),
        "quantity" => Key::Int(p.quantity),
        "created_at" => Key::time(&p.created_at),
        _ => Key::time(&p.updated_at),
    }
}

/// Rows beyond the cursor's boundary: `(k1 beyond v1) OR (k1 = v1 AND k2 beyond v2) OR …`
/// ending with the id, led by `k1 at-or-beyond v1` so the first key's index bounds the scan.
/// `None` at the start of the list.
pub fn after(cursor: &CursorReq, ordering: &[(String, bool)]) -> CoreResult<Option<Cond>> {
    let Some((values, id)) = cursor.boundary() else {
        return Ok(None);
    };
    let last_desc = ordering.last().is_some_and(|(_, desc)| *desc);
    let id = Key::Int(id);
    let keys: Vec<(&str, bool, &Key)> = ordering
        .iter()
        .zip(values)
        .map(|((f, desc), v)| (f.as_str(), *desc, v))
        .chain(std::iter::once(("id", last_desc, &id)))
        .collect();
    let mut any: Option<Cond> = None;
    for (i, (field, desc, v)) in keys.iter().enumerate() {
        let mut term = compare(field, Cmp::Beyond(cursor.side(*desc)), v)?;
        for (f, _, earlier) in &keys[..i] {
            term = Box::new(compare(f, Cmp::Equal, earlier)?.and(term));
        }
        any = Some(match any {
            None => term,
            Some(a) => Box::new(a.or(term)),
        });
    }
    let mut cond = any.ok_or_else(|| CoreError::validation("cursor", "Invalid cursor."))?;
    if let (true, Some((field, desc, v))) = (keys.len() > 1, keys.first()) {
        cond = Box::new(compare(field, Cmp::AtLeast(cursor.side(*desc)), v)?.and(cond));
    }
    Ok(Some(cond))
}
