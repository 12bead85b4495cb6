//! **The AMR-NB encoder's seam.** [`encode_amr_dtx`] (and [`encode_amr`], DTX off) is where
//! every AMR encoding goes ([`crate::encode::encode_amr_audio_dtx`], the npm
//! `encodeVoice(…, { to: 'amr' })` and `uploadVoice()`): 8 kHz mono 16-bit samples and a mode
//! in, an `#!AMR\n` storage file out, over `wxmedia-amr`'s encoder (our port of the 3GPP TS
//! 26.073 reference, bit-exact with opencore-amrnb; with DTX on, that is what
//! `sox -t amr-nb -C MODE` writes).

use wxmedia_amr::{Encoder, Mode, AMR_MAGIC, L_FRAME};

use crate::VoiceError;

/// Encodes 8 kHz mono 16-bit samples as an AMR-NB storage file (`#!AMR\n`, then one record per
/// 20 ms frame) in `mode` (0 = MR475 … 7 = MR122), DTX off. The last frame is padded with
/// silence to 20 ms; no samples make a file of the magic number alone.
pub fn encode_amr(samples_8k_mono: &[i16], mode: u8) -> Result<Vec<u8>, VoiceError> {
    encode_amr_dtx(samples_8k_mono, mode, false)
}

/// [`encode_amr`] with DTX on or off. With DTX on, pauses become SID and NO_DATA frames (a
/// smaller file), as opencore-amrnb writes them: `sox -t amr-nb -C MODE`, which always encodes
/// with DTX, writes exactly these bytes.
pub fn encode_amr_dtx(samples_8k_mono: &[i16], mode: u8, dtx: bool) -> Result<Vec<u8>, VoiceError> {
    let mode = Mode::from_index(mode).ok_or(VoiceError::BadOption {
        reason: "the AMR mode must be 0..=7",
    })?;
    let mut encoder = Encoder::new(mode, dtx);
    let frames = samples_8k_mono.len().div_ceil(L_FRAME);
    let mut out = Vec::with_capacity(AMR_MAGIC.len() + frames * 32);
    out.extend_from_slice(AMR_MAGIC);
    let mut record = [0u8; 32];
    for chunk in samples_8k_mono.chunks(L_FRAME) {
        let mut frame = [0i16; L_FRAME];
        frame[..chunk.len()].copy_from_slice(chunk);
        let n = encoder.encode_into(&frame, &mut record);
        out.extend_from_slice(&record[..n]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_whole_frames_in_the_mode_asked() {
        let samples: Vec<i16> = (0..8000 + 7)
            .map(|i| ((i as f32 * 0.07).sin() * 8000.0) as i16)
            .collect();
        for mode in 0..8u8 {
            let file = encode_amr(&samples, mode).unwrap();
            assert!(file.starts_with(AMR_MAGIC));
            // 51 frames (50 and a padded one), each a header byte of this mode and its payload.
            let payload = wxmedia_amr::PAYLOAD_LEN[usize::from(mode)].unwrap();
            assert_eq!(file.len(), AMR_MAGIC.len() + 51 * (1 + payload));
            assert_eq!((file[AMR_MAGIC.len()] >> 3) & 0x0f, mode);
        }
        assert_eq!(encode_amr(&[], 7).unwrap(), AMR_MAGIC);
        // A second of silence: with DTX, SID and NO_DATA records after the hangover; without,
        // a speech frame of the mode every 20 ms.
        let silence = vec![0i16; 8000];
        let types = |file: &[u8]| {
            let mut at = AMR_MAGIC.len();
            let mut out = Vec::new();
            while at < file.len() {
                let ft = usize::from((file[at] >> 3) & 0x0f);
                out.push(ft);
                at += 1 + wxmedia_amr::PAYLOAD_LEN[ft].unwrap();
            }
            out
        };
        let dtx = types(&encode_amr_dtx(&silence, 7, true).unwrap());
        assert_eq!(dtx.len(), 50);
        assert!(dtx.contains(&8) && dtx.contains(&15), "{dtx:?}");
        assert_eq!(types(&encode_amr(&silence, 7).unwrap()), vec![7; 50]);
        assert_eq!(encode_amr(&samples, 8).unwrap_err().code(), "BAD_OPTION");
    }
}
