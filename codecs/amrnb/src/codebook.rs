//! AMR-NB's six algebraic (fixed) codebooks, one family per rate.
//!
//! Implements TS 26.073 `d2_9pf.c`, `d2_11pf.c`, `d3_14pf.c`, `d4_17pf.c`,
//! `d8_31pf.c` and `d1035pf.c`, plus the pitch-sharpening pass `dec_amr.c`
//! runs over the decoded codevector before the gain stage.
//!
//! Validated bit-exactly against the `cb2i40_9`, `cb2i40_11`, `cb3i40_14`,
//! `cb4i40_17`, `cb8i40_31` and `cb10i40_35` sections of
//! `testdata/nb_stages.txt`, which `tools/amrnb_stage_oracle.c` produced by
//! calling TS 26.073's own six decoders.
//!
//! # Six codebooks, not one parameterised codebook
//!
//! Each rate gets its own pulse count and its own way of packing positions, and
//! the six differ in ways that a shared implementation would have to smuggle
//! back in as flags:
//!
//! - **Amplitude.** 4.75 through 7.95 write `+8191` for a positive pulse and
//!   `-8192` for a negative one — deliberately asymmetric. 10.2 writes `±8191`.
//!   12.2 writes `±4096`, because its codevector is Q12 where every other rate's
//!   is Q13.
//! - **Sign polarity.** For 4.75 through 7.95 a sign bit of 1 means *positive*.
//!   For 10.2 and 12.2 a sign bit of 0 means positive. Inverting this yields
//!   audio that is loud and wrong rather than obviously broken.
//! - **Assignment versus accumulation.** The four narrow codebooks *store* each
//!   pulse, so two pulses landing on one sample leave one pulse. 10.2 and 12.2
//!   store the first pulse of a track and *add* the second, so a collision
//!   doubles the amplitude — the only way their codevectors reach 2.0.
//! - **Gray coding.** Only 7.4/7.95 and 12.2 gray-decode their position fields.
//!
//! # Q-formats
//!
//! Codevectors are Q13 for every rate except 12.2, which is Q12. The
//! sharpening factor is Q15, so `mult(code, factor)` stays in the codevector's
//! own Q and the accumulation is homogeneous.
//!
//! # Untrusted input
//!
//! These parameters arrive from the network. Several fields have a legal range
//! narrower than their bit width — 10.2 kbit/s packs 125x8 combinations into
//! ten bits and 25x4 into seven — and the reference C computes a position index
//! past the end of a 40-sample codevector when fed a value wider still. Handed
//! all sixteen bits, its seven-bit index decodes pulse 7 to slot 79, which
//! writes 279 samples past the codevector. That is a stack overwrite in C and
//! would be a panic here, so there are two guards:
//!
//! 1. **Every parameter is masked to its field width on entry** (`field`). The
//!    bit unpacker cannot emit a value wider than the field it read, so this is
//!    a no-op on any real frame; it is what bounds 10.2's third compressed
//!    index for a hand-built or corrupted parameter vector.
//! 2. **A decoded position is clamped into the subframe** (`sample`) instead of
//!    indexing out of range. On a legal frame this is unreachable — 10.2's
//!    reference clamp on `MSBs` and the masking above between them keep every
//!    slot inside its track.
//!
//! The tests carry the argument rather than the comments: the 10.2 position
//! decode is checked exhaustively over its entire 10-/10-/7-bit domain, masking
//! is checked to be a no-op on every fixture case, and every decoder is called
//! with all-ones parameters.

use super::basicop::arith::{add, extract_l, mult, negate, sub};
use super::basicop::arith32::l_mult;
use super::basicop::shift::{l_shr, shl, shr};
use super::basicop::types::{DspContext, Word16};
use super::decoder_tables::{DGRAY, START_POS_2I40_9};
use super::{L_SUBFR, SHARPMAX};

/// One subframe's fixed-codebook contribution.
///
/// Q13 for every rate except 12.2 kbit/s, which is Q12.
pub type Codevector = [Word16; L_SUBFR];

