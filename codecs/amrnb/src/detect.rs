//! Source characteristic detection for the AMR-NB decoder.
//!
//! Implements TS 26.073 `Bgn_scd` (`bgnscd.c`), the `gmed_n` running median
//! (`gmed_n.c`), `lsp_avg` (`lsp_avg.c`) and `Int_lsf` (`int_lsf.c`).
//!
//! None of this shapes a sample directly. It decides *what kind of signal the
//! decoder is currently reproducing* — speech or background noise, voiced or
//! not — and those two flags then gate the pitch-gain limiter, the codebook
//! gain smoother, the phase dispersion lock and the excitation control. A
//! detector that is off by one frame produces audio that is correct in
//! structure and wrong in every gated decision.
//!
//! # The flags are read one frame late, on purpose
//!
//! `Decoder_amr` calls the detector *after* the four-subframe loop, but the
//! subframe loop reads `inBackgroundNoise` and `voicedHangover` — so what it
//! reads is the previous frame's verdict. The reference comments this as
//! "valid for use in next frame if BFI". [`SourceDetector`] therefore latches
//! both, and [`SourceDetector::background_noise`] /
//! [`SourceDetector::voiced_hangover`] are what a subframe should consult.
//! Calling [`SourceDetector::update`] before the subframe loop instead of after
//! it would advance both by a frame and change every gated decision.
//!
//! # Validated by
//!
//! `nb_stages.txt` sections `bgnscd`, `lspavg` and `intlsf`, produced by
//! `tools/amrnb_stage_oracle.c` driving the reference's own `Bgn_scd`,
//! `lsp_avg` and `Int_lsf`.

use super::basicop::arith::{add, extract_h, round, sub};
use super::basicop::arith32::{l_deposit_h, l_mac, l_msu, l_sum_sq};
use super::basicop::shift::{l_shl, shl, shr};
use super::basicop::types::{DspContext, Word16};
use super::decoder_tables::MEAN_LSF_5;

/// LP order — ten line frequencies per frame.
const LP_ORDER: usize = 10;

/// Frames of synthesis energy the detector remembers, one Word16 each.
const ENERGY_HISTORY: usize = 60;

/// Where the "recent energy" scan starts, `2*L_ENERGYHIST/3` in the reference.
const RECENT_START: usize = 2 * ENERGY_HISTORY / 3;

/// Frames excluded from the tail of the "overall maximum" scan.
///
/// The scan deliberately stops four short of the end, so the four *newest*
/// frames cannot by themselves lift the maximum above the silence floor.
const MAX_SCAN_SKIP: usize = 4;

/// Above this frame energy the signal is too loud to be background noise.
const FRAME_ENERGY_LIMIT: Word16 = Word16(17578);

/// Below this the frame is silence, which is not noise either.
const LOWER_NOISE_LIMIT: Word16 = Word16(20);

/// Ceiling on the recent maximum for the "quiet lately" arm of the decision.
const UPPER_NOISE_LIMIT: Word16 = Word16(1953);

/// Ceiling on the background-noise hangover counter.
const NOISE_HANGOVER_MAX: Word16 = Word16(30);

/// Ceiling on the frames-since-voiced counter.
const VOICED_HANGOVER_MAX: Word16 = Word16(10);

/// Pitch-gain thresholds for "the recent past was voiced", Q14.
///
/// 0.85, then 0.95, then 1.00: the longer the decoder has been sitting in
/// noise, the more pitch periodicity it demands before calling a frame voiced.
const LTP_LIMIT_BASE: Word16 = Word16(13926);
const LTP_LIMIT_TIGHT: Word16 = Word16(15565);
const LTP_LIMIT_TIGHTEST: Word16 = Word16(16383);

/// Longest median the reference's `gmed_n` supports (`NMAX`).
const MEDIAN_MAX: usize = 9;

