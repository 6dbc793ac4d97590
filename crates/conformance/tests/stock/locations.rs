//! API.md §4 Locations, and the location rows of the §2.4 permission table.

use crate::support::*;
use conformance::fixtures::all_pages;
use conformance::{json, variants, Client, TestApp, Value};

/// All locations, and asserts exactly one of them is the default; returns (all, default).
async fn locations_with_one_default(c: &Client) -> (Vec<Value>, Value) {
    let all = all_pages(c, "/api/locations").await;
    let defaults: Vec<&Value> = all
        .iter()
        .filter(|l| l["is_default"] == json!(true))
        .collect();
    assert_eq!(
        defaults.len(),
        1,
        "there is always exactly one default location: {all:?}"
    );
    let d = defaults[0].clone();
    (all, d)
}

async fn a_fresh_database_has_one_default_location_main(app: TestApp) {
    let guest = app.client();
    let (all, default) = locations_with_one_default(&guest).await;
    assert_eq!(
        default["code"], "MAIN",
        "the fresh default is MAIN: {all:?}"
    );
    assert_eq!(default["is_active"], true);
    for key in [
        "id",
        "code",
        "name",
        "kind",
        "address",
        "is_active",
        "is_default",
    ] {
        assert!(
            default.get(key).is_some(),
            "a location has `{key}`: {default}"
        );
    }
    assert!(
        ["warehouse", "store", "other"].contains(&default["kind"].as_str().unwrap_or("")),
        "kind is warehouse|store|other: {default}"
    );

    // A booking that names no location lands on the default.
    let root = app.root().await;
    let p = new_product(&root, "FRESH-1").await;
    let row = book(&root, p, None, "receive", 3).await;
    assert_eq!(
        row["location_id"], default["id"],
        "no location_id books at the default: {row}"
    );
}

async fn managers_create_read_update_and_delete_locations(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let r = manager
        .post(
            "/api/locations",
            json!({"code": "WH-2", "name": "Second warehouse", "kind": "warehouse", "address": "1 Dock Road"}),
        )
        .await;
    let created = r.expect(201).clone();
    let id = r.id();
    assert_eq!(created["code"], "WH-2");
    assert_eq!(created["name"], "Second warehouse");
    assert_eq!(created["kind"], "warehouse");
    assert_eq!(created["address"], "1 Dock Road");
    assert_eq!(
        created["is_active"], true,
        "a new location is active: {created}"
    );
    assert_eq!(
        created["is_default"], false,
        "a new location is not the default unless asked: {created}"
    );

    let fetched = manager.get(&format!("/api/locations/{id}")).await;
    assert_eq!(fetched.expect(200)["code"], "WH-2");
    assert!(all_pages(&manager, "/api/locations")
        .await
        .iter()
        .any(|l| l["id"] == json!(id)));

    let patched = manager
        .patch(&format!("/api/locations/{id}"), json!({"name": "Dock"}))
        .await;
    assert_eq!(patched.expect(200)["name"], "Dock");
    assert_eq!(
        patched.body["code"], "WH-2",
        "PATCH changes only the given fields"
    );
    assert_eq!(
        patched.body["address"], "1 Dock Road",
        "PATCH changes only the given fields"
    );

    let put = manager
        .put(
            &format!("/api/locations/{id}"),
            json!({"code": "WH-2", "name": "Dock store", "kind": "store", "address": "2 Quay"}),
        )
        .await;
    put.expect(200);
    let fetched = manager.get(&format!("/api/locations/{id}")).await;
    assert_eq!(fetched.expect(200)["name"], "Dock store");
    assert_eq!(fetched.body["kind"], "store");
    assert_eq!(fetched.body["address"], "2 Quay");

    // Codes are unique; kinds are a closed set.
    manager
        .post(
            "/api/locations",
            json!({"code": "WH-2", "name": "Again", "kind": "store"}),
        )
        .await
        .expect(409);
    manager
        .post(
            "/api/locations",
            json!({"code": "WH-3", "name": "Odd", "kind": "spaceship"}),
        )
        .await
        .expect_field_error("kind");

    // Admins may write locations too.
    let admin = app.user_with_role("admin").await;
    let by_admin = admin
        .post(
            "/api/locations",
            json!({"code": "ADM-1", "name": "Admin's", "kind": "other"}),
        )
        .await;
    by_admin.expect(201);
    admin
        .delete(&format!("/api/locations/{}", by_admin.id()))
        .await
        .expect(204);

    manager
        .delete(&format!("/api/locations/{id}"))
        .await
        .expect(204);
    manager
        .get(&format!("/api/locations/{id}"))
        .await
        .expect(404);
    manager
        .delete(&format!("/api/locations/{id}"))
        .await
        .expect(404);
    assert!(!all_pages(&manager, "/api/locations")
        .await
        .iter()
        .any(|l| l["id"] == json!(id)));
}

