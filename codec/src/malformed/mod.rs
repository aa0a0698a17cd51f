//! Deliberately malformed packets, for scenarios that must send what the spec forbids.
//!
//! Start from a valid packet ([`Malformed::from_packet`]) or raw bytes, then apply
//! [`Tamper`]s: rewrite the Remaining Length, the fixed-header flags or type, encode a
//! Variable Byte Integer non-minimally, replace any field's bytes (invalid UTF-8 in a
//! string, an unknown property identifier, …), declare a wrong string or property length,
//! truncate or extend. Each edit keeps the enclosing lengths consistent unless the edit is
//! itself about a length, so exactly one rule is broken at a time.
//!
//! Duplicated and misplaced properties, packet identifier 0, wildcards in topic names and
//! empty SUBSCRIBE payloads need no tampering: the encoder writes whatever the packet
//! holds.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use bytes::Bytes;

use crate::error::EncodeError;
use crate::packet::Packet;
use crate::types::ProtocolVersion;
use crate::varint::{self, MAX_VARINT, VarInt};
use crate::writer::{Layout, SpanKind};

/// A field of an encoded packet: its name as decode errors name it (`"topic name"`,
/// `"packet identifier"`, `"properties"`, `"user property value"`, `"remaining length"`, …)
/// and which occurrence (0-based). Written `name` or `name[n]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRef {
    pub name: String,
    pub nth: usize,
}

impl FieldRef {
    pub fn new(name: impl Into<String>) -> Self {
        FieldRef {
            name: name.into(),
            nth: 0,
        }
    }

    pub fn nth(name: impl Into<String>, nth: usize) -> Self {
        FieldRef {
            name: name.into(),
            nth,
        }
    }
}

impl FromStr for FieldRef {
    type Err = TamperError;
    fn from_str(s: &str) -> Result<Self, TamperError> {
        let s = s.trim();
        match s.strip_suffix(']').and_then(|s| s.rsplit_once('[')) {
            Some((name, n)) => {
                let nth = n
                    .trim()
                    .parse()
                    .map_err(|_| TamperError::BadFieldRef(s.to_owned()))?;
                Ok(FieldRef::nth(name.trim(), nth))
            }
            None => Ok(FieldRef::new(s)),
        }
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nth == 0 {
            f.write_str(&self.name)
        } else {
            write!(f, "{}[{}]", self.name, self.nth)
        }
    }
}

/// Where [`Tamper::Insert`] puts its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Start,
    End,
}

/// One deliberate violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Set the low nibble of the first byte (reserved flags, DUP/QoS/RETAIN).
    FixedHeaderFlags(u8),
    /// Set the high nibble of the first byte (reserved packet types 0 and 15).
    PacketType(u8),
    /// Declare this Remaining Length; the body stays as it is.
    RemainingLength(u32),
    /// Write these bytes as the Remaining Length (5 bytes, a never-ending continuation, …).
    RemainingLengthBytes(Vec<u8>),
    /// Encode a Variable Byte Integer with `width` bytes instead of the minimum: the
    /// `"remaining length"`, a `"property length"`, or a VBI field such as
    /// `"subscription identifier"`.
    NonMinimal { field: FieldRef, width: usize },
    /// Replace a field's content (not its length prefix) and fix every enclosing length.
    Replace { field: FieldRef, bytes: Vec<u8> },
    /// Insert bytes at the start or end of a field's content (a string, a property block,
    /// the body) and fix every enclosing length.
    Insert {
        field: FieldRef,
        position: Position,
        bytes: Vec<u8>,
    },
    /// Declare a string or binary length that disagrees with the content.
    FieldLength { field: FieldRef, length: u16 },
    /// Declare a Property Length that disagrees with the properties.
    PropertyLength { nth: usize, length: u32 },
    /// Remove the last `count` bytes; with `fix_length`, also shrink the Remaining Length.
    Truncate { count: usize, fix_length: bool },
    /// Append bytes; with `fix_length`, also grow the Remaining Length.
    Append { bytes: Vec<u8>, fix_length: bool },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TamperError {
    Encode(EncodeError),
    /// No field of that name (or not that many).
    NoSuchField(String),
    BadFieldRef(String),
    /// The field is not of a kind the edit applies to.
    WrongKind {
        field: String,
        expected: &'static str,
    },
    /// A value that no Variable Byte Integer can carry.
    TooLarge(u64),
    /// Raw bytes have no field layout to edit.
    NoLayout,
}

