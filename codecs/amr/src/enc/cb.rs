//! The algebraic codebook searches (`cbsearch`): the correlations they share (`cor_h`,
//! `cor_h_x`, `cor_h_x2`, `set_sign`, `set_sign12k2`) and one search per mode family
//! (`c2_9pf`, `c2_11pf`, `c3_14pf`, `c4_17pf`, `c8_31pf`, `c1035pf` with `s10_8pf`).
//!
//! `h` is the impulse response with `L_CODE` zeros before it (`h[L_CODE + n]` is h(n)), as the
//! reference keeps it, so that h(n − pos) for n < pos reads zero.

use crate::basic::*;
use crate::dsp::inv_sqrt;
use crate::tables::{GRAY, STARTPOS};
use crate::{Mode, L_SUBFR};

const L_CODE: usize = L_SUBFR;
const STEP: usize = 5;
const NB_TRACK: usize = 5;
type Rr = [[i16; L_CODE]; L_CODE];

/// h(n) for n ≥ −L_CODE.
#[inline(always)]
fn hh(h: &[i16; 2 * L_CODE], n: isize) -> i16 {
    h[(L_CODE as isize + n) as usize]
}

/// `cor_h_x`: the backward-filtered target, scaled to 16 bits with `sf` bits of headroom.
fn cor_h_x(h: &[i16; 2 * L_CODE], x: &[i16; L_CODE], dn: &mut [i16; L_CODE], sf: i16) {
    let mut y32 = [0i32; L_CODE];
    let mut tot: i32 = 5;
    for k in 0..NB_TRACK {
        let mut max: i32 = 0;
        let mut i = k;
        while i < L_CODE {
            let mut s: i32 = 0;
            for j in i..L_CODE {
                s = s.wrapping_add((i32::from(x[j]) * i32::from(hh(h, (j - i) as isize))) << 1);
            }
            y32[i] = s;
            let a = if s < 0 { s.wrapping_neg() } else { s };
            if a > max {
                max = a;
            }
            i += STEP;
        }
        tot = tot.wrapping_add(max >> 1);
    }
    let j = norm_l(tot) - sf;
    for i in 0..L_CODE {
        let s = l_shl(y32[i], j);
        dn[i] = (s.wrapping_add(0x8000) >> 16) as i16;
    }
}

/// `cor_h_x2`: as [`cor_h_x`] for 10.2 kbit/s's tracks.
fn cor_h_x2(
    h: &[i16; 2 * L_CODE],
    x: &[i16; L_CODE],
    dn: &mut [i16; L_CODE],
    sf: i16,
    nb_track: usize,
    step: usize,
) {
    let mut y32 = [0i32; L_CODE];
    let mut tot: i32 = 5;
    for k in 0..nb_track {
        let mut max: i32 = 0;
        let mut i = k;
        while i < L_CODE {
            let mut s: i32 = 0;
            for j in i..L_CODE {
                s = s.wrapping_add(i32::from(x[j]) * i32::from(hh(h, (j - i) as isize)));
            }
            let s = s.wrapping_shl(1);
            y32[i] = s;
            let a = l_abs(s);
            if a > max {
                max = a;
            }
            i += step;
        }
        tot = tot.wrapping_add(max >> 1);
    }
    let j = norm_l(tot) - sf;
    for i in 0..L_CODE {
        dn[i] = round(l_shl(y32[i], j));
    }
}

/// `set_sign`: the sign of each position's correlation (`dn` made absolute), and `dn2` with the
/// `8 - n` weakest positions of each track marked −1.
fn set_sign(dn: &mut [i16; L_CODE], sign: &mut [i16; L_CODE], dn2: &mut [i16; L_CODE], n: usize) {
    for i in (0..L_CODE).rev() {
        let mut v = dn[i];
        if v >= 0 {
            sign[i] = 32767;
        } else {
            sign[i] = -32767;
            v = negate(v);
            dn[i] = v;
        }
        dn2[i] = v;
    }
    for i in 0..NB_TRACK {
        for _ in 0..8 - n {
            let mut min = 0x7fff;
            let mut pos = 0;
            let mut j = i;
            while j < L_CODE {
                if dn2[j] >= 0 && dn2[j] < min {
                    min = dn2[j];
                    pos = j;
                }
                j += STEP;
            }
            dn2[pos] = -1;
        }
    }
}

