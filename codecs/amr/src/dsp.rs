//! Signal processing both halves share: LSF/LSP conversions and LP interpolation, the synthesis
//! and residual filters, the fractional pitch predictor, the logarithm, power and root
//! approximations, the median, and the MA prediction of the codebook gain.
//!
//! A port of opencore-amr's `common/src` (3GPP TS 26.073). Where the reference accumulates in a
//! plain C `int` without saturating, this code wraps the same way.

use crate::basic::*;
use crate::tables::*;
use crate::{Mode, L_SUBFR, M, MP1};

/// `Lsf_lsp`: LSFs (0..0.5 in Q15) to LSPs (cosine domain) by table interpolation.
pub fn lsf_lsp(lsf: &[i16; M], lsp: &mut [i16; M]) {
    for i in 0..M {
        let ind = (lsf[i] >> 8) as usize;
        let offset = i32::from(lsf[i] & 0xff);
        let d = i32::from(LSP_COS[ind + 1]) - i32::from(LSP_COS[ind]);
        lsp[i] = LSP_COS[ind].wrapping_add(((d * offset) >> 8) as i16);
    }
}

/// `Lsp_lsf`: LSPs back to LSFs.
pub fn lsp_lsf(lsp: &[i16; M], lsf: &mut [i16; M]) {
    let mut ind = 63usize;
    for i in (0..M).rev() {
        let t = lsp[i];
        while LSP_COS[ind] < t {
            ind -= 1;
        }
        let l = (i32::from(t) - i32::from(LSP_COS[ind])) * i32::from(LSP_SLOPE[ind]);
        let l = (l + 0x800) >> 12;
        lsf[i] = (l as i16).wrapping_add((ind << 8) as i16);
    }
}

/// `Reorder_lsf`: keeps LSFs at least `min_dist` apart.
pub fn reorder_lsf(lsf: &mut [i16; M], min_dist: i16) {
    let mut lsf_min = min_dist;
    for v in lsf.iter_mut() {
        if *v < lsf_min {
            *v = lsf_min;
            lsf_min = lsf_min.wrapping_add(min_dist);
        } else {
            lsf_min = v.wrapping_add(min_dist);
        }
    }
}

/// `Get_lsp_pol`: the polynomial F1(z) or F2(z) from every other LSP, starting at `lsp[0]`.
fn get_lsp_pol(lsp: &[i16], f: &mut [i32; 6]) {
    f[0] = 0x0100_0000;
    f[1] = -(i32::from(lsp[0])) << 10;
    for i in 2..=5 {
        let l = i32::from(lsp[2 * (i - 1)]);
        f[i] = f[i - 2];
        for k in (2..=i).rev() {
            let hi = (f[k - 1] >> 16) as i16;
            let lo = ((f[k - 1] >> 1) - (i32::from(hi) << 15)) as i16;
            let t0 = (i32::from(hi) * l).wrapping_add((i32::from(lo) * l) >> 15);
            f[k] = f[k].wrapping_add(f[k - 2]).wrapping_sub(t0 << 2);
        }
        f[1] = f[1].wrapping_sub(l << 10);
    }
}

/// `Lsp_Az`: LSPs to LP coefficients a\[0..=10\] (Q12).
pub fn lsp_az(lsp: &[i16; M], a: &mut [i16]) {
    let mut f1 = [0i32; 6];
    let mut f2 = [0i32; 6];
    get_lsp_pol(&lsp[0..], &mut f1);
    get_lsp_pol(&lsp[1..], &mut f2);
    for i in (1..=5).rev() {
        f1[i] = f1[i].wrapping_add(f1[i - 1]);
        f2[i] = f2[i].wrapping_sub(f2[i - 1]);
    }
    a[0] = 4096;
    for i in 1..=5 {
        let t0 = f1[i].wrapping_add(f2[i]).wrapping_add(1 << 12);
        let t1 = f1[i].wrapping_sub(f2[i]).wrapping_add(1 << 12);
        a[i] = (t0 >> 13) as i16;
        a[11 - i] = (t1 >> 13) as i16;
    }
}

