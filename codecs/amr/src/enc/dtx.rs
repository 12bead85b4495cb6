//! Discontinuous transmission on the sending side (`dtx_enc`): when a silent frame becomes a
//! DTX frame, and the SID parameters (averaged LSPs and energy) it carries.

use super::lpc::QPlsf;
use crate::basic::*;
use crate::dsp::*;
use crate::tables::LSP_INIT_DATA;
use crate::{Mode, LSF_GAP, L_FRAME, M};

const DTX_HIST_SIZE: usize = 8;
const DTX_HANG_CONST: i16 = 7;
const DTX_ELAPSED_FRAMES_THRESH: i16 = 24 + 7 - 1;

/// `dtx_encState`.
pub(crate) struct DtxEnc {
    lsp_hist: [i16; M * DTX_HIST_SIZE],
    log_en_hist: [i16; DTX_HIST_SIZE],
    hist_ptr: usize,
    log_en_index: i16,
    init_lsf_vq_index: i16,
    lsp_index: [i16; 3],
    hangover_count: i16,
    elapsed_count: i16,
}

impl DtxEnc {
    pub fn new() -> Self {
        let mut lsp_hist = [0i16; M * DTX_HIST_SIZE];
        for k in 0..DTX_HIST_SIZE {
            lsp_hist[k * M..(k + 1) * M].copy_from_slice(&LSP_INIT_DATA);
        }
        DtxEnc {
            lsp_hist,
            log_en_hist: [0; DTX_HIST_SIZE],
            hist_ptr: 0,
            log_en_index: 0,
            init_lsf_vq_index: 0,
            lsp_index: [0; 3],
            hangover_count: DTX_HANG_CONST,
            elapsed_count: 32767,
        }
    }

    /// `tx_dtx_handler`: whether this frame may carry a new SID, and whether it is a DTX frame.
    pub fn tx_handler(&mut self, vad_flag: bool) -> (bool, bool) {
        self.elapsed_count = add(self.elapsed_count, 1);
        let mut compute_sid = false;
        let mut dtx_frame = false;
        if vad_flag {
            self.hangover_count = DTX_HANG_CONST;
        } else if self.hangover_count == 0 {
            self.elapsed_count = 0;
            dtx_frame = true;
            compute_sid = true;
        } else {
            self.hangover_count -= 1;
            if add(self.elapsed_count, self.hangover_count) < DTX_ELAPSED_FRAMES_THRESH {
                dtx_frame = true;
            }
        }
        (compute_sid, dtx_frame)
    }

    /// `dtx_buffer`: remembers the frame's LSPs and energy.
    pub fn buffer(&mut self, lsp_new: &[i16; M], speech: &[i16]) {
        self.hist_ptr += 1;
        if self.hist_ptr == DTX_HIST_SIZE {
            self.hist_ptr = 0;
        }
        self.lsp_hist[self.hist_ptr * M..(self.hist_ptr + 1) * M].copy_from_slice(lsp_new);
        let mut en: i32 = 0;
        for &v in &speech[..L_FRAME] {
            en = en.wrapping_add((i32::from(v) * i32::from(v)) << 1);
            if en < 0 {
                en = MAX_32;
                break;
            }
        }
        let (e, m) = log2(en);
        let mut log_en = shl(e, 10);
        log_en = log_en.wrapping_add(m >> (15 - 10));
        log_en = log_en.wrapping_sub(8521);
        self.log_en_hist[self.hist_ptr] = log_en >> 1;
    }

    /// `dtx_enc`: the SID parameters, recomputed when `compute_sid` (or never yet).
    pub fn encode(&mut self, compute_sid: bool, q: &mut QPlsf, pred: &mut GcPred, ana: &mut [i16]) {
        if compute_sid || self.log_en_index == 0 {
            let mut log_en: i16 = 0;
            let mut l_lsp = [0i32; M];
            for i in (0..DTX_HIST_SIZE).rev() {
                log_en = add(log_en, self.log_en_hist[i] >> 2);
                for j in (0..M).rev() {
                    l_lsp[j] = l_add(l_lsp[j], i32::from(self.lsp_hist[i * M + j]));
                }
            }
            log_en >>= 1;
            let mut lsp = [0i16; M];
            for j in 0..M {
                lsp[j] = (l_lsp[j] >> 3) as i16;
            }
            let mut idx = log_en.wrapping_add(2560).wrapping_add(128) >> 8;
            idx = idx.clamp(0, 63);
            self.log_en_index = idx;
            let mut log_en = ((i32::from(idx)) << (10 - 2)) as i16;
            log_en = sub(log_en, 11560).clamp(-14436, 0);
            pred.past_qua_en = [log_en; 4];
            let log_en = ((5443 * i32::from(log_en)) >> 15) as i16;
            pred.past_qua_en_mr122 = [log_en; 4];
            let mut lsf = [0i16; M];
            lsp_lsf(&lsp, &mut lsf);
            reorder_lsf(&mut lsf, LSF_GAP);
            lsf_lsp(&lsf, &mut lsp);
            let mut lsp_q = [0i16; M];
            let mut idx3 = [0i16; 3];
            self.init_lsf_vq_index = q.q_plsf_3(Mode::MR475, true, &lsp, &mut lsp_q, &mut idx3);
            self.lsp_index = idx3;
        }
        ana[0] = self.init_lsf_vq_index;
        ana[1..4].copy_from_slice(&self.lsp_index);
        ana[4] = self.log_en_index;
    }
}
