//! The AMR-NB spectral path, 3GPP TS 26.090 §5.2, in fixed point.
//!
//! Quantiser indices to per-subframe LP coefficients: LSF dequantisation,
//! spacing enforcement, LSF→LSP, LSP→LP, and interpolation across the four
//! subframes.
//!
//! Implements TS 26.073's `D_plsf_3`, `D_plsf_5`, `D_plsf_reset`,
//! `Init_D_plsf_3`, `Reorder_lsf`, `Lsf_lsp`, `Lsp_Az`, `Int_lpc_1to3` and
//! `Int_lpc_1and3`.
//!
//! # LSP is not ISP
//!
//! This is the module where the temptation to reuse the wideband code is
//! strongest and most wrong. Line Spectrum Pairs and Immittance Spectrum Pairs
//! are different representations, not the same one at different orders:
//!
//! - [`lsp_to_lp`] multiplies `F2(z)` by `(1 - z⁻¹)` — the reference subtracts
//!   `f2[i-1]`. Wideband multiplies by `(1 - z⁻²)`, subtracting `f2[i-2]`.
//! - Narrowband's final shift is 13; wideband's is 12.
//! - Wideband scales both polynomials by its last ISP, which is a predictor
//!   coefficient rather than a root. Narrowband has no such term.
//! - The cosine table has 65 entries against wideband's 129, indexed by the top
//!   *eight* bits rather than nine.
//!
//! Every one of those would compile, run, and produce speech-shaped output.
//!
//! # Two quantisers, not one parameterised quantiser
//!
//! Seven of the eight rates dequantise one LSF set per frame from three split
//! indices ([`LsfDecoder::decode`], TS 26.073 `D_plsf_3`). 12.2 kbit/s
//! dequantises *two* sets from five indices ([`LsfDecoder::decode_pair`],
//! `D_plsf_5`) and interpolates through the mid-frame set
//! ([`interpolate_lsp_mid`], `Int_lpc_1and3`) instead of straight across the
//! frame ([`interpolate_lsp`], `Int_lpc_1to3`).
//!
//! They share the carried state and nothing else. Their long-term means, their
//! predictor coefficients, their concealment weights and their codebook strides
//! are all different, and every one of those differences is small enough to
//! look like a refactoring opportunity. It is not: see [`MEAN_LSF_3`] against
//! [`MEAN_LSF_5`], and `ALPHA_3` against `ALPHA_5` below.
//!
//! Validated against the `plsf5` section of `testdata/nb_stages.txt` (five-split
//! path, including an erased frame) and the `nb0`..`nb6` blocks of
//! `testdata/stages_nb.txt` (three-split path).

use super::basicop::arith::{add, extract_l, mult, negate, sub};
use super::basicop::arith32::{l_add, l_msu, l_mult, l_sub};
use super::basicop::oper32::{l_extract, mpy_32_16};
use super::basicop::shift::{l_shl, l_shr, l_shr_r, shr};
use super::basicop::types::{DspContext, Word16, Word32};
use super::decoder_tables::{
    COS_TABLE, DICO1_LSF_3, DICO1_LSF_5, DICO2_LSF_3, DICO2_LSF_5, DICO3_LSF_3, DICO3_LSF_5,
    DICO4_LSF_5, DICO5_LSF_5, MEAN_LSF_3, MEAN_LSF_5, MR515_3_LSF, MR795_1_LSF, PAST_RQ_INIT,
    PRED_FAC_3,
};

/// Order of the narrowband LP filter.
pub const M: usize = 10;

/// Coefficients per subframe, plus the leading 1.0.
pub const MP1: usize = M + 1;

/// Subframes per frame.
pub const NB_SUBFR: usize = 4;

/// Interpolated coefficients for a whole frame.
pub const AZ_SIZE: usize = NB_SUBFR * MP1;

/// Minimum spacing between adjacent LSFs, Q15 — 50 Hz at 8 kHz.
const LSF_GAP: Word16 = Word16(205);

