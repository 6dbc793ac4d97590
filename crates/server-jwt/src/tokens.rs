//! Token encoding and checking. HS256 keyed with the UTF-8 bytes of `SECRET_KEY`, so other
//! services holding the key can verify our tokens; no other algorithm is ever accepted.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
    /// The login this token descends from; revoking it revokes every token of that login.
    pub fam: String,
}

impl Claims {
    pub fn expires_at(&self) -> NaiveDateTime {
        DateTime::<Utc>::from_timestamp(self.exp, 0)
            .unwrap_or_default()
            .naive_utc()
    }
}

#[derive(Clone)]
pub struct Keys(Arc<Inner>);

struct Inner {
    enc: EncodingKey,
    dec: DecodingKey,
    validation: Validation,
    access_ttl: i64,
    refresh_ttl: i64,
}

pub struct Pair {
    pub access: String,
    pub refresh: String,
    pub refresh_claims: Claims,
}

pub fn random_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

impl Keys {
    pub fn new(secret: &[u8], access_ttl: i64, refresh_ttl: i64, leeway: u64) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = leeway;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Keys(Arc::new(Inner {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
            validation,
            access_ttl,
            refresh_ttl,
        }))
    }

    fn sign(&self, c: &Claims) -> Result<String, String> {
        encode(&Header::new(Algorithm::HS256), c, &self.0.enc).map_err(|e| e.to_string())
    }

    /// A fresh access + refresh pair for `user_id` within login family `fam`.
    pub fn pair(&self, user_id: i64, fam: &str) -> Result<Pair, String> {
        let now = Utc::now().timestamp();
        let access = Claims {
            token_type: "access".into(),
            exp: now + self.0.access_ttl,
            iat: now,
            jti: random_id(),
            user_id,
            fam: fam.into(),
        };
        let refresh_claims = Claims {
            token_type: "refresh".into(),
            exp: now + self.0.refresh_ttl,
            iat: now,
            jti: random_id(),
            user_id,
            fam: fam.into(),
        };
        Ok(Pair {
            access: self.sign(&access)?,
            refresh: self.sign(&refresh_claims)?,
            refresh_claims,
        })
    }

    /// Signature, algorithm, expiry and shape; `kind` must match the token's `token_type`.
    pub fn check(&self, token: &str, kind: Option<&str>) -> Option<Claims> {
        let data = decode::<Claims>(token, &self.0.dec, &self.0.validation).ok()?;
        let c = data.claims;
        if let Some(k) = kind {
            if c.token_type != k {
                return None;
            }
        }
        if c.jti.is_empty() || c.fam.is_empty() {
            return None;
        }
        Some(c)
    }
}
