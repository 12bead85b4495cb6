//! Pitch analysis: the weighted speech (`pre_big`), the open-loop lag (`ol_ltp`, `Pitch_ol`,
//! `Pitch_ol_wgh`, `hp_max`), the closed-loop fractional lag and its index (`Pitch_fr`,
//! `Enc_lag3`, `Enc_lag6`), the pitch gain (`G_pitch`, `q_gain_pitch`) and the tonal
//! stability checks that limit it (`ton_stab`).

use super::vad::Vad;
use crate::basic::*;
use crate::dsp::*;
use crate::tables::QUA_GAIN_PITCH;
use crate::{Mode, L_FRAME, L_SUBFR, M, MP1, PIT_MAX, PIT_MIN, PIT_MIN_MR122};

const L_INTER_SRCH: i16 = 4;
const THRESHOLD: i32 = 27853;
pub(crate) const GP_CLIP: i16 = 15565;
const N_FRAME: usize = 7;

const INTER_6: [i16; 25] = [
    29519, 28316, 24906, 19838, 13896, 7945, 2755, -1127, -3459, -4304, -3969, -2899, -1561, -336,
    534, 970, 1023, 823, 516, 220, 0, -131, -194, -215, 0,
];

/// The lag weighting of 10.2 kbit/s's open-loop search (`corrweight`).
static CORRWEIGHT: [i16; 251] = [
    20473, 20506, 20539, 20572, 20605, 20644, 20677, 20716, 20749, 20788, 20821, 20860, 20893,
    20932, 20972, 21011, 21050, 21089, 21129, 21168, 21207, 21247, 21286, 21332, 21371, 21417,
    21456, 21502, 21542, 21588, 21633, 21679, 21725, 21771, 21817, 21863, 21909, 21961, 22007,
    22059, 22105, 22158, 22210, 22263, 22315, 22367, 22420, 22472, 22531, 22584, 22643, 22702,
    22761, 22820, 22879, 22938, 23003, 23062, 23128, 23193, 23252, 23324, 23390, 23455, 23527,
    23600, 23665, 23744, 23816, 23888, 23967, 24045, 24124, 24202, 24288, 24366, 24451, 24537,
    24628, 24714, 24805, 24904, 24995, 25094, 25192, 25297, 25395, 25500, 25611, 25723, 25834,
    25952, 26070, 26188, 26313, 26444, 26575, 26706, 26844, 26988, 27132, 27283, 27440, 27597,
    27761, 27931, 28108, 28285, 28475, 28665, 28869, 29078, 29295, 29524, 29760, 30002, 30258,
    30527, 30808, 31457, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 31457, 30808, 30527,
    30258, 30002, 29760, 29524, 29295, 29078, 28869, 28665, 28475, 28285, 28108, 27931, 27761,
    27597, 27440, 27283, 27132, 26988, 26844, 26706, 26575, 26444, 26313, 26188, 26070, 25952,
    25834, 25723, 25611, 25500, 25395, 25297, 25192, 25094, 24995, 24904, 24805, 24714, 24628,
    24537, 24451, 24366, 24288, 24202, 24124, 24045, 23967, 23888, 23816, 23744, 23665, 23600,
    23527, 23455, 23390, 23324, 23252, 23193, 23128, 23062, 23003, 22938, 22879, 22820, 22761,
    22702, 22643, 22584, 22531, 22472, 22420, 22367, 22315, 22263, 22210, 22158, 22105, 22059,
    22007, 21961, 21909, 21863, 21817, 21771, 21725, 21679, 21633, 21588, 21542, 21502, 21456,
    21417, 21371, 21332, 21286, 21247, 21207, 21168, 21129, 21089, 21050, 21011, 20972, 20932,
    20893, 20860, 20821, 20788, 20749, 20716, 20677, 20644, 20605, 20572, 20539, 20506, 20473,
    20434, 20401, 20369, 20336,
];

/// `Convolve`: y\[n\] = Σ x\[i\]·h\[n−i\] >> 12 over a subframe.
pub(crate) fn convolve(x: &[i16], h: &[i16], y: &mut [i16; L_SUBFR]) {
    // h reversed, so that each output is a dot product of two contiguous runs.
    let mut hr = [0i16; L_SUBFR];
    for k in 0..L_SUBFR {
        hr[k] = h[L_SUBFR - 1 - k];
    }
    let x = &x[..L_SUBFR];
    for n in 0..L_SUBFR {
        let s = x[..=n]
            .iter()
            .zip(&hr[L_SUBFR - 1 - n..])
            .fold(0i32, |s, (&a, &b)| {
                s.wrapping_add(i32::from(a) * i32::from(b))
            });
        y[n] = (s >> 12) as i16;
    }
}

