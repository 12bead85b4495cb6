//! Decodes WeChat voice to WAV: `cargo run --release --features voice --example voice_decode --
//! IN OUT.wav [REPEAT]`. Prints the time one decode takes (the best of REPEAT runs).

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: voice_decode IN OUT.wav [REPEAT]");
        std::process::exit(2);
    }
    let input = std::fs::read(&args[1]).expect("read input");
    let repeat: u32 = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut best = f64::INFINITY;
    let mut wav = Vec::new();
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        wav = match wxmedia_codecs::decode_voice(&input, None) {
            Ok(wav) => wav,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::fs::write(&args[2], &wav).expect("write output");
    eprintln!("decoded {} bytes of WAV in {:.2} ms", wav.len(), best * 1e3);
}
