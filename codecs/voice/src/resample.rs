//! The one resampler: mono audio from any rate to the rate an encoder takes (8 kHz for AMR-NB,
//! 8 or 16 kHz for MP3 speech).
//!
//! **Filter.** A windowed-sinc low-pass FIR (Kaiser window, β = [`KAISER_BETA`]) evaluated as a
//! polyphase filter bank. Its cutoff (the −6 dB point) is [`CUTOFF`] × the lower of the two
//! Nyquist frequencies and its half-length [`ZERO_CROSSINGS`] zero crossings of that sinc (12.6 ms
//! at 8 kHz out), so its transition band is about 360 Hz wide and ends at the lower Nyquist
//! frequency. Measured at 8 kHz out (and the same, scaled, at 16 kHz): flat (±0.05 dB) to 3.6 kHz,
//! −0.6 dB at 3.72 kHz, −6 dB at 3.82 kHz, −24 dB at 3.92 kHz, and more than 75 dB down from
//! 4.08 kHz (the tests below assert 75 dB; 44.1 → 8 kHz measures −75.7 dB at 4.12 kHz).
//! That is close enough to sox's default `rate` (bandwidth 95 %) that the two agree on speech
//! with an SNR over 40 dB (codecs/voice/tests/encode.rs asserts 40; 45–50 dB is typical). Each
//! phase is normalised to a DC gain of exactly 1.
//!
//! **Phases.** The ratio `out/in` reduced by its GCD gives `L` phases (80 for 44.1 → 8 kHz);
//! when `L` is more than [`MAX_PHASES`] (rates with no common factor), each output sample takes
//! the nearest of [`MAX_PHASES`] phases: a timing error of at most 1/2048 of an input sample.
//!
//! **Delay: none.** The filter is linear-phase and centred: output sample `j` is the input
//! signal at time `j / out_rate` exactly (as with sox's `rate`, which also compensates its
//! filter's delay), so the output needs no alignment and is `ceil(n × out / in)` samples long
//! for `n` input samples. Samples before the start and after the end are taken as silence.
//!
//! Cost per output sample: about `ZERO_CROSSINGS × in / (CUTOFF × min(in, out) / 2)` taps —
//! 554 multiply-adds at 44.1 → 8 kHz, about 100 at 8 → 16 kHz.

use std::f64::consts::PI;

/// Cutoff (−6 dB) as a fraction of the lower Nyquist frequency.
pub const CUTOFF: f64 = 0.955;
/// Zero crossings of the sinc on each side of the centre (the filter's half-length).
pub const ZERO_CROSSINGS: usize = 48;
/// The Kaiser window's β (the filter's stop band is more than 75 dB down: see the module docs).
pub const KAISER_BETA: f64 = 7.0;
/// The most filter phases kept; ratios that reduce to more take the nearest of these.
pub const MAX_PHASES: usize = 1024;

/// The zeroth-order modified Bessel function of the first kind (the Kaiser window's), by its
/// power series.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, q) = (1.0, 1.0, x * x / 4.0);
    for k in 1..64 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-16 {
            break;
        }
    }
    sum
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A resampler from one rate to another: the polyphase filter bank, built once.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// Phases used: `L`, or [`MAX_PHASES`].
    phases: usize,
    /// Taps per phase.
    taps: usize,
    /// Taps before the centre sample (`taps / 2 - 1`).
    before: usize,
    /// `phases × taps` coefficients, phase by phase.
    bank: Vec<f32>,
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz (both non-zero).
    pub fn new(from: u32, to: u32) -> Resampler {
        assert!(from > 0 && to > 0, "rates must be non-zero");
        let g = gcd(u64::from(from), u64::from(to));
        let phases = ((u64::from(to) / g) as usize).min(MAX_PHASES);
        // The sinc's frequency, in cycles per input sample (a half-cycle per zero crossing).
        let fc = CUTOFF * f64::from(from.min(to)) / f64::from(from) / 2.0;
        let half_width = ZERO_CROSSINGS as f64 / (2.0 * fc);
        let half = half_width.ceil() as usize;
        let taps = 2 * half;
        let mut bank = vec![0f32; phases * taps];
        let i0_beta = bessel_i0(KAISER_BETA);
        for p in 0..phases {
            let frac = p as f64 / phases as f64;
            let row = &mut bank[p * taps..(p + 1) * taps];
            let mut coeffs = vec![0f64; taps];
            for (k, c) in coeffs.iter_mut().enumerate() {
                // Tap k multiplies input sample `base - (half - 1) + k`; its distance from the
                // output's time `base + frac` is `tau`.
                let tau = frac + (half - 1) as f64 - k as f64;
                let x = tau / half_width;
                if x.abs() >= 1.0 {
                    continue;
                }
                let arg = 2.0 * fc * tau;
                let sinc = if arg == 0.0 {
                    1.0
                } else {
                    (PI * arg).sin() / (PI * arg)
                };
                *c = sinc * bessel_i0(KAISER_BETA * (1.0 - x * x).sqrt()) / i0_beta;
            }
            let sum: f64 = coeffs.iter().sum();
            for (r, c) in row.iter_mut().zip(&coeffs) {
                *r = (c / sum) as f32;
            }
        }
        Resampler {
            from,
            to,
            phases,
            taps,
            before: half - 1,
            bank,
        }
    }

    /// The number of output samples for `n` input samples: `ceil(n × to / from)`.
    pub fn output_len(&self, n: usize) -> usize {
        ((n as u64 * u64::from(self.to)).div_ceil(u64::from(self.from))) as usize
    }

    /// Resamples `input` (the whole signal; silence before and after it).
    pub fn process(&self, input: &[f32]) -> Vec<f32> {
        if self.from == self.to {
            return input.to_vec();
        }
        let n = self.output_len(input.len());
        let (from, to) = (u64::from(self.from), u64::from(self.to));
        let mut out = Vec::with_capacity(n);
        // The input padded with silence on both sides, so every tap reads a sample.
        let pad = self.taps;
        let mut padded = vec![0f32; input.len() + 2 * pad];
        padded[pad..pad + input.len()].copy_from_slice(input);
        for j in 0..n as u64 {
            let num = j * from;
            let mut base = (num / to) as usize;
            let mut phase = ((num % to) * self.phases as u64 + to / 2) / to;
            if phase as usize == self.phases {
                phase = 0;
                base += 1;
            }
            let phase = phase as usize;
            let start = pad + base - self.before;
            let window = &padded[start..start + self.taps];
            let coeffs = &self.bank[phase * self.taps..(phase + 1) * self.taps];
            out.push(dot(window, coeffs));
        }
        out
    }
}

