//! Gain quantisation (`gainQuant`): the energies it weighs (`calc_en`), the joint pitch and
//! codebook gain VQ (`Qua_gain`), 12.2 kbit/s's scalar codebook gain (`G_code`,
//! `q_gain_code`), 7.95 kbit/s's adaptive search (`qgain795`, `g_adapt`) and 4.75 kbit/s's
//! two-subframe VQ (`qgain475`).

use super::pitch::q_gain_pitch;
use crate::basic::*;
use crate::dsp::*;
use crate::tables::*;
use crate::{Mode, L_SUBFR};

/// `Mpy_32_16` where it cannot saturate: in the gain VQs every coefficient is shifted right by
/// at least one (`hi` in −16384..=16383, `lo` in 0..=32767) and every gain term is in
/// 0..=32767, so 2·hi·n never reaches the one saturating product and the sum stays within
/// 2^30 + 2^16. Equal to [`mpy_32_16`] there, in fewer operations.
#[inline(always)]
fn mpy_vq(hi: i16, lo: i16, n: i16) -> i32 {
    debug_assert!((-16384..=16383).contains(&hi) && lo >= 0 && n >= 0);
    let n = i32::from(n);
    ((i32::from(hi) * n) << 1) + (((i32::from(lo) * n) >> 15) << 1)
}

const MIN_QUA_ENER: i16 = -5443;
const MIN_QUA_ENER_MR122: i16 = -32768;
const MAX_QUA_ENER: i16 = 3037;
const MAX_QUA_ENER_MR122: i16 = 18284;

/// `calc_unfilt_energies`: energies of the residual, the excitation, their correlation, the
/// LTP residual, and the LTP gain in dB (`ltpg`).
fn calc_unfilt_energies(
    res: &[i16],
    exc: &[i16],
    code: &[i16],
    gain_pit: i16,
    frac_en: &mut [i16; 4],
    exp_en: &mut [i16; 4],
) -> i16 {
    let (mut s1, mut s2, mut s3, mut s4) = (0i32, 0i32, 0i32, 0i32);
    for i in 0..L_SUBFR {
        let t1 = res[i];
        let t2 = exc[i];
        s1 = s1.wrapping_add(i32::from(t1) * i32::from(t1));
        s2 = s2.wrapping_add(i32::from(t2) * i32::from(t2));
        s3 = s3.wrapping_add(i32::from(t2) * i32::from(code[i]));
        let l = l_shl(l_mult(t2, gain_pit), 1);
        let d = sub(t1, round(l));
        s4 = l_mac(s4, d, d);
    }
    let mut s1 = s1.wrapping_shl(1);
    let mut s2 = s2.wrapping_shl(1);
    let s3 = s3.wrapping_shl(1);
    if s1 < 0 {
        s1 = MAX_32;
    }
    if s1 < 400 {
        frac_en[0] = 0;
        exp_en[0] = -15;
    } else {
        let e = norm_l(s1);
        frac_en[0] = (l_shl(s1, e) >> 16) as i16;
        exp_en[0] = 15 - e;
    }
    if s2 < 0 {
        s2 = MAX_32;
    }
    let e = norm_l(s2);
    frac_en[1] = (l_shl(s2, e) >> 16) as i16;
    exp_en[1] = 15 - e;
    let e = norm_l(s3);
    frac_en[2] = (l_shl(s3, e) >> 16) as i16;
    exp_en[2] = 2 - e;
    let e = norm_l(s4);
    let ltp_res_en = (l_shl(s4, e) >> 16) as i16;
    let e = 15 - e;
    frac_en[3] = ltp_res_en;
    exp_en[3] = e;
    if ltp_res_en > 0 && frac_en[0] != 0 {
        let pred_gain = div_s(shr(frac_en[0], 1), ltp_res_en);
        let e = sub(e, exp_en[0]);
        let l = l_shr(i32::from(pred_gain) << 16, e + 3);
        let (le, lf) = log2(l);
        let l = l_comp(le - 27, lf);
        round(l_shl(l, 13))
    } else {
        0
    }
}

