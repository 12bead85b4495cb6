//! Who may call what: API keys (`Authorization: Bearer`, or `access_token` on the
//! WeChat-compatible routes) and signed download URLs.

use std::rc::Rc;

use wxmedia::protocol::sign::{verify_in, SignatureError, SignedKind};

use crate::config::{Apps, Config, DownloadAuth};
use crate::error::{ApiError, ErrorCode};

/// Compares in time that depends only on the lengths, so a key cannot be guessed byte by byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `key` is one of the configured API keys.
pub fn is_api_key(config: &Config, key: &str) -> Result<bool, ApiError> {
    let keys = config.require_api_keys()?;
    // Check every key, so timing does not tell which one matched.
    Ok(keys.iter().fold(false, |found, k| {
        constant_time_eq(k.expose().as_bytes(), key.as_bytes()) | found
    }))
}

/// The app whose key `key` is (WeChat-compatible routes pick the app this way): `None` when no
/// app has it, a 500 naming `API_KEYS` when no app has any key.
pub fn app_for_key<'a>(apps: &'a Apps, key: &str) -> Result<Option<&'a Rc<Config>>, ApiError> {
    if apps.apps.iter().all(|app| app.api_keys.is_empty()) {
        apps.default.require_api_keys()?;
    }
    // Check every key of every app, so timing does not tell which one matched.
    Ok(apps.apps.iter().fold(None, |found, app| {
        let hit = app.api_keys.iter().fold(false, |hit, k| {
            constant_time_eq(k.expose().as_bytes(), key.as_bytes()) | hit
        });
        found.or(hit.then_some(app))
    }))
}

/// Whether `key` is one of the app's token keys (`TOKEN_KEYS`), checked in constant time
/// against every one. API keys are not token keys.
pub fn is_token_key(config: &Config, key: &str) -> bool {
    config.token_keys.iter().fold(false, |found, k| {
        constant_time_eq(k.expose().as_bytes(), key.as_bytes()) | found
    })
}

/// The bearer token of an `Authorization` header.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Requires an API key as a bearer token.
pub fn require_key(config: &Config, authorization: Option<&str>) -> Result<(), ApiError> {
    let Some(key) = bearer(authorization) else {
        return Err(ApiError::unauthorized(
            "this route needs an API key: send Authorization: Bearer <key>",
        ));
    };
    if is_api_key(config, key)? {
        Ok(())
    } else {
        Err(ApiError::unauthorized("the API key is not valid"))
    }
}

/// What a download request carries to prove it may download.
pub struct DownloadCredentials<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `exp` query parameter.
    pub exp: Option<&'a str>,
    /// The `sig` query parameter.
    pub sig: Option<&'a str>,
}

/// Checks a download against `DOWNLOAD_AUTH`. With `signed`, an API key also passes.
pub fn check_download(
    config: &Config,
    kind: SignedKind,
    media_id: &str,
    creds: &DownloadCredentials<'_>,
    now_secs: u64,
) -> Result<(), ApiError> {
    match config.download_auth {
        DownloadAuth::Public => Ok(()),
        DownloadAuth::Key => require_key(config, creds.authorization),
        DownloadAuth::Signed => {
            if creds.authorization.is_some() && creds.exp.is_none() && creds.sig.is_none() {
                return require_key(config, creds.authorization);
            }
            let key = config.require_signing_key()?;
            let app = config.sign_scope();
            verify_in(key, app, kind, media_id, creds.exp, creds.sig, now_secs).map_err(|e| match e
            {
                SignatureError::Missing => ApiError::new(
                    ErrorCode::SignatureRequired,
                    "downloads need a signed URL (exp and sig) or an API key",
                ),
                SignatureError::Expired => {
                    ApiError::new(ErrorCode::SignatureExpired, e.to_string())
                }
                SignatureError::Invalid => {
                    ApiError::new(ErrorCode::SignatureInvalid, e.to_string())
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_leniently_and_checked_strictly() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer   abc ")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer ")), None);
        assert_eq!(bearer(None), None);
        assert!(constant_time_eq(b"key", b"key"));
        assert!(!constant_time_eq(b"key", b"kex"));
        assert!(!constant_time_eq(b"key", b"key2"));
    }
}
