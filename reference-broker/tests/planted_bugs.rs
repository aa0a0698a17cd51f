//! The planted bugs (cargo feature `planted-bugs`): each triggers on exactly its documented
//! input and nothing else, and without `--planted-bug` the same inputs are handled correctly.
//!
//! Every test runs the built `mqttspec-broker` binary as a child process (a crash must kill
//! the process, a hang must stall the whole broker), talks to it over loopback with the raw
//! codec client of `support`, and kills it when done ([`BrokerProcess`]'s `Drop`). Every
//! wait is bounded.

#![cfg(feature = "planted-bugs")]

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use mqttspec_codec::{
    Packet, Properties, Property, ProtocolVersion, Publish, PublishAck, QoS, ReasonCode,
};
use tokio::time::Instant;

use support::{Client, RecvError, V5, V311, WAIT, client_id, topic, user_property};

/// How long a stalled broker is watched for an answer that must not come.
const STALL: Duration = Duration::from_secs(1);

/// The broker binary, running; killed (SIGKILL) and reaped on drop.
struct BrokerProcess {
    child: Child,
    addr: SocketAddr,
}

impl BrokerProcess {
    /// Starts `mqttspec-broker --listen 127.0.0.1:0 [--planted-bug BUG]` and reads the
    /// address it prints.
    fn start(bug: Option<&str>) -> BrokerProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mqttspec-broker"));
        cmd.args(["--listen", "127.0.0.1:0"]);
        if let Some(bug) = bug {
            cmd.args(["--planted-bug", bug]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the broker binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut broker = BrokerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        // Read the first line on a thread, so the wait for it is bounded.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(WAIT)
            .expect("the broker prints its address in time");
        broker.addr = line
            .trim()
            .strip_prefix("mqttspec-broker listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the broker: {line:?}"));
        broker
    }

    /// The process's exit status, if it has exited.
    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Polls until the process exits, at most [`WAIT`].
    async fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the broker process is still running after {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The process is still running, and a new client is served.
    async fn assert_serving(&mut self, version: ProtocolVersion) {
        assert_eq!(self.exited(), None, "the broker process exited");
        let mut client = Client::connected(self.addr, version, &client_id("alive")).await;
        client.ping().await;
        client.disconnect().await;
    }
}

impl Drop for BrokerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The process died of SIGABRT (`std::process::abort`).
fn assert_aborted(status: ExitStatus) {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(6),
            "expected death by SIGABRT, got {status:?}"
        );
    }
    #[cfg(not(unix))]
    assert!(!status.success(), "expected a crash, got {status:?}");
}

fn publish_packet(topic: &str, qos: QoS, packet_id: u16, properties: Properties) -> Packet {
    Packet::Publish(Publish {
        packet_id,
        properties,
        ..Publish::new(topic, qos, "payload")
    })
}

fn alias(alias: u16) -> Properties {
    Properties::new().with(Property::TopicAlias(alias))
}

