//! QoS 0, 1 and 2 in both directions: acknowledgement flows, exactly-once delivery, Packet
//! Identifiers, and the QoS a subscriber receives.

use std::collections::HashSet;

use mqttspec_codec::{Packet, ProtocolVersion, Publish, PublishAck, QoS, ReasonCode};

use crate::support::*;

// 3.1.1 MQTT-4.3.2-2, MQTT-2.3.1-6; 5.0 MQTT-4.3.2-4, MQTT-2.2.1-5, MQTT-3.4.2-1: a QoS 1
// PUBLISH is answered with a PUBACK carrying its Packet Identifier (and, in 5.0, a success
// reason code: 0x00 or 0x10 No matching subscribers).
async fn qos1_publish_is_acknowledged_with_puback(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("qos1");
    let mut c = Client::connected(b.addr, v, &client_id("qos1")).await;
    for _ in 0..3 {
        let ack = c
            .publish(&t, QoS::AtLeastOnce, "q1")
            .await
            .expect("a PUBACK");
        assert!(
            [ReasonCode::SUCCESS, ReasonCode::NO_MATCHING_SUBSCRIBERS].contains(&ack.reason_code),
            "{ack:?}"
        );
    }
    c.disconnect().await;
}
both_versions!(qos1_publish_is_acknowledged_with_puback);

// 3.1.1 MQTT-4.3.3-2, MQTT-2.3.1-6; 5.0 MQTT-4.3.3-8, MQTT-4.3.3-11, MQTT-2.2.1-5: a QoS 2
// PUBLISH is answered with PUBREC, and the PUBREL that follows with PUBCOMP, both carrying its
// Packet Identifier.
async fn qos2_publish_is_completed_with_pubrec_pubrel_pubcomp(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("qos2");
    let mut c = Client::connected(b.addr, v, &client_id("qos2")).await;
    let id = 0x1234;
    let mut p = Publish::new(t.as_str(), QoS::ExactlyOnce, "q2");
    p.packet_id = id;
    c.send(&Packet::Publish(p)).await;
    match c.recv().await {
        Packet::PubRec(a) => {
            assert_eq!(a.packet_id, id, "{a:?}");
            assert!(!a.reason_code.is_error(), "{a:?}");
        }
        other => panic!("expected PUBREC, got {other:?}"),
    }
    c.send(&Packet::PubRel(PublishAck::new(id))).await;
    match c.recv().await {
        Packet::PubComp(a) => {
            assert_eq!(a.packet_id, id, "{a:?}");
            assert_eq!(a.reason_code, ReasonCode::SUCCESS, "{a:?}");
        }
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
    c.disconnect().await;
}
both_versions!(qos2_publish_is_completed_with_pubrec_pubrel_pubcomp);

// 3.1.1 MQTT-4.3.1-1, MQTT-4.3.2-1, MQTT-4.3.3-1, MQTT-3.3.1-2, MQTT-2.3.1-5; 5.0
// MQTT-4.3.1-1, MQTT-4.3.2-2, MQTT-4.3.3-2, MQTT-4.3.3-4: towards a QoS 2 subscriber the
// server sends QoS 0 with DUP 0, QoS 1 and 2 with DUP 0 and a Packet Identifier; it answers
// the subscriber's PUBREC with a PUBREL carrying the same identifier.
async fn messages_reach_a_subscriber_with_each_qos_flow(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("flows");
    let mut s = Client::connected(b.addr, v, &client_id("flowsub")).await;
    let g = s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("flowpub")).await;
    for (qos, payload) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one"),
        (QoS::ExactlyOnce, "two"),
    ] {
        p.publish(&t, qos, payload).await;
        let m = s.recv_publish().await;
        assert_eq!(m.topic.as_str(), t, "{m:?}");
        assert_eq!(m.payload.as_ref(), payload.as_bytes(), "{m:?}");
        assert_eq!(m.qos, qos.min(g), "{m:?}");
        assert!(!m.dup, "a first delivery has DUP 0: {m:?}");
        // `ack` waits for the PUBREL with this Packet Identifier at QoS 2.
        s.ack(&m).await;
    }
    s.expect_no_packet(QUIET).await;
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(messages_reach_a_subscriber_with_each_qos_flow);

