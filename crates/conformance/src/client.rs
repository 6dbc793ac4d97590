//! An HTTP client that signs in like a real caller of either server, and checks the contract's
//! universal rules on every response it receives.

use crate::app::Auth;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

/// A caller of the service: a guest until it logs in; then it carries a session cookie and
/// CSRF token (cookie server) or a bearer access token (JWT server).
pub struct Client {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    state: Mutex<State>,
}

#[derive(Default, Clone, Debug)]
struct State {
    cookies: BTreeMap<String, String>,
    access: Option<String>,
    refresh: Option<String>,
    /// An API token (§11), sent as `Authorization: Token …` instead of any login.
    api_token: Option<String>,
    user: Option<Value>,
}

/// A request built by hand, for malformed input and header tests.
#[derive(Clone, Debug)]
pub struct Raw {
    method: Method,
    path: String,
    content_type: Option<String>,
    body: Option<Vec<u8>>,
    headers: Vec<(String, String)>,
    send_auth: bool,
    send_csrf: bool,
}

impl Raw {
    pub fn new(method: Method, path: impl Into<String>) -> Raw {
        Raw {
            method,
            path: path.into(),
            content_type: None,
            body: None,
            headers: Vec::new(),
            send_auth: true,
            send_csrf: true,
        }
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Raw {
        self.body("application/json", serde_json::to_vec(body).unwrap())
    }

    /// Any body with the given content type.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Raw {
        self.content_type = Some(content_type.to_owned());
        self.body = Some(body.into());
        self
    }

    /// A body sent without any `Content-Type` header.
    pub fn body_without_content_type(mut self, body: impl Into<Vec<u8>>) -> Raw {
        self.content_type = None;
        self.body = Some(body.into());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Raw {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends neither the session cookie nor the bearer token.
    pub fn without_auth(mut self) -> Raw {
        self.send_auth = false;
        self
    }

    /// Leaves out the `X-CSRFToken` header an unsafe request would carry.
    pub fn without_csrf(mut self) -> Raw {
        self.send_csrf = false;
        self
    }
}

/// One answer: status, headers and the body as JSON (`Null` when empty or not JSON).
#[derive(Clone)]
pub struct Resp {
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl fmt::Debug for Resp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: String = self.text.chars().take(1500).collect();
        write!(
            f,
            "{} {} -> {} {}",
            self.method,
            self.path,
            self.status.as_u16(),
            text
        )
    }
}

impl Resp {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status: {self:?}");
        &self.body
    }

