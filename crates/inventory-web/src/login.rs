//! Password logins that never tie up the threads serving database work: the bcrypt check
//! (about a quarter of a second at cost 12) runs on its own small thread pool while the
//! request waits asynchronously, so a stream of logins does not stall other requests.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use inventory_core::auth::{self, Ctx};
use inventory_core::models::UserRow;
use inventory_core::services::users;

use crate::app::AppState;
use crate::error::ApiError;
use inventory_core::CoreError;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of password-hashing threads fed by a bounded queue.
#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
}

/// Lowers the calling hashing thread to a batch thread of low priority. A bcrypt check is a
/// quarter of a second of CPU: at equal priority it took one of two cores from the requests
/// around it, which doubled their latency while it ran (read p99 25 ms beside one login a
/// second). A login waiting a little longer on a busy machine is the better trade; on an idle
/// one the thread still gets a whole core.
fn yield_to_requests() {
    use thread_priority::{
        set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
        ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
    };
    let policy = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
    // 22 of 0–99 maps to nice 10: a tenth of a request thread's share when the cores are
    // saturated (nice 19 left a login waiting five seconds there), all of a core when idle.
    let priority = match ThreadPriorityValue::try_from(22u8) {
        Ok(v) => ThreadPriority::Crossplatform(v),
        Err(_) => ThreadPriority::Min,
    };
    if let Err(e) = set_thread_priority_and_policy(thread_native_id(), priority, policy) {
        tracing::warn!(error = ?e, "cannot lower the priority of a password-hashing thread");
    }
}

impl Hasher {
    pub fn new(threads: usize, queue: usize) -> Result<Hasher, String> {
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || {
                    yield_to_requests();
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| format!("cannot start the password-hashing threads: {e}"))?;
        }
        Ok(Hasher { jobs: tx })
    }

    /// Runs `f` on a hashing thread; a full queue is a 429, never an unbounded wait.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError {
                    retry_after: Some(1),
                    ..ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "throttled",
                        "Too many logins at once; try again.",
                    )
                })
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal("password hashing threads stopped"))
            }
        }
        rx.await
            .map_err(|_| ApiError::internal("password hashing thread dropped a job"))
    }
}

/// Username and password → the signed-in user, with lockout, timing equalisation, the login
/// attempt and the audit entry (both servers log in through here).
pub async fn password_login(
    st: &AppState,
    ctx: Ctx,
    username: String,
    password: String,
) -> Result<UserRow, ApiError> {
    password_login_at(st, ctx, username, password, users::LoginSite::Api)
        .await
        .map_err(ApiError::from)
}

/// As [`password_login`] for a given site, with the core's error (the staff site shows it
/// on its login page rather than as JSON).
pub async fn password_login_at(
    st: &AppState,
    ctx: Ctx,
    username: String,
    password: String,
    site: users::LoginSite,
) -> Result<UserRow, LoginError> {
    let core = st.core.clone();
    let check_ctx = ctx.clone();
    let check = core_blocking(move || users::login_check(&core, &check_ctx, &username)).await?;
    let hash = check.hash();
    let cost = st.core.config.bcrypt_cost;
    let ok = st
        .hasher
        .run(move || auth::verify_or_dummy(&password, hash.as_deref(), cost))
        .await
        .map_err(LoginError::Api)?;
    let core = st.core.clone();
    core_blocking(move || users::login_finish_at(&core, &ctx, check, ok, site)).await
}

/// Why a login failed: the core's refusal, or the plumbing's (a full hashing queue).
#[derive(Debug)]
pub enum LoginError {
    Core(CoreError),
    Api(ApiError),
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Core(c) => c.into(),
            LoginError::Api(a) => a,
        }
    }
}

async fn core_blocking<T, F>(f: F) -> Result<T, LoginError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, CoreError> + Send + 'static,
{
    match actix_web::web::block(f).await {
        Ok(r) => r.map_err(LoginError::Core),
        Err(e) => Err(LoginError::Api(ApiError::internal(e))),
    }
}
