//! LP analysis and LSP quantisation: the windowed autocorrelation, lag window and
//! Levinson-Durbin recursion (`lpc`), LP coefficients to LSPs (`Az_lsp`), and the split-VQ of
//! the LSFs (`Q_plsf_3`, `Q_plsf_5`) with their weighting (`Lsf_wt`).

use crate::basic::*;
use crate::dsp::*;
use crate::tables::*;
use crate::{Mode, LSF_GAP, M, MP1};

const L_WINDOW: usize = 240;
const LAG_H: [i16; M] = [
    32728, 32619, 32438, 32187, 31867, 31480, 31029, 30517, 29946, 29321,
];
const LAG_L: [i16; M] = [
    11904, 17280, 30720, 25856, 24192, 28992, 24384, 7360, 19520, 14784,
];

/// `Autocorr`: the autocorrelation of the windowed `x` as DPF numbers (r_h, r_l).
fn autocorr(x: &[i16], r_h: &mut [i16; MP1], r_l: &mut [i16; MP1], wind: &[i16; L_WINDOW]) {
    let mut y = [0i16; L_WINDOW];
    let mut sum: i32 = 0;
    let mut overflow = false;
    for i in 0..L_WINDOW {
        let t = ((i32::from(x[i]) * i32::from(wind[i])).wrapping_add(0x4000) >> 15) as i16;
        y[i] = t;
        if !overflow {
            sum = sum.wrapping_add((i32::from(t) * i32::from(t)) << 1);
            if sum < 0 {
                overflow = true;
            }
        }
    }
    while overflow {
        sum = 0;
        for v in y.iter_mut() {
            *v >>= 2;
            sum = sum.wrapping_add((i32::from(*v) * i32::from(*v)) << 1);
        }
        if sum > 0 {
            overflow = false;
        }
    }
    let sum = sum.wrapping_add(1);
    let norm = norm_l(sum);
    let sum = sum << norm;
    (r_h[0], r_l[0]) = l_extract(sum);
    for i in 1..=M {
        let s = y[..L_WINDOW - i]
            .iter()
            .zip(&y[i..])
            .fold(0i32, |s, (&a, &b)| {
                s.wrapping_add(i32::from(a) * i32::from(b))
            });
        let s = s.wrapping_shl(norm as u32 + 1);
        (r_h[i], r_l[i]) = l_extract(s);
    }
}

/// `Lag_window`: the lag window applied to the autocorrelations.
fn lag_window(r_h: &mut [i16; MP1], r_l: &mut [i16; MP1]) {
    for i in 1..=M {
        let x = mpy_32(r_h[i], r_l[i], LAG_H[i - 1], LAG_L[i - 1]);
        (r_h[i], r_l[i]) = l_extract(x);
    }
}

