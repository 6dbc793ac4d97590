//! The application state and the part of the app both servers build the same way.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, Error};
use inventory_core::context::{Core, CoreConfig};
use inventory_core::db::Db;
use utoipa_swagger_ui::SwaggerUi;

use crate::settings::{Secret, Settings};

/// What every handler can reach: the core, the settings and the resolved secret.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub settings: Arc<Settings>,
    pub secret: Secret,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub openapi: utoipa::openapi::OpenApi,
    /// Shared by every worker: the process's own gate in front of the budget every instance
    /// shares through the database.
    pub limiter: crate::ratelimit::AuthLimiter,
    /// Password checks run here, off the threads that serve database work.
    pub hasher: crate::login::Hasher,
    /// The session store (one per process, so its touch cache is shared by every worker).
    pub sessions: crate::session::DbSessionStore,
    /// CSV imports whose bodies may be in memory at once (each up to 64 MiB).
    pub imports: Arc<tokio::sync::Semaphore>,
    /// Each documented path and its `Allow` value, for OPTIONS.
    pub allow: Arc<Vec<(actix_web::dev::ResourceDef, String)>>,
    /// Held by every copy of the state: background tasks keep a weak reference and end when
    /// the last copy goes with the server (tests run hundreds of servers in one process).
    pub lifetime: Arc<()>,
}

impl AppState {
    /// Opens the database (bringing the schema up to date) and resolves the secret.
    pub fn new(
        settings: &Settings,
        extra_api: crate::router::Document,
    ) -> Result<AppState, String> {
        let secret = settings.resolve_secret()?;
        let trusted_proxies = settings.trusted_proxy_nets()?;
        settings.cors_origins()?;
        let core = open_core(settings, settings.db_pool_size)?;
        let mut openapi = crate::openapi::base();
        extra_api.merge_into(&mut openapi);
        crate::openapi::finish(&mut openapi);
        let allow = Arc::new(crate::router::allowed_methods(&openapi));
        Ok(AppState {
            sessions: crate::session::DbSessionStore::new(core.db.clone()),
            core,
            limiter: crate::ratelimit::AuthLimiter::new(settings.auth_rate_limit_per_minute),
            hasher: crate::login::Hasher::new(2, 256)?,
            imports: Arc::new(tokio::sync::Semaphore::new(2)),
            settings: Arc::new(settings.clone()),
            secret,
            trusted_proxies,
            openapi,
            allow,
            lifetime: Arc::default(),
        })
    }
}

/// The core as the settings describe it (database, rules, mail), for the server and for the
/// command-line tools that run services (`import`), so both apply the same configuration.
pub fn open_core(settings: &Settings, pool_size: u32) -> Result<Core, String> {
    let db = Db::connect(&settings.database_url, pool_size).map_err(|e| e.to_string())?;
    let config = CoreConfig {
        public_read: settings.public_read,
        bcrypt_cost: settings.bcrypt_cost,
        lockout_threshold: settings.lockout_threshold,
        lockout_minutes: settings.lockout_minutes,
        registration: settings.registration,
        registration_role: inventory_core::types::Role::parse(&settings.registration_role)
            .map_err(|e| format!("REGISTRATION_ROLE: {e}"))?,
        public_url: settings.email_base_url(),
        webhook_allow_private: settings.webhook_allow_private,
    };
    let mailer = inventory_core::email::Mailer::new(
        settings.email_url.as_ref().map(|s| s.expose()),
        &settings.email_from,
        settings.email_outbox_dir.clone(),
    )?;
    Ok(Core {
        db,
        config,
        mailer: Arc::new(mailer),
        positions: Arc::default(),
    })
}

/// A started server: the port it bound (for tests on port 0) and a handle to stop it.
pub struct Running {
    pub port: u16,
    pub handle: ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Where the staff site's session comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminSessions {
    /// The server's own session middleware already wraps everything (cookie server).
    Shared,
    /// The staff site needs a session of its own, scoped to `/admin/` (JWT server).
    Own,
}

/// Adds the shared routes, state and middleware to an app the server crate has started with
/// its own auth routes and middleware; the shared middleware wraps outermost.
pub fn finish_app<T, B>(
    app: App<T>,
    state: &AppState,
    admin: AdminSessions,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + 'static>,
        Error = Error,
        InitError = (),
    >,
>
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let secure = state.settings.cookie_secure();
    let mut headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Content-Security-Policy", "frame-ancestors 'none'"));
    if secure {
        headers = headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ));
    }
    app.app_data(web::Data::new(state.clone()))
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| crate::error::ApiError::not_found().into()),
        )
        .service(
            crate::admin::scope().wrap(actix_web::middleware::Condition::new(
                admin == AdminSessions::Own,
                crate::session::middleware(state, "/admin/"),
            )),
        )
        .configure(crate::api::configure)
        .configure(crate::pages::configure)
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", state.openapi.clone()))
        .default_service(web::to(crate::error::not_found))
        .wrap(from_fn(crate::ratelimit::limit_auth))
        .wrap(from_fn(crate::middleware::head_and_options))
        .wrap(cors(state, admin))
        .wrap(from_fn(crate::middleware::cors_refusal))
        .wrap(headers)
        .wrap(from_fn(crate::middleware::trim_trailing_slash))
        .wrap(from_fn(crate::middleware::reject_nul))
        .wrap(tracing_actix_web::TracingLogger::<
            crate::middleware::RootSpan,
        >::new())
        .wrap(from_fn(crate::middleware::request_id))
}

