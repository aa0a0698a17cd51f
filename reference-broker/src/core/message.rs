//! An Application Message as the broker holds it between receipt and delivery.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mqttspec_codec::properties::PropertyContext;
use mqttspec_codec::{MqttString, PacketType, Properties, Property, QoS};

/// A message received from a publisher (or a will), with what must travel with it.
#[derive(Clone, Debug)]
pub struct Message {
    pub topic: MqttString,
    pub payload: Bytes,
    pub qos: QoS,
    pub retain: bool,
    /// Properties forwarded unchanged, in order (MQTT-3.3.2-4, -15..-20): payload format
    /// indicator, content type, response topic, correlation data, user properties.
    pub properties: Properties,
    /// Message Expiry Interval in seconds, counted from `received_at` (§3.3.2.3.3).
    pub expiry_interval: Option<u32>,
    pub received_at: Instant,
    /// Client identifier of the publisher, for No Local.
    pub publisher: String,
}

impl Message {
    /// Builds the message from a PUBLISH's fields; drops what is per-hop (Topic Alias,
    /// Subscription Identifier, Message Expiry Interval, which is recomputed on delivery).
    pub fn new(
        topic: MqttString,
        payload: Bytes,
        qos: QoS,
        retain: bool,
        properties: &Properties,
        now: Instant,
        publisher: &str,
    ) -> Message {
        // Only what a PUBLISH may carry (a will's Will Delay Interval is not), and not what
        // is per hop.
        let mut forwarded = properties.clone();
        forwarded.retain(|p| {
            p.id()
                .allowed_in(PropertyContext::Packet(PacketType::Publish))
                && !matches!(
                    p,
                    Property::TopicAlias(_)
                        | Property::SubscriptionIdentifier(_)
                        | Property::MessageExpiryInterval(_)
                )
        });
        Message {
            topic,
            payload,
            qos,
            retain,
            properties: forwarded,
            expiry_interval: properties.message_expiry_interval(),
            received_at: now,
            publisher: publisher.to_owned(),
        }
    }

    /// Seconds left before the message expires, `None` if it never does, `Some(0)`… never:
    /// an expired message is reported by [`Message::is_expired`].
    pub fn remaining_expiry(&self, now: Instant) -> Option<u32> {
        let interval = self.expiry_interval?;
        let waited = now.saturating_duration_since(self.received_at).as_secs();
        Some(u32::try_from(u64::from(interval).saturating_sub(waited)).unwrap_or(0))
    }

    pub fn is_expired(&self, now: Instant) -> bool {
        match self.expiry_interval {
            Some(interval) => {
                now.saturating_duration_since(self.received_at)
                    >= Duration::from_secs(interval.into())
            }
            None => false,
        }
    }
}
