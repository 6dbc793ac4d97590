//! Purchase orders: the draft with its lines inline, and the buttons that move it from
//! submitted to received.

use inventory_core::auth::Ctx;
use inventory_core::services::orders;
use inventory_core::types::OrderStatus;
use inventory_core::{Core, CoreError};
use serde_json::Value;

use super::{
    id_of, input, json, location_choices, name_into, name_map, paged, product_choices, str_of,
    supplier_choices,
};
use crate::admin::forms::{FieldSpec, Kind};
use crate::admin::model::{
    api_filter, filter, show, ColKind, CoreResult, FilterKind, InlineSpec, ListParams, Meta,
    ModelAdmin,
};
use crate::admin::ui::{ActionButton, FieldView, FormView, Widget};
use crate::admin::web::FormData;

pub struct Orders;

pub const STATUSES: &[(&str, &str)] = OrderStatus::CHOICES;

static META: Meta = Meta {
    slug: "orders",
    singular: "purchase order",
    plural: "purchase orders",
    object_type: "purchase_order",
    columns: &[
        show("number", "Number", ColKind::Text),
        show(
            "supplier",
            "Supplier",
            ColKind::Ref("suppliers", "supplier_id"),
        ),
        show("status", "Status", ColKind::Text),
        show("total", "Total", ColKind::Money),
        show("expected_date", "Expected", ColKind::Text),
        show("created_at", "Created", ColKind::Time),
    ],
    filters: &[
        filter("status", "status", "status", FilterKind::Choice(STATUSES)),
        filter("supplier_id", "supplier", "supplier", FilterKind::Fk),
    ],
    searchable: false,
};

