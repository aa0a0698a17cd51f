//! Round trip: every packet the strategies below generate is valid for its protocol version,
//! so the strict decoder must give back exactly the packet that was encoded, and
//! `encoded_len` must equal the number of bytes written.
//!
//! The strategies only produce packets a conforming sender may send under each version:
//! 3.1/3.1.1 packets carry no properties and no 5.0-only reason codes or options; 5.0
//! packets carry every property the packet (or Will) may carry, with edge values, and
//! reason codes from the packet's own table. `every_property_is_generated_by_the_strategies`
//! checks that the strategies really reach all 27 properties.

use std::collections::BTreeSet;

use bytes::{Bytes, BytesMut};
use mqttspec_codec::properties::PropertyContext;
use mqttspec_codec::reason;
use mqttspec_codec::{
    Auth, ConnAck, Connect, Disconnect, Packet, PacketType, Properties, Property, PropertyId,
    ProtocolVersion, Publish, PublishAck, QoS, ReasonCode, RetainHandling, SubAck, Subscribe,
    Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, Will,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{Union, ValueTree};
use proptest::test_runner::{TestCaseError, TestRunner};

use ProtocolVersion::{V3_1, V3_1_1, V5};

const ALL_VERSIONS: &[ProtocolVersion] = &[V3_1, V3_1_1, V5];
const V5_ONLY: &[ProtocolVersion] = &[V5];

/// Variable Byte Integer boundaries (5.0 §1.5.5 table 1-1), 0 excluded: a Subscription
/// Identifier of 0 is a protocol error.
const VBI_EDGES: [u32; 8] = [
    1,
    127,
    128,
    16_383,
    16_384,
    2_097_151,
    2_097_152,
    268_435_455,
];

/// Characters allowed inside one topic level: no `/`, `+`, `#`, U+0000, and no `$` (so a
/// generated filter never starts with `$share/` by accident). Multi-byte UTF-8 of every
/// width and U+FEFF (which must not be stripped, MQTT-1.5.4-3) are in.
const LEVEL_CHARS: &[char] = &[
    'a', 'b', 'c', 'x', 'Y', 'Z', '0', '9', ' ', '-', '_', '.', 'é', 'ß', '€', '✓', '中', '😀',
    '\u{FEFF}',
];

/// Characters for free-form strings: the level characters plus the topic metacharacters.
const STRING_CHARS: &[char] = &[
    'a', 'b', 'x', 'Z', '0', '7', ' ', '-', '_', '.', 'é', 'ß', '€', '✓', '中', '😀', '\u{FEFF}',
    '/', '+', '#', '$',
];

fn config() -> ProptestConfig {
    ProptestConfig {
        // Keep the crate's tests/ folder free of regression files.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ----- round-trip checks ---------------------------------------------------------------

/// Encodes `packet` for `v` and checks everything that must hold of a valid packet;
/// `Err` describes the first thing that did not.
fn round_trip(v: ProtocolVersion, packet: &Packet) -> Result<(), String> {
    let bytes = packet
        .to_bytes(v)
        .map_err(|e| format!("{v}: encoding failed: {e}"))?;
    if packet.encoded_len(v) != bytes.len() {
        return Err(format!(
            "{v}: encoded_len says {} but {} bytes were written",
            packet.encoded_len(v),
            bytes.len()
        ));
    }
    let decoded = Packet::decode(&bytes, v).map_err(|e| {
        let shown = &bytes[..bytes.len().min(64)];
        format!("{v}: decoding failed: {e}; first bytes {shown:02x?}")
    })?;
    if decoded != *packet {
        return Err(format!(
            "{v}: decoded packet differs\n encoded: {packet:?}\n decoded: {decoded:?}"
        ));
    }
    // `encode` appends to what is already in the buffer, byte for byte the same.
    let mut buf = BytesMut::from(&b"xyz"[..]);
    packet
        .encode(v, &mut buf)
        .map_err(|e| format!("{v}: encode into a buffer failed: {e}"))?;
    if buf[3..] != bytes[..] {
        return Err(format!("{v}: encode and to_bytes disagree"));
    }
    // Framing: with another packet behind it, the packet is found and exactly its bytes used.
    let mut two = BytesMut::from(&bytes[..]);
    two.extend_from_slice(&[0xC0, 0x00]); // PINGREQ
    match Packet::decode_prefix(&two.freeze(), v, u32::MAX) {
        Ok(Some((p, used))) if p == *packet && used == bytes.len() => Ok(()),
        other => Err(format!(
            "{v}: decode_prefix with a trailing PINGREQ gave {other:?}"
        )),
    }
}

fn prop_round_trip(v: ProtocolVersion, packet: &Packet) -> Result<(), TestCaseError> {
    round_trip(v, packet).map_err(TestCaseError::fail)
}

#[track_caller]
fn assert_round_trip(v: ProtocolVersion, packet: &Packet) {
    if let Err(e) = round_trip(v, packet) {
        panic!("{e}");
    }
}

// ----- value strategies ----------------------------------------------------------------

fn string_of(chars: &'static [char], len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    vec(select(chars), len)
        .prop_map(|cs| cs.into_iter().collect())
        .boxed()
}

/// Any MQTT UTF-8 string: empty, short, arbitrary Unicode, or long (up to a few KiB).
fn mqtt_string() -> BoxedStrategy<String> {
    prop_oneof![
        1 => Just(String::new()),
        4 => string_of(STRING_CHARS, 1..24),
        2 => any::<String>().prop_map(|s| s.replace('\0', "")),
        1 => (string_of(STRING_CHARS, 1..8), 64usize..512)
            .prop_map(|(s, n)| s.repeat(n)),
    ]
    .boxed()
}

/// Binary Data: empty, short, or long.
fn binary() -> BoxedStrategy<Bytes> {
    prop_oneof![
        1 => Just(Vec::new()),
        4 => vec(any::<u8>(), 1..64),
        1 => vec(any::<u8>(), 256..4096),
    ]
    .prop_map(Bytes::from)
    .boxed()
}

/// A PUBLISH payload or Will payload: usually small, sometimes a few KiB.
fn payload() -> BoxedStrategy<Bytes> {
    prop_oneof![
        1 => Just(Vec::new()),
        6 => vec(any::<u8>(), 1..256),
        2 => vec(any::<u8>(), 256..4096),
    ]
    .prop_map(Bytes::from)
    .boxed()
}

fn flag() -> BoxedStrategy<u8> {
    select(&[0u8, 1][..]).boxed()
}

fn u16_any() -> BoxedStrategy<u16> {
    prop_oneof![Just(0u16), Just(1), Just(u16::MAX), any::<u16>()].boxed()
}

fn u16_nonzero() -> BoxedStrategy<u16> {
    prop_oneof![Just(1u16), Just(u16::MAX), 1..=u16::MAX].boxed()
}

fn u32_any() -> BoxedStrategy<u32> {
    prop_oneof![Just(0u32), Just(1), Just(u32::MAX), any::<u32>()].boxed()
}

fn u32_nonzero() -> BoxedStrategy<u32> {
    prop_oneof![Just(1u32), Just(u32::MAX), 1..=u32::MAX].boxed()
}

fn subscription_identifier() -> BoxedStrategy<u32> {
    prop_oneof![select(&VBI_EDGES[..]), 1..=268_435_455u32].boxed()
}

fn packet_id() -> BoxedStrategy<u16> {
    u16_nonzero()
}

fn qos() -> BoxedStrategy<QoS> {
    select(&[QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce][..]).boxed()
}

// ----- topics --------------------------------------------------------------------------

/// A valid Topic Name: levels of [`LEVEL_CHARS`] (empty levels included), sometimes under
/// `$SYS/`; never empty, never a wildcard.
fn topic_name() -> BoxedStrategy<String> {
    (any::<bool>(), vec(string_of(LEVEL_CHARS, 0..6), 1..5))
        .prop_map(|(sys, levels)| {
            let mut name = levels.join("/");
            if name.is_empty() {
                name.push('/');
            }
            if sys {
                name.insert_str(0, "$SYS/");
            }
            name
        })
        .boxed()
}

/// A valid plain Topic Filter: `+` as whole levels anywhere, `#` only as the last level.
fn plain_filter() -> BoxedStrategy<String> {
    let level = prop_oneof![3 => string_of(LEVEL_CHARS, 0..6), 1 => Just("+".to_owned())];
    (any::<bool>(), vec(level, 0..5), any::<bool>())
        .prop_map(|(sys, mut levels, multi)| {
            if multi || levels.is_empty() {
                levels.push("#".to_owned());
            }
            let mut filter = levels.join("/");
            if filter.is_empty() {
                filter.push('+');
            }
            if sys {
                filter.insert_str(0, "$SYS/");
            }
            filter
        })
        .boxed()
}

/// A 5.0 shared subscription filter: `$share/{ShareName}/{filter}`.
fn shared_filter() -> BoxedStrategy<String> {
    (string_of(LEVEL_CHARS, 1..6), plain_filter())
        .prop_map(|(name, filter)| format!("$share/{name}/{filter}"))
        .boxed()
}

/// A filter for SUBSCRIBE/UNSUBSCRIBE under `v`, and whether it is shared.
fn filter(v: ProtocolVersion) -> BoxedStrategy<(String, bool)> {
    if v.is_v5() {
        prop_oneof![
            3 => plain_filter().prop_map(|f| (f, false)),
            1 => shared_filter().prop_map(|f| (f, true)),
        ]
        .boxed()
    } else {
        plain_filter().prop_map(|f| (f, false)).boxed()
    }
}

// ----- properties ----------------------------------------------------------------------

/// A value for property `id` that the decoder must accept.
fn property(id: PropertyId) -> BoxedStrategy<Property> {
    use Property as P;
    use PropertyId as I;
    let string = || mqtt_string().prop_map(mqttspec_codec::MqttString::from);
    match id {
        I::PayloadFormatIndicator => flag().prop_map(P::PayloadFormatIndicator).boxed(),
        I::MessageExpiryInterval => u32_any().prop_map(P::MessageExpiryInterval).boxed(),
        I::ContentType => string().prop_map(P::ContentType).boxed(),
        // MQTT-3.3.2-14: a Topic Name, so no wildcards and not empty.
        I::ResponseTopic => topic_name()
            .prop_map(|t| P::ResponseTopic(t.into()))
            .boxed(),
        I::CorrelationData => binary().prop_map(P::CorrelationData).boxed(),
        I::SubscriptionIdentifier => subscription_identifier()
            .prop_map(P::SubscriptionIdentifier)
            .boxed(),
        I::SessionExpiryInterval => u32_any().prop_map(P::SessionExpiryInterval).boxed(),
        I::AssignedClientIdentifier => string().prop_map(P::AssignedClientIdentifier).boxed(),
        I::ServerKeepAlive => u16_any().prop_map(P::ServerKeepAlive).boxed(),
        I::AuthenticationMethod => string().prop_map(P::AuthenticationMethod).boxed(),
        I::AuthenticationData => binary().prop_map(P::AuthenticationData).boxed(),
        I::RequestProblemInformation => flag().prop_map(P::RequestProblemInformation).boxed(),
        I::WillDelayInterval => u32_any().prop_map(P::WillDelayInterval).boxed(),
        I::RequestResponseInformation => flag().prop_map(P::RequestResponseInformation).boxed(),
        I::ResponseInformation => string().prop_map(P::ResponseInformation).boxed(),
        I::ServerReference => string().prop_map(P::ServerReference).boxed(),
        I::ReasonString => string().prop_map(P::ReasonString).boxed(),
        I::ReceiveMaximum => u16_nonzero().prop_map(P::ReceiveMaximum).boxed(),
        I::TopicAliasMaximum => u16_any().prop_map(P::TopicAliasMaximum).boxed(),
        I::TopicAlias => u16_nonzero().prop_map(P::TopicAlias).boxed(),
        I::MaximumQoS => flag().prop_map(P::MaximumQoS).boxed(),
        I::RetainAvailable => flag().prop_map(P::RetainAvailable).boxed(),
        I::UserProperty => (string(), string())
            .prop_map(|(k, v)| P::UserProperty(k, v))
            .boxed(),
        I::MaximumPacketSize => u32_nonzero().prop_map(P::MaximumPacketSize).boxed(),
        I::WildcardSubscriptionAvailable => {
            flag().prop_map(P::WildcardSubscriptionAvailable).boxed()
        }
        I::SubscriptionIdentifierAvailable => {
            flag().prop_map(P::SubscriptionIdentifierAvailable).boxed()
        }
        I::SharedSubscriptionAvailable => flag().prop_map(P::SharedSubscriptionAvailable).boxed(),
    }
}

/// A property block valid in `ctx`: each allowed single-use property at most once, the
/// repeatable ones (User Property; Subscription Identifier in PUBLISH) 0-3 times, in a
/// shuffled wire order.
fn properties(ctx: PropertyContext) -> BoxedStrategy<Properties> {
    let parts: Vec<BoxedStrategy<Vec<Property>>> = PropertyId::ALL
        .into_iter()
        .filter(|id| id.allowed_in(ctx))
        .map(|id| {
            if id.repeatable_in(ctx) {
                vec(property(id), 0..4).boxed()
            } else {
                prop::option::weighted(0.5, property(id))
                    .prop_map(|p| p.into_iter().collect())
                    .boxed()
            }
        })
        .collect();
    let full = parts
        .prop_map(|parts| parts.into_iter().flatten().collect::<Vec<_>>())
        .prop_shuffle()
        .prop_map(|props| {
            let mut props = Properties::from(props);
            // "It is a Protocol Error to include Authentication Data if there is no
            // Authentication Method" (§3.1.2.11.10, §3.2.2.3.18, §3.15.2.2.3).
            if props.contains(PropertyId::AuthenticationData)
                && !props.contains(PropertyId::AuthenticationMethod)
            {
                props.push(Property::AuthenticationMethod("SCRAM-SHA-256".into()));
            }
            props
        });
    prop_oneof![1 => Just(Properties::new()), 4 => full].boxed()
}

/// The packet's property block under `v`: always empty before 5.0.
fn packet_properties(v: ProtocolVersion, t: PacketType) -> BoxedStrategy<Properties> {
    if v.is_v5() {
        properties(PropertyContext::Packet(t))
    } else {
        Just(Properties::new()).boxed()
    }
}

/// With Payload Format Indicator 1 the payload is UTF-8 Encoded Character Data
/// (§3.3.2.3.2, §3.1.3.2.3): keep it well-formed UTF-8.
fn payload_for(properties: &Properties, payload: Bytes) -> Bytes {
    if properties.payload_format_indicator() == Some(1) {
        Bytes::from(String::from_utf8_lossy(&payload).into_owned())
    } else {
        payload
    }
}

/// A reason code from the packet's 5.0 table.
fn v5_reason(t: PacketType) -> BoxedStrategy<ReasonCode> {
    select(reason::allowed_codes(t))
        .prop_map(ReasonCode)
        .boxed()
}

// ----- packets -------------------------------------------------------------------------

fn connect(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let will = (
        topic_name(),
        payload(),
        qos(),
        any::<bool>(),
        if v.is_v5() {
            properties(PropertyContext::Will)
        } else {
            Just(Properties::new()).boxed()
        },
    )
        .prop_map(|(topic, payload, qos, retain, properties)| Will {
            topic: topic.into(),
            payload: payload_for(&properties, payload),
            qos,
            retain,
            properties,
        });
    let client_id = if v == V3_1 {
        // 3.1 §3.1: "between 1 and 23 characters long".
        "[0-9a-zA-Z]{1,23}".boxed()
    } else {
        mqtt_string()
    };
    (
        any::<bool>(),
        u16_any(),
        packet_properties(v, PacketType::Connect),
        client_id,
        prop::option::of(will),
        prop::option::of(mqtt_string()),
        prop::option::of(binary()),
    )
        .prop_map(
            move |(clean_start, keep_alive, properties, client_id, will, username, password)| {
                // MQTT-3.1.2-22: before 5.0 a password needs a user name.
                let password = if v.is_v5() || username.is_some() {
                    password
                } else {
                    None
                };
                Packet::Connect(Connect {
                    protocol: v,
                    // MQTT-3.1.3-7/-8 (3.1.1): a zero-byte ClientId needs Clean Session.
                    clean_start: clean_start || (v == V3_1_1 && client_id.is_empty()),
                    keep_alive,
                    properties,
                    client_id: client_id.into(),
                    will,
                    username: username.map(Into::into),
                    password,
                })
            },
        )
        .boxed()
}

fn connack(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let code = if v.is_v5() {
        v5_reason(PacketType::ConnAck)
    } else {
        // Only the reason codes that have a 3.1/3.1.1 return code.
        let codes: Vec<ReasonCode> = (0..=u8::MAX)
            .map(ReasonCode)
            .filter(|c| c.to_v3_connack().is_some())
            .collect();
        select(codes).boxed()
    };
    (
        any::<bool>(),
        code,
        packet_properties(v, PacketType::ConnAck),
    )
        .prop_map(move |(session_present, reason_code, properties)| {
            Packet::ConnAck(ConnAck {
                // Session Present only with Success (MQTT-3.2.2-4 / MQTT-3.2.2-6); 3.1 has
                // no Session Present flag at all.
                session_present: session_present && reason_code == ReasonCode::SUCCESS && v != V3_1,
                reason_code,
                properties,
            })
        })
        .boxed()
}

fn publish(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let topic = if v.is_v5() {
        // A zero-length Topic Name is how 5.0 uses an established Topic Alias.
        prop_oneof![4 => topic_name(), 1 => Just(String::new())].boxed()
    } else {
        topic_name()
    };
    (
        (any::<bool>(), qos(), any::<bool>(), packet_id()),
        topic,
        packet_properties(v, PacketType::Publish),
        u16_nonzero(),
        payload(),
    )
        .prop_map(
            |((dup, qos, retain, id), topic, mut properties, alias, payload)| {
                if topic.is_empty() && properties.topic_alias().is_none() {
                    properties.push(Property::TopicAlias(alias));
                }
                let at_most_once = qos == QoS::AtMostOnce;
                Packet::Publish(Publish {
                    // MQTT-3.3.1-2: no DUP at QoS 0, and no Packet Identifier either.
                    dup: dup && !at_most_once,
                    qos,
                    retain,
                    topic: topic.into(),
                    packet_id: if at_most_once { 0 } else { id },
                    payload: payload_for(&properties, payload),
                    properties,
                })
            },
        )
        .boxed()
}

fn publish_ack(v: ProtocolVersion, t: PacketType) -> BoxedStrategy<Packet> {
    let code = if v.is_v5() {
        v5_reason(t)
    } else {
        Just(ReasonCode::SUCCESS).boxed()
    };
    (packet_id(), code, packet_properties(v, t))
        .prop_map(move |(packet_id, reason_code, properties)| {
            let ack = PublishAck {
                packet_id,
                reason_code,
                properties,
            };
            match t {
                PacketType::PubAck => Packet::PubAck(ack),
                PacketType::PubRec => Packet::PubRec(ack),
                PacketType::PubRel => Packet::PubRel(ack),
                _ => Packet::PubComp(ack),
            }
        })
        .boxed()
}

fn subscription(v: ProtocolVersion) -> BoxedStrategy<Subscription> {
    let retain_handling = select(
        &[
            RetainHandling::SendAtSubscribe,
            RetainHandling::SendIfNew,
            RetainHandling::DoNotSend,
        ][..],
    );
    (
        filter(v),
        qos(),
        any::<bool>(),
        any::<bool>(),
        retain_handling,
    )
        .prop_map(move |((filter, shared), qos, no_local, rap, rh)| {
            let options = if v.is_v5() {
                SubscriptionOptions {
                    qos,
                    // MQTT-3.8.3-4: never No Local on a shared subscription.
                    no_local: no_local && !shared,
                    retain_as_published: rap,
                    retain_handling: rh,
                }
            } else {
                SubscriptionOptions::new(qos)
            };
            Subscription {
                filter: filter.into(),
                options,
            }
        })
        .boxed()
}

fn subscribe(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        packet_properties(v, PacketType::Subscribe),
        vec(subscription(v), 1..6),
    )
        .prop_map(|(packet_id, properties, subscriptions)| {
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                subscriptions,
            })
        })
        .boxed()
}

