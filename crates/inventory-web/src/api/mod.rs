//! Routes and handlers of the whole JSON API. Each handler extracts, calls one core service
//! on the blocking pool, and shapes the answer; no business rule lives here.

use actix_web::{web, HttpResponse, Resource};

pub mod accounts;
pub mod catalog;
pub mod insight;
pub mod ops;
pub mod products;
pub mod stock;
pub mod users;

pub type State = web::Data<crate::app::AppState>;

/// A resource whose unknown methods answer the contract's 405 body.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(crate::error::method_not_allowed))
}

pub fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Registers every shared route. Numeric ids only (`{id:\d+}`), so `/api/products/lookup`
/// and friends never collide with an id.
pub fn configure(cfg: &mut web::ServiceConfig) {
    ops::configure(cfg);
    users::configure(cfg);
    accounts::configure(cfg);
    catalog::configure(cfg);
    insight::configure(cfg);
    stock::configure(cfg);
    products::configure(cfg);
}
