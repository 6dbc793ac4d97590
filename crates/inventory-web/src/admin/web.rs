//! The staff site's plumbing: who is signed in (from the server-side session, never from a
//! token), the CSRF-checked form body, messages that survive a redirect, and the one way every
//! page runs: the caller's principal loaded and the page's core calls made in the same
//! blocking call, its HTML rendered there too.

use std::collections::BTreeMap;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::future::LocalBoxFuture;
use inventory_core::auth::Ctx;
use inventory_core::{Core, CoreError};

use super::ui::{Chrome, ErrorPage, Message};
use crate::app::AppState;
use crate::extract::Caller;
use crate::session::{constant_eq, origin_allowed, CSRF, CSRF_COOKIE, UID};

/// Session key of the messages waiting for the next page.
const MESSAGES: &str = "_messages";

/// The largest form body the staff site reads.
const FORM_LIMIT: usize = 1024 * 1024;

/// What a request brings before any database work: the session's user id and CSRF secret,
/// the request context (address, request id) and the messages left by the last action.
pub struct Visit {
    pub ctx: Ctx,
    pub uid: Option<i64>,
    pub csrf: String,
    pub path: String,
    pub query: String,
    pub messages: Vec<Message>,
    pub session: Session,
}

impl Visit {
    fn new(req: &HttpRequest) -> Visit {
        let session = req.get_session();
        let uid: Option<i64> = session.get(UID).unwrap_or(None);
        if let Some(slot) =
            actix_web::HttpMessage::extensions(req).get::<crate::middleware::UserSlot>()
        {
            slot.set(uid);
        }
        let csrf: String = if uid.is_some() {
            session.get(CSRF).unwrap_or(None).unwrap_or_default()
        } else {
            anonymous_token(req)
        };
        let messages: Vec<Message> = match session.get::<Vec<Message>>(MESSAGES) {
            Ok(Some(m)) => {
                session.remove(MESSAGES);
                m
            }
            _ => vec![],
        };
        let mut ctx = Caller::from_request_parts(req);
        ctx.principal = None;
        ctx.login_ref = session
            .get::<String>(crate::session::LOGIN_ID)
            .ok()
            .flatten();
        Visit {
            ctx,
            uid,
            csrf,
            path: req.path().to_owned(),
            query: req.query_string().to_owned(),
            messages,
            session,
        }
    }

    /// The path and query, for `?next=`.
    pub fn here(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

impl FromRequest for Visit {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Visit, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Visit::new(req)))
    }
}

/// The anonymous CSRF token: the `csrftoken` cookie when it is one of ours, else a new one
/// (set on the response by [`with_csrf_cookie`]).
fn anonymous_token(req: &HttpRequest) -> String {
    match req.cookie(CSRF_COOKIE) {
        Some(c) if is_token(c.value()) => c.value().to_owned(),
        _ => crate::session::new_csrf_token(),
    }
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A form body (`application/x-www-form-urlencoded`) whose `csrfmiddlewaretoken` matched:
/// the session's secret when signed in, the `csrftoken` cookie before login. Anything else is
/// a 403 and the handler never runs.
pub struct Form(pub FormData);

/// The fields of a posted form, in order (a name may repeat: `_selected_action`).
#[derive(Debug, Clone, Default)]
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

fn forbidden_csrf(reason: &str) -> actix_web::Error {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>403 Forbidden</title>\
         <link rel=\"stylesheet\" href=\"/admin/static/admin.css\"></head><body><main>\
         <h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p><p>{reason}</p>\
         <p><a href=\"/admin/\">Back to the staff site</a></p></main></body></html>"
    );
    actix_web::error::InternalError::from_response(
        "csrf",
        HttpResponse::Forbidden()
            .content_type("text/html; charset=utf-8")
            .body(body),
    )
    .into()
}

