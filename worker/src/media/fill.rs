//! Fills: one upstream (or R2) read per media id in an isolate, read whole into a Blob, its
//! length checked, stored, and shared with the requests that waited for it
//! ([`wxmedia::client::lead_or_wait`]).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either, FutureExt};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Response;
use wxmedia::client::{
    lead_or_wait, read_head, read_whole, read_whole_within, Client, Download, MediaBody, Settled,
};
use wxmedia::protocol::lead::{LeadTimes, Leads};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::protocol::{check_media, Format};

use super::*;
use crate::bindings::R2Bucket;
use crate::error::{ApiError, ErrorCode};
use crate::media::keys::{content_disposition, etag, not_found_key};

#[derive(Clone)]
pub(crate) enum Filled {
    /// Stored in the cache (if the zone has one); the bytes themselves are kept by the request
    /// that filled, for a zone whose cache stores nothing.
    Stored(Source, Option<Kept>),
    Video(String),
}

/// Bytes a fill read (into runtime memory, length-checked) and how they are described.
#[derive(Clone)]
pub(crate) struct Kept {
    blob: web_sys::Blob,
    content_type: String,
    disposition: String,
    etag: String,
}

impl Kept {
    /// The 200 answer with these bytes.
    pub(crate) fn response(&self, key: &str, ttl_secs: u64) -> Result<Response, ApiError> {
        let stored = Stored {
            key,
            content_type: &self.content_type,
            content_disposition: &self.disposition,
            content_length: Some(self.blob.size() as u64),
            etag: &self.etag,
            ttl_secs,
        };
        stored_response(&self.blob, &stored)
    }
}

/// How often a request waiting for another's fill looks again.
pub(crate) const FILL_POLL_MS: u64 = 15;

thread_local! {
    /// Fills in progress (and just done), by cache key: concurrent misses share one.
    static FILLS: Rc<RefCell<Leads<Result<Filled, ApiError>>>> =
        Rc::new(RefCell::new(Leads::new(OUTCOME_KEEP_MS)));
}

/// A body that could not be read whole: stalled past the call's deadline (504,
/// `UPSTREAM_TIMEOUT`), else cut short (502, `UPSTREAM_TRUNCATED`).
pub(crate) fn unread(media: &MediaBody, e: &JsValue) -> ApiError {
    match media.cut_by(e) {
        Some(cut) => {
            let mut err = ApiError::from_core(&cut, now_secs());
            err.message = format!("{}: nothing was cached", err.message);
            err
        }
        None => truncated(e),
    }
}

pub(crate) fn truncated(e: &JsValue) -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamTruncated,
        format!(
            "WeChat's answer could not be read whole ({}): nothing was cached",
            js_err("body", e).message
        ),
    )
}

/// Context a fill needs, owned so the shared fill future can outlive the request that started it.
#[derive(Clone)]
pub struct FillContext {
    /// The isolate's client.
    pub client: Client,
    /// The R2 bucket, if bound.
    pub bucket: Option<R2Bucket>,
    /// Cache lifetime.
    pub ttl_secs: u64,
    /// Bound on a fill.
    pub timeout_ms: u64,
}

/// What is stored with media from WeChat: its type, a disposition naming it, its ETag.
pub struct Described {
    /// The Content-Type stored.
    pub content_type: String,
    /// The Content-Disposition stored.
    pub disposition: String,
    /// The ETag answered.
    pub etag: String,
}

impl Described {
    /// How the media is stored in the cache under `key`.
    fn stored<'a>(&'a self, key: &'a str, length: Option<u64>, ttl_secs: u64) -> Stored<'a> {
        Stored {
            key,
            content_type: &self.content_type,
            content_disposition: &self.disposition,
            content_length: length,
            etag: &self.etag,
            ttl_secs,
        }
    }
}

