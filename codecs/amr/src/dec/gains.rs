//! Gain decoding: the quantised pitch and codebook gains, their concealment in lost frames
//! (`ec_gains`), and the codebook gain's smoothing in background noise (`c_g_aver`).

use crate::basic::*;
use crate::dsp::{gmed_n, log2, pow2, GcPred};
use crate::tables::*;
use crate::{Mode, M};

/// `d_gain_pitch`: the pitch gain of 12.2 and 7.95 kbit/s.
pub(crate) fn d_gain_pitch(mode: Mode, index: i16) -> i16 {
    let g = QUA_GAIN_PITCH[index as usize];
    if mode == Mode::MR122 {
        g & !3
    } else {
        g
    }
}

/// `d_gain_code`: the codebook gain of 12.2 and 7.95 kbit/s.
pub(crate) fn d_gain_code(pred: &mut GcPred, mode: Mode, index: i16, code: &[i16]) -> i16 {
    let (exp, frac, _, _) = pred.predict(mode, code);
    let at = ((index & 31) * 3) as usize;
    let p = &QUA_GAIN_CODE[at..at + 3];
    let gain = if mode == Mode::MR122 {
        let g0 = shl(pow2(exp, frac) as i16, 4);
        shl(mult(g0, p[0]), 1)
    } else {
        let g0 = pow2(14, frac) as i16;
        let l = l_shr(l_mult(p[0], g0), sub(9, exp));
        (l >> 16) as i16
    };
    pred.update(p[1], p[2]);
    gain
}

/// `Dec_gain`: the jointly quantised pitch and codebook gains of the other modes.
pub(crate) fn dec_gain(
    pred: &mut GcPred,
    mode: Mode,
    index: i16,
    code: &[i16],
    even_subfr: bool,
) -> (i16, i16) {
    let mut index = shl(index, 2);
    let (gain_pit, g_code, qua_ener_mr122, qua_ener);
    if matches!(mode, Mode::MR102 | Mode::MR74 | Mode::MR67) {
        let p = &TABLE_GAIN_HIGHRATES[index as usize..index as usize + 4];
        (gain_pit, g_code, qua_ener_mr122, qua_ener) = (p[0], p[1], p[2], p[3]);
    } else if mode == Mode::MR475 {
        index += (1 ^ i16::from(even_subfr)) << 1;
        if index > 256 * 4 - 2 {
            index = 256 * 4 - 2;
        }
        let p = &TABLE_GAIN_MR475[index as usize..index as usize + 2];
        gain_pit = p[0];
        g_code = p[1];
        let (exp, frac) = log2(i32::from(g_code));
        let exp = exp - 12;
        qua_ener_mr122 = add(shr_r(frac, 5), shl(exp, 10));
        let l = l_shl(mpy_32_16(exp, frac, 24660), 13);
        qua_ener = round(l);
    } else {
        let p = &TABLE_GAIN_LOWRATES[index as usize..index as usize + 4];
        (gain_pit, g_code, qua_ener_mr122, qua_ener) = (p[0], p[1], p[2], p[3]);
    }
    let (exp, frac, _, _) = pred.predict(mode, code);
    let g0 = pow2(14, frac) as i16;
    let l = l_shr(l_mult(g_code, g0), 10 - exp);
    pred.update(qua_ener_mr122, qua_ener);
    (gain_pit, (l >> 16) as i16)
}

/// `ec_gain_pitchState`: the pitch gain's memory for concealment.
pub(crate) struct EcGainPitch {
    pbuf: [i16; 5],
    past_gain_pit: i16,
    prev_gp: i16,
}

impl EcGainPitch {
    pub fn new() -> Self {
        EcGainPitch {
            pbuf: [1640; 5],
            past_gain_pit: 0,
            prev_gp: 16384,
        }
    }

    /// `ec_gain_pitch`: the gain of a lost subframe.
    pub fn conceal(&self, state: i16) -> i16 {
        const PDOWN: [i16; 7] = [32767, 32112, 32112, 26214, 9830, 6553, 6553];
        let mut t = gmed_n(&self.pbuf);
        if sub(t, self.past_gain_pit) > 0 {
            t = self.past_gain_pit;
        }
        mult(t, PDOWN[state as usize])
    }

    /// `ec_gain_pitch_update`.
    pub fn update(&mut self, bfi: bool, prev_bf: bool, gain: &mut i16) {
        if !bfi {
            if prev_bf && sub(*gain, self.prev_gp) > 0 {
                *gain = self.prev_gp;
            }
            self.prev_gp = *gain;
        }
        self.past_gain_pit = (*gain).min(16384);
        self.pbuf.copy_within(1..5, 0);
        self.pbuf[4] = self.past_gain_pit;
    }
}

