//! Robustness: malformed packets and protocol errors close the offending connection (with
//! the right 5.0 reason code, if any) and nothing else; a client that stops reading does not
//! stall the broker.

use std::time::Duration;

use bytes::Bytes;
use mqttspec_codec::malformed::{FieldRef, Malformed, Tamper};
use mqttspec_codec::{
    Packet, Properties, Property, ProtocolVersion, Publish, PublishAck, QoS, ReasonCode, Subscribe,
    Subscription, Unsubscribe,
};

use crate::support::*;

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// 5.0 reason codes a DISCONNECT may carry before the close.
    codes: &'static [ReasonCode],
}

const MALFORMED: &[ReasonCode] = &[ReasonCode::MALFORMED_PACKET];
const PROTOCOL: &[ReasonCode] = &[ReasonCode::PROTOCOL_ERROR];
const EITHER: &[ReasonCode] = &[ReasonCode::MALFORMED_PACKET, ReasonCode::PROTOCOL_ERROR];

fn tampered(packet: Packet, v: ProtocolVersion, tampers: &[Tamper]) -> Vec<u8> {
    let mut m = Malformed::from_packet(&packet, v).expect("encodable");
    m.apply_all(tampers).expect("tamper applies");
    m.as_bytes().to_vec()
}

fn encoded(packet: Packet, v: ProtocolVersion) -> Vec<u8> {
    packet.to_bytes(v).expect("encodable").to_vec()
}

fn publish(topic: &str, qos: QoS) -> Packet {
    let mut p = Publish::new(topic, qos, "payload");
    if qos != QoS::AtMostOnce {
        p.packet_id = 1;
    }
    Packet::Publish(p)
}

fn subscribe(filter: &str) -> Packet {
    Packet::Subscribe(Subscribe::new(
        1,
        vec![Subscription::new(filter, QoS::AtMostOnce)],
    ))
}

