//! What a configured broker announces and enforces: Maximum QoS, Retain Available, Maximum
//! Packet Size, Receive Maximum, Topic Alias Maximum, session expiry cap, optional features.
//! Each test starts its own embedded broker and is skipped against an external one.

use bytes::Bytes;
use mqttspec_broker::Config;
use mqttspec_codec::{
    ConnAck, Packet, Properties, Property, Publish, PublishAck, QoS, ReasonCode, Subscription, Will,
};

use crate::support::*;

async fn configured(test: &str, config: Config) -> Option<Broker> {
    embedded(test, config).await
}

/// The connection is refused with an error CONNACK, or closed without one.
async fn expect_rejected(c: &mut Client) {
    let packets = c.closed().await;
    match packets.as_slice() {
        [] => {}
        [Packet::ConnAck(ack)] => {
            assert!(ack.reason_code.is_error(), "{ack:?}");
            assert!(!ack.session_present, "{ack:?}");
        }
        _ => panic!("expected a refusal, got {packets:?}"),
    }
}

fn capped_qos() -> Config {
    Config {
        maximum_qos: QoS::AtLeastOnce,
        ..Config::default()
    }
}

// 5.0 MQTT-3.2.2-9, MQTT-3.2.2-10, MQTT-3.8.4-8: a server without QoS 2 announces Maximum QoS
// 1 in CONNACK, still accepts subscriptions requesting QoS 2 (granting at most 1), and
// delivers at most QoS 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_maximum_qos_is_announced_and_caps_subscriptions() {
    let Some(b) = configured(
        "v5_maximum_qos_is_announced_and_caps_subscriptions",
        capped_qos(),
    )
    .await
    else {
        return;
    };
    let t = topic("maxqos");
    let (mut s, ack) = Client::connected_with(b.addr, V5, &client_id("maxqos"), |_| {}).await;
    assert_eq!(ack.properties.maximum_qos(), Some(1), "{ack:?}");
    let g = s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    assert!(g <= QoS::AtLeastOnce, "granted {g}");
    let mut p = Client::connected(b.addr, V5, &client_id("maxqospub")).await;
    p.publish(&t, QoS::AtLeastOnce, "q1").await;
    let m = s.recv_message().await;
    assert_eq!(m.qos, g);
    s.disconnect().await;
    p.disconnect().await;
}

// 3.1.1 MQTT-3.8.4-5, MQTT-3.8.4-6: the server may grant a lower QoS than requested; this
// broker's Maximum QoS caps 3.1.1 subscriptions too, and messages arrive at the granted QoS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v311_subscriptions_are_granted_at_most_the_maximum_qos() {
    let Some(b) = configured(
        "v311_subscriptions_are_granted_at_most_the_maximum_qos",
        capped_qos(),
    )
    .await
    else {
        return;
    };
    let t = topic("maxqos311");
    let mut s = Client::connected(b.addr, V311, &client_id("maxqos311")).await;
    let g = s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    assert_eq!(g, QoS::AtLeastOnce);
    let mut p = Client::connected(b.addr, V311, &client_id("maxqos311p")).await;
    p.publish(&t, QoS::AtLeastOnce, "q1").await;
    assert_eq!(s.recv_message().await.qos, QoS::AtLeastOnce);
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.2.2-11 (§3.2.2.3.4: a PUBLISH above the announced Maximum QoS gets DISCONNECT
// 0x9B QoS not supported): the server closes the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_publish_above_the_maximum_qos_is_refused() {
    let Some(b) = configured("v5_publish_above_the_maximum_qos_is_refused", capped_qos()).await
    else {
        return;
    };
    let mut c = Client::connected(b.addr, V5, &client_id("qos2pub")).await;
    let mut p = Publish::new(topic("qos2pub").as_str(), QoS::ExactlyOnce, "too high");
    p.packet_id = 1;
    c.send(&Packet::Publish(p)).await;
    c.expect_closed_with(&[ReasonCode::QOS_NOT_SUPPORTED, ReasonCode::PROTOCOL_ERROR])
        .await;
}

