//! Media through the cache tiers: the Cache API under a synthetic key without the token, then R2
//! when bound, then WeChat.
//!
//! A miss *fills* the cache before answering: the upstream body is read into a Blob (runtime
//! memory, never wasm memory), its length checked against Content-Length, and only then stored
//! in the cache (and R2); the answer is read back with `cache.match`, which also serves `Range`
//! and `If-None-Match`. Filling first is what makes a body cut short a 502 that is never cached,
//! and lets concurrent misses for one media id share one upstream fetch: followers wait for the
//! leader's fill and read the cache too. Hits stream straight from the cache as JS streams.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures_util::future::{select, Either, FutureExt};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Response, ResponseInit};
use wxmedia::client::{
    lead_or_wait, read_head, read_whole, read_whole_within, Client, Download, MediaBody, Settled,
};
use wxmedia::protocol::lead::{LeadTimes, Leads};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::protocol::{check_media, Format};

use crate::bindings::{self, R2Bucket};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::keys::{cache_key, content_disposition, etag, not_found_key};

/// How long a "no such media" answer is remembered.
pub const NOT_FOUND_TTL_SECS: u64 = 60;
/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The Cache API held it.
    Cache,
    /// R2 held it (filled into the cache).
    R2,
    /// WeChat (filled into the cache).
    Upstream,
    /// Made here for this request (a voice decoded to WAV), from an original found in the tiers.
    Made,
}

impl Source {
    /// For the `X-Cache-Source` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::R2 => "r2",
            Source::Upstream => "upstream",
            Source::Made => "made",
        }
    }
}

/// A download's answer.
pub enum Fetched {
    /// Bytes: the cached response (200, 206 or 304) and where it came from.
    Media(Response, Source),
    /// A video: WeChat answers with a URL.
    Video(String),
}

#[derive(Clone)]
enum Filled {
    /// Stored in the cache (if the zone has one); the bytes themselves are kept by the request
    /// that filled, for a zone whose cache stores nothing.
    Stored(Source, Option<Kept>),
    Video(String),
}

/// Bytes a fill read (into runtime memory, length-checked) and how they are described.
#[derive(Clone)]
struct Kept {
    blob: web_sys::Blob,
    content_type: String,
    disposition: String,
    etag: String,
}

impl Kept {
    /// The 200 answer with these bytes.
    fn response(&self, key: &str, ttl_secs: u64) -> Result<Response, ApiError> {
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
const FILL_POLL_MS: u64 = 15;

/// How long the outcome of shared work (a fill, a voice rendition) is kept for the requests that
/// waited for it.
pub const OUTCOME_KEEP_MS: u64 = 60_000;

thread_local! {
    /// Fills in progress (and just done), by cache key: concurrent misses share one.
    static FILLS: Rc<RefCell<Leads<Result<Filled, ApiError>>>> =
        Rc::new(RefCell::new(Leads::new(OUTCOME_KEEP_MS)));
    /// Set once `cache.put` is seen to store nothing (a workers.dev zone has no cache).
    static CACHE_IS_NOOP: Cell<bool> = const { Cell::new(false) };
}

fn js_err(context: &str, e: &JsValue) -> ApiError {
    let message = wxmedia::client::js_message(e, "unknown error");
    ApiError::new(ErrorCode::UpstreamError, format!("{context}: {message}"))
}

/// Looks `key` up in the cache. With the caller's `Range` or `If-None-Match`, the lookup
/// carries them, so the cache answers 206 or 304 itself; without, a plain key (the cheaper call).
async fn cache_match(
    key: &str,
    client_headers: Option<&Headers>,
) -> Result<Option<Response>, ApiError> {
    let cache = bindings::default_cache().map_err(|e| js_err("cache", &e))?;
    let mut conditional = Vec::new();
    for name in ["range", "if-none-match"] {
        if let Some(Ok(Some(value))) = client_headers.map(|h| h.get(name)) {
            // A range in a unit other than bytes is ignored (RFC 9110 §14.2): a full answer.
            let bytes_range = value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("bytes=");
            if name == "range" && !bytes_range {
                continue;
            }
            conditional.push((name, value));
        }
    }
    let lookup = if conditional.is_empty() {
        cache.match_with_str(key)
    } else {
        let headers = Headers::new().map_err(|e| js_err("headers", &e))?;
        for (name, value) in &conditional {
            let _ = headers.set(name, value);
        }
        let init = web_sys::RequestInit::new();
        init.set_method("GET");
        init.set_headers(&headers);
        let request = web_sys::Request::new_with_str_and_init(key, &init)
            .map_err(|e| js_err("cache key", &e))?;
        cache.match_with_request(&request)
    };
    let found = Settled::new(&lookup)
        .await
        .map_err(|e| js_err("cache lookup", &e))?;
    Ok((!found.is_undefined() && !found.is_null()).then(|| found.into()))
}

/// What the cache stores for a media id.
pub struct Stored<'a> {
    /// Cache key.
    pub key: &'a str,
    /// Content-Type.
    pub content_type: &'a str,
    /// Content-Disposition.
    pub content_disposition: &'a str,
    /// Content-Length, if known.
    pub content_length: Option<u64>,
    /// ETag.
    pub etag: &'a str,
    /// Cache lifetime.
    pub ttl_secs: u64,
}

fn stored_response(body: &JsValue, stored: &Stored<'_>) -> Result<Response, ApiError> {
    let headers = Headers::new().map_err(|e| js_err("headers", &e))?;
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| js_err("headers", &e));
    set("content-type", stored.content_type)?;
    set("content-disposition", stored.content_disposition)?;
    set("etag", stored.etag)?;
    set("accept-ranges", "bytes")?;
    // WeChat says `no-cache, must-revalidate`, which the Cache API would not store.
    set(
        "cache-control",
        &format!("public, max-age={}", stored.ttl_secs),
    )?;
    if let Some(len) = stored.content_length {
        set("content-length", &len.to_string())?;
    }
    let init = ResponseInit::new();
    init.set_status(200);
    init.set_headers(&headers);
    let body = if body.is_null() { None } else { Some(body) };
    match body {
        Some(b) if b.is_instance_of::<web_sys::Blob>() => {
            Response::new_with_opt_blob_and_init(Some(b.unchecked_ref()), &init)
        }
        Some(b) => Response::new_with_opt_readable_stream_and_init(Some(b.unchecked_ref()), &init),
        None => Response::new_with_opt_str_and_init(None, &init),
    }
    .map_err(|e| js_err("response", &e))
}