/// Content-Type, Content-Disposition and ETag (`etag`, computed once per fill) to store for
/// media from WeChat.
pub(crate) fn describe(
    media: &MediaBody,
    media_id: &str,
    kind: SignedKind,
    etag: String,
) -> Described {
    let content_type = media
        .meta
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    let ext = match kind {
        SignedKind::HdVoice => "speex",
        SignedKind::Media => extension_for(&content_type),
    };
    let fallback = format!("{media_id}.{ext}");
    let name = media
        .meta
        .filename
        .clone()
        .unwrap_or_else(|| fallback.clone());
    Described {
        disposition: content_disposition(&name, &fallback),
        content_type,
        etag,
    }
}

pub(crate) fn extension_for(content_type: &str) -> &'static str {
    match Format::from_content_type(content_type) {
        Some(format) => format.ext(),
        None if content_type.to_ascii_lowercase().contains("speex") => "speex",
        None => "bin",
    }
}

/// One fill of the cache for `key`, bounded by the upstream timeout.
pub(crate) async fn fill_one(
    ctx: &FillContext,
    key: &str,
    media_id: &str,
    kind: SignedKind,
) -> Result<Filled, ApiError> {
    let timeout = worker::Delay::from(Duration::from_millis(ctx.timeout_ms));
    let work = fill_from_tiers(ctx, key, media_id, kind).boxed_local();
    match select(work, timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(fill_timeout(ctx.timeout_ms)),
    }
}

/// Fills the cache for `key`, or waits for the request of this isolate already doing it (and
/// takes over one stalled past the fill timeout).
pub(crate) async fn shared_fill(
    ctx: &FillContext,
    key: &str,
    media_id: &str,
    kind: SignedKind,
) -> Result<Filled, ApiError> {
    let times = LeadTimes {
        stall_ms: ctx.timeout_ms,
        give_up_ms: ctx.timeout_ms,
        poll_ms: FILL_POLL_MS,
    };
    lead_or_wait(
        &FILLS.with(Rc::clone),
        key,
        &times,
        fill_one(ctx, key, media_id, kind),
        // Waiters get the outcome without the bytes (they read them from the cache): no media
        // is held here for the minute an outcome is kept.
        |outcome| match outcome {
            Ok(Filled::Stored(source, _)) => Ok(Filled::Stored(*source, None)),
            other => other.clone(),
        },
        || Err(fill_timeout(ctx.timeout_ms)),
        sleep,
    )
    .await
}

/// Awaits `work`, or answers a 504 at `deadline_ms` (the request's deadline, on the platform
/// clock): no wait outlives the request.
pub(crate) async fn within<T>(
    deadline_ms: f64,
    timeout_ms: u64,
    work: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let left = (deadline_ms - js_sys::Date::now()).max(0.0) as u64;
    let timer = worker::Delay::from(Duration::from_millis(left));
    match select(std::pin::pin!(work), timer).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(fill_timeout(timeout_ms)),
    }
}

pub(crate) fn fill_timeout(timeout_ms: u64) -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamTimeout,
        format!("WeChat did not deliver the media within {timeout_ms} ms"),
    )
}

