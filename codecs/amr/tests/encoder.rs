//! The encoder against opencore-amrnb's (what `sox -t amr-nb -C MODE` writes): stored fixtures
//! (scripts/amr-fixtures), the same tools run live on speech made now, and the round trip
//! through both decoders.

use std::path::Path;
use std::process::Command;

use wxmedia_testkit::{have, run, Scratch};

use wxmedia_amr::{record_len, Decoder, Encoder, Mode, AMR_MAGIC, L_FRAME};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s16(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// A storage file of `pcm` as sox writes one: the magic number, then a record per 160
/// samples, the last frame padded with zeros.
fn encode_file(pcm: &[i16], mode: Mode, dtx: bool) -> Vec<u8> {
    let mut enc = Encoder::new(mode, dtx);
    let mut out = AMR_MAGIC.to_vec();
    for chunk in pcm.chunks(L_FRAME) {
        let mut frame = [0i16; L_FRAME];
        frame[..chunk.len()].copy_from_slice(chunk);
        out.extend_from_slice(&enc.encode(&frame));
    }
    out
}

fn decode_file(bytes: &[u8]) -> Vec<i16> {
    let mut rest = bytes.strip_prefix(AMR_MAGIC).expect("#!AMR header");
    let mut dec = Decoder::new();
    let mut out = Vec::new();
    let mut frame = [0i16; L_FRAME];
    while let Some(len) = rest.first().and_then(|&h| record_len(h)) {
        dec.decode_frame(rest, &mut frame).expect("frame decodes");
        out.extend_from_slice(&frame);
        rest = &rest[len..];
    }
    out
}

/// The index of the first record that differs, for a readable failure.
fn first_different_record(ours: &[u8], reference: &[u8]) -> Option<usize> {
    let (mut a, mut b) = (&ours[6..], &reference[6..]);
    let mut n = 0;
    while !a.is_empty() || !b.is_empty() {
        let la = a
            .first()
            .and_then(|&h| record_len(h))
            .unwrap_or(a.len())
            .min(a.len());
        let lb = b
            .first()
            .and_then(|&h| record_len(h))
            .unwrap_or(b.len())
            .min(b.len());
        if a[..la] != b[..lb] {
            return Some(n);
        }
        a = &a[la..];
        b = &b[lb..];
        n += 1;
    }
    None
}

fn assert_same(ours: &[u8], reference: &[u8], what: &str) {
    if ours != reference {
        panic!(
            "{what}: differs from opencore ({} vs {} bytes), first at record {:?}",
            ours.len(),
            reference.len(),
            first_different_record(ours, reference)
        );
    }
}

fn mode(m: u8) -> Mode {
    Mode::from_index(m).expect("mode 0..=7")
}

#[test]
fn encoder_matches_opencore_fixtures_in_every_mode() {
    let speech = s16(&fixture("speech.s16"));
    let loud = s16(&fixture("loud.s16"));
    for m in 0..8u8 {
        let ours = encode_file(&speech, mode(m), true);
        assert_same(
            &ours,
            &fixture(&format!("speech-mode{m}.amr")),
            &format!("speech, mode {m}"),
        );
        let ours = encode_file(&loud, mode(m), true);
        assert_same(
            &ours,
            &fixture(&format!("loud-mode{m}.amr")),
            &format!("loud, mode {m}"),
        );
        let ours = encode_file(&speech, mode(m), false);
        assert_same(
            &ours,
            &fixture(&format!("speech-nodtx-mode{m}.amr")),
            &format!("speech without DTX, mode {m}"),
        );
    }
}

#[test]
fn dtx_fixtures_carry_sid_and_no_data_and_plain_ones_do_not() {
    let kinds = |bytes: &[u8]| {
        let mut rest = &bytes[6..];
        let mut seen = [false; 16];
        while let Some(&h) = rest.first() {
            seen[usize::from((h >> 3) & 15)] = true;
            rest = &rest[record_len(h).expect("known frame type")..];
        }
        seen
    };
    let speech = s16(&fixture("speech.s16"));
    let with = kinds(&encode_file(&speech, Mode::MR122, true));
    assert!(
        with[7] && with[8] && with[15],
        "speech, SID and NO_DATA with DTX"
    );
    let without = kinds(&encode_file(&speech, Mode::MR122, false));
    assert!(
        without[7] && !without[8] && !without[15],
        "only speech without DTX"
    );
}

#[test]
fn records_have_the_size_of_their_mode_and_the_q_bit() {
    let speech = s16(&fixture("speech.s16"));
    let frame: [i16; L_FRAME] = speech[8000..8000 + L_FRAME].try_into().unwrap();
    for m in 0..8u8 {
        let mut enc = Encoder::new(mode(m), false);
        assert_eq!(enc.mode(), mode(m));
        let rec = enc.encode(&frame);
        assert_eq!(rec[0], (m << 3) | 0x04, "header of mode {m}");
        assert_eq!(Some(rec.len()), record_len(rec[0]));
    }
    assert_eq!(Encoder::new(Mode::default(), false).mode(), Mode::MR122);
}

const RAW: [&str; 10] = [
    "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1",
];

/// The reference tools run now on speech made now: espeak-ng, then sox (opencore-amrnb) in all
/// eight modes, on the speech and on it made loud enough to clip; our encoder must write the
/// same files, and our decoder must read them as sox does.
#[test]
fn live_encoder_matches_sox_in_every_mode() {
    if !have("sox") || !have("espeak-ng") {
        eprintln!("live_encoder_matches_sox_in_every_mode: skipped, needs sox and espeak-ng (scripts/setup)");
        return;
    }
    let dir = Scratch::new("live-enc");
    let wav = dir.path("speech.wav");
    run(Command::new("espeak-ng").arg("-w").arg(&wav).arg(
        "Bots answer fans with synthesised speech, and this encoder writes it as WeChat wants.",
    ));
    let pcm_path = dir.path("speech.s16");
    run(Command::new("sox")
        .arg(&wav)
        .args(["-r", "8000", "-c", "1", "-t", "s16"])
        .arg(&pcm_path)
        .args(["pad", "0.4", "0.6"]));
    let loud_path = dir.path("loud.s16");
    run(Command::new("sox")
        .args(RAW)
        .arg(&pcm_path)
        .args(["-t", "s16"])
        .arg(&loud_path)
        .args(["vol", "6"]));
    for (name, path) in [("speech", &pcm_path), ("loud", &loud_path)] {
        let pcm = s16(&std::fs::read(path).unwrap());
        for m in 0..8u8 {
            let amr = dir.path(&format!("{name}{m}.amr"));
            run(Command::new("sox")
                .args(RAW)
                .arg(path)
                .args(["-C", &m.to_string(), "-t", "amr-nb"])
                .arg(&amr));
            let reference = std::fs::read(&amr).unwrap();
            let ours = encode_file(&pcm, mode(m), true);
            assert_same(&ours, &reference, &format!("live {name}, mode {m}"));
            // Encode, then decode: ours and sox's decoder agree sample for sample.
            let decoded = dir.path(&format!("{name}{m}.dec.s16"));
            run(Command::new("sox")
                .args(["-t", "amr-nb"])
                .arg(&amr)
                .args(["-t", "s16"])
                .arg(&decoded));
            let theirs = s16(&std::fs::read(&decoded).unwrap());
            assert_eq!(decode_file(&ours), theirs, "live {name}, mode {m}: decoded");
        }
    }
}

/// opencore's encoder with DTX off, which sox does not offer: codecs/amr/ref/amrref.c.
#[test]
fn live_encoder_without_dtx_matches_opencore() {
    let header = Path::new("/usr/include/opencore-amrnb/interf_enc.h");
    if !have("gcc") || !have("sox") || !have("espeak-ng") || !header.exists() {
        eprintln!(
            "live_encoder_without_dtx_matches_opencore: skipped, needs gcc, libopencore-amrnb-dev, \
             sox and espeak-ng (scripts/setup)"
        );
        return;
    }
    let dir = Scratch::new("live-nodtx");
    let amrref = dir.path("amrref");
    run(Command::new("gcc")
        .args(["-O2", "-Wall"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("ref/amrref.c"))
        .arg("-o")
        .arg(&amrref)
        .arg("-lopencore-amrnb"));
    let wav = dir.path("speech.wav");
    run(Command::new("espeak-ng")
        .arg("-w")
        .arg(&wav)
        .arg("Without discontinuous transmission every frame is speech."));
    let pcm_path = dir.path("speech.s16");
    run(Command::new("sox")
        .arg(&wav)
        .args(["-r", "8000", "-c", "1", "-t", "s16"])
        .arg(&pcm_path)
        .args(["pad", "0.3", "0.3"]));
    let pcm = s16(&std::fs::read(&pcm_path).unwrap());
    for m in 0..8u8 {
        let amr = dir.path(&format!("m{m}.amr"));
        run(Command::new(&amrref)
            .args([m.to_string(), "0".to_string()])
            .arg(&pcm_path)
            .arg(&amr));
        let ours = encode_file(&pcm, mode(m), false);
        assert_same(
            &ours,
            &std::fs::read(&amr).unwrap(),
            &format!("live, no DTX, mode {m}"),
        );
    }
}

/// Signals speech does not make: full-scale noise, a clipped square wave, a chirp with
/// silences between its bursts, and noise switched on and off (DTX in and out of silence).
fn synthetic(kind: u32) -> Vec<i16> {
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ u64::from(kind);
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as i16
    };
    (0..24_000u32)
        .map(|i| {
            let t = f64::from(i) / 8000.0;
            match kind {
                0 => noise(),
                1 => {
                    if (i / 9) % 2 == 0 {
                        i16::MAX
                    } else {
                        i16::MIN
                    }
                }
                2 => {
                    if (i / 4000) % 2 == 0 {
                        (20000.0 * (std::f64::consts::TAU * (100.0 + 600.0 * t) * t).sin()) as i16
                    } else {
                        0
                    }
                }
                _ => {
                    if (i / 2400) % 2 == 0 {
                        noise() / 4
                    } else {
                        noise() / 2000
                    }
                }
            }
        })
        .collect()
}

#[test]
fn live_encoder_matches_sox_on_noise_and_tones() {
    if !have("sox") {
        eprintln!(
            "live_encoder_matches_sox_on_noise_and_tones: skipped, needs sox (scripts/setup)"
        );
        return;
    }
    let dir = Scratch::new("synthetic-enc");
    for kind in 0..4 {
        let pcm = synthetic(kind);
        let raw = dir.path(&format!("k{kind}.s16"));
        let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(&raw, bytes).unwrap();
        for m in 0..8u8 {
            let amr = dir.path(&format!("k{kind}m{m}.amr"));
            run(Command::new("sox")
                .args(RAW)
                .arg(&raw)
                .args(["-C", &m.to_string(), "-t", "amr-nb"])
                .arg(&amr));
            let ours = encode_file(&pcm, mode(m), true);
            assert_same(
                &ours,
                &std::fs::read(&amr).unwrap(),
                &format!("signal {kind}, mode {m}"),
            );
        }
    }
}
