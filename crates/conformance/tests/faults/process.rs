//! A server binary run as its own process on a test database, and a plain HTTP client.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use conformance::{Backend, TestDb, ROOT_PASSWORD, ROOT_USERNAME};

/// The `server-jwt` binary `cargo test --workspace` builds beside the tests (built here when
/// a single test binary is run on its own).
pub fn binary() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug/server-jwt");
    if !bin.exists() {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "--bin", "server-jwt"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "cannot build server-jwt");
    }
    bin
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database for one fault test (`None` when PostgreSQL is unavailable outside CI).
pub fn database(backend: Backend) -> Option<TestDb> {
    match TestDb::create(backend) {
        Ok(db) => {
            let url = db.url.clone();
            let core = inventory_core::db::Db::connect(&url, 1).unwrap();
            inventory_core::services::users::create_superuser(
                &core,
                ROOT_USERNAME,
                "root@example.com",
                ROOT_PASSWORD,
                4,
            )
            .unwrap();
            Some(db)
        }
        Err(e) => {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                "PostgreSQL is required in CI: {e:?}"
            );
            eprintln!("note: skipping {backend:?}: {e:?}");
            None
        }
    }
}

/// One server process.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub url: String,
    pub base: String,
    dir: PathBuf,
}

impl Server {
    pub fn start(url: &str, port: u16) -> Server {
        Server::start_with(url, port, &[("RUST_LOG", "error")], None)
    }

    /// As [`Server::start`], with more environment and, when `log` is given, the server's
    /// output (stdout and stderr) written to that file.
    pub fn start_with(
        url: &str,
        port: u16,
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Server {
        let dir = std::env::temp_dir().join(format!("faults-{port}-{}", rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let (stdout, stderr) = match log {
            Some(path) => {
                let f = std::fs::File::create(path).unwrap();
                (Stdio::from(f.try_clone().unwrap()), Stdio::from(f))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let mut cmd = Command::new(binary());
        cmd.current_dir(&dir).env_clear();
        // A test that sets PORT or BIND itself says where the server listens.
        if !env.iter().any(|(k, _)| *k == "PORT" || *k == "BIND") {
            cmd.env("BIND", format!("127.0.0.1:{port}"));
        }
        let child = cmd
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("SECRET_KEY", "faults-secret-key-0123456789abcdefghijkl")
            .env("BCRYPT_COST", "4")
            .env("AUTH_RATE_LIMIT_PER_MINUTE", "0")
            .env("JWT_ACCESS_TTL_SECONDS", "3600")
            .env("WORKERS", "2")
            .env("BODY_TIMEOUT_SECONDS", "3")
            .envs(env.iter().copied())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap();
        let s = Server {
            child,
            port,
            url: url.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                if c.write_all(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .is_ok()
                {
                    let mut b = [0u8; 64];
                    if c.read(&mut b).is_ok_and(|n| n > 12 && b[9..12] == *b"200") {
                        return;
                    }
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server never became ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`: no goodbye, no flush beyond what was committed.
    pub fn kill9(mut self) -> (String, u16) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.url.clone(), self.port)
    }

    /// SIGTERM, as a supervisor stops a service.
    pub fn sigterm(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A client that reports connection failures instead of panicking.
pub fn http() -> reqwest::Client {
    inventory_web::webhooks::install_crypto();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An access token for root.
pub async fn token(base: &str) -> String {
    let r = http()
        .post(format!("{base}/api/token"))
        .json(&serde_json::json!({"username": ROOT_USERNAME, "password": ROOT_PASSWORD}))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    v["access"].as_str().unwrap().to_owned()
}
