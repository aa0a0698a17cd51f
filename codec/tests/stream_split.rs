//! The streaming decoder: bytes may arrive in any split and the same packets come out;
//! the maximum packet size is enforced from the fixed header, before the body is buffered;
//! a CONNECT switches the decoder to the version it names.
//!
//! `PacketDecoder::decode` follows tokio-util's `Decoder` contract: `Ok(Some(packet))`
//! consumes that packet's bytes, `Ok(None)` means "need more bytes", so the caller appends
//! what arrives and calls again until it gets `Ok(None)`.

use bytes::{Bytes, BytesMut};
use mqttspec_codec::{
    Auth, ConnAck, Connect, DEFAULT_MAX_PACKET_SIZE, Disconnect, ErrorKind, Packet, PacketDecoder,
    Properties, Property, ProtocolVersion, Publish, PublishAck, QoS, ReasonCode, RetainHandling,
    SubAck, Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};
use proptest::collection::vec;
use proptest::prelude::*;

use ProtocolVersion::{V3_1, V3_1_1, V5};

// ----- the streams ---------------------------------------------------------------------

fn ack(packet_id: u16) -> PublishAck {
    PublishAck::new(packet_id)
}

/// A 3.1.1 session: 16 packets of every 3.1.1 type, one with a 2-byte Remaining Length.
fn stream_3_1_1() -> Vec<Packet> {
    vec![
        Packet::Connect(Connect {
            protocol: V3_1_1,
            clean_start: false,
            keep_alive: 30,
            client_id: "client-\u{FEFF}é".into(),
            will: Some(Will {
                topic: "clients/gone".into(),
                payload: Bytes::from_static(b"offline"),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: Properties::new(),
            }),
            username: Some("user".into()),
            password: Some(Bytes::from_static(b"\x00\xFFsecret")),
            ..Connect::default()
        }),
        Packet::ConnAck(ConnAck {
            session_present: true,
            ..ConnAck::default()
        }),
        Packet::Subscribe(Subscribe::new(
            1,
            vec![
                Subscription::new("sensors/+/temp", QoS::ExactlyOnce),
                Subscription::new("#", QoS::AtMostOnce),
            ],
        )),
        Packet::SubAck(SubAck {
            packet_id: 1,
            properties: Properties::new(),
            reason_codes: vec![ReasonCode::GRANTED_QOS_2, ReasonCode::UNSPECIFIED_ERROR],
        }),
        Packet::Publish(Publish::new(
            "sensors/1/temp",
            QoS::AtMostOnce,
            &b"21.5"[..],
        )),
        Packet::Publish(Publish {
            packet_id: 7,
            retain: true,
            ..Publish::new("big/ü", QoS::AtLeastOnce, vec![0x5A; 300])
        }),
        Packet::PubAck(ack(7)),
        Packet::Publish(Publish {
            dup: true,
            packet_id: 0xFFFF,
            ..Publish::new("q2", QoS::ExactlyOnce, Bytes::new())
        }),
        Packet::PubRec(ack(0xFFFF)),
        Packet::PubRel(ack(0xFFFF)),
        Packet::PubComp(ack(0xFFFF)),
        Packet::Unsubscribe(Unsubscribe::new(
            2,
            vec!["sensors/+/temp".into(), "#".into()],
        )),
        Packet::UnsubAck(UnsubAck {
            packet_id: 2,
            ..UnsubAck::default()
        }),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect(Disconnect::default()),
    ]
}

