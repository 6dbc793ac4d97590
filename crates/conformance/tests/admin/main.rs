//! The staff site at `/admin/` (ADMIN.md), driven over HTTP as a browser would: every model's
//! list, add, change, delete and history, every state button, sign-in and its protections,
//! and the proof that the pages and the API share their rules. Each scenario runs on both
//! servers and both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod access;
mod catalog;
mod operations;
mod rules;
mod users;
