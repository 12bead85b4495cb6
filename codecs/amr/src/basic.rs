//! The basic fixed-point operators of ITU-T G.191 / 3GPP TS 26.073 with the saturation the
//! reference (opencore-amr's C) gives them, shared by the decoder and the encoder.
//!
//! Each operator saturates where the reference does and wraps where the reference's C does plain
//! integer arithmetic. The reference also threads an `Overflow` flag through them, but reads it
//! in two places only: a check in `Decoder_amr` that opencore's synthesis filter never raises
//! (so it is dead there), and `G_pitch`, which clears the flag and then detects the overflow of
//! its own sum; `enc::pitch::g_pitch` does that locally. The operators here therefore carry no
//! flag.

/// Largest 16-bit value.
pub const MAX_16: i16 = i16::MAX;
/// Smallest 16-bit value.
pub const MIN_16: i16 = i16::MIN;
/// Largest 32-bit value.
pub const MAX_32: i32 = i32::MAX;
/// Smallest 32-bit value.
pub const MIN_32: i32 = i32::MIN;

#[inline(always)]
fn sat16(x: i32) -> i16 {
    x.clamp(i32::from(MIN_16), i32::from(MAX_16)) as i16
}

/// `add`: 16-bit sum, saturated.
#[inline(always)]
pub fn add(a: i16, b: i16) -> i16 {
    a.saturating_add(b)
}

/// `sub`: 16-bit difference, saturated.
#[inline(always)]
pub fn sub(a: i16, b: i16) -> i16 {
    a.saturating_sub(b)
}

/// `mult`: (a·b) >> 15, saturated (only −1·−1 saturates).
#[inline(always)]
pub fn mult(a: i16, b: i16) -> i16 {
    let p = (i32::from(a) * i32::from(b)) >> 15;
    if p > 0x7fff {
        MAX_16
    } else {
        p as i16
    }
}

/// `mult_r`: (a·b + 2^14) >> 15, saturated.
#[inline(always)]
pub fn mult_r(a: i16, b: i16) -> i16 {
    let mut p = (i32::from(a) * i32::from(b) + 0x4000) >> 15;
    p |= -(p & 0x10000);
    sat16(p)
}

/// `L_mult`: 2·a·b, saturated.
#[inline(always)]
pub fn l_mult(a: i16, b: i16) -> i32 {
    let p = i32::from(a) * i32::from(b);
    if p != 0x4000_0000 {
        p << 1
    } else {
        MAX_32
    }
}

/// `L_add`: 32-bit sum, saturated.
#[inline(always)]
pub fn l_add(a: i32, b: i32) -> i32 {
    a.saturating_add(b)
}

/// `L_sub`: 32-bit difference, saturated.
#[inline(always)]
pub fn l_sub(a: i32, b: i32) -> i32 {
    a.saturating_sub(b)
}

/// `L_mac`: acc + 2·a·b, saturated as the reference does: a product of −1·−1 gives `MAX_32`
/// whatever the accumulator held.
#[inline(always)]
pub fn l_mac(acc: i32, a: i16, b: i16) -> i32 {
    let p = i32::from(a) * i32::from(b);
    if p != 0x4000_0000 {
        acc.saturating_add(p << 1)
    } else {
        MAX_32
    }
}

/// `L_msu`: acc − 2·a·b, saturated.
#[inline(always)]
pub fn l_msu(acc: i32, a: i16, b: i16) -> i32 {
    l_sub(acc, l_mult(a, b))
}

/// `shl`: arithmetic shift left (right for a negative count), saturated on the left.
#[inline(always)]
pub fn shl(a: i16, n: i16) -> i16 {
    if n < 0 {
        let n = -i32::from(n);
        if n < 15 {
            a >> n
        } else {
            0
        }
    } else {
        let n = i32::from(n);
        let wide = if n < 32 { i32::from(a) << n } else { 0 };
        let out = wide as i16;
        if n >= 16 || (i32::from(out) >> n) != i32::from(a) {
            if a == 0 {
                0
            } else {
                (a >> 15) ^ MAX_16
            }
        } else {
            out
        }
    }
}