async fn employees_and_auditors_cannot_write_locations(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let id = new_location(&manager, "SHOP-1").await;
    let before = manager
        .get(&format!("/api/locations/{id}"))
        .await
        .expect(200)
        .clone();
    for role in ["employee", "auditor"] {
        let c = app.user_with_role(role).await;
        c.get("/api/locations").await.page();
        c.get(&format!("/api/locations/{id}")).await.expect(200);
        c.post(
            "/api/locations",
            json!({"code": "NOPE", "name": "Nope", "kind": "store"}),
        )
        .await
        .expect(403);
        c.patch(&format!("/api/locations/{id}"), json!({"name": "Mine now"}))
            .await
            .expect(403);
        c.put(
            &format!("/api/locations/{id}"),
            json!({"code": "SHOP-1", "name": "Mine now", "kind": "store"}),
        )
        .await
        .expect(403);
        c.delete(&format!("/api/locations/{id}")).await.expect(403);
    }
    let after = manager
        .get(&format!("/api/locations/{id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(before, after, "refused writes change nothing");
    assert!(!all_pages(&manager, "/api/locations")
        .await
        .iter()
        .any(|l| l["code"] == "NOPE"));
}

async fn guests_read_locations_but_writing_needs_a_sign_in(app: TestApp) {
    let root = app.root().await;
    let id = new_location(&root, "SHOP-2").await;
    let guest = app.client();
    guest.get("/api/locations").await.page();
    guest.get(&format!("/api/locations/{id}")).await.expect(200);
    guest
        .post(
            "/api/locations",
            json!({"code": "GUEST", "name": "Guest", "kind": "store"}),
        )
        .await
        .expect(401);
    guest
        .patch(&format!("/api/locations/{id}"), json!({"name": "Guest"}))
        .await
        .expect(401);
    guest
        .put(
            &format!("/api/locations/{id}"),
            json!({"code": "SHOP-2", "name": "Guest", "kind": "store"}),
        )
        .await
        .expect(401);
    guest
        .delete(&format!("/api/locations/{id}"))
        .await
        .expect(401);
    assert_eq!(
        root.get(&format!("/api/locations/{id}")).await.expect(200)["name"],
        "Location SHOP-2"
    );
}

async fn making_another_location_the_default_unsets_the_old_one(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let main = main_location(&manager).await;
    let s1 = new_location(&manager, "S1").await;

    let r = manager
        .patch(&format!("/api/locations/{s1}"), json!({"is_default": true}))
        .await;
    assert_eq!(r.expect(200)["is_default"], true);
    let (_, d) = locations_with_one_default(&manager).await;
    assert_eq!(d["id"], json!(s1), "S1 is now the one default");
    assert_eq!(
        manager
            .get(&format!("/api/locations/{main}"))
            .await
            .expect(200)["is_default"],
        false
    );

    // Created as the default.
    let r = manager
        .post(
            "/api/locations",
            json!({"code": "S2", "name": "S2", "kind": "store", "is_default": true}),
        )
        .await;
    assert_eq!(
        r.expect(201)["is_default"],
        true,
        "a location can be created as the default: {r:?}"
    );
    let s2 = r.id();
    let (_, d) = locations_with_one_default(&manager).await;
    assert_eq!(d["id"], json!(s2));
    assert_eq!(
        manager
            .get(&format!("/api/locations/{s1}"))
            .await
            .expect(200)["is_default"],
        false
    );

    // Bookings without a location follow the default.
    let p = new_product(&manager, "DEF-1").await;
    let row = book(&manager, p, None, "receive", 2).await;
    assert_eq!(
        row["location_id"],
        json!(s2),
        "an unnamed location means the current default: {row}"
    );

    manager
        .patch(
            &format!("/api/locations/{main}"),
            json!({"is_default": true}),
        )
        .await
        .expect(200);
    let (_, d) = locations_with_one_default(&manager).await;
    assert_eq!(d["id"], json!(main));
}

async fn unsetting_the_default_directly_is_a_conflict(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let main = main_location(&manager).await;
    manager
        .patch(
            &format!("/api/locations/{main}"),
            json!({"is_default": false}),
        )
        .await
        .expect(409);
    let (_, d) = locations_with_one_default(&manager).await;
    assert_eq!(
        d["id"],
        json!(main),
        "the refused change left MAIN the default"
    );

    let s1 = new_location(&manager, "S1").await;
    manager
        .patch(&format!("/api/locations/{s1}"), json!({"is_default": true}))
        .await
        .expect(200);
    manager
        .patch(
            &format!("/api/locations/{s1}"),
            json!({"is_default": false}),
        )
        .await
        .expect(409);
    let (_, d) = locations_with_one_default(&manager).await;
    assert_eq!(d["id"], json!(s1));

    // Deleting the default would leave none.
    let r = manager.delete(&format!("/api/locations/{s1}")).await;
    r.expect(409);
    let (_, d) = locations_with_one_default(&manager).await;
    assert_eq!(d["id"], json!(s1));
}

async fn deleting_a_location_that_holds_stock_is_a_conflict(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let l = new_location(&manager, "FULL").await;
    let p = new_product(&manager, "HELD-1").await;
    book(&manager, p, Some(l), "receive", 5).await;
    let before = stock(&manager, p).await;

    manager
        .delete(&format!("/api/locations/{l}"))
        .await
        .expect(409);
    manager
        .get(&format!("/api/locations/{l}"))
        .await
        .expect(200);
    assert_eq!(
        stock(&manager, p).await,
        before,
        "the refused delete changed no stock"
    );
    assert_eq!(level(&manager, p, l).await, 5);
}

async fn deleting_an_emptied_location_never_loses_history(app: TestApp) {
    let manager = app.user_with_role("manager").await;
    let l = new_location(&manager, "EMPTIED").await;
    let p = new_product(&manager, "GONE-1").await;
    book(&manager, p, Some(l), "receive", 5).await;
    book(&manager, p, Some(l), "sale", 5).await;
    let r = manager.delete(&format!("/api/locations/{l}")).await;
    assert!(
        [204, 409].contains(&r.status.as_u16()),
        "an empty location with history is either deleted or kept as in use: {r:?}"
    );
    let history = manager
        .get(&format!("/api/products/{p}/history"))
        .await
        .page();
    assert_eq!(
        history.len(),
        2,
        "the product's history keeps both bookings: {history:?}"
    );
    assert_eq!(ledger_count(&manager, &format!("product={p}")).await, 2);
    assert_eq!(total(&manager, p).await, 0);
}

variants!(
    a_fresh_database_has_one_default_location_main,
    managers_create_read_update_and_delete_locations,
    employees_and_auditors_cannot_write_locations,
    guests_read_locations_but_writing_needs_a_sign_in,
    making_another_location_the_default_unsets_the_old_one,
    unsetting_the_default_directly_is_a_conflict,
    deleting_a_location_that_holds_stock_is_a_conflict,
    deleting_an_emptied_location_never_loses_history,
);
