//! `GET`/`POST /wechat/callback` (and `/apps/{appid}/wechat/callback`): the account's callback
//! endpoint.
//!
//! A `GET` is WeChat's URL check. A `POST` is a push: verified before anything else happens
//! ([`wxmedia_push::open`]), then recorded in the app's `PushLog` under its redelivery key. The
//! first delivery schedules the archiving of its media (never on the answer's path), forwards the
//! plaintext message to `CALLBACK_FORWARD_URL` within `CALLBACK_FORWARD_TIMEOUT_MS`, and answers
//! WeChat with the handler's reply (sealed in safe mode) or `success`; a redelivery gets the same
//! reply, waiting for the first delivery's if it is still in flight. WeChat is answered within
//! [`ANSWER_WITHIN_MS`] whatever the handler, WeChat's media API or R2 do.

use std::time::Duration;

use futures_util::future::{select, Either, FutureExt};
use wasm_bindgen::JsCast;
use worker::{Context, Env, Request};
use wxmedia::client::{read_whole_within, Settled};
use wxmedia_push::{open, seal_reply, verify_url, Mode, Opened, PushError, PushQuery};

use super::archive;
use super::log::{self, IN_FLIGHT_STALE_MS};
use super::records::{ArchiveJob, LogAnswer, LogAsk, LoggedMedia, PushState};
use crate::config::{Callback, Config};
use crate::error::{ApiError, ErrorCode};

/// WeChat gives up on an answer after 5 s; the Worker answers within this, whatever happens.
pub const ANSWER_WITHIN_MS: u64 = 4_500;

/// How often a redelivery looks again for the first delivery's answer.
const PEEK_EVERY_MS: u64 = 50;

/// The most of a handler's answer passed on (a passive reply is a few KiB).
const MAX_REPLY_BYTES: u64 = 64 * 1024;

/// The app's callback settings, or why there are none.
fn settings(config: &Config) -> Result<&Callback, ApiError> {
    config.callback.as_ref().ok_or_else(|| {
        ApiError::config(&format!(
            "{} is not set: this app has no callback endpoint",
            config.setting("WECHAT_CALLBACK_TOKEN")
        ))
    })
}

