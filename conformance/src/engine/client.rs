//! One test connection to the broker: writes what the scenario sends, decodes every packet
//! the broker sends with the strict codec, and records both in the case's transcript.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mqttspec_codec::{DecodeError, FixedHeader, Packet, PacketDecoder, ProtocolVersion, render};
use mqttspec_report::{Direction, TranscriptEntry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::oracle::{Conversation, Level, Violation};

/// Packets a broker may send before the harness calls it a flood and stops reading.
const FLOOD_LIMIT: usize = 10_000;
/// Largest packet the harness accepts from a broker.
const MAX_PACKET: u32 = 64 << 20;
/// Transcript entries kept per case, and hex bytes kept per entry.
const TRANSCRIPT_LIMIT: usize = 2_000;
const HEX_LIMIT: usize = 1_024;

/// What arrives on a connection.
#[derive(Debug)]
pub enum Incoming {
    Packet(Packet),
    /// The broker sent bytes that do not decode: itself a violation.
    Malformed(DecodeError),
    /// The broker closed the connection (or it failed).
    Closed(String),
    /// The broker sent more than [`FLOOD_LIMIT`] packets without being asked.
    Flood,
    /// The broker sent a packet larger than the Maximum Packet Size this client declared
    /// in its CONNECT (5.0: MQTT-3.1.2-24).
    TooLarge {
        packet_type: String,
        size: usize,
        max: u32,
    },
}

/// The transcript of one case, shared by its connections.
#[derive(Clone)]
pub struct Transcript {
    start: Instant,
    entries: Arc<Mutex<Vec<TranscriptEntry>>>,
}

impl Default for Transcript {
    fn default() -> Self {
        Transcript::new()
    }
}

impl Transcript {
    pub fn new() -> Self {
        Transcript {
            start: Instant::now(),
            entries: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub fn record(&self, client: &str, direction: Direction, bytes: &[u8], decoded: String) {
        self.record_prefix(client, direction, bytes, bytes.len(), decoded);
    }

    /// Records a packet of `total` bytes of which `bytes` is (at least) the start.
    fn record_prefix(
        &self,
        client: &str,
        direction: Direction,
        bytes: &[u8],
        total: usize,
        decoded: String,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= TRANSCRIPT_LIMIT {
            return;
        }
        let shown = bytes.get(..HEX_LIMIT).unwrap_or(bytes);
        let mut hex = render::hex(shown);
        if shown.len() < total {
            hex.push_str(&format!(" … ({total} bytes)"));
        }
        entries.push(TranscriptEntry {
            client: client.to_owned(),
            direction,
            offset_ms: self.start.elapsed().as_secs_f64() * 1000.0,
            hex,
            decoded,
        });
    }

    pub fn event(&self, client: &str, what: impl Into<String>) {
        self.record(client, Direction::Event, &[], what.into());
    }

    pub fn take(&self) -> Vec<TranscriptEntry> {
        std::mem::take(&mut *self.entries.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

pub struct Client {
    pub name: String,
    pub version: ProtocolVersion,
    writer: OwnedWriteHalf,
    incoming: mpsc::Receiver<Incoming>,
    reader: JoinHandle<()>,
    transcript: Transcript,
    closed: bool,
    /// What the connection's CONNECT changed in how the reader judges packets.
    expectations: Arc<ReaderExpectations>,
    /// What the server may send, given what this client sent (fed by both sides).
    conversation: Arc<Mutex<Conversation>>,
}

/// Set before CONNECT is sent, read by the reader task.
#[derive(Default)]
struct ReaderExpectations {
    /// The Maximum Packet Size declared in CONNECT (0: none).
    declared_max: AtomicU32,
    /// The CONNECT named a version the client does not speak: a CONNACK refusing it may
    /// come in either the 3.1.1 or the 5.0 layout.
    connack_any_layout: AtomicBool,
    /// The Protocol Level of the CONNECT written (0: none yet): the server answers in that
    /// version's layout, whatever the case's version.
    level: AtomicU8,
}

impl Client {
    pub async fn connect(
        name: &str,
        addr: &str,
        version: ProtocolVersion,
        transcript: &Transcript,
        timeout: Duration,
    ) -> Result<Client, String> {
        let socket = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| format!("connecting to {addr} timed out"))?
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = socket.set_nodelay(true);
        transcript.event(name, format!("connected to {addr}"));
        let (read, writer) = socket.into_split();
        let (tx, incoming) = mpsc::channel(FLOOD_LIMIT);
        let expectations = Arc::new(ReaderExpectations::default());
        let conversation = Arc::new(Mutex::new(Conversation::new()));
        let reader = tokio::spawn(read_loop(
            read,
            tx,
            name.to_owned(),
            version,
            transcript.clone(),
            expectations.clone(),
            conversation.clone(),
        ));
        Ok(Client {
            name: name.to_owned(),
            version,
            writer,
            incoming,
            reader,
            transcript: transcript.clone(),
            closed: false,
            expectations,
            conversation,
        })
    }

    /// What the server did wrong on this connection so far (see [`super::oracle`]).
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.conversation).violations().to_vec()
    }

    /// The version on the wire: the one the CONNECT sent names, else the case's.
    fn wire_version(&self) -> ProtocolVersion {
        ProtocolVersion::from_level(self.expectations.level.load(Ordering::SeqCst))
            .unwrap_or(self.version)
    }

    /// Tells the conversation (and through it the reader) what is about to be written.
    fn note_sent(&self, bytes: &[u8]) {
        let sent = lock(&self.conversation).sent(bytes);
        match sent.level {
            Some(Level::Known(v)) => self.expectations.level.store(v.level(), Ordering::SeqCst),
            Some(Level::Unknown(_)) => self.accept_connack_in_any_layout(),
            None => {}
        }
        if let Some(max) = sent.maximum_packet_size {
            self.declare_maximum_packet_size(max);
        }
    }

    /// From now on every packet larger than `max` bytes is a violation, not a packet: the
    /// client is about to send a CONNECT declaring this Maximum Packet Size.
    pub fn declare_maximum_packet_size(&self, max: u32) {
        self.expectations.declared_max.store(max, Ordering::SeqCst);
    }

    /// A CONNACK that does not decode in this connection's version is decoded in the other
    /// one (3.1.1 / 5.0): the client is about to send a CONNECT with a protocol level no
    /// version has, which a server may refuse in either layout.
    pub fn accept_connack_in_any_layout(&self) {
        self.expectations
            .connack_any_layout
            .store(true, Ordering::SeqCst);
    }

    pub async fn send(&mut self, bytes: &Bytes) -> Result<(), String> {
        self.note_sent(bytes);
        // Rendered as the reader decodes: in the version the CONNECT sent names.
        let decoded = render::bytes(bytes, self.wire_version());
        self.transcript
            .record(&self.name, Direction::Sent, bytes, decoded);
        self.writer
            .write_all(bytes)
            .await
            .map_err(|e| format!("write failed: {e}"))
    }

    /// Sends without recording each copy (repeated sends record one line).
    pub async fn send_quiet(&mut self, bytes: &Bytes) -> Result<(), String> {
        self.note_sent(bytes);
        self.writer
            .write_all(bytes)
            .await
            .map_err(|e| format!("write failed: {e}"))
    }

    /// The next thing that arrives, or `None` after `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Incoming> {
        if self.closed {
            return Some(Incoming::Closed("already closed".into()));
        }
        match tokio::time::timeout(within, self.incoming.recv()).await {
            Ok(Some(item)) => {
                if matches!(item, Incoming::Closed(_)) {
                    self.closed = true;
                }
                Some(item)
            }
            Ok(None) => {
                self.closed = true;
                Some(Incoming::Closed("connection closed".into()))
            }
            Err(_) => None,
        }
    }

    /// Closes our side without DISCONNECT.
    pub async fn drop_connection(mut self) {
        self.transcript
            .event(&self.name, "dropped by the client (no DISCONNECT)");
        let _ = self.writer.shutdown().await;
        self.reader.abort();
    }

    /// Closes our side after a DISCONNECT the caller already sent, then waits up to `within`
    /// for the broker to close its side.
    pub async fn close_and_wait(mut self, within: Duration) {
        let _ = self.writer.shutdown().await;
        let deadline = tokio::time::Instant::now() + within;
        while !self.closed {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || self.next(left).await.is_none() {
                break;
            }
        }
        self.reader.abort();
    }

    /// Closes after a DISCONNECT the caller already sent.
    pub async fn close(mut self) {
        let _ = self.writer.shutdown().await;
        self.reader.abort();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read_loop(
    mut read: tokio::net::tcp::OwnedReadHalf,
    tx: mpsc::Sender<Incoming>,
    name: String,
    version: ProtocolVersion,
    transcript: Transcript,
    expectations: Arc<ReaderExpectations>,
    conversation: Arc<Mutex<Conversation>>,
) {
    let mut decoder = PacketDecoder::new(version).with_max_packet_size(MAX_PACKET);
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        if let Some(v) = ProtocolVersion::from_level(expectations.level.load(Ordering::SeqCst))
            && v != decoder.version()
        {
            decoder.set_version(v);
        }
        loop {
            // The packet's extent, from its fixed header, so the transcript shows its bytes.
            let len = match FixedHeader::parse(&buf, decoder.version(), MAX_PACKET) {
                Ok(Some(h)) if buf.len() >= h.packet_len() => h.packet_len(),
                _ => 0,
            };
            let declared = expectations.declared_max.load(Ordering::SeqCst);
            if declared != 0
                && let Ok(Some(h)) = FixedHeader::parse(&buf, decoder.version(), MAX_PACKET)
                && h.packet_len() > declared as usize
            {
                let packet_type = h.packet_type.to_string();
                transcript.record_prefix(
                    &name,
                    Direction::Received,
                    buf.get(..buf.len().min(HEX_LIMIT)).unwrap_or_default(),
                    h.packet_len(),
                    format!(
                        "{packet_type} of {} bytes, over the Maximum Packet Size {declared} declared in CONNECT",
                        h.packet_len()
                    ),
                );
                lock(&conversation).too_large(&packet_type, h.packet_len(), declared);
                let _ = tx
                    .send(Incoming::TooLarge {
                        packet_type,
                        size: h.packet_len(),
                        max: declared,
                    })
                    .await;
                return;
            }
            let head = buf.get(..len.min(HEX_LIMIT)).unwrap_or_default().to_vec();
            match decoder.decode(&mut buf) {
                Ok(Some(packet)) => {
                    transcript.record_prefix(
                        &name,
                        Direction::Received,
                        &head,
                        len,
                        render::packet(&packet),
                    );
                    lock(&conversation).received(&packet);
                    if tx.try_send(Incoming::Packet(packet)).is_err() {
                        transcript.event(
                            &name,
                            format!("more than {FLOOD_LIMIT} unread packets: flood"),
                        );
                        let _ = tx.send(Incoming::Flood).await;
                        return;
                    }
                }
                Ok(None) => break,
                Err(e)
                    if len > 0
                        && buf.first().is_some_and(|b| b >> 4 == 2)
                        && expectations.connack_any_layout.load(Ordering::SeqCst) =>
                {
                    let other = if decoder.version().is_v5() {
                        ProtocolVersion::V3_1_1
                    } else {
                        ProtocolVersion::V5
                    };
                    let bytes = buf.split_to(len).freeze();
                    match Packet::decode(&bytes, other) {
                        Ok(packet) => {
                            transcript.record(
                                &name,
                                Direction::Received,
                                &bytes,
                                format!("{} (in the {other} layout)", render::packet(&packet)),
                            );
                            lock(&conversation).received(&packet);
                            let _ = tx.send(Incoming::Packet(packet)).await;
                        }
                        Err(_) => {
                            transcript.record(
                                &name,
                                Direction::Received,
                                &bytes,
                                format!("undecodable: {e}"),
                            );
                            lock(&conversation).malformed(&e);
                            let _ = tx.send(Incoming::Malformed(e)).await;
                            return;
                        }
                    }
                }
                Err(e) => {
                    transcript.record(
                        &name,
                        Direction::Received,
                        &buf,
                        format!("undecodable: {e}"),
                    );
                    lock(&conversation).malformed(&e);
                    let _ = tx.send(Incoming::Malformed(e)).await;
                    return;
                }
            }
        }
        match read.read_buf(&mut buf).await {
            Ok(0) => {
                if !buf.is_empty() {
                    transcript.record(
                        &name,
                        Direction::Received,
                        &buf,
                        "incomplete packet at close".into(),
                    );
                }
                transcript.event(&name, "closed by the broker");
                let _ = tx
                    .send(Incoming::Closed("closed by the broker".into()))
                    .await;
                return;
            }
            Ok(_) => {}
            Err(e) => {
                transcript.event(&name, format!("connection error: {e}"));
                let _ = tx
                    .send(Incoming::Closed(format!("connection error: {e}")))
                    .await;
                return;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why the broker is not serving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Down {
    /// A new TCP connection is refused (or cannot be made): it crashed or stopped.
    Refused(String),
    /// It closed a new connection before answering its CONNECT.
    Dropped(String),
    /// It did not answer a CONNECT or a PINGREQ within the bound.
    Hang(String),
}

impl Down {
    /// `crash` or `hang`, for findings and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Down::Refused(_) | Down::Dropped(_) => "crash",
            Down::Hang(_) => "hang",
        }
    }
}

impl std::fmt::Display for Down {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Down::Refused(why) => write!(f, "the broker no longer accepts connections: {why}"),
            Down::Dropped(why) => {
                write!(
                    f,
                    "the broker closed a new connection without CONNACK: {why}"
                )
            }
            Down::Hang(what) => write!(f, "no {what}: the broker hangs"),
        }
    }
}

/// Who asks, in [`check_alive`].
pub struct AliveProbe<'a> {
    pub address: &'a str,
    pub version: ProtocolVersion,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Bound on each answer.
    pub within: Duration,
}

/// Is the broker still serving? A new connection sends CONNECT and, once accepted, PINGREQ;
/// each must be answered within the bound. A refusing CONNACK is an answer too
/// (credentials, quotas).
pub async fn check_alive(probe: &AliveProbe<'_>, transcript: &Transcript) -> Result<(), Down> {
    use mqttspec_codec::{Connect, Disconnect, MqttString, Properties, ReasonCode};
    const NAME: &str = "alive";
    let v = probe.version;
    let mut c = Client::connect(NAME, probe.address, v, transcript, probe.within)
        .await
        .map_err(Down::Refused)?;
    let connect = Packet::Connect(Connect {
        protocol: v,
        clean_start: true,
        keep_alive: 30,
        properties: Properties::new(),
        client_id: MqttString::from(probe.client_id.as_str()),
        will: None,
        username: probe.username.as_deref().map(MqttString::from),
        password: probe.password.clone().map(Bytes::from),
    });
    let bytes = connect
        .to_bytes(v)
        .map_err(|e| Down::Refused(format!("cannot encode CONNECT: {e}")))?;
    c.send(&bytes).await.map_err(Down::Dropped)?;
    let within_ms = probe.within.as_millis();
    match c.next(probe.within).await {
        None => {
            return Err(Down::Hang(format!(
                "CONNACK to a new connection's CONNECT within {within_ms} ms"
            )));
        }
        Some(Incoming::Packet(Packet::ConnAck(a))) if a.reason_code != ReasonCode::SUCCESS => {
            return Ok(());
        }
        Some(Incoming::Packet(Packet::ConnAck(_))) => {}
        Some(Incoming::Closed(why)) => return Err(Down::Dropped(why)),
        // Anything else answers too: the broker is alive (the oracle judges the rest).
        Some(_) => return Ok(()),
    }
    let ping = Packet::PingReq
        .to_bytes(v)
        .map_err(|e| Down::Refused(format!("cannot encode PINGREQ: {e}")))?;
    c.send(&ping).await.map_err(Down::Dropped)?;
    let deadline = tokio::time::Instant::now() + probe.within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match c.next(left).await {
            None => {
                return Err(Down::Hang(format!(
                    "PINGRESP to a PINGREQ within {within_ms} ms"
                )));
            }
            Some(Incoming::Packet(Packet::PingResp)) => break,
            Some(Incoming::Packet(_)) => {}
            Some(Incoming::Closed(why)) => return Err(Down::Dropped(why)),
            Some(_) => break,
        }
    }
    if let Ok(bye) = Packet::Disconnect(Disconnect::new(ReasonCode(0))).to_bytes(v) {
        let _ = c.send(&bye).await;
    }
    c.close().await;
    Ok(())
}
