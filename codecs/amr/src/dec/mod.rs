//! The decoder: storage records to speech (opencore's `AMRDecode`, `GSMFrameDecode`,
//! `Decoder_amr`), with its parts in the modules below.

mod dtx;
mod gains;
mod lsf;
mod post;
mod pulses;

use crate::basic::*;
use crate::dsp::*;
use crate::tables::*;
use crate::{
    Mode, L_FRAME, L_INTERPOL, L_SUBFR, M, MP1, PAYLOAD_LEN, PIT_MAX, PIT_MIN, PIT_MIN_MR122,
};

use dtx::{DtxDec, DtxState};
use gains::{CbGainAverage, EcGainCode, EcGainPitch};
use lsf::DPlsf;
use post::{PostFilter, PostProcess};

/// What is wrong with a storage record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// No bytes at all.
    Empty,
    /// A frame type (9..=14) this decoder does not take: another codec's SID, or reserved.
    UnsupportedType(u8),
    /// Fewer bytes than the frame type needs.
    Truncated,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FrameError::Empty => f.write_str("empty AMR-NB record"),
            FrameError::UnsupportedType(t) => write!(f, "unsupported AMR-NB frame type {t}"),
            FrameError::Truncated => f.write_str("AMR-NB record cut short"),
        }
    }
}

impl std::error::Error for FrameError {}

/// The receiver's frame classification (`RXFrameType`); storage files give only the good
/// speech, SID and NO_DATA kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RxType {
    SpeechGood,
    SidFirst,
    SidUpdate,
    NoData,
}

/// Parameters per mode (`prmno`), SID last.
const PRMNO: [usize; 9] = [17, 19, 19, 19, 19, 23, 39, 57, 5];
/// Bits per mode (`numOfBits`) of the speech frame types, and of SID.
const NUM_BITS: [usize; 9] = [95, 103, 118, 134, 148, 159, 204, 244, 39];
/// Bits of each parameter, per mode (`bitno`), SID last.
const BITNO: [&[i16]; 9] = [
    &BITNO_MR475,
    &BITNO_MR515,
    &BITNO_MR59,
    &BITNO_MR67,
    &BITNO_MR74,
    &BITNO_MR795,
    &BITNO_MR102,
    &BITNO_MR122,
    &BITNO_MRDTX,
];
/// Where each transmitted bit goes in the parameter order, per mode (`reorderBits`).
pub(crate) const REORDER: [&[i16]; 8] = [
    &REORDERBITS_MR475,
    &REORDERBITS_MR515,
    &REORDERBITS_MR59,
    &REORDERBITS_MR67,
    &REORDERBITS_MR74,
    &REORDERBITS_MR795,
    &REORDERBITS_MR102,
    &REORDERBITS_MR122,
];

/// Index of SID in the per-mode tables.
const MRDTX: usize = 8;
const SHARPMAX: i16 = 13017;

/// `Bits2prm`: serial bits (one per `i16`) to the mode's parameters.
fn bits2prm(table: usize, bits: &[i16], prm: &mut [i16]) {
    let mut at = 0;
    for (i, &n) in BITNO[table].iter().enumerate().take(PRMNO[table]) {
        let mut v: i16 = 0;
        for &b in &bits[at..at + n as usize] {
            v = (v << 1) | b;
        }
        prm[i] = v;
        at += n as usize;
    }
}

/// An AMR-NB decoder: one per stream, fed the storage records in order.
pub struct Decoder {
    dec: DecoderAmr,
    post: PostFilter,
    post_hp: PostProcess,
    prev_mode: Mode,
}

impl Decoder {
    /// A decoder in its reset state.
    pub fn new() -> Self {
        Decoder {
            dec: DecoderAmr::new(),
            post: PostFilter::new(),
            post_hp: PostProcess::new(),
            prev_mode: Mode::MR475,
        }
    }

