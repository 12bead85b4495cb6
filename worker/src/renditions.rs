//! `GET /media/{id}[/hd-voice]?format=wav` (and `?format=mp3`): voice decoded to WAV (or
//! encoded to MP3) in the Worker's wasm (`wxmedia::voice`), cached as an entry of its own.
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
use wxmedia_codecs::mp3::decode_voice_mp3;

use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::media::keys::{cache_key, content_disposition, failed_key};
use crate::media::{self, Fetched, FillContext, Stored};
use crate::routes::pipeline::js_internal;

/// A rendition of voice the Worker makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendition {
    /// 16-bit PCM WAV at the voice's own rate.
    Wav,
    /// MP3 at a speech bitrate (about a tenth of the WAV).
    Mp3,
}

impl Rendition {
    /// `wav` or `mp3`: the `format` value, the file extension and the cache key's suffix.
    pub fn ext(self) -> &'static str {
        match self {
            Rendition::Wav => "wav",
            Rendition::Mp3 => "mp3",
        }
    }

    /// Its Content-Type.
    pub fn content_type(self) -> &'static str {
        match self {
            Rendition::Wav => "audio/wav",
            Rendition::Mp3 => "audio/mpeg",
        }
    }
}

/// The rendition the `format` query parameter asks for: absent is the original (`None`), `wav`
/// and `mp3` are renditions, anything else a 400.
pub fn wanted(format: Option<&str>) -> Result<Option<Rendition>, ApiError> {
    match format {
        None | Some("") => Ok(None),
        Some(f) if f.eq_ignore_ascii_case("wav") => Ok(Some(Rendition::Wav)),
        Some(f) if f.eq_ignore_ascii_case("mp3") => Ok(Some(Rendition::Mp3)),
        Some(other) => Err(ApiError::bad_request(format!(
            "format must be wav or mp3 (or absent for the original), not '{other}'"
        ))),
    }
}

/// The cache key of `rendition` of `kind` of `media_id`.
pub fn rendition_key(
    appid: &str,
    media_id: &str,
    kind: SignedKind,
    rendition: Rendition,
) -> String {
    format!("{}/{}", cache_key(appid, media_id, kind), rendition.ext())
}

/// The file name of a rendition: `ID.wav`, or `ID.hd.wav` for HD voice (`.mp3` likewise).
fn rendition_name(media_id: &str, kind: SignedKind, rendition: Rendition) -> String {
    match kind {
        SignedKind::Media => format!("{media_id}.{}", rendition.ext()),
        SignedKind::HdVoice => format!("{media_id}.hd.{}", rendition.ext()),
    }
}

/// The ETag of a rendition (distinct from the original's): its quoted file name.
pub fn rendition_etag(media_id: &str, kind: SignedKind, rendition: Rendition) -> String {
    format!("\"{}\"", rendition_name(media_id, kind, rendition))
}

fn not_voice(rendition: Rendition, what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotVoice,
        format!(
            "format={} is for voice, and this media is {what}",
            rendition.ext()
        ),
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

/// A rendition of the media: from the cache, else made from the original (itself from the cache
/// tiers) and stored. Answers as the cache does (200/206/304). A rendition that failed
/// is remembered for the cache's lifetime (the media's bytes never change), and concurrent
/// first requests share one decode.
pub async fn fetch_rendition(
    make_ctx: impl Fn() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    rendition: Rendition,
    client_headers: &Headers,
) -> Result<Fetched, ApiError> {
    let key = rendition_key(&config.appid, media_id, kind, rendition);
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
            let made = make(
                &make_ctx,
                config,
                media_id,
                kind,
                rendition,
                client_headers,
                &key,
            )
            .await;
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
    make(
        &make_ctx,
        config,
        media_id,
        kind,
        rendition,
        client_headers,
        &key,
    )
    .await
}

/// Fetches the original, decodes it (and encodes the MP3) and stores the rendition under `key`;
/// the answer as the cache gives it.
#[allow(clippy::too_many_arguments)]
async fn make(
    make_ctx: &impl Fn() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    rendition: Rendition,
    client_headers: &Headers,
    key: &str,
) -> Result<Fetched, ApiError> {
    // The whole original: no Range or If-None-Match of the caller's applies to it.
    let plain = Headers::new().map_err(js_internal)?;
    let original = match media::fetch(make_ctx, config, media_id, kind, &plain).await? {
        Fetched::Video(_) => return Err(not_voice(rendition, "a video")),
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
        return Err(not_voice(rendition, &content_type));
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
        return Err(not_voice(rendition, &content_type));
    };
    let made = match rendition {
        Rendition::Wav => decode_voice(&bytes, Some(format)),
        Rendition::Mp3 => decode_voice_mp3(&bytes, Some(format)),
    }
    .map_err(|e| ApiError::new(ErrorCode::BadVoice, e.to_string()))?;
    drop(bytes);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(made.as_slice())))
            .map_err(js_internal)?;
    let name = rendition_name(media_id, kind, rendition);
    let etag = rendition_etag(media_id, kind, rendition);
    let disposition = content_disposition(&name, &name);
    let stored = Stored {
        key,
        content_type: rendition.content_type(),
        content_disposition: &disposition,
        content_length: Some(made.len() as u64),
        etag: &etag,
        ttl_secs: config.cache_ttl_secs,
    };
    let response = media::store_rendition(&blob, &stored, client_headers, config).await?;
    Ok(Fetched::Media(response, media::Source::Made))
}
