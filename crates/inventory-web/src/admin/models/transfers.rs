//! Transfers between locations: requested here, approved, rejected or cancelled with buttons.

use inventory_core::auth::Ctx;
use inventory_core::services::transfers;
use inventory_core::types::TransferStatus;
use inventory_core::{Core, CoreError};
use serde_json::Value;

use super::{
    id_of, input, json, label_products, label_users, location_choices, name_into, name_map, paged,
    product_choices, str_of,
};
use crate::admin::forms::{FieldSpec, Kind};
use crate::admin::model::{
    api_filter, col, filter, show, ColKind, CoreResult, FilterKind, ListParams, Meta, ModelAdmin,
};
use crate::admin::ui::{ActionButton, FormView};
use crate::admin::web::FormData;

pub struct Transfers;

pub const STATUSES: &[(&str, &str)] = TransferStatus::CHOICES;

static META: Meta = Meta {
    slug: "transfers",
    singular: "transfer",
    plural: "transfers",
    object_type: "transfer",
    columns: &[
        col("id", "Transfer"),
        show("product", "Product", ColKind::Ref("products", "product_id")),
        show(
            "from",
            "From",
            ColKind::Ref("locations", "from_location_id"),
        ),
        show("to", "To", ColKind::Ref("locations", "to_location_id")),
        show("quantity", "Quantity", ColKind::Num),
        show("status", "Status", ColKind::Text),
        show("created_at", "Requested", ColKind::Time),
    ],
    filters: &[
        filter("status", "status", "status", FilterKind::Choice(STATUSES)),
        filter("location_id", "location", "location", FilterKind::Fk),
        filter("product_id", "product", "product", FilterKind::Fk),
    ],
    searchable: false,
};

