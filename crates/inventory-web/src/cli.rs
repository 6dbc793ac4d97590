//! The command line both binaries share: `serve` (default), `migrate`, `createsuperuser`,
//! `changepassword`, `check --deploy`, `seed`. Every command brings the schema up to date first.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use inventory_core::db::Db;
use inventory_core::services::users;

use crate::app::Running;
use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(version, about = "Inventory management service")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations.
    Migrate,
    /// Create a superuser (staff, every permission).
    Createsuperuser {
        #[arg(long)]
        username: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Take the password from INVENTORY_SUPERUSER_PASSWORD instead of a prompt.
        #[arg(long)]
        no_input: bool,
    },
    /// Set a user's password.
    Changepassword { username: String },
    /// Check the configuration; with --deploy, refuse what is unsafe in production.
    Check {
        #[arg(long)]
        deploy: bool,
    },
    /// Fill the database with demo data.
    Seed {
        #[arg(long, default_value_t = 100)]
        products: u64,
    },
    /// Copy the whole SQLite database, consistently, to PATH while the service runs
    /// (for PostgreSQL it explains pg_dump).
    Backup {
        /// A new file to write the copy to.
        path: std::path::PathBuf,
    },
    /// Replace the SQLite database with a backup from PATH, after checking it (integrity,
    /// schema, ledger and aggregates). Stop the server first.
    Restore {
        /// The backup file.
        path: std::path::PathBuf,
        /// Restore even though the database looks in use (a -wal file beside it).
        #[arg(long)]
        force: bool,
    },
}

/// Initialises logging as `LOG_FORMAT` says; request bodies (and so passwords) are never logged.
pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

fn prompt(label: &str) -> std::io::Result<String> {
    print!("{label}: ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

fn read_password(label: &str) -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{label}: "))
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    }
}

fn open_db(settings: &Settings) -> Result<Db, String> {
    Db::connect(&settings.database_url, 2).map_err(|e| e.to_string())
}

/// Parses the command line and runs it; `spawn` starts the server crate's HTTP server.
pub fn run<F, Fut>(spawn: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = std::io::Result<Running>>,
{
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    init_logging(&cli.settings.log_format);
    match execute(cli, spawn) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute<F, Fut>(cli: Cli, spawn: F) -> Result<(), String>
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = std::io::Result<Running>>,
{
    let s = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let running = spawn(s).await.map_err(|e| e.to_string())?;
                tracing::info!(port = running.port, "listening");
                match running.task.await {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            })
        }
        Command::Migrate => {
            open_db(&s)?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Createsuperuser {
            username,
            email,
            no_input,
        } => {
            let db = open_db(&s)?;
            let username = match username {
                Some(u) => u,
                None if no_input => return Err("--username is required with --no-input".into()),
                None => prompt("Username").map_err(|e| e.to_string())?,
            };
            let email = match email {
                Some(e) => e,
                None if no_input => return Err("--email is required with --no-input".into()),
                None => prompt("Email").map_err(|e| e.to_string())?,
            };
            let password = if no_input {
                std::env::var("INVENTORY_SUPERUSER_PASSWORD")
                    .map_err(|_| "INVENTORY_SUPERUSER_PASSWORD is not set".to_string())?
            } else {
                let p1 = read_password("Password").map_err(|e| e.to_string())?;
                let p2 = read_password("Password (again)").map_err(|e| e.to_string())?;
                if p1 != p2 {
                    return Err("the passwords do not match".into());
                }
                p1
            };
            let u = users::create_superuser(&db, &username, &email, &password, s.bcrypt_cost)
                .map_err(describe)?;
            println!("Superuser \"{}\" created (id {}).", u.username, u.id);
            Ok(())
        }
        Command::Changepassword { username } => {
            let db = open_db(&s)?;
            let p1 = read_password("New password").map_err(|e| e.to_string())?;
            let p2 = read_password("New password (again)").map_err(|e| e.to_string())?;
            if p1 != p2 {
                return Err("the passwords do not match".into());
            }
            users::set_password(&db, &username, &p1, s.bcrypt_cost).map_err(describe)?;
            println!("Password changed for \"{username}\"; their sessions and tokens are revoked.");
            Ok(())
        }
        Command::Check { deploy } => {
            let problems = crate::settings::check(&s, deploy);
            open_db(&s)?;
            if problems.is_empty() {
                println!("System check identified no issues.");
                Ok(())
            } else {
                for p in &problems {
                    eprintln!("- {p}");
                }
                Err(format!(
                    "System check identified {} issue(s).",
                    problems.len()
                ))
            }
        }
        Command::Backup { path } => {
            let db = open_db(&s)?;
            let started = std::time::Instant::now();
            db.backup(&path).map_err(describe)?;
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            println!(
                "Backed up to {} ({:.1} MiB in {:.1} s).",
                path.display(),
                size as f64 / 1_048_576.0,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { path, force } => {
            inventory_core::db::restore(&path, &s.database_url, force).map_err(describe)?;
            println!(
                "Restored {} over {}; the ledger and aggregates verify.",
                path.display(),
                s.database_url
            );
            Ok(())
        }
        Command::Seed { products } => {
            let db = open_db(&s)?;
            let n = inventory_core::services::seed::seed(&db, products).map_err(describe)?;
            println!("Seeded {n} products.");
            Ok(())
        }
    }
}

fn describe(e: inventory_core::CoreError) -> String {
    match e {
        inventory_core::CoreError::Validation { errors, .. } => errors
            .iter()
            .map(|(f, m)| format!("{f}: {}", m.join(" ")))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
