#![allow(clippy::collapsible_if)]

use super::types::{DspContext, Word16, Word32, MAX_32, MIN_32};

/// Public function `l_mult`.
#[inline(always)]
pub fn l_mult(ctx: &mut DspContext, var1: Word16, var2: Word16) -> Word32 {
    let mut out = i32::from(var1.0).wrapping_mul(i32::from(var2.0));
    if out != 0x4000_0000 {
        out <<= 1;
    } else {
        ctx.overflow = true;
        out = MAX_32;
    }
    Word32(out)
}

/// Public function `l_add`.
#[inline(always)]
pub fn l_add(ctx: &mut DspContext, l_var1: Word32, l_var2: Word32) -> Word32 {
    let x = l_var1.0;
    let y = l_var2.0;
    let mut out = x.wrapping_add(y);

    if ((x ^ y) & MIN_32) == 0 {
        if ((out ^ x) & MIN_32) != 0 {
            out = if x < 0 { MIN_32 } else { MAX_32 };
            ctx.overflow = true;
        }
    }

    Word32(out)
}

/// Public function `l_sub`.
#[inline(always)]
pub fn l_sub(ctx: &mut DspContext, l_var1: Word32, l_var2: Word32) -> Word32 {
    let x = l_var1.0;
    let y = l_var2.0;
    let mut out = x.wrapping_sub(y);

    if ((x ^ y) & MIN_32) != 0 {
        if ((out ^ x) & MIN_32) != 0 {
            out = if x < 0 { MIN_32 } else { MAX_32 };
            ctx.overflow = true;
        }
    }

    Word32(out)
}

/// Public function `l_mac`.
#[inline(always)]
pub fn l_mac(ctx: &mut DspContext, l_var3: Word32, var1: Word16, var2: Word16) -> Word32 {
    let p = l_mult(ctx, var1, var2);
    l_add(ctx, l_var3, p)
}

/// Public function `l_msu`.
#[inline(always)]
pub fn l_msu(ctx: &mut DspContext, l_var3: Word32, var1: Word16, var2: Word16) -> Word32 {
    let p = l_mult(ctx, var1, var2);
    l_sub(ctx, l_var3, p)
}

/// Public constant `fn`.
#[inline(always)]
pub const fn l_deposit_h(var1: Word16) -> Word32 {
    Word32((var1.0 as i32) << 16)
}

/// Public constant `fn`.
#[inline(always)]
pub const fn l_deposit_l(var1: Word16) -> Word32 {
    Word32(var1.0 as i32)
}
