//! The npm package's voice decoder: `wxmedia::voice` behind wasm-bindgen, built by wasm-pack
//! into a wasm file of its own (`voice_bg.wasm`) that the package loads on the first
//! `decodeVoice()` call, so users who never decode voice never download the decoders.
//!
//! One function crosses: bytes in, WAV bytes out. The JS side (`npm/lib/voice.mjs`) checks the
//! arguments and turns a thrown error into the package's `MediaValidationError` with code
//! `BAD_VOICE`.

use wasm_bindgen::prelude::*;
use wxmedia::voice::{decode_voice, VoiceFormat};

/// Decodes WeChat voice to a WAV file (16-bit mono PCM). `format` is `"amr"`, `"speex"` or
/// `undefined` (detected: `#!AMR` is AMR, 60-byte framing is HD Speex). Throws an `Error` with
/// the decoder's message for corrupt, unknown or oversized input.
#[wasm_bindgen]
pub fn decode(bytes: &[u8], format: Option<String>) -> Result<Vec<u8>, JsError> {
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
    decode_voice(bytes, format).map_err(|e| JsError::new(&e.to_string()))
}
