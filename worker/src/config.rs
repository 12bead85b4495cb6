//! The Worker's configuration, read from `env` once per isolate ([`Config::cached`]). Names are the contract (see the
//! README): vars `UPSTREAM_BASE`, `PUBLIC_BASE_URL`, `WECHAT_APPID`, `DOWNLOAD_AUTH`, `CACHE_TTL_SECS`,
//! `CORS_ORIGINS`, `UPSTREAM_TIMEOUT_MS`, `MEMORY_CACHE_BYTES`, `VIDEO_HOSTS`; secrets `WECHAT_SECRET`, `API_KEYS`, `SIGNING_KEY`,
//! `WECHAT_ACCESS_TOKEN`; bindings `MEDIA_BUCKET` (R2) and `TOKENS` (Durable Object).
//!
//! One deployment may serve many WeChat apps ([`Apps`]): `WECHAT_APPS` lists them, and each has
//! its own `WECHAT_SECRET_<APPID>` (or `WECHAT_ACCESS_TOKEN_<APPID>`), `API_KEYS_<APPID>` and
//! optional limits `CACHE_TTL_SECS_<APPID>` and `MAX_UPLOAD_BYTES_<APPID>`. The unsuffixed
//! settings belong to the default app (`WECHAT_APPID`, else the first of `WECHAT_APPS`), so a
//! single-app configuration reads as before. Every app's settings are resolved into one
//! [`Config`], which is all a route sees.

use std::rc::Rc;

use worker::Env;
use wxmedia::protocol::request::{check_base_url, DEFAULT_BASE};
// An app id is part of setting names, paths and cache keys: the core's one rule for it.
use wxmedia::protocol::sign::valid_appid;
use wxmedia::protocol::VideoHost;
use wxmedia::protocol::{
    AccessToken, ApiKey, AppSecret, CallbackToken, Limits, SigningKey, TokenKey, TokenUrlKey,
};
use wxmedia_push::AesKey;

use crate::error::ApiError;

/// Three days: as long as WeChat keeps temporary media.
pub const DEFAULT_CACHE_TTL_SECS: u64 = 259_200;
/// Bound on one upstream call, retries included.
pub const DEFAULT_UPSTREAM_TIMEOUT_MS: u64 = 60_000;
/// The R2 binding's name.
pub const BUCKET_BINDING: &str = "MEDIA_BUCKET";
/// The token Durable Object namespace's name.
pub const TOKENS_BINDING: &str = "TOKENS";
/// The binding of the push log's Durable Object namespace (one `PushLog` per app id).
pub const PUSHES_BINDING: &str = "PUSHES";
/// The binding of the archive Queue.
pub const QUEUE_BINDING: &str = "ARCHIVE_QUEUE";
/// The default of `CALLBACK_FORWARD_TIMEOUT_MS`.
pub const DEFAULT_FORWARD_TIMEOUT_MS: u64 = 4_000;
/// The longest `CALLBACK_FORWARD_TIMEOUT_MS`: WeChat waits 5 s for an answer in all.
pub const MAX_FORWARD_TIMEOUT_MS: u64 = 4_400;

/// An app's callback endpoint settings (the account's server configuration).
#[derive(Clone, Debug)]
pub struct Callback {
    /// `WECHAT_CALLBACK_TOKEN`.
    pub token: CallbackToken,
    /// `WECHAT_ENCODING_AES_KEY`, for safe and compatible mode.
    pub aes_key: Option<AesKey>,
    /// `CALLBACK_FORWARD_URL`: the developer's message handler.
    pub forward_url: Option<String>,
    /// `CALLBACK_FORWARD_TIMEOUT_MS`.
    pub forward_timeout_ms: u64,
}

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
    /// The `TOKENS` Durable Object, one holder per app id, fetching with this secret.
    DurableObject(AppSecret),
    /// A holder in this isolate, fetching through `stable_token` with `WECHAT_SECRET`.
    Isolate(AppSecret),
    /// `WECHAT_TOKEN_URL`: a 中控 with its own API, asked with `GET` (and `?invalid=<token>` when
    /// a token failed), `Authorization: Bearer WECHAT_TOKEN_URL_KEY` when set.
    Url {
        /// The URL.
        url: String,
        /// `WECHAT_TOKEN_URL_KEY`.
        key: Option<TokenUrlKey>,
    },
}

