//! The command line, run as a user would: the real binary, a fresh SQLite file, real stdin.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cli-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn server(dir: &PathBuf) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_server-jwt"));
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "error");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn createsuperuser_without_input_takes_the_password_from_the_environment() {
    let dir = scratch();
    let out = server(&dir)
        .args([
            "createsuperuser",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
            "--no-input",
        ])
        .env("INVENTORY_SUPERUSER_PASSWORD", "Granite-Orchard-Falcon-21")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Superuser \"boss\" created"),
        "{}",
        text(&out)
    );
    // With no configuration at all the default SQLite database is created where it runs.
    assert!(dir.join("inventory.db").exists());
    // A second one with the same name is refused, and says why.
    let again = server(&dir)
        .args([
            "createsuperuser",
            "--username",
            "BOSS",
            "--email",
            "b2@example.com",
            "--no-input",
        ])
        .env("INVENTORY_SUPERUSER_PASSWORD", "Granite-Orchard-Falcon-21")
        .output()
        .unwrap();
    assert!(!again.status.success());
    // A weak password is refused with the policy's reasons.
    let weak = server(&dir)
        .args([
            "createsuperuser",
            "--username",
            "weak",
            "--email",
            "w@example.com",
            "--no-input",
        ])
        .env("INVENTORY_SUPERUSER_PASSWORD", "12345678901")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(text(&weak).contains("password"), "{}", text(&weak));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn createsuperuser_reads_the_password_twice_from_the_prompt() {
    let dir = scratch();
    let mut child = server(&dir)
        .args([
            "createsuperuser",
            "--username",
            "ops",
            "--email",
            "ops@example.com",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Velvet-Harbor-Compass-58\nVelvet-Harbor-Compass-58\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Superuser \"ops\" created"));
    // Mismatched entries create nothing.
    let mut child = server(&dir)
        .args([
            "createsuperuser",
            "--username",
            "ops2",
            "--email",
            "ops2@example.com",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Velvet-Harbor-Compass-58\nsomething-else-entirely\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("do not match"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_and_check_deploy_report_on_the_configuration() {
    let dir = scratch();
    let out = server(&dir).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // Development defaults are fine for `check` but not for `check --deploy`.
    let out = server(&dir).arg("check").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = server(&dir).args(["check", "--deploy"]).output().unwrap();
    assert!(!out.status.success());
    let said = text(&out);
    assert!(said.contains("SECRET_KEY"), "{said}");
    assert!(said.contains("COOKIE_SECURE"), "{said}");
    assert!(said.contains("PUBLIC_URL"), "{said}");
    // A production-like configuration passes.
    let out = server(&dir)
        .args(["check", "--deploy"])
        .env(
            "SECRET_KEY",
            "a-long-random-production-secret-0123456789abcdef",
        )
        .env("COOKIE_SECURE", "true")
        .env("BCRYPT_COST", "12")
        .env("PUBLIC_URL", "https://inv.example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_describes_every_option_and_version_names_the_binary() {
    let dir = scratch();
    let out = server(&dir).arg("--version").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        text(&out).trim(),
        format!("server-jwt {}", env!("CARGO_PKG_VERSION"))
    );
    let out = server(&dir).arg("--help").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let help = text(&out);
    assert!(help.contains("Usage: server-jwt"), "{help}");
    // Every option line says what it is for: text after the flag (and its value name).
    let lines: Vec<&str> = help.lines().collect();
    let mut options = 0;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if !t.starts_with("--") && !t.starts_with("-h") && !t.starts_with("-V") {
            continue;
        }
        options += 1;
        let described = t.split("  ").filter(|s| !s.trim().is_empty()).count() > 1
            || lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("          ") && !next.trim().is_empty());
        assert!(described, "no help for: {line}\n{help}");
    }
    assert!(options > 30, "{options} options in:\n{help}");
    for cmd in [
        "serve",
        "migrate",
        "createsuperuser",
        "seed",
        "import",
        "backup",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.trim_start().starts_with(cmd) && l.trim().len() > cmd.len() + 5),
            "command {cmd} is listed with a description:\n{help}"
        );
    }
    let out = server(&dir).args(["import", "--help"]).output().unwrap();
    assert!(text(&out).contains("--as <USERNAME>"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn seed_and_import_from_the_command_line() {
    let dir = scratch();
    let out = server(&dir)
        .args(["seed", "--products", "30"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Seeded 30 products"), "{}", text(&out));
    let out = server(&dir)
        .args([
            "createsuperuser",
            "--username",
            "boss",
            "--email",
            "boss@example.com",
            "--no-input",
        ])
        .env("INVENTORY_SUPERUSER_PASSWORD", "Granite-Orchard-Falcon-21")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let csv = dir.join("products.csv");
    std::fs::write(
        &csv,
        "sku,name,price,description,category,barcode,reorder_level,reorder_quantity,unit\n\
         CLI-1,Imported one,4.50,,Imported goods,,5,10,pcs\n\
         CLI-2,Imported two,12.00,,Imported goods,,0,0,box\n\
         SEED-0000000,Renamed by import,1.00,,,,,,\n",
    )
    .unwrap();
    let out = server(&dir)
        .args(["import", csv.to_str().unwrap(), "--as", "boss"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 created, 1 updated, 0 unchanged, 1 new categories"),
        "{}",
        text(&out)
    );
    // Bad rows: nothing is written, every problem is named with its line, exit non-zero.
    std::fs::write(
        &csv,
        "sku,name,price,description,category,barcode,reorder_level,reorder_quantity,unit\n\
         CLI-3,Fine,1.00,,,,,,\n\
         CLI-4,,-2,,,,,,\n",
    )
    .unwrap();
    let out = server(&dir)
        .args(["import", csv.to_str().unwrap(), "--as", "boss"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("nothing was changed"), "{said}");
    assert!(said.contains("name") && said.contains("price"), "{said}");
    // An unknown user or a missing file is refused with a clear message.
    let out = server(&dir)
        .args(["import", csv.to_str().unwrap(), "--as", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no active user named \"nobody\""),
        "{}",
        text(&out)
    );
    let out = server(&dir)
        .args(["import", "missing.csv", "--as", "boss"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out).contains("missing.csv"), "{}", text(&out));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn database_problems_are_named_with_a_non_zero_exit() {
    let dir = scratch();
    let run = |url: &str| {
        let out = server(&dir)
            .arg("migrate")
            .env("DATABASE_URL", url)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}: {}", text(&out));
        let said = text(&out);
        assert!(!said.contains("panicked"), "{url}: {said}");
        said
    };
    let said = run("mysql://localhost/inventory");
    assert!(said.contains("DATABASE_URL"), "{said}");
    let said = run("postgres://nobody@127.0.0.1:1/inventory");
    assert!(said.contains("cannot connect"), "{said}");
    // A SQLite file another process holds an exclusive lock on.
    let file = dir.join("locked.db");
    let mut holder = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('PRAGMA locking_mode=EXCLUSIVE')\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             time.sleep(60)\n",
        )
        .arg(&file)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(holder.stdout.as_mut().unwrap(), &mut first).unwrap();
    let said = run(&format!("sqlite://{}", file.display()));
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(said.contains("locked"), "{said}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_verifies_the_stock_ledger_and_the_kept_totals() {
    let dir = scratch();
    let out = server(&dir)
        .args(["seed", "--products", "20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = server(&dir).arg("check").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("no issues"), "{}", text(&out));
    // A quantity changed behind the ledger's back (by hand in the database file) is found.
    let tamper = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             c.execute('UPDATE products SET quantity = quantity + 5 WHERE id = 3')\n\
             c.commit()\n",
        )
        .arg(dir.join("inventory.db"))
        .output()
        .unwrap();
    assert!(tamper.status.success(), "{}", text(&tamper));
    let out = server(&dir).arg("check").output().unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("1 product quantities differ from their levels"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(dir);
}