/// `Int_lpc_1and3`: LP coefficients for the four subframes of 12.2 kbit/s, interpolating the
/// old, middle and new LSPs.
pub fn int_lpc_1and3(
    lsp_old: &[i16; M],
    lsp_mid: &[i16; M],
    lsp_new: &[i16; M],
    az: &mut [i16; 4 * MP1],
) {
    let mut lsp = [0i16; M];
    for i in 0..M {
        lsp[i] = (lsp_old[i] >> 1).wrapping_add(lsp_mid[i] >> 1);
    }
    lsp_az(&lsp, &mut az[0..MP1]);
    lsp_az(lsp_mid, &mut az[MP1..2 * MP1]);
    for i in 0..M {
        lsp[i] = (lsp_mid[i] >> 1).wrapping_add(lsp_new[i] >> 1);
    }
    lsp_az(&lsp, &mut az[2 * MP1..3 * MP1]);
    lsp_az(lsp_new, &mut az[3 * MP1..4 * MP1]);
}

/// `Int_lpc_1to3`: LP coefficients for the four subframes, interpolating the old and new LSPs.
pub fn int_lpc_1to3(lsp_old: &[i16; M], lsp_new: &[i16; M], az: &mut [i16; 4 * MP1]) {
    let mut lsp = [0i16; M];
    for i in 0..M {
        lsp[i] = lsp_old[i]
            .wrapping_sub(lsp_old[i] >> 2)
            .wrapping_add(lsp_new[i] >> 2);
    }
    lsp_az(&lsp, &mut az[0..MP1]);
    for i in 0..M {
        lsp[i] = (lsp_new[i] >> 1).wrapping_add(lsp_old[i] >> 1);
    }
    lsp_az(&lsp, &mut az[MP1..2 * MP1]);
    for i in 0..M {
        lsp[i] = lsp_new[i]
            .wrapping_sub(lsp_new[i] >> 2)
            .wrapping_add(lsp_old[i] >> 2);
    }
    lsp_az(&lsp, &mut az[2 * MP1..3 * MP1]);
    lsp_az(lsp_new, &mut az[3 * MP1..4 * MP1]);
}

/// `Pred_lt_3or6`: the adaptive codebook vector, `exc[at..at + L_SUBFR]` interpolated from
/// the past excitation `T0` samples (plus a fraction of 1/3 or 1/6) back.
pub fn pred_lt_3or6(exc: &mut [i16], at: usize, t0: i16, frac: i16, flag3: bool) {
    let mut frac = -frac;
    if flag3 {
        frac <<= 1;
    }
    let mut base = at as isize - isize::from(t0);
    if frac < 0 {
        frac += 6;
        base -= 1;
    }
    let c1 = &INTER_6_PRED_LT[frac as usize..];
    let c2 = &INTER_6_PRED_LT[(6 - frac) as usize..];
    // c1[6k] against exc[x - k] and c2[6k] against exc[x + 1 + k]: one window of 20 samples
    // from x - 9, and the coefficients laid out in its order.
    let mut coef = [0i16; 20];
    for k in 0..10 {
        coef[9 - k] = c1[6 * k];
        coef[10 + k] = c2[6 * k];
    }
    let start = (base - 9) as usize;
    for n in 0..L_SUBFR {
        let w: &[i16; 20] = exc[start + n..start + n + 20].try_into().expect("window");
        exc[at + n] = (dot(&coef, w).wrapping_add(0x4000) >> 15) as i16;
    }
}

