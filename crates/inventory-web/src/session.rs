//! Server-side sessions: the `actix-session` store (rows in the database, so sessions survive
//! restarts, are shared by every instance, and can be revoked on a password change or a
//! deactivation), the keys a signed-in session holds, and the CSRF and Origin checks both the
//! cookie server's API and the staff site use. The cookie server's sessions and the staff
//! site's (on both servers) are the same machinery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::SessionMiddleware;
use actix_web::cookie::time::Duration;
use actix_web::cookie::{Key, SameSite};
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use inventory_core::services::sessions;
use inventory_core::Db;
use sha2::{Digest, Sha512};

use crate::app::AppState;

/// Session keys: the user's id and the session's CSRF secret.
pub const UID: &str = "uid";
pub const CSRF: &str = "csrf";
/// Identifies this login across session-key renewals, so a password change can spare it.
pub const LOGIN_ID: &str = "lid";
/// The cookie scripts read the CSRF token from (and the staff site's anonymous forms compare).
pub const CSRF_COOKIE: &str = "csrftoken";

/// A fresh CSRF secret.
pub fn new_csrf_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Compares secrets in time that does not depend on where they differ.
pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// True when `Origin` is absent, the server's own (scheme and host), or a configured trusted
/// origin.
pub fn origin_allowed(req: &HttpRequest, st: &AppState) -> bool {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    // Scheme and host both count: `https://` behind a TLS proxy is ours only when PUBLIC_URL
    // or a trusted proxy says so.
    let own = crate::extract::external_base(req);
    if origin.eq_ignore_ascii_case(&own) {
        return true;
    }
    st.settings
        .trusted_origins
        .split(',')
        .map(|o| o.trim().trim_end_matches('/'))
        .any(|o| !o.is_empty() && o.eq_ignore_ascii_case(origin))
}

/// The session middleware over the database store: cookie `sessionid` on `path` (`/` for the
/// cookie server, `/admin/` for the JWT server's staff site), signed with a key derived from
/// `SECRET_KEY`, expiring after the configured idle time.
pub fn middleware(st: &AppState, path: &str) -> SessionMiddleware<DbSessionStore> {
    // actix's cookie key wants 64 bytes; derive them from SECRET_KEY of any length.
    let key = Key::from(&Sha512::digest(st.secret.expose().as_bytes())[..]);
    let idle = st.settings.session_idle_seconds;
    SessionMiddleware::builder(st.sessions.clone(), key)
        .cookie_name("sessionid".into())
        .cookie_path(path.into())
        .cookie_secure(st.settings.cookie_secure())
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(
            BrowserSession::default()
                .state_ttl(Duration::seconds(idle))
                .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
        )
        .build()
}

#[derive(Clone)]
pub struct DbSessionStore {
    db: Db,
    /// When this instance last extended each session: a busy session costs one write a minute,
    /// not one per request.
    touched: Arc<Mutex<HashMap<String, Instant>>>,
}

const TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        DbSessionStore {
            db,
            touched: Arc::default(),
        }
    }

    /// True when the key was extended recently enough to skip the database.
    fn recently_touched(&self, key: &str) -> bool {
        let Ok(mut map) = self.touched.lock() else {
            return false;
        };
        let now = Instant::now();
        if map
            .get(key)
            .is_some_and(|t| now.duration_since(*t) < TOUCH_EVERY)
        {
            return true;
        }
        if map.len() > 50_000 {
            map.retain(|_, t| now.duration_since(*t) < TOUCH_EVERY);
        }
        map.insert(key.to_owned(), now);
        false
    }
}

fn new_key() -> Result<SessionKey, anyhow::Error> {
    use rand::distributions::{Alphanumeric, DistString};
    let s = Alphanumeric.sample_string(&mut rand::thread_rng(), 64);
    SessionKey::try_from(s).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The signed-in user and login, kept in their own columns so a user's sessions can be
/// revoked at once (sparing the current login when asked to).
fn owner_of(state: &HashMap<String, String>) -> sessions::Owner {
    sessions::Owner {
        user_id: state.get(UID).and_then(|v| serde_json::from_str(v).ok()),
        login_id: state
            .get(LOGIN_ID)
            .and_then(|v| serde_json::from_str(v).ok()),
    }
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, inventory_core::CoreError> + Send + 'static,
) -> Result<T, anyhow::Error> {
    web::block(f)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_err(|e| anyhow::anyhow!("{e}"))
}

impl SessionStore for DbSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let db = self.db.clone();
        let k = key.as_ref().to_owned();
        let data = match web::block(move || sessions::load(&db, &k)).await {
            Ok(Ok(d)) => d,
            // With the database down the request goes on as a guest's; its own database work
            // then answers 503, where a load error would have been a 500.
            Ok(Err(inventory_core::CoreError::Unavailable(cause))) => {
                tracing::warn!(%cause, "session not loaded: database unavailable");
                None
            }
            Ok(Err(e)) => return Err(LoadError::Other(anyhow::anyhow!("{e}"))),
            Err(e) => return Err(LoadError::Other(anyhow::anyhow!("{e}"))),
        };
        match data {
            None => Ok(None),
            Some(d) => serde_json::from_str(&d)
                .map(Some)
                .map_err(|e| LoadError::Deserialization(e.into())),
        }
    }

    async fn save(
        &self,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let key = new_key().map_err(SaveError::Other)?;
        let data = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let (db, k, owner, ttl) = (
            self.db.clone(),
            key.as_ref().to_owned(),
            owner_of(&state),
            ttl.whole_seconds(),
        );
        run(move || sessions::save(&db, &k, &data, &owner, ttl))
            .await
            .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let data =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let (db, k, owner, ttl_s) = (
            self.db.clone(),
            key.as_ref().to_owned(),
            owner_of(&state),
            ttl.whole_seconds(),
        );
        let d = data.clone();
        let updated = run(move || sessions::update(&db, &k, &d, &owner, ttl_s))
            .await
            .map_err(UpdateError::Other)?;
        if updated {
            Ok(key)
        } else {
            // The session was revoked meanwhile: start a fresh, anonymous one rather than
            // bringing the signed-in state back to life.
            let mut state = state;
            state.remove(UID);
            state.remove(CSRF);
            state.remove(LOGIN_ID);
            let data =
                serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
            let new = new_key().map_err(UpdateError::Other)?;
            let (db, k) = (self.db.clone(), new.as_ref().to_owned());
            run(move || sessions::save(&db, &k, &data, &sessions::Owner::default(), ttl_s))
                .await
                .map_err(UpdateError::Other)?;
            Ok(new)
        }
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        if self.recently_touched(key.as_ref()) {
            return Ok(());
        }
        let (db, k) = (self.db.clone(), key.as_ref().to_owned());
        let ttl = ttl.whole_seconds();
        run(move || sessions::touch(&db, &k, ttl)).await
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let (db, k) = (self.db.clone(), key.as_ref().to_owned());
        run(move || sessions::delete(&db, &k)).await
    }
}
