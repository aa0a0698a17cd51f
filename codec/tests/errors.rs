//! One test per decode error kind: the bytes that provoke it, the kind, and the normative
//! statement the error cites under each protocol version.

use bytes::{Bytes, BytesMut};
use mqttspec_codec::malformed::{FieldRef, Malformed, Tamper};
use mqttspec_codec::properties::PropertyId;
use mqttspec_codec::topic::TopicError;
use mqttspec_codec::{
    Connect, DecodeError, ErrorKind, Packet, PacketDecoder, PacketType, ProtocolVersion, QoS,
    Reaction, Will,
};

use ProtocolVersion::{V3_1, V3_1_1, V5};

fn hex(s: &str) -> Bytes {
    Bytes::from(mqttspec_codec::render::parse_hex(s).expect("test hex"))
}

fn decode_err(bytes: &[u8], v: ProtocolVersion) -> DecodeError {
    match Packet::decode(&Bytes::copy_from_slice(bytes), v) {
        Ok(p) => panic!("decoded {p:?} from {bytes:02x?} under {v}, expected an error"),
        Err(e) => e,
    }
}

/// Decodes `hex` under `v` and checks the error kind and the statement it cites.
#[track_caller]
fn assert_error(
    hex_bytes: &str,
    v: ProtocolVersion,
    kind: ErrorKind,
    statement: Option<&str>,
) -> DecodeError {
    let e = decode_err(&hex(hex_bytes), v);
    assert_eq!(e.kind, kind, "{e}");
    assert_eq!(e.statement_id(), statement, "{e}");
    if let Some(id) = statement {
        let s = e
            .statement
            .and_then(|s| s.statement())
            .expect("statement in manifest");
        assert_eq!(s.id, id);
        assert_eq!(s.version, v.spec());
    }
    e
}

/// A valid CONNECT for `v`, then the edits.
fn connect_with(
    v: ProtocolVersion,
    edit: impl FnOnce(&mut Connect),
    tampers: &[Tamper],
) -> Vec<u8> {
    let mut c = Connect {
        protocol: v,
        client_id: "c1".into(),
        ..Default::default()
    };
    edit(&mut c);
    let mut m = Malformed::from_packet(&Packet::Connect(c), v).expect("encodes");
    m.apply_all(tampers).expect("tamper applies");
    m.as_bytes().to_vec()
}

fn set_connect_flags(flags: u8) -> Tamper {
    Tamper::Replace {
        field: FieldRef::new("connect flags"),
        bytes: vec![flags],
    }
}

// --- Fixed header ---

#[test]
fn incomplete_packet_is_reported_as_such() {
    let e = assert_error("30 05 00 01 61", V5, ErrorKind::Incomplete, None);
    assert_eq!(e.packet_type, Some(PacketType::Publish));
}

#[test]
fn rejects_remaining_length_of_five_bytes() {
    let e = assert_error(
        "30 ff ff ff ff 01",
        V3_1_1,
        ErrorKind::RemainingLengthTooLong,
        None,
    );
    assert_eq!(e.reaction(), Reaction::MalformedPacket);
}

#[test]
fn rejects_non_minimal_remaining_length_in_v5_only() {
    assert_error(
        "c0 80 00",
        V5,
        ErrorKind::VarIntNotMinimal {
            field: "remaining length",
        },
        Some("MQTT-1.5.5-1"),
    );
    // 3.1.1 states no minimality rule for the Remaining Length.
    assert_eq!(
        Packet::decode(&hex("c0 80 00"), V3_1_1),
        Ok(Packet::PingReq)
    );
}

#[test]
fn rejects_non_minimal_remaining_length_of_a_v5_connect() {
    let bytes = connect_with(
        V5,
        |_| {},
        &[Tamper::NonMinimal {
            field: FieldRef::new("remaining length"),
            width: 2,
        }],
    );
    let e = decode_err(&bytes, V3_1_1);
    assert_eq!(
        e.kind,
        ErrorKind::VarIntNotMinimal {
            field: "remaining length"
        }
    );
    assert_eq!(e.statement_id(), Some("MQTT-1.5.5-1"));
    let v4 = connect_with(
        V3_1_1,
        |_| {},
        &[Tamper::NonMinimal {
            field: FieldRef::new("remaining length"),
            width: 2,
        }],
    );
    assert!(Packet::decode(&Bytes::from(v4), V3_1_1).is_ok());
}

