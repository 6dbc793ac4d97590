//! Cookie sessions (API.md §2.1): a database-backed `actix-session` store, login and logout,
//! CSRF (`csrftoken` cookie + `X-CSRFToken` header) and the Origin check.

mod auth;

use actix_web::middleware::from_fn;
use actix_web::App;
use inventory_web::app::{open_state, AdminSessions};
use inventory_web::router::{Document, Server, Sink};
use inventory_web::{finish_app, Running, Settings};

pub use inventory_web::session::DbSessionStore;

/// How a caller signs in with a cookie: the routes this server adds to the shared API.
fn table(s: &mut impl Sink) {
    inventory_web::routes!(s; auth::login, auth::logout);
}

/// The operations this server adds, signed with the session cookie (and, on unsafe methods,
/// the CSRF token in `X-CSRFToken`).
fn document() -> Document {
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
    Document::of(table)
        .secured_by(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "sessionid",
                "The session cookie POST /api/auth/login sets. POST, PUT, PATCH and DELETE also \
             send the csrftoken cookie's value as the X-CSRFToken header.",
            ))),
        )
        .secured_by("token", inventory_web::openapi::api_token_scheme())
}

/// Builds the app, binds `settings.bind` and runs the server on the current tokio runtime.
pub async fn spawn(settings: Settings) -> std::io::Result<Running> {
    let state = open_state(&settings, document()).await?;
    inventory_web::serve!(settings, move || {
        // One session for the API and the staff site, as in a Django project.
        let app = App::new()
            .configure(|cfg| Server::of(table).configure(cfg))
            // Inside the auth layer: a key belongs to the caller it names.
            .wrap(from_fn(inventory_web::idempotency::guard))
            .wrap(from_fn(auth::authenticate))
            .wrap(inventory_web::session::middleware(&state, "/"));
        finish_app(app, &state, AdminSessions::Shared)
    })
}
