//! The float-build signal processing of libspeex 1.2.1 that the decoder uses (`filters.c`,
//! `lsp.c`, `quant_lsp.c`, `ltp.c`, `cb_search.c`, `math_approx.h`), operation for operation:
//! where the C computes in `double` (a literal without `f`), so does this. Constants keep the
//! C sources' digits, so they round to the same `f32`.
#![allow(
    clippy::excessive_precision,
    reason = "constants are spelled as in libspeex so they round identically"
)]
#![allow(
    clippy::needless_range_loop,
    reason = "index loops mirror the C they port, so the two can be read side by side"
)]

use super::tables::{
    CDBK_NB, CDBK_NB_HIGH1, CDBK_NB_HIGH2, CDBK_NB_LOW1, CDBK_NB_LOW2, HIGH_LSP_CDBK,
    HIGH_LSP_CDBK2,
};
use super::Bits;

const M_PI: f64 = std::f64::consts::PI;

/// Reads `buf[i]`, or 0 outside it (the C reads only inside; this keeps junk from panicking).
#[inline]
pub(super) fn at(buf: &[f32], i: isize) -> f32 {
    if i < 0 {
        0.0
    } else {
        buf.get(i as usize).copied().unwrap_or(0.0)
    }
}

/// `speex_rand`: uniform noise of standard deviation `std`.
pub(super) fn speex_rand(std: f32, seed: &mut u32) -> f32 {
    *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
    let ran = f32::from_bits(0x3f80_0000 | (*seed & 0x007f_ffff));
    let ran = (f64::from(ran) - 1.5) as f32;
    (3.4642 * f64::from(std) * f64::from(ran)) as f32
}

/// `spx_cos` (float): a polynomial approximation.
fn spx_cos(x: f32) -> f32 {
    const C1: f32 = 0.9999932946;
    const C2: f32 = -0.4999124376;
    const C3: f32 = 0.0414877472;
    const C4: f32 = -0.0012712095;
    // `SPX_PI_2`, a `double` literal a hair above π/2.
    #[allow(clippy::approx_constant, reason = "libspeex's own literal, not π/2")]
    const SPX_PI_2: f64 = 1.5707963268;
    if f64::from(x) < SPX_PI_2 {
        let x = x * x;
        C1 + x * (C2 + x * (C3 + C4 * x))
    } else {
        let x = (M_PI - f64::from(x)) as f32;
        let x = x * x;
        -(C1 + x * (C2 + x * (C3 + C4 * x)))
    }
}

/// `compute_rms16` (float): `sqrt(.1 + sum(x²)/len)`.
pub(super) fn compute_rms16(x: &[f32]) -> f32 {
    let mut sum = 0f32;
    for &v in x {
        sum += v * v;
    }
    (0.1 + f64::from(sum / x.len() as f32)).sqrt() as f32
}

