//! Products: the change list over the whole catalogue, the form with its supplier links
//! inline, and the page's stock per location, last ledger entries, label and "record
//! adjustment" form.

use inventory_core::auth::Ctx;
use inventory_core::paging::PageReq;
use inventory_core::services::{ledger, products};
use inventory_core::Core;
use serde_json::Value;

use super::{
    category_choices, id_of, input, json, location_choices, may_modify_catalog, name_into,
    name_map, str_of, supplier_choices,
};
use crate::admin::forms::{self, FieldSpec, Kind};
use crate::admin::list::short_time;
use crate::admin::model::{
    api_filter, filter, sort, ColKind, CoreResult, FilterKind, InlineSpec, ListParams, Meta,
    ModelAdmin,
};
use crate::admin::ui::{Cell, FormView, MiniForm, Panel};
use crate::admin::web::Errors;

pub struct Products;

static META: Meta = Meta {
    slug: "products",
    singular: "product",
    plural: "products",
    object_type: "product",
    columns: &[
        sort("sku", "SKU", ColKind::Text),
        sort("name", "Name", ColKind::Text),
        crate::admin::model::show("category", "Category", ColKind::Text),
        sort("price", "Price", ColKind::Money),
        sort("quantity", "Quantity", ColKind::Num),
        crate::admin::model::show("reorder_level", "Reorder level", ColKind::Num),
        sort("updated_at", "Last updated", ColKind::Time),
    ],
    filters: &[
        filter("category_id", "category", "category", FilterKind::Fk),
        filter("supplier_id", "supplier", "supplier", FilterKind::Fk),
        filter("location_id", "location", "location", FilterKind::Fk),
        filter("low_stock", "low_stock", "low stock", FilterKind::Bool),
    ],
    searchable: true,
};

/// The kinds a person books by hand, with who may (the core checks it again).
pub fn adjustment_kinds(ctx: &Ctx) -> Vec<(String, String)> {
    let mut k = vec![
        ("receive", "Receive"),
        ("sale", "Sale"),
        ("remove", "Remove"),
    ];
    if ctx.manager_stock().is_ok() {
        k.extend([
            ("loss", "Loss"),
            ("correction", "Correction (signed change)"),
            ("audit", "Audit (counted quantity)"),
        ]);
    }
    k.into_iter()
        .map(|(v, l)| (v.to_owned(), l.to_owned()))
        .collect()
}