/// `pre_big`: the perceptually weighted speech of two subframes (`wsp`, from `speech`).
pub(crate) fn pre_big(
    mode: Mode,
    gamma1: &[i16; M],
    gamma1_12k2: &[i16; M],
    gamma2: &[i16; M],
    a_t: &[i16; 4 * MP1],
    frame_offset: usize,
    speech: &[i16],
    speech_at: usize,
    mem_w: &mut [i16; M],
    wsp: &mut [i16],
    wsp_at: usize,
) {
    let g1 = if mode <= Mode::MR795 {
        gamma1
    } else {
        gamma1_12k2
    };
    let mut a_off = if frame_offset > 0 { 2 * MP1 } else { 0 };
    let mut off = frame_offset;
    for _ in 0..2 {
        let mut ap1 = [0i16; MP1];
        let mut ap2 = [0i16; MP1];
        weight_ai(&a_t[a_off..], g1, &mut ap1);
        weight_ai(&a_t[a_off..], gamma2, &mut ap2);
        let s = speech_at + off;
        let mut tmp = [0i16; L_SUBFR];
        residu(&ap1, &speech[s - M..s + L_SUBFR], &mut tmp);
        let out = &mut wsp[wsp_at + off..wsp_at + off + L_SUBFR];
        syn_filt(&ap2, &tmp, out, mem_w, true);
        a_off += MP1;
        off += L_SUBFR;
    }
}

/// `comp_corr`: corr\[lag\] = 2·Σ s\[j\]·s\[j−lag\] for the lags searched; `s[base..]` is
/// the frame, with `lag_max` samples of history before it. Four lags at a time share the
/// frame's samples; the sums wrap, as the reference's.
fn comp_corr(
    s: &[i16],
    base: usize,
    l_frame: usize,
    lag_max: i16,
    lag_min: i16,
    corr: &mut [i32; PIT_MAX as usize + 1],
) {
    let frame = &s[base..base + l_frame];
    let mut lag = lag_min as usize;
    let top = lag_max as usize;
    while lag + 3 <= top {
        // The past from lag + 3 back, so that lag − k reads past[3 − k + j].
        let past = &s[base - lag - 3..base - lag + l_frame];
        let (mut t0, mut t1, mut t2, mut t3) = (0i32, 0i32, 0i32, 0i32);
        for (j, &a) in frame.iter().enumerate() {
            let a = i32::from(a);
            let w = &past[j..j + 4];
            t3 = t3.wrapping_add(a * i32::from(w[0]));
            t2 = t2.wrapping_add(a * i32::from(w[1]));
            t1 = t1.wrapping_add(a * i32::from(w[2]));
            t0 = t0.wrapping_add(a * i32::from(w[3]));
        }
        corr[lag] = t0.wrapping_shl(1);
        corr[lag + 1] = t1.wrapping_shl(1);
        corr[lag + 2] = t2.wrapping_shl(1);
        corr[lag + 3] = t3.wrapping_shl(1);
        lag += 4;
    }
    while lag <= top {
        let past = &s[base - lag..base - lag + l_frame];
        let mut t: i32 = 0;
        for (&a, &b) in frame.iter().zip(past) {
            t = t.wrapping_add(i32::from(a) * i32::from(b));
        }
        corr[lag] = t.wrapping_shl(1);
        lag += 1;
    }
}

/// `Lag_max` of `Pitch_ol`: the best lag in a range, and its normalised correlation.
fn lag_max(
    vad: Option<&mut Vad>,
    corr: &[i32; PIT_MAX as usize + 1],
    s: &[i16],
    base: usize,
    scal_fac: i16,
    scal_flag: bool,
    l_frame: usize,
    lag_max: i16,
    lag_min: i16,
) -> (i16, i16) {
    let mut max = MIN_32;
    let mut p_max = lag_max;
    let mut i = lag_max;
    while i >= lag_min {
        if corr[i as usize] >= max {
            max = corr[i as usize];
            p_max = i;
        }
        i -= 1;
    }
    let mut t0: i32 = 0;
    let p = base - p_max as usize;
    for &v in &s[p..p + l_frame] {
        t0 = t0.wrapping_add(i32::from(v) * i32::from(v));
    }
    t0 = t0.wrapping_shl(1);
    if let Some(v) = vad {
        v.tone_detection(max, t0);
    }
    let mut t0 = inv_sqrt(t0);
    if scal_flag {
        t0 = if t0 > 0x3fff_ffff { MAX_32 } else { t0 << 1 };
    }
    let max_h = (max >> 16) as i16;
    let max_l = ((max >> 1) - (i32::from(max_h) << 15)) as i16;
    let ener_h = (t0 >> 16) as i16;
    let ener_l = ((t0 >> 1) - (i32::from(ener_h) << 15)) as i16;
    let t0 = mpy_32(max_h, max_l, ener_h, ener_l);
    let cor_max = if scal_flag {
        let t0 = l_shr(t0, scal_fac);
        if t0 > 0xffff {
            MAX_16
        } else if t0 < -65536 {
            MIN_16
        } else {
            (t0 >> 1) as i16
        }
    } else {
        t0 as i16
    };
    (p_max, cor_max)
}

