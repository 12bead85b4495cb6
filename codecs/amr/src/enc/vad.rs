//! Voice activity detection, option 1 of 3GPP TS 26.094 (`vad1`): a filter bank's sub-band
//! levels against a background estimate, with pitch, tone and complex-signal detectors and
//! hangover.

use crate::basic::*;

const FRAME_LEN: usize = 160;
const COMPLEN: usize = 9;
const INV_COMPLEN: i16 = 3641;
const LOOKAHEAD: isize = 40;
const UNIRSHFT: i16 = 6;
const TONE_THR: i16 = 21298;
const ALPHA_UP1: i16 = 1638;
const ALPHA_DOWN1: i16 = 2097;
const ALPHA_UP2: i16 = 491;
const ALPHA_DOWN2: i16 = 1867;
const ALPHA3: i16 = 1638;
const ALPHA4: i16 = 3276;
const ALPHA5: i16 = 16383;
const VAD_THR_HIGH: i16 = 1260;
const VAD_THR_LOW: i16 = 720;
const VAD_P1: i16 = 0;
const VAD_SLOPE: i16 = -2808;
const STAT_COUNT: i16 = 20;
const CAD_MIN_STAT_COUNT: i16 = 5;
const STAT_THR_LEVEL: i16 = 184;
const STAT_THR: i16 = 1000;
const NOISE_MIN: i16 = 40;
const NOISE_MAX: i16 = 16000;
const NOISE_INIT: i16 = 150;
const HANG_NOISE_THR: i16 = 100;
const BURST_LEN_HIGH_NOISE: i16 = 4;
const HANG_LEN_HIGH_NOISE: i16 = 7;
const BURST_LEN_LOW_NOISE: i16 = 5;
const HANG_LEN_LOW_NOISE: i16 = 4;
const VAD_POW_LOW: i32 = 15000;
const POW_PITCH_THR: i32 = 343_040;
const POW_COMPLEX_THR: i32 = 15000;
const COEFF3: i16 = 13363;
const COEFF5_1: i16 = 21955;
const COEFF5_2: i16 = 6390;
const LTHRESH: i16 = 4;
const NTHRESH: i16 = 4;
const CVAD_THRESH_ADAPT_HIGH: i16 = 19660;
const CVAD_THRESH_ADAPT_LOW: i16 = 16383;
const CVAD_THRESH_IN_NOISE: i16 = 21298;
const CVAD_THRESH_HANG: i16 = 22936;
const CVAD_HANG_LIMIT: i16 = 100;
const CVAD_HANG_LENGTH: i16 = 250;
const CVAD_LOWPOW_RESET: i16 = 13106;
const CVAD_MIN_CORR: i16 = 13106;
const CVAD_ADAPT_SLOW: i16 = 655;
const CVAD_ADAPT_FAST: i16 = 2621;
const CVAD_ADAPT_REALLY_FAST: i16 = 6553;

#[inline(always)]
fn m15(a: i16, b: i16) -> i16 {
    ((i32::from(a) * i32::from(b)) >> 15) as i16
}

/// `first_filter_stage`: the first 5th-order all-pass split, decimating by two.
fn first_filter_stage(input: &[i16], out: &mut [i16; FRAME_LEN], data: &mut [i16; 2]) {
    let mut d0 = data[0];
    let mut d1 = data[1];
    for i in 0..FRAME_LEN / 4 {
        let t0 = sub(input[4 * i] >> 2, m15(COEFF5_1, d0));
        let t1 = add(d0, m15(COEFF5_1, t0));
        let t3 = sub(input[4 * i + 1] >> 2, m15(COEFF5_2, d1));
        let t2 = add(d1, m15(COEFF5_2, t3));
        out[4 * i] = add(t1, t2);
        out[4 * i + 1] = sub(t1, t2);
        d0 = sub(input[4 * i + 2] >> 2, m15(COEFF5_1, t0));
        let t1 = add(t0, m15(COEFF5_1, d0));
        d1 = sub(input[4 * i + 3] >> 2, m15(COEFF5_2, t3));
        let t2 = add(t3, m15(COEFF5_2, d1));
        out[4 * i + 2] = add(t1, t2);
        out[4 * i + 3] = sub(t1, t2);
    }
    data[0] = d0;
    data[1] = d1;
}

