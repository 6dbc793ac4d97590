//! A browser-like client of the staff site for HTTP-level tests: a cookie jar, redirects not
//! followed (their target is asserted), forms posted as a browser posts them with the page's
//! `csrfmiddlewaretoken`, and the checks every staff page must pass (no 5xx, the security
//! headers, never a password hash).

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};

/// One answer of the staff site.
#[derive(Clone)]
pub struct Page {
    pub path: String,
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: String = self.html.chars().take(3000).collect();
        write!(
            f,
            "{} -> {} {:?} {}",
            self.path,
            self.status,
            self.location(),
            text
        )
    }
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts a redirect and returns where to.
    #[track_caller]
    pub fn redirects_to(&self) -> String {
        assert_eq!(self.status, 302, "expected a redirect: {self:?}");
        self.location().unwrap_or_default()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Page {
        assert_eq!(self.status, status, "unexpected status: {self:?}");
        self
    }

    #[track_caller]
    pub fn contains(&self, needle: &str) -> &Page {
        assert!(
            self.html.contains(needle),
            "page {} does not contain {needle:?}: {self:?}",
            self.path
        );
        self
    }

    #[track_caller]
    pub fn lacks(&self, needle: &str) -> &Page {
        assert!(
            !self.html.contains(needle),
            "page {} should not contain {needle:?}: {self:?}",
            self.path
        );
        self
    }

    /// The value of the hidden `csrfmiddlewaretoken` of the page's forms.
    pub fn csrf(&self) -> Option<String> {
        attr_after(&self.html, "name=\"csrfmiddlewaretoken\" value=\"")
    }

    /// The value attribute of the input named `name`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\"");
        let at = self.html.find(&marker)?;
        let tag_end = self.html[at..].find('>')? + at;
        let tag = &self.html[at..tag_end];
        attr_after(tag, "value=\"")
    }

    /// The error messages beside a field (`<ul class="errorlist" id="id_<name>_errors">`).
    pub fn field_errors(&self, name: &str) -> Vec<String> {
        let marker = format!("id=\"id_{name}_errors\">");
        let Some(at) = self.html.find(&marker) else {
            return vec![];
        };
        let rest = &self.html[at + marker.len()..];
        let end = rest.find("</ul>").unwrap_or(rest.len());
        rest[..end]
            .split("<li>")
            .skip(1)
            .map(|s| html_unescape(s.trim_end_matches("</li>")))
            .collect()
    }

    /// The texts of the page's messages (`<ul class="messagelist">`).
    pub fn messages(&self) -> Vec<String> {
        let Some(at) = self.html.find("class=\"messagelist\"") else {
            return vec![];
        };
        let rest = &self.html[at..];
        let end = rest.find("</ul>").unwrap_or(rest.len());
        rest[..end]
            .split("<li class=\"")
            .skip(1)
            .filter_map(|s| {
                s.split_once("\">")
                    .map(|(_, t)| html_unescape(t.trim().trim_end_matches("</li>")))
            })
            .collect()
    }

    /// The ids the change list offers to select.
    pub fn selectable_ids(&self) -> Vec<i64> {
        self.html
            .split("name=\"_selected_action\" value=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next()?.parse().ok())
            .collect()
    }
}

fn attr_after(s: &str, marker: &str) -> Option<String> {
    let at = s.find(marker)? + marker.len();
    let end = s[at..].find('"')? + at;
    Some(html_unescape(&s[at..end]))
}

pub fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The id in `/admin/<model>/<id>/change/`.
pub fn id_in(location: &str) -> i64 {
    location
        .trim_end_matches('/')
        .trim_end_matches("/change")
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no object id in {location}"))
}

/// A person at a browser: cookies kept, redirects shown rather than followed.
pub struct AdminClient {
    http: reqwest::Client,
    base: String,
    cookies: Mutex<BTreeMap<String, String>>,
    last_csrf: Mutex<Option<String>>,
}

impl AdminClient {
    pub fn new(base: &str) -> AdminClient {
        inventory_web::webhooks::install_crypto();
        AdminClient {
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .expect("http client"),
            base: base.to_owned(),
            cookies: Mutex::default(),
            last_csrf: Mutex::default(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().ok()?.get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        if let Ok(mut c) = self.cookies.lock() {
            c.insert(name.to_owned(), value.to_owned());
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    async fn send(&self, req: reqwest::RequestBuilder, path: &str) -> Page {
        let cookie = self.cookie_header();
        let req = if cookie.is_empty() {
            req
        } else {
            req.header(COOKIE, cookie)
        };
        let res = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: request failed: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        for v in headers.get_all(SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let first = v.split(';').next().unwrap_or("");
            let Some((k, val)) = first.split_once('=') else {
                continue;
            };
            // Expiry is read from the attributes only: a random value may well contain "1970".
            let attrs = v
                .split_once(';')
                .map_or("", |(_, a)| a)
                .to_ascii_lowercase();
            let removed = val.is_empty() || attrs.contains("max-age=0") || attrs.contains("1970");
            if let Ok(mut c) = self.cookies.lock() {
                if removed {
                    c.remove(k.trim());
                } else {
                    c.insert(k.trim().to_owned(), val.trim().to_owned());
                }
            }
        }
        let html = res.text().await.unwrap_or_default();
        let page = Page {
            path: path.to_owned(),
            status,
            headers,
            html,
        };
        check(&page);
        if let Some(t) = page.csrf() {
            if let Ok(mut l) = self.last_csrf.lock() {
                *l = Some(t);
            }
        }
        page
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(self.http.get(format!("{}{path}", self.base)), path)
            .await
    }

    /// Posts a form with the CSRF token of the last page seen (as the browser would).
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self
            .last_csrf
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .unwrap_or_default();
        let mut all: Vec<(String, String)> = vec![("csrfmiddlewaretoken".into(), token)];
        all.extend(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(String, String)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req, path).await
    }

    /// Signs in through the login form; returns the answer to the POST.
    pub async fn login(&self, username: &str, password: &str) -> Page {
        let form = self.get("/admin/login/").await;
        form.expect(200);
        self.post(
            "/admin/login/",
            &[
                ("username", username),
                ("password", password),
                ("next", "/admin/"),
            ],
        )
        .await
    }

    /// Signs in and asserts it worked.
    #[track_caller]
    pub fn login_ok<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> impl std::future::Future<Output = ()> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let r = self.login(username, password).await;
            assert_eq!(
                r.status, 302,
                "staff login as {username} failed (at {caller}): {r:?}"
            );
        }
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// What every staff page must be, whatever was asked.
fn check(p: &Page) {
    assert!(p.status < 500, "no staff page answers 5xx: {p:?}");
    for marker in ["$2b$", "$2a$", "$2y$"] {
        assert!(
            !p.html.contains(marker),
            "no page shows a password hash: {p:?}"
        );
    }
    if p.status == 200
        && p.path.starts_with("/admin")
        && !p.path.contains("/static/")
        && !p.path.ends_with(".svg")
    {
        let csp = p
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "a strict CSP on every page: {csp}"
        );
        assert_eq!(
            p.headers
                .get("x-frame-options")
                .and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "no framing: {p:?}"
        );
        assert!(!p.html.contains("<script>"), "no inline script: {p:?}");
        assert!(!p.html.contains(" style=\""), "no inline style: {p:?}");
    }
}
