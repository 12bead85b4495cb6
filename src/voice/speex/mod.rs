//! WeChat HD voice: Speex wideband (stub).

use super::VoiceError;

/// Output sample rate.
pub const SPEEX_SAMPLE_RATE: u32 = 16000;

/// How frames are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeexFraming {
    /// 60-byte frames back to back.
    Fixed60,
    /// A length byte before each frame.
    LengthPrefixed,
}

/// Detects the framing.
pub fn detect_framing(_bytes: &[u8]) -> Option<SpeexFraming> {
    None
}

/// Decodes.
pub fn decode_speex_pcm(_bytes: &[u8]) -> Result<Vec<i16>, VoiceError> {
    Err(VoiceError::UnknownFormat)
}
