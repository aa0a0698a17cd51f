//! PUBLISH – Publish message (3.1.1 §3.3, 5.0 §3.3).

use bytes::Bytes;

use super::FixedHeader;
use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::string::MqttString;
use crate::topic;
use crate::types::{ProtocolVersion, QoS};
use crate::writer::{Writer, prefixed_len};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Publish {
    pub dup: bool,
    pub qos: QoS,
    pub retain: bool,
    /// Empty only in 5.0 with a Topic Alias.
    pub topic: MqttString,
    /// On the wire only at QoS 1 and 2; 0 at QoS 0.
    pub packet_id: u16,
    pub properties: Properties,
    /// Shared with the buffer the packet was decoded from.
    #[cfg_attr(feature = "arbitrary", arbitrary(with = crate::string::arbitrary_bytes))]
    pub payload: Bytes,
}

impl Publish {
    pub fn new(topic: impl Into<MqttString>, qos: QoS, payload: impl Into<Bytes>) -> Self {
        Publish {
            topic: topic.into(),
            qos,
            payload: payload.into(),
            ..Default::default()
        }
    }

    pub(crate) fn flags(&self) -> u8 {
        (u8::from(self.dup) << 3) | (self.qos.as_u8() << 1) | u8::from(self.retain)
    }

    #[inline]
    pub(crate) fn decode(header: &FixedHeader, r: &mut Reader<'_>) -> Result<Publish, DecodeError> {
        // QoS 3 and DUP at QoS 0 were refused with the fixed header.
        let (dup, qos, retain) = header.publish_flags();
        let topic_at = r.position();
        // MQTT-3.3.2-1
        let topic = r.string("topic name")?;
        // MQTT-2.3.1-5 / MQTT-2.2.1-2: a Packet Identifier only at QoS 1 and 2.
        let packet_id = if qos == QoS::AtMostOnce {
            0
        } else {
            super::read_packet_id(r)?
        };
        let properties = if r.version.is_v5() {
            Properties::read(r, PropertyContext::Packet(PacketType::Publish))?
        } else {
            Properties::new()
        };
        if topic.is_empty() && r.version.is_v5() {
            // §3.3.2.3.4: a zero-length Topic Name is how a sender uses an existing alias.
            if properties.topic_alias().is_none() {
                return Err(r.error_at(ErrorKind::EmptyTopicWithoutAlias, topic_at));
            }
        } else {
            // MQTT-3.3.2-2 (no wildcards), MQTT-4.7.3-1 (non-empty), MQTT-4.7.3-2 (no U+0000).
            topic::validate_topic_name(&topic)
                .map_err(|e| r.error_at(ErrorKind::TopicName(e), topic_at))?;
        }
        let payload = r.rest();
        Ok(Publish {
            dup,
            qos,
            retain,
            topic,
            packet_id,
            properties,
            payload,
        })
    }

    #[inline]
    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        prefixed_len(self.topic.len())
            + if self.qos == QoS::AtMostOnce { 0 } else { 2 }
            + if v.is_v5() {
                self.properties.encoded_len()
            } else {
                0
            }
            + self.payload.len()
    }

    #[inline]
    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "PUBLISH properties")?;
        w.string("topic name", &self.topic)?;
        if self.qos != QoS::AtMostOnce {
            w.u16("packet identifier", self.packet_id);
        }
        if v.is_v5() {
            self.properties.write("properties", w)?;
        }
        w.raw("payload", &self.payload);
        Ok(())
    }
}