/// `ec_gain_codeState`: the codebook gain's memory for concealment.
pub(crate) struct EcGainCode {
    gbuf: [i16; 5],
    past_gain_code: i16,
    prev_gc: i16,
}

impl EcGainCode {
    pub fn new() -> Self {
        EcGainCode {
            gbuf: [1; 5],
            past_gain_code: 0,
            prev_gc: 1,
        }
    }

    /// `ec_gain_code`: the gain of a lost subframe; the predictor takes the averaged energy.
    pub fn conceal(&self, pred: &mut GcPred, state: i16) -> i16 {
        const CDOWN: [i16; 7] = [32767, 32112, 32112, 32112, 32112, 32112, 22937];
        let mut t = gmed_n(&self.gbuf);
        if sub(t, self.past_gain_code) > 0 {
            t = self.past_gain_code;
        }
        let g = mult(t, CDOWN[state as usize]);
        let (a, b) = pred.average_limited();
        pred.update(a, b);
        g
    }

    /// `ec_gain_code_update`.
    pub fn update(&mut self, bfi: bool, prev_bf: bool, gain: &mut i16) {
        if !bfi {
            if prev_bf && sub(*gain, self.prev_gc) > 0 {
                *gain = self.prev_gc;
            }
            self.prev_gc = *gain;
        }
        self.past_gain_code = *gain;
        self.gbuf.copy_within(1..5, 0);
        self.gbuf[4] = *gain;
    }
}

const L_CBGAINHIST: usize = 7;

/// `Cb_gain_averageState`.
pub(crate) struct CbGainAverage {
    history: [i16; L_CBGAINHIST],
    pub hang_var: i16,
    pub hang_count: i16,
}

impl CbGainAverage {
    pub fn new() -> Self {
        CbGainAverage {
            history: [0; L_CBGAINHIST],
            hang_var: 0,
            hang_count: 0,
        }
    }

    /// `Cb_gain_average`: the codebook gain mixed toward its recent mean when the spectrum
    /// is stationary (background noise).
    pub fn average(
        &mut self,
        mode: Mode,
        gain_code: i16,
        lsp: &[i16; M],
        lsp_aver: &[i16; M],
        bfi: bool,
        prev_bf: bool,
        pdfi: bool,
        prev_pdf: bool,
        in_background_noise: bool,
        voiced_hangover: i16,
    ) -> i16 {
        let mut mix = gain_code;
        self.history.copy_within(1.., 0);
        self.history[L_CBGAINHIST - 1] = gain_code;
        let mut diff: i16 = 0;
        for i in 0..M {
            let t1 = abs_s(sub(lsp_aver[i], lsp[i]));
            let shift1 = norm_s(t1) - 1;
            let t1 = shl(t1, shift1);
            let shift2 = norm_s(lsp_aver[i]);
            let t2 = shl(lsp_aver[i], shift2);
            let mut t = div_s(t1, t2);
            let shift = 2 + shift1 - shift2;
            t = if shift >= 0 {
                shr(t, shift)
            } else {
                shl(t, negate(shift))
            };
            diff = add(diff, t);
        }
        if diff > 5325 {
            self.hang_var += 1;
        } else {
            self.hang_var = 0;
        }
        if self.hang_var > 10 {
            self.hang_count = 0;
        }
        let low = matches!(mode, Mode::MR475 | Mode::MR515 | Mode::MR59);
        if mode <= Mode::MR67 || mode == Mode::MR102 {
            let tmp_diff = if ((pdfi && prev_pdf) || bfi || prev_bf)
                && voiced_hangover > 1
                && in_background_noise
                && low
            {
                diff - 4506
            } else {
                diff - 3277
            };
            let t1 = tmp_diff.max(0);
            let mut bg_mix = if 2048 < t1 { 8192 } else { shl(t1, 2) };
            if self.hang_count < 40 || diff > 5325 {
                bg_mix = 8192;
            }
            let mut s = l_mult(6554, self.history[2]);
            for i in 3..L_CBGAINHIST {
                s = l_mac(s, 6554, self.history[i]);
            }
            let mut mean = round(s);
            if (bfi || prev_bf) && in_background_noise && low {
                let mut s = l_mult(4681, self.history[0]);
                for i in 1..L_CBGAINHIST {
                    s = l_mac(s, 4681, self.history[i]);
                }
                mean = round(s);
            }
            let mut s = l_mult(bg_mix, mix);
            s = l_mac(s, 8192, mean);
            s = l_msu(s, bg_mix, mean);
            mix = round(l_shl(s, 2));
        }
        self.hang_count += 1;
        mix
    }
}
