//! 5.0 Topic Aliases, both directions.

use mqttspec_codec::{Packet, Property, Publish, QoS, ReasonCode};

use crate::support::*;

fn aliased(topic: &str, alias: u16, payload: &'static str) -> Publish {
    let mut p = Publish::new(topic, QoS::AtLeastOnce, payload);
    p.properties.push(Property::TopicAlias(alias));
    p
}

/// A client and the Topic Alias Maximum its CONNACK announced (0 when absent).
async fn aliasing_client(b: &Broker, tag: &str) -> (Client, u16) {
    let (c, ack) = Client::connected_with(b.addr, V5, &client_id(tag), |_| {}).await;
    let max = ack.properties.topic_alias_maximum().unwrap_or(0);
    (c, max)
}

/// Topic alias errors: DISCONNECT with one of `codes`, or a plain close.
async fn expect_alias_error(c: &mut Client, codes: &[ReasonCode]) {
    c.expect_closed_with(codes).await;
}

// 5.0 MQTT-3.3.2-12, MQTT-3.1.2-27: the server accepts every Topic Alias from 1 to the maximum
// it announced: a PUBLISH with a topic and an alias sets the mapping, an empty topic with the
// alias uses it, a new topic with the same alias replaces it. A subscriber that announced no
// Topic Alias Maximum gets full topic names and no aliases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_client_topic_aliases_are_accepted() {
    let b = broker().await;
    let t1 = topic("alias1");
    let t2 = topic("alias2");
    let mut s = Client::connected(b.addr, V5, &client_id("aliassub")).await;
    s.subscribe_ok(&t1, QoS::AtLeastOnce).await;
    s.subscribe_ok(&t2, QoS::AtLeastOnce).await;
    let (mut c, max) = aliasing_client(&b, "aliaspub").await;
    if max == 0 {
        eprintln!("the broker accepts no Topic Aliases");
        return;
    }
    c.publish_with(aliased(&t1, max, "set")).await;
    c.publish_with(aliased("", max, "used")).await;
    c.publish_with(aliased(&t2, max, "replaced")).await;
    c.publish_with(aliased("", max, "used again")).await;
    if max > 1 {
        c.publish_with(aliased(&t1, 1, "alias 1")).await;
        c.publish_with(aliased("", 1, "alias 1 used")).await;
    }
    let mut want = vec![
        (t1.clone(), "set"),
        (t1.clone(), "used"),
        (t2.clone(), "replaced"),
        (t2.clone(), "used again"),
    ];
    if max > 1 {
        want.push((t1.clone(), "alias 1"));
        want.push((t1.clone(), "alias 1 used"));
    }
    for (t, payload) in want {
        let m = s.recv_message().await;
        assert_eq!(m.topic.as_str(), t, "{m:?}");
        assert_eq!(m.payload.as_ref(), payload.as_bytes(), "{m:?}");
        assert_eq!(m.properties.topic_alias(), None, "{m:?}");
    }
    s.disconnect().await;
    c.disconnect().await;
}

// 5.0 MQTT-3.3.2-8 (§3.3.2.3.4: Topic Alias 0 is a Protocol Error; the receiver uses
// DISCONNECT 0x94 Topic Alias invalid): the server closes the connection, after DISCONNECT
// 0x94 or 0x82 if it sends one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_topic_alias_0_is_a_protocol_error() {
    let b = broker().await;
    let (mut c, _) = aliasing_client(&b, "alias0").await;
    c.send(&Packet::Publish(aliased(&topic("alias0"), 0, "zero")))
        .await;
    expect_alias_error(
        &mut c,
        &[ReasonCode::TOPIC_ALIAS_INVALID, ReasonCode::PROTOCOL_ERROR],
    )
    .await;
}