/// `Levinson`: LP coefficients from the autocorrelations; an unstable result gives the last
/// stable filter (`old_a`).
fn levinson(old_a: &mut [i16; MP1], rh: &[i16; MP1], rl: &[i16; MP1], a: &mut [i16]) {
    let mut ah = [0i16; MP1];
    let mut al = [0i16; MP1];
    let mut anh = [0i16; MP1];
    let mut anl = [0i16; MP1];
    let t1 = (i32::from(rh[1]) << 16).wrapping_add(i32::from(rl[1]) << 1);
    let t2 = l_abs(t1);
    let mut t0 = div_32(t2, rh[0], rl[0]);
    if t1 > 0 {
        t0 = l_negate(t0);
    }
    let (mut kh, mut kl) = l_extract(t0);
    let t0 = t0 >> 4;
    (ah[1], al[1]) = l_extract(t0);
    let t0 = MAX_32.wrapping_sub(l_abs(mpy_32(kh, kl, kh, kl)));
    let (hi, lo) = l_extract(t0);
    let t0 = mpy_32(rh[0], rl[0], hi, lo);
    let mut alp_exp = norm_l(t0);
    let t0 = t0 << alp_exp;
    let (mut alp_h, mut alp_l) = l_extract(t0);
    for i in 2..=M {
        let mut t0: i32 = 0;
        for j in 1..i {
            t0 = t0
                .wrapping_add((i32::from(rh[j]) * i32::from(al[i - j])) >> 15)
                .wrapping_add((i32::from(rl[j]) * i32::from(ah[i - j])) >> 15)
                .wrapping_add(i32::from(rh[j]) * i32::from(ah[i - j]));
        }
        t0 = t0.wrapping_shl(5);
        let t1 = (i32::from(rh[i]) << 16).wrapping_add(i32::from(rl[i]) << 1);
        t0 = t0.wrapping_add(t1);
        let t1 = l_abs(t0);
        let mut t2 = div_32(t1, alp_h, alp_l);
        if t0 > 0 {
            t2 = l_negate(t2);
        }
        t2 = l_shl(t2, alp_exp);
        (kh, kl) = l_extract(t2);
        if abs_s(kh) > 32750 {
            a[..MP1].copy_from_slice(old_a);
            return;
        }
        for j in 1..i {
            let mut t0 = (i32::from(kh) * i32::from(al[i - j])) >> 15;
            t0 = t0.wrapping_add((i32::from(kl) * i32::from(ah[i - j])) >> 15);
            t0 = t0.wrapping_add(i32::from(kh) * i32::from(ah[i - j]));
            t0 = t0.wrapping_add((i32::from(ah[j]) << 15) + i32::from(al[j]));
            anh[j] = (t0 >> 15) as i16;
            anl[j] = (t0 - (i32::from(anh[j]) << 15)) as i16;
        }
        anh[i] = (t2 >> 20) as i16;
        anl[i] = ((t2 >> 5) - (i32::from(anh[i]) << 15)) as i16;
        let t0 = MAX_32.wrapping_sub(l_abs(mpy_32(kh, kl, kh, kl)));
        let (hi, lo) = l_extract(t0);
        let mut t0 = (i32::from(alp_h) * i32::from(lo)) >> 15;
        t0 = t0.wrapping_add((i32::from(alp_l) * i32::from(hi)) >> 15);
        t0 = t0.wrapping_add(i32::from(alp_h) * i32::from(hi));
        t0 = t0.wrapping_shl(1);
        let j = norm_l(t0);
        t0 = t0.wrapping_shl(j as u32);
        (alp_h, alp_l) = l_extract(t0);
        alp_exp += j;
        ah[1..=i].copy_from_slice(&anh[1..=i]);
        al[1..=i].copy_from_slice(&anl[1..=i]);
    }
    a[0] = 4096;
    for i in 1..=M {
        let t0 = (i32::from(ah[i]) << 15).wrapping_add(i32::from(al[i]));
        let v = (t0.wrapping_add(0x2000) >> 14) as i16;
        a[i] = v;
        old_a[i] = v;
    }
}

/// The LP analysis (`lpcState`, which is Levinson's last stable filter).
pub(crate) struct Lpc {
    old_a: [i16; MP1],
}

impl Lpc {
    pub fn new() -> Self {
        let mut old_a = [0i16; MP1];
        old_a[0] = 4096;
        Lpc { old_a }
    }

    /// `lpc`: LP coefficients into `a` (subframes 1 and 3 at 12.2 kbit/s, else 3) from the
    /// speech window at `x` (`x_12k2` at 12.2 kbit/s).
    pub fn analyse(&mut self, mode: Mode, x: &[i16], x_12k2: &[i16], a: &mut [i16; 4 * MP1]) {
        let mut rh = [0i16; MP1];
        let mut rl = [0i16; MP1];
        if mode == Mode::MR122 {
            autocorr(x_12k2, &mut rh, &mut rl, &WINDOW_160_80);
            lag_window(&mut rh, &mut rl);
            levinson(&mut self.old_a, &rh, &rl, &mut a[MP1..2 * MP1]);
            autocorr(x_12k2, &mut rh, &mut rl, &WINDOW_232_8);
            lag_window(&mut rh, &mut rl);
            levinson(&mut self.old_a, &rh, &rl, &mut a[3 * MP1..4 * MP1]);
        } else {
            autocorr(x, &mut rh, &mut rl, &WINDOW_200_40);
            lag_window(&mut rh, &mut rl);
            levinson(&mut self.old_a, &rh, &rl, &mut a[3 * MP1..4 * MP1]);
        }
    }
}

