//! What every service is given: the database, the policy settings, the mailer and the
//! per-process caches. It sits below the services (they take a `&Core`), beside `db`.

use crate::db::Db;

/// Settings of the core that are policy, not plumbing.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub public_read: bool,
    pub bcrypt_cost: u32,
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    pub registration: bool,
    pub registration_role: crate::types::Role,
    /// The external base URL (`https://inv.example.com`, no trailing slash) that links in
    /// emails start with. Configured, never taken from a request's `Host`, so a forged header
    /// cannot point a password-reset link at someone else's site.
    pub public_url: String,
    /// `WEBHOOK_ALLOW_PRIVATE`: lets webhooks point at loopback, private and link-local
    /// addresses (a test receiver, an internal service). Off, such URLs are refused, so an
    /// admin's webhook cannot be used to reach what sits behind the firewall.
    pub webhook_allow_private: bool,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            public_read: true,
            bcrypt_cost: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            registration: false,
            registration_role: crate::types::Role::Employee,
            public_url: "http://127.0.0.1:8000".into(),
            webhook_allow_private: false,
        }
    }
}

/// What a service needs: the database and the policy settings.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub config: CoreConfig,
    pub mailer: std::sync::Arc<crate::email::Mailer>,
    /// Per-process caches that stay exact because they are keyed by versions kept in the
    /// database (see `positions::PositionCache`).
    pub positions: std::sync::Arc<crate::positions::PositionCache>,
}
