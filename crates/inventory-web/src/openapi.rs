//! The OpenAPI description, generated from the handlers' annotations; each server merges in
//! its own login endpoints.

use utoipa::OpenApi;

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Inventory API",
        description = "Products, suppliers, stock, orders and users. Described for people in docs/api-reference.md in the repository."
    ),
    components(schemas(crate::error::ErrorBody))
)]
struct BaseApi;

pub fn base() -> utoipa::openapi::OpenApi {
    let mut api = BaseApi::openapi();
    api.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut doc = crate::router::Document::default();
    api::table(&mut doc);
    doc.merge_into(&mut api);
    api
}

/// Operations anyone may call: the probes, the documentation and the ways in.
pub const PUBLIC: &[&str] = &[
    "/health",
    "/ready",
    "/api/docs",
    "/api/auth/login",
    "/api/auth/register",
    "/api/auth/password/reset",
    "/api/auth/password/reset/confirm",
    "/api/auth/verify-email",
    "/api/auth/verify-email/resend",
    "/api/token",
    "/api/token/refresh",
    "/api/token/verify",
    // Authenticated by the refresh token in its body, like /api/token/refresh.
    "/api/token/blacklist",
];

/// Reads a guest may make while `PUBLIC_READ` is on (the default): the catalog and its stock.
/// Their credentials are optional in the document (`security: [{}, …]`).
pub const GUEST_READABLE: &[&str] = &[
    "/api/categories",
    "/api/categories/{id}",
    "/api/inventory/levels",
    "/api/locations",
    "/api/locations/{id}",
    "/api/products",
    "/api/products/export",
    "/api/products/lookup",
    "/api/products/{id}",
    "/api/products/{id}/barcode.svg",
    "/api/products/{id}/suppliers",
    "/api/products/{id}/suppliers/{supplier_id}",
    "/api/stock-levels",
    "/api/suppliers",
    "/api/suppliers/{id}",
    "/api/suppliers/{id}/products",
];

/// A request a caller without any credentials can never have granted: every write under
/// `/api/` except the ways in (login, registration, password reset, …), and every read that
/// is not of the catalog (or any read at all with `PUBLIC_READ=false`). Such a request is
/// answered 401 before its query or body is read, so a guest learns nothing from validation
/// and gets the contract's 401 rather than a 400. A method or path that is not routed at all
/// is left to the router: its 405 or 404 says more than a 401 would, and is what an
/// authenticated caller would get too.
pub fn needs_credentials(
    routes: &[(actix_web::dev::ResourceDef, String)],
    method: &actix_web::http::Method,
    path: &str,
    public_read: bool,
) -> bool {
    use actix_web::http::Method;
    let path = path.trim_end_matches('/');
    if !path.starts_with("/api/")
        || PUBLIC.contains(&path)
        || path == "/api/openapi.json"
        || path.starts_with("/api/docs")
    {
        return false;
    }
    let routed = routes
        .iter()
        .any(|(def, allow)| def.is_match(path) && allow.split(", ").any(|m| m == method.as_str()));
    if !routed {
        return false;
    }
    match *method {
        Method::OPTIONS | Method::TRACE => false,
        Method::GET | Method::HEAD => !(public_read && guest_readable(path)),
        _ => true,
    }
}

/// Whether a concrete path is one of [`GUEST_READABLE`]'s templates.
fn guest_readable(path: &str) -> bool {
    static DEFS: std::sync::OnceLock<Vec<actix_web::dev::ResourceDef>> = std::sync::OnceLock::new();
    DEFS.get_or_init(|| {
        GUEST_READABLE
            .iter()
            .map(|t| actix_web::dev::ResourceDef::new(*t))
            .collect()
    })
    .iter()
    .any(|d| d.is_match(path))
}