/// `set_sign12k2`: the signs from the correlation mixed with the residual, each track's best
/// position, and the track order to start the searches from.
fn set_sign12k2(
    dn: &mut [i16; L_CODE],
    cn: &[i16],
    sign: &mut [i16; L_CODE],
    pos_max: &mut [i16],
    nb_track: usize,
    ipos: &mut [i16],
    step: usize,
) {
    let mut s: i32 = 256;
    let mut t: i32 = 256;
    for i in 0..L_CODE {
        s = l_mac(s, cn[i], cn[i]);
        t = t.wrapping_add((i32::from(dn[i]) * i32::from(dn[i])) << 1);
    }
    let s = inv_sqrt(s);
    let k_cn = (l_shl(s, 5) >> 16) as i16;
    let t = inv_sqrt(t);
    let k_dn = (t >> 11) as i16;
    let mut en = [0i16; L_CODE];
    for i in (0..L_CODE).rev() {
        let l = (i32::from(k_cn) * i32::from(cn[i])) << 1;
        let val = dn[i];
        let s = l_mac(l, k_dn, val);
        let mut cor = round(l_shl(s, 10));
        if cor >= 0 {
            sign[i] = 32767;
        } else {
            sign[i] = -32767;
            cor = negate(cor);
            dn[i] = negate(val);
        }
        en[i] = cor;
    }
    let mut max_of_all = -1;
    let mut pos = 0usize;
    for i in 0..nb_track {
        let mut max = -1;
        let mut j = i;
        while j < L_CODE {
            if en[j] > max {
                max = en[j];
                pos = j;
            }
            j += step;
        }
        pos_max[i] = pos as i16;
        if max > max_of_all {
            max_of_all = max;
            ipos[0] = i as i16;
        }
    }
    let mut pos = ipos[0] as usize;
    ipos[nb_track] = pos as i16;
    for i in 1..nb_track {
        pos += 1;
        if pos >= nb_track {
            pos = 0;
        }
        ipos[i] = pos as i16;
        ipos[i + nb_track] = pos as i16;
    }
}

/// `cor_h`: the impulse response's autocorrelation matrix with the signs folded in.
fn cor_h(h: &[i16; 2 * L_CODE], sign: &[i16; L_CODE], rr: &mut Rr) {
    let h = &h[L_CODE..];
    let mut s: i32 = 1;
    for &v in h {
        s = s.wrapping_add(i32::from(v) * i32::from(v));
    }
    let s = s.wrapping_shl(1);
    let mut h2 = [0i16; L_CODE];
    if s < 0 {
        for i in 0..L_CODE {
            h2[i] = h[i] >> 1;
        }
    } else {
        let s = inv_sqrt(s >> 1);
        let dec = if s < 0x00ff_ffff {
            (((s >> 9) * 32440) >> 15) as i16
        } else {
            32440
        };
        for i in 0..L_CODE {
            h2[i] = ((i32::from(h[i]) * i32::from(dec)).wrapping_add(0x20) >> 6) as i16;
        }
    }
    let mut s: i32 = 0;
    for k in 0..L_CODE {
        s = s.wrapping_add(i32::from(h2[k]) * i32::from(h2[k]));
        let i = L_CODE - 1 - k;
        rr[i][i] = (s.wrapping_add(0x4000) >> 15) as i16;
    }
    // The off-diagonal sums accumulate along k for every lag d at once (acc[d]), so that the
    // inner loop runs over contiguous data; each partial sum is the entry at (39 − k − d, 39 − k).
    let mut acc = [0i32; L_CODE];
    let mut sgn = [false; L_CODE];
    for i in 0..L_CODE {
        sgn[i] = sign[i] < 0;
    }
    for k in 0..L_CODE - 1 {
        let hk = i32::from(h2[k]);
        let n = L_CODE - k;
        for (a, &v) in acc[1..n].iter_mut().zip(&h2[k + 1..]) {
            *a = a.wrapping_add(hk * i32::from(v));
        }
        let j = L_CODE - 1 - k;
        for d in 1..n {
            let i = j - d;
            let t1 = (acc[d].wrapping_add(0x4000) >> 15) as i16;
            // (sign[j]·sign[i]) >> 15 of two ±32767: 32766 or −32767.
            let t2: i32 = if sgn[j] == sgn[i] { 32766 } else { -32767 };
            let v = ((i32::from(t1) * t2) >> 15) as i16;
            rr[i][j] = v;
            rr[j][i] = v;
        }
    }
}

/// `sharp` times the past of `v` added from `T0` on: the pitch sharpening of a vector.
fn sharpen(v: &mut [i16], from: usize, t0: usize, sharp: i16) {
    for i in from..L_CODE {
        let t = mult(v[i - t0], sharp);
        v[i] = add(v[i], t);
    }
}

/// y(n) = round(Σ_k h(n − pos_k)·sign_k), the filtered codevector of the low rates.
fn filtered(h: &[i16; 2 * L_CODE], pos: &[usize], signs: &[i16], y: &mut [i16; L_CODE]) {
    for i in 0..L_CODE {
        let mut s: i32 = 0;
        for (k, &p) in pos.iter().enumerate() {
            s = l_mac(s, hh(h, i as isize - p as isize), signs[k]);
        }
        y[i] = round(s);
    }
}

/// One step of the pulse searches' comparison: whether (sq1, alp1) beats (sq, alp).
#[inline(always)]
fn better(alp: i16, sq1: i16, sq: i16, alp_16: i16) -> bool {
    let s = ((i32::from(alp) * i32::from(sq1)) << 1)
        .wrapping_sub((i32::from(sq) * i32::from(alp_16)) << 1);
    s > 0
}

