//! One server under test: a fresh database, a superuser, and the server spawned on a random port.

use crate::client::Client;
use crate::db::{Backend, TestDb};
use inventory_web::Settings;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which server, that is which way of proving who the caller is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// `server-cookie`: Django-style session cookie plus CSRF token.
    Cookie,
    /// `server-jwt`: simplejwt-style bearer tokens.
    Jwt,
}

pub const ROOT_USERNAME: &str = "root";
pub const ROOT_PASSWORD: &str = "Sup3r-Secret-Pass!";
/// The password of every user the scenarios create through the API.
pub const USER_PASSWORD: &str = "Quiet-Harbor-Lantern-42";

/// A running server with its own database. Dropping it stops the server and removes the database.
pub struct TestApp {
    pub auth: Auth,
    pub backend: Backend,
    pub port: u16,
    pub base_url: String,
    /// Settings the server was started with (as far as a test needs them).
    pub public_read: bool,
    pub jwt_access_ttl_seconds: i64,
    pub jwt_refresh_ttl_seconds: i64,
    pub session_idle_seconds: i64,
    handle: actix_web::dev::ServerHandle,
    users: AtomicU64,
    // Dropped after the server is told to stop (field order).
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

/// Runs one scenario against one server and backend. A PostgreSQL variant with no PostgreSQL
/// available is skipped with a note, except in CI (`CI=true`), where it fails.
pub async fn run<F, Fut>(auth: Auth, backend: Backend, tweak: fn(&mut Settings), scenario: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()>,
{
    let db = match TestDb::create(backend) {
        Ok(db) => db,
        Err(reason) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("PostgreSQL is required in CI but unavailable: {reason}");
            }
            eprintln!("note: skipping {backend:?} variant, PostgreSQL unavailable: {reason}");
            return;
        }
    };
    let app = TestApp::start(auth, db, tweak).await;
    scenario(app).await;
}

impl TestApp {
    /// Creates the superuser `root` in `db` and spawns the server on it.
    pub async fn start(auth: Auth, db: TestDb, tweak: fn(&mut Settings)) -> TestApp {
        let url = db.url.clone();
        tokio::task::spawn_blocking(move || {
            let core = inventory_core::db::Db::connect(&url, 1)
                .unwrap_or_else(|e| panic!("cannot open test database {url}: {e:?}"));
            inventory_core::services::users::create_superuser(
                &core,
                ROOT_USERNAME,
                "root@example.com",
                ROOT_PASSWORD,
                4,
            )
            .unwrap_or_else(|e| panic!("cannot create the superuser: {e:?}"));
        })
        .await
        .unwrap();

        let mut settings = Settings::for_tests(db.url.clone());
        tweak(&mut settings);
        let public_read = settings.public_read;
        let jwt_access_ttl_seconds = settings.jwt_access_ttl_seconds;
        let jwt_refresh_ttl_seconds = settings.jwt_refresh_ttl_seconds;
        let session_idle_seconds = settings.session_idle_seconds;
        let running = match auth {
            Auth::Cookie => server_cookie::spawn(settings).await,
            Auth::Jwt => server_jwt::spawn(settings).await,
        }
        .unwrap_or_else(|e| panic!("cannot spawn the {auth:?} server: {e}"));
        TestApp {
            auth,
            backend: db.backend,
            port: running.port,
            base_url: format!("http://127.0.0.1:{}", running.port),
            public_read,
            jwt_access_ttl_seconds,
            jwt_refresh_ttl_seconds,
            session_idle_seconds,
            handle: running.handle,
            users: AtomicU64::new(0),
            _db: db,
        }
    }

    /// A guest: no session, no token.
    pub fn client(&self) -> Client {
        Client::new(self.base_url.clone(), self.auth)
    }

    /// A client signed in as `username`; panics unless login succeeds.
    #[track_caller]
    pub fn login<'a>(&'a self, username: &'a str, password: &'a str) -> impl Future<Output = Client> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let c = self.client();
            let r = c.login(username, password).await;
            assert_eq!(r.status.as_u16(), 200, "login as {username} failed (called at {caller}): {r:?}");
            c
        }
    }

    /// The superuser created with the database.
    pub async fn root(&self) -> Client {
        self.login(ROOT_USERNAME, ROOT_PASSWORD).await
    }

    /// Creates a user through `POST /api/users` as the superuser and returns the created `User`.
    pub async fn create_user(&self, username: &str, role: &str) -> Value {
        let root = self.root().await;
        let r = root
            .post(
                "/api/users",
                json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": crate::USER_PASSWORD,
                    "role": role,
                    "first_name": "Test",
                    "last_name": role,
                }),
            )
            .await;
        r.expect(201).clone()
    }

    /// A fresh user with `role` (`admin`, `manager`, `employee`, `auditor`), signed in.
    /// `superuser` gives the superuser `root`.
    pub async fn user_with_role(&self, role: &str) -> Client {
        if role == "superuser" {
            return self.root().await;
        }
        let n = self.users.fetch_add(1, Ordering::Relaxed) + 1;
        let username = format!("{role}{n}");
        self.create_user(&username, role).await;
        self.login(&username, crate::USER_PASSWORD).await
    }
}
