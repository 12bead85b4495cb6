//! The wideband (sub-band CELP) decoder of libspeex 1.2.1 (`sb_celp.c`, float build): the
//! narrowband decoder for 0–4 kHz, a high band for 4–8 kHz, and a QMF to join them.
#![allow(
    clippy::excessive_precision,
    reason = "constants are spelled as in libspeex so they round identically"
)]
#![allow(
    clippy::needless_range_loop,
    reason = "index loops mirror the C they port, so the two can be read side by side"
)]

use super::dsp::{
    compute_rms16, iir_mem16, iir_mem16_inplace, lsp_interpolate, lsp_to_lpc, lsp_unquant_high,
    qmf_synth, speex_rand, split_cb_shape_sign_unquant, SplitCb,
};
use super::nb::{NbDecoder, NB_FRAME_SIZE};
use super::tables::{H0, HEXC_10_32_TABLE, HEXC_TABLE};
use super::{Bits, FrameError};

const LPC_SIZE: usize = 8;
const SUBFRAME: usize = 40;
const NB_SUBFRAMES: usize = 4;
const FRAME: usize = NB_FRAME_SIZE;
/// Samples per wideband frame.
pub(super) const FULL_FRAME: usize = 2 * FRAME;
const LSP_MARGIN: f32 = 0.05;
const FOLDING_GAIN: f32 = 0.9;

const GC_QUANT_BOUND: [f32; 16] = [
    0.97979, 1.28384, 1.68223, 2.20426, 2.88829, 3.78458, 4.95900, 6.49787, 8.51428, 11.15642,
    14.61846, 19.15484, 25.09895, 32.88761, 43.09325, 56.46588,
];

/// `wb_submode1..4`: the high band's innovation (none: folded from the low band), and whether
/// it is applied twice.
const SUBMODES: [(Option<SplitCb>, bool); 4] = [
    (None, false),
    (
        Some(SplitCb {
            subvect_size: 10,
            nb_subvect: 4,
            shape_cb: &HEXC_10_32_TABLE,
            shape_bits: 5,
            have_sign: false,
        }),
        false,
    ),
    (
        Some(SplitCb {
            subvect_size: 8,
            nb_subvect: 5,
            shape_cb: &HEXC_TABLE,
            shape_bits: 7,
            have_sign: true,
        }),
        false,
    ),
    (
        Some(SplitCb {
            subvect_size: 8,
            nb_subvect: 5,
            shape_cb: &HEXC_TABLE,
            shape_bits: 7,
            have_sign: true,
        }),
        true,
    ),
];

/// The wideband decoder state (`SBDecState`).
pub(super) struct SbDecoder {
    low: NbDecoder,
    first: bool,
    g0_mem: [f32; 64],
    g1_mem: [f32; 64],
    exc_buf: [f32; SUBFRAME],
    old_qlsp: [f32; LPC_SIZE],
    interp_qlpc: [f32; LPC_SIZE],
    mem_sp: [f32; 2 * LPC_SIZE],
    last_ener: f32,
    seed: u32,
}

impl SbDecoder {
    /// `speex_decoder_init(speex_lib_get_mode(SPEEX_MODEID_WB))` with its defaults.
    pub(super) fn new() -> Self {
        SbDecoder {
            low: NbDecoder::new_for_wideband(),
            first: true,
            g0_mem: [0.0; 64],
            g1_mem: [0.0; 64],
            exc_buf: [0.0; SUBFRAME],
            old_qlsp: [0.0; LPC_SIZE],
            interp_qlpc: [0.0; LPC_SIZE],
            mem_sp: [0.0; 2 * LPC_SIZE],
            last_ener: 0.0,
            seed: 1000,
        }
    }

