//! Will messages: when they are published and when not, their RETAIN flag, the 5.0 Will Delay
//! Interval and Will Properties.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mqttspec_codec::{
    Connect, Disconnect, Packet, Properties, Property, ProtocolVersion, Publish, QoS, ReasonCode,
    Will,
};

use crate::support::*;

fn will(topic: &str, payload: &'static str, qos: QoS, retain: bool) -> Will {
    Will {
        topic: topic.into(),
        payload: Bytes::from_static(payload.as_bytes()),
        qos,
        retain,
        properties: Properties::new(),
    }
}

/// A subscriber to `topic` at QoS 1 (returns the granted QoS).
async fn watcher(b: &Broker, v: ProtocolVersion, topic: &str) -> (Client, QoS) {
    let mut s = Client::connected(b.addr, v, &client_id("willsub")).await;
    let g = s.subscribe_ok(topic, QoS::AtLeastOnce).await;
    (s, g)
}

/// Publishes a sentinel on `topic` from a fresh client and returns what `s` receives up to it.
async fn until_sentinel(
    b: &Broker,
    v: ProtocolVersion,
    s: &mut Client,
    topic: &str,
) -> Vec<Publish> {
    let mut p = Client::connected(b.addr, v, &client_id("sentinel")).await;
    p.publish(topic, QoS::AtLeastOnce, "sentinel").await;
    p.disconnect().await;
    let mut got = s.recv_until(b"sentinel").await;
    got.pop();
    got
}

// 3.1.1 MQTT-3.1.2-8, MQTT-3.1.2-16; 5.0 MQTT-3.1.2-8, MQTT-3.1.2-14: when the connection
// closes without DISCONNECT the will is published, non-retained when Will Retain is 0, at the
// minimum of the Will QoS and the subscription's.
async fn will_is_published_when_the_connection_drops(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("will");
    let (mut s, g) = watcher(&b, v, &t).await;
    let (w, _) = Client::connected_with(b.addr, v, &client_id("willer"), |c| {
        c.will = Some(will(&t, "gone", QoS::AtLeastOnce, false));
    })
    .await;
    w.drop_connection();
    let m = s.recv_message().await;
    assert_eq!(m.topic.as_str(), t, "{m:?}");
    assert_eq!(m.payload.as_ref(), b"gone", "{m:?}");
    assert_eq!(m.qos, QoS::AtLeastOnce.min(g), "{m:?}");
    assert!(!m.retain, "{m:?}");
    s.disconnect().await;
}
both_versions!(will_is_published_when_the_connection_drops);

// 3.1.1 MQTT-3.1.2-10, MQTT-3.14.4-3; 5.0 MQTT-3.1.2-10, MQTT-3.14.4-3: after a DISCONNECT
// (5.0: reason 0x00) the will is discarded, not published.
async fn will_is_not_published_after_disconnect(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("nowill");
    let (mut s, _) = watcher(&b, v, &t).await;
    let (w, _) = Client::connected_with(b.addr, v, &client_id("polite"), |c| {
        c.will = Some(will(&t, "must not appear", QoS::AtLeastOnce, false));
    })
    .await;
    // Returns once the broker has closed the connection.
    w.disconnect().await;
    let got = until_sentinel(&b, v, &mut s, &t).await;
    assert!(got.is_empty(), "the will was published: {got:?}");
    s.disconnect().await;
}
both_versions!(will_is_not_published_after_disconnect);

// 5.0 MQTT-3.1.2-8, MQTT-3.1.2-10: only DISCONNECT 0x00 deletes the will; after DISCONNECT
// 0x04 (Disconnect with Will Message) it is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_disconnect_with_will_message_publishes_the_will() {
    let b = broker().await;
    let t = topic("will04");
    let (mut s, _) = watcher(&b, V5, &t).await;
    let (w, _) = Client::connected_with(b.addr, V5, &client_id("will04"), |c| {
        c.will = Some(will(&t, "asked for", QoS::AtLeastOnce, false));
    })
    .await;
    w.disconnect_with(Disconnect::new(ReasonCode::DISCONNECT_WITH_WILL_MESSAGE))
        .await;
    let m = s.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"asked for", "{m:?}");
    s.disconnect().await;
}

