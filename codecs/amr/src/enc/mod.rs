//! The encoder: 160 samples to a storage record (opencore's `AMREncode`, `GSMEncodeFrame`,
//! `cod_amr`), with its parts in the modules below.

mod cb;
mod dtx;
mod gain;
mod lpc;
mod pitch;
mod vad;

use crate::basic::*;
use crate::dec::REORDER;
use crate::dsp::*;
use crate::tables::*;
use crate::{Mode, L_FRAME, L_INTERPOL, L_SUBFR, M, MP1, PIT_MAX};

use dtx::DtxEnc;
use gain::{GainQuant, Gains};
use lpc::{Lpc, Lsp};
use pitch::{PitchFr, PitchOlWgh, TonStab, GP_CLIP};
use vad::Vad;

const L_TOTAL: usize = 320;
const L_WINDOW: usize = 240;
const L_NEXT: usize = 40;
const SHARPMAX: i16 = 13017;
const PIT_MAX_U: usize = PIT_MAX as usize;

const GAMMA1: [i16; M] = [
    30802, 28954, 27217, 25584, 24049, 22606, 21250, 19975, 18777, 17650,
];
const GAMMA1_12K2: [i16; M] = [
    29491, 26542, 23888, 21499, 19349, 17414, 15672, 14105, 12694, 11425,
];
const GAMMA2: [i16; M] = [19661, 11797, 7078, 4247, 2548, 1529, 917, 550, 330, 198];

/// Parameters per mode (`prmno`), SID last.
const PRMNO: [usize; 9] = [17, 19, 19, 19, 19, 23, 39, 57, 5];
/// Bits per mode.
const NUM_BITS: [usize; 9] = [95, 103, 118, 134, 148, 159, 204, 244, 39];
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

/// `Pre_Process`: the input high-pass filter (cut-off 80 Hz) with a downscaling by 2.
struct PreProcess {
    y2_hi: i16,
    y2_lo: i16,
    y1_hi: i16,
    y1_lo: i16,
    x0: i16,
    x1: i16,
}

impl PreProcess {
    fn new() -> Self {
        PreProcess {
            y2_hi: 0,
            y2_lo: 0,
            y1_hi: 0,
            y1_lo: 0,
            x0: 0,
            x1: 0,
        }
    }

    fn process(&mut self, signal: &mut [i16]) {
        let mut x_n_2 = self.x1;
        let mut x_n_1 = self.x0;
        for s in signal.iter_mut() {
            let mut l = i32::from(self.y1_hi) * 7807;
            l = l.wrapping_add((i32::from(self.y1_lo) * 7807) >> 15);
            l = l.wrapping_add(i32::from(self.y2_hi) * -3733);
            self.y2_hi = self.y1_hi;
            l = l.wrapping_add((i32::from(self.y2_lo) * -3733) >> 15);
            self.y2_lo = self.y1_lo;
            l = l.wrapping_add(i32::from(x_n_2) * 1899);
            x_n_2 = x_n_1;
            l = l.wrapping_add(i32::from(x_n_1) * -3798);
            x_n_1 = *s;
            l = l.wrapping_add(i32::from(x_n_1) * 1899);
            *s = (l.wrapping_add(0x800) >> 12) as i16;
            self.y1_hi = (l >> 12) as i16;
            self.y1_lo = (l.wrapping_shl(3).wrapping_sub(i32::from(self.y1_hi) << 15)) as i16;
        }
        self.x1 = x_n_2;
        self.x0 = x_n_1;
    }
}

/// The frame types the synchroniser of SID frames hands out (`TXFrameType`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum TxType {
    SpeechGood,
    SidFirst,
    SidUpdate,
    NoData,
}

/// `sid_syncState`: when a DTX frame is sent as SID_FIRST, SID_UPDATE or not at all.
struct SidSync {
    update_counter: i16,
    handover_debt: i16,
    prev_ft: TxType,
}

impl SidSync {
    fn new() -> Self {
        SidSync {
            update_counter: 3,
            handover_debt: 0,
            prev_ft: TxType::SpeechGood,
        }
    }

