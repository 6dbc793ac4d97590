//! The two small pages the account emails link to (API.md §2.3): `/verify-email` and
//! `/reset-password`, under `PUBLIC_URL`. A person clicking a link in an email has a browser,
//! not curl, so the step is completed by a plain HTML form (no JavaScript). Opening the link
//! only shows the form: the token is spent by the POST, so a mail scanner that follows links
//! cannot use it up. Both call the same account services as the JSON API.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use inventory_core::services::accounts::{self, ResetConfirmInput};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::AppState;

/// The pages' paths (their POSTs authenticate by the emailed token, never by a session).
pub const PATHS: [&str; 2] = ["/verify-email", "/reset-password"];

enum FormKind {
    Verify,
    Reset,
    None,
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage<'a> {
    title: &'a str,
    message: Option<&'a str>,
    error: Option<String>,
    form: FormKind,
    token: &'a str,
    password_errors: Vec<String>,
}

impl<'a> AccountPage<'a> {
    fn new(title: &'a str, form: FormKind, token: &'a str) -> Self {
        AccountPage {
            title,
            message: None,
            error: None,
            form,
            token,
            password_errors: vec![],
        }
    }
}

fn respond(status: StatusCode, page: &AccountPage<'_>) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_SECURITY_POLICY, crate::admin::CSP))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "account page failed to render");
            HttpResponse::InternalServerError().finish()
        }
    }
}

const MISSING: &str = "This link is incomplete: open the whole link from the email.";
const INVALID: &str = "This link is invalid, used or expired.";

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
}

/// A token travels in a link: printable ASCII of a sane length, or it is not one of ours.
fn plausible(token: &str) -> bool {
    !token.is_empty() && token.len() <= 200 && token.chars().all(|c| c.is_ascii_graphic())
}

fn token_of(q: &Option<web::Query<TokenQuery>>) -> &str {
    q.as_ref().map(|q| q.token.as_str()).unwrap_or("")
}

pub async fn verify_form(q: Option<web::Query<TokenQuery>>) -> HttpResponse {
    let token = token_of(&q);
    if !plausible(token) {
        let mut page = AccountPage::new("Confirm your email address", FormKind::None, "");
        page.error = Some(MISSING.into());
        return respond(StatusCode::BAD_REQUEST, &page);
    }
    let page = AccountPage::new("Confirm your email address", FormKind::Verify, token);
    respond(StatusCode::OK, &page)
}

pub async fn verify(
    st: web::Data<AppState>,
    caller: Caller,
    form: Option<web::Form<VerifyForm>>,
) -> HttpResponse {
    let title = "Confirm your email address";
    let token = form.map(|f| f.into_inner().token).unwrap_or_default();
    if !plausible(&token) {
        let mut page = AccountPage::new(title, FormKind::None, "");
        page.error = Some(MISSING.into());
        return respond(StatusCode::BAD_REQUEST, &page);
    }
    match caller
        .run(&st, move |core, ctx| {
            accounts::verify_email(core, ctx, &token)
        })
        .await
    {
        Ok(_) => {
            let mut page = AccountPage::new(title, FormKind::None, "");
            page.message =
                Some("Your address is confirmed and your account is active. You can sign in now.");
            respond(StatusCode::OK, &page)
        }
        Err(e) => {
            let mut page = AccountPage::new(title, FormKind::None, "");
            page.error = Some(failure(&e));
            respond(status_of(&e), &page)
        }
    }
}

pub async fn reset_form(q: Option<web::Query<TokenQuery>>) -> HttpResponse {
    let token = token_of(&q);
    if !plausible(token) {
        let mut page = AccountPage::new("Choose a new password", FormKind::None, "");
        page.error = Some(MISSING.into());
        return respond(StatusCode::BAD_REQUEST, &page);
    }
    let page = AccountPage::new("Choose a new password", FormKind::Reset, token);
    respond(StatusCode::OK, &page)
}

pub async fn reset(
    st: web::Data<AppState>,
    caller: Caller,
    form: Option<web::Form<ResetForm>>,
) -> HttpResponse {
    let title = "Choose a new password";
    let ResetForm {
        token,
        new_password,
        new_password_again,
    } = form.map(web::Form::into_inner).unwrap_or(ResetForm {
        token: String::new(),
        new_password: String::new(),
        new_password_again: String::new(),
    });
    if !plausible(&token) {
        let mut page = AccountPage::new(title, FormKind::None, "");
        page.error = Some(MISSING.into());
        return respond(StatusCode::BAD_REQUEST, &page);
    }
    if new_password != new_password_again {
        let mut page = AccountPage::new(title, FormKind::Reset, &token);
        page.password_errors = vec!["The two passwords differ.".into()];
        return respond(StatusCode::BAD_REQUEST, &page);
    }
    let input = ResetConfirmInput {
        token: token.clone(),
        new_password,
    };
    match caller
        .run(&st, move |core, ctx| {
            accounts::confirm_reset(core, ctx, input)
        })
        .await
    {
        Ok(()) => {
            let mut page = AccountPage::new(title, FormKind::None, "");
            page.message = Some(
                "Your password is changed. Every session and token you had is signed out; sign in with the new password.",
            );
            respond(StatusCode::OK, &page)
        }
        Err(e) => {
            let password_errors = e
                .body
                .errors
                .as_ref()
                .and_then(|m| m.get("new_password"))
                .cloned()
                .unwrap_or_default();
            if password_errors.is_empty() {
                // The token itself is bad: no form to retry with.
                let mut page = AccountPage::new(title, FormKind::None, "");
                page.error = Some(failure(&e));
                respond(status_of(&e), &page)
            } else {
                let mut page = AccountPage::new(title, FormKind::Reset, &token);
                page.password_errors = password_errors;
                respond(StatusCode::BAD_REQUEST, &page)
            }
        }
    }
}

/// What to tell a person: the token's problem in plain words, or the service's own detail.
fn failure(e: &ApiError) -> String {
    if e.body
        .errors
        .as_ref()
        .is_some_and(|m| m.contains_key("token"))
    {
        INVALID.to_owned()
    } else {
        e.body.detail.clone()
    }
}

fn status_of(e: &ApiError) -> StatusCode {
    if e.status.is_server_error() {
        e.status
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// The routes, added to both servers' apps.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/verify-email", web::get().to(verify_form))
        .route("/verify-email", web::post().to(verify))
        .route("/reset-password", web::get().to(reset_form))
        .route("/reset-password", web::post().to(reset));
}