/// A 5.0 session: 17 packets of every type, properties, reason codes, an aliased PUBLISH
/// with an empty topic, AUTH, and a 2-byte Remaining Length.
fn stream_5_0() -> Vec<Packet> {
    let user = |k: &str, v: &str| Property::UserProperty(k.into(), v.into());
    vec![
        Packet::Connect(Connect {
            protocol: V5,
            keep_alive: 0,
            properties: Properties::from(vec![
                Property::SessionExpiryInterval(u32::MAX),
                Property::ReceiveMaximum(20),
                Property::AuthenticationMethod("SCRAM-SHA-1".into()),
                user("a", "1"),
                user("a", "2"),
            ]),
            client_id: "".into(),
            will: Some(Will {
                topic: "w".into(),
                payload: Bytes::from_static(b"will"),
                qos: QoS::ExactlyOnce,
                retain: false,
                properties: Properties::from(vec![
                    Property::WillDelayInterval(10),
                    Property::ResponseTopic("reply/to".into()),
                ]),
            }),
            password: Some(Bytes::from_static(b"no user name is fine in 5.0")),
            ..Connect::default()
        }),
        Packet::Auth(Auth {
            reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
            properties: Properties::from(vec![
                Property::AuthenticationMethod("SCRAM-SHA-1".into()),
                Property::AuthenticationData(Bytes::from_static(b"challenge")),
            ]),
        }),
        Packet::ConnAck(ConnAck {
            session_present: false,
            reason_code: ReasonCode::SUCCESS,
            properties: Properties::from(vec![
                Property::TopicAliasMaximum(10),
                Property::AssignedClientIdentifier("auto-1".into()),
                Property::MaximumPacketSize(1 << 20),
            ]),
        }),
        Packet::Subscribe(Subscribe {
            packet_id: 1,
            properties: Properties::from(vec![Property::SubscriptionIdentifier(16_384)]),
            subscriptions: vec![
                Subscription {
                    filter: "a/#".into(),
                    options: SubscriptionOptions {
                        qos: QoS::AtLeastOnce,
                        no_local: true,
                        retain_as_published: true,
                        retain_handling: RetainHandling::DoNotSend,
                    },
                },
                Subscription::new("$share/group/a/+", QoS::ExactlyOnce),
            ],
        }),
        Packet::SubAck(SubAck {
            packet_id: 1,
            properties: Properties::from(vec![Property::ReasonString("partly".into())]),
            reason_codes: vec![
                ReasonCode::GRANTED_QOS_1,
                ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
            ],
        }),
        Packet::Publish(Publish {
            packet_id: 3,
            properties: Properties::from(vec![
                Property::TopicAlias(1),
                Property::SubscriptionIdentifier(16_384),
                Property::SubscriptionIdentifier(1),
                Property::ContentType("application/octet-stream".into()),
            ]),
            ..Publish::new("a/b", QoS::AtLeastOnce, vec![0xA5; 400])
        }),
        Packet::PubAck(PublishAck {
            packet_id: 3,
            reason_code: ReasonCode::NO_MATCHING_SUBSCRIBERS,
            properties: Properties::new(),
        }),
        Packet::Publish(Publish {
            properties: Properties::from(vec![Property::TopicAlias(1)]),
            ..Publish::new("", QoS::AtMostOnce, &b"aliased"[..])
        }),
        Packet::Publish(Publish {
            packet_id: 4,
            ..Publish::new("q2", QoS::ExactlyOnce, &b"x"[..])
        }),
        Packet::PubRec(ack(4)),
        Packet::PubRel(PublishAck {
            packet_id: 4,
            reason_code: ReasonCode::SUCCESS,
            properties: Properties::from(vec![user("k", "v")]),
        }),
        Packet::PubComp(PublishAck {
            packet_id: 4,
            reason_code: ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
            properties: Properties::new(),
        }),
        Packet::Unsubscribe(Unsubscribe::new(2, vec!["a/#".into()])),
        Packet::UnsubAck(UnsubAck {
            packet_id: 2,
            properties: Properties::new(),
            reason_codes: vec![ReasonCode::NO_SUBSCRIPTION_EXISTED],
        }),
        Packet::PingReq,
        Packet::PingResp,
        Packet::Disconnect(Disconnect {
            reason_code: ReasonCode::DISCONNECT_WITH_WILL_MESSAGE,
            properties: Properties::from(vec![Property::SessionExpiryInterval(0)]),
        }),
    ]
}