/// The dot product of two equal-length slices, in eight running sums (independent chains the
/// CPU, or the wasm engine, can overlap; taps always come in pairs).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, c) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += x[k] * c[k];
        }
    }
    let tail: f32 = a_rest.iter().zip(b_rest).map(|(x, c)| x * c).sum();
    acc.iter().sum::<f32>() + tail
}

/// Resamples mono `input` from `from` Hz to `to` Hz with a [`Resampler`].
pub fn resample(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    Resampler::new(from, to).process(input)
}

/// Float samples to 16-bit, rounded and clamped.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        .map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (0.5 * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn lengths_and_identity() {
        let r = Resampler::new(44_100, 8000);
        assert_eq!(r.output_len(44_100), 8000);
        assert_eq!(r.output_len(1), 1);
        assert_eq!(r.process(&[0.0; 441]).len(), 80);
        assert_eq!(resample(&[0.5, 0.25], 8000, 8000), vec![0.5, 0.25]);
        assert_eq!(resample(&[], 48_000, 8000), Vec::<f32>::new());
        assert_eq!(resample(&[0.1; 1000], 8000, 16_000).len(), 2000);
    }

    #[test]
    fn passes_speech_band_and_stops_above_nyquist() {
        for (from, to) in [
            (44_100, 8000),
            (48_000, 16_000),
            (22_050, 8000),
            (8000, 16_000),
            (11_025, 8000),
            (7_999, 8000),
        ] {
            let n = from as usize;
            let nyq = f64::from(from.min(to)) / 2.0;
            let level = |freq: f64| {
                let out = resample(&tone(freq, from, n), from, to);
                let mid = &out[out.len() / 4..out.len() * 3 / 4];
                20.0 * (rms(mid) / (0.5 / 2f64.sqrt())).log10()
            };
            // The pass band: flat to 0.9 × Nyquist (3.6 kHz at 8 kHz out); −6 dB at the cutoff.
            for frac in [0.3, 0.6, 0.9] {
                let db = level(frac * nyq);
                assert!(
                    db.abs() < 0.05,
                    "{from}->{to}: {db:.2} dB at {frac} x Nyquist"
                );
            }
            let db = level(CUTOFF * nyq);
            assert!(
                (db + 6.0).abs() < 0.2,
                "{from}->{to}: {db:.2} dB at the cutoff"
            );
            if from > to {
                // Past the transition band: gone (≥ 75 dB down).
                for frac in [1.02, 1.1, 1.5] {
                    let db = level(frac * nyq);
                    assert!(db < -75.0, "{from}->{to}: {db:.1} dB at {frac} x Nyquist");
                }
            }
        }
    }

    #[test]
    fn no_delay_an_impulse_comes_out_where_it_went_in() {
        for (from, to) in [
            (44_100, 8000),
            (48_000, 16_000),
            (16_000, 8000),
            (8000, 16_000),
        ] {
            // An impulse at input sample k = m × from/to lands on output sample m.
            let g = gcd(u64::from(from), u64::from(to)) as usize;
            let step = from as usize / g;
            let k = step * 7;
            let mut x = vec![0f32; k * 2 + 1000];
            x[k] = 1.0;
            let y = resample(&x, from, to);
            let peak = y
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert_eq!(peak, k * to as usize / from as usize, "{from}->{to}");
        }
    }
}
