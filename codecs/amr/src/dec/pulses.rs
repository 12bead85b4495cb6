//! The algebraic (fixed) codebooks: pulse positions and signs to the innovation vector, one
//! decoder per mode family.

use crate::basic::*;
use crate::tables::{DGRAY, STARTPOS};
use crate::L_SUBFR;

fn place(cod: &mut [i16; L_SUBFR], pos: &[i16], mut sign: i16) {
    cod.fill(0);
    for &p in pos {
        let s = sign & 1;
        cod[p as usize] = s * 16383 - 8192;
        sign >>= 1;
    }
}

/// `decode_2i40_9bits`: 4.75 and 5.15 kbit/s, two pulses.
pub(crate) fn decode_2i40_9bits(sub_nr: i16, sign: i16, index: i16, cod: &mut [i16; L_SUBFR]) {
    let j = (index & 64) >> 3;
    let k = (shl(sub_nr, 1) + j) as usize;
    let p0 = (index & 7) * 5 + STARTPOS[k];
    let p1 = ((index >> 3) & 7) * 5 + STARTPOS[k + 1];
    place(cod, &[p0, p1], sign);
}

/// `decode_2i40_11bits`: 5.9 kbit/s, two pulses.
pub(crate) fn decode_2i40_11bits(sign: i16, index: i16, cod: &mut [i16; L_SUBFR]) {
    let j = index & 1;
    let index = index >> 1;
    let p0 = (index & 7) * 5 + j * 2 + 1;
    let index = index >> 3;
    let j = index & 3;
    let i = (index >> 2) & 7;
    let p1 = if j == 3 { i * 5 + 4 } else { i * 5 + j };
    place(cod, &[p0, p1], sign);
}

/// `decode_3i40_14bits`: 6.7 kbit/s, three pulses.
pub(crate) fn decode_3i40_14bits(sign: i16, index: i16, cod: &mut [i16; L_SUBFR]) {
    let p0 = (index & 7) * 5;
    let index = index >> 3;
    let j = index & 1;
    let index = index >> 1;
    let p1 = (index & 7) * 5 + j * 2 + 1;
    let index = index >> 3;
    let j = index & 1;
    let index = index >> 1;
    let p2 = (index & 7) * 5 + j * 2 + 2;
    place(cod, &[p0, p1, p2], sign);
}

/// `decode_4i40_17bits`: 7.4 and 7.95 kbit/s, four pulses, Gray-coded positions.
pub(crate) fn decode_4i40_17bits(sign: i16, index: i16, cod: &mut [i16; L_SUBFR]) {
    let g = |v: i16| DGRAY[(v & 7) as usize];
    let p0 = g(index) * 5;
    let index = index >> 3;
    let p1 = g(index) * 5 + 1;
    let index = index >> 3;
    let p2 = g(index) * 5 + 2;
    let index = index >> 3;
    let j = index & 1;
    let index = index >> 1;
    let p3 = g(index) * 5 + 3 + j;
    place(cod, &[p0, p1, p2, p3], sign);
}

/// `decompress10`: three positions from a 10-bit joint index.
fn decompress10(msbs: i16, lsbs: i16, i1: usize, i2: usize, i3: usize, pos: &mut [i16; 8]) {
    let msbs = msbs.min(124);
    let ia = mult(msbs, 1311);
    let ia = msbs - (l_mult(ia, 25) >> 1) as i16;
    let ib = mult(ia, 6554);
    let ib = shl(ia - (l_mult(ib, 5) >> 1) as i16, 1);
    let ic = lsbs - ((lsbs >> 2) << 2);
    pos[i1] = ib + (ic & 1);
    let ib = shl(mult(ia, 6554), 1);
    pos[i2] = ib + (ic >> 1);
    let ib = lsbs >> 2;
    let ic = shl(mult(msbs, 1311), 1);
    pos[i3] = add(ib, ic);
}

/// `dec_8i40_31bits`: 10.2 kbit/s, eight pulses from four sign bits and three joint indices.
pub(crate) fn dec_8i40_31bits(index: &[i16], cod: &mut [i16; L_SUBFR]) {
    cod.fill(0);
    let mut pos = [0i16; 8];
    decompress10(index[4] >> 3, index[4] & 7, 0, 4, 1, &mut pos);
    decompress10(index[5] >> 3, index[5] & 7, 2, 6, 5, &mut pos);
    let msbs = index[6] >> 2;
    let lsbs = index[6] & 3;
    let ia = (l_shr(l_mult(msbs, 25), 1) as i16) + 12;
    let msbs0_24 = ia >> 5;
    let ia = mult(msbs0_24, 6554) & 1;
    let ib = mult(msbs0_24, 6554);
    let mut ib = msbs0_24 - (l_mult(ib, 5) >> 1) as i16;
    if ia == 1 {
        ib = 4 - ib;
    }
    pos[3] = add(shl(ib, 1), lsbs & 1);
    pos[7] = shl(mult(msbs0_24, 6554), 1) + (lsbs >> 1);
    for j in 0..4 {
        let pos1 = (pos[j] << 2) + j as i16;
        let mut sign: i16 = if index[j] == 0 { 8191 } else { -8191 };
        if (pos1 as usize) < L_SUBFR {
            cod[pos1 as usize] = sign;
        }
        let pos2 = (pos[j + 4] << 2) + j as i16;
        if pos2 < pos1 {
            sign = negate(sign);
        }
        if (pos2 as usize) < L_SUBFR {
            cod[pos2 as usize] += sign;
        }
    }
}

/// `dec_10i40_35bits`: 12.2 kbit/s, ten pulses, two per track.
pub(crate) fn dec_10i40_35bits(index: &[i16], cod: &mut [i16; L_SUBFR]) {
    cod.fill(0);
    for j in 0..5 {
        let tmp = index[j];
        let pos1 = (DGRAY[(tmp & 7) as usize] * 5) as usize + j;
        let mut sign: i16 = if (tmp >> 3) & 1 == 0 { 4096 } else { -4096 };
        cod[pos1] = sign;
        let pos2 = (DGRAY[(index[j + 5] & 7) as usize] * 5) as usize + j;
        if pos2 < pos1 {
            sign = negate(sign);
        }
        cod[pos2] += sign;
    }
}
