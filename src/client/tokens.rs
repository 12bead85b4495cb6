//! Token sharing: the cache, the one fetch in flight that concurrent callers share (a shared
//! future, or polling for Workers), and the token fetch itself, driven by a [`Call`].

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::{select, Either, FutureExt, LocalBoxFuture, Shared};

use super::config::{ClientConfig, Credentials, TokenMode, TokenWait};
use super::shared::lead_or_wait;
use crate::protocol::lead::{LeadTimes, Leads};
use crate::protocol::{
    hub_refresh_request, parse_token, stable_token_request, token_request, AccessToken, Call,
    Error, TokenCache, TokenGrant, TokenUse,
};
use crate::web::{self, AbortGuard};

type TokenFuture = Shared<LocalBoxFuture<'static, Result<AccessToken, Error>>>;

/// Where fresh tokens come from.
enum Source {
    /// A fixed token: nothing is ever fetched.
    Fixed(AccessToken),
    /// WeChat's token call, with the app's id and secret.
    WeChat {
        appid: String,
        secret: crate::protocol::AppSecret,
        mode: TokenMode,
    },
    /// The caller's provider.
    Provider(super::config::TokenProvider),
}

/// The tokens of one client and its clones.
pub(crate) struct Tokens {
    config: Rc<ClientConfig>,
    source: Source,
    cache: RefCell<TokenCache>,
    in_flight: RefCell<Option<TokenFuture>>,
    /// The token that last failed, for the provider's (or the hub's) next call.
    failed: RefCell<Option<AccessToken>>,
    /// Set by [`Tokens::force_next`]: the next fetch from WeChat asks it to rotate the token
    /// (`force_refresh`), not to hand back the current one.
    force_next: std::cell::Cell<bool>,
    /// The fetch [`TokenWait::Poll`] callers share: one leads, the others wait on timers of
    /// their own and take its outcome.
    polled: RefCell<Leads<Result<AccessToken, Error>>>,
}

impl Tokens {
    pub(crate) fn new(config: Rc<ClientConfig>) -> Self {
        let source = match &config.credentials {
            Credentials::AccessToken(token) => Source::Fixed(token.clone()),
            Credentials::AppSecret {
                appid,
                secret,
                mode,
            } => Source::WeChat {
                appid: appid.clone(),
                secret: secret.clone(),
                mode: *mode,
            },
            Credentials::Provider(provider) => Source::Provider(provider.clone()),
        };
        Tokens {
            config,
            source,
            cache: RefCell::new(TokenCache::default()),
            in_flight: RefCell::new(None),
            failed: RefCell::new(None),
            force_next: std::cell::Cell::new(false),
            polled: RefCell::new(Leads::new(POLL_KEEP_MS)),
        }
    }

    /// How a call's attempts use tokens, from the credentials.
    pub(crate) fn token_use(&self) -> TokenUse {
        match self.source {
            Source::Fixed(_) => TokenUse::Fixed,
            Source::WeChat { .. } | Source::Provider(_) => TokenUse::Refreshable,
        }
    }

    /// When the cached token expires.
    pub(crate) fn expires_at_ms(&self) -> Option<u64> {
        self.cache.borrow().expires_at_ms()
    }

    /// Drops the cached token if it is `failed` (a newer one is kept). Returns whether it dropped.
    pub(crate) fn invalidate(&self, failed: &AccessToken) -> bool {
        let dropped = self.cache.borrow_mut().invalidate_if(failed);
        *self.failed.borrow_mut() = Some(failed.clone());
        dropped
    }

    /// A valid token with its remaining lifetime in seconds (see [`Tokens::get`]).
    pub(crate) async fn grant(self: &Rc<Self>, guard: &AbortGuard) -> Result<TokenGrant, Error> {
        let token = self.get(guard, "token").await?;
        let remaining_ms = self
            .expires_at_ms()
            .map_or(0, |at| at.saturating_sub(web::now_ms()));
        Ok(TokenGrant {
            token,
            expires_in: remaining_ms / 1000,
        })
    }

    /// Drops the cached token and has the next fetch from WeChat rotate it (`force_refresh`):
    /// what a token hub does when its callers report its token as failed and WeChat still hands
    /// it out.
    pub(crate) fn force_next(&self) {
        let cached = self.cache.borrow().current(web::now_ms());
        if let Some(token) = cached {
            self.cache.borrow_mut().invalidate_if(&token);
        }
        self.force_next.set(true);
    }

