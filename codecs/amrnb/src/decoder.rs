//! The assembled AMR-NB decoder, TS 26.073 `dec_amr.c` and `sp_dec.c`.
//!
//! Payload bytes in, 160 samples of 8 kHz speech out. Every stage this drives
//! is separately bit-exact against the reference; what lives here is the
//! *wiring* — which state is carried where, in what order, and which of two
//! excitations each consumer gets.
//!
//! # Why the wiring is the hard part
//!
//! On the wideband side every stage was bit-exact in isolation while the
//! assembled decoder scored 1–3%. The errors were all in the composition:
//! state carried between stages, order of operations, and one interface
//! matched to the wrong thing. Three things are therefore explicit here rather
//! than left to read off the call order.
//!
//! **Two excitations, and they diverge.** The excitation written back into the
//! adaptive-codebook history is *not* the one the synthesis filter consumes.
//! Phase dispersion, the excitation-control module and the pitch-sharpened
//! copy all operate on a separate buffer. Using one buffer for both produces
//! audio that is recognisably speech and steadily wrong — the wideband port
//! nearly shipped exactly that.
//!
//! **The lag decoders read the pre-update previous lag.** The bad-frame
//! graceful degradation increments it, and 10.2's pitch-sharpening attenuation
//! then reads the *incremented* value. Two reads of one variable, on either
//! side of one write.
//!
//! **`Overflow` is cleared immediately before the synthesis filter**, not once
//! per frame. Testing an accumulated flag rescales the whole 194-sample
//! excitation history on the strength of an overflow that happened somewhere
//! else entirely.

use super::basicop::arith::{add, extract_l, mult, round, sub};
use super::basicop::arith32::{l_mac, l_mult, l_sum_sq};
use super::basicop::shift::{l_shr, shl, shr};
use super::basicop::types::{DspContext, Word16};
use super::codebook::{sharpen, sharpening_factor, sharpening_state, FixedCodebook};
use super::conceal;
use super::detect::{interpolate_lsf, LsfAverage, SourceDetector};
use super::dtx::{DtxDecoder, DtxState, RxFrameType};
use super::gain::{
    decode_code_gain, decode_joint, decode_pitch_gain, CodeGainConcealer, CodeGainPredictor,
    CodeGainSmoother, FrameQuality, PitchGainConcealer, SubframeGains, WithPrevious,
};
use super::lag::{
    absolute_lag, delta_coding, delta_lag_1_3, delta_lag_1_6, delta_window, is_delta_coded,
    Excitation, LagResolution, PitchLag,
};
use super::lsp::{interpolate_lsp, interpolate_lsp_mid, LsfDecoder, AZ_SIZE, M, MP1};
use super::math::sqrt_l_exp;
use super::postfilter::{PostFilter, PostProcessor};
use super::synthesis::{
    control_excitation, match_energy, synthesis_filter, ExcitationGains, PhaseDispersion,
    EXC_ENERGY_HIST,
};
use super::{L_FRAME, L_SUBFR, MR102, MR122, MR795, PIT_MAX, SHARPMAX};

/// Subframes per frame.
const NB_SUBFR: usize = 4;

/// LTP gains the source detector reads, newest last.
const LTP_HISTORY: usize = 9;

/// How the frame arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameState {
    /// Bits arrived and the transport believes them.
    Good,
    /// Bits arrived damaged.
    ///
    /// This is also the *tail* of the lost-frame path, but not its entirety:
    /// AMR-NB has no distinct lost frame type, and the reference reaches this
    /// same code after first manufacturing a parameter vector from
    /// `nodataSeed`. A frame that never arrived must therefore enter through
    /// [`Decoder::decode_typed`] as `NO_DATA`, which synthesises what this
    /// state then consumes. Passing stale bits here instead decodes a different
    /// excitation -- the fixed codebook reads the indices even when the frame
    /// is bad.
    Bad,
    /// The transport says the frame is usable but degraded.
    ///
    /// Distinct from [`FrameState::Bad`]: the bits are decoded normally, and
    /// the flag only softens the codebook gain and arms the excitation control.
    Degraded,
}

/// A complete AMR-NB decoder.
///
/// One instance decodes one stream. Nothing here is shared with the wideband
/// decoder, deliberately: the two codecs differ in the spectral representation,
/// the interpolation weights, the adaptive-codebook resolution, the output word
/// width and the presence of a post-filter, and every one of those differences
/// would compile and produce speech-shaped output if confused.
#[derive(Debug, Clone)]
pub struct Decoder {
    lsf: LsfDecoder,
    excitation: Excitation,
    predictor: CodeGainPredictor,
    pitch_concealer: PitchGainConcealer,
    code_concealer: CodeGainConcealer,
    smoother: CodeGainSmoother,
    dispersion: PhaseDispersion,
    detector: SourceDetector,
    lsf_average: LsfAverage,
    post_filter: PostFilter,
    post_processor: PostProcessor,

