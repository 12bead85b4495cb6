//! AMR-NB (3GPP TS 26.071), the speech codec of WeChat's ordinary voice: a fixed-point port of
//! the 3GPP TS 26.073 reference as opencore-amr carries it, bit-exact with opencore-amrnb.
//!
//! - [`basic`]: the basic operators (G.191's `add`, `mult`, `L_mac`, `norm_s`, `div_s`, …) with
//!   the reference's saturation, shared by both halves;
//! - [`Decoder`]: one frame of the RFC 4867 §5 storage format (`#!AMR\n` files) to 160 samples
//!   at 8 kHz, for every mode, SID and NO_DATA frames, the way opencore-amrnb decodes a file;
//! - [`Encoder`]: 160 samples to one storage record in any of the eight modes, with optional
//!   DTX, as opencore-amrnb encodes.
//!
//! Plain arithmetic in this crate wraps, as the reference's C does where it does not saturate.
//!
//! The port follows opencore-amr's C (Apache-2.0, PacketVideo; the 3GPP reference's code by
//! the 3GPP Organizational Partners): see `NOTICE` beside `Cargo.toml`.

// A transcription of the reference's fixed-point C: reference names, index loops and long
// functions are deliberate.
#![allow(
    clippy::too_many_arguments,
    clippy::needless_range_loop,
    clippy::manual_memcpy,
    clippy::collapsible_else_if,
    clippy::collapsible_if,
    clippy::new_without_default
)]

pub mod basic;
mod dec;
mod dsp;
mod enc;
mod tables;

pub use dec::{Decoder, FrameError};
pub use enc::Encoder;

/// Samples in a 20 ms frame at 8 kHz.
pub const L_FRAME: usize = 160;
/// Samples in a subframe; four to a frame.
pub(crate) const L_SUBFR: usize = 40;
/// LP order.
pub(crate) const M: usize = 10;
/// LP order plus one: the length of one subframe's coefficients.
pub(crate) const MP1: usize = M + 1;
/// Minimum pitch lag, every mode but 12.2 kbit/s.
pub(crate) const PIT_MIN: i16 = 20;
/// Minimum pitch lag at 12.2 kbit/s.
pub(crate) const PIT_MIN_MR122: i16 = 18;
/// Maximum pitch lag.
pub(crate) const PIT_MAX: i16 = 143;
/// Half the interpolation filter's length, plus one.
pub(crate) const L_INTERPOL: usize = 11;
/// Minimum LSF distance.
pub(crate) const LSF_GAP: i16 = 205;

/// The storage format's magic number, the first six bytes of a `.amr` file.
pub const AMR_MAGIC: &[u8] = b"#!AMR\n";

/// An AMR-NB codec mode (bit rate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Mode {
    /// 4.75 kbit/s.
    MR475 = 0,
    /// 5.15 kbit/s.
    MR515,
    /// 5.9 kbit/s.
    MR59,
    /// 6.7 kbit/s.
    MR67,
    /// 7.4 kbit/s.
    MR74,
    /// 7.95 kbit/s.
    MR795,
    /// 10.2 kbit/s.
    MR102,
    /// 12.2 kbit/s, the default.
    #[default]
    MR122,
}

impl Mode {
    /// The mode with this index (the frame type of its storage records), 0..=7.
    pub fn from_index(i: u8) -> Option<Mode> {
        Some(match i {
            0 => Mode::MR475,
            1 => Mode::MR515,
            2 => Mode::MR59,
            3 => Mode::MR67,
            4 => Mode::MR74,
            5 => Mode::MR795,
            6 => Mode::MR102,
            7 => Mode::MR122,
            _ => return None,
        })
    }

    /// The mode's index, 0..=7.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Payload octets after the header byte in a storage record, by frame type: modes 0..=7, SID
/// (8), then 9..=14 (`None`: other codecs' SID and reserved types, whose length this crate does
/// not take on) and NO_DATA (15).
pub const PAYLOAD_LEN: [Option<usize>; 16] = [
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

/// The whole length of the storage record that starts with this header byte (header
/// included), or `None` for a frame type this crate does not decode.
pub fn record_len(header: u8) -> Option<usize> {
    PAYLOAD_LEN[usize::from((header >> 3) & 0x0f)].map(|n| n + 1)
}