// 5.0 MQTT-3.3.2-9, MQTT-3.2.2-17 (§3.3.2.3.4: a Topic Alias above the Topic Alias Maximum
// is a Protocol Error, DISCONNECT 0x94): a client that uses one is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_topic_alias_above_the_maximum_is_a_protocol_error() {
    let b = broker().await;
    let (mut c, max) = aliasing_client(&b, "aliasmax").await;
    if max == u16::MAX {
        eprintln!("every Topic Alias is allowed");
        return;
    }
    c.send(&Packet::Publish(aliased(
        &topic("aliasmax"),
        max + 1,
        "too high",
    )))
    .await;
    expect_alias_error(
        &mut c,
        &[ReasonCode::TOPIC_ALIAS_INVALID, ReasonCode::PROTOCOL_ERROR],
    )
    .await;
}

// 5.0 MQTT-3.3.2-12 (§3.3.4: a Topic Alias that was never set, with an empty topic, is a
// Protocol Error): the server closes, after DISCONNECT 0x82 or 0x94 if it sends one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_unset_topic_alias_is_a_protocol_error() {
    let b = broker().await;
    let (mut c, max) = aliasing_client(&b, "aliasunset").await;
    if max == 0 {
        eprintln!("the broker accepts no Topic Aliases");
        return;
    }
    c.send(&Packet::Publish(aliased("", 1, "never set"))).await;
    expect_alias_error(
        &mut c,
        &[ReasonCode::PROTOCOL_ERROR, ReasonCode::TOPIC_ALIAS_INVALID],
    )
    .await;
}

// 5.0 MQTT-3.3.2-7: Topic Alias mappings do not carry over to a new connection, even of the
// same client and session: using one set on the previous connection is a Protocol Error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_topic_aliases_do_not_survive_the_connection() {
    let b = broker().await;
    let id = client_id("aliasconn");
    let persistent = |c: &mut mqttspec_codec::Connect| {
        c.clean_start = false;
        c.properties.push(Property::SessionExpiryInterval(60));
    };
    let (mut c, ack) = Client::connected_with(b.addr, V5, &id, persistent).await;
    if ack.properties.topic_alias_maximum().unwrap_or(0) == 0 {
        eprintln!("the broker accepts no Topic Aliases");
        return;
    }
    c.publish_with(aliased(&topic("aliasconn"), 1, "set")).await;
    c.disconnect().await;
    let (mut c, _) = Client::connected_with(b.addr, V5, &id, persistent).await;
    c.send(&Packet::Publish(aliased("", 1, "stale alias")))
        .await;
    expect_alias_error(
        &mut c,
        &[ReasonCode::PROTOCOL_ERROR, ReasonCode::TOPIC_ALIAS_INVALID],
    )
    .await;
    Client::connected(b.addr, V5, &id).await.disconnect().await;
}

// 5.0 MQTT-3.1.2-26, MQTT-3.3.2-11: the server never sends a Topic Alias above the Topic Alias
// Maximum the client announced, and every alias it uses resolves to the right topic (each
// message's payload is its topic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_topic_aliases_stay_within_the_client_maximum() {
    let b = broker().await;
    let base = topic("srvalias");
    let (mut s, _) = Client::connected_with(b.addr, V5, &client_id("srvalias"), |c| {
        c.properties.push(Property::TopicAliasMaximum(2));
    })
    .await;
    s.subscribe_ok(&format!("{base}/+"), QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, V5, &client_id("srvaliasp")).await;
    let topics: Vec<String> = (0..4).map(|i| format!("{base}/{i}")).collect();
    for _round in 0..3 {
        for t in &topics {
            p.publish(t, QoS::AtLeastOnce, t.clone()).await;
        }
    }
    for _ in 0..3 * topics.len() {
        // `recv_publish` resolves aliases and fails on one never set.
        let m = s.recv_message().await;
        if let Some(alias) = m.properties.topic_alias() {
            assert!((1..=2).contains(&alias), "Topic Alias {alias} > 2: {m:?}");
        }
        assert_eq!(
            m.topic.as_ref() as &str,
            String::from_utf8_lossy(&m.payload),
            "{m:?}"
        );
    }
    s.disconnect().await;
    p.disconnect().await;
}