    fn sync(&mut self, dtx_frame: bool) -> TxType {
        const RATE: i16 = 8;
        let t = if dtx_frame {
            self.update_counter -= 1;
            if self.prev_ft == TxType::SpeechGood {
                self.update_counter = 3;
                TxType::SidFirst
            } else if self.handover_debt > 0 && self.update_counter > 2 {
                self.handover_debt -= 1;
                TxType::SidUpdate
            } else if self.update_counter == 0 {
                self.update_counter = RATE;
                TxType::SidUpdate
            } else {
                TxType::NoData
            }
        } else {
            self.update_counter = RATE;
            TxType::SpeechGood
        };
        self.prev_ft = t;
        t
    }
}

/// An AMR-NB encoder: one per stream, fed 160 samples (20 ms at 8 kHz) at a time.
pub struct Encoder {
    mode: Mode,
    dtx: bool,
    pre: PreProcess,
    sid_sync: SidSync,
    old_speech: [i16; L_TOTAL],
    old_wsp: [i16; L_FRAME + PIT_MAX_U],
    old_lags: [i16; 5],
    ol_gain_flg: [i16; 2],
    old_exc: [i16; L_FRAME + PIT_MAX_U + L_INTERPOL],
    hvec: [i16; 2 * L_SUBFR],
    lpc: Lpc,
    lsp: Lsp,
    pitch_fr: PitchFr,
    gain_quant: GainQuant,
    ol_wgh: PitchOlWgh,
    ton_stab: TonStab,
    vad: Vad,
    dtx_enc: DtxEnc,
    mem_syn: [i16; M],
    mem_w0: [i16; M],
    mem_w: [i16; M],
    mem_err: [i16; M + L_SUBFR],
    sharp: i16,
}

const SPEECH: usize = L_TOTAL - L_FRAME - L_NEXT;
const NEW_SPEECH: usize = L_TOTAL - L_FRAME;
const P_WINDOW: usize = L_TOTAL - L_WINDOW;
const WSP: usize = PIT_MAX_U;
const EXC: usize = PIT_MAX_U + L_INTERPOL;

impl Encoder {
    /// An encoder in its reset state for `mode`; `dtx` turns on discontinuous transmission
    /// (voice activity detection, SID frames in silence and NO_DATA between them), as
    /// `sox -t amr-nb` encodes.
    pub fn new(mode: Mode, dtx: bool) -> Self {
        Encoder {
            mode,
            dtx,
            pre: PreProcess::new(),
            sid_sync: SidSync::new(),
            old_speech: [0; L_TOTAL],
            old_wsp: [0; L_FRAME + PIT_MAX_U],
            old_lags: [40; 5],
            ol_gain_flg: [0; 2],
            old_exc: [0; L_FRAME + PIT_MAX_U + L_INTERPOL],
            hvec: [0; 2 * L_SUBFR],
            lpc: Lpc::new(),
            lsp: Lsp::new(),
            pitch_fr: PitchFr::new(),
            gain_quant: GainQuant::new(),
            ol_wgh: PitchOlWgh::new(),
            ton_stab: TonStab::new(),
            vad: Vad::new(),
            dtx_enc: DtxEnc::new(),
            mem_syn: [0; M],
            mem_w0: [0; M],
            mem_w: [0; M],
            mem_err: [0; M + L_SUBFR],
            sharp: 0,
        }
    }

    /// The mode frames are encoded in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Changes the mode from the next frame on.
    pub fn set_mode(&mut self, mode: Mode) {
        self.mode = mode;
    }

    /// Encodes 160 samples into one storage record (header byte first) in `out`, and answers
    /// its length: 13 to 32 bytes of speech, 6 of SID, or 1 of NO_DATA.
    pub fn encode_into(&mut self, pcm: &[i16; L_FRAME], out: &mut [u8; 32]) -> usize {
        let mut speech = *pcm;
        for s in speech.iter_mut() {
            *s &= !7;
        }
        self.pre.process(&mut speech);
        let mut prm = [0i16; 64];
        let used = self.cod_amr(&speech, &mut prm);
        let mode = self.mode;
        let tx = self.sid_sync.sync(used.is_none());
        let mut serial = [0i16; 244];
        let table = used.map_or(8, Mode::index);
        let mut at = 0;
        for (i, &n) in BITNO[table].iter().enumerate().take(PRMNO[table]) {
            let v = prm[i];
            for b in 0..n as usize {
                serial[at + b] = (v >> (n as usize - 1 - b)) & 1;
            }
            at += n as usize;
        }
        out.fill(0);
        let frame_type: u8 = match (used, tx) {
            (_, TxType::NoData) => 15,
            (Some(m), _) => m as u8,
            (None, t) => {
                serial[35] = i16::from(t == TxType::SidUpdate);
                for i in 0..3 {
                    serial[36 + i] = ((mode as i16) >> i) & 1;
                }
                8
            }
        };
        out[0] = (frame_type << 3) | 0x04;
        match frame_type {
            0..=7 => {
                let order = REORDER[usize::from(frame_type)];
                for i in 0..NUM_BITS[usize::from(frame_type)] {
                    let bit = serial[order[i] as usize] as u8;
                    out[1 + (i >> 3)] |= bit << (7 - (i & 7));
                }
            }
            8 => {
                for i in 0..NUM_BITS[8] {
                    out[1 + (i >> 3)] |= (serial[i] as u8) << (7 - (i & 7));
                }
            }
            _ => {}
        }
        1 + crate::PAYLOAD_LEN[usize::from(frame_type)].unwrap_or(0)
    }

