//! SUBSCRIBE – Subscribe request (3.1.1 §3.8, 5.0 §3.8).

use crate::error::{DecodeError, EncodeError, ErrorKind};
use crate::packet::PacketType;
use crate::properties::{Properties, PropertyContext};
use crate::reader::Reader;
use crate::string::MqttString;
use crate::topic::SubscriptionFilter;
use crate::types::{ProtocolVersion, QoS, RetainHandling, SubscriptionOptions};
use crate::writer::{Writer, prefixed_len};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Subscribe {
    pub packet_id: u16,
    pub properties: Properties,
    /// At least one on the wire (MQTT-3.8.3-3 / MQTT-3.8.3-2); the encoder writes what it
    /// is given, an empty list included.
    pub subscriptions: Vec<Subscription>,
}

/// One Topic Filter and its Subscription Options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Subscription {
    pub filter: MqttString,
    pub options: SubscriptionOptions,
}

impl Subscription {
    pub fn new(filter: impl Into<MqttString>, qos: QoS) -> Self {
        Subscription {
            filter: filter.into(),
            options: SubscriptionOptions::new(qos),
        }
    }
}

impl Subscribe {
    pub fn new(packet_id: u16, subscriptions: Vec<Subscription>) -> Self {
        Subscribe {
            packet_id,
            properties: Properties::new(),
            subscriptions,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Subscribe, DecodeError> {
        let v = r.version;
        let packet_id = super::read_packet_id(r)?;
        let properties = if v.is_v5() {
            Properties::read(r, PropertyContext::Packet(PacketType::Subscribe))?
        } else {
            Properties::new()
        };
        let mut subscriptions = Vec::new();
        while !r.is_empty() {
            let filter_at = r.position();
            // MQTT-3.8.3-1
            let filter = r.string("topic filter")?;
            let options_at = r.position();
            let byte = r.u8("subscription options")?;
            let options = decode_options(byte, v).map_err(|kind| r.error_at(kind, options_at))?;
            // MQTT-4.7.1-1..3, MQTT-4.7.3-1..3, and 5.0 shared subscriptions MQTT-4.8.2-1/-2.
            let parsed = SubscriptionFilter::parse(&filter, v)
                .map_err(|e| r.error_at(ErrorKind::TopicFilter(e), filter_at))?;
            // MQTT-3.8.3-4 (5.0)
            if parsed.is_shared() && options.no_local {
                return Err(r.error_at(ErrorKind::NoLocalOnSharedSubscription, options_at));
            }
            subscriptions.push(Subscription { filter, options });
        }
        // MQTT-3.8.3-3 (3.1.1) / MQTT-3.8.3-2 (5.0)
        if subscriptions.is_empty() {
            return Err(r.error(ErrorKind::EmptySubscribe));
        }
        Ok(Subscribe {
            packet_id,
            properties,
            subscriptions,
        })
    }

    pub(crate) fn body_len(&self, v: ProtocolVersion) -> usize {
        2 + if v.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        } + self
            .subscriptions
            .iter()
            .map(|s| prefixed_len(s.filter.len()) + 1)
            .sum::<usize>()
    }

    pub(crate) fn write(&self, v: ProtocolVersion, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        super::require_v5(v, !self.properties.is_empty(), "SUBSCRIBE properties")?;
        super::require_v5(
            v,
            self.subscriptions
                .iter()
                .any(|s| s.options.uses_v5_options()),
            "No Local, Retain As Published or Retain Handling",
        )?;
        w.u16("packet identifier", self.packet_id);
        if v.is_v5() {
            self.properties.write("properties", w)?;
        }
        for s in &self.subscriptions {
            w.string("topic filter", &s.filter)?;
            w.u8("subscription options", s.options.to_byte());
        }
        Ok(())
    }
}

/// The Subscription Options byte (3.1.1 §3.8.3, 5.0 §3.8.3.1).
fn decode_options(byte: u8, v: ProtocolVersion) -> Result<SubscriptionOptions, ErrorKind> {
    // 3.1.1: bits 7-2 reserved (MQTT-3.8.3-4); 5.0: bits 7-6 reserved (MQTT-3.8.3-5).
    let reserved = if v.is_v5() { 0b1100_0000 } else { 0b1111_1100 };
    if byte & reserved != 0 {
        return Err(ErrorKind::SubscriptionOptionsReservedBits(byte));
    }
    let qos = QoS::from_u8(byte & 0b11).ok_or(ErrorKind::SubscriptionQoS3)?;
    let retain_handling =
        RetainHandling::from_u8((byte >> 4) & 0b11).ok_or(ErrorKind::RetainHandling3)?;
    Ok(SubscriptionOptions {
        qos,
        no_local: byte & 0b0100 != 0,
        retain_as_published: byte & 0b1000 != 0,
        retain_handling,
    })
}
