//! Snapshots of the human-readable rendering used in wire transcripts.

use bytes::Bytes;
use mqttspec_codec::{
    ConnAck, Connect, Disconnect, Packet, Properties, Property, ProtocolVersion, Publish,
    PublishAck, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, Subscription,
    SubscriptionOptions, UnsubAck, Unsubscribe, Will, render,
};

fn sample_packets() -> Vec<(ProtocolVersion, Packet)> {
    use ProtocolVersion::{V3_1_1, V5};
    let mut publish = Publish::new("sensors/1/temp", QoS::ExactlyOnce, "21.5");
    publish.packet_id = 42;
    publish.retain = true;
    publish.properties = Properties::new()
        .with(Property::MessageExpiryInterval(30))
        .with(Property::ResponseTopic("replies/1".into()))
        .with(Property::CorrelationData(Bytes::from_static(&[0xde, 0xad])))
        .with(Property::UserProperty("unit".into(), "C".into()));
    let binary = Publish::new("bin", QoS::AtMostOnce, Bytes::from_static(&[0, 1, 2, 0xff]));
    let mut long = Publish::new("long", QoS::AtLeastOnce, vec![b'z'; 100]);
    long.packet_id = 1;
    let connect = Connect {
        protocol: V5,
        clean_start: false,
        keep_alive: 30,
        properties: Properties::new().with(Property::SessionExpiryInterval(3600)),
        client_id: "mqttspec-1".into(),
        will: Some(Will {
            topic: "status".into(),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Properties::new().with(Property::WillDelayInterval(5)),
        }),
        username: Some("user".into()),
        password: Some(Bytes::from_static(b"secret")),
    };
    let subscribe = Subscribe {
        packet_id: 3,
        properties: Properties::new().with(Property::SubscriptionIdentifier(9)),
        subscriptions: vec![
            Subscription::new("a/+", QoS::AtLeastOnce),
            Subscription {
                filter: "b/#".into(),
                options: SubscriptionOptions {
                    qos: QoS::ExactlyOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            },
        ],
    };
    vec![
        (V5, Packet::Connect(connect)),
        (
            V5,
            Packet::ConnAck(ConnAck {
                session_present: true,
                reason_code: ReasonCode::SUCCESS,
                properties: Properties::new().with(Property::TopicAliasMaximum(10)),
            }),
        ),
        (
            V3_1_1,
            Packet::ConnAck(ConnAck {
                session_present: false,
                reason_code: ReasonCode::NOT_AUTHORIZED,
                properties: Properties::new(),
            }),
        ),
        (V5, Packet::Publish(publish)),
        (V3_1_1, Packet::Publish(binary)),
        (V3_1_1, Packet::Publish(long)),
        (
            V5,
            Packet::PubAck(PublishAck {
                packet_id: 42,
                reason_code: ReasonCode::NO_MATCHING_SUBSCRIBERS,
                properties: Properties::new(),
            }),
        ),
        (V3_1_1, Packet::PubRel(PublishAck::new(42))),
        (V5, Packet::Subscribe(subscribe)),
        (
            V5,
            Packet::SubAck(SubAck {
                packet_id: 3,
                properties: Properties::new(),
                reason_codes: vec![
                    ReasonCode::GRANTED_QOS_1,
                    ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
                ],
            }),
        ),
        (
            V3_1_1,
            Packet::Unsubscribe(Unsubscribe::new(4, vec!["a/+".into()])),
        ),
        (
            V5,
            Packet::UnsubAck(UnsubAck {
                packet_id: 4,
                properties: Properties::new(),
                reason_codes: vec![ReasonCode::NO_SUBSCRIPTION_EXISTED],
            }),
        ),
        (V3_1_1, Packet::PingReq),
        (
            V5,
            Packet::Disconnect(Disconnect::new(ReasonCode::DISCONNECT_WITH_WILL_MESSAGE)),
        ),
        (V5, Packet::Disconnect(Disconnect::default())),
    ]
}

#[test]
fn renders_every_packet_kind() {
    let lines: Vec<String> = sample_packets()
        .iter()
        .map(|(v, p)| format!("[{v}] {}", render::packet(p)))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn renders_undecodable_bytes_with_hex_and_the_error() {
    let cases = [
        ("36 05 00 01 61 00 01", ProtocolVersion::V3_1_1),
        ("30 05 00 03 61 2f 2b", ProtocolVersion::V3_1_1),
        ("30 05 00 03 61 2f 2b", ProtocolVersion::V5),
        ("00 00", ProtocolVersion::V5),
        ("30 04 00 02 c0 af", ProtocolVersion::V3_1_1),
    ];
    let lines: Vec<String> = cases
        .iter()
        .map(|(hex, v)| render::bytes(&render::parse_hex(hex).expect("hex"), *v))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn rendering_valid_bytes_is_rendering_the_packet() {
    for (v, p) in sample_packets() {
        let bytes = p.to_bytes(v).expect("encodes");
        assert_eq!(render::bytes(&bytes, v), render::packet(&p));
    }
}

#[test]
fn hex_round_trips_and_accepts_what_users_type() {
    assert_eq!(render::hex(&[0x30, 0x0a, 0xff]), "30 0a ff");
    assert_eq!(render::parse_hex("30 0A ff"), Ok(vec![0x30, 0x0a, 0xff]));
    assert_eq!(
        render::parse_hex("0x30:0x0a\n0xff"),
        Ok(vec![0x30, 0x0a, 0xff])
    );
    assert!(render::parse_hex("3").is_err());
    assert!(render::parse_hex("zz").is_err());
}