    /// Previous frame's LSPs, the interpolation's left endpoint.
    lsp_old: [Word16; M],
    /// Synthesis filter memory, the last `M` output samples.
    mem_syn: [Word16; M],
    /// Pitch-sharpening factor carried to the next subframe, Q14.
    sharp: Word16,
    /// Previous subframe's integer lag.
    old_lag: Word16,
    /// The lag as *received*, before any concealment substitution.
    ///
    /// Kept separately because concealment in background noise prefers the
    /// received lag over the extrapolated one, and by then the extrapolation
    /// has already overwritten `old_lag`.
    lag_buffer: Word16,
    /// Consecutive-erasure state machine, 0..=6.
    erasure_state: u8,
    /// Whether the previous frame was bad, and whether it was degraded.
    previous: PreviousFrame,
    /// Excitation energies of the last nine subframes.
    energy_history: [Word16; EXC_ENERGY_HIST],
    /// Pitch gains of the last nine subframes, newest last.
    ltp_gains: [Word16; LTP_HISTORY],
    /// Whether any frame has been decoded since the last reset.
    ///
    /// The reference's `dtxGlobalState` starts at `DTX`, not `SPEECH`
    /// (`dtx_dec_reset`), and only becomes `SPEECH` once a frame has been
    /// received. A frame lost before that takes the comfort-noise path rather
    /// than the concealment one, so concealing it here would silently diverge
    /// -- verified against the reference, which emits a non-zero frame where
    /// this decoder emits silence.
    started: bool,
    /// `dec_amr.c`'s `st->nodataSeed`.
    ///
    /// Advances only on a lost frame -- a good or damaged one leaves it
    /// untouched -- and is re-seeded by a full reset *and* by every
    /// comfort-noise frame, because `Decoder_amr_reset(st, MRDTX)` sets it.
    nodata_seed: Word16,
    /// The comfort-noise state, `st->dtxDecoderState`.
    dtx: DtxDecoder,
}

