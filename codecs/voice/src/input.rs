//! Audio to encode, read from what callers hand over: a WAV file (RIFF WAVE: PCM 8/16/24/32-bit,
//! IEEE float 32/64-bit, `WAVE_FORMAT_EXTENSIBLE` of either, any rate, one to
//! [`MAX_CHANNELS`] channels) or raw interleaved PCM (`i16` or `f32`, a rate, a channel count),
//! mixed to mono `f32` samples in `-1.0..=1.0`.
//!
//! Nothing here trusts the header: every size is checked against the bytes that are there before
//! anything is allocated, the rate must be one audio uses ([`MIN_RATE`]..=[`MAX_RATE`]), and the
//! audio is at most [`MAX_INPUT_SECONDS`] long, so a hostile file costs a scan of its header and
//! an [`VoiceError::BadAudio`] (or [`VoiceError::UnsupportedAudio`], [`VoiceError::InputTooLong`]),
//! never a panic or a huge allocation.

use crate::VoiceError;

/// The lowest sample rate accepted (Hz).
pub const MIN_RATE: u32 = 1_000;
/// The highest sample rate accepted (Hz).
pub const MAX_RATE: u32 = 384_000;
/// The most channels accepted (they are averaged to mono).
pub const MAX_CHANNELS: u16 = 8;
/// The longest audio accepted for encoding, in seconds: ten times WeChat's 60 s limit for a
/// voice, so a long recording can be encoded and then split ([`crate::split`]).
pub const MAX_INPUT_SECONDS: u64 = 600;

/// Mono audio: samples in `-1.0..=1.0` at `sample_rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    /// The samples, channels already mixed (averaged).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

impl Audio {
    /// The duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate)
    }
}

/// Raw interleaved PCM handed over by a caller.
#[derive(Debug, Clone, Copy)]
pub enum Pcm<'a> {
    /// 16-bit signed samples.
    I16(&'a [i16]),
    /// Float samples, nominally `-1.0..=1.0` (clamped; NaN is silence).
    F32(&'a [f32]),
}

fn bad(reason: &'static str) -> VoiceError {
    VoiceError::BadAudio { reason }
}

fn unsupported(reason: &'static str) -> VoiceError {
    VoiceError::UnsupportedAudio { reason }
}

/// Checks a rate, a channel count and a frame count (samples per channel) against the limits.
fn check_shape(sample_rate: u32, channels: u16, frames: u64) -> Result<(), VoiceError> {
    if channels == 0 {
        return Err(bad("zero channels"));
    }
    if channels > MAX_CHANNELS {
        return Err(unsupported("more than 8 channels"));
    }
    if !(MIN_RATE..=MAX_RATE).contains(&sample_rate) {
        return Err(bad("a sample rate outside 1000..=384000 Hz"));
    }
    if frames > MAX_INPUT_SECONDS * u64::from(sample_rate) {
        return Err(VoiceError::InputTooLong {
            seconds: frames / u64::from(sample_rate),
        });
    }
    Ok(())
}

/// Averages interleaved frames of `channels` samples, each read by `sample`, to mono.
fn mix<T: Copy>(data: &[T], channels: usize, sample: impl Fn(T) -> f32) -> Vec<f32> {
    if channels == 1 {
        return data.iter().map(|&s| sample(s)).collect();
    }
    let scale = 1.0 / channels as f32;
    data.chunks_exact(channels)
        .map(|frame| frame.iter().map(|&s| sample(s)).sum::<f32>() * scale)
        .collect()
}

fn clean(x: f32) -> f32 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-1.0, 1.0)
    }
}