/// A rendition the Worker made itself (a WAV decoded from voice) under `key`, from the cache,
/// as the cache answers it (206/304 for the caller's `Range`/`If-None-Match`).
pub async fn cached_rendition(
    key: &str,
    client_headers: &Headers,
    config: &Config,
) -> Result<Option<Response>, ApiError> {
    if CACHE_IS_NOOP.with(Cell::get) {
        return Ok(None);
    }
    let deadline = js_sys::Date::now() + config.upstream_timeout_ms as f64;
    within(
        deadline,
        config.upstream_timeout_ms,
        cache_match(key, Some(client_headers)),
    )
    .await
}

/// Stores a rendition the Worker made (complete bytes) under `stored.key` and answers it as the
/// cache does; in a zone whose cache stores nothing, the whole 200 from the bytes.
pub async fn store_rendition(
    blob: &web_sys::Blob,
    stored: &Stored<'_>,
    client_headers: &Headers,
    config: &Config,
) -> Result<Response, ApiError> {
    // Like every wait of a request, the cache write and read-back end by its deadline.
    let deadline = js_sys::Date::now() + config.upstream_timeout_ms as f64;
    let timeout_ms = config.upstream_timeout_ms;
    within(deadline, timeout_ms, cache_put(blob, stored)).await?;
    if !CACHE_IS_NOOP.with(Cell::get) {
        let found = within(
            deadline,
            timeout_ms,
            cache_match(stored.key, Some(client_headers)),
        )
        .await?;
        if let Some(found) = found {
            return Ok(found);
        }
    }
    stored_response(blob, stored)
}

/// A body that could not be read whole: stalled past the call's deadline (504,
/// `UPSTREAM_TIMEOUT`), else cut short (502, `UPSTREAM_TRUNCATED`).
fn unread(media: &MediaBody, e: &JsValue) -> ApiError {
    match media.cut_by(e) {
        Some(cut) => {
            let mut err = ApiError::from_core(&cut, now_secs());
            err.message = format!("{}: nothing was cached", err.message);
            err
        }
        None => truncated(e),
    }
}

fn truncated(e: &JsValue) -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamTruncated,
        format!(
            "WeChat's answer could not be read whole ({}): nothing was cached",
            js_err("body", e).message
        ),
    )
}