/// `filter5`: a 5th-order all-pass pair on two samples.
fn filter5(buf: &mut [i16; FRAME_LEN], i0: usize, i1: usize, data: &mut [i16; 2]) {
    let t0 = sub(buf[i0], mult(COEFF5_1, data[0]));
    let t1 = add(data[0], mult(COEFF5_1, t0));
    data[0] = t0;
    let t0 = sub(buf[i1], mult(COEFF5_2, data[1]));
    let t2 = add(data[1], mult(COEFF5_2, t0));
    data[1] = t0;
    buf[i0] = shr(add(t1, t2), 1);
    buf[i1] = shr(sub(t1, t2), 1);
}

/// `filter3`: a 3rd-order all-pass pair on two samples.
fn filter3(buf: &mut [i16; FRAME_LEN], i0: usize, i1: usize, data: &mut i16) {
    let t1 = sub(buf[i1], mult(COEFF3, *data));
    let t2 = add(*data, mult(COEFF3, t1));
    *data = t1;
    let in0 = buf[i0];
    buf[i1] = shr(sub(in0, t2), 1);
    buf[i0] = shr(add(in0, t2), 1);
}

/// `level_calculation`: one sub-band's level, with the tail carried to the next frame.
fn level_calculation(
    data: &[i16; FRAME_LEN],
    sub_level: &mut i16,
    count1: usize,
    count2: usize,
    ind_m: usize,
    ind_a: usize,
    scale: i16,
) -> i16 {
    let mut l1: i32 = 0;
    for i in count1..count2 {
        l1 = l_mac(l1, 1, abs_s(data[ind_m * i + ind_a]));
    }
    let mut l2 = l_add(l1, l_shl(i32::from(*sub_level), sub(16, scale)));
    *sub_level = (l_shl(l1, scale) >> 16) as i16;
    for i in 0..count1 {
        l2 = l_mac(l2, 1, abs_s(data[ind_m * i + ind_a]));
    }
    (l_shl(l2, scale) >> 16) as i16
}

/// `vadState1`.
pub(crate) struct Vad {
    bckr_est: [i16; COMPLEN],
    ave_level: [i16; COMPLEN],
    old_level: [i16; COMPLEN],
    sub_level: [i16; COMPLEN],
    a_data5: [[i16; 2]; 3],
    a_data3: [i16; 5],
    burst_count: i16,
    hang_count: i16,
    stat_count: i16,
    vadreg: i16,
    pitch: i16,
    tone: i16,
    complex_high: i16,
    complex_low: i16,
    oldlag_count: i16,
    oldlag: i16,
    complex_hang_count: i16,
    complex_hang_timer: i16,
    best_corr_hp: i16,
    speech_vad_decision: i16,
    complex_warning: bool,
    corr_hp_fast: i16,
}

impl Vad {
    pub fn new() -> Self {
        Vad {
            bckr_est: [NOISE_INIT; COMPLEN],
            ave_level: [NOISE_INIT; COMPLEN],
            old_level: [NOISE_INIT; COMPLEN],
            sub_level: [0; COMPLEN],
            a_data5: [[0; 2]; 3],
            a_data3: [0; 5],
            burst_count: 0,
            hang_count: 0,
            stat_count: 0,
            vadreg: 0,
            pitch: 0,
            tone: 0,
            complex_high: 0,
            complex_low: 0,
            oldlag_count: 0,
            oldlag: 0,
            complex_hang_count: 0,
            complex_hang_timer: 0,
            best_corr_hp: CVAD_LOWPOW_RESET,
            speech_vad_decision: 0,
            complex_warning: false,
            corr_hp_fast: CVAD_LOWPOW_RESET,
        }
    }

