//! API.md §12: schemathesis (a schema-driven fuzzer, from PyPI) against each server, signed in
//! as the superuser, with every check but one: no 5xx, no answer outside the document (status
//! codes, content types, headers, response schemas), no guest let through, no missing
//! credentials accepted, no bad input accepted. The check left out, `positive_data_acceptance`,
//! expects every schema-valid request to succeed, but the contract's rules are stricter than
//! a JSON Schema can say (no control characters, EAN check digits, look-alike usernames,
//! password strength, unknown ids), so its refusals are the service working.
//!
//! The budget is bounded (`SCHEMATHESIS_SECONDS`, 75 s a server by default) and only SQLite
//! runs it: the document and the handlers are the same on both databases.

use conformance::{Auth, Backend, TestApp};

fn budget() -> String {
    std::env::var("SCHEMATHESIS_SECONDS").unwrap_or_else(|_| "75".into())
}

async fn schemathesis_finds_nothing(app: TestApp) {
    let Some(tool) = conformance::tools::python_tool("schemathesis") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs schemathesis (pip install schemathesis)"
        );
        eprintln!("schemathesis not installed: skipped");
        return;
    };
    let root = app.root().await;
    // The credentials go through schemathesis' own auth settings for the document's security
    // scheme (not a raw header), so its checks can also send requests without them.
    let mut headers: Vec<String> = vec![];
    let auth = match app.auth {
        Auth::Jwt => format!(
            "[auth.openapi.bearer]\nbearer = \"{}\"\n",
            root.access_token().expect("an access token")
        ),
        Auth::Cookie => {
            let session = root.cookie("sessionid").expect("a session cookie");
            let csrf = root.cookie("csrftoken").expect("a CSRF cookie");
            headers.push(format!("X-CSRFToken: {csrf}"));
            format!("[auth.openapi.session]\napi_key = \"{session}\"\n")
        }
    };
    // Something for the ids to find.
    conformance::fixtures::simple_product(&root, "FUZZ-1", "1.00").await;
    let report =
        std::env::temp_dir().join(format!("schemathesis-{}-{}", std::process::id(), app.port));
    std::fs::create_dir_all(&report).expect("report dir");
    let config = report.join("schemathesis.toml");
    std::fs::write(&config, auth).expect("write the config");
    let mut cmd = std::process::Command::new(tool);
    // Its cache (`.schemathesis/`) goes with the report, not into the source tree.
    cmd.current_dir(&report)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{}/api/openapi.json", app.base_url))
        .args([
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
        ])
        .args(["--max-time", &budget(), "--workers", "2", "--no-color"])
        // Operations that would end the fuzzer's own login or lock its user out.
        .args([
            "--exclude-path-regex",
            "logout|password|blacklist|/api/users/",
        ])
        .args(["--report", "junit", "--report-dir"])
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "")
        .env("PYTHONHASHSEED", "0");
    for h in &headers {
        cmd.args(["-H", h]);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let xml: String = std::fs::read_dir(&report)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "xml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .collect();
    std::fs::remove_dir_all(&report).ok();
    // What to show when it fails: the failures and errors sections, then the summary.
    let tail: String = {
        let start = stdout
            .find("==== FAILURES")
            .or_else(|| stdout.find("==== ERRORS"))
            .unwrap_or(0);
        let end = stdout.find("==== WARNINGS").unwrap_or(stdout.len());
        let summary = stdout.find("==== SUMMARY").unwrap_or(stdout.len());
        let mut t = stdout[start..end.max(start)]
            .chars()
            .take(20_000)
            .collect::<String>();
        t.push_str(&stdout[summary..]);
        t
    };
    assert!(
        xml.contains("<testsuite"),
        "no report: {tail}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        xml.matches("<failure").count(),
        0,
        "schemathesis found failures:\n{tail}"
    );
    // Errors are either the server failing to answer (never acceptable) or the fuzzer's own
    // code tripping over itself (hypothesis' "Inconsistent results", or a runtime error
    // raised inside hypothesis or schemathesis such as its thread-unsafe AST cache's
    // "recursion depth mismatch"), which says nothing about the service.
    let service_errors: Vec<&str> = xml
        .split("<error")
        .skip(1)
        .map(|e| e.split("</error>").next().unwrap_or(e))
        .filter(|e| {
            let the_server = ["Network Error", "Connection", "timed out", "Timeout"]
                .iter()
                .any(|w| e.contains(w));
            let own = e.contains("Inconsistent results")
                || (e.contains("Runtime Error")
                    && (e.contains("site-packages/hypothesis")
                        || e.contains("site-packages/schemathesis")));
            the_server || !own
        })
        .collect();
    assert!(
        service_errors.is_empty(),
        "schemathesis errors:\n{tail}\n{}",
        service_errors.join("\n---\n")
    );
    let generated = stdout
        .lines()
        .find(|l| l.contains(" generated,"))
        .unwrap_or("")
        .trim()
        .to_owned();
    eprintln!("schemathesis ({:?}): {generated}", app.auth);
    assert!(!generated.is_empty(), "{tail}");
}

#[tokio::test]
async fn schemathesis_against_server_jwt() {
    conformance::run(
        Auth::Jwt,
        Backend::Sqlite,
        conformance::default_settings,
        schemathesis_finds_nothing,
    )
    .await;
}

#[tokio::test]
async fn schemathesis_against_server_cookie() {
    conformance::run(
        Auth::Cookie,
        Backend::Sqlite,
        conformance::default_settings,
        schemathesis_finds_nothing,
    )
    .await;
}
