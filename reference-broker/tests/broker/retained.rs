//! Retained messages: storing, replacing, deleting, delivery on subscription, the RETAIN flag
//! on forwarded messages, and 5.0 Retain Handling and Retain As Published.

use mqttspec_codec::{
    Properties, ProtocolVersion, Publish, QoS, RetainHandling, Subscription, SubscriptionOptions,
};

use crate::support::*;

fn retained(topic: &str, qos: QoS, payload: &'static str) -> Publish {
    let mut p = Publish::new(topic, qos, payload);
    p.retain = true;
    p
}

/// Deletes the retained message of `topic` (an external broker keeps them across runs).
async fn clear(c: &mut Client, topic: &str) {
    c.publish_with(retained(topic, QoS::AtLeastOnce, "")).await;
}

/// Publishes a non-retained sentinel on `topic` and returns what `s` receives up to it:
/// anything the broker sent on subscribing comes first.
async fn until_sentinel(s: &mut Client, p: &mut Client, topic: &str) -> Vec<Publish> {
    p.publish(topic, QoS::AtLeastOnce, "sentinel").await;
    let mut got = s.recv_until(b"sentinel").await;
    got.pop();
    got
}

// 3.1.1 MQTT-3.3.1-5, MQTT-3.3.1-6, MQTT-3.3.1-8, MQTT-3.1.2-7, MQTT-3.8.4-6; 5.0
// MQTT-3.3.1-5, MQTT-3.3.1-9, MQTT-3.8.4-8: a retained message is stored, outlives its
// publisher's session, and is sent with RETAIN 1 to each new matching subscription (exact and
// wildcard), at the minimum of its QoS and the granted QoS.
async fn retained_message_is_sent_to_new_subscribers_with_retain_1(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("ret");
    let mut p = Client::connected(b.addr, v, &client_id("retpub")).await;
    p.publish_with(retained(&t, QoS::ExactlyOnce, "kept")).await;
    p.disconnect().await;

    for (filter, qos) in [
        (t.clone(), QoS::AtLeastOnce),
        (format!("{t}/#"), QoS::ExactlyOnce),
        (t.clone(), QoS::AtMostOnce),
    ] {
        // `{t}/#` matches `{t}` itself (the parent level).
        let mut s = Client::connected(b.addr, v, &client_id("retsub")).await;
        let g = s.subscribe_ok(&filter, qos).await;
        let m = s.recv_message().await;
        assert_eq!(m.topic.as_str(), t, "{m:?}");
        assert_eq!(m.payload.as_ref(), b"kept", "{m:?}");
        assert!(
            m.retain,
            "sent because of a new subscription: RETAIN 1: {m:?}"
        );
        assert_eq!(m.qos, QoS::ExactlyOnce.min(g), "{m:?}");
        s.disconnect().await;
    }
    let mut p = Client::connected(b.addr, v, &client_id("retclear")).await;
    clear(&mut p, &t).await;
    p.disconnect().await;
}
both_versions!(retained_message_is_sent_to_new_subscribers_with_retain_1);

