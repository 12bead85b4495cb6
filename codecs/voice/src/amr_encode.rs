//! **The AMR-NB encoder's seam.** [`encode_amr`] is the one function every AMR encoding goes
//! through ([`crate::encode::encode_amr_audio`], the npm `encodeVoice(…, { to: 'amr' })`): 8 kHz
//! mono 16-bit samples and a mode in, an `#!AMR\n` storage file out.
//!
//! The encoder itself (a port of the 3GPP TS 26.073 reference, bit-exact with opencore-amrnb) is
//! not in this version; until it plugs in here, `encode_amr` refuses with
//! [`VoiceError::EncoderUnavailable`] rather than pretend.

use crate::VoiceError;

/// Encodes 8 kHz mono 16-bit samples as an AMR-NB storage file (`#!AMR\n`, then one record per
/// 20 ms frame) in `mode` (0 = MR475 … 7 = MR122), DTX off.
///
/// For now always [`VoiceError::EncoderUnavailable`] ("AMR encoding is not available yet").
pub fn encode_amr(samples_8k_mono: &[i16], mode: u8) -> Result<Vec<u8>, VoiceError> {
    let _ = (samples_8k_mono, mode);
    Err(VoiceError::EncoderUnavailable { encoder: "AMR" })
}
