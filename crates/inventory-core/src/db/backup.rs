//! Online backup and checked restore of a SQLite database (PostgreSQL has `pg_dump` and
//! `pg_restore`, which the errors point to).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;

use super::{sqlite_path, Backend, Db, DbConn, SQLITE_MIGRATIONS};
use crate::error::{CoreError, CoreResult};

impl Db {
    /// Writes a consistent copy of the whole database to `path` while the service runs
    /// (SQLite's `VACUUM INTO`: one read transaction, so writers go on beside it and the copy
    /// is the database as of one instant, compacted). PostgreSQL has its own tool for this:
    /// the error says how to use `pg_dump`.
    pub fn backup(&self, path: &std::path::Path) -> CoreResult<()> {
        if self.backend == Backend::Postgres {
            return Err(CoreError::Internal(
                "for PostgreSQL use its own tools, which copy a running database consistently: \
                 pg_dump --format=custom --file=BACKUP \"$DATABASE_URL\" to back up, and \
                 pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" BACKUP to restore"
                    .into(),
            ));
        }
        if path.exists() {
            return Err(CoreError::Internal(format!(
                "{} exists already; choose a new file",
                path.display()
            )));
        }
        let target = path
            .to_str()
            .ok_or_else(|| CoreError::Internal("the backup path is not UTF-8".into()))?
            .replace('\'', "''");
        let mut conn = self.conn()?;
        conn.batch_execute(&format!("VACUUM INTO '{target}'"))?;
        Ok(())
    }
}

/// Puts a backup made by [`Db::backup`] in place of the SQLite database at `target_url`,
/// after checking it: SQLite's integrity check, then the schema brought up to date on the
/// copy, then the ledger, the stock levels and the kept aggregates verified. The database
/// must not be in use (a `-wal` file beside it says it may be) unless `force`.
pub fn restore(backup: &std::path::Path, target_url: &str, force: bool) -> CoreResult<()> {
    if Backend::of_url(target_url)? == Backend::Postgres {
        return Err(CoreError::Internal(
            "for PostgreSQL restore with its own tool: \
             pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" BACKUP"
                .into(),
        ));
    }
    let internal = |e: std::io::Error| CoreError::Internal(e.to_string());
    let target = std::path::PathBuf::from(sqlite_path(target_url));
    let wal = std::path::PathBuf::from(format!("{}-wal", target.display()));
    if wal.exists() && !force {
        return Err(CoreError::Internal(format!(
            "{} exists: the database may be in use; stop the server first (or pass --force)",
            wal.display()
        )));
    }
    let backup_str = backup
        .to_str()
        .ok_or_else(|| CoreError::Internal("the backup path is not UTF-8".into()))?;
    if !backup.is_file() {
        return Err(CoreError::Internal(format!("{backup_str} is not a file")));
    }
    let mut source = SqliteConnection::establish(backup_str)
        .map_err(|e| CoreError::Internal(format!("cannot open the backup: {e}")))?;
    #[derive(diesel::QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut source)?;
    if checks.first().map(|c| c.integrity_check.as_str()) != Some("ok") {
        return Err(CoreError::Internal(
            "the backup fails SQLite's integrity check; it was not restored".into(),
        ));
    }
    let staging = std::path::PathBuf::from(format!("{}.restoring", target.display()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
    }
    let staging_str = staging
        .to_str()
        .ok_or_else(|| CoreError::Internal("the database path is not UTF-8".into()))?
        .replace('\'', "''");
    source.batch_execute(&format!("VACUUM INTO '{staging_str}'"))?;
    drop(source);
    {
        // A rollback journal, not WAL, on the copy: when it closes, everything is in the one
        // file that is renamed into place.
        let mut copy = SqliteConnection::establish(&staging.display().to_string())
            .map_err(|e| CoreError::Internal(format!("cannot open the copy: {e}")))?;
        copy.batch_execute("PRAGMA journal_mode = DELETE; PRAGMA foreign_keys = ON;")?;
        copy.run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(|e| CoreError::Internal(format!("migration of the backup failed: {e}")))?;
        let mut copy = DbConn::Sqlite(copy);
        crate::services::stats::verify(&mut copy)?;
        crate::services::stats::verify_ledger(&mut copy)?;
    }
    std::fs::rename(&staging, &target).map_err(internal)?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    Ok(())
}
