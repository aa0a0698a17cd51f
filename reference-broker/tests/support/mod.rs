//! The test harness: which broker to test, and a raw MQTT client over TCP and the codec.
//!
//! * **Target.** With `MQTTSPEC_BROKER_ADDR=host:port` set, every test that needs no special
//!   configuration talks to that broker (tests share it, so client ids and topics are unique
//!   per test and per run); otherwise each test starts its own embedded broker with
//!   `Config::default()`. Tests that need a specific configuration always start their own
//!   embedded broker and are skipped against an external one ([`embedded`]).
//! * **Client.** [`Client`] sends exactly the packets a test builds (or raw bytes) and
//!   decodes what the broker sends with the strict codec, so a broker that sends a malformed
//!   packet fails the test. Every wait is bounded ([`WAIT`]); nothing sleeps to wait for an
//!   event.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use mqttspec_broker::{BrokerHandle, Config};
use mqttspec_codec::{
    ConnAck, Connect, Disconnect, MqttString, Packet, PacketDecoder, Properties, Property,
    ProtocolVersion, Publish, PublishAck, QoS, ReasonCode, SubAck, Subscribe, Subscription,
    UnsubAck, Unsubscribe,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

pub use mqttspec_codec::ProtocolVersion::{V3_1_1 as V311, V5};

/// The longest any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(3);
/// How long "nothing more arrives" is watched for, where no later event can prove it.
pub const QUIET: Duration = Duration::from_millis(300);

pub const ENV: &str = "MQTTSPEC_BROKER_ADDR";

// ---------------------------------------------------------------------------------------
// Target broker
// ---------------------------------------------------------------------------------------

/// The external broker named by `MQTTSPEC_BROKER_ADDR`, if any.
pub fn external() -> Option<SocketAddr> {
    static ADDR: OnceLock<Option<SocketAddr>> = OnceLock::new();
    *ADDR.get_or_init(|| {
        let value = std::env::var(ENV).ok()?;
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let addr = value
            .to_socket_addrs()
            .unwrap_or_else(|e| panic!("{ENV}={value:?}: {e}"))
            .next()
            .unwrap_or_else(|| panic!("{ENV}={value:?} resolves to no address"));
        Some(addr)
    })
}

/// The broker a test talks to. Holds the embedded broker (if any) for the test's lifetime.
pub struct Broker {
    pub addr: SocketAddr,
    handle: Option<BrokerHandle>,
}

impl Broker {
    pub fn is_external(&self) -> bool {
        self.handle.is_none()
    }

    /// Stops an embedded broker (an external one is left alone).
    pub async fn shutdown(self) {
        if let Some(handle) = self.handle {
            handle.shutdown().await;
        }
    }
}

/// The external broker, or a fresh embedded one with the default configuration.
pub async fn broker() -> Broker {
    match external() {
        Some(addr) => Broker { addr, handle: None },
        None => start_embedded(Config::default()).await,
    }
}

/// An embedded broker with `config`; `None` (the test is skipped, with a note) when the
/// suite targets an external broker, whose configuration the test cannot choose.
pub async fn embedded(test: &str, config: Config) -> Option<Broker> {
    if let Some(addr) = external() {
        eprintln!(
            "skipped {test}: needs an embedded broker with a specific configuration ({ENV}={addr})"
        );
        return None;
    }
    Some(start_embedded(config).await)
}

async fn start_embedded(config: Config) -> Broker {
    let handle = timeout(WAIT, mqttspec_broker::start(config))
        .await
        .expect("the embedded broker starts in time")
        .expect("the embedded broker starts");
    Broker {
        addr: handle.local_addr(),
        handle: Some(handle),
    }
}

/// True (with a note) when the suite targets an external broker and this test must not run
/// there: `why` names the statement and what the known external broker does instead.
pub fn skip_external(test: &str, why: &str) -> bool {
    match external() {
        Some(addr) => {
            eprintln!("skipped {test} against {addr}: {why}");
            true
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------
// Unique names
// ---------------------------------------------------------------------------------------

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Five characters that differ from run to run (an external broker keeps retained messages
/// and sessions between runs).
fn run_tag() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        base36(nanos ^ (u64::from(std::process::id()) << 20), 5)
    })
}

fn next_serial() -> u64 {
    static SERIAL: AtomicU32 = AtomicU32::new(0);
    u64::from(SERIAL.fetch_add(1, Ordering::Relaxed))
}

/// A client identifier unique to this run: up to 8 letters of `tag`, then the run tag and a
/// serial. At most 23 characters, all alphanumeric, so every server must accept it
/// (MQTT-3.1.3-5).
pub fn client_id(tag: &str) -> String {
    let tag: String = tag
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!("{tag}{}{}", run_tag(), base36(next_serial(), 4))
}

/// A topic name unique to this run, under `mqttspec/`.
pub fn topic(tag: &str) -> String {
    format!("mqttspec/{}/{}/{tag}", run_tag(), base36(next_serial(), 4))
}

// ---------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------

/// Why no packet was received.
#[derive(Debug)]
pub enum RecvError {
    /// Nothing arrived in time; the connection is still open.
    Timeout,
    /// The broker closed the connection (end of stream or reset).
    Closed(String),
    /// The broker sent bytes the codec refuses.
    Decode(String),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Timeout => write!(f, "no packet within the time allowed"),
            RecvError::Closed(how) => write!(f, "connection closed ({how})"),
            RecvError::Decode(e) => write!(f, "undecodable packet from the broker: {e}"),
        }
    }
}