    /// Decodes one storage record (header byte, then the frame's octets) into `out`, and
    /// answers how many bytes the record took. Speech frames of every mode, SID frames (the
    /// comfort noise of DTX) and NO_DATA frames (which conceal in speech and continue the
    /// noise in a silence) are decoded as opencore-amrnb decodes them; its Q bit is ignored, as
    /// opencore ignores it.
    pub fn decode_frame(
        &mut self,
        record: &[u8],
        out: &mut [i16; L_FRAME],
    ) -> Result<usize, FrameError> {
        let (&header, payload) = record.split_first().ok_or(FrameError::Empty)?;
        let frame_type = (header >> 3) & 0x0f;
        let len =
            PAYLOAD_LEN[usize::from(frame_type)].ok_or(FrameError::UnsupportedType(frame_type))?;
        let payload = payload.get(..len).ok_or(FrameError::Truncated)?;
        let mut serial = [0i16; 244];
        let (mode, rx) = match frame_type {
            0..=7 => {
                let bits = &REORDER[usize::from(frame_type)][..NUM_BITS[usize::from(frame_type)]];
                for (i, &to) in bits.iter().enumerate() {
                    serial[to as usize] = i16::from((payload[i >> 3] >> (7 - (i & 7))) & 1);
                }
                (
                    Mode::from_index(frame_type).unwrap_or_default(),
                    RxType::SpeechGood,
                )
            }
            8 => {
                for i in 0..NUM_BITS[MRDTX] {
                    serial[i] = i16::from((payload[i >> 3] >> (7 - (i & 7))) & 1);
                }
                let mut m = 0u8;
                for i in 0..3 {
                    m |= (serial[36 + i] as u8) << i;
                }
                let rx = if serial[35] == 0 {
                    RxType::SidFirst
                } else {
                    RxType::SidUpdate
                };
                (Mode::from_index(m).unwrap_or_default(), rx)
            }
            _ => (self.prev_mode, RxType::NoData),
        };
        self.decode_serial(mode, &serial, rx, out);
        self.prev_mode = mode;
        Ok(1 + len)
    }

    /// `GSMFrameDecode`: serial bits to speech.
    fn decode_serial(
        &mut self,
        mode: Mode,
        serial: &[i16],
        rx: RxType,
        synth: &mut [i16; L_FRAME],
    ) {
        let mut parm = [0i16; 58];
        if rx == RxType::SidUpdate {
            bits2prm(MRDTX, serial, &mut parm);
        } else {
            bits2prm(mode.index(), serial, &mut parm);
        }
        let mut az = [0i16; 4 * MP1];
        self.dec.decode(mode, &mut parm, rx, synth, &mut az);
        self.post.filter(mode, synth, &az);
        self.post_hp.process(synth);
        for s in synth.iter_mut() {
            *s &= !7;
        }
    }
}

const OLD_EXC_LEN: usize = PIT_MAX as usize + L_INTERPOL + L_SUBFR;
const EXC: usize = PIT_MAX as usize + L_INTERPOL;

/// `Decoder_amrState`.
struct DecoderAmr {
    old_exc: [i16; OLD_EXC_LEN],
    lsp_old: [i16; M],
    mem_syn: [i16; M],
    sharp: i16,
    old_t0: i16,
    prev_bf: bool,
    prev_pdf: bool,
    state: i16,
    exc_energy_hist: [i16; 9],
    t0_lag_buff: i16,
    in_background_noise: bool,
    voiced_hangover: i16,
    ltp_gain_history: [i16; 9],
    nodata_seed: i16,
    lsf_state: DPlsf,
    ec_gain_p: EcGainPitch,
    ec_gain_c: EcGainCode,
    cb_gain_aver: CbGainAverage,
    lsp_mean_save: [i16; M],
    bgn: post::BgnScd,
    ph_disp: post::PhDisp,
    dtx: DtxDec,
    pred: GcPred,
}

const LSP_INIT: [i16; M] = [
    30000, 26000, 21000, 15000, 8000, 0, -8000, -15000, -21000, -26000,
];

