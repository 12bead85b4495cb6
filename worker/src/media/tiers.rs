//! A download through the tiers: memory, the Cache API, then a fill from R2 or WeChat; and the
//! short memory of failures (a media id WeChat does not have).

use std::cell::Cell;
use std::time::Duration;

use web_sys::{Headers, Response, ResponseInit};
use wxmedia::client::{Download, Settled};
use wxmedia::protocol::sign::SignedKind;

use super::*;
use crate::bindings::{self};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::media::keys::{cache_key, not_found_key};

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

/// How long the outcome of shared work (a fill, a voice rendition) is kept for the requests that
/// waited for it.
pub const OUTCOME_KEEP_MS: u64 = 60_000;

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
    if let Some(hit) = crate::media::memory::lookup(&key, client_headers, config) {
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
            let keep = crate::media::memory::keep(&key, hit, client_headers, config); // memory.rs
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
                        let keep = crate::media::memory::keep(&key, found, client_headers, config); // memory.rs
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
pub(crate) async fn failure_from(response: Response, fallback: ErrorCode) -> ApiError {
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

pub(crate) async fn upstream(
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

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// A wait of a request's own (see [`lead_or_wait`]), which nothing but its time ends.
pub async fn sleep<T>(ms: u64) -> Option<T> {
    worker::Delay::from(Duration::from_millis(ms)).await;
    None
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