    /// Asserts an error status and its `code`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status: {self:?}");
        assert_eq!(
            self.body["code"],
            json!(code),
            "unexpected error code: {self:?}"
        );
        &self.body
    }

    /// Asserts a 400 carrying a validation error for `field` under `errors`.
    #[track_caller]
    pub fn expect_field_error(&self, field: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            400,
            "expected a validation error on `{field}`: {self:?}"
        );
        let errors = &self.body["errors"];
        assert!(
            errors.is_object(),
            "a validation error has `errors`: {self:?}"
        );
        let messages = &errors[field];
        assert!(
            messages
                .as_array()
                .is_some_and(|m| !m.is_empty() && m.iter().all(Value::is_string)),
            "expected `errors.{field}` to be a non-empty list of messages: {self:?}"
        );
        &self.body
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The `id` of the returned object.
    #[track_caller]
    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("answer has no integer `id`: {self:?}"))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts a 200 page of the pagination shape and returns its `results`.
    #[track_caller]
    pub fn page(&self) -> Vec<Value> {
        self.expect(200);
        let b = &self.body;
        assert!(b["count"].is_u64(), "a list answers `count`: {self:?}");
        assert!(
            b.get("next").is_some_and(|v| v.is_null() || v.is_string()),
            "a list answers `next`: {self:?}"
        );
        assert!(
            b.get("previous")
                .is_some_and(|v| v.is_null() || v.is_string()),
            "a list answers `previous`: {self:?}"
        );
        b["results"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("a list answers `results`: {self:?}"))
    }

    /// The `count` of a page.
    #[track_caller]
    pub fn count(&self) -> u64 {
        self.expect(200);
        self.body["count"]
            .as_u64()
            .unwrap_or_else(|| panic!("a list answers `count`: {self:?}"))
    }

    /// Values of `field` over a page's results, in order.
    #[track_caller]
    pub fn column(&self, field: &str) -> Vec<Value> {
        self.page().iter().map(|r| r[field].clone()).collect()
    }

    /// The cookies this answer sets, by name, with their attributes.
    pub fn set_cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(SetCookie::parse)
            .collect()
    }

    /// The rules of API.md that hold for every answer, whatever was asked.
    fn check_contract(&self, sent_request_id: Option<&str>) {
        assert!(
            self.status.as_u16() < 500,
            "contract §1: no input, however malformed, gets a 5xx: {self:?}"
        );
        let rid = self.header("x-request-id");
        assert!(
            rid.as_deref().is_some_and(|r| !r.is_empty()),
            "contract §1: every response carries X-Request-Id: {self:?}"
        );
        if let Some(sent) = sent_request_id {
            assert_eq!(
                rid.as_deref(),
                Some(sent),
                "contract §1: X-Request-Id is echoed: {self:?}"
            );
        }
        for marker in ["$2b$", "$2a$", "$2y$"] {
            assert!(
                !self.text.contains(marker),
                "contract §2.4: no answer contains a password hash: {self:?}"
            );
        }
        let is_docs = self.path.starts_with("/api/openapi") || self.path.starts_with("/api/docs");
        if !is_docs {
            if let Some(key) = password_key(&self.body) {
                panic!("contract §2.4: no answer carries a `{key}` field: {self:?}");
            }
        }
        // Pages for people (the emailed-link pages) answer errors as HTML pages.
        let is_page = self
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html"));
        if self.status.is_client_error() && self.method != Method::HEAD && !is_page {
            assert!(
                self.body["detail"].is_string()
                    && self.body["code"].as_str().is_some_and(is_snake_case),
                "contract §1: every error has `detail` and a snake_case `code`: {self:?}"
            );
            if let Some(errors) = self.body.get("errors") {
                assert!(
                    errors.is_object() || errors.is_null(),
                    "contract §1: `errors` maps fields to messages: {self:?}"
                );
            }
        }
    }
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A key that would carry a password or its hash, outside the `errors` of a validation answer.
fn password_key(v: &Value) -> Option<String> {
    match v {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k == "errors" {
                return None;
            }
            let lower = k.to_ascii_lowercase();
            if lower == "password" || lower == "password_hash" || lower == "hashed_password" {
                return Some(k.clone());
            }
            password_key(v)
        }),
        Value::Array(items) => items.iter().find_map(password_key),
        _ => None,
    }
}

/// One `Set-Cookie` header.
#[derive(Clone, Debug)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// Attribute names in lower case, with their values.
    pub attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn parse(header: &str) -> Option<SetCookie> {
        let mut parts = header.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let attributes = parts
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_owned())),
                None => (p.trim().to_ascii_lowercase(), None),
            })
            .collect();
        Some(SetCookie {
            name: name.trim().to_owned(),
            value: value.trim().trim_matches('"').to_owned(),
            attributes,
        })
    }

    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_deref())
    }

    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// Whether this header deletes the cookie (empty value, `Max-Age=0` or an expiry in the past).
    fn removes(&self) -> bool {
        if let Some(Some(age)) = self.attribute("max-age") {
            if age.parse::<i64>().is_ok_and(|a| a <= 0) {
                return true;
            }
        }
        if let Some(Some(expires)) = self.attribute("expires") {
            if let Ok(t) = chrono::DateTime::parse_from_rfc2822(expires) {
                if t < chrono::Utc::now() {
                    return true;
                }
            }
        }
        self.value.is_empty()
    }
}