fn suback(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let code = match v {
        V5 => v5_reason(PacketType::SubAck),
        V3_1_1 => select(&[0u8, 1, 2, 0x80][..]).prop_map(ReasonCode).boxed(),
        V3_1 => select(&[0u8, 1, 2][..]).prop_map(ReasonCode).boxed(),
    };
    (
        packet_id(),
        packet_properties(v, PacketType::SubAck),
        vec(code, 1..8),
    )
        .prop_map(|(packet_id, properties, reason_codes)| {
            Packet::SubAck(SubAck {
                packet_id,
                properties,
                reason_codes,
            })
        })
        .boxed()
}

fn unsubscribe(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    (
        packet_id(),
        packet_properties(v, PacketType::Unsubscribe),
        vec(filter(v).prop_map(|(f, _)| f.into()), 1..6),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        })
        .boxed()
}

fn unsuback(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let codes = if v.is_v5() {
        vec(v5_reason(PacketType::UnsubAck), 1..8).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        packet_id(),
        packet_properties(v, PacketType::UnsubAck),
        codes,
    )
        .prop_map(|(packet_id, properties, reason_codes)| {
            Packet::UnsubAck(UnsubAck {
                packet_id,
                properties,
                reason_codes,
            })
        })
        .boxed()
}

fn disconnect(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    if !v.is_v5() {
        return Just(Packet::Disconnect(Disconnect::default())).boxed();
    }
    (
        v5_reason(PacketType::Disconnect),
        packet_properties(v, PacketType::Disconnect),
    )
        .prop_map(|(reason_code, properties)| {
            Packet::Disconnect(Disconnect {
                reason_code,
                properties,
            })
        })
        .boxed()
}