/// `calc_filt_energies`: the correlations of the target and the filtered vectors that the
/// gain quantisers weigh, and (7.95, 4.75 kbit/s) the optimal codebook gain.
fn calc_filt_energies(
    mode: Mode,
    xn: &[i16; L_SUBFR],
    xn2: &[i16; L_SUBFR],
    y1: &[i16; L_SUBFR],
    y2: &[i16; L_SUBFR],
    g_coeff: &[i16; 4],
    frac_coeff: &mut [i16; 5],
    exp_coeff: &mut [i16; 5],
) -> (i16, i16) {
    frac_coeff[0] = g_coeff[0];
    exp_coeff[0] = g_coeff[1];
    frac_coeff[1] = negate(g_coeff[2]);
    exp_coeff[1] = g_coeff[3] + 1;
    let plain = mode == Mode::MR795 || mode == Mode::MR475;
    let init = if plain { 0 } else { 1 };
    let (mut s1, mut s2, mut s3) = (init, init, init);
    let mut scaled = [0i16; L_SUBFR];
    for i in 0..L_SUBFR {
        let t = y2[i] >> 3;
        scaled[i] = t;
        s1 = l_mac(s1, t, t);
        s2 = l_mac(s2, xn[i], t);
        s3 = l_mac(s3, y1[i], t);
    }
    let e = norm_l(s1);
    frac_coeff[2] = (l_shl(s1, e) >> 16) as i16;
    exp_coeff[2] = -3 - e;
    let e = norm_l(s2);
    frac_coeff[3] = negate((l_shl(s2, e) >> 16) as i16);
    exp_coeff[3] = 7 - e;
    let e = norm_l(s3);
    frac_coeff[4] = (l_shl(s3, e) >> 16) as i16;
    exp_coeff[4] = 7 - e;
    if plain {
        let mut s: i32 = 0;
        for i in 0..L_SUBFR {
            s = s.wrapping_add(i32::from(xn2[i]) * i32::from(scaled[i]));
        }
        let s = s.wrapping_shl(1);
        let e = norm_l(s);
        let frac = (l_shl(s, e) >> 16) as i16;
        let e = 6 - e;
        if frac <= 0 {
            (0, 0)
        } else {
            (div_s(shr(frac, 1), frac_coeff[2]), e - exp_coeff[2] - 14)
        }
    } else {
        (0, 0)
    }
}

/// `calc_target_energy`: the target's energy as (exp, frac).
fn calc_target_energy(xn: &[i16; L_SUBFR]) -> (i16, i16) {
    let mut s: i32 = 0;
    for &v in xn {
        s = s.wrapping_add(i32::from(v) * i32::from(v));
    }
    if s < 0 {
        s = MAX_32;
    }
    let e = norm_l(s);
    (16 - e, (l_shl(s, e) >> 16) as i16)
}

/// `Qua_gain`: the joint VQ of the pitch and codebook gains.
fn qua_gain(
    mode: Mode,
    exp_gcode0: i16,
    frac_gcode0: i16,
    frac_coeff: &[i16; 5],
    exp_coeff: &[i16; 5],
    gp_limit: i16,
    gain_pit: &mut i16,
    gain_cod: &mut i16,
) -> (i16, i16, i16) {
    let table: &[i16] = if matches!(mode, Mode::MR102 | Mode::MR74 | Mode::MR67) {
        &TABLE_GAIN_HIGHRATES
    } else {
        &TABLE_GAIN_LOWRATES
    };
    let gcode0 = pow2(14, frac_gcode0) as i16;
    let exp_code = exp_gcode0 - 11;
    let exp_max = [
        exp_coeff[0] - 13,
        exp_coeff[1] - 14,
        add(exp_coeff[2], shl(exp_code, 1) + 15),
        add(exp_coeff[3], exp_code),
        add(exp_coeff[4], exp_code + 1),
    ];
    let e_max = exp_max.iter().copied().max().unwrap_or(0) + 1;
    let mut coeff = [0i16; 5];
    let mut coeff_lo = [0i16; 5];
    for i in 0..5 {
        let l = l_shr(i32::from(frac_coeff[i]) << 16, e_max - exp_max[i]);
        (coeff[i], coeff_lo[i]) = l_extract(l);
    }
    let mut dist_min = MAX_32;
    let mut index = 0usize;
    for i in 0..table.len() / 4 {
        let g_pitch = table[4 * i];
        if g_pitch <= gp_limit {
            let g_code = mult(table[4 * i + 1], gcode0);
            let g2_pitch = mult(g_pitch, g_pitch);
            let g2_code = mult(g_code, g_code);
            let g_pit_cod = mult(g_code, g_pitch);
            let mut l = mpy_vq(coeff[0], coeff_lo[0], g2_pitch);
            l = l_add(l, mpy_vq(coeff[1], coeff_lo[1], g_pitch));
            l = l_add(l, mpy_vq(coeff[2], coeff_lo[2], g2_code));
            l = l_add(l, mpy_vq(coeff[3], coeff_lo[3], g_code));
            l = l_add(l, mpy_vq(coeff[4], coeff_lo[4], g_pit_cod));
            if l < dist_min {
                dist_min = l;
                index = i;
            }
        }
    }
    let p = &table[4 * index..4 * index + 4];
    *gain_pit = p[0];
    let l = l_shr(l_mult(p[1], gcode0), 10 - exp_gcode0);
    *gain_cod = (l >> 16) as i16;
    (index as i16, p[2], p[3])
}

