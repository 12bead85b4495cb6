//! The narrowband CELP decoder of libspeex 1.2.1 (`nb_celp.c`, float build), as the low band
//! of the wideband decoder: the paths a received frame takes (lost-frame concealment is not
//! needed, since every frame of a file is present).
#![allow(
    clippy::excessive_precision,
    reason = "constants are spelled as in libspeex so they round identically"
)]
#![allow(
    clippy::needless_range_loop,
    reason = "index loops mirror the C they port, so the two can be read side by side"
)]

use super::dsp::{
    at, bw_lpc, compute_rms16, gain_3tap_to_1tap, highpass, iir_mem16, iir_mem16_inplace,
    lsp_interpolate, lsp_to_lpc, lsp_unquant_lbr, lsp_unquant_nb, multicomb,
    noise_codebook_unquant, sanitize_values32, speex_rand, split_cb_shape_sign_unquant, SplitCb,
};
use super::tables::{
    EXC_10_16_TABLE, EXC_10_32_TABLE, EXC_20_32_TABLE, EXC_5_256_TABLE, EXC_5_64_TABLE,
    EXC_8_128_TABLE, GAIN_CDBK_LBR, GAIN_CDBK_NB,
};
use super::{Bits, FrameError};

pub(super) const NB_ORDER: usize = 10;
pub(super) const NB_FRAME_SIZE: usize = 160;
pub(super) const NB_SUBFRAME_SIZE: usize = 40;
const NB_NB_SUBFRAMES: usize = 4;
const NB_PITCH_START: i32 = 17;
const NB_PITCH_END: i32 = 144;
/// `NB_DEC_BUFFER`, plus zeros the C would read past (it never does for valid pitches).
const EXC_BUF: usize = NB_FRAME_SIZE + 2 * NB_PITCH_END as usize + NB_SUBFRAME_SIZE + 12 + 256;
/// Where the current frame's excitation starts in the buffer (`st->exc`).
const EXC: usize = 2 * NB_PITCH_END as usize + NB_SUBFRAME_SIZE + 6;
/// How much of the buffer moves back by a frame each frame.
const EXC_MOVE: usize = 2 * NB_PITCH_END as usize + NB_SUBFRAME_SIZE + 12;
const LSP_MARGIN: f32 = 0.002;

const EXC_GAIN_QUANT_SCAL3: [f32; 8] = [
    0.061130, 0.163546, 0.310413, 0.428220, 0.555887, 0.719055, 0.938694, 1.326874,
];
const EXC_GAIN_QUANT_SCAL1: [f32; 2] = [0.70469, 1.05127];

/// `ltp_params`.
struct LtpParams {
    gain_cdbk: &'static [i8],
    gain_bits: usize,
    pitch_bits: usize,
}

enum Ltp {
    Forced,
    ThreeTap(LtpParams),
}

enum Innovation {
    Noise,
    Split(SplitCb),
}

enum LspQuant {
    Nb,
    Lbr,
}

/// `SpeexSubmode`, decoder half.
struct Submode {
    lbr_pitch: i32,
    forced_pitch_gain: bool,
    have_subframe_gain: u8,
    double_codebook: bool,
    lsp: LspQuant,
    ltp: Ltp,
    innovation: Innovation,
    comb_gain: f32,
}

const LTP_NB: LtpParams = LtpParams {
    gain_cdbk: &GAIN_CDBK_NB,
    gain_bits: 7,
    pitch_bits: 7,
};
const LTP_VLBR: LtpParams = LtpParams {
    gain_cdbk: &GAIN_CDBK_LBR,
    gain_bits: 5,
    pitch_bits: 0,
};
const LTP_LBR: LtpParams = LtpParams {
    gain_cdbk: &GAIN_CDBK_LBR,
    gain_bits: 5,
    pitch_bits: 7,
};

const fn split(
    subvect_size: usize,
    nb_subvect: usize,
    shape_cb: &'static [i8],
    shape_bits: usize,
) -> SplitCb {
    SplitCb {
        subvect_size,
        nb_subvect,
        shape_cb,
        shape_bits,
        have_sign: false,
    }
}