fn auth(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    assert!(v.is_v5(), "AUTH exists only in 5.0");
    (
        v5_reason(PacketType::Auth),
        packet_properties(v, PacketType::Auth),
    )
        .prop_map(|(reason_code, properties)| {
            Packet::Auth(Auth {
                reason_code,
                properties,
            })
        })
        .boxed()
}

fn pingreq(_: ProtocolVersion) -> BoxedStrategy<Packet> {
    Just(Packet::PingReq).boxed()
}

fn pingresp(_: ProtocolVersion) -> BoxedStrategy<Packet> {
    Just(Packet::PingResp).boxed()
}

/// Any packet of any type that exists in `v`.
fn packet(v: ProtocolVersion) -> BoxedStrategy<Packet> {
    let mut all = vec![
        connect(v),
        connack(v),
        publish(v),
        publish_ack(v, PacketType::PubAck),
        publish_ack(v, PacketType::PubRec),
        publish_ack(v, PacketType::PubRel),
        publish_ack(v, PacketType::PubComp),
        subscribe(v),
        suback(v),
        unsubscribe(v),
        unsuback(v),
        pingreq(v),
        pingresp(v),
        disconnect(v),
    ];
    if v.is_v5() {
        all.push(auth(v));
    }
    Union::new(all).boxed()
}