/// Weight on the previous frame's LSFs during concealment, 0.9 in Q15.
///
/// The 3-split quantiser's. 12.2 kbit/s uses [`ALPHA_5`], which is a different
/// number; the two must not be unified.
const ALPHA_3: Word16 = Word16(29491);

/// The complement of [`ALPHA_3`].
const ONE_ALPHA_3: Word16 = Word16(3277);

/// Weight on the previous frame's LSFs during concealment at 12.2 kbit/s,
/// 0.95 in Q15.
///
/// A slower leak toward the mean than [`ALPHA_3`]: the 5-split quantiser
/// resolves the spectrum finely enough that holding it longer is worth more
/// than converging faster.
const ALPHA_5: Word16 = Word16(31128);

/// The complement of [`ALPHA_5`].
///
/// `ALPHA_5 + ONE_ALPHA_5` is 32767, not 32768 — 0.95 and 0.05 were each
/// rounded into Q15 independently. The concealed spectrum therefore contracts
/// by one part in 32768 per erased frame. Do not "correct" it.
const ONE_ALPHA_5: Word16 = Word16(1639);

/// MA predictor coefficient at 12.2 kbit/s, 0.65 in Q15.
///
/// One scalar for all ten coefficients, where the 3-split quantiser has a
/// per-coefficient [`PRED_FAC_3`].
const LSP_PRED_FAC_MR122: Word16 = Word16(21299);

/// The 5-split codebooks, each paired with the first of the two LSF
/// coefficients it covers.
///
/// Entries are stride 4 and interleaved `[set1[a], set1[a+1], set2[a],
/// set2[a+1]]`: a single index quantises the same coefficient pair in *both*
/// LSF sets of the frame. That is what makes this a matrix quantiser, and it is
/// why the MA prediction below is applied once per frame rather than once per
/// set.
const SPLITS_5: [(&[i16], usize); 5] = [
    (&DICO1_LSF_5, 0),
    (&DICO2_LSF_5, 2),
    (&DICO3_LSF_5, 4),
    (&DICO4_LSF_5, 6),
    (&DICO5_LSF_5, 8),
];

/// The split whose index spends its least significant bit on a sign.
///
/// Nine transmitted bits address a 256-entry table: the low bit negates the
/// whole quadruple instead of selecting among 512 stored entries. The stored
/// table is *not* sign-symmetric — the symmetry is created here, at decode
/// time.
const SIGNED_SPLIT_5: usize = 2;

/// Which codebook triple a mode uses for the 3-split quantiser.
///
/// Three groupings, not eight: most modes share one set, 4.75 and 5.15 swap the
/// third split for a smaller book, and 7.95 swaps the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Books {
    /// 5.90, 6.70, 7.40, 10.2 and the SID frame.
    Standard,
    /// 4.75 and 5.15 — a reduced third split, and the second index is doubled.
    Reduced,
    /// 7.95 — a wider first split.
    Wide,
}

impl Books {
    const fn for_mode(mode_index: u8) -> Self {
        match mode_index {
            0 | 1 => Self::Reduced,
            5 => Self::Wide,
            _ => Self::Standard,
        }
    }

    const fn first(self) -> &'static [i16] {
        match self {
            Self::Wide => &MR795_1_LSF,
            _ => &DICO1_LSF_3,
        }
    }

    const fn third(self) -> &'static [i16] {
        match self {
            Self::Reduced => &MR515_3_LSF,
            _ => &DICO3_LSF_3,
        }
    }
}

/// Carried spectral state: the MA predictor and the previous frame's LSFs.
///
/// One struct for both quantisers, deliberately. A stream that switches rate
/// mid-call carries this memory across the switch, and the two quantisers then
/// interpret the very same numbers against different means and predictors.
/// Splitting the state per variant would silently reset the predictor on every
/// rate change.
#[derive(Debug, Clone)]
pub struct LsfDecoder {
    /// Previous quantised residual, the MA prediction's input.
    past_residual: [Word16; M],
    /// Previous decoded LSFs, for concealment.
    past_lsf: [Word16; M],
}

