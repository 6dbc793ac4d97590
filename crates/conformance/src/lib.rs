//! Black-box HTTP conformance harness.
//!
//! Every scenario in `tests/` is written once, as `async fn name(app: TestApp)`, and expanded by
//! [`variants!`] into four `#[tokio::test]`s: cookie and JWT server, SQLite and PostgreSQL
//! database. Each test gets its own database and its own server on a random port; the harness
//! talks to it only through HTTP, exactly as a client of `API.md` would.
//!
//! The [`Client`] also checks, on every single response, the rules of `API.md` that hold
//! everywhere: no 5xx, an `X-Request-Id`, the error shape on every 4xx, and never any password
//! hash material.
//!
//! Running: `cargo test -p conformance` (one area: `-- catalog::`; one variant: `-- jwt_sqlite`).
//! PostgreSQL variants use `TEST_POSTGRES_URL` (a maintenance URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; one database is created and dropped per test),
//! or else a throwaway cluster the harness starts itself under `target/pg-cluster` on port 54329
//! (`TEST_POSTGRES_PORT`) from `/usr/lib/postgresql/*/bin`, left running for the next run
//! (stop it with `pg_ctl -D target/pg-cluster/data stop`, as the `postgres` user when root).
//! With neither, those variants are skipped with a note, unless `CI=true`, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

pub mod admin;
mod app;
mod client;
mod db;
pub mod fixtures;
pub mod instance;
pub mod jwt;
pub mod mail;
pub mod race;
pub mod receiver;
pub mod tools;

pub use app::{run, Auth, TestApp, ROOT_PASSWORD, ROOT_USERNAME, USER_PASSWORD};
pub use client::{Client, Raw, Resp};
pub use db::{database_name, postgres_admin, Backend, DbError, TestDb};
pub use reqwest::{Method, StatusCode};
pub use serde_json::{json, Value};

/// Leaves settings as [`inventory_web::Settings::for_tests`] made them.
pub fn default_settings(_: &mut inventory_web::Settings) {}

/// Expands each named scenario `async fn name(app: TestApp)` into a module `name` holding four
/// tests: `cookie_sqlite`, `jwt_sqlite`, `cookie_postgres`, `jwt_postgres`.
///
/// `variants!(a, b);` uses the test settings as they are;
/// `variants!(with settings_fn: a, b);` first applies `settings_fn: fn(&mut Settings)`.
#[macro_export]
macro_rules! variants {
    (with $tweak:path : $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test]
                async fn cookie_sqlite() {
                    $crate::run($crate::Auth::Cookie, $crate::Backend::Sqlite, $tweak, super::$name).await;
                }
                #[tokio::test]
                async fn jwt_sqlite() {
                    $crate::run($crate::Auth::Jwt, $crate::Backend::Sqlite, $tweak, super::$name).await;
                }
                #[tokio::test]
                async fn cookie_postgres() {
                    $crate::run($crate::Auth::Cookie, $crate::Backend::Postgres, $tweak, super::$name).await;
                }
                #[tokio::test]
                async fn jwt_postgres() {
                    $crate::run($crate::Auth::Jwt, $crate::Backend::Postgres, $tweak, super::$name).await;
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $crate::variants!(with $crate::default_settings : $($name),*);
    };
}

/// Like [`variants!`] for scenarios that only make sense for one server: expands each into
/// `sqlite` and `postgres` tests against the given server (`Cookie` or `Jwt`).
#[macro_export]
macro_rules! server_variants {
    ($auth:ident, with $tweak:path : $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                #[tokio::test]
                async fn sqlite() {
                    $crate::run($crate::Auth::$auth, $crate::Backend::Sqlite, $tweak, super::$name).await;
                }
                #[tokio::test]
                async fn postgres() {
                    $crate::run($crate::Auth::$auth, $crate::Backend::Postgres, $tweak, super::$name).await;
                }
            }
        )*
    };
    ($auth:ident, $($name:ident),* $(,)?) => {
        $crate::server_variants!($auth, with $crate::default_settings : $($name),*);
    };
}
