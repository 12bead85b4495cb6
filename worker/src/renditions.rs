//! `GET /media/{id}[/hd-voice]?format=wav`: voice decoded to WAV in the Worker's wasm
//! (`wxmedia::voice`), cached as an entry of its own.
//!
//! The original comes through the cache tiers like any download ([`media::fetch`]); its bytes
//! (voice is at most 2 MB) are read into wasm, decoded, and the WAV is stored in the Cache API
//! under the original's key plus `/wav`, with its own ETag (`"ID.wav"`, `"ID.hd.wav"`), so the
//! decode runs once per media id per cache lifetime and `Range`/`If-None-Match` are answered by
//! the cache as for any media. The WAV is not written to R2: it can always be made again from
//! the original. Authorization is the original's: a signed URL for the media (or its HD voice)
//! is valid with `format=wav` added.
//!
//! Decoding costs CPU, so it is never repeated needlessly: concurrent first requests for one
//! rendition share one decode ([`lead_or_wait`]), a rendition that fails (415
//! `NOT_VOICE`, 422 `BAD_VOICE`) is remembered in the cache for the media's cache lifetime, and
//! voice longer than WeChat allows is refused from its frame headers before any decoding. What is
//! voice is the core's one rule (`wxmedia::voice::format_by_label`, then the bytes).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use web_sys::Headers;
use wxmedia::client::{lead_or_wait, Settled};
use wxmedia::protocol::lead::{LeadTimes, Leads};
use wxmedia::protocol::sign::SignedKind;
use wxmedia::voice::{decode_voice, format_by_label, format_of, Label, MAX_INPUT_BYTES};

use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::media::keys::{cache_key, content_disposition, failed_key};
use crate::media::{self, Fetched, FillContext, Stored};
use crate::routes::pipeline::js_internal;

/// Whether the `format` query parameter asks for WAV: absent is the original, `wav` is WAV,
/// anything else a 400.
pub fn wants_wav(format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        None | Some("") => Ok(false),
        Some(f) if f.eq_ignore_ascii_case("wav") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "format must be wav (or absent for the original), not '{other}'"
        ))),
    }
}

/// The cache key of the WAV rendition of `kind` of `media_id`.
pub fn wav_key(appid: &str, media_id: &str, kind: SignedKind) -> String {
    format!("{}/wav", cache_key(appid, media_id, kind))
}

/// The file name of the WAV rendition: `ID.wav`, or `ID.hd.wav` for HD voice.
fn wav_name(media_id: &str, kind: SignedKind) -> String {
    match kind {
        SignedKind::Media => format!("{media_id}.wav"),
        SignedKind::HdVoice => format!("{media_id}.hd.wav"),
    }
}

/// The ETag of the WAV rendition (distinct from the original's): its quoted file name.
pub fn wav_etag(media_id: &str, kind: SignedKind) -> String {
    format!("\"{}\"", wav_name(media_id, kind))
}

fn not_voice(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotVoice,
        format!("format=wav is for voice, and this media is {what}"),
    )
}

/// How often a request waiting for another's decode of the same rendition looks again.
const DECODE_POLL_MS: u64 = 20;

thread_local! {
    /// Decodes in progress (and just done), by rendition key: concurrent first requests for one
    /// rendition share one decode. The leader's answer stays with it; waiters read the cache.
    static DECODES: Rc<RefCell<Leads<Result<(), ApiError>>>> =
        Rc::new(RefCell::new(Leads::new(media::OUTCOME_KEEP_MS)));
}