/// `code_2i40_9bits`: 4.75 and 5.15 kbit/s, two pulses. Answers (index, signs).
fn code_2i40_9bits(
    sub_nr: usize,
    x: &[i16; L_CODE],
    h: &mut [i16; 2 * L_CODE],
    t0: usize,
    pitch_sharp: i16,
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
) -> (i16, i16) {
    const TRACK_TABLE: [i16; 20] = [
        0, 1, 0, 1, -1, 0, -1, 1, 0, 1, 0, 1, 0, -1, 1, 0, 1, -1, 0, 1,
    ];
    let sharp = shl(pitch_sharp, 1);
    if t0 < L_CODE {
        sharpen(&mut h[L_CODE..], t0, t0, sharp);
    }
    let mut dn = [0i16; L_CODE];
    let mut dn2 = [0i16; L_CODE];
    let mut dn_sign = [0i16; L_CODE];
    let mut rr = [[0i16; L_CODE]; L_CODE];
    cor_h_x(h, x, &mut dn, 1);
    set_sign(&mut dn, &mut dn_sign, &mut dn2, 8);
    cor_h(h, &dn_sign, &mut rr);
    // search_2i40
    let mut codvec = [0usize, 1];
    let mut psk: i16 = -1;
    let mut alpk: i16 = 1;
    for track1 in 0..2 {
        let i = (sub_nr << 1) + (track1 << 3);
        let ipos0 = STARTPOS[i] as usize;
        let ipos1 = STARTPOS[i + 1] as usize;
        let mut i0 = ipos0;
        while i0 < L_CODE {
            let ps0 = dn[i0];
            let alp0 = i32::from(rr[i0][i0]) << 14;
            let mut sq: i16 = -1;
            let mut alp: i16 = 1;
            let mut ix = ipos1;
            let mut i1 = ipos1;
            while i1 < L_CODE {
                let ps1 = ps0.wrapping_add(dn[i1]);
                let alp1 = alp0
                    .wrapping_add(i32::from(rr[i1][i1]) << 14)
                    .wrapping_add(i32::from(rr[i0][i1]) << 15);
                let sq1 = ((i32::from(ps1) * i32::from(ps1)) >> 15) as i16;
                let alp_16 = (alp1.wrapping_add(0x8000) >> 16) as i16;
                if better(alp, sq1, sq, alp_16) {
                    sq = sq1;
                    alp = alp_16;
                    ix = i1;
                }
                i1 += STEP;
            }
            if better(alpk, sq, psk, alp) {
                psk = sq;
                alpk = alp;
                codvec = [i0, ix];
            }
            i0 += STEP;
        }
    }
    // build_code
    code.fill(0);
    let pt = &TRACK_TABLE[sub_nr * 5..];
    let mut indx: i16 = 0;
    let mut rsign: i16 = 0;
    let mut signs = [0i16; 2];
    for k in 0..2 {
        let i = codvec[k];
        let j = dn_sign[i];
        let mut index = ((i as i32 * 6554) >> 15) as i16;
        let track = i as i16 - 5 * index;
        let first = pt[track as usize];
        let track = if k == 0 {
            if first != 0 {
                index += 64;
            }
            0
        } else {
            index <<= 3;
            1
        };
        if j > 0 {
            code[i] = 8191;
            signs[k] = 32767;
            rsign += 1 << track;
        } else {
            code[i] = -8192;
            signs[k] = -32768;
        }
        indx += index;
    }
    filtered(h, &codvec, &signs, y);
    if t0 < L_CODE {
        sharpen(code, t0, t0, sharp);
    }
    (indx, rsign)
}

/// `code_2i40_11bits`: 5.9 kbit/s, two pulses.
fn code_2i40_11bits(
    x: &[i16; L_CODE],
    h: &mut [i16; 2 * L_CODE],
    t0: usize,
    pitch_sharp: i16,
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
) -> (i16, i16) {
    const START_POS1: [usize; 2] = [1, 3];
    const START_POS2: [usize; 4] = [0, 1, 2, 4];
    let sharp = pitch_sharp.wrapping_shl(1);
    if t0 < L_CODE {
        sharpen(&mut h[L_CODE..], t0, t0, sharp);
    }
    let mut dn = [0i16; L_CODE];
    let mut dn2 = [0i16; L_CODE];
    let mut dn_sign = [0i16; L_CODE];
    let mut rr = [[0i16; L_CODE]; L_CODE];
    cor_h_x(h, x, &mut dn, 1);
    set_sign(&mut dn, &mut dn_sign, &mut dn2, 8);
    cor_h(h, &dn_sign, &mut rr);
    let mut codvec = [0usize, 1];
    let mut psk: i16 = -1;
    let mut alpk: i16 = 1;
    for &ip0 in &START_POS1 {
        for &ip1 in &START_POS2 {
            let mut i0 = ip0;
            while i0 < L_CODE {
                let ps0 = dn[i0];
                let alp0 = i32::from(rr[i0][i0]) << 14;
                let mut sq: i16 = -1;
                let mut alp: i16 = 1;
                let mut ix = ip1;
                let mut i1 = ip1;
                while i1 < L_CODE {
                    let ps1 = add(ps0, dn[i1]);
                    let alp1 = alp0
                        .wrapping_add(i32::from(rr[i1][i1]) << 14)
                        .wrapping_add(i32::from(rr[i0][i1]) << 15);
                    let sq1 = ((i32::from(ps1) * i32::from(ps1)) >> 15) as i16;
                    let alp_16 = (alp1.wrapping_add(0x8000) >> 16) as i16;
                    if better(alp, sq1, sq, alp_16) {
                        sq = sq1;
                        alp = alp_16;
                        ix = i1;
                    }
                    i1 += STEP;
                }
                if better(alpk, sq, psk, alp) {
                    psk = sq;
                    alpk = alp;
                    codvec = [i0, ix];
                }
                i0 += STEP;
            }
        }
    }
    code.fill(0);
    let mut indx: i16 = 0;
    let mut rsign: i16 = 0;
    let mut signs = [0i16; 2];
    for k in 0..2 {
        let i = codvec[k];
        let j = dn_sign[i];
        let mut index = ((i as i32 * 6554) >> 15) as i16;
        let t = ((index << 3) + (index << 1)) >> 1;
        let mut track = i as i16 - t;
        match track {
            0 => {
                track = 1;
                index <<= 6;
            }
            1 => {
                if k == 0 {
                    track = 0;
                    index <<= 1;
                } else {
                    track = 1;
                    index = (index << 6) + 16;
                }
            }
            2 => {
                track = 1;
                index = (index << 6) + 32;
            }
            3 => {
                track = 0;
                index = (index << 1) + 1;
            }
            _ => {
                track = 1;
                index = (index << 6) + 48;
            }
        }
        if j > 0 {
            code[i] = 8191;
            signs[k] = 32767;
            rsign = add(rsign, shl(1, track));
        } else {
            code[i] = -8192;
            signs[k] = -32768;
        }
        indx = add(indx, index);
    }
    filtered(h, &codvec, &signs, y);
    if t0 < L_CODE {
        sharpen(code, t0, t0, sharp);
    }
    (indx, rsign)
}