/// Pulse amplitude for the 9-, 11-, 14- and 17-bit codebooks.
///
/// The asymmetry is in the reference and is not a typo: `+1.0` is one LSB short
/// of full scale while `-1.0` is exact. "Fixing" it changes the codevector.
const POSITIVE_PULSE: Word16 = Word16(8191);
/// Negative pulse amplitude for the 9-, 11-, 14- and 17-bit codebooks.
const NEGATIVE_PULSE: Word16 = Word16(-8192);

/// Pulse amplitude at 10.2 kbit/s, symmetric where the narrower codebooks are
/// not.
const PULSE_MR102: Word16 = Word16(8191);
/// Negative pulse amplitude at 10.2 kbit/s.
const PULSE_MR102_NEG: Word16 = Word16(-8191);

/// Pulse amplitude at 12.2 kbit/s. Half the others because the codevector is
/// Q12, not Q13 — the one place where getting the Q wrong scales the whole
/// fixed-codebook contribution by two.
const PULSE_MR122: Word16 = Word16(4096);
/// Negative pulse amplitude at 12.2 kbit/s.
const PULSE_MR122_NEG: Word16 = Word16(-4096);

/// Track stride at 10.2 kbit/s: four interleaved tracks of ten slots.
const STEP_MR102: i16 = 4;
/// Number of tracks at 10.2 kbit/s.
const TRACKS_MR102: usize = 4;
/// Track stride everywhere else: five interleaved tracks of eight slots.
const STEP: i16 = 5;
/// Number of tracks at 12.2 kbit/s.
const TRACKS_MR122: usize = 5;

/// `1/25` in Q15, as the reference spells the division.
const RECIP_25: Word16 = Word16(1311);
/// `1/5` in Q15.
const RECIP_5: Word16 = Word16(6554);

/// The fixed-codebook parameters one subframe carries, by rate family.
///
/// Six variants rather than one struct with optional fields, because the six
/// codebooks genuinely take different parameters: only 4.75/5.15 need the
/// subframe number, and the two widest rates receive a vector of sub-indices
/// instead of a packed position word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedCodebook {
    /// 4.75 and 5.15 kbit/s: 7 position bits, 2 sign bits, and the subframe
    /// number — the track pairs rotate across the four subframes, which is why
    /// this is the only family that needs to know where it is in the frame.
    TwoPulses9Bit {
        /// Subframe number within the frame, 0..=3.
        subframe: u8,
        /// Two sign bits, LSB first.
        signs: u16,
        /// Seven position bits.
        positions: u16,
    },
    /// 5.90 kbit/s: 9 position bits, 2 sign bits.
    TwoPulses11Bit {
        /// Two sign bits, LSB first.
        signs: u16,
        /// Nine position bits.
        positions: u16,
    },
    /// 6.70 kbit/s: 11 position bits, 3 sign bits.
    ThreePulses14Bit {
        /// Three sign bits, LSB first.
        signs: u16,
        /// Eleven position bits.
        positions: u16,
    },
    /// 7.40 and 7.95 kbit/s: 13 position bits, 4 sign bits, gray-coded.
    FourPulses17Bit {
        /// Four sign bits, LSB first.
        signs: u16,
        /// Thirteen position bits.
        positions: u16,
    },
    /// 10.2 kbit/s: four 1-bit signs then three compressed position words of
    /// 10, 10 and 7 bits.
    EightPulses31Bit([u16; 7]),
    /// 12.2 kbit/s: five 4-bit fields (three position bits plus a sign) then
    /// five 3-bit position-only fields.
    TenPulses35Bit([u16; 10]),
}

