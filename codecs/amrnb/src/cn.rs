//! The narrowband comfort-noise excitation, TS 26.073 `b_cn_cod.c`.
//!
//! The other half of that file — `build_CN_param`, which manufactures a
//! parameter vector for a frame that never arrived — lives in
//! [`super::conceal`]. The two are kept apart because they are driven by
//! *different generators on different schedules*, and the file header there
//! explains why confusing them is an easy mistake with a late symptom.
//!
//! This module is the DTX one. [`pseudonoise`] is a 31-bit linear-feedback
//! shift register held in a `Word32`, seeded [`PN_INITIAL_SEED`]; it is drawn
//! by two callers in the decode path, the LSF variability index in `dtx_dec`
//! and the pulse positions and signs here, and they share one register. So the
//! sequence any one of them sees depends on how many times the *other* has been
//! drawn — which is why both draws have to happen in the reference's order,
//! and why neither can be given a private generator "for clarity".

use super::basicop::arith::{add, extract_l};
use super::basicop::arith32::l_mult;
use super::basicop::shift::{shl, shr};
use super::basicop::types::{DspContext, Word16, Word32};
use super::lsp::M;
use super::L_SUBFR;

/// How many pulses `build_CN_code` places. `NB_PULSE` in the reference.
const NB_PULSE: usize = 10;

/// `dtx_dec.c`'s `PN_INITIAL_SEED`, the register's value after a reset.
pub const PN_INITIAL_SEED: Word32 = Word32(0x7081_6958);

/// The pulse amplitude, Q12: `4096` is 1.0.
const PULSE: Word16 = Word16(4096);

/// `pseudonoise`: draw `no_bits` bits from the shift register.
///
/// The register is a 31-bit LFSR tapping states 31 and 3. Two details are worth
/// being explicit about, because both are easy to "correct" into something that
/// still looks like a noise source:
///
/// The bit *returned* is the register's low bit **before** the shift, while the
/// bit *fed back* is the exclusive-or of the low bit and bit 28. They are not
/// the same bit, and taking the feedback bit as the output changes every
/// sequence this generates.
///
/// And the feedback is inserted at bit 30 (`0x40000000`), not at bit 31. That
/// is what makes the register 31 bits wide rather than 32.
///
/// # Panics
/// Never: the masked value is one bit. The conversion is written fallibly
/// because the register is a `Word32` and the accumulator a `Word16`.
pub fn pseudonoise(reg: &mut Word32, no_bits: usize) -> Word16 {
    let mut noise_bits = 0i16;
    for _ in 0..no_bits {
        // State n == 31, then state n == 3, exclusive-ored together.
        let sn = ((reg.0 & 0x0000_0001) != 0) ^ ((reg.0 & 0x1000_0000) != 0);

        noise_bits = (noise_bits << 1) | i16::try_from(reg.0 & 1).expect("one bit");

        // `L_shr` on a non-negative register is a plain logical shift; the
        // register never goes negative because the feedback sets bit 30, not
        // bit 31.
        reg.0 >>= 1;
        if sn {
            reg.0 |= 0x4000_0000;
        }
    }
    Word16(noise_bits)
}

/// `build_CN_code`: ten signed unit pulses at pseudo-random positions.
///
/// Each pulse takes a two-bit position draw and a one-bit sign draw, in that
/// order. The position is `(2 * draw * 10) / 2 + k` — track `k` of a ten-track
/// interleave, so pulse `k` can only land on positions congruent to `k` mod 10
/// and the ten pulses can never collide.
///
/// The reference computes that as `shr(extract_l(L_mult(i, 10)), 1)`, and it is
/// transcribed rather than simplified to `i * 10`: `L_mult` doubles, and the
/// `shr` undoes the doubling, so the two agree — but only because the draw is
/// two bits wide. This module keeps the reference's shape so that stays true by
/// construction rather than by an argument no one rechecks.
///
/// # Panics
/// Never: the position is bounded by the two-bit draw and the track index.
pub fn build_cn_code(ctx: &mut DspContext, reg: &mut Word32) -> [Word16; L_SUBFR] {
    let mut cod = [Word16(0); L_SUBFR];

    for k in 0..NB_PULSE {
        let draw = pseudonoise(reg, 2);
        let tenfold = extract_l(l_mult(ctx, draw, Word16(10)));
        let scaled = shr(ctx, tenfold, 1);
        let i = add(ctx, scaled, Word16(i16::try_from(k).expect("k < 10")));

        let sign = pseudonoise(reg, 1);

        let position = usize::try_from(i.0).expect("a two-bit draw times ten, plus k, is 0..=39");
        cod[position] = if sign.0 > 0 { PULSE } else { Word16(-PULSE.0) };
    }

    cod
}

/// `A_Refl`: direct-form LP coefficients to reflection coefficients, Q15.
///
/// A backward Levinson recursion. `a` is `acoeff[1..=M]` — the reference passes
/// `&acoeff[1]`, so the leading 1.0 is *not* included, and passing the whole
/// vector shifts every coefficient by one and yields a plausible-looking but
/// wrong prediction gain.
///
/// Two guards abort the whole recursion and return all zeros: a coefficient at
/// or above 4096 (1.0 in Q12, so an unstable filter), and an intermediate that
/// will not fit a `Word16`. The reference implements both with a `goto` out of
/// the nested loop, and the zeros it leaves are meaningful — they say "no
/// prediction gain", which the caller then reads as a gain of exactly 1.
///
/// # Panics
/// If `a` is not exactly `M` coefficients.
#[must_use]
pub fn a_refl(ctx: &mut DspContext, a: &[Word16]) -> [Word16; 10] {
    use super::basicop::arith::{abs_s, round, sub};
    use super::basicop::arith32::{l_deposit_h, l_msu, l_sub};
    use super::basicop::div::div_s;
    use super::basicop::shift::{l_shl, l_shr_r, norm_l};

    assert_eq!(
        a.len(),
        M,
        "A_Refl takes the ten coefficients after the leading 1.0"
    );

    let mut refl = [Word16(0); M];
    let mut state = [Word16(0); M];
    state.copy_from_slice(a);
    let mut next = [Word16(0); M];

    for i in (0..M).rev() {
        let magnitude = abs_s(ctx, state[i]);
        if sub(ctx, magnitude, Word16(4096)).0 >= 0 {
            return [Word16(0); M];
        }

        refl[i] = shl(ctx, state[i], 3);

        let l_temp = l_mult(ctx, refl[i], refl[i]);
        let mut l_acc = l_sub(ctx, Word32(i32::MAX), l_temp);

        let norm_shift = norm_l(l_acc);
        let scale = sub(ctx, Word16(15), Word16(norm_shift));

        l_acc = l_shl(ctx, l_acc, norm_shift);
        let norm_prod = round(ctx, l_acc);

        let mult_factor = div_s(Word16(16384), norm_prod);

        for j in 0..i {
            let mut acc = l_deposit_h(state[j]);
            acc = l_msu(ctx, acc, refl[i], state[i - j - 1]);

            let temp = round(ctx, acc);
            let mut l_temp = l_mult(ctx, mult_factor, temp);
            l_temp = l_shr_r(ctx, l_temp, scale.0);

            if l_temp.0.unsigned_abs() > 32767 {
                return [Word16(0); M];
            }

            next[j] = extract_l(l_temp);
        }

        state[..i].copy_from_slice(&next[..i]);
    }

    refl
}