/// The nested searches of three and four pulses (`search_3i40`, `search_4i40`).
fn search_nested(
    dn: &[i16; L_CODE],
    dn2: &[i16; L_CODE],
    rr: &Rr,
    ipos: &mut [usize],
    codvec: &mut [usize],
    psk: &mut i16,
    alpk: &mut i16,
    pulses: usize,
) {
    let np = pulses;
    for _ in 0..np {
        let mut i0 = ipos[0];
        while i0 < L_CODE {
            if dn2[i0] >= 0 {
                let mut ps0 = dn[i0];
                let mut alp0 = i32::from(rr[i0][i0]) << 14;
                let mut sq: i16 = -1;
                let mut alp: i16 = 1;
                let mut ps: i16 = 0;
                let mut ix = ipos[1];
                let mut i1 = ipos[1];
                while i1 < L_CODE {
                    let ps1 = ps0.wrapping_add(dn[i1]);
                    let alp1 = alp0
                        .wrapping_add(i32::from(rr[i1][i1]) << 14)
                        .wrapping_add(i32::from(rr[i0][i1]) << 15);
                    let sq1 = ((i32::from(ps1) * i32::from(ps1)) >> 15) as i16;
                    let alp_16 = (alp1.wrapping_add(0x8000) >> 16) as i16;
                    if better(alp, sq1, sq, alp_16) {
                        sq = sq1;
                        ps = ps1;
                        alp = alp_16;
                        ix = i1;
                    }
                    i1 += STEP;
                }
                let i1 = ix;
                ps0 = ps;
                alp0 = i32::from(alp) << 14;
                sq = -1;
                alp = 1;
                ps = 0;
                ix = ipos[2];
                let mut i2 = ipos[2];
                while i2 < L_CODE {
                    let ps1 = ps0.wrapping_add(dn[i2]);
                    let alp1 = alp0
                        .wrapping_add(i32::from(rr[i2][i2]) << 12)
                        .wrapping_add(i32::from(rr[i1][i2]) << 13)
                        .wrapping_add(i32::from(rr[i0][i2]) << 13);
                    let sq1 = ((i32::from(ps1) * i32::from(ps1)) >> 15) as i16;
                    let alp_16 = (alp1.wrapping_add(0x8000) >> 16) as i16;
                    if better(alp, sq1, sq, alp_16) {
                        sq = sq1;
                        ps = ps1;
                        alp = alp_16;
                        ix = i2;
                    }
                    i2 += STEP;
                }
                let i2 = ix;
                if np == 3 {
                    let s = l_msu(l_mult(*alpk, sq), *psk, alp);
                    if s > 0 {
                        *psk = sq;
                        *alpk = alp;
                        codvec[..3].copy_from_slice(&[i0, i1, i2]);
                    }
                } else {
                    ps0 = ps;
                    alp0 = i32::from(alp) << 16;
                    sq = -1;
                    alp = 1;
                    ix = ipos[3];
                    let mut i3 = ipos[3];
                    while i3 < L_CODE {
                        let ps1 = ps0.wrapping_add(dn[i3]);
                        let alp1 = alp0
                            .wrapping_add(i32::from(rr[i3][i3]) << 12)
                            .wrapping_add(i32::from(rr[i2][i3]) << 13)
                            .wrapping_add(i32::from(rr[i1][i3]) << 13)
                            .wrapping_add(i32::from(rr[i0][i3]) << 13);
                        let sq1 = ((i32::from(ps1) * i32::from(ps1)) >> 15) as i16;
                        let alp_16 = (alp1.wrapping_add(0x8000) >> 16) as i16;
                        if better(alp, sq1, sq, alp_16) {
                            sq = sq1;
                            alp = alp_16;
                            ix = i3;
                        }
                        i3 += STEP;
                    }
                    if better(*alpk, sq, *psk, alp) {
                        *psk = sq;
                        *alpk = alp;
                        codvec[..4].copy_from_slice(&[i0, i1, i2, ix]);
                    }
                }
            }
            i0 += STEP;
        }
        ipos[..np].rotate_right(1);
    }
}