#[test]
fn rejects_non_minimal_property_length() {
    assert_error(
        "30 05 00 01 61 80 00",
        V5,
        ErrorKind::VarIntNotMinimal {
            field: "property length",
        },
        Some("MQTT-1.5.5-1"),
    );
}

#[test]
fn rejects_property_length_of_five_bytes() {
    assert_error(
        "30 08 00 01 61 ff ff ff ff 01",
        V5,
        ErrorKind::VarIntTooLong {
            field: "property length",
        },
        None,
    );
}

#[test]
fn refuses_packets_over_the_maximum_size_from_the_header() {
    let mut decoder = PacketDecoder::new(V5).with_max_packet_size(16);
    let mut buf = BytesMut::from(&hex("30 7f")[..]);
    let e = decoder.decode(&mut buf).expect_err("too large");
    assert_eq!(e.kind, ErrorKind::PacketTooLarge { size: 129, max: 16 });
    assert_eq!(e.reaction(), Reaction::PacketTooLarge);
    assert_eq!(e.reaction().reason_code().0, 0x95);
}

#[test]
fn rejects_reserved_packet_types() {
    assert_error("00 00", V5, ErrorKind::ReservedPacketType(0), None);
    assert_error("f0 00", V3_1_1, ErrorKind::ReservedPacketType(15), None);
    assert_error("f0 00", V3_1, ErrorKind::ReservedPacketType(15), None);
}

#[test]
fn rejects_wrong_fixed_header_flags_citing_each_packets_rule() {
    let flags = |t, f| ErrorKind::InvalidFixedHeaderFlags {
        packet_type: t,
        flags: f,
    };
    assert_error(
        "60 02 00 01",
        V3_1_1,
        flags(PacketType::PubRel, 0),
        Some("MQTT-3.6.1-1"),
    );
    assert_error(
        "60 02 00 01",
        V5,
        flags(PacketType::PubRel, 0),
        Some("MQTT-3.6.1-1"),
    );
    assert_error(
        "80 06 00 01 00 01 61 00",
        V3_1_1,
        flags(PacketType::Subscribe, 0),
        Some("MQTT-3.8.1-1"),
    );
    assert_error(
        "a0 05 00 01 00 01 61",
        V5,
        flags(PacketType::Unsubscribe, 0),
        Some("MQTT-3.10.1-1"),
    );
    assert_error(
        "e1 00",
        V3_1_1,
        flags(PacketType::Disconnect, 1),
        Some("MQTT-3.14.1-1"),
    );
    assert_error(
        "f1 00",
        V5,
        flags(PacketType::Auth, 1),
        Some("MQTT-3.15.1-1"),
    );
    assert_error(
        "c8 00",
        V3_1_1,
        flags(PacketType::PingReq, 8),
        Some("MQTT-2.2.2-2"),
    );
    assert_error(
        "c8 00",
        V5,
        flags(PacketType::PingReq, 8),
        Some("MQTT-2.1.3-1"),
    );
}

#[test]
fn rejects_qos_3() {
    assert_error(
        "36 05 00 01 61 00 01",
        V3_1_1,
        ErrorKind::QoS3,
        Some("MQTT-3.3.1-4"),
    );
    assert_error(
        "36 06 00 01 61 00 01 00",
        V5,
        ErrorKind::QoS3,
        Some("MQTT-3.3.1-4"),
    );
}

#[test]
fn rejects_dup_at_qos_0() {
    assert_error(
        "38 03 00 01 61",
        V3_1_1,
        ErrorKind::DupWithQoS0,
        Some("MQTT-3.3.1-2"),
    );
}