impl ModelAdmin for Transfers {
    fn meta(&self) -> &'static Meta {
        &META
    }
    fn can_view(&self, ctx: &Ctx) -> bool {
        ctx.read_operations().is_ok()
    }
    fn list(&self, core: &Core, ctx: &Ctx, p: &ListParams) -> CoreResult<(i64, Vec<Value>)> {
        let f: transfers::TransferFilter = api_filter(p, self.meta())?;
        let (count, mut rows) = paged(transfers::list(core, ctx, &f, p.page_req()?)?)?;
        let names = name_map(&location_choices(core, ctx)?);
        for r in &mut rows {
            name_into(r, "from_location_id", "from", &names);
            name_into(r, "to_location_id", "to", &names);
        }
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        Ok((count, rows))
    }
    fn get(&self, core: &Core, ctx: &Ctx, id: i64) -> CoreResult<Value> {
        let mut rows = [json(&transfers::get(core, ctx, id)?)?];
        label_products(core, ctx, &mut rows, "product_id", "product")?;
        label_users(core, ctx, &mut rows, "requested_by", "requested_by_name")?;
        label_users(core, ctx, &mut rows, "approved_by", "approved_by_name")?;
        let [obj] = rows;
        Ok(obj)
    }
    fn repr(&self, obj: &Value) -> String {
        let product = match obj.get("product").and_then(Value::as_str) {
            Some(p) => p.to_owned(),
            None => format!(
                "product #{}",
                obj.get("product_id").and_then(Value::as_i64).unwrap_or(0)
            ),
        };
        format!(
            "#{}: {} × {product}",
            id_of(obj),
            obj.get("quantity").and_then(Value::as_i64).unwrap_or(0),
        )
    }
    fn can_add(&self, ctx: &Ctx) -> bool {
        ctx.basic_stock().is_ok()
    }
    fn fields(&self, core: &Core, ctx: &Ctx, obj: Option<&Value>) -> CoreResult<Vec<FieldSpec>> {
        let locations = location_choices(core, ctx)?;
        if obj.is_some() {
            return Ok(vec![
                FieldSpec::new("product", "Product", Kind::ReadOnly),
                FieldSpec::new("from_location_id", "From", Kind::Fk(locations.clone())),
                FieldSpec::new("to_location_id", "To", Kind::Fk(locations)),
                FieldSpec::new("quantity", "Quantity", Kind::ReadOnly),
                FieldSpec::new("status", "Status", Kind::ReadOnly),
                FieldSpec::new("note", "Note", Kind::ReadOnly),
                FieldSpec::new("requested_by_name", "Requested by", Kind::ReadOnly),
                FieldSpec::new("approved_by_name", "Decided by", Kind::ReadOnly),
                FieldSpec::new("decided_at", "Decided at", Kind::ReadOnly),
                FieldSpec::new("reason", "Reason", Kind::ReadOnly),
            ]);
        }
        Ok(vec![
            FieldSpec::new(
                "product_id",
                "Product",
                Kind::Fk(product_choices(core, ctx)?),
            )
            .required(),
            FieldSpec::new("from_location_id", "From", Kind::Fk(locations.clone())).required(),
            FieldSpec::new("to_location_id", "To", Kind::Fk(locations)).required(),
            FieldSpec::new("quantity", "Quantity", Kind::Int).required(),
            FieldSpec::new("note", "Note", Kind::TextArea),
        ])
    }
    fn create(&self, core: &Core, ctx: &Ctx, body: Value) -> CoreResult<Value> {
        let mut body = body;
        if let Some(o) = body.as_object_mut() {
            o.retain(|_, v| !v.is_null());
        }
        json(&transfers::create(core, ctx, input(body)?)?)
    }
    fn decorate(&self, _: &Core, ctx: &Ctx, obj: &Value, form: &mut FormView) -> CoreResult<()> {
        if str_of(obj, "status") != "pending" {
            return Ok(());
        }
        let id = id_of(obj);
        let href = |a: &str| format!("/admin/transfers/{id}/{a}/");
        if ctx.manager_stock().is_ok() {
            form.buttons.push(ActionButton {
                label: "Approve".into(),
                href: href("approve"),
                fields: vec![],
                confirm: true,
                danger: false,
                primary: true,
            });
            form.buttons.push(ActionButton {
                label: "Reject".into(),
                href: href("reject"),
                fields: vec![],
                confirm: true,
                danger: true,
                primary: false,
            });
        }
        let requester = obj.get("requested_by").and_then(Value::as_i64) == ctx.user_id();
        if requester || ctx.manager_stock().is_ok() {
            form.buttons.push(ActionButton {
                label: "Cancel transfer".into(),
                href: href("cancel"),
                fields: vec![],
                confirm: true,
                danger: true,
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
        form: &FormData,
    ) -> CoreResult<String> {
        let reason = transfers::DecisionInput {
            reason: form.text("reason"),
        };
        match action {
            "approve" => {
                transfers::approve(core, ctx, id)?;
                Ok("The transfer was approved and the stock moved.".into())
            }
            "reject" => {
                transfers::reject(core, ctx, id, reason)?;
                Ok("The transfer was rejected.".into())
            }
            "cancel" => {
                transfers::cancel(core, ctx, id, reason)?;
                Ok("The transfer was cancelled.".into())
            }
            _ => Err(CoreError::NotFound),
        }
    }
    fn action_confirm(&self, action: &str) -> Option<(&'static str, bool, Vec<FieldSpec>)> {
        let reason = || vec![FieldSpec::new("reason", "Reason", Kind::Text)];
        match action {
            "approve" => Some(("Approve", false, vec![])),
            "reject" => Some(("Reject", true, reason())),
            "cancel" => Some(("Cancel transfer", true, reason())),
            _ => None,
        }
    }
    fn bulk_actions(&self, ctx: &Ctx) -> Vec<(&'static str, &'static str)> {
        if ctx.manager_stock().is_ok() {
            vec![("approve", "Approve selected transfers")]
        } else {
            vec![]
        }
    }
}