/// `hp_max`: the high-passed correlation maximum the VAD's complex-signal detector uses.
fn hp_max(
    corr: &[i32; PIT_MAX as usize + 1],
    s: &[i16],
    base: usize,
    l_frame: usize,
    lag_max: i16,
    lag_min: i16,
) -> i16 {
    let mut max = MIN_32;
    let mut i = lag_max - 1;
    while i > lag_min {
        let iu = i as usize;
        let t = l_shl(corr[iu], 1);
        let t = l_sub(l_sub(t, corr[iu + 1]), corr[iu - 1]);
        let t = l_abs(t);
        if t >= max {
            max = t;
        }
        i -= 1;
    }
    let mut t0: i32 = 0;
    let mut t1: i32 = 0;
    for k in 0..l_frame {
        t0 = l_mac(t0, s[base + k], s[base + k]);
        t1 = l_mac(t1, s[base + k], s[base + k - 1]);
    }
    let t0 = l_abs(l_sub(l_shl(t0, 1), l_shl(t1, 1)));
    let shift1 = norm_l(max) - 1;
    let max16 = (l_shl(max, shift1) >> 16) as i16;
    let shift2 = norm_l(t0);
    let t016 = (l_shl(t0, shift2) >> 16) as i16;
    let cor_max = if t016 != 0 { div_s(max16, t016) } else { 0 };
    let shift = shift1 - shift2;
    if shift >= 0 {
        shr(cor_max, shift)
    } else {
        shl(cor_max, negate(shift))
    }
}

/// The signal scaled for the open-loop search, with its scale.
fn scale_signal(
    signal: &[i16],
    at: usize,
    pit_max: usize,
    l_frame: usize,
    out: &mut [i16; PIT_MAX as usize + L_FRAME],
    energy_saturated: bool,
    energy_small: bool,
) -> i16 {
    let src = &signal[at - pit_max..at + l_frame];
    let dst = &mut out[..pit_max + l_frame];
    if energy_saturated {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = v >> 3;
        }
        3
    } else if energy_small {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = (i32::from(v) << 3) as i16;
        }
        -3
    } else {
        dst.copy_from_slice(src);
        0
    }
}

/// `Pitch_ol`: the open-loop pitch lag of `l_frame` samples of weighted speech at
/// `signal[at..]`.
fn pitch_ol(
    mut vad: Option<&mut Vad>,
    mode: Mode,
    signal: &[i16],
    at: usize,
    pit_min: i16,
    pit_max: i16,
    l_frame: usize,
    idx: usize,
) -> i16 {
    if let Some(v) = vad.as_deref_mut() {
        v.tone_detection_update(mode == Mode::MR475 || mode == Mode::MR515);
    }
    let pm = pit_max as usize;
    let mut t0: i32 = 0;
    for &v in &signal[at - pm..at + l_frame] {
        t0 = t0.wrapping_add((i32::from(v) * i32::from(v)) << 1);
        if t0 < 0 {
            t0 = MAX_32;
            break;
        }
    }
    let mut scaled = [0i16; PIT_MAX as usize + L_FRAME];
    let scal_fac = scale_signal(
        signal,
        at,
        pm,
        l_frame,
        &mut scaled,
        t0 == MAX_32,
        t0 < 1_048_576,
    );
    let mut corr = [0i32; PIT_MAX as usize + 1];
    comp_corr(&scaled, pm, l_frame, pit_max, pit_min, &mut corr);
    let scal_flag = mode == Mode::MR122;
    let j = shl(pit_min, 2);
    let (mut p_max1, mut max1) = lag_max(
        vad.as_deref_mut(),
        &corr,
        &scaled,
        pm,
        scal_fac,
        scal_flag,
        l_frame,
        pit_max,
        j,
    );
    let i = j - 1;
    let j = pit_min << 1;
    let (p_max2, max2) = lag_max(
        vad.as_deref_mut(),
        &corr,
        &scaled,
        pm,
        scal_fac,
        scal_flag,
        l_frame,
        i,
        j,
    );
    let i = j - 1;
    let (p_max3, max3) = lag_max(
        vad.as_deref_mut(),
        &corr,
        &scaled,
        pm,
        scal_fac,
        scal_flag,
        l_frame,
        i,
        pit_min,
    );
    if let Some(v) = vad {
        if idx == 1 {
            let c = hp_max(&corr, &scaled, pm, l_frame, pit_max, pit_min);
            v.complex_detection_update(c);
        }
    }
    if (((i32::from(max1) * THRESHOLD) >> 15) as i16) < max2 {
        max1 = max2;
        p_max1 = p_max2;
    }
    if (((i32::from(max1) * THRESHOLD) >> 15) as i16) < max3 {
        p_max1 = p_max3;
    }
    p_max1
}

