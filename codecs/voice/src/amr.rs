//! AMR-NB in the RFC 4867 §5 storage format (`#!AMR\n`), WeChat's ordinary voice.
//!
//! The codec itself is the workspace crate `wxmedia-amrnb` (`codecs/amrnb/`), a fixed-point port of
//! the 3GPP TS 26.073 reference decoder taken from `rvoip-codec-core`; this file only walks the
//! storage records and routes each frame type (speech, SID_FIRST/SID_UPDATE, NO_DATA) to it the
//! way opencore-amrnb does, which is what `sox -t amr-nb`, ffmpeg's libopencore and most players
//! decode with.
//!
//! The Q (frame quality) bit is ignored, as opencore ignores it when decoding a file: a stored
//! file always sets it, and a cleared one decodes as the good frame it carries. (Measured:
//! codecs/voice/tests/fixtures/amr-damaged.amr clears it on three frames and matches sox bit-exactly
//! only this way.) A NO_DATA frame in mid-speech is concealed; in a silence it continues the
//! comfort noise.

use wxmedia_amrnb::{parse, parse_sid_header, Decoder, RxFrameType};

use super::{VoiceError, MAX_FRAMES};

/// The storage format's magic number.
pub const AMR_MAGIC: &[u8] = b"#!AMR\n";

/// Output sample rate.
pub const AMR_SAMPLE_RATE: u32 = 8000;

/// Samples per 20 ms frame.
pub const AMR_FRAME_SAMPLES: usize = 160;

/// Speech octets after the header byte, by frame type: modes 0..=7, SID (8), then 9..=14
/// (reserved, `None`) and NO_DATA (15).
pub(crate) const PAYLOAD_LEN: [Option<usize>; 16] = [
    Some(12),
    Some(13),
    Some(15),
    Some(17),
    Some(19),
    Some(20),
    Some(26),
    Some(31),
    Some(5),
    None,
    None,
    None,
    None,
    None,
    None,
    Some(0),
];

/// How many whole records follow the magic number, walking their headers only (up to a reserved
/// frame type, whose length is unknown, or one past [`MAX_FRAMES`]).
fn records(mut rest: &[u8]) -> usize {
    let mut n = 0;
    while let Some((&header, tail)) = rest.split_first() {
        match PAYLOAD_LEN[usize::from((header >> 3) & 0x0f)] {
            Some(len) if tail.len() >= len && n <= MAX_FRAMES => {
                n += 1;
                rest = &tail[len..];
            }
            _ => break,
        }
    }
    n
}

/// Frame type of a SID (comfort noise) frame.
const SID: u8 = 8;

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
    // The mode a NO_DATA frame conceals with: the last speech mode seen (opencore's
    // `prev_mode`, which starts at 0).
    let mut last_mode = 0u8;
    // Room for the frames if they are all 12.2 kbit/s (the usual), never past the cap.
    let mut out = Vec::with_capacity((rest.len() / 32 + 1).min(MAX_FRAMES) * AMR_FRAME_SAMPLES);
    let mut frames = 0usize;
    while let Some((&header, tail)) = rest.split_first() {
        let offset = bytes.len() - rest.len();
        let frame_type = (header >> 3) & 0x0f;
        let Some(len) = PAYLOAD_LEN[usize::from(frame_type)] else {
            return Err(VoiceError::BadFrame {
                offset,
                reason: "reserved AMR-NB frame type",
            });
        };
        if tail.len() < len {
            break; // truncated final record
        }
        frames += 1;
        if frames > MAX_FRAMES {
            return Err(VoiceError::TooLong);
        }
        let (payload, next) = tail.split_at(len);
        rest = next;
        let samples = match frame_type {
            0..=7 => {
                let params = parse(frame_type, payload).ok_or(VoiceError::BadFrame {
                    offset,
                    reason: "AMR-NB speech frame does not unpack",
                })?;
                last_mode = frame_type;
                decoder.decode_typed(RxFrameType::SpeechGood, frame_type, &params)
            }
            SID => {
                let sid = parse_sid_header(payload).ok_or(VoiceError::BadFrame {
                    offset,
                    reason: "AMR-NB SID frame is not five octets",
                })?;
                let rx = if sid.update {
                    RxFrameType::SidUpdate
                } else {
                    RxFrameType::SidFirst
                };
                let params = if rx == RxFrameType::SidFirst {
                    Vec::new()
                } else {
                    parse(SID, payload).ok_or(VoiceError::BadFrame {
                        offset,
                        reason: "AMR-NB SID frame does not unpack",
                    })?
                };
                decoder.decode_typed(rx, sid.mode_index, &params)
            }
            // NO_DATA: the reserved types were refused above.
            _ => decoder.decode_typed(RxFrameType::NoData, last_mode, &[]),
        };
        out.extend_from_slice(&samples);
    }
    Ok(out)
}
