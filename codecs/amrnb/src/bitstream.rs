//! AMR-NB bitstream unpacking, 3GPP TS 26.101.
//!
//! Payload bits to parameter values. Two steps, as in the AMR-WB decoder of `rvoip-codec-core`:
//! unsort the perceptually-ordered payload into codec order, then walk the
//! fields.
//!
//! # Why this is simpler than the wideband version
//!
//! AMR-WB has essentially one frame layout with a few mode-dependent field
//! widths, so its walk is written out as code. AMR-NB has eight genuinely
//! different layouts, and the reference expresses each as a flat list of
//! parameter widths rather than as branching code — so this reads a table.
//!
//! That is not a stylistic difference. A table-driven walk cannot get a field
//! *order* wrong the way a hand-written one can, which is exactly the class of
//! bug that cost two rounds of debugging on the wideband side.

use super::tables::{
    BITNO_102, BITNO_122, BITNO_475, BITNO_515, BITNO_59, BITNO_67, BITNO_74, BITNO_795, BITNO_SID,
    SORT_102, SORT_122, SORT_475, SORT_515, SORT_59, SORT_67, SORT_74, SORT_795, SORT_SID,
};

/// Payload bit order for a mode.
const fn sort_table(mode_index: u8) -> &'static [u16] {
    match mode_index {
        0 => &SORT_475,
        1 => &SORT_515,
        2 => &SORT_59,
        3 => &SORT_67,
        4 => &SORT_74,
        5 => &SORT_795,
        6 => &SORT_102,
        7 => &SORT_122,
        // Every index above 7 is comfort noise as far as bit ordering goes.
        _ => &SORT_SID,
    }
}

/// Parameter widths for a mode, in the order the decoder reads them.
#[must_use]
pub const fn parameter_widths(mode_index: u8) -> &'static [usize] {
    match mode_index {
        0 => &BITNO_475,
        1 => &BITNO_515,
        2 => &BITNO_59,
        3 => &BITNO_67,
        4 => &BITNO_74,
        5 => &BITNO_795,
        6 => &BITNO_102,
        7 => &BITNO_122,
        _ => &BITNO_SID,
    }
}

/// The most payload bits a frame carries (12.2 kbit/s).
const MAX_BITS: usize = 244;

/// Unsort a frame's payload into codec bit order, one bit per byte, in the
/// first `sort_table(mode_index).len()` entries.
///
/// `payload` holds the frame's speech bits left-aligned, exactly as RFC 4867
/// carries them; trailing bits of the final octet are ignored.
///
/// Returns `None` if `payload` is too short for the mode.
fn unpack(mode_index: u8, payload: &[u8]) -> Option<[u8; MAX_BITS]> {
    let sort = sort_table(mode_index);
    if payload.len() * 8 < sort.len() {
        return None;
    }
    let mut bits = [0u8; MAX_BITS];
    for (targets, &octet) in sort.chunks(8).zip(payload) {
        for (k, &target) in targets.iter().enumerate() {
            bits[usize::from(target)] = (octet >> (7 - k)) & 1;
        }
    }
    Some(bits)
}

/// Read a frame's parameters from unsorted codec bits.
///
/// Each parameter is a fixed-width field read most-significant bit first, in
/// the order [`parameter_widths`] gives.
///
/// Returns `None` if the bits run out, which means the tables and the payload
/// disagree about the mode.
fn read_parameters(mode_index: u8, bits: &[u8]) -> Option<Vec<u16>> {
    let widths = parameter_widths(mode_index);
    let mut out = Vec::with_capacity(widths.len());
    let mut rest = bits;

    for &width in widths {
        let (field, tail) = rest.split_at_checked(width)?;
        out.push(
            field
                .iter()
                .fold(0u16, |value, &bit| (value << 1) | u16::from(bit)),
        );
        rest = tail;
    }

    // Conservation: the layout must consume the frame exactly. A width table
    // that is right in total but wrong in distribution would still pass a
    // length check, so this is necessary but not sufficient — the parameter
    // values are compared against the reference too.
    if !rest.is_empty() {
        return None;
    }
    Some(out)
}

/// Unsort and read in one step.
#[must_use]
pub fn parse(mode_index: u8, payload: &[u8]) -> Option<Vec<u16>> {
    let bits = unpack(mode_index, payload)?;
    read_parameters(mode_index, &bits[..sort_table(mode_index).len()])
}

/// A SID frame's two header fields — the bits after the 35 quantised ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SidHeader {
    /// The SID type indicator. `false` is `SID_FIRST`, which carries no
    /// description; `true` is `SID_UPDATE`, which does.
    pub update: bool,
    /// Which speech mode the encoder had been using, 0..=7.
    pub mode_index: u8,
}

/// Read a SID frame's header, `UnpackBits`'s tail.
///
/// A narrowband SID payload is 39 bits: 35 quantised ones, then the STI bit,
/// then a three-bit mode indication. Returns `None` if the payload is shorter
/// than five octets.
///
/// **The mode indication is least-significant bit first**, and nothing else in
/// this codec is. The reference spells the reversal out as
/// `((m & 4) >> 2) | (m & 2) | ((m & 1) << 2)` after reading the three bits in
/// the usual order; reading them the usual way and stopping gives mode 1 for
/// mode 4 and mode 3 for mode 6, which are legal modes, so the error surfaces
/// only as a slightly wrong comfort-noise level.
#[must_use]
pub fn parse_sid_header(payload: &[u8]) -> Option<SidHeader> {
    if payload.len() < 5 {
        return None;
    }
    let bit = |i: usize| (payload[i / 8] >> (7 - (i % 8))) & 1;

    let update = bit(35) != 0;
    let reversed = (bit(36) << 2) | (bit(37) << 1) | bit(38);
    let mode_index = ((reversed & 4) >> 2) | (reversed & 2) | ((reversed & 1) << 2);

    Some(SidHeader { update, mode_index })
}