// --- Data representation ---

#[test]
fn rejects_string_running_past_the_packet() {
    let e = assert_error(
        "30 03 00 05 61",
        V3_1_1,
        ErrorKind::Truncated {
            field: "topic name",
        },
        None,
    );
    assert_eq!(e.offset, 2);
}

#[test]
fn rejects_v5_packet_without_property_length() {
    assert_error(
        "20 02 00 00",
        V5,
        ErrorKind::Truncated {
            field: "property length",
        },
        Some("MQTT-2.2.2-1"),
    );
}

#[test]
fn rejects_property_length_running_past_the_packet() {
    assert_error(
        "30 06 00 01 61 05 01 01",
        V5,
        ErrorKind::Truncated {
            field: "properties",
        },
        None,
    );
}

#[test]
fn rejects_missing_packet_identifier() {
    assert_error(
        "32 03 00 01 61",
        V3_1_1,
        ErrorKind::Truncated {
            field: "packet identifier",
        },
        None,
    );
}

#[test]
fn rejects_missing_subscription_options_byte() {
    assert_error(
        "82 05 00 01 00 01 61",
        V3_1_1,
        ErrorKind::Truncated {
            field: "subscription options",
        },
        None,
    );
}

#[test]
fn rejects_trailing_bytes() {
    assert_error(
        "c0 01 00",
        V3_1_1,
        ErrorKind::TrailingBytes { count: 1 },
        None,
    );
    assert_error(
        "40 03 00 01 00",
        V3_1_1,
        ErrorKind::TrailingBytes { count: 1 },
        None,
    );
    let e = decode_err(&hex("c0 00 c0 00"), V3_1_1);
    assert_eq!(e.kind, ErrorKind::TrailingBytes { count: 2 });
}

#[test]
fn rejects_ill_formed_utf8_in_a_topic_name() {
    // Overlong "/" and an encoded surrogate.
    assert_error(
        "30 04 00 02 c0 af",
        V3_1_1,
        ErrorKind::InvalidUtf8 {
            field: "topic name",
        },
        Some("MQTT-3.3.2-1"),
    );
    assert_error(
        "30 05 00 03 ed a0 80",
        V5,
        ErrorKind::InvalidUtf8 {
            field: "topic name",
        },
        Some("MQTT-3.3.2-1"),
    );
}

#[test]
fn rejects_ill_formed_utf8_in_any_string_with_its_statement() {
    let bad = |field: &str| Tamper::Replace {
        field: FieldRef::new(field),
        bytes: vec![0x61, 0xff],
    };
    let bytes = connect_with(V3_1_1, |_| {}, &[bad("client identifier")]);
    let e = decode_err(&bytes, V3_1_1);
    assert_eq!(
        (e.kind, e.statement_id()),
        (
            ErrorKind::InvalidUtf8 {
                field: "client identifier"
            },
            Some("MQTT-3.1.3-4")
        )
    );

    let bytes = connect_with(V5, |c| c.username = Some("u".into()), &[bad("user name")]);
    let e = decode_err(&bytes, V5);
    assert_eq!(
        (e.kind, e.statement_id()),
        (
            ErrorKind::InvalidUtf8 { field: "user name" },
            Some("MQTT-3.1.3-12")
        )
    );

    let will = Will {
        topic: "w".into(),
        ..Default::default()
    };
    let bytes = connect_with(V3_1_1, |c| c.will = Some(will), &[bad("will topic")]);
    let e = decode_err(&bytes, V3_1_1);
    assert_eq!(
        (e.kind, e.statement_id()),
        (
            ErrorKind::InvalidUtf8 {
                field: "will topic"
            },
            Some("MQTT-3.1.3-10")
        )
    );

    // A string with no statement of its own cites the general rule.
    let mut connack = mqttspec_codec::ConnAck::default();
    connack
        .properties
        .push(mqttspec_codec::Property::ReasonString("r".into()));
    let mut m = Malformed::from_packet(&Packet::ConnAck(connack), V5).expect("encodes");
    m.apply(&bad("reason string")).expect("applies");
    let e = decode_err(m.as_bytes(), V5);
    assert_eq!(
        (e.kind, e.statement_id()),
        (
            ErrorKind::InvalidUtf8 {
                field: "reason string"
            },
            Some("MQTT-1.5.4-1")
        )
    );
}