/// The open-loop search's state at 10.2 kbit/s (`pitchOLWghtState`).
pub(crate) struct PitchOlWgh {
    old_t0_med: i16,
    ada_w: i16,
    wght_flg: i16,
}

impl PitchOlWgh {
    pub fn new() -> Self {
        PitchOlWgh {
            old_t0_med: 40,
            ada_w: 0,
            wght_flg: 0,
        }
    }

    /// `Pitch_ol_wgh`: the open-loop lag with the weighting toward past lags of 10.2 kbit/s.
    fn pitch(
        &mut self,
        mut vad: Option<&mut Vad>,
        signal: &[i16],
        at: usize,
        pit_min: i16,
        pit_max: i16,
        l_frame: usize,
        old_lags: &mut [i16; 5],
        ol_gain_flg: &mut [i16; 2],
        idx: usize,
    ) -> i16 {
        let pm = pit_max as usize;
        let mut t0: i32 = 0;
        for &v in &signal[at - pm..at + l_frame] {
            t0 = l_mac(t0, v, v);
        }
        let mut scaled = [0i16; PIT_MAX as usize + L_FRAME];
        let sat = l_sub(t0, MAX_32) == 0;
        let small = !sat && l_sub(t0, 1_048_576) < 0;
        if sat {
            for k in 0..pm + l_frame {
                scaled[k] = shr(signal[at - pm + k], 3);
            }
        } else if small {
            for k in 0..pm + l_frame {
                scaled[k] = shl(signal[at - pm + k], 3);
            }
        } else {
            scaled[..pm + l_frame].copy_from_slice(&signal[at - pm..at + l_frame]);
        }
        let mut corr = [0i32; PIT_MAX as usize + 1];
        comp_corr(&scaled, pm, l_frame, pit_max, pit_min, &mut corr);
        // Lag_max with the lag weighting.
        let mut ww = 250usize;
        let mut we = (123 + pit_max - self.old_t0_med) as usize;
        let mut max = MIN_32;
        let mut p_max = pit_max;
        let mut i = pit_max;
        while i >= pit_min {
            let (h, l) = l_extract(corr[i as usize]);
            let mut t = mpy_32_16(h, l, CORRWEIGHT[ww]);
            ww -= 1;
            if self.wght_flg > 0 {
                let (h, l) = l_extract(t);
                t = mpy_32_16(h, l, CORRWEIGHT[we]);
                we = we.wrapping_sub(1);
            }
            if t >= max {
                max = t;
                p_max = i;
            }
            i -= 1;
        }
        let mut t0: i32 = 0;
        let mut t1: i32 = 0;
        let p = pm - p_max as usize;
        for j in 0..l_frame {
            t0 = l_mac(t0, scaled[pm + j], scaled[p + j]);
            t1 = l_mac(t1, scaled[p + j], scaled[p + j]);
        }
        if let Some(v) = vad.as_deref_mut() {
            v.tone_detection_update(false);
            v.tone_detection(t0, t1);
        }
        let t = round(t1);
        let t1 = l_msu(t0, t, 13107);
        ol_gain_flg[idx] = round(t1);
        let p_max1 = p_max;
        if ol_gain_flg[idx] > 0 {
            old_lags.copy_within(0..4, 1);
            old_lags[0] = p_max1;
            self.old_t0_med = gmed_n(old_lags);
            self.ada_w = 32767;
        } else {
            self.old_t0_med = p_max1;
            self.ada_w = ((i32::from(self.ada_w) * 29491) >> 15) as i16;
        }
        self.wght_flg = if sub(self.ada_w, 9830) < 0 { 0 } else { 1 };
        if let Some(v) = vad {
            if idx == 1 {
                let c = hp_max(&corr, &scaled, pm, l_frame, pit_max, pit_min);
                v.complex_detection_update(c);
            }
        }
        p_max1
    }
}

