//! The AMR-NB speech decoder: a fixed-point port of the 3GPP TS 26.073 reference decoder
//! (`dec_amr.c`, `sp_dec.c`, the post-filter and DTX comfort noise), bit-exact with it and so
//! with opencore-amrnb.
//!
//! Taken from the `rvoip-codec-core` crate 0.4.0 (<https://github.com/eisenzopf/rvoip>,
//! `src/codecs/amr/nb/` and `src/fixed_point/`), MIT licence, copyright the RVOIP authors; see
//! `LICENSE` beside this file. Only what decoding needs is kept (no encoder, no AMR-WB, no
//! RTP/SDP framing), and the hot loops are rewritten for speed with the same results.

// A transcription of the reference's fixed-point C: wrapping casts, reference names and long
// functions are deliberate.
#![allow(
    clippy::too_many_arguments,
    clippy::needless_range_loop,
    clippy::manual_memcpy,
    clippy::collapsible_else_if,
    clippy::collapsible_if,
    clippy::enum_variant_names
)]

pub mod basicop;
pub mod bitstream;
pub mod cn;
pub mod codebook;
pub mod conceal;
pub mod decoder;
pub mod decoder_tables;
pub mod detect;
pub mod dtx;
pub mod gain;
pub mod lag;
pub mod lsp;
pub mod math;
pub mod postfilter;
pub mod synthesis;
pub mod tables;

/// Frame size in samples, 20 ms at 8 kHz.
pub const L_FRAME: usize = 160;

/// Subframe size in samples; four to a frame.
pub const L_SUBFR: usize = 40;

/// Minimum pitch lag for every rate except 12.2 kbit/s.
pub const PIT_MIN: i16 = 20;

/// Minimum pitch lag at 12.2 kbit/s, which resolves the lag more finely and so
/// can afford to reach a shorter period.
pub const PIT_MIN_MR122: i16 = 18;

/// Maximum pitch lag, all rates.
pub const PIT_MAX: i16 = 143;

/// Length of the adaptive codebook's interpolation filter, one side plus one.
pub const L_INTERPOL: usize = 11;

/// Maximum pitch-sharpening factor, 0.7947 in Q14.
pub const SHARPMAX: i16 = 13017;

/// Tilt-compensation factor for the post-filter, 0.8 in Q15.
pub const MU: i16 = 26214;

/// Gain-smoothing factor for the post-filter's AGC, 0.9 in Q15.
pub const AGC_FAC: i16 = 29491;
