//! The AMR-NB speech decoder behind `wxmedia::voice`: a fixed-point port of the 3GPP TS 26.073
//! reference decoder (`dec_amr.c`, `sp_dec.c`, the post-filter and DTX comfort noise),
//! bit-exact with it and so with opencore-amrnb.
//!
//! Taken from the `rvoip-codec-core` crate 0.4.0 (<https://github.com/eisenzopf/rvoip>,
//! `src/codecs/amr/nb/` and `src/fixed_point/`), MIT licence, copyright the RVOIP authors; see
//! `LICENSE` beside `Cargo.toml`. Only what decoding needs is kept (no encoder, no AMR-WB, no
//! RTP/SDP framing), and the hot loops are rewritten for speed with the same results.
//!
//! The API is what `wxmedia::voice::amr` walks a storage file with: [`parse`] and
//! [`parse_sid_header`] unpack a frame's bits, [`Decoder::decode_typed`] decodes it by its
//! [`RxFrameType`].

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

mod basicop;
mod bitstream;
mod cn;
mod codebook;
mod conceal;
mod decoder;
mod decoder_tables;
mod detect;
mod dtx;
mod gain;
mod lag;
mod lsp;
mod math;
mod postfilter;
mod synthesis;
mod tables;

pub use bitstream::{parse, parse_sid_header, SidHeader};
pub use decoder::Decoder;
pub use dtx::RxFrameType;

/// Frame size in samples, 20 ms at 8 kHz.
const L_FRAME: usize = 160;

/// Subframe size in samples; four to a frame.
const L_SUBFR: usize = 40;

/// Mode index of 7.40 kbit/s.
const MR74: u8 = 4;

/// Mode index of 7.95 kbit/s: a six-bit delta lag, separately quantised gains, its own phase
/// dispersion responses.
const MR795: u8 = 5;

/// Mode index of 10.2 kbit/s: seven codebook parameters rather than two.
const MR102: u8 = 6;

/// Mode index of 12.2 kbit/s: one-sixth lag resolution, a mid-frame LSP set, separate gains.
const MR122: u8 = 7;

/// Minimum pitch lag for every rate except 12.2 kbit/s.
const PIT_MIN: i16 = 20;

/// Minimum pitch lag at 12.2 kbit/s, which resolves the lag more finely and so
/// can afford to reach a shorter period.
const PIT_MIN_MR122: i16 = 18;

/// Maximum pitch lag, all rates.
const PIT_MAX: i16 = 143;

/// Length of the adaptive codebook's interpolation filter, one side plus one.
const L_INTERPOL: usize = 11;

/// Maximum pitch-sharpening factor, 0.7947 in Q14.
const SHARPMAX: i16 = 13017;

/// Tilt-compensation factor for the post-filter, 0.8 in Q15.
const MU: i16 = 26214;

/// Gain-smoothing factor for the post-filter's AGC, 0.9 in Q15.
const AGC_FAC: i16 = 29491;
