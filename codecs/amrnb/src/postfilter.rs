//! The AMR-NB decoder post-filter and output post-processing, TS 26.073
//! `pstfilt.c` (`Post_Filter`) and `post_pro.c` (`Post_Process`).
//!
//! This is the stage AMR-WB does not have. It runs on the synthesised speech
//! after the excitation and synthesis path have finished with it, and it is the
//! last thing between the decoder and the caller's PCM:
//!
//! 1. inverse-filter the synthesis through `A(z/g3)` to recover a residual,
//! 2. flatten the spectral tilt with `1 - mu*k*z^-1`, where `k` comes from the
//!    first two autocorrelation lags of the combined filter's impulse response,
//! 3. re-synthesise through `1/A(z/g4)`,
//! 4. restore the original subframe energy with a smoothed gain,
//! 5. high-pass at 60 Hz and double the amplitude.
//!
//! # Two signals, not one
//!
//! `Post_Filter` overwrites its `syn` argument in place, but every stage that
//! *reads* the synthesis — the residual, the AGC's reference energy, and the
//! ten-sample history carried into the next frame — reads the **unfiltered**
//! copy taken before the first subframe. Feeding the post-filtered signal back
//! into any of those produces audio that sounds fine and fails conformance,
//! because the filter then compounds on itself frame after frame.
//!
//! # Q formats
//!
//! Signals are Q0 throughout: the synthesis, the residual, the post-filtered
//! output and the post-processed output are all plain 16-bit samples. LP
//! coefficients are Q12 with `a[0] == 4096`; the expansion factors, the tilt
//! coefficient and the AGC factor are Q15; the AGC's carried gain is Q12.
//! `Residu` and `Syn_filt` are scale-preserving — their `L_shl(s, 3)` is what
//! takes the Q13 accumulator to Q16 so that `round` yields Q0 again.
//!
//! # Validation
//!
//! Bit-exact against the `postfilter` and `postproc` sections of
//! `testdata/nb_stages.txt`, which `tools/amrnb_stage_oracle.c` produced by
//! driving TS 26.073's own `Post_Filter` and `Post_Process` over four replayed
//! frames each — long enough that every carried memory has to be right, not
//! just the arithmetic.

use super::basicop::arith::{extract_h, mult, round};
use super::basicop::arith32::{l_add, l_mac, l_mult, l_sum_sq};
use super::basicop::div::div_s;
use super::basicop::oper32::{l_extract, mpy_32_16};
use super::basicop::shift::l_shl;
use super::basicop::types::{DspContext, Word16};
use super::decoder_tables::{GAMMA3, GAMMA3_MR122, GAMMA4, GAMMA4_MR122};
use super::lsp::{AZ_SIZE, M, MP1};
use super::synthesis::{
    expand_bandwidth, lp_residual, synthesis_filter, synthesis_filter_in_place, AdaptiveGain,
    Preemphasis,
};
use super::{AGC_FAC, L_FRAME, L_SUBFR, MU};

/// Length of the truncated impulse response the tilt estimate is measured on.
///
/// Twenty-two samples is a `pstfilt.c` local, not a codec-wide constant: it is
/// long enough for the two autocorrelation lags to be stable and short enough
/// that the ratio still describes the tilt rather than the whole spectrum.
const L_H: usize = 22;

/// High-pass numerator, Q13 — `0.9398` and its mirror, for a 60 Hz corner.
const HP_B: [Word16; 3] = [Word16(7699), Word16(-15398), Word16(7699)];

/// High-pass feedback coefficients `a[1]` and `a[2]`, Q13.
///
/// The reference's `a[0] = 8192` is dead — the recursion is already normalised
/// — so it is not carried here. Keeping it would only invite an off-by-one.
const HP_A: [Word16; 2] = [Word16(15836), Word16(-7667)];

/// Mode index of 10.2 kbit/s, `MR102` in the reference's enum.
const MODE_MR102: u8 = 6;

/// Mode index of 12.2 kbit/s, `MR122`.
const MODE_MR122: u8 = 7;

/// Numerator and denominator bandwidth-expansion factors for a rate, Q15.
///
/// The only mode dependency in the whole post-filter. The two high rates
/// widen the numerator from `0.55^n` to `0.7^n` and the denominator from
/// `0.7^n` to `0.75^n`; everything else shares one pair.
///
/// [`GAMMA4`] and [`GAMMA3_MR122`] hold identical numbers — both are `0.7^n` —
/// which is why picking the wrong denominator is invisible at 12.2 and 10.2
/// and detunes every other rate by a factor that is still perfectly stable.
const fn expansion_factors(mode_index: u8) -> (&'static [i16; M], &'static [i16; M]) {
    match mode_index {
        MODE_MR102 | MODE_MR122 => (&GAMMA3_MR122, &GAMMA4_MR122),
        _ => (&GAMMA3, &GAMMA4),
    }
}