/// CORS per API.md §12: nothing unless `CORS_ALLOWED_ORIGINS` names origins; then preflights
/// from those origins are answered (before our own OPTIONS) and their answers carry the
/// `Access-Control-Allow-*` headers. Credentials only where the API is authenticated by the
/// session cookie (`server-cookie`); on `server-jwt` the token travels in a header, and the
/// staff site's cookie must never be usable cross-origin.
fn cors(
    state: &AppState,
    admin: AdminSessions,
) -> actix_web::middleware::Condition<actix_cors::Cors> {
    let origins = state.settings.cors_origins().unwrap_or_default();
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            "Accept",
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-CSRFToken",
            "X-Request-Id",
        ])
        .expose_headers(["Location", "Retry-After", "X-Request-Id", "Link"])
        .max_age(3600);
    for o in &origins {
        cors = cors.allowed_origin(o);
    }
    if admin == AdminSessions::Shared {
        cors = cors.supports_credentials();
    }
    actix_web::middleware::Condition::new(!origins.is_empty(), cors)
}

/// Opens the application state on a blocking thread (it runs migrations and fills the pool),
/// as both servers do at start.
pub async fn open_state(
    settings: &Settings,
    extra_api: crate::router::Document,
) -> std::io::Result<AppState> {
    let s = settings.clone();
    let state = tokio::task::spawn_blocking(move || AppState::new(&s, extra_api))
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    spawn_housekeeping(state.core.clone());
    crate::webhooks::spawn(
        Arc::downgrade(&state.lifetime),
        state.core.clone(),
        settings
            .webhook_retry_schedule()
            .map_err(std::io::Error::other)?,
        settings.webhook_allow_private,
    );
    crate::metrics::spawn(&state)?;
    Ok(state)
}

/// Every ten minutes (and once at start), drops expired cookie sessions, token rows,
/// idempotency keys, finished webhook deliveries older than a month and idle auth budgets,
/// so those tables stay the size of what is live.
fn spawn_housekeeping(core: inventory_core::Core) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let c = core.clone();
            let done = tokio::task::spawn_blocking(move || {
                let sessions = inventory_core::services::sessions::purge_expired(&c.db)?;
                let tokens = inventory_core::services::tokens::purge_expired(&c.db)?;
                let keys = inventory_core::services::idempotency::purge_expired(&c.db)?;
                let hooks = inventory_core::services::webhooks::outbox::purge_finished(
                    &c.db,
                    crate::webhooks::KEEP_DAYS,
                )?;
                let budgets = inventory_core::services::auth_budget::purge_idle(
                    &c.db,
                    chrono::Utc::now().timestamp_millis(),
                )?;
                Ok::<_, inventory_core::CoreError>((sessions, tokens, keys + hooks + budgets))
            })
            .await;
            match done {
                Ok(Ok((s, t, k))) if s + t + k > 0 => {
                    tracing::info!(
                        sessions = s,
                        tokens = t,
                        keys_and_deliveries = k,
                        "purged expired logins, keys and old webhook deliveries"
                    )
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "housekeeping failed"),
                Err(e) => tracing::warn!(error = %e, "housekeeping task failed"),
            }
        }
    });
}

/// Builds, binds and runs the HTTP server around an app factory with the shared worker
/// settings, on the current tokio runtime, so a server crate's `spawn` holds only what
/// differs between the servers (their auth). Evaluates to `std::io::Result<Running>`.
#[macro_export]
macro_rules! serve {
    ($settings:expr, $factory:expr) => {{
        let settings: &$crate::Settings = &$settings;
        let mut server = ::actix_web::HttpServer::new($factory)
            .worker_max_blocking_threads(settings.blocking_threads.max(1));
        if let Some(w) = settings.workers {
            server = server.workers(w.max(1));
        }
        match server.bind(settings.listen_addr()) {
            Err(e) => Err(e),
            Ok(server) => {
                let port = server.addrs().first().map(|a| a.port()).unwrap_or(0);
                let server = server.run();
                let handle = server.handle();
                let task = ::tokio::spawn(server);
                Ok($crate::Running { port, handle, task })
            }
        }
    }};
}