#[test]
fn rejects_null_character() {
    assert_error(
        "30 04 00 02 61 00",
        V3_1_1,
        ErrorKind::NullCharacter {
            field: "topic name",
        },
        Some("MQTT-1.5.3-2"),
    );
    assert_error(
        "30 05 00 02 61 00 00",
        V5,
        ErrorKind::NullCharacter {
            field: "topic name",
        },
        Some("MQTT-1.5.4-2"),
    );
}

// --- CONNECT / CONNACK ---

#[test]
fn rejects_unknown_protocol_name() {
    let bytes = connect_with(
        V3_1_1,
        |_| {},
        &[Tamper::Replace {
            field: FieldRef::new("protocol name"),
            bytes: b"MQTX".to_vec(),
        }],
    );
    let e = decode_err(&bytes, V3_1_1);
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::InvalidProtocolName, Some("MQTT-3.1.2-1"))
    );
    assert_eq!(e.reaction(), Reaction::UnsupportedProtocolVersion);
}

#[test]
fn rejects_unsupported_protocol_level() {
    let bytes = connect_with(
        V3_1_1,
        |_| {},
        &[Tamper::Replace {
            field: FieldRef::new("protocol level"),
            bytes: vec![6],
        }],
    );
    let e = decode_err(&bytes, V3_1_1);
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::UnsupportedProtocolLevel(6), Some("MQTT-3.1.2-2"))
    );
    assert_eq!(e.offset, 8, "offset of the protocol level byte");
}

#[test]
fn rejects_connect_reserved_flag() {
    for v in [V3_1_1, V5] {
        let e = decode_err(&connect_with(v, |_| {}, &[set_connect_flags(0x03)]), v);
        assert_eq!(
            (e.kind, e.statement_id()),
            (ErrorKind::ConnectReservedFlag, Some("MQTT-3.1.2-3"))
        );
    }
}

#[test]
fn rejects_will_qos_and_retain_without_will_flag() {
    let e = decode_err(
        &connect_with(V3_1_1, |_| {}, &[set_connect_flags(0x0A)]),
        V3_1_1,
    );
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::WillQoSWithoutWill, Some("MQTT-3.1.2-13"))
    );
    let e = decode_err(&connect_with(V5, |_| {}, &[set_connect_flags(0x0A)]), V5);
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::WillQoSWithoutWill, Some("MQTT-3.1.2-11"))
    );
    let e = decode_err(
        &connect_with(V3_1_1, |_| {}, &[set_connect_flags(0x22)]),
        V3_1_1,
    );
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::WillRetainWithoutWill, Some("MQTT-3.1.2-15"))
    );
    let e = decode_err(&connect_with(V5, |_| {}, &[set_connect_flags(0x22)]), V5);
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::WillRetainWithoutWill, Some("MQTT-3.1.2-13"))
    );
}

#[test]
fn rejects_will_qos_3() {
    let will = || {
        Some(Will {
            topic: "w".into(),
            ..Default::default()
        })
    };
    let e = decode_err(
        &connect_with(V3_1_1, |c| c.will = will(), &[set_connect_flags(0x1E)]),
        V3_1_1,
    );
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::WillQoS3, Some("MQTT-3.1.2-14"))
    );
    let e = decode_err(
        &connect_with(V5, |c| c.will = will(), &[set_connect_flags(0x1E)]),
        V5,
    );
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::WillQoS3, Some("MQTT-3.1.2-12"))
    );
}