/// Raw interleaved PCM as mono audio. A trailing partial frame (fewer samples than `channels`)
/// is dropped.
pub fn from_pcm(pcm: Pcm<'_>, sample_rate: u32, channels: u16) -> Result<Audio, VoiceError> {
    let len = match pcm {
        Pcm::I16(s) => s.len(),
        Pcm::F32(s) => s.len(),
    };
    let frames = if channels == 0 {
        0
    } else {
        len / usize::from(channels)
    };
    check_shape(sample_rate, channels, frames as u64)?;
    if frames == 0 {
        return Err(bad("no samples"));
    }
    let ch = usize::from(channels);
    let samples = match pcm {
        Pcm::I16(s) => mix(&s[..frames * ch], ch, |v| f32::from(v) / 32768.0),
        Pcm::F32(s) => mix(&s[..frames * ch], ch, clean),
    };
    Ok(Audio {
        samples,
        sample_rate,
    })
}

/// How a WAV file's samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Integers: 8-bit unsigned, 16/24/32-bit signed little-endian.
    Int,
    /// IEEE float, 32 or 64 bits little-endian.
    Float,
}

/// The `fmt ` chunk, checked.
#[derive(Debug, Clone, Copy)]
struct Format {
    encoding: Encoding,
    channels: u16,
    sample_rate: u32,
    /// Bytes per sample of one channel (the container size).
    width: usize,
}

const WAVE_FORMAT_PCM: u16 = 1;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 3;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;
/// The 14 bytes after the format code in the sub-format GUID of every `KSDATAFORMAT_SUBTYPE_*`.
const KSDATAFORMAT_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn read_format(body: &[u8]) -> Result<Format, VoiceError> {
    if body.len() < 16 {
        return Err(bad("a fmt chunk shorter than 16 bytes"));
    }
    let mut tag = u16_at(body, 0);
    let channels = u16_at(body, 2);
    let sample_rate = u32_at(body, 4);
    let block_align = u16_at(body, 12);
    let bits = u16_at(body, 14);
    if tag == WAVE_FORMAT_EXTENSIBLE {
        // cbSize (2), valid bits (2), channel mask (4), sub-format GUID (16).
        if body.len() < 40 || u16_at(body, 16) < 22 {
            return Err(bad(
                "a WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes",
            ));
        }
        if body[26..40] != KSDATAFORMAT_TAIL {
            return Err(unsupported(
                "a WAVE_FORMAT_EXTENSIBLE sub-format that is not PCM or float",
            ));
        }
        tag = u16_at(body, 24);
    }
    let encoding = match tag {
        WAVE_FORMAT_PCM => Encoding::Int,
        WAVE_FORMAT_IEEE_FLOAT => Encoding::Float,
        _ => {
            return Err(unsupported(
                "a WAV encoding other than PCM or IEEE float (ADPCM, A-law, μ-law…)",
            ))
        }
    };
    check_shape(sample_rate, channels, 0)?;
    let width = match (encoding, bits) {
        (Encoding::Int, 8 | 16 | 24 | 32) | (Encoding::Float, 32 | 64) => usize::from(bits / 8),
        (Encoding::Int, _) => {
            return Err(unsupported("PCM samples other than 8, 16, 24 or 32 bits"))
        }
        (Encoding::Float, _) => return Err(unsupported("float samples other than 32 or 64 bits")),
    };
    if usize::from(block_align) != width * usize::from(channels) {
        return Err(bad("a block align that is not channels × bytes per sample"));
    }
    Ok(Format {
        encoding,
        channels,
        sample_rate,
        width,
    })
}

