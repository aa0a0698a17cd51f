//! The encoder's output: a `BytesMut`, and optionally a [`Layout`] of where each field went.
//!
//! Encoding is faithful: it writes what the packet holds, valid or not, and fails only for
//! what the wire cannot carry (lengths over their limits). The layout is what lets
//! [`crate::malformed`] rewrite single fields and fix the enclosing lengths; it is recorded
//! only when asked for, so the normal encoder pays one predictable branch per field.

use std::ops::Range;

use bytes::{BufMut, BytesMut};

use crate::error::EncodeError;
use crate::varint::{self, MAX_VARINT};

/// What a recorded span holds, and so how its length is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// The packet body; its prefix is the Remaining Length.
    Body,
    /// A property block; its prefix is the Property Length.
    Properties,
    /// One property: identifier and value, no prefix of its own.
    Property,
    /// UTF-8 string; its prefix is the two-byte length.
    String,
    /// Binary data; its prefix is the two-byte length.
    Binary,
    /// A Variable Byte Integer value.
    VarInt,
    U8,
    U16,
    U32,
    /// Bytes running to the end of the packet (PUBLISH payload, SUBACK codes).
    Raw,
}

impl SpanKind {
    /// Is the prefix a Variable Byte Integer (else a two-byte integer, or none)?
    pub fn has_varint_prefix(self) -> bool {
        matches!(self, SpanKind::Body | SpanKind::Properties)
    }

    pub fn has_u16_prefix(self) -> bool {
        matches!(self, SpanKind::String | SpanKind::Binary)
    }
}

/// Where one field of an encoded packet lies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The field's name, as decode errors name it (`"topic name"`, `"packet identifier"`,
    /// `"content type"`, …).
    pub name: &'static str,
    pub kind: SpanKind,
    /// The length prefix (empty for kinds without one).
    pub prefix: Range<usize>,
    pub content: Range<usize>,
    /// Index of the enclosing span (body, property block, property).
    pub parent: Option<usize>,
}

/// Every field of one encoded packet, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub spans: Vec<Span>,
    open: Vec<usize>,
}

impl Layout {
    /// The `nth` span called `name` (0-based), in wire order.
    pub fn find(&self, name: &str, nth: usize) -> Option<usize> {
        self.spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name)
            .map(|(i, _)| i)
            .nth(nth)
    }

    /// The chain of enclosing spans of `index`, innermost first.
    pub fn ancestors(&self, index: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = self.spans.get(index).and_then(|s| s.parent);
        while let Some(i) = cur {
            out.push(i);
            cur = self.spans.get(i).and_then(|s| s.parent);
        }
        out
    }
}

pub(crate) struct Writer<'a> {
    pub(crate) buf: &'a mut BytesMut,
    layout: Option<&'a mut Layout>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut BytesMut) -> Self {
        Writer { buf, layout: None }
    }

    pub(crate) fn with_layout(buf: &'a mut BytesMut, layout: &'a mut Layout) -> Self {
        Writer {
            buf,
            layout: Some(layout),
        }
    }

    fn record(
        &mut self,
        name: &'static str,
        kind: SpanKind,
        prefix: Range<usize>,
        content: Range<usize>,
    ) {
        if let Some(layout) = self.layout.as_deref_mut() {
            let parent = layout.open.last().copied();
            layout.spans.push(Span {
                name,
                kind,
                prefix,
                content,
                parent,
            });
        }
    }

    /// Opens a span whose content is written next; close it with [`Writer::close`].
    #[inline]
    pub(crate) fn open(&mut self, name: &'static str, kind: SpanKind, prefix_start: usize) {
        let pos = self.buf.len();
        if let Some(layout) = self.layout.as_deref_mut() {
            let parent = layout.open.last().copied();
            layout.spans.push(Span {
                name,
                kind,
                prefix: prefix_start..pos,
                content: pos..pos,
                parent,
            });
            layout.open.push(layout.spans.len() - 1);
        }
    }

    #[inline]
    pub(crate) fn close(&mut self) {
        let pos = self.buf.len();
        if let Some(layout) = self.layout.as_deref_mut()
            && let Some(i) = layout.open.pop()
            && let Some(span) = layout.spans.get_mut(i)
        {
            span.content.end = pos;
        }
    }

    #[inline]
    pub(crate) fn u8(&mut self, name: &'static str, v: u8) {
        let at = self.buf.len();
        self.buf.put_u8(v);
        self.record(name, SpanKind::U8, at..at, at..at + 1);
    }

    #[inline]
    pub(crate) fn u16(&mut self, name: &'static str, v: u16) {
        let at = self.buf.len();
        self.buf.put_u16(v);
        self.record(name, SpanKind::U16, at..at, at..at + 2);
    }

    #[inline]
    pub(crate) fn u32(&mut self, name: &'static str, v: u32) {
        let at = self.buf.len();
        self.buf.put_u32(v);
        self.record(name, SpanKind::U32, at..at, at..at + 4);
    }

    #[inline]
    pub(crate) fn varint(&mut self, name: &'static str, v: u32) -> Result<(), EncodeError> {
        if v > MAX_VARINT {
            return Err(EncodeError::VarIntTooLarge {
                field: name,
                value: v,
            });
        }
        let at = self.buf.len();
        varint::write(v, self.buf);
        let end = self.buf.len();
        self.record(name, SpanKind::VarInt, at..at, at..end);
        Ok(())
    }

    fn prefixed(
        &mut self,
        name: &'static str,
        kind: SpanKind,
        data: &[u8],
    ) -> Result<(), EncodeError> {
        let len = u16::try_from(data.len()).map_err(|_| EncodeError::FieldTooLong {
            field: name,
            len: data.len(),
        })?;
        let at = self.buf.len();
        self.buf.put_u16(len);
        self.buf.put_slice(data);
        self.record(name, kind, at..at + 2, at + 2..at + 2 + data.len());
        Ok(())
    }

    #[inline]
    pub(crate) fn string(&mut self, name: &'static str, s: &str) -> Result<(), EncodeError> {
        self.prefixed(name, SpanKind::String, s.as_bytes())
    }

    #[inline]
    pub(crate) fn binary(&mut self, name: &'static str, data: &[u8]) -> Result<(), EncodeError> {
        self.prefixed(name, SpanKind::Binary, data)
    }

    #[inline]
    pub(crate) fn raw(&mut self, name: &'static str, data: &[u8]) {
        let at = self.buf.len();
        self.buf.put_slice(data);
        self.record(name, SpanKind::Raw, at..at, at..at + data.len());
    }
}

/// Bytes a string or binary field takes on the wire.
pub(crate) fn prefixed_len(len: usize) -> usize {
    2 + len
}