// 5.0 MQTT-3.2.2-12: a CONNECT whose Will QoS exceeds the server's capabilities is rejected
// (CONNACK 0x9B advised).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_will_qos_above_the_maximum_qos_is_rejected() {
    let Some(b) = configured(
        "v5_will_qos_above_the_maximum_qos_is_rejected",
        capped_qos(),
    )
    .await
    else {
        return;
    };
    let mut connect = connect_packet(V5, &client_id("willqos2"));
    connect.will = Some(Will {
        topic: topic("willqos2").as_str().into(),
        payload: Bytes::from_static(b"w"),
        qos: QoS::ExactlyOnce,
        retain: false,
        properties: Properties::new(),
    });
    let mut c = Client::start(b.addr, connect).await;
    expect_rejected(&mut c).await;
}

fn no_retain() -> Config {
    Config {
        retain_available: false,
        ..Config::default()
    }
}

// 5.0 MQTT-3.2.2-14 (§3.2.2.3.5: a retained PUBLISH to a server without retain support gets
// DISCONNECT 0x9A Retain not supported): Retain Available 0 is announced and a retained PUBLISH
// closes the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_retain_unavailable_is_announced_and_retained_publish_is_refused() {
    let Some(b) = configured(
        "v5_retain_unavailable_is_announced_and_retained_publish_is_refused",
        no_retain(),
    )
    .await
    else {
        return;
    };
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("noretain"), |_| {}).await;
    assert_eq!(ack.properties.retain_available(), Some(0), "{ack:?}");
    let mut p = Publish::new(topic("noretain").as_str(), QoS::AtMostOnce, "kept?");
    p.retain = true;
    c.send(&Packet::Publish(p)).await;
    c.expect_closed_with(&[ReasonCode::RETAIN_NOT_SUPPORTED, ReasonCode::PROTOCOL_ERROR])
        .await;
}

// 5.0 MQTT-3.2.2-13: a CONNECT with Will Retain 1 to a server without retained messages is
// rejected (CONNACK 0x9A advised).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_will_retain_is_rejected_without_retain_support() {
    let Some(b) = configured(
        "v5_will_retain_is_rejected_without_retain_support",
        no_retain(),
    )
    .await
    else {
        return;
    };
    let mut connect = connect_packet(V5, &client_id("willret"));
    connect.will = Some(Will {
        topic: topic("willret").as_str().into(),
        payload: Bytes::from_static(b"w"),
        qos: QoS::AtMostOnce,
        retain: true,
        properties: Properties::new(),
    });
    let mut c = Client::start(b.addr, connect).await;
    expect_rejected(&mut c).await;
}

// 5.0 MQTT-3.2.2-15 (§3.2.2.3.6: a packet above the announced Maximum Packet Size is a
// Malformed Packet... the server uses DISCONNECT 0x95 Packet too large): the limit is
// announced, packets within it are served, a larger one closes the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_maximum_packet_size_is_announced_and_enforced() {
    const LIMIT: u32 = 256;
    let config = Config {
        maximum_packet_size: LIMIT,
        ..Config::default()
    };
    let Some(b) = configured(
        "v5_server_maximum_packet_size_is_announced_and_enforced",
        config,
    )
    .await
    else {
        return;
    };
    let t = topic("srvmax");
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("srvmax"), |_| {}).await;
    assert_eq!(ack.properties.maximum_packet_size(), Some(LIMIT), "{ack:?}");
    c.subscribe_ok(&t, QoS::AtLeastOnce).await;
    c.publish(&t, QoS::AtLeastOnce, vec![b'x'; 150]).await;
    assert_eq!(c.recv_message().await.payload.len(), 150);
    let big = Packet::Publish(Publish::new(t.as_str(), QoS::AtMostOnce, vec![b'y'; 1000]));
    assert!(big.encoded_len(V5) > LIMIT as usize);
    c.send(&big).await;
    c.expect_closed_with(&[ReasonCode::PACKET_TOO_LARGE, ReasonCode::MALFORMED_PACKET])
        .await;
}

