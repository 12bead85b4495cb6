//! The REST routes, `/healthz`, CORS, and the dispatcher.

use serde_json::json;
use web_sys::Headers;
use worker::{Context, Env, Method, Request, Response, Result};
use wxmedia::protocol::sign::{expiry, media_path, signed_path, SignedKind};
use wxmedia::protocol::{MediaType, UnknownMediaType};

use crate::config::{Apps, Config, DownloadAuth, TokenSource};
use crate::error::{ApiError, ErrorCode};
use crate::media::keys;
use crate::media::{self, Fetched};
use crate::routes::auth::{self, DownloadCredentials};
use crate::routes::pipeline::{
    accept_upload, apply_ops, client_response, fill_context, internal, query,
};
use crate::routes::table::{classify, scope, Route};
use crate::routes::wechat as compat;

/// Default lifetime of a signed URL.
const SIGNED_URL_SECS: u64 = 3600;
/// Longest lifetime a signed URL may be given (the core's cap, which verifying enforces too).
const MAX_SIGNED_URL_SECS: u64 = wxmedia::protocol::sign::MAX_LIFETIME_SECS;

/// Dispatches a request to its route: `/apps/{appid}/media…` to that app's REST routes, the
/// unprefixed ones to the default app's.
pub async fn route(
    req: Request,
    env: &Env,
    ctx: &Context,
    apps: &Apps,
) -> Result<web_sys::Response> {
    let url = req.url()?;
    let path = url.path().to_string();
    let method = req.method();
    let (config, segments) = match scope(apps, &path) {
        Ok(found) => found,
        Err(err) => return err.to_response().map(Into::into),
    };
    let config: &Config = config;
    // The download routes answer `web_sys::Response`s straight from the cache; the others are
    // converted. (A `worker::Response` would be rebuilt once more on the way out.)
    let result: std::result::Result<web_sys::Response, ApiError> =
        match classify(method.as_ref(), &segments) {
            Route::Preflight => return preflight().map(Into::into),
            Route::Healthz => healthz(apps).map(Into::into),
            Route::Upload => upload(req, env, ctx, config).await.map(Into::into),
            Route::Download { id, kind } => download(&req, env, config, id, kind).await,
            Route::Sign { id } => sign(&req, config, id).map(Into::into),
            Route::CallbackCheck => crate::push::callback::url_check(&req, config),
            Route::Callback => crate::push::callback::push(&req, env, ctx, config).await,
            Route::Archive => crate::push::index::index(&req, env, config)
                .await
                .map(Into::into),
            Route::HubToken => {
                return crate::routes::hub::classic(&req, env, apps)
                    .await
                    .map(Into::into)
            }
            Route::HubStableToken => {
                let mut req = req;
                return crate::routes::hub::stable(&mut req, env, apps)
                    .await
                    .map(Into::into);
            }
            Route::WeChatUpload => {
                return compat::upload(req, env, ctx, apps).await.map(Into::into)
            }
            Route::WeChatDownload { kind } => return compat::download(&req, env, apps, kind).await,
            Route::SlashInMediaId => Err(ApiError::new(
                ErrorCode::BadMediaId,
                "media ids contain no '/'",
            )),
            Route::MethodNotAllowed => Err(ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!("{} is not allowed on {path}", method.as_ref()),
            )),
            Route::Assets => return assets(req, env).await.map(Into::into),
        };
    result.or_else(|e| e.to_response().map(Into::into))
}

/// Anything else: the console's static files.
async fn assets(req: Request, env: &Env) -> Result<Response> {
    match env.assets("ASSETS") {
        Ok(assets) => assets.fetch_request(req).await,
        Err(_) => ApiError::new(ErrorCode::NotFound, "no such route").to_response(),
    }
}