/// The formant post-filter and its carried state, TS 26.073 `Post_Filter`.
///
/// Four memories survive from one frame to the next, and all four are
/// load-bearing: the ten unfiltered synthesis samples the residual filter needs
/// before the start of a frame, the synthesis memory of `1/A(z/g4)`, the
/// pre-emphasis sample, and the AGC's smoothed gain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFilter {
    /// Ten samples of previous-frame history followed by the current frame's
    /// **unfiltered** synthesis.
    ///
    /// One buffer rather than two because the residual filter's window
    /// straddles the frame boundary at the first subframe and lies wholly
    /// inside the frame afterwards; splitting it would need a special case for
    /// exactly that subframe.
    synthesis: [Word16; M + L_FRAME],
    /// Synthesis memory of `1/A(z/g4)` — the last ten *unscaled* outputs.
    ///
    /// Captured before the AGC rescales the subframe, because the reference
    /// updates it inside `Syn_filt`. Capturing it after would feed the gain
    /// back into the filter and make it drift.
    denominator_memory: [Word16; M],
    /// The tilt-compensation filter's one-sample memory, in the residual
    /// domain.
    tilt: Preemphasis,
    /// The output gain control's smoothed gain.
    gain: AdaptiveGain,
}

impl Default for PostFilter {
    fn default() -> Self {
        Self::new()
    }
}

impl PostFilter {
    /// A post-filter in its reset state.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            synthesis: [Word16(0); M + L_FRAME],
            denominator_memory: [Word16(0); M],
            tilt: Preemphasis::new(),
            gain: AdaptiveGain::new(),
        }
    }

    /// Post-filter one frame of synthesised speech, in place.
    ///
    /// `synthesis` is 160 Q0 samples in and the post-filtered 160 out. `az` is
    /// the four subframes' interpolated LP coefficients, Q12, eleven per
    /// subframe with `az[11 * k] == 4096`. `mode_index` is the *speech* mode,
    /// 0..=7 — comfort-noise frames are post-filtered with the speech mode
    /// they would have used, never with a DTX pseudo-mode.
    pub fn process(
        &mut self,
        ctx: &mut DspContext,
        mode_index: u8,
        synthesis: &mut [Word16; L_FRAME],
        az: &[Word16; AZ_SIZE],
    ) {
        // Snapshot the whole unfiltered frame before any subframe is touched.
        // From here on `self.synthesis` is the unfiltered signal and the
        // caller's buffer is progressively overwritten with the filtered one.
        self.synthesis[M..].copy_from_slice(synthesis);

        let (gamma3, gamma4) = expansion_factors(mode_index);

        // Field-by-field so the residual can read `unfiltered` while the
        // tilt and gain memories are borrowed mutably.
        let Self {
            synthesis: unfiltered,
            denominator_memory,
            tilt,
            gain,
        } = self;

        let mut residual = [Word16(0); L_SUBFR];

        for (subframe, coefficients) in az.chunks_exact(MP1).enumerate() {
            let start = subframe * L_SUBFR;
            let numerator = expand_bandwidth(ctx, coefficients, gamma3);
            let denominator = expand_bandwidth(ctx, coefficients, gamma4);

            // The window reaches `M` samples before the subframe. At subframe
            // zero those samples are the previous frame's unfiltered tail.
            lp_residual(
                ctx,
                &numerator,
                &unfiltered[start..start + M + L_SUBFR],
                &mut residual,
            );

            let coefficient = tilt_coefficient(ctx, &numerator, &denominator);
            tilt.filter(ctx, &mut residual, coefficient);

            *denominator_memory = synthesis_filter(
                ctx,
                &denominator,
                &residual,
                &mut synthesis[start..start + L_SUBFR],
                denominator_memory,
            );

            // The AGC's reference is the unfiltered synthesis, which lives
            // `M` samples further into the buffer than the residual window did.
            gain.scale(
                ctx,
                &unfiltered[M + start..M + start + L_SUBFR],
                &mut synthesis[start..start + L_SUBFR],
                Word16(AGC_FAC),
            );
        }

        // Carry the unfiltered tail, not the filtered one, into the history
        // the next frame's first residual window will read.
        unfiltered.copy_within(L_FRAME.., 0);
    }
}

