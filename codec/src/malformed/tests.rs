use bytes::Bytes;

use super::*;
use crate::properties::{Properties, Property};
use crate::{ErrorKind, Publish, QoS, Subscribe, Subscription};

use ProtocolVersion::{V3_1_1, V5};

fn publish_v5() -> Packet {
    let mut p = Publish::new("a/b", QoS::AtLeastOnce, "hi");
    p.packet_id = 7;
    p.properties = Properties::new()
        .with(Property::ContentType("t".into()))
        .with(Property::UserProperty("k".into(), "v".into()));
    Packet::Publish(p)
}

fn decode(m: &Malformed, v: ProtocolVersion) -> Result<Packet, crate::DecodeError> {
    Packet::decode(&Bytes::copy_from_slice(m.as_bytes()), v)
}

#[test]
fn untampered_bytes_are_the_valid_encoding() {
    let p = publish_v5();
    let m = Malformed::from_packet(&p, V5).expect("encodes");
    assert_eq!(m.as_bytes(), &p.to_bytes(V5).expect("encodes")[..]);
    assert_eq!(decode(&m, V5), Ok(p));
}

#[test]
fn layout_names_every_field_in_wire_order() {
    let m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    let names: Vec<_> = m
        .layout()
        .expect("layout")
        .spans
        .iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names,
        [
            "fixed header",
            "body",
            "topic name",
            "packet identifier",
            "properties",
            "property",
            "property identifier",
            "content type",
            "property",
            "property identifier",
            "user property name",
            "user property value",
            "payload",
        ]
    );
}

#[test]
fn replacing_a_string_with_invalid_utf8_keeps_every_length_consistent() {
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    m.apply(&Tamper::Replace {
        field: FieldRef::new("topic name"),
        bytes: vec![b'a', 0xC0, 0xAF, b'b'],
    })
    .expect("applies");
    let e = decode(&m, V5).expect_err("invalid UTF-8");
    assert_eq!(
        e.kind,
        ErrorKind::InvalidUtf8 {
            field: "topic name"
        }
    );
    assert_eq!(e.statement_id(), Some("MQTT-3.3.2-1"));
}

#[test]
fn replacing_a_nested_property_string_fixes_property_and_remaining_lengths() {
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    // A longer value inside the property block: string, property and remaining length all grow.
    let long = vec![b'x'; 200];
    m.apply(&Tamper::Replace {
        field: FieldRef::new("user property value"),
        bytes: long.clone(),
    })
    .expect("applies");
    let Ok(Packet::Publish(p)) = decode(&m, V5) else {
        panic!("still valid: {:02x?}", m.as_bytes())
    };
    let (_, value) = p
        .properties
        .user_properties()
        .next()
        .expect("user property");
    assert_eq!(value.as_bytes(), &long[..]);
    assert_eq!(&p.payload[..], b"hi", "fields after the edit are intact");
    // …then U+0000 in the same string.
    m.apply(&Tamper::Replace {
        field: FieldRef::new("user property value"),
        bytes: vec![0],
    })
    .expect("applies");
    assert_eq!(
        decode(&m, V5).expect_err("nul").kind,
        ErrorKind::NullCharacter {
            field: "user property value"
        }
    );
}

#[test]
fn replacing_an_empty_field_inserts_into_it() {
    let p = Packet::Subscribe(Subscribe::new(
        1,
        vec![Subscription::new("", QoS::AtMostOnce)],
    ));
    let mut m = Malformed::from_packet(&p, V3_1_1).expect("encodes");
    m.apply(&Tamper::Replace {
        field: FieldRef::new("topic filter"),
        bytes: b"x/y".to_vec(),
    })
    .expect("applies");
    let Ok(Packet::Subscribe(s)) = decode(&m, V3_1_1) else {
        panic!("{:02x?}", m.as_bytes())
    };
    assert_eq!(s.subscriptions[0].filter, "x/y");
}

#[test]
fn declared_remaining_length_can_exceed_the_data() {
    let mut m = Malformed::from_packet(&Packet::PingReq, V3_1_1).expect("encodes");
    m.apply(&Tamper::RemainingLength(268_435_455))
        .expect("applies");
    assert_eq!(m.as_bytes(), [0xC0, 0xFF, 0xFF, 0xFF, 0x7F]);
    assert_eq!(
        decode(&m, V3_1_1).expect_err("short").kind,
        ErrorKind::Incomplete
    );
}

