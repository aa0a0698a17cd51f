//! CONNECT and CONNACK: acceptance, refusals, protocol violations around the connection.

use std::collections::HashMap;

use mqttspec_broker::Config;
use mqttspec_codec::malformed::{FieldRef, Malformed, Tamper};
use mqttspec_codec::{Packet, ProtocolVersion, Publish, QoS, ReasonCode, Subscribe, Subscription};

use crate::support::*;

// 3.1.1 MQTT-3.2.0-1, MQTT-3.1.4-4, MQTT-3.2.2-1; 5.0 MQTT-3.2.0-1, MQTT-3.1.4-5,
// MQTT-3.2.2-2: a valid CONNECT with Clean Session/Start 1 is accepted with 0x00 and Session
// Present 0, and the connection then works (PINGREQ is answered: MQTT-3.12.4-1).
async fn valid_connect_is_accepted_without_session_present(v: ProtocolVersion) {
    let b = broker().await;
    let (mut c, ack) = Client::connect(b.addr, v, &client_id("ok"), |_| {}).await;
    assert_eq!(ack.reason_code, ReasonCode::SUCCESS, "{ack:?}");
    assert!(!ack.session_present, "{ack:?}");
    c.ping().await;
    c.disconnect().await;
}
both_versions!(valid_connect_is_accepted_without_session_present);

// 3.1.1 MQTT-3.1.2-2: an unsupported Protocol Level is answered with CONNACK 0x01, then the
// connection is closed. 5.0 MQTT-3.1.2-2: the server MAY send CONNACK 0x84 and MUST close.
// A broker of both versions cannot tell which specification an unknown level belongs to, so
// either form of CONNACK is accepted; as a 3.1.1 server it must answer, so a bare close is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_protocol_level_is_refused_with_connack_then_closed() {
    let b = broker().await;
    for level in [0x02, 0x06, 0x7f] {
        let connect = Packet::Connect(connect_packet(V311, &client_id("level")));
        let mut m = Malformed::from_packet(&connect, V311).expect("encodable");
        m.apply(&Tamper::Replace {
            field: FieldRef::new("protocol level"),
            bytes: vec![level],
        })
        .expect("tamper");
        let mut c = Client::open(b.addr, V311).await;
        c.send_raw(m.as_bytes()).await;
        let bytes = c.read_to_close().await;
        let v311_form = bytes == [0x20, 0x02, 0x00, 0x01];
        let v5_form = bytes.len() >= 5
            && bytes[0] == 0x20
            && bytes.len() == 2 + usize::from(bytes[1])
            && bytes[2] == 0x00
            && bytes[3] == 0x84;
        assert!(
            v311_form || v5_form,
            "level {level}: expected CONNACK 0x01 (3.1.1) or 0x84 (5.0) then a close, got {bytes:02x?}"
        );
    }
}

// 3.1.1 MQTT-3.1.2-3, MQTT-3.1.4-1: the reserved CONNECT flag must be 0; otherwise the server
// closes the connection without a CONNACK. 5.0 MQTT-3.1.2-3, MQTT-3.1.4-1: it is a Malformed
// Packet; the server closes, optionally after CONNACK 0x81 (§4.13).
async fn reserved_connect_flag_closes_the_connection(v: ProtocolVersion) {
    let b = broker().await;
    let connect = Packet::Connect(connect_packet(v, &client_id("resflag")));
    let mut m = Malformed::from_packet(&connect, v).expect("encodable");
    // Clean Start (0x02) plus the reserved bit 0.
    m.apply(&Tamper::Replace {
        field: FieldRef::new("connect flags"),
        bytes: vec![0x03],
    })
    .expect("tamper");
    let mut c = Client::open(b.addr, v).await;
    c.send_raw(m.as_bytes()).await;
    if v.is_v5() {
        c.expect_refused(&[ReasonCode::MALFORMED_PACKET], true)
            .await;
    } else {
        c.expect_closed_silently().await;
    }
}
both_versions!(reserved_connect_flag_closes_the_connection);

// 3.1.1 MQTT-3.1.2-22, MQTT-3.1.4-1: a password without a user name does not conform, and the
// server closes the connection without sending a CONNACK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v311_password_without_user_name_closes_without_connack() {
    let b = broker().await;
    let mut connect = connect_packet(V311, &client_id("pwonly"));
    connect.password = Some(bytes::Bytes::from_static(b"secret"));
    let mut c = Client::start(b.addr, connect).await;
    c.expect_closed_silently().await;
}