/// `inner_prod` as libspeex's SSE build computes it (`ltp_sse.h`, which Debian's amd64
/// libspeex uses): four lane sums over every fourth product, then `(l0 + l2) + (l1 + l3)`.
/// The portable C (four-product partial sums) differs from it by rounding only.
fn inner_prod(buf: &[f32], x: isize, y: isize, len: usize) -> f32 {
    let mut lanes = [0f32; 4];
    let mut i = 0isize;
    while i + 4 <= len as isize {
        for (k, lane) in lanes.iter_mut().enumerate() {
            let k = k as isize;
            *lane += at(buf, x + i + k) * at(buf, y + i + k);
        }
        i += 4;
    }
    (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
}

/// `iir_mem16` (float): all-pole filter `1/A(z)` with memory; `x` and `y` may be the same.
pub(super) fn iir_mem16(x: &[f32], den: &[f32], y: &mut [f32], mem: &mut [f32]) {
    let ord = den.len();
    for i in 0..y.len() {
        let yi = x[i] + mem[0];
        let nyi = -yi;
        for j in 0..ord - 1 {
            mem[j] = mem[j + 1] + den[j] * nyi;
        }
        mem[ord - 1] = den[ord - 1] * nyi;
        y[i] = yi;
    }
}

/// `iir_mem16` in place.
pub(super) fn iir_mem16_inplace(xy: &mut [f32], den: &[f32], mem: &mut [f32]) {
    let ord = den.len();
    for v in xy.iter_mut() {
        let yi = *v + mem[0];
        let nyi = -yi;
        for j in 0..ord - 1 {
            mem[j] = mem[j + 1] + den[j] * nyi;
        }
        mem[ord - 1] = den[ord - 1] * nyi;
        *v = yi;
    }
}

/// `bw_lpc`: bandwidth expansion.
pub(super) fn bw_lpc(gamma: f32, lpc_in: &[f32], lpc_out: &mut [f32]) {
    let mut tmp = gamma;
    for (o, &i) in lpc_out.iter_mut().zip(lpc_in) {
        *o = tmp * i;
        tmp *= gamma;
    }
}

/// `highpass` (float) with filter `filt_id` (3: wideband output, 1: narrowband output).
pub(super) fn highpass(xy: &mut [f32], filt_id: usize, mem: &mut [f32; 2]) {
    const PCOEF: [[f32; 3]; 5] = [
        [1.0, -1.911_2, 0.914_98],
        [1.0, -1.926_83, 0.930_71],
        [1.0, -1.933_38, 0.935_53],
        [1.0, -1.972_26, 0.973_32],
        [1.0, -1.37, 0.399],
    ];
    const ZCOEF: [[f32; 3]; 5] = [
        [0.956_54, -1.913_09, 0.956_54],
        [0.964_46, -1.928_79, 0.964_46],
        [0.967_23, -1.934_45, 0.967_23],
        [0.986_45, -1.972_77, 0.986_45],
        [0.88, -1.76, 0.88],
    ];
    let den = &PCOEF[filt_id.min(4)];
    let num = &ZCOEF[filt_id.min(4)];
    for v in xy.iter_mut() {
        let x = *v;
        let vout = num[0] * x + mem[0];
        mem[0] = (mem[1] + num[1] * x) + (-den[1] * vout);
        mem[1] = num[2] * x + (-den[2] * vout);
        *v = vout;
    }
}

/// `lsp_interpolate` (float).
pub(super) fn lsp_interpolate(
    old_lsp: &[f32],
    new_lsp: &[f32],
    lsp: &mut [f32],
    subframe: usize,
    nb_subframes: usize,
    margin: f32,
) {
    let len = lsp.len();
    let tmp = (1.0f32 + subframe as f32) / nb_subframes as f32;
    for i in 0..len {
        lsp[i] = (1.0 - tmp) * old_lsp[i] + tmp * new_lsp[i];
    }
    if lsp[0] < margin {
        lsp[0] = margin;
    }
    let top = M_PI - f64::from(margin);
    if f64::from(lsp[len - 1]) > top {
        lsp[len - 1] = top as f32;
    }
    for i in 1..len - 1 {
        if lsp[i] < lsp[i - 1] + margin {
            lsp[i] = lsp[i - 1] + margin;
        }
        if lsp[i] > lsp[i + 1] - margin {
            lsp[i] = 0.5 * (lsp[i] + lsp[i + 1] - margin);
        }
    }
}

/// `lsp_to_lpc` (float).
pub(super) fn lsp_to_lpc(freq: &[f32], ak: &mut [f32]) {
    let order = freq.len();
    let m = order / 2;
    let mut wp = [0f32; 4 * 5 + 2];
    let mut x_freq = [0f32; 10];
    for i in 0..order {
        x_freq[i] = spx_cos(freq[i]);
    }
    let mut xin1 = 1.0f32;
    let mut xin2 = 1.0f32;
    for j in 0..=order {
        let mut n4 = 0;
        for i in 0..m {
            let n1 = i * 4;
            let (n2, n3) = (n1 + 1, n1 + 2);
            n4 = n1 + 3;
            let xout1 = xin1 - 2.0 * x_freq[2 * i] * wp[n1] + wp[n2];
            let xout2 = xin2 - 2.0 * x_freq[2 * i + 1] * wp[n3] + wp[n4];
            wp[n2] = wp[n1];
            wp[n4] = wp[n3];
            wp[n1] = xin1;
            wp[n3] = xin2;
            xin1 = xout1;
            xin2 = xout2;
        }
        let xout1 = xin1 + wp[n4 + 1];
        let xout2 = xin2 - wp[n4 + 2];
        if j > 0 {
            ak[j - 1] = (xout1 + xout2) * 0.5;
        }
        wp[n4 + 1] = xin1;
        wp[n4 + 2] = xin2;
        xin1 = 0.0;
        xin2 = 0.0;
    }
}

fn lsp_add(lsp: &mut f32, scale: f64, v: i8) {
    *lsp = (f64::from(*lsp) + scale * f64::from(v)) as f32;
}

const DIV_256: f64 = 0.0039062;
const DIV_512: f64 = 0.0019531;
const DIV_1024: f64 = 0.00097656;

/// `lsp_unquant_nb`.
pub(super) fn lsp_unquant_nb(lsp: &mut [f32; 10], bits: &mut Bits) {
    for (i, l) in lsp.iter_mut().enumerate() {
        *l = (0.25 * i as f64 + 0.25) as f32;
    }
    let id = bits.unpack(6) as usize;
    for i in 0..10 {
        lsp_add(&mut lsp[i], DIV_256, CDBK_NB[id * 10 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..5 {
        lsp_add(&mut lsp[i], DIV_512, CDBK_NB_LOW1[id * 5 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..5 {
        lsp_add(&mut lsp[i], DIV_1024, CDBK_NB_LOW2[id * 5 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..5 {
        lsp_add(&mut lsp[i + 5], DIV_512, CDBK_NB_HIGH1[id * 5 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..5 {
        lsp_add(&mut lsp[i + 5], DIV_1024, CDBK_NB_HIGH2[id * 5 + i]);
    }
}

/// `lsp_unquant_lbr`.
pub(super) fn lsp_unquant_lbr(lsp: &mut [f32; 10], bits: &mut Bits) {
    for (i, l) in lsp.iter_mut().enumerate() {
        *l = (0.25 * i as f64 + 0.25) as f32;
    }
    let id = bits.unpack(6) as usize;
    for i in 0..10 {
        lsp_add(&mut lsp[i], DIV_256, CDBK_NB[id * 10 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..5 {
        lsp_add(&mut lsp[i], DIV_512, CDBK_NB_LOW1[id * 5 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..5 {
        lsp_add(&mut lsp[i + 5], DIV_512, CDBK_NB_HIGH1[id * 5 + i]);
    }
}

/// `lsp_unquant_high` (the wideband high band, order 8).
pub(super) fn lsp_unquant_high(lsp: &mut [f32; 8], bits: &mut Bits) {
    for (i, l) in lsp.iter_mut().enumerate() {
        *l = (0.3125 * i as f64 + 0.75) as f32;
    }
    let id = bits.unpack(6) as usize;
    for i in 0..8 {
        lsp_add(&mut lsp[i], DIV_256, HIGH_LSP_CDBK[id * 8 + i]);
    }
    let id = bits.unpack(6) as usize;
    for i in 0..8 {
        lsp_add(&mut lsp[i], DIV_512, HIGH_LSP_CDBK2[id * 8 + i]);
    }
}

/// A split-VQ innovation codebook (`split_cb_params`).
pub(super) struct SplitCb {
    pub(super) subvect_size: usize,
    pub(super) nb_subvect: usize,
    pub(super) shape_cb: &'static [i8],
    pub(super) shape_bits: usize,
    pub(super) have_sign: bool,
}

/// `split_cb_shape_sign_unquant` (float): adds the codebook vectors to `exc`.
pub(super) fn split_cb_shape_sign_unquant(exc: &mut [f32], params: &SplitCb, bits: &mut Bits) {
    let mut ind = [0usize; 10];
    let mut signs = [false; 10];
    for i in 0..params.nb_subvect {
        signs[i] = params.have_sign && bits.unpack(1) != 0;
        ind[i] = bits.unpack(params.shape_bits) as usize;
    }
    let n = params.subvect_size;
    for i in 0..params.nb_subvect {
        let s: f32 = if signs[i] { -1.0 } else { 1.0 };
        for j in 0..n {
            let idx = i * n + j;
            let v = f64::from(s) * 0.03125 * f64::from(params.shape_cb[ind[i] * n + j]);
            exc[idx] = (f64::from(exc[idx]) + v) as f32;
        }
    }
}

/// `noise_codebook_unquant`.
pub(super) fn noise_codebook_unquant(exc: &mut [f32], seed: &mut u32) {
    for v in exc.iter_mut() {
        *v = speex_rand(1.0, seed);
    }
}

/// `gain_3tap_to_1tap` (float, with its `double` half).
pub(super) fn gain_3tap_to_1tap(g: &[f32; 3]) -> f32 {
    let side = |v: f32| {
        if v > 0.0 {
            f64::from(v)
        } else {
            -0.5 * f64::from(v)
        }
    };
    (f64::from(g[1].abs()) + side(g[0]) + side(g[2])) as f32
}

/// `sanitize_values32`: clamps, and zeroes NaNs.
pub(super) fn sanitize_values32(vec: &mut [f32], min: f32, max: f32) {
    for v in vec.iter_mut() {
        if !(*v >= min && *v <= max) {
            *v = if *v < min {
                min
            } else if *v > max {
                max
            } else {
                0.0
            };
        }
    }
}

const SHIFT_FILT: [[f32; 7]; 3] = [
    [
        -0.011915, 0.046995, -0.152373, 0.614108, 0.614108, -0.152373, 0.046995,
    ],
    [
        -0.032_485_5,
        0.085_976_8,
        -0.204_298_6,
        0.964_029_7,
        0.208_642,
        -0.030_205_4,
        -0.006_364_6,
    ],
    [
        -0.006_364_6,
        -0.030_205_4,
        0.208_642,
        0.964_029_7,
        -0.204_298_6,
        0.085_976_8,
        -0.032_485_5,
    ],
];

/// `interp_pitch`: the excitation `pitch` samples back, at a fractional delay.
fn interp_pitch(buf: &[f32], exc: isize, interp: &mut [f32], pitch: isize) {
    let len = interp.len();
    let mut corr = [[0f32; 7]; 4];
    for i in 0..7 {
        corr[0][i] = inner_prod(buf, exc, exc - pitch - 3 + i as isize, len);
    }
    for i in 0..3 {
        for j in 0..7isize {
            let i1 = (3 - j).max(0);
            let i2 = (10 - j).min(7);
            let mut tmp = 0f32;
            for k in i1..i2 {
                tmp += SHIFT_FILT[i][k as usize] * corr[0][(j + k - 3) as usize];
            }
            corr[i + 1][j as usize] = tmp;
        }
    }
    let (mut maxi, mut maxj) = (0usize, 0isize);
    let mut maxcorr = corr[0][0];
    for (i, row) in corr.iter().enumerate() {
        for (j, &c) in row.iter().enumerate() {
            if c > maxcorr {
                maxcorr = c;
                maxi = i;
                maxj = j as isize;
            }
        }
    }
    for (i, out) in interp.iter_mut().enumerate() {
        let base = exc + i as isize - (pitch - maxj + 3);
        let mut tmp = 0f32;
        if maxi > 0 {
            for k in 0..7 {
                tmp += at(buf, base + k as isize - 3) * SHIFT_FILT[maxi - 1][k];
            }
        } else {
            tmp = at(buf, base);
        }
        *out = tmp;
    }
}

/// `multicomb` (float): the perceptual enhancer's comb filter over `nsf` samples of
/// excitation starting at `buf[exc]`, into `new_exc`.
pub(super) fn multicomb(
    buf: &[f32],
    exc: isize,
    new_exc: &mut [f32],
    pitch: i32,
    max_pitch: i32,
    comb_gain: f32,
) {
    let nsf = new_exc.len();
    let mut iexc = [0f32; 160];
    let corr_pitch = pitch;
    interp_pitch(buf, exc, &mut iexc[..80], corr_pitch as isize);
    if corr_pitch > max_pitch {
        interp_pitch(buf, exc, &mut iexc[nsf..nsf + 80], 2 * corr_pitch as isize);
    } else {
        interp_pitch(buf, exc, &mut iexc[nsf..nsf + 80], -corr_pitch as isize);
    }
    let iexc0_mag = f64::from(1000.0 + inner_prod(&iexc, 0, 0, nsf)).sqrt() as f32;
    let iexc1_mag =
        f64::from(1000.0 + inner_prod(&iexc, nsf as isize, nsf as isize, nsf)).sqrt() as f32;
    let exc_mag = f64::from(1.0 + inner_prod(buf, exc, exc, nsf)).sqrt() as f32;
    let dot = |off: usize| {
        let mut lanes = [0f32; 4];
        let mut i = 0;
        while i + 4 <= nsf {
            for (k, lane) in lanes.iter_mut().enumerate() {
                *lane += iexc[off + i + k] * at(buf, exc + (i + k) as isize);
            }
            i += 4;
        }
        (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
    };
    let corr0 = dot(0).max(0.0);
    let corr1 = dot(nsf).max(0.0);
    let pgain1 = if corr0 > iexc0_mag * exc_mag {
        1.0
    } else {
        (corr0 / exc_mag) / iexc0_mag
    };
    let pgain2 = if corr1 > iexc1_mag * exc_mag {
        1.0
    } else {
        (corr1 / exc_mag) / iexc1_mag
    };
    let gg1 = exc_mag / iexc0_mag;
    let gg2 = exc_mag / iexc1_mag;
    let (c1, c2) = if comb_gain > 0.0 {
        let c1 = (0.4 * f64::from(comb_gain) + 0.07) as f32;
        let c2 = (0.5 + 1.72 * (f64::from(c1) - 0.07)) as f32;
        (c1, c2)
    } else {
        (0.0, 0.0)
    };
    let mut g1 = 1.0 - c2 * pgain1 * pgain1;
    let mut g2 = 1.0 - c2 * pgain2 * pgain2;
    if g1 < c1 {
        g1 = c1;
    }
    if g2 < c1 {
        g2 = c1;
    }
    g1 = c1 / g1;
    g2 = c1 / g2;
    let (gain0, gain1) = if corr_pitch > max_pitch {
        (
            (0.7 * f64::from(g1 * gg1)) as f32,
            (0.3 * f64::from(g2 * gg2)) as f32,
        )
    } else {
        (
            (0.6 * f64::from(g1 * gg1)) as f32,
            (0.6 * f64::from(g2 * gg2)) as f32,
        )
    };
    for i in 0..nsf {
        new_exc[i] = at(buf, exc + i as isize) + (gain0 * iexc[i] + gain1 * iexc[i + nsf]);
    }
    let mut old = [0f32; 80];
    for (i, o) in old.iter_mut().enumerate().take(nsf) {
        *o = at(buf, exc + i as isize);
    }
    let mut new_ener = compute_rms16(new_exc);
    let mut old_ener = compute_rms16(&old[..nsf]);
    if old_ener < 1.0 {
        old_ener = 1.0;
    }
    if new_ener < 1.0 {
        new_ener = 1.0;
    }
    if old_ener > new_ener {
        old_ener = new_ener;
    }
    let ngain = old_ener / new_ener;
    for v in new_exc.iter_mut() {
        *v *= ngain;
    }
}

/// `qmf_synth` (float): recombines the low and high bands (`n` output samples) through the
/// QMF `a`, with memories.
pub(super) fn qmf_synth(
    x1: &[f32],
    x2: &[f32],
    a: &[f32; 64],
    y: &mut [f32],
    mem1: &mut [f32; 64],
    mem2: &mut [f32; 64],
) {
    const M: usize = 64;
    const N: usize = 320;
    const M2: usize = M / 2;
    const N2: usize = N / 2;
    let mut xx1 = [0f32; M2 + N2];
    let mut xx2 = [0f32; M2 + N2];
    for i in 0..N2 {
        xx1[i] = x1[N2 - 1 - i];
        xx2[i] = x2[N2 - 1 - i];
    }
    for i in 0..M2 {
        xx1[N2 + i] = mem1[2 * i + 1];
        xx2[N2 + i] = mem2[2 * i + 1];
    }
    let mut i = 0;
    while i < N2 {
        let (mut y0, mut y1, mut y2, mut y3) = (0f32, 0f32, 0f32, 0f32);
        let mut x10 = xx1[N2 - 2 - i];
        let mut x20 = xx2[N2 - 2 - i];
        let mut j = 0;
        while j < M2 {
            let a0 = a[2 * j];
            let a1 = a[2 * j + 1];
            let x11 = xx1[N2 - 1 + j - i];
            let x21 = xx2[N2 - 1 + j - i];
            y0 += a0 * (x11 - x21);
            y1 += a1 * (x11 + x21);
            y2 += a0 * (x10 - x20);
            y3 += a1 * (x10 + x20);
            let a0 = a[2 * j + 2];
            let a1 = a[2 * j + 3];
            x10 = xx1[N2 + j - i];
            x20 = xx2[N2 + j - i];
            y0 += a0 * (x10 - x20);
            y1 += a1 * (x10 + x20);
            y2 += a0 * (x11 - x21);
            y3 += a1 * (x11 + x21);
            j += 2;
        }
        y[2 * i] = 2.0 * y0;
        y[2 * i + 1] = 2.0 * y1;
        y[2 * i + 2] = 2.0 * y2;
        y[2 * i + 3] = 2.0 * y3;
        i += 2;
    }
    for i in 0..M2 {
        mem1[2 * i + 1] = xx1[i];
        mem2[2 * i + 1] = xx2[i];
    }
}