    /// The cached token, if it is fresh: nothing is fetched.
    pub(crate) fn cached(&self) -> Option<AccessToken> {
        self.cache.borrow().current(web::now_ms())
    }

    /// The cached token, or the result of the one fetch in flight (started here if none is).
    /// Waiting ends when `guard` aborts, with `guard`'s error for `what` (the caller's call).
    pub(crate) async fn get(
        self: &Rc<Self>,
        guard: &AbortGuard,
        what: &'static str,
    ) -> Result<AccessToken, Error> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        if let TokenWait::Poll { interval_ms } = self.config.token_wait {
            return self.get_polled(guard, what, interval_ms).await;
        }
        let shared = {
            let mut slot = self.in_flight.borrow_mut();
            match &*slot {
                Some(fetch) => fetch.clone(),
                None => {
                    let fetch = fetch_and_store(self.clone()).boxed_local().shared();
                    *slot = Some(fetch.clone());
                    fetch
                }
            }
        };
        let aborted = web::aborted(&guard.signal()?);
        match select(shared, aborted).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(guard.error(what).unwrap_or(Error::Cancelled)),
        }
    }

    /// [`TokenWait::Poll`]: the first caller fetches; the others wait on timers of their own
    /// (every `interval_ms`) and take its outcome, error included; a fetch stalled past the
    /// token timeout is taken over, and one whose caller went away lets the next caller lead.
    async fn get_polled(
        self: &Rc<Self>,
        guard: &AbortGuard,
        what: &'static str,
        interval_ms: u64,
    ) -> Result<AccessToken, Error> {
        let times = LeadTimes {
            stall_ms: self.config.token_timeout_ms,
            // The caller's own deadline ends its wait (below); this bound is only a backstop.
            give_up_ms: self
                .config
                .media_timeout_ms
                .max(self.config.token_timeout_ms),
            poll_ms: interval_ms,
        };
        let signal = guard.signal()?;
        let fetch = async {
            let failed = self.failed.borrow_mut().take();
            let result = self.fetch(failed).await;
            if let Ok(grant) = &result {
                self.cache.borrow_mut().store(grant, web::now_ms());
            }
            result.map(|grant| grant.token)
        };
        let shared = lead_or_wait(
            &self.polled,
            POLL_KEY,
            &times,
            fetch,
            Clone::clone,
            || Err(guard.error(what).unwrap_or(Error::Cancelled)),
            |ms| {
                let signal = signal.clone();
                async move {
                    web::sleep_unless_aborted(ms, &signal).await;
                    None
                }
            },
        )
        .boxed_local();
        // The caller's deadline or signal ends its part, leading or waiting: a lead given up this
        // way records nothing, and the next caller leads.
        let outcome = match select(shared, web::aborted(&signal)).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(guard.error(what).unwrap_or(Error::Cancelled)),
        };
        outcome
    }
}

/// A token provider that asks a 中控 (central token server) with its own API: `GET url` (with
/// `?invalid=<token>` when that token just failed, the 中控's compare-and-invalidate), with
/// `Authorization: Bearer key` when a key is given. Its answer is read like WeChat's token answer
/// (`{"access_token","expires_in"}`, or `{"errcode","errmsg"}`), within the token timeout.
pub fn token_url_provider(
    url: String,
    key: Option<crate::protocol::TokenUrlKey>,
    timeout_ms: u64,
    custom: Option<crate::web::Transport>,
) -> super::config::TokenProvider {
    Rc::new(move |failed: Option<AccessToken>| {
        let (url, key, custom) = (url.clone(), key.clone(), custom.clone());
        async move {
            let mut target = url.clone();
            if let Some(failed) = &failed {
                target.push(if url.contains('?') { '&' } else { '?' });
                target.push_str("invalid=");
                target.push_str(&crate::protocol::request::encode_query_value(
                    failed.expose(),
                ));
            }
            let mut request = http::Request::new(Vec::new());
            *request.uri_mut() = target
                .parse()
                .map_err(|_| Error::network("tokenUrl is not a URL"))?;
            if let Some(key) = &key {
                let value = http::HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                    .map_err(|_| Error::network("tokenKey has characters a header cannot hold"))?;
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, value);
            }
            let guard = AbortGuard::new(timeout_ms, None);
            let result = async {
                let outgoing = web::to_web_request(&request)?;
                let response = web::fetch(&outgoing, &guard, "token", custom.as_ref()).await?;
                let body = web::read_json_answer(&response, &guard, "token").await?;
                parse_token(&body)
            }
            .await;
            result.map_err(|mut err| {
                let mut secrets: Vec<&str> = key.iter().map(|k| k.expose()).collect();
                if let Some(failed) = &failed {
                    secrets.push(failed.expose());
                }
                err.redact(&secrets);
                err
            })
        }
        .boxed_local()
    })
}

