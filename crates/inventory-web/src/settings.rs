//! Configuration from the environment (and `.env`), with the names API.md §8 promises.

use std::path::PathBuf;

use clap::{ArgAction, Args};
use inventory_core::db::{sqlite_path, Backend};

/// A secret that never prints itself, so it cannot leak through a debug log.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Where the data lives: `sqlite://FILE` (created when missing) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://inventory.db")]
    pub database_url: String,
    /// The address to listen on (default `127.0.0.1:8000`, or `0.0.0.0:$PORT` when a
    /// platform sets `PORT`).
    #[arg(long, env = "BIND")]
    pub bind: Option<String>,
    /// Set by Heroku-like platforms, which route to that port on every interface; `BIND` wins.
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// Signs session cookies and JWTs (at least 16 characters; `check --deploy` wants 32).
    /// Unset with SQLite, one is generated into `<database>.secret`; PostgreSQL requires it.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,
    /// Whether callers who are not signed in may read the catalogue and stock levels.
    #[arg(long, env = "PUBLIC_READ", default_value_t = true, action = ArgAction::Set)]
    pub public_read: bool,
    /// Whether anyone may register an account through the API.
    #[arg(long, env = "REGISTRATION", default_value_t = false, action = ArgAction::Set)]
    pub registration: bool,
    /// The role a self-registered user gets (admin, manager, employee or auditor).
    #[arg(long, env = "REGISTRATION_ROLE", default_value = "employee")]
    pub registration_role: String,
    /// The bcrypt work factor for new password hashes.
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12)]
    pub bcrypt_cost: u32,
    /// Failed logins for one username within LOCKOUT_MINUTES that lock it.
    #[arg(long, env = "LOCKOUT_THRESHOLD", default_value_t = 5)]
    pub lockout_threshold: i32,
    /// The window failures are counted in, and how long a lock lasts.
    #[arg(long, env = "LOCKOUT_MINUTES", default_value_t = 15)]
    pub lockout_minutes: i64,
    /// Login, token, registration and reset requests one IP may make a minute (0: no limit).
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MINUTE", default_value_t = 10)]
    pub auth_rate_limit_per_minute: u32,
    /// Comma-separated IPs or CIDRs whose `X-Forwarded-For` is believed.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// The external base URL (`https://inv.example.com`): links in answers and emails and the
    /// origin checks use it. Unset, they use the `Host` header, or what a trusted proxy says.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Extra origins allowed to send unsafe requests with a session (comma-separated).
    #[arg(long, env = "TRUSTED_ORIGINS", default_value = "")]
    pub trusted_origins: String,
    /// Browser origins (`https://shop.example.com`, comma-separated) whose pages may call the
    /// API from script; empty means no CORS headers at all, which is what a same-origin or
    /// server-to-server deployment wants.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", default_value = "")]
    pub cors_allowed_origins: String,
    /// Let webhooks call loopback, private and link-local addresses (a receiver on the same
    /// machine or network). Off, such URLs are refused when saved and never called.
    #[arg(long, env = "WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// How long a failed webhook delivery waits before each retry, comma-separated (`10s`,
    /// `1m`, `2h`, `250ms`); one attempt more than delays in all.
    #[arg(
        long,
        env = "WEBHOOK_RETRY_DELAYS",
        default_value = "10s,1m,5m,30m,2h,6h,12h"
    )]
    pub webhook_retry_delays: String,
    /// Lifetime of an access token (server-jwt).
    #[arg(long, env = "JWT_ACCESS_TTL_SECONDS", default_value_t = 300)]
    pub jwt_access_ttl_seconds: i64,
    /// Lifetime of a refresh token (server-jwt).
    #[arg(long, env = "JWT_REFRESH_TTL_SECONDS", default_value_t = 86400)]
    pub jwt_refresh_ttl_seconds: i64,
    /// Clock skew tolerated when checking a token's expiry (server-jwt).
    #[arg(long, env = "JWT_LEEWAY_SECONDS", default_value_t = 0)]
    pub jwt_leeway_seconds: u64,
    /// Idle time after which a session ends (server-cookie and the staff site).
    #[arg(long, env = "SESSION_IDLE_SECONDS", default_value_t = 43200)]
    pub session_idle_seconds: i64,
    /// Mark cookies Secure and send HSTS; unset, false only for SQLite on a loopback address.
    #[arg(long, env = "COOKIE_SECURE", action = ArgAction::Set)]
    pub cookie_secure: Option<bool>,
    /// The SMTP server (`smtp://user:pass@host:587`, `smtps://…`); unset, emails are written
    /// as files to EMAIL_OUTBOX_DIR.
    #[arg(long, env = "EMAIL_URL")]
    pub email_url: Option<Secret>,
    /// The sender address of every email.
    #[arg(long, env = "EMAIL_FROM", default_value = "inventory@localhost")]
    pub email_from: String,
    /// Where emails are written as `.eml` files when EMAIL_URL is unset.
    #[arg(long, env = "EMAIL_OUTBOX_DIR", default_value = "./outbox")]
    pub email_outbox_dir: PathBuf,
    /// Where Prometheus scrapes `/metrics` (e.g. `127.0.0.1:9100`); unset, no metrics are
    /// kept. A separate address, so the scrape endpoint is not public by accident.
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// `pretty` for people, `json` for log collectors.
    #[arg(long, env = "LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,
    /// Seconds a request body may pause between two chunks before the request is answered
    /// 408 (a client that stops sending must not hold a connection for ever).
    #[arg(long, env = "BODY_TIMEOUT_SECONDS", default_value_t = 20)]
    pub body_timeout_seconds: u64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,
    /// Database connections in the pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 4)]
    pub db_pool_size: u32,
    /// Threads per HTTP worker that run database work off the async workers; on two cores a
    /// few beat many (see docs/performance.md).
    #[arg(long, env = "BLOCKING_THREADS", default_value_t = 2)]
    pub blocking_threads: usize,
}