/// `G_code`: the optimal codebook gain of 12.2 kbit/s.
fn g_code(xn2: &[i16; L_SUBFR], y2: &[i16; L_SUBFR]) -> i16 {
    let mut s: i32 = 0;
    for i in 0..L_SUBFR {
        s = s.wrapping_add(i32::from(xn2[i]) * i32::from(y2[i] >> 1));
    }
    let s = s.wrapping_shl(1);
    let exp_xy = norm_l(s.wrapping_add(1));
    let xy = if exp_xy < 17 {
        (s >> (17 - exp_xy)) as i16
    } else {
        s.wrapping_shl((exp_xy - 17) as u32) as i16
    };
    if xy <= 0 {
        return 0;
    }
    let mut s: i32 = 0;
    for &v in y2 {
        let t = i32::from(v >> 1);
        s = s.wrapping_add((t * t) >> 2);
    }
    let s = s.wrapping_shl(3);
    let exp_yy = norm_l(s);
    let yy = if exp_yy < 16 {
        (s >> (16 - exp_yy)) as i16
    } else {
        s.wrapping_shl((exp_yy - 16) as u32) as i16
    };
    let gain = div_s(xy, yy);
    let i = exp_xy + 5 - exp_yy;
    if i > 1 {
        // The reference shifts in `int`: 16 places or more leave nothing of a 16-bit gain.
        (i32::from(gain) >> (i - 1).min(31)) as i16
    } else {
        (i32::from(gain) << (1 - i)) as i16
    }
}

/// `q_gain_code`: the scalar quantisation of the codebook gain (12.2 kbit/s).
fn q_gain_code(mode: Mode, exp_gcode0: i16, frac_gcode0: i16, gain: &mut i16) -> (i16, i16, i16) {
    let g_q0 = if mode == Mode::MR122 {
        *gain >> 1
    } else {
        *gain
    };
    let mut gcode0 = pow2(exp_gcode0, frac_gcode0) as i16;
    gcode0 = if mode == Mode::MR122 {
        shl(gcode0, 4)
    } else {
        shl(gcode0, 5)
    };
    let err_of = |i: usize| {
        let e = ((i32::from(gcode0) * i32::from(QUA_GAIN_CODE[3 * i])) >> 15) as i16;
        let e = g_q0.wrapping_sub(e);
        if e < 0 {
            e.wrapping_neg()
        } else {
            e
        }
    };
    let mut err_min = err_of(0);
    let mut index = 0usize;
    for i in 1..32 {
        let e = err_of(i);
        if e < err_min {
            err_min = e;
            index = i;
        }
    }
    let p = &QUA_GAIN_CODE[3 * index..3 * index + 3];
    let t = ((i32::from(gcode0) * i32::from(p[0])) >> 15) as i16;
    *gain = if mode == Mode::MR122 {
        t.wrapping_shl(1)
    } else {
        t
    };
    (index as i16, p[1], p[2])
}

/// `GainAdaptState`: 7.95 kbit/s's adaptation of the codebook gain toward energy matching.
pub(crate) struct GainAdapt {
    onset: i16,
    prev_alpha: i16,
    prev_gc: i16,
    ltpg_mem: [i16; 5],
}

impl GainAdapt {
    fn new() -> Self {
        GainAdapt {
            onset: 0,
            prev_alpha: 0,
            prev_gc: 0,
            ltpg_mem: [0; 5],
        }
    }

    /// `gain_adapt`: the energy-matching weight `alpha`.
    fn adapt(&mut self, ltpg: i16, gain_cod: i16) -> i16 {
        let mut adapt = if ltpg <= 2721 {
            0
        } else if ltpg <= 5443 {
            1
        } else {
            2
        };
        let t = shr_r(gain_cod, 1);
        if t > self.prev_gc && gain_cod > 200 {
            self.onset = 8;
        } else if self.onset != 0 {
            self.onset -= 1;
        }
        if self.onset != 0 && adapt < 2 {
            adapt += 1;
        }
        self.ltpg_mem[0] = ltpg;
        let filt = gmed_n(&self.ltpg_mem);
        let mut result = if adapt == 0 {
            if filt > 5443 {
                0
            } else if filt < 0 {
                16384
            } else {
                16384 - mult(24660, shl(filt, 2))
            }
        } else {
            0
        };
        if self.prev_alpha == 0 {
            result = shr(result, 1);
        }
        self.prev_alpha = result;
        self.prev_gc = gain_cod;
        self.ltpg_mem.copy_within(0..4, 1);
        result
    }
}

