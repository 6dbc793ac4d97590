//! `server-jwt`: the inventory service with simplejwt-style access and refresh tokens.

fn main() -> std::process::ExitCode {
    inventory_web::cli::run(
        (env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        server_jwt::spawn,
    )
}