/// `shr`: arithmetic shift right (left, saturated, for a negative count).
#[inline(always)]
pub fn shr(a: i16, n: i16) -> i16 {
    if n == 0 {
        a
    } else if n > 0 {
        a >> n.min(15)
    } else {
        let n = (-i32::from(n)).min(15);
        let r = (i32::from(a) << n) as i16;
        if (i32::from(r) >> n) != i32::from(a) {
            if a > 0 {
                MAX_16
            } else {
                MIN_16
            }
        } else {
            r
        }
    }
}

/// `shr_r`: shift right with rounding.
#[inline(always)]
pub fn shr_r(a: i16, n: i16) -> i16 {
    if n > 15 {
        0
    } else {
        let mut r = shr(a, n);
        if n > 0 && (i32::from(a) & (1 << (n - 1))) != 0 {
            r = r.wrapping_add(1);
        }
        r
    }
}

/// `L_shl`: 32-bit shift left (right for a negative count), saturated on the left.
#[inline(always)]
pub fn l_shl(a: i32, n: i16) -> i32 {
    if n > 0 {
        l_shift_left(a, i32::from(n))
    } else {
        let n = -i32::from(n);
        if n < 31 {
            a >> n
        } else {
            0
        }
    }
}

#[inline(always)]
fn l_shift_left(a: i32, n: i32) -> i32 {
    if n >= 32 {
        return if a == 0 { 0 } else { (a >> 31) ^ MAX_32 };
    }
    let r = a << n;
    if (r >> n) != a {
        (a >> 31) ^ MAX_32
    } else {
        r
    }
}

/// `L_shr`: 32-bit shift right (left, saturated, for a negative count).
#[inline(always)]
pub fn l_shr(a: i32, n: i16) -> i32 {
    if n > 0 {
        if n < 31 {
            a >> n
        } else {
            0
        }
    } else {
        l_shift_left(a, -i32::from(n))
    }
}

/// `L_shr_r`: 32-bit shift right with rounding.
#[inline(always)]
pub fn l_shr_r(a: i32, n: i16) -> i32 {
    if n > 31 {
        0
    } else {
        let mut r = l_shr(a, n);
        if n > 0 && (a & (1i32 << (n - 1))) != 0 {
            r = r.wrapping_add(1);
        }
        r
    }
}

/// `round`: the high half of `a + 2^15`, saturated.
#[inline(always)]
pub fn round(a: i32) -> i16 {
    (l_add(a, 0x8000) >> 16) as i16
}

/// `negate`, saturated.
#[inline(always)]
pub fn negate(a: i16) -> i16 {
    if a == MIN_16 {
        MAX_16
    } else {
        -a
    }
}

/// `L_negate`, saturated.
#[inline(always)]
pub fn l_negate(a: i32) -> i32 {
    if a == MIN_32 {
        MAX_32
    } else {
        -a
    }
}

/// `abs_s`, saturated.
#[inline(always)]
pub fn abs_s(a: i16) -> i16 {
    if a == MIN_16 {
        MAX_16
    } else {
        a.abs()
    }
}

/// `L_abs`, saturated.
#[inline(always)]
pub fn l_abs(a: i32) -> i32 {
    if a == MIN_32 {
        MAX_32
    } else {
        a.abs()
    }
}

/// `norm_s`: left shifts that normalise `a`'s magnitude (0 for 0).
#[inline(always)]
pub fn norm_s(a: i16) -> i16 {
    if a == 0 {
        0
    } else {
        // opencore normalises the magnitude (−32768 as 32767), not `!a` as G.191 does: −2^k
        // normalises one shift short. Bit-exactness with opencore needs its version.
        let y = if a < 0 {
            a.checked_neg().unwrap_or(MAX_16)
        } else {
            a
        };
        (y.leading_zeros() as i16) - 1
    }
}