/// Smoothing coefficient for the LSF average, 0.16 in Q15 (`EXPCONST`).
const LSF_SMOOTH: Word16 = Word16(5243);

/// Median of an odd-length window, by the reference's `gmed_n`.
///
/// Returns the median **value**, not its index — the reference's own comment
/// says "index of the median value" and is wrong; the code returns
/// `ind[medianIndex]`.
///
/// Q-format: none of its own. It is a selection, so the result carries whatever
/// format the input had — Q14 pitch gains in [`SourceDetector::update`], Q0
/// excitation energies in the excitation controller.
///
/// # A value of exactly −32768 can never be selected
///
/// The running maximum starts at −32767, one above the smallest Word16, so a
/// genuine `i16::MIN` input never wins a round. When every unconsumed entry is
/// `i16::MIN` the inner loop assigns nothing and the *previous* round's winning
/// index is recorded again. Both are reproduced deliberately: the reference is
/// the specification, and its callers only ever pass non-negative gains and
/// energies, so the pathology is unreachable in practice but must not be
/// "fixed" into a different answer.
///
/// # Panics
///
/// If the window is empty, longer than nine, or of even length. The reference
/// documents itself as valid only for odd `n <= NMAX`; an even length would
/// silently pick the upper of the two middle ranks.
#[must_use]
pub fn median(ctx: &mut DspContext, window: &[Word16]) -> Word16 {
    let n = window.len();
    assert!(
        n <= MEDIAN_MAX && n % 2 == 1,
        "gmed_n is defined for an odd window of at most {MEDIAN_MAX}, got {n}"
    );

    let mut pool = [Word16(0); MEDIAN_MAX];
    pool[..n].copy_from_slice(window);

    // Declared once and carried across rounds, exactly as the reference does.
    // See the note above: this is what makes an all-`i16::MIN` window repeat an
    // index instead of walking one.
    let mut winner = 0usize;
    let mut ranked = [0usize; MEDIAN_MAX];

    for slot in &mut ranked[..n] {
        let mut best = Word16(-32767);
        for (j, &candidate) in pool[..n].iter().enumerate() {
            // `>=` rather than `>`, so a tie hands the rank to the *last* index.
            if sub(ctx, candidate, best).0 >= 0 {
                best = candidate;
                winner = j;
            }
        }
        pool[winner] = Word16(i16::MIN);
        *slot = winner;
    }

    // Plain integer halving of a positive length, where the reference writes
    // `shr(n, 1)` on a Word16 loop bound rather than on signal data.
    window[ranked[n / 2]]
}

/// Interpolate LSFs for one subframe, by TS 26.073 `Int_lsf`.
///
/// Weights are 3/4, 1/2, 1/4 of the *previous* frame's fourth-subframe LSFs for
/// subframes 1 to 3, and the new vector alone for subframe 4.
///
/// Q-format: both inputs and the output are LSFs — Q15 of normalised frequency,
/// where 0 Hz is 0 and 4000 Hz is 16384.
///
/// The 3/4 weight is spelled `x - (x >> 2)` rather than as a multiply, because
/// `shr` floors toward negative infinity and a rounding multiply would land on
/// a different LSB.
///
/// # Panics
///
/// If `subframe_start` is not 0, 40, 80 or 120. The reference has no `else`
/// branch and leaves its output buffer untouched — here that would be a silent
/// zero vector, so it is a panic instead.
#[must_use]
pub fn interpolate_lsf(
    ctx: &mut DspContext,
    lsf_old: &[Word16; LP_ORDER],
    lsf_new: &[Word16; LP_ORDER],
    subframe_start: usize,
) -> [Word16; LP_ORDER] {
    let mut out = [Word16(0); LP_ORDER];

    match subframe_start {
        0 => {
            for (i, slot) in out.iter_mut().enumerate() {
                let quarter_old = shr(ctx, lsf_old[i], 2);
                let three_quarter_old = sub(ctx, lsf_old[i], quarter_old);
                let quarter_new = shr(ctx, lsf_new[i], 2);
                *slot = add(ctx, three_quarter_old, quarter_new);
            }
        }
        40 => {
            for (i, slot) in out.iter_mut().enumerate() {
                let half_old = shr(ctx, lsf_old[i], 1);
                let half_new = shr(ctx, lsf_new[i], 1);
                *slot = add(ctx, half_old, half_new);
            }
        }
        80 => {
            for (i, slot) in out.iter_mut().enumerate() {
                let quarter_old = shr(ctx, lsf_old[i], 2);
                let quarter_new = shr(ctx, lsf_new[i], 2);
                let three_quarter_new = sub(ctx, lsf_new[i], quarter_new);
                *slot = add(ctx, quarter_old, three_quarter_new);
            }
        }
        120 => out = *lsf_new,
        other => panic!("Int_lsf is defined at subframe starts 0, 40, 80 and 120, got {other}"),
    }

    out
}

