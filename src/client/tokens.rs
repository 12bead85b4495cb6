//! Token sharing: the cache, the one fetch in flight that concurrent callers share (a shared
//! future, or polling for Workers), and the token fetch itself, driven by a [`Call`].

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::{select, Either, FutureExt, LocalBoxFuture, Shared};

use super::config::{ClientConfig, Credentials, TokenMode, TokenWait};
use crate::protocol::{
    parse_token, stable_token_request, token_request, AccessToken, Call, Error, Step, TokenCache,
    TokenGrant, TokenUse,
};
use crate::transport::{self, AbortGuard};

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
    /// The token that last failed, for the provider's next call.
    failed: RefCell<Option<AccessToken>>,
    /// The state [`TokenWait::Poll`] callers look at.
    polled: RefCell<PolledFetch>,
}

/// A token fetch that other callers poll for ([`TokenWait::Poll`]).
#[derive(Default)]
struct PolledFetch {
    /// A fetch is in flight.
    fetching: bool,
    /// How many fetches have finished.
    finished: u64,
    /// The error of the last fetch that failed, with its number.
    last_error: Option<(u64, Error)>,
}

/// Marks the polled fetch as over when its leader finishes or is dropped mid-way, so that a
/// waiting caller can take over.
struct PollLeader(Rc<Tokens>);

impl Drop for PollLeader {
    fn drop(&mut self) {
        self.0.polled.borrow_mut().fetching = false;
    }
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
            polled: RefCell::new(PolledFetch::default()),
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

    /// The cached token, if it is fresh: nothing is fetched.
    pub(crate) fn cached(&self) -> Option<AccessToken> {
        self.cache.borrow().current(transport::now_ms())
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
        let aborted = transport::aborted(&guard.signal()?);
        match select(shared, aborted).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(guard.error(what).unwrap_or(Error::Cancelled)),
        }
    }

    /// [`TokenWait::Poll`]: the first caller fetches; the others look at the cache (or the
    /// fetch's error) every `interval_ms` on timers of their own.
    async fn get_polled(
        self: &Rc<Self>,
        guard: &AbortGuard,
        what: &'static str,
        interval_ms: u64,
    ) -> Result<AccessToken, Error> {
        let start = self.polled.borrow().finished;
        loop {
            if let Some(token) = self.cache.borrow().current(transport::now_ms()) {
                return Ok(token);
            }
            if let Some((n, err)) = &self.polled.borrow().last_error {
                if *n > start {
                    return Err(err.clone());
                }
            }
            let lead = {
                let mut polled = self.polled.borrow_mut();
                !std::mem::replace(&mut polled.fetching, true)
            };
            if lead {
                let _leader = PollLeader(self.clone());
                let failed = self.failed.borrow_mut().take();
                let fetch = self.fetch(failed).boxed_local();
                let result = match select(fetch, transport::aborted(&guard.signal()?)).await {
                    Either::Left((result, _)) => result,
                    Either::Right(_) => return Err(guard.error(what).unwrap_or(Error::Cancelled)),
                };
                let mut polled = self.polled.borrow_mut();
                polled.finished += 1;
                match result {
                    Ok(grant) => {
                        self.cache.borrow_mut().store(&grant, transport::now_ms());
                        return Ok(grant.token);
                    }
                    Err(err) => {
                        polled.last_error = Some((polled.finished, err.clone()));
                        return Err(err);
                    }
                }
            }
            transport::sleep_unless_aborted(interval_ms, &guard.signal()?).await;
            if let Some(err) = guard.error(what) {
                return Err(err);
            }
        }
    }
}

/// Fetches a token, caches it, and empties the in-flight slot.
async fn fetch_and_store(tokens: Rc<Tokens>) -> Result<AccessToken, Error> {
    let failed = tokens.failed.borrow_mut().take();
    let result = tokens.fetch(failed).await;
    if let Ok(grant) = &result {
        tokens.cache.borrow_mut().store(grant, transport::now_ms());
    }
    tokens.in_flight.borrow_mut().take();
    result.map(|grant| grant.token)
}

impl Tokens {
    /// A fresh token from the source. A fixed token is its own grant.
    async fn fetch(&self, failed: Option<AccessToken>) -> Result<TokenGrant, Error> {
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
            } => fetch_from_wechat(&self.config, appid, secret.expose(), *mode)
                .await
                .map_err(|mut err| {
                    err.redact(&[secret.expose()]);
                    err
                }),
        }
    }
}

/// One token fetch from WeChat, its transient failures retried, within the token timeout. A
/// timeout here is reported as the token's ("the token request timed out").
async fn fetch_from_wechat(
    config: &ClientConfig,
    appid: &str,
    secret: &str,
    mode: TokenMode,
) -> Result<TokenGrant, Error> {
    let guard = AbortGuard::new(config.token_timeout_ms, None);
    let mut call = Call::new(
        config.retry,
        TokenUse::None,
        "token",
        transport::now_ms(),
        config.token_timeout_ms,
    );
    let mut step = call.start(transport::now_ms());
    loop {
        step = match step {
            Step::Send(_) => {
                let request = match mode {
                    TokenMode::Stable => {
                        stable_token_request(&config.base_url, appid, secret, false)
                    }
                    TokenMode::Classic => token_request(&config.base_url, appid, secret),
                };
                let result = async {
                    let request = transport::to_web_request(&request)?;
                    let response =
                        transport::fetch(&request, &guard, "token", config.fetch.as_ref()).await?;
                    let body = transport::read_json_answer(&response, &guard, "token").await?;
                    parse_token(&body)
                }
                .await;
                call.answered(result, transport::now_ms())
            }
            Step::SleepUntil(at) => {
                guard.sleep_until(at, "token").await?;
                call.woke(transport::now_ms())
            }
            Step::Done(grant) => return Ok(grant),
            Step::Fail(err) => return Err(err),
            // A call with `TokenUse::None` never asks for a token.
            Step::GetToken | Step::RefreshToken(_) => return Err(call.timeout_error()),
        }
    }
}