/// The wire form of `packets` (CONNECT for its own protocol, the rest for `v`), and where
/// each packet ends.
fn encode_all(packets: &[Packet], v: ProtocolVersion) -> (Vec<u8>, Vec<usize>) {
    let mut buf = BytesMut::new();
    let mut ends = Vec::new();
    for p in packets {
        p.encode(v, &mut buf).expect("the stream encodes");
        ends.push(buf.len());
    }
    (buf.to_vec(), ends)
}

struct Stream {
    version: ProtocolVersion,
    packets: Vec<Packet>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Both sessions. A server does not know the version before CONNECT, so every decoder
/// starts at 3.1.1 and the CONNECT at the front of each stream sets it.
fn streams() -> Vec<Stream> {
    [(V3_1_1, stream_3_1_1()), (V5, stream_5_0())]
        .into_iter()
        .map(|(version, packets)| {
            let (bytes, ends) = encode_all(&packets, version);
            Stream {
                version,
                packets,
                bytes,
                ends,
            }
        })
        .collect()
}

// ----- feeding ---------------------------------------------------------------------------

/// A decoder and its receive buffer, fed chunk by chunk as a socket would.
struct Feeder {
    decoder: PacketDecoder,
    buf: BytesMut,
    out: Vec<Packet>,
}

impl Feeder {
    fn new() -> Self {
        Feeder {
            decoder: PacketDecoder::new(V3_1_1),
            buf: BytesMut::new(),
            out: Vec::new(),
        }
    }

    /// Appends `chunk` and takes every packet that is now complete.
    fn feed(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
        while let Some(p) = self
            .decoder
            .decode(&mut self.buf)
            .unwrap_or_else(|e| panic!("valid stream refused: {e}"))
        {
            self.out.push(p);
        }
    }

