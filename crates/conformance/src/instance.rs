//! A second server instance on a test's database, for the guarantees that must hold across
//! instances (API.md §4, §9): two processes' worth of connection pools racing on one database.

use crate::{json, Auth, Method, Raw, TestApp};

/// A second server of the same kind on the same database; stopped when dropped.
pub struct SecondInstance {
    pub base_url: String,
    auth: Auth,
    handle: actix_web::dev::ServerHandle,
}

impl SecondInstance {
    /// A guest of this instance (sign in with its `login`).
    pub fn client(&self) -> crate::Client {
        crate::Client::new(self.base_url.clone(), self.auth)
    }
}

impl Drop for SecondInstance {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Starts the second instance and checks that a sign-in made on the first works there.
pub async fn second_instance(app: &TestApp) -> SecondInstance {
    let mut settings = inventory_web::Settings::for_tests(app.settings.database_url.clone());
    settings.email_outbox_dir = app.settings.email_outbox_dir.clone();
    settings.webhook_allow_private = app.settings.webhook_allow_private;
    settings.webhook_retry_delays = app.settings.webhook_retry_delays.clone();
    settings.auth_rate_limit_per_minute = app.settings.auth_rate_limit_per_minute;
    let running = match app.auth {
        Auth::Cookie => server_cookie::spawn(settings).await,
        Auth::Jwt => server_jwt::spawn(settings).await,
    }
    .unwrap_or_else(|e| panic!("cannot spawn a second {:?} server: {e}", app.auth));
    let second = SecondInstance {
        base_url: format!("http://127.0.0.1:{}", running.port),
        auth: app.auth,
        handle: running.handle,
    };
    let root = app.root().await;
    let r = root
        .raw(Raw::new(
            Method::GET,
            format!("{}/api/auth/me", second.base_url),
        ))
        .await;
    assert_eq!(
        r.expect(200)["id"],
        json!(root.user_id()),
        "a sign-in works on both instances: {r:?}"
    );
    second
}