/// Tilt-compensation coefficient for one subframe, Q15.
///
/// The impulse response of `A(z/g3) / A(z/g4)` is truncated to [`L_H`] samples
/// and its first two autocorrelation lags taken; the coefficient is
/// `mu * r1 / r0`, or zero when `r1` is non-positive — a non-positive lag-1
/// correlation means the response has no tilt worth removing.
fn tilt_coefficient(
    ctx: &mut DspContext,
    numerator: &[Word16; MP1],
    denominator: &[Word16; MP1],
) -> Word16 {
    let mut response = [Word16(0); L_H];
    response[..MP1].copy_from_slice(numerator);

    // The reference filters `h` into itself with `&h[M+1]` as the filter
    // memory, which is legal there only because `Syn_filt` copies the memory
    // out and runs the recursion on scratch before writing any output. The
    // memory is the eleven zeros just written, so the equivalent — and the only
    // form Rust's borrow rules admit — is a zeroed memory that is not updated.
    let zero_memory = [Word16(0); M];
    synthesis_filter_in_place(ctx, denominator, &mut response, &zero_memory);

    // `extract_h` truncates; the reference does not round either lag, and
    // rounding one of them shifts the tilt by a hair on every subframe.
    let acc = l_sum_sq(ctx, response.iter().copied());
    let lag0 = extract_h(acc);

    // Twenty-one products, not twenty-two: the leading term is h[0]*h[1] and
    // the loop stops one short of the end.
    let mut acc = l_mult(ctx, response[0], response[1]);
    for pair in response[1..].windows(2) {
        acc = l_mac(ctx, acc, pair[0], pair[1]);
    }
    let lag1 = extract_h(acc);

    if lag1.0 <= 0 {
        Word16(0)
    } else {
        // `div_s` is only defined for a dividend no larger than its divisor.
        // That holds here because `mu` is 0.8: scaling a positive `lag1` down
        // by 0.8 keeps it strictly under `lag0`, which dominates every other
        // lag of an autocorrelation.
        let damped = mult(ctx, lag1, Word16(MU));
        div_s(damped, lag0)
    }
}

/// Output post-processing, TS 26.073 `Post_Process`.
///
/// A second-order 60 Hz high-pass followed by a doubling of the amplitude. The
/// two are one filter in the reference and stay one here, because the doubling
/// happens *after* the recursion state is taken: the feedback carries the
/// undoubled value, and storing the doubled one instead gives a filter with
/// twice the intended feedback — stable, plausible, and wrong.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostProcessor {
    /// Previous filter output *before* the final doubling, split into
    /// `L_Extract` high/low halves. Q16 against the sample scale, which is what
    /// makes the Q13 feedback coefficients land back on Q16.
    previous: (Word16, Word16),
    /// The output before that, same form.
    second_previous: (Word16, Word16),
    /// Previous *input* sample, Q0.
    last_input: Word16,
    /// The input before that.
    second_last_input: Word16,
}

impl PostProcessor {
    /// A post-processor in its reset state — all six memories zero.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            previous: (Word16(0), Word16(0)),
            second_previous: (Word16(0), Word16(0)),
            last_input: Word16(0),
            second_last_input: Word16(0),
        }
    }

    /// High-pass and double `signal` in place, Q0 in and Q0 out.
    ///
    /// Called once per frame with all 160 samples; the memories carry across
    /// the call, so splitting a frame into two calls gives the same result and
    /// dropping the state does not.
    pub fn process(&mut self, ctx: &mut DspContext, signal: &mut [Word16]) {
        for sample in signal.iter_mut() {
            let third_last_input = self.second_last_input;
            self.second_last_input = self.last_input;
            // Capture the input before the output overwrites it.
            self.last_input = *sample;

            let mut acc = mpy_32_16(self.previous.0, self.previous.1, HP_A[0]);
            acc = l_add(
                ctx,
                acc,
                mpy_32_16(self.second_previous.0, self.second_previous.1, HP_A[1]),
            );
            acc = l_mac(ctx, acc, self.last_input, HP_B[0]);
            acc = l_mac(ctx, acc, self.second_last_input, HP_B[1]);
            acc = l_mac(ctx, acc, third_last_input, HP_B[2]);
            acc = l_shl(ctx, acc, 2);

            // The doubling saturates, and it is deliberately not folded back
            // into the recursion below.
            let doubled = l_shl(ctx, acc, 1);
            *sample = round(ctx, doubled);

            self.second_previous = self.previous;
            self.previous = l_extract(acc);
        }
    }
}
