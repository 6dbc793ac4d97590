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
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://inventory.db")]
    pub database_url: String,
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Secret>,
    #[arg(long, env = "PUBLIC_READ", default_value_t = true, action = ArgAction::Set)]
    pub public_read: bool,
    #[arg(long, env = "REGISTRATION", default_value_t = false, action = ArgAction::Set)]
    pub registration: bool,
    #[arg(long, env = "REGISTRATION_ROLE", default_value = "employee")]
    pub registration_role: String,
    #[arg(long, env = "BCRYPT_COST", default_value_t = 12)]
    pub bcrypt_cost: u32,
    #[arg(long, env = "LOCKOUT_THRESHOLD", default_value_t = 5)]
    pub lockout_threshold: i32,
    #[arg(long, env = "LOCKOUT_MINUTES", default_value_t = 15)]
    pub lockout_minutes: i64,
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MINUTE", default_value_t = 10)]
    pub auth_rate_limit_per_minute: u32,
    /// Comma-separated IPs or CIDRs whose `X-Forwarded-For` is believed.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Extra origins allowed to send unsafe requests with a session (comma-separated).
    #[arg(long, env = "TRUSTED_ORIGINS", default_value = "")]
    pub trusted_origins: String,
    #[arg(long, env = "JWT_ACCESS_TTL_SECONDS", default_value_t = 300)]
    pub jwt_access_ttl_seconds: i64,
    #[arg(long, env = "JWT_REFRESH_TTL_SECONDS", default_value_t = 86400)]
    pub jwt_refresh_ttl_seconds: i64,
    #[arg(long, env = "JWT_LEEWAY_SECONDS", default_value_t = 0)]
    pub jwt_leeway_seconds: u64,
    #[arg(long, env = "SESSION_IDLE_SECONDS", default_value_t = 43200)]
    pub session_idle_seconds: i64,
    #[arg(long, env = "COOKIE_SECURE", action = ArgAction::Set)]
    pub cookie_secure: Option<bool>,
    #[arg(long, env = "EMAIL_URL")]
    pub email_url: Option<Secret>,
    #[arg(long, env = "EMAIL_FROM", default_value = "inventory@localhost")]
    pub email_from: String,
    #[arg(long, env = "EMAIL_OUTBOX_DIR", default_value = "./outbox")]
    pub email_outbox_dir: PathBuf,
    #[arg(long, env = "LOG_FORMAT", default_value = "pretty")]
    pub log_format: String,
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
    /// Settings for tests: a cheap bcrypt cost, no rate limit, a random port, a fixed secret.
    pub fn for_tests(database_url: impl Into<String>) -> Settings {
        Settings {
            database_url: database_url.into(),
            bind: "127.0.0.1:0".into(),
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
            trusted_origins: String::new(),
            jwt_access_ttl_seconds: 300,
            jwt_refresh_ttl_seconds: 86400,
            jwt_leeway_seconds: 0,
            session_idle_seconds: 43200,
            cookie_secure: Some(false),
            email_url: None,
            email_from: "inventory@localhost".into(),
            email_outbox_dir: std::env::temp_dir().join("inventory-test-outbox"),
            log_format: "pretty".into(),
            workers: Some(2),
            db_pool_size: 4,
            blocking_threads: 4,
        }
    }

    pub fn backend(&self) -> Result<Backend, String> {
        Backend::of_url(&self.database_url).map_err(|e| e.to_string())
    }

    /// Secure cookies unless SQLite on a loopback address (local development).
    pub fn cookie_secure(&self) -> bool {
        if let Some(v) = self.cookie_secure {
            return v;
        }
        let loopback = self.bind.starts_with("127.")
            || self.bind.starts_with("localhost")
            || self.bind.starts_with("[::1]");
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