/// The two previous-frame flags, which are read together everywhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PreviousFrame {
    bad: bool,
    degraded: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder in its reset state, as `Decoder_amr_reset` leaves it.
    #[must_use]
    pub fn new() -> Self {
        Self {
            lsf: LsfDecoder::at_reset(),
            excitation: Excitation::new(),
            predictor: CodeGainPredictor::new(),
            pitch_concealer: PitchGainConcealer::new(),
            code_concealer: CodeGainConcealer::new(),
            smoother: CodeGainSmoother::new(),
            dispersion: PhaseDispersion::new(),
            detector: SourceDetector::new(),
            lsf_average: LsfAverage::new(),
            post_filter: PostFilter::new(),
            post_processor: PostProcessor::new(),
            lsp_old: super::lsp::initial_lsp(),
            mem_syn: [Word16(0); M],
            sharp: Word16(0),
            // 40, not 0: a zero lag is not a legal pitch period, and the first
            // delta-coded subframe of the stream reads this.
            old_lag: Word16(40),
            lag_buffer: Word16(40),
            erasure_state: 0,
            previous: PreviousFrame::default(),
            energy_history: [Word16(0); EXC_ENERGY_HIST],
            ltp_gains: [Word16(0); LTP_HISTORY],
            started: false,
            nodata_seed: conceal::NODATA_SEED_INIT,
            dtx: DtxDecoder::new(),
        }
    }

    /// Decode from already-unpacked parameters.
    ///
    /// Exposed because the frame state cannot be expressed in the payload: a
    /// damaged frame still has bits, and the RFC 4867 Q bit is what says not to
    /// trust them.
    ///
    /// # Panics
    ///
    /// If `params` is shorter than the rate's parameter count.
    #[allow(clippy::too_many_lines)]
    pub fn decode_parameters(
        &mut self,
        mode_index: u8,
        params: &[u16],
        state: FrameState,
    ) -> [i16; L_FRAME] {
        let mut ctx = DspContext::default();

        let bad = state == FrameState::Bad;
        let degraded = state == FrameState::Degraded;

        self.advance_erasure_state(bad);

        // The first speech frame out of a silence starts from state 5 rather
        // than from wherever the erasure counter had got to, and whether it is
        // muted depends on how the silence ended. Coming out of `DTX_MUTE` the
        // frame is muted; out of plain `DTX` it is not. State 5 either way, so
        // that a SID misread as speech is attenuated quickly.
        //
        // This runs *before* the frame quality below is taken, because
        // `prev_bf` is what it writes and the concealers are what read it.
        // Taking the snapshot first leaves them looking at the value from
        // before the silence, and the first frame out of `DTX_MUTE` comes back
        // at full level instead of muted -- 160 samples wrong on that frame
        // and a tail of a dozen more while the gain smoother recovers.
        match self.dtx.global_state() {
            DtxState::Dtx => {
                self.erasure_state = 5;
                self.previous.bad = false;
            }
            DtxState::DtxMute => {
                self.erasure_state = 5;
                self.previous.bad = true;
            }
            DtxState::Speech => {}
        }

        let quality = FrameQuality {
            bad: WithPrevious {
                current: bad,
                previous: self.previous.bad,
            },
            degraded: WithPrevious {
                current: degraded,
                previous: self.previous.degraded,
            },
            background_noise: self.detector.background_noise(),
            voiced_hangover: self.detector.voiced_hangover().0,
        };

        // The gain smoother compares this frame's interpolated LSFs against the
        // *previous* frame's, so they have to be taken before the spectral path
        // overwrites them.
        let previous_lsf = *self.lsf.last_lsf();

        let az = self.decode_spectrum(&mut ctx, mode_index, params, bad);

        let mut synthesis = [Word16(0); L_FRAME];
        let mut cursor = if mode_index == MR122 { 5 } else { 3 };
        // 4.75 kbit/s transmits one gain index per *pair* of subframes, on the
        // even one. The odd subframe re-decodes the same index with the other
        // half of the table entry, so the value has to survive the two
        // parameters the lag and codebook consume in between.
        let mut shared_gain_index = 0u16;

        for subframe in 0..NB_SUBFR {
            let even = subframe % 2 == 0;
            let lag = self.decode_lag(&mut ctx, mode_index, params[cursor], subframe, bad);
            cursor += 1;

            self.excitation.predict(&mut ctx, lag);

            // 12.2 sends its pitch gain before the codevector, every other rate
            // after it. The order is not cosmetic: 12.2 sharpens the innovation
            // with the gain it just read, where the others use the previous
            // subframe's.
            let mut gain_pitch = Word16(0);
            if mode_index == MR122 {
                gain_pitch = self.decode_pitch_gain_12k2(&mut ctx, params[cursor], bad, quality);
                cursor += 1;
            }

            let mut code =
                Self::decode_codebook(&mut ctx, mode_index, params, &mut cursor, subframe);

            let sharpening = if mode_index == MR122 {
                shl(&mut ctx, gain_pitch, 1)
            } else {
                sharpening_factor(&mut ctx, self.sharp)
            };
            sharpen(&mut ctx, &mut code, lag.integer.0, sharpening);

            let (gains, mut sharpening) = self.decode_gains(
                &mut ctx,
                mode_index,
                params,
                &mut cursor,
                &code,
                even,
                gain_pitch,
                quality,
                &mut shared_gain_index,
            );
            let SubframeGains {
                pitch: mut gain_pitch,
                code: gain_code,
            } = gains;

            // 10.2 attenuates its sharpening when the *previous* lag was long,
            // and reads that lag after the bad-frame increment above.
            if mode_index == MR102 && sub(&mut ctx, self.old_lag, Word16(45)).0 > 0 {
                sharpening = shr(&mut ctx, sharpening, 2);
            }

            // The stored factor does not advance on 4.75's even subframes,
            // because that subframe's gain is provisional until the odd one
            // chooses the pair.
            if mode_index != 0 || !even {
                self.sharp = sharpening_state(gain_pitch);
            }

            let sharpening = shl(&mut ctx, sharpening, 1);
            let sharpened = (sub(&mut ctx, sharpening, Word16(16384)).0 > 0)
                .then(|| self.pitch_sharpened_copy(&mut ctx, mode_index, sharpening, gain_pitch));

            if !bad {
                self.ltp_gains.copy_within(1.., 0);
                self.ltp_gains[LTP_HISTORY - 1] = gain_pitch;
            }

            gain_pitch = self.limit_gain_in_noise(&mut ctx, mode_index, gain_pitch, bad);

            let subframe_lsf = interpolate_lsf(
                &mut ctx,
                &previous_lsf,
                self.lsf.last_lsf(),
                subframe * L_SUBFR,
            );
            let mixed = self.smoother.smooth(
                &mut ctx,
                mode_index,
                gain_code,
                &subframe_lsf,
                self.lsf_average.mean(),
                quality,
            );
            // 7.40, 7.95 and 12.2 use the unsmoothed gain. The smoother still
            // ran: its history and both counters advance for every rate.
            let mixed = if mode_index > 3 && mode_index != MR102 {
                gain_code
            } else {
                mixed
            };

            let (pitch_factor, shift) = if mode_index == MR122 {
                (shr(&mut ctx, gain_pitch, 1), 2)
            } else {
                (gain_pitch, 1)
            };

            // The two excitations part company here. `enhanced` starts as an
            // unscaled copy of the adaptive-codebook vector; the history in
            // `self.excitation` becomes the scaled total. Everything after this
            // point has to be given the right one.
            let mut enhanced = [Word16(0); L_SUBFR];
            enhanced.copy_from_slice(self.excitation.subframe());

            self.form_total_excitation(&mut ctx, pitch_factor, gain_code, &code, shift);

            self.dispersion.release();
            if self.locks_dispersion(mode_index, bad) {
                self.dispersion.lock();
            }
            self.dispersion.apply(
                &mut ctx,
                mode_index,
                &mut enhanced,
                &mut code.clone(),
                ExcitationGains {
                    codebook: mixed,
                    pitch: gain_pitch,
                    pitch_factor,
                    shift,
                },
            );

            let energy = Self::excitation_energy(&mut ctx, &enhanced);
            self.run_excitation_control(&mut ctx, mode_index, &mut enhanced, energy, quality);
            self.update_energy_history(energy, quality);

            let target = &mut synthesis[subframe * L_SUBFR..(subframe + 1) * L_SUBFR];
            let a = &az[subframe * MP1..(subframe + 1) * MP1];
            self.synthesise(&mut ctx, a, &mut enhanced, sharpened, target);

            self.excitation.advance();
            self.old_lag = lag.integer;
        }

        self.detector.update(&mut ctx, &self.ltp_gains, &synthesis);

        // Before the post-filter: the noise description is derived from the
        // synthesis, not from what a listener eventually hears.
        let last_lsf = *self.lsf.last_lsf();
        self.dtx.observe_speech(&mut ctx, &last_lsf, &synthesis);

        self.previous = PreviousFrame { bad, degraded };
        self.started = true;
        self.lsf_average.update(&mut ctx, self.lsf.last_lsf());

        // `the_end: st->dtxDecoderState->dtxGlobalState = newDTXState`, which
        // the reference runs on every frame including this path's. Without it
        // the override above fires on every frame of a speech-only stream
        // rather than only on the first, because `dtx_dec_reset` leaves the
        // state at DTX and nothing else would ever move it.
        self.dtx.commit(DtxState::Speech);

        self.post_filter
            .process(&mut ctx, mode_index, &mut synthesis, &az);
        self.post_processor.process(&mut ctx, &mut synthesis);

        // 13-bit linear output. A mask, not a shift pair and not a rounding
        // step — the reference writes `synth[i] & 0xfff8`.
        let mut out = [0i16; L_FRAME];
        for (slot, sample) in out.iter_mut().zip(synthesis.iter()) {
            *slot = sample.0 & !7;
        }
        out
    }

    /// Decode one frame of a stream that may use DTX — `Speech_Decode_Frame`.
    ///
    /// This is the whole receiver: it decides between speech and comfort noise,
    /// and every path through it leaves the state the next frame needs.
    ///
    /// `params` is the frame's unpacked parameters. For a `SID_UPDATE` or
    /// `SID_BAD` those are the five *MRDTX* parameters, not the speech mode's —
    /// the reference overrides the bit allocation for exactly these two types
    /// in `Speech_Decode_Frame`, and unpacking a SID with the speech mode's
    /// widths yields five numbers that decode into a spectrum. For `SID_FIRST`,
    /// `NO_DATA` and `ONSET` the slice is unread and may be empty.
    ///
    /// `mode_index` is always a *speech* mode: on a SID it is the mode
    /// indication carried in the SID's own payload, which tells the decoder
    /// which level adjustment the encoder had been using.
    ///
    /// # Panics
    /// If `mode_index` is not 0..=7.
    pub fn decode_typed(
        &mut self,
        frame_type: RxFrameType,
        mode_index: u8,
        params: &[u16],
    ) -> [i16; L_FRAME] {
        assert!(mode_index < 8, "mode {mode_index} is not a speech mode");
        let mut ctx = DspContext::default();

        let new_state = self.dtx.receive(&mut ctx, frame_type);
        let out = if new_state == DtxState::Speech {
            let (state, params) =
                self.speech_frame_inputs(&mut ctx, frame_type, mode_index, params);
            self.decode_parameters(mode_index, &params, state)
        } else {
            self.comfort_noise_frame(&mut ctx, new_state, mode_index, params)
        };

        self.dtx.commit(new_state);
        out
    }

    /// What the speech path should be told about a frame, and what to decode.
    ///
    /// Three of the eight frame types reach the speech decoder without usable
    /// bits, and the reference does not treat them alike: `SPEECH_BAD` keeps
    /// the parameters it received and marks them untrusted, while `NO_DATA` and
    /// `ONSET` have none and manufacture a vector from `nodataSeed` first. The
    /// concealers ignore what that produces, but the fixed codebook does not.
    fn speech_frame_inputs(
        &mut self,
        ctx: &mut DspContext,
        frame_type: RxFrameType,
        mode_index: u8,
        params: &[u16],
    ) -> (FrameState, Vec<u16>) {
        match frame_type {
            RxFrameType::SpeechGood => (FrameState::Good, params.to_vec()),
            RxFrameType::SpeechDegraded => (FrameState::Degraded, params.to_vec()),
            RxFrameType::SpeechBad => (FrameState::Bad, params.to_vec()),
            RxFrameType::NoData | RxFrameType::Onset => (
                FrameState::Bad,
                conceal::build_cn_param(ctx, &mut self.nodata_seed, mode_index),
            ),
            // The SID types cannot reach the speech path: `receive` returns
            // DTX for all three unconditionally.
            other => unreachable!("{other:?} cannot be synthesised as speech"),
        }
    }

    /// Synthesise, post-filter and post-process one comfort-noise frame.
    fn comfort_noise_frame(
        &mut self,
        ctx: &mut DspContext,
        new_state: DtxState,
        mode_index: u8,
        params: &[u16],
    ) -> [i16; L_FRAME] {
        self.reset_for_comfort_noise();

        let cn = self.dtx.comfort_noise(
            ctx,
            new_state,
            usize::from(mode_index),
            params,
            &mut self.mem_syn,
            &mut self.lsf,
            &mut self.predictor,
        );

        // The rest of the decoder is told the spectrum was the comfort noise's,
        // so the first speech frame afterwards interpolates from it rather than
        // from whatever preceded the silence.
        self.lsp_old = super::lsp::lsf_to_lsp(ctx, self.lsf.last_lsf());
        self.lsf_average.update(ctx, self.lsf.last_lsf());

        let mut synthesis = cn.synth;
        self.post_filter
            .process(ctx, mode_index, &mut synthesis, &cn.a_t);
        self.post_processor.process(ctx, &mut synthesis);

        let mut out = [0i16; L_FRAME];
        for (slot, sample) in out.iter_mut().zip(synthesis.iter()) {
            *slot = sample.0 & !7;
        }
        out
    }

    /// `Decoder_amr_reset(st, MRDTX)`: clear the speech state, keep the rest.
    ///
    /// The five exemptions are what make comfort noise continuous with the
    /// speech around it, and each is load-bearing. `mem_syn` carries the
    /// synthesis filter across the boundary, so the noise does not start from
    /// an impulse. `lsp_old` and the LSP average keep the spectral history the
    /// backward analysis has just been computed from. The excitation energy
    /// history is what a later erasure's gain control reads. And the gain
    /// predictor is re-seeded from the SID's own level a moment later, which
    /// clearing it here would then undo.
    ///
    /// Everything else goes, `nodataSeed` included — so a lost frame after a
    /// silence draws from a re-seeded generator, not from wherever the stream
    /// had got to.
    fn reset_for_comfort_noise(&mut self) {
        self.excitation = Excitation::new();
        // `SHARPMIN` -- zero, not the mid-scale value the encoder starts from.
        self.sharp = Word16(0);
        self.old_lag = Word16(40);
        self.lag_buffer = Word16(40);
        self.erasure_state = 0;
        self.previous = PreviousFrame::default();
        self.ltp_gains = [Word16(0); LTP_HISTORY];
        self.smoother.reset_for_comfort_noise();
        self.lsf = LsfDecoder::at_reset();
        self.pitch_concealer = PitchGainConcealer::new();
        self.code_concealer = CodeGainConcealer::new();
        self.detector = SourceDetector::new();
        self.nodata_seed = conceal::NODATA_SEED_INIT;
        self.dispersion = PhaseDispersion::new();
    }

    // ----------------------------------------------------------------- parts --

    /// The consecutive-erasure counter, `dec_amr.c`'s `st->state`.
    ///
    /// It climbs on every bad frame and drops to zero on a good one — except
    /// from six, where it drops to five instead, so that a single good frame in
    /// a long erasure does not undo the whole attenuation.
    fn advance_erasure_state(&mut self, bad: bool) {
        self.erasure_state = if bad {
            (self.erasure_state + 1).min(6)
        } else if self.erasure_state == 6 {
            5
        } else {
            0
        };
    }

    /// LSF dequantisation and interpolation to four subframe filters.
    fn decode_spectrum(
        &mut self,
        ctx: &mut DspContext,
        mode_index: u8,
        params: &[u16],
        bad: bool,
    ) -> [Word16; AZ_SIZE] {
        if mode_index == MR122 {
            let (mid, new) = self.lsf.decode_pair(&params[..5], bad);
            let az = interpolate_lsp_mid(ctx, &self.lsp_old, &mid, &new);
            self.lsp_old = new;
            az
        } else {
            let new = self.lsf.decode(mode_index, &params[..3], bad);
            let az = interpolate_lsp(ctx, &self.lsp_old, &new);
            self.lsp_old = new;
            az
        }
    }

    /// One subframe's pitch lag, including the bad-frame substitution.
    fn decode_lag(
        &mut self,
        ctx: &mut DspContext,
        mode_index: u8,
        index: u16,
        subframe: usize,
        bad: bool,
    ) -> PitchLag {
        let resolution = LagResolution::for_mode(mode_index);
        let delta = is_delta_coded(mode_index, subframe);
        let index = Word16(i16::try_from(index).unwrap_or(i16::MAX));

        if mode_index == MR122 {
            let lag = if delta {
                delta_lag_1_6(ctx, index, self.old_lag)
            } else {
                absolute_lag(ctx, index, resolution)
            };
            // 12.2 has no graceful degradation: on a bad frame, or on one of
            // the three unused delta codewords, it repeats the previous lag
            // outright.
            if bad || (delta && index.0 >= 61) {
                self.lag_buffer = lag.integer;
                return PitchLag::integral(self.old_lag, resolution);
            }
            return lag;
        }

        // The window and the decoders read the lag *before* the bad-frame
        // increment below.
        let window = delta_window(ctx, mode_index, self.old_lag);
        let lag = if delta {
            delta_lag_1_3(ctx, index, window, delta_coding(mode_index, self.old_lag))
        } else {
            absolute_lag(ctx, index, resolution)
        };
        self.lag_buffer = lag.integer;

        if !bad {
            return lag;
        }

        // Graceful degradation: lengthen the repeated period by one sample per
        // erased frame, so a long erasure drifts flat rather than holding one
        // pitch. In background noise the received lag is preferred instead —
        // there is no pitch to hold, and the extrapolation would invent one.
        if self.old_lag.0 < PIT_MAX {
            self.old_lag = add(ctx, self.old_lag, Word16(1));
        }
        let noisy = self.detector.background_noise()
            && self.detector.voiced_hangover().0 > 4
            && mode_index <= 2;
        PitchLag::integral(
            if noisy { self.lag_buffer } else { self.old_lag },
            resolution,
        )
    }

    /// 12.2's pitch gain, which is read before the codevector.
    fn decode_pitch_gain_12k2(
        &mut self,
        ctx: &mut DspContext,
        index: u16,
        bad: bool,
        quality: FrameQuality,
    ) -> Word16 {
        let gain = if bad {
            self.pitch_concealer.conceal(ctx, self.erasure_state)
        } else {
            decode_pitch_gain(ctx, MR122, index)
        };
        self.pitch_concealer.update(ctx, quality.bad, gain)
    }

    /// The rate's algebraic codevector, advancing `cursor` past its parameters.
    fn decode_codebook(
        ctx: &mut DspContext,
        mode_index: u8,
        params: &[u16],
        cursor: &mut usize,
        subframe: usize,
    ) -> super::codebook::Codevector {
        let book = match mode_index {
            0 | 1 => {
                let positions = params[*cursor];
                let signs = params[*cursor + 1];
                *cursor += 2;
                FixedCodebook::TwoPulses9Bit {
                    subframe: u8::try_from(subframe).expect("0..=3"),
                    signs,
                    positions,
                }
            }
            2 => {
                let positions = params[*cursor];
                let signs = params[*cursor + 1];
                *cursor += 2;
                FixedCodebook::TwoPulses11Bit { signs, positions }
            }
            3 => {
                let positions = params[*cursor];
                let signs = params[*cursor + 1];
                *cursor += 2;
                FixedCodebook::ThreePulses14Bit { signs, positions }
            }
            4 | 5 => {
                let positions = params[*cursor];
                let signs = params[*cursor + 1];
                *cursor += 2;
                FixedCodebook::FourPulses17Bit { signs, positions }
            }
            MR102 => {
                let mut fields = [0u16; 7];
                fields.copy_from_slice(&params[*cursor..*cursor + 7]);
                *cursor += 7;
                FixedCodebook::EightPulses31Bit(fields)
            }
            _ => {
                let mut fields = [0u16; 10];
                fields.copy_from_slice(&params[*cursor..*cursor + 10]);
                *cursor += 10;
                FixedCodebook::TenPulses35Bit(fields)
            }
        };
        book.decode(ctx)
    }

    /// The subframe's gains, and the sharpening factor derived from the pitch
    /// gain, advancing `cursor` past the gain parameters.
    #[allow(clippy::too_many_arguments)]
    fn decode_gains(
        &mut self,
        ctx: &mut DspContext,
        mode_index: u8,
        params: &[u16],
        cursor: &mut usize,
        code: &[Word16; L_SUBFR],
        even: bool,
        gain_pitch_12k2: Word16,
        quality: FrameQuality,
        shared_gain_index: &mut u16,
    ) -> (SubframeGains, Word16) {
        let bad = quality.bad.current;

        let gains = match mode_index {
            // 4.75 shares one index across two subframes: the even subframe
            // reads it, the odd one re-uses the same value. The odd subframe
            // still runs the whole decode, because the predictor advances.
            0 => {
                if even {
                    *shared_gain_index = params[*cursor];
                    *cursor += 1;
                }
                let index = *shared_gain_index;
                if bad {
                    self.conceal_gains(ctx, quality)
                } else {
                    let g = decode_joint(ctx, &mut self.predictor, 0, index, code, even);
                    self.commit_gains(ctx, quality, g)
                }
            }
            1..=4 | MR102 => {
                let index = params[*cursor];
                *cursor += 1;
                if bad {
                    self.conceal_gains(ctx, quality)
                } else {
                    let g = decode_joint(ctx, &mut self.predictor, mode_index, index, code, even);
                    self.commit_gains(ctx, quality, g)
                }
            }
            MR795 => {
                let pitch_index = params[*cursor];
                let code_index = params[*cursor + 1];
                *cursor += 2;
                let pitch = if bad {
                    self.pitch_concealer.conceal(ctx, self.erasure_state)
                } else {
                    decode_pitch_gain(ctx, MR795, pitch_index)
                };
                let pitch = self.pitch_concealer.update(ctx, quality.bad, pitch);
                let code_gain = if bad {
                    self.code_concealer
                        .conceal(ctx, &mut self.predictor, self.erasure_state)
                } else {
                    decode_code_gain(ctx, &mut self.predictor, MR795, code_index, code)
                };
                let code_gain = self.code_concealer.update(ctx, quality.bad, code_gain);
                SubframeGains {
                    pitch,
                    code: code_gain,
                }
            }
            _ => {
                // 12.2: the pitch gain was read before the codevector.
                let index = params[*cursor];
                *cursor += 1;
                let code_gain = if bad {
                    self.code_concealer
                        .conceal(ctx, &mut self.predictor, self.erasure_state)
                } else {
                    decode_code_gain(ctx, &mut self.predictor, MR122, index, code)
                };
                let code_gain = self.code_concealer.update(ctx, quality.bad, code_gain);
                SubframeGains {
                    pitch: gain_pitch_12k2,
                    code: code_gain,
                }
            }
        };

        // 12.2 sharpens with the pitch gain it read earlier and does not clamp
        // here; every other rate clamps to SHARPMAX.
        let sharpening = if mode_index == MR122 {
            gains.pitch
        } else if sub(ctx, gains.pitch, Word16(SHARPMAX)).0 > 0 {
            Word16(SHARPMAX)
        } else {
            gains.pitch
        };

        (gains, sharpening)
    }

    /// Both gains from their concealment generators.
    fn conceal_gains(&mut self, ctx: &mut DspContext, quality: FrameQuality) -> SubframeGains {
        let pitch = self.pitch_concealer.conceal(ctx, self.erasure_state);
        let code = self
            .code_concealer
            .conceal(ctx, &mut self.predictor, self.erasure_state);
        SubframeGains {
            pitch: self.pitch_concealer.update(ctx, quality.bad, pitch),
            code: self.code_concealer.update(ctx, quality.bad, code),
        }
    }

    /// Record decoded gains in both concealers, which may limit them.
    fn commit_gains(
        &mut self,
        ctx: &mut DspContext,
        quality: FrameQuality,
        gains: SubframeGains,
    ) -> SubframeGains {
        SubframeGains {
            pitch: self.pitch_concealer.update(ctx, quality.bad, gains.pitch),
            code: self.code_concealer.update(ctx, quality.bad, gains.code),
        }
    }

    /// A copy of the adaptive-codebook vector scaled by the sharpening factor.
    ///
    /// Only built when the factor exceeds 1.0 in Q15, which is the reference's
    /// own gate. It is later blended into the enhanced excitation and matched
    /// back to its energy.
    fn pitch_sharpened_copy(
        &self,
        ctx: &mut DspContext,
        mode_index: u8,
        sharpening: Word16,
        gain_pitch: Word16,
    ) -> [Word16; L_SUBFR] {
        let mut out = [Word16(0); L_SUBFR];
        for (slot, &sample) in out.iter_mut().zip(self.excitation.subframe()) {
            let scaled = mult(ctx, sample, sharpening);
            let mut acc = l_mult(ctx, scaled, gain_pitch);
            if mode_index == MR122 {
                acc = l_shr(ctx, acc, 1);
            }
            *slot = round(ctx, acc);
        }
        out
    }

    /// Cap the pitch gain during an erasure in background noise.
    ///
    /// Only the three lowest rates, and only when the previous or current frame
    /// was bad: a repeated high pitch gain in noise turns the concealment into
    /// a tone.
    fn limit_gain_in_noise(
        &self,
        ctx: &mut DspContext,
        mode_index: u8,
        gain_pitch: Word16,
        bad: bool,
    ) -> Word16 {
        if !((self.previous.bad || bad) && self.detector.background_noise() && mode_index <= 2) {
            return gain_pitch;
        }
        let mut gain = gain_pitch;
        if sub(ctx, gain, Word16(12288)).0 > 0 {
            let excess = sub(ctx, gain, Word16(12288));
            let halved = shr(ctx, excess, 1);
            gain = add(ctx, halved, Word16(12288));
        }
        if sub(ctx, gain, Word16(14745)).0 > 0 {
            gain = Word16(14745);
        }
        gain
    }

    /// Whether phase dispersion is forced to maximum this subframe.
    const fn locks_dispersion(&self, mode_index: u8, bad: bool) -> bool {
        mode_index <= 2
            && self.detector.voiced_hangover().0 > 3
            && self.detector.background_noise()
            && bad
    }

    /// Overwrite the excitation history's current subframe with the total.
    ///
    /// This is what the *next* subframe's adaptive codebook reads, and it is
    /// deliberately not what the synthesis filter consumes.
    fn form_total_excitation(
        &mut self,
        ctx: &mut DspContext,
        pitch_factor: Word16,
        gain_code: Word16,
        code: &[Word16; L_SUBFR],
        shift: i16,
    ) {
        let mut totals = [Word16(0); L_SUBFR];
        for (i, slot) in totals.iter_mut().enumerate() {
            let mut acc = l_mult(ctx, self.excitation.subframe()[i], pitch_factor);
            acc = l_mac(ctx, acc, code[i], gain_code);
            acc = super::basicop::shift::l_shl(ctx, acc, shift);
            *slot = round(ctx, acc);
        }
        self.excitation.subframe_mut().copy_from_slice(&totals);
    }

    /// The excitation's RMS, scaled the way `Ex_ctrl` expects it.
    fn excitation_energy(ctx: &mut DspContext, excitation: &[Word16; L_SUBFR]) -> Word16 {
        let acc = l_sum_sq(ctx, excitation.iter().copied());
        let acc = l_shr(ctx, acc, 1);
        let (root, exp) = sqrt_l_exp(ctx, acc);
        let denormalised = l_shr(ctx, root, (exp >> 1) + 15);
        extract_l(l_shr(ctx, denormalised, 2))
    }

    /// Run the excitation-control module, if this frame qualifies.
    fn run_excitation_control(
        &self,
        ctx: &mut DspContext,
        mode_index: u8,
        excitation: &mut [Word16; L_SUBFR],
        energy: Word16,
        quality: FrameQuality,
    ) {
        let armed = mode_index <= 2
            && self.detector.voiced_hangover().0 > 5
            && self.detector.background_noise()
            && self.erasure_state < 4
            && (quality.degraded.both() || quality.bad.either());
        if !armed {
            return;
        }
        // "Careful" means the frame is only degraded, not lost: the bits are
        // usable, so the rescale is capped rather than allowed its full range.
        let careful = quality.degraded.current && !quality.bad.current;
        control_excitation(
            ctx,
            excitation,
            energy,
            &self.energy_history,
            self.detector.voiced_hangover(),
            self.previous.bad,
            careful,
        );
    }

    /// Push this subframe's energy, unless the frame is being concealed in
    /// noise — in which case the history must not learn from it.
    fn update_energy_history(&mut self, energy: Word16, quality: FrameQuality) {
        let frozen =
            self.detector.background_noise() && quality.bad.either() && self.erasure_state < 4;
        if frozen {
            return;
        }
        self.energy_history.copy_within(1.., 0);
        self.energy_history[EXC_ENERGY_HIST - 1] = energy;
    }

    /// Synthesis filtering, with the reference's overflow-retry protocol.
    ///
    /// The flag is cleared immediately before the filter so the test sees only
    /// this call's overflow. On overflow the *whole* 194-sample excitation
    /// history is divided by four and the subframe is filtered again — the
    /// history and the present must share a scale, since the adaptive codebook
    /// reads across the boundary.
    fn synthesise(
        &mut self,
        ctx: &mut DspContext,
        a: &[Word16],
        excitation: &mut [Word16; L_SUBFR],
        sharpened: Option<[Word16; L_SUBFR]>,
        out: &mut [Word16],
    ) {
        // The sharpened copy, when there is one, is summed with the enhanced
        // excitation and then matched back to its energy — so the blend is what
        // the filter sees, while the history keeps the total excitation.
        let blended = sharpened.map(|mut copy| {
            for (slot, &enhanced) in copy.iter_mut().zip(excitation.iter()) {
                *slot = add(ctx, *slot, enhanced);
            }
            match_energy(ctx, excitation, &mut copy);
            copy
        });
        let input: &[Word16] = blended.as_ref().map_or(&excitation[..], |b| &b[..]);

        ctx.reset_flags();
        let memory = synthesis_filter(ctx, a, input, out, &self.mem_syn);

        if ctx.overflow {
            for sample in self.excitation.all_mut() {
                *sample = shr(ctx, *sample, 2);
            }
            for sample in excitation.iter_mut() {
                *sample = shr(ctx, *sample, 2);
            }
            // The retry updates the memory; the reference passes `update = 1`
            // here where the first attempt passed 0 and copied by hand.
            self.mem_syn = synthesis_filter(ctx, a, excitation, out, &self.mem_syn);
        } else {
            self.mem_syn = memory;
        }
    }
}