impl DecoderAmr {
    fn new() -> Self {
        let mut d = DecoderAmr {
            old_exc: [0; OLD_EXC_LEN],
            lsp_old: LSP_INIT,
            mem_syn: [0; M],
            sharp: 0,
            old_t0: 40,
            prev_bf: false,
            prev_pdf: false,
            state: 0,
            exc_energy_hist: [0; 9],
            t0_lag_buff: 40,
            in_background_noise: false,
            voiced_hangover: 0,
            ltp_gain_history: [0; 9],
            nodata_seed: 21845,
            lsf_state: DPlsf::new(),
            ec_gain_p: EcGainPitch::new(),
            ec_gain_c: EcGainCode::new(),
            cb_gain_aver: CbGainAverage::new(),
            lsp_mean_save: MEAN_LSF_5,
            bgn: post::BgnScd::new(),
            ph_disp: post::PhDisp::new(),
            dtx: DtxDec::new(),
            pred: GcPred::new(),
        };
        d.reset(false);
        d
    }

    /// `Decoder_amr_reset`; `dtx` is the reset at a DTX frame (mode MRDTX), which keeps the
    /// synthesis memory, the LSPs, the energy histories, the gain predictor and the DTX state.
    fn reset(&mut self, dtx: bool) {
        self.old_exc[..EXC].fill(0);
        if !dtx {
            self.mem_syn = [0; M];
        }
        self.sharp = 0;
        self.old_t0 = 40;
        if !dtx {
            self.lsp_old = LSP_INIT;
        }
        self.prev_bf = false;
        self.prev_pdf = false;
        self.state = 0;
        self.t0_lag_buff = 40;
        self.in_background_noise = false;
        self.voiced_hangover = 0;
        if !dtx {
            self.exc_energy_hist = [0; 9];
        }
        self.ltp_gain_history = [0; 9];
        self.cb_gain_aver = CbGainAverage::new();
        if !dtx {
            self.lsp_mean_save = MEAN_LSF_5;
        }
        self.lsf_state = DPlsf::new();
        self.ec_gain_p = EcGainPitch::new();
        self.ec_gain_c = EcGainCode::new();
        if !dtx {
            self.pred = GcPred::new();
        }
        self.bgn = post::BgnScd::new();
        self.nodata_seed = 21845;
        self.ph_disp = post::PhDisp::new();
        if !dtx {
            self.dtx = DtxDec::new();
        }
    }

    /// `lsp_avg`: the slow average of the LSFs.
    fn lsp_avg(&mut self) {
        const EXPCONST: i16 = 5243;
        for i in 0..M {
            let mut t = i32::from(self.lsp_mean_save[i]) << 16;
            t = l_msu(t, EXPCONST, self.lsp_mean_save[i]);
            t = l_mac(t, EXPCONST, self.lsf_state.past_lsf_q[i]);
            self.lsp_mean_save[i] = round(t);
        }
    }