// 3.1.1 MQTT-3.1.2-16, MQTT-3.1.2-17; 5.0 MQTT-3.1.2-14, MQTT-3.1.2-15: a will with Will
// Retain 1 is published as a retained message (a later subscriber gets it with RETAIN 1); one
// with Will Retain 0 is not retained.
async fn will_retain_flag_decides_whether_the_will_is_retained(v: ProtocolVersion) {
    let b = broker().await;
    let kept = topic("willret1");
    let not_kept = topic("willret0");
    for (t, retain) in [(&kept, true), (&not_kept, false)] {
        let (mut s, _) = watcher(&b, v, t).await;
        let (w, _) = Client::connected_with(b.addr, v, &client_id("willret"), |c| {
            c.will = Some(will(t, "last words", QoS::AtLeastOnce, retain));
        })
        .await;
        w.drop_connection();
        // Published: now it is (or is not) retained.
        s.recv_message().await;
        s.disconnect().await;
    }
    let (mut late, _) = watcher(&b, v, &kept).await;
    let m = late.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"last words", "{m:?}");
    assert!(m.retain, "Will Retain 1: a retained message: {m:?}");
    let mut p = Client::connected(b.addr, v, &client_id("willclr")).await;
    let mut clear = Publish::new(kept.as_str(), QoS::AtLeastOnce, "");
    clear.retain = true;
    p.publish_with(clear).await;
    p.disconnect().await;
    late.disconnect().await;

    let (mut late, _) = watcher(&b, v, &not_kept).await;
    let got = until_sentinel(&b, v, &mut late, &not_kept).await;
    assert!(got.is_empty(), "Will Retain 0: nothing retained: {got:?}");
    late.disconnect().await;
}
both_versions!(will_retain_flag_decides_whether_the_will_is_retained);

fn delayed_will(topic: &str, delay: u32, session_expiry: u32) -> impl FnOnce(&mut Connect) {
    let topic = topic.to_owned();
    move |c: &mut Connect| {
        c.clean_start = false;
        c.properties
            .push(Property::SessionExpiryInterval(session_expiry));
        let mut w = will(&topic, "delayed", QoS::AtLeastOnce, false);
        w.properties.push(Property::WillDelayInterval(delay));
        c.will = Some(w);
    }
}

// 5.0 MQTT-3.1.3-9: if the client reconnects to its session before the Will Delay Interval has
// passed, the will is not sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_will_is_not_sent_if_the_client_returns_within_the_will_delay() {
    let b = broker().await;
    let t = topic("delay");
    let id = client_id("delayback");
    let (mut s, _) = watcher(&b, V5, &t).await;
    let (w, _) = Client::connected_with(b.addr, V5, &id, delayed_will(&t, 1, 60)).await;
    w.drop_connection();
    let (back, ack) = Client::connected_with(b.addr, V5, &id, |c| {
        c.clean_start = false;
        c.properties.push(Property::SessionExpiryInterval(60));
    })
    .await;
    assert!(ack.session_present, "{ack:?}");
    // Past the 1 s delay, with margin: still nothing.
    s.expect_no_packet(Duration::from_millis(1700)).await;
    back.disconnect().await;
    Client::connected(b.addr, V5, &id).await.disconnect().await;
    s.disconnect().await;
}

// 5.0 MQTT-3.1.2-8: with a Will Delay Interval, the will is published once it has elapsed (and
// not before), the session still existing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_will_is_published_after_the_will_delay() {
    let b = broker().await;
    let t = topic("delayed");
    let id = client_id("delayed");
    let (mut s, _) = watcher(&b, V5, &t).await;
    let (w, _) = Client::connected_with(b.addr, V5, &id, delayed_will(&t, 1, 60)).await;
    let dropped = Instant::now();
    w.drop_connection();
    s.expect_no_packet(Duration::from_millis(600)).await;
    let m = s.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"delayed", "{m:?}");
    assert!(
        dropped.elapsed() >= Duration::from_millis(900),
        "published {:?} after the close, before the 1 s delay",
        dropped.elapsed()
    );
    Client::connected(b.addr, V5, &id).await.disconnect().await;
    s.disconnect().await;
}

// 5.0 MQTT-3.1.2-8: the will is published when the session ends, even if the Will Delay
// Interval has not elapsed: with Session Expiry 0 that is at the close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_will_is_published_when_the_session_ends_before_the_will_delay() {
    if skip_external(
        "v5_will_is_published_when_the_session_ends_before_the_will_delay",
        "MQTT-3.1.2-8: Mosquitto 2.0.11 waits for the Will Delay Interval (3600 s here) even \
         though Session Expiry 0 ended the session at the close; no will within 12 s",
    ) {
        return;
    }
    let b = broker().await;
    let t = topic("delayend");
    let (mut s, _) = watcher(&b, V5, &t).await;
    let (w, _) = Client::connected_with(
        b.addr,
        V5,
        &client_id("delayend"),
        delayed_will(&t, 3600, 0),
    )
    .await;
    w.drop_connection();
    let m = s.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"delayed", "{m:?}");
    s.disconnect().await;
}

