//! The isolate's clients and the `TokenHolder` Durable Object (wasm only).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::FutureExt;
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};
use wxmedia::client::{Client, ClientConfig, Credentials, TokenKeeper, TokenMode, TokenWait};
use wxmedia::protocol::{AccessToken, Error, TokenGrant};

use super::message::{TokenAnswer, TokenAsk};

use crate::config::{Apps, Config, TokenSource, TOKENS_BINDING};

/// How often a request waiting for another's token fetch looks again (requests must not await
/// each other's promises in Workers).
const TOKEN_POLL_MS: u64 = 10;

/// How long an isolate keeps a token from the Durable Object before asking again.
pub const LOCAL_COPY_SECS: u64 = 300;

/// How long a token refusal that needs the operator (40164) is shown on `/healthz`.
const TOKEN_ERROR_SHOWN_MS: f64 = 10.0 * 60_000.0;

thread_local! {
    /// The last token refusal that needs the operator (WeChat's IP whitelist, 40164), by app id,
    /// with when it came (ms): what `/healthz` says of the app while it is recent.
    static TOKEN_ERRORS: RefCell<HashMap<String, (f64, String)>> = RefCell::new(HashMap::new());
    /// The isolate's clients, by app id, each with the configuration it was built for: a token
    /// error of one app drops only that app's token.
    static CLIENTS: RefCell<HashMap<String, (String, Client)>> = RefCell::new(HashMap::new());
}

/// The isolate's client for `config`'s app (built once per app, rebuilt if the configuration
/// changes).
pub fn client(config: &Config, env: &Env) -> Result<Client, crate::error::ApiError> {
    let source = config.require_tokens()?.clone();
    let fingerprint = format!(
        "{}|{:?}|{}|{}|{:?}|{:?}",
        config.upstream,
        config.token_upstream,
        config.appid,
        config.upstream_timeout_ms,
        config.limits,
        match &source {
            TokenSource::Fixed(t) => format!("fixed:{}", t.expose().len()),
            TokenSource::DurableObject(_) => "do".to_string(),
            TokenSource::Isolate(_) => "isolate".to_string(),
            TokenSource::Url { url, .. } => format!("url:{url}"),
        }
    );
    if let Some(client) = CLIENTS.with(|c| {
        c.borrow()
            .get(&config.appid)
            .filter(|(f, _)| *f == fingerprint)
            .map(|(_, client)| client.clone())
    }) {
        return Ok(client);
    }
    let credentials = match source {
        TokenSource::Fixed(token) => Credentials::AccessToken(token),
        TokenSource::Isolate(secret) => Credentials::AppSecret {
            appid: config.appid.clone(),
            secret,
            mode: token_mode(config),
        },
        TokenSource::Url { url, key } => {
            let timeout_ms = config.upstream_timeout_ms.min(10_000);
            let appid = config.appid.clone();
            Credentials::Provider(Rc::new(move |failed| {
                let (url, key, appid) = (url.clone(), key.clone(), appid.clone());
                async move {
                    let result = ask_token_url(&url, key.as_ref(), failed, timeout_ms).await;
                    if let Err(err) = &result {
                        note_token_error(&appid, err);
                    }
                    result
                }
                .boxed_local()
            }))
        }
        TokenSource::DurableObject(_) => {
            let env = env.clone();
            let appid = config.appid.clone();
            Credentials::Provider(Rc::new(move |failed| {
                let env = env.clone();
                let appid = appid.clone();
                async move { ask_holder(&env, &appid, failed).await }.boxed_local()
            }))
        }
    };
    let mut client_config = ClientConfig::new(credentials);
    client_config.token_base_url = config.token_upstream.clone();
    client_config.base_url = config.upstream.clone();
    client_config.video_hosts = config.video_hosts.clone();
    client_config.media_timeout_ms = config.upstream_timeout_ms;
    // The app's upload limits (`MAX_UPLOAD_BYTES_<APPID>`), checked by the core before WeChat.
    client_config.limits = config.limits;
    client_config.token_timeout_ms = config.upstream_timeout_ms.min(10_000);
    client_config.token_wait = TokenWait::Poll {
        interval_ms: TOKEN_POLL_MS,
    };
    let client = Client::new(client_config);
    CLIENTS.with(|c| {
        c.borrow_mut()
            .insert(config.appid.clone(), (fingerprint, client.clone()))
    });
    Ok(client)
}

/// Keeps `err` for `/healthz` when it is a refusal the operator must act on (40164).
fn note_token_error(appid: &str, err: &Error) {
    if err.errcode() == Some(wxmedia::protocol::errcode::IP_NOT_WHITELISTED) {
        let message = crate::error::ApiError::from_core(err, 0).message;
        TOKEN_ERRORS.with(|t| {
            t.borrow_mut()
                .insert(appid.to_string(), (js_sys::Date::now(), message))
        });
    }
}