// 5.0 MQTT-3.3.4-7 (§3.3.4: more unacknowledged QoS 1/2 PUBLISHes than the server's Receive
// Maximum get DISCONNECT 0x93 Receive Maximum exceeded), MQTT-4.9.0-1: the server announces
// its Receive Maximum; completing a QoS 2 exchange frees a slot; going past it closes the
// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_receive_maximum_is_announced_and_enforced() {
    let config = Config {
        receive_maximum: 2,
        ..Config::default()
    };
    let Some(b) = configured(
        "v5_server_receive_maximum_is_announced_and_enforced",
        config,
    )
    .await
    else {
        return;
    };
    let t = topic("srvrx");
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("srvrx"), |_| {}).await;
    assert_eq!(ack.properties.receive_maximum(), Some(2), "{ack:?}");
    let publish = |id: u16| {
        let mut p = Publish::new(t.as_str(), QoS::ExactlyOnce, "q2");
        p.packet_id = id;
        Packet::Publish(p)
    };
    for id in [1, 2] {
        c.send(&publish(id)).await;
        match c.recv().await {
            Packet::PubRec(a) => assert_eq!(a.packet_id, id),
            other => panic!("expected PUBREC, got {other:?}"),
        }
    }
    // Completing #1 frees its slot.
    c.send(&Packet::PubRel(PublishAck::new(1))).await;
    match c.recv().await {
        Packet::PubComp(a) => assert_eq!(a.packet_id, 1),
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
    c.send(&publish(3)).await;
    match c.recv().await {
        Packet::PubRec(a) => assert_eq!(a.packet_id, 3),
        other => panic!("expected PUBREC, got {other:?}"),
    }
    // #2 and #3 are unacknowledged (no PUBCOMP yet): #4 is one too many.
    c.send(&publish(4)).await;
    c.expect_closed_with(&[ReasonCode::RECEIVE_MAXIMUM_EXCEEDED])
        .await;
}

// 5.0 MQTT-3.2.2-17, MQTT-3.3.2-12 (§3.3.2.3.4: an alias above the Topic Alias Maximum gets
// DISCONNECT 0x94): the configured maximum is announced, accepted up to it, refused above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_topic_alias_maximum_is_announced_and_enforced() {
    let config = Config {
        topic_alias_maximum: 2,
        ..Config::default()
    };
    let Some(b) = configured(
        "v5_server_topic_alias_maximum_is_announced_and_enforced",
        config,
    )
    .await
    else {
        return;
    };
    let t = topic("srvtam");
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("srvtam"), |_| {}).await;
    assert_eq!(ack.properties.topic_alias_maximum(), Some(2), "{ack:?}");
    let aliased = |topic: &str, alias: u16| {
        let mut p = Publish::new(topic, QoS::AtLeastOnce, "a");
        p.properties.push(Property::TopicAlias(alias));
        p
    };
    c.publish_with(aliased(&t, 2)).await;
    c.publish_with(aliased("", 2)).await;
    c.send(&Packet::Publish(aliased(&t, 3))).await;
    c.expect_closed_with(&[ReasonCode::TOPIC_ALIAS_INVALID, ReasonCode::PROTOCOL_ERROR])
        .await;
}

// 5.0 MQTT-3.2.2-18 (and §3.3.2.3.4): with Topic Alias Maximum 0 the server announces none
// (absent or 0), and any Topic Alias from the client is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_topic_alias_maximum_0_refuses_every_alias() {
    let config = Config {
        topic_alias_maximum: 0,
        ..Config::default()
    };
    let Some(b) = configured("v5_topic_alias_maximum_0_refuses_every_alias", config).await else {
        return;
    };
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("notam"), |_| {}).await;
    assert_eq!(
        ack.properties.topic_alias_maximum().unwrap_or(0),
        0,
        "{ack:?}"
    );
    let mut p = Publish::new(topic("notam").as_str(), QoS::AtMostOnce, "a");
    p.properties.push(Property::TopicAlias(1));
    c.send(&Packet::Publish(p)).await;
    c.expect_closed_with(&[ReasonCode::TOPIC_ALIAS_INVALID, ReasonCode::PROTOCOL_ERROR])
        .await;
}

fn expiry(ack: &ConnAck) -> Option<u32> {
    ack.properties.session_expiry_interval()
}

// 5.0 MQTT-3.1.2-23 (§3.2.2.3.2: a server that uses a Session Expiry Interval other than the
// client's says so in CONNACK): a requested interval above the cap is answered with the cap;
// one below it is kept (CONNACK silent or equal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_session_expiry_above_the_cap_is_lowered_in_connack() {
    let config = Config {
        session_expiry_cap: Some(30),
        ..Config::default()
    };
    let Some(b) = configured(
        "v5_session_expiry_above_the_cap_is_lowered_in_connack",
        config,
    )
    .await
    else {
        return;
    };
    let (c, ack) = Client::connected_with(b.addr, V5, &client_id("cap"), |c| {
        c.properties.push(Property::SessionExpiryInterval(3600));
    })
    .await;
    assert_eq!(expiry(&ack), Some(30), "{ack:?}");
    c.disconnect().await;
    let (c, ack) = Client::connected_with(b.addr, V5, &client_id("capok"), |c| {
        c.properties.push(Property::SessionExpiryInterval(10));
    })
    .await;
    assert!(matches!(expiry(&ack), None | Some(10)), "{ack:?}");
    c.disconnect().await;
}

