//! What the core's integration tests share: a core on a fresh SQLite file in a temporary
//! folder, with a superuser to act as.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use inventory_core::auth::{Ctx, Principal};
use inventory_core::context::{Core, CoreConfig};
use inventory_core::db::Db;
use inventory_core::email::Mailer;
use inventory_core::services::users;
use inventory_core::types::Role;

/// A fresh folder under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("core-{name}-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The superuser `root` (id `user_id`) as a caller.
pub fn root_ctx(user_id: i64) -> Ctx {
    Ctx {
        principal: Some(Principal {
            user_id,
            username: "root".into(),
            role: Role::Admin,
            is_superuser: true,
            is_staff: true,
            api_token: None,
        }),
        ..Ctx::default()
    }
}

/// A core on `url` (connections `pool`), with `root` created, acting as root.
pub fn core_at(dir: &Path, url: &str, pool: u32) -> (Core, Ctx) {
    let db = Db::connect(url, pool).unwrap();
    let root =
        users::create_superuser(&db, "root", "root@example.com", "Sup3r-Secret-Pass!", 4).unwrap();
    let core = Core {
        db,
        config: CoreConfig {
            bcrypt_cost: 4,
            ..CoreConfig::default()
        },
        mailer: Arc::new(Mailer::new(None, "inventory@localhost", dir.join("outbox")).unwrap()),
        positions: Arc::default(),
    };
    (core, root_ctx(root.id))
}

/// A core on a fresh database in a fresh folder.
pub fn core(name: &str) -> (Core, Ctx, PathBuf) {
    let dir = temp_dir(name);
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let (core, ctx) = core_at(&dir, &url, 2);
    (core, ctx, dir)
}
