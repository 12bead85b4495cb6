//! Voice split into parts WeChat accepts (at most 60 s and 2 MiB each by default), cut on frame
//! boundaries, every frame in exactly one part, in order.
//!
//! - **AMR-NB** (`#!AMR\n` storage format): 20 ms records; each part is `#!AMR\n` and its
//!   records. A final record cut short is dropped (as the decoder does); a reserved frame type is
//!   an error, since nothing after it can be found.
//! - **MP3** (MPEG 1, 2 or 2.5 Layer III): frames walked from header to header; each part is its
//!   frames. An ID3v2 tag before the first frame, an ID3v1 tag (`TAG`) after the last and the
//!   Xing/Info/VBRI tag frame are not audio and go into no part: their counts and gapless delay
//!   describe the whole file, not a part. Free-format streams, other layers, junk between frames
//!   and a last frame cut short are errors.

use crate::amr::AMR_MAGIC;
use crate::VoiceError;

/// WeChat's limit on a voice's length, in seconds: the default `max_seconds`.
pub const DEFAULT_MAX_SECONDS: f64 = 60.0;
/// WeChat's limit on a voice's size (2 MiB): the default `max_bytes`.
pub const DEFAULT_MAX_BYTES: usize = 2 * 1024 * 1024;
/// The largest input split: a long recording, several times WeChat's limits.
pub const MAX_SPLIT_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// The formats [`split_voice`] cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitFormat {
    /// AMR-NB storage format.
    Amr,
    /// MPEG Layer III.
    Mp3,
}

/// One frame of the input: where it is and how long it plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Its first byte in the input.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
    /// Samples it decodes to.
    pub samples: u32,
    /// Their rate.
    pub sample_rate: u32,
}

/// Which format `bytes` are in: `#!AMR\n` is AMR, an ID3v2 tag or an MPEG audio frame sync is
/// MP3.
pub fn split_format(bytes: &[u8]) -> Option<SplitFormat> {
    if bytes.starts_with(AMR_MAGIC) {
        Some(SplitFormat::Amr)
    } else if bytes.starts_with(b"ID3")
        || (bytes.len() >= 2 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0)
    {
        Some(SplitFormat::Mp3)
    } else {
        None
    }
}

/// The AMR records after the magic number.
pub fn amr_frames(bytes: &[u8]) -> Result<Vec<Frame>, VoiceError> {
    if !bytes.starts_with(AMR_MAGIC) {
        return Err(VoiceError::BadHeader);
    }
    let mut at = AMR_MAGIC.len();
    let mut frames = Vec::new();
    while at < bytes.len() {
        let Some(len) = wxmedia_amr::record_len(bytes[at]) else {
            return Err(VoiceError::BadFrame {
                offset: at,
                reason: "a reserved AMR frame type",
            });
        };
        if at + len > bytes.len() {
            break; // cut short: dropped, as the decoder drops it
        }
        frames.push(Frame {
            offset: at,
            len,
            samples: 160,
            sample_rate: 8000,
        });
        at += len;
    }
    Ok(frames)
}

/// An MPEG audio frame header's facts: (length in bytes, samples, sample rate), or why not.
fn mp3_header(h: u32) -> Result<(usize, u32, u32), &'static str> {
    if h >> 21 != 0x7ff {
        return Err("no MP3 frame sync");
    }
    let version = (h >> 19) & 3; // 0: 2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    if version == 1 {
        return Err("a reserved MPEG version");
    }
    if (h >> 17) & 3 != 1 {
        return Err("an MPEG audio layer other than III");
    }
    let bitrate_index = ((h >> 12) & 15) as usize;
    let rate_index = ((h >> 10) & 3) as usize;
    if bitrate_index == 0 {
        return Err("free-format MP3");
    }
    if bitrate_index == 15 || rate_index == 3 {
        return Err("a bad MP3 frame header");
    }
    const V1: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let base_rate = [44_100, 48_000, 32_000][rate_index];
    let (kbps, rate, samples, per) = match version {
        3 => (V1[bitrate_index], base_rate, 1152, 144),
        2 => (V2[bitrate_index], base_rate / 2, 576, 72),
        _ => (V2[bitrate_index], base_rate / 4, 576, 72),
    };
    let padding = ((h >> 9) & 1) as usize;
    let len = (per * kbps * 1000 / rate) as usize + padding;
    Ok((len, samples, rate))
}

