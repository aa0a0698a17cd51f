//! Topic filters and subscriptions: wildcards, `$` topics, overlapping subscriptions,
//! subscription identifiers, No Local, shared subscriptions, SUBACK, UNSUBSCRIBE.

use std::collections::{BTreeMap, BTreeSet};

use mqttspec_codec::{
    Packet, Properties, Property, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe,
    Subscription, SubscriptionOptions,
};

use crate::support::*;

/// Publishes each of `topics` (QoS 1), then `sentinel_topic` with payload "sentinel", and
/// returns the topics `s` received before the sentinel.
async fn topics_received(
    s: &mut Client,
    p: &mut Client,
    topics: &[String],
    sentinel_topic: &str,
) -> Vec<String> {
    for t in topics {
        p.publish(t, QoS::AtLeastOnce, t.clone()).await;
    }
    p.publish(sentinel_topic, QoS::AtLeastOnce, "sentinel")
        .await;
    let mut got = s.recv_until(b"sentinel").await;
    got.pop();
    got.into_iter().map(|m| m.topic.to_string()).collect()
}

// 3.1.1 MQTT-4.7.1-3, MQTT-3.3.2-3; 5.0 MQTT-4.7.1-2, MQTT-3.3.2-3: `+` matches exactly one
// level, an empty one included, and nothing else.
async fn single_level_wildcard_matches_exactly_one_level(v: ProtocolVersion) {
    let b = broker().await;
    let base = topic("plus");
    let mut s = Client::connected(b.addr, v, &client_id("plussub")).await;
    s.subscribe_ok(&format!("{base}/+/end"), QoS::AtLeastOnce)
        .await;
    let mut p = Client::connected(b.addr, v, &client_id("pluspub")).await;
    let matching = [format!("{base}/x/end"), format!("{base}//end")];
    let other = [
        format!("{base}/end"),
        format!("{base}/x/y/end"),
        format!("{base}/x/end/more"),
        format!("{base}/x/END"),
    ];
    let all: Vec<String> = other.iter().chain(&matching).cloned().collect();
    let got = topics_received(&mut s, &mut p, &all, &format!("{base}/s/end")).await;
    let got: BTreeSet<String> = got.into_iter().collect();
    assert_eq!(got, matching.into_iter().collect::<BTreeSet<_>>());
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(single_level_wildcard_matches_exactly_one_level);

// 3.1.1 MQTT-4.7.1-2, MQTT-3.3.2-3; 5.0 MQTT-4.7.1-1, MQTT-3.3.2-3: `a/#` matches `a` itself
// and every topic below it, and nothing beside it.
async fn multi_level_wildcard_matches_the_parent_and_all_descendants(v: ProtocolVersion) {
    let b = broker().await;
    let base = topic("hash");
    let mut s = Client::connected(b.addr, v, &client_id("hashsub")).await;
    s.subscribe_ok(&format!("{base}/a/#"), QoS::AtLeastOnce)
        .await;
    let mut p = Client::connected(b.addr, v, &client_id("hashpub")).await;
    let matching = [
        format!("{base}/a"),
        format!("{base}/a/b"),
        format!("{base}/a/b/c"),
        format!("{base}/a/"),
    ];
    let other = [format!("{base}/ab"), format!("{base}/b/a"), base.clone()];
    let all: Vec<String> = other.iter().chain(&matching).cloned().collect();
    let got = topics_received(&mut s, &mut p, &all, &format!("{base}/a/sentinel")).await;
    let got: BTreeSet<String> = got.into_iter().collect();
    assert_eq!(got, matching.into_iter().collect::<BTreeSet<_>>());
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(multi_level_wildcard_matches_the_parent_and_all_descendants);

// 3.1.1 MQTT-4.7.3-4; 5.0 MQTT-4.7.3-4: matching compares topics as they are: no case folding,
// no normalisation of empty levels or trailing separators.
async fn topic_matching_is_exact_without_normalisation(v: ProtocolVersion) {
    let b = broker().await;
    let base = topic("exact");
    let mut s = Client::connected(b.addr, v, &client_id("exactsub")).await;
    let filter = format!("{base}/Caf\u{e9}/x");
    s.subscribe_ok(&filter, QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("exactpub")).await;
    let other = [
        format!("{base}/caf\u{e9}/x"),
        format!("{base}/Cafe\u{301}/x"),
        format!("{base}/Caf\u{e9}/x/"),
        format!("{base}/Caf\u{e9}//x"),
    ];
    let got = topics_received(&mut s, &mut p, &other, &filter).await;
    assert!(got.is_empty(), "{got:?}");
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(topic_matching_is_exact_without_normalisation);

// 3.1.1 MQTT-4.7.2-1; 5.0 MQTT-4.7.2-1: filters starting with `#` or `+` do not match topic
// names starting with `$`. (A broker may refuse to route `$` topics at all; then the explicit
// subscriber gets nothing either, and the claim holds trivially.)
async fn leading_wildcards_do_not_match_dollar_topics(v: ProtocolVersion) {
    let b = broker().await;
    let unique = client_id("dollar");
    let dollar = format!("$mqttspec/{unique}");
    let mut wild = Client::connected(b.addr, v, &client_id("dollarw")).await;
    wild.subscribe_ok("#", QoS::AtMostOnce).await;
    wild.subscribe_ok(&format!("+/{unique}"), QoS::AtMostOnce)
        .await;
    let mut exact = Client::connected(b.addr, v, &client_id("dollare")).await;
    exact.subscribe_ok(&dollar, QoS::AtMostOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("dollarp")).await;
    p.publish(&dollar, QoS::AtLeastOnce, "dollar").await;
    let sentinel = topic("dollarsentinel");
    p.publish(&sentinel, QoS::AtLeastOnce, "sentinel").await;
    // `#` also sees other tests' traffic on a shared broker: look only for the `$` topic.
    loop {
        let m = wild.recv_message().await;
        assert!(
            !m.topic.starts_with('$'),
            "a leading wildcard matched {}",
            m.topic
        );
        if m.topic.as_str() == sentinel {
            break;
        }
    }
    match exact.recv_within(QUIET).await {
        Ok(Packet::Publish(m)) => assert_eq!(m.topic.as_str(), dollar),
        Ok(other) => panic!("expected PUBLISH, got {other:?}"),
        Err(RecvError::Timeout) => eprintln!("the broker does not route {dollar}"),
        Err(e) => panic!("{e}"),
    }
    wild.disconnect().await;
    exact.disconnect().await;
    p.disconnect().await;
}
both_versions!(leading_wildcards_do_not_match_dollar_topics);

// 3.1.1 MQTT-3.3.5-1; 5.0 MQTT-3.3.4-2: when several of a client's subscriptions match, the
// message is delivered respecting the highest granted QoS among them (3.1.1 and 5.0 also allow
// one copy per subscription, so extra copies are not counted).
async fn overlapping_subscriptions_deliver_at_the_highest_granted_qos(v: ProtocolVersion) {
    if !v.is_v5()
        && skip_external(
            "overlapping_subscriptions_deliver_at_the_highest_granted_qos::v311",
            "MQTT-3.3.5-1: to a 3.1.1 client subscribed to `t/+` at QoS 0 and `t/#` at QoS 2, \
             Mosquitto 2.0.11 sends a single copy at QoS 0 (the first matching subscription's)",
        )
    {
        return;
    }
    let b = broker().await;
    let base = topic("overlap");
    let mut s = Client::connected(b.addr, v, &client_id("ovsub")).await;
    let low = s.subscribe_ok(&format!("{base}/+"), QoS::AtMostOnce).await;
    let high = s.subscribe_ok(&format!("{base}/#"), QoS::ExactlyOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("ovpub")).await;
    p.publish(&format!("{base}/x"), QoS::ExactlyOnce, "both")
        .await;
    p.publish(&format!("{base}/x"), QoS::ExactlyOnce, "sentinel")
        .await;
    // Order holds per topic and QoS: the copy at the highest QoS comes before the sentinel's
    // copy at that QoS (a copy at another QoS may come later).
    let best = low.max(high);
    let mut got = Vec::new();
    loop {
        let m = s.recv_message().await;
        let done = m.payload.as_ref() == b"sentinel" && m.qos == best;
        got.push(m);
        if done {
            break;
        }
    }
    let copies: Vec<&Publish> = got
        .iter()
        .filter(|m| m.payload.as_ref() == b"both")
        .collect();
    assert!(!copies.is_empty() && copies.len() <= 2, "{got:?}");
    assert!(
        copies.iter().any(|m| m.qos == best),
        "no copy at the highest granted QoS {best}: {copies:?}"
    );
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(overlapping_subscriptions_deliver_at_the_highest_granted_qos);

fn with_id(filter: &str, qos: QoS, id: Option<u32>) -> Subscribe {
    let mut properties = Properties::new();
    if let Some(id) = id {
        properties.push(Property::SubscriptionIdentifier(id));
    }
    subscribe_packet(vec![Subscription::new(filter, qos)], properties)
}

// 5.0 MQTT-3.3.4-3: a message delivered because of a subscription made with a Subscription
// Identifier carries that identifier; a subscription without one adds none; re-subscribing
// without an identifier replaces the subscription and its identifier (MQTT-3.8.4-3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_subscription_identifier_is_sent_with_matching_messages() {
    let b = broker().await;
    let base = topic("subid");
    let mut s = Client::connected(b.addr, V5, &client_id("subid")).await;
    let ack = s
        .subscribe_with(with_id(&format!("{base}/a"), QoS::AtLeastOnce, Some(42)))
        .await;
    granted(&ack, 0);
    s.subscribe_ok(&format!("{base}/b"), QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, V5, &client_id("subidpub")).await;
    p.publish(&format!("{base}/a"), QoS::AtLeastOnce, "a").await;
    let m = s.recv_message().await;
    assert_eq!(
        m.properties.subscription_identifiers().collect::<Vec<_>>(),
        [42],
        "{m:?}"
    );
    p.publish(&format!("{base}/b"), QoS::AtLeastOnce, "b").await;
    let m = s.recv_message().await;
    assert_eq!(m.properties.subscription_identifiers().count(), 0, "{m:?}");

    s.subscribe_ok(&format!("{base}/a"), QoS::AtLeastOnce).await;
    p.publish(&format!("{base}/a"), QoS::AtLeastOnce, "a again")
        .await;
    let m = s.recv_message().await;
    assert_eq!(m.properties.subscription_identifiers().count(), 0, "{m:?}");
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.3.4-3, MQTT-3.3.4-4, MQTT-3.3.4-5: with overlapping subscriptions that have
// Subscription Identifiers, every identifier reaches the client: all in one PUBLISH if the
// server sends one copy, each in its own copy if it sends one per subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_overlapping_subscriptions_report_every_subscription_identifier() {
    let b = broker().await;
    let base = topic("subids");
    let mut s = Client::connected(b.addr, V5, &client_id("subids")).await;
    granted(
        &s.subscribe_with(with_id(&format!("{base}/+"), QoS::AtLeastOnce, Some(1)))
            .await,
        0,
    );
    granted(
        &s.subscribe_with(with_id(&format!("{base}/#"), QoS::AtLeastOnce, Some(2)))
            .await,
        0,
    );
    let mut p = Client::connected(b.addr, V5, &client_id("subidspub")).await;
    p.publish(&format!("{base}/x"), QoS::AtLeastOnce, "m").await;
    p.publish(&format!("{base}/x"), QoS::AtLeastOnce, "sentinel")
        .await;
    let got = s.recv_until(b"sentinel").await;
    let copies: Vec<&Publish> = got.iter().filter(|m| m.payload.as_ref() == b"m").collect();
    let mut ids: Vec<u32> = copies
        .iter()
        .flat_map(|m| m.properties.subscription_identifiers())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [1, 2], "{copies:?}");
    if copies.len() == 2 {
        for m in &copies {
            assert_eq!(m.properties.subscription_identifiers().count(), 1, "{m:?}");
        }
    }
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.8.3-3: with No Local, the server does not send a client the messages it
// published itself; it still sends those of other clients, and a subscription without No
// Local gets its own messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_no_local_keeps_a_clients_own_messages_from_it() {
    let b = broker().await;
    let base = topic("nolocal");
    let mut c = Client::connected(b.addr, V5, &client_id("nolocal")).await;
    let options = SubscriptionOptions {
        no_local: true,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    let ack = c
        .subscribe_with(subscribe_packet(
            vec![Subscription {
                filter: format!("{base}/nl").as_str().into(),
                options,
            }],
            Properties::new(),
        ))
        .await;
    granted(&ack, 0);
    c.subscribe_ok(&format!("{base}/own"), QoS::AtLeastOnce)
        .await;
    c.publish(&format!("{base}/nl"), QoS::AtLeastOnce, "own, no local")
        .await;
    c.publish(&format!("{base}/own"), QoS::AtLeastOnce, "own, local")
        .await;
    let m = c.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"own, local", "{m:?}");
    let mut other = Client::connected(b.addr, V5, &client_id("nolocalo")).await;
    other
        .publish(
            &format!("{base}/nl"),
            QoS::AtLeastOnce,
            "from another client",
        )
        .await;
    let m = c.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"from another client", "{m:?}");
    c.disconnect().await;
    other.disconnect().await;
}

// 5.0 MQTT-4.8.2-1, MQTT-4.8.2-3 (§4.8.2: each message matching a Shared Subscription is sent
// to only one of the sessions subscribed to it): with two members of a group, every message
// is delivered exactly once across the group, while a non-shared subscriber gets them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_shared_subscription_delivers_each_message_to_one_member() {
    let b = broker().await;
    let t = topic("shared");
    let group = client_id("grp");
    let shared = format!("$share/{group}/{t}");
    let mut members = Vec::new();
    for _ in 0..2 {
        let (mut m, ack) = Client::connected_with(b.addr, V5, &client_id("member"), |_| {}).await;
        if ack.properties.shared_subscription_available() == Some(0) {
            eprintln!("the broker does not support shared subscriptions");
            return;
        }
        m.subscribe_ok(&shared, QoS::AtLeastOnce).await;
        members.push(m);
    }
    let mut all = Client::connected(b.addr, V5, &client_id("nonshared")).await;
    all.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, V5, &client_id("sharedpub")).await;
    const N: usize = 10;
    for i in 0..N {
        p.publish(&t, QoS::AtLeastOnce, format!("m{i}")).await;
    }
    for i in 0..N {
        let m = all.recv_message().await;
        assert_eq!(m.payload, format!("m{i}").into_bytes());
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.values().sum::<usize>() < N && tokio::time::Instant::now() < deadline {
        for m in members.iter_mut() {
            while let Ok(packet) = m.recv_within(std::time::Duration::from_millis(50)).await {
                let Packet::Publish(publish) = packet else {
                    panic!("expected PUBLISH, got {packet:?}");
                };
                m.ack(&publish).await;
                *seen
                    .entry(String::from_utf8_lossy(&publish.payload).into_owned())
                    .or_default() += 1;
            }
        }
    }
    let want: BTreeMap<String, usize> = (0..N).map(|i| (format!("m{i}"), 1)).collect();
    assert_eq!(seen, want, "each message once across the group");
    for m in members.iter_mut() {
        m.expect_no_packet(QUIET).await;
    }
    for m in members {
        m.disconnect().await;
    }
    all.disconnect().await;
    p.disconnect().await;
}

