//! Per-network-connection protocol state: what ends when the connection ends.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use mqttspec_codec::{MqttString, Packet, ProtocolVersion};

/// Where the connection is in its life (§3.1, §4.12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing received yet: the first packet must be CONNECT (MQTT-3.1.0-1).
    AwaitingConnect,
    /// CONNECT with an Authentication Method was answered with AUTH; waiting for the client's
    /// AUTH (5.0 §4.12). Holds the CONNECT and the challenge sent.
    Authenticating {
        connect: Box<mqttspec_codec::Connect>,
        nonce: Bytes,
    },
    Connected,
    /// The broker decided to close; nothing more is processed (MQTT-3.1.4-6).
    Closing,
}

#[derive(Debug)]
pub struct Connection {
    pub phase: Phase,
    pub version: ProtocolVersion,
    pub client_id: String,
    /// Effective Keep Alive in seconds (the server's, when it sets one).
    pub keep_alive: u16,
    /// Client's Receive Maximum: our send quota for QoS 1/2 (§4.9).
    pub client_receive_maximum: u16,
    /// Client's Maximum Packet Size, if it set one.
    pub client_maximum_packet_size: Option<u32>,
    /// Client's Topic Alias Maximum: aliases we may use towards it.
    pub client_topic_alias_maximum: u16,
    /// Aliases the client defined towards us (§3.3.2.3.4); per connection (MQTT-3.3.2-7).
    pub inbound_aliases: HashMap<u16, MqttString>,
    /// Aliases we defined towards the client.
    pub outbound_aliases: HashMap<MqttString, u16>,
    pub request_problem_information: bool,
    /// Authentication Method of the CONNECT, and the nonce of a re-authentication underway.
    pub auth_method: Option<MqttString>,
    pub reauth_nonce: Option<Bytes>,
    /// A DISCONNECT was received (or sent): the will is not published for a normal one.
    pub disconnected_cleanly: bool,
    /// Packets to write, in order.
    pub outbox: VecDeque<Packet>,
    /// Close the connection once the outbox is written.
    pub close_after_flush: bool,
}

impl Connection {
    pub fn new() -> Self {
        Connection {
            phase: Phase::AwaitingConnect,
            version: ProtocolVersion::V3_1_1,
            client_id: String::new(),
            keep_alive: 0,
            client_receive_maximum: u16::MAX,
            client_maximum_packet_size: None,
            client_topic_alias_maximum: 0,
            inbound_aliases: HashMap::new(),
            outbound_aliases: HashMap::new(),
            request_problem_information: true,
            auth_method: None,
            reauth_nonce: None,
            disconnected_cleanly: false,
            outbox: VecDeque::new(),
            close_after_flush: false,
        }
    }

    /// Would `packet` exceed the client's Maximum Packet Size? (MQTT-3.1.2-24)
    pub fn too_large_for_client(&self, packet: &Packet) -> bool {
        self.client_maximum_packet_size
            .is_some_and(|max| packet.encoded_len(self.version) > max as usize)
    }

    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }
}