/// A CONNECT with the suite's defaults: clean session/start, keep alive 60 s, no will.
pub fn connect_packet(version: ProtocolVersion, client_id: &str) -> Connect {
    Connect {
        protocol: version,
        clean_start: true,
        keep_alive: 60,
        properties: Properties::new(),
        client_id: client_id.into(),
        will: None,
        username: None,
        password: None,
    }
}

/// A raw MQTT connection.
pub struct Client {
    stream: TcpStream,
    buf: BytesMut,
    decoder: PacketDecoder,
    /// Packets read while waiting for another one, in arrival order.
    pending: VecDeque<Packet>,
    pub version: ProtocolVersion,
    pub client_id: String,
    next_id: u16,
    /// Topic Aliases the broker set up on this connection (5.0).
    aliases: HashMap<u16, MqttString>,
    /// Whether a successful CONNACK arrived (a 5.0 server may send DISCONNECT only after).
    connacked: bool,
}

impl Client {
    /// Opens a TCP connection and sends nothing.
    pub async fn open(addr: SocketAddr, version: ProtocolVersion) -> Client {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .unwrap_or_else(|_| panic!("TCP connect to {addr} timed out"))
            .unwrap_or_else(|e| panic!("TCP connect to {addr}: {e}"));
        stream.set_nodelay(true).ok();
        Client {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            // The protocol's ceiling: a too-large packet from the broker must reach the test.
            decoder: PacketDecoder::new(version).with_max_packet_size(268_435_460),
            pending: VecDeque::new(),
            version,
            client_id: String::new(),
            next_id: 0,
            aliases: HashMap::new(),
            connacked: false,
        }
    }

    /// Opens a connection and sends `connect`, without waiting for the answer.
    pub async fn start(addr: SocketAddr, connect: Connect) -> Client {
        let mut client = Client::open(addr, connect.protocol).await;
        client.client_id = connect.client_id.to_string();
        client.send(&Packet::Connect(connect)).await;
        client
    }

    /// Connects with the suite's CONNECT, edited by `edit`, and returns the CONNACK,
    /// whatever its reason code. Panics if the broker answers anything else.
    pub async fn connect(
        addr: SocketAddr,
        version: ProtocolVersion,
        client_id: &str,
        edit: impl FnOnce(&mut Connect),
    ) -> (Client, ConnAck) {
        let mut connect = connect_packet(version, client_id);
        edit(&mut connect);
        let mut client = Client::open(addr, version).await;
        client.client_id = connect.client_id.to_string();
        client.send(&Packet::Connect(connect)).await;
        match client.recv().await {
            Packet::ConnAck(ack) => (client, ack),
            other => panic!("{client_id}: expected CONNACK, got {other:?}"),
        }
    }

