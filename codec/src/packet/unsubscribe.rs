//! UNSUBSCRIBE – Unsubscribe request (3.1.1 §3.10, 5.0 §3.10).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::string::MqttString;
use crate::topic::SubscriptionFilter;
use crate::types::ProtocolVersion;
use crate::writer::{Writer, prefixed_len};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Unsubscribe {
    pub packet_id: u16,
    pub properties: Properties,
    pub filters: Vec<MqttString>,
}

impl Unsubscribe {
    pub fn new(packet_id: u16, filters: Vec<MqttString>) -> Self {
        Unsubscribe {
            packet_id,
            properties: Properties::new(),
            filters,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Unsubscribe, DecodeError> {
        let v = r.version;
        let packet_id = super::read_packet_id(r)?;
        let properties = if v.is_v5() {
            Properties::read(r, PropertyContext::Packet(PacketType::Unsubscribe))?
        } else {
            Properties::new()
        };
        let mut filters = Vec::new();
        while !r.is_empty() {
            let at = r.position();
            // MQTT-3.10.3-1
            let filter = r.string("topic filter")?;
            SubscriptionFilter::parse(&filter, v)
                .map_err(|e| r.error_at(ErrorKind::TopicFilter(e), at))?;
            filters.push(filter);
        }
        // MQTT-3.10.3-2
        if filters.is_empty() {
            return Err(r.error(ErrorKind::EmptyUnsubscribe));
        }
        Ok(Unsubscribe {
            packet_id,
            properties,
            filters,
        })
    }

    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        2 + if v.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        } + self
            .filters
            .iter()
            .map(|f| prefixed_len(f.len()))
            .sum::<usize>()
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "UNSUBSCRIBE properties")?;
        w.u16("packet identifier", self.packet_id);
        if v.is_v5() {
            self.properties.write("properties", w)?;
        }
        for f in &self.filters {
            w.string("topic filter", f)?;
        }
        Ok(())
    }
}