/// The decoder's running LSF average, by TS 26.073 `lsp_avg`.
///
/// # It holds LSFs, not LSPs
///
/// The reference calls the state `lsp_meanSave` and the argument `lsp`, and
/// both names are wrong: `Decoder_amr` passes `lsfState->past_lsf_q`, an LSF
/// vector, at both call sites. Feeding it cosine-domain LSPs would produce a
/// mean in the wrong domain that the codebook gain smoother would then compare
/// against real LSFs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsfAverage {
    mean: [Word16; LP_ORDER],
}

impl Default for LsfAverage {
    fn default() -> Self {
        Self::new()
    }
}

impl LsfAverage {
    /// The reset state: the 5-split quantiser's long-term mean LSF.
    ///
    /// `lsp_avg.c` includes `q_plsf_5.tab`, so this seeds from [`MEAN_LSF_5`]
    /// for **every** mode, not only 12.2 kbit/s. The 3-split mean is a
    /// different vector and using it here would shift the first several frames
    /// of the codebook gain smoother in the seven other modes.
    #[must_use]
    pub fn new() -> Self {
        Self {
            mean: MEAN_LSF_5.map(Word16),
        }
    }

    /// The current average, LSF Q15.
    #[must_use]
    pub const fn mean(&self) -> &[Word16; LP_ORDER] {
        &self.mean
    }

    /// Fold one frame's decoded LSFs into the average.
    ///
    /// Q-format: `lsf` is LSF Q15; the accumulator is Q31; the stored mean is
    /// LSF Q15 again.
    ///
    /// Called **once per frame**, never per subframe, at the end of the frame.
    /// The header describes this as an eight-frame average; it is really a
    /// first-order smoother with α = 0.16, so its effective memory is about six
    /// frames. Collapsing the three steps into a single `mult(mean, 27525)`
    /// would give the same curve and a different last bit.
    pub fn update(&mut self, ctx: &mut DspContext, lsf: &[Word16; LP_ORDER]) {
        for (slot, &fresh) in self.mean.iter_mut().zip(lsf.iter()) {
            let mut acc = l_deposit_h(*slot);
            acc = l_msu(ctx, acc, LSF_SMOOTH, *slot);
            acc = l_mac(ctx, acc, LSF_SMOOTH, fresh);
            *slot = round(ctx, acc);
        }
    }
}

/// Background-noise source characteristic detector, by TS 26.073 `Bgn_scd`.
///
/// An energy detector floating on top of a 60-frame history rather than a real
/// voice activity detector, as the reference's own comment concedes. It is
/// looking for a frame that is quiet but not silent, over a stretch that has
/// been quiet but not silent, and it requires two consecutive such frames
/// before it will say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDetector {
    /// Synthesis frame energies, oldest first; the newest lands at the end.
    energy_history: [Word16; ENERGY_HISTORY],
    /// Consecutive noise-like frames, capped at 30.
    noise_hangover: Word16,
    /// Frames since the last voiced one, capped at 10.
    voiced_hangover: Word16,
    /// Last verdict, latched for the next frame's subframe loop.
    background_noise: bool,
}

