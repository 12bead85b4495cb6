//! WeChat-compatible routes: `POST /cgi-bin/media/upload`, `GET /cgi-bin/media/get`,
//! `GET /cgi-bin/media/get/jssdk`, with an API key as the `access_token` (which also picks the
//! app, when the Worker serves several: each key belongs to one app). Requests and
//! answers are shaped exactly like WeChat's (errcode JSON with HTTP 200, `Content-disposition`),
//! so existing SDKs gain the cache by changing their base URL. Downloads share the REST routes'
//! cache.

use serde_json::json;
use worker::{Context, Env, Method, Request, Response, Result};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::protocol::{MediaType, UnknownMediaType};

use crate::config::{Apps, Config};
use crate::error::{ApiError, ErrorCode};
use crate::media::keys;
use crate::media::{self, Fetched};
use crate::routes::auth;
use crate::routes::pipeline::{accept_upload, client_response, fill_context, query};

/// The `access_token` parameter must be an API key: the app it belongs to.
fn check_key<'a>(req: &Request, apps: &'a Apps) -> std::result::Result<&'a Config, ApiError> {
    match query(req, "access_token") {
        None => Err(ApiError {
            errcode: Some(wxmedia::protocol::errcode::MISSING_ACCESS_TOKEN),
            ..ApiError::unauthorized("access_token missing")
        }),
        Some(key) => match auth::app_for_key(apps, &key)? {
            Some(config) => Ok(config),
            None => Err(ApiError::unauthorized("invalid credential")),
        },
    }
}

/// `POST /cgi-bin/media/upload?access_token=<API key>&type=T`.
pub async fn upload(req: Request, env: &Env, ctx: &Context, apps: &Apps) -> Result<Response> {
    match upload_inner(&req, env, ctx, apps).await {
        Ok(response) => Ok(response),
        Err(err) => err.to_wechat_response(),
    }
}

async fn upload_inner(
    req: &Request,
    env: &Env,
    ctx: &Context,
    apps: &Apps,
) -> std::result::Result<Response, ApiError> {
    let config = check_key(req, apps)?;
    let media_type: MediaType = query(req, "type")
        .unwrap_or_default()
        .parse()
        .map_err(|e: UnknownMediaType| ApiError::from_validation(&e.into()))?;
    let accepted = accept_upload(req, env, ctx, config, media_type, None, false, wechat_error)
        .await
        .map_err(detailed)?;
    let uploaded = &accepted
        .uploads
        .first()
        .ok_or_else(|| ApiError::internal("no upload was made"))?
        .uploaded;
    let id_key = if media_type == MediaType::Thumb {
        "thumb_media_id"
    } else {
        "media_id"
    };
    // Exactly WeChat's answer: what the Worker encoded is said in a header, never in the body.
    let body = json!({
        "type": media_type.as_str(),
        id_key: uploaded.media_id,
        "created_at": uploaded.created_at,
    });
    let mut response = Response::from_json(&body)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    if let Some((_, header)) = &accepted.encoded {
        response
            .headers_mut()
            .set(ENCODED_HEADER, header)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    }
    Ok(response)
}

/// The header a WeChat-shaped upload answer carries when the Worker encoded the upload (a WAV
/// to AMR): `from=wav; to=amr; mode=MR122; seconds=…`. The body stays exactly WeChat's.
pub const ENCODED_HEADER: &str = "X-Wxmedia-Encoded";

/// A refusal of the Worker's own (no errcode of WeChat's) as WeChat words it, with what was
/// refused after it: `invalid meida size: voice is at most 60 s …`. SDKs branch on the errcode.
fn detailed(err: ApiError) -> ApiError {
    match (err.errcode, err.code.wechat_errcode()) {
        (None, Some((errcode, errmsg)))
            if matches!(
                err.code,
                ErrorCode::TooLarge | ErrorCode::BadAudio | ErrorCode::UnsupportedAudio
            ) =>
        {
            ApiError {
                errcode: Some(errcode),
                message: format!("{errmsg}: {}", err.message),
                ..err
            }
        }
        _ => err,
    }
}

/// WeChat's own errors pass through with their errcode and message; others are mapped.
fn wechat_error(err: &wxmedia::protocol::Error) -> ApiError {
    let mut api = ApiError::from_core(err, media::now_secs());
    if let wxmedia::protocol::Error::WeChat(e) = err {
        api.message = e.raw_errmsg.clone();
    }
    api
}

/// `GET /cgi-bin/media/get[/jssdk]?access_token=<API key>&media_id=M`.
pub async fn download(
    req: &Request,
    env: &Env,
    apps: &Apps,
    kind: SignedKind,
) -> Result<web_sys::Response> {
    match download_inner(req, env, apps, kind).await {
        Ok(response) => Ok(response),
        Err(err) => err.to_wechat_response().map(Into::into),
    }
}

async fn download_inner(
    req: &Request,
    env: &Env,
    apps: &Apps,
    kind: SignedKind,
) -> std::result::Result<web_sys::Response, ApiError> {
    let config = check_key(req, apps)?;
    let media_id = query(req, "media_id")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::MissingMediaId, "media_id missing"))?;
    keys::check_media_id(&media_id)?;
    let headers = req.inner().headers();
    match media::fetch(
        || fill_context(env, config),
        config,
        &media_id,
        kind,
        &headers,
    )
    .await
    {
        Ok(Fetched::Video(video_url)) => Response::from_json(&json!({ "video_url": video_url }))
            .map(Into::into)
            .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string())),
        Ok(Fetched::Media(cached, source)) => client_response(
            cached,
            source,
            &crate::routes::hit::wechat_cache_control(config),
            req.method() == Method::Head,
        ),
        Err(err) => Err(err),
    }
}
