//! Idempotency keys in the core: a claim whose change committed is never run again, even
//! when its answer was lost; an abandoned claim whose change never committed is taken over;
//! keys expire after a day.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::connection::SimpleConnection;
use inventory_core::audit::{self, Entry};
use inventory_core::services::idempotency::{self as keys, Claim};
use inventory_core::services::users;
use inventory_core::CoreError;

mod support;

fn age(core: &inventory_core::context::Core, sql_offset: &str) {
    core.db
        .write(|c| {
            c.batch_execute(&format!(
                "UPDATE idempotency_keys SET created_at = datetime('now', '{sql_offset}')"
            ))?;
            Ok(())
        })
        .unwrap();
}

fn claim(core: &inventory_core::context::Core, user: i64, key: &str) -> Result<Claim, CoreError> {
    keys::claim(
        &core.db,
        user,
        "POST",
        "/api/categories",
        key,
        &keys::body_hash(b"{}"),
    )
}

#[test]
fn a_committed_claim_is_never_run_again_and_an_abandoned_one_is_taken_over() {
    let (core, mut ctx, dir) = support::core("idempotency");
    let user = ctx.user_id().unwrap();

    // A request claims its key, its change commits (the audit entry marks the claim in the
    // same transaction), and the process dies before the answer is kept.
    let Claim::Run(id) = claim(&core, user, "crashed-after-commit").unwrap() else {
        panic!("a new key runs");
    };
    ctx.idempotency = Some(id);
    core.db
        .write(|c| {
            let row = users::find_by_id(c, user)?;
            audit::record(c, &ctx, Entry::of("update", &row, serde_json::json!({})))
        })
        .unwrap();
    ctx.idempotency = None;
    age(&core, "-10 minutes");
    match claim(&core, user, "crashed-after-commit") {
        Err(CoreError::Conflict { code, .. }) => assert_eq!(code, "idempotency_in_progress"),
        other => panic!("a committed change is not made twice: {other:?}"),
    }

    // A request that claimed and died before changing anything: taken over once it is old
    // enough, never while it may still be running.
    let Claim::Run(first) = claim(&core, user, "crashed-before-commit").unwrap() else {
        panic!("a new key runs");
    };
    assert!(matches!(
        claim(&core, user, "crashed-before-commit"),
        Err(CoreError::Conflict { .. })
    ));
    age(&core, "-10 minutes");
    match claim(&core, user, "crashed-before-commit").unwrap() {
        Claim::Run(again) => assert_ne!(again, first, "a fresh claim"),
        other => panic!("an abandoned claim is taken over: {other:?}"),
    }

    // A finished key replays for a day, then it is forgotten and purged.
    let Claim::Run(done) = claim(&core, user, "finished").unwrap() else {
        panic!("a new key runs");
    };
    keys::finish(&core.db, done, 201, Some("application/json"), b"{\"id\":1}").unwrap();
    match claim(&core, user, "finished").unwrap() {
        Claim::Replay { status, body, .. } => {
            assert_eq!((status, body.as_slice()), (201, &b"{\"id\":1}"[..]))
        }
        other => panic!("a finished key replays: {other:?}"),
    }
    age(&core, "-25 hours");
    assert_eq!(
        keys::purge_expired(&core.db).unwrap(),
        3,
        "every key is a day old"
    );
    assert!(matches!(
        claim(&core, user, "finished").unwrap(),
        Claim::Run(_)
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