impl ModelAdmin for Products {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn can_view(&self, _ctx: &Ctx) -> bool {
        true
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: products::ProductFilter = api_filter(p, self.meta())?;
        let page = products::list_rows(core, ctx, &f, p.page_req()?)?;
        let ids: Vec<i64> = page.results.iter().filter_map(|r| r.category_id).collect();
        let names = inventory_core::services::names::categories(core, ctx, &ids)?;
        let mut rows = vec![];
        for r in &page.results {
            let mut v = json(r)?;
            name_into(&mut v, "category_id", "category", &names);
            rows.push(v);
        }
        Ok((page.count, rows))
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        json(&products::get(core, ctx, id, false)?)
    }
    fn repr(&self, obj: &Value) -> String {
        str_of(obj, "name").to_owned()
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.create_catalog().is_ok()
    }
    fn fields(&self, core: &Core, ctx: &Ctx, obj: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        let mut f = vec![
            FieldSpec::new("sku", "SKU", Kind::Text).help(if obj.is_none() {
                "Leave empty to have one made from the product's number (SKU-000042)."
            } else {
                ""
            }),
            FieldSpec::new("barcode", "Barcode", Kind::Text)
                .nullable()
                .help("EAN-13, UPC-A or EAN-8 with a valid check digit, or any printable code."),
            FieldSpec::new("name", "Name", Kind::Text).required(),
            FieldSpec::new("description", "Description", Kind::TextArea),
            FieldSpec::new(
                "category_id",
                "Category",
                Kind::Fk(category_choices(core, ctx)?),
            ),
            FieldSpec::new("price", "Price", Kind::Money).required(),
        ];
        match obj {
            None => {
                f.push(
                    FieldSpec::new("quantity", "Starting quantity", Kind::Int)
                        .help("Booked as a receipt at the location below."),
                );
                f.push(
                    FieldSpec::new(
                        "location_id",
                        "Receive at",
                        Kind::Fk(location_choices(core, ctx)?),
                    )
                    .help("Empty: the default location."),
                );
            }
            Some(_) => f.extend([
                FieldSpec::new("quantity", "Quantity on hand", Kind::ReadOnly),
                FieldSpec::new("reserved", "Reserved by sales orders", Kind::ReadOnly),
                FieldSpec::new("available", "Available to sell", Kind::ReadOnly),
                FieldSpec::new("average_cost", "Average cost", Kind::ReadOnly)
                    .help("What a unit on hand cost, averaged over receipts (four places)."),
            ]),
        }
        f.extend([
            FieldSpec::new("reorder_level", "Reorder level", Kind::Int),
            FieldSpec::new("reorder_quantity", "Reorder quantity", Kind::Int),
            FieldSpec::new("unit", "Unit", Kind::Text),
        ]);
        Ok(f)
    }
    fn defaults(&self, _: &Core, _: &Ctx) -> CoreResult<serde_json::Map<String, Value>> {
        let mut m = serde_json::Map::new();
        m.insert("unit".into(), Value::String("pcs".into()));
        m.insert("reorder_level".into(), Value::from(0));
        m.insert("reorder_quantity".into(), Value::from(0));
        Ok(m)
    }
    fn inline(&self, core: &Core, ctx: &Ctx) -> CoreResult<Option<InlineSpec>> {
        Ok(Some(InlineSpec {
            prefix: "suppliers",
            title: "Suppliers",
            fields: vec![
                FieldSpec::new(
                    "supplier_id",
                    "Supplier",
                    Kind::Fk(supplier_choices(core, ctx)?),
                ),
                FieldSpec::new("quantity", "Units supplied", Kind::Int),
                FieldSpec::new("unit_cost", "Unit cost", Kind::Money).nullable(),
                FieldSpec::new("lead_time_days", "Lead time (days)", Kind::Int).nullable(),
                FieldSpec::new("contract_ref", "Contract reference", Kind::Text),
                FieldSpec::new("is_preferred", "Preferred", Kind::Bool),
            ],
            can_delete: true,
            extra: 2,
        }))
    }
    fn inline_rows(&self, obj: &Value) -> Vec<Value> {
        obj.get("suppliers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
    fn inline_key(&self) -> &'static str {
        "suppliers"
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        json(&products::create(
            core,
            ctx,
            input(without_empty_sku(body))?,
        )?)
    }
    fn can_change(&self, ctx: &Ctx, obj: &Value) -> bool {
        may_modify_catalog(ctx, obj)
    }
    fn update(&self, core: &Core, ctx: &Ctx, id: i64, body: Value) -> CoreResult<Value> {
        json(&products::update(core, ctx, id, input(body)?)?)
    }
    fn can_delete(&self, ctx: &Ctx, obj: &Value) -> bool {
        may_modify_catalog(ctx, obj)
    }
    fn delete_summary(&self, _: &Core, _: &Ctx, obj: &Value) -> CoreResult<Vec<String>> {
        Ok(vec![
            format!(
                "The product leaves every list; its {} unit(s) on hand, its stock history and its audit entries are kept.",
                obj.get("quantity").and_then(Value::as_i64).unwrap_or(0)
            ),
            "Its SKU and barcode become free for another product.".into(),
        ])
    }
    fn delete(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
        products::delete(core, ctx, id)
    }
    fn decorate(&self, core: &Core, ctx: &Ctx, obj: &Value, form: &mut FormView) -> CoreResult<()> {
        let id = id_of(obj);
        let locations = location_choices(core, ctx)?;
        let names = name_map(&locations);
        // Stock per location.
        let levels = ledger::stock_levels(
            core,
            ctx,
            &ledger::LevelFilter {
                product: Some(id),
                location: None,
            },
            PageReq::new(Some(1), Some(100))?,
        )?;
        form.panels.push(Panel {
            title: "Stock per location".into(),
            headers: vec![
                "Location".into(),
                "Quantity".into(),
                "Reserved".into(),
                "Available".into(),
                "Updated".into(),
            ],
            rows: levels
                .results
                .iter()
                .map(|l| {
                    vec![
                        text(
                            names
                                .get(&l.location_id)
                                .cloned()
                                .unwrap_or_else(|| format!("#{}", l.location_id)),
                        ),
                        num(l.quantity),
                        num(l.reserved),
                        num(l.available),
                        text(short_time(&inventory_core::types::fmt_ts(&l.updated_at))),
                    ]
                })
                .collect(),
            empty: "No stock at any location.".into(),
            link: None,
        });
        // The last ledger entries (signed-in staff read operations).
        if ctx.read_operations().is_ok() {
            let hist = ledger::history(core, ctx, id, PageReq::new(Some(1), Some(10))?)?;
            form.panels.push(Panel {
                title: "Last stock movements".into(),
                headers: vec![
                    "When".into(),
                    "Kind".into(),
                    "Location".into(),
                    "Change".into(),
                    "After".into(),
                    "By".into(),
                    "Reason".into(),
                ],
                rows: hist
                    .results
                    .iter()
                    .map(|h| {
                        vec![
                            text(short_time(&inventory_core::types::fmt_ts(&h.at))),
                            text(h.kind.clone()),
                            text(h.location_code.clone()),
                            Cell {
                                text: format!("{:+}", h.delta),
                                href: None,
                                numeric: true,
                            },
                            num(h.quantity_after),
                            text(h.username.clone().unwrap_or_default()),
                            text(h.reason.clone()),
                        ]
                    })
                    .collect(),
                empty: "No movements yet.".into(),
                link: Some((
                    format!("/admin/adjustments/?product_id={id}"),
                    "Full history".into(),
                )),
            });
        }
        if !str_of(obj, "sku").is_empty() {
            form.image = Some((
                format!("/admin/products/{id}/barcode.svg"),
                format!(
                    "Label: {}",
                    obj.get("barcode")
                        .and_then(Value::as_str)
                        .unwrap_or(str_of(obj, "sku"))
                ),
            ));
        }
        if ctx.basic_stock().is_ok() {
            let specs = vec![
                FieldSpec::new("kind", "Kind", Kind::Choice(adjustment_kinds(ctx))).required(),
                FieldSpec::new("quantity", "Quantity", Kind::Int)
                    .required()
                    .help(
                        "A correction is a signed change (-3); an audit is the counted quantity.",
                    ),
                FieldSpec::new("location_id", "Location", Kind::Fk(locations)),
                FieldSpec::new("reason", "Reason", Kind::Text),
            ];
            let mut defaults = serde_json::Map::new();
            defaults.insert("kind".into(), Value::String("receive".into()));
            let fields = forms::views(&specs, &forms::Source::Empty(&defaults), &Errors::new())
                .into_iter()
                .map(|mut f| {
                    f.name = format!("adj_{}", f.name);
                    f
                })
                .collect();
            form.mini_forms.push(MiniForm {
                title: "Record adjustment".into(),
                action: format!("/admin/products/{id}/adjust/"),
                fields,
                submit: "Record".into(),
            });
        }
        Ok(())
    }
    fn object_action(
        &self,
        core: &Core,
        ctx: &Ctx,
        id: i64,
        action: &str,
        form: &crate::admin::web::FormData,
    ) -> CoreResult<String> {
        if action != "adjust" {
            return Err(inventory_core::CoreError::NotFound);
        }
        // The same input the API's POST /api/stock-adjustments takes.
        let quantity = form
            .text("adj_quantity")
            .trim()
            .parse::<i64>()
            .map_err(|_| {
                inventory_core::CoreError::validation("quantity", "Enter a whole number.")
            })?;
        let location = form.text("adj_location_id");
        let mut body = serde_json::json!({
            "product_id": id,
            "kind": form.text("adj_kind"),
            "quantity": quantity,
            "reason": form.text("adj_reason"),
        });
        if let Ok(l) = location.trim().parse::<i64>() {
            body["location_id"] = Value::from(l);
        }
        let adj = ledger::create_adjustment(core, ctx, input(body)?)?;
        Ok(format!(
            "Booked: {} {:+} at location #{}; {} on hand now.",
            adj.kind, adj.delta, adj.location_id, adj.product_quantity_after
        ))
    }
}

fn text(s: String) -> Cell {
    Cell {
        text: s,
        href: None,
        numeric: false,
    }
}

fn num(n: i64) -> Cell {
    Cell {
        text: n.to_string(),
        href: None,
        numeric: true,
    }
}

/// An empty SKU on the add form means "make one".
fn without_empty_sku(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        if o.get("sku")
            .and_then(Value::as_str)
            .is_some_and(|s| s.trim().is_empty())
        {
            o.remove("sku");
        }
    }
    body
}
