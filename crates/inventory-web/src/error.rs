//! The HTTP face of [`CoreError`]: one status per variant and the body shape of API.md §1.
//! Internal causes go to the log, never into a response.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use inventory_core::{CoreError, FieldErrors};
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub errors: Option<FieldErrors>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after: Option<i64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.body.code)
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                detail: detail.into(),
                code: code.into(),
                errors: None,
            },
            retry_after: None,
        }
    }

    pub fn with_errors(mut self, errors: FieldErrors) -> Self {
        self.body.errors = Some(errors);
        self
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Not found.")
    }

    /// The database is down or busy beyond waiting: 503 with `Retry-After`, cause in the log.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "database unavailable");
        ApiError {
            retry_after: Some(1),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database is unavailable; try again shortly.",
            )
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error.",
        )
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::NotFound => ApiError::not_found(),
            CoreError::Validation { detail, errors } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid", detail).with_errors(errors)
            }
            CoreError::Conflict {
                code,
                detail,
                errors,
            } => {
                let e = ApiError::new(StatusCode::CONFLICT, code, detail);
                if errors.is_empty() {
                    e
                } else {
                    e.with_errors(errors)
                }
            }
            CoreError::Forbidden {
                code,
                detail,
                retry_after,
            } => ApiError {
                retry_after,
                ..ApiError::new(StatusCode::FORBIDDEN, code, detail)
            },
            CoreError::Unauthenticated { code, detail } => {
                ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
            }
            CoreError::Unprocessable { code, detail } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
            }
            CoreError::Unavailable(cause) => ApiError::unavailable(cause),
            CoreError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut b = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            b.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        b.json(&self.body)
    }
}

/// The 400 for a NUL character in `field`: no text of ours may hold one, and PostgreSQL cannot
/// store it.
pub fn nul_refused(field: &str) -> ApiError {
    let mut errors = FieldErrors::new();
    errors.insert(
        field.to_owned(),
        vec!["NUL characters are not allowed.".to_owned()],
    );
    ApiError::bad_request("invalid", "Invalid input.").with_errors(errors)
}

/// JSON 404 for unknown paths, instead of actix's empty body.
pub async fn not_found() -> HttpResponse {
    ApiError::not_found().error_response()
}

/// JSON 405 for a known path with a method it does not take, with the `Allow` the client
/// needs to correct itself.
pub async fn method_not_allowed(req: actix_web::HttpRequest) -> HttpResponse {
    let mut res = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method not allowed.",
    )
    .error_response();
    let allow = req
        .app_data::<actix_web::web::Data<crate::AppState>>()
        .and_then(|st| {
            st.allow
                .iter()
                .find(|(def, _)| def.is_match(req.path()))
                .map(|(_, a)| a.clone())
        });
    if let Some(v) = allow.and_then(|a| actix_web::http::header::HeaderValue::from_str(&a).ok()) {
        res.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    res
}
