//! The token hub (中控): WeChat's own token API, so any SDK (or another wxmedia Worker, with
//! `TOKEN_UPSTREAM_BASE`) gets the app's access token here by changing its base URL.
//!
//! - `POST /cgi-bin/stable_token` `{"grant_type":"client_credential","appid","secret",
//!   "force_refresh"?,"access_token"?}`
//! - `GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`
//!
//! `secret` is one of the app's token keys (`TOKEN_KEYS`), never the app secret, and never an API
//! key: handing out the token is a right of its own. The answer is the app's `TokenHolder`'s
//! current token with its true remaining lifetime; `force_refresh` is compare-and-invalidate with
//! the failed `access_token`, else at most one rotation per 30 s, within a daily budget below
//! WeChat's. Anything else gets WeChat's own error JSON and no token. Answers are `no-store`.

use serde::Deserialize;
use serde_json::json;
use worker::{Env, Request, Response};
use wxmedia::protocol::errcode;

use super::auth;
use super::pipeline::query;
use crate::config::Apps;
use crate::error::{ApiError, ErrorCode};
use crate::tokens;

/// A token call's parameters, from the query (`/cgi-bin/token`) or the JSON body
/// (`/cgi-bin/stable_token`).
#[derive(Deserialize, Default)]
struct Ask {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    appid: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    force_refresh: bool,
    #[serde(default)]
    access_token: Option<String>,
}

fn refused(code: i64, errmsg: &str) -> ApiError {
    ApiError {
        errcode: Some(code),
        ..ApiError::new(ErrorCode::Unauthorized, errmsg)
    }
}

/// `GET /cgi-bin/token`.
pub async fn classic(req: &Request, env: &Env, apps: &Apps) -> worker::Result<Response> {
    let ask = Ask {
        grant_type: query(req, "grant_type").unwrap_or_default(),
        appid: query(req, "appid").unwrap_or_default(),
        secret: query(req, "secret").unwrap_or_default(),
        ..Ask::default()
    };
    answer(env, apps, ask).await
}

/// `POST /cgi-bin/stable_token`.
pub async fn stable(req: &mut Request, env: &Env, apps: &Apps) -> worker::Result<Response> {
    let body = req.bytes().await.unwrap_or_default();
    if body.len() > 4096 {
        return refused(errcode::INVALID_GRANT_TYPE, "invalid request body").to_wechat_response();
    }
    match serde_json::from_slice::<Ask>(&body) {
        Ok(ask) => answer(env, apps, ask).await,
        Err(_) => refused(errcode::INVALID_GRANT_TYPE, "invalid request body").to_wechat_response(),
    }
}

async fn answer(env: &Env, apps: &Apps, ask: Ask) -> worker::Result<Response> {
    match grant(env, apps, ask).await {
        Ok(response) => Ok(response),
        Err(err) => err.to_wechat_response(),
    }
}

async fn grant(env: &Env, apps: &Apps, ask: Ask) -> Result<Response, ApiError> {
    if ask.grant_type != "client_credential" {
        return Err(refused(errcode::INVALID_GRANT_TYPE, "invalid grant_type"));
    }
    let config = apps
        .app(&ask.appid)
        .ok_or_else(|| refused(errcode::INVALID_APPID, "invalid appid"))?;
    // The same answer for a wrong key, an API key, the app secret or no key at all.
    if ask.secret.is_empty() || !auth::is_token_key(config, &ask.secret) {
        return Err(refused(errcode::INVALID_APPSECRET, "invalid appsecret"));
    }
    let grant = tokens::hub_grant(
        env,
        config,
        ask.force_refresh,
        ask.access_token.as_deref().filter(|t| !t.is_empty()),
    )
    .await?;
    let body = json!({
        "access_token": grant.token.expose(),
        "expires_in": grant.expires_in,
    });
    let mut response = Response::from_json(&body)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    let _ = response.headers_mut().set("Cache-Control", "no-store");
    Ok(response)
}
