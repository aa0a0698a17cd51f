//! 5.0 properties and flow control: message properties forwarded, Message Expiry, Request
//! Problem / Response Information, Receive Maximum and Maximum Packet Size of the client.

use std::time::Duration;

use bytes::Bytes;
use mqttspec_broker::Config;
use mqttspec_codec::{
    Packet, Properties, Property, PropertyId, Publish, PublishAck, QoS, Subscribe, Subscription,
};

use crate::support::*;

// 5.0 MQTT-3.3.2-4, MQTT-3.3.2-15, MQTT-3.3.2-16, MQTT-3.3.2-17, MQTT-3.3.2-18,
// MQTT-3.3.2-20: the Payload Format Indicator, Response Topic, Correlation Data and Content
// Type reach subscribers unaltered, and the User Properties unaltered and in order (repeated
// names included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_publish_properties_are_forwarded_unaltered_and_in_order() {
    let b = broker().await;
    let t = topic("props");
    let mut s = Client::connected(b.addr, V5, &client_id("propsub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, V5, &client_id("proppub")).await;
    let users = [
        ("z", "last letter"),
        ("a", "first"),
        ("z", "again"),
        ("emoji", "\u{1f600}"),
        ("", ""),
    ];
    let mut publish = Publish::new(t.as_str(), QoS::AtLeastOnce, "caf\u{e9}");
    publish.properties = Properties::new()
        .with(Property::PayloadFormatIndicator(1))
        .with(Property::ContentType("text/plain; charset=utf-8".into()))
        .with(Property::ResponseTopic("replies/for/me".into()))
        .with(Property::CorrelationData(Bytes::from_static(&[0, 0xff, 7])));
    for (k, v) in users {
        publish.properties.push(user_property(k, v));
    }
    p.publish_with(publish).await;
    let m = s.recv_message().await;
    let props = &m.properties;
    assert_eq!(props.payload_format_indicator(), Some(1), "{m:?}");
    assert_eq!(
        props.content_type().as_ref().map(|s| s.as_str()),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        props.response_topic().as_ref().map(|s| s.as_str()),
        Some("replies/for/me")
    );
    assert_eq!(
        props.correlation_data().as_deref(),
        Some(&[0u8, 0xff, 7][..])
    );
    let want: Vec<(String, String)> = users
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(user_properties(props), want);
    assert_eq!(m.payload.as_ref(), "caf\u{e9}".as_bytes());

    // And with none of them set, none appear.
    p.publish(&t, QoS::AtLeastOnce, "plain").await;
    let m = s.recv_message().await;
    for id in [
        PropertyId::PayloadFormatIndicator,
        PropertyId::ContentType,
        PropertyId::ResponseTopic,
        PropertyId::CorrelationData,
        PropertyId::UserProperty,
        PropertyId::MessageExpiryInterval,
    ] {
        assert!(!m.properties.contains(id), "{id} appeared: {m:?}");
    }
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.3.2-5, MQTT-3.3.2-6: a message whose Message Expiry Interval passes while it waits
// for an offline subscriber is not delivered; one still valid is delivered with the interval
// reduced by the time it waited; one without an interval never expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_message_expiry_is_decremented_and_expired_messages_are_dropped() {
    let b = broker().await;
    let t = topic("expiry");
    let id = client_id("expiry");
    let persistent = |c: &mut mqttspec_codec::Connect| {
        c.clean_start = false;
        c.properties.push(Property::SessionExpiryInterval(60));
    };
    let (mut s, _) = Client::connected_with(b.addr, V5, &id, persistent).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    s.disconnect().await;

    let mut p = Client::connected(b.addr, V5, &client_id("expirypub")).await;
    for (payload, expiry) in [("short", Some(1)), ("long", Some(30)), ("forever", None)] {
        let mut m = Publish::new(t.as_str(), QoS::AtLeastOnce, payload);
        if let Some(e) = expiry {
            m.properties.push(Property::MessageExpiryInterval(e));
        }
        p.publish_with(m).await;
    }
    // Time passing is the point: "short" must outlive its 1 s.
    tokio::time::sleep(Duration::from_millis(2200)).await;

    let (mut s, ack) = Client::connected_with(b.addr, V5, &id, persistent).await;
    assert!(ack.session_present, "{ack:?}");
    let long = s.recv_message().await;
    assert_eq!(
        long.payload.as_ref(),
        b"long",
        "the expired message was dropped: {long:?}"
    );
    let left = long
        .properties
        .message_expiry_interval()
        .expect("the Message Expiry Interval is forwarded");
    assert!(
        (1..=28).contains(&left),
        "30 s minus the 2+ s it waited: {left}"
    );
    let forever = s.recv_message().await;
    assert_eq!(forever.payload.as_ref(), b"forever");
    assert_eq!(forever.properties.message_expiry_interval(), None);

    // A message forwarded at once keeps (almost) all of its interval.
    let mut live = Publish::new(t.as_str(), QoS::AtLeastOnce, "live");
    live.properties.push(Property::MessageExpiryInterval(100));
    p.publish_with(live).await;
    let m = s.recv_message().await;
    let left = m.properties.message_expiry_interval().expect("forwarded");
    assert!((98..=100).contains(&left), "{m:?}");
    s.disconnect().await;
    Client::connected(b.addr, V5, &id).await.disconnect().await;
    p.disconnect().await;
}

/// Panics if `packet` carries a Reason String or a User Property.
fn assert_no_problem_information(packet: &Packet) {
    let props = match packet {
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            &a.properties
        }
        Packet::SubAck(a) => &a.properties,
        Packet::UnsubAck(a) => &a.properties,
        _ => return,
    };
    assert!(
        !props.contains(PropertyId::ReasonString) && !props.contains(PropertyId::UserProperty),
        "Request Problem Information 0, yet: {packet:?}"
    );
}

