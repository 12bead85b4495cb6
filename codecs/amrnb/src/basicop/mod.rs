//! The ETSI/3GPP fixed-point basic operators (`basicop2.c`): the exact saturating 16/32-bit
//! arithmetic TS 26.073 is written in, with the `Overflow`/`Carry` globals threaded through
//! [`types::DspContext`] instead.

/// 16-bit saturating arithmetic.
pub mod arith;
/// 32-bit saturating arithmetic.
pub mod arith32;
/// Fractional division.
pub mod div;
/// Extended-precision 32-bit helpers.
pub mod oper32;
/// Saturating shifts and normalisation.
pub mod shift;
/// Fixed-point value types and the operator status flags.
pub mod types;

#[cfg(test)]
mod tests {
    use super::div::div_s;
    use super::shift::{l_shl, norm_l, norm_s};
    use super::types::{DspContext, Word16, Word32};

    /// `L_shl` as `basicop2.c` writes it: one doubling at a time.
    fn l_shl_stepwise(ctx: &mut DspContext, x: i32, n: i16) -> i32 {
        let mut acc = x;
        for _ in 0..n {
            if acc > 0x3fff_ffff {
                ctx.overflow = true;
                return i32::MAX;
            }
            if acc < -0x4000_0000 {
                ctx.overflow = true;
                return i32::MIN;
            }
            acc *= 2;
        }
        acc
    }

    /// `norm_l` as written: shift until bit 30 differs from the sign.
    fn norm_stepwise(x: i32) -> i16 {
        match x {
            0 => 0,
            -1 => 31,
            _ => {
                let mut x = if x < 0 { !x } else { x };
                let mut n = 0;
                while x < 0x4000_0000 {
                    x <<= 1;
                    n += 1;
                }
                n
            }
        }
    }

    /// `div_s` as written: fifteen shift-and-subtract steps.
    fn div_stepwise(num: i16, den: i16) -> i16 {
        let (mut rem, mut q) = (i32::from(num), 0i16);
        for _ in 0..15 {
            q <<= 1;
            rem <<= 1;
            if rem >= i32::from(den) {
                rem -= i32::from(den);
                q += 1;
            }
        }
        q
    }

    #[test]
    fn the_direct_operators_match_their_stepwise_definitions() {
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        let mut values = vec![
            0,
            1,
            -1,
            2,
            -2,
            i32::MAX,
            i32::MIN,
            i32::MAX - 1,
            i32::MIN + 1,
        ];
        for shift in 0..31 {
            let (top, bottom) = (i32::MAX >> shift, i32::MIN >> shift);
            values.extend([top, top.wrapping_add(1), bottom, bottom.wrapping_sub(1)]);
        }
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            values.push((seed >> 16) as i32 >> (seed % 31));
        }
        for &x in &values {
            for n in 1..31 {
                let mut direct = DspContext::default();
                let mut stepwise = DspContext::default();
                assert_eq!(
                    l_shl(&mut direct, Word32(x), n).0,
                    l_shl_stepwise(&mut stepwise, x, n),
                    "L_shl({x}, {n})"
                );
                assert_eq!(direct.overflow, stepwise.overflow, "L_shl({x}, {n}) flag");
            }
            assert_eq!(norm_l(Word32(x)), norm_stepwise(x), "norm_l({x})");
            let h = x as i16;
            assert_eq!(
                norm_s(Word16(h)),
                norm_stepwise(i32::from(h) << 16).min(15),
                "norm_s({h})"
            );
            let (num, den) = ((x >> 17).unsigned_abs() as i16, (x as i16).max(1));
            if num < den {
                assert_eq!(
                    div_s(Word16(num), Word16(den)).0,
                    div_stepwise(num, den),
                    "div_s({num}, {den})"
                );
            }
        }
    }
}