impl FixedCodebook {
    /// Decode this subframe's codevector.
    ///
    /// Q13, except [`FixedCodebook::TenPulses35Bit`] which is Q12.
    #[must_use]
    pub fn decode(self, ctx: &mut DspContext) -> Codevector {
        match self {
            Self::TwoPulses9Bit {
                subframe,
                signs,
                positions,
            } => decode_two_pulses_9bit(ctx, subframe, signs, positions),
            Self::TwoPulses11Bit { signs, positions } => {
                decode_two_pulses_11bit(ctx, signs, positions)
            }
            Self::ThreePulses14Bit { signs, positions } => {
                decode_three_pulses_14bit(ctx, signs, positions)
            }
            Self::FourPulses17Bit { signs, positions } => {
                decode_four_pulses_17bit(ctx, signs, positions)
            }
            Self::EightPulses31Bit(params) => decode_eight_pulses_31bit(ctx, &params),
            Self::TenPulses35Bit(params) => decode_ten_pulses_35bit(ctx, &params),
        }
    }
}

/// Take the low `bits` of a received parameter.
///
/// The first of the two untrusted-input guards. The bit unpacker cannot emit a
/// value wider than the field it read, so on a real frame this changes nothing.
/// Where it earns its place is 10.2 kbit/s' seven-bit position word: that one
/// *does* keep consuming whatever bits it is handed, and unmasked sixteen bits
/// decode pulse 7 to slot 79 instead of at most 9.
#[inline]
fn field(value: u16, bits: u32) -> Word16 {
    debug_assert!(
        bits <= 13,
        "the widest AMR-NB parameter field is thirteen bits"
    );
    // Plain arithmetic: a bit field is a bit field, not a fixed-point quantity.
    let masked = value & ((1u16 << bits) - 1);
    // Thirteen bits cannot reach the sign bit, so the conversion never fails;
    // the fallback keeps the guard total rather than being reachable.
    Word16(i16::try_from(masked).unwrap_or(0))
}

/// A decoded pulse position as a subframe sample index.
///
/// The second untrusted-input guard. Every position the six decoders can
/// produce from a masked parameter is already inside the subframe — the tests
/// check that exhaustively for 10.2 and by construction for the rest — so this
/// clamp is unreachable. It exists because the alternative, on a position that
/// somehow escaped, is a panic in the middle of a media path — and one pulse
/// pinned to the end of a corrupt subframe is a better failure than a dropped
/// call.
#[inline]
fn sample(position: Word16) -> usize {
    usize::from(position.0.max(0).unsigned_abs()).min(L_SUBFR - 1)
}

/// `i * 5`, written as `add(i, shl(i, 2))` the way the four narrow codebooks
/// write it.
#[inline]
fn times_five(ctx: &mut DspContext, i: Word16) -> Word16 {
    let quadruple = shl(ctx, i, 2);
    add(ctx, i, quadruple)
}

/// `i * k` via the reference's `extract_l(L_shr(L_mult(i, k), 1))` idiom.
///
/// `L_mult` doubles as it multiplies and `L_shr` by one undoes exactly that, so
/// this is an exact integer product with no rounding anywhere in it. The two
/// wide codebooks spell their position scaling this way where the narrow ones
/// use shift-and-add; both are exact, and each is kept as its own file writes it.
#[inline]
fn exact_product(ctx: &mut DspContext, i: Word16, k: i16) -> Word16 {
    let doubled = l_mult(ctx, i, Word16(k));
    extract_l(l_shr(ctx, doubled, 1))
}

/// Zero a codevector and store one signed pulse per position, consuming the
/// sign word LSB first.
///
/// Shared by the 9-, 11-, 14- and 17-bit codebooks, which differ only in how
/// they derive the positions. The store is an *assignment*: at 5.90 the two
/// pulses can share a track and therefore a sample, and the second pulse then
/// replaces the first rather than doubling it.
fn place_pulses(ctx: &mut DspContext, signs: Word16, positions: &[Word16]) -> Codevector {
    let mut code = [Word16(0); L_SUBFR];
    let mut signs = signs;

    for &position in positions {
        // Plain C `&` on the sign word, then a basic-operator shift.
        let positive = (signs.0 & 1) != 0;
        signs = shr(ctx, signs, 1);
        code[sample(position)] = if positive {
            POSITIVE_PULSE
        } else {
            NEGATIVE_PULSE
        };
    }

    code
}

