//! `server-cookie`: the inventory service with Django-style session cookies and CSRF.

fn main() -> std::process::ExitCode {
    inventory_web::cli::run(server_cookie::spawn)
}