/// `ol_ltp`: the open-loop lag of a half frame (or of the frame at 4.75 and 5.15 kbit/s).
pub(crate) fn ol_ltp(
    wgh: &mut PitchOlWgh,
    vad: Option<&mut Vad>,
    mode: Mode,
    wsp: &[i16],
    at: usize,
    old_lags: &mut [i16; 5],
    ol_gain_flg: &mut [i16; 2],
    idx: usize,
) -> i16 {
    if mode != Mode::MR102 {
        ol_gain_flg[0] = 0;
        ol_gain_flg[1] = 0;
    }
    match mode {
        Mode::MR475 | Mode::MR515 => pitch_ol(vad, mode, wsp, at, PIT_MIN, PIT_MAX, L_FRAME, idx),
        Mode::MR102 => wgh.pitch(
            vad,
            wsp,
            at,
            PIT_MIN,
            PIT_MAX,
            L_FRAME / 2,
            old_lags,
            ol_gain_flg,
            idx,
        ),
        Mode::MR122 => pitch_ol(vad, mode, wsp, at, PIT_MIN_MR122, PIT_MAX, L_FRAME / 2, idx),
        _ => pitch_ol(vad, mode, wsp, at, PIT_MIN, PIT_MAX, L_FRAME / 2, idx),
    }
}

/// `Interpol_3or6`: the normalised correlation interpolated at a fraction of a lag.
fn interpol_3or6(corr: &[i16], at: usize, frac: i16, flag3: bool) -> i16 {
    let mut frac = frac;
    if flag3 {
        frac <<= 1;
    }
    let mut x = at;
    if frac < 0 {
        frac += 6;
        x -= 1;
    }
    let c1 = &INTER_6[frac as usize..];
    let c2 = &INTER_6[(6 - frac) as usize..];
    let mut s: i32 = 0x4000;
    for t in 0..4 {
        s = s
            .wrapping_add(i32::from(corr[x - t]) * i32::from(c1[6 * t]))
            .wrapping_add(i32::from(corr[x + 1 + t]) * i32::from(c2[6 * t]));
    }
    (s >> 15) as i16
}

struct ModeParm {
    max_frac_lag: i16,
    flag3: bool,
    first_frac: i16,
    last_frac: i16,
    delta_int_low: i16,
    delta_int_range: i16,
    delta_frc_low: i16,
    delta_frc_range: i16,
    pit_min: i16,
}

const fn mp(
    max_frac_lag: i16,
    flag3: bool,
    first_frac: i16,
    last_frac: i16,
    delta_int_low: i16,
    delta_int_range: i16,
    delta_frc_low: i16,
    delta_frc_range: i16,
    pit_min: i16,
) -> ModeParm {
    ModeParm {
        max_frac_lag,
        flag3,
        first_frac,
        last_frac,
        delta_int_low,
        delta_int_range,
        delta_frc_low,
        delta_frc_range,
        pit_min,
    }
}

const MODE_DEP_PARM: [ModeParm; 8] = [
    mp(84, true, -2, 2, 5, 10, 5, 9, PIT_MIN),
    mp(84, true, -2, 2, 5, 10, 5, 9, PIT_MIN),
    mp(84, true, -2, 2, 3, 6, 5, 9, PIT_MIN),
    mp(84, true, -2, 2, 3, 6, 5, 9, PIT_MIN),
    mp(84, true, -2, 2, 3, 6, 5, 9, PIT_MIN),
    mp(84, true, -2, 2, 3, 6, 10, 19, PIT_MIN),
    mp(84, true, -2, 2, 3, 6, 5, 9, PIT_MIN),
    mp(94, false, -3, 3, 3, 6, 5, 9, PIT_MIN_MR122),
];