/// Two pulses in nine bits — 4.75 and 5.15 kbit/s, TS 26.073
/// `decode_2i40_9bits`.
///
/// `subframe` is the subframe's index in the frame, 0..=3; the two tracks a
/// pulse pair may use rotate with it. `signs` carries two bits, LSB first, with
/// 1 meaning a positive pulse. `positions` carries seven bits: two 3-bit slot
/// indices and, in bit 6, which of the two track pairs this subframe uses.
///
/// Returns a Q13 codevector.
#[must_use]
pub fn decode_two_pulses_9bit(
    ctx: &mut DspContext,
    subframe: u8,
    signs: u16,
    positions: u16,
) -> Codevector {
    let index = field(positions, 7);
    // The pair selector is the field's top bit; plain C `&` with 64, then a
    // basic-operator shift, as the reference has it.
    let pair = shr(ctx, Word16(index.0 & 64), 6);
    // A subframe number outside 0..=3 cannot come from the decoder's own loop
    // counter; masking keeps the table subscript in range regardless.
    let subframe = Word16(i16::from(subframe & 3));
    let pair_base = shl(ctx, pair, 3);
    let subframe_base = shl(ctx, subframe, 1);
    let base = add(ctx, pair_base, subframe_base);

    let slot = Word16(index.0 & 7);
    let scaled = times_five(ctx, slot);
    let first = add(ctx, scaled, start_position(base));

    let index = shr(ctx, index, 3);
    let slot = Word16(index.0 & 7);
    // The reference builds this subscript as a separate `add` on the previous
    // one rather than as `j*8 + subNr*2 + 1` in one go.
    let next = add(ctx, base, Word16(1));
    let scaled = times_five(ctx, slot);
    let second = add(ctx, scaled, start_position(next));

    place_pulses(ctx, field(signs, 2), &[first, second])
}

/// Track start offset for the 9-bit codebook, by `pair * 8 + subframe * 2 + p`.
///
/// The subscript is bounded by construction — the pair is one bit and the
/// subframe is masked to two — so the `min` here is dead, and kept only so that
/// a table regenerated at the wrong size cannot turn into a panic.
#[inline]
fn start_position(subscript: Word16) -> Word16 {
    let at = usize::from(subscript.0.max(0).unsigned_abs());
    Word16(START_POS_2I40_9[at.min(START_POS_2I40_9.len() - 1)])
}

/// A pulse on one of a pair of tracks, `base` or `base + 2`: the track selector is the bottom bit
/// of `index` and the 3-bit slot the three above it. Returns the position and `index` with those
/// four bits shifted out (the reference's `i = i*5 + base + j*2` steps, operator by operator).
fn paired_track_pulse(ctx: &mut DspContext, index: Word16, base: Word16) -> (Word16, Word16) {
    let track = Word16(index.0 & 1);
    let index = shr(ctx, index, 1);
    let slot = Word16(index.0 & 7);
    let scaled = times_five(ctx, slot);
    let offset = add(ctx, scaled, base);
    let doubled = shl(ctx, track, 1);
    (add(ctx, offset, doubled), shr(ctx, index, 3))
}

/// Two pulses in eleven bits — 5.90 kbit/s, TS 26.073 `decode_2i40_11bits`.
///
/// `signs` carries two bits, LSB first, 1 meaning positive. `positions` carries
/// nine: a 1-bit track selector and a 3-bit slot for the first pulse, then a
/// 2-bit track selector and a 3-bit slot for the second.
///
/// The two pulses can land on the same sample — the first pulse's track offset
/// is 1 or 3 and the second's is one of 0, 1, 2, 4, so both can be 1. The store
/// overwrites, so the amplitude does not double.
///
/// Returns a Q13 codevector.
#[must_use]
pub fn decode_two_pulses_11bit(ctx: &mut DspContext, signs: u16, positions: u16) -> Codevector {
    let index = field(positions, 9);

    // Offset 1 or 3: the selector contributes two, not one.
    let (first, index) = paired_track_pulse(ctx, index, Word16(1));

    let track = Word16(index.0 & 3);
    let index = shr(ctx, index, 2);
    let slot = Word16(index.0 & 7);
    // Selector 3 means track offset 4, not 3 — the four offsets are 0, 1, 2, 4
    // because offset 3 belongs to no pair here.
    let selects_last = sub(ctx, track, Word16(3)).0 == 0;
    let scaled = times_five(ctx, slot);
    let second = if selects_last {
        add(ctx, scaled, Word16(4))
    } else {
        add(ctx, scaled, track)
    };

    place_pulses(ctx, field(signs, 2), &[first, second])
}