/// `code_3i40_14bits`: 6.7 kbit/s, three pulses.
fn code_3i40_14bits(
    x: &[i16; L_CODE],
    h: &mut [i16; 2 * L_CODE],
    t0: usize,
    pitch_sharp: i16,
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
) -> (i16, i16) {
    let sharp = pitch_sharp.wrapping_shl(1);
    if t0 < L_CODE {
        sharpen(&mut h[L_CODE..], t0, t0, sharp);
    }
    let mut dn = [0i16; L_CODE];
    let mut dn2 = [0i16; L_CODE];
    let mut dn_sign = [0i16; L_CODE];
    let mut rr = [[0i16; L_CODE]; L_CODE];
    cor_h_x(h, x, &mut dn, 1);
    set_sign(&mut dn, &mut dn_sign, &mut dn2, 6);
    cor_h(h, &dn_sign, &mut rr);
    let mut codvec = [0usize, 1, 2, 0];
    let mut psk: i16 = -1;
    let mut alpk: i16 = 1;
    for track1 in [1usize, 3] {
        for track2 in [2usize, 4] {
            let mut ipos = [0, track1, track2, 0];
            search_nested(
                &dn,
                &dn2,
                &rr,
                &mut ipos,
                &mut codvec,
                &mut psk,
                &mut alpk,
                3,
            );
        }
    }
    code.fill(0);
    let mut indx: i16 = 0;
    let mut rsign: i16 = 0;
    let mut signs = [0i16; 3];
    for k in 0..3 {
        let i = codvec[k];
        let j = dn_sign[i];
        let mut index = ((i as i32 * 6554) >> 15) as i16;
        let mut track = i as i16 - 5 * index;
        match track {
            1 => index <<= 4,
            2 => index <<= 8,
            3 => {
                track = 1;
                index = (index << 4) + 8;
            }
            4 => {
                track = 2;
                index = (index << 8) + 128;
            }
            _ => {}
        }
        if j > 0 {
            code[i] = 8191;
            signs[k] = 32767;
            rsign += 1 << track;
        } else {
            code[i] = -8192;
            signs[k] = -32768;
        }
        indx += index;
    }
    filtered(h, &codvec[..3], &signs, y);
    if t0 < L_CODE {
        sharpen(code, t0, t0, sharp);
    }
    (indx, rsign)
}

/// `code_4i40_17bits`: 7.4 and 7.95 kbit/s, four pulses.
fn code_4i40_17bits(
    x: &[i16; L_CODE],
    h: &mut [i16; 2 * L_CODE],
    t0: usize,
    pitch_sharp: i16,
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
) -> (i16, i16) {
    let sharp = pitch_sharp.wrapping_shl(1);
    if t0 < L_CODE {
        sharpen(&mut h[L_CODE..], t0, t0, sharp);
    }
    let mut dn = [0i16; L_CODE];
    let mut dn2 = [0i16; L_CODE];
    let mut dn_sign = [0i16; L_CODE];
    let mut rr = [[0i16; L_CODE]; L_CODE];
    cor_h_x(h, x, &mut dn, 1);
    set_sign(&mut dn, &mut dn_sign, &mut dn2, 4);
    cor_h(h, &dn_sign, &mut rr);
    let mut codvec = [0usize, 1, 2, 3];
    let mut psk: i16 = -1;
    let mut alpk: i16 = 1;
    for track in 3..5 {
        let mut ipos = [0, 1, 2, track];
        search_nested(
            &dn,
            &dn2,
            &rr,
            &mut ipos,
            &mut codvec,
            &mut psk,
            &mut alpk,
            4,
        );
    }
    code.fill(0);
    let mut indx: i16 = 0;
    let mut rsign: i16 = 0;
    let mut signs = [0i16; 4];
    for k in 0..4 {
        let i = codvec[k];
        let j = dn_sign[i];
        let index = ((i as i32 * 6554) >> 15) as i16;
        let mut track = i as i16 - 5 * index;
        let mut index = GRAY[index as usize];
        match track {
            1 => index <<= 3,
            2 => index <<= 6,
            3 => index <<= 10,
            4 => {
                track = 3;
                index = (index << 10) + 512;
            }
            _ => {}
        }
        if j > 0 {
            code[i] = 8191;
            signs[k] = 32767;
            rsign += 1 << track;
        } else {
            code[i] = -8192;
            signs[k] = -32768;
        }
        indx = indx.wrapping_add(index);
    }
    filtered(h, &codvec, &signs, y);
    if t0 < L_CODE {
        sharpen(code, t0, t0, sharp);
    }
    (indx, rsign)
}

