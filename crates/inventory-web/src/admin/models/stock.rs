//! Stock levels (read-only), the adjustment ledger (add and read, never change) and alerts.

use inventory_core::auth::Ctx;
use inventory_core::services::{alerts, ledger};
use inventory_core::types::AdjustmentKind;
use inventory_core::types::AlertStatus;
use inventory_core::{Core, CoreError};
use serde_json::Value;

use super::{
    input, json, label_products, label_users, location_choices, name_into, name_map, paged,
    product_choices, str_of,
};
use crate::admin::forms::{FieldSpec, Kind};
use crate::admin::model::{
    api_filter, col, filter, show, ColKind, CoreResult, FilterKind, ListParams, Meta, ModelAdmin,
};
use crate::admin::ui::{ActionButton, FormView};
use crate::admin::web::FormData;

pub struct StockLevels;

static LEVELS: Meta = Meta {
    slug: "stock-levels",
    singular: "stock level",
    plural: "stock levels",
    object_type: "stock_level",
    columns: &[
        show("product", "Product", ColKind::Ref("products", "product_id")),
        show(
            "location",
            "Location",
            ColKind::Ref("locations", "location_id"),
        ),
        show("quantity", "Quantity", ColKind::Num),
        show("updated_at", "Updated", ColKind::Time),
    ],
    filters: &[
        filter("product_id", "product", "product", FilterKind::Fk),
        filter("location_id", "location", "location", FilterKind::Fk),
    ],
    searchable: false,
};

impl ModelAdmin for StockLevels {
    fn meta(&self) -> &'static Meta {
        &LEVELS
    }
    fn can_view(&self, _ctx: &Ctx) -> bool {
        true
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: ledger::LevelFilter = api_filter(p, self.meta())?;
        let (count, mut rows) = paged(ledger::stock_levels(core, ctx, &f, p.page_req()?)?)?;
        let locations = name_map(&location_choices(core, ctx)?);
        for r in &mut rows {
            name_into(r, "location_id", "location", &locations);
        }
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        Ok((count, rows))
    }
    fn get(&self, _: &Core, _: &Ctx, _: i64) -> CoreResult<Value> {
        Err(CoreError::NotFound)
    }
    fn has_detail(&self) -> bool {
        false
    }
}

pub struct Adjustments;

pub const KINDS: &[(&str, &str)] = AdjustmentKind::CHOICES;

static ADJUSTMENTS: Meta = Meta {
    slug: "adjustments",
    singular: "adjustment",
    plural: "adjustments",
    object_type: "stock_adjustment",
    columns: &[
        col("id", "Entry"),
        show("created_at", "When", ColKind::Time),
        show("product", "Product", ColKind::Ref("products", "product_id")),
        show(
            "location",
            "Location",
            ColKind::Ref("locations", "location_id"),
        ),
        show("kind", "Kind", ColKind::Text),
        show("delta", "Change", ColKind::Num),
        show("quantity_after", "After (location)", ColKind::Num),
        show("product_quantity_after", "After (total)", ColKind::Num),
        col("reason", "Reason"),
        show("user", "By", ColKind::Text),
    ],
    filters: &[
        filter("kind", "kind", "kind", FilterKind::Choice(KINDS)),
        filter("location_id", "location", "location", FilterKind::Fk),
        filter("product_id", "product", "product", FilterKind::Fk),
        filter("user_id", "user", "user", FilterKind::Fk),
        filter("since", "since", "since", FilterKind::Date),
        filter("until", "until", "until", FilterKind::Date),
    ],
    searchable: false,
};

