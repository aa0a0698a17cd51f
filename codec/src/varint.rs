//! Variable Byte Integer (5.0 §1.5.5; the Remaining Length encoding of 3.1.1 §2.2.3).
//!
//! Seven bits per byte, least significant group first, the high bit set on every byte but
//! the last; at most four bytes, so the largest value is 268,435,455.

use std::fmt;

/// The largest value a Variable Byte Integer can carry.
pub const MAX_VARINT: u32 = 268_435_455;

/// A value that fits a Variable Byte Integer (at most [`MAX_VARINT`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarInt(u32);

/// Why bytes do not form a Variable Byte Integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarIntError {
    /// The input ended while the continuation bit was still set.
    Incomplete,
    /// A fifth byte would be needed: the value does not fit four bytes.
    TooLong,
}

impl VarInt {
    pub const MAX: VarInt = VarInt(MAX_VARINT);

    pub fn new(value: u32) -> Option<VarInt> {
        (value <= MAX_VARINT).then_some(VarInt(value))
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// Number of bytes of the minimal encoding.
    pub fn encoded_len(self) -> usize {
        len_of(self.0)
    }

    /// Decodes from the front of `bytes`: the value, the number of bytes used, and whether
    /// that encoding was the minimal one (MQTT-1.5.5-1).
    pub(crate) fn decode(bytes: &[u8]) -> Result<(u32, usize, bool), VarIntError> {
        let mut value: u32 = 0;
        for (i, &byte) in bytes.iter().take(4).enumerate() {
            value |= u32::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                let used = i + 1;
                // A zero final byte after continuation bytes adds nothing: the encoding could
                // have been shorter.
                let minimal = used == 1 || byte != 0;
                return Ok((value, used, minimal));
            }
        }
        if bytes.len() >= 4 {
            Err(VarIntError::TooLong)
        } else {
            Err(VarIntError::Incomplete)
        }
    }
}

impl fmt::Display for VarInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Bytes needed to encode `value` minimally (values over [`MAX_VARINT`] count 4; encoders
/// reject them before writing).
#[inline]
pub(crate) fn len_of(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Writes `value` (at most [`MAX_VARINT`]) minimally.
#[inline]
pub(crate) fn write(value: u32, out: &mut impl bytes::BufMut) {
    let mut v = value;
    loop {
        let mut byte = (v & 0x7F) as u8;
        v >>= 7;
        if v > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if v == 0 {
            break;
        }
    }
}

/// Encodes `value` padded to `width` bytes (1..=4, or more for deliberately invalid
/// encodings): a non-minimal form that strict receivers must reject (MQTT-1.5.5-1).
pub fn encode_padded(value: u32, width: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(width.max(1));
    let mut v = value;
    let width = width.max(len_of(value));
    for i in 0..width {
        let mut byte = (v & 0x7F) as u8;
        v >>= 7;
        if i + 1 < width {
            byte |= 0x80;
        }
        out.push(byte);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(value: u32) -> Vec<u8> {
        let mut out = Vec::new();
        write(value, &mut out);
        out
    }

    #[test]
    fn boundary_values_match_the_spec_table() {
        // 5.0 §1.5.5 table 1-1.
        for (value, bytes) in [
            (0, &[0x00][..]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ] {
            assert_eq!(encode(value), bytes, "encoding {value}");
            assert_eq!(VarInt::decode(bytes), Ok((value, bytes.len(), true)));
            assert_eq!(len_of(value), bytes.len());
        }
    }

    #[test]
    fn rejects_a_fifth_byte() {
        assert_eq!(
            VarInt::decode(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            Err(VarIntError::TooLong)
        );
        assert_eq!(
            VarInt::decode(&[0x80, 0x80, 0x80, 0x80]),
            Err(VarIntError::TooLong)
        );
    }

    #[test]
    fn incomplete_input_asks_for_more() {
        assert_eq!(VarInt::decode(&[]), Err(VarIntError::Incomplete));
        assert_eq!(VarInt::decode(&[0x80, 0x80]), Err(VarIntError::Incomplete));
    }

    #[test]
    fn flags_non_minimal_encodings() {
        assert_eq!(VarInt::decode(&[0x80, 0x00]), Ok((0, 2, false)));
        assert_eq!(VarInt::decode(&encode_padded(5, 4)), Ok((5, 4, false)));
        assert_eq!(
            encode_padded(300, 1),
            encode(300),
            "never narrower than minimal"
        );
    }

    #[test]
    fn new_rejects_values_over_the_maximum() {
        assert!(VarInt::new(MAX_VARINT).is_some());
        assert!(VarInt::new(MAX_VARINT + 1).is_none());
    }
}
