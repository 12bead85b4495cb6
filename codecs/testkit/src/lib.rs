//! What the codecs' live tests share (`codecs/amr/tests/`, `codecs/voice/tests/`): they run the
//! reference tools (sox with opencore-amrnb, espeak-ng, gcc, ffmpeg) on input made during the
//! test, and skip with a message when a tool is not installed.

use std::path::PathBuf;
use std::process::Command;

/// Whether `tool` is installed: `tool --version` starts (what it exits with is its own affair:
/// ffmpeg answers `--version` with its version and exit status 1).
pub fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok()
}

/// Runs `cmd`, failing the test with its stderr unless it succeeds; answers its stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A scratch directory of one test (named by the test and the process), removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory `wxmedia-{name}-{pid}` in the system's temporary directory.
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("wxmedia-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The path of `name` in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A small deterministic generator (xorshift64*), so tests that draw random input reproduce.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