impl ModelAdmin for Orders {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.read_operations().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: orders::OrderFilter = api_filter(p, self.meta())?;
        let (count, mut rows) = paged(orders::list(core, ctx, &f, p.page_req()?)?)?;
        let names = name_map(&supplier_choices(core, ctx)?);
        for r in &mut rows {
            name_into(r, "supplier_id", "supplier", &names);
        }
        Ok((count, rows))
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        json(&orders::get(core, ctx, id)?)
    }
    fn repr(&self, obj: &Value) -> String {
        str_of(obj, "number").to_owned()
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.basic_stock().is_ok()
    }
    fn fields(&self, core: &Core, ctx: &Ctx, obj: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        let mut f = vec![];
        if obj.is_some() {
            f.push(FieldSpec::new("number", "Number", Kind::ReadOnly));
            f.push(FieldSpec::new("status", "Status", Kind::ReadOnly));
        }
        f.extend([
            FieldSpec::new(
                "supplier_id",
                "Supplier",
                Kind::Fk(supplier_choices(core, ctx)?),
            )
            .required(),
            FieldSpec::new(
                "location_id",
                "Deliver to",
                Kind::Fk(location_choices(core, ctx)?),
            )
            .help("Empty: the default location."),
            FieldSpec::new("expected_date", "Expected date", Kind::Date).nullable(),
            FieldSpec::new("notes", "Notes", Kind::TextArea),
        ]);
        if obj.is_some() {
            f.push(FieldSpec::new("total", "Total", Kind::ReadOnly));
        }
        Ok(f)
    }
    fn inline(&self, core: &Core, ctx: &Ctx) -> CoreResult<Option<InlineSpec>> {
        Ok(Some(InlineSpec {
            prefix: "lines",
            title: "Lines",
            fields: vec![
                FieldSpec::new(
                    "product_id",
                    "Product",
                    Kind::Fk(product_choices(core, ctx)?),
                ),
                FieldSpec::new("quantity", "Quantity", Kind::Int),
                FieldSpec::new("unit_price", "Unit price", Kind::Money)
                    .help("Empty: the supplier link's unit cost."),
            ],
            can_delete: true,
            extra: 3,
        }))
    }
    fn inline_rows(&self, obj: &Value) -> Vec<Value> {
        obj.get("lines")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
    fn inline_key(&self) -> &'static str {
        "lines"
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        json(&orders::create(core, ctx, input(clean(body))?)?)
    }
    fn can_change(&self, ctx: &Ctx, obj: &Value) -> bool {
        str_of(obj, "status") == "draft" && orders::may_edit(ctx, super::created_by(obj)).is_ok()
    }
    fn update(&self, core: &Core, ctx: &Ctx, id: i64, body: Value) -> CoreResult<Value> {
        json(&orders::update(core, ctx, id, input(clean(body))?)?)
    }
    fn can_delete(&self, ctx: &Ctx, obj: &Value) -> bool {
        if obj.is_null() {
            return ctx.basic_stock().is_ok();
        }
        self.can_change(ctx, obj)
    }
    fn delete_summary(&self, _: &Core, _: &Ctx, obj: &Value) -> CoreResult<Vec<String>> {
        let n = self.inline_rows(obj).len();
        Ok(vec![format!("The draft and its {n} line(s) are removed.")])
    }
    fn delete(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<()> {
        orders::delete(core, ctx, id)
    }
    fn decorate(&self, _: &Core, ctx: &Ctx, obj: &Value, form: &mut FormView) -> CoreResult<()> {
        let id = id_of(obj);
        let status = str_of(obj, "status");
        let href = |a: &str| format!("/admin/orders/{id}/{a}/");
        let button = |label: &str, action: &str, confirm: bool, danger: bool| ActionButton {
            label: label.into(),
            href: href(action),
            fields: vec![],
            confirm,
            danger,
            primary: false,
        };
        if status == "draft" && orders::may_edit(ctx, super::created_by(obj)).is_ok() {
            form.buttons.push(button("Submit", "submit", false, false));
        }
        if status == "submitted" && ctx.manager_stock().is_ok() {
            let mut b = button("Approve", "approve", true, false);
            b.primary = true;
            form.buttons.push(b);
        }
        if matches!(status, "approved" | "partially_received") && ctx.basic_stock().is_ok() {
            let mut b = button("Receive", "receive", false, false);
            b.primary = true;
            for line in self.inline_rows(obj) {
                let pid = line.get("product_id").and_then(Value::as_i64).unwrap_or(0);
                let ordered = line.get("quantity").and_then(Value::as_i64).unwrap_or(0);
                let received = line
                    .get("received_quantity")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                b.fields.push(FieldView {
                    name: format!("receive_{pid}"),
                    label: format!("Product #{pid}: ordered {ordered}, received {received}"),
                    widget: Widget::Number,
                    value: (ordered - received).max(0).to_string(),
                    checked: false,
                    options: vec![],
                    errors: vec![],
                    required: false,
                    help: String::new(),
                });
            }
            form.buttons.push(b);
        }
        let open = matches!(status, "draft" | "submitted" | "approved");
        if open && ctx.manager_stock().is_ok() {
            form.buttons
                .push(button("Cancel order", "cancel", true, true));
        }
        Ok(())
    }
    fn object_action(
        &self,
        core: &Core,
        ctx: &Ctx,
        id: i64,
        action: &str,
        form: &FormData,
    ) -> CoreResult<String> {
        match action {
            "submit" => {
                let o = orders::submit(core, ctx, id)?;
                Ok(format!("Order {} was submitted.", o.number))
            }
            "approve" => {
                let o = orders::approve(core, ctx, id)?;
                Ok(format!("Order {} was approved.", o.number))
            }
            "cancel" => {
                let o = orders::cancel(core, ctx, id)?;
                Ok(format!("Order {} was cancelled.", o.number))
            }
            "receive" => {
                let mut lines = vec![];
                for (k, v) in &form.0 {
                    let Some(pid) = k.strip_prefix("receive_") else {
                        continue;
                    };
                    let Ok(pid) = pid.parse::<i64>() else {
                        continue;
                    };
                    let qty = v.trim();
                    if qty.is_empty() {
                        continue;
                    }
                    let qty: i64 = qty
                        .parse()
                        .map_err(|_| CoreError::validation("quantity", "Enter a whole number."))?;
                    if qty != 0 {
                        lines.push(serde_json::json!({"product_id": pid, "quantity": qty}));
                    }
                }
                let o =
                    orders::receive(core, ctx, id, input(serde_json::json!({ "lines": lines }))?)?;
                Ok(format!(
                    "Goods received on order {}; it is now {}.",
                    o.number,
                    o.status.replace('_', " ")
                ))
            }
            _ => Err(CoreError::NotFound),
        }
    }
    fn action_confirm(&self, action: &str) -> Option<(&'static str, bool, Vec<FieldSpec>)> {
        match action {
            "approve" => Some(("Approve", false, vec![])),
            "cancel" => Some(("Cancel order", true, vec![])),
            _ => None,
        }
    }
    fn bulk_actions(&self, ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
        if ctx.manager_stock().is_ok() {
            vec![("approve", "Approve selected orders")]
        } else {
            vec![]
        }
    }
}

/// Form fields the order input leaves out when empty (the location defaults).
fn clean(mut body: Value) -> Value {
    if let Some(o) = body.as_object_mut() {
        if o.get("location_id").is_some_and(Value::is_null) {
            o.remove("location_id");
        }
        if o.get("supplier_id").is_some_and(Value::is_null) {
            o.remove("supplier_id");
        }
        if let Some(Value::Array(lines)) = o.get_mut("lines") {
            for l in lines {
                if let Some(lo) = l.as_object_mut() {
                    if lo.get("unit_price").is_some_and(|v| v.as_str() == Some("")) {
                        lo.remove("unit_price");
                    }
                }
            }
        }
    }
    body
}
