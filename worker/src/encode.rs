//! Voice uploads of WAV audio, encoded to AMR-NB in the Worker before WeChat sees them (pure,
//! tested natively; the IO around it is `routes::pipeline`'s).
//!
//! A voice upload whose bytes start with `RIFF….WAVE` is a WAV whatever its filename says: it is
//! read by the codecs' one WAV reader (`wxmedia_codecs::input::read_wav`: hostile headers are
//! typed refusals, never a panic or a huge allocation), mixed to mono, resampled to 8 kHz and
//! encoded to AMR-NB 12.2 kbit/s (MR122, DTX off: what WeChat records). Everything is decided
//! before anything is sent upstream: a WAV that cannot be read is a 400 `BAD_AUDIO` (415
//! `UNSUPPORTED_AUDIO` for a well-formed kind that is not read, such as ADPCM); longer than
//! WeChat's 60 s, or over the app's voice size limit once encoded, a 413 `TOO_LARGE` naming the
//! limit and the input's duration — unless the caller asked for parts (`&split=1`), when the AMR
//! is cut on frame boundaries into parts within both limits, every frame in exactly one part.

use wxmedia_codecs::encode::encode_amr_audio;
use wxmedia_codecs::input::read_wav;
use wxmedia_codecs::split::{
    amr_frames, mp3_frames, split_format, split_voice, Frame, SplitFormat,
};
use wxmedia_codecs::VoiceError;

use crate::error::{ApiError, ErrorCode};

/// The largest WAV body the Worker reads to encode (16 MiB: a minute of 48 kHz stereo 16-bit
/// audio, or several minutes of speech at TTS rates to split). Read into wasm memory with its
/// samples, so it is bounded well inside an isolate's 128 MB.
pub const MAX_WAV_BYTES: u64 = 16 * 1024 * 1024;

/// WeChat's limit on a voice's length, in seconds.
pub const MAX_VOICE_SECONDS: f64 = wxmedia_codecs::split::DEFAULT_MAX_SECONDS;

/// The AMR-NB mode WAV uploads are encoded in: MR122 (12.2 kbit/s).
pub const AMR_MODE: u8 = wxmedia_codecs::encode::DEFAULT_AMR_MODE;

/// The mode's name, as the answer reports it.
pub const AMR_MODE_NAME: &str = "MR122";

/// Whether `head` (the first bytes of an upload) is a WAV file: `RIFF`, a size, `WAVE`. The bytes
/// decide, never the filename or the Content-Type.
pub fn is_wav(head: &[u8]) -> bool {
    head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE"
}

/// One AMR file to upload.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The `#!AMR\n` storage file.
    pub bytes: Vec<u8>,
    /// How long it plays (its frames × 20 ms).
    pub seconds: f64,
}

/// A WAV encoded to AMR, ready to upload: one part, or several when parts were asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The WAV's duration, in seconds.
    pub input_seconds: f64,
    /// The WAV's sample rate.
    pub input_rate: u32,
    /// The AMR files, in order.
    pub parts: Vec<Part>,
}

impl Encoded {
    /// The answer's `encoded` object: what the Worker did to the upload.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "from": "wav",
            "to": "amr",
            "mode": AMR_MODE_NAME,
            "seconds": round_ms(self.input_seconds),
            "sampleRate": self.input_rate,
            "bytes": self.parts.iter().map(|p| p.bytes.len()).sum::<usize>(),
        })
    }

    /// A short description for a header (`from=wav; to=amr; mode=MR122; seconds=12.345`).
    pub fn header(&self) -> String {
        format!(
            "from=wav; to=amr; mode={AMR_MODE_NAME}; seconds={}",
            round_ms(self.input_seconds)
        )
    }
}

/// Seconds rounded to the millisecond, for answers.
pub fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The answer for audio the codecs refuse: 400 `BAD_AUDIO` (a file cut short, sizes past its end,
/// zero channels, an impossible rate…), 415 `UNSUPPORTED_AUDIO` (ADPCM, A-law, RF64, more than
/// eight channels), 413 `TOO_LARGE` (longer than the reader's own cap).
pub fn audio_error(err: &VoiceError) -> ApiError {
    let code = match err {
        VoiceError::UnsupportedAudio { .. } => ErrorCode::UnsupportedAudio,
        VoiceError::InputTooLong { .. } | VoiceError::TooLarge { .. } => ErrorCode::TooLarge,
        _ => ErrorCode::BadAudio,
    };
    ApiError::new(code, format!("the WAV cannot be encoded: {err}"))
}

/// A WAV over WeChat's 60 s (no parts asked for): 413 naming the limit and the duration.
fn too_long(seconds: f64) -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        format!(
            "voice is at most {MAX_VOICE_SECONDS} s (WeChat's limit) and this WAV is {:.3} s; \
             upload it with split=1 (POST /media?type=voice&split=1) to get one media id per part",
            round_ms(seconds)
        ),
    )
}

