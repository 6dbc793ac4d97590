//! The command line both binaries share: `serve` (default), `migrate`, `createsuperuser`,
//! `changepassword`, `check --deploy`, `seed`, `import`, `backup`, `restore`. Every command
//! brings the schema up to date first.

use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use inventory_core::db::Db;
use inventory_core::services::users;

use crate::app::Running;
use crate::settings::Settings;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Inventory management service: products, stock in several locations, purchase \
             orders, reports and a staff site at /admin/.",
    long_about = None,
    after_help = "Every option can also be set by the environment variable named beside it \
                  (or in a .env file). Without a command the server runs."
)]
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
        /// The new user's name (asked for when not given).
        #[arg(long)]
        username: Option<String>,
        /// The new user's email address (asked for when not given).
        #[arg(long)]
        email: Option<String>,
        /// Take the password from INVENTORY_SUPERUSER_PASSWORD instead of a prompt.
        #[arg(long)]
        no_input: bool,
    },
    /// Set a user's password (asked for twice); their sessions and tokens are revoked.
    Changepassword {
        /// Whose password to set.
        username: String,
    },
    /// Check the configuration and the data (stock levels against the ledger, kept totals
    /// against their tables); with --deploy, also refuse what is unsafe in production.
    Check {
        /// Also refuse what is fine on a developer's machine but unsafe in production.
        #[arg(long)]
        deploy: bool,
    },
    /// Fill the database with demo data (categories, suppliers, locations, products with
    /// stock history), showing progress.
    Seed {
        /// How many products to add.
        #[arg(long, default_value_t = 100)]
        products: u64,
    },
    /// Import products from a CSV file (the export's columns; upsert by SKU, all or nothing),
    /// as a user, with that user's permissions and in their name in the audit log.
    Import {
        /// The CSV file.
        path: std::path::PathBuf,
        /// The user the import runs as.
        #[arg(long = "as", value_name = "USERNAME")]
        user: String,
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
    Db::connect(&settings.database_url, 2).map_err(describe)
}

/// Parses the command line and runs it; `bin` is the binary's name and version as its own
/// crate knows them (help and `--version` name the program the user ran, not this library),
/// and `spawn` starts the server crate's HTTP server.
pub fn run<F, Fut>(bin: (&'static str, &'static str), spawn: F) -> ExitCode
where
    F: FnOnce(Settings) -> Fut,
    Fut: Future<Output = std::io::Result<Running>>,
{
    let _ = dotenvy::dotenv();
    let matches = Cli::command()
        .name(bin.0)
        .bin_name(bin.0)
        .version(bin.1)
        .get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
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
            let mut problems = crate::settings::check(&s, deploy);
            let db = open_db(&s)?;
            // The data as well as the configuration: every stock level equals its ledger,
            // every product its levels, and the kept aggregates their base tables.
            if let Err(e) = db.read(|c| {
                inventory_core::services::stats::verify_ledger(c)?;
                inventory_core::services::stats::verify(c)
            }) {
                problems.push(format!("the data does not verify: {}", describe(e)));
            }
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
            // A bar on a terminal; hidden (and free) when stderr is a file or a pipe.
            let bar = indicatif::ProgressBar::new(products);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} products, {per_sec}, about {eta} left",
            ) {
                bar.set_style(style);
            }
            let started = std::time::Instant::now();
            let n = inventory_core::services::seed::seed(&db, products, &mut |done| {
                bar.set_position(done)
            })
            .map_err(describe)?;
            bar.finish_and_clear();
            println!(
                "Seeded {n} products in {:.1} s.",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Import { path, user } => {
            let body = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let core = crate::app::open_core(&s, 2)?;
            let principal = core
                .db
                .read(|c| match users::find_by_username(c, &user)? {
                    Some(u) if u.is_active => Ok(users::load_principal(c, u.id)?.map(|(p, _)| p)),
                    _ => Ok(None),
                })
                .map_err(describe)?
                .ok_or_else(|| format!("no active user named \"{user}\""))?;
            let ctx = inventory_core::auth::Ctx {
                principal: Some(principal),
                user_agent: "command line".into(),
                ..inventory_core::auth::Ctx::system()
            };
            let r =
                inventory_core::services::csvio::import(&core, &ctx, &body).map_err(describe)?;
            println!(
                "Imported {}: {} created, {} updated, {} unchanged, {} new categories.",
                path.display(),
                r.created,
                r.updated,
                r.unchanged,
                r.categories_created
            );
            Ok(())
        }
    }
}

fn describe(e: inventory_core::CoreError) -> String {
    match e {
        inventory_core::CoreError::Validation { detail, errors } => {
            let mut fields = errors
                .iter()
                .map(|(f, m)| format!("{f}: {}", m.join(" ")))
                .collect::<Vec<_>>();
            if fields.len() > 20 {
                let more = fields.len() - 20;
                fields.truncate(20);
                fields.push(format!("… and {more} more"));
            }
            if fields.is_empty() {
                detail
            } else {
                format!("{detail}\n  {}", fields.join("\n  "))
            }
        }
        // On the command line the operator is the one who can act on the details.
        inventory_core::CoreError::Internal(detail) => detail,
        other => other.to_string(),
    }
}