    /// `sb_decode`: one frame of bits into 320 samples.
    pub(super) fn decode(
        &mut self,
        bits: &mut Bits,
        out: &mut [f32; FULL_FRAME],
    ) -> Result<(), FrameError> {
        let (low_out, high) = out.split_at_mut(FRAME);
        // The low band's innovation is saved where the high band will go (`low_innov_alias`).
        high.fill(0.0);
        self.low.decode(bits, low_out, high)?;
        let dtx = self.low.dtx_enabled;

        let wideband = if bits.remaining() > 0 { bits.peek() } else { 0 };
        let submode_id = if wideband != 0 {
            bits.unpack(1);
            bits.unpack(3) as usize
        } else {
            0
        };
        if submode_id > 4 {
            return Err(FrameError::Corrupt("invalid wideband mode"));
        }

        if submode_id == 0 {
            if dtx {
                // sb_decode_lost(st, out, 1): comfort noise at the last level.
                self.first = true;
                for v in high.iter_mut() {
                    *v = speex_rand(self.last_ener, &mut self.seed);
                }
            } else {
                high.fill(1e-15);
                self.first = true;
            }
            iir_mem16_inplace(high, &self.interp_qlpc, &mut self.mem_sp);
            self.synth(out);
            return Ok(());
        }
        let (innovation, double_codebook) = &SUBMODES[submode_id - 1];

        let low_pi_gain = self.low.pi_gain;
        let low_exc_rms = self.low.exc_rms();

        let mut qlsp = [0f32; LPC_SIZE];
        lsp_unquant_high(&mut qlsp, bits);
        if self.first {
            self.old_qlsp = qlsp;
        }

        let mut interp_qlsp = [0f32; LPC_SIZE];
        let mut ak = [0f32; LPC_SIZE];
        let mut exc_ener_sum = 0f32;
        for sub in 0..NB_SUBFRAMES {
            let offset = SUBFRAME * sub;
            lsp_interpolate(
                &self.old_qlsp,
                &qlsp,
                &mut interp_qlsp,
                sub,
                NB_SUBFRAMES,
                LSP_MARGIN,
            );
            lsp_to_lpc(&interp_qlsp, &mut ak);

            let mut rh = 1.0f32;
            for i in (0..LPC_SIZE).step_by(2) {
                rh += ak[i + 1] - ak[i];
            }
            let rl = low_pi_gain[sub];
            let filter_ratio = ((f64::from(rl) + 0.01) / (f64::from(rh) + 0.01)) as f32;

            let mut exc = [0f32; SUBFRAME];
            match innovation {
                None => {
                    // Fold the low band's innovation up.
                    let quant = bits.unpack(5) as i32;
                    let g = f64::from(0.125f32 * (quant - 10) as f32).exp() as f32;
                    let g = g / filter_ratio;
                    for i in (0..SUBFRAME).step_by(2) {
                        exc[i] = (FOLDING_GAIN * high[offset + i]) * g;
                        exc[i + 1] = -((FOLDING_GAIN * high[offset + i + 1]) * g);
                    }
                }
                Some(cb) => {
                    let qgc = bits.unpack(4) as usize;
                    let el = low_exc_rms[sub];
                    let gc = (0.87360 * f64::from(GC_QUANT_BOUND[qgc])) as f32;
                    let scale = (gc * el) / filter_ratio;
                    split_cb_shape_sign_unquant(&mut exc, cb, bits);
                    for v in exc.iter_mut() {
                        *v *= scale;
                    }
                    if *double_codebook {
                        let mut innov2 = [0f32; SUBFRAME];
                        split_cb_shape_sign_unquant(&mut innov2, cb, bits);
                        let scale2 = 0.4f32 * scale;
                        for (a, b) in exc.iter_mut().zip(innov2) {
                            *a += scale2 * b;
                        }
                    }
                }
            }

            iir_mem16(
                &self.exc_buf,
                &self.interp_qlpc,
                &mut high[offset..offset + SUBFRAME],
                &mut self.mem_sp,
            );
            self.exc_buf = exc;
            self.interp_qlpc = ak;
            let rms = compute_rms16(&self.exc_buf);
            exc_ener_sum += (rms * rms) / NB_SUBFRAMES as f32;
        }
        self.last_ener = f64::from(exc_ener_sum).sqrt() as f32;

        self.synth(out);
        self.old_qlsp = qlsp;
        self.first = false;
        Ok(())
    }

    /// `qmf_synth` of the two halves of `out` into `out`.
    fn synth(&mut self, out: &mut [f32; FULL_FRAME]) {
        let mut low = [0f32; FRAME];
        let mut high = [0f32; FRAME];
        low.copy_from_slice(&out[..FRAME]);
        high.copy_from_slice(&out[FRAME..]);
        qmf_synth(&low, &high, &H0, out, &mut self.g0_mem, &mut self.g1_mem);
    }
}
