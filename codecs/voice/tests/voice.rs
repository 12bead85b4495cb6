//! The voice decoders against the reference decoders: opencore-amrnb (what `sox -t amr-nb`
//! decodes with) and libspeex (float build). Fixtures and the references' output are in
//! tests/fixtures/, made by scripts/voice-fixtures; when the reference tools are
//! installed, the `live_*` tests also run them now on the same files.
//!
//! Run with `--nocapture` to see the figures.

#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;

use std::time::{Duration, Instant};
use wxmedia_testkit::{have, run, Rng, Scratch};

use wxmedia_codecs::{self as voice, speex, VoiceError, VoiceFormat};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
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
        // AMR-NB is fixed point: nothing short of bit-exact is a match.
        let snr = report(name, &ours, &reference);
        assert!(snr.is_infinite(), "{name}: not bit-exact (SNR {snr:.1} dB)");
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

const LIVE_TEXT: &str = "Seven slow ships sailed south. 微信语音。";

/// The reference tools run now on speech made now: espeak-ng, then sox (opencore-amrnb)
/// encodes and decodes every AMR mode, and we decode the same files.
#[test]
fn live_amr_matches_sox() {
    if !have("sox") || !have("espeak-ng") {
        eprintln!("live_amr_matches_sox: skipped, needs sox and espeak-ng (scripts/setup)");
        return;
    }
    let dir = Scratch::new("live-amr");
    let wav = dir.path("speech.wav");
    run(Command::new("espeak-ng").arg("-w").arg(&wav).arg(LIVE_TEXT));
    for mode in 0..8 {
        let amr = dir.path(&format!("m{mode}.amr"));
        let pcm = dir.path(&format!("m{mode}.s16"));
        run(Command::new("sox")
            .arg(&wav)
            .args([
                "-r",
                "8000",
                "-c",
                "1",
                "-C",
                &mode.to_string(),
                "-t",
                "amr-nb",
            ])
            .arg(&amr)
            .args(["pad", "0.4", "0.4"]));
        run(Command::new("sox")
            .args(["-t", "amr-nb"])
            .arg(&amr)
            .args(["-t", "s16"])
            .arg(&pcm));
        let reference = s16(&std::fs::read(&pcm).unwrap());
        let (_, ours) = parse_wav(&voice::decode_amr(&std::fs::read(&amr).unwrap()).unwrap());
        let snr = report(&format!("live AMR mode {mode}"), &ours, &reference);
        assert!(
            snr.is_infinite(),
            "mode {mode}: not bit-exact (SNR {snr:.1} dB)"
        );
    }
}

/// The same for HD Speex: ref/speexref.c built now against Debian's libspeex
/// encodes fresh speech in both framings and decodes it.
#[test]
fn live_speex_matches_libspeex() {
    let header = Path::new("/usr/include/speex/speex.h");
    if !have("gcc") || !have("sox") || !have("espeak-ng") || !header.exists() {
        eprintln!(
            "live_speex_matches_libspeex: skipped, needs gcc, libspeex-dev, sox, espeak-ng \
             (scripts/setup)"
        );
        return;
    }
    let dir = Scratch::new("live-speex");
    let tool = dir.path("speexref");
    run(Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&tool)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ref/speexref.c"))
        .arg("-lspeex"));
    let wav = dir.path("speech.wav");
    run(Command::new("espeak-ng").arg("-w").arg(&wav).arg(LIVE_TEXT));
    let raw = dir.path("speech.s16");
    run(Command::new("sox")
        .arg(&wav)
        .args(["-r", "16000", "-c", "1", "-t", "s16"])
        .arg(&raw));
    for (flag, name) in [
        (None, "fixed 60-byte frames"),
        (Some("--lenbyte"), "length bytes"),
    ] {
        let spx = dir.path("hd.speex");
        let pcm = dir.path("hd.s16");
        run(Command::new(&tool)
            .arg("enc")
            .args(flag)
            .arg(&raw)
            .arg(&spx));
        run(Command::new(&tool)
            .arg("dec")
            .args(flag)
            .arg(&spx)
            .arg(&pcm));
        let input = std::fs::read(&spx).unwrap();
        let expected = if flag.is_some() {
            speex::SpeexFraming::LengthPrefixed
        } else {
            speex::SpeexFraming::Fixed60
        };
        assert_eq!(speex::detect_framing(&input), Some(expected), "{name}");
        let reference = s16(&std::fs::read(&pcm).unwrap());
        let (_, ours) = parse_wav(&voice::decode_speex_hd(&input).unwrap());
        let snr = report(&format!("live HD Speex, {name}"), &ours, &reference);
        assert!(snr >= 40.0, "{name}: SNR {snr:.1} dB < 40 dB");
    }
}