/// A version from `versions` and a packet valid under it.
fn versioned(
    versions: &'static [ProtocolVersion],
    make: fn(ProtocolVersion) -> BoxedStrategy<Packet>,
) -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    select(versions).prop_flat_map(move |v| (Just(v), make(v)))
}

fn versioned_ack(t: PacketType) -> impl Strategy<Value = (ProtocolVersion, Packet)> {
    select(ALL_VERSIONS).prop_flat_map(move |v| (Just(v), publish_ack(v, t)))
}

// ----- the round-trip properties -------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn connect_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, connect)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn connect_decodes_by_its_own_protocol_level(
        (v, p) in versioned(ALL_VERSIONS, connect),
        other in select(ALL_VERSIONS),
    ) {
        // CONNECT names its version; the version the decoder was given does not matter.
        let bytes = p.to_bytes(other).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&bytes, &p.to_bytes(v).map_err(|e| TestCaseError::fail(e.to_string()))?);
        prop_assert_eq!(p.encoded_len(other), bytes.len());
        let decoded = Packet::decode(&bytes, other).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded, p);
    }

    #[test]
    fn connack_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, connack)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn publish_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, publish)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn puback_round_trips_in_every_version((v, p) in versioned_ack(PacketType::PubAck)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn pubrec_round_trips_in_every_version((v, p) in versioned_ack(PacketType::PubRec)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn pubrel_round_trips_in_every_version((v, p) in versioned_ack(PacketType::PubRel)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn pubcomp_round_trips_in_every_version((v, p) in versioned_ack(PacketType::PubComp)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn subscribe_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, subscribe)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn suback_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, suback)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn unsubscribe_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, unsubscribe)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn unsuback_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, unsuback)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn pingreq_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, pingreq)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn pingresp_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, pingresp)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn disconnect_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, disconnect)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn auth_round_trips_in_5_0((v, p) in versioned(V5_ONLY, auth)) {
        prop_round_trip(v, &p)?;
    }

    #[test]
    fn any_packet_round_trips_in_every_version((v, p) in versioned(ALL_VERSIONS, packet)) {
        prop_round_trip(v, &p)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..config() })]

    /// Bodies over 16,383 bytes need a 3-byte Remaining Length.
    #[test]
    fn publish_over_16_kib_round_trips_with_a_3_byte_remaining_length(
        v in select(ALL_VERSIONS),
        topic in topic_name(),
        qos in qos(),
        id in packet_id(),
        payload in vec(any::<u8>(), 16_385..40_000),
    ) {
        let packet = Packet::Publish(Publish {
            packet_id: if qos == QoS::AtMostOnce { 0 } else { id },
            ..Publish::new(topic, qos, payload)
        });
        let bytes = packet.to_bytes(v).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(bytes[1] & 0x80 != 0 && bytes[2] & 0x80 != 0 && bytes[3] & 0x80 == 0,
            "expected a 3-byte Remaining Length, got {:02x?}", &bytes[..5]);
        prop_round_trip(v, &packet)?;
    }
}