    /// `Decoder_amr`: parameters to synthesised speech (before the post-filter) and the LP
    /// coefficients of the four subframes.
    fn decode(
        &mut self,
        mode: Mode,
        parm: &mut [i16],
        rx: RxType,
        synth: &mut [i16; L_FRAME],
        a_t: &mut [i16; 4 * MP1],
    ) {
        let new_state = self.dtx.rx_handler(rx);
        if new_state != DtxState::Speech {
            self.reset(true);
            self.dtx.decode(
                &mut self.mem_syn,
                &mut self.lsf_state,
                &mut self.pred,
                &mut self.cb_gain_aver,
                new_state,
                mode,
                parm,
                synth,
                a_t,
            );
            let q = self.lsf_state.past_lsf_q;
            lsf_lsp(&q, &mut self.lsp_old);
            self.lsp_avg();
            self.dtx.global_state = new_state;
            return;
        }
        let mut bfi = false;
        let pdfi = false;
        if rx == RxType::NoData {
            bfi = true;
            build_cn_param(&mut self.nodata_seed, mode, parm);
        }
        if bfi {
            self.state += 1;
        } else if self.state == 6 {
            self.state = 5;
        } else {
            self.state = 0;
        }
        if self.state > 6 {
            self.state = 6;
        }
        match self.dtx.global_state {
            DtxState::Dtx => {
                self.state = 5;
                self.prev_bf = false;
            }
            DtxState::DtxMute => {
                self.state = 5;
                self.prev_bf = true;
            }
            DtxState::Speech => {}
        }
        let prev_lsf = self.lsf_state.past_lsf_q;
        let mut lsp_new = [0i16; M];
        let mut p = 0usize;
        if mode != Mode::MR122 {
            self.lsf_state
                .d_plsf_3(mode, false, bfi, &parm[0..3], &mut lsp_new);
            p += 3;
            int_lpc_1to3(&self.lsp_old, &lsp_new, a_t);
        } else {
            let mut lsp_mid = [0i16; M];
            self.lsf_state
                .d_plsf_5(bfi, &parm[0..5], &mut lsp_mid, &mut lsp_new);
            p += 5;
            int_lpc_1and3(&self.lsp_old, &lsp_mid, &lsp_new, a_t);
        }
        self.lsp_old = lsp_new;

        let mut code = [0i16; L_SUBFR];
        let mut excp = [0i16; L_SUBFR];
        let mut exc_enhanced = [0i16; L_SUBFR];
        let mut lsf_i = [0i16; M];
        let mut even_subfr = false;
        let mut index_mr475: i16 = 0;
        let mut gain_pit: i16 = 0;
        let mut gain_code: i16;
        let low = matches!(mode, Mode::MR475 | Mode::MR515 | Mode::MR59);
        for subfr_nr in 0..4 {
            let i_subfr = subfr_nr * L_SUBFR;
            even_subfr = !even_subfr;
            let mut pit_flag = i_subfr;
            if i_subfr == L_FRAME / 2 && mode != Mode::MR475 && mode != Mode::MR515 {
                pit_flag = 0;
            }
            let mut index = parm[p];
            p += 1;
            let (mut t0, mut t0_frac);
            if mode != Mode::MR122 {
                let flag4 = matches!(mode, Mode::MR475 | Mode::MR515 | Mode::MR59 | Mode::MR67);
                let (delta_frc_low, delta_frc_range) = if mode == Mode::MR795 {
                    (10, 19)
                } else {
                    (5, 9)
                };
                let mut t0_min = self.old_t0 - delta_frc_low;
                if t0_min < PIT_MIN {
                    t0_min = PIT_MIN;
                }
                let mut t0_max = t0_min + delta_frc_range;
                if t0_max > PIT_MAX {
                    t0_max = PIT_MAX;
                    t0_min = t0_max - delta_frc_range;
                }
                (t0, t0_frac) = dec_lag3(index, t0_min, t0_max, pit_flag, self.old_t0, flag4);
                self.t0_lag_buff = t0;
                if bfi {
                    if self.old_t0 < PIT_MAX {
                        self.old_t0 += 1;
                    }
                    t0 = self.old_t0;
                    t0_frac = 0;
                    if self.in_background_noise && self.voiced_hangover > 4 && low {
                        t0 = self.t0_lag_buff;
                    }
                }
                pred_lt_3or6(&mut self.old_exc, EXC, t0, t0_frac, true);
            } else {
                (t0, t0_frac) = dec_lag6(index, PIT_MIN_MR122, PIT_MAX, pit_flag, self.old_t0);
                if !(!bfi && (pit_flag == 0 || index < 61)) {
                    self.t0_lag_buff = t0;
                    t0 = self.old_t0;
                    t0_frac = 0;
                }
                pred_lt_3or6(&mut self.old_exc, EXC, t0, t0_frac, false);
            }
            let mut pit_sharp: i16;
            match mode {
                Mode::MR475 | Mode::MR515 => {
                    index = parm[p];
                    let sign = parm[p + 1];
                    p += 2;
                    pulses::decode_2i40_9bits(subfr_nr as i16, sign, index, &mut code);
                    pit_sharp = shl(self.sharp, 1);
                }
                Mode::MR59 => {
                    index = parm[p];
                    let sign = parm[p + 1];
                    p += 2;
                    pulses::decode_2i40_11bits(sign, index, &mut code);
                    pit_sharp = shl(self.sharp, 1);
                }
                Mode::MR67 => {
                    index = parm[p];
                    let sign = parm[p + 1];
                    p += 2;
                    pulses::decode_3i40_14bits(sign, index, &mut code);
                    pit_sharp = shl(self.sharp, 1);
                }
                Mode::MR74 | Mode::MR795 => {
                    index = parm[p];
                    let sign = parm[p + 1];
                    p += 2;
                    pulses::decode_4i40_17bits(sign, index, &mut code);
                    pit_sharp = shl(self.sharp, 1);
                }
                Mode::MR102 => {
                    pulses::dec_8i40_31bits(&parm[p..p + 7], &mut code);
                    p += 7;
                    pit_sharp = shl(self.sharp, 1);
                }
                Mode::MR122 => {
                    index = parm[p];
                    p += 1;
                    if bfi {
                        gain_pit = self.ec_gain_p.conceal(self.state);
                    } else {
                        gain_pit = gains::d_gain_pitch(mode, index);
                    }
                    self.ec_gain_p.update(bfi, self.prev_bf, &mut gain_pit);
                    pulses::dec_10i40_35bits(&parm[p..p + 10], &mut code);
                    p += 10;
                    pit_sharp = shl(gain_pit, 1);
                }
            }
            let t0u = t0 as usize;
            for i in t0u..L_SUBFR {
                let t = mult(code[i - t0u], pit_sharp);
                code[i] = add(code[i], t);
            }
            match mode {
                Mode::MR475 => {
                    if even_subfr {
                        index_mr475 = parm[p];
                        p += 1;
                    }
                    if !bfi {
                        (gain_pit, gain_code) =
                            gains::dec_gain(&mut self.pred, mode, index_mr475, &code, even_subfr);
                    } else {
                        gain_pit = self.ec_gain_p.conceal(self.state);
                        gain_code = self.ec_gain_c.conceal(&mut self.pred, self.state);
                    }
                    self.ec_gain_p.update(bfi, self.prev_bf, &mut gain_pit);
                    self.ec_gain_c.update(bfi, self.prev_bf, &mut gain_code);
                    pit_sharp = gain_pit.min(SHARPMAX);
                }
                Mode::MR515 | Mode::MR59 | Mode::MR67 | Mode::MR74 | Mode::MR102 => {
                    index = parm[p];
                    p += 1;
                    if !bfi {
                        (gain_pit, gain_code) =
                            gains::dec_gain(&mut self.pred, mode, index, &code, even_subfr);
                    } else {
                        gain_pit = self.ec_gain_p.conceal(self.state);
                        gain_code = self.ec_gain_c.conceal(&mut self.pred, self.state);
                    }
                    self.ec_gain_p.update(bfi, self.prev_bf, &mut gain_pit);
                    self.ec_gain_c.update(bfi, self.prev_bf, &mut gain_code);
                    pit_sharp = gain_pit.min(SHARPMAX);
                    if mode == Mode::MR102 && self.old_t0 > (L_SUBFR as i16 + 5) {
                        pit_sharp >>= 2;
                    }
                }
                Mode::MR795 => {
                    index = parm[p];
                    p += 1;
                    if bfi {
                        gain_pit = self.ec_gain_p.conceal(self.state);
                    } else {
                        gain_pit = gains::d_gain_pitch(mode, index);
                    }
                    self.ec_gain_p.update(bfi, self.prev_bf, &mut gain_pit);
                    index = parm[p];
                    p += 1;
                    if !bfi {
                        gain_code = gains::d_gain_code(&mut self.pred, mode, index, &code);
                    } else {
                        gain_code = self.ec_gain_c.conceal(&mut self.pred, self.state);
                    }
                    self.ec_gain_c.update(bfi, self.prev_bf, &mut gain_code);
                    pit_sharp = gain_pit.min(SHARPMAX);
                }
                Mode::MR122 => {
                    index = parm[p];
                    p += 1;
                    if !bfi {
                        gain_code = gains::d_gain_code(&mut self.pred, mode, index, &code);
                    } else {
                        gain_code = self.ec_gain_c.conceal(&mut self.pred, self.state);
                    }
                    self.ec_gain_c.update(bfi, self.prev_bf, &mut gain_code);
                    pit_sharp = gain_pit;
                }
            }
            if mode != Mode::MR475 || !even_subfr {
                self.sharp = gain_pit.min(SHARPMAX);
            }
            pit_sharp = shl(pit_sharp, 1);
            if pit_sharp > 16384 {
                for i in 0..L_SUBFR {
                    let t = mult(self.old_exc[EXC + i], pit_sharp);
                    let mut l = l_mult(t, gain_pit);
                    if mode == Mode::MR122 {
                        l >>= 1;
                    }
                    excp[i] = round(l);
                }
            }
            if !bfi {
                self.ltp_gain_history.copy_within(1..9, 0);
                self.ltp_gain_history[8] = gain_pit;
            }
            if (self.prev_bf || bfi) && self.in_background_noise && low {
                if gain_pit > 12288 {
                    gain_pit = ((gain_pit - 12288) >> 1) + 12288;
                }
                if gain_pit > 14745 {
                    gain_pit = 14745;
                }
            }
            int_lsf(&prev_lsf, &self.lsf_state.past_lsf_q, i_subfr, &mut lsf_i);
            let mut gain_code_mix = self.cb_gain_aver.average(
                mode,
                gain_code,
                &lsf_i,
                &self.lsp_mean_save,
                bfi,
                self.prev_bf,
                pdfi,
                self.prev_pdf,
                self.in_background_noise,
                self.voiced_hangover,
            );
            if mode > Mode::MR67 && mode != Mode::MR102 {
                gain_code_mix = gain_code;
            }
            let (pitch_fac, tmp_shift) = if mode <= Mode::MR102 {
                (gain_pit, 1)
            } else {
                (gain_pit >> 1, 2)
            };
            for i in 0..L_SUBFR {
                let e = self.old_exc[EXC + i];
                exc_enhanced[i] = e;
                let mut l = l_mult(e, pitch_fac);
                l = l_mac(l, code[i], gain_code);
                l = l_shl(l, tmp_shift);
                self.old_exc[EXC + i] = round(l);
            }
            self.ph_disp.lock_full = false;
            if low && self.voiced_hangover > 3 && self.in_background_noise && bfi {
                self.ph_disp.lock_full = true;
            }
            self.ph_disp.apply(
                mode,
                &mut exc_enhanced,
                gain_code_mix,
                gain_pit,
                &mut code,
                pitch_fac,
                tmp_shift,
            );
            let mut l: i32 = 0;
            for &e in &exc_enhanced {
                l = l_mac(l, e, e);
            }
            l >>= 1;
            let (sq, e) = sqrt_l_exp(l);
            let l = l_shr(sq, (e >> 1) + 15);
            let exc_energy = (l >> 2) as i16;
            if low
                && self.voiced_hangover > 5
                && self.in_background_noise
                && self.state < 4
                && ((pdfi && self.prev_pdf) || bfi || self.prev_bf)
            {
                let careful = pdfi && !bfi;
                post::ex_ctrl(
                    &mut exc_enhanced,
                    exc_energy,
                    &self.exc_energy_hist,
                    self.voiced_hangover,
                    self.prev_bf,
                    careful,
                );
            }
            if !(self.in_background_noise && (bfi || self.prev_bf) && self.state < 4) {
                self.exc_energy_hist.copy_within(1..9, 0);
                self.exc_energy_hist[8] = exc_energy;
            }
            let az = &a_t[subfr_nr * MP1..(subfr_nr + 1) * MP1];
            let out = &mut synth[i_subfr..i_subfr + L_SUBFR];
            if pit_sharp > 16384 {
                for i in 0..L_SUBFR {
                    excp[i] = add(excp[i], exc_enhanced[i]);
                }
                post::agc2(&exc_enhanced, &mut excp);
                syn_filt(az, &excp, out, &mut self.mem_syn, false);
            } else {
                syn_filt(az, &exc_enhanced, out, &mut self.mem_syn, false);
            }
            // The reference checks an overflow flag here that its synthesis filter never
            // raises: the memory is always the last outputs.
            self.mem_syn.copy_from_slice(&out[L_SUBFR - M..]);
            self.old_exc.copy_within(L_SUBFR.., 0);
            self.old_t0 = t0;
        }
        self.in_background_noise =
            self.bgn
                .update(&self.ltp_gain_history, synth, &mut self.voiced_hangover);
        let q = self.lsf_state.past_lsf_q;
        self.dtx.activity_update(&q, synth);
        self.prev_bf = bfi;
        self.prev_pdf = pdfi;
        self.lsp_avg();
        self.dtx.global_state = new_state;
    }
}