/// `MR795_gain_code_quant3`: the codebook gain against three pitch gain candidates.
fn mr795_gain_code_quant3(
    exp_gcode0: i16,
    gcode0: i16,
    cand: &[i16; 3],
    cind: &[i16; 3],
    frac_coeff: &[i16; 5],
    exp_coeff: &[i16; 5],
) -> (i16, i16, i16, i16, i16, i16) {
    let exp_code = exp_gcode0 - 10;
    let exp_max = [
        exp_coeff[0] - 13,
        exp_coeff[1] - 14,
        exp_coeff[2] + shl(exp_code, 1) + 15,
        exp_coeff[3] + exp_code,
        exp_coeff[4] + (exp_code + 1),
    ];
    let e_max = add(exp_max.iter().copied().max().unwrap_or(0), 1);
    let mut coeff = [0i16; 5];
    let mut coeff_lo = [0i16; 5];
    for i in 0..5 {
        let l = l_shr(i32::from(frac_coeff[i]) << 16, e_max - exp_max[i]);
        (coeff[i], coeff_lo[i]) = l_extract(l);
    }
    let mut dist_min = MAX_32;
    let mut cod_ind = 0usize;
    let mut pit_ind = 0usize;
    for j in 0..3 {
        let g_pitch = cand[j];
        let g2_pitch = mult(g_pitch, g_pitch);
        let mut l0 = mpy_32_16(coeff[0], coeff_lo[0], g2_pitch);
        l0 = mac_32_16(l0, coeff[1], coeff_lo[1], g_pitch);
        for i in 0..32 {
            let g_code = mult(QUA_GAIN_CODE[3 * i], gcode0);
            let (g2h, g2l) = l_extract(l_mult(g_code, g_code));
            let (gph, gpl) = l_extract(l_mult(g_code, g_pitch));
            let mut l = mac_32(l0, coeff[2], coeff_lo[2], g2h, g2l);
            l = mac_32_16(l, coeff[3], coeff_lo[3], g_code);
            l = mac_32(l, coeff[4], coeff_lo[4], gph, gpl);
            if l < dist_min {
                dist_min = l;
                cod_ind = i;
                pit_ind = j;
            }
        }
    }
    let p = &QUA_GAIN_CODE[3 * cod_ind..3 * cod_ind + 3];
    let l = l_shr(l_mult(p[0], gcode0), 9 - exp_gcode0);
    (
        cand[pit_ind],
        cind[pit_ind],
        (l >> 16) as i16,
        cod_ind as i16,
        p[1],
        p[2],
    )
}