/// Whether a Layer III frame is a Xing/Info or VBRI tag (no audio of its own).
fn is_tag_frame(frame: &[u8], h: u32) -> bool {
    let mono = (h >> 6) & 3 == 3;
    let side = match ((h >> 19) & 3 == 3, mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let crc = if (h >> 16) & 1 == 0 { 2 } else { 0 };
    let at = 4 + crc + side;
    let tag = |at: usize, t: &[u8]| frame.get(at..at + 4) == Some(t);
    tag(at, b"Xing") || tag(at, b"Info") || tag(36, b"VBRI")
}

/// The MP3 audio frames (ID3 tags and a Xing/Info/VBRI tag frame skipped).
pub fn mp3_frames(bytes: &[u8]) -> Result<Vec<Frame>, VoiceError> {
    let mut at = 0;
    if bytes.starts_with(b"ID3") {
        // ID3v2: 10-byte header, a 28-bit syncsafe size, a 10-byte footer when flagged.
        let Some(h) = bytes.get(0..10) else {
            return Err(VoiceError::BadHeader);
        };
        let size = h[6..10]
            .iter()
            .fold(0usize, |s, &b| (s << 7) | usize::from(b & 0x7f));
        at = 10 + size + if h[5] & 0x10 != 0 { 10 } else { 0 };
    }
    let mut frames = Vec::new();
    let mut first = true;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() == 128 && rest.starts_with(b"TAG") {
            break; // ID3v1, at the very end
        }
        let Some(head) = rest.get(0..4) else {
            return Err(VoiceError::BadFrame {
                offset: at,
                reason: "an MP3 frame cut short",
            });
        };
        let h = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let (len, samples, sample_rate) =
            mp3_header(h).map_err(|reason| VoiceError::BadFrame { offset: at, reason })?;
        if len > rest.len() {
            return Err(VoiceError::BadFrame {
                offset: at,
                reason: "an MP3 frame cut short",
            });
        }
        if !(first && is_tag_frame(&rest[..len], h)) {
            frames.push(Frame {
                offset: at,
                len,
                samples,
                sample_rate,
            });
        }
        first = false;
        at += len;
    }
    if at > bytes.len() {
        return Err(VoiceError::BadHeader); // an ID3v2 tag longer than the file
    }
    Ok(frames)
}

/// The format of AMR-NB or MP3 bytes and how long they play, in seconds (the sum of their frames'
/// durations, counted as [`split_voice`] counts them), or `None` for bytes that are neither
/// (a WAV file, say). Corrupt AMR or MP3 is an error, as [`split_voice`] finds it; so is AMR or
/// MP3 over [`MAX_SPLIT_INPUT_BYTES`].
pub fn voice_length(bytes: &[u8]) -> Result<Option<(SplitFormat, f64)>, VoiceError> {
    let Some(format) = split_format(bytes) else {
        return Ok(None);
    };
    if bytes.len() > MAX_SPLIT_INPUT_BYTES {
        return Err(VoiceError::TooLarge { len: bytes.len() });
    }
    let frames = match format {
        SplitFormat::Amr => amr_frames(bytes)?,
        SplitFormat::Mp3 => mp3_frames(bytes)?,
    };
    let seconds = frames
        .iter()
        .map(|f| f64::from(f.samples) / f64::from(f.sample_rate))
        .sum();
    Ok(Some((format, seconds)))
}