/// `Dec_lag3`: the pitch lag (integer, fraction in thirds) of every mode but 12.2 kbit/s.
fn dec_lag3(
    index: i16,
    t0_min: i16,
    t0_max: i16,
    i_subfr: usize,
    t0_prev: i16,
    flag4: bool,
) -> (i16, i16) {
    if i_subfr == 0 {
        if index < 197 {
            let t = mult(index + 2, 10923) + 19;
            (t, index - 3 * t + 58)
        } else {
            (index - 112, 0)
        }
    } else if !flag4 {
        let i = (((i32::from(index) + 2) * 10923) >> 15) as i16 - 1;
        (i + t0_min, index - 2 - 3 * i)
    } else {
        let mut tmp_lag = t0_prev;
        if sub(tmp_lag, t0_min) > 5 {
            tmp_lag = t0_min + 5;
        }
        if t0_max - tmp_lag > 4 {
            tmp_lag = t0_max - 4;
        }
        if index < 4 {
            (tmp_lag - 5 + index, 0)
        } else if index < 12 {
            let i = (((i32::from(index) - 5) * 10923) >> 15) as i16 - 1;
            (i + tmp_lag, index - 9 - 3 * i)
        } else {
            (index - 12 + tmp_lag + 1, 0)
        }
    }
}

