//! Bearer tokens (API.md §2.2), in the manner of djangorestframework-simplejwt: short-lived
//! access tokens, rotating refresh tokens with a blacklist, and reuse detection.

mod auth;
mod tokens;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use inventory_web::{finish_app, AppState, Running, Settings};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(paths(
    auth::obtain,
    auth::refresh,
    auth::verify,
    auth::blacklist,
    auth::logout
))]
struct JwtApi;

/// Builds the app, binds `settings.bind` and runs the server on the current tokio runtime.
pub async fn spawn(settings: Settings) -> std::io::Result<Running> {
    let state = tokio::task::spawn_blocking({
        let s = settings.clone();
        move || AppState::new(&s, JwtApi::openapi())
    })
    .await
    .map_err(std::io::Error::other)?
    .map_err(std::io::Error::other)?;
    let keys = web_keys(&state, &settings);
    let app_state = state.clone();
    let mut server = HttpServer::new(move || {
        let app = App::new()
            .app_data(actix_web::web::Data::new(keys.clone()))
            .configure(auth::configure)
            .wrap(from_fn(auth::authenticate))
            .wrap(from_fn(auth::www_authenticate));
        finish_app(app, &app_state)
    });
    server = server.worker_max_blocking_threads(settings.blocking_threads.max(1));
    if let Some(w) = settings.workers {
        server = server.workers(w.max(1));
    }
    let server = server.bind(&settings.bind)?;
    let port = server.addrs().first().map(|a| a.port()).unwrap_or(0);
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(Running { port, handle, task })
}

fn web_keys(state: &AppState, s: &Settings) -> tokens::Keys {
    tokens::Keys::new(
        state.secret.expose().as_bytes(),
        s.jwt_access_ttl_seconds,
        s.jwt_refresh_ttl_seconds,
        s.jwt_leeway_seconds,
    )
}