#[test]
fn remaining_length_bytes_can_be_anything() {
    let mut m = Malformed::from_packet(&Packet::PingReq, V3_1_1).expect("encodes");
    m.apply(&Tamper::RemainingLengthBytes(vec![
        0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
    ]))
    .expect("applies");
    assert_eq!(
        decode(&m, V3_1_1).expect_err("5 bytes").kind,
        ErrorKind::RemainingLengthTooLong
    );
}

#[test]
fn non_minimal_varints_everywhere() {
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    m.apply(&Tamper::NonMinimal {
        field: FieldRef::new("property length"),
        width: 3,
    })
    .expect("applies");
    let e = decode(&m, V5).expect_err("non-minimal");
    assert_eq!(
        e.kind,
        ErrorKind::VarIntNotMinimal {
            field: "property length"
        }
    );
    // The rest of the packet is consistent: under 3.1.1 rules nothing else is wrong.
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    m.apply(&Tamper::NonMinimal {
        field: FieldRef::new("remaining length"),
        width: 4,
    })
    .expect("applies");
    assert_eq!(m.as_bytes()[1] & 0x80, 0x80);
    assert_eq!(m.as_bytes()[2..5], [0x80, 0x80, 0x00]);
    let e = decode(&m, V5).expect_err("non-minimal");
    assert_eq!(e.statement_id(), Some("MQTT-1.5.5-1"));

    let mut sub = Subscribe::new(1, vec![Subscription::new("a", QoS::AtMostOnce)]);
    sub.properties.push(Property::SubscriptionIdentifier(5));
    let mut m = Malformed::from_packet(&Packet::Subscribe(sub), V5).expect("encodes");
    m.apply(&Tamper::NonMinimal {
        field: FieldRef::new("subscription identifier"),
        width: 2,
    })
    .expect("applies");
    assert_eq!(
        decode(&m, V5).expect_err("non-minimal").kind,
        ErrorKind::VarIntNotMinimal {
            field: "subscription identifier"
        }
    );
}

#[test]
fn wrong_string_length_runs_past_the_packet() {
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    m.apply(&Tamper::FieldLength {
        field: FieldRef::new("content type"),
        length: 60_000,
    })
    .expect("applies");
    assert_eq!(
        decode(&m, V5).expect_err("overrun").kind,
        ErrorKind::Truncated {
            field: "content type"
        }
    );
}

#[test]
fn wrong_property_length() {
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    m.apply(&Tamper::PropertyLength {
        nth: 0,
        length: 1000,
    })
    .expect("applies");
    assert_eq!(
        decode(&m, V5).expect_err("overrun").kind,
        ErrorKind::Truncated {
            field: "properties"
        }
    );
}

#[test]
fn unknown_property_identifier_by_replacing_the_identifier_byte() {
    let mut m = Malformed::from_packet(&publish_v5(), V5).expect("encodes");
    m.apply(&Tamper::Replace {
        field: FieldRef::nth("property identifier", 1),
        bytes: vec![0x7F],
    })
    .expect("applies");
    assert_eq!(
        decode(&m, V5).expect_err("unknown").kind,
        ErrorKind::UnknownProperty(0x7F)
    );
}

#[test]
fn inserting_raw_properties_into_an_empty_block() {
    let p = Packet::Publish(Publish::new("a", QoS::AtMostOnce, "p"));
    let mut m = Malformed::from_packet(&p, V5).expect("encodes");
    // Topic Alias 0.
    m.apply(&Tamper::Insert {
        field: FieldRef::new("properties"),
        position: Position::End,
        bytes: vec![0x23, 0, 0],
    })
    .expect("applies");
    assert_eq!(
        m.as_bytes(),
        [0x30, 0x08, 0x00, 0x01, b'a', 0x03, 0x23, 0x00, 0x00, b'p']
    );
    assert_eq!(
        decode(&m, V5).expect_err("alias 0").statement_id(),
        Some("MQTT-3.3.2-8")
    );
}

#[test]
fn fixed_header_flags_and_type() {
    let mut m = Malformed::from_packet(&Packet::PingReq, V3_1_1).expect("encodes");
    m.apply(&Tamper::FixedHeaderFlags(0x3)).expect("applies");
    assert_eq!(m.as_bytes(), [0xC3, 0x00]);
    m.apply(&Tamper::PacketType(0)).expect("applies");
    assert_eq!(m.as_bytes(), [0x03, 0x00]);
}