#[test]
fn rejects_password_without_user_name_before_v5_only() {
    let with_password = |c: &mut Connect| c.password = Some(Bytes::from_static(b"pw"));
    let e = decode_err(&connect_with(V3_1_1, with_password, &[]), V3_1_1);
    assert_eq!(
        (e.kind, e.statement_id()),
        (ErrorKind::PasswordWithoutUsername, Some("MQTT-3.1.2-22"))
    );
    let ok = connect_with(V5, with_password, &[]);
    assert!(
        Packet::decode(&Bytes::from(ok), V5).is_ok(),
        "5.0 allows a password alone"
    );
}

#[test]
fn rejects_a_will_topic_with_wildcards() {
    let will = Some(Will {
        topic: "w/#".into(),
        qos: QoS::AtLeastOnce,
        ..Default::default()
    });
    let e = decode_err(&connect_with(V3_1_1, |c| c.will = will, &[]), V3_1_1);
    assert_eq!(e.kind, ErrorKind::TopicName(TopicError::WildcardInName));
}

#[test]
fn rejects_connack_reserved_flags() {
    assert_error(
        "20 03 02 00 00",
        V5,
        ErrorKind::ConnAckReservedFlags(2),
        Some("MQTT-3.2.2-1"),
    );
}

#[test]
fn rejects_session_present_with_an_error_code() {
    assert_error(
        "20 02 01 05",
        V3_1_1,
        ErrorKind::SessionPresentWithError,
        Some("MQTT-3.2.2-4"),
    );
    assert_error(
        "20 03 01 87 00",
        V5,
        ErrorKind::SessionPresentWithError,
        Some("MQTT-3.2.2-6"),
    );
}

#[test]
fn rejects_reserved_v3_connack_return_code() {
    assert_error(
        "20 02 00 06",
        V3_1_1,
        ErrorKind::ReservedConnectReturnCode(6),
        None,
    );
}

// --- Packet identifiers ---

#[test]
fn rejects_packet_identifier_zero_citing_the_senders_rule() {
    assert_error(
        "32 05 00 01 61 00 00",
        V3_1_1,
        ErrorKind::PacketIdZero,
        Some("MQTT-2.3.1-1"),
    );
    assert_error(
        "32 06 00 01 61 00 00 00",
        V5,
        ErrorKind::PacketIdZero,
        Some("MQTT-2.2.1-3"),
    );
    assert_error(
        "40 02 00 00",
        V5,
        ErrorKind::PacketIdZero,
        Some("MQTT-2.2.1-5"),
    );
    assert_error(
        "40 02 00 00",
        V3_1_1,
        ErrorKind::PacketIdZero,
        Some("MQTT-2.3.1-6"),
    );
    assert_error(
        "90 03 00 00 00",
        V3_1_1,
        ErrorKind::PacketIdZero,
        Some("MQTT-2.3.1-7"),
    );
    assert_error(
        "82 06 00 00 00 01 61 00",
        V3_1_1,
        ErrorKind::PacketIdZero,
        Some("MQTT-2.3.1-1"),
    );
}

// --- Topics ---

#[test]
fn rejects_wildcards_in_topic_names() {
    assert_error(
        "30 05 00 03 61 2f 2b",
        V3_1_1,
        ErrorKind::TopicName(TopicError::WildcardInName),
        Some("MQTT-3.3.2-2"),
    );
    assert_error(
        "30 04 00 01 23 00",
        V5,
        ErrorKind::TopicName(TopicError::WildcardInName),
        Some("MQTT-3.3.2-2"),
    );
}

#[test]
fn rejects_empty_topic_name_before_v5() {
    assert_error(
        "30 02 00 00",
        V3_1_1,
        ErrorKind::TopicName(TopicError::Empty),
        Some("MQTT-4.7.3-1"),
    );
}

#[test]
fn rejects_empty_topic_without_alias_in_v5() {
    let e = assert_error(
        "30 03 00 00 00",
        V5,
        ErrorKind::EmptyTopicWithoutAlias,
        None,
    );
    assert_eq!(e.reaction(), Reaction::ProtocolError);
    // With a Topic Alias it is how an alias is used.
    assert!(Packet::decode(&hex("30 06 00 00 03 23 00 01"), V5).is_ok());
}