    fn filter_bank(&mut self, input: &[i16], level: &mut [i16; COMPLEN]) {
        let mut buf = [0i16; FRAME_LEN];
        first_filter_stage(input, &mut buf, &mut self.a_data5[0]);
        for i in 0..FRAME_LEN / 4 {
            filter5(&mut buf, 4 * i, 4 * i + 2, &mut self.a_data5[1]);
            filter5(&mut buf, 4 * i + 1, 4 * i + 3, &mut self.a_data5[2]);
        }
        for i in 0..FRAME_LEN / 8 {
            filter3(&mut buf, 8 * i, 8 * i + 4, &mut self.a_data3[0]);
            filter3(&mut buf, 8 * i + 2, 8 * i + 6, &mut self.a_data3[1]);
            filter3(&mut buf, 8 * i + 3, 8 * i + 7, &mut self.a_data3[4]);
        }
        for i in 0..FRAME_LEN / 16 {
            filter3(&mut buf, 16 * i, 16 * i + 8, &mut self.a_data3[2]);
            filter3(&mut buf, 16 * i + 4, 16 * i + 12, &mut self.a_data3[3]);
        }
        let sl = &mut self.sub_level;
        level[8] = level_calculation(&buf, &mut sl[8], FRAME_LEN / 4 - 8, FRAME_LEN / 4, 4, 1, 15);
        level[7] = level_calculation(&buf, &mut sl[7], FRAME_LEN / 8 - 4, FRAME_LEN / 8, 8, 7, 16);
        level[6] = level_calculation(&buf, &mut sl[6], FRAME_LEN / 8 - 4, FRAME_LEN / 8, 8, 3, 16);
        level[5] = level_calculation(&buf, &mut sl[5], FRAME_LEN / 8 - 4, FRAME_LEN / 8, 8, 2, 16);
        level[4] = level_calculation(&buf, &mut sl[4], FRAME_LEN / 8 - 4, FRAME_LEN / 8, 8, 6, 16);
        level[3] = level_calculation(
            &buf,
            &mut sl[3],
            FRAME_LEN / 16 - 2,
            FRAME_LEN / 16,
            16,
            4,
            16,
        );
        level[2] = level_calculation(
            &buf,
            &mut sl[2],
            FRAME_LEN / 16 - 2,
            FRAME_LEN / 16,
            16,
            12,
            16,
        );
        level[1] = level_calculation(
            &buf,
            &mut sl[1],
            FRAME_LEN / 16 - 2,
            FRAME_LEN / 16,
            16,
            8,
            16,
        );
        level[0] = level_calculation(
            &buf,
            &mut sl[0],
            FRAME_LEN / 16 - 2,
            FRAME_LEN / 16,
            16,
            0,
            16,
        );
    }

    fn update_cntrl(&mut self, level: &[i16; COMPLEN]) {
        if self.complex_warning && self.stat_count < CAD_MIN_STAT_COUNT {
            self.stat_count = CAD_MIN_STAT_COUNT;
        }
        if (self.pitch & 0x6000) == 0x6000
            || (self.tone & 0x7c00) == 0x7c00
            || (self.vadreg & 0x7f80) == 0
        {
            self.stat_count = STAT_COUNT;
        } else {
            let mut stat_rat: i16 = 0;
            for i in 0..COMPLEN {
                let (mut num, mut denom) = if level[i] > self.ave_level[i] {
                    (level[i], self.ave_level[i])
                } else {
                    (self.ave_level[i], level[i])
                };
                num = num.max(STAT_THR_LEVEL);
                denom = denom.max(STAT_THR_LEVEL);
                let exp = norm_s(denom);
                let denom = shl(denom, exp);
                let t = div_s(shr(num, 1), denom);
                stat_rat = add(stat_rat, shr(t, sub(8, exp)));
            }
            if stat_rat > STAT_THR {
                self.stat_count = STAT_COUNT;
            } else if (self.vadreg & 0x4000) != 0 && self.stat_count != 0 {
                self.stat_count = sub(self.stat_count, 1);
            }
        }
        let mut alpha = ALPHA4;
        if self.stat_count == STAT_COUNT {
            alpha = 32767;
        } else if (self.vadreg & 0x4000) == 0 {
            alpha = ALPHA5;
        }
        for i in 0..COMPLEN {
            let t = mult_r(alpha, sub(level[i], self.ave_level[i]));
            self.ave_level[i] = add(self.ave_level[i], t);
        }
    }