    /// Connects and requires success (reason code 0x00).
    pub async fn connected(addr: SocketAddr, version: ProtocolVersion, client_id: &str) -> Client {
        Client::connected_with(addr, version, client_id, |_| {})
            .await
            .0
    }

    /// Connects with an edited CONNECT and requires success.
    pub async fn connected_with(
        addr: SocketAddr,
        version: ProtocolVersion,
        client_id: &str,
        edit: impl FnOnce(&mut Connect),
    ) -> (Client, ConnAck) {
        let (client, ack) = Client::connect(addr, version, client_id, edit).await;
        assert_eq!(
            ack.reason_code,
            ReasonCode::SUCCESS,
            "{client_id}: CONNACK refused the connection: {ack:?}"
        );
        (client, ack)
    }

    pub fn next_packet_id(&mut self) -> u16 {
        self.next_id = self.next_id.wrapping_add(1);
        if self.next_id == 0 {
            self.next_id = 1;
        }
        self.next_id
    }

    // --- sending -----------------------------------------------------------------------

    pub async fn send(&mut self, packet: &Packet) {
        let bytes = packet
            .to_bytes(self.version)
            .unwrap_or_else(|e| panic!("cannot encode {packet:?}: {e}"));
        self.send_raw(&bytes).await;
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.try_send_raw(bytes)
            .await
            .unwrap_or_else(|e| panic!("{}: send failed: {e}", self.client_id));
    }