/// Publishes a QoS 2 message, re-sends it `repeats` times (DUP 1, same Packet Identifier)
/// before PUBREL, requiring a PUBREC each time, and checks the subscriber gets it once.
async fn qos2_repeated_before_pubrel(v: ProtocolVersion, repeats: usize) {
    let b = broker().await;
    let t = topic("dupq2");
    let mut s = Client::connected(b.addr, v, &client_id("dupsub")).await;
    s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("duppub")).await;
    let id = 77;
    let mut publish = Publish::new(t.as_str(), QoS::ExactlyOnce, "once");
    publish.packet_id = id;
    p.send(&Packet::Publish(publish.clone())).await;
    let rec = |p: &Packet| match p {
        Packet::PubRec(a) if a.packet_id == id => Some(a.clone()),
        _ => None,
    };
    p.wait_for("PUBREC", rec).await;
    publish.dup = true;
    for _ in 0..repeats {
        p.send(&Packet::Publish(publish.clone())).await;
        p.wait_for("PUBREC for the re-sent PUBLISH", rec).await;
    }
    p.send(&Packet::PubRel(PublishAck::new(id))).await;
    p.wait_for("PUBCOMP", |p| match p {
        Packet::PubComp(a) if a.packet_id == id => Some(()),
        _ => None,
    })
    .await;
    // A sentinel from the same publisher, topic and QoS comes after any copy.
    p.publish(&t, QoS::ExactlyOnce, "sentinel").await;
    let got = s.recv_until(b"sentinel").await;
    assert_eq!(
        payloads(&got),
        ["once", "sentinel"],
        "the message is delivered exactly once"
    );
    s.disconnect().await;
    p.disconnect().await;
}

// 3.1.1 MQTT-4.3.3-2; 5.0 MQTT-4.3.3-10: until it receives the PUBREL, the server answers a
// re-sent QoS 2 PUBLISH (DUP 1, same Packet Identifier) with PUBREC and does not deliver the
// message twice.
async fn qos2_duplicate_before_pubrel_is_delivered_once(v: ProtocolVersion) {
    qos2_repeated_before_pubrel(v, 1).await;
}
both_versions!(qos2_duplicate_before_pubrel_is_delivered_once);

// 3.1.1 MQTT-4.3.3-2; 5.0 MQTT-4.3.3-10: "any subsequent PUBLISH" with the Packet Identifier,
// until PUBREL: a second re-send is answered with PUBREC too, and still delivered once.
async fn qos2_every_resend_before_pubrel_is_answered_with_pubrec(v: ProtocolVersion) {
    if skip_external(
        "qos2_every_resend_before_pubrel_is_answered_with_pubrec",
        "MQTT-4.3.3-2 (3.1.1) / MQTT-4.3.3-10 (5.0): Mosquitto 2.0.11 answers the first re-sent \
         QoS 2 PUBLISH with PUBREC but closes the connection on the second (\"protocol error\"; \
         5.0: DISCONNECT 0x82)",
    ) {
        return;
    }
    qos2_repeated_before_pubrel(v, 3).await;
}
both_versions!(qos2_every_resend_before_pubrel_is_answered_with_pubrec);

// 3.1.1 MQTT-4.3.2-2, MQTT-4.3.3-2; 5.0 MQTT-4.3.2-5, MQTT-4.3.3-12: once the server has sent
// PUBACK (QoS 1) or PUBCOMP (QoS 2), a PUBLISH reusing that Packet Identifier is a new
// message, delivered again.
async fn reused_packet_id_after_acknowledgement_is_a_new_message(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("reuse");
    let mut s = Client::connected(b.addr, v, &client_id("reusesub")).await;
    s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("reusepub")).await;
    for (qos, payload) in [
        (QoS::AtLeastOnce, "q1 first"),
        (QoS::AtLeastOnce, "q1 second"),
        (QoS::ExactlyOnce, "q2 first"),
        (QoS::ExactlyOnce, "q2 second"),
    ] {
        let mut publish = Publish::new(t.as_str(), qos, payload);
        publish.packet_id = 9;
        publish.dup = true;
        p.publish_with(publish).await;
    }
    let got = s.recv_until(b"q2 second").await;
    assert_eq!(
        payloads(&got),
        ["q1 first", "q1 second", "q2 first", "q2 second"],
        "each PUBLISH is a new message"
    );
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(reused_packet_id_after_acknowledgement_is_a_new_message);

