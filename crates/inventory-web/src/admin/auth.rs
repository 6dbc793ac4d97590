//! Signing in and out of the staff site, and changing one's password there (ADMIN.md "Who gets
//! in"). The login shares the API's lockout, rate limit and login-attempt log; only staff
//! get a session, and the session id is new at every login.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use inventory_core::services::accounts::{self, ChangePasswordInput};
use inventory_core::services::users::{self, LoginSite};
use inventory_core::CoreError;

use super::ui::{Chrome, FieldView, LoginPage, Message, PasswordChangePage, Widget};
use super::web::{plain_error, redirect, run, Form, Out, Visit};
use crate::app::AppState;
use crate::extract::client_ip;
use crate::login::{password_login_at, LoginError};
use crate::session::{new_csrf_token, CSRF, CSRF_COOKIE, LOGIN_ID, UID};

/// A `next` that stays on this site: a path, never `//host`, a scheme or a backslash trick.
fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next.to_owned()
    } else {
        "/admin/".to_owned()
    }
}

fn csrf_cookie(st: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, token.to_owned())
        .path("/")
        .http_only(false)
        .secure(st.settings.cookie_secure())
        .same_site(SameSite::Lax)
        .finish()
}

fn login_page(
    st: &AppState,
    visit: &Visit,
    status: StatusCode,
    username: &str,
    next: &str,
    error: Option<String>,
) -> HttpResponse {
    let tpl = LoginPage {
        chrome: Chrome {
            title: "Sign in".into(),
            csrf: visit.csrf.clone(),
            messages: visit.messages.clone(),
            ..Chrome::default()
        },
        username: username.to_owned(),
        next: next.to_owned(),
        error,
    };
    match tpl.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .cookie(csrf_cookie(st, &visit.csrf))
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "login template");
            plain_error(500, "The login page could not be drawn.")
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

/// `GET /admin/login/`: the form (a staff member already signed in goes on to `next`).
pub async fn login_form(st: web::Data<AppState>, req: HttpRequest, visit: Visit) -> HttpResponse {
    let q = web::Query::<NextQuery>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let next = safe_next(q.next.as_deref().unwrap_or("/admin/"));
    if let Some(uid) = visit.uid {
        let core = st.core.clone();
        let staff = web::block(move || core.db.read(|c| users::load_principal(c, uid))).await;
        if let Ok(Ok(Some((p, _)))) = staff {
            if p.is_staff {
                return redirect(&next);
            }
        }
    }
    login_page(&st, &visit, StatusCode::OK, "", &next, None)
}

