//! What follows the synthesis: the formant post-filter with its tilt compensation and gain
//! control (`pstfilt`, `preemph`, `agc`), the output high-pass (`post_pro`), and the
//! per-subframe helpers of the decoder's background-noise handling (`ph_disp`, `bgnscd`,
//! `ex_ctrl`, `agc2`).

use crate::basic::*;
use crate::dsp::{gmed_n, inv_sqrt, residu, syn_filt, weight_ai};
use crate::tables::*;
use crate::{Mode, L_FRAME, L_SUBFR, M, MP1};

const L_H: usize = 22;
const MU: i16 = 26214;
const AGC_FAC: i16 = 29491;

const GAMMA3_MR122: [i16; M] = [22938, 16057, 11240, 7868, 5508, 3856, 2699, 1889, 1322, 925];
const GAMMA3: [i16; M] = [18022, 9912, 5451, 2998, 1649, 907, 499, 274, 151, 83];
const GAMMA4_MR122: [i16; M] = [
    24576, 18432, 13824, 10368, 7776, 5832, 4374, 3281, 2461, 1846,
];
const GAMMA4: [i16; M] = [22938, 16057, 11240, 7868, 5508, 3856, 2699, 1889, 1322, 925];

/// `energy_old`: the energy of `x / 4`.
fn energy_old(x: &[i16]) -> i32 {
    let mut s: i32 = 0;
    for &v in x {
        let t = v >> 2;
        s = l_mac(s, t, t);
    }
    s
}

/// `energy_new`: the energy of `x / 4`, from the full-scale sum when it does not saturate.
fn energy_new(x: &[i16]) -> i32 {
    let mut s: i32 = 0;
    for &v in x {
        s = l_mac(s, v, v);
    }
    if s != MAX_32 {
        s >> 4
    } else {
        energy_old(x)
    }
}

/// `agc`: scales `sig_out` to the energy of `sig_in`, the gain smoothed by `agc_fac`.
fn agc(past_gain: &mut i16, sig_in: &[i16], sig_out: &mut [i16], agc_fac: i16) {
    let s = energy_new(sig_out);
    if s == 0 {
        *past_gain = 0;
        return;
    }
    let mut exp = norm_l(s) - 1;
    let gain_out = round(l_shl(s, exp));
    let s = energy_new(sig_in);
    let g0 = if s == 0 {
        0
    } else {
        let i = norm_l(s);
        let gain_in = round(s << i);
        exp -= i;
        let t = div_s(gain_out, gain_in);
        let s = l_shr(i32::from(t) << 7, exp);
        let s = inv_sqrt(s);
        let l = s.wrapping_shl(9);
        let i = (l.wrapping_add(0x8000) >> 16) as i16;
        ((i32::from(i) * i32::from(32767 - agc_fac)) >> 15) as i16
    };
    let mut gain = *past_gain;
    for v in sig_out.iter_mut() {
        gain = (((i32::from(gain) * i32::from(agc_fac)) >> 15) as i16).wrapping_add(g0);
        let l = (i32::from(*v) * i32::from(gain)).wrapping_shl(1);
        *v = (l >> 13) as i16;
    }
    *past_gain = gain;
}

/// `agc2`: scales `sig_out` to the energy of `sig_in`, no smoothing.
pub(crate) fn agc2(sig_in: &[i16], sig_out: &mut [i16]) {
    let s = energy_new(sig_out);
    if s == 0 {
        return;
    }
    let mut exp = norm_l(s) - 1;
    let gain_out = round(l_shl(s, exp));
    let s = energy_new(sig_in);
    let g0 = if s == 0 {
        0
    } else {
        let i = norm_l(s);
        let gain_in = round(l_shl(s, i));
        exp -= i;
        let s = i32::from(div_s(gain_out, gain_in));
        let s = if s > 0x00ff_ffff {
            MAX_32
        } else if s < -16_777_216 {
            MIN_32
        } else {
            s << 7
        };
        let s = inv_sqrt(l_shr(s, exp));
        let l = if s > 0x003f_ffff {
            MAX_32
        } else if s < -4_194_304 {
            MIN_32
        } else {
            s << 9
        };
        round(l)
    };
    for v in sig_out.iter_mut().rev() {
        let l = l_mult(*v, g0);
        *v = if l > 0x0fff_ffff {
            MAX_16
        } else if l < -268_435_456 {
            MIN_16
        } else {
            (l >> 13) as i16
        };
    }
}