/// The app's token refusal that needs the operator, if one came in the last ten minutes (in
/// this isolate): for `/healthz`.
pub fn recent_token_error(appid: &str) -> Option<String> {
    TOKEN_ERRORS.with(|t| {
        t.borrow()
            .get(appid)
            .filter(|(at, _)| js_sys::Date::now() - at < TOKEN_ERROR_SHOWN_MS)
            .map(|(_, message)| message.clone())
    })
}

/// Asks the app's Durable Object for a token (the isolate's client, after `failed` failed).
async fn ask_holder(
    env: &Env,
    appid: &str,
    failed: Option<AccessToken>,
) -> Result<TokenGrant, Error> {
    let ask = TokenAsk {
        appid: appid.to_string(),
        failed: failed.map(|t| t.expose().to_string()),
        force: false,
    };
    let result = send_ask(env, &ask)
        .await
        .and_then(|answer| answer.into_result(LOCAL_COPY_SECS));
    if let Err(err) = &result {
        note_token_error(appid, err);
    }
    result
}

/// The one exchange with an app's `TokenHolder`: `ask` in, its typed answer out.
async fn send_ask(env: &Env, ask: &TokenAsk) -> Result<TokenAnswer, Error> {
    let internal = |e: worker::Error| Error::network(format!("token holder: {e}"));
    let stub = env
        .durable_object(TOKENS_BINDING)
        .and_then(|ns| ns.id_from_name(&ask.appid)?.get_stub())
        .map_err(internal)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(ask).unwrap_or_default().into()));
    let request =
        Request::new_with_init("https://tokens.internal/token", &init).map_err(internal)?;
    let mut response = stub.fetch_with_request(request).await.map_err(internal)?;
    response.json().await.map_err(internal)
}

/// Asks a 中控 with its own API (`WECHAT_TOKEN_URL`) for a token: `GET`, with
/// `?invalid=<token>` when that token just failed (the 中控's compare-and-invalidate), and
/// `Authorization: Bearer WECHAT_TOKEN_URL_KEY` when set. The answer is read like WeChat's
/// token answer (`{"access_token","expires_in"}`, or `{"errcode","errmsg"}`), within `timeout_ms`;
/// its lifetime is cut to [`LOCAL_COPY_SECS`], so a rotation there reaches this isolate soon.
async fn ask_token_url(
    url: &str,
    key: Option<&wxmedia::protocol::TokenUrlKey>,
    failed: Option<AccessToken>,
    timeout_ms: u64,
) -> Result<TokenGrant, Error> {
    use futures_util::future::{select, Either};
    let mut target =
        worker::Url::parse(url).map_err(|e| Error::network(format!("WECHAT_TOKEN_URL: {e}")))?;
    if let Some(failed) = &failed {
        target
            .query_pairs_mut()
            .append_pair("invalid", failed.expose());
    }
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let work = async {
        let headers = worker::Headers::new();
        if let Some(key) = key {
            let _ = headers.set("Authorization", &format!("Bearer {}", key.expose()));
        }
        let mut init = RequestInit::new();
        init.with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual);
        let request = Request::new_with_init(target.as_str(), &init)
            .map_err(|e| Error::network(format!("the token URL: {e}")))?;
        let mut response = worker::Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(|e| Error::network(format!("the token URL: {e}")))?;
        let status = response.status_code();
        if !(200..300).contains(&status) {
            return Err(Error::Http { status });
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::network(format!("the token URL: {e}")))?;
        if body.len() > 64 * 1024 {
            return Err(Error::Parse {
                message: "the token URL answered more than 64 KiB".into(),
                raw: Vec::new(),
            });
        }
        let grant = wxmedia::protocol::parse_token(&body)?;
        Ok(TokenGrant {
            expires_in: grant.expires_in.min(LOCAL_COPY_SECS),
            ..grant
        })
    };
    let timer = worker::Delay::from(std::time::Duration::from_millis(timeout_ms));
    let work = std::pin::pin!(work);
    let outcome = match select(work, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            controller.abort();
            Err(Error::Timeout {
                what: "token",
                after_ms: timeout_ms,
            })
        }
    };
    outcome.map_err(|mut err| {
        if let Some(key) = key {
            err.redact(&[key.expose()]);
        }
        err
    })
}

/// How an app's tokens are fetched: from a token hub (`TOKEN_UPSTREAM_BASE`), which is asked to
/// refresh a token that failed, else from WeChat's stable token API.
fn token_mode(config: &Config) -> TokenMode {
    if config.token_upstream.is_some() {
        TokenMode::Hub
    } else {
        TokenMode::Stable
    }
}

/// What the token hub's routes hand a consumer: the app's current token with its true remaining
/// lifetime, or (`force`) a forced refresh, compare-and-invalidate when `failed` is given. Only
/// with the `TOKENS` Durable Object: one holder per app is what makes a hub.
pub async fn hub_grant(
    env: &Env,
    config: &Config,
    force: bool,
    failed: Option<&str>,
) -> Result<TokenGrant, crate::error::ApiError> {
    match config.require_tokens()? {
        TokenSource::DurableObject(_) => {}
        _ => {
            return Err(crate::error::ApiError::config(&format!(
                "the token hub needs {} and the TOKENS Durable Object: one holder per app",
                config.setting("WECHAT_SECRET")
            )))
        }
    }
    let ask = TokenAsk {
        appid: config.appid.clone(),
        failed: failed.map(str::to_string),
        force,
    };
    let answer = send_ask(env, &ask)
        .await
        .and_then(|a| a.into_result(u64::MAX));
    answer.map_err(|e| crate::error::ApiError::from_core(&e, (js_sys::Date::now() / 1000.0) as u64))
}

