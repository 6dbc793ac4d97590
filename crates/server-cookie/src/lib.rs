//! Cookie sessions (API.md §2.1): a database-backed `actix-session` store, login and logout,
//! CSRF (`csrftoken` cookie + `X-CSRFToken` header) and the Origin check.

mod auth;
mod store;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{Key, SameSite};
use actix_web::middleware::from_fn;
use actix_web::App;
use inventory_web::app::open_state;
use inventory_web::{finish_app, Running, Settings};
use sha2::{Digest, Sha512};
use utoipa::OpenApi;

pub use store::DbSessionStore;

#[derive(OpenApi)]
#[openapi(paths(auth::login, auth::logout))]
struct CookieApi;

/// Builds the app, binds `settings.bind` and runs the server on the current tokio runtime.
pub async fn spawn(settings: Settings) -> std::io::Result<Running> {
    let state = open_state(&settings, CookieApi::openapi()).await?;
    // actix's cookie key wants 64 bytes; derive them from SECRET_KEY of any length.
    let key = Key::from(&Sha512::digest(state.secret.expose().as_bytes())[..]);
    let secure = settings.cookie_secure();
    let idle = settings.session_idle_seconds;
    let store = DbSessionStore::new(state.core.db.clone());
    inventory_web::serve!(settings, move || {
        let sessions = SessionMiddleware::builder(store.clone(), key.clone())
            .cookie_name("sessionid".into())
            .cookie_secure(secure)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_content_security(CookieContentSecurity::Signed)
            .session_lifecycle(
                BrowserSession::default()
                    .state_ttl(actix_web::cookie::time::Duration::seconds(idle))
                    .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
            )
            .build();
        let app = App::new()
            .configure(auth::configure)
            .wrap(from_fn(auth::authenticate))
            .wrap(sessions);
        finish_app(app, &state)
    })
}