/// `nb_mode.submodes`: 1..=8 (0 and 9..=15 are "no transmission" / invalid).
static SUBMODES: [Submode; 8] = [
    Submode {
        lbr_pitch: 0,
        forced_pitch_gain: true,
        have_subframe_gain: 0,
        double_codebook: false,
        lsp: LspQuant::Lbr,
        ltp: Ltp::Forced,
        innovation: Innovation::Noise,
        comb_gain: -1.0,
    },
    Submode {
        lbr_pitch: 0,
        forced_pitch_gain: false,
        have_subframe_gain: 0,
        double_codebook: false,
        lsp: LspQuant::Lbr,
        ltp: Ltp::ThreeTap(LTP_VLBR),
        innovation: Innovation::Split(split(10, 4, &EXC_10_16_TABLE, 4)),
        comb_gain: 0.6,
    },
    Submode {
        lbr_pitch: -1,
        forced_pitch_gain: false,
        have_subframe_gain: 1,
        double_codebook: false,
        lsp: LspQuant::Lbr,
        ltp: Ltp::ThreeTap(LTP_LBR),
        innovation: Innovation::Split(split(10, 4, &EXC_10_32_TABLE, 5)),
        comb_gain: 0.55,
    },
    Submode {
        lbr_pitch: -1,
        forced_pitch_gain: false,
        have_subframe_gain: 1,
        double_codebook: false,
        lsp: LspQuant::Lbr,
        ltp: Ltp::ThreeTap(LTP_LBR),
        innovation: Innovation::Split(split(8, 5, &EXC_8_128_TABLE, 7)),
        comb_gain: 0.45,
    },
    Submode {
        lbr_pitch: -1,
        forced_pitch_gain: false,
        have_subframe_gain: 3,
        double_codebook: false,
        lsp: LspQuant::Nb,
        ltp: Ltp::ThreeTap(LTP_NB),
        innovation: Innovation::Split(split(5, 8, &EXC_5_64_TABLE, 6)),
        comb_gain: 0.25,
    },
    Submode {
        lbr_pitch: -1,
        forced_pitch_gain: false,
        have_subframe_gain: 3,
        double_codebook: false,
        lsp: LspQuant::Nb,
        ltp: Ltp::ThreeTap(LTP_NB),
        innovation: Innovation::Split(split(5, 8, &EXC_5_256_TABLE, 8)),
        comb_gain: 0.15,
    },
    Submode {
        lbr_pitch: -1,
        forced_pitch_gain: false,
        have_subframe_gain: 3,
        double_codebook: true,
        lsp: LspQuant::Nb,
        ltp: Ltp::ThreeTap(LTP_NB),
        innovation: Innovation::Split(split(5, 8, &EXC_5_64_TABLE, 6)),
        comb_gain: 0.05,
    },
    Submode {
        lbr_pitch: 0,
        forced_pitch_gain: true,
        have_subframe_gain: 0,
        double_codebook: false,
        lsp: LspQuant::Lbr,
        ltp: Ltp::Forced,
        innovation: Innovation::Split(split(20, 2, &EXC_20_32_TABLE, 5)),
        comb_gain: 0.5,
    },
];

/// Wideband layer sizes, to skip a wideband block met by the narrowband decoder.
const WB_SKIP_TABLE: [usize; 8] = [0, 36, 112, 192, 352, 0, 0, 0];

/// The narrowband decoder state (`DecState`).
pub(super) struct NbDecoder {
    exc_buf: Box<[f32; EXC_BUF]>,
    first: bool,
    old_qlsp: [f32; NB_ORDER],
    interp_qlpc: [f32; NB_ORDER],
    mem_sp: [f32; NB_ORDER],
    mem_hp: [f32; 2],
    /// Per subframe, read by the wideband layer (`SPEEX_GET_PI_GAIN`).
    pub(super) pi_gain: [f32; NB_NB_SUBFRAMES],
    seed: u32,
    voc_m1: f32,
    voc_m2: f32,
    voc_mean: f32,
    voc_offset: i32,
    /// `SPEEX_GET_DTX_STATUS`.
    pub(super) dtx_enabled: bool,
    lpc_enh_enabled: bool,
    highpass_filter: usize,
}

impl NbDecoder {
    /// `nb_decoder_init`, then `SPEEX_SET_WIDEBAND` 1 as the wideband decoder does.
    pub(super) fn new_for_wideband() -> Self {
        NbDecoder {
            exc_buf: Box::new([0.0; EXC_BUF]),
            first: true,
            old_qlsp: [0.0; NB_ORDER],
            interp_qlpc: [0.0; NB_ORDER],
            mem_sp: [0.0; NB_ORDER],
            mem_hp: [0.0; 2],
            pi_gain: [0.0; NB_NB_SUBFRAMES],
            seed: 1000,
            voc_m1: 0.0,
            voc_m2: 0.0,
            voc_mean: 0.0,
            voc_offset: 0,
            dtx_enabled: false,
            lpc_enh_enabled: true,
            // HIGHPASS_WIDEBAND | HIGHPASS_OUTPUT
            highpass_filter: 3,
        }
    }

