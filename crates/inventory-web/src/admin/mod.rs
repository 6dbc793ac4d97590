//! The staff site at `/admin/` (ADMIN.md): every object of the API found, read, created,
//! changed and deleted from a browser, through the same core services as the API, with
//! server-rendered HTML (askama), CSS and a small optional script served from the binary.

mod auth;
mod charts;
mod dashboard;
mod edit;
mod forms;
mod handlers;
mod list;
mod model;
mod models;
mod scan;
mod ui;
mod web;

use actix_web::http::header;
use actix_web::{web as aw, HttpRequest, HttpResponse, Scope};
use inventory_core::auth::Ctx;
use inventory_core::Core;

use self::model::ModelAdmin;
use self::ui::NavItem;

/// Every model of the site, in navigation order.
pub fn registry() -> &'static [&'static dyn ModelAdmin] {
    models::ALL
}

fn find(slug: &str) -> Option<&'static dyn ModelAdmin> {
    registry().iter().copied().find(|m| m.meta().slug == slug)
}

/// The navigation for the caller's role: only what it may open.
fn nav(_core: &Core, ctx: &Ctx, here: &str) -> Vec<NavItem> {
    let mut items = vec![
        NavItem {
            href: "/admin/".into(),
            label: "Dashboard".into(),
            active: here == "/admin/" || here.starts_with("/admin/?"),
        },
        NavItem {
            href: "/admin/scan/".into(),
            label: "Scan".into(),
            active: here.starts_with("/admin/scan/"),
        },
    ];
    for m in registry() {
        if m.can_view(ctx) {
            let href = format!("/admin/{}/", m.meta().slug);
            items.push(NavItem {
                active: here.starts_with(&href),
                href,
                label: capitalise(m.meta().plural),
            });
        }
    }
    items
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

const CSS: &str = include_str!("../../static/admin.css");
const JS: &str = include_str!("../../static/admin.js");

async fn static_file(path: aw::Path<String>) -> HttpResponse {
    let (body, ct) = match path.as_str() {
        "admin.css" => (CSS, "text/css; charset=utf-8"),
        "admin.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return web::plain_error(404, "No such file."),
    };
    HttpResponse::Ok()
        .content_type(ct)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// Paths without their trailing slash go to the one with it (Django's `APPEND_SLASH`).
async fn fallback(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if !path.ends_with('/') && req.method() == actix_web::http::Method::GET {
        let to = match req.query_string() {
            "" => format!("{path}/"),
            q => format!("{path}/?{q}"),
        };
        return web::redirect(&to);
    }
    web::plain_error(404, "There is no such page on the staff site.")
}

/// The security headers of every staff page: no inline script or style, no framing.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The `/admin` scope with every route of the staff site.
pub fn scope() -> Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    use handlers as h;
    aw::scope("/admin")
        .wrap(
            actix_web::middleware::DefaultHeaders::new()
                .add((header::CONTENT_SECURITY_POLICY, CSP))
                .add((header::CACHE_CONTROL, "no-store")),
        )
        .route("/", aw::get().to(dashboard::page))
        .route("/login/", aw::get().to(auth::login_form))
        .route("/login/", aw::post().to(auth::login))
        .route("/logout/", aw::post().to(auth::logout))
        .route("/logout/", aw::get().to(auth::logout_get))
        .route("/password_change/", aw::get().to(auth::password_form))
        .route("/password_change/", aw::post().to(auth::password_change))
        .route("/static/{file}", aw::get().to(static_file))
        .route("/scan/", aw::get().to(scan::page))
        .route("/scan/", aw::post().to(scan::book))
        .route("/products/{id}/barcode.svg", aw::get().to(h::barcode))
        .route("/{model}/", aw::get().to(h::list))
        .route("/{model}/", aw::post().to(h::list_action))
        .route("/{model}/add/", aw::get().to(edit::add_form))
        .route("/{model}/add/", aw::post().to(edit::add))
        .route("/{model}/{id}/change/", aw::get().to(edit::change_form))
        .route("/{model}/{id}/change/", aw::post().to(edit::change))
        .route("/{model}/{id}/delete/", aw::get().to(h::delete_form))
        .route("/{model}/{id}/delete/", aw::post().to(h::delete))
        .route("/{model}/{id}/history/", aw::get().to(h::history))
        .route("/{model}/{id}/{action}/", aw::get().to(h::action_form))
        .route("/{model}/{id}/{action}/", aw::post().to(h::action))
        .default_service(aw::to(fallback))
}
