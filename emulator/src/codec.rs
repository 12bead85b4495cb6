//! The reference codecs, over FFI: opencore-amrnb's AMR-NB decoder and libspeex's wideband
//! encoder (linked by `build.rs`). Each is wrapped in a safe owner that frees it on drop.
//!
//! The one module of the emulator with `unsafe` code: calling C needs it, and these are the
//! reference implementations WeChat-format HD voice is defined by (a Rust re-implementation
//! could only be checked against them). Every call passes buffers of the sizes the C headers
//! document (`interf_dec.h`, `speex.h`, `speex_bits.h`).
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};

/// `SpeexBits` from `speex/speex_bits.h`.
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

/// `SPEEX_SET_QUALITY` from `speex/speex.h`.
const SPEEX_SET_QUALITY: c_int = 4;
/// `SPEEX_MODEID_WB` from `speex/speex.h`.
const SPEEX_MODEID_WB: c_int = 1;

extern "C" {
    // opencore-amrnb, interf_dec.h
    fn Decoder_Interface_init() -> *mut c_void;
    fn Decoder_Interface_exit(state: *mut c_void);
    fn Decoder_Interface_Decode(state: *mut c_void, input: *const u8, out: *mut i16, bfi: c_int);

    // libspeex, speex.h and speex_bits.h
    fn speex_lib_get_mode(mode: c_int) -> *const c_void;
    fn speex_encoder_init(mode: *const c_void) -> *mut c_void;
    fn speex_encoder_destroy(state: *mut c_void);
    fn speex_encoder_ctl(state: *mut c_void, request: c_int, ptr: *mut c_void) -> c_int;
    fn speex_encode_int(state: *mut c_void, input: *mut i16, bits: *mut SpeexBits) -> c_int;
    fn speex_bits_init(bits: *mut SpeexBits);
    fn speex_bits_destroy(bits: *mut SpeexBits);
    fn speex_bits_reset(bits: *mut SpeexBits);
    fn speex_bits_insert_terminator(bits: *mut SpeexBits);
    fn speex_bits_write(bits: *mut SpeexBits, out: *mut c_char, max: c_int) -> c_int;
}

/// Samples in one AMR-NB frame (20 ms at 8 kHz).
pub(crate) const AMR_FRAME_SAMPLES: usize = 160;
/// Samples in one Speex wideband frame (20 ms at 16 kHz).
pub(crate) const WB_FRAME_SAMPLES: usize = 320;
/// Largest AMR-NB storage record: the header byte and 31 bytes of MR122.
pub(crate) const AMR_MAX_RECORD: usize = 32;

/// An opencore-amrnb decoder.
pub(crate) struct AmrDecoder(*mut c_void);

impl AmrDecoder {
    /// A fresh decoder, or `None` when opencore cannot allocate one.
    pub fn new() -> Option<Self> {
        // SAFETY: no arguments; a null result is checked.
        let state = unsafe { Decoder_Interface_init() };
        (!state.is_null()).then_some(AmrDecoder(state))
    }

    /// Decodes one storage-format record (header byte first, then the frame's bytes).
    pub fn decode(&mut self, record: &[u8]) -> [i16; AMR_FRAME_SAMPLES] {
        // opencore reads as many bytes as the header's frame type says (at most 32); copy into
        // a full-size buffer so a short record can never make it read past ours.
        let mut input = [0u8; AMR_MAX_RECORD];
        let n = record.len().min(AMR_MAX_RECORD);
        input[..n].copy_from_slice(&record[..n]);
        let mut out = [0i16; AMR_FRAME_SAMPLES];
        // SAFETY: a live state; `input` holds 32 bytes (the largest record); `out` holds the
        // 160 samples one frame decodes to.
        unsafe { Decoder_Interface_Decode(self.0, input.as_ptr(), out.as_mut_ptr(), 0) };
        out
    }
}

impl Drop for AmrDecoder {
    fn drop(&mut self) {
        // SAFETY: the state came from Decoder_Interface_init and is freed once.
        unsafe { Decoder_Interface_exit(self.0) };
    }
}

/// A libspeex wideband encoder and its bit buffer.
pub(crate) struct SpeexWbEncoder {
    state: *mut c_void,
    bits: Box<SpeexBits>,
}

impl SpeexWbEncoder {
    /// A wideband encoder at `quality` (0–10), or `None` when libspeex cannot make one.
    pub fn new(quality: i32) -> Option<Self> {
        // SAFETY: SPEEX_MODEID_WB is a valid mode id; null results are checked; `bits` is a
        // zeroed struct of the header's layout that speex_bits_init fills in; the quality
        // pointer is a live c_int for the duration of the call.
        unsafe {
            let mode = speex_lib_get_mode(SPEEX_MODEID_WB);
            if mode.is_null() {
                return None;
            }
            let state = speex_encoder_init(mode);
            if state.is_null() {
                return None;
            }
            let mut q: c_int = quality;
            speex_encoder_ctl(state, SPEEX_SET_QUALITY, (&raw mut q).cast::<c_void>());
            let mut bits = Box::new(std::mem::zeroed::<SpeexBits>());
            speex_bits_init(&raw mut *bits);
            Some(SpeexWbEncoder { state, bits })
        }
    }

    /// Encodes one 20 ms frame into `out`, terminator bits included; returns the bytes written.
    pub fn encode(&mut self, pcm: &[i16; WB_FRAME_SAMPLES], out: &mut [u8; 200]) -> usize {
        // speex_encode_int may use its input as scratch: give it a copy.
        let mut frame = *pcm;
        // SAFETY: a live encoder and bit buffer; `frame` holds the 320 samples a wideband frame
        // reads; `out` is 200 bytes and speex_bits_write writes at most `max` of them.
        let written = unsafe {
            speex_bits_reset(&raw mut *self.bits);
            speex_encode_int(self.state, frame.as_mut_ptr(), &raw mut *self.bits);
            speex_bits_insert_terminator(&raw mut *self.bits);
            speex_bits_write(
                &raw mut *self.bits,
                out.as_mut_ptr().cast::<c_char>(),
                out.len() as c_int,
            )
        };
        usize::try_from(written).unwrap_or(0).min(out.len())
    }
}

impl Drop for SpeexWbEncoder {
    fn drop(&mut self) {
        // SAFETY: both came from their init functions and are freed once.
        unsafe {
            speex_bits_destroy(&raw mut *self.bits);
            speex_encoder_destroy(self.state);
        }
    }
}