impl Default for LsfDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl LsfDecoder {
    /// A decoder seeded from the reference's `past_rq_init`, as `Init_D_plsf_3`
    /// leaves it.
    ///
    /// The residual is seeded rather than zeroed: a zeroed predictor makes the
    /// first frame decode as if the previous spectrum had been exactly the
    /// long-term mean, which it was not.
    ///
    /// This is the *comfort-noise* initialiser, and only approximately that:
    /// `Init_D_plsf_3` writes the residual and leaves the previous LSFs
    /// untouched, where this fills them with [`MEAN_LSF_3`]. A speech decoder
    /// starts from [`LsfDecoder::at_reset`] instead — `Decoder_amr_reset` calls
    /// `D_plsf_reset`, and `Init_D_plsf_3` appears only on the DTX path, where
    /// the SID frame's first parameter chooses among eight seed vectors.
    #[must_use]
    pub fn new() -> Self {
        let mut past_residual = [Word16(0); M];
        for (slot, &v) in past_residual.iter_mut().zip(PAST_RQ_INIT.iter()) {
            *slot = Word16(v);
        }
        Self {
            past_residual,
            past_lsf: MEAN_LSF_3.map(Word16),
        }
    }

    /// A decoder in the state `D_plsf_reset` leaves behind: no prediction
    /// memory, and the *5-split* long-term mean as the previous frame's LSFs.
    ///
    /// The mean is [`MEAN_LSF_5`] for every rate, not only 12.2. The reference's
    /// shared reset lives in a file that includes the 12.2 codebook table, so
    /// the seven 3-split rates reset to a mean their own quantiser never uses
    /// again. It shows through on the first frame of a stream — as the
    /// concealed spectrum if that frame is erased, and as the "previous frame's
    /// LSFs" that the codebook-gain averaging interpolates against in any case.
    ///
    /// This is also the state to return to after every non-speech frame, not
    /// only at start-up: the reference resets the LSF decoder unconditionally
    /// whenever the receiver hands it anything other than a speech frame.
    #[must_use]
    pub fn at_reset() -> Self {
        Self {
            past_residual: [Word16(0); M],
            past_lsf: MEAN_LSF_5.map(Word16),
        }
    }

    /// `Init_D_plsf_3`: seed the prediction memory from one of eight vectors.
    ///
    /// Only the comfort-noise path calls this, and it calls it on *every*
    /// `SID_UPDATE` carrying valid data. The three-bit first parameter of a SID
    /// chooses the vector, so the encoder tells the decoder which starting
    /// point makes its residual decode correctly — the SID's own LSF indices
    /// are meaningless without it.
    ///
    /// # Panics
    /// If `index` is not in 0..=7.
    pub fn seed_predictor(&mut self, index: u16) {
        assert!(index < 8, "past_rq_init holds eight vectors, not {index}");
        let base = usize::from(index) * M;
        for (slot, &v) in self
            .past_residual
            .iter_mut()
            .zip(&PAST_RQ_INIT[base..base + M])
        {
            *slot = Word16(v);
        }
    }

    /// Overwrite the previous frame's LSFs without touching the predictor.
    ///
    /// The reference writes `lsfState->past_lsf_q` directly at the end of
    /// `dtx_dec`, with the *interpolated* comfort-noise LSFs rather than
    /// anything a quantiser produced. Everything downstream that reads "the
    /// previous frame's LSFs" — the running average, the codebook-gain
    /// smoother, the next erasure's concealment — then sees the noise
    /// spectrum, which is the point.
    pub const fn set_last_lsf(&mut self, lsf: [Word16; M]) {
        self.past_lsf = lsf;
    }