/// `Chebps`: the Chebyshev polynomial `f` at `x`.
fn chebps(x: i16, f: &[i16; 6]) -> i16 {
    let x32 = i32::from(x);
    let mut l_temp: i32 = 0x0100_0000;
    let t0 = (x32 << 10).wrapping_add(i32::from(f[1]) << 14);
    let mut b1_h = (t0 >> 16) as i16;
    let mut b1_l = ((t0 >> 1) - (i32::from(b1_h) << 15)) as i16;
    for &fi in &f[2..5] {
        let mut t0 = i32::from(b1_h) * x32;
        t0 = t0.wrapping_add((i32::from(b1_l) * x32) >> 15);
        t0 = t0.wrapping_shl(2);
        t0 = t0.wrapping_sub(l_temp);
        t0 = t0.wrapping_add(i32::from(fi) << 14);
        l_temp = (i32::from(b1_h) << 16).wrapping_add(i32::from(b1_l) << 1);
        b1_h = (t0 >> 16) as i16;
        b1_l = ((t0 >> 1) - (i32::from(b1_h) << 15)) as i16;
    }
    let mut t0 = i32::from(b1_h) * x32;
    t0 = t0.wrapping_add((i32::from(b1_l) * x32) >> 15);
    t0 = t0.wrapping_shl(1);
    t0 = t0.wrapping_sub(l_temp);
    t0 = t0.wrapping_add(i32::from(f[5]) << 13);
    if (t0.wrapping_add(33_554_432) as u32) < 67_108_863 {
        (t0 >> 10) as i16
    } else if t0 > 0x01ff_ffff {
        MAX_16
    } else {
        MIN_16
    }
}

/// `Az_lsp`: LP coefficients to LSPs by searching the Chebyshev polynomials' roots on a grid;
/// `old_lsp` when fewer than ten are found.
pub(crate) fn az_lsp(a: &[i16], lsp: &mut [i16; M], old_lsp: &[i16; M]) {
    const NC: usize = M / 2;
    let mut f1 = [0i16; NC + 1];
    let mut f2 = [0i16; NC + 1];
    f1[0] = 1024;
    f2[0] = 1024;
    for i in 0..NC {
        let t1 = i32::from(a[i + 1]);
        let t2 = i32::from(a[M - i]);
        let x = ((t1 + t2) >> 2) as i16;
        let y = ((t1 - t2) >> 2) as i16;
        f1[i + 1] = x.wrapping_sub(f1[i]);
        f2[i + 1] = y.wrapping_add(f2[i]);
    }
    let mut nf = 0usize;
    let mut ip = 0;
    let mut coef = &f1;
    let mut xlow = GRID[0];
    let mut ylow = chebps(xlow, coef);
    let mut j = 0usize;
    while nf < M && j < 60 {
        j += 1;
        let mut xhigh = xlow;
        let mut yhigh = ylow;
        xlow = GRID[j];
        ylow = chebps(xlow, coef);
        if i32::from(ylow) * i32::from(yhigh) <= 0 {
            for _ in 0..4 {
                let xmid = (xlow >> 1).wrapping_add(xhigh >> 1);
                let ymid = chebps(xmid, coef);
                if i32::from(ylow) * i32::from(ymid) <= 0 {
                    yhigh = ymid;
                    xhigh = xmid;
                } else {
                    ylow = ymid;
                    xlow = xmid;
                }
            }
            let x = xhigh.wrapping_sub(xlow);
            let y = yhigh.wrapping_sub(ylow);
            let xint = if y == 0 {
                xlow
            } else {
                let sign = y;
                let y = abs_s(y);
                let exp = norm_s(y);
                let y = div_s(16383, y << exp);
                let mut y = ((i32::from(x) * i32::from(y)) >> (19 - exp)) as i16;
                if sign < 0 {
                    y = y.wrapping_neg();
                }
                xlow.wrapping_sub(((i32::from(ylow) * i32::from(y)) >> 10) as i16)
            };
            lsp[nf] = xint;
            xlow = xint;
            nf += 1;
            if ip == 0 {
                ip = 1;
                coef = &f2;
            } else {
                ip = 0;
                coef = &f1;
            }
            ylow = chebps(xlow, coef);
        }
    }
    if nf < M {
        lsp.copy_from_slice(old_lsp);
    }
}