/// `POST /admin/login/`: staff only; the rest get the form again with the reason.
pub async fn login(
    st: web::Data<AppState>,
    req: HttpRequest,
    visit: Visit,
    form: Form,
) -> HttpResponse {
    let form = form.0;
    let username = form.text("username");
    let password = form.text("password");
    let next = safe_next(form.get("next").unwrap_or("/admin/"));
    // The API's per-IP budget, shared with its login endpoints.
    let ip = client_ip(&req, &st.trusted_proxies).and_then(|s| s.parse().ok());
    if let Some(ip) = ip {
        if let Err(secs) = st.limiter.check_everywhere(&st.core, ip).await {
            let mut res = login_page(
                &st,
                &visit,
                StatusCode::TOO_MANY_REQUESTS,
                &username,
                &next,
                Some(
                    "Too many sign-in attempts from your address; wait a minute and try again."
                        .into(),
                ),
            );
            if let Ok(v) = header::HeaderValue::from_str(&secs.max(1).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
    }
    let result = password_login_at(
        &st,
        visit.ctx.clone(),
        username.clone(),
        password,
        LoginSite::Staff,
    )
    .await;
    let user = match result {
        Ok(u) => u,
        Err(LoginError::Core(CoreError::Forbidden {
            code: "account_locked",
            detail,
            retry_after,
        })) => {
            let mut res = login_page(
                &st,
                &visit,
                StatusCode::FORBIDDEN,
                &username,
                &next,
                Some(detail),
            );
            if let Some(secs) = retry_after {
                if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            return res;
        }
        Err(LoginError::Core(CoreError::Forbidden {
            code: "not_staff",
            detail,
            ..
        })) => return login_page(&st, &visit, StatusCode::OK, &username, &next, Some(detail)),
        Err(LoginError::Core(CoreError::Unauthenticated { .. })) => {
            return login_page(
                &st,
                &visit,
                StatusCode::OK,
                &username,
                &next,
                Some(
                    "Please enter the correct username and password for a staff account. \
                     Note that both fields may be case-sensitive."
                        .into(),
                ),
            )
        }
        Err(LoginError::Core(CoreError::Unavailable(_))) => {
            return plain_error(503, "The database is unavailable; try again shortly.")
        }
        Err(LoginError::Core(e)) => {
            tracing::error!(error = %e, "staff login failed");
            return plain_error(500, "The sign-in failed; it has been logged.");
        }
        Err(LoginError::Api(e)) => {
            return login_page(&st, &visit, e.status, &username, &next, Some(e.body.detail))
        }
    };
    // A new session id at every login (no fixation), with a new CSRF secret.
    let session = &visit.session;
    session.renew();
    let token = new_csrf_token();
    let stored = session
        .insert(UID, user.id)
        .and_then(|_| session.insert(CSRF, &token))
        .and_then(|_| session.insert(LOGIN_ID, hex::encode(rand::random::<[u8; 16]>())));
    if let Err(e) = stored {
        tracing::error!(error = %e, "cannot store the staff session");
        return plain_error(500, "The session could not be started.");
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, next))
        .cookie(csrf_cookie(&st, &token))
        .finish()
}

/// `POST /admin/logout/`: the session is deleted on the server; the old cookie is dead.
pub async fn logout(st: web::Data<AppState>, visit: Visit, _form: Form) -> HttpResponse {
    if let Some(uid) = visit.uid {
        let core = st.core.clone();
        let mut ctx = visit.ctx.clone();
        let done = web::block(move || {
            if let Some((p, _)) = core.db.read(|c| users::load_principal(c, uid))? {
                ctx.principal = Some(p);
                core.db.write(|c| users::record_logout(c, &ctx))?;
            }
            Ok::<_, CoreError>(())
        })
        .await;
        if !matches!(done, Ok(Ok(()))) {
            tracing::warn!("logout audit entry not written");
        }
    }
    visit.session.purge();
    let mut gone = Cookie::build(CSRF_COOKIE, "").path("/").finish();
    gone.make_removal();
    let mut res = login_page(
        &st,
        &Visit {
            messages: vec![Message::success(
                "You are signed out. Thanks for the work today.",
            )],
            ..visit
        },
        StatusCode::OK,
        "",
        "/admin/",
        None,
    );
    let _ = res.add_removal_cookie(&gone);
    res
}

/// `GET /admin/logout/` is not a way to sign out (a link or an image could do it): 405.
pub async fn logout_get() -> HttpResponse {
    let mut res = plain_error(405, "Sign out with the button at the top of every page.");
    res.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    res
}

fn password_fields(errors: &super::web::Errors) -> Vec<FieldView> {
    let field = |name: &str, label: &str, help: &str| FieldView {
        name: name.into(),
        label: label.into(),
        widget: Widget::Password,
        value: String::new(),
        checked: false,
        options: vec![],
        errors: errors.get(name).cloned().unwrap_or_default(),
        required: true,
        help: help.into(),
    };
    vec![
        field("old_password", "Old password", ""),
        field(
            "new_password1",
            "New password",
            "At least 10 characters, not all digits, not containing your username, and not easy to guess.",
        ),
        field("new_password2", "New password confirmation", "Enter the same password as before."),
    ]
}

fn password_page(
    page: &super::web::Page<'_>,
    errors: &super::web::Errors,
    summary: Vec<String>,
) -> Result<Out, super::web::AdminError> {
    let tpl = PasswordChangePage {
        chrome: page.chrome(
            "Password change",
            vec![(String::new(), "Password change".into())],
        ),
        fields: password_fields(errors),
        summary,
    };
    Ok(Out::Html(StatusCode::OK, tpl.render()?))
}

/// `GET /admin/password_change/`.
pub async fn password_form(st: web::Data<AppState>, visit: Visit) -> HttpResponse {
    run(&st, visit, |page| {
        password_page(page, &Default::default(), vec![])
    })
    .await
}

/// `POST /admin/password_change/`: the API's policy; this session stays signed in, every
/// other session and token of the user is revoked.
pub async fn password_change(st: web::Data<AppState>, visit: Visit, form: Form) -> HttpResponse {
    let form = form.0;
    run(&st, visit, move |page| {
        let old = form.text("old_password");
        let new1 = form.text("new_password1");
        let new2 = form.text("new_password2");
        let mut errors = super::web::Errors::new();
        if new1 != new2 {
            errors
                .entry("new_password2".into())
                .or_default()
                .push("The two password fields didn't match.".into());
            return password_page(page, &errors, vec![]);
        }
        match accounts::change_password(
            page.core,
            &page.ctx,
            ChangePasswordInput {
                old_password: old,
                new_password: new1,
            },
        ) {
            Ok(()) => Ok(page.redirect(
                "/admin/",
                Some(Message::success("Your password was changed.")),
            )),
            Err(CoreError::Validation { errors: e, .. }) => {
                let mut summary = vec![];
                for (k, v) in e {
                    let key = match k.as_str() {
                        "new_password" => "new_password1".to_owned(),
                        "old_password" => k,
                        _ => {
                            summary.extend(v);
                            continue;
                        }
                    };
                    errors.entry(key).or_default().extend(v);
                }
                password_page(page, &errors, summary)
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
