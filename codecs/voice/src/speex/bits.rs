//! `SpeexBits` reading (libspeex `bits.c`): MSB-first, and reads past the end return 0 and set
//! a sticky overflow flag instead of failing.

/// A bit reader over one frame.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    overflow: bool,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            overflow: false,
        }
    }

    fn nb_bits(&self) -> usize {
        self.data.len() * 8
    }

    /// `speex_bits_remaining`: -1 once overflowed.
    pub(super) fn remaining(&self) -> isize {
        if self.overflow {
            -1
        } else {
            (self.nb_bits() - self.pos) as isize
        }
    }

    fn bit(&self, pos: usize) -> u32 {
        u32::from((self.data[pos / 8] >> (7 - pos % 8)) & 1)
    }

    /// `speex_bits_unpack_unsigned`.
    pub(super) fn unpack(&mut self, n: usize) -> u32 {
        if self.pos + n > self.nb_bits() {
            self.overflow = true;
        }
        if self.overflow {
            return 0;
        }
        let mut d = 0u32;
        for _ in 0..n {
            d = (d << 1) | self.bit(self.pos);
            self.pos += 1;
        }
        d
    }

    /// `speex_bits_peek`.
    pub(super) fn peek(&mut self) -> u32 {
        if self.pos + 1 > self.nb_bits() {
            self.overflow = true;
        }
        if self.overflow {
            return 0;
        }
        self.bit(self.pos)
    }

    /// `speex_bits_advance`.
    pub(super) fn advance(&mut self, n: usize) {
        if self.pos + n > self.nb_bits() || self.overflow {
            self.overflow = true;
        } else {
            self.pos += n;
        }
    }
}
