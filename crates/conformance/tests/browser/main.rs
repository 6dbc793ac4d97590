//! The staff site in a real browser: Debian's Chromium driven headless through chromedriver
//! (WebDriver). One run a server: sign in, add a category and a product with a supplier link,
//! record a sale, approve a transfer, find the audit entry, sign out, see an API-made user
//! refused, work the keyboard and a 375 px screen, and check four page kinds with axe-core
//! (no serious or critical violations). A screenshot of every page kind goes to
//! `target/admin-screens/<server>-<page>.png`.
//!
//! Needs `chromium`, `chromium-driver` and `npm ci` in `crates/conformance/browser` (for
//! axe-core); `.ci/run` sets them up. Without them the tests are skipped with a note, except
//! under `CI=true`, where that is a failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use conformance::{json, Auth, Backend, TestApp, ROOT_PASSWORD, ROOT_USERNAME, USER_PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn axe_script() -> Option<String> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(p).ok()
}

fn screens_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"));
    let dir = target.join("admin-screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A chromedriver of our own on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver() -> Option<Driver> {
    let bin = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(10) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

/// A headless Chromium session; `phone` emulates a 375 px wide screen (a desktop window
/// cannot be made narrower than 500 px).
async fn browser(driver: &Driver, phone: bool) -> Client {
    let profile = std::env::temp_dir().join(format!("chromium-profile-{}", free_port()));
    let mut options = json!({
        "binary": "/usr/bin/chromium",
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if phone {
        options["mobileEmulation"] =
            json!({"deviceMetrics": {"width": 375, "height": 812, "pixelRatio": 2.0}});
    }
    let caps = json!({"browserName": "chrome", "goog:chromeOptions": options});
    let caps = caps.as_object().unwrap().clone().into_iter().collect();
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

struct Run {
    c: Client,
    base: String,
    server: &'static str,
    shots: Vec<String>,
}

impl Run {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// A screenshot of the whole page (the window grown to the page's height for it).
    async fn shot(&mut self, name: &str) {
        let size = self
            .c
            .execute("return [window.outerWidth, document.documentElement.scrollHeight, window.outerHeight];", vec![])
            .await
            .unwrap();
        let (w, h, old_h) = (
            size[0].as_u64().unwrap_or(1280) as u32,
            size[1].as_u64().unwrap_or(1000) as u32,
            size[2].as_u64().unwrap_or(1000) as u32,
        );
        self.c
            .set_window_size(w, (h + 150).clamp(old_h, 4000))
            .await
            .unwrap();
        let png = self.c.screenshot().await.unwrap();
        self.c.set_window_size(w, old_h).await.unwrap();
        let file = screens_dir().join(format!("{}-{name}.png", self.server));
        std::fs::write(&file, png).unwrap();
        self.shots.push(name.to_owned());
    }

    async fn fill(&self, name: &str, value: &str) {
        let e = self
            .c
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .unwrap();
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn select(&self, name: &str, label: &str) {
        let e = self
            .c
            .find(Locator::Css(&format!("select[name=\"{name}\"]")))
            .await
            .unwrap();
        e.select_by_label(label).await.unwrap();
    }

    /// Marks the current document, so a wait can tell when the next one has loaded.
    async fn mark(&self) {
        self.c
            .execute("window.__old_page = true;", vec![])
            .await
            .unwrap();
    }

    /// Waits for a new document to have replaced the marked one and finished loading.
    async fn loaded(&self) {
        let started = Instant::now();
        loop {
            let done = self
                .c
                .execute(
                    "return !window.__old_page && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            if done {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the next page never loaded"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Clicks something that loads a new page, and waits for it.
    async fn click(&self, css: &str) {
        self.mark().await;
        self.c
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.loaded().await;
    }

    async fn click_text(&self, text: &str) {
        let xpath = format!("//*[self::button or self::a][normalize-space()='{text}']");
        self.mark().await;
        self.c
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button or link {text:?}: {e}"))
            .click()
            .await
            .unwrap();
        self.loaded().await;
    }

    async fn body(&self) -> String {
        self.c
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_owned()
    }

    /// axe-core over the page: the serious and critical violations, and the total found.
    async fn axe(&self, page: &str, script: &str) -> usize {
        self.c.execute(script, vec![]).await.unwrap();
        let result = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help})))).catch(e => done([{id: 'axe-error', impact: 'critical', nodes: 0, help: String(e)}]));",
                vec![],
            )
            .await
            .unwrap();
        let list = result.as_array().cloned().unwrap_or_default();
        let bad: Vec<_> = list
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        eprintln!(
            "axe {} {page}: {} violation(s) {:?}",
            self.server,
            list.len(),
            list
        );
        assert!(
            bad.is_empty(),
            "axe: serious or critical violations on {page}: {bad:?}"
        );
        list.len()
    }
}

async fn staff_work_in_a_real_browser(app: TestApp) {
    let Some(driver) = start_driver() else {
        assert!(!in_ci(), "chromedriver is required in CI");
        eprintln!("note: skipping the browser test, no chromedriver");
        return;
    };
    let Some(axe) = axe_script() else {
        assert!(
            !in_ci(),
            "axe-core is required in CI (npm ci in crates/conformance/browser)"
        );
        eprintln!("note: skipping the browser test, no axe-core");
        return;
    };
    let started = Instant::now();
    let server = match app.auth {
        Auth::Cookie => "cookie",
        Auth::Jwt => "jwt",
    };
    // Set-up through the API: a supplier, a second location, an employee's transfer request.
    let api = app.root().await;
    let supplier = conformance::fixtures::supplier(&api, "Acme Tools").await;
    let shop = conformance::fixtures::location(&api, "SHOP").await;
    let employee = app.user_with_role("employee").await;
    app.create_user("apiuser", "admin").await;

    let c = browser(&driver, false).await;
    let mut r = Run {
        c,
        base: app.base_url.clone(),
        server,
        shots: vec![],
    };

    // Sign in.
    r.go("/admin/products/").await;
    assert_eq!(r.path().await, "/admin/login/");
    r.shot("login").await;
    let login_violations = r.axe("login", &axe).await;
    r.fill("username", ROOT_USERNAME).await;
    r.fill("password", ROOT_PASSWORD).await;
    r.click_text("Sign in").await;
    assert_eq!(r.path().await, "/admin/products/", "back to next");

    // Add a category.
    r.click("nav.side a[href=\"/admin/categories/\"]").await;
    r.click_text("Add category").await;
    r.fill("name", "Hand tools").await;
    r.fill("description", "Hammers and saws").await;
    r.click("button[name=\"_save\"]").await;
    assert_eq!(r.path().await, "/admin/categories/", "{}", r.body().await);
    assert!(r
        .body()
        .await
        .contains("The category “Hand tools” was added successfully."));
    r.shot("change-list").await;
    let list_violations = r.axe("categories change list", &axe).await;

    // A product with a supplier link; first a mistake, shown beside its field.
    r.go("/admin/products/add/").await;
    r.fill("sku", "HAM-1").await;
    r.fill("name", "Claw hammer").await;
    r.fill("price", "19.999").await;
    r.select("category_id", "Hand tools").await;
    r.fill("quantity", "25").await;
    r.select("suppliers-0-supplier_id", "Acme Tools").await;
    r.fill("suppliers-0-unit_cost", "7.50").await;
    r.c.find(Locator::Css("input[name=\"suppliers-0-is_preferred\"]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    r.click("button[name=\"_continue\"]").await;
    let body = r.body().await;
    assert!(body.contains("Please correct the errors below."), "{body}");
    assert!(
        body.contains("Ensure that there are no more than 2 decimal places."),
        "{body}"
    );
    r.shot("change-form-errors").await;
    r.fill("price", "19.99").await;
    r.click("button[name=\"_continue\"]").await;
    let path = r.path().await;
    assert!(path.ends_with("/change/"), "{path}");
    let pid: i64 = path.split('/').nth(3).unwrap().parse().unwrap();
    let body = r.body().await;
    assert!(
        body.contains("The product “Claw hammer” was added successfully."),
        "{body}"
    );
    r.shot("change-form").await;
    let form_violations = r.axe("product change form", &axe).await;
    let p = api.get(&format!("/api/products/{pid}")).await;
    assert_eq!(
        p.expect(200)["suppliers"][0]["supplier_id"],
        json!(supplier)
    );

    // Record a sale with the product page's form.
    r.select("adj_kind", "Sale").await;
    r.fill("adj_quantity", "3").await;
    r.fill("adj_reason", "counter sale").await;
    r.click_text("Record").await;
    assert!(
        r.body().await.contains("22 on hand now"),
        "{}",
        r.body().await
    );
    assert_eq!(
        api.get(&format!("/api/products/{pid}")).await.expect(200)["quantity"],
        json!(22)
    );

    // Approve the employee's transfer through its confirmation page.
    let main = api
        .get("/api/locations")
        .await
        .page()
        .iter()
        .find(|l| l["code"] == json!("MAIN"))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let t = employee
        .post("/api/transfers", json!({"product_id": pid, "from_location_id": main, "to_location_id": shop, "quantity": 5, "note": "window display"}))
        .await;
    let tid = t.expect(201)["id"].as_i64().unwrap();
    r.go("/admin/").await;
    r.shot("dashboard").await;
    let dash_violations = r.axe("dashboard", &axe).await;
    r.go(&format!("/admin/transfers/{tid}/change/")).await;
    r.shot("state-buttons").await;
    r.click_text("Approve").await;
    r.shot("confirm").await;
    r.click("button[type=\"submit\"].default").await;
    assert!(
        r.body().await.contains("The transfer was approved"),
        "{}",
        r.body().await
    );
    assert_eq!(
        api.get(&format!("/api/transfers/{tid}")).await.expect(200)["status"],
        json!("completed")
    );

    // The audit entry of the approval.
    r.go("/admin/audit-log/?action=approve").await;
    let body = r.body().await;
    assert!(
        body.contains("approve") && body.contains("transfer"),
        "{body}"
    );
    r.shot("audit-log").await;
    r.go(&format!("/admin/products/{pid}/history/")).await;
    r.shot("history").await;
    r.go(&format!(
        "/admin/categories/{}/delete/",
        api.get("/api/categories").await.page()[0]["id"]
    ))
    .await;
    r.shot("delete-confirmation").await;
    r.go("/admin/scan/?code=HAM-1").await;
    r.shot("scan").await;
    r.go("/admin/products/999999/change/").await;
    r.shot("not-found").await;

    // The keyboard: the skip link comes first and the scan input has the focus.
    r.go("/admin/scan/").await;
    let active = r.c.active_element().await.unwrap();
    assert_eq!(active.attr("name").await.unwrap().as_deref(), Some("code"));
    r.mark().await;
    active.send_keys("HAM-1\u{E007}").await.unwrap();
    r.loaded().await;
    assert!(
        r.body().await.contains("Claw hammer"),
        "Enter looks the code up"
    );
    r.go("/admin/").await;
    r.c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let first = r.c.active_element().await.unwrap();
    assert_eq!(
        first.attr("class").await.unwrap().as_deref(),
        Some("skip"),
        "Tab reaches the skip link first"
    );

    // 375 px wide (a phone): the pages fit without sideways scrolling of the page itself;
    // wide tables scroll inside their own box.
    {
        let phone = browser(&driver, true).await;
        let mut p = Run {
            c: phone,
            base: app.base_url.clone(),
            server,
            shots: vec![],
        };
        p.go("/admin/login/").await;
        p.fill("username", ROOT_USERNAME).await;
        p.fill("password", ROOT_PASSWORD).await;
        p.click_text("Sign in").await;
        for (path, name) in [
            ("/admin/", "mobile-dashboard"),
            ("/admin/products/", "mobile-change-list"),
            (
                &*format!("/admin/products/{pid}/change/"),
                "mobile-change-form",
            ),
            ("/admin/scan/?code=HAM-1", "mobile-scan"),
        ] {
            p.go(path).await;
            let width =
                p.c.execute("return window.innerWidth;", vec![])
                    .await
                    .unwrap();
            assert_eq!(width.as_i64(), Some(375), "a 375 px screen");
            let overflow =
                p.c.execute(
                    "return document.documentElement.scrollWidth - window.innerWidth;",
                    vec![],
                )
                .await
                .unwrap();
            assert!(
                overflow.as_i64().unwrap_or(0) <= 0,
                "{path} fits 375 px: {overflow}"
            );
            p.shot(name).await;
        }
        r.shots.extend(p.shots);
        p.c.close().await.unwrap();
    }

    // Sign out with the button.
    r.click_text("Log out").await;
    assert!(r.body().await.contains("You are signed out."));
    r.go("/admin/").await;
    assert_eq!(r.path().await, "/admin/login/");

    // A user made through the API is refused.
    r.fill("username", "apiuser").await;
    r.fill("password", USER_PASSWORD).await;
    r.click_text("Sign in").await;
    assert!(r
        .body()
        .await
        .contains("This account cannot use the staff site."));
    r.shot("refused").await;
    r.go("/admin/").await;
    assert_eq!(r.path().await, "/admin/login/");

    let shots = r.shots.len();
    r.c.close().await.unwrap();
    eprintln!(
        "browser {server}: {:.1}s, {shots} screenshots in {}, axe violations (any impact): login {login_violations}, dashboard {dash_violations}, change list {list_violations}, change form {form_violations}",
        started.elapsed().as_secs_f64(),
        screens_dir().display()
    );
}

#[tokio::test]
async fn jwt_server_in_chromium() {
    conformance::run(
        Auth::Jwt,
        Backend::Sqlite,
        conformance::default_settings,
        staff_work_in_a_real_browser,
    )
    .await;
}

#[tokio::test]
async fn cookie_server_in_chromium() {
    conformance::run(
        Auth::Cookie,
        Backend::Sqlite,
        conformance::default_settings,
        staff_work_in_a_real_browser,
    )
    .await;
}