/// `Lsf_wt`: the weights of the LSF quantiser's distance.
fn lsf_wt(lsf: &[i16; M], wf: &mut [i16; M]) {
    wf[0] = lsf[1];
    for i in 1..M - 1 {
        wf[i] = lsf[i + 1].wrapping_sub(lsf[i - 1]);
    }
    wf[M - 1] = 16384i16.wrapping_sub(lsf[M - 2]);
    for w in wf.iter_mut() {
        let t = w.wrapping_sub(1843);
        let v = if t > 0 {
            1843 - ((i32::from(t) * 6242) >> 15) as i16
        } else {
            3427 - ((i32::from(*w) * 28160) >> 15) as i16
        };
        *w = v.wrapping_shl(3);
    }
}

/// `Vq_subvec3`: the nearest of `size` 3-vectors (every other one when `use_half`).
fn vq_subvec3(r: &mut [i16], dico: &[i16], wf: &[i16], size: usize, use_half: bool) -> i16 {
    let step = if use_half { 6 } else { 3 };
    let mut dist_min = MAX_32;
    let mut index = 0;
    for i in 0..size {
        let d = &dico[i * step..i * step + 3];
        let mut dist: i32 = 0;
        for k in 0..3 {
            let t = r[k].wrapping_sub(d[k]);
            let t = ((i32::from(wf[k]) * i32::from(t)) >> 15) as i16;
            dist = dist.wrapping_add(i32::from(t) * i32::from(t));
        }
        if dist < dist_min {
            dist_min = dist;
            index = i;
        }
    }
    r[..3].copy_from_slice(&dico[index * step..index * step + 3]);
    index as i16
}

/// `Vq_subvec4`: the nearest of `size` 4-vectors.
fn vq_subvec4(r: &mut [i16], dico: &[i16], wf: &[i16], size: usize) -> i16 {
    let mut dist_min = MAX_32;
    let mut index = 0;
    for i in 0..size {
        let d = &dico[i * 4..i * 4 + 4];
        let mut dist: i32 = 0;
        for k in 0..4 {
            let t = r[k].wrapping_sub(d[k]);
            let t = ((i32::from(wf[k]) * i32::from(t)) >> 15) as i16;
            dist = dist.wrapping_add(i32::from(t) * i32::from(t));
        }
        if dist < dist_min {
            dist_min = dist;
            index = i;
        }
    }
    r[..4].copy_from_slice(&dico[index * 4..index * 4 + 4]);
    index as i16
}

/// `Vq_subvec`: the nearest of `size` pairs of 2-vectors (the two LSF sets of 12.2 kbit/s).
fn vq_subvec(
    r1: &mut [i16],
    r2: &mut [i16],
    dico: &[i16],
    wf1: &[i16],
    wf2: &[i16],
    size: usize,
) -> i16 {
    let mut dist_min = MAX_32;
    let mut index = 0;
    let aux = [
        i32::from(r1[0]) * i32::from(wf1[0]),
        i32::from(r1[1]) * i32::from(wf1[1]),
        i32::from(r2[0]) * i32::from(wf2[0]),
        i32::from(r2[1]) * i32::from(wf2[1]),
    ];
    let w = [wf1[0], wf1[1], wf2[0], wf2[1]];
    'entries: for i in 0..size {
        let d = &dico[i * 4..i * 4 + 4];
        let mut dist: i32 = 0;
        for k in 0..4 {
            let t = (aux[k].wrapping_sub(i32::from(w[k]) * i32::from(d[k])) >> 15) as i16;
            dist = dist.wrapping_add(i32::from(t) * i32::from(t));
            if k < 3 && dist >= dist_min {
                continue 'entries;
            }
        }
        if dist < dist_min {
            dist_min = dist;
            index = i;
        }
    }
    let d = &dico[index * 4..index * 4 + 4];
    r1[0] = d[0];
    r1[1] = d[1];
    r2[0] = d[2];
    r2[1] = d[3];
    index as i16
}

