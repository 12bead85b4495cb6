//! What the REST routes and the WeChat-shaped routes share: reading an upload, uploading it and
//! writing it through to the cache, the fill context of a download, and the client-facing answer
//! of a cached response. Both route families call into this module; neither imports the other's
//! handlers.

use wasm_bindgen::JsCast;
use web_sys::{Blob, Headers};
use worker::{Context, Env, Request};
use wxmedia::client::{Settled, UploadMedia, UploadOptions};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::protocol::{check_size_hint, MediaType};

use crate::bindings;
use crate::config::{Config, BUCKET_BINDING};
use crate::error::{ApiError, ErrorCode};
use crate::media::keys;
use crate::media::{self, FillContext};
use crate::routes::hit::{answer_ops, HeaderOp};
use crate::tokens;

/// Room for multipart framing when a declared Content-Length is checked against a size limit.
const MULTIPART_SLACK: u64 = 16 * 1024;

/// A failure of the workers-rs API, as a 500.
pub fn internal(e: worker::Error) -> ApiError {
    ApiError::new(ErrorCode::Internal, e.to_string())
}

/// A thrown JS value, as a 500.
pub fn js_internal(e: wasm_bindgen::JsValue) -> ApiError {
    ApiError::internal(wxmedia::client::js_message(&e, "unknown"))
}

/// The fill context for this request.
pub fn fill_context(env: &Env, config: &Config) -> std::result::Result<FillContext, ApiError> {
    Ok(FillContext {
        client: tokens::client(config, env)?,
        bucket: bindings::bucket(env, BUCKET_BINDING),
        ttl_secs: config.cache_ttl_secs,
        timeout_ms: config.upstream_timeout_ms,
    })
}

/// The media of an upload request: a multipart `media` part, or the raw body.
pub struct Incoming {
    /// The bytes (held by the runtime, not by wasm).
    pub blob: Blob,
    /// The filename the caller gave, if any.
    pub filename: Option<String>,
}

/// Reads the media of an upload: refuses a declared length over the limit before reading.
pub async fn read_upload(
    req: &Request,
    media_type: MediaType,
    config: &Config,
    filename_param: Option<String>,
) -> std::result::Result<Incoming, ApiError> {
    let content_type = req
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let multipart = content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data");
    if let Some(declared) = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        // The core's size rule, on the most the media can be: the body less its framing.
        let slack = if multipart { MULTIPART_SLACK } else { 0 };
        if declared > slack {
            check_size_hint(media_type, declared - slack, &config.limits)
                .map_err(|e| ApiError::from_validation(&e))?;
        }
    }
    let inner = req.inner();
    if multipart {
        let form = Settled::new(&inner.form_data().map_err(js_internal)?)
            .await
            .map_err(|_| ApiError::bad_request("the multipart body could not be parsed"))?;
        let form: web_sys::FormData = form.unchecked_into();
        let part = form.get("media");
        let Some(file) = part.dyn_ref::<web_sys::File>() else {
            return Err(ApiError::bad_request(
                "the multipart body has no file part named \"media\"",
            ));
        };
        let name = file.name();
        Ok(Incoming {
            blob: file.clone().unchecked_into(),
            filename: filename_param.or((!name.is_empty()).then_some(name)),
        })
    } else {
        let blob = Settled::new(&inner.blob().map_err(js_internal)?)
            .await
            .map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        Ok(Incoming {
            blob: blob.unchecked_into(),
            filename: filename_param,
        })
    }
}

/// The first value of query parameter `name`, decoded.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The upload pipeline both route families share: read the media (refusing a declared
/// length over the limit unread), upload it through the core (which validates first), and
/// schedule the write-through. `map_err` shapes the core's errors for the route family.
pub async fn accept_upload(
    req: &Request,
    env: &Env,
    ctx: &Context,
    config: &Config,
    media_type: MediaType,
    filename: Option<String>,
    map_err: impl Fn(&wxmedia::protocol::Error) -> ApiError,
) -> std::result::Result<wxmedia::protocol::Uploaded, ApiError> {
    let incoming = read_upload(req, media_type, config, filename).await?;
    let fill = fill_context(env, config)?;
    let options = UploadOptions {
        filename: incoming.filename,
        ..Default::default()
    };
    let (uploaded, checked) = fill
        .client
        .upload_checked(
            media_type,
            &UploadMedia::Blob(incoming.blob.clone()),
            &options,
        )
        .await
        .map_err(|e| map_err(&e))?;
    schedule_write_through(
        ctx,
        &fill,
        config,
        &uploaded.media_id,
        &incoming.blob,
        &checked,
        media_type,
    );
    Ok(uploaded)
}

/// Writes uploaded bytes into the cache tiers after the answer is on its way. Videos are
/// skipped: WeChat answers their downloads with a URL, not bytes.
fn schedule_write_through(
    ctx: &Context,
    fill: &FillContext,
    config: &Config,
    media_id: &str,
    blob: &Blob,
    checked: &wxmedia::protocol::Validated,
    media_type: MediaType,
) {
    if media_type == MediaType::Video {
        return;
    }
    let ext = checked.format.ext();
    let name = format!("{media_id}.{ext}");
    ctx.wait_until(media::write_through(
        fill.bucket.clone(),
        blob.clone(),
        keys::cache_key(&config.appid, media_id, SignedKind::Media),
        checked.content_type.to_string(),
        keys::content_disposition(&name, &name),
        keys::etag(media_id, SignedKind::Media),
        config.cache_ttl_secs,
    ));
}

/// Applies header operations ([`crate::routes::hit`]) in order.
pub fn apply_ops(headers: &Headers, ops: &[HeaderOp]) -> Result<(), wasm_bindgen::JsValue> {
    for op in ops {
        match op {
            HeaderOp::Set(name, value) => headers.set(name, value)?,
            HeaderOp::Append(name, value) => headers.append(name, value)?,
            HeaderOp::Delete(name) => headers.delete(name)?,
        }
    }
    Ok(())
}

/// The cached response as the client gets it: its status (200/206/304) and headers, with our
/// Cache-Control, `X-Cache` and `X-Cache-Source`; no body for HEAD.
pub fn client_response(
    cached: web_sys::Response,
    source: media::Source,
    cache_control: &str,
    head: bool,
) -> std::result::Result<web_sys::Response, ApiError> {
    let headers = Headers::new_with_headers(&cached.headers()).map_err(js_internal)?;
    let ops = answer_ops(
        cache_control,
        source == media::Source::Cache,
        source.as_str(),
    );
    apply_ops(&headers, &ops).map_err(js_internal)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(cached.status());
    init.set_headers(&headers);
    let body = if head || cached.status() == 304 {
        None
    } else {
        cached.body()
    };
    if body.is_none() {
        if let Some(stream) = cached.body() {
            let _ = stream.cancel();
        }
    }
    let response = web_sys::Response::new_with_opt_readable_stream_and_init(body.as_ref(), &init)
        .map_err(js_internal)?;
    Ok(response)
}
