//! The application state and the part of the app both servers build the same way.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, Error};
use inventory_core::db::{Core, CoreConfig, Db};
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
    /// Shared by every worker, so the per-IP budget is per server instance, not per thread.
    pub limiter: crate::ratelimit::AuthLimiter,
    /// Password checks run here, off the threads that serve database work.
    pub hasher: crate::login::Hasher,
}

impl AppState {
    /// Opens the database (bringing the schema up to date) and resolves the secret.
    pub fn new(
        settings: &Settings,
        extra_api: utoipa::openapi::OpenApi,
    ) -> Result<AppState, String> {
        let secret = settings.resolve_secret()?;
        let trusted_proxies = settings.trusted_proxy_nets()?;
        let db = Db::connect(&settings.database_url, settings.db_pool_size)
            .map_err(|e| e.to_string())?;
        let config = CoreConfig {
            public_read: settings.public_read,
            bcrypt_cost: settings.bcrypt_cost,
            lockout_threshold: settings.lockout_threshold,
            lockout_minutes: settings.lockout_minutes,
            registration: settings.registration,
            registration_role: inventory_core::types::Role::parse(&settings.registration_role)
                .map_err(|e| format!("REGISTRATION_ROLE: {e}"))?,
        };
        let mailer = inventory_core::email::Mailer::new(
            settings.email_url.as_ref().map(|s| s.expose()),
            &settings.email_from,
            settings.email_outbox_dir.clone(),
        )?;
        let mut openapi = crate::openapi::base();
        openapi.merge(extra_api);
        Ok(AppState {
            core: Core {
                db,
                config,
                mailer: Arc::new(mailer),
                positions: Arc::default(),
            },
            limiter: crate::ratelimit::AuthLimiter::new(settings.auth_rate_limit_per_minute),
            hasher: crate::login::Hasher::new(2, 256)?,
            settings: Arc::new(settings.clone()),
            secret,
            trusted_proxies,
            openapi,
        })
    }
}

/// A started server: the port it bound (for tests on port 0) and a handle to stop it.
pub struct Running {
    pub port: u16,
    pub handle: ServerHandle,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Adds the shared routes, state and middleware to an app the server crate has started with
/// its own auth routes and middleware; the shared middleware wraps outermost.
pub fn finish_app<T, B>(
    app: App<T>,
    state: &AppState,
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
        .configure(crate::api::configure)
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", state.openapi.clone()))
        .default_service(web::to(crate::error::not_found))
        .wrap(from_fn(crate::ratelimit::limit_auth))
        .wrap(headers)
        .wrap(from_fn(crate::middleware::trim_trailing_slash))
        .wrap(tracing_actix_web::TracingLogger::<
            crate::middleware::RootSpan,
        >::new())
        .wrap(from_fn(crate::middleware::request_id))
}

/// Opens the application state on a blocking thread (it runs migrations and fills the pool),
/// as both servers do at start.
pub async fn open_state(
    settings: &Settings,
    extra_api: utoipa::openapi::OpenApi,
) -> std::io::Result<AppState> {
    let s = settings.clone();
    let state = tokio::task::spawn_blocking(move || AppState::new(&s, extra_api))
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    spawn_housekeeping(state.core.clone());
    Ok(state)
}

/// Every ten minutes (and once at start), drops expired cookie sessions and token rows, so
/// those tables stay the size of the live logins.
fn spawn_housekeeping(core: inventory_core::Core) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            let c = core.clone();
            let done = tokio::task::spawn_blocking(move || {
                let sessions = inventory_core::services::sessions::purge_expired(&c.db)?;
                let tokens = inventory_core::services::tokens::purge_expired(&c.db)?;
                Ok::<_, inventory_core::CoreError>((sessions, tokens))
            })
            .await;
            match done {
                Ok(Ok((s, t))) if s + t > 0 => {
                    tracing::info!(sessions = s, tokens = t, "purged expired logins")
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
        match server.bind(&settings.bind) {
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
