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

use js_sys::{Array, Uint8Array};
use web_sys::Headers;
use wxmedia::client::Settled;
use wxmedia::protocol::sign::SignedKind;
use wxmedia::voice::{decode_voice, VoiceFormat, MAX_INPUT_BYTES};

use crate::config::Config;
use crate::error::{ApiError, ErrorCode};
use crate::keys::{cache_key, content_disposition};
use crate::media::{self, Fetched, FillContext, Stored};
use crate::pipeline::js_internal;

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

/// The media ([`media::fetch`]), or with `wav` its WAV rendition ([`fetch_wav`]).
pub async fn fetch_as(
    wav: bool,
    make_ctx: impl FnOnce() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    client_headers: &Headers,
) -> Result<Fetched, ApiError> {
    if wav {
        fetch_wav(make_ctx, config, media_id, kind, client_headers).await
    } else {
        media::fetch(make_ctx, config, media_id, kind, client_headers).await
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

/// The voice format by route and Content-Type: HD voice is Speex; `Some(None)` means "look at
/// the bytes"; `None` is not voice.
fn format_by_type(kind: SignedKind, content_type: &str) -> Option<Option<VoiceFormat>> {
    let t = content_type.to_ascii_lowercase();
    if kind == SignedKind::HdVoice || t.contains("speex") {
        Some(Some(VoiceFormat::SpeexHd))
    } else if t.contains("amr") {
        Some(Some(VoiceFormat::Amr))
    } else if t.starts_with("image/") || t.starts_with("video/") || t.starts_with("text/") {
        None
    } else {
        Some(None)
    }
}

fn not_voice(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::NotVoice,
        format!("format=wav is for voice, and this media is {what}"),
    )
}

/// The WAV rendition of the media: from the cache, else decoded from the original (itself from
/// the cache tiers) and stored. Answers as the cache does (200/206/304).
pub async fn fetch_wav(
    make_ctx: impl FnOnce() -> Result<FillContext, ApiError>,
    config: &Config,
    media_id: &str,
    kind: SignedKind,
    client_headers: &Headers,
) -> Result<Fetched, ApiError> {
    let key = wav_key(&config.appid, media_id, kind);
    if let Some(hit) = media::cached_rendition(&key, client_headers, config).await? {
        return Ok(Fetched::Media(hit, media::Source::Cache));
    }
    // The whole original: no Range or If-None-Match of the caller's applies to it.
    let plain = Headers::new().map_err(js_internal)?;
    let (original, source) = match media::fetch(make_ctx, config, media_id, kind, &plain).await? {
        Fetched::Video(_) => return Err(not_voice("a video")),
        Fetched::Media(response, source) => (response, source),
    };
    let content_type = original
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let Some(by_type) = format_by_type(kind, &content_type) else {
        if let Some(body) = original.body() {
            let _ = body.cancel();
        }
        return Err(not_voice(&content_type));
    };
    let length = original
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|n| n > MAX_INPUT_BYTES) {
        return Err(ApiError::new(
            ErrorCode::BadVoice,
            format!("voice over {MAX_INPUT_BYTES} bytes is not decoded"),
        ));
    }
    let buffer = Settled::new(&original.array_buffer().map_err(js_internal)?)
        .await
        .map_err(js_internal)?;
    let bytes = Uint8Array::new(&buffer).to_vec();
    let format = match by_type {
        Some(format) => format,
        None if bytes.starts_with(b"#!AMR") => VoiceFormat::Amr,
        None => return Err(not_voice(&content_type)),
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
        key: &key,
        content_type: "audio/wav",
        content_disposition: &disposition,
        content_length: Some(wav.len() as u64),
        etag: &etag,
        ttl_secs: config.cache_ttl_secs,
    };
    let response = media::store_rendition(&blob, &stored, client_headers, config).await?;
    Ok(Fetched::Media(response, source))
}
