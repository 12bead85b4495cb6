//! Encoding's front half against the reference tools, on live espeak-ng speech: WAV files that
//! sox writes (every sample format, stereo, WAVE_FORMAT_EXTENSIBLE) read to what sox reads them
//! to; the resampler against sox's `rate` (SNR ≥ 40 dB, no alignment: both have no delay); MP3
//! that sox and ffmpeg decode to the input's duration ± one frame.
//!
//! Run with `--nocapture` to see the figures.

#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};
use std::process::Command;

use wxmedia_testkit::{have, run, Scratch};

use wxmedia_codecs::input::read_wav;
use wxmedia_codecs::resample::{resample, Resampler};

const TEXT: &str = "Seven slow ships sailed south, and the fresh fish was sold. 微信语音。";

/// Speech from espeak-ng (22.05 kHz mono), in `dir`.
fn speech(dir: &Scratch) -> PathBuf {
    let wav = dir.path("speech.wav");
    run(Command::new("espeak-ng").arg("-w").arg(&wav).arg(TEXT));
    wav
}

/// What sox reads `file` to: mono float samples at the file's own rate.
fn sox_samples(file: &Path, rate: Option<u32>) -> Vec<f32> {
    let mut cmd = Command::new("sox");
    cmd.arg(file).args(["-t", "f32", "-c", "1"]);
    if let Some(r) = rate {
        cmd.args(["-r", &r.to_string()]);
    }
    let raw = run(cmd.arg("-"));
    raw.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// SNR of `ours` against `reference` in dB over their common length (lengths must be within a
/// sample of each other).
fn snr(ours: &[f32], reference: &[f32]) -> f64 {
    assert!(
        ours.len().abs_diff(reference.len()) <= 1,
        "lengths {} vs {}",
        ours.len(),
        reference.len()
    );
    let (mut signal, mut noise) = (0f64, 0f64);
    for (&a, &b) in ours.iter().zip(reference) {
        signal += f64::from(b) * f64::from(b);
        noise += f64::from(a - b) * f64::from(a - b);
    }
    10.0 * (signal / noise).log10()
}

#[test]
fn wavs_sox_writes_read_as_sox_reads_them() {
    if !have("sox") || !have("espeak-ng") {
        eprintln!("skipped: needs sox and espeak-ng (scripts/setup)");
        return;
    }
    let dir = Scratch::new("wav-in");
    let src = speech(&dir);
    let cases: [(&str, &[&str]); 7] = [
        ("u8.wav", &["-e", "unsigned", "-b", "8"]),
        (
            "s16-stereo-44k.wav",
            &["-b", "16", "-c", "2", "-r", "44100"],
        ),
        ("s24-48k.wav", &["-b", "24", "-r", "48000"]),
        ("s32.wav", &["-e", "signed", "-b", "32"]),
        ("f32-stereo.wav", &["-e", "float", "-b", "32", "-c", "2"]),
        ("f64.wav", &["-e", "float", "-b", "64"]),
        // sox writes WAVE_FORMAT_EXTENSIBLE for more than two channels or more than 16 bits.
        ("ext-s24-4ch.wav", &["-b", "24", "-c", "4"]),
    ];
    for (name, args) in cases {
        let file = dir.path(name);
        run(Command::new("sox").arg(&src).args(args).arg(&file));
        let bytes = std::fs::read(&file).unwrap();
        let ours = read_wav(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let reference = sox_samples(&file, None);
        assert_eq!(ours.samples.len(), reference.len(), "{name}");
        let db = snr(&ours.samples, &reference);
        eprintln!(
            "{name}: rate {}, SNR {db:.1} dB against sox",
            ours.sample_rate
        );
        assert!(db > 60.0, "{name}: {db:.1} dB");
    }
}

#[test]
fn resampler_matches_sox_rate_without_delay() {
    if !have("sox") || !have("espeak-ng") {
        eprintln!("skipped: needs sox and espeak-ng (scripts/setup)");
        return;
    }
    let dir = Scratch::new("resample");
    let src = speech(&dir);
    let mut failed = Vec::new();
    for from in [8000u32, 11_025, 16_000, 22_050, 44_100, 48_000] {
        let file = dir.path(&format!("in-{from}.wav"));
        run(Command::new("sox")
            .arg(&src)
            .args(["-e", "float", "-b", "32", "-r", &from.to_string()])
            .arg(&file));
        let input = read_wav(&std::fs::read(&file).unwrap()).unwrap();
        for to in [8000u32, 16_000] {
            if to == from {
                continue;
            }
            let ours = resample(&input.samples, from, to);
            let reference = sox_samples(&file, Some(to));
            assert_eq!(
                ours.len(),
                Resampler::new(from, to).output_len(input.samples.len())
            );
            let db = snr(&ours, &reference);
            // The delay: the lag (within ±8 output samples) at which ours best matches sox's.
            let lag = (-8i64..=8)
                .max_by(|&a, &b| {
                    let score = |lag: i64| -> f64 {
                        let n = ours.len().min(reference.len()) as i64;
                        (16..n - 16)
                            .map(|i| {
                                f64::from(ours[i as usize])
                                    * f64::from(reference[(i + lag) as usize])
                            })
                            .sum()
                    };
                    score(a).total_cmp(&score(b))
                })
                .unwrap();
            eprintln!(
                "{from} -> {to}: {} samples, SNR {db:.1} dB against sox, best lag {lag}",
                ours.len()
            );
            if lag != 0 || db < 40.0 {
                failed.push(format!("{from} -> {to}: lag {lag} (the documented delay is zero), SNR {db:.1} dB (< 40 dB?)"));
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// MP3 of speech at every input rate: ffmpeg decodes it to the input's duration ± one frame
/// (576 samples at MPEG-2/2.5 rates), trimming the encoder's delay and padding by the gapless
/// (LAME) tag. sox (libmad) ignores that tag — it decodes LAME's own files 1173 samples long at
/// 8 kHz — so it gets the input, plus the codec's delay (529 + 576 samples), plus less than a
/// frame of padding.
#[cfg(feature = "mp3")]
#[test]
fn mp3_decodes_to_the_input_duration() {
    use wxmedia_codecs::encode::{encode_mp3_audio, mp3_rate};
    if !have("sox") || !have("espeak-ng") {
        eprintln!("skipped: needs sox and espeak-ng (scripts/setup)");
        return;
    }
    let dir = Scratch::new("mp3");
    let src = speech(&dir);
    for (from, kbps) in [
        (8000u32, None),
        (16_000, Some(16)),
        (22_050, None),
        (44_100, Some(48)),
        (48_000, Some(64)),
    ] {
        let file = dir.path(&format!("in-{from}.wav"));
        run(Command::new("sox")
            .arg(&src)
            .args(["-r", &from.to_string()])
            .arg(&file));
        let input: wxmedia_codecs::input::Audio = read_wav(&std::fs::read(&file).unwrap()).unwrap();
        let mp3 = encode_mp3_audio(&input, kbps).unwrap();
        let out = dir.path(&format!("out-{from}.mp3"));
        std::fs::write(&out, &mp3).unwrap();
        let rate = mp3_rate(from);
        let expected = input.seconds();
        let frame = 576.0 / f64::from(rate);
        let by_sox = sox_samples(&out, Some(rate)).len() as f64 / f64::from(rate);
        eprintln!(
            "{from} Hz, {} bytes: {expected:.3} s in, sox decodes {by_sox:.3} s",
            mp3.len()
        );
        let extra = by_sox - expected;
        assert!(
            (0.0..=frame * 3.0).contains(&extra),
            "sox: {by_sox} s vs {expected} s"
        );
        if have("ffmpeg") {
            let raw = run(Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&out)
                .args(["-f", "s16le", "-ac", "1", "-"]));
            let by_ffmpeg = raw.len() as f64 / 2.0 / f64::from(rate);
            eprintln!("  ffmpeg decodes {by_ffmpeg:.3} s");
            assert!(
                (by_ffmpeg - expected).abs() <= frame,
                "ffmpeg: {by_ffmpeg} s vs {expected} s"
            );
        }
    }
}
