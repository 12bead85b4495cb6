//! The client's settings: where WeChat is, where tokens come from, and the bounds of a call.

use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use web_sys::AbortSignal;

use crate::protocol::request::DEFAULT_BASE;
use crate::protocol::{AccessToken, AppSecret, Error, Limits, RetryPolicy, TokenGrant};

/// Default bound on fetching a token, in milliseconds.
pub const DEFAULT_TOKEN_TIMEOUT_MS: u64 = 10_000;
/// Default bound on one media call, retries and waits included, in milliseconds.
pub const DEFAULT_MEDIA_TIMEOUT_MS: u64 = 60_000;
/// How long to keep a token whose source says nothing about its expiry (a fixed token, or a
/// provider that only returns a string): WeChat's token lifetime. A token that fails sooner is
/// dropped and asked for again.
pub const PROVIDER_TOKEN_LIFETIME_SECS: u64 = 7200;

/// Which WeChat call issues tokens from an app id and secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenMode {
    /// `POST /cgi-bin/stable_token`: idempotent, so several holders do not invalidate each other.
    #[default]
    Stable,
    /// `GET /cgi-bin/token`: each call issues a new token and retires the previous one.
    Classic,
    /// `POST /cgi-bin/stable_token` at a token hub (another wxmedia Worker, a 中控): like
    /// `Stable`, but the fetch after a token failed asks the hub to refresh that token
    /// (`force_refresh` with the failed `access_token`: compare-and-invalidate at the hub).
    Hub,
}

/// How concurrent callers wait for the one token fetch in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TokenWait {
    /// Await one shared future (Node, browsers).
    #[default]
    Shared,
    /// Check the shared state on a timer of the caller's own. For Cloudflare Workers, where a
    /// request must not wait on a promise that another request's I/O settles: the runtime
    /// cancels such a request as hung.
    Poll {
        /// How often a waiting caller looks again.
        interval_ms: u64,
    },
}

/// A caller-supplied source of access tokens (a central token service, a Durable Object…).
///
/// It is called when no token is cached, with the token that just failed (40001/40014/42001)
/// if that is why, so that a shared holder can drop it if it still holds it. The grant's
/// `expires_in` says how long the client may cache the token.
pub type TokenProvider =
    Rc<dyn Fn(Option<AccessToken>) -> LocalBoxFuture<'static, Result<TokenGrant, Error>>>;

/// Where the client's access tokens come from.
#[derive(Clone)]
pub enum Credentials {
    /// A fixed token. It is never refreshed: a token error is returned to the caller.
    AccessToken(AccessToken),
    /// An app id and secret; the client fetches and caches tokens itself.
    AppSecret {
        /// The official account's app id.
        appid: String,
        /// The app secret (prints as `[redacted]`).
        secret: AppSecret,
        /// Which token call to use.
        mode: TokenMode,
    },
    /// A provider called whenever a token is needed and none is cached.
    Provider(TokenProvider),
}

impl Credentials {
    /// The app secret, if these credentials hold one ("" otherwise), for redacting it from
    /// upstream text.
    pub(crate) fn secret(&self) -> &str {
        match self {
            Credentials::AppSecret { secret, .. } => secret.expose(),
            Credentials::AccessToken(_) | Credentials::Provider(_) => "",
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::AccessToken(t) => f.debug_tuple("AccessToken").field(t).finish(),
            Credentials::AppSecret {
                appid,
                secret,
                mode,
            } => f
                .debug_struct("AppSecret")
                .field("appid", appid)
                .field("secret", secret)
                .field("mode", mode)
                .finish(),
            Credentials::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// The client's settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Where WeChat (or a proxy speaking its protocol) is; check it with
    /// [`crate::protocol::request::check_base_url`].
    pub base_url: String,
    /// Where tokens come from.
    pub credentials: Credentials,
    /// Bound on one token fetch, in milliseconds.
    pub token_timeout_ms: u64,
    /// Bound on one media call, retries and waits included, in milliseconds.
    pub media_timeout_ms: u64,
    /// When to retry.
    pub retry: RetryPolicy,
    /// Per-type size limits checked before upload.
    pub limits: Limits,
    /// How concurrent callers wait for a token fetch.
    pub token_wait: TokenWait,
    /// The caller's own transport, called as `fetch(url, init)` instead of the global `fetch`
    /// (it must resolve to a `Response`).
    pub fetch: Option<crate::web::Transport>,
    /// Hosts whose video URLs are trusted besides WeChat's own and the upstream's (a proxy in
    /// front of WeChat's video CDN, or a local stand-in for it): see
    /// [`crate::protocol::check_video_url`].
    pub video_hosts: Vec<crate::protocol::VideoHost>,
    /// Where token calls go when not to `base_url`: a token hub (another wxmedia Worker, a 中控
    /// speaking WeChat's token API) or a proxy on a whitelisted address. Media calls keep going
    /// to `base_url`.
    pub token_base_url: Option<String>,
}

impl ClientConfig {
    /// Where token calls go: [`ClientConfig::token_base_url`], else `base_url`.
    pub fn token_base(&self) -> &str {
        self.token_base_url.as_deref().unwrap_or(&self.base_url)
    }

    /// Settings with the defaults for everything but the credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            base_url: DEFAULT_BASE.to_string(),
            credentials,
            token_timeout_ms: DEFAULT_TOKEN_TIMEOUT_MS,
            media_timeout_ms: DEFAULT_MEDIA_TIMEOUT_MS,
            retry: RetryPolicy::default(),
            limits: Limits::default(),
            token_wait: TokenWait::default(),
            fetch: None,
            video_hosts: Vec::new(),
            token_base_url: None,
        }
    }
}

/// Per-call options of [`super::Client::upload`].
#[derive(Clone, Debug, Default)]
pub struct UploadOptions {
    /// The filename to send (its extension is corrected to fit the detected format).
    pub filename: Option<String>,
    /// The part's Content-Type; defaults to the detected format's.
    pub content_type: Option<String>,
    /// Aborts the call.
    pub signal: Option<AbortSignal>,
}
