//! One server under test: a fresh database, a superuser, and the server spawned on a random port.

use crate::client::Client;
use crate::db::{Backend, DbError, TestDb};
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
    /// The settings the server was started with.
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    users: AtomicU64,
    // Dropped after the server is told to stop (field order).
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends the command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
        // Whatever the scenario did, the kept aggregates (dashboard, list counts) must still
        // equal a recomputation from the base tables.
        if !std::thread::panicking() {
            let url = self.settings.database_url.clone();
            let checked = std::thread::spawn(move || {
                let db = inventory_core::db::Db::connect(&url, 1)?;
                db.read(inventory_core::services::stats::verify)
            })
            .join();
            match checked {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("aggregates drifted from the data: {e}"),
                Err(_) => panic!("the aggregate check panicked"),
            }
        }
        let _ = std::fs::remove_dir_all(&self.settings.email_outbox_dir);
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
        Err(DbError::Failed(reason)) => panic!("cannot create the test database: {reason}"),
        Err(DbError::Unavailable(reason))
            if std::env::var("TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) =>
        {
            panic!("{reason}")
        }
        Err(DbError::Unavailable(reason)) => {
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
        settings.email_outbox_dir =
            std::env::temp_dir().join(format!("conformance_outbox_{}", crate::db::unique_suffix()));
        tweak(&mut settings);
        let running = match auth {
            Auth::Cookie => server_cookie::spawn(settings.clone()).await,
            Auth::Jwt => server_jwt::spawn(settings.clone()).await,
        }
        .unwrap_or_else(|e| panic!("cannot spawn the {auth:?} server: {e}"));
        TestApp {
            auth,
            backend: db.backend,
            port: running.port,
            base_url: format!("http://127.0.0.1:{}", running.port),
            settings,
            handle: running.handle,
            users: AtomicU64::new(0),
            _db: db,
        }
    }

    /// Every email the server has sent so far (written to its outbox), oldest first, decoded.
    pub fn outbox(&self) -> Vec<String> {
        crate::mail::read_outbox(&self.settings.email_outbox_dir)
    }

    /// The newest email to `address` whose text contains `needle`, waiting up to three
    /// seconds for it (mail goes out after the commit, maybe in the background).
    pub async fn wait_for_email(&self, address: &str, needle: &str) -> String {
        for _ in 0..60 {
            if let Some(m) = self
                .outbox()
                .into_iter()
                .rev()
                .find(|m| m.contains(address) && m.contains(needle))
            {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no email to {address} containing {needle:?}; outbox: {:?}",
            self.outbox()
        );
    }

    /// A guest: no session, no token.
    pub fn client(&self) -> Client {
        Client::new(self.base_url.clone(), self.auth)
    }

    /// A client signed in as `username`; panics unless login succeeds.
    #[track_caller]
    pub fn login<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> impl Future<Output = Client> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let c = self.client();
            let r = c.login(username, password).await;
            assert_eq!(
                r.status.as_u16(),
                200,
                "login as {username} failed (called at {caller}): {r:?}"
            );
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