#[test]
fn truncate_and_append_with_or_without_length_fixes() {
    let p = Packet::Publish(Publish::new("a", QoS::AtMostOnce, "payload"));
    let mut m = Malformed::from_packet(&p, V3_1_1).expect("encodes");
    m.apply(&Tamper::Truncate {
        count: 3,
        fix_length: true,
    })
    .expect("applies");
    let Ok(Packet::Publish(short)) = decode(&m, V3_1_1) else {
        panic!("valid")
    };
    assert_eq!(&short.payload[..], b"payl");
    m.apply(&Tamper::Truncate {
        count: 1,
        fix_length: false,
    })
    .expect("applies");
    assert_eq!(
        decode(&m, V3_1_1).expect_err("short").kind,
        ErrorKind::Incomplete
    );

    let mut m = Malformed::from_packet(&Packet::PingReq, V3_1_1).expect("encodes");
    m.apply(&Tamper::Append {
        bytes: vec![0xAA],
        fix_length: true,
    })
    .expect("applies");
    assert_eq!(m.as_bytes(), [0xC0, 0x01, 0xAA]);
    assert_eq!(
        decode(&m, V3_1_1).expect_err("trailing").kind,
        ErrorKind::TrailingBytes { count: 1 }
    );

    let mut raw = Malformed::raw(vec![0xC0, 0x00]);
    raw.apply(&Tamper::Append {
        bytes: vec![1, 2],
        fix_length: true,
    })
    .expect("applies");
    assert_eq!(raw.as_bytes(), [0xC0, 0x02, 1, 2]);
}

#[test]
fn field_edits_need_a_layout_and_an_existing_field() {
    let mut raw = Malformed::raw(vec![0xC0, 0x00]);
    assert_eq!(
        raw.apply(&Tamper::Replace {
            field: FieldRef::new("topic name"),
            bytes: vec![]
        })
        .err(),
        Some(TamperError::NoLayout)
    );
    let mut m = Malformed::from_packet(&Packet::PingReq, V5).expect("encodes");
    assert!(matches!(
        m.apply(&Tamper::Replace {
            field: FieldRef::new("topic name"),
            bytes: vec![]
        }),
        Err(TamperError::NoSuchField(_))
    ));
    assert!(matches!(
        m.apply(&Tamper::FieldLength {
            field: FieldRef::new("fixed header"),
            length: 1
        }),
        Err(TamperError::WrongKind { .. })
    ));
}

#[test]
fn field_refs_parse_with_an_index() {
    assert_eq!(
        "topic filter[2]".parse::<FieldRef>(),
        Ok(FieldRef::nth("topic filter", 2))
    );
    assert_eq!("payload".parse::<FieldRef>(), Ok(FieldRef::new("payload")));
    assert!("x[y]".parse::<FieldRef>().is_err());
    assert_eq!(
        FieldRef::nth("topic filter", 2).to_string(),
        "topic filter[2]"
    );
}

#[test]
fn duplicated_and_misplaced_properties_need_no_tampering() {
    // The encoder writes what it is given; the decoder says what is wrong.
    let mut p = Publish::new("a", QoS::AtMostOnce, "");
    p.properties = Properties::new()
        .with(Property::TopicAlias(1))
        .with(Property::TopicAlias(1));
    let bytes = Packet::Publish(p.clone()).to_bytes(V5).expect("encodes");
    assert_eq!(
        Packet::decode(&bytes, V5).expect_err("dup").kind,
        ErrorKind::DuplicateProperty(crate::PropertyId::TopicAlias)
    );
    p.properties = Properties::new().with(Property::ServerKeepAlive(5));
    let bytes = Packet::Publish(p).to_bytes(V5).expect("encodes");
    assert!(matches!(
        Packet::decode(&bytes, V5).expect_err("misplaced").kind,
        ErrorKind::PropertyNotAllowed { .. }
    ));
}

#[test]
fn edits_after_a_truncation_that_ate_the_header_stay_in_bounds() {
    // Found by `mqttspec fuzz`: truncating every byte but the first, then fixing the
    // Remaining Length, indexed past the end of the buffer.
    let packet = Packet::Publish(Publish::new("a/b", QoS::AtLeastOnce, "payload"));
    for count in 0..=20 {
        for fix_length in [false, true] {
            let mut m = Malformed::from_packet(&packet, ProtocolVersion::V5).unwrap();
            let _ = m.apply(&Tamper::Truncate { count, fix_length });
            for tamper in [
                Tamper::RemainingLength(3),
                Tamper::NonMinimal {
                    field: FieldRef::new("remaining length"),
                    width: 4,
                },
                Tamper::Append {
                    bytes: vec![1, 2],
                    fix_length: true,
                },
                Tamper::Truncate {
                    count: 1,
                    fix_length: true,
                },
            ] {
                let _ = m.clone().apply(&tamper);
            }
        }
    }
}