#[test]
fn rejects_topic_alias_zero() {
    assert_error(
        "30 07 00 01 61 03 23 00 00",
        V5,
        ErrorKind::TopicAliasZero,
        Some("MQTT-3.3.2-8"),
    );
}

#[test]
fn rejects_malformed_topic_filters() {
    // "a/#/b"
    assert_error(
        "82 0a 00 01 00 05 61 2f 23 2f 62 00",
        V3_1_1,
        ErrorKind::TopicFilter(TopicError::MultiLevelWildcardNotLast),
        Some("MQTT-4.7.1-2"),
    );
    assert_error(
        "82 0b 00 01 00 00 05 61 2f 23 2f 62 00",
        V5,
        ErrorKind::TopicFilter(TopicError::MultiLevelWildcardNotLast),
        Some("MQTT-4.7.1-1"),
    );
    // "a+" in UNSUBSCRIBE
    assert_error(
        "a2 06 00 01 00 02 61 2b",
        V3_1_1,
        ErrorKind::TopicFilter(TopicError::SingleLevelWildcardNotAlone),
        Some("MQTT-4.7.1-3"),
    );
}

#[test]
fn rejects_shared_subscription_without_share_name() {
    // "$share//a" under 5.0
    assert_error(
        "82 0f 00 01 00 00 09 24 73 68 61 72 65 2f 2f 61 00",
        V5,
        ErrorKind::TopicFilter(TopicError::EmptyShareName),
        Some("MQTT-4.8.2-1"),
    );
}

#[test]
fn rejects_no_local_on_a_shared_subscription() {
    // "$share/g/a" with No Local
    assert_error(
        "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04",
        V5,
        ErrorKind::NoLocalOnSharedSubscription,
        Some("MQTT-3.8.3-4"),
    );
}

// --- SUBSCRIBE / UNSUBSCRIBE ---

#[test]
fn rejects_reserved_subscription_option_bits() {
    assert_error(
        "82 06 00 01 00 01 61 04",
        V3_1_1,
        ErrorKind::SubscriptionOptionsReservedBits(4),
        Some("MQTT-3.8.3-4"),
    );
    assert_error(
        "82 07 00 01 00 00 01 61 40",
        V5,
        ErrorKind::SubscriptionOptionsReservedBits(0x40),
        Some("MQTT-3.8.3-5"),
    );
}

#[test]
fn rejects_subscription_qos_3() {
    assert_error(
        "82 06 00 01 00 01 61 03",
        V3_1_1,
        ErrorKind::SubscriptionQoS3,
        Some("MQTT-3.8.3-4"),
    );
    assert_error(
        "82 07 00 01 00 00 01 61 03",
        V5,
        ErrorKind::SubscriptionQoS3,
        None,
    );
}

#[test]
fn rejects_retain_handling_3() {
    let e = assert_error(
        "82 07 00 01 00 00 01 61 30",
        V5,
        ErrorKind::RetainHandling3,
        None,
    );
    assert_eq!(e.reaction(), Reaction::ProtocolError);
}

#[test]
fn rejects_empty_subscribe() {
    assert_error(
        "82 02 00 01",
        V3_1_1,
        ErrorKind::EmptySubscribe,
        Some("MQTT-3.8.3-3"),
    );
    assert_error(
        "82 03 00 01 00",
        V5,
        ErrorKind::EmptySubscribe,
        Some("MQTT-3.8.3-2"),
    );
}

#[test]
fn rejects_empty_unsubscribe() {
    assert_error(
        "a2 02 00 01",
        V3_1_1,
        ErrorKind::EmptyUnsubscribe,
        Some("MQTT-3.10.3-2"),
    );
    assert_error(
        "a2 03 00 01 00",
        V5,
        ErrorKind::EmptyUnsubscribe,
        Some("MQTT-3.10.3-2"),
    );
}

// --- Properties ---