/// Decodes `input` every way and checks the outcome is an error or a well-formed WAV, in
/// bounded time. Returns how many decodes gave a WAV.
fn survives(input: &[u8]) -> usize {
    let mut ok = 0;
    for format in [None, Some(VoiceFormat::Amr), Some(VoiceFormat::SpeexHd)] {
        let start = Instant::now();
        let result = voice::decode_voice(input, format);
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(20),
            "{} bytes as {format:?} took {took:?}",
            input.len()
        );
        if let Ok(wav) = result {
            let (rate, samples) = parse_wav(&wav);
            let frame = if rate == 8000 { 160 } else { 320 };
            assert_eq!(samples.len() % frame, 0, "whole frames");
            assert!(samples.len() <= voice::MAX_FRAMES * frame);
            ok += 1;
        }
    }
    ok
}

#[test]
fn corrupt_input_is_an_error_or_a_wav_never_a_panic() {
    assert_eq!(voice::decode_voice(&[], None), Err(VoiceError::Empty));
    for other in [
        &b"RIFF....WAVE"[..],
        b"#!SILK_V3\x0c\x00",
        b"ID3\x04\x00",
        b"OggS\x00\x02",
    ] {
        assert_eq!(
            voice::decode_voice(other, None),
            Err(VoiceError::UnknownFormat)
        );
    }
    assert_eq!(
        voice::decode_voice(b"#!AMR-WB\n\x04", None),
        Err(VoiceError::BadHeader)
    );
    assert_eq!(
        voice::decode_voice(&vec![0u8; voice::MAX_INPUT_BYTES + 1], None),
        Err(VoiceError::TooLarge {
            len: voice::MAX_INPUT_BYTES + 1
        })
    );
    let mut rng = Rng(0x5eed_1234_abcd_0001);

    // Random bytes, bare, behind the AMR magic, and framed like HD Speex.
    for _ in 0..100 {
        let len = rng.below(2000);
        let junk = rng.bytes(len);
        survives(&junk);
        let mut amr = b"#!AMR\n".to_vec();
        amr.extend_from_slice(&junk);
        survives(&amr);
        let mut spx = junk.clone();
        for chunk in spx.chunks_mut(60) {
            chunk[0] = 0x30 | (chunk[0] & 0x07); // a narrowband mode-6 start
        }
        survives(&spx);
    }

    // Every fixture cut at many offsets (within its first second, which keeps the debug
    // build quick: what follows a cut is the same wherever it is), and with bytes changed.
    let names: Vec<&str> = AMR_FIXTURES
        .iter()
        .chain(&SPEEX_FIXTURES)
        .copied()
        .collect();
    for name in names {
        let input = fixture(name);
        let head = &input[..input
            .len()
            .min(if name.ends_with(".amr") { 1000 } else { 3100 })];
        for k in 0..40 {
            let cut = head.len() * k / 40 + rng.below(7);
            survives(&head[..cut.min(head.len())]);
        }
        for _ in 0..4 {
            let mut damaged = input.clone();
            for _ in 0..1 + rng.below(20) {
                let at = rng.below(damaged.len());
                damaged[at] = rng.next_u64() as u8;
            }
            survives(&damaged);
        }
    }

    // Reserved AMR frame types (9..=14) are refused where they stand.
    let good = fixture("amr-mode7.amr");
    for ft in 9u8..=14 {
        let mut bad = good.clone();
        bad[6 + 32 * 3] = ft << 3 | 0x04;
        assert!(matches!(
            voice::decode_amr(&bad),
            Err(VoiceError::BadFrame { .. })
        ));
    }
    // Invalid HD Speex modes (narrowband 9..=12) are refused.
    let mut bad = fixture("hd.speex");
    bad[600] = 0x48; // 0 1001 ...: narrowband mode 9
    assert!(matches!(
        voice::decode_speex_hd(&bad),
        Err(VoiceError::BadFrame { offset: 600, .. })
    ));
}