impl FromRequest for Form {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Form, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = web::BytesMut::new();
            let idle = crate::extract::body_idle(&req);
            while let Some(chunk) = crate::extract::next_chunk(&mut payload, idle)
                .await
                .map_err(|_| {
                    actix_web::error::InternalError::from_response(
                        "timeout",
                        HttpResponse::RequestTimeout()
                            .content_type("text/plain; charset=utf-8")
                            .body("The form stopped arriving."),
                    )
                })?
            {
                let chunk = chunk.map_err(|_| forbidden_csrf("The form could not be read."))?;
                if body.len() + chunk.len() > FORM_LIMIT {
                    return Err(actix_web::error::InternalError::from_response(
                        "too large",
                        HttpResponse::PayloadTooLarge()
                            .content_type("text/plain; charset=utf-8")
                            .body("The form is larger than 1 MiB."),
                    )
                    .into());
                }
                body.extend_from_slice(&chunk);
            }
            let pairs: Vec<(String, String)> =
                web::Query::<Vec<(String, String)>>::from_query(&String::from_utf8_lossy(&body))
                    .map(|q| q.into_inner())
                    .unwrap_or_default();
            // NUL characters never reach the core (PostgreSQL cannot store them).
            let pairs: Vec<(String, String)> = pairs
                .into_iter()
                .map(|(k, v)| (k.replace('\0', ""), v.replace('\0', "\u{FFFD}")))
                .collect();
            let data = FormData(pairs);
            let Some(st) = req.app_data::<web::Data<AppState>>() else {
                return Err(forbidden_csrf("No application state."));
            };
            if !origin_allowed(&req, st) {
                return Err(forbidden_csrf("The request's origin is not trusted."));
            }
            let given = data.get("csrfmiddlewaretoken").unwrap_or("");
            let session = req.get_session();
            let signed_in = session.get::<i64>(UID).ok().flatten().is_some();
            let expected: Option<String> = if signed_in {
                session.get(CSRF).ok().flatten()
            } else {
                req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned())
            };
            match expected {
                Some(e) if !e.is_empty() && !given.is_empty() && constant_eq(&e, given) => {
                    Ok(Form(data))
                }
                None if !signed_in => Err(forbidden_csrf("CSRF cookie not set.")),
                _ => Err(forbidden_csrf("CSRF token missing or incorrect.")),
            }
        })
    }
}

/// What a page handler answers.
pub enum Out {
    Html(StatusCode, String),
    Redirect(String),
    Svg(String),
}

/// Why a page could not be shown; each becomes an HTML page (never the API's JSON), or the
/// login redirect.
#[derive(Debug)]
pub enum AdminError {
    SignIn,
    NotFound,
    Forbidden(String),
    BadRequest(String),
    Unavailable(String),
    Internal(String),
}

impl From<CoreError> for AdminError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => AdminError::NotFound,
            CoreError::Unauthenticated { .. } => AdminError::SignIn,
            CoreError::Forbidden { detail, .. } => AdminError::Forbidden(detail),
            CoreError::Validation { detail, errors } => {
                let mut text = detail;
                for (field, msgs) in errors {
                    text.push_str(&format!(" {field}: {}", msgs.join(" ")));
                }
                AdminError::BadRequest(text)
            }
            CoreError::Conflict { detail, .. } | CoreError::Unprocessable { detail, .. } => {
                AdminError::BadRequest(detail)
            }
            CoreError::Unavailable(cause) => AdminError::Unavailable(cause),
            CoreError::Internal(cause) => AdminError::Internal(cause),
        }
    }
}

impl From<askama::Error> for AdminError {
    fn from(e: askama::Error) -> Self {
        AdminError::Internal(format!("template: {e}"))
    }
}

/// The signed-in staff member and the page's surroundings, inside the blocking call.
pub struct Page<'a> {
    pub core: &'a Core,
    /// The request context, its principal set.
    pub ctx: Ctx,
    pub chrome: Chrome,
    /// Messages for the next page (after a redirect).
    pub flash: Vec<Message>,
    pub here: String,
}

impl Page<'_> {
    pub fn chrome(&self, title: impl Into<String>, crumbs: Vec<(String, String)>) -> Chrome {
        Chrome {
            title: title.into(),
            crumbs,
            ..self.chrome.clone()
        }
    }

    pub fn html(&self, tpl: &impl Template) -> Result<Out, AdminError> {
        Ok(Out::Html(StatusCode::OK, tpl.render()?))
    }

    pub fn redirect(&mut self, to: impl Into<String>, msg: Option<Message>) -> Out {
        if let Some(m) = msg {
            self.flash.push(m);
        }
        Out::Redirect(to.into())
    }
}