#[test]
fn rejects_unknown_property_identifier() {
    let e = assert_error(
        "30 06 00 01 61 02 7f 00",
        V5,
        ErrorKind::UnknownProperty(0x7f),
        None,
    );
    assert_eq!(e.reaction(), Reaction::MalformedPacket);
    assert_eq!(e.offset, 6);
}

#[test]
fn rejects_property_not_allowed_in_the_packet() {
    // Session Expiry Interval in PUBLISH.
    let e = assert_error(
        "30 09 00 01 61 05 11 00 00 00 0a",
        V5,
        ErrorKind::PropertyNotAllowed {
            property: PropertyId::SessionExpiryInterval,
            packet_type: PacketType::Publish,
        },
        None,
    );
    assert_eq!(e.reaction(), Reaction::MalformedPacket);
}

#[test]
fn rejects_property_not_allowed_in_will_properties() {
    let mut will = Will {
        topic: "w".into(),
        ..Default::default()
    };
    will.properties
        .push(mqttspec_codec::Property::TopicAlias(1));
    let e = decode_err(&connect_with(V5, |c| c.will = Some(will), &[]), V5);
    assert_eq!(
        e.kind,
        ErrorKind::PropertyNotAllowedInWill(PropertyId::TopicAlias)
    );
}

#[test]
fn rejects_duplicate_single_use_property() {
    let e = assert_error(
        "30 0e 00 01 61 0a 02 00 00 00 01 02 00 00 00 02",
        V5,
        ErrorKind::DuplicateProperty(PropertyId::MessageExpiryInterval),
        None,
    );
    assert_eq!(e.reaction(), Reaction::ProtocolError);
    assert_eq!(e.offset, 11, "offset of the second occurrence");
}

#[test]
fn accepts_repeated_user_properties_and_publish_subscription_identifiers() {
    let p =
        Packet::decode(&hex("30 0d 00 01 61 09 0b 01 0b 02 26 00 00 00 00"), V5).expect("valid");
    let Packet::Publish(p) = p else {
        panic!("not a publish")
    };
    assert_eq!(
        p.properties.subscription_identifiers().collect::<Vec<_>>(),
        [1, 2]
    );
    // …but only one Subscription Identifier in SUBSCRIBE.
    assert_error(
        "82 0b 00 01 04 0b 01 0b 02 00 01 61 00",
        V5,
        ErrorKind::DuplicateProperty(PropertyId::SubscriptionIdentifier),
        None,
    );
}

#[test]
fn rejects_out_of_range_property_values() {
    assert_error(
        "30 06 00 01 61 02 01 02",
        V5,
        ErrorKind::InvalidPropertyValue {
            property: PropertyId::PayloadFormatIndicator,
            value: 2,
        },
        None,
    );
    // Receive Maximum 0 in CONNACK.
    assert_error(
        "20 06 00 00 03 21 00 00",
        V5,
        ErrorKind::InvalidPropertyValue {
            property: PropertyId::ReceiveMaximum,
            value: 0,
        },
        None,
    );
}

#[test]
fn rejects_subscription_identifier_zero() {
    assert_error(
        "82 09 00 01 02 0b 00 00 01 61 00",
        V5,
        ErrorKind::SubscriptionIdentifierZero,
        None,
    );
}

#[test]
fn rejects_response_topic_with_wildcards() {
    assert_error(
        "30 0a 00 01 61 06 08 00 03 61 2f 23",
        V5,
        ErrorKind::InvalidResponseTopic,
        Some("MQTT-3.3.2-14"),
    );
}

// --- Reason codes ---