/// `norm_l`: left shifts that normalise `a`'s magnitude (0 for 0).
#[inline(always)]
pub fn norm_l(a: i32) -> i16 {
    if a == 0 {
        0
    } else {
        let y = if a < 0 {
            a.checked_neg().unwrap_or(MAX_32)
        } else {
            a
        };
        (y.leading_zeros() as i16) - 1
    }
}

/// `div_s`: a/b in Q15 for 0 ≤ a ≤ b (0 outside that range, as the reference).
#[inline]
pub fn div_s(a: i16, b: i16) -> i16 {
    if a > b || a < 0 {
        return 0;
    }
    if a == 0 {
        return 0;
    }
    if a == b {
        return MAX_16;
    }
    // The reference's 15 steps of restoring division give the floor of the quotient.
    ((i32::from(a) << 15) / i32::from(b)) as i16
}

/// `extract_h`: the high 16 bits.
#[inline(always)]
pub fn extract_h(a: i32) -> i16 {
    (a >> 16) as i16
}

/// `extract_l`: the low 16 bits.
#[inline(always)]
pub fn extract_l(a: i32) -> i16 {
    a as i16
}

/// `L_deposit_h`: `a << 16`.
#[inline(always)]
pub fn l_deposit_h(a: i16) -> i32 {
    i32::from(a) << 16
}

/// `L_Extract`: a 32-bit value as a DPF pair (hi, lo).
#[inline(always)]
pub fn l_extract(a: i32) -> (i16, i16) {
    let hi = (a >> 16) as i16;
    let lo = ((a >> 1) - (i32::from(hi) << 15)) as i16;
    (hi, lo)
}

/// `L_Comp`: a DPF pair back to 32 bits.
#[inline(always)]
pub fn l_comp(hi: i16, lo: i16) -> i32 {
    l_mac(i32::from(hi) << 16, lo, 1)
}

/// The reference's sum of a product and a (product >> 15) << 1 in `Mpy_32` and `Mpy_32_16`: it
/// saturates when both have the same sign and the sum flips it, which is a saturating add (the
/// second term is at most 17 bits, so the cases the reference's test skips cannot overflow;
/// `basic::tests::mpy_matches_the_reference_form` checks it).
#[inline(always)]
fn sat_add_pos(p: i32, q: i32) -> i32 {
    p.saturating_add(q << 1)
}

/// `Mpy_32`: the product of two DPF numbers.
#[inline(always)]
pub fn mpy_32(hi1: i16, lo1: i16, hi2: i16, lo2: i16) -> i32 {
    let mut p = i32::from(hi1) * i32::from(hi2);
    p = if p != 0x4000_0000 { p << 1 } else { MAX_32 };
    let q = (i32::from(hi1) * i32::from(lo2)) >> 15;
    let s = sat_add_pos(p, q);
    let q = (i32::from(lo1) * i32::from(hi2)) >> 15;
    sat_add_pos(s, q)
}

/// `Mpy_32_16`: the product of a DPF number and a 16-bit one.
#[inline(always)]
pub fn mpy_32_16(hi: i16, lo: i16, n: i16) -> i32 {
    let mut p = i32::from(hi) * i32::from(n);
    p = if p != 0x4000_0000 { p << 1 } else { MAX_32 };
    let q = (i32::from(lo) * i32::from(n)) >> 15;
    sat_add_pos(p, q)
}

/// `Mac_32`: acc + the product of two DPF numbers, saturated step by step.
#[inline(always)]
pub fn mac_32(acc: i32, hi1: i16, lo1: i16, hi2: i16, lo2: i16) -> i32 {
    let acc = l_mac(acc, hi1, hi2);
    let acc = l_mac(acc, mult(hi1, lo2), 1);
    l_mac(acc, mult(lo1, hi2), 1)
}

/// `Mac_32_16`: acc + the product of a DPF number and a 16-bit one.
#[inline(always)]
pub fn mac_32_16(acc: i32, hi: i16, lo: i16, n: i16) -> i32 {
    let acc = l_mac(acc, hi, n);
    l_mac(acc, mult(lo, n), 1)
}