/// A QoS 1 PUBLISH with packet id `id`; the PUBACK that comes back, whatever its id.
async fn puback_for(client: &mut Client, topic: &str, id: u16, props: Properties) -> PublishAck {
    client
        .send(&publish_packet(topic, QoS::AtLeastOnce, id, props))
        .await;
    match client.recv().await {
        Packet::PubAck(ack) => ack,
        other => panic!("expected PUBACK for {id:#06x}, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// crash-on-empty-topic
// ---------------------------------------------------------------------------------------

/// The zero-length-topic PUBLISH each case sends on a connected client: 3.1.1 (malformed
/// there, MQTT-4.7.3-1), 5.0 with an established Topic Alias (valid), 5.0 without one
/// (Protocol Error, §3.3.2.3.4).
#[derive(Clone, Copy, Debug)]
enum EmptyTopic {
    V311,
    V5WithAlias,
    V5WithoutAlias,
}

/// Connects, checks a normal PUBLISH is acknowledged, then sends the zero-length-topic
/// PUBLISH. Returns the client, for the caller to watch.
async fn send_empty_topic(addr: SocketAddr, case: EmptyTopic) -> Client {
    let version = match case {
        EmptyTopic::V311 => V311,
        EmptyTopic::V5WithAlias | EmptyTopic::V5WithoutAlias => V5,
    };
    let mut client = Client::connected(addr, version, &client_id("empty")).await;
    let t = topic("empty");
    // A normal PUBLISH (with a Topic Alias set up on 5.0) is acknowledged.
    let props = if version.is_v5() {
        alias(1)
    } else {
        Properties::new()
    };
    let ack = puback_for(&mut client, &t, 1, props).await;
    assert_eq!((ack.packet_id, ack.reason_code), (1, ReasonCode::SUCCESS));
    let props = match case {
        EmptyTopic::V5WithAlias => alias(1),
        _ => Properties::new(),
    };
    client
        .send(&publish_packet("", QoS::AtLeastOnce, 2, props))
        .await;
    client
}

async fn crashes_on_empty_topic(case: EmptyTopic) {
    let mut broker = BrokerProcess::start(Some("crash-on-empty-topic"));
    let mut client = send_empty_topic(broker.addr, case).await;
    // The process dies: the connection closes with nothing sent, and the exit is SIGABRT.
    assert!(
        client.closed().await.is_empty(),
        "{case:?}: a packet before the crash"
    );
    assert_aborted(broker.wait_exit().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_on_empty_topic_v311() {
    crashes_on_empty_topic(EmptyTopic::V311).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_on_empty_topic_v5_with_topic_alias() {
    crashes_on_empty_topic(EmptyTopic::V5WithAlias).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_on_empty_topic_v5_without_topic_alias() {
    crashes_on_empty_topic(EmptyTopic::V5WithoutAlias).await;
}

/// With the bug planted, everything but a zero-length topic on an accepted connection is
/// handled correctly: normal PUBLISHes at every QoS, and a zero-length-topic PUBLISH sent
/// before CONNECT (the connection is closed, MQTT-3.1.0-1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_on_empty_topic_spares_other_input() {
    let mut broker = BrokerProcess::start(Some("crash-on-empty-topic"));
    for version in [V311, V5] {
        let mut client = Client::connected(broker.addr, version, &client_id("normal")).await;
        let t = topic("normal");
        client.publish(&t, QoS::AtMostOnce, "0").await;
        client.publish(&t, QoS::AtLeastOnce, "1").await;
        client.publish(&t, QoS::ExactlyOnce, "2").await;
        client.disconnect().await;

        let mut early = Client::open(broker.addr, version).await;
        early
            .send(&publish_packet("", QoS::AtMostOnce, 0, Properties::new()))
            .await;
        early.expect_closed_silently().await;
        broker.assert_serving(version).await;
    }
}

/// Without the bug, the same zero-length-topic PUBLISHes are handled as the spec says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_broker_handles_empty_topic() {
    let mut broker = BrokerProcess::start(None);

    // 3.1.1: malformed (MQTT-4.7.3-1), the connection is closed (§4.8).
    let mut client = send_empty_topic(broker.addr, EmptyTopic::V311).await;
    client.expect_closed_silently().await;
    broker.assert_serving(V311).await;

    // 5.0 with an established Topic Alias: valid, acknowledged.
    let mut client = send_empty_topic(broker.addr, EmptyTopic::V5WithAlias).await;
    match client.recv().await {
        Packet::PubAck(ack) => {
            assert_eq!((ack.packet_id, ack.reason_code), (2, ReasonCode::SUCCESS))
        }
        other => panic!("expected PUBACK, got {other:?}"),
    }
    client.disconnect().await;

    // 5.0 without a Topic Alias: the connection is closed, with DISCONNECT 0x82 or 0x81.
    let mut client = send_empty_topic(broker.addr, EmptyTopic::V5WithoutAlias).await;
    client
        .expect_closed_with(&[ReasonCode::PROTOCOL_ERROR, ReasonCode::MALFORMED_PACKET])
        .await;
    broker.assert_serving(V5).await;
}

// ---------------------------------------------------------------------------------------
// hang-on-property-flood
// ---------------------------------------------------------------------------------------

fn user_props(n: usize) -> Properties {
    let mut props = Properties::new();
    for i in 0..n {
        props.push(user_property(&format!("k{i}"), "v"));
    }
    props
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hang_on_property_flood() {
    let mut broker = BrokerProcess::start(Some("hang-on-property-flood"));
    let mut bystander = Client::connected(broker.addr, V5, &client_id("bystand")).await;
    let mut client = Client::connected(broker.addr, V5, &client_id("flood")).await;
    let t = topic("flood");

    // 64 User Properties: fine.
    let ack = puback_for(&mut client, &t, 1, user_props(64)).await;
    assert_eq!((ack.packet_id, ack.reason_code), (1, ReasonCode::SUCCESS));
    broker.assert_serving(V5).await;

    // 65: the broker stops serving everyone, but the process lives.
    client
        .send(&publish_packet(&t, QoS::AtLeastOnce, 2, user_props(65)))
        .await;
    client.expect_no_packet(STALL).await;
    // A new client's TCP connection is accepted (by the kernel), its CONNECT never answered.
    let mut fresh = Client::start(
        broker.addr,
        support::connect_packet(V5, &client_id("fresh")),
    )
    .await;
    match fresh.recv_within(STALL).await {
        Err(RecvError::Timeout) => {}
        other => panic!("a new client got an answer from a hung broker: {other:?}"),
    }
    // A client connected before the hang is not served either.
    bystander.send(&Packet::PingReq).await;
    bystander.expect_no_packet(STALL).await;
    assert_eq!(broker.exited(), None, "the hung broker process exited");
}

/// Without the bug, 65 User Properties are just 65 User Properties.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_broker_handles_property_flood() {
    let mut broker = BrokerProcess::start(None);
    let mut client = Client::connected(broker.addr, V5, &client_id("flood")).await;
    let t = topic("flood");
    let ack = puback_for(&mut client, &t, 2, user_props(65)).await;
    assert_eq!((ack.packet_id, ack.reason_code), (2, ReasonCode::SUCCESS));
    broker.assert_serving(V5).await;
    client.disconnect().await;
}

// ---------------------------------------------------------------------------------------
// wrong-puback-id
// ---------------------------------------------------------------------------------------

/// (packet id sent, packet id the PUBACK carries) for each version.
async fn puback_ids(bug: Option<&str>, cases: &[(u16, u16)]) {
    let broker = BrokerProcess::start(bug);
    let addr = broker.addr;
    for version in [V311, V5] {
        let mut client = Client::connected(addr, version, &client_id("puback")).await;
        let t = topic("puback");
        for &(sent, expected) in cases {
            let ack = puback_for(&mut client, &t, sent, Properties::new()).await;
            assert_eq!(
                ack.packet_id, expected,
                "{version:?} {bug:?}: PUBACK for {sent:#06x}"
            );
            assert_eq!(ack.reason_code, ReasonCode::SUCCESS);
        }
        // QoS 2 is not affected: PUBREC and PUBCOMP carry the id sent.
        client
            .publish_with(Publish {
                packet_id: 0x8002,
                ..Publish::new(t.as_str(), QoS::ExactlyOnce, "2")
            })
            .await;
        client.disconnect().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_puback_id() {
    puback_ids(
        Some("wrong-puback-id"),
        &[(0x8001, 0x0001), (7, 7), (0x7FFF, 0x7FFF), (0xFFFF, 0x7FFF)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_broker_puback_ids() {
    puback_ids(
        None,
        &[(0x8001, 0x8001), (7, 7), (0x7FFF, 0x7FFF), (0xFFFF, 0xFFFF)],
    )
    .await;
}

/// An unknown bug name is a usage error (exit code 2, the names listed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_planted_bug_is_refused() {
    let child = Command::new(env!("CARGO_BIN_EXE_mqttspec-broker"))
        .args(["--listen", "127.0.0.1:0", "--planted-bug", "no-such-bug"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the broker binary starts");
    let mut broker = BrokerProcess {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let status = broker.wait_exit().await;
    assert_eq!(status.code(), Some(2), "{status:?}");
    let mut stderr = String::new();
    if let Some(mut pipe) = broker.child.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut stderr).expect("stderr");
    }
    assert!(stderr.contains("wrong-puback-id"), "{stderr}");
}
