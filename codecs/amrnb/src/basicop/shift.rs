use super::arith::{add, extract_l};
use super::types::{DspContext, Word16, Word32, MAX_16, MAX_32, MIN_16, MIN_32};

/// Public function `shl`.
#[inline(always)]
pub fn shl(ctx: &mut DspContext, var1: Word16, var2: i16) -> Word16 {
    if var2 < 0 {
        return shr(ctx, var1, -var2);
    }

    let resultat = i64::from(var1.0) * (1i64 << var2);
    if (var2 > 15 && var1.0 != 0) || resultat != i64::from(resultat as i16) {
        ctx.overflow = true;
        Word16(if var1.0 > 0 { MAX_16 } else { MIN_16 })
    } else {
        extract_l(Word32(resultat as i32))
    }
}

/// Public function `shr`.
#[inline(always)]
pub fn shr(ctx: &mut DspContext, var1: Word16, var2: i16) -> Word16 {
    if var2 < 0 {
        return shl(ctx, var1, -var2);
    }

    if var2 >= 15 {
        return Word16(if var1.0 < 0 { -1 } else { 0 });
    }

    if var1.0 < 0 {
        Word16(!((!var1.0) >> var2))
    } else {
        Word16(var1.0 >> var2)
    }
}

/// Public function `l_shl`.
///
/// The reference doubles one bit at a time and saturates as soon as the value
/// leaves `[-2^30, 2^30)`; for shifts below 31 that happens exactly when the
/// input is outside `[MIN_32 >> n, MAX_32 >> n]`, which is tested directly.
#[inline(always)]
pub fn l_shl(ctx: &mut DspContext, l_var1: Word32, var2: i16) -> Word32 {
    if var2 <= 0 {
        return l_shr(ctx, l_var1, -var2);
    }

    let x = l_var1.0;
    if var2 < 31 {
        return if x > MAX_32 >> var2 {
            ctx.overflow = true;
            Word32(MAX_32)
        } else if x < MIN_32 >> var2 {
            ctx.overflow = true;
            Word32(MIN_32)
        } else {
            Word32(x << var2)
        };
    }

    let mut acc = x;
    let mut out = 0i32;
    let mut n = var2;

    while n > 0 {
        if acc > 0x3FFF_FFFF {
            ctx.overflow = true;
            out = MAX_32;
            break;
        } else if acc < 0xC000_0000u32 as i32 {
            ctx.overflow = true;
            out = MIN_32;
            break;
        }
        acc = acc.wrapping_mul(2);
        out = acc;
        n -= 1;
    }

    Word32(out)
}

/// Public function `l_shr`.
#[inline(always)]
pub fn l_shr(ctx: &mut DspContext, l_var1: Word32, var2: i16) -> Word32 {
    if var2 < 0 {
        return l_shl(ctx, l_var1, -var2);
    }

    if var2 >= 31 {
        return Word32(if l_var1.0 < 0 { -1 } else { 0 });
    }

    if l_var1.0 < 0 {
        Word32(!((!l_var1.0) >> var2))
    } else {
        Word32(l_var1.0 >> var2)
    }
}

/// Public function `shr_r`.
#[inline(always)]
pub fn shr_r(ctx: &mut DspContext, var1: Word16, var2: i16) -> Word16 {
    if var2 > 15 {
        return Word16(0);
    }

    let mut out = shr(ctx, var1, var2);
    if var2 > 0 && (var1.0 & ((1i16) << (var2 - 1))) != 0 {
        out = add(ctx, out, Word16(1));
    }
    out
}

/// Public function `l_shr_r`.
#[inline(always)]
pub fn l_shr_r(ctx: &mut DspContext, l_var1: Word32, var2: i16) -> Word32 {
    if var2 > 31 {
        return Word32(0);
    }

    let mut out = l_shr(ctx, l_var1, var2);
    if var2 > 0 && (l_var1.0 & (1i32 << (var2 - 1))) != 0 {
        out = Word32(out.0.wrapping_add(1));
    }
    out
}

/// Public function `norm_s`: the left shift that brings `var1` into
/// `[0x4000, 0x7fff]` (or its negative counterpart); 0 for 0, 15 for -1.
#[inline(always)]
pub fn norm_s(var1: Word16) -> i16 {
    match var1.0 {
        0 => 0,
        -1 => 15,
        x => {
            let x = if x < 0 { !x } else { x };
            x.leading_zeros() as i16 - 1
        }
    }
}

/// Public function `norm_l`: the 32-bit [`norm_s`]; 0 for 0, 31 for -1.
#[inline(always)]
pub fn norm_l(l_var1: Word32) -> i16 {
    match l_var1.0 {
        0 => 0,
        -1 => 31,
        x => {
            let x = if x < 0 { !x } else { x };
            x.leading_zeros() as i16 - 1
        }
    }
}
