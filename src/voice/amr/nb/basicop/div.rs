//! The ETSI `div_s` basic operator. The table-driven ones (`pow2`, `log2`,
//! `inv_sqrt`) are in `super::super::math`.

use super::shift::{l_shl, shl};
use super::types::{DspContext, Word16, Word32, MAX_16};

/// Fractional division of two 16-bit values, `var1 / var2` in Q15.
///
/// Returns 0 unless `0 <= var1 <= var2` and `var2 > 0`, which is the domain
/// restriction the ETSI definition imposes on callers.
#[inline(always)]
pub fn div_s(var1: Word16, var2: Word16) -> Word16 {
    if var1.0 < 0 || var2.0 <= 0 || var1.0 > var2.0 {
        return Word16(0);
    }
    if var1.0 == 0 {
        return Word16(0);
    }
    if var1.0 == var2.0 {
        return Word16(MAX_16);
    }

    let mut result = Word16(0);
    let mut l_num = Word32(i32::from(var1.0));
    let l_denom = Word32(i32::from(var2.0));
    let mut ctx = DspContext::default();

    for _ in 0..15 {
        result = shl(&mut ctx, result, 1);
        l_num = l_shl(&mut ctx, l_num, 1);
        if l_num.0 >= l_denom.0 {
            l_num = Word32(l_num.0 - l_denom.0);
            result = Word16(result.0.wrapping_add(1));
        }
    }
    result
}
