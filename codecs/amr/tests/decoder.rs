//! The decoder against opencore-amrnb: the stored fixtures of codecs/voice (every mode, with
//! DTX, and a damaged file), and sox run now on espeak-ng speech.

use std::path::{Path, PathBuf};
use std::process::Command;

use wxmedia_testkit::{have, run, Rng, Scratch};

use wxmedia_amr::{record_len, Decoder, AMR_MAGIC, L_FRAME};

fn voice_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../voice/tests/fixtures")
}

/// Decodes a storage file as opencore does: every whole record, a cut final one dropped.
fn decode_file(bytes: &[u8]) -> Vec<i16> {
    let mut rest = bytes.strip_prefix(AMR_MAGIC).expect("#!AMR header");
    let mut dec = Decoder::new();
    let mut out = Vec::new();
    let mut frame = [0i16; L_FRAME];
    while let Some(&h) = rest.first() {
        let Some(len) = record_len(h) else { break };
        if rest.len() < len {
            break;
        }
        let used = dec.decode_frame(rest, &mut frame).expect("frame decodes");
        assert_eq!(used, len);
        out.extend_from_slice(&frame);
        rest = &rest[len..];
    }
    out
}

fn s16(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

fn first_difference(ours: &[i16], reference: &[i16]) -> Option<usize> {
    ours.iter().zip(reference).position(|(a, b)| a != b)
}

#[test]
fn decoder_matches_opencore_fixtures() {
    let mut names: Vec<String> = (0..8).map(|m| format!("amr-mode{m}.amr")).collect();
    names.push("amr-damaged.amr".into());
    for name in names {
        let dir = voice_fixtures();
        let ours = decode_file(&std::fs::read(dir.join(&name)).unwrap());
        let reference = s16(&std::fs::read(dir.join(format!("{name}.s16"))).unwrap());
        assert_eq!(ours.len(), reference.len(), "{name}: length");
        assert_eq!(
            first_difference(&ours, &reference),
            None,
            "{name}: first sample that differs from opencore"
        );
    }
}

#[test]
fn live_decoder_matches_sox_in_every_mode() {
    if !have("sox") || !have("espeak-ng") {
        eprintln!("live_decoder_matches_sox_in_every_mode: skipped, needs sox and espeak-ng (scripts/setup)");
        return;
    }
    let dir = Scratch::new("live-dec");
    let wav = dir.path("speech.wav");
    run(Command::new("espeak-ng").arg("-w").arg(&wav).arg(
        "The decoder is checked against the reference on speech made just now, in all eight modes.",
    ));
    // The speech, and the speech loud enough to clip, which takes the saturating paths.
    let loud = dir.path("loud.wav");
    run(Command::new("sox").arg(&wav).arg(&loud).args(["vol", "6"]));
    for mode in 0..8 {
        for input in [&wav, &loud] {
            let amr = dir.path(&format!("m{mode}.amr"));
            let pcm = dir.path(&format!("m{mode}.s16"));
            run(Command::new("sox")
                .arg(input)
                .args(["-r", "8000", "-c", "1", "-C", &mode.to_string()])
                .args(["-t", "amr-nb"])
                .arg(&amr));
            run(Command::new("sox")
                .args(["-t", "amr-nb"])
                .arg(&amr)
                .args(["-t", "s16"])
                .arg(&pcm));
            let ours = decode_file(&std::fs::read(&amr).unwrap());
            let reference = s16(&std::fs::read(&pcm).unwrap());
            assert!(!ours.is_empty());
            assert_eq!(ours.len(), reference.len(), "mode {mode}: length");
            assert_eq!(
                first_difference(&ours, &reference),
                None,
                "mode {mode}, {}",
                input.display()
            );
        }
    }
}

/// Records of random bits in every mode, SID and NO_DATA: every parameter's range, lags and
/// codebook indices no encoder would choose, decoded as sox decodes them.
#[test]
fn live_decoder_matches_sox_on_random_frames() {
    if !have("sox") {
        eprintln!("live_decoder_matches_sox_on_random_frames: skipped, needs sox (scripts/setup)");
        return;
    }
    const PAYLOAD: [usize; 9] = [12, 13, 15, 17, 19, 20, 26, 31, 5];
    let dir = Scratch::new("random-dec");
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mode = (seed % 8) as u8;
        let mut file = AMR_MAGIC.to_vec();
        for _ in 0..300 {
            let r = rng.next_u64() % 100;
            let ft = match r {
                0..=59 => mode,
                60..=69 => (rng.next_u64() % 8) as u8,
                70..=84 => 8,
                _ => 15,
            };
            file.push((ft << 3) | 0x04);
            if ft != 15 {
                for _ in 0..PAYLOAD[usize::from(ft)] {
                    file.push(rng.next_u64() as u8);
                }
            }
        }
        let amr = dir.path(&format!("r{seed}.amr"));
        let pcm = dir.path(&format!("r{seed}.s16"));
        std::fs::write(&amr, &file).unwrap();
        run(Command::new("sox")
            .args(["-t", "amr-nb"])
            .arg(&amr)
            .args(["-t", "s16"])
            .arg(&pcm));
        let ours = decode_file(&file);
        let reference = s16(&std::fs::read(&pcm).unwrap());
        assert_eq!(ours.len(), reference.len(), "seed {seed}: length");
        assert_eq!(first_difference(&ours, &reference), None, "seed {seed}");
    }
}