    /// Decode a SID frame's spectrum: the three-split books, prediction
    /// factor 1.
    ///
    /// The `MRDTX` branch of `D_plsf_3`. It differs from every speech rate in
    /// exactly one place — where speech scales the previous residual by the
    /// per-coefficient [`PRED_FAC_3`], the SID adds it unscaled. That is a
    /// stronger predictor, which is what lets a 35-bit frame carry a usable
    /// spectrum, and it is the whole difference: the codebooks, the mean and
    /// the reordering are the standard ones.
    ///
    /// Returns the LSPs, Q15. The LSFs are kept as [`last_lsf`](Self::last_lsf).
    ///
    /// # Panics
    /// If `indices` holds fewer than three entries.
    pub fn decode_sid(&mut self, indices: &[u16]) -> [Word16; M] {
        assert!(indices.len() >= 3, "a SID spectrum is three indices");
        let mut ctx = DspContext::default();
        let books = Books::Standard;

        let mut residual = [Word16(0); M];
        let base = usize::from(indices[0]) * 3;
        for (i, slot) in residual[0..3].iter_mut().enumerate() {
            *slot = Word16(books.first()[base + i]);
        }
        let base = usize::from(indices[1]) * 3;
        for (i, slot) in residual[3..6].iter_mut().enumerate() {
            *slot = Word16(DICO2_LSF_3[base + i]);
        }
        let base = usize::from(indices[2]) * 4;
        for (i, slot) in residual[6..10].iter_mut().enumerate() {
            *slot = Word16(books.third()[base + i]);
        }

        let mut lsf = [Word16(0); M];
        for i in 0..M {
            // `temp = mean_lsf[i] + past_r_q[i]` -- no `mult` by pred_fac.
            let anchor = add(&mut ctx, Word16(MEAN_LSF_3[i]), self.past_residual[i]);
            lsf[i] = add(&mut ctx, residual[i], anchor);
            self.past_residual[i] = residual[i];
        }

        reorder_lsf(&mut ctx, &mut lsf, LSF_GAP);
        self.past_lsf = lsf;
        lsf_to_lsp(&mut ctx, &lsf)
    }

    /// Decode one frame's LSFs into the cosine domain, three-split quantiser.
    ///
    /// `indices` holds the three split indices, Q0. On an erasure the indices
    /// are ignored and the previous LSFs are used, pulled toward the long-term
    /// mean. Returns one LSP set, Q15, for the 4th subframe.
    ///
    /// # Panics
    ///
    /// If `indices` holds fewer than three entries on a good frame, or if
    /// called for 12.2 kbit/s — that rate has its own quantiser,
    /// [`LsfDecoder::decode_pair`]. The 3-split books would decode a 12.2 frame
    /// into a plausible spectrum from indices that mean something else
    /// entirely, so this is worth a panic rather than a silent wrong answer.
    pub fn decode(&mut self, mode_index: u8, indices: &[u16], bad_frame: bool) -> [Word16; M] {
        assert!(mode_index < 7, "12.2 kbit/s decodes through decode_pair");
        let mut ctx = DspContext::default();

        let mut lsf = if bad_frame {
            self.conceal(&mut ctx)
        } else {
            assert!(
                indices.len() >= 3,
                "the 3-split quantiser needs three indices"
            );
            self.decode_good(&mut ctx, mode_index, indices)
        };

        // Quantisation can leave LSFs too close together or out of order, and
        // either makes the synthesis filter ring. Note this walks ALL ten
        // coefficients, where the wideband equivalent stops one short.
        reorder_lsf(&mut ctx, &mut lsf, LSF_GAP);
        self.past_lsf = lsf;

        lsf_to_lsp(&mut ctx, &lsf)
    }

    /// The LSFs this decoder last produced, Q15.
    ///
    /// The frame assembly needs them twice after the spectral path is done:
    /// `Int_lsf` interpolates the previous frame's against these for the
    /// codebook-gain smoother, and the running LSF average is updated from
    /// them. Both want LSFs rather than the LSPs [`decode`](Self::decode)
    /// returns, and recomputing them from the LSPs would not round-trip.
    #[must_use]
    pub const fn last_lsf(&self) -> &[Word16; M] {
        &self.past_lsf
    }