impl Settings {
    /// `WEBHOOK_RETRY_DELAYS`, parsed: each delay a number and a unit (`ms`, `s`, `m`, `h`).
    pub fn webhook_retry_schedule(&self) -> Result<Vec<std::time::Duration>, String> {
        let bad = |d: &str| {
            format!("WEBHOOK_RETRY_DELAYS: \"{d}\" is not a delay such as 250ms, 10s, 5m or 2h")
        };
        self.webhook_retry_delays
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                let split = d.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(d.len());
                let (n, unit) = d.split_at(split);
                let n: u64 = n.parse().map_err(|_| bad(d))?;
                let ms = match unit {
                    "ms" => n,
                    "s" => n.saturating_mul(1000),
                    "m" => n.saturating_mul(60_000),
                    "h" => n.saturating_mul(3_600_000),
                    _ => return Err(bad(d)),
                };
                Ok(std::time::Duration::from_millis(ms))
            })
            .collect()
    }

    /// Settings for tests: a cheap bcrypt cost, no rate limit, a random port, a fixed secret.
    pub fn for_tests(database_url: impl Into<String>) -> Settings {
        Settings {
            database_url: database_url.into(),
            bind: Some("127.0.0.1:0".into()),
            port: None,
            secret_key: Some(Secret::new(
                "test-secret-key-that-is-long-enough-0123456789",
            )),
            public_read: true,
            registration: false,
            registration_role: "employee".into(),
            bcrypt_cost: 4,
            lockout_threshold: 5,
            lockout_minutes: 15,
            auth_rate_limit_per_minute: 0,
            trusted_proxies: String::new(),
            public_url: None,
            trusted_origins: String::new(),
            cors_allowed_origins: String::new(),
            webhook_allow_private: false,
            webhook_retry_delays: "10s,1m,5m,30m,2h,6h,12h".into(),
            jwt_access_ttl_seconds: 300,
            jwt_refresh_ttl_seconds: 86400,
            jwt_leeway_seconds: 0,
            session_idle_seconds: 43200,
            cookie_secure: Some(false),
            email_url: None,
            email_from: "inventory@localhost".into(),
            email_outbox_dir: std::env::temp_dir().join("inventory-test-outbox"),
            metrics_bind: None,
            log_format: "pretty".into(),
            body_timeout_seconds: 20,
            workers: Some(2),
            db_pool_size: 4,
            blocking_threads: 4,
        }
    }

    pub fn backend(&self) -> Result<Backend, String> {
        Backend::of_url(&self.database_url).map_err(|e| e.to_string())
    }

    /// Where the server listens: `BIND`; else every interface on `PORT` (a platform such as
    /// Heroku routes there); else loopback only, so a developer's first run is not exposed.
    pub fn listen_addr(&self) -> String {
        match (&self.bind, self.port) {
            (Some(b), _) => b.clone(),
            (None, Some(p)) => format!("0.0.0.0:{p}"),
            (None, None) => "127.0.0.1:8000".into(),
        }
    }

    /// The base of links in emails: `PUBLIC_URL`, or where this process listens (right for a
    /// developer's machine; `check --deploy` asks for `PUBLIC_URL` anywhere else).
    pub fn email_base_url(&self) -> String {
        if let Some(u) = self.public_url.as_deref().filter(|u| !u.is_empty()) {
            return u.trim_end_matches('/').to_owned();
        }
        let addr = self.listen_addr();
        let addr = addr
            .strip_prefix("0.0.0.0:")
            .map(|port| format!("localhost:{port}"))
            .unwrap_or(addr);
        format!("http://{addr}")
    }

    /// Secure cookies unless SQLite on a loopback address (local development).
    pub fn cookie_secure(&self) -> bool {
        if let Some(v) = self.cookie_secure {
            return v;
        }
        let bind = self.listen_addr();
        let loopback =
            bind.starts_with("127.") || bind.starts_with("localhost") || bind.starts_with("[::1]");
        !(loopback && matches!(self.backend(), Ok(Backend::Sqlite)))
    }

    /// `SECRET_KEY`, or with SQLite one generated once into a file beside the database.
    pub fn resolve_secret(&self) -> Result<Secret, String> {
        if let Some(s) = &self.secret_key {
            if s.expose().len() < 16 {
                return Err("SECRET_KEY must be at least 16 characters".into());
            }
            return Ok(s.clone());
        }
        match self.backend()? {
            Backend::Postgres => Err("SECRET_KEY is required with PostgreSQL".into()),
            Backend::Sqlite => {
                let path = PathBuf::from(format!("{}.secret", sqlite_path(&self.database_url)));
                if let Ok(s) = std::fs::read_to_string(&path) {
                    let s = s.trim();
                    if s.len() >= 16 {
                        return Ok(Secret::new(s));
                    }
                }
                let bytes: [u8; 32] = rand::random();
                let key = hex::encode(bytes);
                write_private(&path, &key)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(Secret::new(key))
            }
        }
    }

    /// `CORS_ALLOWED_ORIGINS` as origins (`scheme://host[:port]`, no path): a typo such as a
    /// trailing slash would otherwise silently never match and look like a browser bug.
    pub fn cors_origins(&self) -> Result<Vec<String>, String> {
        self.cors_allowed_origins
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|o| {
                let rest = o
                    .strip_prefix("https://")
                    .or_else(|| o.strip_prefix("http://"))
                    .unwrap_or("");
                if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '*']) {
                    Err(format!(
                        "CORS_ALLOWED_ORIGINS: not an origin such as https://shop.example.com: {o}"
                    ))
                } else {
                    Ok(o.to_owned())
                }
            })
            .collect()
    }

    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("TRUSTED_PROXIES: not an IP or CIDR: {s}"))
            })
            .collect()
    }
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(content.as_bytes())
}

