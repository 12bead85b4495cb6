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