/// Three pulses in fourteen bits — 6.70 kbit/s, TS 26.073
/// `decode_3i40_14bits`.
///
/// `signs` carries three bits, LSB first, 1 meaning positive. `positions`
/// carries eleven: a 3-bit slot for a pulse fixed to track 0, then a selector
/// and slot for a pulse on track 1 or 3, then the same for track 2 or 4.
///
/// The three offset sets are disjoint, so the three positions always differ.
///
/// Returns a Q13 codevector.
#[must_use]
pub fn decode_three_pulses_14bit(ctx: &mut DspContext, signs: u16, positions: u16) -> Codevector {
    let index = field(positions, 11);

    let slot = Word16(index.0 & 7);
    let first = times_five(ctx, slot);

    let index = shr(ctx, index, 3);
    let (second, index) = paired_track_pulse(ctx, index, Word16(1));
    let (third, _) = paired_track_pulse(ctx, index, Word16(2));

    place_pulses(ctx, field(signs, 3), &[first, second, third])
}

/// Four pulses in seventeen bits — 7.40 and 7.95 kbit/s, TS 26.073
/// `decode_4i40_17bits`.
///
/// `signs` carries four bits, LSB first, 1 meaning positive. `positions`
/// carries thirteen: four gray-coded 3-bit slots plus, at bit 9, a raw bit that
/// moves the fourth pulse between tracks 3 and 4. That bit is *not* gray-coded;
/// all four slot fields are.
///
/// Returns a Q13 codevector.
#[must_use]
pub fn decode_four_pulses_17bit(ctx: &mut DspContext, signs: u16, positions: u16) -> Codevector {
    let index = field(positions, 13);

    let slot = ungray(index);
    let first = times_five(ctx, slot);

    let index = shr(ctx, index, 3);
    let slot = ungray(index);
    // Track 1. The reference's comment here says `pos1 = i*5+1` for this pulse
    // and `pos2 = i*5+1` for the next; the second comment is wrong and the code
    // adds two. The code is what conformance is measured against.
    let scaled = times_five(ctx, slot);
    let second = add(ctx, scaled, Word16(1));

    let index = shr(ctx, index, 3);
    let slot = ungray(index);
    let scaled = times_five(ctx, slot);
    let third = add(ctx, scaled, Word16(2));

    let index = shr(ctx, index, 3);
    let track = Word16(index.0 & 1);
    let index = shr(ctx, index, 1);
    let slot = ungray(index);
    let scaled = times_five(ctx, slot);
    let offset = add(ctx, scaled, Word16(3));
    let fourth = add(ctx, offset, track);

    place_pulses(ctx, field(signs, 4), &[first, second, third, fourth])
}

/// Gray-decode the low three bits of a position field.
///
/// Only 7.4/7.95 and 12.2 send gray-coded slots, and within 7.4/7.95 only the
/// four 3-bit slot fields — the extra 1-bit track selector is raw. The map is
/// its own inverse in neither direction, so decoding with the *forward* table
/// (which differs from this one in two entries) yields a legal codevector at the
/// wrong slots; `the_gray_map_and_its_inverse_are_inverses` is what catches that.
#[inline]
fn ungray(index: Word16) -> Word16 {
    // Plain C `&`, and a plain lookup whose subscript the mask already bounds.
    Word16(DGRAY[usize::from((index.0 & 7).unsigned_abs())])
}

