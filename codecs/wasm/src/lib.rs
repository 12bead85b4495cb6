//! The npm package's voice decoder: the codecs (`wxmedia-codecs`) behind wasm-bindgen, built by wasm-pack
//! into a wasm file of its own (`voice_bg.wasm`) that the package loads on the first
//! `decodeVoice()` call, so users who never decode voice never download the decoders.
//!
//! `decode` crosses bytes in, WAV bytes out; `labelOf` and `formatOf` are the core's one rule for
//! "is this voice" (`wxmedia_codecs::format_by_label`), so `MediaFile.wav()` decides as the
//! Worker's `?format=wav` does. The JS side (`npm/lib/voice.mjs`) checks the arguments and turns
//! a thrown error into the package's `MediaValidationError` with code `BAD_VOICE`.

use wasm_bindgen::prelude::*;
use wxmedia_codecs::mp3::decode_voice_mp3;
use wxmedia_codecs::{decode_voice, format_by_label, format_of, Label, VoiceFormat};

/// Decodes WeChat voice to a WAV file (16-bit mono PCM), or with `to` `"mp3"` to an MP3 at a
/// speech bitrate. `format` is `"amr"`, `"speex"` or `undefined` (detected: `#!AMR` is AMR,
/// 60-byte framing is HD Speex). Throws an `Error` with the decoder's message for corrupt,
/// unknown or oversized input.
#[wasm_bindgen]
pub fn decode(
    bytes: &[u8],
    format: Option<String>,
    to: Option<String>,
) -> Result<Vec<u8>, JsError> {
    let format = match format.as_deref() {
        None => None,
        Some("amr") => Some(VoiceFormat::Amr),
        Some("speex") => Some(VoiceFormat::SpeexHd),
        Some(other) => {
            return Err(JsError::new(&format!(
                "voice: format must be 'amr' or 'speex', not '{other}'"
            )))
        }
    };
    let made = match to.as_deref() {
        None | Some("wav") => decode_voice(bytes, format),
        Some("mp3") => decode_voice_mp3(bytes, format),
        Some(other) => {
            return Err(JsError::new(&format!(
                "voice: to must be 'wav' or 'mp3', not '{other}'"
            )))
        }
    };
    made.map_err(|e| JsError::new(&e.to_string()))
}

fn name(format: VoiceFormat) -> &'static str {
    match format {
        VoiceFormat::Amr => "amr",
        VoiceFormat::SpeexHd => "speex",
    }
}

/// What a media answer's Content-Type says about voice: `"amr"`, `"speex"`, `"none"` (not voice:
/// an image, a video) or `"unsaid"` (look at the bytes with `formatOf`).
#[wasm_bindgen(js_name = labelOf)]
pub fn label_of(content_type: &str) -> String {
    match format_by_label(content_type, false) {
        Label::Voice(format) => name(format),
        Label::NotVoice => "none",
        Label::Unsaid => "unsaid",
    }
    .to_owned()
}

/// The format to decode media of this Content-Type whose bytes start with `head`: `"amr"`,
/// `"speex"`, or `undefined` when it is not voice.
#[wasm_bindgen(js_name = formatOf)]
pub fn format_of_media(content_type: &str, head: &[u8]) -> Option<String> {
    format_of(format_by_label(content_type, false), head).map(|f| name(f).to_owned())
}
