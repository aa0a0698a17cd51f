//! tokio-util `Decoder`/`Encoder` for [`MqttCodec`] (feature `tokio`).

use std::{fmt, io};

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::{DecodeError, EncodeError, Packet, PacketDecoder, ProtocolVersion};

/// A framed MQTT codec: decodes with a [`PacketDecoder`], encodes for its current version.
#[derive(Clone, Debug)]
pub struct MqttCodec {
    pub decoder: PacketDecoder,
}

impl MqttCodec {
    pub fn new(version: ProtocolVersion) -> Self {
        MqttCodec {
            decoder: PacketDecoder::new(version),
        }
    }
}

/// What a framed MQTT stream can fail with.
#[derive(Debug)]
pub enum CodecError {
    Decode(DecodeError),
    Encode(EncodeError),
    Io(io::Error),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Decode(e) => e.fmt(f),
            CodecError::Encode(e) => e.fmt(f),
            CodecError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for CodecError {}

impl From<io::Error> for CodecError {
    fn from(e: io::Error) -> Self {
        CodecError::Io(e)
    }
}

impl Decoder for MqttCodec {
    type Item = Packet;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Packet>, CodecError> {
        self.decoder.decode(src).map_err(CodecError::Decode)
    }
}

impl Encoder<Packet> for MqttCodec {
    type Error = CodecError;

    fn encode(&mut self, packet: Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        packet
            .encode(self.decoder.version(), dst)
            .map_err(CodecError::Encode)
    }
}

impl Encoder<&Packet> for MqttCodec {
    type Error = CodecError;

    fn encode(&mut self, packet: &Packet, dst: &mut BytesMut) -> Result<(), CodecError> {
        packet
            .encode(self.decoder.version(), dst)
            .map_err(CodecError::Encode)
    }
}