/// Puts `body` (a Blob, or an R2 object's stream) into the cache under `stored.key`. Callers
/// hand it only complete bodies: the cache cannot be trusted to refuse one that fails midway
/// (see [`fill_from_tiers`]).
pub async fn cache_put(body: &JsValue, stored: &Stored<'_>) -> Result<(), ApiError> {
    let cache = bindings::default_cache().map_err(|e| js_err("cache", &e))?;
    let response = stored_response(body, stored)?;
    Settled::new(&cache.put_with_str(stored.key, &response))
        .await
        .map(|_| ())
        .map_err(|e| js_err("storing in the cache", &e))
}

/// Writes an uploaded Blob through to the cache and R2, so the first download is a hit.
pub async fn write_through(
    bucket: Option<R2Bucket>,
    blob: web_sys::Blob,
    key: String,
    content_type: String,
    content_disposition: String,
    etag: String,
    ttl_secs: u64,
) {
    let stored = Stored {
        key: &key,
        content_type: &content_type,
        content_disposition: &content_disposition,
        content_length: Some(blob.size() as u64),
        etag: &etag,
        ttl_secs,
    };
    let _ = cache_put(&blob, &stored).await;
    if let Some(bucket) = bucket {
        let _ = bucket
            .put_value(&key, &blob, &content_type, &content_disposition)
            .await;
    }
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

/// The media's bytes (or video URL): from the cache, else filled from R2 or WeChat with the
/// context `make_ctx` gives (built only on a miss: a hit needs nothing but the cache).
pub async fn fetch(
    make_ctx: impl FnOnce() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    client_headers: &Headers,
) -> Result<Fetched, ApiError> {
    let key = cache_key(&config.appid, media_id, kind);
    // No wait of this request outlives its deadline: cache lookups included.
    let deadline = js_sys::Date::now() + config.upstream_timeout_ms as f64;
    let timeout_ms = config.upstream_timeout_ms;
    // The per-isolate memory tier answers plain hits without a Cache API call (memory.rs).
    if let Some(hit) = crate::memory::lookup(&key, client_headers, config) {
        return Ok(Fetched::Media(hit, Source::Cache));
    }
    if !CACHE_IS_NOOP.with(Cell::get) {
        if let Some(hit) = within(
            deadline,
            timeout_ms,
            cache_match(&key, Some(client_headers)),
        )
        .await?
        {
            // Keeping a copy in memory reads the hit whole: that too ends by the deadline.
            let keep = crate::memory::keep(&key, hit, client_headers, config); // memory.rs
            let hit = within(deadline, timeout_ms, keep).await?;
            return Ok(Fetched::Media(hit, Source::Cache));
        }
        let not_found = not_found_key(&key);
        if let Some(err) = remembered_failure(&not_found, ErrorCode::NotFound, config).await? {
            return Err(err);
        }
    }
    // Only a miss needs the client and the bucket.
    let ctx = &make_ctx()?;
    let mut filled = shared_fill(ctx, &key, media_id, kind).await?;
    loop {
        match filled {
            Filled::Video(url) => return Ok(Fetched::Video(url)),
            Filled::Stored(source, kept) => {
                if !CACHE_IS_NOOP.with(Cell::get) {
                    if let Some(found) = within(
                        deadline,
                        timeout_ms,
                        cache_match(&key, Some(client_headers)),
                    )
                    .await?
                    {
                        let keep = crate::memory::keep(&key, found, client_headers, config); // memory.rs
                        let found = within(deadline, timeout_ms, keep).await?;
                        return Ok(Fetched::Media(found, source));
                    }
                    // The put succeeded but stored nothing: a zone without a cache. Serve what
                    // the fill read from now on.
                    CACHE_IS_NOOP.with(|c| c.set(true));
                }
                match kept {
                    Some(kept) => {
                        return Ok(Fetched::Media(kept.response(&key, ctx.ttl_secs)?, source))
                    }
                    // Another request filled, and only the cache could share its bytes: fill
                    // again for this request (one fetch, checked like any fill).
                    None => filled = fill_one(ctx, &key, media_id, kind).await?,
                }
            }
        }
    }
}

/// The error a remembered failure (see [`remember_failure`]) stands for.
async fn failure_from(response: Response, fallback: ErrorCode) -> ApiError {
    let mut err = ApiError::new(fallback, "no such media, or it has expired");
    err.remembered = true;
    if let Ok(promise) = response.text() {
        if let Ok(text) = Settled::new(&promise).await {
            if let Some(body) = text
                .as_string()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            {
                if let Some(code) = body["code"].as_str().and_then(ErrorCode::parse) {
                    err.code = code;
                }
                err.errcode = body["errcode"].as_i64();
                if let Some(m) = body["message"].as_str() {
                    err.message = m.to_string();
                }
            }
        }
    }
    err
}

/// A failure remembered under `failure_key` ([`remember_failure`]), if one is, as `fallback` when
/// the entry names no code (one written before codes were kept); looked up and read by the
/// request's deadline.
pub async fn remembered_failure(
    failure_key: &str,
    fallback: ErrorCode,
    config: &Config,
) -> Result<Option<ApiError>, ApiError> {
    if CACHE_IS_NOOP.with(Cell::get) {
        return Ok(None);
    }
    let deadline = js_sys::Date::now() + config.upstream_timeout_ms as f64;
    let timeout_ms = config.upstream_timeout_ms;
    let Some(found) = within(deadline, timeout_ms, cache_match(failure_key, None)).await? else {
        return Ok(None);
    };
    let read = within(deadline, timeout_ms, async {
        Ok(failure_from(found, fallback).await)
    });
    Ok(Some(match read.await {
        Ok(err) | Err(err) => err,
    }))
}

async fn upstream(
    ctx: &FillContext,
    media_id: &str,
    kind: SignedKind,
) -> Result<Download, ApiError> {
    let now = now_secs();
    match kind {
        SignedKind::Media => ctx.client.get(media_id, None).await,
        SignedKind::HdVoice => ctx
            .client
            .hd_voice(media_id, None)
            .await
            .map(Download::Media),
    }
    .map_err(|e| ApiError::from_core(&e, now))
}

/// What is stored with media from WeChat: its type, a disposition naming it, its ETag.
struct Described {
    content_type: String,
    disposition: String,
    etag: String,
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

/// Content-Type, Content-Disposition and ETag to store for media from WeChat.
fn describe(media: &MediaBody, media_id: &str, kind: SignedKind) -> Described {
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
        etag: etag(media_id, kind),
    }
}

fn extension_for(content_type: &str) -> &'static str {
    match Format::from_content_type(content_type) {
        Some(format) => format.ext(),
        None if content_type.to_ascii_lowercase().contains("speex") => "speex",
        None => "bin",
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// One fill of the cache for `key`, bounded by the upstream timeout.
async fn fill_one(
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
async fn shared_fill(
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

/// A wait of a request's own (see [`lead_or_wait`]), which nothing but its time ends.
pub async fn sleep<T>(ms: u64) -> Option<T> {
    worker::Delay::from(Duration::from_millis(ms)).await;
    None
}

/// Awaits `work`, or answers a 504 at `deadline_ms` (the request's deadline, on the platform
/// clock): no wait outlives the request.
async fn within<T>(
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

fn fill_timeout(timeout_ms: u64) -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamTimeout,
        format!("WeChat did not deliver the media within {timeout_ms} ms"),
    )
}

async fn fill_from_tiers(
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
                etag: tag.clone(),
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
                .map_err(|e| unread(&media, &e))?
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
                Err(e) => return Err(unread(&media, &e)),
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
    check_media(&media.meta, size, &head, kind == SignedKind::HdVoice)
        .map_err(|e| ApiError::from_core(&e, now_secs()))?;
    let described = describe(&media, media_id, kind);
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

/// Remembers `err` under `failure_key` for `ttl_secs` (a "no such media" for a minute, a voice
/// that does not decode for the media's cache lifetime), so asking again costs a cache lookup,
/// not another upstream call or decode. Best effort: a failed write costs only that.
pub async fn remember_failure(failure_key: &str, err: &ApiError, ttl_secs: u64) {
    let Ok(cache) = bindings::default_cache() else {
        return;
    };
    let body = serde_json::json!({
        "code": err.code.as_str(),
        "errcode": err.errcode,
        "message": err.message,
    })
    .to_string();
    let Ok(headers) = Headers::new() else { return };
    let _ = headers.set("content-type", "application/json");
    let _ = headers.set("cache-control", &format!("public, max-age={ttl_secs}"));
    let init = ResponseInit::new();
    init.set_status(200);
    init.set_headers(&headers);
    if let Ok(response) = Response::new_with_opt_str_and_init(Some(&body), &init) {
        let _ = Settled::new(&cache.put_with_str(failure_key, &response)).await;
    }
}
