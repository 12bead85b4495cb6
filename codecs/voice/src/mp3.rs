//! MP3 out (feature `mp3`): decoded voice encoded as MPEG Layer III, mono, at a speech bitrate —
//! a tenth of the WAV's size. MPEG-2.5 at 8 kHz (AMR), MPEG-2 at 16 kHz (HD Speex), constant
//! bitrate, through [`rusty_mp3`].

use rusty_mp3::{Mp3Encoder, Mp3EncoderConfig};

use crate::{decode_voice_pcm, VoiceError, VoiceFormat};

/// The bitrate for speech at `sample_rate`: 24 kbit/s at 8 kHz, 32 kbit/s at 16 kHz and above.
pub fn speech_kbps(sample_rate: u32) -> u32 {
    if sample_rate <= 12_000 {
        24
    } else {
        32
    }
}

/// Mono 16-bit PCM at `sample_rate` (8, 11.025, 12, 16, 22.05, 24, 32, 44.1 or 48 kHz) as MP3 at
/// `kbps` (snapped to the nearest bitrate the MPEG version has). `None` for a rate MP3 has not.
pub fn pcm_to_mp3(samples: &[i16], sample_rate: u32, kbps: u32) -> Option<Vec<u8>> {
    let mut encoder = Mp3Encoder::new(Mp3EncoderConfig {
        bitrate_kbps: kbps,
        vbr_quality: None,
    });
    encoder.push_pcm_s16(samples, 1, sample_rate).ok()?;
    encoder.finish();
    let mut out = Vec::with_capacity(
        samples.len() * kbps as usize / (sample_rate as usize / 125).max(1) + 1024,
    );
    while let Ok(packet) = encoder.next_packet() {
        out.extend_from_slice(&packet);
    }
    (!out.is_empty()).then_some(out)
}

/// WeChat voice decoded and encoded as MP3 at [`speech_kbps`].
pub fn decode_voice_mp3(bytes: &[u8], format: Option<VoiceFormat>) -> Result<Vec<u8>, VoiceError> {
    let (pcm, rate) = decode_voice_pcm(bytes, format)?;
    pcm_to_mp3(&pcm, rate, speech_kbps(rate)).ok_or(VoiceError::UnknownFormat)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MP3 frames of `mp3`: (MPEG version bits, sample-rate index, frame count), walked from
    /// header to header as a decoder does.
    fn frames(mp3: &[u8]) -> usize {
        let mut at = 0;
        let mut count = 0;
        while at + 4 <= mp3.len() {
            let h = u32::from_be_bytes([mp3[at], mp3[at + 1], mp3[at + 2], mp3[at + 3]]);
            assert_eq!(h >> 21, 0x7ff, "a frame sync at {at}");
            let version = (h >> 19) & 3; // 0: 2.5, 2: 2, 3: 1
            let bitrate_index = ((h >> 12) & 15) as usize;
            let padding = ((h >> 9) & 1) as usize;
            let rate = [11_025, 12_000, 8_000][((h >> 10) & 3) as usize];
            let (kbps, rate, per) = match version {
                0 => (
                    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160][bitrate_index],
                    rate,
                    72,
                ),
                2 => (
                    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160][bitrate_index],
                    rate * 2,
                    72,
                ),
                _ => panic!("MPEG-1 is not what speech rates make"),
            };
            let len = per * kbps * 1000 / rate + padding;
            assert!(len > 4);
            at += len;
            count += 1;
        }
        count
    }

    #[test]
    fn speech_at_8_and_16_khz() {
        let tone: Vec<i16> = (0..8000 * 3)
            .map(|i| ((i as f32 * 0.11).sin() * 8000.0) as i16)
            .collect();
        let mp3 = pcm_to_mp3(&tone, 8000, speech_kbps(8000)).unwrap();
        // 3 s at 24 kbit/s is about 9 KB (plus a tag frame and the encoder's delay).
        assert!((8_000..13_000).contains(&mp3.len()), "{}", mp3.len());
        // MPEG-2.5 frames hold 576 samples: at least 3 s of them.
        assert!(frames(&mp3) >= 8000 * 3 / 576, "{}", frames(&mp3));
        let wide: Vec<i16> = (0..16000 * 2)
            .map(|i| ((i as f32 * 0.05).sin() * 8000.0) as i16)
            .collect();
        let mp3 = pcm_to_mp3(&wide, 16000, speech_kbps(16000)).unwrap();
        assert!(frames(&mp3) >= 16000 * 2 / 576);
        assert!(pcm_to_mp3(&wide, 7000, 24).is_none(), "no MP3 rate");
    }
}