/// The wrapping dot product of two vectors, as the reference's plain `int` sums (whose order
/// then does not matter); written over whole arrays so that it vectorises.
#[inline(always)]
pub fn dot<const N: usize>(a: &[i16; N], b: &[i16; N]) -> i32 {
    a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// `Syn_filt`: the LP synthesis filter 1/A(z) over `x`, into `y`, with `mem` the past M
/// outputs (updated when `update`). Sums wrap and each output saturates, as the reference.
pub fn syn_filt(a: &[i16], x: &[i16], y: &mut [i16], mem: &mut [i16; M], update: bool) {
    let lg = x.len();
    let mut buf = [0i16; M + 2 * L_SUBFR];
    buf[..M].copy_from_slice(mem);
    // a[M], …, a[1]: the coefficients in the order of the past outputs in `buf`.
    let mut ar = [0i16; M];
    for k in 0..M {
        ar[k] = a[M - k];
    }
    let a0 = i32::from(a[0]);
    for (n, (&xn, yn)) in x.iter().zip(y.iter_mut()).enumerate() {
        let past: &[i16; M] = buf[n..n + M].try_into().expect("M past outputs");
        let s = (i32::from(xn) * a0)
            .wrapping_add(0x800)
            .wrapping_sub(dot(&ar, past));
        let v = if (s.wrapping_add(134_217_728) as u32) < 0x0fff_ffff {
            (s >> 12) as i16
        } else if s > 0x07ff_ffff {
            MAX_16
        } else {
            MIN_16
        };
        buf[M + n] = v;
        *yn = v;
    }
    if update {
        mem.copy_from_slice(&buf[lg..lg + M]);
    }
}

/// `Residu`: the LP residual of `x[M..]` through A(z), `x[..M]` being the past input.
pub fn residu(a: &[i16], x: &[i16], y: &mut [i16]) {
    let mut ar = [0i16; MP1];
    for k in 0..MP1 {
        ar[k] = a[M - k];
    }
    for (n, yn) in y.iter_mut().enumerate() {
        let w: &[i16; MP1] = x[n..n + MP1].try_into().expect("M + 1 inputs");
        *yn = (dot(&ar, w).wrapping_add(0x800) >> 12) as i16;
    }
}

/// `Weight_Ai`: a\[i\]·fac\[i−1\], the weighted LP coefficients.
pub fn weight_ai(a: &[i16], fac: &[i16; M], out: &mut [i16; MP1]) {
    out[0] = a[0];
    for i in 1..=M {
        out[i] = ((i32::from(a[i]) * i32::from(fac[i - 1]) + 0x4000) >> 15) as i16;
    }
}

/// `Log2_norm`: log2 of a normalised `x` (shifted left by `exp`), as (exponent, fraction).
pub fn log2_norm(x: i32, exp: i16) -> (i16, i16) {
    if x <= 0 {
        return (0, 0);
    }
    let x = x >> 10;
    let i = ((x >> 15) as i16 - 32) as usize;
    let a = x & 0x7fff;
    let mut y = i32::from(LOG2_TBL[i]) << 16;
    let tmp = i32::from(LOG2_TBL[i]) - i32::from(LOG2_TBL[i + 1]);
    y = y.wrapping_sub((tmp * a) << 1);
    (30 - exp, (y >> 16) as i16)
}

/// `Log2`: log2 of `x` as (exponent, fraction).
pub fn log2(x: i32) -> (i16, i16) {
    let exp = norm_l(x);
    log2_norm(x.wrapping_shl(exp as u32), exp)
}

/// `Pow2`: 2^(exponent.fraction).
pub fn pow2(exponent: i16, fraction: i16) -> i32 {
    let x = l_mult(fraction, 32);
    let i = ((x >> 16) as i16 & 31) as usize;
    let a = ((x >> 1) & 0x7fff) as i16;
    let mut x = i32::from(POW2_TBL[i]) << 16;
    let tmp = POW2_TBL[i].wrapping_sub(POW2_TBL[i + 1]);
    x = l_msu(x, tmp, a);
    l_shr_r(x, 30 - exponent)
}

/// `Inv_sqrt`: 1/sqrt(x).
pub fn inv_sqrt(x: i32) -> i32 {
    if x <= 0 {
        return 0x3fff_ffff;
    }
    let mut exp = norm_l(x);
    let mut x = x << exp;
    exp = 30 - exp;
    if exp & 1 == 0 {
        x >>= 1;
    }
    exp = (exp >> 1) + 1;
    x >>= 9;
    let i = ((x >> 16) as i16 - 16) as usize;
    let a = ((x >> 1) as i16) & 0x7fff;
    let mut y = i32::from(INV_SQRT_TBL[i]) << 16;
    let tmp = i32::from(INV_SQRT_TBL[i]) - i32::from(INV_SQRT_TBL[i + 1]);
    y = y.wrapping_sub((tmp * i32::from(a)) << 1);
    y >> exp
}

/// `sqrt_l_exp`: sqrt(x) with the (even) normalisation shift it used.
pub fn sqrt_l_exp(x: i32) -> (i32, i16) {
    if x <= 0 {
        return (0, 0);
    }
    let e = norm_l(x) & !1;
    let x = l_shl(x, e) >> 10;
    let mut i = ((x >> 15) as i16 & 63) as usize;
    let a = (x as i16) & 0x7fff;
    if i > 15 {
        i -= 16;
    }
    let y = i32::from(SQRT_L_TBL[i]) << 16;
    let tmp = SQRT_L_TBL[i].wrapping_sub(SQRT_L_TBL[i + 1]);
    (l_msu(y, tmp, a), e)
}

/// `gmed_n`: the median of `ind` (n ≤ 9, odd), as the reference picks it.
pub fn gmed_n(ind: &[i16]) -> i16 {
    let n = ind.len();
    let mut tmp = [0usize; 9];
    let mut tmp2 = [0i16; 9];
    tmp2[..n].copy_from_slice(ind);
    for slot in tmp.iter_mut().take(n) {
        let mut max = -32767i16;
        let mut ix = 0;
        for (j, &v) in tmp2[..n].iter().enumerate() {
            if v >= max {
                max = v;
                ix = j;
            }
        }
        tmp2[ix] = -32768;
        *slot = ix;
    }
    ind[tmp[n >> 1]]
}

/// `pseudonoise`: `no_bits` bits from the 31-bit scrambler.
pub fn pseudonoise(seed: &mut i32, no_bits: i16) -> i16 {
    let mut noise_bits: i16 = 0;
    for _ in 0..no_bits {
        let mut sn = *seed & 1;
        if *seed & 0x1000_0000 != 0 {
            sn ^= 1;
        }
        noise_bits = (noise_bits << 1) | (*seed & 1) as i16;
        *seed >>= 1;
        if sn & 1 != 0 {
            *seed |= 0x4000_0000;
        }
    }
    noise_bits
}

/// The MA predictor of the codebook gain's energy (`gc_predState`).
#[derive(Clone)]
pub struct GcPred {
    /// Past quantised energies, 20·log10 in Q10.
    pub past_qua_en: [i16; 4],
    /// Past quantised energies for 12.2 kbit/s, log2 in Q10.
    pub past_qua_en_mr122: [i16; 4],
}

const MEAN_ENER_MR122: i32 = 783_741;
const MIN_ENERGY: i16 = -14336;
const MIN_ENERGY_MR122: i16 = -2381;
const PRED: [i16; 4] = [5571, 4751, 2785, 1556];
const PRED_MR122: [i16; 4] = [44, 37, 22, 12];

impl GcPred {
    /// `gc_pred_reset`.
    pub fn new() -> Self {
        GcPred {
            past_qua_en: [MIN_ENERGY; 4],
            past_qua_en_mr122: [MIN_ENERGY_MR122; 4],
        }
    }

    /// `gc_pred`: the predicted codebook gain for `code` as (exp, frac) of a power of two, and
    /// for 7.95 kbit/s the innovation energy as (exp, frac).
    pub fn predict(&self, mode: Mode, code: &[i16]) -> (i16, i16, i16, i16) {
        let mut ener_code: i32 = 0;
        for &t in &code[..L_SUBFR] {
            ener_code = ener_code.wrapping_add((i32::from(t) * i32::from(t)) >> 3);
        }
        ener_code = ener_code.wrapping_shl(4);
        if ener_code >> 31 != 0 {
            ener_code = MAX_32;
        }
        let (mut exp_en, mut frac_en) = (0, 0);
        if mode == Mode::MR122 {
            let e = (i32::from(round(ener_code)) * 26214).wrapping_shl(1);
            let (exp, frac) = log2(e);
            let ener_code = ((i32::from(exp) - 30) << 16).wrapping_add(i32::from(frac) << 1);
            let mut ener = MEAN_ENER_MR122;
            for i in 0..4 {
                let t = (i32::from(self.past_qua_en_mr122[i]) * i32::from(PRED_MR122[i])) << 1;
                ener = l_add(ener, t);
            }
            let t1 = l_sub(ener, ener_code);
            let exp_g = (t1 >> 17) as i16;
            let frac_g = ((t1 >> 2) - (i32::from(exp_g) << 15)) as i16;
            return (exp_g, frac_g, exp_en, frac_en);
        }
        let exp_code = norm_l(ener_code);
        let ener_code = l_shl(ener_code, exp_code);
        let (exp, frac) = log2_norm(ener_code, exp_code);
        let t2 = (i32::from(exp) * -24660) << 1;
        let mut t = (i32::from(frac) * -24660) >> 15;
        if t & 0x0001_0000 != 0 {
            t |= 0xffff_0000u32 as i32;
        }
        t <<= 1;
        t = l_add(t, t2);
        t = match mode {
            Mode::MR102 => l_add(t, 16678 << 7),
            Mode::MR795 => {
                frac_en = (ener_code >> 16) as i16;
                exp_en = -11 - exp_code;
                l_add(t, 17062 << 7)
            }
            Mode::MR74 => l_add(t, 32588 << 6),
            Mode::MR67 => l_add(t, 32268 << 6),
            _ => l_add(t, 16678 << 7),
        };
        t = if t > 0x001f_ffff {
            MAX_32
        } else if t < -2_097_152 {
            MIN_32
        } else {
            t << 10
        };
        for i in 0..4 {
            t = l_add(
                t,
                (i32::from(PRED[i]) * i32::from(self.past_qua_en[i])) << 1,
            );
        }
        let gcode0 = (t >> 16) as i16;
        let t = if mode == Mode::MR74 {
            (i32::from(gcode0) * 5439) << 1
        } else {
            (i32::from(gcode0) * 5443) << 1
        } >> 8;
        let exp_g = (t >> 16) as i16;
        let t1 = t >> 1;
        let frac_g = l_sub(t1, i32::from(exp_g) << 15) as i16;
        (exp_g, frac_g, exp_en, frac_en)
    }

    /// `gc_pred_update`: remembers the quantised energies of this subframe.
    pub fn update(&mut self, qua_ener_mr122: i16, qua_ener: i16) {
        self.past_qua_en.copy_within(0..3, 1);
        self.past_qua_en_mr122.copy_within(0..3, 1);
        self.past_qua_en_mr122[0] = qua_ener_mr122;
        self.past_qua_en[0] = qua_ener;
    }

    /// `gc_pred_average_limited`: the mean past energies, bounded below.
    pub fn average_limited(&self) -> (i16, i16) {
        let avg = |v: &[i16; 4], min: i16| {
            let mut s: i16 = 0;
            for &x in v {
                s = add(s, x);
            }
            (s >> 2).max(min)
        };
        (
            avg(&self.past_qua_en_mr122, MIN_ENERGY_MR122),
            avg(&self.past_qua_en, MIN_ENERGY),
        )
    }
}
