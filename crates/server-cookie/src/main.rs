//! `server-cookie`: the inventory service with Django-style session cookies and CSRF.

fn main() -> std::process::ExitCode {
    inventory_web::cli::run(
        (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        server_cookie::spawn,
    )
}