    fn decode_good(
        &mut self,
        ctx: &mut DspContext,
        mode_index: u8,
        indices: &[u16],
    ) -> [Word16; M] {
        let books = Books::for_mode(mode_index);
        let mut residual = [Word16(0); M];

        // First split: three coefficients.
        let base = usize::from(indices[0]) * 3;
        for (i, slot) in residual[0..3].iter_mut().enumerate() {
            *slot = Word16(books.first()[base + i]);
        }

        // Second split: three more. The reduced books address only every
        // second entry, so the index is doubled rather than the book halved.
        let index = if books == Books::Reduced {
            usize::from(indices[1]) * 2
        } else {
            usize::from(indices[1])
        };
        let base = index * 3;
        for (i, slot) in residual[3..6].iter_mut().enumerate() {
            *slot = Word16(DICO2_LSF_3[base + i]);
        }

        // Third split: four, so the index scales by four not three.
        let base = usize::from(indices[2]) * 4;
        for (i, slot) in residual[6..10].iter_mut().enumerate() {
            *slot = Word16(books.third()[base + i]);
        }

        // Undo the prediction. Unlike wideband's single scalar, narrowband has
        // a per-coefficient prediction factor.
        let mut lsf = [Word16(0); M];
        for i in 0..M {
            let predicted = mult(ctx, self.past_residual[i], Word16(PRED_FAC_3[i]));
            let anchor = add(ctx, Word16(MEAN_LSF_3[i]), predicted);
            lsf[i] = add(ctx, residual[i], anchor);
            self.past_residual[i] = residual[i];
        }
        lsf
    }

    /// Reconstruct LSFs for an erased frame.
    fn conceal(&mut self, ctx: &mut DspContext) -> [Word16; M] {
        let mut lsf = [Word16(0); M];
        for i in 0..M {
            let held = mult(ctx, self.past_lsf[i], ALPHA_3);
            let pulled = mult(ctx, Word16(MEAN_LSF_3[i]), ONE_ALPHA_3);
            lsf[i] = add(ctx, held, pulled);
        }
        // No transmitted residual, so estimate what one would have been.
        for i in 0..M {
            let predicted = mult(ctx, self.past_residual[i], Word16(PRED_FAC_3[i]));
            let anchor = add(ctx, Word16(MEAN_LSF_3[i]), predicted);
            self.past_residual[i] = sub(ctx, lsf[i], anchor);
        }
        lsf
    }

    /// Decode one 12.2 kbit/s frame's two LSF sets into the cosine domain.
    ///
    /// `indices` holds the five split indices, Q0, of widths 7, 8, 9, 8 and 6
    /// bits. Returns `(mid, new)`, both Q15: the LSPs quantised at the 2nd and
    /// at the 4th subframe. Feed them to [`interpolate_lsp_mid`] in that order,
    /// and carry `new` — not `mid` — into the next frame as `lsp_old`.
    ///
    /// On an erasure the indices are ignored, both sets come out identical, and
    /// the prediction memory is rebuilt from the concealed LSFs so the next good
    /// frame is decoded against something rather than against zero.
    ///
    /// # Panics
    ///
    /// If `indices` holds fewer than five entries on a good frame, or if an
    /// index overruns its codebook.
    pub fn decode_pair(&mut self, indices: &[u16], bad_frame: bool) -> ([Word16; M], [Word16; M]) {
        let mut ctx = DspContext::default();

        let (mut lsf_mid, mut lsf_new) = if bad_frame {
            self.conceal_pair(&mut ctx)
        } else {
            assert!(
                indices.len() >= 5,
                "the 5-split quantiser needs five indices"
            );
            self.decode_pair_good(&mut ctx, indices)
        };

        // Both sets are spaced independently. On an erasure they start out
        // identical, so this is redundant there — but only there, and the cost
        // of keeping the two paths uniform is ten comparisons.
        reorder_lsf(&mut ctx, &mut lsf_mid, LSF_GAP);
        reorder_lsf(&mut ctx, &mut lsf_new, LSF_GAP);

        // The concealment memory is the 4th-subframe set, and it is the
        // *spaced* one — where the prediction memory written above took the
        // raw, unspaced residual. Two different vectors, deliberately.
        self.past_lsf = lsf_new;

        (
            lsf_to_lsp(&mut ctx, &lsf_mid),
            lsf_to_lsp(&mut ctx, &lsf_new),
        )
    }