// 5.0 MQTT-3.1.2-29: with Request Problem Information 0 the server sends no Reason String and
// no User Property on any packet but PUBLISH, CONNACK and DISCONNECT, whatever the outcome
// (successes, No matching subscribers, Packet Identifier not found, No subscription existed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_request_problem_information_0_suppresses_reason_strings() {
    let b = broker().await;
    let t = topic("rpi");
    let (mut c, _) = Client::connected_with(b.addr, V5, &client_id("rpi"), |c| {
        c.properties.push(Property::RequestProblemInformation(0));
    })
    .await;
    let mut seen = Vec::new();
    // QoS 1 and 2 with no subscriber.
    let mut q1 = Publish::new(t.as_str(), QoS::AtLeastOnce, "nobody");
    q1.packet_id = 1;
    c.send(&Packet::Publish(q1)).await;
    seen.push(c.recv().await);
    let mut q2 = Publish::new(t.as_str(), QoS::ExactlyOnce, "nobody");
    q2.packet_id = 2;
    c.send(&Packet::Publish(q2)).await;
    seen.push(c.recv().await);
    c.send(&Packet::PubRel(PublishAck::new(2))).await;
    seen.push(c.recv().await);
    // An unknown PUBREL.
    c.send(&Packet::PubRel(PublishAck::new(999))).await;
    seen.push(c.recv().await);
    // SUBSCRIBE and UNSUBSCRIBE, one of them for nothing.
    c.send(&Packet::Subscribe(Subscribe::new(
        3,
        vec![Subscription::new(t.as_str(), QoS::AtLeastOnce)],
    )))
    .await;
    seen.push(c.recv().await);
    c.send(&Packet::Unsubscribe(mqttspec_codec::Unsubscribe::new(
        4,
        vec![t.as_str().into(), topic("rpinone").as_str().into()],
    )))
    .await;
    seen.push(c.recv().await);
    for packet in &seen {
        assert_no_problem_information(packet);
    }
    c.disconnect().await;
}

// 5.0 MQTT-3.1.2-28: the server returns Response Information only if the client asked for it:
// never with Request Response Information 0 or absent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_response_information_is_sent_only_when_requested() {
    let b = broker().await;
    let (c, ack) = Client::connected_with(b.addr, V5, &client_id("rri0"), |c| {
        c.properties.push(Property::RequestResponseInformation(0));
    })
    .await;
    assert_eq!(ack.properties.response_information(), None, "{ack:?}");
    c.disconnect().await;
    let (c, ack) = Client::connected_with(b.addr, V5, &client_id("rriabsent"), |_| {}).await;
    assert_eq!(ack.properties.response_information(), None, "{ack:?}");
    c.disconnect().await;
}

// §3.1.2.11.7 and §3.2.2.3.15 (a server MAY answer Request Response Information 1 with
// Response Information; MQTT-3.1.2-28 covers the other case): the reference broker chooses to,
// and its Response Information is a usable topic prefix that a client may publish under.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_reference_broker_returns_response_information_when_requested() {
    let Some(b) = embedded(
        "v5_reference_broker_returns_response_information_when_requested",
        Config::default(),
    )
    .await
    else {
        return;
    };
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("rri1"), |c| {
        c.properties.push(Property::RequestResponseInformation(1));
    })
    .await;
    let info = ack
        .properties
        .response_information()
        .unwrap_or_else(|| panic!("no Response Information: {ack:?}"));
    assert!(!info.is_empty(), "{ack:?}");
    let reply = format!("{}/reply", info.as_str().trim_end_matches('/'));
    c.subscribe_ok(&reply, QoS::AtLeastOnce).await;
    c.publish(&reply, QoS::AtLeastOnce, "to myself").await;
    let m = c.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"to myself");
    c.disconnect().await;
}