fn push_query(req: &Request) -> PushQuery {
    let url = req.url().ok();
    let pairs: Vec<(String, String)> = url
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    PushQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn refused(err: &PushError) -> ApiError {
    let code = match err {
        e if e.is_forbidden() => ErrorCode::PushRefused,
        PushError::TooLarge => ErrorCode::TooLarge,
        PushError::NoKey | PushError::BadKey => ErrorCode::Config,
        _ => ErrorCode::PushMalformed,
    };
    ApiError::new(code, format!("push refused ({}): {err}", err.code()))
}

fn text(body: &str) -> Result<web_sys::Response, ApiError> {
    let init = web_sys::ResponseInit::new();
    let headers = web_sys::Headers::new().map_err(crate::routes::pipeline::js_internal)?;
    let _ = headers.set("Content-Type", "text/plain; charset=utf-8");
    let _ = headers.set("Cache-Control", "no-store");
    init.set_headers(&headers);
    web_sys::Response::new_with_opt_str_and_init(Some(body), &init)
        .map_err(crate::routes::pipeline::js_internal)
}

fn xml(body: &str) -> Result<web_sys::Response, ApiError> {
    let response = text(body)?;
    let _ = response
        .headers()
        .set("Content-Type", "application/xml; charset=utf-8");
    Ok(response)
}

/// `GET`: WeChat's URL check.
pub fn url_check(req: &Request, config: &Config) -> Result<web_sys::Response, ApiError> {
    let callback = settings(config)?;
    let query = push_query(req);
    match verify_url(&query, callback.token.expose()) {
        Ok(echo) => text(echo),
        Err(err) => Err(refused(&err)),
    }
}

/// The request body, at most [`wxmedia_push::MAX_PUSH_BYTES`] of it (a larger one is refused
/// unread when it says so, and as soon as it passes the cap when it does not).
async fn read_push(req: &Request) -> Result<Vec<u8>, ApiError> {
    let max = wxmedia_push::MAX_PUSH_BYTES as u64;
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(refused(&PushError::TooLarge));
    }
    let raw: &web_sys::Request = req.inner();
    // A declared length is the body's length (the runtime frames the body by it): read it
    // whole in one call. Without one, stream it and stop at the cap.
    if declared.is_some() {
        let buffer = Settled::new(
            &raw.array_buffer()
                .map_err(crate::routes::pipeline::js_internal)?,
        )
        .await
        .map_err(|_| ApiError::new(ErrorCode::BadRequest, "the push body could not be read"))?;
        return Ok(js_sys::Uint8Array::new(&buffer).to_vec());
    }
    let Some(stream) = raw.body() else {
        return Ok(Vec::new());
    };
    let blob = read_whole_within(&stream, max)
        .await
        .map_err(|_| ApiError::new(ErrorCode::BadRequest, "the push body could not be read"))?
        .ok_or_else(|| refused(&PushError::TooLarge))?;
    let buffer = Settled::new(&blob.array_buffer())
        .await
        .map_err(crate::routes::pipeline::js_internal)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// `POST`: a push.
pub async fn push(
    req: &Request,
    env: &Env,
    ctx: &Context,
    config: &Config,
) -> Result<web_sys::Response, ApiError> {
    let started = js_sys::Date::now();
    let callback = settings(config)?;
    let query = push_query(req);
    let body = read_push(req).await?;
    let now_secs = (started / 1000.0) as u64;
    let push_settings = wxmedia_push::PushSettings {
        token: callback.token.expose(),
        aes_key: callback.aes_key.as_ref(),
        appid: &config.appid,
    };
    let opened = open(&query, &body, push_settings, now_secs).map_err(|e| refused(&e))?;
    let deadline = started + ANSWER_WITHIN_MS as f64;
    let key = opened.message.dedupe_key();
    let media: Vec<LoggedMedia> = opened
        .message
        .media()
        .into_iter()
        .map(|m| LoggedMedia {
            media_id: m.media_id,
            role: m.role.as_str().to_string(),
        })
        .collect();
    let begin = LogAsk::Begin {
        key: key.clone(),
        msg_id: opened.message.msg_id().map(str::to_string),
        msg_type: opened.message.msg_type().unwrap_or("").to_string(),
        from_user: opened.message.from_user().unwrap_or("").to_string(),
        create_time: opened.message.create_time().unwrap_or(now_secs),
        format: opened.message.get("Format").map(str::to_string),
        media: media.clone(),
        // Without a handler the answer is known now: recorded with the push, in one call.
        reply: callback
            .forward_url
            .is_none()
            .then(|| "success".to_string()),
        now_ms: started as u64,
    };
    let state = match log::ask(env, &config.appid, &begin).await {
        Ok(LogAnswer::State(state)) => state,
        other => {
            // Without the log nothing can be kept exactly once: WeChat gets `success` (it will
            // not redeliver), and the failure is in the isolate's log.
            let why = match other {
                Err(e) => e,
                Ok(_) => "an answer of another kind".to_string(),
            };
            worker::console_error!(
                "wxmedia: the push log did not answer ({why}); a push was answered without handling"
            );
            return text("success");
        }
    };
    let reply = match state {
        PushState::Done { reply } => reply,
        PushState::InFlight { .. } => wait_for_answer(env, &config.appid, &key, deadline).await,
        PushState::New => {
            let jobs: Vec<ArchiveJob> = media
                .iter()
                .map(|m| ArchiveJob {
                    appid: config.appid.clone(),
                    media_id: m.media_id.clone(),
                    role: m.role.clone(),
                    msg_type: opened.message.msg_type().unwrap_or("").to_string(),
                    attempts: 0,
                })
                .collect();
            if !jobs.is_empty() {
                archive::schedule(env, ctx, config, jobs).await;
            }
            if callback.forward_url.is_none() {
                return answer("success", callback, config, &opened, &query, now_secs);
            }
            // Forwarding and recording the answer run under `waitUntil`, so they finish even if
            // WeChat closes this connection first; this delivery awaits the same work.
            let work = first_delivery(
                env.clone(),
                config.appid.clone(),
                key.clone(),
                callback.clone(),
                query.clone(),
                opened.clone(),
                deadline,
            )
            .boxed_local()
            .shared();
            ctx.wait_until(work.clone().map(|_| ()));
            work.await
        }
    };
    answer(&reply, callback, config, &opened, &query, now_secs)
}

/// The first delivery of a push: forwarded (when a handler is set), its answer recorded for
/// redeliveries, and given back.
async fn first_delivery(
    env: Env,
    appid: String,
    key: String,
    callback: Callback,
    query: PushQuery,
    opened: Opened,
    deadline: f64,
) -> String {
    let reply = match &callback.forward_url {
        Some(url) => forward(url, &callback, &query, &opened, deadline).await,
        None => "success".to_string(),
    };
    let finish = LogAsk::Finish {
        key,
        reply: reply.clone(),
    };
    let _ = log::ask(&env, &appid, &finish).await;
    reply
}

/// The reply as WeChat is answered with it: `success` and empty answers as they are, anything
/// else sealed in safe and compatible mode.
fn answer(
    reply: &str,
    callback: &Callback,
    config: &Config,
    opened: &Opened,
    query: &PushQuery,
    now_secs: u64,
) -> Result<web_sys::Response, ApiError> {
    let trimmed = reply.trim();
    if trimmed.is_empty() || trimmed == "success" || opened.mode == Mode::Plain {
        return if trimmed.starts_with('<') {
            xml(reply)
        } else {
            text(reply)
        };
    }
    let Some(key) = &callback.aes_key else {
        return text("success");
    };
    let nonce = query.nonce.clone().unwrap_or_default();
    let sealed = seal_reply(
        reply,
        key,
        callback.token.expose(),
        &config.appid,
        &now_secs.to_string(),
        &nonce,
        &random16()?,
    );
    xml(&sealed)
}

/// 16 bytes from the platform's CSPRNG (`crypto.getRandomValues`).
fn random16() -> Result<[u8; 16], ApiError> {
    let bytes = js_sys::Uint8Array::new_with_length(16);
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())
        .map_err(crate::routes::pipeline::js_internal)?;
    let get = js_sys::Reflect::get(&crypto, &"getRandomValues".into())
        .map_err(crate::routes::pipeline::js_internal)?
        .dyn_into::<js_sys::Function>()
        .map_err(crate::routes::pipeline::js_internal)?;
    get.call1(&crypto, &bytes)
        .map_err(crate::routes::pipeline::js_internal)?;
    let mut out = [0u8; 16];
    bytes.copy_to(&mut out);
    Ok(out)
}

