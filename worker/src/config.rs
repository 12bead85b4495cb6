//! The Worker's configuration, read from `env` once per isolate ([`Config::cached`]). Names are the contract (see the
//! README): vars `UPSTREAM_BASE`, `PUBLIC_BASE_URL`, `WECHAT_APPID`, `DOWNLOAD_AUTH`, `CACHE_TTL_SECS`,
//! `CORS_ORIGINS`, `UPSTREAM_TIMEOUT_MS`, `MEMORY_CACHE_BYTES`; secrets `WECHAT_SECRET`, `API_KEYS`, `SIGNING_KEY`,
//! `WECHAT_ACCESS_TOKEN`; bindings `MEDIA_BUCKET` (R2) and `TOKENS` (Durable Object).

use worker::Env;
use wxmedia::protocol::request::{check_base_url, DEFAULT_BASE};
use wxmedia::protocol::{AccessToken, ApiKey, AppSecret, Limits, SigningKey};

use crate::error::ApiError;

/// Three days: as long as WeChat keeps temporary media.
pub const DEFAULT_CACHE_TTL_SECS: u64 = 259_200;
/// Bound on one upstream call, retries included.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 60_000;
/// The R2 binding's name.
pub const BUCKET_BINDING: &str = "MEDIA_BUCKET";
/// The token Durable Object namespace's name.
pub const TOKENS_BINDING: &str = "TOKENS";

/// Who may download media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownloadAuth {
    /// Anyone with the URL.
    Public,
    /// Callers with an API key (`Authorization: Bearer`).
    Key,
    /// Callers with a signed URL (or an API key).
    Signed,
}

impl DownloadAuth {
    /// The setting's value.
    pub fn as_str(self) -> &'static str {
        match self {
            DownloadAuth::Public => "public",
            DownloadAuth::Key => "key",
            DownloadAuth::Signed => "signed",
        }
    }
}

/// Where upstream tokens come from. Its secrets print as `[redacted]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `WECHAT_ACCESS_TOKEN`: a fixed token from a central token service.
    Fixed(AccessToken),
    /// The `TOKENS` Durable Object, one holder per app id.
    DurableObject,
    /// A holder in this isolate, fetching through `stable_token` with `WECHAT_SECRET`.
    Isolate(AppSecret),
}

/// Everything the handlers need to know, validated. Its secrets (the app secret, a fixed token,
/// the API keys, the signing key) are types that print as `[redacted]`, so `{:?}` is safe.
#[derive(Clone, Debug)]
pub struct Config {
    /// `UPSTREAM_BASE`.
    pub upstream: String,
    /// `WECHAT_APPID`.
    pub appid: String,
    /// `PUBLIC_BASE_URL`: where clients reach this Worker, for the URLs it hands out (signed
    /// download URLs). When unset, the request's own origin is used.
    pub public_base_url: Option<String>,
    /// `DOWNLOAD_AUTH`.
    pub download_auth: DownloadAuth,
    /// `CACHE_TTL_SECS`.
    pub cache_ttl_secs: u64,
    /// `CORS_ORIGINS`: allowed origins (`*` allows any).
    pub cors_origins: Vec<String>,
    /// `UPSTREAM_TIMEOUT_MS`.
    pub upstream_timeout_ms: u64,
    /// `API_KEYS`; empty if unset (then routes that need a key answer 500).
    pub api_keys: Vec<ApiKey>,
    /// `SIGNING_KEY`, if set.
    pub signing_key: Option<SigningKey>,
    /// Where tokens come from; `None` when neither a secret nor a fixed token is set.
    pub tokens: Option<TokenSource>,
    /// Whether `MEDIA_BUCKET` is bound.
    pub has_bucket: bool,
    /// Upload limits (WeChat's current ones).
    pub limits: Limits,
    /// `MEMORY_CACHE_BYTES`: the per-isolate memory tier's bound (0 disables it).
    pub memory_cache_bytes: u64,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
}

fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| var(env, name))
        .filter(|v| !v.trim().is_empty())
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn number(env: &Env, name: &str, default: u64) -> Result<u64, ApiError> {
    match var(env, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ApiError::config(&format!("{name} must be a whole number"))),
    }
}

/// The longest timer the platform keeps (2^31 − 1 ms); a longer one fires at once.
pub const MAX_TIMEOUT_MS: u64 = (1 << 31) - 1;

/// Checks `UPSTREAM_TIMEOUT_MS`: at least 1 ms, and clamped to [`MAX_TIMEOUT_MS`].
pub fn timeout_ms(value: u64) -> Result<u64, ApiError> {
    if value == 0 {
        return Err(ApiError::config(
            "UPSTREAM_TIMEOUT_MS must be at least 1 (milliseconds)",
        ));
    }
    Ok(value.min(MAX_TIMEOUT_MS))
}

thread_local! {
    /// The isolate's configuration: `env` does not change for the life of an isolate.
    static CACHED: std::cell::RefCell<Option<std::rc::Rc<Config>>> = const { std::cell::RefCell::new(None) };
}