// 3.1.1 MQTT-3.8.3-2: a server that does not support wildcard filters rejects subscriptions
// that use them (SUBACK 0x80, or closing the connection). 5.0 (§3.2.2.3.11, §3.9.3): it
// announces Wildcard Subscription Available 0 and refuses them with 0xA2 (in SUBACK or
// DISCONNECT); filters without wildcards still work.
async fn wildcard_subscriptions_can_be_turned_off(v: mqttspec_codec::ProtocolVersion) {
    let config = Config {
        wildcard_subscriptions: false,
        ..Config::default()
    };
    let Some(b) = configured("wildcard_subscriptions_can_be_turned_off", config).await else {
        return;
    };
    let t = topic("nowild");
    let (mut c, ack) = Client::connected_with(b.addr, v, &client_id("nowild"), |_| {}).await;
    if v.is_v5() {
        assert_eq!(
            ack.properties.wildcard_subscription_available(),
            Some(0),
            "{ack:?}"
        );
    }
    c.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let refused = if v.is_v5() {
        ReasonCode::WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED
    } else {
        ReasonCode::UNSPECIFIED_ERROR
    };
    let id = c.next_packet_id();
    c.send(&Packet::Subscribe(mqttspec_codec::Subscribe::new(
        id,
        vec![Subscription::new(
            format!("{t}/#").as_str(),
            QoS::AtLeastOnce,
        )],
    )))
    .await;
    match c.recv_within(WAIT).await {
        Ok(Packet::SubAck(a)) => assert_eq!(a.reason_codes, [refused], "{a:?}"),
        Ok(Packet::Disconnect(d)) if v.is_v5() => {
            assert!(
                [refused, ReasonCode::PROTOCOL_ERROR].contains(&d.reason_code),
                "{d:?}"
            );
            c.expect_closed_silently().await;
        }
        Ok(other) => panic!("expected SUBACK {refused}, got {other:?}"),
        Err(RecvError::Closed(_)) => {}
        Err(e) => panic!("{e}"),
    }
}
both_versions!(wildcard_subscriptions_can_be_turned_off);

// 5.0 §3.2.2.3.12 and §3.2.2.3.13 (untagged), MQTT-3.9.3-2: a server without Subscription
// Identifiers or Shared Subscriptions announces it in CONNACK (0), and refuses their use:
// with SUBACK 0xA1 / 0x9E, or DISCONNECT with that code (or Protocol Error), or a close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_subscription_identifiers_and_shared_subscriptions_can_be_turned_off() {
    let config = Config {
        subscription_identifiers: false,
        shared_subscriptions: false,
        ..Config::default()
    };
    let Some(b) = configured(
        "v5_subscription_identifiers_and_shared_subscriptions_can_be_turned_off",
        config,
    )
    .await
    else {
        return;
    };
    let t = topic("nofeat");
    let with_id = subscribe_packet(
        vec![Subscription::new(t.as_str(), QoS::AtLeastOnce)],
        Properties::new().with(Property::SubscriptionIdentifier(5)),
    );
    let shared = subscribe_packet(
        vec![Subscription::new(
            format!("$share/g/{t}").as_str(),
            QoS::AtLeastOnce,
        )],
        Properties::new(),
    );
    for (mut subscribe, code) in [
        (with_id, ReasonCode::SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED),
        (shared, ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED),
    ] {
        let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("nofeat"), |_| {}).await;
        assert_eq!(
            ack.properties.subscription_identifier_available(),
            Some(0),
            "{ack:?}"
        );
        assert_eq!(
            ack.properties.shared_subscription_available(),
            Some(0),
            "{ack:?}"
        );
        subscribe.packet_id = 7;
        c.send(&Packet::Subscribe(subscribe)).await;
        match c.recv_within(WAIT).await {
            Ok(Packet::SubAck(a)) => assert_eq!(a.reason_codes, [code], "{a:?}"),
            Ok(Packet::Disconnect(d)) => {
                assert!(
                    [code, ReasonCode::PROTOCOL_ERROR].contains(&d.reason_code),
                    "{d:?}"
                );
                c.expect_closed_silently().await;
            }
            Ok(other) => panic!("expected SUBACK {code}, got {other:?}"),
            Err(RecvError::Closed(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
}
