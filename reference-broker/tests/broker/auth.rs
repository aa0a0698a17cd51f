//! 5.0 AUTH: unknown methods, AUTH without a method, and the reference broker's
//! challenge-response method `MQTTSPEC-CHALLENGE` (connect and re-authentication).

use bytes::Bytes;
use mqttspec_broker::Config;
use mqttspec_codec::{Auth, Packet, Properties, Property, ReasonCode};

use crate::support::*;

const METHOD: &str = "MQTTSPEC-CHALLENGE";

fn auth(reason_code: ReasonCode, data: Option<Bytes>) -> Packet {
    let mut properties = Properties::new().with(Property::AuthenticationMethod(METHOD.into()));
    if let Some(data) = data {
        properties.push(Property::AuthenticationData(data));
    }
    Packet::Auth(Auth {
        reason_code,
        properties,
    })
}

/// Receives the server's AUTH challenge (0x18, our method, a nonce) and returns the nonce.
async fn challenge(c: &mut Client) -> Bytes {
    match c.recv().await {
        Packet::Auth(a) => {
            assert_eq!(a.reason_code, ReasonCode::CONTINUE_AUTHENTICATION, "{a:?}");
            assert_eq!(
                a.properties
                    .authentication_method()
                    .as_ref()
                    .map(|m| m.as_str()),
                Some(METHOD),
                "MQTT-4.12.0-5: {a:?}"
            );
            let nonce = a
                .properties
                .authentication_data()
                .unwrap_or_else(|| panic!("a challenge without Authentication Data: {a:?}"));
            assert!(!nonce.is_empty(), "{a:?}");
            nonce
        }
        other => panic!("expected AUTH 0x18, got {other:?}"),
    }
}

fn reversed(nonce: &Bytes) -> Bytes {
    nonce.iter().rev().copied().collect::<Vec<u8>>().into()
}

/// Connects with the challenge method and answers the challenge correctly.
async fn authenticated(b: &Broker, tag: &str) -> Client {
    let mut connect = connect_packet(V5, &client_id(tag));
    connect
        .properties
        .push(Property::AuthenticationMethod(METHOD.into()));
    let mut c = Client::start(b.addr, connect).await;
    let nonce = challenge(&mut c).await;
    c.send(&auth(
        ReasonCode::CONTINUE_AUTHENTICATION,
        Some(reversed(&nonce)),
    ))
    .await;
    match c.recv().await {
        Packet::ConnAck(ack) => {
            assert_eq!(ack.reason_code, ReasonCode::SUCCESS, "{ack:?}");
            assert_eq!(
                ack.properties
                    .authentication_method()
                    .as_ref()
                    .map(|m| m.as_str()),
                Some(METHOD),
                "MQTT-4.12.0-5: {ack:?}"
            );
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    c
}

// 5.0 MQTT-4.12.0-1: a server that does not support the Authentication Method in CONNECT may
// send CONNACK 0x8C (Bad authentication method) or 0x87 (Not authorized), and closes the
// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_unknown_authentication_method_is_refused() {
    let b = broker().await;
    let mut connect = connect_packet(V5, &client_id("badmethod"));
    connect.properties.push(Property::AuthenticationMethod(
        "MQTTSPEC-NO-SUCH-METHOD".into(),
    ));
    let mut c = Client::start(b.addr, connect).await;
    c.expect_refused(
        &[
            ReasonCode::BAD_AUTHENTICATION_METHOD,
            ReasonCode::NOT_AUTHORIZED,
        ],
        true,
    )
    .await;
}

// 5.0 MQTT-4.12.0-7, MQTT-4.12.0-6 (§4.12: AUTH from a client that gave no Authentication
// Method is a Protocol Error): the server closes the connection, after DISCONNECT 0x82 if it
// sends one, and never answers with AUTH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_auth_without_an_authentication_method_is_a_protocol_error() {
    let b = broker().await;
    let mut c = Client::connected(b.addr, V5, &client_id("noauth")).await;
    c.send(&auth(ReasonCode::RE_AUTHENTICATE, None)).await;
    c.expect_closed_with(&[ReasonCode::PROTOCOL_ERROR]).await;
}