#[test]
fn remaining_length_boundaries_round_trip() {
    // PUBLISH QoS 0 to "t": body = 2 + 1 (topic) + [Property Length, 5.0] + payload.
    for (remaining, header) in [
        (4u32, &[0x30, 0x04][..]),
        (127, &[0x30, 0x7F]),
        (128, &[0x30, 0x80, 0x01]),
        (16_383, &[0x30, 0xFF, 0x7F]),
        (16_384, &[0x30, 0x80, 0x80, 0x01]),
        (2_097_151, &[0x30, 0xFF, 0xFF, 0x7F]),
        (2_097_152, &[0x30, 0x80, 0x80, 0x80, 0x01]),
    ] {
        for v in ALL_VERSIONS.iter().copied() {
            let fields = 3 + usize::from(v.is_v5());
            let payload = vec![0xA5u8; remaining as usize - fields];
            let packet = Packet::Publish(Publish::new("t", QoS::AtMostOnce, payload));
            let bytes = packet.to_bytes(v).expect("encodes");
            assert_eq!(
                &bytes[..header.len()],
                header,
                "Remaining Length {remaining}"
            );
            assert_round_trip(v, &packet);
        }
    }
}

// ----- properties: the deterministic sweep -----------------------------------------------

/// Every packet context and the Will.
fn all_contexts() -> Vec<PropertyContext> {
    PacketType::ALL
        .into_iter()
        .map(PropertyContext::Packet)
        .chain([PropertyContext::Will])
        .collect()
}

