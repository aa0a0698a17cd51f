//! Session state (3.1.1 §4.1, 5.0 §4.1): what outlives a network connection.
//!
//! Outgoing QoS 1 and 2 flows follow the spec's state machines (§4.3.2, §4.3.3):
//!
//! ```text
//! QoS 1:  PUBLISH sent ──PUBACK──▶ done
//! QoS 2:  PUBLISH sent ──PUBREC──▶ PUBREL sent ──PUBCOMP──▶ done
//! ```
//!
//! In-flight messages keep their send order, so that on reconnection they are resent in
//! that order with DUP set (MQTT-4.4.0-1).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use mqttspec_codec::{QoS, SubscriptionOptions, Will};

use super::ConnId;
use super::message::Message;

/// One subscription of a session.
#[derive(Clone, Debug)]
pub struct Subscription {
    /// The filter as the client wrote it (the key for replacement and UNSUBSCRIBE).
    pub raw_filter: String,
    /// The filter without any `$share/{name}/` prefix.
    pub filter: String,
    pub share_name: Option<String>,
    pub options: SubscriptionOptions,
    /// Granted QoS (requested, capped by the broker's maximum).
    pub granted: QoS,
    pub identifier: Option<u32>,
}

/// A message on its way to this session's client.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub message: Arc<Message>,
    pub qos: QoS,
    pub retain: bool,
    pub subscription_ids: Vec<u32>,
}

/// Where an outgoing QoS 1/2 message stands.
#[derive(Clone, Debug)]
pub enum Outgoing {
    /// PUBLISH sent, waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    Published(Delivery),
    /// PUBREL sent, waiting for PUBCOMP (QoS 2).
    Released,
}

#[derive(Debug)]
pub struct Session {
    pub client_id: String,
    pub subscriptions: Vec<Subscription>,
    /// Session Expiry Interval in seconds; `u32::MAX` never expires (3.1.1 Clean Session 0).
    pub expiry_interval: u32,
    /// The connection currently attached, if any.
    pub connection: Option<ConnId>,
    /// When the session expires, once disconnected.
    pub expires_at: Option<Instant>,
    /// Outgoing QoS 1/2 messages, in send order.
    pub inflight: VecDeque<(u16, Outgoing)>,
    /// Messages waiting for the client to connect or for its Receive Maximum to allow more.
    pub queue: VecDeque<Delivery>,
    next_packet_id: u16,
    /// Inbound QoS 2 packet identifiers between PUBREC and PUBREL (exactly-once, §4.3.3).
    pub inbound_qos2: HashSet<u16>,
    /// The Will Message of the current (or last) connection, with its delay in seconds.
    pub will: Option<(Will, u32)>,
    /// A will waiting for its delay to pass (the connection closed with a delayed will).
    pub will_due: Option<Instant>,
}

impl Session {
    pub fn new(client_id: String, expiry_interval: u32) -> Self {
        Session {
            client_id,
            subscriptions: Vec::new(),
            expiry_interval,
            connection: None,
            expires_at: None,
            inflight: VecDeque::new(),
            queue: VecDeque::new(),
            next_packet_id: 1,
            inbound_qos2: HashSet::new(),
            will: None,
            will_due: None,
        }
    }

    /// An unused, non-zero Packet Identifier (MQTT-2.2.1-4, MQTT-4.3.2-1, MQTT-4.3.3-1).
    /// `None` when all 65,535 are in flight.
    pub fn allocate_packet_id(&mut self) -> Option<u16> {
        for _ in 0..u16::MAX {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.inflight.iter().any(|(pid, _)| *pid == id) {
                return Some(id);
            }
        }
        None
    }

    /// Queues a delivery; when the queue is full the new message is dropped (a slow or
    /// absent client cannot grow memory without bound).
    pub fn enqueue(&mut self, delivery: Delivery, limit: usize) -> bool {
        if self.queue.len() >= limit {
            return false;
        }
        self.queue.push_back(delivery);
        true
    }
}
