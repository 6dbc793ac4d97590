//! Database access: one connection type over SQLite and PostgreSQL, the pool, migrations,
//! and the write-transaction helper every service uses.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::{CoreError, CoreResult};

mod averages;
mod backup;
pub use backup::restore;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a write waits for its turn before it is answered 503 (retry later). Long enough
/// that a big import ahead of it never makes it fail.
const WRITE_WAIT: Duration = Duration::from_secs(30);

/// How long a request waits for a database connection. PostgreSQL being down must answer 503
/// within two seconds, not hang for the outage.
const CONNECT_WAIT: Duration = Duration::from_millis(1500);

/// After a failed connection, how long requests fail at once instead of each waiting
/// [`CONNECT_WAIT`] again; the first request after it tries the database afresh.
const BREAKER_OPEN: Duration = Duration::from_secs(1);

/// One connection type for both backends, chosen at runtime by the URL.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> CoreResult<Backend> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else {
            Err(CoreError::Internal(format!(
                "unsupported DATABASE_URL scheme (expected sqlite:// or postgres://): {}",
                url.split(':').next().unwrap_or("")
            )))
        }
    }
}

/// The filesystem path of a `sqlite://` URL (`sqlite://inventory.db`, `sqlite:///abs/x.db`).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Picks the backend by scheme so a connection failure reports its real cause.
#[derive(Debug, Clone)]
pub struct ConnManager {
    url: String,
    backend: Backend,
}

impl ConnManager {
    /// A manager for `url`; a PostgreSQL URL without `connect_timeout` gets two seconds, so an
    /// unreachable host fails fast instead of waiting for the operating system's TCP timeout.
    pub fn new(url: &str) -> CoreResult<ConnManager> {
        let backend = Backend::of_url(url)?;
        let url = if backend == Backend::Postgres && !url.contains("connect_timeout=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}connect_timeout=2")
        } else {
            url.to_owned()
        };
        Ok(ConnManager { url, backend })
    }
}

impl ConnManager {
    fn open(&self) -> Result<DbConn, ConnectionError> {
        match self.backend {
            Backend::Postgres => {
                let mut c = PgConnection::establish(&self.url)?;
                // No JIT: every statement here is an index-driven lookup or a loop of them,
                // where compiling (0.1–0.3 s for a report over the catalogue) costs more than
                // the whole statement runs for without it.
                c.batch_execute("SET jit = off")
                    .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Pg(c))
            }
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(sqlite_path(&self.url))?;
                // busy_timeout first: WAL switching itself may meet a lock on a fresh file.
                c.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -1024;",
                )
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(c))
            }
        }
    }
}

/// A pooled connection with what the pool needs to know to trust it without asking the
/// server on every checkout: when it was last handed out, and whether a statement on it found
/// the server gone.
pub struct Kept {
    conn: DbConn,
    handed_out: std::time::Instant,
    broken: bool,
}

impl std::ops::Deref for Kept {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Kept {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl Kept {
    /// Runs `f` on the connection and remembers a lost server, so the pool drops the
    /// connection when it comes back instead of handing the dead session to the next request.
    fn run<T>(&mut self, f: impl FnOnce(&mut DbConn) -> CoreResult<T>) -> CoreResult<T> {
        let result = f(&mut self.conn);
        if matches!(result, Err(CoreError::Unavailable(_))) {
            self.broken = true;
        }
        result
    }
}

/// A PostgreSQL connection that waited in the pool longer than this is asked `SELECT 1`
/// before it is used (its session may have been cut while it waited). A connection in steady
/// use is not: that check was a round trip on every checkout, two of a request's six.
const IDLE_CHECK: Duration = Duration::from_secs(1);

impl r2d2::ManageConnection for ConnManager {
    type Connection = Kept;
    type Error = ConnectionError;