/// The edge values of each property: 0, 1 and the type's maximum (where the decoder allows
/// them), every VBI length boundary, empty and 65,535-byte strings and binaries, strings
/// with multi-byte UTF-8 and U+FEFF.
fn edge_values(id: PropertyId) -> Vec<Property> {
    use Property as P;
    use PropertyId as I;
    let s = |x: &str| mqttspec_codec::MqttString::from(x);
    let strings = || {
        vec![
            s(""),
            s("a"),
            s("\u{FEFF}"),
            s("\u{FEFF}é€😀/+#$ x"),
            s(&"a".repeat(65_535)),
            s(&"✓".repeat(21_845)),
        ]
    };
    let binaries = || {
        vec![
            Bytes::new(),
            Bytes::from_static(&[0]),
            Bytes::from((0..=255u8).collect::<Vec<_>>()),
            Bytes::from(vec![0xFF; 65_535]),
        ]
    };
    let bytes01 = [0u8, 1];
    let u16s = [0u16, 1, u16::MAX];
    let u32s = [0u32, 1, u32::MAX];
    match id {
        I::PayloadFormatIndicator => bytes01.map(P::PayloadFormatIndicator).to_vec(),
        I::MessageExpiryInterval => u32s.map(P::MessageExpiryInterval).to_vec(),
        I::ContentType => strings().into_iter().map(P::ContentType).collect(),
        I::ResponseTopic => ["/", "a", "\u{FEFF}é/€/😀", "$SYS/x"]
            .into_iter()
            .map(s)
            .chain([s(&"r".repeat(65_535))])
            .map(P::ResponseTopic)
            .collect(),
        I::CorrelationData => binaries().into_iter().map(P::CorrelationData).collect(),
        I::SubscriptionIdentifier => VBI_EDGES.map(P::SubscriptionIdentifier).to_vec(),
        I::SessionExpiryInterval => u32s.map(P::SessionExpiryInterval).to_vec(),
        I::AssignedClientIdentifier => strings()
            .into_iter()
            .map(P::AssignedClientIdentifier)
            .collect(),
        I::ServerKeepAlive => u16s.map(P::ServerKeepAlive).to_vec(),
        I::AuthenticationMethod => strings().into_iter().map(P::AuthenticationMethod).collect(),
        I::AuthenticationData => binaries().into_iter().map(P::AuthenticationData).collect(),
        I::RequestProblemInformation => bytes01.map(P::RequestProblemInformation).to_vec(),
        I::WillDelayInterval => u32s.map(P::WillDelayInterval).to_vec(),
        I::RequestResponseInformation => bytes01.map(P::RequestResponseInformation).to_vec(),
        I::ResponseInformation => strings().into_iter().map(P::ResponseInformation).collect(),
        I::ServerReference => strings().into_iter().map(P::ServerReference).collect(),
        I::ReasonString => strings().into_iter().map(P::ReasonString).collect(),
        I::ReceiveMaximum => [1u16, 2, u16::MAX].map(P::ReceiveMaximum).to_vec(),
        I::TopicAliasMaximum => u16s.map(P::TopicAliasMaximum).to_vec(),
        I::TopicAlias => [1u16, 2, u16::MAX].map(P::TopicAlias).to_vec(),
        I::MaximumQoS => bytes01.map(P::MaximumQoS).to_vec(),
        I::RetainAvailable => bytes01.map(P::RetainAvailable).to_vec(),
        I::UserProperty => {
            let long = s(&"u".repeat(65_535));
            vec![
                P::UserProperty(s(""), s("")),
                P::UserProperty(s("k"), s("v")),
                P::UserProperty(s("\u{FEFF}ключ"), s("😀")),
                P::UserProperty(long.clone(), long),
            ]
        }
        I::MaximumPacketSize => [1u32, 2, u32::MAX].map(P::MaximumPacketSize).to_vec(),
        I::WildcardSubscriptionAvailable => bytes01.map(P::WildcardSubscriptionAvailable).to_vec(),
        I::SubscriptionIdentifierAvailable => {
            bytes01.map(P::SubscriptionIdentifierAvailable).to_vec()
        }
        I::SharedSubscriptionAvailable => bytes01.map(P::SharedSubscriptionAvailable).to_vec(),
    }
}

/// The simplest valid 5.0 packet whose property block in `ctx` is `properties`.
fn carrier(ctx: PropertyContext, properties: Properties) -> Packet {
    let ack = |properties| PublishAck {
        packet_id: 1,
        reason_code: ReasonCode::SUCCESS,
        properties,
    };
    match ctx {
        PropertyContext::Will => Packet::Connect(Connect {
            protocol: V5,
            client_id: "c".into(),
            will: Some(Will {
                topic: "will".into(),
                payload: Bytes::from_static(b"bye"),
                qos: QoS::AtLeastOnce,
                retain: false,
                properties,
            }),
            ..Connect::default()
        }),
        PropertyContext::Packet(t) => match t {
            PacketType::Connect => Packet::Connect(Connect {
                protocol: V5,
                properties,
                ..Connect::default()
            }),
            PacketType::ConnAck => Packet::ConnAck(ConnAck {
                properties,
                ..ConnAck::default()
            }),
            PacketType::Publish => Packet::Publish(Publish {
                packet_id: 1,
                properties,
                ..Publish::new("t", QoS::AtLeastOnce, &b"p"[..])
            }),
            PacketType::PubAck => Packet::PubAck(ack(properties)),
            PacketType::PubRec => Packet::PubRec(ack(properties)),
            PacketType::PubRel => Packet::PubRel(ack(properties)),
            PacketType::PubComp => Packet::PubComp(ack(properties)),
            PacketType::Subscribe => Packet::Subscribe(Subscribe {
                properties,
                ..Subscribe::new(1, vec![Subscription::new("t/#", QoS::AtLeastOnce)])
            }),
            PacketType::SubAck => Packet::SubAck(SubAck {
                packet_id: 1,
                properties,
                reason_codes: vec![ReasonCode::GRANTED_QOS_1],
            }),
            PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe {
                properties,
                ..Unsubscribe::new(1, vec!["t/#".into()])
            }),
            PacketType::UnsubAck => Packet::UnsubAck(UnsubAck {
                packet_id: 1,
                properties,
                reason_codes: vec![ReasonCode::SUCCESS],
            }),
            PacketType::Disconnect => Packet::Disconnect(Disconnect {
                reason_code: ReasonCode::NORMAL_DISCONNECTION,
                properties,
            }),
            PacketType::Auth => Packet::Auth(Auth {
                reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
                properties,
            }),
            PacketType::PingReq | PacketType::PingResp => {
                panic!("{t} carries no properties")
            }
        },
    }
}

#[test]
fn every_property_round_trips_with_edge_values_in_every_packet_that_may_carry_it() {
    let mut reached = BTreeSet::new();
    let mut cases = 0;
    for id in PropertyId::ALL {
        for ctx in all_contexts().into_iter().filter(|&ctx| id.allowed_in(ctx)) {
            for value in edge_values(id) {
                assert_eq!(value.id(), id, "edge_values({id}) is mislabelled");
                let packet = carrier(ctx, Properties::from(vec![value]));
                assert_round_trip(V5, &packet);
                reached.insert(id);
                cases += 1;
            }
        }
    }
    let missing: Vec<_> = PropertyId::ALL
        .into_iter()
        .filter(|id| !reached.contains(id))
        .collect();
    assert!(missing.is_empty(), "never swept: {missing:?}");
    assert!(cases > 27 * 2, "only {cases} sweep cases");
}