    fn hangover_addition(&mut self, noise_level: i16, low_power: bool) -> i16 {
        let (burst_len, hang_len) = if noise_level > HANG_NOISE_THR {
            (BURST_LEN_HIGH_NOISE, HANG_LEN_HIGH_NOISE)
        } else {
            (BURST_LEN_LOW_NOISE, HANG_LEN_LOW_NOISE)
        };
        if low_power {
            self.burst_count = 0;
            self.hang_count = 0;
            self.complex_hang_count = 0;
            self.complex_hang_timer = 0;
            return 0;
        }
        if self.complex_hang_timer > CVAD_HANG_LIMIT && self.complex_hang_count < CVAD_HANG_LENGTH {
            self.complex_hang_count = CVAD_HANG_LENGTH;
        }
        if self.complex_hang_count != 0 {
            self.burst_count = BURST_LEN_HIGH_NOISE;
            self.complex_hang_count = sub(self.complex_hang_count, 1);
            return 1;
        } else if (self.vadreg & 0x3ff0) == 0 && self.corr_hp_fast > CVAD_THRESH_IN_NOISE {
            return 1;
        }
        if (self.vadreg & 0x4000) != 0 {
            self.burst_count = add(self.burst_count, 1);
            if self.burst_count >= burst_len {
                self.hang_count = hang_len;
            }
            1
        } else {
            self.burst_count = 0;
            if self.hang_count > 0 {
                self.hang_count = sub(self.hang_count, 1);
                1
            } else {
                0
            }
        }
    }

    fn noise_estimate_update(&mut self, level: &[i16; COMPLEN]) {
        self.update_cntrl(level);
        let mut bckr_add = 2;
        let (alpha_up, alpha_down);
        if (0x7800 & self.vadreg) == 0 && (self.pitch & 0x7800) == 0 && self.complex_hang_count == 0
        {
            alpha_up = ALPHA_UP1;
            alpha_down = ALPHA_DOWN1;
        } else if self.stat_count == 0 && self.complex_hang_count == 0 {
            alpha_up = ALPHA_UP2;
            alpha_down = ALPHA_DOWN2;
        } else {
            alpha_up = 0;
            alpha_down = ALPHA3;
            bckr_add = 0;
        }
        for i in 0..COMPLEN {
            let t = sub(self.old_level[i], self.bckr_est[i]);
            if t < 0 {
                let t = add(self.bckr_est[i], mult_r(alpha_down, t));
                self.bckr_est[i] = add(-2, t).max(NOISE_MIN);
            } else {
                let t = add(self.bckr_est[i], mult_r(alpha_up, t));
                self.bckr_est[i] = add(bckr_add, t).min(NOISE_MAX);
            }
        }
        self.old_level = *level;
    }

    fn complex_estimate_adapt(&mut self, low_power: bool) {
        let alpha = if self.best_corr_hp < self.corr_hp_fast {
            if self.corr_hp_fast < CVAD_THRESH_ADAPT_HIGH {
                CVAD_ADAPT_FAST
            } else {
                CVAD_ADAPT_REALLY_FAST
            }
        } else if self.corr_hp_fast < CVAD_THRESH_ADAPT_HIGH {
            CVAD_ADAPT_FAST
        } else {
            CVAD_ADAPT_SLOW
        };
        let mut l = i32::from(self.corr_hp_fast) << 16;
        l = l_msu(l, alpha, self.corr_hp_fast);
        l = l_mac(l, alpha, self.best_corr_hp);
        self.corr_hp_fast = round(l).max(CVAD_MIN_CORR);
        if low_power {
            self.corr_hp_fast = CVAD_MIN_CORR;
        }
    }

