//! Discontinuous transmission on the receiving side (`dtx_dec`): SID frames and the frames
//! between them become comfort noise shaped by the averaged spectrum and energy.

use super::gains::CbGainAverage;
use super::lsf::DPlsf;
use super::RxType;
use crate::basic::*;
use crate::dsp::*;
use crate::{Mode, LSF_GAP, L_FRAME, L_SUBFR, M, MP1};

const DTX_HIST_SIZE: usize = 8;
const DTX_MAX_EMPTY_THRESH: i16 = 50;
const DTX_ELAPSED_FRAMES_THRESH: i16 = 24 + 7 - 1;
const DTX_HANG_CONST: i16 = 7;
const PN_INITIAL_SEED: i32 = 0x7081_6958;

const LSF_HIST_MEAN_SCALE: [i16; M] = [20000, 20000, 20000, 20000, 20000, 18000, 16384, 8192, 0, 0];
const DTX_LOG_EN_ADJUST: [i16; 9] = [-1023, -878, -732, -586, -440, -294, -148, 0, 0];

/// The receiver's DTX state (`DTXStateType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DtxState {
    Speech,
    Dtx,
    DtxMute,
}

/// `dtx_decState`.
pub(crate) struct DtxDec {
    since_last_sid: i16,
    true_sid_period_inv: i16,
    log_en: i16,
    old_log_en: i16,
    l_pn_seed_rx: i32,
    lsp: [i16; M],
    lsp_old: [i16; M],
    lsf_hist: [i16; M * DTX_HIST_SIZE],
    lsf_hist_ptr: usize,
    lsf_hist_mean: [i16; M * DTX_HIST_SIZE],
    log_pg_mean: i16,
    log_en_hist: [i16; DTX_HIST_SIZE],
    log_en_hist_ptr: usize,
    log_en_adjust: i16,
    dtx_hangover_count: i16,
    dec_ana_elapsed_count: i16,
    sid_frame: bool,
    valid_data: bool,
    dtx_hangover_added: bool,
    pub global_state: DtxState,
    data_updated: bool,
}

const LSP_INIT: [i16; M] = [
    30000, 26000, 21000, 15000, 8000, 0, -8000, -15000, -21000, -26000,
];
const LSF_HIST_INIT: [i16; M] = [
    1384, 2077, 3420, 5108, 6742, 8122, 9863, 11092, 12714, 13701,
];

/// `build_CN_code`: a random ten-pulse innovation.
fn build_cn_code(seed: &mut i32, cod: &mut [i16; L_SUBFR]) {
    cod.fill(0);
    for k in 0..10 {
        let i = pseudonoise(seed, 2);
        let i = ((l_mult(i, 10) as i16) >> 1) + k;
        let j = pseudonoise(seed, 1);
        cod[i as usize] = if j > 0 { 4096 } else { -4096 };
    }
}

/// `A_Refl`: LP coefficients to reflection coefficients (all zero when unstable).
///
/// When an inner step overflows, the reference zeroes the coefficients with the loop's own
/// index, so its outer loop starts over from the top with the partly updated state; that is
/// kept, with a bound on the restarts the reference does not have.
fn a_refl(a: &[i16], refl: &mut [i16; M]) {
    let mut a_state = [0i16; M];
    let mut b_state = [0i16; M];
    a_state.copy_from_slice(&a[..M]);
    let mut restarts = 0;
    let mut i = M as isize - 1;
    while i >= 0 {
        let iu = i as usize;
        if abs_s(a_state[iu]) >= 4096 {
            refl.fill(0);
            return;
        }
        refl[iu] = shl(a_state[iu], 3);
        let l = l_sub(MAX_32, l_mult(refl[iu], refl[iu]));
        let norm_shift = norm_l(l);
        let scale = 15 - norm_shift;
        let norm_prod = round(l_shl(l, norm_shift));
        let mult_ = div_s(16384, norm_prod);
        let mut restart = false;
        for j in 0..iu {
            let acc = l_msu(i32::from(a_state[j]) << 16, refl[iu], a_state[iu - j - 1]);
            let t = round(acc);
            let l = l_shr_r(l_mult(mult_, t), scale);
            if l_abs(l) > 32767 {
                refl.fill(0);
                restart = true;
                break;
            }
            b_state[j] = l as i16;
        }
        if restart {
            restarts += 1;
            if restarts > 64 {
                refl.fill(0);
                return;
            }
            a_state = b_state;
            i = M as isize - 1;
        } else {
            a_state[..iu].copy_from_slice(&b_state[..iu]);
            i -= 1;
        }
    }
}