/// `Div_32`: a 32-bit numerator over a DPF denominator.
pub fn div_32(num: i32, den_hi: i16, den_lo: i16) -> i32 {
    let approx = div_s(0x3fff, den_hi);
    let r = mpy_32_16(den_hi, den_lo, approx);
    let r = MAX_32.wrapping_sub(r);
    let hi = (r >> 16) as i16;
    let lo = ((r >> 1) - (i32::from(hi) << 15)) as i16;
    let r = mpy_32_16(hi, lo, approx);
    let hi = (r >> 16) as i16;
    let lo = ((r >> 1) - (i32::from(hi) << 15)) as i16;
    let n_hi = (num >> 16) as i16;
    let n_lo = ((num >> 1) - (i32::from(n_hi) << 15)) as i16;
    let r = mpy_32(n_hi, n_lo, hi, lo);
    l_shl(r, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturation_and_normalisation() {
        assert_eq!(add(32000, 1000), MAX_16);
        assert_eq!(sub(-32000, 1000), MIN_16);
        assert_eq!(mult(MIN_16, MIN_16), MAX_16);
        assert_eq!(l_mult(MIN_16, MIN_16), MAX_32);
        assert_eq!(l_mac(-5, MIN_16, MIN_16), MAX_32);
        assert_eq!(shl(0x4000, 1), MAX_16);
        assert_eq!(shl(-0x4001, 1), MIN_16);
        assert_eq!(shl(3, -1), 1);
        assert_eq!(shr(-3, 1), -2);
        assert_eq!(shr_r(3, 1), 2);
        assert_eq!(l_shl(0x4000_0000, 1), MAX_32);
        assert_eq!(l_shr(-1, 40), 0);
        assert_eq!(norm_s(1), 14);
        assert_eq!(norm_s(-1), 14);
        assert_eq!(norm_s(-2), 13);
        assert_eq!(norm_s(-32768), 0);
        assert_eq!(norm_l(1), 30);
        assert_eq!(norm_l(-1), 30);
        assert_eq!(div_s(1, 2), 16384);
        assert_eq!(div_s(5, 5), MAX_16);
        assert_eq!(abs_s(MIN_16), MAX_16);
        assert_eq!(round(0x7fff_ffff), MAX_16);
        let (hi, lo) = l_extract(123_456_789);
        assert_eq!(l_comp(hi, lo), 123_456_788);
    }

    /// The reference's own form of the sums in `Mpy_32` and `Mpy_32_16`.
    fn reference_sum(p: i32, q: i32) -> i32 {
        let s = p.wrapping_add(q << 1);
        if (p ^ q) > 0 && ((s ^ p) >> 31) != 0 {
            if p >> 31 != 0 {
                MIN_32
            } else {
                MAX_32
            }
        } else {
            s
        }
    }

    #[test]
    fn mpy_matches_the_reference_form() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let edges = [i16::MIN, i16::MIN + 1, -1, 0, 1, i16::MAX - 1, i16::MAX];
        for i in 0..2_000_000u32 {
            let r = next();
            let pick = |k: u32, v: u64| {
                if (r >> (60 - k)) & 1 == 1 {
                    edges[(v % 7) as usize]
                } else {
                    v as i16
                }
            };
            let (a, b, c) = (pick(0, r), pick(1, r >> 16), pick(2, r >> 32));
            let lo = pick(3, r >> 48) & 0x7fff;
            let p = i32::from(a) * i32::from(c);
            let p = if p != 0x4000_0000 { p << 1 } else { MAX_32 };
            let q = (i32::from(lo) * i32::from(c)) >> 15;
            assert_eq!(sat_add_pos(p, q), reference_sum(p, q), "{i}: {a} {lo} {c}");
            let q = (i32::from(a) * i32::from(b)) >> 15;
            assert_eq!(sat_add_pos(p, q), reference_sum(p, q), "{i}: {a} {b} {c}");
        }
    }
}
