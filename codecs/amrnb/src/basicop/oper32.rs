use super::arith::{extract_h, extract_l, mult};
use super::arith32::{l_deposit_h, l_mac, l_msu, l_mult};
use super::shift::l_shr;
use super::types::{DspContext, Word16, Word32};

/// Public function `l_extract`.
#[inline(always)]
pub fn l_extract(l_32: Word32) -> (Word16, Word16) {
    let mut ctx = DspContext::default();
    let hi = extract_h(l_32);
    let tmp = l_shr(&mut ctx, l_32, 1);
    let lo = extract_l(l_msu(&mut ctx, tmp, hi, Word16(16384)));
    (hi, lo)
}

/// Public function `l_comp`.
#[inline(always)]
pub fn l_comp(hi: Word16, lo: Word16) -> Word32 {
    let mut ctx = DspContext::default();
    let l = l_deposit_h(hi);
    l_mac(&mut ctx, l, lo, Word16(1))
}

/// Public function `mpy_32_16`.
#[inline(always)]
pub fn mpy_32_16(hi: Word16, lo: Word16, n: Word16) -> Word32 {
    let mut ctx = DspContext::default();
    let mut l = l_mult(&mut ctx, hi, n);
    let t = mult(&mut ctx, lo, n);
    l = l_mac(&mut ctx, l, t, Word16(1));
    l
}