/// `MR795_gain_code_quant_mod`: the codebook gain re-searched with energy matching.
fn mr795_gain_code_quant_mod(
    gain_pit: i16,
    exp_gcode0: i16,
    gcode0: i16,
    frac_en: &[i16; 4],
    exp_en: &[i16; 4],
    alpha: i16,
    gain_cod_unq: i16,
    gain_cod: &mut i16,
) -> (i16, i16, i16) {
    let mut coeff = [0i16; 5];
    let mut coeff_lo = [0i16; 5];
    let mut exp_coeff = [0i16; 5];
    let gain_code = shl(*gain_cod, 10 - exp_gcode0);
    let g2_pitch = mult(gain_pit, gain_pit);
    let one_alpha = add(32767 - alpha, 1);
    let t = (l_shl(l_mult(alpha, frac_en[1]), 1) >> 16) as i16;
    let mut l_t1 = l_mult(t, g2_pitch);
    exp_coeff[1] = exp_en[1] - 15;
    let t = (l_shl(l_mult(alpha, frac_en[2]), 1) >> 16) as i16;
    coeff[2] = mult(t, gain_pit);
    exp_coeff[2] = add(exp_en[2], exp_gcode0 - 10);
    coeff[3] = (l_shl(l_mult(alpha, frac_en[3]), 1) >> 16) as i16;
    exp_coeff[3] = add(exp_en[3], shl(exp_gcode0, 1) - 7);
    coeff[4] = mult(one_alpha, frac_en[3]);
    exp_coeff[4] = add(exp_coeff[3], 1);
    let (mut l_t0, e) = sqrt_l_exp(l_mult(alpha, frac_en[0]));
    let e = e + 47;
    exp_coeff[0] = exp_en[0] - e;
    let mut e_max = exp_coeff[0] + 31;
    for i in 1..=4 {
        if exp_coeff[i] > e_max {
            e_max = exp_coeff[i];
        }
    }
    l_t1 = l_shr(l_t1, e_max - exp_coeff[1]);
    for i in 2..=4 {
        let l = l_shr(i32::from(coeff[i]) << 16, e_max - exp_coeff[i]);
        (coeff[i], coeff_lo[i]) = l_extract(l);
    }
    let t = e_max - 31 - exp_coeff[0];
    l_t0 = l_shr(l_t0, shr(t, 1));
    if t & 1 != 0 {
        (coeff[0], coeff_lo[0]) = l_extract(l_t0);
        l_t0 = mpy_32_16(coeff[0], coeff_lo[0], 23170);
    }
    let mut dist_min = MAX_32;
    let mut index = 0usize;
    for i in 0..32 {
        let g_code = mult(QUA_GAIN_CODE[3 * i], gcode0);
        if g_code >= gain_code {
            break;
        }
        let (g2h, g2l) = l_extract(l_mult(g_code, g_code));
        let d = sub(g_code, gain_cod_unq);
        let (d2h, d2l) = l_extract(l_mult(d, d));
        let mut l = mac_32_16(l_t1, coeff[2], coeff_lo[2], g_code);
        l = mac_32(l, coeff[3], coeff_lo[3], g2h, g2l);
        let (sq, e) = sqrt_l_exp(l);
        let l = l_shr(sq, shr(e, 1));
        let t = round(l_sub(l, l_t0));
        let mut l = l_mult(t, t);
        l = mac_32(l, coeff[4], coeff_lo[4], d2h, d2l);
        if l < dist_min {
            dist_min = l;
            index = i;
        }
    }
    let p = &QUA_GAIN_CODE[3 * index..3 * index + 3];
    let l = l_shr(l_mult(p[0], gcode0), 9 - exp_gcode0);
    *gain_cod = (l >> 16) as i16;
    (index as i16, p[1], p[2])
}

/// `gainQuantState`.
pub(crate) struct GainQuant {
    sf0_exp_gcode0: i16,
    sf0_frac_gcode0: i16,
    sf0_exp_target_en: i16,
    sf0_frac_target_en: i16,
    sf0_exp_coeff: [i16; 5],
    sf0_frac_coeff: [i16; 5],
    /// Where in the parameters the 4.75 kbit/s gain index of the subframe pair goes.
    gain_idx: usize,
    pub gc_pred: GcPred,
    gc_pred_unq: GcPred,
    adapt: GainAdapt,
}

/// What `gainQuant` hands back of a subframe: its quantised gains, and for the first
/// subframe of a 4.75 kbit/s pair the gains it got once the second was quantised.
pub(crate) struct Gains {
    pub gain_pit: i16,
    pub gain_cod: i16,
    pub sf0_gain_pit: i16,
    pub sf0_gain_cod: i16,
}

impl GainQuant {
    pub fn new() -> Self {
        GainQuant {
            sf0_exp_gcode0: 0,
            sf0_frac_gcode0: 0,
            sf0_exp_target_en: 0,
            sf0_frac_target_en: 0,
            sf0_exp_coeff: [0; 5],
            sf0_frac_coeff: [0; 5],
            gain_idx: 0,
            gc_pred: GcPred::new(),
            gc_pred_unq: GcPred::new(),
            adapt: GainAdapt::new(),
        }
    }

