//! WeChat voice decoded to WAV (feature `voice`): pure functions from the bytes WeChat hands
//! over to a RIFF WAVE file of 16-bit little-endian mono PCM at the source rate.
//!
//! - AMR-NB, `#!AMR\n` storage format (ordinary voice, `media/get`): 8 kHz. See [`amr`].
//! - WeChat HD voice (`media/get/jssdk`, `audio/x-speex-with-header-byte`): Speex wideband,
//!   16 kHz, 60-byte frames one after another, or each after a length byte. See [`speex`].
//!
//! Nothing here does IO or keeps state between calls, so the decoders can move to a wasm
//! module of their own. Input is capped at [`MAX_INPUT_BYTES`] and output at [`MAX_FRAMES`]
//! frames, so junk costs bounded time and memory; corrupt input is an [`VoiceError`], never a
//! panic.

pub mod amr;
pub mod amr_encode;
pub mod encode;
pub mod input;
#[cfg(feature = "mp3")]
pub mod mp3;
pub mod resample;
pub mod speex;
pub mod split;
pub mod wav;

use std::fmt;

pub use amr::decode_amr_pcm;
pub use speex::decode_speex_pcm;
pub use wav::pcm_to_wav;

/// The largest input accepted: WeChat voice is at most 60 s, a few hundred KB in either format.
pub const MAX_INPUT_BYTES: usize = 2 * 1024 * 1024;

/// The most 20 ms frames decoded: WeChat's 60 s limit for voice, with one second to spare for
/// recorders that round up. Longer input is refused before any frame is decoded, so a voice
/// that cannot be WeChat's costs a scan, not a decode. Bounds the output (under 2 MB of WAV).
pub const MAX_FRAMES: usize = 61 * 50;

/// The voice formats WeChat serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VoiceFormat {
    /// AMR-NB in the RFC 4867 storage format (`#!AMR\n`), 8 kHz.
    Amr,
    /// WeChat HD voice: Speex wideband, 16 kHz, 60-byte frames with or without a length byte
    /// before each (detected).
    SpeexHd,
}

impl VoiceFormat {
    /// The sample rate of the decoded audio.
    pub fn sample_rate(self) -> u32 {
        match self {
            VoiceFormat::Amr => amr::AMR_SAMPLE_RATE,
            VoiceFormat::SpeexHd => speex::SPEEX_SAMPLE_RATE,
        }
    }
}

/// Why voice could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VoiceError {
    /// No bytes.
    Empty,
    /// More than [`MAX_INPUT_BYTES`].
    TooLarge {
        /// The input's length.
        len: usize,
    },
    /// More than [`MAX_FRAMES`] frames.
    TooLong,
    /// Neither AMR nor WeChat HD Speex.
    UnknownFormat,
    /// The AMR magic number `#!AMR\n` is missing (or the file is AMR-WB / multi-channel).
    BadHeader,
    /// A frame that cannot be decoded.
    BadFrame {
        /// Byte offset of the frame in the input.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Audio to encode that cannot be read: a WAV file cut short, sizes past its end, zero
    /// channels, a sample rate no audio has (see [`input`]).
    BadAudio {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Audio to encode in a well-formed file of a kind not read (ADPCM, A-law, RF64, more than
    /// eight channels).
    UnsupportedAudio {
        /// What it is.
        reason: &'static str,
    },
    /// Audio to encode longer than [`input::MAX_INPUT_SECONDS`].
    InputTooLong {
        /// Its length in whole seconds.
        seconds: u64,
    },
    /// An encoding option out of range (an MP3 bitrate, an AMR mode).
    BadOption {
        /// Which, and what it may be.
        reason: &'static str,
    },
}

impl VoiceError {
    /// A stable code for callers to branch on (the npm package's `err.code`): `BAD_VOICE` for
    /// voice that cannot be decoded or split, `BAD_AUDIO`, `UNSUPPORTED_AUDIO`, `TOO_LONG` and
    /// `BAD_OPTION` for audio that cannot be encoded.
    pub fn code(&self) -> &'static str {
        match self {
            VoiceError::BadAudio { .. } => "BAD_AUDIO",
            VoiceError::UnsupportedAudio { .. } => "UNSUPPORTED_AUDIO",
            VoiceError::InputTooLong { .. } => "TOO_LONG",
            VoiceError::BadOption { .. } => "BAD_OPTION",
            _ => "BAD_VOICE",
        }
    }
}

impl fmt::Display for VoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VoiceError::Empty => f.write_str("voice: empty input"),
            VoiceError::TooLarge { len } => {
                write!(
                    f,
                    "voice: {len} bytes is more than the {MAX_INPUT_BYTES} accepted"
                )
            }
            VoiceError::TooLong => {
                write!(f, "voice: more than {} seconds of audio", MAX_FRAMES / 50)
            }
            VoiceError::UnknownFormat => {
                f.write_str("voice: neither AMR (#!AMR) nor WeChat HD Speex")
            }
            VoiceError::BadHeader => f.write_str("voice: not an AMR-NB file (no #!AMR header)"),
            VoiceError::BadFrame { offset, reason } => {
                write!(f, "voice: {reason} at byte {offset}")
            }
            VoiceError::BadAudio { reason } => write!(f, "audio: {reason}"),
            VoiceError::UnsupportedAudio { reason } => {
                write!(f, "audio: {reason} is not supported")
            }
            VoiceError::InputTooLong { seconds } => write!(
                f,
                "audio: {seconds} s is longer than the {} s accepted",
                input::MAX_INPUT_SECONDS
            ),
            VoiceError::BadOption { reason } => write!(f, "encode: {reason}"),
        }
    }
}

