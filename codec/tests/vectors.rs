//! Byte vectors worked by hand from the specifications, one or more per packet type: each
//! decodes to the expected packet and the packet encodes back to exactly these bytes.

use bytes::Bytes;
use mqttspec_codec::{
    Auth, ConnAck, Connect, Disconnect, Packet, Properties, Property, ProtocolVersion, Publish,
    PublishAck, QoS, ReasonCode, RetainHandling, SubAck, Subscribe, Subscription,
    SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};

use ProtocolVersion::{V3_1, V3_1_1, V5};

fn hex(s: &str) -> Bytes {
    Bytes::from(mqttspec_codec::render::parse_hex(s).expect("test hex"))
}

#[track_caller]
fn both_ways(bytes: &str, v: ProtocolVersion, packet: Packet) {
    let bytes = hex(bytes);
    assert_eq!(
        Packet::decode(&bytes, v).as_ref(),
        Ok(&packet),
        "decoding {bytes:02x?}"
    );
    assert_eq!(
        packet.to_bytes(v).as_ref(),
        Ok(&bytes),
        "encoding {packet:?}"
    );
    assert_eq!(packet.encoded_len(v), bytes.len());
}

#[test]
fn connect_v3_1_1_matches_the_spec_example() {
    // 3.1.1 §3.1.2.10 figure 3.6: protocol name "MQTT", level 4, flags 0xCE
    // (user name, password, will QoS 1, will flag, clean session), keep alive 10.
    let connect = Connect {
        protocol: V3_1_1,
        clean_start: true,
        keep_alive: 10,
        properties: Properties::new(),
        client_id: "c".into(),
        will: Some(Will {
            topic: "w".into(),
            payload: Bytes::from_static(b"x"),
            qos: QoS::AtLeastOnce,
            retain: false,
            properties: Properties::new(),
        }),
        username: Some("u".into()),
        password: Some(Bytes::from_static(b"p")),
    };
    both_ways(
        "10 19 00 04 4d 51 54 54 04 ce 00 0a 00 01 63 00 01 77 00 01 78 00 01 75 00 01 70",
        V3_1_1,
        Packet::Connect(connect),
    );
}

#[test]
fn connect_v3_1_uses_mqisdp_and_level_3() {
    let connect = Connect {
        protocol: V3_1,
        clean_start: true,
        keep_alive: 60,
        client_id: "ab".into(),
        ..Default::default()
    };
    both_ways(
        "10 10 00 06 4d 51 49 73 64 70 03 02 00 3c 00 02 61 62",
        V3_1,
        Packet::Connect(connect),
    );
}

#[test]
fn connect_v5_with_properties_and_will_properties() {
    let connect = Connect {
        protocol: V5,
        clean_start: false,
        keep_alive: 30,
        properties: Properties::new()
            .with(Property::SessionExpiryInterval(120))
            .with(Property::ReceiveMaximum(10)),
        client_id: "id".into(),
        will: Some(Will {
            topic: "t".into(),
            payload: Bytes::new(),
            qos: QoS::ExactlyOnce,
            retain: true,
            properties: Properties::new().with(Property::WillDelayInterval(5)),
        }),
        username: None,
        password: None,
    };
    both_ways(
        "10 22 00 04 4d 51 54 54 05 34 00 1e 08 11 00 00 00 78 21 00 0a 00 02 69 64 05 18 00 00 00 05 00 01 74 00 00",
        V5,
        Packet::Connect(connect),
    );
}

#[test]
fn connack_v3_1_1_maps_return_codes() {
    both_ways(
        "20 02 01 00",
        V3_1_1,
        Packet::ConnAck(ConnAck {
            session_present: true,
            reason_code: ReasonCode::SUCCESS,
            properties: Properties::new(),
        }),
    );
    // Return code 5 "not authorized" is reason code 0x87.
    both_ways(
        "20 02 00 05",
        V3_1_1,
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason_code: ReasonCode::NOT_AUTHORIZED,
            properties: Properties::new(),
        }),
    );
}

#[test]
fn connack_v5_with_capabilities() {
    let props = Properties::new()
        .with(Property::MaximumQoS(1))
        .with(Property::RetainAvailable(0))
        .with(Property::AssignedClientIdentifier("auto-1".into()))
        .with(Property::TopicAliasMaximum(16));
    both_ways(
        "20 13 00 00 10 24 01 25 00 12 00 06 61 75 74 6f 2d 31 22 00 10",
        V5,
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason_code: ReasonCode::SUCCESS,
            properties: props,
        }),
    );
}