    /// Dequantise both LSF sets from five received indices.
    fn decode_pair_good(
        &mut self,
        ctx: &mut DspContext,
        indices: &[u16],
    ) -> ([Word16; M], [Word16; M]) {
        let mut residual_mid = [Word16(0); M];
        let mut residual_new = [Word16(0); M];

        for (split, &(book, first)) in SPLITS_5.iter().enumerate() {
            let (index, flip) = if split == SIGNED_SPLIT_5 {
                // Plain shift and mask, as in the reference: the index is a
                // non-negative field, so there is nothing for the arithmetic
                // operators to do differently.
                (usize::from(indices[split] >> 1), indices[split] & 1 != 0)
            } else {
                (usize::from(indices[split]), false)
            };

            // A plain multiply where the reference writes a saturating shift.
            // The field widths bound every index below its codebook's size, so
            // the shift cannot clamp; the assert is what keeps that true.
            let base = index * 4;
            assert!(
                base + 4 <= book.len(),
                "5-split index {index} overruns codebook {split}"
            );

            for k in 0..2 {
                let (mid, new) = (Word16(book[base + k]), Word16(book[base + 2 + k]));
                residual_mid[first + k] = if flip { negate(ctx, mid) } else { mid };
                residual_new[first + k] = if flip { negate(ctx, new) } else { new };
            }
        }

        let mut lsf_mid = [Word16(0); M];
        let mut lsf_new = [Word16(0); M];
        for i in 0..M {
            // One prediction, both sets: the MA predictor runs once per frame,
            // not once per LSF set. Reading it here and overwriting it two
            // lines down is the whole recurrence — hoisting the write out of
            // the loop would feed this frame's residual into this frame's
            // prediction.
            let predicted = mult(ctx, self.past_residual[i], LSP_PRED_FAC_MR122);
            let anchor = add(ctx, Word16(MEAN_LSF_5[i]), predicted);
            lsf_mid[i] = add(ctx, residual_mid[i], anchor);
            lsf_new[i] = add(ctx, residual_new[i], anchor);
            // The memory is the 4th-subframe set's residual. The mid-frame one
            // is never remembered.
            self.past_residual[i] = residual_new[i];
        }
        (lsf_mid, lsf_new)
    }

    /// Reconstruct both LSF sets for an erased 12.2 kbit/s frame.
    fn conceal_pair(&mut self, ctx: &mut DspContext) -> ([Word16; M], [Word16; M]) {
        let mut lsf = [Word16(0); M];
        for i in 0..M {
            let held = mult(ctx, self.past_lsf[i], ALPHA_5);
            let pulled = mult(ctx, Word16(MEAN_LSF_5[i]), ONE_ALPHA_5);
            lsf[i] = add(ctx, held, pulled);
        }
        // A second pass, not a continuation of the first: the residual estimate
        // for coefficient i must see the concealed LSF, and in the reference
        // that is guaranteed by the loop boundary rather than by the data
        // dependence (which happens to be per-coefficient anyway).
        for i in 0..M {
            let predicted = mult(ctx, self.past_residual[i], LSP_PRED_FAC_MR122);
            let anchor = add(ctx, Word16(MEAN_LSF_5[i]), predicted);
            self.past_residual[i] = sub(ctx, lsf[i], anchor);
        }
        // The two sets leave here identical; the spacing pass in the caller
        // cannot separate them either. A 12.2 erasure holds one spectrum for
        // the whole frame.
        (lsf, lsf)
    }
}

/// Force a minimum spacing between adjacent LSFs.
///
/// Walks forward raising values only, so ordering is restored as a side effect.
/// Covers all `M` coefficients — the wideband equivalent deliberately leaves its
/// last one alone, because there it is a predictor coefficient rather than a
/// line frequency.
pub fn reorder_lsf(ctx: &mut DspContext, lsf: &mut [Word16; M], min_dist: Word16) {
    let mut floor = min_dist;
    for slot in lsf.iter_mut() {
        if slot.0 < floor.0 {
            *slot = floor;
        }
        floor = add(ctx, *slot, min_dist);
    }
}

