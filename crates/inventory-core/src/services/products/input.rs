//! A product body as the API and the staff site send it, and its checks: turned into typed
//! fields here once, so the write path below works on checked values only.

use diesel::prelude::*;
use serde::Deserialize;

use crate::db::DbConn;
use crate::error::{CoreError, CoreResult, Errors};
use crate::schema::categories;
use crate::types::{bounded_text, double_option, required_text, Barcode, Money, Quantity, Sku};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub sku: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub barcode: Option<Option<String>>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Also read as `category`, the name a plain item model gives its category (a product
    /// shaped like `{name, description, quantity, price, category}` is accepted as is).
    #[serde(default, alias = "category", deserialize_with = "double_option")]
    pub category_id: Option<Option<i64>>,
    #[schema(value_type = Option<String>)]
    pub price: Option<serde_json::Value>,
    pub quantity: Option<i64>,
    /// Where an initial quantity is received (create only; default location otherwise).
    pub location_id: Option<i64>,
    pub reorder_level: Option<i64>,
    pub reorder_quantity: Option<i64>,
    pub unit: Option<String>,
    /// The product's supplier links (API.md §3 nested writes): on create they become its
    /// links; on update the list replaces them. Left out, the links stay as they are.
    pub suppliers: Option<Vec<crate::services::links::LinkInput>>,
}

/// The checked fields of a product body; `None` means "not given".
pub(super) struct Fields {
    pub sku: Option<Sku>,
    pub barcode: Option<Option<Barcode>>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<i64>,
    pub quantity: Option<Quantity>,
    pub reorder_level: Option<Quantity>,
    pub reorder_quantity: Option<Quantity>,
    pub unit: Option<String>,
}

pub(super) fn validate(input: &ProductInput) -> CoreResult<Fields> {
    let mut errs = Errors::default();
    let fields = check(input, false, &mut errs);
    errs.finish()?;
    Ok(fields)
}

/// A new product's fields, with the name and price a create cannot do without.
pub(super) fn validate_new(input: &ProductInput) -> CoreResult<(Fields, String, i64)> {
    let mut errs = Errors::default();
    let fields = check(input, true, &mut errs);
    let (name, price) = errs.finish_with(fields.name.clone().zip(fields.price))?;
    Ok((fields, name, price))
}

fn check(input: &ProductInput, creating: bool, errs: &mut Errors) -> Fields {
    let required = |errs: &mut Errors, field: &str, present: bool| {
        if creating && !present {
            errs.add(field, "This field is required.");
        }
    };
    required(errs, "name", input.name.is_some());
    required(errs, "price", input.price.is_some());
    let sku = input
        .sku
        .as_deref()
        .and_then(|s| errs.take("sku", Sku::parse(s)));
    let barcode = match &input.barcode {
        Some(Some(b)) if b.trim().is_empty() => Some(None),
        Some(Some(b)) => errs.take("barcode", Barcode::parse(b)).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    let name = input
        .name
        .as_deref()
        .and_then(|s| errs.take("name", required_text(s, 200)));
    let description = input
        .description
        .as_deref()
        .and_then(|s| errs.take("description", bounded_text(s, 5000)));
    let price = input
        .price
        .as_ref()
        .and_then(|p| errs.take("price", Money::parse_json(p).map(|m| m.0)));
    let quantity = input
        .quantity
        .and_then(|q| errs.take("quantity", Quantity::parse(q)));
    let reorder_level = input
        .reorder_level
        .and_then(|q| errs.take("reorder_level", Quantity::parse(q)));
    let reorder_quantity = input
        .reorder_quantity
        .and_then(|q| errs.take("reorder_quantity", Quantity::parse(q)));
    let unit = input
        .unit
        .as_deref()
        .and_then(|s| errs.take("unit", required_text(s, 20)));
    if !creating && input.location_id.is_some() {
        errs.add(
            "location_id",
            "Only used when creating; book stock with an adjustment instead.",
        );
    }
    Fields {
        sku,
        barcode,
        name,
        description,
        price,
        quantity,
        reorder_level,
        reorder_quantity,
        unit,
    }
}

pub(super) fn check_category(conn: &mut DbConn, id: Option<i64>) -> CoreResult<()> {
    if let Some(id) = id {
        let found: Option<i64> = categories::table
            .find(id)
            .select(categories::id)
            .first(conn)
            .optional()?;
        if found.is_none() {
            return Err(CoreError::validation("category_id", "No such category."));
        }
    }
    Ok(())
}