impl Default for SourceDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl SourceDetector {
    /// The reset state: no history, no hangover, not in noise.
    ///
    /// This covers `Bgn_scd_reset` *and* the two fields `Decoder_amr_reset`
    /// zeroes on the detector's behalf. They always reset together — both are
    /// unconditional in `Decoder_amr_reset` — so keeping them in one struct
    /// cannot desynchronise them.
    ///
    /// Note that a single SID frame destroys all 60 frames of history:
    /// `Decoder_amr` calls `Decoder_amr_reset(st, MRDTX)` on every non-speech
    /// frame, and `Bgn_scd_reset` inside it is not mode-gated. A decoder that
    /// resets only at start-up will diverge on the first speech frame after any
    /// DTX period.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            energy_history: [Word16(0); ENERGY_HISTORY],
            noise_hangover: Word16(0),
            voiced_hangover: Word16(0),
            background_noise: false,
        }
    }

    /// The latched decision: `true` when the last frame was judged background
    /// noise.
    ///
    /// The reference's header comments the polarity backwards; the code and
    /// every caller agree that 1 means background noise.
    #[must_use]
    pub const fn background_noise(&self) -> bool {
        self.background_noise
    }

    /// Frames since the last voiced frame, 0 to 10.
    #[must_use]
    pub const fn voiced_hangover(&self) -> Word16 {
        self.voiced_hangover
    }

    /// Classify one synthesised frame and advance both hangover counters.
    ///
    /// Q-format: `ltp_gains` are Q14 pitch gains, newest last, frozen by the
    /// caller across bad frames; `synthesis` is the Q0 synthesis frame.
    ///
    /// Returns the new decision, which is also latched — see the module header
    /// for why callers should read the latched value rather than this one
    /// during the frame that produced it.
    pub fn update(
        &mut self,
        ctx: &mut DspContext,
        ltp_gains: &[Word16; MEDIAN_MAX],
        synthesis: &[Word16; super::L_FRAME],
    ) -> bool {
        let current = Self::frame_energy(ctx, synthesis);

        let mut quietest = Word16(i16::MAX);
        for &past in &self.energy_history {
            if sub(ctx, past, quietest).0 < 0 {
                quietest = past;
            }
        }
        // A margin of 16 over the quietest frame ever seen. Saturating: any
        // floor above 2047 pins this at 32767, which makes the first arm of the
        // decision below always true.
        let noise_floor = shl(ctx, quietest, 4);

        // Deliberately asymmetric scans. The overall maximum ignores the four
        // newest frames; the recent maximum looks at the newest twenty. Neither
        // bound is a tidy-up candidate.
        let mut loudest = self.energy_history[0];
        for &past in &self.energy_history[1..ENERGY_HISTORY - MAX_SCAN_SKIP] {
            if sub(ctx, loudest, past).0 < 0 {
                loudest = past;
            }
        }

        let mut loudest_recent = self.energy_history[RECENT_START];
        for &past in &self.energy_history[RECENT_START + 1..] {
            if sub(ctx, loudest_recent, past).0 < 0 {
                loudest_recent = past;
            }
        }

        // Not silence, not sustained volume, and either below the floor we have
        // learned or quiet for the last twenty frames. Rust's `&&`/`||`
        // short-circuit exactly as the C does.
        let noise_like = sub(ctx, loudest, LOWER_NOISE_LIMIT).0 > 0
            && sub(ctx, current, FRAME_ENERGY_LIMIT).0 < 0
            && sub(ctx, current, LOWER_NOISE_LIMIT).0 > 0
            && (sub(ctx, current, noise_floor).0 < 0
                || sub(ctx, loudest_recent, UPPER_NOISE_LIMIT).0 < 0);

        if noise_like {
            let bumped = add(ctx, self.noise_hangover, Word16(1));
            self.noise_hangover = if sub(ctx, bumped, NOISE_HANGOVER_MAX).0 > 0 {
                NOISE_HANGOVER_MAX
            } else {
                bumped
            };
        } else {
            self.noise_hangover = Word16(0);
        }

        // Two consecutive noise-like frames, not one — the reference calls this
        // acting "somewhat cautiously".
        let inbg = sub(ctx, self.noise_hangover, Word16(1)).0 > 0;

        // Push only now: every scan above saw frames k-60 through k-1.
        self.energy_history.copy_within(1.., 0);
        self.energy_history[ENERGY_HISTORY - 1] = current;

        // The reference writes two sequential `if`s, where the second
        // overwrites the first — an `else if` chain in *that* order would be
        // wrong. Reversed, it is exactly equivalent, because `> 15` implies
        // `> 8` for a counter that only ever holds 0..=30. Both comparisons are
        // still evaluated, and in the reference's order, so the operator flags
        // land the same way.
        let past_first_threshold = sub(ctx, self.noise_hangover, Word16(8)).0 > 0;
        let past_second_threshold = sub(ctx, self.noise_hangover, Word16(15)).0 > 0;
        let ltp_limit = if past_second_threshold {
            LTP_LIMIT_TIGHTEST
        } else if past_first_threshold {
            LTP_LIMIT_TIGHT
        } else {
            LTP_LIMIT_BASE
        };

        // The five-tap verdict is always computed, even when the nine-tap one
        // replaces it — both medians consume the same operator context.
        let recent_voiced = {
            let recent_median = median(ctx, &ltp_gains[4..]);
            sub(ctx, recent_median, ltp_limit).0 > 0
        };

        // Deep in noise the decision is re-taken over the whole history. The
        // reference assigns in *both* arms, so this can clear a positive as
        // well as set one; an override that only ever sets would hold
        // `voiced_hangover` at zero through arbitrarily long noise.
        let voiced = if sub(ctx, self.noise_hangover, Word16(20)).0 > 0 {
            let full_median = median(ctx, ltp_gains);
            sub(ctx, full_median, ltp_limit).0 > 0
        } else {
            recent_voiced
        };

        if voiced {
            self.voiced_hangover = Word16(0);
        } else {
            let bumped = add(ctx, self.voiced_hangover, Word16(1));
            self.voiced_hangover = if sub(ctx, bumped, VOICED_HANGOVER_MAX).0 > 0 {
                VOICED_HANGOVER_MAX
            } else {
                bumped
            };
        }

        self.background_noise = inbg;
        inbg
    }

    /// Frame energy as the detector measures it: `2*Σx²`, quadrupled, top half.
    ///
    /// Q-format: Q0 samples in, a Word16 energy index out.
    ///
    /// Both saturations are load-bearing and neither is rare: the accumulator
    /// pins at `i32::MAX` once `Σx²` passes 2³⁰ (frame RMS around 2591), and the
    /// `<< 2` pins it once `Σx²` passes 2²⁸ (RMS around 1295). A full-scale
    /// frame sums to 3.4e11, which does not fit a Word32 at all.
    ///
    /// What matters is that the clamp happens rather than *where*. Every term
    /// is non-negative, so the running sum only climbs — an accumulator that
    /// widened to `i64` and clamped once at the end would give the identical
    /// Word16, and the frequently repeated claim that it would not is wrong.
    /// An accumulator that *wraps* is a different matter: it turns the loudest
    /// possible frame into an arbitrary small energy, and the detector then
    /// treats a shout as background noise.
    fn frame_energy(ctx: &mut DspContext, synthesis: &[Word16; super::L_FRAME]) -> Word16 {
        let acc = l_sum_sq(ctx, synthesis.iter().copied());
        extract_h(l_shl(ctx, acc, 2))
    }
}
