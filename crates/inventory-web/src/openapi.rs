//! The OpenAPI description, generated from the handlers' annotations; each server merges in
//! its own login endpoints.

use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "Inventory API", description = "Products, suppliers, stock, orders and users. See API.md."),
    paths(
        api::ops::health, api::ops::ready, api::ops::get_dashboard, api::ops::list_audit,
        api::users::me, api::users::update_me, api::users::login_attempts, api::users::list,
        api::users::create, api::users::get, api::users::update, api::users::deactivate, api::users::unlock,
        api::catalog::list_categories, api::catalog::create_category, api::catalog::get_category,
        api::catalog::update_category, api::catalog::delete_category, api::catalog::list_suppliers,
        api::catalog::create_supplier, api::catalog::get_supplier, api::catalog::update_supplier,
        api::catalog::delete_supplier, api::catalog::supplier_products,
        api::products::list, api::products::create, api::products::get, api::products::update,
        api::products::delete, api::products::list_links, api::products::create_link,
        api::products::update_link, api::products::delete_link,
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct BaseApi;

pub fn base() -> utoipa::openapi::OpenApi {
    let mut api = BaseApi::openapi();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    api
}