    /// `gainQuant`: quantises the subframe's gains, writing their indices into `ana` from
    /// `*p`.
    pub fn quantise(
        &mut self,
        mode: Mode,
        res: &[i16],
        exc: &[i16],
        code: &[i16; L_SUBFR],
        xn: &[i16; L_SUBFR],
        xn2: &[i16; L_SUBFR],
        y1: &[i16; L_SUBFR],
        y2: &[i16; L_SUBFR],
        g_coeff: &[i16; 4],
        even_subframe: bool,
        gp_limit: i16,
        gains: &mut Gains,
        ana: &mut [i16],
        p: &mut usize,
    ) {
        let mut frac_coeff = [0i16; 5];
        let mut exp_coeff = [0i16; 5];
        if mode == Mode::MR475 {
            if even_subframe {
                self.gain_idx = *p;
                *p += 1;
                self.gc_pred_unq = self.gc_pred.clone();
                let (e, f, _, _) = self.gc_pred_unq.predict(mode, code);
                self.sf0_exp_gcode0 = e;
                self.sf0_frac_gcode0 = f;
                let (cgf, cge) = calc_filt_energies(
                    mode,
                    xn,
                    xn2,
                    y1,
                    y2,
                    g_coeff,
                    &mut self.sf0_frac_coeff,
                    &mut self.sf0_exp_coeff,
                );
                gains.gain_cod = shl(cgf, cge + 1);
                (self.sf0_exp_target_en, self.sf0_frac_target_en) = calc_target_energy(xn);
                mr475_update_unq_pred(&mut self.gc_pred_unq, e, f, cge, cgf);
            } else {
                let (exp_gcode0, frac_gcode0, _, _) = self.gc_pred_unq.predict(mode, code);
                calc_filt_energies(
                    mode,
                    xn,
                    xn2,
                    y1,
                    y2,
                    g_coeff,
                    &mut frac_coeff,
                    &mut exp_coeff,
                );
                let (exp_en, frac_en) = calc_target_energy(xn);
                ana[self.gain_idx] = mr475_gain_quant(
                    &mut self.gc_pred,
                    self.sf0_exp_gcode0,
                    self.sf0_frac_gcode0,
                    &self.sf0_exp_coeff,
                    &self.sf0_frac_coeff,
                    self.sf0_exp_target_en,
                    self.sf0_frac_target_en,
                    code,
                    exp_gcode0,
                    frac_gcode0,
                    &exp_coeff,
                    &frac_coeff,
                    exp_en,
                    frac_en,
                    gp_limit,
                    gains,
                );
            }
            return;
        }
        let (exp_gcode0, frac_gcode0, exp_en, frac_en) = self.gc_pred.predict(mode, code);
        let (qua_ener_mr122, qua_ener);
        if mode == Mode::MR122 {
            gains.gain_cod = g_code(xn2, y2);
            let (idx, a, b) = q_gain_code(mode, exp_gcode0, frac_gcode0, &mut gains.gain_cod);
            ana[*p] = idx;
            *p += 1;
            (qua_ener_mr122, qua_ener) = (a, b);
        } else {
            let (cgf, cge) = calc_filt_energies(
                mode,
                xn,
                xn2,
                y1,
                y2,
                g_coeff,
                &mut frac_coeff,
                &mut exp_coeff,
            );
            if mode == Mode::MR795 {
                // MR795_gain_quant.
                let mut cand = [0i16; 3];
                let mut cind = [0i16; 3];
                let _ = q_gain_pitch(
                    Mode::MR795,
                    gp_limit,
                    &mut gains.gain_pit,
                    Some((&mut cand, &mut cind)),
                );
                let gcode0 = pow2(14, frac_gcode0) as i16;
                let (gp, gpi, gc, mut gci, mut a, mut b) = mr795_gain_code_quant3(
                    exp_gcode0,
                    gcode0,
                    &cand,
                    &cind,
                    &frac_coeff,
                    &exp_coeff,
                );
                gains.gain_pit = gp;
                gains.gain_cod = gc;
                let mut fe = [0i16; 4];
                let mut ee = [0i16; 4];
                let ltpg = calc_unfilt_energies(res, exc, code, gains.gain_pit, &mut fe, &mut ee);
                let alpha = self.adapt.adapt(ltpg, gains.gain_cod);
                if fe[0] != 0 && alpha > 0 {
                    fe[3] = frac_en;
                    ee[3] = exp_en;
                    let e = sub(cge, exp_gcode0) + 10;
                    let unq = shl(cgf, e);
                    (gci, a, b) = mr795_gain_code_quant_mod(
                        gains.gain_pit,
                        exp_gcode0,
                        gcode0,
                        &fe,
                        &ee,
                        alpha,
                        unq,
                        &mut gains.gain_cod,
                    );
                }
                ana[*p] = gpi;
                ana[*p + 1] = gci;
                *p += 2;
                (qua_ener_mr122, qua_ener) = (a, b);
            } else {
                let (idx, a, b) = qua_gain(
                    mode,
                    exp_gcode0,
                    frac_gcode0,
                    &frac_coeff,
                    &exp_coeff,
                    gp_limit,
                    &mut gains.gain_pit,
                    &mut gains.gain_cod,
                );
                ana[*p] = idx;
                *p += 1;
                (qua_ener_mr122, qua_ener) = (a, b);
            }
        }
        self.gc_pred.update(qua_ener_mr122, qua_ener);
    }
}