impl fmt::Display for TamperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TamperError::Encode(e) => write!(f, "cannot encode the packet: {e}"),
            TamperError::NoSuchField(name) => write!(f, "the packet has no field `{name}`"),
            TamperError::BadFieldRef(s) => {
                write!(f, "`{s}` is not a field reference (name or name[n])")
            }
            TamperError::WrongKind { field, expected } => write!(f, "`{field}` is not {expected}"),
            TamperError::TooLarge(v) => write!(f, "{v} does not fit a Variable Byte Integer"),
            TamperError::NoLayout => f.write_str("raw bytes have no fields to edit"),
        }
    }
}

impl std::error::Error for TamperError {}

impl From<EncodeError> for TamperError {
    fn from(e: EncodeError) -> Self {
        TamperError::Encode(e)
    }
}

/// Bytes of a packet being malformed, with the layout of its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed {
    bytes: Vec<u8>,
    layout: Option<Layout>,
}

impl Malformed {
    /// The valid encoding of `packet`, ready to be tampered with.
    pub fn from_packet(packet: &Packet, version: ProtocolVersion) -> Result<Self, EncodeError> {
        let (bytes, layout) = packet.encode_with_layout(version)?;
        Ok(Malformed {
            bytes,
            layout: Some(layout),
        })
    }