/// Convert LSFs (normalised frequencies) to LSPs (cosines).
///
/// Table-and-interpolate over 65 points, indexed by the top eight bits. The
/// wideband version uses 129 points and nine bits; they are not interchangeable.
///
/// # Panics
///
/// If any input is negative, which means it is not an LSF.
#[must_use]
pub fn lsf_to_lsp(ctx: &mut DspContext, lsf: &[Word16; M]) -> [Word16; M] {
    let mut lsp = [Word16(0); M];
    for (i, slot) in lsp.iter_mut().enumerate() {
        let ind = usize::try_from(shr(ctx, lsf[i], 8).0).expect("LSFs are non-negative");
        let offset = Word16(lsf[i].0 & 0x00ff);

        let step = sub(ctx, Word16(COS_TABLE[ind + 1]), Word16(COS_TABLE[ind]));
        let interp = l_mult(ctx, step, offset);
        let shifted = l_shr(ctx, interp, 9);
        *slot = add(ctx, Word16(COS_TABLE[ind]), extract_l(shifted));
    }
    lsp
}

/// Expand one interlaced root set into its polynomial, in Q23.
fn lsp_polynomial(ctx: &mut DspContext, lsp: &[Word16], f: &mut [Word32; 6]) {
    f[0] = l_mult(ctx, Word16(4096), Word16(2048));
    f[1] = l_msu(ctx, Word32(0), lsp[0], Word16(512));

    for i in 2..=5 {
        f[i] = f[i - 2];
        let q = lsp[(i - 1) * 2];
        for k in (2..=i).rev() {
            let (hi, lo) = l_extract(f[k - 1]);
            let term = l_shl(ctx, mpy_32_16(hi, lo, q), 1);
            // Note the order: add the two-back term first, then subtract.
            // Mathematically commutative, but the saturating operators are not.
            f[k] = l_add(ctx, f[k], f[k - 2]);
            f[k] = l_sub(ctx, f[k], term);
        }
        f[1] = l_msu(ctx, f[1], q, Word16(512));
    }
}

/// Convert LSPs to predictor coefficients, order 10.
///
/// **Not the wideband algorithm at a smaller order.** `F2(z)` is multiplied by
/// `(1 - z⁻¹)` here and `(1 - z⁻²)` there, the final shift is 13 rather than
/// 12, and there is no trailing-coefficient scaling at all.
#[must_use]
pub fn lsp_to_lp(ctx: &mut DspContext, lsp: &[Word16; M]) -> [Word16; MP1] {
    let mut f1 = [Word32(0); 6];
    let mut f2 = [Word32(0); 6];
    lsp_polynomial(ctx, &lsp[0..], &mut f1);
    lsp_polynomial(ctx, &lsp[1..], &mut f2);

    // F1 gains a root at z = -1 and F2 loses one at z = +1.
    for i in (1..=5).rev() {
        f1[i] = l_add(ctx, f1[i], f1[i - 1]);
        f2[i] = l_sub(ctx, f2[i], f2[i - 1]);
    }

    let mut a = [Word16(0); MP1];
    a[0] = Word16(4096);
    for i in 1..=5 {
        let j = M - i + 1;
        let sum = l_add(ctx, f1[i], f2[i]);
        a[i] = extract_l(l_shr_r(ctx, sum, 13));
        let diff = l_sub(ctx, f1[i], f2[i]);
        a[j] = extract_l(l_shr_r(ctx, diff, 13));
    }
    a
}

