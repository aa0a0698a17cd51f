//! Keep Alive: PINGREQ/PINGRESP, the server closing silent clients, 5.0 Server Keep Alive.

use std::time::Duration;

use mqttspec_broker::Config;
use mqttspec_codec::{Packet, ProtocolVersion, ReasonCode};
use tokio::time::Instant;

use crate::support::*;

/// Why Keep Alive timing is not checked against an external broker.
pub const MOSQUITTO_KEEP_ALIVE: &str = "MQTT-3.1.2-24 (3.1.1) / MQTT-3.1.2-22 (5.0): Mosquitto \
     2.0.11 enforces Keep Alive irregularly, with whole-second clocks: of 8 silent clients with \
     Keep Alive 1 s, 7 were still connected after 6 s";

// 3.1.1 MQTT-3.12.4-1; 5.0 MQTT-3.12.4-1: the server answers PINGREQ with PINGRESP.
async fn pingreq_is_answered_with_pingresp(v: ProtocolVersion) {
    let b = broker().await;
    let mut c = Client::connected(b.addr, v, &client_id("ping")).await;
    for _ in 0..3 {
        c.send(&Packet::PingReq).await;
        match c.recv().await {
            Packet::PingResp => {}
            other => panic!("expected PINGRESP, got {other:?}"),
        }
    }
    c.disconnect().await;
}
both_versions!(pingreq_is_answered_with_pingresp);

// 3.1.1 MQTT-3.1.2-24; 5.0 MQTT-3.1.2-22, MQTT-3.2.2-22: with Keep Alive 1 s and no Server
// Keep Alive, a client that sends nothing is disconnected once 1.5 s have passed (5.0:
// optionally after DISCONNECT 0x8D Keep Alive timeout), and not while it is within its
// Keep Alive.
async fn silent_client_is_disconnected_after_one_and_a_half_keep_alive(v: ProtocolVersion) {
    if skip_external(
        "silent_client_is_disconnected_after_one_and_a_half_keep_alive",
        MOSQUITTO_KEEP_ALIVE,
    ) {
        return;
    }
    let b = broker().await;
    let connected = Instant::now();
    let (mut c, ack) = Client::connected_with(b.addr, v, &client_id("silent"), |c| {
        c.keep_alive = 1;
    })
    .await;
    if let Some(server) = ack.properties.server_keep_alive() {
        eprintln!("the broker set Server Keep Alive {server}: nothing to check");
        return;
    }
    c.expect_no_packet(Duration::from_millis(900)).await;
    c.expect_closed_with(&[ReasonCode::KEEP_ALIVE_TIMEOUT])
        .await;
    let after = connected.elapsed();
    assert!(
        after >= Duration::from_millis(1400),
        "closed after {after:?}, before 1.5 x Keep Alive"
    );
}
both_versions!(silent_client_is_disconnected_after_one_and_a_half_keep_alive);

// 3.1.1 MQTT-3.1.2-24, MQTT-3.1.2-23; 5.0 MQTT-3.1.2-22, MQTT-3.1.2-20: a client that sends
// PINGREQ within its Keep Alive stays connected well past 1.5 times it.
async fn pingreq_keeps_an_idle_client_connected(v: ProtocolVersion) {
    let b = broker().await;
    let (mut c, _) = Client::connected_with(b.addr, v, &client_id("pinger"), |c| {
        c.keep_alive = 1;
    })
    .await;
    for _ in 0..4 {
        c.expect_no_packet(Duration::from_millis(600)).await;
        c.ping().await;
    }
    c.disconnect().await;
}
both_versions!(pingreq_keeps_an_idle_client_connected);

// 5.0 MQTT-3.2.2-21, MQTT-3.1.2-21, MQTT-3.1.2-22: a server configured with a Server Keep
// Alive sends it in CONNACK, and that value, not the client's, is the one it enforces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v5_server_keep_alive_is_announced_in_connack_and_enforced() {
    let config = Config {
        server_keep_alive: Some(1),
        ..Config::default()
    };
    let Some(b) = embedded(
        "v5_server_keep_alive_is_announced_in_connack_and_enforced",
        config,
    )
    .await
    else {
        return;
    };
    let (mut c, ack) = Client::connected_with(b.addr, V5, &client_id("ska"), |c| {
        c.keep_alive = 60;
    })
    .await;
    assert_eq!(ack.properties.server_keep_alive(), Some(1), "{ack:?}");
    c.expect_closed_with(&[ReasonCode::KEEP_ALIVE_TIMEOUT])
        .await;
}
