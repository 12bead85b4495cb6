//! What the REST routes and the WeChat-shaped routes share: reading an upload, encoding a WAV
//! voice to AMR ([`crate::encode`]), uploading it (or its parts) and writing it through to the
//! cache, the fill context of a download, and the client-facing answer of a cached response.
//! Both route families call into this module; neither imports the other's handlers.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use web_sys::{Blob, Headers};
use worker::{Context, Env, Request};
use wxmedia::client::{read_head, Settled, UploadMedia, UploadOptions};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::protocol::{check_size_hint, validate, MediaType, Uploaded, SNIFF_LEN};

use crate::bindings;
use crate::config::{Config, BUCKET_BINDING};
use crate::encode::{self, Part, MAX_WAV_BYTES};
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
        // The core's size rule, on the most the media can be: the body less its framing. Voice
        // may be a WAV to encode (told by its bytes, once read): up to MAX_WAV_BYTES.
        let slack = if multipart { MULTIPART_SLACK } else { 0 };
        if declared > slack {
            let most = declared - slack;
            if media_type != MediaType::Voice {
                check_size_hint(media_type, most, &config.limits)
                    .map_err(|e| ApiError::from_validation(&e))?;
            } else if most > MAX_WAV_BYTES.max(config.limits.voice) {
                return Err(voice_too_large(most, config));
            }
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

/// A voice upload over what the Worker reads: its limit for AMR and MP3, and for a WAV to encode.
fn voice_too_large(size: u64, config: &Config) -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        format!(
            "voice of {size} bytes is over the limits: {} bytes of AMR or MP3, or a WAV of at \
             most {MAX_WAV_BYTES} bytes to encode",
            config.limits.voice
        ),
    )
}

/// The first value of query parameter `name`, decoded.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.url()
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// One media WeChat took.
pub struct UploadedPart {
    /// WeChat's answer.
    pub uploaded: Uploaded,
    /// How long it plays, when the Worker made or cut it (voice parts).
    pub seconds: Option<f64>,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What an upload became: the media WeChat took (one, or one per part when parts were asked
/// for), and what the Worker encoded, if it did.
pub struct Accepted {
    /// Each upload, in order.
    pub uploads: Vec<UploadedPart>,
    /// The answer's `encoded` object ([`encode::Encoded::describe`]) and the same in a header's
    /// words ([`encode::Encoded::header`]), when a WAV was encoded.
    pub encoded: Option<(serde_json::Value, String)>,
}

/// The upload pipeline both route families share: read the media (refusing a declared
/// length over the limit unread); a voice that is a WAV (by its bytes) is encoded to AMR first,
/// and with `split` a voice is cut into parts WeChat accepts; every part is checked before the
/// first is sent; each is uploaded through the core (which validates first), and the
/// write-through scheduled. `map_err` shapes the core's errors for the route family.
#[allow(clippy::too_many_arguments)]
pub async fn accept_upload(
    req: &Request,
    env: &Env,
    ctx: &Context,
    config: &Config,
    media_type: MediaType,
    filename: Option<String>,
    split: bool,
    map_err: impl Fn(&wxmedia::protocol::Error) -> ApiError,
) -> std::result::Result<Accepted, ApiError> {
    if split && media_type != MediaType::Voice {
        return Err(ApiError::bad_request("split=1 is for voice uploads"));
    }
    let incoming = read_upload(req, media_type, config, filename).await?;
    if media_type == MediaType::Voice {
        let head = read_head(&incoming.blob).await.map_err(|e| map_err(&e))?;
        if encode::is_wav(&head) {
            let wav = read_bytes(&incoming.blob, MAX_WAV_BYTES, config).await?;
            let encoded = encode::encode_wav(&wav, config.limits.voice, split)?;
            drop(wav);
            let note = Some((encoded.describe(), encoded.header()));
            let uploads =
                upload_parts(ctx, env, config, &incoming, encoded.parts, &map_err).await?;
            return Ok(Accepted {
                uploads,
                encoded: note,
            });
        }
        if split {
            let voice = read_bytes(&incoming.blob, MAX_WAV_BYTES, config).await?;
            let parts = encode::split_parts(&voice, config.limits.voice)?;
            drop(voice);
            let uploads = upload_parts(ctx, env, config, &incoming, parts, &map_err).await?;
            return Ok(Accepted {
                uploads,
                encoded: None,
            });
        }
    }
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
    Ok(Accepted {
        uploads: vec![UploadedPart {
            uploaded,
            seconds: None,
            bytes: incoming.blob.size() as u64,
        }],
        encoded: None,
    })
}

/// The upload's bytes, read into wasm memory (at most `max`, refused unread beyond it).
async fn read_bytes(
    blob: &Blob,
    max: u64,
    config: &Config,
) -> std::result::Result<Vec<u8>, ApiError> {
    let size = blob.size() as u64;
    if size > max {
        return Err(voice_too_large(size, config));
    }
    let buffer = Settled::new(&blob.array_buffer())
        .await
        .map_err(|_| ApiError::bad_request("the upload's bytes could not be read"))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Uploads voice parts the Worker made, in order: every part checked by the core's rules before
/// the first is sent, each sent as a fresh form over its own Blob (attempts never re-send a spent
/// body), each written through to the cache. A failure after some parts were taken says which
/// were, with their media ids.
async fn upload_parts(
    ctx: &Context,
    env: &Env,
    config: &Config,
    incoming: &Incoming,
    parts: Vec<Part>,
    map_err: &impl Fn(&wxmedia::protocol::Error) -> ApiError,
) -> std::result::Result<Vec<UploadedPart>, ApiError> {
    let count = parts.len();
    let mut ready = Vec::with_capacity(count);
    for (i, part) in parts.into_iter().enumerate() {
        let name = encode::part_filename(incoming.filename.as_deref(), i + 1, count);
        let head = &part.bytes[..part.bytes.len().min(SNIFF_LEN)];
        validate(
            MediaType::Voice,
            part.bytes.len() as u64,
            head,
            Some(&name),
            &config.limits,
        )
        .map_err(|e| ApiError::from_validation(&e))?;
        let blob =
            Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(&part.bytes[..])))
                .map_err(js_internal)?;
        ready.push((blob, name, part.seconds, part.bytes.len() as u64));
    }
    let fill = fill_context(env, config)?;
    let mut uploads: Vec<UploadedPart> = Vec::with_capacity(count);
    for (i, (blob, name, seconds, bytes)) in ready.into_iter().enumerate() {
        let options = UploadOptions {
            filename: Some(name),
            ..Default::default()
        };
        let sent = fill
            .client
            .upload_checked(MediaType::Voice, &UploadMedia::Blob(blob.clone()), &options)
            .await;
        match sent {
            Ok((uploaded, checked)) => {
                schedule_write_through(
                    ctx,
                    &fill,
                    config,
                    &uploaded.media_id,
                    &blob,
                    &checked,
                    MediaType::Voice,
                );
                uploads.push(UploadedPart {
                    uploaded,
                    seconds: Some(seconds),
                    bytes,
                });
            }
            Err(e) => {
                let mut err = map_err(&e);
                if !uploads.is_empty() {
                    let ids: Vec<&str> = uploads
                        .iter()
                        .map(|u| u.uploaded.media_id.as_str())
                        .collect();
                    err.message = format!(
                        "part {} of {count} was not uploaded ({}); parts 1 to {} were, as {}",
                        i + 1,
                        err.message,
                        uploads.len(),
                        ids.join(", ")
                    );
                }
                return Err(err);
            }
        }
    }
    Ok(uploads)
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