/// `GET /healthz`: what is configured, without secrets. The top-level fields describe the
/// default app (as before many apps); `apps` lists every app and what it has (names only).
fn healthz(apps: &Apps) -> std::result::Result<Response, ApiError> {
    let tokens = |config: &Config| match &config.tokens {
        Some(TokenSource::Fixed(_)) => "fixed",
        Some(TokenSource::DurableObject(_)) => "durable-object",
        Some(TokenSource::Isolate(_)) => "isolate",
        Some(TokenSource::Url { .. }) => "token-url",
        None => "unconfigured",
    };
    let config = &apps.default;
    let list: Vec<_> = apps
        .apps
        .iter()
        .zip(&apps.missing)
        .map(|(app, missing)| {
            json!({
                "appid": app.appid,
                "default": app.is_default,
                "path": app.path_prefix(),
                "tokens": tokens(app),
                "apiKeys": app.api_keys.len(),
                "cacheTtlSecs": app.cache_ttl_secs,
                "limits": app.limits,
                "missing": missing,
                "tokenHub": {
                    "keys": app.token_keys.len(),
                    "forcedRefreshBudget": wxmedia::client::FORCE_DAILY_BUDGET,
                    "forcedRefreshSpacingMs": wxmedia::client::FORCE_SPACING_MS,
                },
                "tokenUpstream": app.token_upstream.is_some(),
                // WeChat's refusal that needs the operator (40164), if one came lately.
                "tokenError": crate::tokens::recent_token_error(&app.appid),
                "callback": {
                    "configured": app.callback.is_some(),
                    "ready": app.callback.is_some() && app.callback_missing.is_empty(),
                    "safeMode": app.callback.as_ref().is_some_and(|c| c.aes_key.is_some()),
                    "forwards": app.callback.as_ref().is_some_and(|c| c.forward_url.is_some()),
                    "missing": app.callback_missing,
                },
            })
        })
        .collect();
    let body = json!({
        "ok": true,
        "service": "wxmedia-worker",
        "version": env!("CARGO_PKG_VERSION"),
        "appid": config.appid,
        "downloadAuth": config.download_auth.as_str(),
        "cacheTtlSecs": config.cache_ttl_secs,
        "tokens": tokens(config),
        "r2": config.has_bucket,
        "limits": config.limits,
        "signing": config.signing_key.is_some(),
        "apps": list,
        "memoryCache": crate::media::memory::usage(config),
        "warnings": apps.warnings(),
        "devEmulator": config.dev_emulator_url,
    });
    let mut response = Response::from_json(&body).map_err(internal)?;
    let _ = response.headers_mut().set("Cache-Control", "no-store");
    Ok(response)
}

/// `POST /media?type=T[&filename=F][&split=1]`: a voice that is a WAV is encoded to AMR first
/// (the answer's `encoded`); with `split=1` a voice is uploaded in parts of at most 60 s and the
/// voice limit, answered as `parts`.
async fn upload(
    req: Request,
    env: &Env,
    ctx: &Context,
    config: &Config,
) -> std::result::Result<Response, ApiError> {
    auth::require_key(
        config,
        req.headers().get("Authorization").ok().flatten().as_deref(),
    )?;
    let type_param = query(&req, "type").unwrap_or_default();
    let media_type: MediaType = type_param
        .parse()
        .map_err(|e: UnknownMediaType| ApiError::from_validation(&e.into()))?;
    let filename = query(&req, "filename");
    let split = match query(&req, "split").as_deref() {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "split must be 1 or 0, not '{other}'"
            )))
        }
    };
    let accepted = accept_upload(&req, env, ctx, config, media_type, filename, split, |e| {
        ApiError::from_core(e, media::now_secs())
    })
    .await?;
    let mut body = json!({ "type": media_type.as_str() });
    if split {
        let mut parts = Vec::with_capacity(accepted.uploads.len());
        for part in &accepted.uploads {
            let id = &part.uploaded.media_id;
            let url = media_url(&req, config, id, SignedKind::Media, SIGNED_URL_SECS)?;
            parts.push(json!({
                "mediaId": id,
                "createdAt": part.uploaded.created_at,
                "url": url.0,
                "seconds": part.seconds.map(crate::encode::round_ms),
                "bytes": part.bytes,
            }));
        }
        body["parts"] = json!(parts);
    } else {
        let part = accepted
            .uploads
            .first()
            .ok_or_else(|| ApiError::internal("no upload was made"))?;
        let id = &part.uploaded.media_id;
        let url = media_url(&req, config, id, SignedKind::Media, SIGNED_URL_SECS)?;
        body["mediaId"] = json!(id);
        body["createdAt"] = json!(part.uploaded.created_at);
        body["url"] = json!(url.0);
    }
    if let Some((encoded, _)) = accepted.encoded {
        body["encoded"] = encoded;
    }
    Ok(Response::from_json(&body)
        .map_err(internal)?
        .with_status(201))
}

/// A URL that reaches the media through this Worker (signed when `DOWNLOAD_AUTH=signed`), and
/// its expiry (Unix seconds) if signed.
fn media_url(
    req: &Request,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    lifetime_secs: u64,
) -> std::result::Result<(String, Option<u64>), ApiError> {
    // PUBLIC_BASE_URL when set; the request's own origin (its Host) only when it is not.
    let origin = match &config.public_base_url {
        Some(base) => base.trim_end_matches('/').to_string(),
        None => req.url().map_err(internal)?.origin().ascii_serialization(),
    };
    let scope = config.sign_scope();
    if config.download_auth != DownloadAuth::Signed {
        return Ok((
            format!("{origin}{}", media_path(scope, kind, media_id)),
            None,
        ));
    }
    let key = config.require_signing_key()?;
    let exp = expiry(media::now_secs(), lifetime_secs)
        .ok_or_else(|| ApiError::bad_request("the URL's expiry is out of range"))?;
    Ok((
        format!("{origin}{}", signed_path(key, scope, kind, media_id, exp)),
        Some(exp),
    ))
}