/// `search_10and8i40`: the depth-first search of 12.2 kbit/s's ten and 10.2 kbit/s's eight
/// pulses, in pairs.
fn search_10and8i40<const NB_PULSE: usize, const STEP_: usize>(
    nb_tracks: usize,
    dn: &[i16; L_CODE],
    rr: &Rr,
    ipos: &mut [i16],
    pos_max: &[i16],
    codvec: &mut [usize],
) {
    // A constant pulse count and step, so that the loops over positions unroll.
    let (nb_pulse, step) = (NB_PULSE, STEP_);
    let efr = nb_pulse == 10;
    let i0 = pos_max[ipos[0] as usize] as usize;
    let mut index = [0usize; 10];
    index[0] = i0;
    let mut psk: i16 = -1;
    let mut alpk: i16 = 1;
    for (i, c) in codvec.iter_mut().enumerate().take(nb_pulse) {
        *c = i;
    }
    let mut temp1 = [0i16; 2 * L_CODE];
    let r = |a: usize, b: usize| i32::from(rr[a][b]);
    for _ in 1..nb_tracks {
        let i1 = pos_max[ipos[1] as usize] as usize;
        index[1] = i1;
        let ps0 = (i32::from(dn[i0]) + i32::from(dn[i1])) as i16;
        let mut alp0 = r(i0, i0) << 12;
        alp0 = alp0
            .wrapping_add(r(i1, i1) << 12)
            .wrapping_add(r(i0, i1) << 13)
            .wrapping_add(0x8000);
        let mut t = 0;
        let mut i3 = ipos[3] as usize;
        while i3 < L_CODE {
            let s = (r(i3, i3) >> 1) + r(i3, i0) + r(i3, i1);
            temp1[t] = ps0.wrapping_add(dn[i3]);
            temp1[t + 1] = ((s + 2) >> 2) as i16;
            t += 2;
            i3 += step;
        }
        let mut sq: i16 = -1;
        let mut alp: i16 = 1;
        let mut ps: i16 = 0;
        let mut ia = ipos[2] as usize;
        let mut ib = ipos[3] as usize;
        let s = alp0 >> 12;
        let mut j = ipos[2] as usize;
        while j < L_CODE {
            let alp1 = ((s + r(j, j)) >> 1) + r(j, i0) + r(j, i1);
            let ps1 = dn[j];
            let mut t = 0;
            let mut i3 = ipos[3] as usize;
            while i3 < L_CODE {
                let ps2 = ps1.wrapping_add(temp1[t]);
                let sq2 = ((i32::from(ps2) * i32::from(ps2)) >> 15) as i16;
                let alp2 = (alp1 + r(j, i3)) >> 2;
                let alp2 = (alp2 + i32::from(temp1[t + 1])) >> 1;
                t += 2;
                if i32::from(sq2).wrapping_mul(i32::from(alp)) > i32::from(sq).wrapping_mul(alp2) {
                    sq = sq2;
                    ps = ps2;
                    alp = alp2 as i16;
                    ia = j;
                    ib = i3;
                }
                i3 += step;
            }
            j += step;
        }
        index[2] = ia;
        index[3] = ib;
        // Pulses 4 and 5, then 6 and 7 (and 8 and 9 at 12.2 kbit/s).
        (_, alp, ps) = pulse_pair::<4, STEP_>(dn, rr, ipos, &mut index, alp, ps);
        (sq, alp, ps) = pulse_pair::<6, STEP_>(dn, rr, ipos, &mut index, alp, ps);
        if efr {
            (sq, alp, _) = pulse_pair::<8, STEP_>(dn, rr, ipos, &mut index, alp, ps);
        }
        if i32::from(alpk) * i32::from(sq) > i32::from(psk) * i32::from(alp) {
            psk = sq;
            alpk = alp;
            codvec[..nb_pulse].copy_from_slice(&index[..nb_pulse]);
        }
        let pos = ipos[1];
        for j in 1..nb_pulse - 1 {
            ipos[j] = ipos[j + 1];
        }
        ipos[nb_pulse - 1] = pos;
    }
}

