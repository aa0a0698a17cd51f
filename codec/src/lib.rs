//! # mqttspec-codec
//!
//! A spec-driven codec for MQTT 3.1, 3.1.1 and 5.0 control packets.
//!
//! * **Strict, total decoding.** Any byte string decodes to a [`Packet`] or to a
//!   [`DecodeError`] that says what broke ([`ErrorKind`]), where (byte offset) and which
//!   normative statement of the specification it violates (e.g. `MQTT-3.3.2-2`). Decoding
//!   never panics and never allocates more than the configured maximum packet size.
//! * **Streaming.** [`PacketDecoder`] takes bytes in any split and enforces the maximum packet
//!   size from the fixed header, before the body is buffered. With the `tokio` feature it
//!   implements tokio-util's `Decoder`/`Encoder`.
//! * **Encoding** of every packet ([`Packet::encode`]), faithful to the structure it is given,
//!   and **deliberate malformation** ([`malformed`]) for conformance scenarios that must send
//!   broken packets.
//! * **Rendering** ([`render`]) of packets and of undecodable bytes, for wire transcripts.
//! * **Topics** ([`topic`]): name and filter validation, matching, shared subscriptions.
//! * **The spec manifest** ([`spec`]): every tagged normative statement of MQTT 3.1.1 and 5.0.
//!
//! The crate is pure: no I/O, no clock, no async runtime.

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

mod error;
pub mod malformed;
pub mod packet;
pub mod properties;
mod reader;
pub mod reason;
pub mod render;
pub mod spec;
mod stream;
mod string;
pub mod topic;
mod types;
mod varint;
pub mod writer;

#[cfg(feature = "tokio")]
mod tokio_codec;
#[cfg(feature = "tokio")]
pub use tokio_codec::{CodecError, MqttCodec};

pub use error::{DecodeError, EncodeError, ErrorKind, Reaction};
pub use packet::{
    Auth, ConnAck, Connect, Disconnect, FixedHeader, Packet, PacketType, Publish, PublishAck,
    SubAck, Subscribe, Subscription, UnsubAck, Unsubscribe, Will,
};
pub use properties::{Properties, Property, PropertyId};
pub use reason::ReasonCode;
pub use stream::{DEFAULT_MAX_PACKET_SIZE, PacketDecoder};
pub use string::MqttString;
pub use types::{ProtocolVersion, QoS, RetainHandling, SubscriptionOptions};
pub use varint::{MAX_VARINT, VarInt};
pub use writer::{Layout, Span, SpanKind};
