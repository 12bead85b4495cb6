//! LSF dequantisation (`D_plsf_3`, `D_plsf_5`): split-VQ indices to LSPs, with the MA
//! prediction and, for a lost frame, the fallback to the mean.

use crate::basic::*;
use crate::dsp::{lsf_lsp, reorder_lsf};
use crate::tables::*;
use crate::{Mode, LSF_GAP, M};

/// `D_plsfState`.
#[derive(Clone)]
pub(crate) struct DPlsf {
    /// Past quantised prediction residual.
    pub past_r_q: [i16; M],
    /// Past dequantised LSFs.
    pub past_lsf_q: [i16; M],
}

const LSP_PRED_FAC_MR122: i16 = 21299;

impl DPlsf {
    /// `D_plsf_reset`.
    pub fn new() -> Self {
        DPlsf {
            past_r_q: [0; M],
            past_lsf_q: MEAN_LSF_5,
        }
    }

    /// `Init_D_plsf_3`: the prediction residual a SID frame's index names.
    pub fn init_3(&mut self, index: i16) {
        let at = index as usize * M;
        self.past_r_q.copy_from_slice(&PAST_RQ_INIT[at..at + M]);
    }

    /// `D_plsf_3`: one LSF vector of every mode but 12.2 kbit/s (and of SID when `dtx`).
    pub fn d_plsf_3(
        &mut self,
        mode: Mode,
        dtx: bool,
        bfi: bool,
        indice: &[i16],
        lsp1_q: &mut [i16; M],
    ) {
        const ALPHA: i16 = 29491;
        const ONE_ALPHA: i16 = 3277;
        let mut lsf1_q = [0i16; M];
        if bfi {
            for i in 0..M {
                lsf1_q[i] = add(
                    mult(MEAN_LSF_3[i], ONE_ALPHA),
                    mult(self.past_lsf_q[i], ALPHA),
                );
            }
            if !dtx {
                for i in 0..M {
                    let t = add(MEAN_LSF_3[i], mult(self.past_r_q[i], PRED_FAC_3[i]));
                    self.past_r_q[i] = sub(lsf1_q[i], t);
                }
            } else {
                for i in 0..M {
                    let t = add(MEAN_LSF_3[i], self.past_r_q[i]);
                    self.past_r_q[i] = sub(lsf1_q[i], t);
                }
            }
        } else {
            let (cb1, cb3, lim1, lim3): (&[i16], &[i16], i32, i32) =
                if !dtx && (mode == Mode::MR475 || mode == Mode::MR515) {
                    (&DICO1_LSF_3, &MR515_3_LSF, 255 * 3, 127 * 4)
                } else if !dtx && mode == Mode::MR795 {
                    (&MR795_1_LSF, &DICO3_LSF_3, 511 * 3, 511 * 4)
                } else {
                    (&DICO1_LSF_3, &DICO3_LSF_3, 255 * 3, 511 * 4)
                };
            let lim2 = 511 * 3;
            let mut lsf1_r = [0i16; M];
            let t = (i32::from(indice[0]) * 3).min(lim1) as usize;
            lsf1_r[0..3].copy_from_slice(&cb1[t..t + 3]);
            let mut index = i32::from(indice[1]);
            if !dtx && (mode == Mode::MR475 || mode == Mode::MR515) {
                index <<= 1;
            }
            let t = (index * 3).min(lim2) as usize;
            lsf1_r[3..6].copy_from_slice(&DICO2_LSF_3[t..t + 3]);
            let t = (i32::from(indice[2]) * 4).min(lim3) as usize;
            lsf1_r[6..10].copy_from_slice(&cb3[t..t + 4]);
            if !dtx {
                for i in 0..M {
                    let t = add(MEAN_LSF_3[i], mult(self.past_r_q[i], PRED_FAC_3[i]));
                    lsf1_q[i] = add(lsf1_r[i], t);
                    self.past_r_q[i] = lsf1_r[i];
                }
            } else {
                for i in 0..M {
                    let t = add(MEAN_LSF_3[i], self.past_r_q[i]);
                    lsf1_q[i] = add(lsf1_r[i], t);
                    self.past_r_q[i] = lsf1_r[i];
                }
            }
        }
        reorder_lsf(&mut lsf1_q, LSF_GAP);
        self.past_lsf_q = lsf1_q;
        lsf_lsp(&lsf1_q, lsp1_q);
    }

    /// `D_plsf_5`: the two LSF vectors of 12.2 kbit/s.
    pub fn d_plsf_5(
        &mut self,
        bfi: bool,
        indice: &[i16],
        lsp1_q: &mut [i16; M],
        lsp2_q: &mut [i16; M],
    ) {
        const ALPHA: i32 = 31128;
        const ONE_ALPHA: i32 = 1639;
        let mut lsf1_q = [0i16; M];
        let mut lsf2_q = [0i16; M];
        if bfi {
            for i in 0..M {
                let t = ((i32::from(self.past_lsf_q[i]) * ALPHA) >> 15) as i16;
                let s = ((i32::from(MEAN_LSF_5[i]) * ONE_ALPHA) >> 15) as i16;
                lsf1_q[i] = add(s, t);
                lsf2_q[i] = lsf1_q[i];
                let t =
                    ((i32::from(self.past_r_q[i]) * i32::from(LSP_PRED_FAC_MR122)) >> 15) as i16;
                let t = add(MEAN_LSF_5[i], t);
                self.past_r_q[i] = sub(lsf2_q[i], t);
            }
        } else {
            let mut lsf1_r = [0i16; M];
            let mut lsf2_r = [0i16; M];
            let cbs: [&[i16]; 5] = [
                &DICO1_LSF_5,
                &DICO2_LSF_5,
                &DICO3_LSF_5,
                &DICO4_LSF_5,
                &DICO5_LSF_5,
            ];
            for k in 0..5 {
                let (idx, negative) = if k == 2 {
                    (indice[2] >> 1, indice[2] & 1 != 0)
                } else {
                    (indice[k], false)
                };
                let t = shl(idx, 2) as usize;
                let d = &cbs[k][t..t + 4];
                let f = |v: i16| if negative { negate(v) } else { v };
                lsf1_r[2 * k] = f(d[0]);
                lsf1_r[2 * k + 1] = f(d[1]);
                lsf2_r[2 * k] = f(d[2]);
                lsf2_r[2 * k + 1] = f(d[3]);
            }
            for i in 0..M {
                let t = add(MEAN_LSF_5[i], mult(self.past_r_q[i], LSP_PRED_FAC_MR122));
                lsf1_q[i] = add(lsf1_r[i], t);
                lsf2_q[i] = add(lsf2_r[i], t);
                self.past_r_q[i] = lsf2_r[i];
            }
        }
        reorder_lsf(&mut lsf1_q, LSF_GAP);
        reorder_lsf(&mut lsf2_q, LSF_GAP);
        self.past_lsf_q = lsf2_q;
        lsf_lsp(&lsf1_q, lsp1_q);
        lsf_lsp(&lsf2_q, lsp2_q);
    }
}