/// `Post_FilterState`: the formant post-filter.
pub(crate) struct PostFilter {
    mem_syn_pst: [i16; M],
    res2: [i16; L_SUBFR],
    synth_buf: [i16; M + L_FRAME],
    past_gain: i16,
    mem_pre: i16,
}

impl PostFilter {
    pub fn new() -> Self {
        PostFilter {
            mem_syn_pst: [0; M],
            res2: [0; L_SUBFR],
            synth_buf: [0; M + L_FRAME],
            past_gain: 4096,
            mem_pre: 0,
        }
    }

    /// `preemphasis`: the tilt compensation 1 − g·z⁻¹ over `res2`.
    fn preemphasis(&mut self, g: i16) {
        let sig = &mut self.res2;
        let last = sig[L_SUBFR - 1];
        for i in (1..L_SUBFR).rev() {
            sig[i] = sub(sig[i], mult(g, sig[i - 1]));
        }
        sig[0] = sub(sig[0], mult(g, self.mem_pre));
        self.mem_pre = last;
    }

    /// `Post_Filter`: filters `syn` in place with the frame's LP coefficients.
    pub fn filter(&mut self, mode: Mode, syn: &mut [i16; L_FRAME], az4: &[i16; 4 * MP1]) {
        self.synth_buf[M..].copy_from_slice(syn);
        let (g3, g4) = if mode == Mode::MR122 || mode == Mode::MR102 {
            (&GAMMA3_MR122, &GAMMA4_MR122)
        } else {
            (&GAMMA3, &GAMMA4)
        };
        for sf in 0..4 {
            let i_subfr = sf * L_SUBFR;
            let az = &az4[sf * MP1..(sf + 1) * MP1];
            let mut ap3 = [0i16; MP1];
            let mut ap4 = [0i16; MP1];
            weight_ai(az, g3, &mut ap3);
            weight_ai(az, g4, &mut ap4);
            residu(
                &ap3,
                &self.synth_buf[i_subfr..i_subfr + M + L_SUBFR],
                &mut self.res2,
            );
            let mut hin = [0i16; L_H];
            hin[..MP1].copy_from_slice(&ap3);
            let mut h = [0i16; L_H];
            let mut zero = [0i16; M];
            syn_filt(&ap4, &hin, &mut h, &mut zero, false);
            let mut l: i32 = 0;
            for i in (0..L_H).rev() {
                let p = i32::from(h[i]) * i32::from(h[i]);
                if p == 0x4000_0000 {
                    break;
                }
                l = l_add(l, p << 1);
            }
            let temp1 = (l >> 16) as i16;
            let mut l: i32 = 0;
            for i in (0..L_H - 1).rev() {
                let p = i32::from(h[i]) * i32::from(h[i + 1]);
                if p == 0x4000_0000 {
                    break;
                }
                l = l_add(l, p << 1);
            }
            let mut temp2 = (l >> 16) as i16;
            if temp2 <= 0 {
                temp2 = 0;
            } else {
                temp2 = ((i32::from(temp2) * i32::from(MU)) >> 15) as i16;
                temp2 = div_s(temp2, temp1);
            }
            self.preemphasis(temp2);
            syn_filt(
                &ap4,
                &self.res2,
                &mut syn[i_subfr..i_subfr + L_SUBFR],
                &mut self.mem_syn_pst,
                true,
            );
            agc(
                &mut self.past_gain,
                &self.synth_buf[M + i_subfr..M + i_subfr + L_SUBFR],
                &mut syn[i_subfr..i_subfr + L_SUBFR],
                AGC_FAC,
            );
        }
        self.synth_buf.copy_within(L_FRAME.., 0);
    }
}

/// `Post_ProcessState`: the output high-pass filter (cut-off 60 Hz) with an upscaling by 2.
pub(crate) struct PostProcess {
    y2_hi: i16,
    y2_lo: i16,
    y1_hi: i16,
    y1_lo: i16,
    x0: i16,
    x1: i16,
}

impl PostProcess {
    pub fn new() -> Self {
        PostProcess {
            y2_hi: 0,
            y2_lo: 0,
            y1_hi: 0,
            y1_lo: 0,
            x0: 0,
            x1: 0,
        }
    }

