//! The ETSI `div_s` basic operator. The table-driven ones (`pow2`, `log2`,
//! `inv_sqrt`) are in `crate::math`.

use super::types::{Word16, MAX_16};

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

    // The reference's fifteen shift-and-subtract steps are a restoring
    // division of `var1 << 15` by `var2`; with `0 < var1 < var2` nothing in
    // them can saturate, so the quotient is the plain integer one.
    Word16(((i32::from(var1.0) << 15) / i32::from(var2.0)) as i16)
}
