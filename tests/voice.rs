//! The voice decoders against the reference decoders: opencore-amrnb (what `sox -t amr-nb`
//! decodes with) and libspeex (float build). Fixtures and the references' output are in
//! tests/fixtures/voice/, made by scripts/voice-fixtures; when the reference tools are
//! installed, the `live_*` tests also run them now on the same files.
//!
//! Run with `--nocapture` to see the figures.

#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wxmedia::voice::{self, VoiceError, VoiceFormat};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/voice")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s16(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// Checks a WAV file's RIFF header and returns (sample rate, samples).
fn parse_wav(wav: &[u8]) -> (u32, Vec<i16>) {
    assert!(wav.len() >= 44, "WAV shorter than its header");
    let u32_at = |i: usize| u32::from_le_bytes(wav[i..i + 4].try_into().unwrap());
    let u16_at = |i: usize| u16::from_le_bytes(wav[i..i + 2].try_into().unwrap());
    assert_eq!(&wav[0..4], b"RIFF");
    assert_eq!(u32_at(4) as usize, wav.len() - 8, "RIFF size");
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    assert_eq!(u32_at(16), 16, "fmt size");
    assert_eq!(u16_at(20), 1, "PCM");
    assert_eq!(u16_at(22), 1, "mono");
    let rate = u32_at(24);
    assert!(rate == 8000 || rate == 16000, "rate {rate}");
    assert_eq!(u32_at(28), rate * 2, "byte rate");
    assert_eq!(u16_at(32), 2, "block align");
    assert_eq!(u16_at(34), 16, "bits");
    assert_eq!(&wav[36..40], b"data");
    assert_eq!(u32_at(40) as usize, wav.len() - 44, "data size");
    (rate, s16(&wav[44..]))
}

/// How close `ours` is to `reference`: (samples that differ, SNR in dB; infinite if equal).
fn compare(ours: &[i16], reference: &[i16]) -> (usize, f64) {
    assert_eq!(ours.len(), reference.len(), "sample count");
    let (mut signal, mut noise, mut differ) = (0f64, 0f64, 0usize);
    for (&a, &b) in ours.iter().zip(reference) {
        let (a, b) = (f64::from(a), f64::from(b));
        signal += b * b;
        noise += (a - b) * (a - b);
        differ += usize::from(a != b);
    }
    let snr = if noise == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (signal / noise).log10()
    };
    (differ, snr)
}

fn report(name: &str, ours: &[i16], reference: &[i16]) -> f64 {
    let (differ, snr) = compare(ours, reference);
    if differ == 0 {
        eprintln!("{name}: bit-exact ({} samples)", ours.len());
    } else {
        eprintln!(
            "{name}: SNR {snr:.1} dB, {differ} of {} samples differ",
            ours.len()
        );
    }
    snr
}

const AMR_FIXTURES: [&str; 9] = [
    "amr-mode0.amr",
    "amr-mode1.amr",
    "amr-mode2.amr",
    "amr-mode3.amr",
    "amr-mode4.amr",
    "amr-mode5.amr",
    "amr-mode6.amr",
    "amr-mode7.amr",
    "amr-damaged.amr",
];

const SPEEX_FIXTURES: [&str; 2] = ["hd.speex", "hd-lenbyte.speex"];

#[test]
fn amr_matches_opencore_in_every_mode() {
    for name in AMR_FIXTURES {
        let input = fixture(name);
        assert_eq!(voice::detect_format(&input), Some(VoiceFormat::Amr));
        let (rate, ours) = parse_wav(&voice::decode_voice(&input, None).unwrap());
        assert_eq!(rate, 8000);
        let reference = s16(&fixture(&format!("{name}.s16")));
        let snr = report(name, &ours, &reference);
        assert!(snr >= 40.0, "{name}: SNR {snr:.1} dB < 40 dB");
    }
}

/// The fixtures really exercise DTX: SID and NO_DATA frames are present.
#[test]
fn amr_fixtures_carry_dtx_frames() {
    let sizes = [12, 13, 15, 17, 19, 20, 26, 31, 5, 0, 0, 0, 0, 0, 0, 0];
    for name in AMR_FIXTURES {
        let input = fixture(name);
        let (mut sid, mut no_data, mut i) = (0, 0, 6);
        while i < input.len() {
            let ft = usize::from(input[i] >> 3 & 15);
            sid += usize::from(ft == 8);
            no_data += usize::from(ft == 15);
            i += 1 + sizes[ft];
        }
        assert!(
            sid > 0 && no_data > 0,
            "{name}: {sid} SID, {no_data} NO_DATA"
        );
    }
}

fn which(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The reference run now, not its stored output: `sox -t amr-nb` on every AMR fixture.
#[test]
fn live_amr_matches_sox() {
    if !which("sox") {
        eprintln!("live_amr_matches_sox: sox not installed, skipped (scripts/setup installs it)");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("wxmedia-voice-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for name in AMR_FIXTURES {
        let out = tmp.join(format!("{name}.s16"));
        let status = Command::new("sox")
            .args(["-t", "amr-nb"])
            .arg(fixture_dir().join(name))
            .args(["-t", "s16"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success(), "sox failed on {name}");
        let reference = s16(&std::fs::read(&out).unwrap());
        let (_, ours) = parse_wav(&voice::decode_amr(&fixture(name)).unwrap());
        let snr = report(&format!("live sox {name}"), &ours, &reference);
        assert!(snr >= 40.0, "{name}: SNR {snr:.1} dB < 40 dB");
    }
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn speex_matches_libspeex() {
    let reference = s16(&fixture("hd.speex.s16"));
    for name in SPEEX_FIXTURES {
        let input = fixture(name);
        assert_eq!(voice::detect_format(&input), Some(VoiceFormat::SpeexHd));
        let (rate, ours) = parse_wav(&voice::decode_voice(&input, None).unwrap());
        assert_eq!(rate, 16000);
        let snr = report(name, &ours, &reference);
        assert!(snr >= 40.0, "{name}: SNR {snr:.1} dB < 40 dB");
    }
}