    /// `Post_Process`.
    pub fn process(&mut self, signal: &mut [i16]) {
        const B: [i32; 3] = [7699, -15398, 7699];
        const A: [i32; 3] = [8192, 15836, -7667];
        for s in signal.iter_mut() {
            let x2 = self.x1;
            self.x1 = self.x0;
            self.x0 = *s;
            let mut l = i32::from(self.y1_hi) * A[1];
            l = l.wrapping_add((i32::from(self.y1_lo) * A[1]) >> 15);
            l = l.wrapping_add(i32::from(self.y2_hi) * A[2]);
            l = l.wrapping_add((i32::from(self.y2_lo) * A[2]) >> 15);
            l = l.wrapping_add(i32::from(self.x0) * B[0]);
            l = l.wrapping_add(i32::from(self.x1) * B[1]);
            l = l.wrapping_add(i32::from(x2) * B[2]);
            l = l_shl(l, 3);
            *s = round(l_shl(l, 1));
            self.y2_hi = self.y1_hi;
            self.y2_lo = self.y1_lo;
            self.y1_hi = (l >> 16) as i16;
            self.y1_lo = ((l >> 1) - (i32::from(self.y1_hi) << 15)) as i16;
        }
    }
}

const L_ENERGYHIST: usize = 60;
const FRAMEENERGYLIMIT: i16 = 17578;
const LOWERNOISELIMIT: i16 = 20;
const UPPERNOISELIMIT: i16 = 1953;

/// `Bgn_scdState`: background-noise detection from the frame energies.
pub(crate) struct BgnScd {
    frame_energy_hist: [i16; L_ENERGYHIST],
    bg_hangover: i16,
}

impl BgnScd {
    pub fn new() -> Self {
        BgnScd {
            frame_energy_hist: [0; L_ENERGYHIST],
            bg_hangover: 0,
        }
    }

    /// `Bgn_scd`: whether this frame is background noise; updates the voiced hangover.
    pub fn update(
        &mut self,
        ltp_gain_hist: &[i16; 9],
        speech: &[i16],
        voiced_hangover: &mut i16,
    ) -> bool {
        let mut s: i32 = 0;
        for &v in speech.iter().rev() {
            let p = i32::from(v) * i32::from(v);
            let p = if p != 0x4000_0000 { p << 1 } else { MAX_32 };
            s = l_add(s, p);
        }
        let curr = if s > 0x1fff_ffff {
            MAX_16
        } else {
            (s >> 14) as i16
        };
        let mut fmin = 32767;
        for &v in &self.frame_energy_hist {
            if v < fmin {
                fmin = v;
            }
        }
        let noise_floor = shl(fmin, 4);
        let mut max_energy = self.frame_energy_hist[0];
        for i in (1..=L_ENERGYHIST - 5).rev() {
            if max_energy < self.frame_energy_hist[i] {
                max_energy = self.frame_energy_hist[i];
            }
        }
        let mut max_last = self.frame_energy_hist[2 * L_ENERGYHIST / 3];
        for i in 2 * L_ENERGYHIST / 3 + 1..L_ENERGYHIST {
            if max_last < self.frame_energy_hist[i] {
                max_last = self.frame_energy_hist[i];
            }
        }
        if max_energy > LOWERNOISELIMIT
            && curr < FRAMEENERGYLIMIT
            && curr > LOWERNOISELIMIT
            && (curr < noise_floor || max_last < UPPERNOISELIMIT)
        {
            self.bg_hangover = (self.bg_hangover + 1).min(30);
        } else {
            self.bg_hangover = 0;
        }
        let in_bg = self.bg_hangover > 1;
        self.frame_energy_hist.copy_within(1.., 0);
        self.frame_energy_hist[L_ENERGYHIST - 1] = curr;
        let ltp_limit = if self.bg_hangover > 15 {
            16383
        } else if self.bg_hangover > 8 {
            15565
        } else {
            13926
        };
        let mut prev_voiced = gmed_n(&ltp_gain_hist[4..9]) > ltp_limit;
        if self.bg_hangover > 20 {
            prev_voiced = gmed_n(ltp_gain_hist) > ltp_limit;
        }
        if prev_voiced {
            *voiced_hangover = 0;
        } else {
            *voiced_hangover = (*voiced_hangover + 1).min(10);
        }
        in_bg
    }
}

