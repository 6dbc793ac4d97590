//! Everything HTTP that both servers share: settings, the app builder, routes and handlers for
//! the whole API, the error body of API.md §1, pagination, the caller extractor, OpenAPI, and
//! the command line. It knows nothing of cookies or tokens: the server crates put a
//! [`inventory_core::auth::Principal`] into the request extensions and this crate takes it from there.

pub mod admin;
pub mod api;
pub mod app;
pub mod cli;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod login;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pages;
pub mod ratelimit;
pub mod router;
pub mod session;
pub mod settings;
pub mod webhooks;

pub use app::{finish_app, AppState, Running};
pub use error::ApiError;
pub use extract::{blocking, Caller, JsonBody};
#[doc(hidden)]
pub use paste::paste as __paste;
pub use settings::Settings;