/// A redelivery: the first delivery's reply once it has one, or `success` at the deadline.
async fn wait_for_answer(env: &Env, appid: &str, key: &str, deadline: f64) -> String {
    loop {
        let left = deadline - js_sys::Date::now();
        if left <= 0.0 {
            return "success".to_string();
        }
        worker::Delay::from(Duration::from_millis(PEEK_EVERY_MS.min(left as u64))).await;
        let peek = LogAsk::Peek {
            key: key.to_string(),
        };
        match log::ask(env, appid, &peek).await {
            Ok(LogAnswer::State(PushState::Done { reply })) => return reply,
            Ok(LogAnswer::State(PushState::InFlight { since_ms }))
                if js_sys::Date::now() - since_ms as f64 > IN_FLIGHT_STALE_MS as f64 =>
            {
                return "success".to_string()
            }
            Ok(_) => {}
            Err(_) => return "success".to_string(),
        }
    }
}

/// POSTs the plaintext message to the developer's handler as WeChat would in plaintext mode (the
/// query signed with the same Token) and gives its answer, or `success` when it fails, answers
/// something other than 2xx, or is slower than its timeout (and the answer's deadline).
async fn forward(
    url: &str,
    callback: &Callback,
    query: &PushQuery,
    opened: &Opened,
    deadline: f64,
) -> String {
    let timestamp = query.timestamp.clone().unwrap_or_default();
    let nonce = query.nonce.clone().unwrap_or_default();
    let signature = wxmedia_push::signature(&[callback.token.expose(), &timestamp, &nonce]);
    let mut target = match worker::Url::parse(url) {
        Ok(u) => u,
        Err(_) => return "success".to_string(),
    };
    {
        let mut pairs = target.query_pairs_mut();
        pairs.append_pair("signature", &signature);
        pairs.append_pair("timestamp", &timestamp);
        pairs.append_pair("nonce", &nonce);
        if let Some(openid) = query.openid.as_deref().or(opened.message.from_user()) {
            pairs.append_pair("openid", openid);
        }
    }
    let left = (deadline - js_sys::Date::now()).max(0.0) as u64;
    let limit = callback.forward_timeout_ms.min(left);
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let work = async {
        let mut init = worker::RequestInit::new();
        let headers = worker::Headers::new();
        let _ = headers.set("Content-Type", "text/xml; charset=utf-8");
        init.with_method(worker::Method::Post)
            .with_headers(headers)
            .with_redirect(worker::RequestRedirect::Manual)
            .with_body(Some(opened.xml.clone().into()));
        let request = worker::Request::new_with_init(target.as_str(), &init).ok()?;
        let response = worker::Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .ok()?;
        if !(200..300).contains(&response.status_code()) {
            return None;
        }
        let raw: web_sys::Response = response.into();
        let stream = raw.body()?;
        let blob = read_whole_within(&stream, MAX_REPLY_BYTES).await.ok()??;
        let buffer = Settled::new(&blob.array_buffer()).await.ok()?;
        String::from_utf8(js_sys::Uint8Array::new(&buffer).to_vec()).ok()
    };
    let timer = worker::Delay::from(Duration::from_millis(limit));
    let work = std::pin::pin!(work);
    let outcome = match select(work, timer).await {
        Either::Left((Some(reply), _)) => reply,
        Either::Left((None, _)) => "success".to_string(),
        Either::Right(_) => {
            controller.abort();
            "success".to_string()
        }
    };
    outcome
}