/// `Ex_ctrl`: limits the excitation's energy after a lost frame in background noise.
pub(crate) fn ex_ctrl(
    excitation: &mut [i16; L_SUBFR],
    exc_energy: i16,
    hist: &[i16; 9],
    voiced_hangover: i16,
    prev_bfi: bool,
    careful: bool,
) {
    let mut avg = gmed_n(hist);
    let mut prev = ((i32::from(hist[7]) + i32::from(hist[8])) >> 1) as i16;
    if hist[8] < prev {
        prev = hist[8];
    }
    if exc_energy < avg && exc_energy > 5 {
        let mut test = shl(prev, 2);
        if voiced_hangover < 7 || prev_bfi {
            test = sub(test, prev);
        }
        if avg > test {
            avg = test;
        }
        let exp = norm_s(exc_energy);
        let e = div_s(16383, shl(exc_energy, exp));
        let t = l_shr(l_mult(avg, e), sub(20, exp)).min(32767);
        let mut scale = t as i16;
        if careful && scale > 3072 {
            scale = 3072;
        }
        for v in excitation.iter_mut() {
            *v = l_shr(l_mult(scale, *v), 11) as i16;
        }
    }
}

const PHDGAINMEMSIZE: usize = 5;
const PHDTHR1LTP: i16 = 9830;
const PHDTHR2LTP: i16 = 14746;
const ONFACTPLUS1: i32 = 16384;
const ONLENGTH: i16 = 2;

/// `ph_dispState`: the anti-sparseness (phase dispersion) of the lower rates' innovation.
pub(crate) struct PhDisp {
    gain_mem: [i16; PHDGAINMEMSIZE],
    prev_state: i16,
    prev_cb_gain: i16,
    pub lock_full: bool,
    onset: i16,
}

impl PhDisp {
    pub fn new() -> Self {
        PhDisp {
            gain_mem: [0; PHDGAINMEMSIZE],
            prev_state: 0,
            prev_cb_gain: 0,
            lock_full: false,
            onset: 0,
        }
    }

    /// `ph_disp`: disperses `inno` and builds the excitation `x` from it and the adaptive
    /// vector already in `x`.
    pub fn apply(
        &mut self,
        mode: Mode,
        x: &mut [i16; L_SUBFR],
        cb_gain: i16,
        ltp_gain: i16,
        inno: &mut [i16; L_SUBFR],
        pitch_fac: i16,
        tmp_shift: i16,
    ) {
        self.gain_mem.copy_within(0..4, 1);
        self.gain_mem[0] = ltp_gain;
        let mut imp_nr: i16 = if ltp_gain < PHDTHR2LTP {
            if ltp_gain > PHDTHR1LTP {
                1
            } else {
                0
            }
        } else {
            2
        };
        let l = (i32::from(self.prev_cb_gain) * ONFACTPLUS1) << 1;
        let l = if l > 0x1fff_ffff {
            MAX_32
        } else if l < -536_870_912 {
            MIN_32
        } else {
            l << 2
        };
        let t = round(l);
        if cb_gain > t {
            self.onset = ONLENGTH;
        } else if self.onset > 0 {
            self.onset -= 1;
        }
        if self.onset == 0 {
            let n = self.gain_mem.iter().filter(|&&g| g < PHDTHR1LTP).count();
            if n > 2 {
                imp_nr = 0;
            }
        }
        if imp_nr > self.prev_state + 1 && self.onset == 0 {
            imp_nr -= 1;
        }
        if imp_nr < 2 && self.onset > 0 {
            imp_nr += 1;
        }
        if cb_gain < 10 {
            imp_nr = 2;
        }
        if self.lock_full {
            imp_nr = 0;
        }
        self.prev_state = imp_nr;
        self.prev_cb_gain = cb_gain;
        if mode != Mode::MR122 && mode != Mode::MR102 && mode != Mode::MR74 && imp_nr < 2 {
            let mut pos = [0usize; L_SUBFR];
            let mut nze = 0;
            let saved = *inno;
            for i in 0..L_SUBFR {
                if inno[i] != 0 {
                    pos[nze] = i;
                    nze += 1;
                }
                inno[i] = 0;
            }
            let imp: &[i16; 40] = match (mode == Mode::MR795, imp_nr == 0) {
                (true, true) => &PH_IMP_LOW_MR795,
                (true, false) => &PH_IMP_MID_MR795,
                (false, true) => &PH_IMP_LOW,
                (false, false) => &PH_IMP_MID,
            };
            for &ppos in &pos[..nze] {
                let c = i32::from(saved[ppos]);
                for i in 0..L_SUBFR {
                    let at = (ppos + i) % L_SUBFR;
                    let t = ((c * i32::from(imp[i])) >> 15) as i16;
                    inno[at] = add(inno[at], t);
                }
            }
        }
        for i in 0..L_SUBFR {
            let l = l_mult(x[i], pitch_fac);
            let l2 = (i32::from(inno[i]) * i32::from(cb_gain)) << 1;
            let l = l_shl(l_add(l, l2), tmp_shift);
            x[i] = round(l);
        }
    }
}
