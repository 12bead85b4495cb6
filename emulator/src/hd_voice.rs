//! WeChat HD voice (`/cgi-bin/media/get/jssdk`) made from a stored AMR-NB recording, the way
//! WeChat serves JSSDK voice: the AMR decoded to 8 kHz PCM (opencore-amrnb), upsampled to
//! 16 kHz, and encoded as Speex wideband at quality 7 (libspeex) into headerless consecutive
//! 60-byte frames, one per 20 ms. Deterministic: the same AMR always gives the same bytes.
//!
//! Memory is bounded by the input: one frame of PCM at a time, and the output (60 bytes per
//! 20 ms) is cut at [`MAX_FRAMES`].

use crate::codec::{AmrDecoder, SpeexWbEncoder, AMR_FRAME_SAMPLES, WB_FRAME_SAMPLES};

/// Bytes of one HD voice frame: quality 7 wideband codes 476 bits, which the terminator bits
/// libspeex inserts pad to exactly 60 bytes.
pub(crate) const FRAME_BYTES: usize = 60;
/// The Speex quality WeChat's HD voice uses.
pub(crate) const QUALITY: i32 = 7;
/// Most frames transcoded: 10 minutes (WeChat refuses voice longer than 60 s at upload; the
/// emulator does not, so a longer AMR is cut here rather than growing without bound).
pub(crate) const MAX_FRAMES: usize = 30_000;

/// Bytes after the header byte of each AMR-NB frame type (opencore-amrnb's table: MR475..MR122,
/// SID, three foreign SIDs, reserved, NO_DATA).
const AMR_SIZES: [usize; 16] = [12, 13, 15, 17, 19, 20, 26, 31, 5, 6, 5, 5, 0, 0, 0, 0];

/// Why a voice cannot be made HD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HdError {
    /// Not AMR-NB storage format (`#!AMR\n`): MP3, AMR-WB.
    NotAmrNb,
    /// A codec could not be initialised (out of memory in C).
    Codec,
}

/// Transcodes an AMR-NB storage-format file to WeChat HD voice. A record cut short at the end
/// is dropped (as opencore's own tools do).
pub(crate) fn amr_to_hd_speex(amr: &[u8]) -> Result<Vec<u8>, HdError> {
    let body = amr.strip_prefix(b"#!AMR\n").ok_or(HdError::NotAmrNb)?;
    let mut decoder = AmrDecoder::new().ok_or(HdError::Codec)?;
    let mut encoder = SpeexWbEncoder::new(QUALITY).ok_or(HdError::Codec)?;
    let mut upsampler = Upsampler::new();
    let records = records(body).take(MAX_FRAMES);
    let mut out = Vec::with_capacity(records.clone().count() * FRAME_BYTES);
    let mut wb = Vec::with_capacity(2 * WB_FRAME_SAMPLES);
    let mut skip = 2 * Upsampler::DELAY;
    let mut frames = 0usize;
    let mut encode = |wb: &mut Vec<i16>, out: &mut Vec<u8>| {
        while wb.len() >= WB_FRAME_SAMPLES {
            let mut frame = [0i16; WB_FRAME_SAMPLES];
            frame.copy_from_slice(&wb[..WB_FRAME_SAMPLES]);
            wb.drain(..WB_FRAME_SAMPLES);
            let mut buf = [0u8; 200];
            // Quality 7 always writes 60 bytes; the buffer is zeroed should it ever write fewer.
            let n = encoder.encode(&frame, &mut buf);
            debug_assert_eq!(n, FRAME_BYTES);
            out.extend_from_slice(&buf[..FRAME_BYTES]);
        }
    };
    for record in records {
        let pcm = decoder.decode(record);
        frames += 1;
        for &x in &pcm {
            let pair = upsampler.push(f32::from(x));
            for y in pair {
                if skip > 0 {
                    skip -= 1;
                } else {
                    wb.push(to_i16(y));
                }
            }
        }
        encode(&mut wb, &mut out);
    }
    // Flush the filter's delay with silence, so the output is exactly twice the input.
    for _ in 0..Upsampler::DELAY {
        for y in upsampler.push(0.0) {
            if skip > 0 {
                skip -= 1;
            } else {
                wb.push(to_i16(y));
            }
        }
    }
    wb.resize(
        frames * WB_FRAME_SAMPLES - out.len() / FRAME_BYTES * WB_FRAME_SAMPLES,
        0,
    );
    encode(&mut wb, &mut out);
    debug_assert_eq!(out.len(), frames * FRAME_BYTES);
    Ok(out)
}

/// The storage-format records of an AMR-NB body (header byte included), stopping at the first
/// one cut short.
fn records(mut body: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    std::iter::from_fn(move || {
        let header = *body.first()?;
        let len = 1 + AMR_SIZES[usize::from((header >> 3) & 0x0F)];
        if body.len() < len {
            return None;
        }
        let (record, rest) = body.split_at(len);
        body = rest;
        Some(record)
    })
}