/// Reads a WAV file (RIFF WAVE) into mono audio: the `fmt ` chunk, then the `data` chunk after
/// it; other chunks (`LIST`, `fact`, `cue `…) are skipped. A `data` chunk whose size runs past the
/// end of the bytes, a chunk size past the end, a missing `fmt ` or `data` chunk, zero channels or
/// a rate outside [`MIN_RATE`]..=[`MAX_RATE`] are [`VoiceError::BadAudio`]; encodings other than
/// PCM and float (or RF64) are [`VoiceError::UnsupportedAudio`]. A trailing partial frame in the
/// data is dropped.
pub fn read_wav(bytes: &[u8]) -> Result<Audio, VoiceError> {
    if bytes.is_empty() {
        return Err(bad("no bytes"));
    }
    if bytes.len() < 12 {
        return Err(bad("a WAV header cut short"));
    }
    match &bytes[0..4] {
        b"RIFF" => {}
        b"RF64" | b"BW64" => return Err(unsupported("RF64 WAV")),
        b"RIFX" => return Err(unsupported("big-endian WAV (RIFX)")),
        _ => return Err(bad("not a WAV file (no RIFF header)")),
    }
    if &bytes[8..12] != b"WAVE" {
        return Err(bad("a RIFF file that is not WAVE"));
    }
    let mut at = 12usize;
    let mut format: Option<Format> = None;
    loop {
        let Some(head) = bytes.get(at..at + 8) else {
            return Err(bad(if format.is_some() {
                "no data chunk"
            } else {
                "no fmt chunk"
            }));
        };
        let size = u32_at(head, 4) as usize;
        let start = at + 8;
        let end = start.checked_add(size).filter(|&e| e <= bytes.len());
        match &head[0..4] {
            b"fmt " => {
                let end = end.ok_or_else(|| bad("a fmt chunk that runs past the end"))?;
                if format.is_some() {
                    return Err(bad("two fmt chunks"));
                }
                format = Some(read_format(&bytes[start..end])?);
                at = end + (size & 1);
            }
            b"data" => {
                let format = format.ok_or_else(|| bad("a data chunk before the fmt chunk"))?;
                let end = end.ok_or_else(|| bad("a data chunk that runs past the end"))?;
                return read_data(&bytes[start..end], format);
            }
            _ => {
                let end = end.ok_or_else(|| bad("a chunk that runs past the end"))?;
                at = end + (size & 1);
            }
        }
    }
}