/// Broken packets that both versions must refuse by closing the connection.
fn cases(v: ProtocolVersion) -> Vec<Case> {
    let t = topic("malformed");
    let replace = |field: &str, bytes: &[u8]| Tamper::Replace {
        field: FieldRef::new(field),
        bytes: bytes.to_vec(),
    };
    vec![
        // 3.1.1 MQTT-3.3.1-4; 5.0 MQTT-3.3.1-4.
        Case {
            name: "PUBLISH with QoS 3",
            bytes: tampered(
                publish(&t, QoS::AtMostOnce),
                v,
                &[Tamper::FixedHeaderFlags(0b0110)],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-3.8.1-1, MQTT-2.2.2-2; 5.0 MQTT-3.8.1-1.
        Case {
            name: "SUBSCRIBE with fixed-header flags 0000",
            bytes: tampered(subscribe(&t), v, &[Tamper::FixedHeaderFlags(0)]),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-3.10.1-1; 5.0 MQTT-3.10.1-1.
        Case {
            name: "UNSUBSCRIBE with fixed-header flags 0000",
            bytes: tampered(
                Packet::Unsubscribe(Unsubscribe::new(1, vec![t.as_str().into()])),
                v,
                &[Tamper::FixedHeaderFlags(0)],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-3.6.1-1; 5.0 MQTT-3.6.1-1.
        Case {
            name: "PUBREL with fixed-header flags 0000",
            bytes: tampered(
                Packet::PubRel(PublishAck::new(1)),
                v,
                &[Tamper::FixedHeaderFlags(0)],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-2.2.2-2 (reserved packet type 0); 5.0 MQTT-4.13.1-1.
        Case {
            name: "reserved packet type 0",
            bytes: vec![0x00, 0x00],
            codes: EITHER,
        },
        // 3.1.1 MQTT-4.8.0-1; 5.0 MQTT-1.5.5-1, MQTT-4.13.1-1 (a Remaining Length of five bytes).
        Case {
            name: "five-byte Remaining Length",
            bytes: vec![0x30, 0xff, 0xff, 0xff, 0xff, 0x01],
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-1.5.3-1; 5.0 MQTT-1.5.4-1.
        Case {
            name: "topic name that is not UTF-8",
            bytes: tampered(
                publish(&t, QoS::AtMostOnce),
                v,
                &[replace("topic name", b"a\xc3\x28")],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-1.5.3-1; 5.0 MQTT-1.5.4-1 (an encoded surrogate).
        Case {
            name: "topic name with an encoded surrogate",
            bytes: tampered(
                publish(&t, QoS::AtMostOnce),
                v,
                &[replace("topic name", b"a\xed\xa0\x80")],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-1.5.3-2, MQTT-4.7.3-2; 5.0 MQTT-1.5.4-2, MQTT-4.7.3-2.
        Case {
            name: "topic name with U+0000",
            bytes: tampered(
                publish(&t, QoS::AtMostOnce),
                v,
                &[replace("topic name", b"a\0b")],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-3.3.2-2, MQTT-4.7.1-1; 5.0 MQTT-3.3.2-2, MQTT-4.7.0-1.
        Case {
            name: "PUBLISH topic name with a wildcard",
            bytes: encoded(publish(&format!("{t}/+"), QoS::AtMostOnce), v),
            codes: &[
                ReasonCode::MALFORMED_PACKET,
                ReasonCode::PROTOCOL_ERROR,
                ReasonCode::TOPIC_NAME_INVALID,
            ],
        },
        // 3.1.1 MQTT-4.7.3-1; 5.0 MQTT-4.7.3-1 (and without a Topic Alias in 5.0).
        Case {
            name: "PUBLISH with an empty topic name",
            bytes: tampered(
                publish(&t, QoS::AtMostOnce),
                v,
                &[replace("topic name", b"")],
            ),
            codes: &[
                ReasonCode::MALFORMED_PACKET,
                ReasonCode::PROTOCOL_ERROR,
                ReasonCode::TOPIC_NAME_INVALID,
            ],
        },
        // 3.1.1 MQTT-2.3.1-1; 5.0 MQTT-2.2.1-3.
        Case {
            name: "QoS 1 PUBLISH with Packet Identifier 0",
            bytes: tampered(
                publish(&t, QoS::AtLeastOnce),
                v,
                &[replace("packet identifier", &[0, 0])],
            ),
            codes: EITHER,
        },
        // 3.1.1 MQTT-3.8.3-3; 5.0 MQTT-3.8.3-2.
        Case {
            name: "SUBSCRIBE without topic filters",
            bytes: encoded(Packet::Subscribe(Subscribe::new(1, vec![])), v),
            codes: EITHER,
        },
        // 3.1.1 MQTT-3.10.3-2; 5.0 MQTT-3.10.3-2.
        Case {
            name: "UNSUBSCRIBE without topic filters",
            bytes: encoded(Packet::Unsubscribe(Unsubscribe::new(1, vec![])), v),
            codes: EITHER,
        },
        // 3.1.1 MQTT-3.8.3-4; 5.0 MQTT-3.8.3-5.
        Case {
            name: "SUBSCRIBE options with reserved bits set",
            bytes: tampered(
                subscribe(&t),
                v,
                &[replace("subscription options", &[0xc0])],
            ),
            codes: MALFORMED,
        },
        // 3.1.1 MQTT-3.8.3-4 (malformed); 5.0 §3.8.3.1 (a Maximum QoS of 3 is a Protocol
        // Error).
        Case {
            name: "SUBSCRIBE requesting QoS 3",
            bytes: tampered(
                subscribe(&t),
                v,
                &[replace("subscription options", &[0x03])],
            ),
            codes: EITHER,
        },
        // 3.1.1 MQTT-4.7.1-2; 5.0 MQTT-4.7.1-1 (`#` not last).
        Case {
            name: "SUBSCRIBE with `#` before the last level",
            bytes: encoded(subscribe(&format!("{t}/#/x")), v),
            codes: &[
                ReasonCode::MALFORMED_PACKET,
                ReasonCode::PROTOCOL_ERROR,
                ReasonCode::TOPIC_FILTER_INVALID,
            ],
        },
        // 3.1.1 MQTT-4.8.0-1; 5.0 MQTT-4.13.1-1 (a string length beyond the packet).
        Case {
            name: "topic filter length past the end of the packet",
            bytes: tampered(
                subscribe(&t),
                v,
                &[Tamper::FieldLength {
                    field: FieldRef::new("topic filter"),
                    length: 500,
                }],
            ),
            codes: MALFORMED,
        },
    ]
}

/// Broken 5.0 packets: property errors.
fn v5_cases() -> Vec<Case> {
    let t = topic("malformed5");
    let with_props = |props: Properties| {
        let mut p = Publish::new(t.as_str(), QoS::AtMostOnce, "payload");
        p.properties = props;
        Packet::Publish(p)
    };
    vec![
        // §2.2.2.2: a property included twice that may appear once is a Protocol Error.
        Case {
            name: "PUBLISH with Payload Format Indicator twice",
            bytes: encoded(
                with_props(
                    Properties::new()
                        .with(Property::PayloadFormatIndicator(0))
                        .with(Property::PayloadFormatIndicator(0)),
                ),
                V5,
            ),
            codes: PROTOCOL,
        },
        // MQTT-3.3.4-6: a client PUBLISH must not carry a Subscription Identifier.
        Case {
            name: "client PUBLISH with a Subscription Identifier",
            bytes: encoded(
                with_props(Properties::new().with(Property::SubscriptionIdentifier(1))),
                V5,
            ),
            codes: EITHER,
        },
        // §2.2.2.2: an unknown property identifier makes the packet malformed.
        Case {
            name: "PUBLISH with an unknown property identifier",
            bytes: tampered(
                with_props(Properties::new().with(Property::PayloadFormatIndicator(0))),
                V5,
                &[Tamper::Replace {
                    field: FieldRef::new("properties"),
                    bytes: vec![0x7f, 0x00],
                }],
            ),
            codes: MALFORMED,
        },
        // MQTT-4.13.1-1: a Property Length beyond the packet.
        Case {
            name: "PUBLISH with a Property Length past the end",
            bytes: tampered(
                with_props(Properties::new()),
                V5,
                &[Tamper::PropertyLength {
                    nth: 0,
                    length: 200,
                }],
            ),
            codes: MALFORMED,
        },
        // MQTT-1.5.4-1 in a User Property (§1.5.7: both strings must be UTF-8).
        Case {
            name: "User Property name that is not UTF-8",
            bytes: tampered(
                with_props(Properties::new().with(user_property("k", "v"))),
                V5,
                &[Tamper::Replace {
                    field: FieldRef::new("user property name"),
                    bytes: vec![0xff],
                }],
            ),
            codes: MALFORMED,
        },
        // §3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error.
        Case {
            name: "SUBSCRIBE with Subscription Identifier 0",
            bytes: encoded(
                Packet::Subscribe(Subscribe {
                    packet_id: 1,
                    properties: Properties::new().with(Property::SubscriptionIdentifier(0)),
                    subscriptions: vec![Subscription::new(t.as_str(), QoS::AtMostOnce)],
                }),
                V5,
            ),
            codes: EITHER,
        },
        // MQTT-3.8.3-4: No Local on a Shared Subscription is a Protocol Error.
        Case {
            name: "No Local on a shared subscription",
            bytes: encoded(
                Packet::Subscribe(Subscribe::new(
                    1,
                    vec![Subscription {
                        filter: format!("$share/g/{t}").as_str().into(),
                        options: mqttspec_codec::SubscriptionOptions {
                            no_local: true,
                            ..mqttspec_codec::SubscriptionOptions::new(QoS::AtMostOnce)
                        },
                    }],
                )),
                V5,
            ),
            codes: PROTOCOL,
        },
        // §3.8.3.1: Retain Handling 3 is a Protocol Error.
        Case {
            name: "SUBSCRIBE with Retain Handling 3",
            bytes: tampered(
                subscribe(&t),
                V5,
                &[Tamper::Replace {
                    field: FieldRef::new("subscription options"),
                    bytes: vec![0x30],
                }],
            ),
            codes: EITHER,
        },
    ]
}

/// Cases skipped against an external broker: the case, the statement, and what Mosquitto
/// 2.0.11 does instead.
const EXTERNAL_SKIPS: &[(&str, &str)] = &[
    (
        "client PUBLISH with a Subscription Identifier",
        "MQTT-3.3.4-6: Mosquitto 2.0.11 accepts the PUBLISH and keeps the connection open",
    ),
    (
        "No Local on a shared subscription",
        "MQTT-3.8.3-4: Mosquitto 2.0.11 grants the subscription (SUBACK 0x00)",
    ),
];

/// Runs each case on its own connection: the broker closes it (with one of the case's codes
/// if it sends a 5.0 DISCONNECT). Then the broker still serves a fresh client.
async fn run_cases(b: &Broker, v: ProtocolVersion, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        if let Some((_, why)) = EXTERNAL_SKIPS.iter().find(|(name, _)| *name == case.name)
            && skip_external(case.name, why)
        {
            continue;
        }
        let mut c = Client::connected(b.addr, v, &client_id("malformed")).await;
        c.client_id = format!("{} ({v})", case.name);
        c.send_raw(&case.bytes).await;
        let outcome = async {
            let packets = c.closed().await;
            match packets.as_slice() {
                [] => Ok(()),
                [Packet::Disconnect(d)] if v.is_v5() && case.codes.contains(&d.reason_code) => {
                    Ok(())
                }
                other => Err(format!("{}: got {other:?} before the close", case.name)),
            }
        };
        match tokio::time::timeout(WAIT + Duration::from_secs(1), outcome).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(_) => failures.push(format!("{}: the connection stayed open", case.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    round_trip(b, v).await;
}

/// A subscribe/publish round trip with fresh clients.
async fn round_trip(b: &Broker, v: ProtocolVersion) {
    let t = topic("alive");
    let mut s = Client::connected(b.addr, v, &client_id("alivesub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("alivepub")).await;
    p.publish(&t, QoS::AtLeastOnce, "still here").await;
    assert_eq!(s.recv_message().await.payload.as_ref(), b"still here");
    s.disconnect().await;
    p.disconnect().await;
}

// 3.1.1 MQTT-4.8.0-1, MQTT-2.2.2-2 and the statements named per case; 5.0 MQTT-4.13.1-1,
// MQTT-3.14.2-1 and the statements named per case: a malformed packet or protocol violation
// closes that connection (5.0: after DISCONNECT 0x81 or 0x82 or the specific code, if any),
// and the broker keeps serving other clients.
async fn malformed_packets_close_the_connection_and_the_broker_keeps_serving(v: ProtocolVersion) {
    let b = broker().await;
    run_cases(&b, v, cases(v)).await;
}
both_versions!(malformed_packets_close_the_connection_and_the_broker_keeps_serving);

// 5.0 MQTT-4.13.1-1, MQTT-3.3.4-6, MQTT-3.8.3-4, MQTT-1.5.7-1: property and option errors are
// a Malformed Packet or Protocol Error: the connection is closed, after DISCONNECT with the
// right code if any, and the broker keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_property_errors_close_the_connection_with_the_right_reason_code() {
    let b = broker().await;
    run_cases(&b, V5, v5_cases()).await;
}

// 3.1.1 MQTT-4.8.0-1 (reading stops at the close); 5.0 MQTT-4.13.1-1: a client that closes in
// the middle of a packet, or right after CONNECT, does not disturb the broker.
async fn connections_cut_mid_packet_do_not_disturb_the_broker(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("cut");
    let connect = encoded(Packet::Connect(connect_packet(v, &id)), v);
    for cut in [1, 2, connect.len() / 2, connect.len() - 1] {
        let mut c = Client::open(b.addr, v).await;
        c.send_raw(&connect[..cut]).await;
        c.drop_connection();
    }
    let mut c = Client::connected(b.addr, v, &id).await;
    let big = encoded(publish(&topic("cut"), QoS::AtLeastOnce), v);
    c.send_raw(&big[..big.len() - 3]).await;
    c.drop_connection();
    round_trip(&b, v).await;
}
both_versions!(connections_cut_mid_packet_do_not_disturb_the_broker);

// 3.1.1 MQTT-4.1.0-2, MQTT-3.12.4-1; 5.0 MQTT-3.3.4-10, MQTT-3.12.4-1 (the broker keeps
// serving every connection): a subscriber that never reads while a large volume is published
// to it does not stop the broker serving other clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_does_not_stall_the_others() {
    let b = broker().await;
    let flood_topic = topic("flood");
    let mut sink = Client::connected(b.addr, V311, &client_id("sink")).await;
    sink.subscribe_ok(&flood_topic, QoS::AtLeastOnce).await;
    // `sink` never reads again.
    let mut flooder = Client::connected(b.addr, V311, &client_id("flooder")).await;
    let payload = Bytes::from(vec![b'f'; 64 * 1024]);
    let flood = tokio::spawn(async move {
        for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
            for _ in 0..100 {
                let mut p = Publish::new(flood_topic.as_str(), qos, payload.clone());
                if qos == QoS::AtLeastOnce {
                    p.packet_id = flooder.next_packet_id();
                }
                let bytes = encoded(Packet::Publish(p), V311);
                if flooder.try_send_raw(&bytes).await.is_err() {
                    return;
                }
            }
        }
        // Keep the connection open until aborted.
        std::future::pending::<()>().await;
    });
    for _ in 0..3 {
        let started = tokio::time::Instant::now();
        tokio::time::timeout(WAIT, round_trip(&b, V311))
            .await
            .expect("other clients are served while one does not read");
        assert!(started.elapsed() < WAIT);
        let mut pinger = Client::connected(b.addr, V5, &client_id("pinger")).await;
        pinger.ping().await;
        pinger.disconnect().await;
    }
    flood.abort();
    drop(sink);
}