fn to_i16(y: f32) -> i16 {
    // `as` saturates; round to nearest for a deterministic, unbiased result.
    y.round() as i16
}

/// 2x upsampler: a 65-tap half-band windowed-sinc FIR (Blackman), in polyphase form. The even
/// outputs are the input delayed by [`Upsampler::DELAY`] samples; the odd ones interpolate
/// with the filter's 32 odd taps.
struct Upsampler {
    /// The odd taps, reversed: `taps[31 - m]` is h[2m+1], so it lines up with `window`.
    taps: [f32; Self::TAPS],
    /// The last 32 inputs twice over (a ring written at `pos` and `pos + 32`), so the newest 32
    /// are always the contiguous slice `history[pos + 1..pos + 33]`, oldest first.
    history: [f32; 2 * Self::TAPS],
    pos: usize,
}

impl Upsampler {
    /// Odd taps of the 65-tap filter (the even ones are zero but the centre).
    const TAPS: usize = 32;
    /// The filter's delay in input samples (half of its centre tap's index, 32).
    const DELAY: usize = 16;

    fn new() -> Self {
        let n = 2 * Self::TAPS + 1; // 65 taps, centre 32
        let centre = Self::TAPS as f64;
        let mut taps = [0f32; Self::TAPS];
        for m in 0..Self::TAPS {
            let i = (2 * m + 1) as f64;
            let t = (i - centre) / 2.0;
            let sinc = (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t);
            let phase = 2.0 * std::f64::consts::PI * i / (n - 1) as f64;
            let window = 0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos();
            taps[Self::TAPS - 1 - m] = (sinc * window) as f32;
        }
        Upsampler {
            taps,
            history: [0.0; 2 * Self::TAPS],
            pos: 0,
        }
    }

    /// Takes one 8 kHz sample; returns two 16 kHz samples (delayed by [`Self::DELAY`] inputs).
    fn push(&mut self, x: f32) -> [f32; 2] {
        self.pos = (self.pos + 1) % Self::TAPS;
        // The newest sample goes last in the window `history[pos + 1..=pos + 32]`.
        let newest = self.pos + Self::TAPS;
        self.history[newest] = x;
        self.history[self.pos] = x;
        let window = &self.history[self.pos + 1..=newest];
        // Even output: x[n - DELAY]. Odd output: the sum over m of h[2m+1] x[n-m].
        let even = window[Self::TAPS - 1 - Self::DELAY];
        let odd = window.iter().zip(&self.taps).map(|(x, h)| x * h).sum();
        [even, odd]
    }
}

const _: () = assert!(2 * AMR_FRAME_SAMPLES == WB_FRAME_SAMPLES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_stop_at_a_short_one() {
        // MR122 (31 bytes), NO_DATA (0), SID (5), then an MR122 cut short.
        let mut body = vec![0x3C];
        body.extend([0; 31]);
        body.push(0x7C);
        body.push(0x44);
        body.extend([0; 5]);
        body.push(0x3C);
        body.extend([0; 10]);
        let lens: Vec<usize> = records(&body).map(<[u8]>::len).collect();
        assert_eq!(lens, [32, 1, 6]);
    }

    #[test]
    fn upsampler_passes_low_tones_and_keeps_gain() {
        let mut up = Upsampler::new();
        let mut out = Vec::new();
        for n in 0..800 {
            let x = (2.0 * std::f32::consts::PI * 500.0 * n as f32 / 8000.0).sin() * 1000.0;
            out.extend(up.push(x));
        }
        // Compare with the ideal 16 kHz tone, delayed by 2 * DELAY output samples.
        let err: f32 = (200..1500)
            .map(|j| {
                let t = (j - 2 * Upsampler::DELAY) as f32;
                let ideal = (2.0 * std::f32::consts::PI * 500.0 * t / 16000.0).sin() * 1000.0;
                (out[j] - ideal).abs()
            })
            .fold(0.0, f32::max);
        assert!(err < 10.0, "max error {err}");
    }

    #[test]
    fn mp3_and_amr_wb_are_not_amr_nb() {
        assert_eq!(amr_to_hd_speex(b"ID3\x04"), Err(HdError::NotAmrNb));
        assert_eq!(amr_to_hd_speex(b"#!AMR-WB\n\x44"), Err(HdError::NotAmrNb));
    }

    #[test]
    fn frames_of_60_bytes_one_per_amr_frame_and_deterministic() {
        let mut amr = b"#!AMR\n".to_vec();
        for i in 0..50u8 {
            amr.push(0x3C);
            amr.extend((0..31).map(|k| k ^ i.wrapping_mul(37)));
        }
        let a = amr_to_hd_speex(&amr).unwrap();
        assert_eq!(a.len(), 50 * FRAME_BYTES);
        assert_eq!(a, amr_to_hd_speex(&amr).unwrap());
        assert_eq!(amr_to_hd_speex(b"#!AMR\n").unwrap(), Vec::<u8>::new());
    }
}