    /// Encodes 160 samples into one storage record (header byte first).
    pub fn encode(&mut self, pcm: &[i16; L_FRAME]) -> Vec<u8> {
        let mut out = [0u8; 32];
        let n = self.encode_into(pcm, &mut out);
        out[..n].to_vec()
    }

    /// `cod_amr`: one frame's parameters into `ana`; the mode they are in, or `None` for a
    /// DTX frame (whose parameters are the SID's).
    fn cod_amr(&mut self, new_speech: &[i16; L_FRAME], ana: &mut [i16]) -> Option<Mode> {
        let mode = self.mode;
        self.old_speech[NEW_SPEECH..].copy_from_slice(new_speech);
        let mut dtx_frame = false;
        let mut compute_sid = false;
        if self.dtx {
            let vad_flag = self.vad.detect(&self.old_speech, NEW_SPEECH);
            (compute_sid, dtx_frame) = self.dtx_enc.tx_handler(vad_flag);
        }
        let mut a_t = [0i16; 4 * MP1];
        let mut aq_t = [0i16; 4 * MP1];
        let mut lsp_new = [0i16; M];
        self.lpc.analyse(
            mode,
            &self.old_speech[P_WINDOW..],
            &self.old_speech[P_WINDOW - L_NEXT..],
            &mut a_t,
        );
        let mut p = self
            .lsp
            .analyse(mode, dtx_frame, &mut a_t, &mut aq_t, &mut lsp_new, ana);
        self.dtx_enc
            .buffer(&lsp_new, &self.old_speech[NEW_SPEECH..]);
        let mut lsp_flag = false;
        if dtx_frame {
            self.dtx_enc.encode(
                compute_sid,
                &mut self.lsp.q,
                &mut self.gain_quant.gc_pred,
                &mut ana[p..p + 5],
            );
            self.old_exc[..EXC].fill(0);
            self.mem_w0 = [0; M];
            self.mem_err = [0; M + L_SUBFR];
            self.hvec[..L_SUBFR].fill(0);
            self.lsp = Lsp::new();
            self.lsp.lsp_old = lsp_new;
            self.lsp.lsp_old_q = lsp_new;
            self.pitch_fr = PitchFr::new();
            self.sharp = 0;
        } else {
            lsp_flag = self.ton_stab.check_lsp(&self.lsp.lsp_old);
        }
        let mut t_op = [0i16; 2];
        for sf in 0..2 {
            let i_subfr = sf * (L_FRAME / 2);
            pitch::pre_big(
                mode,
                &GAMMA1,
                &GAMMA1_12K2,
                &GAMMA2,
                &a_t,
                i_subfr,
                &self.old_speech,
                SPEECH,
                &mut self.mem_w,
                &mut self.old_wsp,
                WSP,
            );
            if mode != Mode::MR475 && mode != Mode::MR515 {
                t_op[sf] = pitch::ol_ltp(
                    &mut self.ol_wgh,
                    if self.dtx { Some(&mut self.vad) } else { None },
                    mode,
                    &self.old_wsp,
                    WSP + i_subfr,
                    &mut self.old_lags,
                    &mut self.ol_gain_flg,
                    sf,
                );
            }
        }
        if mode == Mode::MR475 || mode == Mode::MR515 {
            t_op[0] = pitch::ol_ltp(
                &mut self.ol_wgh,
                if self.dtx { Some(&mut self.vad) } else { None },
                mode,
                &self.old_wsp,
                WSP,
                &mut self.old_lags,
                &mut self.ol_gain_flg,
                1,
            );
            t_op[1] = t_op[0];
        }
        if self.dtx {
            self.vad.pitch_detection(&t_op);
        }
        if dtx_frame {
            self.shift_buffers(false);
            return None;
        }
        self.subframes(mode, &a_t, &aq_t, &t_op, lsp_flag, ana, &mut p);
        self.shift_buffers(true);
        Some(mode)
    }