pub(crate) async fn fill_from_tiers(
    ctx: &FillContext,
    key: &str,
    media_id: &str,
    kind: SignedKind,
) -> Result<Filled, ApiError> {
    let tag = etag(media_id, kind);
    if let Some(bucket) = &ctx.bucket {
        if let Ok(Some(object)) = bucket.get_body(key).await {
            let stored = object.stored(key, &tag, ctx.ttl_secs);
            let blob =
                read_whole(object.body.unchecked_ref()).map_err(|e| js_err("reading from R2", &e));
            let blob = Settled::new(&blob?)
                .await
                .map_err(|e| js_err("reading from R2", &e))?
                .unchecked_into::<web_sys::Blob>();
            cache_put(&blob, &stored).await?;
            let kept = Kept {
                content_type: stored.content_type.to_string(),
                disposition: stored.content_disposition.to_string(),
                etag: tag,
                blob,
            };
            return Ok(Filled::Stored(Source::R2, Some(kept)));
        }
    }
    let media = match upstream(ctx, media_id, kind).await {
        Ok(Download::Media(media)) => media,
        Ok(Download::Video { video_url }) => return Ok(Filled::Video(video_url)),
        Err(err) => {
            if err.is_not_found() {
                remember_failure(&not_found_key(key), &err, NOT_FOUND_TTL_SECS).await;
            }
            return Err(err);
        }
    };
    let headerless = kind == SignedKind::HdVoice;
    let (blob, size, described) = checked_blob(&media, media_id, kind, tag, headerless).await?;
    cache_put(&blob, &described.stored(key, Some(size), ctx.ttl_secs)).await?;
    if let Some(bucket) = &ctx.bucket {
        // R2 is the persistent tier: a failed write there costs a later miss, not this answer.
        let _ = bucket
            .put_value(key, &blob, &described.content_type, &described.disposition)
            .await;
    }
    let kept = Kept {
        blob,
        content_type: described.content_type,
        disposition: described.disposition,
        etag: described.etag,
    };
    Ok(Filled::Stored(Source::Upstream, Some(kept)))
}

/// A media answer read whole and checked, as the Worker stores media (a fill, an archived push):
/// its bytes, their size and how they are described (`etag` computed once by the caller).
/// `headerless`: bytes with no signature to sniff are accepted under a media label (HD voice's
/// Speex, a voice message's `MediaId16K`).
pub async fn checked_blob(
    media: &MediaBody,
    media_id: &str,
    kind: SignedKind,
    etag: String,
    headerless: bool,
) -> Result<(web_sys::Blob, u64, Described), ApiError> {
    // The body is read whole into a Blob (runtime memory, never wasm memory) and its length
    // checked before anything is stored: a body cut short fails here and is never cached. The
    // Cache API cannot be trusted to refuse a body that errors midway. A declared length was
    // checked against the media's limit by the client; a body without one is counted as it
    // comes and refused past that limit.
    let cap = media.max_bytes;
    let blob: web_sys::Blob = match media.meta.content_length {
        Some(_) => {
            let whole = media
                .read_blob()
                .map_err(|e| ApiError::from_core(&e, now_secs()))?;
            Settled::new(&whole)
                .await
                .map_err(|e| unread(media, &e))?
                .unchecked_into()
        }
        None => {
            let body = media
                .body()
                .map_err(|e| ApiError::from_core(&e, now_secs()))?;
            match read_whole_within(&body, cap).await {
                Ok(Some(blob)) => blob,
                Ok(None) => {
                    // Past the cap as it came: refused like a declared length past it.
                    let err = wxmedia::protocol::Error::Parse {
                        message: format!(
                            "the answer is more than {cap} bytes, more than any media WeChat serves of its type"
                        ),
                        raw: Vec::new(),
                    };
                    return Err(ApiError::from_core(&err, now_secs()));
                }
                Err(e) => return Err(unread(media, &e)),
            }
        }
    };
    let size = blob.size() as u64;
    if media
        .meta
        .content_length
        .is_some_and(|declared| declared != size)
    {
        return Err(ApiError::new(
            ErrorCode::UpstreamTruncated,
            format!(
                "WeChat announced {} bytes and sent {size}: nothing was cached",
                media.meta.content_length.unwrap_or_default()
            ),
        ));
    }
    // Only a positive media answer is stored: not an empty body, an HTML page or JSON labelled
    // as media, nor bytes of no known format under a media type.
    let head = read_head(&blob)
        .await
        .map_err(|e| ApiError::from_core(&e, now_secs()))?;
    check_media(&media.meta, size, &head, headerless)
        .map_err(|e| ApiError::from_core(&e, now_secs()))?;
    Ok((blob, size, describe(media, media_id, kind, etag)))
}
