//! The session store behind `actix-session`: rows in the database, so sessions survive
//! restarts, are shared by every instance, and can be revoked (password change, deactivation).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use actix_web::web;
use inventory_core::services::sessions;
use inventory_core::Db;

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
        user_id: state
            .get(crate::auth::UID)
            .and_then(|v| serde_json::from_str(v).ok()),
        login_id: state
            .get(crate::auth::LOGIN_ID)
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
        let data = run(move || sessions::load(&db, &k))
            .await
            .map_err(LoadError::Other)?;
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
            state.remove(crate::auth::UID);
            state.remove(crate::auth::CSRF);
            state.remove(crate::auth::LOGIN_ID);
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