#[test]
fn all_properties_allowed_together_round_trip_in_each_context() {
    // One block per context with every allowed property, the repeatable ones twice.
    for ctx in all_contexts() {
        let mut block = Properties::new();
        for id in PropertyId::ALL.into_iter().filter(|id| id.allowed_in(ctx)) {
            let values = edge_values(id);
            let n = if id.repeatable_in(ctx) { 2 } else { 1 };
            for value in values.into_iter().skip(1).take(n) {
                block.push(value);
            }
        }
        if block.is_empty() {
            continue;
        }
        assert_round_trip(V5, &carrier(ctx, block));
    }
}

#[test]
fn user_properties_keep_their_order_and_duplicates() {
    let props: Properties = [("b", "2"), ("a", "1"), ("b", "1"), ("a", "1"), ("", "")]
        .into_iter()
        .map(|(k, v)| Property::UserProperty(k.into(), v.into()))
        .collect();
    for ctx in all_contexts()
        .into_iter()
        .filter(|&ctx| PropertyId::UserProperty.allowed_in(ctx))
    {
        let packet = carrier(ctx, props.clone());
        assert_round_trip(V5, &packet);
    }
}

#[test]
fn publish_carries_several_subscription_identifiers_in_order() {
    let props: Properties = [2_097_152u32, 1, 268_435_455, 128, 1]
        .into_iter()
        .map(Property::SubscriptionIdentifier)
        .collect();
    let packet = carrier(PropertyContext::Packet(PacketType::Publish), props);
    assert_round_trip(V5, &packet);
    let Ok(Packet::Publish(p)) = Packet::decode(&packet.to_bytes(V5).expect("encodes"), V5) else {
        panic!("not a PUBLISH");
    };
    assert_eq!(
        p.properties.subscription_identifiers().collect::<Vec<_>>(),
        [2_097_152, 1, 268_435_455, 128, 1]
    );
}

#[test]
fn v5_publish_with_empty_topic_and_topic_alias_round_trips() {
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let packet = Packet::Publish(Publish {
            packet_id: if qos == QoS::AtMostOnce { 0 } else { 9 },
            properties: Properties::new().with(Property::TopicAlias(u16::MAX)),
            ..Publish::new("", qos, &b"aliased"[..])
        });
        assert_round_trip(V5, &packet);
    }
}

// ----- the strategies reach what they claim ----------------------------------------------

fn property_blocks(p: &Packet) -> Vec<(PropertyContext, &Properties)> {
    let t = PropertyContext::Packet(p.packet_type());
    match p {
        Packet::Connect(c) => {
            let mut blocks = vec![(t, &c.properties)];
            if let Some(w) = &c.will {
                blocks.push((PropertyContext::Will, &w.properties));
            }
            blocks
        }
        Packet::ConnAck(c) => vec![(t, &c.properties)],
        Packet::Publish(c) => vec![(t, &c.properties)],
        Packet::PubAck(c) | Packet::PubRec(c) | Packet::PubRel(c) | Packet::PubComp(c) => {
            vec![(t, &c.properties)]
        }
        Packet::Subscribe(c) => vec![(t, &c.properties)],
        Packet::SubAck(c) => vec![(t, &c.properties)],
        Packet::Unsubscribe(c) => vec![(t, &c.properties)],
        Packet::UnsubAck(c) => vec![(t, &c.properties)],
        Packet::Disconnect(c) => vec![(t, &c.properties)],
        Packet::Auth(c) => vec![(t, &c.properties)],
        Packet::PingReq | Packet::PingResp => vec![],
    }
}

fn has_string(p: &Property, pred: impl Fn(&str) -> bool) -> bool {
    match p {
        Property::ContentType(s)
        | Property::ResponseTopic(s)
        | Property::AssignedClientIdentifier(s)
        | Property::AuthenticationMethod(s)
        | Property::ResponseInformation(s)
        | Property::ServerReference(s)
        | Property::ReasonString(s) => pred(s),
        Property::UserProperty(k, v) => pred(k) || pred(v),
        _ => false,
    }
}

/// Draws `n` packets from `strategy` with a fixed seed.
fn sample(strategy: &BoxedStrategy<Packet>, n: usize) -> Vec<Packet> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("strategy generates")
                .current()
        })
        .collect()
}

#[test]
fn every_property_is_generated_by_the_strategies() {
    let packets = sample(&packet(V5), 512);
    let mut seen = BTreeSet::new();
    let mut sub_id_lengths = BTreeSet::new();
    let (mut empty_string, mut bom, mut multibyte, mut u16_max, mut u32_max) =
        (false, false, false, false, false);
    let (mut repeated_user, mut repeated_sub_id, mut aliased_empty_topic) = (false, false, false);
    let mut shared = false;
    for p in &packets {
        for (ctx, block) in property_blocks(p) {
            let mut ids = Vec::new();
            for prop in block {
                assert!(
                    prop.id().allowed_in(ctx),
                    "{} generated in {ctx:?}",
                    prop.id()
                );
                seen.insert(prop.id());
                ids.push(prop.id());
                empty_string |= has_string(prop, str::is_empty);
                bom |= has_string(prop, |s| s.contains('\u{FEFF}'));
                multibyte |= has_string(prop, |s| s.chars().any(|c| c.len_utf8() == 4));
                match *prop {
                    Property::SubscriptionIdentifier(v) => {
                        sub_id_lengths.insert(match v {
                            0..=127 => 1,
                            128..=16_383 => 2,
                            16_384..=2_097_151 => 3,
                            _ => 4,
                        });
                    }
                    Property::ServerKeepAlive(u16::MAX)
                    | Property::ReceiveMaximum(u16::MAX)
                    | Property::TopicAlias(u16::MAX)
                    | Property::TopicAliasMaximum(u16::MAX) => u16_max = true,
                    Property::MessageExpiryInterval(u32::MAX)
                    | Property::SessionExpiryInterval(u32::MAX)
                    | Property::WillDelayInterval(u32::MAX)
                    | Property::MaximumPacketSize(u32::MAX) => u32_max = true,
                    _ => {}
                }
            }
            let count = |id| ids.iter().filter(|&&i| i == id).count();
            repeated_user |= count(PropertyId::UserProperty) > 1;
            repeated_sub_id |= count(PropertyId::SubscriptionIdentifier) > 1;
        }
        match p {
            Packet::Publish(p) if p.topic.is_empty() => aliased_empty_topic = true,
            Packet::Subscribe(s) => {
                shared |= s
                    .subscriptions
                    .iter()
                    .any(|s| s.filter.starts_with("$share/"));
            }
            _ => {}
        }
    }
    let missing: Vec<_> = PropertyId::ALL
        .into_iter()
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "never generated in 512 packets: {missing:?}"
    );
    assert_eq!(
        sub_id_lengths.into_iter().collect::<Vec<_>>(),
        [1, 2, 3, 4],
        "Subscription Identifier VBI lengths"
    );
    assert!(empty_string && bom && multibyte, "string edge cases");
    assert!(u16_max && u32_max, "integer maxima");
    assert!(repeated_user, "User Property repeated in one block");
    assert!(
        repeated_sub_id,
        "Subscription Identifier repeated in PUBLISH"
    );
    assert!(aliased_empty_topic, "empty Topic Name with Topic Alias");
    assert!(shared, "shared subscription");
    // And every one of them is valid.
    for p in &packets {
        assert_round_trip(V5, p);
    }
}