/// Eight pulses in thirty-one bits — 10.2 kbit/s, TS 26.073
/// `dec_8i40_31bits`.
///
/// `params` is the seven received fields: four 1-bit signs, one per track, then
/// three compressed position words of 10, 10 and 7 bits. A sign bit of **0**
/// means a positive pulse here — the opposite of the narrower codebooks.
///
/// Only four signs are sent for eight pulses. The second pulse of a track takes
/// the first's sign, negated when the encoder placed it *before* the first;
/// that ordering is the channel over which the missing four bits travel.
///
/// Returns a Q13 codevector whose samples are `0`, `±8191`, or `±16382` where
/// both pulses of a track landed on one sample.
#[must_use]
pub fn decode_eight_pulses_31bit(ctx: &mut DspContext, params: &[u16; 7]) -> Codevector {
    let mut code = [Word16(0); L_SUBFR];
    let (signs, slots) = decompress_code(ctx, params);

    for track in 0..TRACKS_MR102 {
        let offset = Word16(i16::try_from(track).unwrap_or(0));

        let scaled = exact_product(ctx, slots[track], STEP_MR102);
        let first = add(ctx, scaled, offset);
        let mut sign = if signs[track] {
            PULSE_MR102
        } else {
            PULSE_MR102_NEG
        };
        code[sample(first)] = sign;

        let scaled = exact_product(ctx, slots[track + 4], STEP_MR102);
        let second = add(ctx, scaled, offset);
        if sub(ctx, second, first).0 < 0 {
            sign = negate(ctx, sign);
        }
        // Accumulate, unlike the narrow codebooks. The negation above fires only
        // on a *strictly* earlier second pulse, so two pulses on one sample keep
        // the same sign: this doubles and never cancels.
        let at = sample(second);
        code[at] = add(ctx, code[at], sign);
    }

    code
}

/// Unpack 10.2 kbit/s' seven received fields into four track signs and eight
/// slot indices.
///
/// The four `bool`s are "this track's first pulse is positive". The eight slots
/// are 0..=9 each, indexed by pulse: pulse `p` sits on track `p % 4`.
fn decompress_code(ctx: &mut DspContext, params: &[u16; 7]) -> ([bool; 4], [Word16; 8]) {
    // 0 is positive, 1 is negative — inverted relative to every narrower rate.
    let signs = [
        field(params[0], 1).0 == 0,
        field(params[1], 1).0 == 0,
        field(params[2], 1).0 == 0,
        field(params[3], 1).0 == 0,
    ];

    let mut slots = [Word16(0); 8];

    // The compression groups *pulses*, not tracks — pulses 0/4/1, then 2/6/5,
    // then 3/7, where pulse p sits on track p % 4. Three pulses share a ten-bit
    // word so that each gets one bit down in the word's three protected LSBs,
    // and a flip of one of those moves its pulse by a single slot rather than
    // across the subframe.
    let word = field(params[4], 10);
    let msbs = shr(ctx, word, 3);
    let (a, b, c) = decompress_triple(ctx, msbs, Word16(word.0 & 7));
    slots[0] = a;
    slots[4] = b;
    slots[1] = c;

    let word = field(params[5], 10);
    let msbs = shr(ctx, word, 3);
    let (a, b, c) = decompress_triple(ctx, msbs, Word16(word.0 & 7));
    slots[2] = a;
    slots[6] = b;
    slots[5] = c;

    let word = field(params[6], 7);
    let msbs = shr(ctx, word, 2);
    let (a, b) = decompress_pair(ctx, msbs, Word16(word.0 & 3));
    slots[3] = a;
    slots[7] = b;

    (signs, slots)
}

