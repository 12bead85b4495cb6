//! The npm package's voice decoder: the codecs (`wxmedia-codecs`) behind wasm-bindgen, built by wasm-pack
//! into a wasm file of its own (`voice_bg.wasm`) that the package loads on the first
//! `decodeVoice()` call, so users who never decode voice never download the decoders.
//!
//! `decode` crosses bytes in, WAV bytes out; `labelOf` and `formatOf` are the core's one rule for
//! "is this voice" (`wxmedia_codecs::format_by_label`), so `MediaFile.wav()` decides as the
//! Worker's `?format=wav` does. `encodeWav`, `encodePcm16` and `encodePcmFloat` encode audio to
//! MP3 or AMR (`encodeVoice()`), `split` cuts voice into parts (`splitVoice()`), `measure` tells
//! AMR and MP3 and their length (`uploadVoice()`). Refusals are thrown as `Error`s with a `code`
//! ([`VoiceError::code`]: `BAD_VOICE`, `BAD_AUDIO`, …); the JS side (`npm/lib/voice.mjs`) checks
//! the arguments and turns them into the package's `MediaValidationError` with that code.

use wasm_bindgen::prelude::*;
use wxmedia_codecs::encode::{encode_amr_audio_dtx, encode_mp3_audio};
use wxmedia_codecs::input::{from_pcm, read_wav, Audio, Pcm};
use wxmedia_codecs::mp3::decode_voice_mp3;
use wxmedia_codecs::split::{split_voice, voice_length, SplitFormat};
use wxmedia_codecs::{decode_voice, format_by_label, format_of, Label, VoiceError, VoiceFormat};

/// A refusal as a JS `Error` with the error's `code`.
fn refusal(err: VoiceError) -> JsValue {
    let e = js_sys::Error::new(&err.to_string());
    let _ = js_sys::Reflect::set(&e, &"code".into(), &err.code().into());
    e.into()
}

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

/// Mono audio encoded `to` `"mp3"` (at `bitrate` kbit/s) or `"amr"` (in `mode`, with `dtx`).
fn encode_audio(
    audio: Result<Audio, VoiceError>,
    to: &str,
    bitrate: Option<u32>,
    mode: Option<u8>,
    dtx: Option<bool>,
) -> Result<Vec<u8>, JsValue> {
    let audio = audio.map_err(refusal)?;
    match to {
        "mp3" => encode_mp3_audio(&audio, bitrate),
        "amr" => encode_amr_audio_dtx(&audio, mode, dtx.unwrap_or(false)),
        _ => Err(VoiceError::BadOption {
            reason: "to must be 'mp3' or 'amr'",
        }),
    }
    .map_err(refusal)
}

/// A WAV file (PCM 8/16/24/32-bit or float, any rate, mono or stereo) encoded `to` `"mp3"` or
/// `"amr"` (DTX off unless `dtx`). Throws an `Error` with a `code` for what cannot be read or encoded.
#[wasm_bindgen(js_name = encodeWav)]
pub fn encode_wav(
    bytes: &[u8],
    to: &str,
    bitrate: Option<u32>,
    mode: Option<u8>,
    dtx: Option<bool>,
) -> Result<Vec<u8>, JsValue> {
    encode_audio(read_wav(bytes), to, bitrate, mode, dtx)
}

/// Interleaved 16-bit PCM at `rate` Hz with `channels` channels, encoded like [`encode_wav`].
#[wasm_bindgen(js_name = encodePcm16)]
pub fn encode_pcm16(
    pcm: &[i16],
    rate: u32,
    channels: u16,
    to: &str,
    bitrate: Option<u32>,
    mode: Option<u8>,
    dtx: Option<bool>,
) -> Result<Vec<u8>, JsValue> {
    encode_audio(
        from_pcm(Pcm::I16(pcm), rate, channels),
        to,
        bitrate,
        mode,
        dtx,
    )
}

/// Interleaved float PCM (`-1..1`) at `rate` Hz with `channels` channels, encoded like
/// [`encode_wav`].
#[wasm_bindgen(js_name = encodePcmFloat)]
pub fn encode_pcm_float(
    pcm: &[f32],
    rate: u32,
    channels: u16,
    to: &str,
    bitrate: Option<u32>,
    mode: Option<u8>,
    dtx: Option<bool>,
) -> Result<Vec<u8>, JsValue> {
    encode_audio(
        from_pcm(Pcm::F32(pcm), rate, channels),
        to,
        bitrate,
        mode,
        dtx,
    )
}

/// AMR or MP3 bytes split into parts of at most `max_seconds` and `max_bytes` each, on frame
/// boundaries (`wxmedia_codecs::split::split_voice`): an array of `Uint8Array`s.
#[wasm_bindgen]
pub fn split(bytes: &[u8], max_seconds: f64, max_bytes: f64) -> Result<js_sys::Array, JsValue> {
    let max_bytes = if max_bytes.is_finite() && max_bytes >= 1.0 {
        max_bytes.min(usize::MAX as f64) as usize
    } else {
        0
    };
    let parts = split_voice(bytes, max_seconds, max_bytes).map_err(refusal)?;
    Ok(parts
        .iter()
        .map(|p| js_sys::Uint8Array::from(p.as_slice()))
        .collect())
}

/// What AMR (`#!AMR`) or MP3 bytes are and how long they play: `{ format: 'amr' | 'mp3',
/// seconds }`, or `undefined` for bytes that are neither (audio to encode first). Corrupt AMR or
/// MP3 throws like [`split`] (`uploadVoice()` decides with it whether to encode and to split).
#[wasm_bindgen]
pub fn measure(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let Some((format, seconds)) = voice_length(bytes).map_err(refusal)? else {
        return Ok(JsValue::UNDEFINED);
    };
    let out = js_sys::Object::new();
    let format = match format {
        SplitFormat::Amr => "amr",
        SplitFormat::Mp3 => "mp3",
    };
    js_sys::Reflect::set(&out, &"format".into(), &format.into())?;
    js_sys::Reflect::set(&out, &"seconds".into(), &seconds.into())?;
    Ok(out.into())
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