#[test]
fn publish_qos_0_has_no_packet_identifier() {
    // 3.1.1 §3.3.2.3 example topic "a/b", payload "hello".
    both_ways(
        "30 0a 00 03 61 2f 62 68 65 6c 6c 6f",
        V3_1_1,
        Packet::Publish(Publish::new("a/b", QoS::AtMostOnce, "hello")),
    );
}

#[test]
fn publish_qos_2_retained_duplicate_v5_with_properties() {
    let publish = Publish {
        dup: true,
        qos: QoS::ExactlyOnce,
        retain: true,
        topic: "a/b".into(),
        packet_id: 10,
        properties: Properties::new()
            .with(Property::MessageExpiryInterval(60))
            .with(Property::UserProperty("k".into(), "v".into())),
        payload: Bytes::from_static(b"x"),
    };
    both_ways(
        "3d 15 00 03 61 2f 62 00 0a 0c 02 00 00 00 3c 26 00 01 6b 00 01 76 78",
        V5,
        Packet::Publish(publish),
    );
}

#[test]
fn acks_v3_1_1_are_two_bytes_of_packet_identifier() {
    both_ways("40 02 00 07", V3_1_1, Packet::PubAck(PublishAck::new(7)));
    both_ways("50 02 00 07", V3_1_1, Packet::PubRec(PublishAck::new(7)));
    both_ways("62 02 00 07", V3_1_1, Packet::PubRel(PublishAck::new(7)));
    both_ways("70 02 00 07", V3_1_1, Packet::PubComp(PublishAck::new(7)));
}

#[test]
fn acks_v5_use_the_short_forms() {
    // Success without properties: Remaining Length 2.
    both_ways("40 02 01 00", V5, Packet::PubAck(PublishAck::new(256)));
    // A reason code without properties: Remaining Length 3.
    let not_found = PublishAck {
        packet_id: 1,
        reason_code: ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
        properties: Properties::new(),
    };
    both_ways("62 03 00 01 92", V5, Packet::PubRel(not_found));
    // With a reason string.
    let with_reason = PublishAck {
        packet_id: 2,
        reason_code: ReasonCode::NO_MATCHING_SUBSCRIBERS,
        properties: Properties::new().with(Property::ReasonString("none".into())),
    };
    both_ways(
        "50 0b 00 02 10 07 1f 00 04 6e 6f 6e 65",
        V5,
        Packet::PubRec(with_reason),
    );
    // Remaining Length 4 with Property Length 0 decodes; it re-encodes in the short form.
    assert_eq!(
        Packet::decode(&hex("70 04 00 03 00 00"), V5),
        Ok(Packet::PubComp(PublishAck::new(3)))
    );
}

#[test]
fn subscribe_v3_1_1_matches_the_spec_example() {
    // 3.1.1 §3.8.3 figure 3.22: "a/b" QoS 1, "c/d" QoS 2.
    let subscribe = Subscribe::new(
        10,
        vec![
            Subscription::new("a/b", QoS::AtLeastOnce),
            Subscription::new("c/d", QoS::ExactlyOnce),
        ],
    );
    both_ways(
        "82 0e 00 0a 00 03 61 2f 62 01 00 03 63 2f 64 02",
        V3_1_1,
        Packet::Subscribe(subscribe),
    );
}

#[test]
fn subscribe_v5_with_options_and_subscription_identifier() {
    let options = SubscriptionOptions {
        qos: QoS::AtLeastOnce,
        no_local: true,
        retain_as_published: true,
        retain_handling: RetainHandling::DoNotSend,
    };
    let subscribe = Subscribe {
        packet_id: 1,
        properties: Properties::new().with(Property::SubscriptionIdentifier(200)),
        subscriptions: vec![Subscription {
            filter: "s/#".into(),
            options,
        }],
    };
    both_ways(
        "82 0c 00 01 03 0b c8 01 00 03 73 2f 23 2d",
        V5,
        Packet::Subscribe(subscribe),
    );
}

#[test]
fn suback_carries_one_code_per_filter() {
    let codes = vec![
        ReasonCode::GRANTED_QOS_0,
        ReasonCode::GRANTED_QOS_2,
        ReasonCode::UNSPECIFIED_ERROR,
    ];
    both_ways(
        "90 05 00 0a 00 02 80",
        V3_1_1,
        Packet::SubAck(SubAck {
            packet_id: 10,
            properties: Properties::new(),
            reason_codes: codes.clone(),
        }),
    );
    both_ways(
        "90 06 00 0a 00 00 02 80",
        V5,
        Packet::SubAck(SubAck {
            packet_id: 10,
            properties: Properties::new(),
            reason_codes: codes,
        }),
    );
}