/// `Norm_Corr`: the normalised correlation of the target with the filtered past excitation,
/// for the lags `t_min..=t_max` (into `corr_norm[lag - t_min]`).
fn norm_corr(
    exc: &[i16],
    at: usize,
    xn: &[i16; L_SUBFR],
    h: &[i16],
    t_min: i16,
    t_max: i16,
    corr_norm: &mut [i16; 40],
) {
    let mut k = at - t_min as usize;
    let mut excf = [0i16; L_SUBFR];
    convolve(&exc[k..k + L_SUBFR], h, &mut excf);
    let mut scaled = [0i16; L_SUBFR];
    let mut s: i32 = 0;
    for j in 0..L_SUBFR {
        scaled[j] = excf[j] >> 2;
        s = s.wrapping_add(i32::from(excf[j]) * i32::from(excf[j]));
    }
    let (mut s_excf, h_fac, scaling) = if s <= (67_108_864 >> 1) {
        (excf, 12, 0)
    } else {
        (scaled, 14, 2)
    };
    for i in t_min..=t_max {
        let mut s: i32 = 0;
        let mut s2: i32 = 0;
        for j in 0..L_SUBFR {
            s = s.wrapping_add(i32::from(xn[j]) * i32::from(s_excf[j]));
            s2 = s2.wrapping_add(i32::from(s_excf[j]) * i32::from(s_excf[j]));
        }
        let s2 = inv_sqrt(s2.wrapping_shl(1));
        let norm_h = (s2 >> 16) as i16;
        let norm_l = ((s2 >> 1) - (i32::from(norm_h) << 15)) as i16;
        let corr_h = (s >> 15) as i16;
        let corr_l = s.wrapping_sub(i32::from(corr_h) << 15) as i16;
        corr_norm[(i - t_min) as usize] = mpy_32(corr_h, corr_l, norm_h, norm_l) as i16;
        if i != t_max {
            k -= 1;
            let t = i32::from(exc[k]);
            for j in (1..L_SUBFR).rev() {
                s_excf[j] = (((t * i32::from(h[j])) >> h_fac) as i16).wrapping_add(s_excf[j - 1]);
            }
            s_excf[0] = (t >> scaling) as i16;
        }
    }
}

/// `searchFrac`: the best fraction around `lag`.
fn search_frac(
    lag: &mut i16,
    frac: &mut i16,
    last_frac: i16,
    corr: &[i16; 40],
    t_min: i16,
    flag3: bool,
) {
    let at = (*lag - t_min) as usize;
    let mut max = interpol_3or6(corr, at, *frac, flag3);
    for i in *frac + 1..=last_frac {
        let c = interpol_3or6(corr, at, i, flag3);
        if c > max {
            max = c;
            *frac = i;
        }
    }
    if !flag3 {
        if *frac == -3 {
            *frac = 3;
            *lag -= 1;
        }
    } else {
        if *frac == -2 {
            *frac = 1;
            *lag -= 1;
        }
        if *frac == 2 {
            *frac = -1;
            *lag += 1;
        }
    }
}

fn get_range(t0: i16, delta_low: i16, delta_range: i16, pitmin: i16, pitmax: i16) -> (i16, i16) {
    let mut t0_min = t0 - delta_low;
    if t0_min < pitmin {
        t0_min = pitmin;
    }
    let mut t0_max = t0_min + delta_range;
    if t0_max > pitmax {
        t0_max = pitmax;
        t0_min = pitmax - delta_range;
    }
    (t0_min, t0_max)
}

/// `Enc_lag3`: the lag's index, resolution 1/3.
fn enc_lag3(
    t0: i16,
    t0_frac: i16,
    t0_prev: i16,
    t0_min: i16,
    t0_max: i16,
    delta: bool,
    flag4: bool,
) -> i16 {
    if !delta {
        if t0 - 85 <= 0 {
            3 * t0 - 58 + t0_frac
        } else {
            t0 + 112
        }
    } else if !flag4 {
        3 * (t0 - t0_min) + 2 + t0_frac
    } else {
        let mut tmp_lag = t0_prev;
        if tmp_lag - t0_min - 5 > 0 {
            tmp_lag = t0_min + 5;
        }
        if t0_max - tmp_lag - 4 > 0 {
            tmp_lag = t0_max - 4;
        }
        let uplag = 3 * t0 + t0_frac;
        let tmp_ind = 3 * (tmp_lag - 2);
        if tmp_ind - uplag >= 0 {
            t0 - tmp_lag + 5
        } else if 3 * (tmp_lag + 1) > uplag {
            uplag - tmp_ind + 3
        } else {
            t0 - tmp_lag + 11
        }
    }
}

/// `Enc_lag6`: the lag's index at 12.2 kbit/s, resolution 1/6.
fn enc_lag6(t0: i16, t0_frac: i16, t0_min: i16, delta: bool) -> i16 {
    if !delta {
        if t0 <= 94 {
            6 * t0 - 105 + t0_frac
        } else {
            t0 + 368
        }
    } else {
        6 * (t0 - t0_min) + 3 + t0_frac
    }
}

/// `Pitch_frState`.
pub(crate) struct PitchFr {
    t0_prev_subframe: i16,
}

impl PitchFr {
    pub fn new() -> Self {
        PitchFr {
            t0_prev_subframe: 0,
        }
    }