impl DtxDec {
    pub fn new() -> Self {
        let mut lsf_hist = [0i16; M * DTX_HIST_SIZE];
        for k in 0..DTX_HIST_SIZE {
            lsf_hist[k * M..(k + 1) * M].copy_from_slice(&LSF_HIST_INIT);
        }
        DtxDec {
            since_last_sid: 0,
            true_sid_period_inv: 1 << 13,
            log_en: 3500,
            old_log_en: 3500,
            l_pn_seed_rx: PN_INITIAL_SEED,
            lsp: LSP_INIT,
            lsp_old: LSP_INIT,
            lsf_hist,
            lsf_hist_ptr: 0,
            lsf_hist_mean: [0; M * DTX_HIST_SIZE],
            log_pg_mean: 0,
            log_en_hist: [3500; DTX_HIST_SIZE],
            log_en_hist_ptr: 0,
            log_en_adjust: 0,
            dtx_hangover_count: DTX_HANG_CONST,
            dec_ana_elapsed_count: 32767,
            sid_frame: false,
            valid_data: false,
            dtx_hangover_added: false,
            global_state: DtxState::Dtx,
            data_updated: false,
        }
    }

    /// `rx_dtx_handler`: the state this frame puts the receiver in.
    pub fn rx_handler(&mut self, rx: RxType) -> DtxState {
        let sid = matches!(rx, RxType::SidFirst | RxType::SidUpdate);
        let in_dtx = matches!(self.global_state, DtxState::Dtx | DtxState::DtxMute);
        let new_state = if sid || (in_dtx && rx == RxType::NoData) {
            let mut s = DtxState::Dtx;
            if self.global_state == DtxState::DtxMute
                && matches!(rx, RxType::SidFirst | RxType::NoData)
            {
                s = DtxState::DtxMute;
            }
            self.since_last_sid = self.since_last_sid.wrapping_add(1);
            if rx != RxType::SidUpdate && self.since_last_sid > DTX_MAX_EMPTY_THRESH {
                s = DtxState::DtxMute;
            }
            s
        } else {
            self.since_last_sid = 0;
            DtxState::Speech
        };
        if !self.data_updated && rx == RxType::SidUpdate {
            self.dec_ana_elapsed_count = 0;
        }
        self.dec_ana_elapsed_count = add(self.dec_ana_elapsed_count, 1);
        self.dtx_hangover_added = false;
        let enc_speech = match rx {
            RxType::SidFirst | RxType::SidUpdate => false,
            RxType::NoData => new_state == DtxState::Speech,
            RxType::SpeechGood => true,
        };
        if enc_speech {
            self.dtx_hangover_count = DTX_HANG_CONST;
        } else if self.dec_ana_elapsed_count > DTX_ELAPSED_FRAMES_THRESH {
            self.dtx_hangover_added = true;
            self.dec_ana_elapsed_count = 0;
            self.dtx_hangover_count = 0;
        } else if self.dtx_hangover_count == 0 {
            self.dec_ana_elapsed_count = 0;
        } else {
            self.dtx_hangover_count -= 1;
        }
        if new_state != DtxState::Speech {
            self.sid_frame = false;
            self.valid_data = false;
            if rx == RxType::SidFirst {
                self.sid_frame = true;
            } else if rx == RxType::SidUpdate {
                self.sid_frame = true;
                self.valid_data = true;
            }
        }
        new_state
    }

