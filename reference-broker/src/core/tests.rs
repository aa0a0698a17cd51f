//! The core without a network: claims about what it queues, checked on the outbox.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use mqttspec_codec::{
    Connect, MqttString, Packet, PacketDecoder, Properties, ProtocolVersion, Publish, QoS,
    Subscribe, Subscription,
};

use super::{Broker, ConnId};
use crate::Config;

fn connect(broker: &mut Broker, now: Instant, id: &str) -> ConnId {
    let conn = broker.open();
    let connect = Connect {
        protocol: ProtocolVersion::V5,
        clean_start: true,
        keep_alive: 60,
        properties: Properties::new(),
        client_id: MqttString::from(id),
        will: None,
        username: None,
        password: None,
    };
    broker.handle_packet(now, conn, Packet::Connect(connect));
    let out = broker.take_outbox(conn);
    assert!(matches!(out.packets.as_slice(), [Packet::ConnAck(_)]));
    conn
}

/// MQTT-3.14.4-1: after its DISCONNECT the server sends nothing more on the connection,
/// even a message routed to the session before the connection is gone. (Found by
/// `mqttspec fuzz`: a PUBLISH followed the DISCONNECT 0x95 for an oversized packet.)
#[test]
fn nothing_follows_the_servers_disconnect() {
    let now = Instant::now();
    let mut broker = Broker::new(Config::default());
    let sub = connect(&mut broker, now, "sub");
    let subscribe = Subscribe::new(1, vec![Subscription::new("t", QoS::AtLeastOnce)]);
    broker.handle_packet(now, sub, Packet::Subscribe(subscribe));
    broker.take_outbox(sub);
    // A SUBSCRIBE of 2 MiB announced: over the broker's Maximum Packet Size.
    let mut decoder = PacketDecoder::new(ProtocolVersion::V5).with_max_packet_size(1 << 20);
    let error = decoder
        .decode(&mut BytesMut::from(&[0x82, 0x80, 0x80, 0x80, 0x01][..]))
        .expect_err("too large");
    broker.handle_decode_error(sub, &error);
    let publisher = connect(&mut broker, now, "pub");
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let mut publish = Publish::new("t", qos, Bytes::from_static(b"x"));
        publish.packet_id = u16::from(qos.as_u8());
        broker.handle_packet(now, publisher, Packet::Publish(publish));
    }
    let out = broker.take_outbox(sub);
    assert!(out.close);
    assert!(
        matches!(out.packets.as_slice(), [Packet::Disconnect(_)]),
        "{:?}",
        out.packets
    );
}