impl Config {
    /// [`Config::from_env`], read once per isolate (every request needs it; reading `env` costs a
    /// dozen calls into JS). An error is not kept: it is reported on every request.
    pub fn cached(env: &Env) -> Result<std::rc::Rc<Config>, ApiError> {
        if let Some(config) = CACHED.with(|c| c.borrow().clone()) {
            return Ok(config);
        }
        let config = std::rc::Rc::new(Config::from_env(env)?);
        crate::error::hold_secrets(config.secrets());
        CACHED.with(|c| *c.borrow_mut() = Some(config.clone()));
        Ok(config)
    }

    /// Reads and checks the configuration. Settings that only some routes need are checked by
    /// those routes ([`Config::require_api_keys`] and friends), so `/healthz` always answers.
    pub fn from_env(env: &Env) -> Result<Config, ApiError> {
        let upstream = var(env, "UPSTREAM_BASE").unwrap_or_else(|| DEFAULT_BASE.to_string());
        check_base_url(&upstream)
            .map_err(|e| ApiError::config(&format!("UPSTREAM_BASE: {}", e.message)))?;
        let appid = var(env, "WECHAT_APPID").ok_or_else(|| {
            ApiError::config("WECHAT_APPID is not set (the official account's app id)")
        })?;
        let download_auth = match var(env, "DOWNLOAD_AUTH").as_deref() {
            None | Some("signed") => DownloadAuth::Signed,
            Some("public") => DownloadAuth::Public,
            Some("key") => DownloadAuth::Key,
            Some(other) => {
                return Err(ApiError::config(&format!(
                    "DOWNLOAD_AUTH must be public, key or signed, not {other:?}"
                )))
            }
        };
        let tokens = if let Some(token) = secret(env, "WECHAT_ACCESS_TOKEN") {
            Some(TokenSource::Fixed(AccessToken::new(token)))
        } else if let Some(secret) = secret(env, "WECHAT_SECRET") {
            if env.durable_object(TOKENS_BINDING).is_ok() {
                Some(TokenSource::DurableObject)
            } else {
                Some(TokenSource::Isolate(AppSecret::new(secret)))
            }
        } else {
            None
        };
        Ok(Config {
            upstream,
            appid,
            download_auth,
            cache_ttl_secs: number(env, "CACHE_TTL_SECS", DEFAULT_CACHE_TTL_SECS)?,
            cors_origins: list(var(env, "CORS_ORIGINS")),
            upstream_timeout_ms: timeout_ms(number(
                env,
                "UPSTREAM_TIMEOUT_MS",
                DEFAULT_UPSTREAM_TIMEOUT_MS,
            )?)?,
            public_base_url: match var(env, "PUBLIC_BASE_URL") {
                None => None,
                Some(base) => {
                    check_base_url(&base).map_err(|e| {
                        ApiError::config(&format!("PUBLIC_BASE_URL: {}", e.message))
                    })?;
                    Some(base)
                }
            },
            api_keys: list(secret(env, "API_KEYS"))
                .into_iter()
                .map(ApiKey::new)
                .collect(),
            signing_key: secret(env, "SIGNING_KEY").map(SigningKey::new),
            tokens,
            has_bucket: env.bucket(BUCKET_BINDING).is_ok(),
            limits: Limits::default(),
            memory_cache_bytes: number(
                env,
                "MEMORY_CACHE_BYTES",
                crate::memory::DEFAULT_MEMORY_CACHE_BYTES,
            )?,
        })
    }

    /// Every secret in the configuration, for scrubbing error answers.
    pub fn secrets(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .api_keys
            .iter()
            .map(|k| k.expose().to_string())
            .collect();
        out.extend(self.signing_key.iter().map(|k| k.expose().to_string()));
        match &self.tokens {
            Some(TokenSource::Fixed(t)) => out.push(t.expose().to_string()),
            Some(TokenSource::Isolate(s)) => out.push(s.expose().to_string()),
            Some(TokenSource::DurableObject) | None => {}
        }
        out
    }

    /// The API keys, or a 500 naming `API_KEYS`.
    pub fn require_api_keys(&self) -> Result<&[ApiKey], ApiError> {
        if self.api_keys.is_empty() {
            Err(ApiError::config(
                "API_KEYS is not set (a comma-separated list of keys)",
            ))
        } else {
            Ok(&self.api_keys)
        }
    }

    /// The signing key, or a 500 naming `SIGNING_KEY`.
    pub fn require_signing_key(&self) -> Result<&[u8], ApiError> {
        self.signing_key
            .as_ref()
            .map(|k| k.expose().as_bytes())
            .ok_or_else(|| ApiError::config("SIGNING_KEY is not set (needed for signed URLs)"))
    }

    /// The token source, or a 500 naming `WECHAT_SECRET`.
    pub fn require_tokens(&self) -> Result<&TokenSource, ApiError> {
        self.tokens.as_ref().ok_or_else(|| {
            ApiError::config(
                "WECHAT_SECRET (or WECHAT_ACCESS_TOKEN) is not set: the Worker cannot call WeChat",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_timeouts_are_validated_and_clamped() {
        assert!(timeout_ms(0).is_err());
        assert_eq!(timeout_ms(1).unwrap(), 1);
        assert_eq!(timeout_ms(60_000).unwrap(), 60_000);
        assert_eq!(timeout_ms(1 << 31).unwrap(), MAX_TIMEOUT_MS);
        assert_eq!(timeout_ms(u64::MAX).unwrap(), MAX_TIMEOUT_MS);
    }
}
