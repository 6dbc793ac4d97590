//! The conformance scenarios, one module per area of API.md. They build into one test binary
//! (linking the servers once instead of once per file); each scenario runs against both servers
//! and both databases, e.g. `catalog::deleting_a_category_in_use_is_a_conflict::cookie_sqlite`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account_pages;
mod api_tokens;
mod audit;
mod auth;
mod auth_cookie;
mod auth_jwt;
mod catalog;
mod cors;
mod cursor;
mod dashboard;
mod fuzzing;
mod links;
mod lists;
mod money;
mod operations;
mod permissions;
mod products;
mod users;
mod validation;
mod webhooks;