    /// `Pitch_fr`: the closed-loop lag (integer, fraction, whether in thirds) and its index.
    pub fn search(
        &mut self,
        mode: Mode,
        t_op: &[i16; 2],
        exc: &[i16],
        at: usize,
        xn: &[i16; L_SUBFR],
        h: &[i16],
        i_subfr: usize,
    ) -> (i16, i16, bool, i16) {
        let p = &MODE_DEP_PARM[mode.index()];
        let mut frac = p.first_frac;
        let mut last_frac = p.last_frac;
        let mut delta_search = true;
        let (t0_min, t0_max) = if i_subfr == 0 || i_subfr == L_FRAME / 2 {
            if (mode != Mode::MR475 && mode != Mode::MR515) || i_subfr != L_FRAME / 2 {
                delta_search = false;
                let fo = if i_subfr == 0 { 0 } else { 1 };
                get_range(
                    t_op[fo],
                    p.delta_int_low,
                    p.delta_int_range,
                    p.pit_min,
                    PIT_MAX,
                )
            } else {
                get_range(
                    self.t0_prev_subframe,
                    p.delta_frc_low,
                    p.delta_frc_range,
                    p.pit_min,
                    PIT_MAX,
                )
            }
        } else {
            get_range(
                self.t0_prev_subframe,
                p.delta_frc_low,
                p.delta_frc_range,
                p.pit_min,
                PIT_MAX,
            )
        };
        let t_min = t0_min - L_INTER_SRCH;
        let t_max = t0_max + L_INTER_SRCH;
        let mut corr = [0i16; 40];
        norm_corr(exc, at, xn, h, t_min, t_max, &mut corr);
        let c = |lag: i16| corr[(lag - t_min) as usize];
        let mut max = c(t0_min);
        let mut lag = t0_min;
        for i in t0_min + 1..=t0_max {
            if c(i) >= max {
                max = c(i);
                lag = i;
            }
        }
        let low4 = matches!(mode, Mode::MR475 | Mode::MR515 | Mode::MR59 | Mode::MR67);
        if !delta_search && lag > p.max_frac_lag {
            frac = 0;
        } else if delta_search && low4 {
            let mut tmp_lag = self.t0_prev_subframe;
            if tmp_lag - t0_min > 5 {
                tmp_lag = t0_min + 5;
            }
            if t0_max - tmp_lag > 4 {
                tmp_lag = t0_max - 4;
            }
            if lag == tmp_lag || lag == tmp_lag - 1 {
                search_frac(&mut lag, &mut frac, last_frac, &corr, t_min, p.flag3);
            } else if lag == tmp_lag - 2 {
                frac = 0;
                search_frac(&mut lag, &mut frac, last_frac, &corr, t_min, p.flag3);
            } else if lag == tmp_lag + 1 {
                last_frac = 0;
                search_frac(&mut lag, &mut frac, last_frac, &corr, t_min, p.flag3);
            } else {
                frac = 0;
            }
        } else {
            search_frac(&mut lag, &mut frac, last_frac, &corr, t_min, p.flag3);
        }
        let index = if p.flag3 {
            enc_lag3(
                lag,
                frac,
                self.t0_prev_subframe,
                t0_min,
                t0_max,
                delta_search,
                low4,
            )
        } else {
            enc_lag6(lag, frac, t0_min, delta_search)
        };
        self.t0_prev_subframe = lag;
        (lag, frac, p.flag3, index)
    }
}

