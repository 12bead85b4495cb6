//! Encodes raw 8 kHz mono s16le PCM to an AMR-NB storage file, as `sox -C MODE -t amr-nb`
//! does: `cargo run --release -p wxmedia-amr --example amr_encode -- IN.s16 OUT.amr [MODE]
//! [--no-dtx]`. Prints the time it took.

use std::time::Instant;

use wxmedia_amr::{Encoder, Mode, AMR_MAGIC, L_FRAME};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = (&args[0], &args[1]);
    let mode = args
        .get(2)
        .and_then(|m| m.parse().ok())
        .and_then(Mode::from_index)
        .unwrap_or_default();
    let dtx = !args.iter().any(|a| a == "--no-dtx");
    let bytes = std::fs::read(input).expect("read input");
    let pcm: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let start = Instant::now();
    let mut enc = Encoder::new(mode, dtx);
    let mut out = AMR_MAGIC.to_vec();
    for chunk in pcm.chunks(L_FRAME) {
        let mut frame = [0i16; L_FRAME];
        frame[..chunk.len()].copy_from_slice(chunk);
        out.extend_from_slice(&enc.encode(&frame));
    }
    let took = start.elapsed();
    std::fs::write(output, &out).expect("write output");
    eprintln!(
        "encoded {:.1} s in {:.1} ms",
        pcm.len() as f64 / 8000.0,
        took.as_secs_f64() * 1e3
    );
}