// 5.0 MQTT-4.12.0-2, MQTT-4.12.0-5, MQTT-3.15.2-1: the reference broker answers a CONNECT with
// method MQTTSPEC-CHALLENGE with AUTH 0x18 carrying a nonce; the client's AUTH 0x18 with the
// nonce reversed earns CONNACK 0x00, which names the method again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_challenge_authentication_succeeds_with_the_reversed_nonce() {
    let Some(b) = embedded(
        "v5_challenge_authentication_succeeds_with_the_reversed_nonce",
        Config::default(),
    )
    .await
    else {
        return;
    };
    let mut c = authenticated(&b, "chal").await;
    c.ping().await;
    c.disconnect().await;
}

// 5.0 MQTT-4.12.0-4: the server may reject the authentication at any step with a CONNACK of
// 0x80 or above, and closes the connection: a wrong answer to the challenge gets 0x87.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_challenge_authentication_with_a_wrong_answer_is_refused_with_0x87() {
    let Some(b) = embedded(
        "v5_challenge_authentication_with_a_wrong_answer_is_refused_with_0x87",
        Config::default(),
    )
    .await
    else {
        return;
    };
    let mut connect = connect_packet(V5, &client_id("chalbad"));
    connect
        .properties
        .push(Property::AuthenticationMethod(METHOD.into()));
    let mut c = Client::start(b.addr, connect).await;
    let nonce = challenge(&mut c).await;
    // The nonce itself, not reversed (unless it is a palindrome: then something else).
    let wrong = if reversed(&nonce) == nonce {
        Bytes::from_static(b"wrong")
    } else {
        nonce
    };
    c.send(&auth(ReasonCode::CONTINUE_AUTHENTICATION, Some(wrong)))
        .await;
    c.expect_refused(&[ReasonCode::NOT_AUTHORIZED], false).await;
}

// 5.0 MQTT-4.12.1-1, MQTT-4.12.0-5: after connecting with the method, the client re-
// authenticates with AUTH 0x19 naming it; the server challenges again (AUTH 0x18) and answers
// the right response with AUTH 0x00; the connection carries on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_reauthentication_succeeds_with_auth_0x00() {
    let Some(b) = embedded(
        "v5_reauthentication_succeeds_with_auth_0x00",
        Config::default(),
    )
    .await
    else {
        return;
    };
    let mut c = authenticated(&b, "reauth").await;
    c.send(&auth(ReasonCode::RE_AUTHENTICATE, None)).await;
    let nonce = challenge(&mut c).await;
    c.send(&auth(
        ReasonCode::CONTINUE_AUTHENTICATION,
        Some(reversed(&nonce)),
    ))
    .await;
    match c.recv().await {
        Packet::Auth(a) => {
            assert_eq!(a.reason_code, ReasonCode::SUCCESS, "{a:?}");
            assert_eq!(
                a.properties
                    .authentication_method()
                    .as_ref()
                    .map(|m| m.as_str()),
                Some(METHOD),
                "{a:?}"
            );
        }
        other => panic!("expected AUTH 0x00, got {other:?}"),
    }
    c.ping().await;
    c.disconnect().await;
}

// 5.0 MQTT-4.12.1-2: if re-authentication fails the server closes the connection, after a
// DISCONNECT with an error reason code if it sends one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_failed_reauthentication_closes_the_connection() {
    let Some(b) = embedded(
        "v5_failed_reauthentication_closes_the_connection",
        Config::default(),
    )
    .await
    else {
        return;
    };
    let mut c = authenticated(&b, "reauthbad").await;
    c.send(&auth(ReasonCode::RE_AUTHENTICATE, None)).await;
    let nonce = challenge(&mut c).await;
    let wrong = if reversed(&nonce) == nonce {
        Bytes::from_static(b"wrong")
    } else {
        nonce
    };
    c.send(&auth(ReasonCode::CONTINUE_AUTHENTICATION, Some(wrong)))
        .await;
    if let Some(code) = c.expect_closed().await {
        assert!(code.is_error(), "DISCONNECT {code}");
    }
}
