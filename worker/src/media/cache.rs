//! The Cache API tier (and the R2 copy written beside it): lookups that answer Range and
//! If-None-Match themselves, and stores of checked media under keys without the token.

use std::cell::Cell;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, Response, ResponseInit};
use wxmedia::client::Settled;

use super::*;
use crate::bindings::{self, R2Bucket};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};

thread_local! {
    /// Set once `cache.put` is seen to store nothing (a workers.dev zone has no cache).
    pub(crate) static CACHE_IS_NOOP: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn js_err(context: &str, e: &JsValue) -> ApiError {
    let message = wxmedia::client::js_message(e, "unknown error");
    ApiError::new(ErrorCode::UpstreamError, format!("{context}: {message}"))
}

/// Looks `key` up in the cache. With the caller's `Range` or `If-None-Match`, the lookup
/// carries them, so the cache answers 206 or 304 itself; without, a plain key (the cheaper call).
pub(crate) async fn cache_match(
    key: &str,
    client_headers: Option<&Headers>,
) -> Result<Option<Response>, ApiError> {
    let cache = bindings::default_cache().map_err(|e| js_err("cache", &e))?;
    let mut conditional = Vec::new();
    for name in ["range", "if-none-match"] {
        if let Some(Ok(Some(value))) = client_headers.map(|h| h.get(name)) {
            // A range in a unit other than bytes is ignored (RFC 9110 §14.2): a full answer.
            if name == "range" && !crate::media::memory::bytes_range(&value) {
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

pub(crate) fn stored_response(body: &JsValue, stored: &Stored<'_>) -> Result<Response, ApiError> {
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