impl std::error::Error for VoiceError {}

/// The input checks every decoder starts with.
fn check_input(bytes: &[u8]) -> Result<(), VoiceError> {
    if bytes.is_empty() {
        return Err(VoiceError::Empty);
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(VoiceError::TooLarge { len: bytes.len() });
    }
    Ok(())
}

/// Tells the format from the bytes: `#!AMR` is AMR (AMR-WB and multi-channel files are then
/// refused by the decoder with [`VoiceError::BadHeader`]); any other `#!` magic (`#!SILK_V3`)
/// is unknown; otherwise input that frames as WeChat HD Speex (see
/// [`speex::detect_framing`]) is Speex. `None` for anything else.
pub fn detect_format(bytes: &[u8]) -> Option<VoiceFormat> {
    if bytes.starts_with(b"#!AMR") {
        Some(VoiceFormat::Amr)
    } else if bytes.starts_with(b"#!") {
        None
    } else if speex::detect_framing(bytes).is_some() {
        Some(VoiceFormat::SpeexHd)
    } else {
        None
    }
}

/// What a media answer's label says about voice (see [`format_by_label`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// Voice in this format.
    Voice(VoiceFormat),
    /// Certainly not voice (an image, a video).
    NotVoice,
    /// The label says nothing (`text/plain`, `application/octet-stream`, none…): ask the bytes
    /// ([`format_of`]).
    Unsaid,
}

/// The one rule for "is this voice, and which" from a media answer's Content-Type and route
/// (`hd`: WeChat's HD voice route, always Speex), used by the Worker's `?format=wav` and the npm
/// package's `wav()`. Where the label says nothing, [`format_of`] decides from the bytes:
/// WeChat labels AMR `text/plain` at times.
pub fn format_by_label(content_type: &str, hd: bool) -> Label {
    let t = content_type.to_ascii_lowercase();
    let essence = t.split(';').next().unwrap_or("").trim();
    if hd || essence.contains("speex") {
        Label::Voice(VoiceFormat::SpeexHd)
    } else if essence.contains("amr") {
        Label::Voice(VoiceFormat::Amr)
    } else if essence.starts_with("image/") || essence.starts_with("video/") {
        Label::NotVoice
    } else {
        Label::Unsaid
    }
}

/// The format to decode, from the label ([`format_by_label`]) and, where it says nothing, the
/// bytes: an AMR storage file (`#!AMR`) is voice, anything else unlabelled is not (Speex is only
/// ever labelled). `None`: not voice.
pub fn format_of(label: Label, bytes: &[u8]) -> Option<VoiceFormat> {
    match label {
        Label::Voice(format) => Some(format),
        Label::NotVoice => None,
        Label::Unsaid => bytes.starts_with(b"#!AMR").then_some(VoiceFormat::Amr),
    }
}

/// Decodes WeChat voice to a WAV file; `format` `None` detects it with [`detect_format`].
pub fn decode_voice(bytes: &[u8], format: Option<VoiceFormat>) -> Result<Vec<u8>, VoiceError> {
    check_input(bytes)?;
    match format.or_else(|| detect_format(bytes)) {
        Some(VoiceFormat::Amr) => decode_amr(bytes),
        Some(VoiceFormat::SpeexHd) => decode_speex_hd(bytes),
        None => Err(VoiceError::UnknownFormat),
    }
}

/// Decodes WeChat voice to PCM at its own rate (8 kHz AMR, 16 kHz HD Speex).
pub fn decode_voice_pcm(
    bytes: &[u8],
    format: Option<VoiceFormat>,
) -> Result<(Vec<i16>, u32), VoiceError> {
    check_input(bytes)?;
    match format.or_else(|| detect_format(bytes)) {
        Some(VoiceFormat::Amr) => Ok((decode_amr_pcm(bytes)?, amr::AMR_SAMPLE_RATE)),
        Some(VoiceFormat::SpeexHd) => Ok((decode_speex_pcm(bytes)?, speex::SPEEX_SAMPLE_RATE)),
        None => Err(VoiceError::UnknownFormat),
    }
}

/// Decodes an AMR-NB storage file (`#!AMR\n`) to an 8 kHz WAV file.
pub fn decode_amr(bytes: &[u8]) -> Result<Vec<u8>, VoiceError> {
    Ok(pcm_to_wav(&decode_amr_pcm(bytes)?, amr::AMR_SAMPLE_RATE))
}

/// Decodes WeChat HD voice (Speex wideband) to a 16 kHz WAV file.
pub fn decode_speex_hd(bytes: &[u8]) -> Result<Vec<u8>, VoiceError> {
    Ok(pcm_to_wav(
        &decode_speex_pcm(bytes)?,
        speex::SPEEX_SAMPLE_RATE,
    ))
}