/// `MR475_quant_store_results`: a subframe's gains from its table entry, and the predictor's
/// update.
fn mr475_store(pred: &mut GcPred, p: &[i16], gcode0: i16, exp_gcode0: i16) -> (i16, i16) {
    let gain_pit = p[0];
    let g_code = p[1];
    let l = (i32::from(g_code) * i32::from(gcode0)) << 1;
    let l = l_shr(l, 10 - exp_gcode0);
    let gain_cod = (l >> 16) as i16;
    let (exp, frac) = log2(i32::from(g_code));
    let exp = exp - 12;
    let t = shr_r(frac, 5);
    let qua_ener_mr122 = t.wrapping_add(exp.wrapping_shl(10));
    let l = mpy_32_16(exp, frac, 24660).wrapping_shl(13);
    let qua_ener = (l.wrapping_add(0x8000) >> 16) as i16;
    pred.update(qua_ener_mr122, qua_ener);
    (gain_pit, gain_cod)
}

/// `MR475_update_unq_pred`: the unquantised predictor's update with the first subframe's
/// optimal gain.
fn mr475_update_unq_pred(
    pred: &mut GcPred,
    exp_gcode0: i16,
    frac_gcode0: i16,
    mut cod_gain_exp: i16,
    mut cod_gain_frac: i16,
) {
    let (qua_ener, qua_ener_mr122);
    if cod_gain_frac <= 0 {
        qua_ener = MIN_QUA_ENER;
        qua_ener_mr122 = MIN_QUA_ENER_MR122;
    } else {
        let g0 = pow2(14, frac_gcode0) as i16;
        if cod_gain_frac >= g0 {
            cod_gain_frac >>= 1;
            cod_gain_exp += 1;
        }
        let frac = div_s(cod_gain_frac, g0);
        let t = cod_gain_exp - exp_gcode0 - 1;
        let (exp, frac) = log2(i32::from(frac));
        let exp = exp + t;
        let q = shr_r(frac, 5).wrapping_add(exp.wrapping_shl(10));
        if q > MAX_QUA_ENER_MR122 {
            qua_ener = MAX_QUA_ENER;
            qua_ener_mr122 = MAX_QUA_ENER_MR122;
        } else {
            let l = l_shl(mpy_32_16(exp, frac, 24660), 13);
            qua_ener = round(l);
            qua_ener_mr122 = q;
        }
    }
    pred.update(qua_ener_mr122, qua_ener);
}

