//! WeChat HD voice (`media/get/jssdk`, `Content-Type: audio/x-speex-with-header-byte`):
//! Speex wideband, 16 kHz, 20 ms (320-sample) frames, each coded at quality 7 to 476 bits and
//! stored as exactly 60 bytes (the last 4 bits are the Speex terminator padding), one after
//! another with no file header. Tencent's sample decoder (`TRSpeexDecode` in the "speex 解码库"
//! WeChat hands developers) initialises the wideband decoder with enhancement on, then takes
//! 60 bytes at a time from its input, `speex_bits_read_from` them, decodes one frame with
//! `speex_decode_int`, and fails on -1/-2; this module does the same. The "header byte" of the
//! Content-Type is not a per-frame length in those files, but some files do carry a length byte
//! before each frame; [`detect_framing`] tells the two apart.
//!
//! The decoder is a port of libspeex 1.2.1's float decoder (narrowband CELP + sub-band
//! wideband layer, with `speex_decoder_init`'s defaults: perceptual enhancement on), safe Rust
//! with no allocation per frame. libspeex is BSD-3-Clause: see `COPYING` beside this file.

mod bits;
mod dsp;
mod nb;
mod sb;
mod tables;

use bits::Bits;
use sb::{SbDecoder, FULL_FRAME};

use super::{VoiceError, MAX_FRAMES};

/// Output sample rate.
pub const SPEEX_SAMPLE_RATE: u32 = 16000;

/// Bytes per frame in WeChat HD voice.
pub const SPEEX_FRAME_BYTES: usize = 60;

/// Samples per 20 ms frame.
pub const SPEEX_FRAME_SAMPLES: usize = FULL_FRAME;

/// The largest frame a length byte may announce: Speex wideband at quality 10 is 106 bytes.
const MAX_PREFIXED_FRAME: usize = 127;

/// How the frames of an HD voice file are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpeexFraming {
    /// 60-byte frames back to back (what WeChat serves).
    Fixed60,
    /// Each frame after one byte giving its length.
    LengthPrefixed,
}

/// Why a frame did not decode (libspeex's -1 and -2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameError {
    /// Too few bits left, or a terminator: nothing to decode.
    End,
    /// An invalid mode: the stream is corrupt.
    Corrupt(&'static str),
}

/// Could `frame` start a Speex wideband frame? Its first bit selects the narrowband layer
/// (0) and the next four its mode, which is 0..=8 or an in-band request (13, 14).
fn plausible_frame_start(frame: &[u8]) -> bool {
    match frame.first() {
        Some(&b) => b & 0x80 == 0 && matches!((b >> 3) & 0x0f, 0..=8 | 13 | 14),
        None => false,
    }
}

/// Tells how `bytes` frames WeChat HD voice, or `None` if it does not look like it.
///
/// Length-prefixed if the length bytes chain exactly to the end of the input (a final record
/// cut short is allowed) and every frame they delimit starts like a Speex frame; otherwise
/// 60-byte frames if the first frames start like Speex frames.
pub fn detect_framing(bytes: &[u8]) -> Option<SpeexFraming> {
    let mut i = 0;
    let mut records = 0;
    let mut chain_ok = !bytes.is_empty();
    while i < bytes.len() {
        let len = usize::from(bytes[i]);
        let frame = &bytes[i + 1..bytes.len().min(i + 1 + len)];
        if len == 0 || len > MAX_PREFIXED_FRAME || !plausible_frame_start(frame) {
            chain_ok = false;
            break;
        }
        records += 1;
        i += 1 + len;
    }
    // A cut-short last record is fine only after whole ones.
    if chain_ok && (i == bytes.len() || records > 1) {
        return Some(SpeexFraming::LengthPrefixed);
    }
    if bytes.len() >= SPEEX_FRAME_BYTES
        && bytes
            .chunks_exact(SPEEX_FRAME_BYTES)
            .take(4)
            .all(plausible_frame_start)
    {
        return Some(SpeexFraming::Fixed60);
    }
    None
}

/// Decodes WeChat HD voice to 16 kHz mono samples, in the framing [`detect_framing`] finds
/// (60-byte frames if it finds none).
///
/// A final frame cut short is dropped, as Tencent's and libspeex's tools do. A frame that does
/// not decode (an invalid mode: corrupt input) is an error.
pub fn decode_speex_pcm(bytes: &[u8]) -> Result<Vec<i16>, VoiceError> {
    let framing = detect_framing(bytes).unwrap_or(SpeexFraming::Fixed60);
    decode_speex_pcm_framed(bytes, framing)
}

/// Decodes WeChat HD voice in the given framing.
pub fn decode_speex_pcm_framed(
    bytes: &[u8],
    framing: SpeexFraming,
) -> Result<Vec<i16>, VoiceError> {
    super::check_input(bytes)?;
    let mut frames: Vec<(usize, &[u8])> = Vec::new();
    match framing {
        SpeexFraming::Fixed60 => {
            for (n, frame) in bytes.chunks_exact(SPEEX_FRAME_BYTES).enumerate() {
                if frames.len() > MAX_FRAMES {
                    break;
                }
                frames.push((n * SPEEX_FRAME_BYTES, frame));
            }
        }
        SpeexFraming::LengthPrefixed => {
            let mut i = 0;
            while i < bytes.len() && frames.len() <= MAX_FRAMES {
                let len = usize::from(bytes[i]);
                let Some(frame) = bytes.get(i + 1..i + 1 + len) else {
                    break; // truncated final record
                };
                frames.push((i, frame));
                i += 1 + len;
            }
        }
    }
    if frames.len() > MAX_FRAMES {
        return Err(VoiceError::TooLong);
    }

    let mut decoder = SbDecoder::new();
    let mut out = Vec::with_capacity(frames.len() * FULL_FRAME);
    let mut pcm = [0f32; FULL_FRAME];
    for (offset, frame) in frames {
        let mut bits = Bits::new(frame);
        decoder
            .decode(&mut bits, &mut pcm)
            .map_err(|e| VoiceError::BadFrame {
                offset,
                reason: match e {
                    FrameError::End => "Speex frame holds no speech (too short or a terminator)",
                    FrameError::Corrupt(why) => why,
                },
            })?;
        // speex_decode_int's conversion.
        out.extend(pcm.iter().map(|&v| {
            if v > 32767.0 {
                32767
            } else if v < -32768.0 {
                -32768
            } else {
                (0.5 + f64::from(v)).floor() as i16
            }
        }));
    }
    Ok(out)
}