/// Split a ten-bit compressed word into three slot indices, TS 26.073
/// `decompress10`.
///
/// The word is `125 * 8`: `msbs` walks a 5x5x5 grid that places all three
/// pulses at even slot *pairs*, and `lsbs` then nudges each of the three to the
/// odd slot of its pair, one bit per pulse.
fn decompress_triple(ctx: &mut DspContext, msbs: Word16, lsbs: Word16) -> (Word16, Word16, Word16) {
    // Load-bearing: `msbs` is a ten-bit field shifted right by three, so it
    // reaches 127, while only 0..=124 is legal. Without this the last three
    // values decode to slot 10 and index past the codevector. The reference has
    // this clamp for the same reason.
    let msbs = if sub(ctx, msbs, Word16(124)).0 > 0 {
        Word16(124)
    } else {
        msbs
    };

    // `msbs % 25`, via a Q15 reciprocal rather than a divide.
    let plane = mult(ctx, msbs, RECIP_25);
    let scaled = exact_product(ctx, plane, 25);
    let remainder = sub(ctx, msbs, scaled);

    // `(remainder % 5) * 2`.
    let row = mult(ctx, remainder, RECIP_5);
    let scaled = exact_product(ctx, row, 5);
    let column = sub(ctx, remainder, scaled);
    let low = shl(ctx, column, 1);

    // `lsbs % 4`, which is exact because `lsbs` is non-negative.
    let quarters = shr(ctx, lsbs, 2);
    let scaled = shl(ctx, quarters, 2);
    let corner = sub(ctx, lsbs, scaled);

    // Plain C `&` picks this pulse's own corner bit.
    let a = add(ctx, low, Word16(corner.0 & 1));
    let middle = shl(ctx, row, 1);
    let carry = shr(ctx, corner, 1);
    let b = add(ctx, middle, carry);
    // The reference recomputes `msbs / 25` here rather than keeping it from the
    // remainder step above, because it overwrote that variable in place. Same
    // value; recomputed the same way so the two spellings cannot drift apart.
    let plane = mult(ctx, msbs, RECIP_25);
    let high = shl(ctx, plane, 1);
    let c = add(ctx, high, quarters);

    (a, b, c)
}

/// Split the seven-bit compressed word into the two slot indices of pulses 3
/// and 7.
///
/// Hand-inlined in the reference rather than reusing `decompress10`, and not
/// merely a narrower version of it: the 5x5 grid is walked **boustrophedon**,
/// with odd rows traversed backwards, so that adjacent codes stay adjacent in
/// position. Dropping the row reversal gives pulses that are wrong but
/// plausible.
fn decompress_pair(ctx: &mut DspContext, msbs: Word16, lsbs: Word16) -> (Word16, Word16) {
    // `(msbs * 25 + 12) / 32`, rounding into 0..=24. The `+12` is an explicit
    // offset before a truncating shift, not a rounding shift — `shr_r` would
    // add 16 and give a different grid.
    let scaled = exact_product(ctx, msbs, 25);
    let rounded = add(ctx, scaled, Word16(12));
    let cell = shr(ctx, rounded, 5);

    let row = mult(ctx, cell, RECIP_5);
    // Plain C `&`: which direction this row runs.
    let reversed = (row.0 & 1) == 1;
    let scaled = exact_product(ctx, row, 5);
    let mut column = sub(ctx, cell, scaled);
    if reversed {
        column = sub(ctx, Word16(4), column);
    }

    let doubled = shl(ctx, column, 1);
    let a = add(ctx, doubled, Word16(lsbs.0 & 1));
    let doubled = shl(ctx, row, 1);
    let carry = shr(ctx, lsbs, 1);
    let b = add(ctx, doubled, carry);
    (a, b)
}

/// Ten pulses in thirty-five bits — 12.2 kbit/s, TS 26.073
/// `dec_10i40_35bits`.
///
/// `params` is the ten received fields: five of four bits (a gray-coded 3-bit
/// slot plus a sign in bit 3) and five of three bits (slot only). Pulse `j` and
/// pulse `j + 5` share track `j` and the single sign bit, with the second pulse
/// negated when it precedes the first — the same trick 10.2 uses.
///
/// A sign bit of **0** means positive.
///
/// Returns a **Q12** codevector — half the scale of every other rate — whose
/// samples are `0`, `±4096` or `±8192`.
#[must_use]
pub fn decode_ten_pulses_35bit(ctx: &mut DspContext, params: &[u16; 10]) -> Codevector {
    let mut code = [Word16(0); L_SUBFR];

    for track in 0..TRACKS_MR122 {
        let offset = Word16(i16::try_from(track).unwrap_or(0));
        let packed = field(params[track], 4);

        let slot = ungray(packed);
        let scaled = exact_product(ctx, slot, STEP);
        let first = add(ctx, scaled, offset);

        // Basic-operator shift, then a plain C mask for the sign bit.
        let negative = (shr(ctx, packed, 3).0 & 1) != 0;
        let mut sign = if negative {
            PULSE_MR122_NEG
        } else {
            PULSE_MR122
        };
        code[sample(first)] = sign;

        // The paired field carries no sign of its own — three bits, all slot.
        let slot = ungray(field(params[track + 5], 3));
        let scaled = exact_product(ctx, slot, STEP);
        let second = add(ctx, scaled, offset);
        if sub(ctx, second, first).0 < 0 {
            sign = negate(ctx, sign);
        }
        let at = sample(second);
        code[at] = add(ctx, code[at], sign);
    }

    code
}