/// `MR475_gain_quant`: the joint VQ of both subframes' gains at 4.75 kbit/s.
fn mr475_gain_quant(
    pred: &mut GcPred,
    sf0_exp_gcode0: i16,
    sf0_frac_gcode0: i16,
    sf0_exp_coeff: &[i16; 5],
    sf0_frac_coeff: &[i16; 5],
    sf0_exp_target_en: i16,
    mut sf0_frac_target_en: i16,
    sf1_code_nosharp: &[i16; L_SUBFR],
    sf1_exp_gcode0: i16,
    sf1_frac_gcode0: i16,
    sf1_exp_coeff: &[i16; 5],
    sf1_frac_coeff: &[i16; 5],
    sf1_exp_target_en: i16,
    mut sf1_frac_target_en: i16,
    gp_limit: i16,
    gains: &mut Gains,
) -> i16 {
    let sf0_gcode0 = pow2(14, sf0_frac_gcode0) as i16;
    let sf1_gcode0 = pow2(14, sf1_frac_gcode0) as i16;
    let mut exp_max = [0i16; 10];
    let e = sf0_exp_gcode0 - 11;
    exp_max[0] = sf0_exp_coeff[0] - 13;
    exp_max[1] = sf0_exp_coeff[1] - 14;
    exp_max[2] = sf0_exp_coeff[2] + (15 + (e << 1));
    exp_max[3] = sf0_exp_coeff[3] + e;
    exp_max[4] = sf0_exp_coeff[4] + (1 + e);
    let e = sf1_exp_gcode0 - 11;
    exp_max[5] = sf1_exp_coeff[0] - 13;
    exp_max[6] = sf1_exp_coeff[1] - 14;
    exp_max[7] = sf1_exp_coeff[2] + (15 + (e << 1));
    exp_max[8] = sf1_exp_coeff[3] + e;
    exp_max[9] = sf1_exp_coeff[4] + (1 + e);
    let e = sf0_exp_target_en - sf1_exp_target_en;
    if e > 0 {
        sf1_frac_target_en >>= e.min(15);
    } else {
        sf0_frac_target_en >>= (-e).min(15);
    }
    let mut e = 0;
    let t = shr_r(sf1_frac_target_en, 1);
    if t > sf0_frac_target_en {
        e = 1;
    } else if ((i32::from(sf0_frac_target_en) + 3) >> 2) > i32::from(sf1_frac_target_en) {
        e = -1;
    }
    for v in exp_max.iter_mut().take(5) {
        *v += e;
    }
    let mut e = exp_max[0];
    for i in (1..10).rev() {
        if exp_max[i] > e {
            e = exp_max[i];
        }
    }
    e += 1;
    let mut coeff = [0i16; 10];
    let mut coeff_lo = [0i16; 10];
    for i in 0..10 {
        let f = if i < 5 {
            sf0_frac_coeff[i]
        } else {
            sf1_frac_coeff[i - 5]
        };
        let l = l_shr(i32::from(f) << 16, e - exp_max[i]);
        coeff[i] = (l >> 16) as i16;
        coeff_lo[i] = ((l >> 1) - ((l >> 16) << 15)) as i16;
    }
    let m15 = |a: i16, b: i16| ((i32::from(a) * i32::from(b)) >> 15) as i16;
    let mut dist_min = MAX_32;
    let mut index = 0usize;
    for i in 0..256 {
        let p = &TABLE_GAIN_MR475[4 * i..4 * i + 4];
        let g_pitch = p[0];
        let g_code = m15(p[1], sf0_gcode0);
        let g2_pitch = m15(g_pitch, g_pitch);
        let g2_code = m15(g_code, g_code);
        let g_pit_cod = m15(g_code, g_pitch);
        let mut l = mpy_vq(coeff[0], coeff_lo[0], g2_pitch)
            .wrapping_add(mpy_vq(coeff[1], coeff_lo[1], g_pitch))
            .wrapping_add(mpy_vq(coeff[2], coeff_lo[2], g2_code))
            .wrapping_add(mpy_vq(coeff[3], coeff_lo[3], g_code))
            .wrapping_add(mpy_vq(coeff[4], coeff_lo[4], g_pit_cod));
        let t = g_pitch.wrapping_sub(gp_limit);
        let g_pitch = p[2];
        if t <= 0 && g_pitch <= gp_limit {
            let g_code = m15(p[3], sf1_gcode0);
            let g2_pitch = m15(g_pitch, g_pitch);
            let g2_code = m15(g_code, g_code);
            let g_pit_cod = m15(g_code, g_pitch);
            l = l.wrapping_add(
                mpy_vq(coeff[5], coeff_lo[5], g2_pitch)
                    .wrapping_add(mpy_vq(coeff[6], coeff_lo[6], g_pitch))
                    .wrapping_add(mpy_vq(coeff[7], coeff_lo[7], g2_code))
                    .wrapping_add(mpy_vq(coeff[8], coeff_lo[8], g_code))
                    .wrapping_add(mpy_vq(coeff[9], coeff_lo[9], g_pit_cod)),
            );
            if l < dist_min {
                dist_min = l;
                index = i;
            }
        }
    }
    let t = 4 * index;
    (gains.sf0_gain_pit, gains.sf0_gain_cod) = mr475_store(
        pred,
        &TABLE_GAIN_MR475[t..t + 2],
        sf0_gcode0,
        sf0_exp_gcode0,
    );
    let (e1, f1, _, _) = pred.predict(Mode::MR475, sf1_code_nosharp);
    let g1 = pow2(14, f1) as i16;
    (gains.gain_pit, gains.gain_cod) = mr475_store(pred, &TABLE_GAIN_MR475[t + 2..t + 4], g1, e1);
    index as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target barely correlated with a loud filtered codebook vector: the gain is shifted
    /// right by more than 15 places, which leaves 0 (the reference shifts an `int`), where a
    /// 16-bit shift would overflow. Speech reaches it (a 12.2 kbit/s frame 17 s into espeak-ng
    /// speech repeated for two minutes).
    #[test]
    fn g_code_of_a_tiny_correlation_is_zero() {
        let mut xn2 = [0i16; L_SUBFR];
        xn2[0] = 1;
        let y2 = [4096i16; L_SUBFR];
        assert_eq!(g_code(&xn2, &y2), 0);
    }
}