#[test]
fn every_packet_type_is_generated_in_every_version() {
    for v in ALL_VERSIONS.iter().copied() {
        let types: BTreeSet<PacketType> = sample(&packet(v), 256)
            .iter()
            .map(Packet::packet_type)
            .collect();
        let expected: BTreeSet<PacketType> = PacketType::ALL
            .into_iter()
            .filter(|&t| t != PacketType::Auth || v.is_v5())
            .collect();
        assert_eq!(types, expected, "{v}");
    }
}

/// 5.0 table 2-4, written out independently of the codec: the packets (and Will) that may
/// carry each property. The strategies pick properties with `PropertyId::allowed_in`, so
/// this pins that table to the spec.
#[test]
fn allowed_property_contexts_match_table_2_4_of_the_spec() {
    use PacketType as T;
    use PropertyContext::{Packet as P, Will as W};
    use PropertyId as I;
    let acks = [T::PubAck, T::PubRec, T::PubRel, T::PubComp];
    let table: Vec<(PropertyId, Vec<PropertyContext>)> = vec![
        (I::PayloadFormatIndicator, vec![P(T::Publish), W]),
        (I::MessageExpiryInterval, vec![P(T::Publish), W]),
        (I::ContentType, vec![P(T::Publish), W]),
        (I::ResponseTopic, vec![P(T::Publish), W]),
        (I::CorrelationData, vec![P(T::Publish), W]),
        (
            I::SubscriptionIdentifier,
            vec![P(T::Publish), P(T::Subscribe)],
        ),
        (
            I::SessionExpiryInterval,
            vec![P(T::Connect), P(T::ConnAck), P(T::Disconnect)],
        ),
        (I::AssignedClientIdentifier, vec![P(T::ConnAck)]),
        (I::ServerKeepAlive, vec![P(T::ConnAck)]),
        (
            I::AuthenticationMethod,
            vec![P(T::Connect), P(T::ConnAck), P(T::Auth)],
        ),
        (
            I::AuthenticationData,
            vec![P(T::Connect), P(T::ConnAck), P(T::Auth)],
        ),
        (I::RequestProblemInformation, vec![P(T::Connect)]),
        (I::WillDelayInterval, vec![W]),
        (I::RequestResponseInformation, vec![P(T::Connect)]),
        (I::ResponseInformation, vec![P(T::ConnAck)]),
        (I::ServerReference, vec![P(T::ConnAck), P(T::Disconnect)]),
        (
            I::ReasonString,
            [T::ConnAck, T::SubAck, T::UnsubAck, T::Disconnect, T::Auth]
                .into_iter()
                .chain(acks)
                .map(P)
                .collect(),
        ),
        (I::ReceiveMaximum, vec![P(T::Connect), P(T::ConnAck)]),
        (I::TopicAliasMaximum, vec![P(T::Connect), P(T::ConnAck)]),
        (I::TopicAlias, vec![P(T::Publish)]),
        (I::MaximumQoS, vec![P(T::ConnAck)]),
        (I::RetainAvailable, vec![P(T::ConnAck)]),
        (
            I::UserProperty,
            PacketType::ALL
                .into_iter()
                .filter(|t| !matches!(t, T::PingReq | T::PingResp))
                .map(P)
                .chain([W])
                .collect(),
        ),
        (I::MaximumPacketSize, vec![P(T::Connect), P(T::ConnAck)]),
        (I::WildcardSubscriptionAvailable, vec![P(T::ConnAck)]),
        (I::SubscriptionIdentifierAvailable, vec![P(T::ConnAck)]),
        (I::SharedSubscriptionAvailable, vec![P(T::ConnAck)]),
    ];
    assert_eq!(table.len(), 27);
    for (id, contexts) in &table {
        for ctx in all_contexts() {
            assert_eq!(
                id.allowed_in(ctx),
                contexts.contains(&ctx),
                "{id} in {ctx:?}"
            );
        }
    }
}

// ----- regressions -------------------------------------------------------------------------

/// MQTT 3.1 has no Session Present flag: byte 1 of its CONNACK variable header is
/// "reserved, not used". The encoder used to write `session_present` into it, so the packet
/// did not decode to itself; it now refuses, as for every other field 3.1 lacks.
#[test]
fn v3_1_connack_with_session_present_is_refused() {
    let packet = Packet::ConnAck(ConnAck {
        session_present: true,
        reason_code: ReasonCode::SUCCESS,
        properties: Properties::new(),
    });
    assert!(packet.to_bytes(V3_1).is_err());
}
