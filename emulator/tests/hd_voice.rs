//! `GET /cgi-bin/media/get/jssdk` over real HTTP: WeChat HD voice (Speex wideband quality 7,
//! headerless 60-byte frames) made from the AMR-NB fixtures in `codecs/voice/tests/fixtures/`, checked
//! by decoding it with Debian's libspeex and comparing with opencore-amrnb's decoding of the AMR
//! (the `.amr.s16` files next to them).
//!
//! The libspeex decoder is declared here over FFI rather than borrowed from the client crate:
//! the emulator shares no code with the client, and libspeex is the reference.
#![allow(
    unsafe_code,
    reason = "calls Debian's libspeex decoder, the reference, over FFI"
)]

mod common;

use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;

use common::{samples, Emu};

#[repr(C)]
struct SpeexBits {
    chars: *mut c_char,
    nb_bits: c_int,
    char_ptr: c_int,
    bit_ptr: c_int,
    owner: c_int,
    overflow: c_int,
    buf_size: c_int,
    reserved1: c_int,
    reserved2: *mut c_void,
}

extern "C" {
    fn speex_lib_get_mode(mode: c_int) -> *const c_void;
    fn speex_decoder_init(mode: *const c_void) -> *mut c_void;
    fn speex_decoder_destroy(state: *mut c_void);
    fn speex_decoder_ctl(state: *mut c_void, request: c_int, ptr: *mut c_void) -> c_int;
    fn speex_decode_int(state: *mut c_void, bits: *mut SpeexBits, out: *mut i16) -> c_int;
    fn speex_bits_init(bits: *mut SpeexBits);
    fn speex_bits_destroy(bits: *mut SpeexBits);
    fn speex_bits_read_from(bits: *mut SpeexBits, data: *const c_char, len: c_int);
}

/// Decodes headerless 60-byte wideband frames to 16 kHz PCM with libspeex (perceptual
/// enhancement off, so the output follows the coded waveform).
fn speex_decode(data: &[u8]) -> Vec<i16> {
    assert_eq!(data.len() % 60, 0);
    let mut out = Vec::with_capacity(data.len() / 60 * 320);
    // SAFETY: mode 1 (wideband) exists; the state and bits are created and destroyed here;
    // each frame is 60 live bytes; each decode writes 320 samples into `pcm`.
    unsafe {
        let state = speex_decoder_init(speex_lib_get_mode(1));
        assert!(!state.is_null());
        let mut enh: c_int = 0;
        speex_decoder_ctl(state, 0, (&raw mut enh).cast()); // SPEEX_SET_ENH
        let mut bits: SpeexBits = std::mem::zeroed();
        speex_bits_init(&raw mut bits);
        for frame in data.chunks_exact(60) {
            speex_bits_read_from(&raw mut bits, frame.as_ptr().cast(), 60);
            let mut pcm = [0i16; 320];
            assert_eq!(
                speex_decode_int(state, &raw mut bits, pcm.as_mut_ptr()),
                0,
                "libspeex refused a frame"
            );
            out.extend_from_slice(&pcm);
        }
        speex_bits_destroy(&raw mut bits);
        speex_decoder_destroy(state);
    }
    out
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../codecs/voice/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s16(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(2)
        .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]])))
        .collect()
}

/// 16 kHz to 8 kHz: a short low-pass (1 2 1)/4, then every other sample.
fn to_8k(wb: &[i16]) -> Vec<f64> {
    let x = |i: usize| f64::from(wb.get(i).copied().unwrap_or(0));
    (0..wb.len() / 2)
        .map(|n| {
            let i = 2 * n;
            (x(i.saturating_sub(1)) + 2.0 * x(i) + x(i + 1)) / 4.0
        })
        .collect()
}

/// The lag (in samples, `b` behind `a`) with the highest normalised cross-correlation.
fn best_lag(a: &[f64], b: &[f64], max: usize) -> usize {
    (0..=max)
        .max_by(|&l1, &l2| {
            let c = |l: usize| {
                let (mut ab, mut bb) = (0.0, 0.0);
                for (i, x) in a.iter().enumerate() {
                    let y = b.get(i + l).copied().unwrap_or(0.0);
                    ab += x * y;
                    bb += y * y;
                }
                ab / bb.sqrt().max(1.0)
            };
            c(l1).total_cmp(&c(l2))
        })
        .unwrap()
}