#[test]
fn unsubscribe_and_unsuback() {
    let unsubscribe = Unsubscribe::new(3, vec!["a/b".into(), "c/+".into()]);
    both_ways(
        "a2 0c 00 03 00 03 61 2f 62 00 03 63 2f 2b",
        V3_1_1,
        Packet::Unsubscribe(unsubscribe),
    );
    both_ways(
        "b0 02 00 03",
        V3_1_1,
        Packet::UnsubAck(UnsubAck {
            packet_id: 3,
            ..Default::default()
        }),
    );
    let v5 = UnsubAck {
        packet_id: 3,
        properties: Properties::new(),
        reason_codes: vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED],
    };
    both_ways("b0 05 00 03 00 00 11", V5, Packet::UnsubAck(v5));
}

#[test]
fn ping_packets_are_two_bytes() {
    for v in [V3_1, V3_1_1, V5] {
        both_ways("c0 00", v, Packet::PingReq);
        both_ways("d0 00", v, Packet::PingResp);
    }
}

#[test]
fn disconnect_forms() {
    both_ways("e0 00", V3_1_1, Packet::Disconnect(Disconnect::default()));
    both_ways("e0 00", V5, Packet::Disconnect(Disconnect::default()));
    both_ways(
        "e0 01 04",
        V5,
        Packet::Disconnect(Disconnect::new(ReasonCode::DISCONNECT_WITH_WILL_MESSAGE)),
    );
    let with_expiry = Disconnect {
        reason_code: ReasonCode::NORMAL_DISCONNECTION,
        properties: Properties::new().with(Property::SessionExpiryInterval(0)),
    };
    both_ways(
        "e0 07 00 05 11 00 00 00 00",
        V5,
        Packet::Disconnect(with_expiry),
    );
}

#[test]
fn auth_forms() {
    both_ways("f0 00", V5, Packet::Auth(Auth::default()));
    let challenge = Auth {
        reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: Properties::new()
            .with(Property::AuthenticationMethod("m".into()))
            .with(Property::AuthenticationData(Bytes::from_static(&[1, 2]))),
    };
    both_ways(
        "f0 0b 18 09 15 00 01 6d 16 00 02 01 02",
        V5,
        Packet::Auth(challenge),
    );
}

#[test]
fn remaining_length_boundaries_round_trip() {
    // 127 and 128 bytes of body: one and two bytes of Remaining Length.
    for (body, header) in [
        (127usize, vec![0x30, 0x7f]),
        (128, vec![0x30, 0x80, 0x01]),
        (16_384, vec![0x30, 0x80, 0x80, 0x01]),
    ] {
        let payload = vec![b'x'; body - 3];
        let p = Packet::Publish(Publish::new("a", QoS::AtMostOnce, payload));
        let bytes = p.to_bytes(V3_1_1).expect("encodes");
        assert_eq!(&bytes[..header.len()], &header[..]);
        assert_eq!(Packet::decode(&bytes, V3_1_1), Ok(p));
    }
}

#[test]
fn decoding_does_not_copy_the_payload() {
    let bytes = hex("30 0a 00 03 61 2f 62 68 65 6c 6c 6f");
    let Ok(Packet::Publish(p)) = Packet::decode(&bytes, V3_1_1) else {
        panic!("publish")
    };
    let start = bytes.as_ptr() as usize;
    let payload = p.payload.as_ptr() as usize;
    assert_eq!(payload - start, 7, "payload points into the packet buffer");
}

#[test]
fn encoding_refuses_v5_content_in_v3() {
    let mut p = Publish::new("a", QoS::AtMostOnce, "x");
    p.properties
        .push(Property::ContentType("text/plain".into()));
    let err = Packet::Publish(p)
        .to_bytes(V3_1_1)
        .expect_err("no properties in 3.1.1");
    assert!(
        err.to_string()
            .contains("cannot be expressed in MQTT 3.1.1"),
        "{err}"
    );
    assert!(Packet::Auth(Auth::default()).to_bytes(V3_1_1).is_err());
    let bad_connack = ConnAck {
        reason_code: ReasonCode::QUOTA_EXCEEDED,
        ..Default::default()
    };
    assert!(Packet::ConnAck(bad_connack).to_bytes(V3_1_1).is_err());
}

#[test]
fn encoding_refuses_strings_over_65535_bytes_and_leaves_the_buffer_untouched() {
    let long = "a".repeat(65_536);
    let p = Packet::Publish(Publish::new(long.as_str(), QoS::AtMostOnce, ""));
    let mut buf = bytes::BytesMut::from(&b"keep"[..]);
    assert!(p.encode(V3_1_1, &mut buf).is_err());
    assert_eq!(&buf[..], b"keep");
}
