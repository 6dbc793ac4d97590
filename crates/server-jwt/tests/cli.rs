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