/// Megabytes of junk: refused as too large, or bounded by the frame cap.
#[test]
fn megabytes_of_junk_are_bounded() {
    let mut rng = Rng(42);
    let junk = rng.bytes(3 * 1024 * 1024);
    assert!(matches!(
        voice::decode_voice(&junk, None),
        Err(VoiceError::TooLarge { .. })
    ));
    // Just under the input cap: 2 MiB of one-byte NO_DATA frames would be 11 hours.
    let mut no_data = b"#!AMR\n".to_vec();
    no_data.resize(voice::MAX_INPUT_BYTES, 0x7c);
    assert_eq!(voice::decode_amr(&no_data), Err(VoiceError::TooLong));
    let mut speexish = junk[..voice::MAX_INPUT_BYTES].to_vec();
    speexish[0] = 0x30;
    assert_eq!(
        voice::decode_voice(&speexish, Some(VoiceFormat::SpeexHd)),
        Err(VoiceError::TooLong)
    );
    survives(&junk[..voice::MAX_INPUT_BYTES]);
}

#[test]
fn framing_is_detected() {
    let fixed = fixture("hd.speex");
    let prefixed = fixture("hd-lenbyte.speex");
    assert_eq!(
        speex::detect_framing(&fixed),
        Some(speex::SpeexFraming::Fixed60)
    );
    assert_eq!(
        speex::detect_framing(&prefixed),
        Some(speex::SpeexFraming::LengthPrefixed)
    );
    // A download cut mid-frame still detects and decodes (the partial frame is dropped).
    let cut = &prefixed[..prefixed.len() - 30];
    assert_eq!(
        speex::detect_framing(cut),
        Some(speex::SpeexFraming::LengthPrefixed)
    );
    let (_, samples) = parse_wav(&voice::decode_speex_hd(cut).unwrap());
    assert_eq!(samples.len(), (prefixed.len() / 61 - 1) * 320);
    assert_eq!(speex::detect_framing(b"#!AMR\n"), None);
    assert_eq!(speex::detect_framing(&[0xff; 120]), None);
}

/// Voice longer than WeChat allows (60 s) is refused before decoding; the label decides what is
/// voice, and the bytes only where the label says nothing.
#[test]
fn over_a_minute_is_refused_and_labels_decide_what_is_voice() {
    use voice::{format_by_label, format_of, Label};
    // 62 s of 12.2 kbit/s frames (32 bytes each, of silence): refused, and fast.
    let mut long = b"#!AMR\n".to_vec();
    for _ in 0..62 * 50 {
        long.push(0x3c);
        long.extend_from_slice(&[0u8; 31]);
    }
    assert_eq!(voice::decode_amr(&long), Err(VoiceError::TooLong));
    // 60 s decodes.
    long.truncate(6 + 60 * 50 * 32);
    let (rate, samples) = parse_wav(&voice::decode_amr(&long).unwrap());
    assert_eq!((rate, samples.len()), (8000, 60 * 8000));

    let amr = b"#!AMR\n\x3c";
    for (label, hd, bytes, want) in [
        ("audio/amr", false, &b"x"[..], Some(VoiceFormat::Amr)),
        ("voice/speex", false, b"x", Some(VoiceFormat::SpeexHd)),
        (
            "audio/x-speex-with-header-byte; rate=16000",
            false,
            b"x",
            Some(VoiceFormat::SpeexHd),
        ),
        (
            "application/octet-stream",
            true,
            b"x",
            Some(VoiceFormat::SpeexHd),
        ),
        // WeChat's quirk: AMR labelled text/plain, no disposition.
        ("text/plain", false, amr, Some(VoiceFormat::Amr)),
        ("", false, amr, Some(VoiceFormat::Amr)),
        ("application/json", false, amr, Some(VoiceFormat::Amr)),
        ("text/plain", false, b"hello", None),
        ("application/json", false, b"{\"errcode\":1}", None),
        ("audio/mpeg", false, b"ID3", None),
        ("image/jpeg", false, amr, None),
        ("video/mp4", false, amr, None),
    ] {
        assert_eq!(
            format_of(format_by_label(label, hd), bytes),
            want,
            "{label} {hd}"
        );
    }
    assert_eq!(format_by_label("IMAGE/PNG", false), Label::NotVoice);
    assert_eq!(format_by_label("text/plain", false), Label::Unsaid);
}