/// Sharpen the codevector with its own recent past, the loop `dec_amr.c` runs
/// immediately after the codebook decoder returns.
///
/// `lag` is the **integer part** of the current subframe's pitch lag, 17..=143
/// at 12.2 kbit/s and 19..=143 elsewhere — not the `PIT_MIN` of 20/18, which
/// bounds the *fractional* lag. A lag of a subframe or more leaves the
/// codevector untouched. `factor` is Q15, from [`sharpening_factor`]; `code` is
/// Q13, or Q12 at 12.2, and `mult` preserves it.
///
/// Three details are load-bearing:
///
/// - It is **in place and self-referencing**. For `i >= 2 * lag` the sample it
///   reads has already been sharpened once in this same pass, which turns the
///   loop into a short IIR comb. That is reachable at every rate, since the lag
///   can be as low as 17, and never more than two levels deep, since three times
///   the smallest lag exceeds the subframe. Sharpening from a snapshot copy
///   would be a different filter.
/// - `mult` **floors toward negative infinity**, and codevector samples are
///   negative half the time. `mult(-8192, 26034)` is `-6509`, not the `-6508` a
///   truncating multiply gives.
/// - `add` **saturates asymmetrically**, to `-32768` or `32767`. At 10.2 a
///   doubled pulse can drive the recursion past 39000 in magnitude, so this is
///   reachable rather than theoretical.
pub fn sharpen(ctx: &mut DspContext, code: &mut Codevector, lag: i16, factor: Word16) {
    // A negative lag is not producible by the lag decoder; treating it as zero
    // keeps the slice arithmetic total instead of reading behind the buffer.
    let lag = usize::from(lag.max(0).unsigned_abs());

    for i in lag..L_SUBFR {
        let echo = mult(ctx, code[i - lag], factor);
        code[i] = add(ctx, code[i], echo);
    }
}

/// The Q15 factor [`sharpen`] takes, from its Q14 source.
///
/// The source differs by rate and the difference is easy to get wrong: at 12.2
/// it is the **current** subframe's decoded pitch gain, taken after error
/// concealment has had its say; at every other rate it is the persistent
/// sharpening state, which holds the pitch gain of an *earlier* subframe.
///
/// The saturation here is deliberate, and the reference marks it with a
/// commented-out `if (pit_sharp > 1.0) pit_sharp = 1.0`. The persistent state is
/// clipped to [`SHARPMAX`] and so never reaches it, but 12.2's top five
/// quantised pitch gains do: `19660` doubles to `39320` and comes back `32767`.
#[must_use]
pub fn sharpening_factor(ctx: &mut DspContext, source: Word16) -> Word16 {
    shl(ctx, source, 1)
}

/// Fold a decoded pitch gain into the persistent sharpening state, Q14.
///
/// The clip is what keeps [`sharpening_factor`] from saturating at the seven
/// rates that feed it from here. The *cadence* of the update is not this
/// module's: every rate but 4.75 stores after each subframe, while 4.75 stores
/// only after the odd ones, because it quantises gains for subframe pairs.
#[must_use]
pub fn sharpening_state(gain_pitch: Word16) -> Word16 {
    // A plain comparison: the reference's `sub` here can only saturate on the
    // negative side, where the branch is the same either way.
    Word16(gain_pitch.0.min(SHARPMAX))
}