/// `Vq_subvec_s`: as [`vq_subvec`], each entry also tried negated.
fn vq_subvec_s(
    r1: &mut [i16],
    r2: &mut [i16],
    dico: &[i16],
    wf1: &[i16],
    wf2: &[i16],
    size: usize,
) -> i16 {
    let mut dist_min = MAX_32;
    let mut index = 0usize;
    let mut sign = false;
    let r = [r1[0], r1[1], r2[0], r2[1]];
    let w = [wf1[0], wf1[1], wf2[0], wf2[1]];
    for i in 0..size {
        let d = &dico[i * 4..i * 4 + 4];
        let mut d1: i32 = 0;
        let mut d2: i32 = 0;
        let mut skip = false;
        for k in 0..4 {
            let t1 = r[k].wrapping_sub(d[k]);
            let t2 = r[k].wrapping_add(d[k]);
            let t1 = ((i32::from(w[k]) * i32::from(t1)) >> 15) as i16;
            let t2 = ((i32::from(w[k]) * i32::from(t2)) >> 15) as i16;
            d1 = d1.wrapping_add(i32::from(t1) * i32::from(t1));
            d2 = d2.wrapping_add(i32::from(t2) * i32::from(t2));
            if k == 1 && d1 >= dist_min && d2 >= dist_min {
                skip = true;
                break;
            }
        }
        if skip {
            continue;
        }
        if d1 < dist_min {
            dist_min = d1;
            index = i;
            sign = false;
        }
        if d2 < dist_min {
            dist_min = d2;
            index = i;
            sign = true;
        }
    }
    let d = &dico[index * 4..index * 4 + 4];
    let f = |v: i16| if sign { v.wrapping_neg() } else { v };
    r1[0] = f(d[0]);
    r1[1] = f(d[1]);
    r2[0] = f(d[2]);
    r2[1] = f(d[3]);
    (index as i16) * 2 + i16::from(sign)
}

const LSP_PRED_FAC_MR122: i32 = 21299;

/// The LSP quantiser's state (`Q_plsfState`).
#[derive(Clone)]
pub(crate) struct QPlsf {
    pub past_rq: [i16; M],
}

impl QPlsf {
    pub fn new() -> Self {
        QPlsf { past_rq: [0; M] }
    }

    /// `Q_plsf_3`: quantises one LSP vector (every mode but 12.2 kbit/s; `dtx` for a SID
    /// frame, which also picks the predictor's initial state and answers its index).
    pub fn q_plsf_3(
        &mut self,
        mode: Mode,
        dtx: bool,
        lsp1: &[i16; M],
        lsp1_q: &mut [i16; M],
        indice: &mut [i16],
    ) -> i16 {
        let mut lsf1 = [0i16; M];
        let mut wf1 = [0i16; M];
        let mut lsf_p = [0i16; M];
        let mut lsf_r1 = [0i16; M];
        let mut pred_init_i = 0;
        lsp_lsf(lsp1, &mut lsf1);
        lsf_wt(&lsf1, &mut wf1);
        if !dtx {
            for i in 0..M {
                let t = ((i32::from(self.past_rq[i]) * i32::from(PRED_FAC_3[i])) >> 15) as i16;
                lsf_p[i] = MEAN_LSF_3[i].wrapping_add(t);
                lsf_r1[i] = lsf1[i].wrapping_sub(lsf_p[i]);
            }
        } else {
            let mut min_err = MAX_32;
            for j in 0..8 {
                let mut err: i32 = 0;
                let mut temp_p = [0i16; M];
                let mut temp_r1 = [0i16; M];
                for i in 0..M {
                    temp_p[i] = MEAN_LSF_3[i].wrapping_add(PAST_RQ_INIT[j * M + i]);
                    temp_r1[i] = lsf1[i].wrapping_sub(temp_p[i]);
                    let t = i32::from(temp_r1[i]) * i32::from(temp_r1[i]);
                    err = err.wrapping_add(t.wrapping_shl(1));
                }
                if err < min_err {
                    min_err = err;
                    lsf_r1 = temp_r1;
                    lsf_p = temp_p;
                    self.past_rq
                        .copy_from_slice(&PAST_RQ_INIT[j * M..(j + 1) * M]);
                    pred_init_i = j as i16;
                }
            }
        }
        if !dtx && (mode == Mode::MR475 || mode == Mode::MR515) {
            indice[0] = vq_subvec3(&mut lsf_r1[0..], &DICO1_LSF_3, &wf1[0..], 256, false);
            indice[1] = vq_subvec3(&mut lsf_r1[3..], &DICO2_LSF_3, &wf1[3..], 256, true);
            indice[2] = vq_subvec4(&mut lsf_r1[6..], &MR515_3_LSF, &wf1[6..], 128);
        } else if !dtx && mode == Mode::MR795 {
            indice[0] = vq_subvec3(&mut lsf_r1[0..], &MR795_1_LSF, &wf1[0..], 512, false);
            indice[1] = vq_subvec3(&mut lsf_r1[3..], &DICO2_LSF_3, &wf1[3..], 512, false);
            indice[2] = vq_subvec4(&mut lsf_r1[6..], &DICO3_LSF_3, &wf1[6..], 512);
        } else {
            indice[0] = vq_subvec3(&mut lsf_r1[0..], &DICO1_LSF_3, &wf1[0..], 256, false);
            indice[1] = vq_subvec3(&mut lsf_r1[3..], &DICO2_LSF_3, &wf1[3..], 512, false);
            indice[2] = vq_subvec4(&mut lsf_r1[6..], &DICO3_LSF_3, &wf1[6..], 512);
        }
        let mut lsf1_q = [0i16; M];
        for i in 0..M {
            lsf1_q[i] = lsf_r1[i].wrapping_add(lsf_p[i]);
            self.past_rq[i] = lsf_r1[i];
        }
        reorder_lsf(&mut lsf1_q, LSF_GAP);
        lsf_lsp(&lsf1_q, lsp1_q);
        pred_init_i
    }

