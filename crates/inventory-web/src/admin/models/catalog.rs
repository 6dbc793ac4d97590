//! Categories, suppliers and locations.

use inventory_core::auth::Ctx;
use inventory_core::services::{catalog, locations, products};
use inventory_core::Core;
use serde_json::Value;

use super::{id_of, input, json, may_modify_catalog, paged, str_of};
use crate::admin::forms::{FieldSpec, Kind};
use crate::admin::model::{
    api_filter, col, filter, sort, ColKind, CoreResult, FilterKind, ListParams, Meta, ModelAdmin,
};

/// How many live products a filter matches (a deletion's summary).
pub fn product_count(core: &Core, ctx: &Ctx, f: products::ProductFilter) -> CoreResult<i64> {
    let page = inventory_core::paging::PageReq::new(Some(1), Some(1))?;
    Ok(products::list_rows(core, ctx, &f, page)?.count)
}

pub struct Categories;

static CATEGORIES: Meta = Meta {
    slug: "categories",
    singular: "category",
    plural: "categories",
    object_type: "category",
    columns: &[
        sort("name", "Name", ColKind::Text),
        col("description", "Description"),
        sort("created_at", "Created", ColKind::Time),
    ],
    filters: &[],
    searchable: true,
};

impl ModelAdmin for Categories {
    fn meta(&self) -> &'static Meta {
        &CATEGORIES
    }
    fn can_view(&self, _ctx: &Ctx) -> bool {
        true
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let q: catalog::ListQuery = api_filter(p, self.meta())?;
        paged(catalog::list_categories(core, ctx, &q, p.page_req()?)?)
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        json(&catalog::get_category(core, ctx, id)?)
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.create_catalog().is_ok()
    }
    fn fields(&self, _: &Core, _: &Ctx, _: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        Ok(vec![
            FieldSpec::new("name", "Name", Kind::Text).required(),
            FieldSpec::new("description", "Description", Kind::TextArea),
        ])
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        json(&catalog::create_category(core, ctx, input(body)?)?)
    }
    fn can_change(&self, ctx: &Ctx, obj: &Value) -> bool {
        may_modify_catalog(ctx, obj)
    }
    fn update(&self, core: &Core, ctx: &Ctx, id: i64, body: Value) -> CoreResult<Value> {
        json(&catalog::update_category(core, ctx, id, input(body)?)?)
    }
    fn can_delete(&self, ctx: &Ctx, obj: &Value) -> bool {
        may_modify_catalog(ctx, obj)
    }
    fn delete_summary(&self, _: &Core, _: &Ctx, _: &Value) -> CoreResult<Vec<String>> {
        Ok(vec!["No product is in this category.".into()])
    }
    fn delete_blocked(&self, core: &Core, ctx: &Ctx, obj: &Value) -> CoreResult<Option<String>> {
        let n = product_count(
            core,
            ctx,
            products::ProductFilter {
                category: Some(id_of(obj)),
                ..Default::default()
            },
        )?;
        Ok((n > 0).then(|| {
            format!("{n} product(s) are in this category; move them to another category first.")
        }))
    }
    fn delete(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
        catalog::delete_category(core, ctx, id)
    }
}

pub struct Suppliers;

static SUPPLIERS: Meta = Meta {
    slug: "suppliers",
    singular: "supplier",
    plural: "suppliers",
    object_type: "supplier",
    columns: &[
        sort("name", "Name", ColKind::Text),
        col("contact_name", "Contact"),
        col("email", "Email"),
        col("phone", "Phone"),
        sort("rating", "Rating", ColKind::Num),
        crate::admin::model::show("is_active", "Active", ColKind::Bool),
    ],
    filters: &[],
    searchable: true,
};