// 3.1.1 MQTT-3.1.3-8: a zero-byte ClientId with CleanSession 0 is answered with CONNACK 0x02
// (Identifier rejected), then the connection is closed (MQTT-3.2.2-5, Session Present 0 by
// MQTT-3.2.2-4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v311_empty_client_id_without_clean_session_is_rejected_with_0x02() {
    let b = broker().await;
    let mut connect = connect_packet(V311, "");
    connect.clean_start = false;
    let mut c = Client::start(b.addr, connect).await;
    c.expect_refused(&[ReasonCode::CLIENT_IDENTIFIER_NOT_VALID], false)
        .await;
}

// 5.0 MQTT-3.1.3-6, MQTT-3.1.3-7, MQTT-3.2.2-16: a server that accepts a zero-length
// ClientID assigns a unique one and returns it as Assigned Client Identifier; one that does
// not may refuse with 0x85 (MQTT-3.1.3-8). Two such clients get different identifiers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_empty_client_id_gets_a_unique_assigned_client_identifier() {
    let b = broker().await;
    let mut assigned = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let mut c = Client::start(b.addr, connect_packet(V5, "")).await;
        match c.recv().await {
            Packet::ConnAck(ack) if ack.reason_code == ReasonCode::SUCCESS => {
                let id = ack
                    .properties
                    .assigned_client_identifier()
                    .unwrap_or_else(|| panic!("no Assigned Client Identifier: {ack:?}"));
                assert!(!id.is_empty(), "{ack:?}");
                assigned.push(id.to_string());
                clients.push(c);
            }
            Packet::ConnAck(ack) => {
                assert_eq!(
                    ack.reason_code,
                    ReasonCode::CLIENT_IDENTIFIER_NOT_VALID,
                    "{ack:?}"
                );
                c.expect_closed_silently().await;
                return;
            }
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }
    assert_ne!(
        assigned[0], assigned[1],
        "the same identifier was assigned twice"
    );
    for c in clients {
        c.disconnect().await;
    }
}

fn users_config() -> Config {
    Config {
        users: Some(HashMap::from([(
            "alice".to_owned(),
            "wonderland".to_owned(),
        )])),
        ..Config::default()
    }
}

// 3.1.1 MQTT-3.2.2-4, MQTT-3.2.2-5 (return code 0x04 "bad user name or password", table 3.1);
// 5.0 MQTT-3.1.4-2, MQTT-3.2.2-6, MQTT-3.2.2-7 (reason code 0x86): wrong credentials are
// refused with a CONNACK and the connection is closed; missing ones are refused as bad
// credentials or as not authorized; right ones are accepted.
async fn bad_credentials_are_refused(v: ProtocolVersion) {
    let Some(b) = embedded("bad_credentials_are_refused", users_config()).await else {
        return;
    };
    // The codec maps the 3.1.1 return codes 0x04 and 0x05 to 0x86 and 0x87.
    let bad = [ReasonCode::BAD_USER_NAME_OR_PASSWORD];
    let none = [
        ReasonCode::BAD_USER_NAME_OR_PASSWORD,
        ReasonCode::NOT_AUTHORIZED,
    ];
    let mut wrong = connect_packet(v, &client_id("wrongpw"));
    wrong.username = Some("alice".into());
    wrong.password = Some(bytes::Bytes::from_static(b"looking-glass"));
    let mut c = Client::start(b.addr, wrong).await;
    c.expect_refused(&bad, false).await;

    let mut unknown = connect_packet(v, &client_id("nouser"));
    unknown.username = Some("bob".into());
    unknown.password = Some(bytes::Bytes::from_static(b"wonderland"));
    let mut c = Client::start(b.addr, unknown).await;
    c.expect_refused(&bad, false).await;

    let mut c = Client::start(b.addr, connect_packet(v, &client_id("anon"))).await;
    c.expect_refused(&none, false).await;

    let (c, _) = Client::connected_with(b.addr, v, &client_id("alice"), |c| {
        c.username = Some("alice".into());
        c.password = Some(bytes::Bytes::from_static(b"wonderland"));
    })
    .await;
    c.disconnect().await;
}
both_versions!(bad_credentials_are_refused);

