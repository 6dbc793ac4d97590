//! The one error type of the core.
//!
//! Each variant maps to exactly one HTTP status in `inventory-web`; the internal cause of an
//! unexpected failure is kept for the log and never shown to a client.

use std::collections::BTreeMap;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Field name → messages, the `errors` member of the contract's error body.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The object does not exist, or the caller may not know that it does.
    #[error("Not found.")]
    NotFound,
    /// Input failed validation; every problem is listed by field.
    #[error("{detail}")]
    Validation { detail: String, errors: FieldErrors },
    /// A state conflict: duplicate value, insufficient stock, invalid transition, in use.
    #[error("{detail}")]
    Conflict {
        code: &'static str,
        detail: String,
        errors: FieldErrors,
    },
    /// Authenticated but not allowed (also CSRF failures and locked accounts).
    #[error("{detail}")]
    Forbidden {
        code: &'static str,
        detail: String,
        /// Seconds until the refusal lifts, for `Retry-After` (locked accounts).
        retry_after: Option<i64>,
    },
    /// Well-formed but refused as a whole (an idempotency key reused with another body).
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// Not authenticated, or bad credentials or token.
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: String },
    /// The database cannot be reached (or its writer was not free in time): a 503 the client
    /// may retry, never a hang. The text goes to the log only.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything unexpected; the text goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        CoreError::Validation {
            detail: "Invalid input.".into(),
            errors,
        }
    }

    pub fn from_fields(errors: FieldErrors) -> Self {
        CoreError::Validation {
            detail: "Invalid input.".into(),
            errors,
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        CoreError::Conflict {
            code,
            detail: detail.into(),
            errors: FieldErrors::new(),
        }
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        CoreError::Forbidden {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn permission_denied() -> Self {
        Self::forbidden(
            "permission_denied",
            "You do not have permission to perform this action.",
        )
    }

    pub fn not_authenticated() -> Self {
        CoreError::Unauthenticated {
            code: "not_authenticated",
            detail: "Authentication credentials were not provided.".into(),
        }
    }

    /// A bad, expired or revoked token of either kind (a JWT, an API token): one answer for
    /// every way a token can fail, so none of them tells an attacker more.
    pub fn token_not_valid() -> Self {
        CoreError::Unauthenticated {
            code: "token_not_valid",
            detail: "Token is invalid or expired.".into(),
        }
    }

    /// A change whose amounts (a stock value, a total) would leave the range the system keeps
    /// exactly; refused rather than rounded.
    pub fn out_of_range() -> Self {
        Self::validation(
            "non_field_errors",
            "The amounts involved (a stock value or a total) are too large to keep exactly; \
             the change was refused.",
        )
    }

    pub fn insufficient_stock() -> Self {
        Self::conflict(
            "insufficient_stock",
            "Not enough stock at that location for this change.",
        )
    }
}

/// Collects field errors while parsing an input, so a client sees every problem at once.
#[derive(Default, Debug)]
pub struct Errors(pub FieldErrors);

impl Errors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Keeps the value when parsing succeeded, records the message otherwise.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(m) => {
                self.add(field, m);
                None
            }
        }
    }

    /// The value when parsing succeeded; otherwise records the message and gives a stand-in
    /// that never escapes, because [`Errors::finish`] then refuses the whole input. So a
    /// validation reads as one value per field, with no "cannot happen" branch after it.
    pub fn field<T: Default>(&mut self, field: &str, r: Result<T, String>) -> T {
        self.take(field, r).unwrap_or_default()
    }

    /// The 400 of what was gathered, for a check that cannot go on (the rest depends on a
    /// field already found wrong).
    pub fn into_error(self) -> CoreError {
        CoreError::from_fields(self.0)
    }

    /// Ends the checks with the value they built from `take`n fields: a field that failed
    /// left `None` and its message, so the value exists exactly when nothing failed.
    pub fn finish_with<T>(mut self, value: Option<T>) -> CoreResult<T> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            Some(_) => Err(self.into_error()),
            None => {
                if self.0.is_empty() {
                    self.add("non_field_errors", "Invalid input.");
                }
                Err(self.into_error())
            }
        }
    }

    pub fn finish(self) -> Result<(), CoreError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CoreError::from_fields(self.0))
        }
    }
}

/// The field a unique index protects, from its name (both backends name the index or column).
fn unique_field(message: &str) -> &'static str {
    const FIELDS: [(&str, &str); 7] = [
        ("sku", "sku"),
        ("barcode", "barcode"),
        ("username", "username"),
        ("email", "email"),
        ("code", "code"),
        ("product_suppliers", "supplier_id"),
        ("name", "name"),
    ];
    FIELDS
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map(|(_, field)| *field)
        .unwrap_or("non_field_errors")
}

impl From<DieselError> for CoreError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => CoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let text = format!(
                    "{} {}",
                    info.constraint_name().unwrap_or(""),
                    info.message()
                );
                let field = unique_field(&text);
                let mut errors = FieldErrors::new();
                errors.insert(
                    field.to_owned(),
                    vec![format!("An object with this {field} already exists.")],
                );
                CoreError::Conflict {
                    code: "unique",
                    detail: format!("An object with this {field} already exists."),
                    errors,
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::CheckViolation, info)
                if info.message().contains("quantity")
                    || info
                        .constraint_name()
                        .is_some_and(|c| c.contains("quantity")) =>
            {
                CoreError::insufficient_stock()
            }
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                CoreError::conflict("in_use", "The object is referenced by other objects.")
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => CoreError::Unavailable(info.message().to_owned()),
            DieselError::DatabaseError(_, info) if lost_connection(info.message()) => {
                CoreError::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(_, info)
                if info.message().contains("out of range")
                    || info.message().contains("integer overflow") =>
            {
                CoreError::out_of_range()
            }
            other => CoreError::Internal(other.to_string()),
        }
    }
}

/// Messages of a PostgreSQL connection that went away under a statement (server restart,
/// administrator shutdown, network loss).
fn lost_connection(message: &str) -> bool {
    const SIGNS: [&str; 5] = [
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "no connection to the server",
        "the database system is",
    ];
    SIGNS.iter().any(|s| message.contains(s))
}

impl From<r2d2::Error> for CoreError {
    fn from(e: r2d2::Error) -> Self {
        CoreError::Unavailable(format!("database pool: {e}"))
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