/// Splits AMR-NB or MP3 bytes into parts of at most `max_seconds` of audio and `max_bytes`
/// bytes each (an AMR part's `#!AMR\n` counted), cut on frame boundaries: every frame of the
/// input in exactly one part, in order. A part is as long as both limits let it be.
///
/// Errors: [`VoiceError::UnknownFormat`] for bytes that are neither; [`VoiceError::Empty`] for
/// no frames; [`VoiceError::BadFrame`]/[`VoiceError::BadHeader`] for corrupt input (see the
/// module's notes); [`VoiceError::BadOption`] when a limit is too small for a single frame;
/// [`VoiceError::TooLarge`] for input over [`MAX_SPLIT_INPUT_BYTES`].
pub fn split_voice(
    bytes: &[u8],
    max_seconds: f64,
    max_bytes: usize,
) -> Result<Vec<Vec<u8>>, VoiceError> {
    if bytes.is_empty() {
        return Err(VoiceError::Empty);
    }
    if bytes.len() > MAX_SPLIT_INPUT_BYTES {
        return Err(VoiceError::TooLarge { len: bytes.len() });
    }
    if !(max_seconds.is_finite() && max_seconds > 0.0) {
        return Err(VoiceError::BadOption {
            reason: "maxSeconds must be a positive number",
        });
    }
    let (frames, head): (Vec<Frame>, &[u8]) = match split_format(bytes) {
        Some(SplitFormat::Amr) => (amr_frames(bytes)?, AMR_MAGIC),
        Some(SplitFormat::Mp3) => (mp3_frames(bytes)?, &[]),
        None => return Err(VoiceError::UnknownFormat),
    };
    if frames.is_empty() {
        return Err(VoiceError::Empty);
    }
    let mut parts = Vec::new();
    let mut part: Vec<u8> = head.to_vec();
    let mut seconds = 0.0f64;
    for f in &frames {
        let dur = f64::from(f.samples) / f64::from(f.sample_rate);
        if head.len() + f.len > max_bytes || dur > max_seconds + 1e-9 {
            return Err(VoiceError::BadOption {
                reason: "maxSeconds or maxBytes is smaller than one frame",
            });
        }
        let has_frames = part.len() > head.len();
        if has_frames && (part.len() + f.len > max_bytes || seconds + dur > max_seconds + 1e-9) {
            parts.push(std::mem::replace(&mut part, head.to_vec()));
            seconds = 0.0;
        }
        part.extend_from_slice(&bytes[f.offset..f.offset + f.len]);
        seconds += dur;
    }
    parts.push(part);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxmedia_amr::PAYLOAD_LEN;

    #[test]
    fn voice_length_counts_the_frames_split_voice_cuts() {
        let mut rng = Rng(7);
        let file = amr(&mut rng, 123);
        let (format, seconds) = voice_length(&file).unwrap().unwrap();
        assert_eq!(format, SplitFormat::Amr);
        assert!((seconds - 123.0 * 0.02).abs() < 1e-9);
        let stream = mp3(&mut rng, 40);
        let (format, seconds) = voice_length(&stream).unwrap().unwrap();
        assert_eq!(format, SplitFormat::Mp3);
        // 40 frames of 576 samples (the Info tag frame counts for nothing).
        let rate = f64::from(frames_of(&stream)[0].sample_rate);
        assert!((seconds - 40.0 * 576.0 / rate).abs() < 1e-9, "{seconds}");
        assert_eq!(voice_length(b"RIFF\0\0\0\0WAVE").unwrap(), None);
        assert!(voice_length(b"#!AMR\n\x50").is_err()); // a reserved frame type
    }

    /// A deterministic pseudo-random source.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// An AMR file of `n` records of random modes (speech, SID, NO_DATA).
    fn amr(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut out = AMR_MAGIC.to_vec();
        for _ in 0..n {
            let ft = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 15][(rng.next() % 10) as usize];
            out.push((ft << 3) | 4);
            for _ in 0..PAYLOAD_LEN[usize::from(ft)].unwrap() {
                out.push(rng.next() as u8);
            }
        }
        out
    }

    /// An MP3-shaped stream of `n` Layer III frames (MPEG-2, 16 kHz mono, random bitrates and
    /// padding; bodies are filler), with an Info tag frame first and ID3 tags around.
    fn mp3(rng: &mut Rng, n: usize) -> Vec<u8> {
        let mut out = b"ID3\x04\0\0\0\0\0\x05hello".to_vec();
        let frame = |index: u32, padding: u32, body: u8| {
            let h = 0xfff0_0000u32
                | (2 << 19)
                | (1 << 17)
                | (1 << 16)
                | (index << 12)
                | (padding << 9)
                | (3 << 6);
            let (len, _, _) = mp3_header(h).unwrap();
            let mut f = h.to_be_bytes().to_vec();
            f.resize(len, body);
            f
        };
        let mut tag = frame(4, 0, 0);
        tag[13..17].copy_from_slice(b"Info");
        out.extend_from_slice(&tag);
        for _ in 0..n {
            let index = 1 + (rng.next() % 8) as u32;
            out.extend_from_slice(&frame(index, (rng.next() % 2) as u32, rng.next() as u8));
        }
        out.extend_from_slice(b"TAG");
        out.resize(out.len() + 125, b' ');
        out
    }

    /// The frames' bytes, in order.
    fn frame_bytes(bytes: &[u8], frames: &[Frame]) -> Vec<Vec<u8>> {
        frames
            .iter()
            .map(|f| bytes[f.offset..f.offset + f.len].to_vec())
            .collect()
    }

    fn frames_of(bytes: &[u8]) -> Vec<Frame> {
        match split_format(bytes).unwrap() {
            SplitFormat::Amr => amr_frames(bytes).unwrap(),
            SplitFormat::Mp3 => mp3_frames(bytes).unwrap(),
        }
    }

    /// The property: the parts' frames, concatenated, are the input's frames; every part keeps
    /// both limits; each AMR part starts with its own header; no part could have taken the next
    /// part's first frame.
    #[test]
    fn parts_hold_every_frame_once_within_the_limits() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for round in 0..300 {
            let n = 1 + (rng.next() % 400) as usize;
            let input = if round % 2 == 0 {
                amr(&mut rng, n)
            } else {
                mp3(&mut rng, n)
            };
            let max_seconds = [0.04, 0.5, 1.0, 2.5, 60.0][(rng.next() % 5) as usize];
            let max_bytes = [400usize, 1000, 4096, DEFAULT_MAX_BYTES][(rng.next() % 4) as usize];
            let parts = split_voice(&input, max_seconds, max_bytes).unwrap();
            let input_frames = frame_bytes(&input, &frames_of(&input));
            assert_eq!(input_frames.len(), n, "round {round}");
            let mut joined = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                assert!(
                    part.len() <= max_bytes,
                    "round {round}: part {i} has {} bytes",
                    part.len()
                );
                let frames = frames_of(part);
                assert!(!frames.is_empty());
                let secs: f64 = frames
                    .iter()
                    .map(|f| f64::from(f.samples) / f64::from(f.sample_rate))
                    .sum();
                assert!(
                    secs <= max_seconds + 1e-9,
                    "round {round}: part {i} is {secs} s"
                );
                if round % 2 == 0 {
                    assert!(part.starts_with(AMR_MAGIC));
                }
                if let Some(next) = parts.get(i + 1) {
                    let first = frames_of(next)[0];
                    let more = secs + f64::from(first.samples) / f64::from(first.sample_rate);
                    assert!(
                        part.len() + first.len > max_bytes || more > max_seconds + 1e-9,
                        "round {round}: part {i} cut early"
                    );
                }
                joined.extend(frame_bytes(part, &frames));
            }
            assert_eq!(joined, input_frames, "round {round}");
        }
    }

    #[test]
    fn sixty_seconds_of_amr_per_part_by_default() {
        let mut rng = Rng(7);
        let input = amr(&mut rng, 3001 + 50 * 61);
        let parts = split_voice(&input, DEFAULT_MAX_SECONDS, DEFAULT_MAX_BYTES).unwrap();
        let counts: Vec<usize> = parts.iter().map(|p| amr_frames(p).unwrap().len()).collect();
        assert_eq!(counts, vec![3000, 3000, 51]);
    }

    #[test]
    fn refusals() {
        let mut rng = Rng(9);
        let input = amr(&mut rng, 10);
        assert!(matches!(
            split_voice(&input, 0.01, DEFAULT_MAX_BYTES),
            Err(VoiceError::BadOption { .. })
        ));
        assert!(matches!(
            split_voice(&input, f64::NAN, DEFAULT_MAX_BYTES),
            Err(VoiceError::BadOption { .. })
        ));
        assert!(matches!(
            split_voice(&input, 60.0, 10),
            Err(VoiceError::BadOption { .. })
        ));
        assert_eq!(split_voice(b"#!AMR\n", 60.0, 100), Err(VoiceError::Empty));
        assert_eq!(
            split_voice(b"RIFF....", 60.0, 100),
            Err(VoiceError::UnknownFormat)
        );
        assert_eq!(split_voice(b"", 60.0, 100), Err(VoiceError::Empty));
        assert!(matches!(
            split_voice(b"#!AMR\n\x48", 60.0, 100),
            Err(VoiceError::BadFrame { .. })
        ));
        let mp = mp3(&mut rng, 5);
        assert!(matches!(
            split_voice(&mp[..mp.len() - 140], 60.0, 1 << 20),
            Err(VoiceError::BadFrame { .. })
        ));
        assert!(matches!(
            split_voice(b"ID3\x04\0\0\x7f\x7f\x7f\x7f", 60.0, 100),
            Err(VoiceError::BadHeader)
        ));
        // A record cut short at the end is dropped, as the decoder drops it.
        let mut cut = input.clone();
        cut.extend_from_slice(&[0x3c, 1, 2]);
        assert_eq!(split_voice(&cut, 60.0, 1 << 20).unwrap(), vec![input]);
    }

    /// Fuzz-style: corrupted inputs split or fail with a typed error, never a panic.
    #[test]
    fn corrupted_input_never_panics() {
        let mut rng = Rng(11);
        for round in 0..2000 {
            let mut input = if round % 2 == 0 {
                amr(&mut rng, 20)
            } else {
                mp3(&mut rng, 20)
            };
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % input.len();
                input[at] = rng.next() as u8;
            }
            let cut = (rng.next() as usize) % (input.len() + 1);
            let _ = split_voice(&input[..cut], 1.0, 500);
        }
    }
}