    /// Raw bytes, sent as they are; only whole-buffer edits (truncate, append) apply.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        Malformed {
            bytes: bytes.into(),
            layout: None,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Bytes {
        Bytes::from(self.bytes)
    }

    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }

    /// Applies one edit.
    pub fn apply(&mut self, tamper: &Tamper) -> Result<&mut Self, TamperError> {
        match tamper {
            Tamper::FixedHeaderFlags(flags) => {
                if let Some(first) = self.bytes.first_mut() {
                    *first = (*first & 0xF0) | (flags & 0x0F);
                }
            }
            Tamper::PacketType(t) => {
                if let Some(first) = self.bytes.first_mut() {
                    *first = (*first & 0x0F) | (t << 4);
                }
            }
            Tamper::RemainingLength(value) => {
                let body = self.body()?;
                let encoded = encode_varint(u64::from(*value))?;
                self.set_prefix_bytes(body, &encoded);
            }
            Tamper::RemainingLengthBytes(raw) => {
                let body = self.body()?;
                self.set_prefix_bytes(body, raw);
            }
            Tamper::NonMinimal { field, width } => self.non_minimal(field, *width)?,
            Tamper::Replace { field, bytes } => {
                let i = self.find(field)?;
                let content = self.span(i).content.clone();
                if content.is_empty() {
                    self.splice_inside(i, content.start, bytes);
                } else {
                    self.splice(content, bytes);
                }
                self.fix_lengths(i);
            }
            Tamper::Insert {
                field,
                position,
                bytes,
            } => {
                let i = self.find(field)?;
                let content = self.span(i).content.clone();
                let at = match position {
                    Position::Start => content.start,
                    Position::End => content.end,
                };
                self.splice_inside(i, at, bytes);
                self.fix_lengths(i);
            }
            Tamper::FieldLength { field, length } => {
                let i = self.find(field)?;
                let span = self.span(i).clone();
                if !span.kind.has_u16_prefix() {
                    return Err(TamperError::WrongKind {
                        field: field.to_string(),
                        expected: "a string or binary field",
                    });
                }
                self.overwrite(span.prefix.start, &length.to_be_bytes());
            }
            Tamper::PropertyLength { nth, length } => {
                let i = self.find_kind(SpanKind::Properties, *nth)?;
                let encoded = encode_varint(u64::from(*length))?;
                self.set_prefix_bytes(i, &encoded);
            }
            Tamper::Truncate { count, fix_length } => {
                let keep = self.bytes.len().saturating_sub(*count);
                let cut = keep..self.bytes.len();
                self.splice(cut, &[]);
                if *fix_length {
                    self.fix_body_length()?;
                }
            }
            Tamper::Append { bytes, fix_length } => {
                let end = self.bytes.len();
                match self.layout.as_ref().and_then(|_| self.body().ok()) {
                    Some(body) => self.splice_inside(body, end, bytes),
                    None => self.bytes.extend_from_slice(bytes),
                }
                if *fix_length {
                    self.fix_body_length()?;
                }
            }
        }
        Ok(self)
    }

    /// Applies several edits in order.
    pub fn apply_all<'t>(
        &mut self,
        tampers: impl IntoIterator<Item = &'t Tamper>,
    ) -> Result<&mut Self, TamperError> {
        for t in tampers {
            self.apply(t)?;
        }
        Ok(self)
    }

    fn layout_ref(&self) -> Result<&Layout, TamperError> {
        self.layout.as_ref().ok_or(TamperError::NoLayout)
    }

    fn span(&self, i: usize) -> &crate::writer::Span {
        // Indices come from `find*`, which only returns existing spans.
        &self.layout.as_ref().expect("layout checked by find").spans[i]
    }

    fn body(&self) -> Result<usize, TamperError> {
        self.find_kind(SpanKind::Body, 0)
    }

    fn find(&self, field: &FieldRef) -> Result<usize, TamperError> {
        let layout = self.layout_ref()?;
        let found = match field.name.as_str() {
            "remaining length" | "body" => {
                layout.spans.iter().position(|s| s.kind == SpanKind::Body)
            }
            "property length" => layout
                .spans
                .iter()
                .enumerate()
                .filter(|(_, s)| s.kind == SpanKind::Properties)
                .map(|(i, _)| i)
                .nth(field.nth),
            name => layout.find(name, field.nth),
        };
        found.ok_or_else(|| TamperError::NoSuchField(field.to_string()))
    }

    fn find_kind(&self, kind: SpanKind, nth: usize) -> Result<usize, TamperError> {
        let layout = self.layout_ref()?;
        layout
            .spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind == kind)
            .map(|(i, _)| i)
            .nth(nth)
            .ok_or_else(|| TamperError::NoSuchField(format!("{kind:?}[{nth}]")))
    }

    fn non_minimal(&mut self, field: &FieldRef, width: usize) -> Result<(), TamperError> {
        let i = self.find(field)?;
        let span = self.span(i).clone();
        if span.kind.has_varint_prefix() {
            // Remaining Length or Property Length.
            let value = span.content.len() as u32;
            self.set_prefix_bytes(i, &varint::encode_padded(value, width));
            // A wider Property Length grows the enclosing lengths.
            self.fix_ancestors(i);
            Ok(())
        } else if span.kind == SpanKind::VarInt {
            let raw = self.bytes.get(span.content.clone()).unwrap_or_default();
            let (value, _, _) = VarInt::decode(raw).map_err(|_| TamperError::WrongKind {
                field: field.to_string(),
                expected: "a Variable Byte Integer",
            })?;
            self.splice(span.content.clone(), &varint::encode_padded(value, width));
            self.fix_lengths(i);
            Ok(())
        } else {
            Err(TamperError::WrongKind {
                field: field.to_string(),
                expected: "a Variable Byte Integer",
            })
        }
    }

    /// Replaces the length prefix of span `i` with `encoded`, moving everything after it.
    fn set_prefix_bytes(&mut self, i: usize, encoded: &[u8]) {
        let prefix = self.span(i).prefix.clone();
        self.splice(prefix, encoded);
    }

    fn overwrite(&mut self, at: usize, data: &[u8]) {
        if let Some(dst) = self.bytes.get_mut(at..at + data.len()) {
            dst.copy_from_slice(data);
        }
    }

    /// Replaces `range` with `with` and moves every recorded span accordingly: spans after
    /// it shift, spans around it grow or shrink.
    ///
    /// A range past the end is cut back to it, and spans that lose bytes to the edit keep
    /// what is left of them (a truncation may eat the fixed header itself): every span stays
    /// inside the buffer, so later edits cannot index outside it.
    fn splice(&mut self, range: Range<usize>, with: &[u8]) {
        let end = range.end.min(self.bytes.len());
        let range = range.start.min(end)..end;
        let delta = with.len() as isize - range.len() as isize;
        self.bytes.splice(range.clone(), with.iter().copied());
        // Where a position before the edit is after it.
        let map = |p: usize| {
            if p >= range.end {
                shift(p, delta)
            } else if p <= range.start {
                p
            } else {
                range.start + (p - range.start).min(with.len())
            }
        };
        if let Some(layout) = self.layout.as_mut() {
            for span in &mut layout.spans {
                for r in [&mut span.prefix, &mut span.content] {
                    let (start, end) = (map(r.start), map(r.end));
                    *r = start..end.max(start);
                }
            }
        }
    }

    /// Inserts `with` at `at`, counted as inside span `i` and its ancestors.
    fn splice_inside(&mut self, i: usize, at: usize, with: &[u8]) {
        let delta = with.len();
        self.bytes.splice(at..at, with.iter().copied());
        let Some(layout) = self.layout.as_mut() else {
            return;
        };
        let mut inside = layout.ancestors(i);
        inside.push(i);
        for (j, span) in layout.spans.iter_mut().enumerate() {
            if inside.contains(&j) {
                span.content.end += delta;
                continue;
            }
            for r in [&mut span.prefix, &mut span.content] {
                if r.start >= at {
                    r.start += delta;
                    r.end += delta;
                } else if r.end > at {
                    r.end += delta;
                }
            }
        }
    }

    /// After span `i`'s content changed size: rewrite its own length prefix, then each
    /// enclosing one, innermost first.
    fn fix_lengths(&mut self, i: usize) {
        let span = self.span(i).clone();
        if span.kind.has_u16_prefix() {
            let len = u16::try_from(span.content.len()).unwrap_or(u16::MAX);
            self.overwrite(span.prefix.start, &len.to_be_bytes());
        } else if span.kind.has_varint_prefix() {
            self.rewrite_varint_prefix(i);
        }
        self.fix_ancestors(i);
    }

    fn fix_ancestors(&mut self, i: usize) {
        let ancestors = self
            .layout
            .as_ref()
            .map(|l| l.ancestors(i))
            .unwrap_or_default();
        for a in ancestors {
            if self.span(a).kind.has_varint_prefix() {
                self.rewrite_varint_prefix(a);
            }
        }
    }

    fn rewrite_varint_prefix(&mut self, i: usize) {
        let len = self.span(i).content.len() as u64;
        let encoded = encode_varint(len).unwrap_or_else(|_| vec![0xFF, 0xFF, 0xFF, 0x7F]);
        self.set_prefix_bytes(i, &encoded);
    }

    fn fix_body_length(&mut self) -> Result<(), TamperError> {
        match self.layout {
            Some(_) => {
                let body = self.body()?;
                // The body now runs to the end of the buffer.
                let end = self.bytes.len();
                if let Some(layout) = self.layout.as_mut()
                    && let Some(span) = layout.spans.get_mut(body)
                {
                    span.content.end = end;
                }
                self.rewrite_varint_prefix(body);
                Ok(())
            }
            None => {
                // Raw bytes: re-derive the Remaining Length from the first byte's position.
                if self.bytes.is_empty() {
                    return Ok(());
                }
                let old = VarInt::decode(self.bytes.get(1..).unwrap_or_default())
                    .map(|(_, used, _)| used)
                    .unwrap_or(0);
                let body_len = self.bytes.len().saturating_sub(1 + old);
                let encoded = encode_varint(body_len as u64)?;
                self.bytes.splice(1..1 + old, encoded);
                Ok(())
            }
        }
    }
}

fn shift(x: usize, delta: isize) -> usize {
    x.saturating_add_signed(delta)
}

fn encode_varint(value: u64) -> Result<Vec<u8>, TamperError> {
    let v = u32::try_from(value)
        .ok()
        .filter(|&v| v <= MAX_VARINT)
        .ok_or(TamperError::TooLarge(value))?;
    let mut out = Vec::with_capacity(4);
    varint::write(v, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests;