    fn shift_buffers(&mut self, exc: bool) {
        if exc {
            self.old_exc.copy_within(L_FRAME.., 0);
        }
        self.old_wsp.copy_within(L_FRAME.., 0);
        self.old_speech.copy_within(L_FRAME.., 0);
    }

    /// `subframePreProc`: the impulse response `h1`, the LP residual `res2` (also the
    /// excitation's first guess) and the target `xn` of a subframe, from its memories.
    fn pre_proc(
        &mut self,
        mode: Mode,
        a: &[i16],
        aq: &[i16],
        i_subfr: usize,
        mem_w0: &mut [i16; M],
        xn: &mut [i16; L_SUBFR],
        res2: &mut [i16; L_SUBFR],
    ) {
        let g1 = if mode == Mode::MR122 || mode == Mode::MR102 {
            &GAMMA1_12K2
        } else {
            &GAMMA1
        };
        let mut ap1 = [0i16; MP1];
        let mut ap2 = [0i16; MP1];
        weight_ai(a, g1, &mut ap1);
        weight_ai(a, &GAMMA2, &mut ap2);
        let mut ai_zero = [0i16; L_SUBFR];
        ai_zero[..MP1].copy_from_slice(&ap1);
        let mut zero = [0i16; M];
        let mut h = [0i16; L_SUBFR];
        syn_filt(aq, &ai_zero, &mut h, &mut zero, false);
        let hin = h;
        syn_filt(&ap2, &hin, &mut h, &mut zero, false);
        self.hvec[L_SUBFR..].copy_from_slice(&h);
        let s = SPEECH + i_subfr;
        residu(aq, &self.old_speech[s - M..s + L_SUBFR], res2);
        self.old_exc[EXC + i_subfr..EXC + i_subfr + L_SUBFR].copy_from_slice(res2);
        let (mem, err) = self.mem_err.split_at_mut(M);
        let mut mem_e: [i16; M] = mem.try_into().expect("M");
        syn_filt(aq, res2, err, &mut mem_e, false);
        residu(&ap1, &self.mem_err, xn);
        let xin = *xn;
        syn_filt(&ap2, &xin, xn, mem_w0, false);
    }

    /// `subframePostProc`: the subframe's excitation and synthesis, and the memories of the
    /// error and weighted-error filters for the next subframe.
    fn post_proc(
        &mut self,
        mode: Mode,
        i_subfr: usize,
        gain_pit: i16,
        gain_code: i16,
        aq: &[i16],
        synth: &mut [i16; L_FRAME],
        xn: &[i16; L_SUBFR],
        code: &[i16; L_SUBFR],
        y1: &[i16; L_SUBFR],
        y2: &[i16; L_SUBFR],
        mem_syn: &mut [i16; M],
        mem_w0: &mut [i16; M],
        sharp: &mut i16,
    ) {
        let (temp_shift, k_shift, pitch_fac) = if mode != Mode::MR122 {
            (1, 16 - 2 - 1, gain_pit)
        } else {
            (2, 16 - 4 - 1, gain_pit >> 1)
        };
        *sharp = gain_pit.min(SHARPMAX);
        let exc = &mut self.old_exc[EXC + i_subfr..EXC + i_subfr + L_SUBFR];
        for i in 0..L_SUBFR {
            let mut l = (i32::from(exc[i]) * i32::from(pitch_fac)) << 1;
            l = l.wrapping_add((i32::from(code[i]) * i32::from(gain_code)) << 1);
            l = l.wrapping_shl(temp_shift);
            exc[i] = (l.wrapping_add(0x8000) >> 16) as i16;
        }
        let ex: [i16; L_SUBFR] = (&*exc).try_into().expect("subframe");
        syn_filt(
            aq,
            &ex,
            &mut synth[i_subfr..i_subfr + L_SUBFR],
            mem_syn,
            true,
        );
        for (j, i) in (L_SUBFR - M..L_SUBFR).enumerate() {
            self.mem_err[j] =
                self.old_speech[SPEECH + i_subfr + i].wrapping_sub(synth[i_subfr + i]);
            let mut t = ((i32::from(y1[i]) * i32::from(gain_pit)) >> 14) as i16;
            t = t.wrapping_add(((i32::from(y2[i]) * i32::from(gain_code)) >> k_shift) as i16);
            mem_w0[j] = xn[i].wrapping_sub(t);
        }
    }