// 5.0 MQTT-3.1.3-10, MQTT-3.3.2-4, MQTT-3.3.2-15, MQTT-3.3.2-16, MQTT-3.3.2-17,
// MQTT-3.3.2-20, MQTT-3.3.2-6: the will is published with its Will Properties: Payload Format
// Indicator, Content Type, Response Topic, Correlation Data unaltered, User Properties
// unaltered and in order, and the Message Expiry Interval (not more than was set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_will_properties_are_forwarded_unaltered() {
    let b = broker().await;
    let t = topic("willprops");
    let (mut s, _) = watcher(&b, V5, &t).await;
    let users = [("k", "1"), ("other", "x"), ("k", "2")];
    let (w, _) = Client::connected_with(b.addr, V5, &client_id("willprops"), |c| {
        let mut w = will(&t, "{\"state\":\"gone\"}", QoS::AtLeastOnce, false);
        w.properties = Properties::new()
            .with(Property::PayloadFormatIndicator(1))
            .with(Property::MessageExpiryInterval(3600))
            .with(Property::ContentType("application/json".into()))
            .with(Property::ResponseTopic("reply/here".into()))
            .with(Property::CorrelationData(Bytes::from_static(
                b"\x00\x01corr",
            )));
        for (k, v) in users {
            w.properties.push(user_property(k, v));
        }
        c.will = Some(w);
    })
    .await;
    w.drop_connection();
    let m = s.recv_message().await;
    let p = &m.properties;
    assert_eq!(p.payload_format_indicator(), Some(1), "{m:?}");
    assert_eq!(
        p.content_type().as_ref().map(|s| s.as_str()),
        Some("application/json"),
        "{m:?}"
    );
    assert_eq!(
        p.response_topic().as_ref().map(|s| s.as_str()),
        Some("reply/here"),
        "{m:?}"
    );
    assert_eq!(
        p.correlation_data().as_deref(),
        Some(&b"\x00\x01corr"[..]),
        "{m:?}"
    );
    let expiry = p
        .message_expiry_interval()
        .expect("Message Expiry Interval");
    assert!((3590..=3600).contains(&expiry), "{m:?}");
    let want: Vec<(String, String)> = users
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(user_properties(p), want, "User Properties, in order");
    s.disconnect().await;
}

// 3.1.1 MQTT-3.1.2-24, MQTT-3.1.2-8; 5.0 MQTT-3.1.2-22, MQTT-3.1.2-8: a client silent for 1.5
// times its Keep Alive is disconnected as if the network had failed, so its will is published.
async fn will_is_published_when_keep_alive_expires(v: ProtocolVersion) {
    if skip_external(
        "will_is_published_when_keep_alive_expires",
        crate::keep_alive::MOSQUITTO_KEEP_ALIVE,
    ) {
        return;
    }
    let b = broker().await;
    let t = topic("willka");
    let (mut s, _) = watcher(&b, v, &t).await;
    let (mut w, _) = Client::connected_with(b.addr, v, &client_id("willka"), |c| {
        c.keep_alive = 1;
        c.will = Some(will(&t, "timed out", QoS::AtLeastOnce, false));
    })
    .await;
    let m = s.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"timed out", "{m:?}");
    w.expect_closed_with(&[ReasonCode::KEEP_ALIVE_TIMEOUT])
        .await;
    s.disconnect().await;
}
both_versions!(will_is_published_when_keep_alive_expires);

// 3.1.1 MQTT-3.1.2-8 (the will is published when the server closes the connection because of
// a protocol error), MQTT-3.1.0-2; 5.0 MQTT-3.1.2-8, MQTT-3.1.0-2: a connection closed by the
// server for a protocol violation (here a second CONNECT) publishes the will.
async fn will_is_published_when_the_server_closes_for_a_protocol_error(v: ProtocolVersion) {
    if skip_external(
        "will_is_published_when_the_server_closes_for_a_protocol_error",
        "MQTT-3.1.2-8 (both versions): Mosquitto 2.0.11 closes a client that sends a second \
         CONNECT (\"disconnected due to protocol error\") without publishing its will",
    ) {
        return;
    }
    let b = broker().await;
    let t = topic("willerr");
    let (mut s, _) = watcher(&b, v, &t).await;
    let id = client_id("willerr");
    let (mut w, _) = Client::connected_with(b.addr, v, &id, |c| {
        c.will = Some(will(&t, "violated", QoS::AtLeastOnce, false));
    })
    .await;
    w.send(&Packet::Connect(connect_packet(v, &id))).await;
    w.expect_closed_with(&[ReasonCode::PROTOCOL_ERROR]).await;
    let m = s.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"violated", "{m:?}");
    s.disconnect().await;
}
both_versions!(will_is_published_when_the_server_closes_for_a_protocol_error);
