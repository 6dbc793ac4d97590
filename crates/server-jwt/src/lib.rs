//! Bearer tokens (API.md §2.2), in the manner of djangorestframework-simplejwt: short-lived
//! access tokens, rotating refresh tokens with a blacklist, and reuse detection.

mod auth;
mod tokens;

use actix_web::middleware::from_fn;
use actix_web::App;
use inventory_web::app::open_state;
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
    let state = open_state(&settings, JwtApi::openapi()).await?;
    let keys = web_keys(&state, &settings);
    inventory_web::serve!(settings, move || {
        let app = App::new()
            .app_data(actix_web::web::Data::new(keys.clone()))
            .configure(auth::configure)
            .wrap(from_fn(auth::authenticate))
            .wrap(from_fn(auth::www_authenticate));
        finish_app(app, &state)
    })
}

fn web_keys(state: &AppState, s: &Settings) -> tokens::Keys {
    tokens::Keys::new(
        state.secret.expose().as_bytes(),
        s.jwt_access_ttl_seconds,
        s.jwt_refresh_ttl_seconds,
        s.jwt_leeway_seconds,
    )
}