    fn complex_vad(&mut self, low_power: bool) -> bool {
        self.complex_high = shr(self.complex_high, 1);
        self.complex_low = shr(self.complex_low, 1);
        if !low_power {
            if self.corr_hp_fast > CVAD_THRESH_ADAPT_HIGH {
                self.complex_high |= 0x4000;
            }
            if self.corr_hp_fast > CVAD_THRESH_ADAPT_LOW {
                self.complex_low |= 0x4000;
            }
        }
        if self.corr_hp_fast > CVAD_THRESH_HANG {
            self.complex_hang_timer = add(self.complex_hang_timer, 1);
        } else {
            self.complex_hang_timer = 0;
        }
        (self.complex_high & 0x7f80) == 0x7f80 || (self.complex_low & 0x7fff) == 0x7fff
    }

    fn decision(&mut self, level: &[i16; COMPLEN], pow_sum: i32) -> bool {
        let mut l: i32 = 0;
        for i in 0..COMPLEN {
            let exp = norm_s(self.bckr_est[i]);
            let t = shl(self.bckr_est[i], exp);
            let t = div_s(shr(level[i], 1), t);
            let t = shl(t, sub(exp, UNIRSHFT - 1));
            l = l_mac(l, t, t);
        }
        let snr_sum = mult((l_shl(l, 6) >> 16) as i16, INV_COMPLEN);
        let mut l: i32 = 0;
        for &b in &self.bckr_est {
            l = l_add(l, i32::from(b));
        }
        let noise_level = (l_shl(l, 13) >> 16) as i16;
        let t = mult(VAD_SLOPE, sub(noise_level, VAD_P1));
        let vad_thr = add(t, VAD_THR_HIGH).max(VAD_THR_LOW);
        self.vadreg = shr(self.vadreg, 1);
        if snr_sum > vad_thr {
            self.vadreg |= 0x4000;
        }
        let low_power = l_sub(pow_sum, VAD_POW_LOW) < 0;
        self.complex_estimate_adapt(low_power);
        self.complex_warning = self.complex_vad(low_power);
        self.noise_estimate_update(level);
        self.speech_vad_decision = self.hangover_addition(noise_level, low_power);
        self.speech_vad_decision != 0
    }

    /// `vad_complex_detection_update`.
    pub fn complex_detection_update(&mut self, best_corr_hp: i16) {
        self.best_corr_hp = best_corr_hp;
    }

    /// `vad_tone_detection`.
    pub fn tone_detection(&mut self, t0: i32, t1: i32) {
        let t = round(t1);
        if t > 0 && l_msu(t0, t, TONE_THR) > 0 {
            self.tone |= 0x4000;
        }
    }

    /// `vad_tone_detection_update`.
    pub fn tone_detection_update(&mut self, one_lag_per_frame: bool) {
        self.tone = shr(self.tone, 1);
        if one_lag_per_frame {
            self.tone = shr(self.tone, 1);
            self.tone |= 0x2000;
        }
    }

    /// `vad_pitch_detection`.
    pub fn pitch_detection(&mut self, t_op: &[i16; 2]) {
        let mut lagcount = 0;
        for &t in t_op {
            if abs_s(sub(self.oldlag, t)) < LTHRESH {
                lagcount += 1;
            }
            self.oldlag = t;
        }
        self.pitch = shr(self.pitch, 1);
        if add(self.oldlag_count, lagcount) >= NTHRESH {
            self.pitch |= 0x4000;
        }
        self.oldlag_count = lagcount;
    }

    /// `vad1`: whether the frame starting at `speech[at]` holds speech (`at` ≥ 40: the
    /// detector looks at the 40 samples before it, the frame's lookahead).
    pub fn detect(&mut self, speech: &[i16], at: usize) -> bool {
        let mut pow_sum: i32 = 0;
        for i in 0..FRAME_LEN {
            let v = speech[(at as isize + i as isize - LOOKAHEAD) as usize];
            pow_sum = l_mac(pow_sum, v, v);
        }
        if l_sub(pow_sum, POW_PITCH_THR) < 0 {
            self.pitch &= 0x3fff;
        }
        if l_sub(pow_sum, POW_COMPLEX_THR) < 0 {
            self.complex_low &= 0x3fff;
        }
        let mut level = [0i16; COMPLEN];
        self.filter_bank(&speech[at..at + FRAME_LEN], &mut level);
        self.decision(&level, pow_sum)
    }
}