    fn connect(&self) -> Result<Kept, ConnectionError> {
        Ok(Kept {
            conn: self.open()?,
            handed_out: std::time::Instant::now(),
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut Kept) -> Result<(), ConnectionError> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, conn: &mut Kept) -> bool {
        conn.broken
    }
}

pub type Pool = r2d2::Pool<ConnManager>;
pub type PooledConn = r2d2::PooledConnection<ConnManager>;

/// How many pooled connections exist and how many wait idle (busy = the difference).
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub connections: u32,
    pub idle_connections: u32,
    pub max_size: u32,
}

/// The connection pool plus which backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    /// SQLite's one write connection (`None` for PostgreSQL). SQLite admits one writer at a
    /// time, so writes wait for this connection's mutex: the next writer wakes the moment the
    /// last one commits, where SQLite's busy handler would sleep and poll (1, 2, 5 … 100 ms;
    /// sales had a p99 of 350 ms). Its page cache also stays warm, because no other connection
    /// of this process writes; with writes spread over the pool, every write began by reading
    /// its pages again. Other processes sharing the file still meet the busy timeout.
    writer: Option<Arc<Mutex<DbConn>>>,
    /// Until when (ms since the Unix epoch) requests fail fast after a failed connection.
    breaker: Arc<std::sync::atomic::AtomicI64>,
    /// The readiness probe's own connection, outside the pool and its queue.
    probe: Arc<Mutex<Option<DbConn>>>,
    manager: ConnManager,
}

fn epoch_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Db {
    /// Opens the pool and brings the schema up to date, so every command starts on a current
    /// schema (API.md §8).
    pub fn connect(url: &str, pool_size: u32) -> CoreResult<Db> {
        let manager = ConnManager::new(url)?;
        let backend = manager.backend;
        // One connection first, so a wrong address, a refused login or an unreadable file is
        // reported at once in the driver's own words, not after the pool's connection timeout.
        manager.open().map_err(|e| {
            let hint = match backend {
                Backend::Sqlite if e.to_string().contains("locked") => {
                    " (another process holds the SQLite file; stop it, or wait for it to finish)"
                }
                _ => "",
            };
            CoreError::Internal(format!("cannot connect to the database: {e}{hint}"))
        })?;
        let manager_for_writes = manager.clone();
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            // Checked in `conn` instead, only after they waited (see `IDLE_CHECK`): a SQLite
            // connection is a file handle that cannot go stale, and a PostgreSQL one in steady
            // use has just answered.
            .test_on_check_out(false)
            .min_idle(Some(1))
            .connection_timeout(CONNECT_WAIT)
            .build(manager_for_writes.clone())
            .map_err(|e| CoreError::Internal(format!("cannot open database: {e}")))?;
        let writer = match backend {
            Backend::Sqlite => {
                let mut conn = manager_for_writes
                    .open()
                    .map_err(|e| CoreError::Internal(format!("cannot open database: {e}")))?;
                // Checkpoints run beside the writes (see `checkpoint_in_background`) instead
                // of inside the commit that crosses the threshold, where their fsync held up
                // every queued writer.
                conn.batch_execute("PRAGMA journal_size_limit = 67108864")?;
                // A statement that writes several rows under constraints (a shipment's
                // multi-row ledger INSERT under its foreign keys) journals the pages it
                // touches so it can be undone alone. With temporary storage on disk that
                // journal became a file past 64 KiB, created and unlinked on every 3-line
                // shipment (7–9% of the server's time in a profile). In memory it costs a few
                // pages of RAM while the statement runs. Only the writer writes, so only the
                // writer needs it; readers keep their sorts on disk.
                conn.batch_execute("PRAGMA temp_store = MEMORY")?;
                let writer = Arc::new(Mutex::new(conn));
                if checkpoint_in_background(Arc::downgrade(&writer), pool.clone()) {
                    writer
                        .lock()
                        .batch_execute("PRAGMA wal_autocheckpoint = 0")?;
                }
                Some(writer)
            }
            Backend::Postgres => None,
        };
        let db = Db {
            pool,
            backend,
            writer,
            breaker: Arc::default(),
            probe: Arc::default(),
            manager,
        };
        db.migrate()?;
        db.fill_username_keys()?;
        db.fill_average_costs()?;
        let missing = db.missing_sqlite_options()?;
        if !missing.is_empty() {
            tracing::warn!(
                missing = ?missing,
                "this SQLite was built without the options the workspace sets in \
                 .cargo/config.toml; expect requests at a third of their speed"
            );
        }
        Ok(db)
    }

    /// Gives users created before look-alike keys existed their key (the skeleton tables are
    /// not SQL, so the migration leaves it empty). Should two old names already look alike,
    /// the later keeps an empty key and a warning says so; new names are checked on creation.
    fn fill_username_keys(&self) -> CoreResult<()> {
        use crate::schema::users;
        let pending: Vec<(i64, String)> = self.read(|c| {
            Ok(users::table
                .filter(users::username_key.eq(""))
                .select((users::id, users::username))
                .order(users::id)
                .load(c)?)
        })?;
        for (id, name) in pending {
            let key = crate::types::username_key(&name);
            self.write(|c| {
                let taken: Option<i64> = users::table
                    .filter(users::username_key.eq(&key))
                    .select(users::id)
                    .first(c)
                    .optional()?;
                match taken {
                    Some(other) => tracing::warn!(
                        id,
                        other,
                        "username looks like another user's; left without a look-alike key"
                    ),
                    None => {
                        diesel::update(users::table.find(id))
                            .set(users::username_key.eq(&key))
                            .execute(c)?;
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The compile-time options our SQLite should have and lacks (none for PostgreSQL).
    ///
    /// - `ENABLE_QPSG`: without the query-planner stability guarantee a statement whose plan
    ///   looked at a bound value (every `LIMIT ?` diesel writes) expires at the next bind, so
    ///   the statement cache saved nothing: detail and list ran at a third of their speed.
    /// - `THREADSAFE=2`: a connection is used by one thread at a time, so the per-call
    ///   connection mutex of the default mode is pure cost (about a quarter of a list request).
    /// - `DEFAULT_MEMSTATUS=0`: no global allocation statistics, one mutex less per malloc.
    pub fn missing_sqlite_options(&self) -> CoreResult<Vec<&'static str>> {
        const WANTED: [&str; 3] = ["ENABLE_QPSG", "THREADSAFE=2", "DEFAULT_MEMSTATUS=0"];
        let mut conn = self.conn()?;
        let DbConn::Sqlite(c) = &mut **conn else {
            return Ok(vec![]);
        };
        let mut missing = vec![];
        for option in WANTED {
            let used: i32 = crate::sql::query("SELECT sqlite_compileoption_used($1) AS used")
                .bind::<diesel::sql_types::Text, _>(option)
                .get_result::<OptionUsed>(c)?
                .used;
            if used != 1 {
                missing.push(option);
            }
        }
        Ok(missing)
    }

    /// The pool's connections now, for the operator's metrics.
    pub fn pool_state(&self) -> PoolState {
        let st = self.pool.state();
        PoolState {
            connections: st.connections,
            idle_connections: st.idle_connections,
            max_size: self.pool.max_size(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema up to date. On PostgreSQL, instances starting together take turns
    /// under a session advisory lock: without it, two fresh instances both create the same
    /// tables and one fails on a duplicate type.
    pub fn migrate(&self) -> CoreResult<()> {
        let mut conn = self.conn()?;
        let result = match &mut **conn {
            DbConn::Pg(c) => {
                use diesel::connection::SimpleConnection;
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let ran = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ());
                let unlocked =
                    c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
                match (ran, unlocked) {
                    (Ok(()), Err(e)) => return Err(e.into()),
                    (ran, _) => ran,
                }
            }
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        };
        result.map_err(|e| CoreError::Internal(format!("migration failed: {e}")))
    }

    /// A pooled connection, or a quick 503 while the database is known to be down.
    pub fn conn(&self) -> CoreResult<PooledConn> {
        use std::sync::atomic::Ordering;
        if epoch_ms() < self.breaker.load(Ordering::Relaxed) {
            return Err(CoreError::Unavailable(
                "the database was unreachable a moment ago".into(),
            ));
        }
        // Every connection that waited may be a cut session (a restarted server cuts them
        // all), so the pool is asked again until one answers or the pool has none left.
        for _ in 0..=self.pool.max_size() {
            let mut conn = match self.pool.get() {
                Ok(c) => c,
                Err(e) => {
                    let until = epoch_ms() + BREAKER_OPEN.as_millis() as i64;
                    self.breaker.store(until, Ordering::Relaxed);
                    return Err(e.into());
                }
            };
            let waited = conn.handed_out.elapsed() > IDLE_CHECK;
            conn.handed_out = std::time::Instant::now();
            if waited && self.backend == Backend::Postgres {
                if let Err(e) = conn.conn.batch_execute("SELECT 1") {
                    tracing::debug!(error = %e, "a pooled connection had lost its session");
                    conn.broken = true;
                    continue;
                }
            }
            return Ok(conn);
        }
        Err(CoreError::Unavailable(
            "no pooled connection reached the database".into(),
        ))
    }

    /// Runs `f` in one write transaction.
    ///
    /// SQLite writes take turns on the one writer connection and open with `BEGIN IMMEDIATE`
    /// (another process on the same file may hold the lock; a deferred transaction that reads
    /// first and then writes would fail with SQLITE_BUSY instead of waiting its turn).
    pub fn write<T>(&self, f: impl FnOnce(&mut DbConn) -> CoreResult<T>) -> CoreResult<T> {
        match &self.writer {
            Some(writer) => {
                let mut conn = writer.try_lock_for(WRITE_WAIT).ok_or_else(|| {
                    CoreError::Unavailable("timed out waiting for the database writer".into())
                })?;
                write_tx(&mut conn, f)
            }
            None => self.conn()?.run(|c| write_tx(c, f)),
        }
    }

    /// Checks that the database answers, on a connection of its own: a readiness probe must
    /// not queue behind requests for a pooled connection. Callers bound its time (a dead
    /// network can hold a statement); a probe that finds the connection busy with an earlier,
    /// stuck probe fails at once.
    pub fn ping(&self) -> CoreResult<()> {
        let Some(mut slot) = self.probe.try_lock() else {
            return Err(CoreError::Unavailable(
                "an earlier probe is still waiting".into(),
            ));
        };
        if slot.is_none() {
            *slot = Some(
                self.manager
                    .open()
                    .map_err(|e| CoreError::Unavailable(e.to_string()))?,
            );
        }
        let ok = match slot.as_mut() {
            Some(conn) => conn.batch_execute("SELECT 1"),
            None => return Err(CoreError::Unavailable("no probe connection".into())),
        };
        if let Err(e) = ok {
            *slot = None;
            return Err(CoreError::Unavailable(e.to_string()));
        }
        Ok(())
    }

    /// Runs a read-only query function on a pooled connection.
    pub fn read<T>(&self, f: impl FnOnce(&mut DbConn) -> CoreResult<T>) -> CoreResult<T> {
        self.conn()?.run(f)
    }
}

/// The advisory-lock key migrations hold on PostgreSQL ("inventor" in ASCII).
const MIGRATION_LOCK: i64 = 0x696e_7665_6e74_6f72;

/// How often the checkpointer looks for committed writes to copy into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// Log frames (pages) after which the checkpointer also rewinds the log (≈ 16 MiB).
const RESTART_AFTER_FRAMES: i64 = 4096;

#[derive(diesel::QueryableByName)]
struct OptionUsed {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    used: i32,
}

#[derive(diesel::QueryableByName)]
struct CheckpointResult {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

/// Copies the write-ahead log into the database file from a thread of its own, so no commit
/// pays for a checkpoint's copying and fsync. A passive checkpoint never waits for or blocks
/// anyone; but under a steady stream of writes it never catches the log's end, and SQLite
/// only rewinds a log that was checkpointed to the end, so the log grew by every write (half a
/// gigabyte in five seconds of sales). Once the log is long, the checkpointer therefore takes
/// the writer's turn for a `RESTART` checkpoint: with the bulk already copied it is short,
/// and the next write starts the log from the beginning.
///
/// The thread ends once the last handle on the database is gone, after one final checkpoint.
/// Returns `false` if no thread could be started (the writer then checkpoints as it commits).
fn checkpoint_in_background(writer: std::sync::Weak<Mutex<DbConn>>, pool: Pool) -> bool {
    let spawned = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            let live = writer.upgrade();
            if let Err(e) = checkpoint(&pool, live.as_deref()) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
            if live.is_none() {
                break;
            }
        });
    match spawned {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "cannot start the WAL checkpointer");
            false
        }
    }
}

fn checkpoint(pool: &Pool, writer: Option<&Mutex<DbConn>>) -> CoreResult<()> {
    let passive: Vec<CheckpointResult> =
        crate::sql::query("PRAGMA wal_checkpoint(PASSIVE)").load(&mut **pool.get()?)?;
    let long = passive
        .first()
        .is_some_and(|r| i64::from(r.log) >= RESTART_AFTER_FRAMES);
    if let (true, Some(writer)) = (long, writer) {
        if let Some(mut conn) = writer.try_lock_for(WRITE_WAIT) {
            conn.batch_execute("PRAGMA wal_checkpoint(RESTART)")?;
        }
    }
    Ok(())
}

pub fn write_tx<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> CoreResult<T>,
) -> CoreResult<T> {
    crate::metrics::begin();
    let result = write_tx_inner(conn, f);
    crate::metrics::end(result.is_ok());
    result
}

fn write_tx_inner<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> CoreResult<T>,
) -> CoreResult<T> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(inner) => {
            // `BEGIN IMMEDIATE` through diesel's transaction manager, so it knows a
            // transaction is open: statements that want one of their own (a multi-row insert)
            // nest as savepoints inside it.
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            let result = f(conn);
            let DbConn::Sqlite(inner) = conn else {
                return Err(CoreError::Internal("the connection changed kind".into()));
            };
            match result {
                Ok(v) => match AnsiTransactionManager::commit_transaction(inner) {
                    Ok(()) => Ok(v),
                    Err(e) => {
                        let _ = AnsiTransactionManager::rollback_transaction(inner);
                        Err(e.into())
                    }
                },
                Err(e) => {
                    let _ = AnsiTransactionManager::rollback_transaction(inner);
                    Err(e)
                }
            }
        }
    }
}

/// Now, in UTC, at microsecond precision so both backends store the same value.
pub fn now() -> chrono::NaiveDateTime {
    let n = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(n.timestamp_micros())
        .unwrap_or(n)
        .naive_utc()
}
