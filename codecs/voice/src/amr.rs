//! AMR-NB in the RFC 4867 §5 storage format (`#!AMR\n`), WeChat's ordinary voice.
//!
//! The codec itself is the workspace crate `wxmedia-amr` (`codecs/amr/`), the project's port of
//! the 3GPP TS 26.073 fixed-point reference as opencore-amr carries it; this file only walks the
//! storage records and hands each to it, which decodes every frame type (speech,
//! SID_FIRST/SID_UPDATE, NO_DATA) the way opencore-amrnb does — what `sox -t amr-nb`, ffmpeg's
//! libopencore and most players decode with.
//!
//! The Q (frame quality) bit is ignored, as opencore ignores it when decoding a file: a stored
//! file always sets it, and a cleared one decodes as the good frame it carries. (Measured:
//! codecs/voice/tests/fixtures/amr-damaged.amr clears it on three frames and matches sox bit-exactly
//! only this way.) A NO_DATA frame in mid-speech is concealed; in a silence it continues the
//! comfort noise.

use wxmedia_amr::{record_len, Decoder};

use super::{VoiceError, MAX_FRAMES};

/// The storage format's magic number.
pub const AMR_MAGIC: &[u8] = wxmedia_amr::AMR_MAGIC;

/// Output sample rate.
pub const AMR_SAMPLE_RATE: u32 = 8000;

/// Samples per 20 ms frame.
pub const AMR_FRAME_SAMPLES: usize = wxmedia_amr::L_FRAME;

/// How many whole records follow the magic number, walking their headers only (up to a reserved
/// frame type, whose length is unknown, or one past [`MAX_FRAMES`]).
fn records(mut rest: &[u8]) -> usize {
    let mut n = 0;
    while let Some(&header) = rest.first() {
        match record_len(header) {
            Some(len) if rest.len() >= len && n <= MAX_FRAMES => {
                n += 1;
                rest = &rest[len..];
            }
            _ => break,
        }
    }
    n
}

/// Decodes an AMR-NB storage file to 8 kHz mono samples.
///
/// A final record cut short (a download that stopped early) is dropped, as the reference
/// does; everything before it is decoded. A reserved frame type (9..=14) is an error, since
/// the record length is then unknown and nothing after it can be found.
pub fn decode_amr_pcm(bytes: &[u8]) -> Result<Vec<i16>, VoiceError> {
    super::check_input(bytes)?;
    let mut rest = bytes.strip_prefix(AMR_MAGIC).ok_or(VoiceError::BadHeader)?;
    // Too long for WeChat voice: refused from the record headers alone, before any decoding.
    if records(rest) > MAX_FRAMES {
        return Err(VoiceError::TooLong);
    }
    let mut decoder = Decoder::new();
    // Room for the frames if they are all 12.2 kbit/s (the usual), never past the cap.
    let mut out = Vec::with_capacity((rest.len() / 32 + 1).min(MAX_FRAMES) * AMR_FRAME_SAMPLES);
    let mut frame = [0i16; AMR_FRAME_SAMPLES];
    let mut frames = 0usize;
    while let Some(&header) = rest.first() {
        let offset = bytes.len() - rest.len();
        let Some(len) = record_len(header) else {
            return Err(VoiceError::BadFrame {
                offset,
                reason: "reserved AMR-NB frame type",
            });
        };
        if rest.len() < len {
            break; // truncated final record
        }
        frames += 1;
        if frames > MAX_FRAMES {
            return Err(VoiceError::TooLong);
        }
        decoder
            .decode_frame(&rest[..len], &mut frame)
            .map_err(|_| VoiceError::BadFrame {
                offset,
                reason: "AMR-NB record does not decode",
            })?;
        out.extend_from_slice(&frame);
        rest = &rest[len..];
    }
    Ok(out)
}
