//! `server-jwt`: the inventory service with simplejwt-style access and refresh tokens.

fn main() -> std::process::ExitCode {
    inventory_web::cli::run(server_jwt::spawn)
}