// 3.1.1 MQTT-3.10.4-2, MQTT-3.10.4-4, MQTT-3.10.4-5, MQTT-2.3.1-7; 5.0 MQTT-3.10.4-2,
// MQTT-3.10.4-4, MQTT-3.10.4-5, MQTT-3.11.3-1, MQTT-3.11.3-2: UNSUBSCRIBE is answered with an
// UNSUBACK of the same Packet Identifier, even when no subscription existed (5.0: one reason
// code per filter, in order: 0x00 Success for a deleted subscription, 0x11 No subscription
// existed otherwise), and messages stop.
async fn unsubscribe_stops_delivery(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("unsub");
    let kept = topic("unsubkept");
    let mut s = Client::connected(b.addr, v, &client_id("unsub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    s.subscribe_ok(&kept, QoS::AtLeastOnce).await;
    let never = topic("never");
    let ack = s.unsubscribe(&[t.as_str(), never.as_str()]).await;
    if v.is_v5() {
        assert_eq!(
            ack.reason_codes,
            [ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED],
            "{ack:?}"
        );
    }
    let mut p = Client::connected(b.addr, v, &client_id("unsubpub")).await;
    p.publish(&t, QoS::AtLeastOnce, "unsubscribed").await;
    p.publish(&kept, QoS::AtLeastOnce, "sentinel").await;
    let got = s.recv_until(b"sentinel").await;
    assert_eq!(payloads(&got), ["sentinel"], "{got:?}");
    let ack = s.unsubscribe(&[never.as_str()]).await;
    if v.is_v5() {
        assert_eq!(ack.reason_codes, [ReasonCode::NO_SUBSCRIPTION_EXISTED]);
    }
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(unsubscribe_stops_delivery);

// 3.1.1 MQTT-3.8.4-3; 5.0 MQTT-3.8.4-3: subscribing again with an identical filter replaces
// the subscription: one copy of each message, at the new QoS.
async fn identical_filter_replaces_the_subscription(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("replace");
    let mut s = Client::connected(b.addr, v, &client_id("resub")).await;
    s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    let g = s.subscribe_ok(&t, QoS::AtMostOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("resubpub")).await;
    p.publish(&t, QoS::ExactlyOnce, "m").await;
    p.publish(&t, QoS::ExactlyOnce, "sentinel").await;
    let got = s.recv_until(b"sentinel").await;
    assert_eq!(
        payloads(&got),
        ["m", "sentinel"],
        "one subscription: {got:?}"
    );
    assert_eq!(got[0].qos, g, "the new subscription's QoS: {got:?}");
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(identical_filter_replaces_the_subscription);

// 3.1.1 MQTT-3.8.4-1, MQTT-3.8.4-2, MQTT-3.8.4-4, MQTT-3.8.4-5, MQTT-3.9.3-1; 5.0
// MQTT-3.8.4-1, MQTT-3.8.4-2, MQTT-3.8.4-5, MQTT-3.8.4-6, MQTT-3.8.4-7, MQTT-3.9.3-1: a
// SUBSCRIBE with several filters gets one SUBACK with the same Packet Identifier and one code
// per filter, in order, each a granted QoS no higher than requested; the subscriptions act as
// if made one by one.
async fn suback_has_one_code_per_filter_in_order(v: ProtocolVersion) {
    let b = broker().await;
    let base = topic("multi");
    let mut s = Client::connected(b.addr, v, &client_id("multisub")).await;
    let qoss = [QoS::ExactlyOnce, QoS::AtMostOnce, QoS::AtLeastOnce];
    let subscriptions = qoss
        .iter()
        .map(|q| Subscription::new(format!("{base}/{}", q.as_u8()).as_str(), *q))
        .collect();
    let ack = s
        .subscribe_with(Subscribe::new(0x4321, subscriptions))
        .await;
    assert_eq!(ack.packet_id, 0x4321);
    assert_eq!(ack.reason_codes.len(), 3, "{ack:?}");
    for (i, q) in qoss.iter().enumerate() {
        assert!(granted(&ack, i) <= *q, "filter {i}: {ack:?}");
    }
    let mut p = Client::connected(b.addr, v, &client_id("multipub")).await;
    for q in qoss {
        let t = format!("{base}/{}", q.as_u8());
        p.publish(&t, QoS::ExactlyOnce, t.clone()).await;
        let m = s.recv_message().await;
        assert_eq!(m.topic.as_str(), t);
    }
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(suback_has_one_code_per_filter_in_order);