impl Client {
    pub(crate) fn new(base: String, auth: Auth) -> Client {
        inventory_web::webhooks::install_crypto();
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::limited(5))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap();
        Client {
            http,
            base,
            auth,
            state: Mutex::new(State::default()),
        }
    }

    pub fn auth(&self) -> Auth {
        self.auth
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The signed-in user as last returned by login (or `Null` for a guest).
    pub fn user(&self) -> Value {
        self.state
            .lock()
            .unwrap()
            .user
            .clone()
            .unwrap_or(Value::Null)
    }

    /// The signed-in user's id.
    #[track_caller]
    pub fn user_id(&self) -> i64 {
        self.user()["id"].as_i64().expect("client is signed in")
    }

    pub fn username(&self) -> String {
        self.user()["username"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.state.lock().unwrap().cookies.get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.state
            .lock()
            .unwrap()
            .cookies
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn remove_cookie(&self, name: &str) {
        self.state.lock().unwrap().cookies.remove(name);
    }

    pub fn access_token(&self) -> Option<String> {
        self.state.lock().unwrap().access.clone()
    }

    pub fn refresh_token(&self) -> Option<String> {
        self.state.lock().unwrap().refresh.clone()
    }

    pub fn set_access_token(&self, token: Option<String>) {
        self.state.lock().unwrap().access = token;
    }

    pub fn set_refresh_token(&self, token: Option<String>) {
        self.state.lock().unwrap().refresh = token;
    }

    /// Sends this API token on every request from now on (instead of a login's credentials).
    pub fn set_api_token(&self, token: Option<String>) {
        self.state.lock().unwrap().api_token = token;
    }

    /// A second client carrying the same credentials (cookies or tokens) as this one.
    pub fn duplicate(&self) -> Client {
        let c = Client::new(self.base.clone(), self.auth);
        *c.state.lock().unwrap() = self.state.lock().unwrap().clone();
        c
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.raw(Raw::new(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.raw(Raw::new(Method::POST, path).json(&body)).await
    }

    /// A POST with no body at all (actions such as logout or approve).
    pub async fn post_empty(&self, path: &str) -> Resp {
        self.raw(Raw::new(Method::POST, path)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.raw(Raw::new(Method::PUT, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.raw(Raw::new(Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.raw(Raw::new(Method::DELETE, path)).await
    }

    /// Sends a hand-built request with this client's credentials (unless told otherwise).
    pub async fn raw(&self, raw: Raw) -> Resp {
        let url = if raw.path.starts_with("http://") || raw.path.starts_with("https://") {
            raw.path.clone()
        } else {
            format!("{}{}", self.base, raw.path)
        };
        let path = url.strip_prefix(&self.base).unwrap_or(&url).to_owned();
        let mut req = self.http.request(raw.method.clone(), &url);
        let unsafe_method = !matches!(
            raw.method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        {
            let state = self.state.lock().unwrap();
            if raw.send_auth {
                if !state.cookies.is_empty() {
                    let cookie = state
                        .cookies
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    req = req.header(reqwest::header::COOKIE, cookie);
                }
                if let Some(token) = &state.api_token {
                    req = req.header(reqwest::header::AUTHORIZATION, format!("Token {token}"));
                } else if let Some(access) = &state.access {
                    req = req.header(reqwest::header::AUTHORIZATION, format!("Bearer {access}"));
                }
            }
            if raw.send_csrf && unsafe_method {
                if let Some(token) = state.cookies.get("csrftoken") {
                    req = req.header("X-CSRFToken", token.as_str());
                }
            }
        }
        let mut sent_request_id = None;
        for (k, v) in &raw.headers {
            if k.eq_ignore_ascii_case("x-request-id") {
                sent_request_id = Some(v.clone());
            }
            let name = HeaderName::from_bytes(k.as_bytes()).unwrap();
            req = req.header(name, HeaderValue::from_str(v).unwrap());
        }
        if let Some(ct) = &raw.content_type {
            req = req.header(reqwest::header::CONTENT_TYPE, ct.as_str());
        }
        if let Some(body) = raw.body.clone() {
            req = req.body(body);
        }
        let response = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} {path}: request failed: {e}", raw.method));
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        let resp = Resp {
            method: raw.method.clone(),
            path,
            status,
            headers,
            body,
            text,
        };
        {
            let mut state = self.state.lock().unwrap();
            for c in resp.set_cookies() {
                if c.removes() {
                    state.cookies.remove(&c.name);
                } else {
                    state.cookies.insert(c.name.clone(), c.value.clone());
                }
            }
        }
        resp.check_contract(sent_request_id.as_deref());
        resp
    }

    /// Signs in the way this server expects: a session (cookie) or a token pair (JWT).
    /// Returns the login answer; on success the client is signed in.
    pub async fn login(&self, username: &str, password: &str) -> Resp {
        let creds = json!({"username": username, "password": password});
        match self.auth {
            Auth::Cookie => {
                let r = self.post("/api/auth/login", creds).await;
                if r.status == StatusCode::OK {
                    self.state.lock().unwrap().user = Some(r.body["user"].clone());
                }
                r
            }
            Auth::Jwt => {
                let r = self.post("/api/token", creds).await;
                if r.status == StatusCode::OK {
                    {
                        let mut state = self.state.lock().unwrap();
                        state.access = r.body["access"].as_str().map(str::to_owned);
                        state.refresh = r.body["refresh"].as_str().map(str::to_owned);
                    }
                    let me = self.get("/api/auth/me").await;
                    me.expect(200);
                    self.state.lock().unwrap().user = Some(me.body.clone());
                }
                r
            }
        }
    }

    /// Signs out the way this server expects.
    pub async fn logout(&self) -> Resp {
        match self.auth {
            Auth::Cookie => self.post_empty("/api/auth/logout").await,
            Auth::Jwt => {
                let refresh = self.refresh_token().unwrap_or_default();
                self.post("/api/auth/logout", json!({ "refresh": refresh }))
                    .await
            }
        }
    }
}
