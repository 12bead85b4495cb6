//! Times decoding an AMR-NB storage file: `cargo run --release -p wxmedia-amr --example
//! amr_speed -- FILE.amr [ROUNDS]`. Prints the best round.

use std::time::Instant;

use wxmedia_amr::{record_len, Decoder, AMR_MAGIC, L_FRAME};

fn decode(bytes: &[u8]) -> usize {
    let mut rest = bytes.strip_prefix(AMR_MAGIC).expect("#!AMR header");
    let mut dec = Decoder::new();
    let mut frame = [0i16; L_FRAME];
    let mut n = 0;
    while let Some(len) = rest.first().and_then(|&h| record_len(h)) {
        if rest.len() < len {
            break;
        }
        dec.decode_frame(rest, &mut frame).expect("frame decodes");
        n += 1;
        rest = &rest[len..];
    }
    n
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: amr_speed FILE.amr [ROUNDS]");
    let rounds: usize = args.next().map_or(5, |r| r.parse().expect("rounds"));
    let bytes = std::fs::read(&path).expect("read");
    let mut best = f64::MAX;
    let mut frames = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        frames = decode(&bytes);
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "decode: {frames} frames ({:.1} s of speech) in {:.1} ms",
        frames as f64 * 0.02,
        best * 1e3
    );
}