fn read_data(data: &[u8], f: Format) -> Result<Audio, VoiceError> {
    let ch = usize::from(f.channels);
    let frame = f.width * ch;
    let frames = data.len() / frame;
    check_shape(f.sample_rate, f.channels, frames as u64)?;
    if frames == 0 {
        return Err(bad("no samples"));
    }
    let data = &data[..frames * frame];
    // Read in place, frame by frame: no copy of the data besides the mono samples.
    let width = f.width;
    let mixed = |sample: fn(&[u8]) -> f32| -> Vec<f32> {
        let scale = 1.0 / ch as f32;
        data.chunks_exact(frame)
            .map(|fr| fr.chunks_exact(width).map(sample).sum::<f32>() * scale)
            .collect()
    };
    let samples = match (f.encoding, width) {
        (Encoding::Int, 1) => mixed(|b| (f32::from(b[0]) - 128.0) / 128.0),
        (Encoding::Int, 2) => mixed(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0),
        (Encoding::Int, 3) => {
            mixed(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0)
        }
        (Encoding::Int, _) => mixed(|b| {
            (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
        }),
        (Encoding::Float, 4) => mixed(|b| clean(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
        (Encoding::Float, _) => mixed(|b| {
            clean(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
        }),
    };
    Ok(Audio {
        samples,
        sample_rate: f.sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV file: `fmt` chunk body `fmt`, then `extra` chunks, then `data`.
    fn wav(fmt: &[u8], extra: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        out.extend_from_slice(fmt);
        out.extend_from_slice(extra);
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        let riff = (out.len() - 8) as u32;
        out[4..8].copy_from_slice(&riff.to_le_bytes());
        out
    }

    fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut f = Vec::new();
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        f.extend_from_slice(&align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f
    }

    fn extensible(sub: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let mut f = fmt(WAVE_FORMAT_EXTENSIBLE, channels, rate, bits);
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f.extend_from_slice(&3u32.to_le_bytes());
        f.extend_from_slice(&sub.to_le_bytes());
        f.extend_from_slice(&KSDATAFORMAT_TAIL);
        f
    }

    #[test]
    fn every_sample_format_reads_the_same_signal() {
        // One stereo signal, left = x, right = x / 2: mono is 3x/4.
        let xs = [0.0f32, 0.5, -0.5, 0.25, -1.0, 0.999];
        let expect: Vec<f32> = xs.iter().map(|x| x * 0.75).collect();
        let frames = |enc: &dyn Fn(f32) -> Vec<u8>| -> Vec<u8> {
            xs.iter()
                .flat_map(|&x| [enc(x), enc(x / 2.0)].concat())
                .collect()
        };
        let cases: Vec<(&str, Vec<u8>, f32)> = vec![
            (
                "u8",
                wav(
                    &fmt(1, 2, 8000, 8),
                    &[],
                    &frames(&|x| vec![(x * 127.0 + 128.0).round() as u8]),
                ),
                0.01,
            ),
            (
                "s16",
                wav(
                    &fmt(1, 2, 8000, 16),
                    &[],
                    &frames(&|x| ((x * 32767.0) as i16).to_le_bytes().to_vec()),
                ),
                1e-4,
            ),
            (
                "s24",
                wav(
                    &fmt(1, 2, 8000, 24),
                    &[],
                    &frames(&|x| ((x * 8_388_607.0) as i32).to_le_bytes()[..3].to_vec()),
                ),
                1e-6,
            ),
            (
                "s32",
                wav(
                    &fmt(1, 2, 8000, 32),
                    &[],
                    &frames(&|x| {
                        ((f64::from(x) * 2_147_483_647.0) as i32)
                            .to_le_bytes()
                            .to_vec()
                    }),
                ),
                1e-6,
            ),
            (
                "f32",
                wav(
                    &fmt(3, 2, 8000, 32),
                    &[],
                    &frames(&|x| x.to_le_bytes().to_vec()),
                ),
                1e-7,
            ),
            (
                "f64",
                wav(
                    &fmt(3, 2, 8000, 64),
                    &[],
                    &frames(&|x| f64::from(x).to_le_bytes().to_vec()),
                ),
                1e-7,
            ),
            (
                "ext s16",
                wav(
                    &extensible(1, 2, 8000, 16),
                    &[],
                    &frames(&|x| ((x * 32767.0) as i16).to_le_bytes().to_vec()),
                ),
                1e-4,
            ),
            (
                "ext f32",
                wav(
                    &extensible(3, 2, 8000, 32),
                    b"LIST\x03\0\0\0abc\0",
                    &frames(&|x| x.to_le_bytes().to_vec()),
                ),
                1e-7,
            ),
        ];
        for (name, file, tolerance) in cases {
            let audio = read_wav(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(audio.sample_rate, 8000, "{name}");
            assert_eq!(audio.samples.len(), xs.len(), "{name}");
            for (a, b) in audio.samples.iter().zip(&expect) {
                assert!((a - b).abs() <= tolerance, "{name}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn raw_pcm_mixes_and_drops_a_partial_frame() {
        let a = from_pcm(Pcm::I16(&[16384, 0, -32768, -32768, 7]), 44_100, 2).unwrap();
        assert_eq!(a.samples, vec![0.25, -1.0]);
        assert_eq!(a.sample_rate, 44_100);
        let f = from_pcm(Pcm::F32(&[f32::NAN, 2.0, -0.5]), 16_000, 1).unwrap();
        assert_eq!(f.samples, vec![0.0, 1.0, -0.5]);
        assert!(matches!(
            from_pcm(Pcm::I16(&[1, 2]), 8000, 0),
            Err(VoiceError::BadAudio { .. })
        ));
        assert!(matches!(
            from_pcm(Pcm::I16(&[1, 2]), 0, 1),
            Err(VoiceError::BadAudio { .. })
        ));
        assert!(matches!(
            from_pcm(Pcm::I16(&[1, 2]), u32::MAX, 1),
            Err(VoiceError::BadAudio { .. })
        ));
        assert!(matches!(
            from_pcm(Pcm::I16(&[1]), 8000, 2),
            Err(VoiceError::BadAudio { .. })
        ));
        assert!(matches!(
            from_pcm(Pcm::I16(&[1; 9]), 8000, 9),
            Err(VoiceError::UnsupportedAudio { .. })
        ));
        let long = vec![0i16; (MAX_INPUT_SECONDS as usize + 1) * 1000];
        assert!(matches!(
            from_pcm(Pcm::I16(&long), 1000, 1),
            Err(VoiceError::InputTooLong { seconds: 601 })
        ));
    }

    #[test]
    fn hostile_headers_are_typed_errors() {
        let good = wav(&fmt(1, 1, 8000, 16), &[], &[1, 0, 2, 0]);
        let with = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut w = good.clone();
            f(&mut w);
            w
        };
        let bad_cases: Vec<(&str, Vec<u8>)> = vec![
            ("truncated header", good[..20].to_vec()),
            ("no RIFF", with(&|w| w[0] = b'X')),
            ("not WAVE", with(&|w| w[8] = b'X')),
            ("0 channels", with(&|w| w[22] = 0)),
            (
                "rate 0",
                with(&|w| w[24..28].copy_from_slice(&0u32.to_le_bytes())),
            ),
            (
                "rate 2^32-1",
                with(&|w| w[24..28].copy_from_slice(&u32::MAX.to_le_bytes())),
            ),
            (
                "absurd fmt size",
                with(&|w| w[16..20].copy_from_slice(&u32::MAX.to_le_bytes())),
            ),
            (
                "data past the end",
                with(&|w| w[40..44].copy_from_slice(&0x7fff_ffffu32.to_le_bytes())),
            ),
            (
                "data size 2^32-1",
                with(&|w| w[40..44].copy_from_slice(&u32::MAX.to_le_bytes())),
            ),
            ("block align", with(&|w| w[32] = 3)),
            ("no data chunk", good[..36].to_vec()),
            (
                "data before fmt",
                b"RIFF\0\0\0\0WAVEdata\x02\0\0\0\x01\0".to_vec(),
            ),
        ];
        for (name, file) in bad_cases {
            match read_wav(&file) {
                Err(VoiceError::BadAudio { .. }) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        let unsupported_cases: Vec<(&str, Vec<u8>)> = vec![
            ("ADPCM", with(&|w| w[20] = 2)),
            ("12-bit", with(&|w| w[34] = 12)),
            ("RF64", with(&|w| w[0..4].copy_from_slice(b"RF64"))),
        ];
        for (name, file) in unsupported_cases {
            match read_wav(&file) {
                Err(VoiceError::UnsupportedAudio { .. }) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(matches!(read_wav(&[]), Err(VoiceError::BadAudio { .. })));
        assert!(matches!(
            read_wav(&wav(&fmt(1, 1, 8000, 16), &[], &[])),
            Err(VoiceError::BadAudio { .. })
        ));
        // An odd chunk's pad byte is skipped.
        let padded = wav(&fmt(1, 1, 8000, 16), b"junk\x01\0\0\0x\0", &[0, 64]);
        assert_eq!(read_wav(&padded).unwrap().samples, vec![0.5]);
    }

    /// Fuzz-style: every prefix, and thousands of random corruptions of a valid file, are
    /// answered with audio or a typed error, never a panic, and any audio read fits the bytes.
    #[test]
    fn corrupted_wavs_never_panic() {
        let data: Vec<u8> = (0..400u32)
            .flat_map(|i| ((i * 37) as i16).to_le_bytes())
            .collect();
        let files = [
            wav(&fmt(1, 2, 44_100, 16), b"LIST\x04\0\0\0abcd", &data),
            wav(&extensible(3, 1, 48_000, 32), &[], &data),
            wav(&fmt(1, 1, 22_050, 24), &[], &data[..399]),
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for file in &files {
            for cut in 0..file.len() {
                let _ = read_wav(&file[..cut]);
            }
            for _ in 0..3000 {
                let mut f = file.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() % 64) as usize % f.len();
                    f[at] = match next() % 4 {
                        0 => 0,
                        1 => 0xff,
                        _ => next() as u8,
                    };
                }
                if let Ok(audio) = read_wav(&f) {
                    assert!(audio.samples.len() <= f.len());
                    assert!(audio
                        .samples
                        .iter()
                        .all(|s| s.is_finite() && s.abs() <= 1.0));
                }
            }
        }
    }
}