// 3.1.1 MQTT-3.3.1-5; 5.0 MQTT-3.3.1-5: a new retained message replaces the one stored for the
// topic: a new subscriber receives only the newer.
async fn retained_message_is_replaced_by_a_newer_one(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("replace");
    let mut p = Client::connected(b.addr, v, &client_id("reppub")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "old")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "new")).await;
    let mut s = Client::connected(b.addr, v, &client_id("repsub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let got = until_sentinel(&mut s, &mut p, &t).await;
    assert_eq!(payloads(&got), ["new"], "only the newest retained message");
    clear(&mut p, &t).await;
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(retained_message_is_replaced_by_a_newer_one);

// 3.1.1 MQTT-3.3.1-10, MQTT-3.3.1-11; 5.0 MQTT-3.3.1-6, MQTT-3.3.1-7: a retained PUBLISH with
// an empty payload is forwarded to current subscribers as normal, deletes the retained message,
// and is not itself stored.
async fn empty_retained_payload_deletes_the_retained_message(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("delete");
    let mut p = Client::connected(b.addr, v, &client_id("delpub")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "doomed"))
        .await;
    let mut live = Client::connected(b.addr, v, &client_id("dellive")).await;
    live.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let first = live.recv_message().await;
    assert_eq!(first.payload.as_ref(), b"doomed");

    p.publish_with(retained(&t, QoS::AtLeastOnce, "")).await;
    let m = live.recv_message().await;
    assert!(
        m.payload.is_empty(),
        "the empty message is forwarded: {m:?}"
    );

    let mut s = Client::connected(b.addr, v, &client_id("delsub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let got = until_sentinel(&mut s, &mut p, &t).await;
    assert!(got.is_empty(), "nothing is retained any more: {got:?}");
    s.disconnect().await;
    live.disconnect().await;
    p.disconnect().await;
}
both_versions!(empty_retained_payload_deletes_the_retained_message);

// 3.1.1 MQTT-3.3.1-12; 5.0 MQTT-3.3.1-8: a PUBLISH with RETAIN 0 is neither stored nor
// replaces or removes the retained message.
async fn non_retained_publish_leaves_the_retained_message_alone(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("keep");
    let mut p = Client::connected(b.addr, v, &client_id("keeppub")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "retained"))
        .await;
    p.publish(&t, QoS::AtLeastOnce, "not retained").await;
    p.publish(&t, QoS::AtLeastOnce, "").await;
    let mut s = Client::connected(b.addr, v, &client_id("keepsub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let got = until_sentinel(&mut s, &mut p, &t).await;
    assert_eq!(payloads(&got), ["retained"], "{got:?}");
    clear(&mut p, &t).await;
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(non_retained_publish_leaves_the_retained_message_alone);

// 3.1.1 MQTT-3.3.1-9: a message forwarded because it matches an established subscription has
// RETAIN 0, however it was published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v311_live_messages_are_forwarded_with_retain_0() {
    let b = broker().await;
    let t = topic("live");
    let mut s = Client::connected(b.addr, V311, &client_id("livesub")).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let mut p = Client::connected(b.addr, V311, &client_id("livepub")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "retained"))
        .await;
    let m = s.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"retained");
    assert!(!m.retain, "established subscription: RETAIN 0: {m:?}");
    clear(&mut p, &t).await;
    s.disconnect().await;
    p.disconnect().await;
}

// 5.0 MQTT-3.3.1-12, MQTT-3.3.1-13: with Retain As Published 0 a forwarded message has
// RETAIN 0; with 1 it has the RETAIN flag it was published with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_retain_as_published_decides_the_forwarded_retain_flag() {
    let b = broker().await;
    let t = topic("rap");
    let mut plain = Client::connected(b.addr, V5, &client_id("rap0")).await;
    plain.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let mut rap = Client::connected(b.addr, V5, &client_id("rap1")).await;
    let options = SubscriptionOptions {
        retain_as_published: true,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    let ack = rap
        .subscribe_with(subscribe_packet(
            vec![Subscription {
                filter: t.as_str().into(),
                options,
            }],
            Properties::new(),
        ))
        .await;
    granted(&ack, 0);
    let mut p = Client::connected(b.addr, V5, &client_id("rappub")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "retained"))
        .await;
    p.publish(&t, QoS::AtLeastOnce, "plain").await;
    let a = plain.recv_message().await;
    let b2 = plain.recv_message().await;
    assert!(
        !a.retain && !b2.retain,
        "Retain As Published 0: {a:?} {b2:?}"
    );
    let a = rap.recv_message().await;
    let b2 = rap.recv_message().await;
    assert_eq!(a.payload.as_ref(), b"retained");
    assert!(a.retain, "Retain As Published 1 keeps RETAIN 1: {a:?}");
    assert!(!b2.retain, "Retain As Published 1 keeps RETAIN 0: {b2:?}");
    clear(&mut p, &t).await;
    plain.disconnect().await;
    rap.disconnect().await;
    p.disconnect().await;
}

async fn subscribe_with_handling(c: &mut Client, filter: &str, handling: RetainHandling) {
    let options = SubscriptionOptions {
        retain_handling: handling,
        ..SubscriptionOptions::new(QoS::AtLeastOnce)
    };
    let ack = c
        .subscribe_with(subscribe_packet(
            vec![Subscription {
                filter: filter.into(),
                options,
            }],
            Properties::new(),
        ))
        .await;
    granted(&ack, 0);
}

// 5.0 MQTT-3.3.1-9, MQTT-3.3.1-10, MQTT-3.3.1-11, MQTT-3.8.4-4: Retain Handling 0 sends the
// retained message at every subscribe (a repeated one included); 1 only when the subscription
// did not exist before; 2 never.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_retain_handling_decides_when_retained_messages_are_sent() {
    let b = broker().await;
    let t = topic("rh");
    let mut p = Client::connected(b.addr, V5, &client_id("rhpub")).await;
    p.publish_with(retained(&t, QoS::AtLeastOnce, "retained"))
        .await;

    let cases = [
        (RetainHandling::SendAtSubscribe, [true, true]),
        (RetainHandling::SendIfNew, [true, false]),
        (RetainHandling::DoNotSend, [false, false]),
    ];
    for (handling, expected) in cases {
        let mut s = Client::connected(b.addr, V5, &client_id("rhsub")).await;
        for (round, expect_retained) in expected.into_iter().enumerate() {
            subscribe_with_handling(&mut s, &t, handling).await;
            let got = until_sentinel(&mut s, &mut p, &t).await;
            let want: &[&str] = if expect_retained { &["retained"] } else { &[] };
            assert_eq!(
                payloads(&got),
                want,
                "Retain Handling {handling:?}, subscribe #{}",
                round + 1
            );
            if let Some(m) = got.first() {
                assert!(m.retain, "{m:?}");
            }
        }
        s.disconnect().await;
    }
    clear(&mut p, &t).await;
    p.disconnect().await;
}