/// Everything the handlers need to know, validated. Its secrets (the app secret, a fixed token,
/// the API keys, the signing key) are types that print as `[redacted]`, so `{:?}` is safe.
#[derive(Clone, Debug)]
pub struct Config {
    /// `UPSTREAM_BASE`.
    pub upstream: String,
    /// `VIDEO_HOSTS`: hosts whose video URLs are trusted besides WeChat's and the upstream's.
    pub video_hosts: Vec<VideoHost>,
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
    /// Upload limits (WeChat's current ones, lowered by `MAX_UPLOAD_BYTES_<APPID>`).
    pub limits: Limits,
    /// Whether this is the deployment's default app (its unsuffixed settings apply).
    pub is_default: bool,
    /// Whether the deployment serves several apps (`WECHAT_APPS` is set).
    pub multi_app: bool,
    /// Whether this app is reached under `/apps/{appid}` (its signed URLs are then in the app's
    /// scope); `false` for the default app's unprefixed routes.
    pub prefixed: bool,
    /// `MEMORY_CACHE_BYTES`: the per-isolate memory tier's bound (0 disables it).
    pub memory_cache_bytes: u64,
    /// The callback endpoint's settings; `None` when `WECHAT_CALLBACK_TOKEN` is unset.
    pub callback: Option<Callback>,
    /// What the callback endpoint lacks (names of settings and bindings), for `/healthz`.
    pub callback_missing: Vec<String>,
    /// `TOKEN_KEYS`: the keys consumers of this app's token hub present as `secret` (empty: the
    /// hub hands out no token).
    pub token_keys: Vec<TokenKey>,
    /// `TOKEN_UPSTREAM_BASE`: where this app's token calls go (a token hub, a proxy on a
    /// whitelisted address); media calls keep going to `upstream`.
    pub token_upstream: Option<String>,
    /// `DEV_EMULATOR_URL`: set by `make dev` only, so the console can have the emulator push as
    /// WeChat would. Never set in a deployment.
    pub dev_emulator_url: Option<String>,
}

/// Where settings are read from: `env` in the Worker, a map in native tests.
pub trait Settings {
    /// A var (or, for [`Settings::secret`], a secret), `None` when unset or blank.
    fn var(&self, name: &str) -> Option<String>;
    /// A secret, falling back to a var of the same name.
    fn secret(&self, name: &str) -> Option<String>;
    /// Whether the `TOKENS` Durable Object namespace is bound.
    fn has_durable_object(&self) -> bool;
    /// Whether the `MEDIA_BUCKET` R2 bucket is bound.
    fn has_bucket(&self) -> bool;
    /// Whether the `PUSHES` Durable Object namespace is bound.
    fn has_push_log(&self) -> bool {
        false
    }
}

impl Settings for Env {
    fn var(&self, name: &str) -> Option<String> {
        Env::var(self, name)
            .ok()
            .map(|v| v.to_string())
            .filter(|v| !v.trim().is_empty())
    }

    fn secret(&self, name: &str) -> Option<String> {
        Env::secret(self, name)
            .ok()
            .map(|v| v.to_string())
            .or_else(|| Settings::var(self, name))
            .filter(|v| !v.trim().is_empty())
    }

    fn has_durable_object(&self) -> bool {
        self.durable_object(TOKENS_BINDING).is_ok()
    }

    fn has_bucket(&self) -> bool {
        self.bucket(BUCKET_BINDING).is_ok()
    }

