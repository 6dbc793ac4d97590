//! API tokens in the core: expiry, and `last_used_at` written at most once a minute (reads
//! do not become writes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use diesel::connection::SimpleConnection;
use inventory_core::services::api_tokens::{self, TokenInput};
use inventory_core::CoreError;

mod support;

fn last_used(core: &inventory_core::context::Core, ctx: &inventory_core::auth::Ctx) -> String {
    let page = inventory_core::paging::PageReq::new(None, None).unwrap();
    let list = api_tokens::list_mine(core, ctx, page).unwrap();
    serde_json::to_value(&list.results[0]).unwrap()["last_used_at"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_default()
}

#[test]
fn a_token_is_touched_once_a_minute_and_dies_when_it_expires() {
    let (core, ctx, dir) = support::core("api-tokens");
    let made = api_tokens::create(
        &core,
        &ctx,
        TokenInput {
            name: Some("sync".into()),
            ..TokenInput::default()
        },
    )
    .unwrap();
    assert_eq!(last_used(&core, &ctx), "", "never used yet");

    let p = api_tokens::authenticate(&core, &made.secret, false).unwrap();
    assert_eq!(p.user_id, ctx.user_id().unwrap());
    assert_eq!(p.api_token.map(|t| t.id), Some(made.token.id));
    let first = last_used(&core, &ctx);
    assert!(!first.is_empty(), "the first use is recorded");
    for _ in 0..5 {
        api_tokens::authenticate(&core, &made.secret, false).unwrap();
    }
    assert_eq!(
        last_used(&core, &ctx),
        first,
        "uses within the minute write nothing"
    );

    // A minute later the next use is recorded again.
    core.db
        .write(|c| {
            c.batch_execute("UPDATE api_tokens SET last_used_at = datetime('now', '-61 seconds')")?;
            Ok(())
        })
        .unwrap();
    let stale = last_used(&core, &ctx);
    api_tokens::authenticate(&core, &made.secret, false).unwrap();
    let again = last_used(&core, &ctx);
    assert!(again > stale, "{again} after {stale}");

    core.db
        .write(|c| {
            c.batch_execute("UPDATE api_tokens SET expires_at = datetime('now', '-1 seconds')")?;
            Ok(())
        })
        .unwrap();
    match api_tokens::authenticate(&core, &made.secret, false) {
        Err(CoreError::Unauthenticated { code, .. }) => assert_eq!(code, "token_not_valid"),
        other => panic!("an expired token is refused: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
