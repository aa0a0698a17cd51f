//! The 15 control packets (3.1.1 chapter 3, 5.0 chapter 3), one module each, plus the fixed
//! header. Each module has the packet's struct, its body decoder (`decode`, given the fixed
//! header and a reader over the body) and its body encoder.

mod auth;
mod connack;
mod connect;
mod disconnect;
mod fixed_header;
mod publish;
mod publish_ack;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

use bytes::{Bytes, BytesMut};

pub use auth::Auth;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use disconnect::Disconnect;
pub use fixed_header::{FixedHeader, PacketType};
pub use publish::Publish;
pub use publish_ack::PublishAck;
pub use suback::SubAck;
pub use subscribe::{Subscribe, Subscription};
pub use unsuback::UnsubAck;
pub use unsubscribe::Unsubscribe;

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::reader::Reader;
use crate::types::ProtocolVersion;
use crate::varint::{self, MAX_VARINT};
use crate::writer::{Layout, SpanKind, Writer};

/// An MQTT control packet. Fields that only 5.0 has (properties, most reason codes) are
/// empty or default under 3.1/3.1.1.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Packet {
    Connect(Connect),
    ConnAck(ConnAck),
    Publish(Publish),
    PubAck(PublishAck),
    PubRec(PublishAck),
    PubRel(PublishAck),
    PubComp(PublishAck),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

