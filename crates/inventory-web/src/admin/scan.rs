//! `/admin/scan/`: a focused input; a barcode or SKU and Enter (what a keyboard-wedge scanner
//! types) shows the product with quick receive / sale / count buttons, which book through the
//! API's scan service.

use actix_web::{web as aw, HttpResponse};
use inventory_core::services::ledger;
use inventory_core::types::Money;
use inventory_core::CoreError;

use super::handlers::refusal;
use super::models::location_choices;
use super::ui::{Message, Opt, ScanPage, ScannedProduct};
use super::web::{encode, query_pairs, run, AdminError, Form, Out, Page, Visit};
use crate::app::AppState;

fn draw(page: &Page<'_>, code: String) -> Result<Out, AdminError> {
    let mut product = None;
    let mut not_found = false;
    if !code.trim().is_empty() {
        match ledger::find_code(page.core, &page.ctx, &code) {
            Ok(p) => {
                product = Some(ScannedProduct {
                    id: p.id,
                    href: format!("/admin/products/{}/change/", p.id),
                    sku: p.sku,
                    name: p.name,
                    barcode: p.barcode.unwrap_or_else(|| "—".into()),
                    quantity: p.quantity,
                    price: Money::format(p.price_cents),
                })
            }
            Err(CoreError::NotFound) => not_found = true,
            Err(CoreError::Validation { .. }) => not_found = true,
            Err(e) => return Err(e.into()),
        }
    }
    let locations = location_choices(page.core, &page.ctx)?
        .into_iter()
        .enumerate()
        .map(|(i, (value, label))| Opt {
            value,
            label,
            selected: i == 0,
        })
        .collect();
    let tpl = ScanPage {
        chrome: page.chrome("Scan", vec![(String::new(), "Scan".into())]),
        code,
        product,
        not_found,
        locations,
        can_count: page.ctx.basic_stock().is_ok(),
    };
    page.html(&tpl)
}

pub async fn page(st: aw::Data<AppState>, visit: Visit) -> HttpResponse {
    let code = query_pairs(&visit.query)
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    run(&st, visit, move |page| draw(page, code)).await
}

/// `POST /admin/scan/`: books the scan and comes back to the page, ready for the next one.
pub async fn book(st: aw::Data<AppState>, visit: Visit, form: Form) -> HttpResponse {
    let form = form.0;
    run(&st, visit, move |page| {
        let code = form.text("code").trim().to_owned();
        let quantity = form.text("quantity").trim().parse::<i64>().ok();
        let location_id = form.text("location_id").trim().parse::<i64>().ok();
        let back = format!("/admin/scan/?code={}", encode(&code));
        if quantity.is_none() {
            return Ok(page.redirect(
                back,
                Some(Message::error("Enter the quantity as a whole number.")),
            ));
        }
        let input = ledger::ScanInput {
            barcode: code.clone(),
            action: form.text("action"),
            quantity,
            location_id,
            reason: String::new(),
        };
        match ledger::scan(page.core, &page.ctx, input) {
            Ok(a) => Ok(page.redirect(
                "/admin/scan/",
                Some(Message::success(format!(
                    "{code}: {} {:+}; {} on hand now.",
                    a.kind, a.delta, a.product_quantity_after
                ))),
            )),
            Err(e @ (CoreError::Unavailable(_) | CoreError::Internal(_))) => Err(e.into()),
            Err(e) => Ok(page.redirect(back, Some(Message::error(refusal(&e))))),
        }
    })
    .await
}