/// Runs a page for a signed-in staff member: the principal is loaded (a session whose user is
/// gone, inactive or no longer staff is sent to the login page), the navigation drawn for its
/// role, then `f` runs, all in one blocking call. Errors become HTML pages.
pub async fn run<F>(st: &AppState, visit: Visit, f: F) -> HttpResponse
where
    F: FnOnce(&mut Page<'_>) -> Result<Out, AdminError> + Send + 'static,
{
    let here = visit.here();
    let Visit {
        mut ctx,
        uid,
        csrf,
        messages,
        session,
        ..
    } = visit;
    let Some(uid) = uid else {
        return login_redirect(&here);
    };
    let core = st.core.clone();
    let result = web::block(move || {
        let principal = core
            .db
            .read(|c| inventory_core::services::users::load_principal(c, uid))?;
        let Some((principal, row)) = principal.filter(|(p, _)| p.is_staff) else {
            return Ok((Out::Redirect(login_url(&here)), vec![]));
        };
        let display = if row.first_name.is_empty() {
            row.username.clone()
        } else {
            format!("{} {}", row.first_name, row.last_name)
                .trim()
                .to_owned()
        };
        ctx.principal = Some(principal);
        let chrome = Chrome {
            title: String::new(),
            user: Some(display),
            csrf,
            nav: super::nav(&core, &ctx, &here),
            messages,
            crumbs: vec![],
        };
        let mut page = Page {
            core: &core,
            ctx,
            chrome,
            flash: vec![],
            here,
        };
        let out = match f(&mut page) {
            Err(e) => render_error(&page, e),
            Ok(o) => o,
        };
        Ok::<_, CoreError>((out, page.flash))
    })
    .await;
    let (out, flash) = match result {
        Ok(Ok(x)) => x,
        Ok(Err(CoreError::Unavailable(cause))) => {
            return plain_error(
                503,
                &format!("The database is unavailable; try again. ({cause})"),
            )
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "staff page failed");
            return plain_error(500, "Something went wrong; it has been logged.");
        }
        Err(e) => {
            tracing::error!(error = %e, "staff page task failed");
            return plain_error(500, "Something went wrong; it has been logged.");
        }
    };
    if !flash.is_empty() {
        let mut all: Vec<Message> = session.get(MESSAGES).ok().flatten().unwrap_or_default();
        all.extend(flash);
        let _ = session.insert(MESSAGES, all);
    }
    match out {
        Out::Html(status, body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Out::Redirect(to) => redirect(&to),
        Out::Svg(body) => HttpResponse::Ok().content_type("image/svg+xml").body(body),
    }
}

fn render_error(page: &Page<'_>, e: AdminError) -> Out {
    let (status, heading, detail) = match e {
        AdminError::SignIn => return Out::Redirect(login_url(&page.here)),
        AdminError::NotFound => (
            404,
            "Not found",
            "The page or object you asked for does not exist, or you may not see it.".to_owned(),
        ),
        AdminError::Forbidden(d) => (403, "Forbidden", d),
        AdminError::BadRequest(d) => (400, "Bad request", d),
        AdminError::Unavailable(cause) => {
            tracing::warn!(%cause, "database unavailable");
            (
                503,
                "Service unavailable",
                "The database is unavailable; try again shortly.".to_owned(),
            )
        }
        AdminError::Internal(cause) => {
            tracing::error!(%cause, "staff page failed");
            (
                500,
                "Server error",
                "Something went wrong; it has been logged.".to_owned(),
            )
        }
    };
    let tpl = ErrorPage {
        chrome: page.chrome(heading, vec![]),
        status,
        heading: heading.to_owned(),
        detail,
    };
    let body = tpl.render().unwrap_or_else(|_| heading.to_owned());
    Out::Html(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
}

pub fn plain_error(status: u16, text: &str) -> HttpResponse {
    let tpl = ErrorPage {
        chrome: Chrome {
            title: "Error".into(),
            ..Chrome::default()
        },
        status,
        heading: "Error".into(),
        detail: text.to_owned(),
    };
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("text/html; charset=utf-8")
        .body(tpl.render().unwrap_or_else(|_| text.to_owned()))
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to.to_owned()))
        .finish()
}

pub fn login_url(next: &str) -> String {
    format!("/admin/login/?next={}", encode(next))
}

pub fn login_redirect(next: &str) -> HttpResponse {
    redirect(&login_url(next))
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string from pairs.
pub fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The pairs of a query string, decoded; a malformed one gives none.
pub fn query_pairs(qs: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(qs)
        .map(|q| q.into_inner())
        .unwrap_or_default()
}

/// Field errors of a failed save, by field.
pub type Errors = BTreeMap<String, Vec<String>>;
