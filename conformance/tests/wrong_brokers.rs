//! The engine against deliberately wrong brokers: each misbehaviour gets the right outcome
//! and statement, and the run ends within its bound whatever the broker does.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use mqttspec::engine::{self, RunConfig};
use mqttspec::scenario::Catalog;
use mqttspec_codec::{
    ConnAck, Disconnect, MqttString, Packet, PacketDecoder, Property, ProtocolVersion, PublishAck,
    ReasonCode,
};
use mqttspec_report::{Outcome, RunResults};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How a fake broker misbehaves.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Answers QoS 2 PUBLISH with PUBACK instead of PUBREC; otherwise fine.
    PubAckForQoS2,
    /// Accepts connections and reads, never writes.
    Silent,
    /// Sends CONNACK, then closes.
    CloseAfterConnAck,
    /// Sends CONNACK, then PINGRESPs without end.
    Flood,
    /// Answers every packet after CONNECT with a PUBLISH that has both QoS bits set.
    Garbage,
    /// Closes on a malformed packet with a DISCONNECT whose long Reason String ignores the
    /// client's Maximum Packet Size.
    VerboseDisconnect,
}

async fn serve(listener: TcpListener, fault: Fault) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(connection(socket, fault));
    }
}

async fn connection(mut socket: TcpStream, fault: Fault) {
    let mut decoder = PacketDecoder::new(ProtocolVersion::V5);
    let mut buf = BytesMut::new();
    loop {
        let packet = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(p)) => break p,
                Ok(None) => {}
                Err(e) => {
                    if let Fault::VerboseDisconnect = fault {
                        let mut d = Disconnect::new(ReasonCode::MALFORMED_PACKET);
                        d.properties
                            .push(Property::ReasonString(MqttString::from(format!(
                                "{e}: {e}"
                            ))));
                        let bytes = Packet::Disconnect(d).to_bytes(ProtocolVersion::V5);
                        let _ = socket.write_all(&bytes.expect("encodes")).await;
                    }
                    return;
                }
            }
            match socket.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let v = decoder.version();
        let reply: Vec<Packet> = match (fault, packet) {
            (Fault::Silent, _) => continue,
            (_, Packet::Connect(_)) => vec![Packet::ConnAck(ConnAck::default())],
            (Fault::CloseAfterConnAck, _) => return,
            (Fault::Flood, _) => {
                let ping = Packet::PingResp.to_bytes(v).expect("encodes").repeat(1000);
                loop {
                    if socket.write_all(&ping).await.is_err() {
                        return;
                    }
                }
            }
            (Fault::Garbage, _) => {
                let _ = socket
                    .write_all(&[0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01])
                    .await;
                continue;
            }
            (Fault::PubAckForQoS2, Packet::Publish(p)) if p.qos.as_u8() > 0 => {
                vec![Packet::PubAck(PublishAck::new(p.packet_id))]
            }
            (Fault::PubAckForQoS2, Packet::PingReq) => vec![Packet::PingResp],
            (Fault::PubAckForQoS2 | Fault::VerboseDisconnect, _) => vec![],
        };
        for p in reply {
            if socket
                .write_all(&p.to_bytes(v).expect("encodes"))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

async fn run_against(fault: Fault, filters: &[&str]) -> (RunResults, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = tokio::spawn(serve(listener, fault));
    let catalog: Catalog = mqttspec::builtin::catalog().expect("built-in scenarios load");
    let mut config = RunConfig::new(addr);
    config.filters = filters.iter().map(|s| s.to_string()).collect();
    config.case_timeout = Duration::from_secs(8);
    config.run_timeout = Duration::from_secs(20);
    let started = Instant::now();
    let results = engine::run(&catalog, &config, |_| {})
        .await
        .expect("reachable");
    server.abort();
    (results, started.elapsed())
}

#[tokio::test]
async fn puback_for_qos2_fails_the_qos2_flow_with_its_statement() {
    let (results, _) = run_against(Fault::PubAckForQoS2, &["publish/qos2/inbound-flow"]).await;
    assert_eq!(results.cases.len(), 2);
    for case in &results.cases {
        assert_eq!(case.outcome, Outcome::Fail, "{case:#?}");
        assert_eq!(case.step, Some(3), "the expect of PUBREC");
        assert!(
            case.actual
                .as_deref()
                .is_some_and(|a| a.starts_with("PUBACK")),
            "{case:#?}"
        );
        assert_eq!(case.failed_statement.as_deref(), Some("MQTT-3.3.4-1"));
        assert!(
            case.transcript
                .iter()
                .any(|t| t.decoded.starts_with("PUBACK"))
        );
    }
    // The QoS 1 flow of the same broker is fine: verdicts are per case.
    let (results, _) = run_against(Fault::PubAckForQoS2, &["publish/qos1/puback"]).await;
    assert!(
        results.cases.iter().all(|c| c.outcome == Outcome::Pass),
        "{:#?}",
        results.cases
    );
}

#[tokio::test]
async fn a_silent_broker_times_out_every_case_within_the_bound() {
    let (results, took) = run_against(Fault::Silent, &["publish/qos1/puback", "ping"]).await;
    assert_eq!(results.cases.len(), 4);
    for case in &results.cases {
        assert_eq!(case.outcome, Outcome::Timeout, "{case:#?}");
        assert!(
            case.message
                .as_deref()
                .is_some_and(|m| m.contains("nothing arrived")),
            "{case:#?}"
        );
    }
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(!engine::passed(&results));
}

#[tokio::test]
async fn a_broker_closing_after_connack_fails_with_the_close_reported() {
    let (results, _) = run_against(Fault::CloseAfterConnAck, &["ping/pingreq-gets-pingresp"]).await;
    for case in &results.cases {
        assert_eq!(case.outcome, Outcome::Fail, "{case:#?}");
        assert!(
            case.message
                .as_deref()
                .is_some_and(|m| m.contains("closed by the broker")),
            "{case:#?}"
        );
        assert_eq!(case.statements[0].id, "MQTT-3.12.4-1");
    }
}

#[tokio::test]
async fn a_flooding_broker_is_cut_off_and_the_run_ends() {
    let (results, took) = run_against(Fault::Flood, &["publish/qos1/puback"]).await;
    for case in &results.cases {
        assert_eq!(case.outcome, Outcome::Fail, "{case:#?}");
    }
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[tokio::test]
async fn a_malformed_packet_from_the_broker_fails_with_the_rule_it_breaks() {
    let (results, _) = run_against(Fault::Garbage, &["ping/pingreq-gets-pingresp"]).await;
    for case in &results.cases {
        assert_eq!(case.outcome, Outcome::Fail, "{case:#?}");
        assert_eq!(
            case.failed_statement.as_deref(),
            Some("MQTT-3.3.1-4"),
            "{case:#?}"
        );
        assert!(
            case.message
                .as_deref()
                .is_some_and(|m| m.contains("malformed packet")),
            "{case:#?}"
        );
    }
}

#[tokio::test]
async fn a_packet_over_the_declared_maximum_packet_size_fails_with_mqtt_3_1_2_24() {
    let (results, _) = run_against(
        Fault::VerboseDisconnect,
        &["disconnect/v5-fits-maximum-packet-size"],
    )
    .await;
    assert_eq!(results.cases.len(), 1);
    let case = &results.cases[0];
    assert_eq!(case.outcome, Outcome::Fail, "{case:#?}");
    assert_eq!(
        case.failed_statement.as_deref(),
        Some("MQTT-3.1.2-24"),
        "{case:#?}"
    );
    assert!(
        case.message
            .as_deref()
            .is_some_and(|m| m.contains("over the Maximum Packet Size of 64 bytes")),
        "{case:#?}"
    );
}

#[tokio::test]
async fn an_unreachable_broker_is_a_run_error() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    let catalog = mqttspec::builtin::catalog().expect("loads");
    let err = engine::run(&catalog, &RunConfig::new(addr), |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unreachable"), "{err}");
}