/// One pair of pulses (`FIRST`, `FIRST + 1`) of [`search_10and8i40`] after the `FIRST`
/// already placed in `index`: answers the pair's (sq, alp, ps) and writes its positions.
fn pulse_pair<const FIRST: usize, const STEP_: usize>(
    dn: &[i16; L_CODE],
    rr: &Rr,
    ipos: &[i16],
    index: &mut [usize; 10],
    alp_prev: i16,
    ps_prev: i16,
) -> (i16, i16, i16) {
    // The shifts of the pulse's own energy, of its correlations and of the precomputed
    // sums' rounding, by depth, as the reference scales them.
    let (sh_jj, sh_prev, sh_tmp, tmp_shift) = match FIRST {
        4 => (11, 12, 2, 14),
        6 => (10, 11, 3, 14),
        _ => (9, 10, 3, 13),
    };
    let chosen: [usize; FIRST] = index[..FIRST].try_into().expect("pulses so far");
    let alp0 = (i32::from(alp_prev) << 15).wrapping_add(0x8000);
    let start_k = ipos[FIRST + 1] as usize;
    // At most ten positions to a track (step 4).
    let mut temp1 = [(0i16, 0i16); 10];
    let mut n = 0;
    for k in (start_k..L_CODE).step_by(STEP_) {
        let mut s = i32::from(rr[k][k]) >> 1;
        for &c in &chosen {
            s += i32::from(rr[c][k]);
        }
        temp1[n] = (
            ps_prev.wrapping_add(dn[k]),
            ((s + (1 << (sh_tmp - 1))) >> sh_tmp) as i16,
        );
        n += 1;
    }
    let mut sq: i16 = -1;
    let mut alp: i16 = 1;
    let mut ps: i16 = 0;
    let mut ia = ipos[FIRST] as usize;
    let mut ib = start_k;
    for j in (ipos[FIRST] as usize..L_CODE).step_by(STEP_) {
        let row = &rr[j];
        let mut alp1 = alp0.wrapping_add(i32::from(row[j]) << sh_jj);
        for &c in &chosen {
            alp1 = alp1.wrapping_add(i32::from(row[c]) << sh_prev);
        }
        let ps1 = dn[j];
        for (&(t_ps, t_rr), k) in temp1[..n].iter().zip((start_k..L_CODE).step_by(STEP_)) {
            let ps2 = ps1.wrapping_add(t_ps);
            let alp2 = alp1.wrapping_add(i32::from(row[k]) << sh_prev);
            let alp_16 = (alp2.wrapping_add(i32::from(t_rr) << tmp_shift) >> 16) as i16;
            let sq2 = ((i32::from(ps2) * i32::from(ps2)) >> 15) as i16;
            if i32::from(sq2) * i32::from(alp) > i32::from(sq) * i32::from(alp_16) {
                sq = sq2;
                ps = ps2;
                alp = alp_16;
                ia = j;
                ib = k;
            }
        }
    }
    index[FIRST] = ia;
    index[FIRST + 1] = ib;
    (sq, alp, ps)
}

/// `code_8i40_31bits`: 10.2 kbit/s, eight pulses; the seven indices into `indx`.
fn code_8i40_31bits(
    x: &[i16; L_CODE],
    cn: &[i16],
    h: &[i16; 2 * L_CODE],
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
    indx: &mut [i16],
) {
    const NB_TRACK_MR102: usize = 4;
    let mut ipos = [0i16; 8];
    let mut pos_max = [0i16; NB_TRACK_MR102];
    let mut codvec = [0usize; 8];
    let mut dn = [0i16; L_CODE];
    let mut sign = [0i16; L_CODE];
    let mut rr = [[0i16; L_CODE]; L_CODE];
    cor_h_x2(h, x, &mut dn, 2, NB_TRACK_MR102, 4);
    set_sign12k2(
        &mut dn,
        cn,
        &mut sign,
        &mut pos_max,
        NB_TRACK_MR102,
        &mut ipos,
        4,
    );
    cor_h(h, &sign, &mut rr);
    search_10and8i40::<8, 4>(NB_TRACK_MR102, &dn, &rr, &mut ipos, &pos_max, &mut codvec);
    // build_code
    code.fill(0);
    let mut pos_indx = [-1i16; 8];
    let mut sign_indx = [-1i16; NB_TRACK_MR102];
    let mut signs = [0i16; 8];
    for k in 0..8 {
        let i = codvec[k];
        let pos_index = (i >> 2) as i16;
        let track = i & 3;
        let sign_index;
        if sign[i] > 0 {
            code[i] = code[i].wrapping_add(8191);
            signs[k] = 32767;
            sign_index = 0;
        } else {
            code[i] = code[i].wrapping_sub(8191);
            signs[k] = -32768;
            sign_index = 1;
        }
        if pos_indx[track] < 0 {
            pos_indx[track] = pos_index;
            sign_indx[track] = sign_index;
        } else if ((sign_index ^ sign_indx[track]) & 1) == 0 {
            if pos_indx[track] <= pos_index {
                pos_indx[track + 4] = pos_index;
            } else {
                pos_indx[track + 4] = pos_indx[track];
                pos_indx[track] = pos_index;
                sign_indx[track] = sign_index;
            }
        } else if pos_indx[track] <= pos_index {
            pos_indx[track + 4] = pos_indx[track];
            pos_indx[track] = pos_index;
            sign_indx[track] = sign_index;
        } else {
            pos_indx[track + 4] = pos_index;
        }
    }
    filtered(h, &codvec, &signs, y);
    // compress_code
    indx[..4].copy_from_slice(&sign_indx);
    let compress10 = |a: i16, b: i16, c: i16| -> i16 {
        let ia = a >> 1;
        let ib = (b >> 1) * 5;
        let ic = (c >> 1) * 25;
        let hi = (ib + ic + ia) << 3;
        hi + (a & 1) + ((b & 1) << 1) + ((c & 1) << 2)
    };
    indx[4] = compress10(pos_indx[0], pos_indx[4], pos_indx[1]);
    indx[5] = compress10(pos_indx[2], pos_indx[6], pos_indx[5]);
    let ib = (pos_indx[7] >> 1) & 1;
    let mut ia = pos_indx[3] >> 1;
    if ib == 1 {
        ia = 4 - ia;
    }
    let ib = (pos_indx[7] >> 1) * 5 + ia;
    let ib = (ib << 5) + 12;
    let ic = (((i32::from(ib) * 1311) >> 15) as i16) << 2;
    indx[6] = ic + ((pos_indx[7] & 1) << 1) + (pos_indx[3] & 1);
}