impl Packet {
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// The packet's property block (a CONNECT's own, not its Will's); `None` for PINGREQ
    /// and PINGRESP, which have none. Empty under 3.1/3.1.1.
    pub fn properties_mut(&mut self) -> Option<&mut crate::Properties> {
        Some(match self {
            Packet::Connect(c) => &mut c.properties,
            Packet::ConnAck(c) => &mut c.properties,
            Packet::Publish(p) => &mut p.properties,
            Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
                &mut a.properties
            }
            Packet::Subscribe(s) => &mut s.properties,
            Packet::SubAck(s) => &mut s.properties,
            Packet::Unsubscribe(u) => &mut u.properties,
            Packet::UnsubAck(u) => &mut u.properties,
            Packet::Disconnect(d) => &mut d.properties,
            Packet::Auth(a) => &mut a.properties,
            Packet::PingReq | Packet::PingResp => return None,
        })
    }

    /// Decodes exactly one packet that fills `bytes`, with no size limit beyond the
    /// protocol's. Bytes after the packet are an error.
    pub fn decode(bytes: &Bytes, version: ProtocolVersion) -> Result<Packet, DecodeError> {
        match Self::decode_prefix(bytes, version, u32::MAX)? {
            Some((packet, used)) if used == bytes.len() => Ok(packet),
            Some((packet, used)) => Err(DecodeError::new(
                ErrorKind::TrailingBytes {
                    count: bytes.len() - used,
                },
                used,
                Some(packet.packet_type()),
                version,
            )),
            None => {
                let t = bytes
                    .first()
                    .and_then(|b| PacketType::from_nibble(b >> 4, version));
                Err(DecodeError::new(
                    ErrorKind::Incomplete,
                    bytes.len(),
                    t,
                    version,
                ))
            }
        }
    }

    /// Decodes the packet at the front of `bytes`: `Ok(None)` if `bytes` does not yet hold
    /// all of it, else the packet and the number of bytes it took.
    pub fn decode_prefix(
        bytes: &Bytes,
        version: ProtocolVersion,
        max_packet_size: u32,
    ) -> Result<Option<(Packet, usize)>, DecodeError> {
        let Some(header) = FixedHeader::parse(bytes, version, max_packet_size)? else {
            return Ok(None);
        };
        let len = header.packet_len();
        if bytes.len() < len {
            return Ok(None);
        }
        Self::decode_body(&header, bytes, version).map(|p| Some((p, len)))
    }

    /// Decodes a packet whose fixed header was already parsed; `packet` holds the whole
    /// packet, fixed header first (error offsets count from there).
    #[inline]
    pub fn decode_body(
        header: &FixedHeader,
        packet: &Bytes,
        version: ProtocolVersion,
    ) -> Result<Packet, DecodeError> {
        let mut r = Reader::new(packet, header.header_len, header.packet_len(), version);
        r.packet_type = Some(header.packet_type);
        if r.remaining() < header.remaining_length as usize {
            return Err(r.error_at(ErrorKind::Incomplete, packet.len()));
        }
        let t = header.packet_type;
        let p = match t {
            PacketType::Connect => Packet::Connect(Connect::decode(header, &mut r)?),
            PacketType::ConnAck => Packet::ConnAck(ConnAck::decode(&mut r)?),
            PacketType::Publish => Packet::Publish(Publish::decode(header, &mut r)?),
            PacketType::PubAck => Packet::PubAck(PublishAck::decode(t, &mut r)?),
            PacketType::PubRec => Packet::PubRec(PublishAck::decode(t, &mut r)?),
            PacketType::PubRel => Packet::PubRel(PublishAck::decode(t, &mut r)?),
            PacketType::PubComp => Packet::PubComp(PublishAck::decode(t, &mut r)?),
            PacketType::Subscribe => Packet::Subscribe(Subscribe::decode(&mut r)?),
            PacketType::SubAck => Packet::SubAck(SubAck::decode(&mut r)?),
            PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode(&mut r)?),
            PacketType::UnsubAck => Packet::UnsubAck(UnsubAck::decode(&mut r)?),
            PacketType::PingReq => {
                r.finish()?;
                Packet::PingReq
            }
            PacketType::PingResp => {
                r.finish()?;
                Packet::PingResp
            }
            PacketType::Disconnect => Packet::Disconnect(Disconnect::decode(&mut r)?),
            PacketType::Auth => Packet::Auth(Auth::decode(&mut r)?),
        };
        Ok(p)
    }

    /// Appends the packet's wire form to `buf`. CONNECT is encoded for its own `protocol`;
    /// every other packet for `version`. On error nothing is appended.
    #[inline]
    pub fn encode(&self, version: ProtocolVersion, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        let result = self.write(version, &mut Writer::new(buf));
        if result.is_err() {
            buf.truncate(start);
        }
        result
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self, version: ProtocolVersion) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len(version));
        self.encode(version, &mut buf)?;
        Ok(buf.freeze())
    }

    /// The wire form and where every field lies in it (for [`crate::malformed`]).
    pub fn encode_with_layout(
        &self,
        version: ProtocolVersion,
    ) -> Result<(Vec<u8>, Layout), EncodeError> {
        let mut buf = BytesMut::new();
        let mut layout = Layout::default();
        self.write(version, &mut Writer::with_layout(&mut buf, &mut layout))?;
        Ok((buf.to_vec(), layout))
    }

    /// Bytes the packet takes on the wire (fixed header included).
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + varint::len_of(u32::try_from(body).unwrap_or(u32::MAX)) + body
    }

    fn flags(&self) -> u8 {
        match self {
            Packet::Publish(p) => p.flags(),
            other => other.packet_type().required_flags().unwrap_or(0),
        }
    }

    #[inline]
    fn body_len(&self, v: ProtocolVersion) -> usize {
        match self {
            Packet::Connect(p) => p.body_len(),
            Packet::ConnAck(p) => p.body_len(v),
            Packet::Publish(p) => p.body_len(v),
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.body_len(v)
            }
            Packet::Subscribe(p) => p.body_len(v),
            Packet::SubAck(p) => p.body_len(v),
            Packet::Unsubscribe(p) => p.body_len(v),
            Packet::UnsubAck(p) => p.body_len(v),
            Packet::PingReq | Packet::PingResp => 0,
            Packet::Disconnect(p) => p.body_len(v),
            Packet::Auth(p) => p.body_len(),
        }
    }

    #[inline]
    pub(crate) fn write(
        &self,
        version: ProtocolVersion,
        w: &mut Writer<'_>,
    ) -> Result<(), EncodeError> {
        let v = match self {
            Packet::Connect(c) => c.protocol,
            _ => version,
        };
        let t = self.packet_type();
        if t == PacketType::Auth && !v.is_v5() {
            return Err(EncodeError::NotInVersion {
                what: "AUTH",
                version: v,
            });
        }
        let body_len = self.body_len(v);
        let body32 = u32::try_from(body_len)
            .ok()
            .filter(|&l| l <= MAX_VARINT)
            .ok_or(EncodeError::PacketTooLarge { len: body_len })?;
        w.u8("fixed header", ((t as u8) << 4) | self.flags());
        let prefix_start = w.buf.len();
        varint::write(body32, w.buf);
        w.open("body", SpanKind::Body, prefix_start);
        let body_start = w.buf.len();
        match self {
            Packet::Connect(p) => p.write(w)?,
            Packet::ConnAck(p) => p.write(v, w)?,
            Packet::Publish(p) => p.write(v, w)?,
            Packet::PubAck(p) | Packet::PubRec(p) | Packet::PubRel(p) | Packet::PubComp(p) => {
                p.write(v, w)?
            }
            Packet::Subscribe(p) => p.write(v, w)?,
            Packet::SubAck(p) => p.write(v, w)?,
            Packet::Unsubscribe(p) => p.write(v, w)?,
            Packet::UnsubAck(p) => p.write(v, w)?,
            Packet::PingReq | Packet::PingResp => {}
            Packet::Disconnect(p) => p.write(v, w)?,
            Packet::Auth(p) => p.write(w)?,
        }
        w.close();
        debug_assert_eq!(w.buf.len() - body_start, body_len, "{t} body length");
        Ok(())
    }
}

/// 5.0-only content in a packet encoded for 3.1/3.1.1 cannot be written.
pub(crate) fn require_v5(
    version: ProtocolVersion,
    present: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    if present && !version.is_v5() {
        Err(EncodeError::NotInVersion { what, version })
    } else {
        Ok(())
    }
}

/// A Packet Identifier that must be non-zero (MQTT-2.3.1-1, MQTT-2.2.1-3 and kin).
pub(crate) fn read_packet_id(r: &mut Reader<'_>) -> Result<u16, DecodeError> {
    let at = r.position();
    let id = r.u16("packet identifier")?;
    if id == 0 {
        return Err(r.error_at(ErrorKind::PacketIdZero, at));
    }
    Ok(id)
}

macro_rules! from_packet {
    ($($t:ident),*) => {$(
        impl From<$t> for Packet {
            fn from(p: $t) -> Packet { Packet::$t(p) }
        }
    )*};
}
from_packet!(
    Connect,
    ConnAck,
    Publish,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth
);