// 3.1.1 MQTT-2.3.1-1, MQTT-2.3.1-4, MQTT-4.3.2-1; 5.0 MQTT-2.2.1-4, MQTT-4.3.2-1: the Packet
// Identifiers of the QoS 1 PUBLISHes the server sends are non-zero and none is reused while
// an earlier one is unacknowledged.
async fn outbound_packet_ids_are_nonzero_and_unique_while_in_flight(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("pids");
    let mut s = Client::connected(b.addr, v, &client_id("pidsub")).await;
    if s.subscribe_ok(&t, QoS::AtLeastOnce).await != QoS::AtLeastOnce {
        eprintln!("QoS 1 not granted: no Packet Identifiers to check");
        return;
    }
    let mut p = Client::connected(b.addr, v, &client_id("pidpub")).await;
    const N: usize = 12;
    for i in 0..N {
        p.publish(&t, QoS::AtLeastOnce, format!("m{i}")).await;
    }
    let mut unacked: Vec<Publish> = Vec::new();
    let mut received = 0;
    while received < N {
        match s.recv_within(QUIET).await {
            Ok(Packet::Publish(m)) => {
                assert_ne!(m.packet_id, 0, "{m:?}");
                assert!(
                    unacked.iter().all(|u| u.packet_id != m.packet_id),
                    "Packet Identifier {} reused while in flight: {m:?}",
                    m.packet_id
                );
                assert_eq!(m.payload, format!("m{received}").into_bytes(), "in order");
                unacked.push(m);
                received += 1;
            }
            Ok(other) => panic!("expected PUBLISH, got {other:?}"),
            // The broker's in-flight window is full: release it.
            Err(RecvError::Timeout) if !unacked.is_empty() => {
                for m in unacked.drain(..) {
                    s.ack(&m).await;
                }
            }
            Err(e) => panic!("expected the messages: {e}"),
        }
    }
    let ids: HashSet<u16> = unacked.iter().map(|m| m.packet_id).collect();
    assert_eq!(ids.len(), unacked.len());
    for m in unacked.drain(..) {
        s.ack(&m).await;
    }
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(outbound_packet_ids_are_nonzero_and_unique_while_in_flight);

// 3.1.1 MQTT-3.8.4-6; 5.0 MQTT-3.8.4-8: a message is delivered at the minimum of the QoS it
// was published with and the QoS granted to the subscription, for every combination.
async fn delivered_qos_is_the_minimum_of_published_and_granted(v: ProtocolVersion) {
    let b = broker().await;
    let base = topic("minqos");
    let mut s = Client::connected(b.addr, v, &client_id("minsub")).await;
    let qoss = [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce];
    let mut grants = Vec::new();
    for sub in qoss {
        grants.push(
            s.subscribe_ok(&format!("{base}/{}", sub.as_u8()), sub)
                .await,
        );
    }
    let mut p = Client::connected(b.addr, v, &client_id("minpub")).await;
    for (i, sub) in qoss.into_iter().enumerate() {
        let t = format!("{base}/{}", sub.as_u8());
        for publ in qoss {
            p.publish(&t, publ, format!("{}{}", sub.as_u8(), publ.as_u8()))
                .await;
            let m = s.recv_message().await;
            assert_eq!(m.topic.as_str(), t, "{m:?}");
            assert_eq!(
                m.qos,
                publ.min(grants[i]),
                "published at {publ}, granted {}: {m:?}",
                grants[i]
            );
        }
    }
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(delivered_qos_is_the_minimum_of_published_and_granted);

// 3.1.1 MQTT-4.3.3-2 (the receiver MUST respond to a PUBREL by sending a PUBCOMP with the same
// Packet Identifier); 5.0 MQTT-4.3.3-11, MQTT-3.7.2-1: a PUBREL for an identifier the server
// does not know is still answered with PUBCOMP (in 5.0 with 0x00 or 0x92 Packet Identifier
// not found), and the connection stays usable.
async fn pubrel_for_an_unknown_packet_id_is_answered_with_pubcomp(v: ProtocolVersion) {
    let b = broker().await;
    let mut c = Client::connected(b.addr, v, &client_id("unkrel")).await;
    c.send(&Packet::PubRel(PublishAck::new(4242))).await;
    match c.recv().await {
        Packet::PubComp(a) => {
            assert_eq!(a.packet_id, 4242, "{a:?}");
            assert!(
                [ReasonCode::SUCCESS, ReasonCode::PACKET_IDENTIFIER_NOT_FOUND]
                    .contains(&a.reason_code),
                "{a:?}"
            );
        }
        other => panic!("expected PUBCOMP, got {other:?}"),
    }
    c.ping().await;
    c.disconnect().await;
}
both_versions!(pubrel_for_an_unknown_packet_id_is_answered_with_pubcomp);

// 3.1.1 MQTT-3.3.1-3; 5.0 MQTT-3.3.1-3: the DUP flag of an incoming PUBLISH is not passed on:
// a first delivery to a subscriber has DUP 0.
async fn dup_flag_is_not_propagated_to_subscribers(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("dupprop");
    let mut s = Client::connected(b.addr, v, &client_id("duppsub")).await;
    let g = s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    let mut p = Client::connected(b.addr, v, &client_id("dupppub")).await;
    for qos in [QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let mut publish = Publish::new(t.as_str(), qos, "dup set by the publisher");
        publish.dup = true;
        p.publish_with(publish).await;
        let m = s.recv_message().await;
        assert_eq!(m.qos, qos.min(g));
        assert!(!m.dup, "DUP propagated: {m:?}");
    }
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(dup_flag_is_not_propagated_to_subscribers);

// 3.1.1 MQTT-4.6.0-5, MQTT-4.6.0-6; 5.0 MQTT-4.6.0-5, MQTT-4.6.0-6: messages one client
// publishes on a topic, pipelined without waiting for acknowledgements, reach a subscriber in
// the order they were sent, for each QoS.
async fn pipelined_messages_arrive_in_order_for_each_qos(v: ProtocolVersion) {
    let b = broker().await;
    let t = topic("order");
    let mut s = Client::connected(b.addr, v, &client_id("ordersub")).await;
    let g = s.subscribe_ok(&t, QoS::ExactlyOnce).await;
    let (mut p, ack) = Client::connected_with(b.addr, v, &client_id("orderpub"), |_| {}).await;
    // Stay within the server's Receive Maximum (5.0; 3.1.1 has none).
    let n = ack
        .properties
        .receive_maximum()
        .map_or(10, |m| usize::from(m).min(10));
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        let mut ids = Vec::new();
        for i in 0..n {
            let mut publish = Publish::new(t.as_str(), qos, format!("{}-{i}", qos.as_u8()));
            if qos != QoS::AtMostOnce {
                publish.packet_id = p.next_packet_id();
                ids.push(publish.packet_id);
            }
            p.send(&Packet::Publish(publish)).await;
        }
        for &id in &ids {
            match qos {
                QoS::AtLeastOnce => {
                    p.wait_for("PUBACK", |x| match x {
                        Packet::PubAck(a) if a.packet_id == id => Some(()),
                        _ => None,
                    })
                    .await
                }
                _ => {
                    p.wait_for("PUBREC", |x| match x {
                        Packet::PubRec(a) if a.packet_id == id => Some(()),
                        _ => None,
                    })
                    .await
                }
            }
        }
        if qos == QoS::ExactlyOnce {
            for &id in &ids {
                p.send(&Packet::PubRel(PublishAck::new(id))).await;
            }
            for &id in &ids {
                p.wait_for("PUBCOMP", |x| match x {
                    Packet::PubComp(a) if a.packet_id == id => Some(()),
                    _ => None,
                })
                .await;
            }
        }
        for i in 0..n {
            let m = s.recv_message().await;
            assert_eq!(m.qos, qos.min(g));
            assert_eq!(
                m.payload,
                format!("{}-{i}", qos.as_u8()).into_bytes(),
                "out of order"
            );
        }
    }
    s.disconnect().await;
    p.disconnect().await;
}
both_versions!(pipelined_messages_arrive_in_order_for_each_qos);