    /// `SPEEX_GET_EXC`: the RMS of each subframe of the last frame's excitation.
    pub(super) fn exc_rms(&self) -> [f32; NB_NB_SUBFRAMES] {
        let mut r = [0.0; NB_NB_SUBFRAMES];
        for (i, v) in r.iter_mut().enumerate() {
            let s = EXC + i * NB_SUBFRAME_SIZE;
            *v = compute_rms16(&self.exc_buf[s..s + NB_SUBFRAME_SIZE]);
        }
        r
    }

    /// `nb_decode`: one frame into `out` (160 samples); the innovation goes to `innov_save`.
    pub(super) fn decode(
        &mut self,
        bits: &mut Bits,
        out: &mut [f32],
        innov_save: &mut [f32],
    ) -> Result<(), FrameError> {
        // Search for the next narrowband block (handle requests, skip wideband blocks).
        let m = loop {
            if bits.remaining() < 5 {
                return Err(FrameError::End);
            }
            if bits.unpack(1) != 0 {
                let submode = bits.unpack(3) as usize;
                let advance = WB_SKIP_TABLE[submode].saturating_sub(4);
                bits.advance(advance);
                if bits.remaining() < 5 {
                    return Err(FrameError::End);
                }
                if bits.unpack(1) != 0 {
                    let submode = bits.unpack(3) as usize;
                    let advance = WB_SKIP_TABLE[submode].saturating_sub(4);
                    bits.advance(advance);
                    if bits.unpack(1) != 0 {
                        return Err(FrameError::Corrupt("more than two wideband layers"));
                    }
                }
            }
            if bits.remaining() < 4 {
                return Err(FrameError::End);
            }
            let m = bits.unpack(4);
            match m {
                15 => return Err(FrameError::End),
                14 => {
                    // In-band request with no handler registered: skip its bits.
                    let id = bits.unpack(4);
                    let adv = match id {
                        0..=1 => 1,
                        2..=7 => 4,
                        8..=9 => 8,
                        10..=11 => 16,
                        12..=13 => 32,
                        _ => 64,
                    };
                    bits.advance(adv);
                }
                13 => {
                    // User in-band request: the default handler skips it.
                    let req_size = bits.unpack(4) as usize;
                    bits.advance(5 + 8 * req_size);
                }
                9..=12 => return Err(FrameError::Corrupt("invalid narrowband mode")),
                _ => break m as usize,
            }
        };

        // Shift all buffers by one frame.
        self.exc_buf
            .copy_within(NB_FRAME_SIZE..NB_FRAME_SIZE + EXC_MOVE, 0);

        if m == 0 {
            // Null mode (no transmission): comfort noise from the last excitation's level.
            let mut lpc = [0f32; NB_ORDER];
            bw_lpc(0.93, &self.interp_qlpc, &mut lpc);
            let innov_gain = compute_rms16(&self.exc_buf[EXC..EXC + NB_FRAME_SIZE]);
            for i in 0..NB_FRAME_SIZE {
                self.exc_buf[EXC + i] = speex_rand(innov_gain, &mut self.seed);
            }
            self.first = true;
            iir_mem16(
                &self.exc_buf[EXC..EXC + NB_FRAME_SIZE],
                &lpc,
                &mut out[..NB_FRAME_SIZE],
                &mut self.mem_sp,
            );
            return Ok(());
        }
        let sm = &SUBMODES[m - 1];

        let mut qlsp = [0f32; NB_ORDER];
        match sm.lsp {
            LspQuant::Nb => lsp_unquant_nb(&mut qlsp, bits),
            LspQuant::Lbr => lsp_unquant_lbr(&mut qlsp, bits),
        }
        if self.first {
            self.old_qlsp = qlsp;
        }

        let mut ol_pitch = 0i32;
        if sm.lbr_pitch != -1 {
            ol_pitch = NB_PITCH_START + bits.unpack(7) as i32;
        }
        let mut ol_pitch_coef = 0f32;
        if sm.forced_pitch_gain {
            let quant = bits.unpack(4);
            ol_pitch_coef = (0.066667 * f64::from(quant)) as f32;
        }
        let qe = bits.unpack(5);
        let ol_gain = (f64::from(qe) / 3.5).exp() as f32;

        if m == 1 {
            let extra = bits.unpack(4);
            self.dtx_enabled = extra == 15;
        }
        if m > 1 {
            self.dtx_enabled = false;
        }

        let mut best_pitch = 40i32;
        let mut best_pitch_gain = 0f32;

        for sub in 0..NB_NB_SUBFRAMES {
            let offset = NB_SUBFRAME_SIZE * sub;
            let exc = EXC + offset;
            self.exc_buf[exc..exc + NB_SUBFRAME_SIZE].fill(0.0);

            // Adaptive codebook contribution.
            // (The largest pitch allowed only matters to the encoder.)
            let pit_min = match sm.lbr_pitch {
                -1 => NB_PITCH_START,
                0 => ol_pitch,
                margin => (ol_pitch - margin + 1).max(NB_PITCH_START),
            };
            let mut exc32 = [0f32; NB_SUBFRAME_SIZE];
            let pitch_gain;
            let pitch;
            match &sm.ltp {
                Ltp::Forced => {
                    let coef = if ol_pitch_coef > 0.99 {
                        0.99
                    } else {
                        ol_pitch_coef
                    };
                    for i in 0..NB_SUBFRAME_SIZE {
                        let src = exc as isize + i as isize - pit_min as isize;
                        exc32[i] = at(&self.exc_buf[..], src) * coef;
                        self.exc_buf[exc + i] = exc32[i];
                    }
                    pitch = pit_min;
                    pitch_gain = [0.0, coef, 0.0];
                }
                Ltp::ThreeTap(params) => {
                    let p = bits.unpack(params.pitch_bits) as i32 + pit_min;
                    let gain_index = bits.unpack(params.gain_bits) as usize;
                    let mut gain = [0f32; 3];
                    for (k, g) in gain.iter_mut().enumerate() {
                        *g = (0.015625 * f64::from(params.gain_cdbk[gain_index * 4 + k]) + 0.5)
                            as f32;
                    }
                    pitch = p;
                    pitch_gain = gain;
                    for i in 0..3i32 {
                        let pp = p + 1 - i;
                        let tmp1 = (NB_SUBFRAME_SIZE as i32).min(pp);
                        let g = gain[(2 - i) as usize];
                        for j in 0..tmp1.max(0) {
                            let src = exc as isize + (j - pp) as isize;
                            exc32[j as usize] += g * at(&self.exc_buf[..], src);
                        }
                        let tmp3 = (NB_SUBFRAME_SIZE as i32).min(pp + p);
                        for j in tmp1.max(0)..tmp3 {
                            let src = exc as isize + (j - pp - p) as isize;
                            exc32[j as usize] += g * at(&self.exc_buf[..], src);
                        }
                    }
                }
            }
            sanitize_values32(&mut exc32, -32000.0, 32000.0);

            let tmp = gain_3tap_to_1tap(&pitch_gain);
            let bp = best_pitch;
            let near = |a: i32, b: i32, t: i32| (a - b).abs() < t;
            if (tmp > best_pitch_gain
                && !near(2 * bp, pitch, 3)
                && !near(3 * bp, pitch, 4)
                && !near(4 * bp, pitch, 5))
                || (f64::from(tmp) > 0.6 * f64::from(best_pitch_gain)
                    && (near(bp, 2 * pitch, 3) || near(bp, 3 * pitch, 4) || near(bp, 4 * pitch, 5)))
                || (0.67 * f64::from(tmp) > f64::from(best_pitch_gain)
                    && (near(2 * bp, pitch, 3) || near(3 * bp, pitch, 4) || near(4 * bp, pitch, 5)))
            {
                best_pitch = pitch;
                if tmp > best_pitch_gain {
                    best_pitch_gain = tmp;
                }
            }

            // Innovation.
            let mut innov = [0f32; NB_SUBFRAME_SIZE];
            let ener = match sm.have_subframe_gain {
                3 => EXC_GAIN_QUANT_SCAL3[bits.unpack(3) as usize] * ol_gain,
                1 => EXC_GAIN_QUANT_SCAL1[bits.unpack(1) as usize] * ol_gain,
                _ => ol_gain,
            };
            match &sm.innovation {
                Innovation::Noise => noise_codebook_unquant(&mut innov, &mut self.seed),
                Innovation::Split(cb) => split_cb_shape_sign_unquant(&mut innov, cb, bits),
            }
            for v in innov.iter_mut() {
                *v *= ener;
            }
            if sm.double_codebook {
                let mut innov2 = [0f32; NB_SUBFRAME_SIZE];
                match &sm.innovation {
                    Innovation::Noise => noise_codebook_unquant(&mut innov2, &mut self.seed),
                    Innovation::Split(cb) => split_cb_shape_sign_unquant(&mut innov2, cb, bits),
                }
                let g2 = 0.454545f32 * ener;
                for (a, b) in innov.iter_mut().zip(innov2) {
                    *a += g2 * b;
                }
            }
            for i in 0..NB_SUBFRAME_SIZE {
                self.exc_buf[exc + i] = exc32[i] + innov[i];
            }
            innov_save[offset..offset + NB_SUBFRAME_SIZE].copy_from_slice(&innov);

            if m == 1 {
                // Vocoder mode.
                let mut g = 1.5f32 * (ol_pitch_coef - 0.2f32);
                g = g.clamp(0.0, 1.0);
                self.exc_buf[exc..exc + NB_SUBFRAME_SIZE].fill(0.0);
                while self.voc_offset < NB_SUBFRAME_SIZE as i32 {
                    if self.voc_offset >= 0 {
                        let amp = f64::from(2 * ol_pitch).sqrt() as f32;
                        self.exc_buf[exc + self.voc_offset as usize] = amp * (g * ol_gain);
                    }
                    self.voc_offset += ol_pitch;
                }
                self.voc_offset -= NB_SUBFRAME_SIZE as i32;
                for i in 0..NB_SUBFRAME_SIZE {
                    let exci = self.exc_buf[exc + i];
                    let v = (0.7f32 * exci + 0.3f32 * self.voc_m1)
                        + ((1.0 - 0.85f32 * g) * innov[i] - (0.15f32 * g) * self.voc_m2);
                    self.voc_m1 = exci;
                    self.voc_m2 = innov[i];
                    self.voc_mean = 0.8f32 * self.voc_mean + 0.2f32 * v;
                    self.exc_buf[exc + i] = v - self.voc_mean;
                }
            }
        }

        if self.lpc_enh_enabled && sm.comb_gain > 0.0 {
            let half = 2 * NB_SUBFRAME_SIZE;
            let (o1, o2) = out[..NB_FRAME_SIZE].split_at_mut(half);
            let buf = &self.exc_buf[..];
            multicomb(
                buf,
                (EXC - NB_SUBFRAME_SIZE) as isize,
                o1,
                best_pitch,
                40,
                sm.comb_gain,
            );
            multicomb(
                buf,
                (EXC + NB_SUBFRAME_SIZE) as isize,
                o2,
                best_pitch,
                40,
                sm.comb_gain,
            );
        } else {
            out[..NB_FRAME_SIZE].copy_from_slice(
                &self.exc_buf[EXC - NB_SUBFRAME_SIZE..EXC - NB_SUBFRAME_SIZE + NB_FRAME_SIZE],
            );
        }

        let mut interp_qlsp = [0f32; NB_ORDER];
        let mut ak = [0f32; NB_ORDER];
        for sub in 0..NB_NB_SUBFRAMES {
            let offset = NB_SUBFRAME_SIZE * sub;
            lsp_interpolate(
                &self.old_qlsp,
                &qlsp,
                &mut interp_qlsp,
                sub,
                NB_NB_SUBFRAMES,
                LSP_MARGIN,
            );
            lsp_to_lpc(&interp_qlsp, &mut ak);
            let mut pi_g = 1.0f32;
            for i in (0..NB_ORDER).step_by(2) {
                pi_g += ak[i + 1] - ak[i];
            }
            self.pi_gain[sub] = pi_g;
            iir_mem16_inplace(
                &mut out[offset..offset + NB_SUBFRAME_SIZE],
                &self.interp_qlpc,
                &mut self.mem_sp,
            );
            self.interp_qlpc = ak;
        }
        highpass(
            &mut out[..NB_FRAME_SIZE],
            self.highpass_filter,
            &mut self.mem_hp,
        );

        self.old_qlsp = qlsp;
        self.first = false;
        Ok(())
    }
}