/// What `check --deploy` refuses: the configuration problems that are unsafe in production.
pub fn check(s: &Settings, deploy: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = s.trusted_proxy_nets() {
        problems.push(e);
    }
    if let Some(u) = &s.public_url {
        if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(['?', '#', ' ']) {
            problems.push(format!(
                "PUBLIC_URL must be an http(s) base URL such as https://inv.example.com, not {u}"
            ));
        }
    }
    if let Err(e) = s.cors_origins() {
        problems.push(e);
    }
    if let Err(e) = s.webhook_retry_schedule() {
        problems.push(e);
    }
    if let Err(e) = s.backend() {
        problems.push(e);
    }
    if !deploy {
        return problems;
    }
    match &s.secret_key {
        None => {
            problems.push("SECRET_KEY is not set: set a long random value for production.".into())
        }
        Some(k) if k.expose().len() < 32 => {
            problems.push("SECRET_KEY is shorter than 32 characters.".into())
        }
        Some(k)
            if k.expose().contains("insecure")
                || k.expose().starts_with("test-secret")
                || k.expose() == "changeme" =>
        {
            problems.push("SECRET_KEY looks like a default or test value.".into())
        }
        Some(_) => {}
    }
    if !s.cookie_secure() {
        problems.push("COOKIE_SECURE is off: session cookies would travel over plain HTTP.".into());
    }
    match s.public_url.as_deref() {
        None | Some("") => problems.push(
            "PUBLIC_URL is not set: links in emails would point at this machine's own address."
                .into(),
        ),
        Some(u) if u.starts_with("http://") => {
            problems.push("PUBLIC_URL is not https: emailed links would travel unencrypted.".into())
        }
        Some(_) => {}
    }
    if s.bcrypt_cost < 10 {
        problems.push("BCRYPT_COST below 10 is too cheap for production.".into());
    }
    if s.auth_rate_limit_per_minute == 0 {
        problems.push(
            "AUTH_RATE_LIMIT_PER_MINUTE is 0: the login endpoints are not rate limited.".into(),
        );
    }
    if std::env::var("RUST_LOG").is_ok_and(|v| v.contains("debug") || v.contains("trace")) {
        problems.push("RUST_LOG enables debug logging.".into());
    }
    problems
}