/// The key of the one fetch [`TokenWait::Poll`] callers share.
const POLL_KEY: &str = "token";

/// How long the outcome of a polled fetch is kept for the callers that waited for it.
const POLL_KEEP_MS: u64 = 60_000;

/// Fetches a token, caches it, and empties the in-flight slot.
async fn fetch_and_store(tokens: Rc<Tokens>) -> Result<AccessToken, Error> {
    let failed = tokens.failed.borrow_mut().take();
    let result = tokens.fetch(failed).await;
    if let Ok(grant) = &result {
        tokens.cache.borrow_mut().store(grant, web::now_ms());
    }
    tokens.in_flight.borrow_mut().take();
    result.map(|grant| grant.token)
}

impl Tokens {
    /// A fresh token from the source. A fixed token is its own grant.
    async fn fetch(&self, failed: Option<AccessToken>) -> Result<TokenGrant, Error> {
        let forced = self.force_next.take();
        match &self.source {
            // Cached like any other token, and handed out again when it is due.
            Source::Fixed(token) => Ok(TokenGrant {
                token: token.clone(),
                expires_in: super::config::PROVIDER_TOKEN_LIFETIME_SECS,
            }),
            Source::Provider(provider) => provider(failed).await,
            Source::WeChat {
                appid,
                secret,
                mode,
            } => {
                let how = match (forced, failed) {
                    (true, _) => Fetch::Forced,
                    (false, Some(failed)) => Fetch::After(failed),
                    (false, None) => Fetch::Normal,
                };
                fetch_from_wechat(&self.config, appid, secret, *mode, how).await
            }
        }
    }
}

/// Why a token is fetched.
enum Fetch {
    /// None is cached.
    Normal,
    /// This one failed upstream (40001, 42001…).
    After(AccessToken),
    /// A rotation is wanted (a hub's forced refresh).
    Forced,
}

/// One token fetch from WeChat (or the token hub at `token_base_url`), its transient failures
/// retried, within the token timeout. A timeout here is reported as the token's ("the token
/// request timed out"). A hub is asked to refresh a token that failed (compare-and-invalidate);
/// WeChat itself is asked for its current stable token then (it hands out a new one once the
/// old is invalid), and for a rotation only when one is forced.
async fn fetch_from_wechat(
    config: &ClientConfig,
    appid: &str,
    secret: &crate::protocol::AppSecret,
    mode: TokenMode,
    how: Fetch,
) -> Result<TokenGrant, Error> {
    let started = web::now_ms();
    let guard = AbortGuard::started_at(started as f64, config.token_timeout_ms, None);
    let call = Call::new(
        config.retry,
        TokenUse::None,
        "token",
        started,
        config.token_timeout_ms,
    )
    .redacting(&[secret.expose()]);
    let attempt = |_: Option<AccessToken>, guard: AbortGuard| {
        let base = config.token_base();
        let request = match (mode, &how) {
            (TokenMode::Classic, _) => token_request(base, appid, secret),
            (TokenMode::Hub, Fetch::After(failed)) => {
                hub_refresh_request(base, appid, secret, failed)
            }
            (TokenMode::Stable | TokenMode::Hub, Fetch::Forced) => {
                stable_token_request(base, appid, secret, true)
            }
            (TokenMode::Stable | TokenMode::Hub, _) => {
                stable_token_request(base, appid, secret, false)
            }
        };
        async move {
            let request = web::to_web_request(&request)?;
            let response = web::fetch(&request, &guard, "token", config.fetch.as_ref()).await?;
            let body = web::read_json_answer(&response, &guard, "token").await?;
            parse_token(&body)
        }
    };
    super::drive::drive(call, started, &guard, "token", None, None, attempt).await
}