/// Reads `wav`, refuses what WeChat would (or what cannot be read), and encodes it to AMR (MR122):
/// one part within `max_bytes` (the app's voice limit) and 60 s, or with `split` as many parts as
/// it takes. Errors are the answers to give, and come before any encoding when the header already
/// decides them.
pub fn encode_wav(wav: &[u8], max_bytes: u64, split: bool) -> Result<Encoded, ApiError> {
    let audio = read_wav(wav).map_err(|e| audio_error(&e))?;
    let input_seconds = audio.seconds();
    let input_rate = audio.sample_rate;
    // 60 s is 3000 whole frames: a WAV of at most 60 s encodes to at most 60 s.
    if !split && input_seconds > MAX_VOICE_SECONDS {
        return Err(too_long(input_seconds));
    }
    let amr = encode_amr_audio(&audio, Some(AMR_MODE)).map_err(|e| audio_error(&e))?;
    drop(audio);
    let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let files = if split {
        split_voice(&amr, MAX_VOICE_SECONDS, max).map_err(|e| {
            ApiError::new(
                ErrorCode::TooLarge,
                format!("the voice cannot be split within a {max_bytes}-byte limit: {e}"),
            )
        })?
    } else if amr.len() > max {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "encoded to AMR this {:.3} s WAV is {} bytes, over the voice limit of {max_bytes} \
                 bytes; upload it with split=1 to get one media id per part",
                round_ms(input_seconds),
                amr.len()
            ),
        ));
    } else {
        vec![amr]
    };
    let parts = files
        .into_iter()
        .map(|bytes| {
            let seconds = amr_seconds(&bytes);
            Part { bytes, seconds }
        })
        .collect();
    Ok(Encoded {
        input_seconds,
        input_rate,
        parts,
    })
}

/// Voice that is already AMR or MP3, cut into parts of at most 60 s and `max_bytes` (`split=1`):
/// every frame in exactly one part. Voice that does not walk as either is a 422 `BAD_VOICE`.
pub fn split_parts(voice: &[u8], max_bytes: u64) -> Result<Vec<Part>, ApiError> {
    let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let format = split_format(voice);
    let files = split_voice(voice, MAX_VOICE_SECONDS, max).map_err(|e| {
        ApiError::new(
            ErrorCode::BadVoice,
            format!("the voice cannot be split into parts: {e}"),
        )
    })?;
    Ok(files
        .into_iter()
        .map(|bytes| {
            let seconds = match format {
                Some(SplitFormat::Mp3) => frames_seconds(mp3_frames(&bytes)),
                _ => amr_seconds(&bytes),
            };
            Part { bytes, seconds }
        })
        .collect())
}

fn frames_seconds(frames: Result<Vec<Frame>, VoiceError>) -> f64 {
    // Whole samples summed, then divided once: 3000 AMR frames are exactly 60 s.
    frames.map_or(0.0, |frames| {
        let samples: u64 = frames.iter().map(|f| u64::from(f.samples)).sum();
        frames
            .first()
            .map_or(0.0, |f| samples as f64 / f64::from(f.sample_rate))
    })
}

/// How long an AMR storage file plays: its whole records × 20 ms (0 for one that does not walk).
pub fn amr_seconds(bytes: &[u8]) -> f64 {
    frames_seconds(amr_frames(bytes))
}

