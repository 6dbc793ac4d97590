//! Routes and handlers of the whole JSON API. Each handler extracts, calls one core service
//! on the blocking pool, and shapes the answer; no business rule lives here.

use actix_web::{web, HttpResponse, Resource};

pub mod accounts;
pub mod catalog;
pub mod customers;
pub mod insight;
pub mod ops;
pub mod products;
pub mod sales;
pub mod stock;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub type State = web::Data<crate::app::AppState>;

/// A resource whose unknown methods answer the contract's 405 body.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(crate::error::method_not_allowed))
}

pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Every route of the JSON API, each once: method and path come from the handler's
/// `#[utoipa::path]`, so the server and the OpenAPI document are built from this one list.
pub fn table(s: &mut impl crate::router::Sink) {
    crate::routes!(s;
        ops::health,
        ops::ready,
        ops::docs_redirect,
        ops::get_dashboard,
        ops::list_audit,
        users::me,
        users::update_me,
        users::login_attempts,
        users::list,
        users::create,
        users::get,
        users::update,
        users::replace,
        users::deactivate,
        users::unlock,
        accounts::register,
        accounts::verify_email,
        accounts::resend,
        accounts::reset,
        accounts::reset_confirm,
        accounts::change,
        tokens::create,
        tokens::list,
        tokens::revoke,
        tokens::list_for_user,
        tokens::revoke_for_user,
        webhooks::list_webhooks,
        webhooks::create_webhook,
        webhooks::get_webhook,
        webhooks::update_webhook,
        webhooks::replace_webhook,
        webhooks::delete_webhook,
        webhooks::webhook_deliveries,
        webhooks::ping_webhook,
        catalog::list_categories,
        catalog::create_category,
        catalog::get_category,
        catalog::update_category,
        catalog::replace_category,
        catalog::delete_category,
        catalog::list_suppliers,
        catalog::create_supplier,
        catalog::get_supplier,
        catalog::update_supplier,
        catalog::replace_supplier,
        catalog::delete_supplier,
        catalog::supplier_products,
        insight::list_orders,
        insight::create_order,
        insight::get_order,
        insight::update_order,
        insight::replace_order,
        insight::delete_order,
        insight::submit_order,
        insight::approve_order,
        insight::receive_order,
        insight::cancel_order,
        insight::list_alerts,
        insight::acknowledge_alert,
        insight::suggestions,
        insight::draft_orders,
        insight::valuation,
        insight::movements,
        insight::export_products,
        insight::import_products,
        stock::list_locations,
        stock::create_location,
        stock::get_location,
        stock::update_location,
        stock::replace_location,
        stock::delete_location,
        stock::stock_levels,
        stock::inventory_levels,
        stock::list_adjustments,
        stock::create_adjustment,
        stock::get_adjustment,
        stock::history,
        stock::lookup,
        stock::barcode_svg,
        stock::scan,
        stock::list_transfers,
        stock::create_transfer,
        stock::get_transfer,
        stock::approve_transfer,
        stock::reject_transfer,
        stock::cancel_transfer,
        products::list,
        products::create,
        products::get,
        products::update,
        products::replace,
        products::delete,
        products::list_links,
        products::create_link,
        products::get_link,
        products::update_link,
        products::replace_link,
        products::delete_link,
        customers::list,
        customers::create,
        customers::get,
        customers::update,
        customers::replace,
        customers::delete,
        sales::list,
        sales::create,
        sales::get,
        sales::update,
        sales::delete,
        sales::confirm,
        sales::ship,
        sales::cancel,
        sales::take_return,
        sales::list_returns,
    );
}

/// Registers every shared route (numeric ids only, so `/api/products/lookup` and friends never
/// collide with an id).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut server = crate::router::Server::default();
    table(&mut server);
    server.configure(cfg);
}