impl ModelAdmin for Adjustments {
    fn meta(&self) -> &'static Meta {
        &ADJUSTMENTS
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.read_operations().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: ledger::AdjustmentFilter = api_filter(p, self.meta())?;
        let (count, mut rows) = paged(ledger::list_adjustments(core, ctx, &f, p.page_req()?)?)?;
        let locations = name_map(&location_choices(core, ctx)?);
        for r in &mut rows {
            name_into(r, "location_id", "location", &locations);
        }
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        label_users(core, ctx, &mut rows, "user_id", "user")?;
        Ok((count, rows))
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        let mut rows = [json(&ledger::get_adjustment(core, ctx, id)?)?];
        let locations = name_map(&location_choices(core, ctx)?);
        name_into(&mut rows[0], "location_id", "location", &locations);
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        label_users(core, ctx, &mut rows, "user_id", "user")?;
        let [obj] = rows;
        Ok(obj)
    }
    fn repr(&self, obj: &Value) -> String {
        format!(
            "#{} {} {:+} of product #{}",
            obj.get("id").and_then(Value::as_i64).unwrap_or(0),
            str_of(obj, "kind"),
            obj.get("delta").and_then(Value::as_i64).unwrap_or(0),
            obj.get("product_id").and_then(Value::as_i64).unwrap_or(0)
        )
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.basic_stock().is_ok()
    }
    fn fields(&self, core: &Core, ctx: &Ctx, obj: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        if obj.is_some() {
            return Ok(vec![
                FieldSpec::new("id", "Entry", Kind::ReadOnly),
                FieldSpec::new("created_at", "When", Kind::ReadOnly),
                FieldSpec::new("product", "Product", Kind::ReadOnly),
                FieldSpec::new("location", "Location", Kind::ReadOnly),
                FieldSpec::new("kind", "Kind", Kind::ReadOnly),
                FieldSpec::new("delta", "Change", Kind::ReadOnly),
                FieldSpec::new(
                    "quantity_after",
                    "Quantity after at the location",
                    Kind::ReadOnly,
                ),
                FieldSpec::new(
                    "product_quantity_after",
                    "Product quantity after",
                    Kind::ReadOnly,
                ),
                FieldSpec::new("reason", "Reason", Kind::ReadOnly),
                FieldSpec::new("reference", "Reference", Kind::ReadOnly),
                FieldSpec::new("user", "By", Kind::ReadOnly),
            ]);
        }
        Ok(vec![
            FieldSpec::new("product_id", "Product", Kind::Fk(product_choices(core, ctx)?)).required(),
            FieldSpec::new("location_id", "Location", Kind::Fk(location_choices(core, ctx)?))
                .help("Empty: the default location."),
            FieldSpec::new(
                "kind",
                "Kind",
                Kind::Choice(super::products::adjustment_kinds(ctx)),
            )
            .required(),
            FieldSpec::new("quantity", "Quantity", Kind::Int)
                .required()
                .help("Receive, sale, remove, loss: how many. Correction: the signed change. Audit: the counted quantity."),
            FieldSpec::new("reason", "Reason", Kind::Text),
            FieldSpec::new("reference", "Reference", Kind::Text),
        ])
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        let mut body = body;
        // A required number left empty: the API's own message.
        if let Some(o) = body.as_object_mut() {
            for f in ["product_id", "quantity"] {
                if o.get(f).is_none_or(Value::is_null) {
                    o.remove(f);
                }
            }
        }
        json(&ledger::create_adjustment(core, ctx, input(body)?)?)
    }
}

pub struct Alerts;

pub const ALERT_STATUSES: &[(&str, &str)] = AlertStatus::CHOICES;

static ALERTS: Meta = Meta {
    slug: "alerts",
    singular: "alert",
    plural: "alerts",
    object_type: "alert",
    columns: &[
        col("id", "Alert"),
        show("product", "Product", ColKind::Ref("products", "product_id")),
        show("kind", "Kind", ColKind::Text),
        show("quantity", "Quantity", ColKind::Num),
        show("threshold", "Threshold", ColKind::Num),
        show("status", "Status", ColKind::Text),
        show("created_at", "Opened", ColKind::Time),
    ],
    filters: &[
        filter(
            "status",
            "status",
            "status",
            FilterKind::Choice(ALERT_STATUSES),
        ),
        filter("product_id", "product", "product", FilterKind::Fk),
    ],
    searchable: false,
};

impl ModelAdmin for Alerts {
    fn meta(&self) -> &'static Meta {
        &ALERTS
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.read_operations().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: alerts::AlertFilter = api_filter(p, self.meta())?;
        let (count, mut rows) = paged(alerts::list(core, ctx, &f, p.page_req()?)?)?;
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        Ok((count, rows))
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        let mut rows = [json(&alerts::get(core, ctx, id)?)?];
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        label_users(
            core,
            ctx,
            &mut rows,
            "acknowledged_by",
            "acknowledged_by_name",
        )?;
        let [obj] = rows;
        Ok(obj)
    }
    fn repr(&self, obj: &Value) -> String {
        format!(
            "{} of product #{}",
            str_of(obj, "kind").replace('_', " "),
            obj.get("product_id").and_then(Value::as_i64).unwrap_or(0)
        )
    }
    fn fields(&self, _: &Core, _: &Ctx, _: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        Ok([
            "id",
            "product_id",
            "kind",
            "quantity",
            "threshold",
            "status",
            "created_at",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_at",
        ]
        .into_iter()
        .map(|f| {
            FieldSpec::new(
                f,
                &crate::admin::capitalise(&f.replace('_', " ")),
                Kind::ReadOnly,
            )
        })
        .collect())
    }
    fn decorate(&self, _: &Core, ctx: &Ctx, obj: &Value, form: &mut FormView) -> CoreResult<()> {
        if str_of(obj, "status") == "open" && ctx.basic_stock().is_ok() {
            form.buttons.push(ActionButton {
                label: "Acknowledge".into(),
                href: format!("/admin/alerts/{}/acknowledge/", super::id_of(obj)),
                fields: vec![],
                confirm: false,
                danger: false,
                primary: false,
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
        _: &FormData,
    ) -> CoreResult<String> {
        match action {
            "acknowledge" => {
                alerts::acknowledge(core, ctx, id)?;
                Ok("The alert was acknowledged.".into())
            }
            _ => Err(CoreError::NotFound),
        }
    }
    fn action_confirm(&self, action: &str) -> Option<(&'static str, bool, Vec<FieldSpec>)> {
        (action == "acknowledge").then(|| ("Acknowledge", false, vec![]))
    }
    fn bulk_actions(&self, ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
        if ctx.basic_stock().is_ok() {
            vec![("acknowledge", "Acknowledge selected alerts")]
        } else {
            vec![]
        }
    }
}