// 3.1.1 MQTT-3.1.4-5, 5.0 MQTT-3.1.4-6: once it rejects a CONNECT, the server processes no
// data the client sent after it: a retained PUBLISH pipelined behind a refused CONNECT is
// never stored. (3.1.1 refuses an empty ClientId without CleanSession, MQTT-3.1.3-8, on any
// broker; 5.0 uses an embedded broker that requires credentials.)
async fn data_after_a_refused_connect_is_not_processed(v: ProtocolVersion) {
    let b = if v.is_v5() {
        match embedded(
            "data_after_a_refused_connect_is_not_processed",
            users_config(),
        )
        .await
        {
            Some(b) => b,
            None => return,
        }
    } else {
        broker().await
    };
    let t = topic("refused");
    let mut connect = connect_packet(v, if v.is_v5() { "refusedv5" } else { "" });
    connect.clean_start = v.is_v5();
    let mut bytes = Packet::Connect(connect)
        .to_bytes(v)
        .expect("encodable")
        .to_vec();
    let mut retained = Publish::new(t.as_str(), QoS::AtMostOnce, "must not be stored");
    retained.retain = true;
    bytes.extend_from_slice(&Packet::Publish(retained).to_bytes(v).expect("encodable"));
    let mut c = Client::open(b.addr, v).await;
    c.send_raw(&bytes).await;
    // The refusal itself is checked elsewhere; here only that the broker closes.
    c.closed().await;

    let mut checker = if v.is_v5() {
        Client::connected_with(b.addr, v, &client_id("check"), |c| {
            c.username = Some("alice".into());
            c.password = Some(bytes::Bytes::from_static(b"wonderland"));
        })
        .await
        .0
    } else {
        Client::connected(b.addr, v, &client_id("check")).await
    };
    checker.subscribe_ok(&t, QoS::AtMostOnce).await;
    checker.expect_no_packet(QUIET).await;
}
both_versions!(data_after_a_refused_connect_is_not_processed);

// 3.1.1 MQTT-3.1.0-2; 5.0 MQTT-3.1.0-2: a second CONNECT is a protocol violation and the
// server closes the connection (5.0: optionally after DISCONNECT 0x82 Protocol Error).
async fn second_connect_closes_the_connection(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("twice");
    let mut c = Client::connected(b.addr, v, &id).await;
    c.send(&Packet::Connect(connect_packet(v, &id))).await;
    c.expect_closed_with(&[ReasonCode::PROTOCOL_ERROR]).await;
}
both_versions!(second_connect_closes_the_connection);

// 3.1.1 MQTT-3.1.4-2: a CONNECT with the ClientId of a connected client makes the server
// disconnect the existing client. 5.0 MQTT-3.1.4-3: the server closes the existing
// connection, after a DISCONNECT with 0x8E (Session taken over) if it sends one. The new
// connection works.
async fn connect_with_a_connected_client_id_takes_the_session_over(v: ProtocolVersion) {
    let b = broker().await;
    let id = client_id("takeover");
    let mut old = Client::connected(b.addr, v, &id).await;
    let mut new = Client::connected(b.addr, v, &id).await;
    old.expect_closed_with(&[ReasonCode::SESSION_TAKEN_OVER])
        .await;
    new.ping().await;
    new.disconnect().await;
}
both_versions!(connect_with_a_connected_client_id_takes_the_session_over);

// 3.1.1 MQTT-3.1.0-1, MQTT-4.8.0-1; 5.0 MQTT-3.1.0-1: the first packet must be CONNECT; a
// server that gets anything else closes the connection, sending nothing (no CONNACK, and in
// 5.0 no DISCONNECT before a CONNACK, MQTT-3.14.0-1).
async fn first_packet_other_than_connect_closes_the_connection(v: ProtocolVersion) {
    let b = broker().await;
    let mut c = Client::open(b.addr, v).await;
    c.client_id = "no-connect".into();
    c.send(&Packet::Subscribe(Subscribe::new(
        1,
        vec![Subscription::new(
            topic("noconnect").as_str(),
            QoS::AtMostOnce,
        )],
    )))
    .await;
    c.expect_closed_silently().await;
}
both_versions!(first_packet_other_than_connect_closes_the_connection);
