//! The domain core of the inventory service.
//!
//! Everything that decides *what* happens lives here: the schema, the validated input types,
//! the permission rules, and the services that run each change in one transaction together
//! with its audit entry. Nothing here knows about HTTP, cookies or tokens, so both servers
//! (and the command line) share exactly the same rules.

pub mod audit;
pub mod auth;
pub mod context;
pub mod csvsafe;
pub mod cursor;
pub mod db;
pub mod email;
pub mod error;
pub mod metrics;
pub mod models;
pub mod paging;
pub mod positions;
pub mod schema;
pub mod services;
pub mod slots;
pub mod sql;
pub mod ts;
pub mod types;

pub use context::{Core, CoreConfig};
pub use db::{Db, DbConn};
pub use error::{CoreError, FieldErrors};