pub use holder::TokenHolder;

/// The Durable Object. `#[durable_object]` generates JS glue without docs, hence the allow.
#[allow(
    missing_docs,
    reason = "the durable_object macro generates undocumented glue"
)]
mod holder {
    use super::*;

    /// The Durable Object that holds one app's token (`TOKENS`, named by app id), through a
    /// tokens-only [`TokenKeeper`].
    #[durable_object]
    pub struct TokenHolder {
        env: Env,
        /// Its SQLite storage: the record of forced refreshes (the day's budget outlives a
        /// restart of the object).
        sql: worker::SqlStorage,
        /// The keeper, and the app id it fetches for.
        keeper: RefCell<Option<(String, TokenKeeper)>>,
    }

    impl DurableObject for TokenHolder {
        fn new(state: State, env: Env) -> Self {
            let sql = state.storage().sql();
            let _ = sql.exec(
                "CREATE TABLE IF NOT EXISTS forced (id INTEGER PRIMARY KEY CHECK (id = 1), day INTEGER NOT NULL, count INTEGER NOT NULL, last_ms INTEGER NOT NULL)",
                None,
            );
            Self {
                env,
                sql,
                keeper: RefCell::new(None),
            }
        }

        async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
            let answer = match req.json::<TokenAsk>().await {
                Err(e) => TokenAnswer::Failed {
                    message: format!("an ask the holder cannot read: {e}"),
                },
                Ok(ask) => match self.keeper(&ask.appid) {
                    Err(message) => TokenAnswer::Failed { message },
                    Ok(keeper) if ask.force => {
                        let failed = ask.failed.map(AccessToken::new);
                        let refreshed = keeper.force_refresh(failed.as_ref()).await;
                        self.save_forced(&keeper);
                        TokenAnswer::from_result(refreshed.map(|r| r.grant()))
                    }
                    Ok(keeper) => {
                        if let Some(failed) = ask.failed {
                            keeper.invalidate(&AccessToken::new(failed));
                        }
                        TokenAnswer::from_result(keeper.grant().await)
                    }
                },
            };
            Response::from_json(&answer)
        }
    }

    impl TokenHolder {
        /// Keeps the keeper's record of forced refreshes in storage.
        fn save_forced(&self, keeper: &TokenKeeper) {
            let (day, count, last_ms) = keeper.forced_record();
            let int =
                |n: u64| worker::SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX));
            let _ = self.sql.exec(
                "INSERT OR REPLACE INTO forced (id, day, count, last_ms) VALUES (1, ?, ?, ?)",
                vec![int(day), int(u64::from(count)), int(last_ms)],
            );
        }

        /// The stored record of forced refreshes, if there is one.
        fn load_forced(&self, keeper: &TokenKeeper) {
            #[derive(serde::Deserialize)]
            struct Row {
                day: f64,
                count: f64,
                last_ms: f64,
            }
            let rows: Vec<Row> = self
                .sql
                .exec("SELECT day, count, last_ms FROM forced WHERE id = 1", None)
                .and_then(|c| c.to_array())
                .unwrap_or_default();
            if let Some(row) = rows.first() {
                keeper.restore_forced(row.day as u64, row.count as u32, row.last_ms as u64);
            }
        }

        /// The holder's keeper for app `appid`, fetching through `stable_token` (built on first
        /// use; the settings are read again only for another app id).
        fn keeper(&self, appid: &str) -> Result<TokenKeeper, String> {
            if let Some((id, keeper)) = self.keeper.borrow().as_ref() {
                if id == appid {
                    return Ok(keeper.clone());
                }
            }
            let apps = Apps::from_settings(&self.env).map_err(|e| e.message)?;
            let config = apps
                .app(appid)
                .ok_or_else(|| format!("app {appid} is not in WECHAT_APPS"))?;
            let secret = match &config.tokens {
                Some(TokenSource::DurableObject(secret) | TokenSource::Isolate(secret)) => {
                    secret.clone()
                }
                _ => return Err(format!("{} is not set", config.setting("WECHAT_SECRET"))),
            };
            let keeper = TokenKeeper::new(
                config.appid.clone(),
                secret,
                token_mode(config),
                config
                    .token_upstream
                    .clone()
                    .unwrap_or_else(|| config.upstream.clone()),
                config.upstream_timeout_ms.min(10_000),
                TokenWait::Poll {
                    interval_ms: TOKEN_POLL_MS,
                },
            );
            self.load_forced(&keeper);
            *self.keeper.borrow_mut() = Some((config.appid.clone(), keeper.clone()));
            Ok(keeper)
        }
    }
}
