//! A cursor over one packet that cannot over-read.
//!
//! Every access is checked and fails with a [`DecodeError`] that carries the offset of the
//! field, the packet type and the protocol version; nothing indexes the buffer. Fields are
//! sliced out of the shared [`Bytes`], never copied.

use bytes::Bytes;

use crate::error::{DecodeError, ErrorKind};
use crate::packet::PacketType;
use crate::string::{MqttString, StringProblem};
use crate::types::ProtocolVersion;
use crate::varint::{VarInt, VarIntError};

pub(crate) struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
    /// Exclusive end of this window (the end of the packet, or of a property block).
    end: usize,
    pub(crate) version: ProtocolVersion,
    pub(crate) packet_type: Option<PacketType>,
}

impl<'a> Reader<'a> {
    /// A reader over `buf[pos..end]`; offsets in errors count from the start of `buf`.
    #[inline]
    pub(crate) fn new(buf: &'a Bytes, pos: usize, end: usize, version: ProtocolVersion) -> Self {
        let end = end.min(buf.len());
        Reader {
            buf,
            pos: pos.min(end),
            end,
            version,
            packet_type: None,
        }
    }

    #[inline]
    pub(crate) fn error(&self, kind: ErrorKind) -> DecodeError {
        self.error_at(kind, self.pos)
    }

    #[inline]
    pub(crate) fn error_at(&self, kind: ErrorKind, offset: usize) -> DecodeError {
        DecodeError::new(kind, offset, self.packet_type, self.version)
    }

    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    #[inline]
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(self.error(ErrorKind::Truncated { field }));
        }
        let start = self.pos;
        self.pos += n;
        // In bounds: start + n <= end <= buf.len().
        Ok(self.buf.get(start..start + n).unwrap_or_default())
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let b = self.take(1, field)?;
        Ok(b.first().copied().unwrap_or_default())
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes(b.try_into().unwrap_or_default()))
    }

    #[inline]
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes(b.try_into().unwrap_or_default()))
    }

    /// A Variable Byte Integer; non-minimal forms are an error under 5.0 (MQTT-1.5.5-1).
    #[inline]
    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let start = self.pos;
        let window = self.buf.get(start..self.end).unwrap_or_default();
        match VarInt::decode(window) {
            Ok((value, used, minimal)) => {
                self.pos += used;
                if !minimal && self.version.is_v5() {
                    return Err(self.error_at(ErrorKind::VarIntNotMinimal { field }, start));
                }
                Ok(value)
            }
            Err(VarIntError::Incomplete) => Err(self.error(ErrorKind::Truncated { field })),
            Err(VarIntError::TooLong) => {
                Err(self.error_at(ErrorKind::VarIntTooLong { field }, start))
            }
        }
    }

    /// `n` bytes, shared with the packet buffer.
    #[inline]
    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        if n > self.remaining() {
            return Err(self.error(ErrorKind::Truncated { field }));
        }
        let start = self.pos;
        self.pos += n;
        Ok(self.buf.slice(start..start + n))
    }

    /// Binary Data: a two-byte length and that many bytes (§1.5.6).
    #[inline]
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        let len = self.u16(field)?;
        // A length running past the packet is reported at the field, not after its prefix.
        self.bytes(usize::from(len), field)
            .map_err(|e| DecodeError { offset: start, ..e })
    }

    /// UTF-8 Encoded String: a two-byte length and that many bytes of UTF-8 (§1.5.3/§1.5.4).
    #[inline]
    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        let start = self.pos;
        let raw = self.binary(field)?;
        MqttString::from_wire(raw).map_err(|problem| {
            let kind = match problem {
                StringProblem::IllFormed => ErrorKind::InvalidUtf8 { field },
                StringProblem::NullCharacter => ErrorKind::NullCharacter { field },
            };
            self.error_at(kind, start)
        })
    }

    /// Everything up to the end of the window (a payload).
    #[inline]
    pub(crate) fn rest(&mut self) -> Bytes {
        let start = self.pos;
        self.pos = self.end;
        self.buf.slice(start..self.end)
    }

    /// A reader over the next `len` bytes, which this reader then skips: the inner parser
    /// stops at the declared length.
    #[inline]
    pub(crate) fn sub(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<Reader<'a>, DecodeError> {
        if len > self.remaining() {
            return Err(self.error(ErrorKind::Truncated { field }));
        }
        let sub = Reader {
            buf: self.buf,
            pos: self.pos,
            end: self.pos + len,
            version: self.version,
            packet_type: self.packet_type,
        };
        self.pos += len;
        Ok(sub)
    }

    /// Fails if anything is left in the window.
    #[inline]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(self.error(ErrorKind::TrailingBytes { count })),
        }
    }
}
