//! Who is calling and what they may do: the principal, the request context, the permission
//! table of API.md §2.4, and password hashing and policy.

use std::sync::OnceLock;

use crate::error::{CoreError, CoreResult};
use crate::models::UserRow;
use crate::types::Role;

/// The authenticated caller, as the server's auth layer established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub is_superuser: bool,
    pub is_staff: bool,
    /// Set when the caller came with an API token rather than a login: such a caller may not
    /// make tokens or change the password, and a read-only token may not write.
    pub api_token: Option<TokenGrant>,
}

/// The API token a request was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: i64,
    pub read_only: bool,
}

impl Principal {
    pub fn from_user(u: &UserRow) -> CoreResult<Principal> {
        Ok(Principal {
            user_id: u.id,
            username: u.username.clone(),
            role: Role::parse(&u.role).map_err(CoreError::Internal)?,
            is_superuser: u.is_superuser,
            is_staff: u.is_staff,
            api_token: None,
        })
    }
}

/// Who is calling and from where: what every service needs for permissions and the audit log.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub principal: Option<Principal>,
    pub ip: Option<String>,
    pub request_id: String,
    pub user_agent: String,
    /// The current login (a session's login id or a token family), so "revoke my other
    /// logins" can spare it.
    pub login_ref: Option<String>,
    /// The idempotency key this request claimed (its row id), marked as committed by the
    /// audit entries of the change's own transaction (`services::idempotency`).
    pub idempotency: Option<i64>,
}

impl Ctx {
    /// A context for the command line: no principal, no address.
    pub fn system() -> Ctx {
        Ctx {
            request_id: "cli".into(),
            ..Ctx::default()
        }
    }

    pub fn user(&self) -> CoreResult<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(CoreError::not_authenticated)
    }

    pub fn user_id(&self) -> Option<i64> {
        self.principal.as_ref().map(|p| p.user_id)
    }

    /// Requires one of `roles` (a superuser always passes); guests get 401, others 403.
    pub fn require(&self, roles: &[Role]) -> CoreResult<&Principal> {
        let p = self.user()?;
        if p.is_superuser || roles.contains(&p.role) {
            Ok(p)
        } else {
            Err(CoreError::permission_denied())
        }
    }

    pub fn require_superuser(&self) -> CoreResult<&Principal> {
        let p = self.user()?;
        if p.is_superuser {
            Ok(p)
        } else {
            Err(CoreError::permission_denied())
        }
    }

    /// Catalog reads: anyone signed in, and guests unless `PUBLIC_READ=false`.
    pub fn read_catalog(&self, public_read: bool) -> CoreResult<()> {
        if public_read || self.principal.is_some() {
            Ok(())
        } else {
            Err(CoreError::not_authenticated())
        }
    }

    /// Orders, transfers, adjustments, history, dashboard, reports, alerts: any signed-in user.
    pub fn read_operations(&self) -> CoreResult<&Principal> {
        self.user()
    }

    pub fn read_audit(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Admin, Role::Auditor])
    }

    pub fn create_catalog(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Employee, Role::Manager, Role::Admin])
    }

    /// Update or delete catalog objects: employees only what they created, managers and up any.
    pub fn modify_catalog(&self, created_by: Option<i64>) -> CoreResult<&Principal> {
        let p = self.create_catalog()?;
        if p.role == Role::Employee && !p.is_superuser && created_by != Some(p.user_id) {
            return Err(CoreError::forbidden(
                "permission_denied",
                "Employees may change only what they created.",
            ));
        }
        Ok(p)
    }

    /// Customers and sales: employees and up create, and change what they created; managers
    /// and up change or delete any; auditors only read (through [`Ctx::read_operations`]).
    pub fn sell(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Employee, Role::Manager, Role::Admin])
    }

    pub fn manage_locations(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Manager, Role::Admin])
    }

    pub fn basic_stock(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Employee, Role::Manager, Role::Admin])
    }

    pub fn manager_stock(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Manager, Role::Admin])
    }

    pub fn manage_users(&self) -> CoreResult<&Principal> {
        self.require(&[Role::Admin])
    }
}

/// Checks the password policy of API.md §2.3 and lists every reason it fails.
pub fn check_password(password: &str, username: &str, email: &str) -> Result<(), Vec<String>> {
    let mut reasons = Vec::new();
    if password.chars().count() < 10 {
        reasons.push("This password is too short. It must contain at least 10 characters.".into());
    }
    if password.len() > 72 {
        reasons.push("This password is too long. It must be at most 72 bytes.".into());
    }
    if !password.is_empty() && password.chars().all(|c| c.is_ascii_digit()) {
        reasons.push("This password is entirely numeric.".into());
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        reasons.push("The password must not contain the username.".into());
    }
    if reasons.is_empty() {
        let local = email.split('@').next().unwrap_or("");
        let inputs: Vec<&str> = [username, local]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        let estimate = zxcvbn::zxcvbn(password, &inputs);
        if (estimate.score() as u8) < 3 {
            let mut msg = "This password is too easy to guess.".to_string();
            if let Some(fb) = estimate.feedback() {
                if let Some(w) = fb.warning() {
                    msg.push(' ');
                    msg.push_str(&w.to_string());
                }
            }
            reasons.push(msg);
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons)
    }
}

pub fn hash_password(password: &str, cost: u32) -> CoreResult<String> {
    bcrypt::hash(password, cost).map_err(|e| CoreError::Internal(format!("bcrypt: {e}")))
}

/// Verifies a password; a malformed stored hash is simply a mismatch.
pub fn verify_password(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

/// Checks a password against a stored hash, or (for an unknown username) spends the same work
/// on a dummy one and answers `false`.
pub fn verify_or_dummy(password: &str, hash: Option<&str>, cost: u32) -> bool {
    match hash {
        Some(h) => verify_password(password, h),
        None => {
            dummy_verify(password, cost);
            false
        }
    }
}

/// Spends the same bcrypt work as a real check, so unknown usernames cost what known ones do.
pub fn dummy_verify(password: &str, cost: u32) {
    static DUMMY: OnceLock<(u32, String)> = OnceLock::new();
    let (dummy_cost, hash) = DUMMY.get_or_init(|| {
        (
            cost,
            bcrypt::hash("timing-equaliser-password", cost).unwrap_or_default(),
        )
    });
    if *dummy_cost == cost {
        let _ = bcrypt::verify(password, hash);
    } else {
        let _ = bcrypt::hash(password, cost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_reasons() {
        assert!(check_password("short", "bob", "bob@example.com").is_err());
        assert!(check_password("12345678901234", "bob", "bob@example.com").is_err());
        assert!(check_password("password123", "bob", "bob@example.com").is_err());
        assert!(check_password("alice-Tr1cky-Horse-77", "alice", "a@example.com").is_err());
        let long = "a".repeat(73);
        assert!(check_password(&long, "bob", "bob@example.com").is_err());
        assert!(check_password("correct horse battery staple 9", "bob", "b@example.com").is_ok());
    }
}