impl ModelAdmin for Suppliers {
    fn meta(&self) -> &'static Meta {
        &SUPPLIERS
    }
    fn can_view(&self, _ctx: &Ctx) -> bool {
        true
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let q: catalog::ListQuery = api_filter(p, self.meta())?;
        paged(catalog::list_suppliers(core, ctx, &q, p.page_req()?)?)
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        json(&catalog::get_supplier(core, ctx, id)?)
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.create_catalog().is_ok()
    }
    fn fields(&self, _: &Core, _: &Ctx, _: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        Ok(vec![
            FieldSpec::new("name", "Name", Kind::Text).required(),
            FieldSpec::new("contact_name", "Contact name", Kind::Text),
            FieldSpec::new("email", "Email", Kind::Email),
            FieldSpec::new("phone", "Phone", Kind::Text),
            FieldSpec::new("address", "Address", Kind::TextArea),
            FieldSpec::new("contract_terms", "Contract terms", Kind::TextArea),
            FieldSpec::new("contract_start", "Contract start", Kind::Date).nullable(),
            FieldSpec::new("contract_end", "Contract end", Kind::Date).nullable(),
            FieldSpec::new("rating", "Rating", Kind::Money)
                .nullable()
                .help("0 to 5, one decimal at most."),
            FieldSpec::new("is_active", "Active", Kind::Bool),
        ])
    }
    fn defaults(&self, _: &Core, _: &Ctx) -> CoreResult<serde_json::Map<String, Value>> {
        let mut m = serde_json::Map::new();
        m.insert("is_active".into(), Value::Bool(true));
        Ok(m)
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        json(&catalog::create_supplier(core, ctx, input(body)?)?)
    }
    fn can_change(&self, ctx: &Ctx, obj: &Value) -> bool {
        may_modify_catalog(ctx, obj)
    }
    fn update(&self, core: &Core, ctx: &Ctx, id: i64, body: Value) -> CoreResult<Value> {
        json(&catalog::update_supplier(core, ctx, id, input(body)?)?)
    }
    fn can_delete(&self, ctx: &Ctx, obj: &Value) -> bool {
        may_modify_catalog(ctx, obj)
    }
    fn delete_summary(&self, core: &Core, ctx: &Ctx, obj: &Value) -> CoreResult<Vec<String>> {
        let n = product_count(
            core,
            ctx,
            products::ProductFilter {
                supplier: Some(id_of(obj)),
                ..Default::default()
            },
        )?;
        Ok(vec![
            format!("Its links to {n} product(s) are removed with it."),
            "A supplier with open purchase orders cannot be deleted.".into(),
        ])
    }
    fn delete(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
        catalog::delete_supplier(core, ctx, id)
    }
}

pub struct Locations;

pub const LOCATION_KINDS: &[(&str, &str)] = &[
    ("warehouse", "Warehouse"),
    ("store", "Store"),
    ("other", "Other"),
];

static LOCATIONS: Meta = Meta {
    slug: "locations",
    singular: "location",
    plural: "locations",
    object_type: "location",
    columns: &[
        sort("code", "Code", ColKind::Text),
        sort("name", "Name", ColKind::Text),
        col("kind", "Kind"),
        crate::admin::model::show("is_active", "Active", ColKind::Bool),
        crate::admin::model::show("is_default", "Default", ColKind::Bool),
    ],
    filters: &[
        filter("kind", "kind", "kind", FilterKind::Choice(LOCATION_KINDS)),
        filter("is_active", "is_active", "active", FilterKind::Bool),
    ],
    searchable: false,
};

impl ModelAdmin for Locations {
    fn meta(&self) -> &'static Meta {
        &LOCATIONS
    }
    fn can_view(&self, _ctx: &Ctx) -> bool {
        true
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let q: locations::LocationQuery = api_filter(p, self.meta())?;
        paged(locations::list(core, ctx, &q, p.page_req()?)?)
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        json(&locations::get(core, ctx, id)?)
    }
    fn repr(&self, obj: &Value) -> String {
        format!("{} — {}", str_of(obj, "code"), str_of(obj, "name"))
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.manage_locations().is_ok()
    }
    fn fields(&self, _: &Core, _: &Ctx, _: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        let kinds = LOCATION_KINDS
            .iter()
            .map(|(v, l)| ((*v).to_owned(), (*l).to_owned()))
            .collect();
        Ok(vec![
            FieldSpec::new("code", "Code", Kind::Text).required(),
            FieldSpec::new("name", "Name", Kind::Text).required(),
            FieldSpec::new("kind", "Kind", Kind::Choice(kinds)).required(),
            FieldSpec::new("address", "Address", Kind::TextArea),
            FieldSpec::new("is_active", "Active", Kind::Bool),
            FieldSpec::new("is_default", "Default location", Kind::Bool)
                .help("Exactly one location is the default; choosing this one unsets the other."),
        ])
    }
    fn defaults(&self, _: &Core, _: &Ctx) -> CoreResult<serde_json::Map<String, Value>> {
        let mut m = serde_json::Map::new();
        m.insert("is_active".into(), Value::Bool(true));
        m.insert("kind".into(), Value::String("warehouse".into()));
        Ok(m)
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        json(&locations::create(core, ctx, input(body)?)?)
    }
    fn can_change(&self, ctx: &Ctx, _obj: &Value) -> bool {
        ctx.manage_locations().is_ok()
    }
    fn update(&self, core: &Core, ctx: &Ctx, id: i64, body: Value) -> CoreResult<Value> {
        json(&locations::update(core, ctx, id, input(body)?)?)
    }
    fn can_delete(&self, ctx: &Ctx, _obj: &Value) -> bool {
        ctx.manage_locations().is_ok()
    }
    fn delete_summary(&self, _: &Core, _: &Ctx, obj: &Value) -> CoreResult<Vec<String>> {
        let mut out =
            vec!["A location that holds stock cannot be deleted; move the stock first.".to_owned()];
        if obj.get("is_default").and_then(Value::as_bool) == Some(true) {
            out.push("This is the default location; make another the default first.".into());
        }
        Ok(out)
    }
    fn delete(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
        locations::delete(core, ctx, id)
    }
}
