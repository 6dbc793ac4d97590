//! Bearer tokens (API.md §2.2), in the manner of djangorestframework-simplejwt: short-lived
//! access tokens, rotating refresh tokens with a blacklist, and reuse detection.

mod auth;
mod tokens;

use actix_web::middleware::from_fn;
use actix_web::App;
use inventory_web::app::{open_state, AdminSessions};
use inventory_web::router::{Document, Server, Sink};
use inventory_web::{finish_app, AppState, Running, Settings};

/// How a caller signs in with tokens: the routes this server adds to the shared API.
fn table(s: &mut impl Sink) {
    inventory_web::routes!(s;
        auth::obtain,
        auth::refresh,
        auth::verify,
        auth::blacklist,
        auth::logout,
    );
}

/// The operations this server adds, signed with a bearer access token.
fn document() -> Document {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    Document::of(table)
        .secured_by(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /api/token, as `Authorization: Bearer <token>`.",
                    ))
                    .build(),
            ),
        )
        .secured_by("token", inventory_web::openapi::api_token_scheme())
}

/// Builds the app, binds `settings.bind` and runs the server on the current tokio runtime.
pub async fn spawn(settings: Settings) -> std::io::Result<Running> {
    let state = open_state(&settings, document()).await?;
    let keys = web_keys(&state, &settings);
    inventory_web::serve!(settings, move || {
        let app = App::new()
            .app_data(actix_web::web::Data::new(keys.clone()))
            .configure(|cfg| Server::of(table).configure(cfg))
            // Inside the auth layer: a key belongs to the caller it names.
            .wrap(from_fn(inventory_web::idempotency::guard))
            .wrap(from_fn(auth::authenticate))
            .wrap(from_fn(auth::www_authenticate));
        // The staff site keeps a session of its own, scoped to /admin/: it never
        // authenticates /api/ (API.md §2.2 stays token-only).
        finish_app(app, &state, AdminSessions::Own)
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