    /// `dtx_dec`: a frame of comfort noise into `synth`, its LP coefficients into `a_t`.
    pub fn decode(
        &mut self,
        mem_syn: &mut [i16; M],
        lsf_state: &mut DPlsf,
        pred: &mut GcPred,
        aver: &mut CbGainAverage,
        new_state: DtxState,
        mode: Mode,
        parm: &[i16],
        synth: &mut [i16; L_FRAME],
        a_t: &mut [i16; 4 * MP1],
    ) {
        if self.dtx_hangover_added && self.sid_frame {
            self.log_en_adjust = DTX_LOG_EN_ADJUST[mode.index()];
            let mut ptr = self.lsf_hist_ptr + M;
            if ptr == 80 {
                ptr = 0;
            }
            self.lsf_hist
                .copy_within(self.lsf_hist_ptr..self.lsf_hist_ptr + M, ptr);
            let mut ptr = self.log_en_hist_ptr + 1;
            if ptr == DTX_HIST_SIZE {
                ptr = 0;
            }
            self.log_en_hist[ptr] = self.log_en_hist[self.log_en_hist_ptr];
            self.log_en = 0;
            let mut l_lsf = [0i32; M];
            for i in (0..DTX_HIST_SIZE).rev() {
                self.log_en = add(self.log_en, self.log_en_hist[i] >> 3);
                for j in (0..M).rev() {
                    l_lsf[j] = l_add(l_lsf[j], i32::from(self.lsf_hist[i * M + j]));
                }
            }
            let mut lsf = [0i16; M];
            for j in 0..M {
                lsf[j] = (l_lsf[j] >> 3) as i16;
            }
            lsf_lsp(&lsf, &mut self.lsp);
            self.log_en = sub(self.log_en, self.log_en_adjust);
            self.lsf_hist_mean = self.lsf_hist;
            for i in (0..M).rev() {
                let mut l: i32 = 0;
                for j in (0..8).rev() {
                    l = l_add(l, i32::from(self.lsf_hist_mean[i + j * M]));
                }
                let mean = (l >> 3) as i16;
                for j in (0..8).rev() {
                    let v = &mut self.lsf_hist_mean[i + j * M];
                    *v = sub(*v, mean);
                    *v = mult(*v, LSF_HIST_MEAN_SCALE[i]);
                    let negative = *v < 0;
                    *v = abs_s(*v);
                    if *v > 655 {
                        *v = 655 + ((*v - 655) >> 2);
                    }
                    if *v > 1310 {
                        *v = 1310;
                    }
                    if negative {
                        *v = -*v;
                    }
                }
            }
        }
        if self.sid_frame {
            self.lsp_old = self.lsp;
            self.old_log_en = self.log_en;
            if self.valid_data {
                let mut len = self.since_last_sid;
                self.since_last_sid = 0;
                if len >= 32 {
                    len = 32;
                }
                let t = shl(len, 10);
                self.true_sid_period_inv = if len >= 2 { div_s(1 << 10, t) } else { 1 << 14 };
                lsf_state.init_3(parm[0]);
                lsf_state.d_plsf_3(Mode::MR475, true, false, &parm[1..4], &mut self.lsp);
                lsf_state.past_r_q = [0; M];
                let idx = parm[4];
                self.log_en = if !(-64..=63).contains(&idx) {
                    if idx > 0 {
                        MAX_16
                    } else {
                        MIN_16
                    }
                } else {
                    idx << (11 - 2)
                };
                self.log_en = self.log_en.wrapping_sub(2560 * 2);
                if idx == 0 {
                    self.log_en = MIN_16;
                }
                if !self.data_updated || self.global_state == DtxState::Speech {
                    self.lsp_old = self.lsp;
                    self.old_log_en = self.log_en;
                }
            }
            let mut ma = (self.log_en >> 1).wrapping_sub(9000);
            ma = ma.clamp(-14436, 0);
            pred.past_qua_en = [ma; 4];
            let ma = ((i32::from(ma) * 5443) >> 15) as i16;
            pred.past_qua_en_mr122 = [ma; 4];
        }
        let adj = DTX_LOG_EN_ADJUST[mode.index()];
        let t = (((i32::from(adj) << 5) * 3277) >> 15) as i16;
        let t = t >> 5;
        self.log_en_adjust = add(((i32::from(self.log_en_adjust) * 29491) >> 15) as i16, t);
        let mut int_fac = shl(self.since_last_sid.wrapping_add(1), 10);
        int_fac = mult(int_fac, self.true_sid_period_inv);
        int_fac = if int_fac > 1024 {
            16384
        } else if int_fac < -2048 {
            MIN_16
        } else {
            int_fac << 4
        };
        let mut l_log_en_int = l_mult(int_fac, self.log_en);
        let mut lsp_int = [0i16; M];
        for i in 0..M {
            lsp_int[i] = mult(int_fac, self.lsp[i]);
        }
        let int_fac = 16384i16.wrapping_sub(int_fac);
        l_log_en_int = l_mac(l_log_en_int, int_fac, self.old_log_en);
        for i in 0..M {
            lsp_int[i] = add(lsp_int[i], mult(int_fac, self.lsp_old[i]));
            lsp_int[i] = shl(lsp_int[i], 1);
        }
        let mut lsf_variab_factor = self.log_pg_mean.wrapping_sub(2457);
        lsf_variab_factor = 4096i16.wrapping_sub(mult(lsf_variab_factor, 9830));
        lsf_variab_factor = if lsf_variab_factor > 4095 {
            MAX_16
        } else if lsf_variab_factor < 0 {
            0
        } else {
            lsf_variab_factor << 3
        };
        let lsf_variab_index = pseudonoise(&mut self.l_pn_seed_rx, 3) as usize;
        let mut lsf_int = [0i16; M];
        lsp_lsf(&lsp_int, &mut lsf_int);
        let mut lsf_int_variab = lsf_int;
        for i in 0..M {
            lsf_int_variab[i] = add(
                lsf_int_variab[i],
                mult(
                    lsf_variab_factor,
                    self.lsf_hist_mean[i + lsf_variab_index * M],
                ),
            );
        }
        reorder_lsf(&mut lsf_int, LSF_GAP);
        reorder_lsf(&mut lsf_int_variab, LSF_GAP);
        lsf_state.past_lsf_q = lsf_int;
        let mut lsp_int_variab = [0i16; M];
        lsf_lsp(&lsf_int, &mut lsp_int);
        lsf_lsp(&lsf_int_variab, &mut lsp_int_variab);
        let mut acoeff = [0i16; MP1];
        let mut acoeff_variab = [0i16; MP1];
        lsp_az(&lsp_int, &mut acoeff);
        lsp_az(&lsp_int_variab, &mut acoeff_variab);
        for k in 0..4 {
            a_t[k * MP1..(k + 1) * MP1].copy_from_slice(&acoeff);
        }
        let mut refl = [0i16; M];
        a_refl(&acoeff[1..], &mut refl);
        let mut pred_err = MAX_16;
        for &r in &refl {
            let l = (i32::from(r) * i32::from(r)) >> 15;
            let t = if l <= 0x7fff { MAX_16 - l as i16 } else { 0 };
            pred_err = mult(pred_err, t);
        }
        let (log_pg_e, log_pg_m) = log2(i32::from(pred_err));
        let log_pg = shl(log_pg_e - 15, 12);
        let log_pg = shr(sub(0, add(log_pg, shr(log_pg_m, 15 - 12))), 1);
        self.log_pg_mean = add(mult(29491, self.log_pg_mean), mult(3277, log_pg));
        let mut l = l_shr(l_log_en_int, 10);
        l = l_add(l, 4 * 65536);
        l = l_sub(l, l_shl(i32::from(log_pg), 4));
        l = l_add(l, l_shl(i32::from(self.log_en_adjust), 5));
        let e = (l >> 16) as i16;
        let m = l_shr(l_sub(l, i32::from(e) << 16), 1) as i16;
        let level = pow2(e, m) as i16;
        let mut ex = [0i16; L_SUBFR];
        for i in 0..4 {
            build_cn_code(&mut self.l_pn_seed_rx, &mut ex);
            for v in ex.iter_mut() {
                *v = mult(level, *v);
            }
            syn_filt(
                &acoeff_variab,
                &ex,
                &mut synth[i * L_SUBFR..(i + 1) * L_SUBFR],
                mem_syn,
                true,
            );
        }
        aver.hang_var = 20;
        aver.hang_count = 0;
        if new_state == DtxState::DtxMute {
            let mut len = self.since_last_sid;
            if len > 32 {
                len = 32;
            } else if len <= 0 {
                len = 8;
            }
            self.true_sid_period_inv = div_s(1 << 10, shl(len, 10));
            self.since_last_sid = 0;
            self.lsp_old = self.lsp;
            self.old_log_en = self.log_en;
            self.log_en = self.log_en.wrapping_sub(256);
        }
        if self.sid_frame && (self.valid_data || self.dtx_hangover_added) {
            self.since_last_sid = 0;
            self.data_updated = true;
        }
    }

    /// `dtx_dec_activity_update`: remembers a speech frame's LSFs and energy.
    pub fn activity_update(&mut self, lsf: &[i16; M], frame: &[i16; L_FRAME]) {
        self.lsf_hist_ptr += M;
        if self.lsf_hist_ptr == 80 {
            self.lsf_hist_ptr = 0;
        }
        self.lsf_hist[self.lsf_hist_ptr..self.lsf_hist_ptr + M].copy_from_slice(lsf);
        let mut en: i32 = 0;
        for &v in frame.iter().rev() {
            let p = i32::from(v) * i32::from(v);
            let p = if p != 0x4000_0000 { p << 1 } else { MAX_32 };
            en = l_add(en, p);
        }
        let (e, m) = log2(en);
        let e = shl(e, 10);
        let log_en = e.wrapping_add(m >> 5).wrapping_sub(7497 + 1024);
        self.log_en_hist_ptr += 1;
        if self.log_en_hist_ptr == DTX_HIST_SIZE {
            self.log_en_hist_ptr = 0;
        }
        self.log_en_hist[self.log_en_hist_ptr] = log_en;
    }
}