/// `code_10i40_35bits`: 12.2 kbit/s, ten pulses; the ten indices into `indx`.
fn code_10i40_35bits(
    x: &[i16; L_CODE],
    cn: &[i16],
    h: &[i16; 2 * L_CODE],
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
    indx: &mut [i16],
) {
    let mut ipos = [0i16; 10];
    let mut pos_max = [0i16; NB_TRACK];
    let mut codvec = [0usize; 10];
    let mut dn = [0i16; L_CODE];
    let mut sign = [0i16; L_CODE];
    let mut rr = [[0i16; L_CODE]; L_CODE];
    cor_h_x(h, x, &mut dn, 2);
    set_sign12k2(
        &mut dn,
        cn,
        &mut sign,
        &mut pos_max,
        NB_TRACK,
        &mut ipos,
        STEP,
    );
    cor_h(h, &sign, &mut rr);
    search_10and8i40::<10, STEP>(NB_TRACK, &dn, &rr, &mut ipos, &pos_max, &mut codvec);
    // build_code
    code.fill(0);
    indx[..NB_TRACK].fill(-1);
    let mut signs = [0i16; 10];
    for k in 0..10 {
        let i = codvec[k];
        let mut index = ((i as i32 * 6554) >> 15) as i16;
        let track = i - 5 * index as usize;
        if sign[i] > 0 {
            code[i] = code[i].wrapping_add(4096);
            signs[k] = 8192;
        } else {
            code[i] = code[i].wrapping_sub(4096);
            signs[k] = -8192;
            index += 8;
        }
        let temp = indx[track];
        if temp < 0 {
            indx[track] = index;
        } else if ((index ^ temp) & 8) == 0 {
            if temp <= index {
                indx[track + 5] = index;
            } else {
                indx[track + 5] = temp;
                indx[track] = index;
            }
        } else if (temp & 7) <= (index & 7) {
            indx[track + 5] = temp;
            indx[track] = index;
        } else {
            indx[track + 5] = index;
        }
    }
    for i in 0..L_CODE {
        let mut s: i32 = 0;
        for k in 0..10 {
            s = s.wrapping_add(
                (i32::from(hh(h, i as isize - codvec[k] as isize)) * i32::from(signs[k])) >> 7,
            );
        }
        y[i] = (s.wrapping_add(0x80) >> 8) as i16;
    }
    // q_p: the positions Gray-coded, the sign kept in the first five.
    for (n, v) in indx.iter_mut().enumerate().take(10) {
        let t = *v;
        *v = if n < 5 {
            (t & 8) | GRAY[(t & 7) as usize]
        } else {
            GRAY[(t & 7) as usize]
        };
    }
}

/// `cbsearch`: the fixed codebook search of a subframe. `x` is the target, `h` the impulse
/// response (changed by the pitch sharpening, as in the reference), `res2` the LTP residual;
/// the indices go into `ana` from `*p`.
pub(crate) fn cbsearch(
    x: &[i16; L_CODE],
    h: &mut [i16; 2 * L_CODE],
    t0: i16,
    pitch_sharp: i16,
    gain_pit: i16,
    res2: &[i16],
    code: &mut [i16; L_CODE],
    y: &mut [i16; L_CODE],
    ana: &mut [i16],
    p: &mut usize,
    mode: Mode,
    sub_nr: usize,
) {
    let t0u = t0 as usize;
    match mode {
        Mode::MR475 | Mode::MR515 => {
            let (i, s) = code_2i40_9bits(sub_nr, x, h, t0u, pitch_sharp, code, y);
            ana[*p] = i;
            ana[*p + 1] = s;
            *p += 2;
        }
        Mode::MR59 => {
            let (i, s) = code_2i40_11bits(x, h, t0u, pitch_sharp, code, y);
            ana[*p] = i;
            ana[*p + 1] = s;
            *p += 2;
        }
        Mode::MR67 => {
            let (i, s) = code_3i40_14bits(x, h, t0u, pitch_sharp, code, y);
            ana[*p] = i;
            ana[*p + 1] = s;
            *p += 2;
        }
        Mode::MR74 | Mode::MR795 => {
            let (i, s) = code_4i40_17bits(x, h, t0u, pitch_sharp, code, y);
            ana[*p] = i;
            ana[*p + 1] = s;
            *p += 2;
        }
        Mode::MR102 => {
            let sharp = shl(pitch_sharp, 1);
            sharpen(&mut h[L_CODE..], t0u, t0u, sharp);
            code_8i40_31bits(x, res2, h, code, y, &mut ana[*p..*p + 7]);
            *p += 7;
            sharpen(code, t0u, t0u, sharp);
        }
        Mode::MR122 => {
            let sharp = shl(gain_pit, 1);
            for i in t0u..L_CODE {
                let t = ((i32::from(h[L_CODE + i - t0u]) * i32::from(sharp)) >> 15) as i16;
                h[L_CODE + i] = add(h[L_CODE + i], t);
            }
            code_10i40_35bits(x, res2, h, code, y, &mut ana[*p..*p + 10]);
            *p += 10;
            sharpen(code, t0u, t0u, sharp);
        }
    }
}