    /// Sends, reporting failure (the broker may already have closed the connection).
    pub async fn try_send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match timeout(WAIT, self.stream.write_all(bytes)).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "write timed out",
            )),
        }
    }

    // --- receiving ---------------------------------------------------------------------

    /// The next packet off the wire (not from `pending`).
    async fn read_packet(&mut self, deadline: Instant) -> Result<Packet, RecvError> {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(packet)) => {
                    if let Packet::ConnAck(ack) = &packet
                        && ack.reason_code == ReasonCode::SUCCESS
                    {
                        self.connacked = true;
                    }
                    return Ok(packet);
                }
                Ok(None) => {}
                Err(e) => {
                    let shown = &self.buf[..self.buf.len().min(64)];
                    return Err(RecvError::Decode(format!("{e}; bytes {shown:02x?}")));
                }
            }
            self.buf.reserve(16 * 1024);
            match timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Err(_) => return Err(RecvError::Timeout),
                Ok(Ok(0)) => return Err(RecvError::Closed("end of stream".into())),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(RecvError::Closed(e.to_string())),
            }
        }
    }

    /// The next packet, waiting at most `within`.
    pub async fn recv_within(&mut self, within: Duration) -> Result<Packet, RecvError> {
        if let Some(packet) = self.pending.pop_front() {
            return Ok(packet);
        }
        self.read_packet(Instant::now() + within).await
    }

    /// The next packet; panics if none arrives within [`WAIT`] or the connection closes.
    pub async fn recv(&mut self) -> Packet {
        match self.recv_within(WAIT).await {
            Ok(packet) => packet,
            Err(e) => panic!("{}: expected a packet: {e}", self.client_id),
        }
    }

    /// The first packet `select` accepts, keeping the others (in order) for later
    /// [`Client::recv`]s.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut select: impl FnMut(&Packet) -> Option<T>,
    ) -> T {
        if let Some(i) = self.pending.iter().position(|p| select(p).is_some())
            && let Some(packet) = self.pending.remove(i)
            && let Some(found) = select(&packet)
        {
            return found;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            match self.read_packet(deadline).await {
                Ok(packet) => match select(&packet) {
                    Some(found) => return found,
                    None => self.pending.push_back(packet),
                },
                Err(e) => panic!(
                    "{}: waiting for {what}: {e} (meanwhile received {:?})",
                    self.client_id, self.pending
                ),
            }
        }
    }

    /// Nothing arrives within `within`, and the connection stays open.
    pub async fn expect_no_packet(&mut self, within: Duration) {
        match self.recv_within(within).await {
            Err(RecvError::Timeout) => {}
            Ok(packet) => panic!("{}: expected no packet, got {packet:?}", self.client_id),
            Err(e) => panic!("{}: expected no packet: {e}", self.client_id),
        }
    }

    /// The broker closes the connection within [`WAIT`], sending nothing first except, on a
    /// 5.0 connection that was accepted, one DISCONNECT, whose reason code is returned.
    pub async fn expect_closed(&mut self) -> Option<ReasonCode> {
        let packets = self.closed().await;
        match packets.as_slice() {
            [] => None,
            [Packet::Disconnect(d)] if self.version.is_v5() => {
                assert!(
                    self.connacked,
                    "{}: DISCONNECT before a successful CONNACK (MQTT-3.14.0-1): {d:?}",
                    self.client_id
                );
                assert!(
                    !d.properties
                        .contains(mqttspec_codec::PropertyId::SessionExpiryInterval),
                    "{}: the server's DISCONNECT has a Session Expiry Interval (MQTT-3.14.2-2)",
                    self.client_id
                );
                Some(d.reason_code)
            }
            _ => panic!(
                "{}: expected the connection to close, got {packets:?} first",
                self.client_id
            ),
        }
    }

    /// Like [`Client::expect_closed`], and a DISCONNECT, if sent, has one of `codes`.
    pub async fn expect_closed_with(&mut self, codes: &[ReasonCode]) {
        if let Some(code) = self.expect_closed().await {
            assert!(
                codes.contains(&code),
                "{}: DISCONNECT {code}, expected one of {codes:?} or a plain close",
                self.client_id
            );
        }
    }

    /// The broker closes the connection without sending anything.
    pub async fn expect_closed_silently(&mut self) {
        let packets = self.closed().await;
        assert!(
            packets.is_empty(),
            "{}: expected a close without any packet, got {packets:?}",
            self.client_id
        );
    }

    /// The broker refuses the CONNECT: a CONNACK with one of `codes` (and Session Present
    /// 0), then a close; or, where `bare_close` allows it, a close with no CONNACK.
    pub async fn expect_refused(&mut self, codes: &[ReasonCode], bare_close: bool) {
        let packets = self.closed().await;
        match packets.as_slice() {
            [] => assert!(
                bare_close,
                "{}: closed without the CONNACK (one of {codes:?}) it must send",
                self.client_id
            ),
            [Packet::ConnAck(ack)] => {
                assert!(
                    codes.contains(&ack.reason_code),
                    "{}: CONNACK {}, expected one of {codes:?}",
                    self.client_id,
                    ack.reason_code
                );
                assert!(
                    !ack.session_present,
                    "{}: a refusing CONNACK has Session Present 1",
                    self.client_id
                );
            }
            _ => panic!(
                "{}: expected a refusal then a close, got {packets:?}",
                self.client_id
            ),
        }
    }

    /// Reads until the broker closes the connection; the packets that came first.
    pub async fn closed(&mut self) -> Vec<Packet> {
        let mut packets: Vec<Packet> = self.pending.drain(..).collect();
        let deadline = Instant::now() + WAIT;
        loop {
            match self.read_packet(deadline).await {
                Ok(packet) => packets.push(packet),
                Err(RecvError::Closed(_)) => return packets,
                Err(e) => panic!(
                    "{}: expected the connection to close: {e} (received {packets:?})",
                    self.client_id
                ),
            }
        }
    }

    /// Every byte until the broker closes the connection (for answers the codec's version
    /// cannot be known in advance).
    pub async fn read_to_close(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + WAIT;
        let mut bytes = self.buf.split().to_vec();
        loop {
            let mut chunk = [0u8; 4096];
            match timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => panic!(
                    "{}: the connection is still open (received {bytes:02x?})",
                    self.client_id
                ),
                Ok(Ok(0)) | Ok(Err(_)) => return bytes,
                Ok(Ok(n)) => bytes.extend_from_slice(&chunk[..n]),
            }
        }
    }

    // --- publishing --------------------------------------------------------------------

    /// Publishes and completes the QoS flow; returns the PUBACK or PUBREC.
    pub async fn publish(
        &mut self,
        topic: &str,
        qos: QoS,
        payload: impl Into<Bytes>,
    ) -> Option<PublishAck> {
        self.publish_with(Publish::new(topic, qos, payload)).await
    }

    /// Publishes `publish` (a packet id is assigned if it has none) and completes the QoS
    /// flow: PUBACK, or PUBREC, PUBREL, PUBCOMP. Returns the PUBACK or PUBREC.
    pub async fn publish_with(&mut self, mut publish: Publish) -> Option<PublishAck> {
        if publish.qos != QoS::AtMostOnce && publish.packet_id == 0 {
            publish.packet_id = self.next_packet_id();
        }
        let id = publish.packet_id;
        let qos = publish.qos;
        self.send(&Packet::Publish(publish)).await;
        match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce => Some(
                self.wait_for("PUBACK", |p| match p {
                    Packet::PubAck(a) if a.packet_id == id => Some(a.clone()),
                    _ => None,
                })
                .await,
            ),
            QoS::ExactlyOnce => {
                let rec = self
                    .wait_for("PUBREC", |p| match p {
                        Packet::PubRec(a) if a.packet_id == id => Some(a.clone()),
                        _ => None,
                    })
                    .await;
                if !rec.reason_code.is_error() {
                    self.send(&Packet::PubRel(PublishAck::new(id))).await;
                    self.wait_for("PUBCOMP", |p| match p {
                        Packet::PubComp(a) if a.packet_id == id => Some(a.clone()),
                        _ => None,
                    })
                    .await;
                }
                Some(rec)
            }
        }
    }

    /// Subscribes to one filter at `qos`.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> SubAck {
        self.subscribe_with(Subscribe::new(0, vec![Subscription::new(filter, qos)]))
            .await
    }

    /// Subscribes and requires every filter to be granted; returns the granted QoS.
    pub async fn subscribe_ok(&mut self, filter: &str, qos: QoS) -> QoS {
        let ack = self.subscribe(filter, qos).await;
        granted(&ack, 0)
    }

    /// Sends `subscribe` (a packet id is assigned if it has none) and returns its SUBACK.
    pub async fn subscribe_with(&mut self, mut subscribe: Subscribe) -> SubAck {
        if subscribe.packet_id == 0 {
            subscribe.packet_id = self.next_packet_id();
        }
        let id = subscribe.packet_id;
        self.send(&Packet::Subscribe(subscribe)).await;
        self.wait_for("SUBACK", |p| match p {
            Packet::SubAck(a) if a.packet_id == id => Some(a.clone()),
            _ => None,
        })
        .await
    }

    pub async fn unsubscribe(&mut self, filters: &[&str]) -> UnsubAck {
        let id = self.next_packet_id();
        let filters = filters.iter().map(|f| MqttString::from(*f)).collect();
        self.send(&Packet::Unsubscribe(Unsubscribe::new(id, filters)))
            .await;
        self.wait_for("UNSUBACK", |p| match p {
            Packet::UnsubAck(a) if a.packet_id == id => Some(a.clone()),
            _ => None,
        })
        .await
    }

    /// The next packet, which must be a PUBLISH; not acknowledged. On 5.0 a Topic Alias the
    /// broker uses is resolved: an empty topic is filled in from the mapping this connection
    /// set up (the property stays, for tests that check it).
    pub async fn recv_publish(&mut self) -> Publish {
        match self.recv().await {
            Packet::Publish(p) => self.resolve_alias(p),
            other => panic!("{}: expected PUBLISH, got {other:?}", self.client_id),
        }
    }

    fn resolve_alias(&mut self, mut p: Publish) -> Publish {
        if let Some(alias) = p.properties.topic_alias() {
            if p.topic.is_empty() {
                p.topic = self.aliases.get(&alias).cloned().unwrap_or_else(|| {
                    panic!(
                        "{}: PUBLISH uses Topic Alias {alias}, never set on this connection",
                        self.client_id
                    )
                });
            } else {
                self.aliases.insert(alias, p.topic.clone());
            }
        }
        p
    }

    /// Acknowledges a received PUBLISH: PUBACK, or PUBREC, PUBREL (awaited), PUBCOMP.
    pub async fn ack(&mut self, publish: &Publish) {
        let id = publish.packet_id;
        match publish.qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => self.send(&Packet::PubAck(PublishAck::new(id))).await,
            QoS::ExactlyOnce => {
                self.send(&Packet::PubRec(PublishAck::new(id))).await;
                self.wait_for("PUBREL", |p| match p {
                    Packet::PubRel(a) if a.packet_id == id => Some(()),
                    _ => None,
                })
                .await;
                self.send(&Packet::PubComp(PublishAck::new(id))).await;
            }
        }
    }

    /// The next PUBLISH, acknowledged.
    pub async fn recv_message(&mut self) -> Publish {
        let p = self.recv_publish().await;
        self.ack(&p).await;
        p
    }

    /// Messages (acknowledged) until one with payload `last`, which is included.
    pub async fn recv_until(&mut self, last: &[u8]) -> Vec<Publish> {
        let mut got = Vec::new();
        loop {
            let p = self.recv_message().await;
            let done = p.payload.as_ref() == last;
            got.push(p);
            if done {
                return got;
            }
        }
    }

    /// PINGREQ, and its PINGRESP.
    pub async fn ping(&mut self) {
        self.send(&Packet::PingReq).await;
        self.wait_for("PINGRESP", |p| matches!(p, Packet::PingResp).then_some(()))
            .await;
    }

    // --- closing -----------------------------------------------------------------------

    /// Sends DISCONNECT (reason 0x00) and waits until the broker has closed the connection,
    /// so the broker has processed it when this returns.
    pub async fn disconnect(self) {
        self.disconnect_with(Disconnect::default()).await;
    }

    pub async fn disconnect_with(mut self, disconnect: Disconnect) {
        self.send(&Packet::Disconnect(disconnect)).await;
        self.stream.shutdown().await.ok();
        let deadline = Instant::now() + WAIT;
        let mut sink = [0u8; 4096];
        loop {
            match timeout_at(deadline, self.stream.read(&mut sink)).await {
                Err(_) => panic!(
                    "{}: the broker kept the connection open after DISCONNECT",
                    self.client_id
                ),
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(_)) => {}
            }
        }
    }

    /// Closes the TCP connection without DISCONNECT: an abnormal close (wills fire).
    pub fn drop_connection(self) {
        drop(self);
    }
}

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/// The granted QoS of the `i`-th filter; panics on a failure code.
pub fn granted(ack: &SubAck, i: usize) -> QoS {
    let code = ack
        .reason_codes
        .get(i)
        .unwrap_or_else(|| panic!("SUBACK without a code for filter {i}: {ack:?}"));
    QoS::from_u8(code.0).unwrap_or_else(|| panic!("subscription {i} refused: {ack:?}"))
}

/// User Properties as owned pairs, in order.
pub fn user_properties(props: &Properties) -> Vec<(String, String)> {
    props
        .user_properties()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn user_property(key: &str, value: &str) -> Property {
    Property::UserProperty(key.into(), value.into())
}

/// A v5 Subscribe of one filter with explicit options and properties.
pub fn subscribe_packet(subscriptions: Vec<Subscription>, properties: Properties) -> Subscribe {
    Subscribe {
        packet_id: 0,
        properties,
        subscriptions,
    }
}

pub fn payloads(messages: &[Publish]) -> Vec<Bytes> {
    messages.iter().map(|p| p.payload.clone()).collect()
}