/// `Dec_lag6`: the pitch lag (integer, fraction in sixths) of 12.2 kbit/s; `t0_prev` is the
/// previous subframe's lag.
fn dec_lag6(index: i16, pit_min: i16, pit_max: i16, i_subfr: usize, t0_prev: i16) -> (i16, i16) {
    if i_subfr == 0 {
        if index < 463 {
            let t = (((i32::from(index) + 5) * 5462) >> 15) as i16 + 17;
            (t, index - 6 * t + 105)
        } else {
            (index - 368, 0)
        }
    } else {
        let mut t0_min = t0_prev - 5;
        if t0_min < pit_min {
            t0_min = pit_min;
        }
        let mut t0_max = t0_min + 9;
        if t0_max > pit_max {
            t0_max = pit_max;
            t0_min = t0_max - 9;
        }
        let _ = t0_max;
        let i = (((i32::from(index) + 5) * 5462) >> 15) as i16 - 1;
        (i + t0_min, index - 3 - 6 * i)
    }
}

/// `Int_lsf`: the LSFs of a subframe, between the last frame's and this one's.
fn int_lsf(old: &[i16; M], new: &[i16; M], i_subfr: usize, out: &mut [i16; M]) {
    for i in 0..M {
        out[i] = match i_subfr {
            0 => add(old[i] - (old[i] >> 2), new[i] >> 2),
            40 => (old[i] >> 1) + (new[i] >> 1),
            80 => add(old[i] >> 2, new[i] - (new[i] >> 2)),
            _ => new[i],
        };
    }
}

/// `build_CN_param`: random parameters for a NO_DATA frame in speech, drawn from a window
/// table by a linear congruential seed.
fn build_cn_param(seed: &mut i16, mode: Mode, parm: &mut [i16]) {
    let l = l_mult(*seed, 31821) >> 1;
    *seed = l_add(l, 13849) as i16;
    let start = (*seed & 0x7f) as usize;
    let bits = BITNO[mode.index()];
    for i in 0..PRMNO[mode.index()] {
        let mask = !(0xffffu16 << bits[i]) as i16;
        parm[i] = WINDOW_200_40[start + i] & mask;
    }
}
