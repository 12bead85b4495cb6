//! Access tokens for upstream calls, and the per-isolate clients that use them (one per app).
//!
//! With the `TOKENS` Durable Object bound, one holder per app id fetches through `stable_token`,
//! one fetch at a time, and drops a token only if it is the one that failed. Isolates keep a
//! short local copy (at most [`LOCAL_COPY_SECS`]). Without the binding, the isolate's own client
//! holds the token the same way; with `WECHAT_ACCESS_TOKEN`, that fixed token is used as is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State};
use wxmedia::client::{Client, ClientConfig, Credentials, TokenMode, TokenWait};
use wxmedia::protocol::{AccessToken, Error, TokenGrant, WeChatError};

use crate::config::{Apps, Config, TokenSource, TOKENS_BINDING};

/// How often a request waiting for another's token fetch looks again (requests must not await
/// each other's promises in Workers).
const TOKEN_POLL_MS: u64 = 10;

/// How long an isolate keeps a token from the Durable Object before asking again.
pub const LOCAL_COPY_SECS: u64 = 300;

/// What an isolate asks the holder.
#[derive(Serialize, Deserialize)]
struct TokenAsk {
    /// The app whose token is asked for (the holder is named by it too).
    #[serde(default)]
    appid: Option<String>,
    /// The token that just failed upstream, if that is why it asks.
    failed: Option<String>,
}

/// What the holder answers (internal: never sent to clients).
#[derive(Serialize, Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<u64>,
    errcode: Option<i64>,
    errmsg: Option<String>,
    error: Option<String>,
}

thread_local! {
    /// The isolate's clients, by app id, each with the configuration it was built for: a token
    /// error of one app drops only that app's token.
    static CLIENTS: RefCell<HashMap<String, (String, Client)>> = RefCell::new(HashMap::new());
}

/// The isolate's client for `config`'s app (built once per app, rebuilt if the configuration
/// changes).
pub fn client(config: &Config, env: &Env) -> Result<Client, crate::error::ApiError> {
    let source = config.require_tokens()?.clone();
    let fingerprint = format!(
        "{}|{}|{}|{:?}|{:?}",
        config.upstream,
        config.appid,
        config.upstream_timeout_ms,
        config.limits,
        match &source {
            TokenSource::Fixed(t) => format!("fixed:{}", t.expose().len()),
            TokenSource::DurableObject(_) => "do".to_string(),
            TokenSource::Isolate(_) => "isolate".to_string(),
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
            mode: TokenMode::Stable,
        },
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

/// Asks the app's Durable Object for a token.
async fn ask_holder(
    env: &Env,
    appid: &str,
    failed: Option<AccessToken>,
) -> Result<TokenGrant, Error> {
    let internal = |e: worker::Error| Error::network(format!("token holder: {e}"));
    let stub = env
        .durable_object(TOKENS_BINDING)
        .and_then(|ns| ns.id_from_name(appid)?.get_stub())
        .map_err(internal)?;
    let ask = TokenAsk {
        appid: Some(appid.to_string()),
        failed: failed.map(|t| t.expose().to_string()),
    };
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(serde_json::to_string(&ask).unwrap_or_default().into()));
    let request =
        Request::new_with_init("https://tokens.internal/token", &init).map_err(internal)?;
    let mut response = stub.fetch_with_request(request).await.map_err(internal)?;
    let answer: TokenAnswer = response.json().await.map_err(internal)?;
    match answer {
        TokenAnswer {
            access_token: Some(token),
            expires_in,
            ..
        } => Ok(TokenGrant {
            token: AccessToken::new(token),
            expires_in: expires_in.unwrap_or(0).min(LOCAL_COPY_SECS),
        }),
        TokenAnswer {
            errcode: Some(code),
            errmsg,
            ..
        } => Err(Error::WeChat(WeChatError::parse_errmsg(
            code,
            errmsg.as_deref().unwrap_or(""),
        ))),
        TokenAnswer { error, .. } => Err(Error::network(format!(
            "token holder: {}",
            error.unwrap_or_default()
        ))),
    }
}

pub use holder::TokenHolder;

/// The Durable Object. `#[durable_object]` generates JS glue without docs, hence the allow.
#[allow(
    missing_docs,
    reason = "the durable_object macro generates undocumented glue"
)]
mod holder {
    use super::*;

    /// The Durable Object that holds one app's token (`TOKENS`, named by app id).
    #[durable_object]
    pub struct TokenHolder {
        env: Env,
        /// The client, and the app id it fetches for.
        client: RefCell<Option<(String, Client)>>,
    }

    impl DurableObject for TokenHolder {
        fn new(_state: State, env: Env) -> Self {
            Self {
                env,
                client: RefCell::new(None),
            }
        }

        async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
            let ask: TokenAsk = req.json().await.unwrap_or(TokenAsk {
                appid: None,
                failed: None,
            });
            let client = match self.holder_client(ask.appid.as_deref()) {
                Ok(client) => client,
                Err(message) => {
                    return Response::from_json(&TokenAnswer {
                        access_token: None,
                        expires_in: None,
                        errcode: None,
                        errmsg: None,
                        error: Some(message),
                    })
                }
            };
            if let Some(failed) = ask.failed {
                client.invalidate_token(&AccessToken::new(failed));
            }
            let answer = match client.token_grant().await {
                Ok(grant) => TokenAnswer {
                    access_token: Some(grant.token.expose().to_string()),
                    expires_in: Some(grant.expires_in),
                    errcode: None,
                    errmsg: None,
                    error: None,
                },
                Err(Error::WeChat(e)) => TokenAnswer {
                    access_token: None,
                    expires_in: None,
                    errcode: Some(e.errcode),
                    errmsg: Some(e.raw_errmsg),
                    error: None,
                },
                Err(other) => TokenAnswer {
                    access_token: None,
                    expires_in: None,
                    errcode: None,
                    errmsg: None,
                    error: Some(other.to_string()),
                },
            };
            Response::from_json(&answer)
        }
    }

    impl TokenHolder {
        /// The holder's own client for app `appid` (the default app when `None`), fetching
        /// through `stable_token` (built on first use).
        fn holder_client(&self, appid: Option<&str>) -> Result<Client, String> {
            if let Some((id, client)) = self.client.borrow().as_ref() {
                if appid.is_none_or(|a| a == id) {
                    return Ok(client.clone());
                }
            }
            let apps = Apps::from_settings(&self.env).map_err(|e| e.message)?;
            let config = match appid {
                Some(id) => apps
                    .app(id)
                    .ok_or_else(|| format!("app {id} is not in WECHAT_APPS"))?,
                None => &apps.default,
            };
            let secret = match &config.tokens {
                Some(TokenSource::DurableObject(secret) | TokenSource::Isolate(secret)) => {
                    secret.clone()
                }
                _ => return Err(format!("{} is not set", config.setting("WECHAT_SECRET"))),
            };
            let config = (**config).clone();
            let mut client_config = ClientConfig::new(Credentials::AppSecret {
                appid: config.appid.clone(),
                secret,
                mode: TokenMode::Stable,
            });
            client_config.base_url = config.upstream;
            client_config.token_timeout_ms = config.upstream_timeout_ms.min(10_000);
            client_config.token_wait = TokenWait::Poll {
                interval_ms: TOKEN_POLL_MS,
            };
            let client = Client::new(client_config);
            *self.client.borrow_mut() = Some((config.appid, client.clone()));
            Ok(client)
        }
    }
}