#[test]
fn rejects_reason_codes_a_packet_may_not_use() {
    let invalid = |t, code| ErrorKind::InvalidReasonCode {
        packet_type: t,
        code,
    };
    assert_error(
        "20 03 00 05 00",
        V5,
        invalid(PacketType::ConnAck, 5),
        Some("MQTT-3.2.2-8"),
    );
    assert_error(
        "40 03 00 01 05",
        V5,
        invalid(PacketType::PubAck, 5),
        Some("MQTT-3.4.2-1"),
    );
    assert_error(
        "50 03 00 01 92",
        V5,
        invalid(PacketType::PubRec, 0x92),
        Some("MQTT-3.5.2-1"),
    );
    assert_error(
        "62 03 00 01 80",
        V5,
        invalid(PacketType::PubRel, 0x80),
        Some("MQTT-3.6.2-1"),
    );
    assert_error(
        "70 03 00 01 10",
        V5,
        invalid(PacketType::PubComp, 0x10),
        Some("MQTT-3.7.2-1"),
    );
    assert_error(
        "90 04 00 01 00 03",
        V5,
        invalid(PacketType::SubAck, 3),
        Some("MQTT-3.9.3-2"),
    );
    assert_error(
        "90 03 00 01 03",
        V3_1_1,
        invalid(PacketType::SubAck, 3),
        Some("MQTT-3.9.3-2"),
    );
    assert_error(
        "90 03 00 01 80",
        V3_1,
        invalid(PacketType::SubAck, 0x80),
        None,
    );
    assert_error(
        "b0 04 00 01 00 01",
        V5,
        invalid(PacketType::UnsubAck, 1),
        Some("MQTT-3.11.3-2"),
    );
    assert_error(
        "e0 01 01",
        V5,
        invalid(PacketType::Disconnect, 1),
        Some("MQTT-3.14.2-1"),
    );
    assert_error(
        "f0 01 01",
        V5,
        invalid(PacketType::Auth, 1),
        Some("MQTT-3.15.2-1"),
    );
}

#[test]
fn rejects_acks_without_reason_codes_in_v5() {
    assert_error(
        "90 03 00 01 00",
        V5,
        ErrorKind::Truncated {
            field: "reason code",
        },
        None,
    );
    assert_error(
        "b0 03 00 01 00",
        V5,
        ErrorKind::Truncated {
            field: "reason code",
        },
        None,
    );
}

// --- The error as a whole ---

#[test]
fn display_names_the_class_the_packet_the_offset_and_the_statement() {
    let e = decode_err(&hex("36 05 00 01 61 00 01"), V3_1_1);
    assert_eq!(
        e.to_string(),
        "malformed packet (PUBLISH) at byte 0: PUBLISH has both QoS bits set (QoS 3) [MQTT-3.3.1-4 (MQTT 3.1.1)]"
    );
    let e = decode_err(&hex("30 06 00 01 61 02 7f 00"), V5);
    assert_eq!(
        e.to_string(),
        "malformed packet (PUBLISH) at byte 6: unknown property identifier 0x7f [MQTT 5.0 §2.2.2.2]"
    );
}

#[test]
fn decodes_valid_input_after_errors_were_seen() {
    // The decoder holds no state that a bad packet could poison for the next good one.
    let _ = decode_err(&hex("36 00"), V5);
    assert_eq!(Packet::decode(&hex("c0 00"), V5), Ok(Packet::PingReq));
}

/// Keeps "one test per error kind" true as kinds are added: every variant of `ErrorKind`
/// is named in this file.
#[test]
fn every_error_kind_has_a_test_here() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("src/error.rs")).expect("error.rs");
    let tests = std::fs::read_to_string(root.join("tests/errors.rs")).expect("errors.rs");
    let body = source
        .split("pub enum ErrorKind {")
        .nth(1)
        .and_then(|rest| rest.split("\n}\n").next())
        .expect("the ErrorKind enum");
    let variants: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.is_empty())
        .filter_map(|l| l.split(|c: char| !c.is_alphanumeric()).next())
        .filter(|name| name.chars().next().is_some_and(char::is_uppercase))
        .collect();
    assert!(
        variants.len() > 40,
        "parsed only {} variants",
        variants.len()
    );
    let untested: Vec<_> = variants
        .iter()
        .filter(|v| {
            !tests.contains(&format!("ErrorKind::{v}")) && !tests.contains(&format!("{v}("))
        })
        .collect();
    assert!(
        untested.is_empty(),
        "error kinds without a test: {untested:?}"
    );
}
