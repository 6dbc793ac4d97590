//! A fresh database per test: a temporary SQLite file, or a new PostgreSQL database on a server
//! given by `TEST_POSTGRES_URL` or on a throwaway cluster the harness starts itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Which database engine a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a test database could not be made.
#[derive(Debug, Clone)]
pub enum DbError {
    /// No PostgreSQL to use here: the variant is skipped (a failure under `CI=true`).
    Unavailable(String),
    /// PostgreSQL is there but refused: always a failure.
    Failed(String),
}

/// A database that exists for one test and is removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Files(PathBuf),
    Database {
        maintenance_url: String,
        name: String,
    },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other test of any process is using: pid, a counter and the clock.
pub(crate) fn unique_suffix() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{}_{:08x}", std::process::id(), n, nanos)
}

impl TestDb {
    /// Creates an empty database. `Err(DbError::Unavailable)` when there is no PostgreSQL to
    /// use (not configured and no binaries, or the harness's own cluster will not start).
    pub fn create(backend: Backend) -> Result<TestDb, DbError> {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("conformance_{}.db", unique_suffix()));
                let url = format!("sqlite://{}", path.display());
                Ok(TestDb {
                    backend,
                    url,
                    cleanup: Cleanup::Files(path),
                })
            }
            Backend::Postgres => {
                let maintenance_url = postgres_server().map_err(DbError::Unavailable)?;
                let name = format!("t_{}", unique_suffix());
                psql(&maintenance_url, &format!("CREATE DATABASE {name}"))
                    .map_err(DbError::Failed)?;
                let url = replace_database(&maintenance_url, &name);
                Ok(TestDb {
                    backend,
                    url,
                    cleanup: Cleanup::Database {
                        maintenance_url,
                        name,
                    },
                })
            }
        }
    }
}

/// Runs `sql` as the PostgreSQL superuser on the server the tests use (fault tests: refuse or
/// cut the connections of one test's database).
pub fn postgres_admin(sql: &str) -> Result<(), String> {
    psql(&postgres_server()?, sql)
}

/// The database name of a PostgreSQL URL.
pub fn database_name(url: &str) -> String {
    let base = url.split('?').next().unwrap_or(url);
    base.rsplit('/').next().unwrap_or("").to_owned()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Files(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Database {
                maintenance_url,
                name,
            } => {
                let _ = psql(
                    maintenance_url,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
            }
        }
    }
}

/// `postgres://u@h:p/db?x` with its database replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..host_part_end], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn psql(url: &str, sql: &str) -> Result<(), String> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql `{sql}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The maintenance URL of the PostgreSQL server the tests use, set up once per process.
fn postgres_server() -> Result<String, String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("TEST_POSTGRES_URL") {
                if !url.is_empty() {
                    // Configured explicitly: a server that does not answer is a failure.
                    return psql(&url, "SELECT 1")
                        .map(|()| url.clone())
                        .map_err(|e| format!("TEST_POSTGRES_URL does not answer: {e}"));
                }
            }
            local_cluster()
        })
        .clone()
}

/// Port of the harness's own cluster; `TEST_POSTGRES_PORT` overrides it.
fn cluster_port() -> u16 {
    std::env::var("TEST_POSTGRES_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(54329)
}

fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = option_env!("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// The newest `/usr/lib/postgresql/*/bin` holding `initdb` and `pg_ctl`.
fn postgres_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.split('.').next()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL binary, as the `postgres` user when we are root (PostgreSQL refuses root).
fn pg_command(bin: &Path, args: &[&str]) -> Command {
    if running_as_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

fn run_checked(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A directory lock shared by every test process using the same target directory.
struct DirLock(PathBuf);

impl DirLock {
    fn acquire(path: PathBuf) -> Result<DirLock, String> {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    let _ = std::fs::write(path.join("pid"), std::process::id().to_string());
                    return Ok(DirLock(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // A lock left by a process that died is stale.
                    let holder = std::fs::read_to_string(path.join("pid")).unwrap_or_default();
                    let stale = match holder.trim().parse::<u32>() {
                        Ok(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
                        Err(_) => std::fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .map(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(30))
                            .unwrap_or(false),
                    };
                    if stale {
                        let _ = std::fs::remove_dir_all(&path);
                        continue;
                    }
                    if Instant::now() > deadline {
                        return Err(format!("timed out waiting for lock {}", path.display()));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(format!("cannot create lock {}: {e}", path.display())),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts (or finds already running) the harness's own cluster under `target/pg-cluster`.
fn local_cluster() -> Result<String, String> {
    let bin = postgres_bin_dir().ok_or("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")?;
    Command::new("psql")
        .arg("--version")
        .output()
        .map_err(|e| format!("no psql client: {e}"))?;
    let target = target_dir();
    std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    let target = target
        .canonicalize()
        .map_err(|e| format!("{}: {e}", target.display()))?;
    let root = target.join("pg-cluster");
    let data = root.join("data");
    let port = cluster_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");

    let _lock = DirLock::acquire(target.join("pg-cluster.lock"))?;
    std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    if running_as_root() {
        run_checked(
            {
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:postgres"]).arg(&root);
                c
            },
            "chown pg-cluster",
        )?;
    }
    let data_s = data.to_string_lossy().into_owned();
    let root_s = root.to_string_lossy().into_owned();
    if !data.join("PG_VERSION").exists() {
        let _ = std::fs::remove_dir_all(&data);
        run_checked(
            pg_command(
                &bin.join("initdb"),
                &[
                    "-D",
                    &data_s,
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            ),
            "initdb",
        )?;
    }
    let running = pg_command(&bin.join("pg_ctl"), &["-D", &data_s, "status"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    // Another cluster (say, of another checkout) already serving the port with trust auth will do.
    if !running && psql(&url, "SELECT 1").is_ok() {
        return Ok(url);
    }
    if !running {
        let log = root.join("postgres.log").to_string_lossy().into_owned();
        let opts = format!(
            "-p {port} -k {root_s} -c listen_addresses=127.0.0.1 -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        );
        run_checked(
            pg_command(
                &bin.join("pg_ctl"),
                &[
                    "-D", &data_s, "-l", &log, "-w", "-t", "60", "-o", &opts, "start",
                ],
            ),
            "pg_ctl start",
        )
        .map_err(|e| {
            let tail = std::fs::read_to_string(root.join("postgres.log")).unwrap_or_default();
            let tail: String = tail.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            format!("{e} (log: {tail})")
        })?;
        // Databases left behind by killed test runs.
        let _ = Command::new("psql")
            .args(["-X", "-q", "-At", "-d", &url, "-c"])
            .arg("SELECT 'DROP DATABASE \"' || datname || '\" WITH (FORCE)' FROM pg_database WHERE datname LIKE 't\\_%'")
            .output()
            .map(|o| {
                for stmt in String::from_utf8_lossy(&o.stdout).lines() {
                    let _ = psql(&url, stmt);
                }
            });
    }
    psql(&url, "SELECT 1")?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replacing_the_database_keeps_credentials_host_and_options() {
        assert_eq!(
            replace_database("postgres://u:p@h:5/postgres?sslmode=disable", "t_1"),
            "postgres://u:p@h:5/t_1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://u@h:5", "t_1"),
            "postgres://u@h:5/t_1"
        );
    }
}