    /// The packets, after checking nothing is left over.
    fn finish(self) -> Vec<Packet> {
        assert!(
            self.buf.is_empty(),
            "{} bytes left undecoded",
            self.buf.len()
        );
        self.out
    }
}

fn decode_in_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Packet> {
    let mut feeder = Feeder::new();
    for chunk in chunks {
        feeder.feed(chunk);
    }
    feeder.finish()
}

// ----- any split -------------------------------------------------------------------------

#[test]
fn a_single_feed_yields_the_encoded_packets() {
    for s in streams() {
        assert!(s.packets.len() >= 12);
        assert_eq!(decode_in_chunks([&s.bytes[..]]), s.packets, "{}", s.version);
    }
}

#[test]
fn every_split_point_yields_the_same_packets() {
    for s in streams() {
        let whole = decode_in_chunks([&s.bytes[..]]);
        for at in 0..=s.bytes.len() {
            let (a, b) = s.bytes.split_at(at);
            let split = decode_in_chunks([a, b]);
            assert!(split == whole, "{}: split at byte {at} differs", s.version);
        }
    }
}

#[test]
fn one_byte_at_a_time_yields_the_same_packets() {
    for s in streams() {
        assert_eq!(
            decode_in_chunks(s.bytes.chunks(1)),
            s.packets,
            "{}",
            s.version
        );
    }
}

#[test]
fn each_packet_comes_out_exactly_when_its_last_byte_arrives() {
    for s in streams() {
        let mut feeder = Feeder::new();
        for (i, byte) in s.bytes.iter().enumerate() {
            feeder.feed(std::slice::from_ref(byte));
            let complete = s.ends.iter().filter(|&&end| end <= i + 1).count();
            assert_eq!(feeder.out.len(), complete, "{}: after byte {i}", s.version);
        }
        assert_eq!(feeder.finish(), s.packets);
    }
}

#[test]
fn a_packet_with_a_3_byte_remaining_length_survives_byte_by_byte_feeding() {
    for v in [V3_1_1, V5] {
        let connect = Packet::Connect(Connect {
            protocol: v,
            ..Connect::default()
        });
        let big = Packet::Publish(Publish {
            packet_id: 1,
            ..Publish::new("big", QoS::AtLeastOnce, vec![7u8; 20_000])
        });
        let packets = vec![connect, big, Packet::PingReq];
        let (bytes, ends) = encode_all(&packets, v);
        assert_eq!(
            ends[1] - ends[0],
            1 + 3 + 2 + 3 + 2 + usize::from(v.is_v5()) + 20_000
        );
        assert_eq!(decode_in_chunks(bytes.chunks(1)), packets, "{v}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Chunks of arbitrary sizes (empty chunks included), cycled until the stream is fed.
    #[test]
    fn arbitrary_chunk_sizes_yield_the_same_packets(
        which in 0usize..2,
        sizes in vec(0usize..=80, 1..40),
    ) {
        let s = streams().swap_remove(which);
        let mut chunks = Vec::new();
        let mut rest = &s.bytes[..];
        for &n in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            // Never stall on an endless cycle of empty chunks.
            let n = if sizes.iter().all(|&n| n == 0) { 1 } else { n.min(rest.len()) };
            let (chunk, tail) = rest.split_at(n);
            chunks.push(chunk);
            rest = tail;
        }
        prop_assert_eq!(decode_in_chunks(chunks), s.packets);
    }
}

// ----- maximum packet size ---------------------------------------------------------------

/// The minimal Variable Byte Integer encoding (test-local, independent of the codec).
fn vbi(mut value: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut byte = (value % 128) as u8;
        value /= 128;
        if value > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if value == 0 {
            return out;
        }
    }
}

/// The capacity a receive buffer may have without having made room for a body.
const SMALL: usize = 64;

#[test]
fn oversized_packet_is_refused_from_its_fixed_header_before_the_body_arrives() {
    // Fixed headers of 2, 3, 4 and 5 bytes, each declaring a packet one byte over the limit.
    for (remaining, max) in [
        (100u32, 101u32),
        (1_000, 1_002),
        (20_000, 20_003),
        (3_000_000, 3_000_004),
    ] {
        let mut header = vec![0x30]; // PUBLISH, QoS 0
        header.extend(vbi(remaining));
        let size = (header.len() + remaining as usize) as u64;
        assert_eq!(size, u64::from(max) + 1);
        for v in [V3_1, V3_1_1, V5] {
            let mut decoder = PacketDecoder::new(v).with_max_packet_size(max);
            let mut buf = BytesMut::with_capacity(8);
            let (last, first) = header.split_last().expect("header");
            for &byte in first {
                buf.extend_from_slice(&[byte]);
                // Remaining Length not complete yet: need more, nothing reserved.
                assert_eq!(decoder.decode(&mut buf), Ok(None));
                assert!(
                    buf.capacity() <= SMALL,
                    "reserved before the header was complete"
                );
            }
            buf.extend_from_slice(&[*last]);
            let err = decoder
                .decode(&mut buf)
                .expect_err("refused from the fixed header alone");
            assert_eq!(err.kind, ErrorKind::PacketTooLarge { size, max }, "{v}");
            assert_eq!(err.offset, 0);
            assert!(
                buf.capacity() <= SMALL,
                "{v}: the buffer grew to {} for a refused {size}-byte packet",
                buf.capacity()
            );
            assert_eq!(
                &buf[..],
                &header[..],
                "the offending bytes stay in the buffer"
            );
        }
    }
}

#[test]
fn maximum_remaining_length_is_refused_under_the_default_1_mib_limit() {
    let mut decoder = PacketDecoder::new(V5);
    assert_eq!(decoder.max_packet_size(), DEFAULT_MAX_PACKET_SIZE);
    assert_eq!(DEFAULT_MAX_PACKET_SIZE, 1 << 20);
    let header = [0x30, 0xFF, 0xFF, 0xFF, 0x7F]; // Remaining Length 268,435,455
    let mut buf = BytesMut::with_capacity(8);
    buf.extend_from_slice(&header);
    let err = decoder.decode(&mut buf).expect_err("refused");
    assert_eq!(
        err.kind,
        ErrorKind::PacketTooLarge {
            size: 268_435_460,
            max: 1 << 20
        }
    );
    assert!(buf.capacity() <= SMALL, "buffer grew to {}", buf.capacity());
}

#[test]
fn a_header_within_the_limit_reserves_room_for_its_body() {
    // The counterpart of the tests above: a permitted packet does get its room reserved,
    // so "capacity stays small" there really shows the body was never reserved.
    let packet = Packet::Publish(Publish::new("t", QoS::AtMostOnce, vec![1u8; 5_000]));
    let bytes = packet.to_bytes(V3_1_1).expect("encodes");
    let mut decoder = PacketDecoder::new(V3_1_1).with_max_packet_size(bytes.len() as u32);
    let mut buf = BytesMut::with_capacity(8);
    buf.extend_from_slice(&bytes[..3]);
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(buf.capacity() >= bytes.len());
    buf.extend_from_slice(&bytes[3..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(packet)));
}

#[test]
fn the_limit_counts_the_whole_packet_fixed_header_included() {
    let packet = Packet::Publish(Publish::new("t", QoS::AtMostOnce, vec![1u8; 200]));
    let bytes = packet.to_bytes(V5).expect("encodes");
    let len = bytes.len() as u32;
    let decode = |max: u32| {
        let mut buf = BytesMut::from(&bytes[..]);
        PacketDecoder::new(V5)
            .with_max_packet_size(max)
            .decode(&mut buf)
    };
    assert_eq!(decode(len), Ok(Some(packet)));
    assert_eq!(
        decode(len - 1).map_err(|e| e.kind),
        Err(ErrorKind::PacketTooLarge {
            size: u64::from(len),
            max: len - 1
        })
    );
}

// ----- the version follows CONNECT -------------------------------------------------------

fn auth() -> Packet {
    Packet::Auth(Auth {
        reason_code: ReasonCode::RE_AUTHENTICATE,
        properties: Properties::from(vec![Property::AuthenticationMethod("m".into())]),
    })
}

#[test]
fn auth_is_refused_before_a_5_0_connect() {
    let mut decoder = PacketDecoder::new(V3_1_1);
    let mut buf = BytesMut::from(&auth().to_bytes(V5).expect("encodes")[..]);
    let err = decoder
        .decode(&mut buf)
        .expect_err("type 15 is reserved in 3.1.1");
    assert_eq!(err.kind, ErrorKind::ReservedPacketType(15));
}

#[test]
fn a_5_0_connect_switches_a_3_1_1_decoder_to_5_0() {
    let connect = Packet::Connect(Connect {
        protocol: V5,
        properties: Properties::from(vec![Property::ReceiveMaximum(5)]),
        ..Connect::default()
    });
    let publish = Packet::Publish(Publish {
        properties: Properties::from(vec![Property::TopicAlias(3)]),
        ..Publish::new("", QoS::AtMostOnce, &b"v5 only"[..])
    });
    let (bytes, _) = encode_all(&[connect.clone(), auth(), publish.clone()], V5);

    let mut decoder = PacketDecoder::new(V3_1_1);
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(connect)));
    assert_eq!(decoder.version(), V5);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(auth())));
    assert_eq!(decoder.decode(&mut buf), Ok(Some(publish)));
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert!(buf.is_empty());
}

#[test]
fn a_3_1_connect_switches_a_5_0_decoder_to_3_1() {
    let connect = Packet::Connect(Connect {
        protocol: V3_1,
        ..Connect::default()
    });
    let mut bytes = connect.to_bytes(V3_1).expect("encodes").to_vec();
    bytes.extend_from_slice(&auth().to_bytes(V5).expect("encodes"));
    let mut decoder = PacketDecoder::new(V5);
    let mut buf = BytesMut::from(&bytes[..]);
    assert_eq!(decoder.decode(&mut buf), Ok(Some(connect)));
    assert_eq!(decoder.version(), V3_1);
    let err = decoder
        .decode(&mut buf)
        .expect_err("AUTH does not exist in 3.1");
    assert_eq!(err.kind, ErrorKind::ReservedPacketType(15));
}