/// Per-20 ms log energies (dB) at 8 kHz.
fn envelope(x: &[f64]) -> Vec<f64> {
    x.chunks(160)
        .map(|c| 10.0 * (c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64 + 1.0).log10())
        .collect()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        ab += (x - ma) * (y - mb);
        aa += (x - ma) * (x - ma);
        bb += (y - mb) * (y - mb);
    }
    ab / (aa * bb).sqrt()
}

/// Fetches the HD voice of `amr` and checks the answer's shape; returns its bytes.
fn fetch_hd(emu: &Emu, token: &str, amr: &[u8]) -> Vec<u8> {
    let id = emu.upload_ok(token, "voice", "v.amr", amr);
    let raw = emu.raw_get(&format!(
        "/cgi-bin/media/get/jssdk?access_token={token}&media_id={id}"
    ));
    assert_eq!(raw.status_line, "HTTP/1.1 200 OK");
    assert!(
        raw.has_line("Content-Type: voice/speex"),
        "{:?}",
        raw.header_lines
    );
    assert!(raw.has_line(&format!(
        "Content-disposition: attachment; filename=\"{id}.speex\""
    )));
    assert_eq!(raw.content_length(), raw.body.len());
    raw.body
}

#[test]
fn hd_voice_is_speech_like_speex_of_the_same_recording() {
    let emu = Emu::start();
    let token = emu.token();
    for name in [
        "amr-mode0.amr",
        "amr-mode4.amr",
        "amr-mode7.amr",
        "amr-damaged.amr",
    ] {
        let amr = fixture(name);
        let reference = s16(&fixture(&format!("{name}.s16"))); // opencore, 8 kHz
        let hd = fetch_hd(&emu, &token, &amr);
        assert_eq!(hd.len() % 60, 0, "{name}");
        let frames = hd.len() / 60;
        let expected = reference.len() / 160;
        assert!(
            frames.abs_diff(expected) <= 1,
            "{name}: {frames} frames for {expected} frames of audio"
        );
        // Deterministic.
        assert_eq!(fetch_hd(&emu, &token, &amr), hd, "{name}");

        let decoded = to_8k(&speex_decode(&hd));
        let lag = best_lag(&reference, &decoded, 200);
        let aligned: Vec<f64> = (0..reference.len())
            .map(|i| decoded.get(i + lag).copied().unwrap_or(0.0))
            .collect();
        let signal: f64 = reference.iter().map(|x| x * x).sum();
        let noise: f64 = reference
            .iter()
            .zip(&aligned)
            .map(|(x, y)| (x - y) * (x - y))
            .sum();
        let snr = 10.0 * (signal / noise).log10();
        let energy_ratio = 10.0 * (aligned.iter().map(|y| y * y).sum::<f64>() / signal).log10();
        let env = correlation(&envelope(&reference), &envelope(&aligned));
        eprintln!(
            "{name}: {frames} frames, lag {lag} samples at 8 kHz, SNR {snr:.1} dB, \
             energy {energy_ratio:+.2} dB, envelope correlation {env:.3}"
        );
        assert!(env > 0.95, "{name}: envelope correlation {env}");
        assert!(energy_ratio.abs() < 2.0, "{name}: energy {energy_ratio} dB");
        assert!(snr > 5.0, "{name}: SNR {snr} dB");
    }
}

#[test]
fn hd_voice_of_tiny_and_non_amr_nb_voice() {
    let emu = Emu::start();
    let token = emu.token();
    // Two MR122 frames of arbitrary bits: two HD frames.
    assert_eq!(fetch_hd(&emu, &token, &samples::amr()).len(), 120);
    // The header alone: no audio, an empty file.
    assert_eq!(fetch_hd(&emu, &token, b"#!AMR\n").len(), 0);
    // A record cut short at the end is dropped.
    let mut cut = samples::amr();
    cut.truncate(cut.len() - 1);
    assert_eq!(fetch_hd(&emu, &token, &cut).len(), 60);
    // MP3 and AMR-WB have no HD rendition: 40007.
    for (name, data) in [("v.mp3", samples::mp3_id3()), ("v.amr", samples::amr_wb())] {
        let id = emu.upload_ok(&token, "voice", name, &data);
        let resp = emu.get(&format!(
            "/cgi-bin/media/get/jssdk?access_token={token}&media_id={id}"
        ));
        assert_eq!(resp.errcode(), 40007, "{name}");
        // The plain download still answers the file.
        assert_eq!(emu.media_get(&token, &id).body, data);
    }
}
