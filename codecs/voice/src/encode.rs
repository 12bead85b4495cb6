//! Audio encoded to voice WeChat takes: mono audio from [`crate::input`] mixed, resampled by
//! [`crate::resample`] to the encoder's rate, and handed to the AMR-NB encoder
//! ([`crate::amr_encode::encode_amr`], 8 kHz) or the MP3 encoder ([`crate::mp3`], 8 or 16 kHz).

use crate::amr_encode::encode_amr_dtx;
use crate::input::Audio;
use crate::resample::{resample, to_i16};
use crate::VoiceError;

/// The AMR-NB mode used when none is given: 7, MR122 (12.2 kbit/s), what WeChat records.
pub const DEFAULT_AMR_MODE: u8 = 7;

/// The MP3 bitrates (kbit/s) offered for speech: MPEG-2 and 2.5 Layer III's up to 64.
pub const MP3_KBPS: [u32; 8] = [8, 16, 24, 32, 40, 48, 56, 64];

/// The rate MP3 speech is encoded at for audio at `sample_rate`: 16 kHz (MPEG-2) for wideband
/// input (16 kHz and up), else 8 kHz (MPEG-2.5).
pub fn mp3_rate(sample_rate: u32) -> u32 {
    if sample_rate >= 16_000 {
        16_000
    } else {
        8_000
    }
}

/// The audio at `rate`, as 16-bit samples.
pub fn samples_at(audio: &Audio, rate: u32) -> Vec<i16> {
    to_i16(&resample(&audio.samples, audio.sample_rate, rate))
}

/// Audio as an AMR-NB storage file in `mode` (0..=7; [`DEFAULT_AMR_MODE`] when `None`),
/// resampled to 8 kHz, DTX off, through the encoder's seam ([`crate::amr_encode`]).
pub fn encode_amr_audio(audio: &Audio, mode: Option<u8>) -> Result<Vec<u8>, VoiceError> {
    encode_amr_audio_dtx(audio, mode, false)
}

/// [`encode_amr_audio`] with DTX on or off (see [`encode_amr_dtx`]).
pub fn encode_amr_audio_dtx(
    audio: &Audio,
    mode: Option<u8>,
    dtx: bool,
) -> Result<Vec<u8>, VoiceError> {
    let mode = mode.unwrap_or(DEFAULT_AMR_MODE);
    if mode > 7 {
        return Err(VoiceError::BadOption {
            reason: "the AMR mode must be 0..=7",
        });
    }
    encode_amr_dtx(&samples_at(audio, 8000), mode, dtx)
}

/// Audio as MP3 (mono, constant bitrate) at [`mp3_rate`], `kbps` one of [`MP3_KBPS`] (the
/// speech default for the rate, [`crate::mp3::speech_kbps`], when `None`).
#[cfg(feature = "mp3")]
pub fn encode_mp3_audio(audio: &Audio, kbps: Option<u32>) -> Result<Vec<u8>, VoiceError> {
    let rate = mp3_rate(audio.sample_rate);
    let kbps = kbps.unwrap_or_else(|| crate::mp3::speech_kbps(rate));
    if !MP3_KBPS.contains(&kbps) {
        return Err(VoiceError::BadOption {
            reason: "the MP3 bitrate must be 8, 16, 24, 32, 40, 48, 56 or 64 kbit/s",
        });
    }
    if audio.samples.is_empty() {
        return Err(VoiceError::BadAudio {
            reason: "no samples",
        });
    }
    crate::mp3::pcm_to_mp3(&samples_at(audio, rate), rate, kbps).ok_or(VoiceError::BadOption {
        reason: "the MP3 encoder refused the audio",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_from_any_rate_at_8_khz() {
        let audio = Audio {
            samples: (0..44_100).map(|i| (i as f32 * 0.01).sin() * 0.3).collect(),
            sample_rate: 44_100,
        };
        let file = encode_amr_audio(&audio, None).unwrap();
        // One second resampled to 8 kHz: 50 frames of MR122 (31 bytes each with the header).
        assert_eq!(file.len(), 6 + 50 * 32);
        assert_eq!(
            encode_amr_audio(&audio, Some(8)).unwrap_err().code(),
            "BAD_OPTION"
        );
    }

    #[cfg(feature = "mp3")]
    #[test]
    fn mp3_bitrates() {
        let audio = Audio {
            samples: (0..16_000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect(),
            sample_rate: 16_000,
        };
        for kbps in MP3_KBPS {
            let mp3 = encode_mp3_audio(&audio, Some(kbps)).unwrap();
            assert_eq!(mp3[0], 0xff);
        }
        assert_eq!(
            encode_mp3_audio(&audio, Some(128)).unwrap_err().code(),
            "BAD_OPTION"
        );
    }
}
