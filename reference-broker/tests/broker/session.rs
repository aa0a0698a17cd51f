//! Sessions: Clean Session / Clean Start, Session Present, persistent sessions, session
//! expiry, and the re-sending of unacknowledged messages on reconnect.

use std::time::Duration;

use mqttspec_codec::{Connect, Packet, Property, ProtocolVersion, PublishAck, QoS};

use crate::support::*;

/// Edits a CONNECT to resume or create a session that outlives the connection: Clean
/// Session/Start 0, and in 5.0 a Session Expiry Interval of 60 s.
fn persistent(v: ProtocolVersion) -> impl FnOnce(&mut Connect) {
    move |c: &mut Connect| {
        c.clean_start = false;
        if v.is_v5() {
            c.properties.push(Property::SessionExpiryInterval(60));
        }
    }
}

/// A clean session for `id`, ending any stored one (keeps an external broker tidy).
async fn end_session(b: &Broker, v: ProtocolVersion, id: &str) {
    Client::connected(b.addr, v, id).await.disconnect().await;
}

// 3.1.1 MQTT-3.1.2-6, MQTT-3.2.2-1, MQTT-3.2.2-3: CleanSession 1 discards any previous
// session, and its CONNACK has Session Present 0; that session ends with the connection, so a
// later CleanSession 0 connection finds none. 5.0 MQTT-3.1.2-4, MQTT-3.2.2-2: Clean Start 1
// discards the existing session (its subscriptions are gone) and Session Present is 0.
async fn clean_start_discards_the_session_and_reports_none(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("clean");
    let t = topic("clean");
    let (mut s, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    assert!(!ack.session_present, "a new session: {ack:?}");
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    s.disconnect().await;

    let (s, ack) = Client::connected_with(b.addr, v, &id, |c| {
        c.clean_start = true;
        if v.is_v5() {
            c.properties.push(Property::SessionExpiryInterval(60));
        }
    })
    .await;
    assert!(!ack.session_present, "Clean Start 1: {ack:?}");
    s.disconnect().await;

    let (mut s, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    if !v.is_v5() {
        assert!(
            !ack.session_present,
            "the CleanSession 1 session ended with its connection: {ack:?}"
        );
    }
    let mut p = Client::connected(b.addr, v, &client_id("cleanpub")).await;
    p.publish(&t, QoS::AtLeastOnce, "after clean start").await;
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    end_session(&b, v, &id).await;
    p.disconnect().await;
}
both_versions!(clean_start_discards_the_session_and_reports_none);

// 3.1.1 MQTT-3.1.2-4, MQTT-3.1.2-5, MQTT-3.2.2-2; 5.0 MQTT-3.1.2-5, MQTT-3.1.2-23,
// MQTT-3.2.2-3, MQTT-4.5.0-1: a persistent session keeps its subscriptions while the client
// is away, stores the QoS 1 and QoS 2 messages that match them, delivers them on reconnection
// (Session Present 1), and the subscription still works afterwards.
async fn persistent_session_keeps_subscriptions_and_queues_messages(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("persist");
    let t = topic("persist");
    let (mut s, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    assert!(!ack.session_present, "no session yet: {ack:?}");
    let g = s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    s.disconnect().await;

    let mut p = Client::connected(b.addr, v, &client_id("persistpub")).await;
    p.publish(&t, QoS::AtLeastOnce, "one").await;
    p.publish(&t, QoS::ExactlyOnce, "two").await;

    let (mut s, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    assert!(ack.session_present, "the session was kept: {ack:?}");
    if g == QoS::AtMostOnce {
        eprintln!("subscription granted QoS 0: nothing had to be queued");
    } else {
        let first = s.recv_message().await;
        let second = s.recv_message().await;
        assert_eq!(first.payload.as_ref(), b"one", "{first:?}");
        assert_eq!(first.qos, QoS::AtLeastOnce.min(g));
        assert_eq!(second.payload.as_ref(), b"two", "{second:?}");
        assert_eq!(second.qos, QoS::ExactlyOnce.min(g));
    }
    p.publish(&t, QoS::AtLeastOnce, "three").await;
    let live = s.recv_message().await;
    assert_eq!(live.payload.as_ref(), b"three", "{live:?}");
    s.disconnect().await;
    end_session(&b, v, &id).await;
    p.disconnect().await;
}
both_versions!(persistent_session_keeps_subscriptions_and_queues_messages);

// 5.0 MQTT-3.2.2-3, MQTT-4.1.0-2 (§3.1.2.11.2: an absent Session Expiry Interval means 0, and
// the session ends when the network connection closes): with Clean Start 0 but no expiry
// the session, and its subscription, do not survive the disconnection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_session_expiry_0_ends_the_session_at_disconnect() {
    let b = broker().await;
    let id = client_id("expiry0");
    let t = topic("expiry0");
    let (mut s, _) = Client::connected_with(b.addr, V5, &id, |c| c.clean_start = false).await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    s.disconnect().await;

    let mut p = Client::connected(b.addr, V5, &client_id("expiry0pub")).await;
    p.publish(&t, QoS::AtLeastOnce, "nobody is subscribed")
        .await;

    let (mut s, ack) = Client::connected_with(b.addr, V5, &id, persistent(V5)).await;
    assert!(
        !ack.session_present,
        "the session ended at disconnect: {ack:?}"
    );
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    end_session(&b, V5, &id).await;
    p.disconnect().await;
}

// 5.0 MQTT-4.1.0-2, MQTT-3.2.2-3: the server discards the session once the connection is
// closed and the Session Expiry Interval has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_session_is_discarded_after_its_expiry_interval() {
    let b = broker().await;
    let id = client_id("expiry1");
    let t = topic("expiry1");
    let (mut s, _) = Client::connected_with(b.addr, V5, &id, |c| {
        c.clean_start = false;
        c.properties.push(Property::SessionExpiryInterval(1));
    })
    .await;
    s.subscribe_ok(&t, QoS::AtLeastOnce).await;
    s.disconnect().await;
    // Waiting for time to pass is the point here: the session must outlive its 1 s expiry.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let (mut s, ack) = Client::connected_with(b.addr, V5, &id, persistent(V5)).await;
    assert!(!ack.session_present, "the session expired: {ack:?}");
    let mut p = Client::connected(b.addr, V5, &client_id("expiry1pub")).await;
    p.publish(&t, QoS::AtLeastOnce, "after expiry").await;
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    end_session(&b, V5, &id).await;
    p.disconnect().await;
}

// 3.1.1 MQTT-4.4.0-1, MQTT-3.3.1-1, MQTT-4.6.0-6; 5.0 MQTT-4.4.0-1, MQTT-3.3.1-1,
// MQTT-4.6.0-5: on reconnection with a session present, the server re-sends the QoS 1
// PUBLISHes the client had not acknowledged, with their original Packet Identifiers, DUP 1,
// in their original order, before any message sent for the first time.
async fn unacknowledged_publishes_are_resent_with_dup_in_order(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("resend");
    let t = topic("resend");
    let (mut s, _) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    if s.subscribe_ok(&t, QoS::AtLeastOnce).await != QoS::AtLeastOnce {
        eprintln!("QoS 1 not granted: nothing to re-send");
        return;
    }
    let mut p = Client::connected(b.addr, v, &client_id("resendpub")).await;
    let sent: Vec<String> = (1..=3).map(|i| format!("m{i}")).collect();
    for m in &sent {
        p.publish(&t, QoS::AtLeastOnce, m.clone()).await;
    }
    // Take what the broker sends now (its in-flight window may hold fewer than 3), unacked.
    let mut inflight = Vec::new();
    while inflight.len() < sent.len() {
        match s.recv_within(QUIET).await {
            Ok(Packet::Publish(m)) => {
                assert!(!m.dup, "first delivery has DUP 0 (MQTT-3.3.1-1): {m:?}");
                inflight.push(m);
            }
            Ok(other) => panic!("expected PUBLISH, got {other:?}"),
            Err(RecvError::Timeout) if !inflight.is_empty() => break,
            Err(e) => panic!("expected the queued PUBLISHes: {e}"),
        }
    }
    s.drop_connection();

    let (mut s, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    assert!(ack.session_present, "{ack:?}");
    let mut delivered = Vec::new();
    for (i, first) in inflight.iter().enumerate() {
        let again = s.recv_publish().await;
        assert!(again.dup, "re-sent PUBLISH {i} has DUP 1: {again:?}");
        assert_eq!(
            again.packet_id, first.packet_id,
            "same Packet Identifier: {again:?}"
        );
        assert_eq!(again.payload, first.payload, "same order: {again:?}");
        s.ack(&again).await;
        delivered.push(String::from_utf8_lossy(&again.payload).into_owned());
    }
    while delivered.len() < sent.len() {
        let m = s.recv_message().await;
        delivered.push(String::from_utf8_lossy(&m.payload).into_owned());
    }
    assert_eq!(delivered, sent, "every message, in order");
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    end_session(&b, v, &id).await;
    p.disconnect().await;
}
both_versions!(unacknowledged_publishes_are_resent_with_dup_in_order);

// 3.1.1 MQTT-4.4.0-1, MQTT-4.3.3-1; 5.0 MQTT-4.4.0-1, MQTT-4.3.3-6: a PUBREL the client had
// not completed is re-sent on reconnection with its Packet Identifier, and the PUBLISH it
// released is not sent again.
async fn unacknowledged_pubrel_is_resent_and_publish_is_not(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("pubrel");
    let t = topic("pubrel");
    let (mut s, _) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    if s.subscribe_ok(&t, QoS::ExactlyOnce).await != QoS::ExactlyOnce {
        eprintln!("QoS 2 not granted: no PUBREL to re-send");
        return;
    }
    let mut p = Client::connected(b.addr, v, &client_id("pubrelpub")).await;
    p.publish(&t, QoS::ExactlyOnce, "exactly once").await;
    let m = s.recv_publish().await;
    assert_eq!(m.qos, QoS::ExactlyOnce);
    let pid = m.packet_id;
    s.send(&Packet::PubRec(PublishAck::new(pid))).await;
    s.wait_for("PUBREL", |p| match p {
        Packet::PubRel(a) if a.packet_id == pid => Some(()),
        _ => None,
    })
    .await;
    s.drop_connection();

    let (mut s, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    assert!(ack.session_present, "{ack:?}");
    match s.recv().await {
        Packet::PubRel(a) => assert_eq!(a.packet_id, pid, "{a:?}"),
        other => panic!("expected the PUBREL again, got {other:?}"),
    }
    s.send(&Packet::PubComp(PublishAck::new(pid))).await;
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    end_session(&b, v, &id).await;
    p.disconnect().await;
}
both_versions!(unacknowledged_pubrel_is_resent_and_publish_is_not);

// 3.1.1 MQTT-3.1.4-2, MQTT-3.1.2-4, MQTT-3.2.2-2; 5.0 MQTT-3.1.4-3, MQTT-3.1.2-5,
// MQTT-3.2.2-3: a takeover with Clean Session/Start 0 closes the old connection and resumes
// its session: Session Present 1, and its subscriptions still deliver.
async fn takeover_with_clean_start_0_resumes_the_session(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("takeover");
    let t = topic("takeover");
    let (mut old, _) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    old.subscribe_ok(&t, QoS::AtLeastOnce).await;
    let (mut new, ack) = Client::connected_with(b.addr, v, &id, persistent(v)).await;
    assert!(ack.session_present, "the session continues: {ack:?}");
    old.expect_closed_with(&[mqttspec_codec::ReasonCode::SESSION_TAKEN_OVER])
        .await;
    let mut p = Client::connected(b.addr, v, &client_id("takeoverp")).await;
    p.publish(&t, QoS::AtLeastOnce, "to the new connection")
        .await;
    let m = new.recv_message().await;
    assert_eq!(m.payload.as_ref(), b"to the new connection");
    new.disconnect().await;
    end_session(&b, v, &id).await;
    p.disconnect().await;
}
both_versions!(takeover_with_clean_start_0_resumes_the_session);

// 5.0 MQTT-3.1.2-23, MQTT-4.1.0-2 (§3.14.2.2.2: the Session Expiry Interval in DISCONNECT
// replaces the one from CONNECT): a session created with expiry 60 but closed with DISCONNECT
// carrying expiry 0 ends at the close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_session_expiry_in_disconnect_replaces_the_connect_value() {
    let b = broker().await;
    let id = client_id("discexp");
    let (mut s, _) = Client::connected_with(b.addr, V5, &id, persistent(V5)).await;
    s.subscribe_ok(&topic("discexp"), QoS::AtLeastOnce).await;
    let mut disconnect = mqttspec_codec::Disconnect::default();
    disconnect
        .properties
        .push(Property::SessionExpiryInterval(0));
    s.disconnect_with(disconnect).await;
    let (s, ack) = Client::connected_with(b.addr, V5, &id, persistent(V5)).await;
    assert!(
        !ack.session_present,
        "DISCONNECT set the expiry to 0: {ack:?}"
    );
    s.disconnect().await;
    end_session(&b, V5, &id).await;
}

// 5.0 MQTT-4.13.1-1 (§3.14.2.2.2: a non-zero Session Expiry Interval in DISCONNECT after 0 in
// CONNECT is a Protocol Error): the server closes the connection (after DISCONNECT 0x82 if it
// sends one) and the session does not outlive it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_disconnect_cannot_give_a_session_expiry_to_a_session_without_one() {
    let b = broker().await;
    let id = client_id("discext");
    let (mut s, _) = Client::connected_with(b.addr, V5, &id, |c| c.clean_start = false).await;
    let mut disconnect = mqttspec_codec::Disconnect::default();
    disconnect
        .properties
        .push(Property::SessionExpiryInterval(60));
    s.send(&Packet::Disconnect(disconnect)).await;
    s.expect_closed_with(&[mqttspec_codec::ReasonCode::PROTOCOL_ERROR])
        .await;
    let (s, ack) = Client::connected_with(b.addr, V5, &id, persistent(V5)).await;
    assert!(!ack.session_present, "{ack:?}");
    s.disconnect().await;
    end_session(&b, V5, &id).await;
}