    fn has_push_log(&self) -> bool {
        self.durable_object(PUSHES_BINDING).is_ok()
    }
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

fn number(env: &dyn Settings, name: &str, default: u64) -> Result<u64, ApiError> {
    match env.var(name) {
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
    static CACHED: std::cell::RefCell<Option<Rc<Apps>>> = const { std::cell::RefCell::new(None) };
}

/// Every app one deployment serves, resolved into a [`Config`] each.
#[derive(Clone, Debug)]
pub struct Apps {
    /// The default app, as its unprefixed routes serve it.
    pub default: Rc<Config>,
    /// Every app as served under `/apps/{appid}`, the default first.
    pub apps: Vec<Rc<Config>>,
    /// Per app (same order), the settings it lacks (names only), for `/healthz`.
    pub missing: Vec<Vec<String>>,
    /// Every secret read (app secrets, fixed tokens, API keys, the signing key).
    secrets: Redacted,
}

/// Secrets kept as strings for scrubbing answers; prints as `[redacted]`.
#[derive(Clone)]
struct Redacted(Vec<String>);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[redacted; {}]", self.0.len())
    }
}

impl Apps {
    /// [`Apps::from_settings`] over `env`, read once per isolate (every request needs it;
    /// reading `env` costs a dozen calls into JS). An error is not kept: it is reported on
    /// every request.
    pub fn cached(env: &Env) -> Result<Rc<Apps>, ApiError> {
        if let Some(apps) = CACHED.with(|c| c.borrow().clone()) {
            return Ok(apps);
        }
        let apps = Rc::new(Apps::from_settings(env)?);
        crate::error::hold_secrets(apps.secrets.0.clone());
        // Once per isolate, where `wrangler tail` and the dashboard's logs show it.
        for warning in apps.warnings() {
            worker::console_warn!("wxmedia: {warning}");
        }
        CACHED.with(|c| *c.borrow_mut() = Some(apps.clone()));
        Ok(apps)
    }

    /// The app `appid`, as served under `/apps/{appid}`.
    pub fn app(&self, appid: &str) -> Option<&Rc<Config>> {
        self.apps.iter().find(|c| c.appid == appid)
    }

    /// Every secret in the configuration, for scrubbing error answers.
    pub fn secrets(&self) -> &[String] {
        &self.secrets.0
    }

