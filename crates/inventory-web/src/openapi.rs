//! The OpenAPI description, generated from the handlers' annotations; each server merges in
//! its own login endpoints.

use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Inventory API",
        description = "Products, suppliers, stock, orders and users. See API.md."
    ),
    paths(
        api::ops::health,
        api::ops::ready,
        api::ops::get_dashboard,
        api::ops::list_audit,
        api::users::me,
        api::users::update_me,
        api::users::login_attempts,
        api::users::list,
        api::users::create,
        api::users::get,
        api::users::update,
        api::users::deactivate,
        api::users::unlock,
        api::catalog::list_categories,
        api::catalog::create_category,
        api::catalog::get_category,
        api::catalog::update_category,
        api::catalog::delete_category,
        api::catalog::list_suppliers,
        api::catalog::create_supplier,
        api::catalog::get_supplier,
        api::catalog::update_supplier,
        api::catalog::delete_supplier,
        api::catalog::supplier_products,
        api::products::list,
        api::products::create,
        api::products::get,
        api::products::update,
        api::products::delete,
        api::products::list_links,
        api::products::create_link,
        api::products::update_link,
        api::products::delete_link,
        api::stock::list_locations,
        api::stock::create_location,
        api::stock::get_location,
        api::stock::update_location,
        api::stock::delete_location,
        api::stock::stock_levels,
        api::stock::inventory_levels,
        api::stock::list_adjustments,
        api::stock::create_adjustment,
        api::stock::get_adjustment,
        api::stock::history,
        api::stock::lookup,
        api::stock::scan,
        api::stock::barcode_svg,
        api::stock::list_transfers,
        api::stock::create_transfer,
        api::stock::get_transfer,
        api::stock::approve_transfer,
        api::stock::reject_transfer,
        api::stock::cancel_transfer,
        api::insight::list_orders,
        api::insight::create_order,
        api::insight::get_order,
        api::insight::update_order,
        api::insight::delete_order,
        api::insight::submit_order,
        api::insight::approve_order,
        api::insight::receive_order,
        api::insight::cancel_order,
        api::insight::list_alerts,
        api::insight::acknowledge_alert,
        api::insight::suggestions,
        api::insight::draft_orders,
        api::insight::valuation,
        api::insight::movements,
        api::insight::export_products,
        api::insight::import_products,
        api::accounts::register,
        api::accounts::verify_email,
        api::accounts::resend,
        api::accounts::reset,
        api::accounts::reset_confirm,
        api::accounts::change,
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct BaseApi;

pub fn base() -> utoipa::openapi::OpenApi {
    let mut api = BaseApi::openapi();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api
}