/// The filename of part `index` (from 1) of `count` of an upload named `filename`: its stem with
/// `.amr` (`-1.amr`, `-2.amr`… when there are several parts), `voice` without one.
pub fn part_filename(filename: Option<&str>, index: usize, count: usize) -> String {
    let name = filename
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    let stem = match name.rfind('.') {
        None => name,
        Some(dot) => &name[..dot],
    };
    let stem = if stem.is_empty() { "voice" } else { stem };
    if count > 1 {
        format!("{stem}-{index}.amr")
    } else {
        format!("{stem}.amr")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wxmedia_codecs::amr::AMR_MAGIC;

    /// A 16-bit mono WAV of `seconds` of a tone at `rate`.
    fn wav(rate: u32, seconds: f64) -> Vec<u8> {
        let n = (f64::from(rate) * seconds) as usize;
        let samples: Vec<i16> = (0..n)
            .map(|i| {
                ((i as f64 * 440.0 * std::f64::consts::TAU / f64::from(rate)).sin() * 8000.0) as i16
            })
            .collect();
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&data);
        out
    }

    #[test]
    fn wav_is_told_by_its_magic() {
        assert!(is_wav(&wav(8000, 0.01)[..16]));
        assert!(!is_wav(&[AMR_MAGIC, &[0x3c; 8]].concat()));
        assert!(!is_wav(b"RIFF\0\0\0\0AVI LIST"));
        assert!(!is_wav(b"RIFF"));
    }

    #[test]
    fn a_wav_becomes_one_amr_file_of_its_duration() {
        let encoded = encode_wav(&wav(16_000, 2.5), 2 << 20, false).unwrap();
        assert_eq!(encoded.parts.len(), 1);
        let part = &encoded.parts[0];
        assert!(part.bytes.starts_with(AMR_MAGIC));
        assert_eq!(part.seconds, 2.5);
        assert_eq!(part.bytes.len(), 6 + 125 * 32);
        assert_eq!(encoded.input_seconds, 2.5);
        assert_eq!(encoded.describe()["from"], "wav");
        assert_eq!(encoded.describe()["seconds"], 2.5);
    }

    #[test]
    fn over_60_s_is_refused_before_encoding_unless_split() {
        let long = wav(8000, 61.5);
        let err = encode_wav(&long, 2 << 20, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        assert!(err.message.contains("60 s"), "{}", err.message);
        assert!(err.message.contains("61.500 s"), "{}", err.message);
        let split = encode_wav(&long, 2 << 20, true).unwrap();
        assert_eq!(split.parts.len(), 2);
        assert_eq!(split.parts[0].seconds, 60.0);
        assert!((split.parts[1].seconds - 1.5).abs() < 1e-9);
        // Exactly 60 s is within the limit.
        assert_eq!(
            encode_wav(&wav(8000, 60.0), 2 << 20, false)
                .unwrap()
                .parts
                .len(),
            1
        );
    }

    #[test]
    fn the_byte_limit_applies_after_encoding() {
        let err = encode_wav(&wav(8000, 2.0), 1000, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        assert!(err.message.contains("1000 bytes"), "{}", err.message);
        let split = encode_wav(&wav(8000, 2.0), 1000, true).unwrap();
        assert!(split.parts.iter().all(|p| p.bytes.len() <= 1000));
        let frames: usize = split.parts.iter().map(|p| (p.bytes.len() - 6) / 32).sum();
        assert_eq!(frames, 100);
    }

    #[test]
    fn hostile_wavs_are_typed_refusals() {
        let good = wav(8000, 0.5);
        let mut zero_channels = good.clone();
        zero_channels[22..24].copy_from_slice(&0u16.to_le_bytes());
        let mut huge_rate = good.clone();
        huge_rate[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut past_end = good.clone();
        past_end[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        let empty = wav(8000, 0.0);
        let mut adpcm = good.clone();
        adpcm[20..22].copy_from_slice(&2u16.to_le_bytes());
        for (bytes, code) in [
            (&good[..20], ErrorCode::BadAudio),
            (&zero_channels[..], ErrorCode::BadAudio),
            (&huge_rate[..], ErrorCode::BadAudio),
            (&past_end[..], ErrorCode::BadAudio),
            (&adpcm[..], ErrorCode::UnsupportedAudio),
            (&good[..44], ErrorCode::BadAudio),
            (&empty[..], ErrorCode::BadAudio),
        ] {
            let err = encode_wav(bytes, 2 << 20, true).unwrap_err();
            assert_eq!(err.code, code, "{}", err.message);
        }
    }

    #[test]
    fn amr_is_split_as_it_is() {
        let amr = encode_wav(&wav(8000, 130.0), 2 << 20, true).unwrap();
        assert_eq!(amr.parts.len(), 3);
        let whole: Vec<u8> = amr.parts.iter().fold(AMR_MAGIC.to_vec(), |mut all, p| {
            all.extend_from_slice(&p.bytes[6..]);
            all
        });
        let again = split_parts(&whole, 2 << 20).unwrap();
        assert_eq!(again, amr.parts);
        assert_eq!(
            split_parts(&[AMR_MAGIC, &[0x4c]].concat(), 2 << 20)
                .unwrap_err()
                .code,
            ErrorCode::BadVoice
        );
    }

    #[test]
    fn part_names_keep_the_stem() {
        assert_eq!(part_filename(Some("reply.wav"), 1, 1), "reply.amr");
        assert_eq!(part_filename(Some("dir/reply.wav"), 2, 3), "reply-2.amr");
        assert_eq!(part_filename(None, 1, 1), "voice.amr");
        assert_eq!(part_filename(Some(".wav"), 1, 2), "voice-1.amr");
    }
}