/// The WAV rendition of the media: from the cache, else decoded from the original (itself from
/// the cache tiers) and stored. Answers as the cache does (200/206/304). A rendition that failed
/// is remembered for the cache's lifetime (the media's bytes never change), and concurrent
/// first requests share one decode.
pub async fn fetch_wav(
    make_ctx: impl Fn() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    client_headers: &Headers,
) -> Result<Fetched, ApiError> {
    let key = wav_key(&config.appid, media_id, kind);
    if let Some(hit) = media::cached_rendition(&key, client_headers, config).await? {
        return Ok(Fetched::Media(hit, media::Source::Cache));
    }
    if let Some(err) =
        media::remembered_failure(&failed_key(&key), ErrorCode::BadVoice, config).await?
    {
        return Err(err);
    }
    let times = LeadTimes {
        stall_ms: config.upstream_timeout_ms,
        give_up_ms: config.upstream_timeout_ms,
        poll_ms: DECODE_POLL_MS,
    };
    let mut answer = None;
    let decoded = lead_or_wait(
        &DECODES.with(Rc::clone),
        &key,
        &times,
        async {
            let made = make_wav(&make_ctx, config, media_id, kind, client_headers, &key).await;
            match made {
                Ok(fetched) => {
                    answer = Some(fetched);
                    Ok(())
                }
                Err(err) => {
                    if matches!(err.code, ErrorCode::NotVoice | ErrorCode::BadVoice) {
                        let ttl = config.cache_ttl_secs;
                        media::remember_failure(&failed_key(&key), &err, ttl).await;
                    }
                    Err(err)
                }
            }
        },
        Clone::clone,
        || {
            Err(ApiError::new(
                ErrorCode::UpstreamTimeout,
                format!(
                    "the voice was not decoded within {} ms",
                    config.upstream_timeout_ms
                ),
            ))
        },
        media::sleep,
    )
    .await;
    decoded?;
    if let Some(fetched) = answer {
        return Ok(fetched);
    }
    // Another request decoded it: the cache has it now (or, in a zone whose cache stores
    // nothing, this request decodes it too).
    if let Some(hit) = media::cached_rendition(&key, client_headers, config).await? {
        return Ok(Fetched::Media(hit, media::Source::Cache));
    }
    make_wav(&make_ctx, config, media_id, kind, client_headers, &key).await
}

/// Fetches the original, decodes it and stores the WAV under `key`; the answer as the cache
/// gives it.
async fn make_wav(
    make_ctx: &impl Fn() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    client_headers: &Headers,
    key: &str,
) -> Result<Fetched, ApiError> {
    // The whole original: no Range or If-None-Match of the caller's applies to it.
    let plain = Headers::new().map_err(js_internal)?;
    let original = match media::fetch(make_ctx, config, media_id, kind, &plain).await? {
        Fetched::Video(_) => return Err(not_voice("a video")),
        Fetched::Media(response, _) => response,
    };
    let content_type = original
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let label = format_by_label(&content_type, kind == SignedKind::HdVoice);
    if label == Label::NotVoice {
        if let Some(body) = original.body() {
            let _ = body.cancel();
        }
        return Err(not_voice(&content_type));
    }
    let length = original
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|n| n > MAX_INPUT_BYTES) {
        if let Some(body) = original.body() {
            let _ = body.cancel();
        }
        return Err(ApiError::new(
            ErrorCode::BadVoice,
            format!("voice over {MAX_INPUT_BYTES} bytes is not decoded"),
        ));
    }
    let buffer = Settled::new(&original.array_buffer().map_err(js_internal)?)
        .await
        .map_err(js_internal)?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    let Some(format) = format_of(label, &bytes) else {
        return Err(not_voice(&content_type));
    };
    let wav = decode_voice(&bytes, Some(format))
        .map_err(|e| ApiError::new(ErrorCode::BadVoice, e.to_string()))?;
    drop(bytes);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(wav.as_slice())))
            .map_err(js_internal)?;
    let name = wav_name(media_id, kind);
    let etag = wav_etag(media_id, kind);
    let disposition = content_disposition(&name, &name);
    let stored = Stored {
        key,
        content_type: "audio/wav",
        content_disposition: &disposition,
        content_length: Some(wav.len() as u64),
        etag: &etag,
        ttl_secs: config.cache_ttl_secs,
    };
    let response = media::store_rendition(&blob, &stored, client_headers, config).await?;
    Ok(Fetched::Media(response, media::Source::Made))
}