    /// What works but should be set otherwise, in words (for `/healthz` and the isolate's log).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        for app in &self.apps {
            if matches!(app.tokens, Some(TokenSource::Fixed(_))) {
                warnings.push(format!(
                    "{} is a fixed token: it cannot be refreshed and dies within two hours; set {} (or TOKEN_UPSTREAM_BASE) for anything but tests and short jobs",
                    app.setting("WECHAT_ACCESS_TOKEN"),
                    app.setting("WECHAT_SECRET")
                ));
            }
        }
        if self.default.public_base_url.is_none() {
            warnings.push(
                "PUBLIC_BASE_URL is not set: the URLs this Worker hands out (upload answers, \
                 signed download URLs) name whatever Host a request came with; set it to where \
                 clients reach the Worker"
                    .to_string(),
            );
        }
        warnings
    }

    /// Reads and checks the configuration. Settings that only some routes need (API keys, the
    /// signing key, an app's credentials) are checked by those routes
    /// ([`Config::require_api_keys`] and friends), so `/healthz` always answers; settings that
    /// contradict each other fail every request.
    pub fn from_settings(env: &dyn Settings) -> Result<Apps, ApiError> {
        let upstream = env
            .var("UPSTREAM_BASE")
            .unwrap_or_else(|| DEFAULT_BASE.to_string());
        check_base_url(&upstream)
            .map_err(|e| ApiError::config(&format!("UPSTREAM_BASE: {}", e.message)))?;
        let video_hosts = list(env.var("VIDEO_HOSTS"))
            .iter()
            .map(|h| {
                VideoHost::parse(h).ok_or_else(|| {
                    ApiError::config(&format!("VIDEO_HOSTS: {h:?} is not a host or host:port"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let listed = list(env.var("WECHAT_APPS"));
        let multi_app = env.var("WECHAT_APPS").is_some();
        let default_id = match env.var("WECHAT_APPID") {
            Some(id) => id.trim().to_string(),
            None => listed.first().cloned().ok_or_else(|| {
                ApiError::config(
                    "WECHAT_APPID is not set (the official account's app id), nor WECHAT_APPS",
                )
            })?,
        };
        let mut ids = vec![default_id.clone()];
        for (i, id) in listed.iter().enumerate() {
            if !valid_appid(id) {
                return Err(ApiError::config(&format!(
                    "WECHAT_APPS: {id:?} is not an app id (1 to 64 of A-Z a-z 0-9 _ -)"
                )));
            }
            if listed[..i].contains(id) {
                return Err(ApiError::config(&format!("WECHAT_APPS lists {id} twice")));
            }
            if *id != default_id {
                ids.push(id.clone());
            }
        }
        if multi_app && !valid_appid(&default_id) {
            return Err(ApiError::config(
                "WECHAT_APPID is not an app id (1 to 64 of A-Z a-z 0-9 _ -)",
            ));
        }
        let download_auth = match env.var("DOWNLOAD_AUTH").as_deref() {
            None | Some("signed") => DownloadAuth::Signed,
            Some("public") => DownloadAuth::Public,
            Some("key") => DownloadAuth::Key,
            Some(other) => {
                return Err(ApiError::config(&format!(
                    "DOWNLOAD_AUTH must be public, key or signed, not {other:?}"
                )))
            }
        };
        let public_base_url = match env.var("PUBLIC_BASE_URL") {
            None => None,
            Some(base) => {
                check_base_url(&base)
                    .map_err(|e| ApiError::config(&format!("PUBLIC_BASE_URL: {}", e.message)))?;
                Some(base)
            }
        };
        let cache_ttl_secs = number(env, "CACHE_TTL_SECS", DEFAULT_CACHE_TTL_SECS)?;
        let upstream_timeout_ms = timeout_ms(number(
            env,
            "UPSTREAM_TIMEOUT_MS",
            DEFAULT_UPSTREAM_TIMEOUT_MS,
        )?)?;
        let signing_key = env.secret("SIGNING_KEY").map(SigningKey::new);
        let cors_origins = list(env.var("CORS_ORIGINS"));
        let has_bucket = env.has_bucket();
        let has_do = env.has_durable_object();
        let has_push_log = env.has_push_log();
        let dev_emulator_url = match env.var("DEV_EMULATOR_URL") {
            None => None,
            Some(url) => {
                check_base_url(&url)
                    .map_err(|e| ApiError::config(&format!("DEV_EMULATOR_URL: {}", e.message)))?;
                Some(url)
            }
        };
        let memory_cache_bytes = number(
            env,
            "MEMORY_CACHE_BYTES",
            crate::media::memory::DEFAULT_MEMORY_CACHE_BYTES,
        )?;

        let mut secrets: Vec<String> = signing_key.iter().map(|k| k.expose().to_string()).collect();
        let mut apps = Vec::new();
        let mut missing = Vec::new();
        // Which setting each API key came from: a key belongs to one app only.
        let mut key_owner: Vec<(String, String)> = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let is_default = i == 0;
            // A per-app secret: `BASE_<APPID>`, and for the default app `BASE` too (the same
            // value if both are set).
            let per_app = |base: &str| -> Result<Option<String>, ApiError> {
                let suffixed = if multi_app {
                    env.secret(&format!("{base}_{id}"))
                } else {
                    None
                };
                let plain = if is_default { env.secret(base) } else { None };
                match (suffixed, plain) {
                    (Some(a), Some(b)) if a != b => Err(ApiError::config(&format!(
                        "{base} and {base}_{id} are both set, to different values: keep one"
                    ))),
                    (a, b) => Ok(a.or(b)),
                }
            };
            let name = |base: &str| {
                if multi_app {
                    format!("{base}_{id}")
                } else {
                    base.to_string()
                }
            };
            let fixed = per_app("WECHAT_ACCESS_TOKEN")?;
            let secret = per_app("WECHAT_SECRET")?;
            let token_url = per_app("WECHAT_TOKEN_URL")?;
            let token_url_key = per_app("WECHAT_TOKEN_URL_KEY")?;
            secrets.extend(fixed.iter().cloned());
            secrets.extend(secret.iter().cloned());
            secrets.extend(token_url_key.iter().cloned());
            if let Some(url) = &token_url {
                check_base_url(url.split('?').next().unwrap_or(url)).map_err(|e| {
                    ApiError::config(&format!("{}: {}", name("WECHAT_TOKEN_URL"), e.message))
                })?;
            }
            let tokens = match (fixed, token_url) {
                (Some(token), _) => Some(TokenSource::Fixed(AccessToken::new(token))),
                (None, Some(url)) => Some(TokenSource::Url {
                    url,
                    key: token_url_key.map(TokenUrlKey::new),
                }),
                (None, None) => None,
            };
            let tokens = match (tokens, secret) {
                (Some(source), _) => Some(source),
                (None, Some(secret)) if has_do => {
                    Some(TokenSource::DurableObject(AppSecret::new(secret)))
                }
                (None, Some(secret)) => Some(TokenSource::Isolate(AppSecret::new(secret))),
                (None, None) => None,
            };
            let mut keys = if multi_app {
                list(env.secret(&format!("API_KEYS_{id}")))
            } else {
                Vec::new()
            };
            if is_default {
                for k in list(env.secret("API_KEYS")) {
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
            for k in &keys {
                if let Some((_, owner)) = key_owner.iter().find(|(key, _)| key == k) {
                    return Err(ApiError::config(&format!(
                        "{owner} and {} share a key: each API key must belong to one app",
                        name("API_KEYS")
                    )));
                }
                key_owner.push((k.clone(), name("API_KEYS")));
            }
            secrets.extend(keys.iter().cloned());
            let mut limits = Limits::default();
            if multi_app {
                let cap_name = format!("MAX_UPLOAD_BYTES_{id}");
                if env.var(&cap_name).is_some() {
                    let cap = number(env, &cap_name, u64::MAX)?;
                    if cap == 0 {
                        return Err(ApiError::config(&format!("{cap_name} must be at least 1")));
                    }
                    limits = Limits {
                        image: limits.image.min(cap),
                        voice: limits.voice.min(cap),
                        video: limits.video.min(cap),
                        thumb: limits.thumb.min(cap),
                    };
                }
            }
            let token_keys = list(per_app("TOKEN_KEYS")?);
            for k in &token_keys {
                if keys.contains(k) || key_owner.iter().any(|(key, _)| key == k) {
                    return Err(ApiError::config(&format!(
                        "{} lists an API key: a token key hands out the access token, a separate right",
                        name("TOKEN_KEYS")
                    )));
                }
            }
            secrets.extend(token_keys.iter().cloned());
            let token_upstream = match per_app("TOKEN_UPSTREAM_BASE")? {
                None => None,
                Some(base) => {
                    check_base_url(&base).map_err(|e| {
                        ApiError::config(&format!("{}: {}", name("TOKEN_UPSTREAM_BASE"), e.message))
                    })?;
                    Some(base)
                }
            };
            let callback_token = per_app("WECHAT_CALLBACK_TOKEN")?;
            let aes = per_app("WECHAT_ENCODING_AES_KEY")?;
            let forward_url = per_app("CALLBACK_FORWARD_URL")?;
            let forward_timeout_ms = match per_app("CALLBACK_FORWARD_TIMEOUT_MS")? {
                None => DEFAULT_FORWARD_TIMEOUT_MS,
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(ms) if (1..=MAX_FORWARD_TIMEOUT_MS).contains(&ms) => ms,
                    _ => {
                        return Err(ApiError::config(&format!(
                            "{} must be 1 to {MAX_FORWARD_TIMEOUT_MS} (milliseconds; WeChat waits 5 s in all)",
                            name("CALLBACK_FORWARD_TIMEOUT_MS")
                        )))
                    }
                },
            };
            if let Some(url) = &forward_url {
                check_base_url(url.split('?').next().unwrap_or(url)).map_err(|e| {
                    ApiError::config(&format!("{}: {}", name("CALLBACK_FORWARD_URL"), e.message))
                })?;
            }
            let aes_key = match &aes {
                None => None,
                Some(k) => Some(AesKey::from_encoding(k).map_err(|e| {
                    ApiError::config(&format!("{}: {e}", name("WECHAT_ENCODING_AES_KEY")))
                })?),
            };
            secrets.extend(callback_token.iter().cloned());
            secrets.extend(aes.iter().cloned());
            let mut callback_missing = Vec::new();
            if callback_token.is_none() {
                callback_missing.push(name("WECHAT_CALLBACK_TOKEN"));
            }
            if !has_bucket {
                callback_missing.push(BUCKET_BINDING.to_string());
            }
            if !has_push_log {
                callback_missing.push(PUSHES_BINDING.to_string());
            }
            if tokens.is_none() {
                callback_missing.push(name("WECHAT_SECRET"));
            }
            let callback = callback_token.map(|token| Callback {
                token: CallbackToken::new(token),
                aes_key,
                forward_url,
                forward_timeout_ms,
            });
            let app_ttl = if multi_app {
                number(env, &format!("CACHE_TTL_SECS_{id}"), cache_ttl_secs)?
            } else {
                cache_ttl_secs
            };
            let mut lacks = Vec::new();
            if tokens.is_none() {
                lacks.push(name("WECHAT_SECRET"));
            }
            if keys.is_empty() {
                lacks.push(name("API_KEYS"));
            }
            missing.push(lacks);
            apps.push(Rc::new(Config {
                upstream: upstream.clone(),
                video_hosts: video_hosts.clone(),
                appid: id.clone(),
                public_base_url: public_base_url.clone(),
                download_auth,
                cache_ttl_secs: app_ttl,
                cors_origins: cors_origins.clone(),
                upstream_timeout_ms,
                api_keys: keys.into_iter().map(ApiKey::new).collect(),
                signing_key: signing_key.clone(),
                tokens,
                has_bucket,
                limits,
                is_default,
                multi_app,
                prefixed: true,
                memory_cache_bytes,
                callback,
                callback_missing,
                token_keys: token_keys.into_iter().map(TokenKey::new).collect(),
                token_upstream,
                dev_emulator_url: dev_emulator_url.clone(),
            }));
        }
        let default = Rc::new(Config {
            prefixed: false,
            ..(*apps[0]).clone()
        });
        Ok(Apps {
            default,
            apps,
            missing,
            secrets: Redacted(secrets),
        })
    }
}

impl Config {
    /// The name of per-app setting `base` for this app, as error messages give it:
    /// `base` for a single app, `base_<APPID>` (and `base` too for the default app) for many.
    pub fn setting(&self, base: &str) -> String {
        match (self.multi_app, self.is_default) {
            (false, _) => base.to_string(),
            (true, true) => format!("{base}_{} (or {base})", self.appid),
            (true, false) => format!("{base}_{}", self.appid),
        }
    }

    /// Where this app's REST routes live: `""` or `/apps/{appid}`.
    pub fn path_prefix(&self) -> String {
        if self.prefixed {
            wxmedia::protocol::sign::app_prefix(&self.appid)
        } else {
            String::new()
        }
    }

    /// The app id signed URLs of these routes are bound to ([`wxmedia::protocol::sign::signature_in`]).
    pub fn sign_scope(&self) -> Option<&str> {
        self.prefixed.then_some(self.appid.as_str())
    }

    /// The API keys, or a 500 naming `API_KEYS`.
    pub fn require_api_keys(&self) -> Result<&[ApiKey], ApiError> {
        if self.api_keys.is_empty() {
            Err(ApiError::config(&format!(
                "{} is not set (a comma-separated list of keys)",
                self.setting("API_KEYS")
            )))
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
            ApiError::config(&format!(
                "{} (or {}) is not set: the Worker cannot call WeChat for app {}",
                self.setting("WECHAT_SECRET"),
                self.setting("WECHAT_ACCESS_TOKEN"),
                self.appid
            ))
        })
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Settings from a table, for tests of what reads them.
    use super::Settings;
    use std::collections::HashMap;

    /// Settings from `.0` (vars and secrets alike); `.1` whether `TOKENS` is bound.
    pub(crate) struct Map(pub HashMap<&'static str, &'static str>, pub bool);

    impl Settings for Map {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
        fn secret(&self, name: &str) -> Option<String> {
            self.var(name)
        }
        fn has_durable_object(&self) -> bool {
            self.1
        }
        fn has_bucket(&self) -> bool {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Map;
    use super::*;

    fn apps(pairs: &[(&'static str, &'static str)]) -> Result<Apps, ApiError> {
        Apps::from_settings(&Map(pairs.iter().copied().collect(), true))
    }

    #[test]
    fn warnings_and_video_hosts() {
        let a = apps(&[("WECHAT_APPID", "wxA")]).unwrap();
        assert_eq!(a.warnings().len(), 1);
        assert!(a.warnings()[0].starts_with("PUBLIC_BASE_URL is not set"));
        let a = apps(&[
            ("WECHAT_APPID", "wxA"),
            ("PUBLIC_BASE_URL", "https://media.example.com"),
            ("VIDEO_HOSTS", "127.0.0.1:9001, cdn.example.com"),
        ])
        .unwrap();
        assert!(a.warnings().is_empty());
        assert_eq!(a.default.video_hosts.len(), 2);
        for bad in ["http://x/", "a b", "h:99999"] {
            let err = apps(&[("WECHAT_APPID", "wxA"), ("VIDEO_HOSTS", bad)]).unwrap_err();
            assert!(err.message.starts_with("VIDEO_HOSTS"), "{}", err.message);
        }
    }

    #[test]
    fn a_single_app_reads_as_before() {
        let a = apps(&[
            ("WECHAT_APPID", "wxA"),
            ("WECHAT_SECRET", "s"),
            ("API_KEYS", "k1,k2"),
            ("API_KEYS_wxA", "ignored"),
        ])
        .unwrap();
        assert_eq!(a.apps.len(), 1);
        assert_eq!(a.default.appid, "wxA");
        assert_eq!(a.default.api_keys.len(), 2);
        assert!(!a.default.prefixed && a.apps[0].prefixed);
        assert_eq!(a.default.sign_scope(), None);
        assert_eq!(a.apps[0].sign_scope(), Some("wxA"));
        assert!(matches!(
            a.default.tokens,
            Some(TokenSource::DurableObject(_))
        ));
        let err = apps(&[("WECHAT_APPID", "wxA")]).unwrap();
        assert!(err
            .default
            .require_tokens()
            .unwrap_err()
            .message
            .starts_with("WECHAT_SECRET (or WECHAT_ACCESS_TOKEN)"));
        assert!(err
            .default
            .require_api_keys()
            .unwrap_err()
            .message
            .starts_with("API_KEYS is not set"));
        assert!(apps(&[]).unwrap_err().message.contains("WECHAT_APPID"));
    }

    #[test]
    fn many_apps_have_their_own_settings() {
        let a = apps(&[
            ("WECHAT_APPS", "wxA, wxB,wxC"),
            ("WECHAT_SECRET_wxA", "sa"),
            ("WECHAT_ACCESS_TOKEN_wxB", "tb"),
            ("API_KEYS_wxA", "ka"),
            ("API_KEYS", "k0"),
            ("API_KEYS_wxB", "kb1,kb2"),
            ("MAX_UPLOAD_BYTES_wxB", "1000"),
            ("CACHE_TTL_SECS_wxC", "60"),
            ("SIGNING_KEY", "sk"),
        ])
        .unwrap();
        let ids: Vec<&str> = a.apps.iter().map(|c| c.appid.as_str()).collect();
        assert_eq!(ids, ["wxA", "wxB", "wxC"]);
        assert_eq!(a.default.appid, "wxA");
        assert_eq!(
            a.apps[0].api_keys.len(),
            2,
            "the default app takes API_KEYS too"
        );
        assert!(matches!(a.apps[1].tokens, Some(TokenSource::Fixed(_))));
        assert_eq!(a.apps[1].limits.image, 1000);
        assert_eq!(a.apps[1].limits.thumb, 1000);
        assert_eq!(a.apps[2].cache_ttl_secs, 60);
        assert_eq!(a.apps[0].cache_ttl_secs, DEFAULT_CACHE_TTL_SECS);
        assert_eq!(a.missing[2], ["WECHAT_SECRET_wxC", "API_KEYS_wxC"]);
        let e = a.apps[2].require_tokens().unwrap_err();
        assert!(
            e.message
                .starts_with("WECHAT_SECRET_wxC (or WECHAT_ACCESS_TOKEN_wxC)"),
            "{}",
            e.message
        );
        assert_eq!(a.apps[1].path_prefix(), "/apps/wxB");
        for s in ["sa", "tb", "ka", "k0", "kb1", "kb2", "sk"] {
            assert!(a.secrets().iter().any(|x| x == s), "{s}");
        }
        assert!(!format!("{a:?}").contains("kb1"));
        // WECHAT_APPID names the default, listed or not.
        let a = apps(&[("WECHAT_APPID", "wxZ"), ("WECHAT_APPS", "wxA,wxZ")]).unwrap();
        let ids: Vec<&str> = a.apps.iter().map(|c| c.appid.as_str()).collect();
        assert_eq!(ids, ["wxZ", "wxA"]);
    }

    #[test]
    fn inconsistent_settings_fail_naming_them_without_values() {
        let cases: [(&[(&'static str, &'static str)], &str); 5] = [
            (
                &[
                    ("WECHAT_APPS", "wxA,wxB"),
                    ("API_KEYS_wxA", "same"),
                    ("API_KEYS_wxB", "x,same"),
                ],
                "API_KEYS_wxA and API_KEYS_wxB share a key",
            ),
            (&[("WECHAT_APPS", "wxA,wxA")], "WECHAT_APPS lists wxA twice"),
            (
                &[("WECHAT_APPS", "wxA,wx/B")],
                "WECHAT_APPS: \"wx/B\" is not an app id",
            ),
            (
                &[
                    ("WECHAT_APPS", "wxA"),
                    ("WECHAT_SECRET", "one"),
                    ("WECHAT_SECRET_wxA", "two"),
                ],
                "WECHAT_SECRET and WECHAT_SECRET_wxA are both set",
            ),
            (
                &[("WECHAT_APPS", "wxA,wxB"), ("MAX_UPLOAD_BYTES_wxB", "lots")],
                "MAX_UPLOAD_BYTES_wxB must be a whole number",
            ),
        ];
        for (settings, expected) in cases {
            let err = apps(settings).unwrap_err();
            assert_eq!(err.code, crate::error::ErrorCode::Config);
            assert!(err.message.starts_with(expected), "{}", err.message);
            for value in ["same-k", "sec-1", "sec-2"] {
                assert!(!err.message.contains(value), "{}", err.message);
            }
        }
    }

    #[test]
    fn upstream_timeouts_are_validated_and_clamped() {
        assert!(timeout_ms(0).is_err());
        assert_eq!(timeout_ms(1).unwrap(), 1);
        assert_eq!(timeout_ms(60_000).unwrap(), 60_000);
        assert_eq!(timeout_ms(1 << 31).unwrap(), MAX_TIMEOUT_MS);
        assert_eq!(timeout_ms(u64::MAX).unwrap(), MAX_TIMEOUT_MS);
    }
}