    /// The subframe loop of `cod_amr`.
    fn subframes(
        &mut self,
        mode: Mode,
        a_t: &[i16; 4 * MP1],
        aq_t: &[i16; 4 * MP1],
        t_op: &[i16; 2],
        lsp_flag: bool,
        ana: &mut [i16],
        p: &mut usize,
    ) {
        let mut synth = [0i16; L_FRAME];
        let mut xn = [0i16; L_SUBFR];
        let mut xn2 = [0i16; L_SUBFR];
        let mut code = [0i16; L_SUBFR];
        let mut y1 = [0i16; L_SUBFR];
        let mut y2 = [0i16; L_SUBFR];
        let mut res = [0i16; L_SUBFR];
        let mut g_coeff = [0i16; 4];
        let mut xn_sf0 = [0i16; L_SUBFR];
        let mut y2_sf0 = [0i16; L_SUBFR];
        let mut code_sf0 = [0i16; L_SUBFR];
        let mut h1_sf0 = [0i16; L_SUBFR];
        let mut mem_syn_save = [0i16; M];
        let mut mem_w0_save = [0i16; M];
        let mut mem_err_save = [0i16; M];
        let mut sharp_save = 0i16;
        let mut t0_sf0 = 0i16;
        let mut t0_frac_sf0 = 0i16;
        let mut i_subfr_sf0 = 0usize;
        let mut gains = Gains {
            gain_pit: 0,
            gain_cod: 0,
            sf0_gain_pit: 0,
            sf0_gain_cod: 0,
        };
        let mut even = false;
        for sub_nr in 0..4 {
            let i_subfr = sub_nr * L_SUBFR;
            let a = &a_t[sub_nr * MP1..(sub_nr + 1) * MP1];
            let aq = &aq_t[sub_nr * MP1..(sub_nr + 1) * MP1];
            even = !even;
            if even && mode == Mode::MR475 {
                mem_syn_save = self.mem_syn;
                mem_w0_save = self.mem_w0;
                mem_err_save.copy_from_slice(&self.mem_err[..M]);
                sharp_save = self.sharp;
            }
            if mode != Mode::MR475 {
                let mut w0 = self.mem_w0;
                self.pre_proc(mode, a, aq, i_subfr, &mut w0, &mut xn, &mut res);
                self.mem_w0 = w0;
            } else {
                let mut w0 = mem_w0_save;
                self.pre_proc(mode, a, aq, i_subfr, &mut w0, &mut xn, &mut res);
                mem_w0_save = w0;
                if even {
                    h1_sf0.copy_from_slice(&self.hvec[L_SUBFR..]);
                }
            }
            let mut res2 = res;
            // cl_ltp
            let h1: [i16; L_SUBFR] = self.hvec[L_SUBFR..].try_into().expect("h1");
            let (t0, t0_frac, resu3, index) =
                self.pitch_fr
                    .search(mode, t_op, &self.old_exc, EXC + i_subfr, &xn, &h1, i_subfr);
            ana[*p] = index;
            *p += 1;
            pred_lt_3or6(&mut self.old_exc, EXC + i_subfr, t0, t0_frac, resu3);
            pitch::convolve(&self.old_exc[EXC + i_subfr..], &h1, &mut y1);
            let mut gain_pit = pitch::g_pitch(mode, &xn, &y1, &mut g_coeff);
            let mut gpc_flag = false;
            let mut gp_limit = MAX_16;
            if lsp_flag && gain_pit > GP_CLIP {
                gpc_flag = self.ton_stab.check_gp_clipping(gain_pit);
            }
            if mode == Mode::MR475 || mode == Mode::MR515 {
                gain_pit = gain_pit.min(13926);
                if gpc_flag {
                    gp_limit = GP_CLIP;
                }
            } else {
                if gpc_flag {
                    gp_limit = GP_CLIP;
                    gain_pit = GP_CLIP;
                }
                if mode == Mode::MR122 {
                    ana[*p] = pitch::q_gain_pitch(Mode::MR122, gp_limit, &mut gain_pit, None);
                    *p += 1;
                }
            }
            for i in 0..L_SUBFR {
                let l = (i32::from(y1[i]) * i32::from(gain_pit)) >> 14;
                xn2[i] = xn[i].wrapping_sub(l as i16);
                let l = (i32::from(self.old_exc[EXC + i_subfr + i]) * i32::from(gain_pit)) >> 14;
                res2[i] = res2[i].wrapping_sub(l as i16);
            }
            if sub_nr == 0 && self.ol_gain_flg[0] > 0 {
                self.old_lags[1] = t0;
            }
            if sub_nr == 3 && self.ol_gain_flg[1] > 0 {
                self.old_lags[0] = t0;
            }
            cb::cbsearch(
                &xn2,
                &mut self.hvec,
                t0,
                self.sharp,
                gain_pit,
                &res2,
                &mut code,
                &mut y2,
                ana,
                p,
                mode,
                sub_nr,
            );
            gains.gain_pit = gain_pit;
            let exc_sf: [i16; L_SUBFR] = self.old_exc[EXC + i_subfr..EXC + i_subfr + L_SUBFR]
                .try_into()
                .expect("exc");
            self.gain_quant.quantise(
                mode, &res, &exc_sf, &code, &xn, &xn2, &y1, &y2, &g_coeff, even, gp_limit,
                &mut gains, ana, p,
            );
            let (gain_pit, gain_code) = (gains.gain_pit, gains.gain_cod);
            self.ton_stab.update_gp_clipping(gain_pit);
            if mode != Mode::MR475 {
                let (mut ms, mut mw, mut sh) = (self.mem_syn, self.mem_w0, self.sharp);
                self.post_proc(
                    mode, i_subfr, gain_pit, gain_code, aq, &mut synth, &xn, &code, &y1, &y2,
                    &mut ms, &mut mw, &mut sh,
                );
                (self.mem_syn, self.mem_w0, self.sharp) = (ms, mw, sh);
            } else if even {
                i_subfr_sf0 = i_subfr;
                xn_sf0 = xn;
                y2_sf0 = y2;
                code_sf0 = code;
                t0_sf0 = t0;
                t0_frac_sf0 = t0_frac;
                let mut sh = self.sharp;
                self.post_proc(
                    mode,
                    i_subfr,
                    gain_pit,
                    gain_code,
                    aq,
                    &mut synth,
                    &xn,
                    &code,
                    &y1,
                    &y2,
                    &mut mem_syn_save,
                    &mut mem_w0_save,
                    &mut sh,
                );
                self.sharp = sharp_save;
            } else {
                self.mem_err[..M].copy_from_slice(&mem_err_save);
                pred_lt_3or6(
                    &mut self.old_exc,
                    EXC + i_subfr_sf0,
                    t0_sf0,
                    t0_frac_sf0,
                    true,
                );
                pitch::convolve(&self.old_exc[EXC + i_subfr_sf0..], &h1_sf0, &mut y1);
                let aq_prev = &aq_t[(sub_nr - 1) * MP1..sub_nr * MP1];
                let (mut ms, mut mw) = (self.mem_syn, self.mem_w0);
                self.post_proc(
                    mode,
                    i_subfr_sf0,
                    gains.sf0_gain_pit,
                    gains.sf0_gain_cod,
                    aq_prev,
                    &mut synth,
                    &xn_sf0,
                    &code_sf0,
                    &y1,
                    &y2_sf0,
                    &mut ms,
                    &mut mw,
                    &mut sharp_save,
                );
                let mut w0 = mw;
                self.pre_proc(mode, a, aq, i_subfr, &mut w0, &mut xn, &mut res);
                let h1: [i16; L_SUBFR] = self.hvec[L_SUBFR..].try_into().expect("h1");
                pred_lt_3or6(&mut self.old_exc, EXC + i_subfr, t0, t0_frac, true);
                pitch::convolve(&self.old_exc[EXC + i_subfr..], &h1, &mut y1);
                let mut sh = self.sharp;
                self.post_proc(
                    mode, i_subfr, gain_pit, gain_code, aq, &mut synth, &xn, &code, &y1, &y2,
                    &mut ms, &mut w0, &mut sh,
                );
                (self.mem_syn, self.mem_w0, self.sharp) = (ms, w0, sh);
            }
        }
        let _ = even;
    }
}