/// `POST /media/{mediaId}/sign[?expires_in=S][&kind=hd-voice]`.
fn sign(req: &Request, config: &Config, media_id: &str) -> std::result::Result<Response, ApiError> {
    auth::require_key(
        config,
        req.headers().get("Authorization").ok().flatten().as_deref(),
    )?;
    keys::check_media_id(media_id)?;
    let lifetime = match query(req, "expires_in") {
        None => SIGNED_URL_SECS,
        // Digits only: `+5`, ` 5` and `5.0` are refused, not read as 5.
        Some(v) => match v.parse::<u64>() {
            Ok(n)
                if v.bytes().all(|b| b.is_ascii_digit())
                    && (1..=MAX_SIGNED_URL_SECS).contains(&n) =>
            {
                n
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "expires_in must be 1 to {MAX_SIGNED_URL_SECS} seconds"
                )))
            }
        },
    };
    let kind = match query(req, "kind").as_deref() {
        None | Some("media") => SignedKind::Media,
        Some("hd-voice") => SignedKind::HdVoice,
        Some(_) => return Err(ApiError::bad_request("kind must be media or hd-voice")),
    };
    // `expiresAt` is null when downloads are not signed.
    let (url, exp) = media_url(req, config, media_id, kind, lifetime)?;
    Response::from_json(&json!({ "url": url, "expiresAt": exp })).map_err(internal)
}

/// `GET`/`HEAD /media/{mediaId}[/hd-voice][?format=wav]`.
async fn download(
    req: &Request,
    env: &Env,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
) -> std::result::Result<web_sys::Response, ApiError> {
    keys::check_media_id(media_id)?;
    let authorization = req.headers().get("Authorization").ok().flatten();
    let (mut exp, mut sig) = (None, None);
    for (k, v) in req.url().map_err(internal)?.query_pairs() {
        match k.as_ref() {
            "exp" if exp.is_none() => exp = Some(v.into_owned()),
            "sig" if sig.is_none() => sig = Some(v.into_owned()),
            _ => {}
        }
    }
    let creds = DownloadCredentials {
        authorization: authorization.as_deref(),
        exp: exp.as_deref(),
        sig: sig.as_deref(),
    };
    auth::check_download(config, kind, media_id, &creds, media::now_secs())?;
    let headers = req.inner().headers();
    // `?format=wav|mp3`: voice decoded to WAV or MP3 (crate::renditions); the same credentials
    // as the original.
    let rendition = crate::renditions::wanted(query(req, "format").as_deref())?;
    let make_ctx = || fill_context(env, config);
    let fetched = match rendition {
        Some(rendition) => {
            crate::renditions::fetch_rendition(
                make_ctx, config, media_id, kind, rendition, &headers,
            )
            .await?
        }
        None => media::fetch(make_ctx, config, media_id, kind, &headers).await?,
    };
    match fetched {
        Fetched::Video(video_url) => {
            let wants_json = req
                .headers()
                .get("Accept")
                .ok()
                .flatten()
                .is_some_and(|a| a.contains("application/json"));
            if wants_json {
                Response::from_json(&json!({ "videoUrl": video_url }))
                    .map(Into::into)
                    .map_err(internal)
            } else {
                let mut response = Response::empty().map_err(internal)?.with_status(302);
                response
                    .headers_mut()
                    .set("Location", &video_url)
                    .map_err(internal)?;
                response
                    .headers_mut()
                    .set("Cache-Control", "no-store")
                    .map_err(internal)?;
                Ok(response.into())
            }
        }
        Fetched::Media(cached, source) => {
            let cache_control = crate::routes::hit::download_cache_control(config);
            client_response(cached, source, &cache_control, req.method() == Method::Head)
        }
    }
}

/// CORS preflight: allowed methods and headers (the origin is added by [`with_cors`]).
fn preflight() -> Result<Response> {
    let mut response = Response::empty()?.with_status(204);
    let headers = response.headers_mut();
    headers.set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")?;
    headers.set(
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type, Range, If-None-Match",
    )?;
    headers.set("Access-Control-Max-Age", "86400")?;
    Ok(response)
}

/// Adds CORS headers when the request's origin is allowed by `CORS_ORIGINS`.
pub fn with_cors(
    response: web_sys::Response,
    origin: Option<&str>,
    allowed: &[String],
) -> Result<web_sys::Response> {
    let ops = crate::routes::hit::cors_ops(origin, allowed);
    if ops.is_empty() {
        return Ok(response);
    }
    // Headers of a response from the cache or a fetch are immutable: copy them.
    let inner = response;
    let headers = Headers::new_with_headers(&inner.headers())?;
    apply_ops(&headers, &ops)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(inner.status());
    init.set_headers(&headers);
    let copy =
        web_sys::Response::new_with_opt_readable_stream_and_init(inner.body().as_ref(), &init)?;
    Ok(copy)
}