    /// `Q_plsf_5`: quantises the two LSP vectors of 12.2 kbit/s.
    pub fn q_plsf_5(
        &mut self,
        lsp1: &[i16; M],
        lsp2: &[i16; M],
        lsp1_q: &mut [i16; M],
        lsp2_q: &mut [i16; M],
        indice: &mut [i16],
    ) {
        let mut lsf1 = [0i16; M];
        let mut lsf2 = [0i16; M];
        let mut wf1 = [0i16; M];
        let mut wf2 = [0i16; M];
        let mut lsf_p = [0i16; M];
        let mut lsf_r1 = [0i16; M];
        let mut lsf_r2 = [0i16; M];
        lsp_lsf(lsp1, &mut lsf1);
        lsp_lsf(lsp2, &mut lsf2);
        lsf_wt(&lsf1, &mut wf1);
        lsf_wt(&lsf2, &mut wf2);
        for i in 0..M {
            lsf_p[i] = MEAN_LSF_5[i]
                .wrapping_add(((i32::from(self.past_rq[i]) * LSP_PRED_FAC_MR122) >> 15) as i16);
            lsf_r1[i] = lsf1[i].wrapping_sub(lsf_p[i]);
            lsf_r2[i] = lsf2[i].wrapping_sub(lsf_p[i]);
        }
        {
            let (a1, b1) = lsf_r1.split_at_mut(2);
            let (a2, b2) = lsf_r2.split_at_mut(2);
            indice[0] = vq_subvec(a1, a2, &DICO1_LSF_5, &wf1[0..], &wf2[0..], 128);
            indice[1] = vq_subvec(
                &mut b1[0..2],
                &mut b2[0..2],
                &DICO2_LSF_5,
                &wf1[2..],
                &wf2[2..],
                256,
            );
            indice[2] = vq_subvec_s(
                &mut b1[2..4],
                &mut b2[2..4],
                &DICO3_LSF_5,
                &wf1[4..],
                &wf2[4..],
                256,
            );
            indice[3] = vq_subvec(
                &mut b1[4..6],
                &mut b2[4..6],
                &DICO4_LSF_5,
                &wf1[6..],
                &wf2[6..],
                256,
            );
            indice[4] = vq_subvec(
                &mut b1[6..8],
                &mut b2[6..8],
                &DICO5_LSF_5,
                &wf1[8..],
                &wf2[8..],
                64,
            );
        }
        let mut lsf1_q = [0i16; M];
        let mut lsf2_q = [0i16; M];
        for i in 0..M {
            lsf1_q[i] = lsf_r1[i].wrapping_add(lsf_p[i]);
            lsf2_q[i] = lsf_r2[i].wrapping_add(lsf_p[i]);
            self.past_rq[i] = lsf_r2[i];
        }
        reorder_lsf(&mut lsf1_q, LSF_GAP);
        reorder_lsf(&mut lsf2_q, LSF_GAP);
        lsf_lsp(&lsf1_q, lsp1_q);
        lsf_lsp(&lsf2_q, lsp2_q);
    }
}