/// What a document needs after every server has added its operations, so validators, client
/// generators and schema-driven fuzzers accept it: each response described (the status's
/// reason phrase where the annotation gave none), every error typed as the contract's error
/// body, the refusals any operation can meet declared (bad input, no or wrong credentials,
/// an unknown id, a conflict, an oversized or mistyped body, the rate limit, the database
/// away), and the public operations marked as needing no credentials.
pub fn finish(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::RefOr;
    let mut optional = vec![SecurityRequirement::default()];
    optional.extend(api.security.clone().unwrap_or_default());
    for (path, item) in api.paths.paths.iter_mut() {
        let public = PUBLIC.contains(&path.as_str());
        let guest_readable = GUEST_READABLE.contains(&path.as_str());
        let limited = crate::ratelimit::LIMITED.contains(&path.as_str());
        let has_id = path.contains('{');
        let probe = path == "/health" || path == "/ready";
        let operations = [
            (&mut item.get, false, false),
            (&mut item.put, true, false),
            (&mut item.post, true, true),
            (&mut item.delete, true, false),
            (&mut item.options, false, false),
            (&mut item.head, false, false),
            (&mut item.patch, true, false),
            (&mut item.trace, false, false),
        ];
        for (op, writes, post) in operations {
            let Some(op) = op else { continue };
            let keyed = post && !public;
            if keyed {
                op.parameters
                    .get_or_insert_with(Vec::new)
                    .push(RefOr::T(idempotency_key()));
            }
            if public {
                op.security = Some(Vec::new());
            } else if guest_readable && !writes {
                op.security = Some(optional.clone());
            }
            let mut statuses: Vec<&str> = vec![];
            if !probe {
                statuses.extend(["400", "503"]);
            }
            if !public {
                statuses.extend(["401", "403"]);
            }
            // A write may also name objects in its body that do not exist, and a page past
            // the last one is not found either.
            let paged = op.parameters.as_ref().is_some_and(|ps| {
                ps.iter()
                    .any(|p| matches!(p, RefOr::T(p) if p.name == "page"))
            });
            if has_id || paged || (writes && !public) {
                statuses.push("404");
            }
            if writes && !public {
                statuses.push("409");
            }
            if op.request_body.is_some() {
                statuses.extend(["413", "415"]);
            }
            if keyed {
                statuses.push("422");
            }
            if limited {
                statuses.push("429");
            }
            for status in statuses {
                op.responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| RefOr::T(Default::default()));
            }
            for (status, response) in op.responses.responses.iter_mut() {
                let RefOr::T(r) = response else { continue };
                let code = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|c| actix_web::http::StatusCode::from_u16(c).ok());
                if r.description.is_empty() {
                    r.description = code
                        .and_then(|c| c.canonical_reason())
                        .unwrap_or("Response")
                        .to_owned();
                }
                let is_error = code.is_some_and(|c| c.is_client_error() || c.is_server_error());
                if is_error && r.content.is_empty() {
                    let mut content = utoipa::openapi::Content::default();
                    content.schema = Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "ErrorBody",
                    )));
                    r.content
                        .insert("application/json".to_owned(), RefOr::T(content));
                }
            }
        }
    }
}

/// The API-token scheme both servers accept beside their own login (API.md §11). OpenAPI has
/// no HTTP scheme named `Token`, so it is described as the `Authorization` header.
pub fn api_token_scheme() -> utoipa::openapi::security::SecurityScheme {
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
    SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
        "Authorization",
        "An API token from POST /api/auth/tokens, as `Authorization: Token <token>` (no CSRF \
         token needed). A read-only token may only read.",
    )))
}

/// The optional `Idempotency-Key` header of every signed-in POST (API.md §11).
fn idempotency_key() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::Required;
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key, user, path and body within 24 hours gets the \
             first answer again (with `Idempotency-Replayed: true`) and changes nothing; another \
             body → 422 `idempotency_key_reused`; while the first still runs → 409 \
             `idempotency_in_progress`.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x20-\\x7E]+$")),
        ))
        .build()
}