/// `G_pitch`: the pitch gain that best matches `y1` to `xn`, and the correlations the gain
/// quantisers reuse (`g_coeff`).
pub(crate) fn g_pitch(
    mode: Mode,
    xn: &[i16; L_SUBFR],
    y1: &[i16; L_SUBFR],
    g_coeff: &mut [i16],
) -> i16 {
    let mut s: i32 = 0;
    for &v in y1 {
        s = s.wrapping_add(i32::from(v) * i32::from(v));
    }
    let (yy, exp_yy);
    if (0..0x4000_0000).contains(&s) {
        let s = (s << 1) + 1;
        let e = norm_l(s);
        yy = round(s << e);
        exp_yy = e;
    } else {
        let mut s: i32 = 0;
        for &v in y1 {
            let t = v >> 2;
            s = s.wrapping_add(i32::from(t) * i32::from(t));
        }
        let s = s.wrapping_shl(1).wrapping_add(1);
        let e = norm_l(s);
        yy = round(s.wrapping_shl(e as u32));
        exp_yy = e - 4;
    }
    let mut s: i32 = 0;
    let mut overflow = false;
    for i in 0..L_SUBFR {
        let t = i32::from(xn[i]) * i32::from(y1[i]);
        let s1 = s;
        s = s1.wrapping_add(t);
        if (s1 ^ t) > 0 && (s1 ^ s) < 0 {
            overflow = true;
            break;
        }
    }
    let (xy, exp_xy);
    if !overflow {
        let s = s.wrapping_shl(1).wrapping_add(1);
        let e = norm_l(s);
        xy = round(s.wrapping_shl(e as u32));
        exp_xy = e;
    } else {
        let mut s: i32 = 0;
        for i in 0..L_SUBFR {
            s = s.wrapping_add(i32::from(xn[i]) * i32::from(y1[i] >> 2));
        }
        let s = s.wrapping_shl(1).wrapping_add(1);
        let e = norm_l(s);
        xy = round(s.wrapping_shl(e as u32));
        exp_xy = e - 4;
    }
    g_coeff[0] = yy;
    g_coeff[1] = 15 - exp_yy;
    g_coeff[2] = xy;
    g_coeff[3] = 15 - exp_xy;
    if xy < 4 {
        return 0;
    }
    let mut gain = div_s(xy >> 1, yy);
    gain = shr(gain, exp_xy - exp_yy);
    if gain > 19661 {
        gain = 19661;
    }
    if mode == Mode::MR122 {
        gain &= !3;
    }
    gain
}

/// `q_gain_pitch`: the pitch gain's quantisation below `gp_limit`; at 7.95 kbit/s also three
/// candidates around it (values, indices).
pub(crate) fn q_gain_pitch(
    mode: Mode,
    gp_limit: i16,
    gain: &mut i16,
    cand: Option<(&mut [i16; 3], &mut [i16; 3])>,
) -> i16 {
    let mut err_min = abs_s(sub(*gain, QUA_GAIN_PITCH[0]));
    let mut index = 0usize;
    for i in 1..16 {
        if QUA_GAIN_PITCH[i] <= gp_limit {
            let err = abs_s(sub(*gain, QUA_GAIN_PITCH[i]));
            if err < err_min {
                err_min = err;
                index = i;
            }
        }
    }
    if mode == Mode::MR795 {
        let mut ii = if index == 0 {
            0
        } else if index == 15 || QUA_GAIN_PITCH[index + 1] > gp_limit {
            index - 2
        } else {
            index - 1
        };
        if let Some((g, c)) = cand {
            for i in 0..3 {
                c[i] = ii as i16;
                g[i] = QUA_GAIN_PITCH[ii];
                ii += 1;
            }
        }
        *gain = QUA_GAIN_PITCH[index];
    } else if mode == Mode::MR122 {
        *gain = QUA_GAIN_PITCH[index] & !3;
    } else {
        *gain = QUA_GAIN_PITCH[index];
    }
    index as i16
}

/// `tonStabState`: tonal stability, which limits the pitch gain against resonance.
pub(crate) struct TonStab {
    gp: [i16; N_FRAME],
    count: i16,
}

impl TonStab {
    pub fn new() -> Self {
        TonStab {
            gp: [0; N_FRAME],
            count: 0,
        }
    }

    /// `check_lsp`: whether the LSPs show a resonance.
    pub fn check_lsp(&mut self, lsp: &[i16; M]) -> bool {
        let mut d1 = MAX_16;
        for i in 3..M - 2 {
            let d = lsp[i].wrapping_sub(lsp[i + 1]);
            if d < d1 {
                d1 = d;
            }
        }
        let mut d2 = MAX_16;
        for i in 1..3 {
            let d = lsp[i].wrapping_sub(lsp[i + 1]);
            if d < d2 {
                d2 = d;
            }
        }
        let th = if lsp[1] > 32000 {
            600
        } else if lsp[1] > 30500 {
            800
        } else {
            1100
        };
        if d1 < 1500 || d2 < th {
            self.count = self.count.wrapping_add(1);
        } else {
            self.count = 0;
        }
        if self.count >= 12 {
            self.count = 12;
            true
        } else {
            false
        }
    }

    /// `check_gp_clipping`.
    pub fn check_gp_clipping(&self, g_pitch: i16) -> bool {
        let mut sum = shr(g_pitch, 3);
        for &g in &self.gp {
            sum = add(sum, g);
        }
        sum > GP_CLIP
    }

    /// `update_gp_clipping`.
    pub fn update_gp_clipping(&mut self, g_pitch: i16) {
        self.gp.copy_within(1.., 0);
        self.gp[N_FRAME - 1] = g_pitch >> 3;
    }
}