/// The LSP analysis and quantisation of a frame (`lspState`).
pub(crate) struct Lsp {
    pub lsp_old: [i16; M],
    pub lsp_old_q: [i16; M],
    pub q: QPlsf,
}

impl Lsp {
    pub fn new() -> Self {
        Lsp {
            lsp_old: LSP_INIT_DATA,
            lsp_old_q: LSP_INIT_DATA,
            q: QPlsf::new(),
        }
    }

    /// `lsp`: the frame's LSPs from its LP coefficients, the unquantised filters of the
    /// subframes into `az`, and (but in a DTX frame) the quantised ones into `az_q` and the
    /// indices into `ana`.
    pub fn analyse(
        &mut self,
        req_mode: Mode,
        dtx_frame: bool,
        az: &mut [i16; 4 * MP1],
        az_q: &mut [i16; 4 * MP1],
        lsp_new: &mut [i16; M],
        ana: &mut [i16],
    ) -> usize {
        let mut lsp_new_q = [0i16; M];
        let mut used = 0;
        if req_mode == Mode::MR122 {
            let mut lsp_mid = [0i16; M];
            let mut lsp_mid_q = [0i16; M];
            az_lsp(&az[MP1..2 * MP1], &mut lsp_mid, &self.lsp_old);
            az_lsp(&az[3 * MP1..4 * MP1], lsp_new, &lsp_mid);
            // `Int_lpc_1and3_2`: the unquantised filters of subframes 0 and 2.
            let mut lsp = [0i16; M];
            for i in 0..M {
                lsp[i] = (self.lsp_old[i] >> 1).wrapping_add(lsp_mid[i] >> 1);
            }
            lsp_az(&lsp, &mut az[0..MP1]);
            for i in 0..M {
                lsp[i] = (lsp_mid[i] >> 1).wrapping_add(lsp_new[i] >> 1);
            }
            lsp_az(&lsp, &mut az[2 * MP1..3 * MP1]);
            if !dtx_frame {
                self.q
                    .q_plsf_5(&lsp_mid, lsp_new, &mut lsp_mid_q, &mut lsp_new_q, ana);
                int_lpc_1and3(&self.lsp_old_q, &lsp_mid_q, &lsp_new_q, az_q);
                used = 5;
            }
        } else {
            az_lsp(&az[3 * MP1..4 * MP1], lsp_new, &self.lsp_old);
            // `Int_lpc_1to3_2`: the unquantised filters of subframes 0 to 2.
            let mut lsp = [0i16; M];
            for i in 0..M {
                lsp[i] = self.lsp_old[i]
                    .wrapping_sub(self.lsp_old[i] >> 2)
                    .wrapping_add(lsp_new[i] >> 2);
            }
            lsp_az(&lsp, &mut az[0..MP1]);
            for i in 0..M {
                lsp[i] = (lsp_new[i] >> 1).wrapping_add(self.lsp_old[i] >> 1);
            }
            lsp_az(&lsp, &mut az[MP1..2 * MP1]);
            for i in 0..M {
                lsp[i] = lsp_new[i]
                    .wrapping_sub(lsp_new[i] >> 2)
                    .wrapping_add(self.lsp_old[i] >> 2);
            }
            lsp_az(&lsp, &mut az[2 * MP1..3 * MP1]);
            if !dtx_frame {
                self.q
                    .q_plsf_3(req_mode, false, lsp_new, &mut lsp_new_q, ana);
                int_lpc_1to3(&self.lsp_old_q, &lsp_new_q, az_q);
                used = 3;
            }
        }
        self.lsp_old = *lsp_new;
        if !dtx_frame {
            self.lsp_old_q = lsp_new_q;
        }
        used
    }
}
