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
    match x.checked_add(l_var2.0) {
        Some(out) => Word32(out),
        None => {
            ctx.overflow = true;
            Word32(if x < 0 { MIN_32 } else { MAX_32 })
        }
    }
}

/// Public function `l_sub`.
#[inline(always)]
pub fn l_sub(ctx: &mut DspContext, l_var1: Word32, l_var2: Word32) -> Word32 {
    let x = l_var1.0;
    match x.checked_sub(l_var2.0) {
        Some(out) => Word32(out),
        None => {
            ctx.overflow = true;
            Word32(if x < 0 { MIN_32 } else { MAX_32 })
        }
    }
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

/// `L_mult(x0, x0)` then `L_mac(s, x, x)` over the rest: Σ 2x², as the chain
/// computes it. Every term is non-negative, so the chain saturates (to
/// `MAX_32`, raising the flag) exactly when the true sum exceeds `MAX_32` —
/// including `L_mult`'s own saturation on -32768² — and is exact otherwise.
#[inline(always)]
pub fn l_sum_sq(ctx: &mut DspContext, x: impl Iterator<Item = Word16>) -> Word32 {
    let sum: i64 = x
        .map(|v| {
            let v = i64::from(v.0);
            v * v
        })
        .sum();
    if 2 * sum > i64::from(MAX_32) {
        ctx.overflow = true;
        Word32(MAX_32)
    } else {
        Word32(2 * sum as i32)
    }
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