// 5.0 MQTT-3.3.4-9, MQTT-3.3.4-10, MQTT-4.9.0-2, MQTT-4.9.0-3: the server never has more
// QoS 1 PUBLISHes unacknowledged towards a client than the client's Receive Maximum, keeps
// answering other packets (PINGREQ) while at that limit, and delivers the rest, in order, as
// acknowledgements free the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_respects_the_client_receive_maximum() {
    if skip_external(
        "v5_server_respects_the_client_receive_maximum",
        "MQTT-3.3.4-9: with Receive Maximum 2, Mosquitto 2.0.11 sends 2 QoS 1 PUBLISHes, then \
         2 more after a single PUBACK: 3 unacknowledged",
    ) {
        return;
    }
    let b = broker().await;
    let t = topic("rxmax");
    const RECEIVE_MAXIMUM: usize = 2;
    let (mut s, _) = Client::connected_with(b.addr, V5, &client_id("rxmax"), |c| {
        c.properties
            .push(Property::ReceiveMaximum(RECEIVE_MAXIMUM as u16));
    })
    .await;
    if s.subscribe_ok(&t, QoS::AtLeastOnce).await != QoS::AtLeastOnce {
        eprintln!("QoS 1 not granted: no flow control to check");
        return;
    }
    let mut p = Client::connected(b.addr, V5, &client_id("rxmaxpub")).await;
    const N: usize = 7;
    for i in 0..N {
        p.publish(&t, QoS::AtLeastOnce, format!("m{i}")).await;
    }
    let mut outstanding: Vec<Publish> = Vec::new();
    let mut received = 0;
    let mut pinged = false;
    while received < N {
        match s.recv_within(QUIET).await {
            Ok(Packet::Publish(m)) => {
                assert_eq!(m.payload, format!("m{received}").into_bytes(), "in order");
                received += 1;
                outstanding.push(m);
                assert!(
                    outstanding.len() <= RECEIVE_MAXIMUM,
                    "{} unacknowledged QoS 1 PUBLISHes, Receive Maximum {RECEIVE_MAXIMUM}",
                    outstanding.len()
                );
            }
            Ok(other) => panic!("expected PUBLISH, got {other:?}"),
            Err(RecvError::Timeout) if !outstanding.is_empty() => {
                if !pinged && outstanding.len() == RECEIVE_MAXIMUM {
                    s.send(&Packet::PingReq).await;
                    match s.recv().await {
                        Packet::PingResp => pinged = true,
                        other => panic!("expected PINGRESP at the limit, got {other:?}"),
                    }
                }
                let oldest = outstanding.remove(0);
                s.ack(&oldest).await;
            }
            Err(e) => panic!("expected PUBLISH {received}: {e}"),
        }
    }
    for m in outstanding.drain(..) {
        s.ack(&m).await;
    }
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.1.2-24, MQTT-3.1.2-25: the server sends no packet larger than the client's
// Maximum Packet Size: a message too large for it is dropped for that client (as if sent),
// and the next one is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_respects_the_client_maximum_packet_size() {
    let b = broker().await;
    let t = topic("maxsize");
    const LIMIT: u32 = 256;
    let (mut s, _) = Client::connected_with(b.addr, V5, &client_id("maxsize"), |c| {
        c.properties.push(Property::MaximumPacketSize(LIMIT));
    })
    .await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, V5, &client_id("maxsizepub")).await;
    p.publish(&t, QoS::AtLeastOnce, vec![b'x'; 1000]).await;
    p.publish(&t, QoS::AtMostOnce, vec![b'y'; 400]).await;
    p.publish(&t, QoS::AtLeastOnce, "small").await;
    let packet = s.recv().await;
    let size = packet.encoded_len(V5);
    assert!(
        size <= LIMIT as usize,
        "a {size}-byte packet was sent: {packet:?}"
    );
    match packet {
        Packet::Publish(m) => {
            assert_eq!(m.payload.as_ref(), b"small", "{m:?}");
            s.ack(&m).await;
        }
        other => panic!("expected PUBLISH, got {other:?}"),
    }
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.1.2-24: a CONNACK that would not fit the client's Maximum Packet Size leaves
// out what the client can do without (Topic Alias Maximum: absent means 0) instead of
// being discarded, which would leave the client waiting for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_connack_sheds_optional_properties_to_fit_the_client_maximum_packet_size() {
    let test = "v5_connack_sheds_optional_properties_to_fit_the_client_maximum_packet_size";
    let Some(b) = embedded(test, Config::default()).await else {
        return;
    };
    // The default CONNACK is 16 bytes (Receive Maximum, Maximum Packet Size, Topic Alias
    // Maximum); 13 hold it without Topic Alias Maximum.
    const LIMIT: u32 = 13;
    let (c, ack) = Client::connected_with(b.addr, V5, &client_id("connackfit"), |c| {
        c.properties.push(Property::MaximumPacketSize(LIMIT));
    })
    .await;
    let size = Packet::ConnAck(ack.clone()).encoded_len(V5);
    assert!(size <= LIMIT as usize, "a {size}-byte CONNACK: {ack:?}");
    assert_eq!(ack.properties.topic_alias_maximum(), None, "{ack:?}");
    assert_eq!(ack.properties.receive_maximum(), Some(100), "{ack:?}");
    c.disconnect().await;
}