/// Interpolate between two frames' LSPs and convert each subframe to LP.
///
/// Weights are a uniform 1/4, 2/4, 3/4, 1 — unlike wideband's
/// `{0.45, 0.8, 0.96, 1.0}`, which is skewed toward the new frame because its
/// analysis window is. Narrowband's is not.
#[must_use]
pub fn interpolate_lsp(
    ctx: &mut DspContext,
    lsp_old: &[Word16; M],
    lsp_new: &[Word16; M],
) -> [Word16; AZ_SIZE] {
    let mut az = [Word16(0); AZ_SIZE];
    let mut lsp = [Word16(0); M];

    // Expressed as shifts rather than multiplies, exactly as the reference:
    // x - x/4 is 3/4 without a multiply, and the rounding differs from a
    // multiply by 24576.
    for i in 0..M {
        let quarter_new = shr(ctx, lsp_new[i], 2);
        let quarter_old = shr(ctx, lsp_old[i], 2);
        let three_quarter_old = sub(ctx, lsp_old[i], quarter_old);
        lsp[i] = add(ctx, quarter_new, three_quarter_old);
    }
    az[0..MP1].copy_from_slice(&lsp_to_lp(ctx, &lsp));

    for i in 0..M {
        let half_old = shr(ctx, lsp_old[i], 1);
        let half_new = shr(ctx, lsp_new[i], 1);
        lsp[i] = add(ctx, half_old, half_new);
    }
    az[MP1..2 * MP1].copy_from_slice(&lsp_to_lp(ctx, &lsp));

    for i in 0..M {
        let quarter_old = shr(ctx, lsp_old[i], 2);
        let quarter_new_drop = shr(ctx, lsp_new[i], 2);
        let three_quarter_new = sub(ctx, lsp_new[i], quarter_new_drop);
        lsp[i] = add(ctx, quarter_old, three_quarter_new);
    }
    az[2 * MP1..3 * MP1].copy_from_slice(&lsp_to_lp(ctx, &lsp));

    az[3 * MP1..].copy_from_slice(&lsp_to_lp(ctx, lsp_new));
    az
}

/// Interpolate across a frame that carries a mid-frame LSP set, 12.2 kbit/s.
///
/// `lsp_old` is the previous frame's 4th-subframe set, `lsp_mid` and `lsp_new`
/// this frame's 2nd- and 4th-subframe sets, all Q15. Returns `AZ_SIZE`
/// coefficients, Q12, four `MP1`-long blocks with 4096 leading each.
///
/// Weights: `½old + ½mid`, `mid`, `½mid + ½new`, `new`. Only two of the four
/// subframes are interpolated at all — the other two use a transmitted set
/// unmodified. That is what 12.2's 38 bits of LSF payload buy over 10.2's 26.
///
/// Not [`interpolate_lsp`] with an extra argument. That one weights `¾old+¼new`
/// / `½+½` / `¼old+¾new` / `new` across the whole frame; this one halves twice
/// about the mid-frame set. Given `lsp_mid == lsp_new` the two still disagree,
/// because the first subframe is `½old + ½new` here and `¾old + ¼new` there.
#[must_use]
pub fn interpolate_lsp_mid(
    ctx: &mut DspContext,
    lsp_old: &[Word16; M],
    lsp_mid: &[Word16; M],
    lsp_new: &[Word16; M],
) -> [Word16; AZ_SIZE] {
    let mut az = [Word16(0); AZ_SIZE];
    let mut lsp = [Word16(0); M];

    // Halving by an arithmetic shift, exactly as the reference: `shr` floors,
    // so this is biased low by up to one LSB against a rounded mean. That bias
    // is part of the bit stream's definition, not an artefact to clean up.
    for i in 0..M {
        let half_mid = shr(ctx, lsp_mid[i], 1);
        let half_old = shr(ctx, lsp_old[i], 1);
        lsp[i] = add(ctx, half_mid, half_old);
    }
    az[0..MP1].copy_from_slice(&lsp_to_lp(ctx, &lsp));

    az[MP1..2 * MP1].copy_from_slice(&lsp_to_lp(ctx, lsp_mid));

    for i in 0..M {
        let half_mid = shr(ctx, lsp_mid[i], 1);
        let half_new = shr(ctx, lsp_new[i], 1);
        lsp[i] = add(ctx, half_mid, half_new);
    }
    az[2 * MP1..3 * MP1].copy_from_slice(&lsp_to_lp(ctx, &lsp));

    az[3 * MP1..].copy_from_slice(&lsp_to_lp(ctx, lsp_new));
    az
}

/// The decoder's reset-state LSPs.
#[must_use]
pub fn initial_lsp() -> [Word16; M] {
    super::decoder_tables::LSP_INIT.map(Word16)
}
