//! `mqttspec probe`: what the broker supports and its limits, under each protocol version,
//! every answer backed by the packets sent and received (kept as evidence).

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use mqttspec::engine::client::{Client, Incoming, Transcript};
use mqttspec_codec::properties::Property;
use mqttspec_codec::{
    ConnAck, Connect, MqttString, Packet, Properties, ProtocolVersion, Publish, QoS, ReasonCode,
    Subscribe, Subscription,
};
use mqttspec_report::Direction;
use serde::Serialize;

use crate::cli::ProbeArgs;

/// Bound on every answer awaited.
const WAIT: Duration = Duration::from_secs(5);
/// Characters of a rendered packet kept as evidence.
const EVIDENCE_CHARS: usize = 300;
/// Sizes tried when no Maximum Packet Size is advertised (bytes, whole packet).
const PACKET_SIZES: [usize; 2] = [1 << 20, 16 << 20];
const CLIENT_ID_LENGTHS: [usize; 5] = [23, 64, 256, 1024, 65535];
const TOPIC_LENGTHS: [usize; 5] = [64, 256, 1024, 4096, 65535];

/// The JSON document (`--json`): stable field names, answers in a fixed order.
#[derive(Serialize)]
pub struct ProbeReport {
    pub tool: String,
    pub broker: BrokerRef,
    pub answers: Vec<Answer>,
}

#[derive(Serialize)]
pub struct BrokerRef {
    pub address: String,
    pub launcher: String,
}

/// One thing learnt about the broker.
#[derive(Serialize)]
pub struct Answer {
    /// `3.1`, `3.1.1` or `5.0`.
    pub version: String,
    /// E.g. `maximum_qos`.
    pub name: String,
    /// `null` when the probe could not tell.
    pub value: serde_json::Value,
    /// How it was learnt, in words.
    pub note: String,
    /// The packets behind it: `-> SENT`, `<- RECEIVED`, `.. event`.
    pub evidence: Vec<String>,
}

pub fn main(args: ProbeArgs) -> ExitCode {
    let spawned = match crate::spawn(&args.target) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = crate::runtime().block_on(async {
        let (address, launcher, embedded) =
            match crate::connect_target(&args.target, &spawned).await {
                Ok(t) => t,
                Err(code) => return code,
            };
        let prober = Prober {
            address: address.clone(),
            username: args.username.clone(),
            password: args.password.clone(),
            prefix: format!("mqttspec/probe/{:x}", std::process::id()),
        };
        // Reachable at all?
        if let Err(e) = Client::connect(
            "probe",
            &address,
            ProtocolVersion::V3_1_1,
            &Transcript::new(),
            WAIT,
        )
        .await
        {
            eprintln!("mqttspec: broker unreachable: {e}");
            return ExitCode::from(crate::UNREACHABLE);
        }
        let answers = prober.all().await;
        if let Some(b) = embedded {
            b.shutdown().await;
        }
        let report = ProbeReport {
            tool: format!("mqttspec {}", env!("CARGO_PKG_VERSION")),
            broker: BrokerRef { address, launcher },
            answers,
        };
        print(&report, args.json);
        ExitCode::SUCCESS
    });
    if let Some(s) = &spawned {
        s.stop();
    }
    code
}

fn print(report: &ProbeReport, json: bool) {
    if json {
        match serde_json::to_string_pretty(report) {
            Ok(text) => outln!("{text}"),
            Err(e) => eprintln!("mqttspec: {e}"),
        }
        return;
    }
    outln!("{} ({})", report.broker.address, report.broker.launcher);
    outln!("{:<7} {:<32} {:<14} how", "version", "answer", "value");
    for a in &report.answers {
        let value = match &a.value {
            serde_json::Value::Null => "?".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        outln!("{:<7} {:<32} {:<14} {}", a.version, a.name, value, a.note);
    }
    outln!("(--json shows the packets behind every answer)");
}

fn reason(code: ReasonCode) -> String {
    format!("{:#04x} {}", code.0, code.name().unwrap_or("(unknown)"))
}

/// A payload making a QoS 1 PUBLISH to `topic` exactly `size` bytes long (or the smallest
/// possible, if `size` is smaller).
fn payload_for(v: ProtocolVersion, topic: &str, size: usize) -> Bytes {
    let build = |n: usize| {
        Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: MqttString::from(topic),
            packet_id: 1,
            properties: Properties::new(),
            payload: Bytes::from(vec![b'x'; n]),
        })
        .to_bytes(v)
        .map_or(0, |b| b.len())
    };
    let mut n = size.saturating_sub(build(0));
    // The Remaining Length field may grow with the payload: shrink to fit.
    while n > 0 && build(n) > size {
        n -= 1;
    }
    Bytes::from(vec![b'x'; n])
}

fn version_name(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::V3_1 => "3.1",
        ProtocolVersion::V3_1_1 => "3.1.1",
        ProtocolVersion::V5 => "5.0",
    }
}

/// One connection and the transcript it writes.
struct Conn {
    client: Client,
    transcript: Transcript,
    version: ProtocolVersion,
    next_id: u16,
}

impl Conn {
    async fn send(&mut self, p: Packet) -> Result<(), String> {
        let bytes = p.to_bytes(self.version).map_err(|e| e.to_string())?;
        self.client.send(&bytes).await
    }

    /// The next packet, skipping PUBLISHes unless `publishes`; `Err` on close or silence.
    async fn next(&mut self, within: Duration) -> Result<Packet, String> {
        match self.client.next(within).await {
            Some(Incoming::Packet(p)) => Ok(p),
            Some(Incoming::Closed(why)) => Err(why),
            Some(Incoming::Malformed(e)) => Err(format!("malformed packet: {e}")),
            Some(Incoming::Flood) => Err("flood".into()),
            Some(Incoming::TooLarge {
                packet_type,
                size,
                max,
            }) => Err(format!(
                "a {size}-byte {packet_type}, over the declared Maximum Packet Size {max}"
            )),
            None => Err(format!("nothing within {within:?}")),
        }
    }

    /// Waits for a packet `pick` accepts, ignoring others (e.g. `$SYS` publishes).
    async fn wait_for<T>(
        &mut self,
        mut pick: impl FnMut(&Packet) -> Option<T>,
    ) -> Result<T, String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(format!("nothing expected within {WAIT:?}"));
            }
            let p = self.next(left).await?;
            if let Some(t) = pick(&p) {
                return Ok(t);
            }
        }
    }

    async fn subscribe(
        &mut self,
        filter: &str,
        qos: QoS,
        props: Properties,
    ) -> Result<ReasonCode, String> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(Packet::Subscribe(Subscribe {
            packet_id: id,
            properties: props,
            subscriptions: vec![Subscription::new(filter, qos)],
        }))
        .await?;
        self.wait_for(|p| match p {
            Packet::SubAck(s) if s.packet_id == id => s.reason_codes.first().copied(),
            _ => None,
        })
        .await
    }

    /// A QoS 1 PUBLISH; `Ok(reason)` for its PUBACK, `Err` if closed (DISCONNECT noted).
    async fn publish_qos1(&mut self, topic: &str, payload: Bytes) -> Result<ReasonCode, String> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(Packet::Publish(Publish {
            dup: false,
            qos: QoS::AtLeastOnce,
            retain: false,
            topic: MqttString::from(topic),
            packet_id: id,
            properties: Properties::new(),
            payload,
        }))
        .await?;
        self.wait_for(|p| match p {
            Packet::PubAck(a) if a.packet_id == id => Some(Ok(a.reason_code)),
            Packet::Disconnect(d) => Some(Err(format!("DISCONNECT {:#04x}", d.reason_code.0))),
            _ => None,
        })
        .await?
    }

    async fn close(mut self) -> Vec<String> {
        let _ = self.send(Packet::Disconnect(Default::default())).await;
        self.client.close().await;
        evidence(&self.transcript)
    }
}

/// Closes the connection if there is one; the evidence of the whole exchange.
async fn finish(conn: Option<Conn>, t: &Transcript) -> Vec<String> {
    match conn {
        Some(conn) => conn.close().await,
        None => evidence(t),
    }
}

fn evidence(t: &Transcript) -> Vec<String> {
    t.take()
        .into_iter()
        .map(|e| {
            let arrow = match e.direction {
                Direction::Sent => "->",
                Direction::Received => "<-",
                Direction::Event => "..",
            };
            let mut text = e.decoded;
            if text.chars().count() > EVIDENCE_CHARS {
                text = text.chars().take(EVIDENCE_CHARS).collect::<String>() + "…";
            }
            format!("{arrow} {} {text}", e.client)
        })
        .collect()
}

struct Prober {
    address: String,
    username: Option<String>,
    password: Option<String>,
    prefix: String,
}

fn answer(
    v: ProtocolVersion,
    name: &str,
    value: impl Into<serde_json::Value>,
    note: impl Into<String>,
    evidence: Vec<String>,
) -> Answer {
    Answer {
        version: version_name(v).into(),
        name: name.into(),
        value: value.into(),
        note: note.into(),
        evidence,
    }
}

impl Prober {
    fn connect_packet(&self, v: ProtocolVersion, client_id: &str) -> Connect {
        Connect {
            protocol: v,
            clean_start: true,
            keep_alive: 60,
            properties: Properties::new(),
            client_id: MqttString::from(client_id),
            will: None,
            username: self.username.as_deref().map(MqttString::from),
            password: self
                .password
                .as_ref()
                .map(|p| Bytes::from(p.clone().into_bytes())),
        }
    }

    fn id(&self, v: ProtocolVersion, what: &str) -> String {
        format!("msp{}{}{}", std::process::id() % 100_000, v.level(), what)
    }

    /// Opens a connection and sends `connect`: the CONNACK (or why none), the connection
    /// if it was accepted, and the transcript (evidence once the connection is closed).
    async fn open(
        &self,
        v: ProtocolVersion,
        connect: Connect,
    ) -> (Result<ConnAck, String>, Option<Conn>, Transcript) {
        let transcript = Transcript::new();
        let client = match Client::connect("probe", &self.address, v, &transcript, WAIT).await {
            Ok(c) => c,
            Err(e) => return (Err(e), None, transcript),
        };
        let mut conn = Conn {
            client,
            transcript: transcript.clone(),
            version: v,
            next_id: 0,
        };
        if let Err(e) = conn.send(Packet::Connect(connect)).await {
            return (Err(e), None, transcript);
        }
        match conn.next(WAIT).await {
            Ok(Packet::ConnAck(c)) if c.reason_code.0 < 0x80 => (Ok(c), Some(conn), transcript),
            Ok(Packet::ConnAck(c)) => {
                conn.client.close().await;
                (Ok(c), None, transcript)
            }
            Ok(other) => (
                Err(format!(
                    "answered CONNECT with {}",
                    other.packet_type().name()
                )),
                None,
                transcript,
            ),
            Err(e) => (Err(e), None, transcript),
        }
    }

    /// Opens with the default CONNECT; `Err(evidence)` if refused.
    async fn session(
        &self,
        v: ProtocolVersion,
        what: &str,
    ) -> Result<(ConnAck, Conn), (String, Vec<String>)> {
        match self
            .open(v, self.connect_packet(v, &self.id(v, what)))
            .await
        {
            (Ok(c), Some(conn), _) => Ok((c, conn)),
            (Ok(c), None, t) => Err((
                format!("CONNECT refused: {}", reason(c.reason_code)),
                evidence(&t),
            )),
            (Err(e), _, t) => Err((e, evidence(&t))),
        }
    }

    /// Does a CONNECT at this protocol level get a successful CONNACK?
    async fn accepted(&self, v: ProtocolVersion) -> Answer {
        let (connack, conn, t) = self.open(v, self.connect_packet(v, &self.id(v, "v"))).await;
        let ev = finish(conn, &t).await;
        let (value, note) = match connack {
            Ok(c) if c.reason_code.0 == 0 => (true, "CONNACK success".to_owned()),
            Ok(c) => (false, format!("CONNACK {}", reason(c.reason_code))),
            Err(e) => (false, format!("no CONNACK: {e}")),
        };
        answer(v, "version_accepted", value, note, ev)
    }

    /// Everything else, under one version.
    async fn version(&self, v: ProtocolVersion) -> Vec<Answer> {
        let mut out = Vec::new();
        out.push(self.auth_required(v).await);
        if v == ProtocolVersion::V5 {
            out.push(self.challenge_auth(v).await);
        }
        let (connack, conn) = match self.session(v, "c").await {
            Ok(x) => x,
            Err((why, ev)) => {
                out.push(answer(v, "connect", false, why, ev));
                return out;
            }
        };
        let ev = conn.close().await;
        let p = &connack.properties;
        let v5 = v == ProtocolVersion::V5;
        if v5 {
            let advertised: [(&str, Option<u64>, &str); 3] = [
                (
                    "topic_alias_maximum",
                    p.topic_alias_maximum().map(u64::from),
                    "0 (absent: no topic aliases)",
                ),
                (
                    "receive_maximum",
                    p.receive_maximum().map(u64::from),
                    "65535 (absent)",
                ),
                (
                    "maximum_packet_size_advertised",
                    p.maximum_packet_size().map(u64::from),
                    "no limit advertised",
                ),
            ];
            for (name, value, absent) in advertised {
                out.push(match value {
                    Some(x) => answer(v, name, x, "CONNACK property", ev.clone()),
                    None => answer(
                        v,
                        name,
                        serde_json::Value::Null,
                        format!("CONNACK without it: {absent}"),
                        ev.clone(),
                    ),
                });
            }
        }
        out.push(self.maximum_qos(v, &connack).await);
        out.push(self.retain(v, &connack).await);
        out.push(
            self.sub_check(
                v,
                "wildcard",
                &format!("{}/+/w/#", self.prefix),
                Properties::new(),
                v5.then(|| p.wildcard_subscription_available()),
            )
            .await,
        );
        if v5 {
            out.push(
                self.sub_check(
                    v,
                    "shared_subscriptions",
                    &format!("$share/msp/{}/s", self.prefix),
                    Properties::new(),
                    Some(p.shared_subscription_available()),
                )
                .await,
            );
            let mut props = Properties::new();
            props.push(Property::SubscriptionIdentifier(7));
            out.push(
                self.sub_check(
                    v,
                    "subscription_identifiers",
                    &format!("{}/sid", self.prefix),
                    props,
                    Some(p.subscription_identifier_available()),
                )
                .await,
            );
            out.push(
                self.requested(
                    v,
                    "server_keep_alive",
                    |c| c.keep_alive = u16::MAX,
                    |a| a.properties.server_keep_alive().map(u64::from),
                    "requested 65535",
                )
                .await,
            );
            out.push(
                self.requested(
                    v,
                    "session_expiry_interval",
                    |c| c.properties.push(Property::SessionExpiryInterval(u32::MAX)),
                    |a| a.properties.session_expiry_interval().map(u64::from),
                    "requested 4294967295",
                )
                .await,
            );
        }
        out.push(self.packet_size(v, p.maximum_packet_size()).await);
        out.push(self.client_id_length(v).await);
        out.push(self.topic_length(v).await);
        out.push(self.sys_topics(v).await);
        out
    }

    /// 5.0 enhanced authentication (§4.12): does a CONNECT naming the `MQTTSPEC-CHALLENGE`
    /// method (the one scenarios can speak) get an AUTH 0x18 challenge?
    async fn challenge_auth(&self, v: ProtocolVersion) -> Answer {
        let method = mqttspec::engine::CHALLENGE_METHOD;
        let mut c = self.connect_packet(v, &self.id(v, "e"));
        c.properties =
            Properties::new().with(Property::AuthenticationMethod(MqttString::from(method)));
        let transcript = Transcript::new();
        let (value, note) = match Client::connect("probe", &self.address, v, &transcript, WAIT)
            .await
        {
            Err(e) => (serde_json::Value::Null, e),
            Ok(client) => {
                let mut conn = Conn {
                    client,
                    transcript: transcript.clone(),
                    version: v,
                    next_id: 0,
                };
                let got = match conn.send(Packet::Connect(c)).await {
                    Err(e) => Err(e),
                    Ok(()) => conn.next(WAIT).await,
                };
                conn.client.close().await;
                match got {
                    Ok(Packet::Auth(a)) if a.reason_code == ReasonCode::CONTINUE_AUTHENTICATION => {
                        (
                            true.into(),
                            format!("{method}: AUTH {}", reason(a.reason_code)),
                        )
                    }
                    Ok(Packet::ConnAck(a)) => (
                        false.into(),
                        format!("{method} refused: CONNACK {}", reason(a.reason_code)),
                    ),
                    Ok(other) => (
                        serde_json::Value::Null,
                        format!("answered with {}", other.packet_type().name()),
                    ),
                    Err(e) => (serde_json::Value::Null, e),
                }
            }
        };
        answer(v, "challenge_auth", value, note, evidence(&transcript))
    }

    async fn auth_required(&self, v: ProtocolVersion) -> Answer {
        let mut c = self.connect_packet(v, &self.id(v, "a"));
        c.username = None;
        c.password = None;
        let (connack, conn, t) = self.open(v, c).await;
        let ev = finish(conn, &t).await;
        let (value, note) = match connack {
            Ok(c) if c.reason_code.0 == 0 => (
                serde_json::Value::Bool(false),
                "CONNECT without credentials accepted".to_owned(),
            ),
            Ok(c) if matches!(c.reason_code.0, 0x86 | 0x87) => (
                serde_json::Value::Bool(true),
                format!(
                    "CONNECT without credentials refused: {}",
                    reason(c.reason_code)
                ),
            ),
            Ok(c) => (
                serde_json::Value::Null,
                format!("refused for another reason: {}", reason(c.reason_code)),
            ),
            Err(e) => (serde_json::Value::Null, format!("no CONNACK: {e}")),
        };
        answer(v, "authentication_required", value, note, ev)
    }

    /// A CONNECT asking for something; what the CONNACK grants.
    async fn requested(
        &self,
        v: ProtocolVersion,
        name: &str,
        ask: impl FnOnce(&mut Connect),
        granted: impl FnOnce(&ConnAck) -> Option<u64>,
        asked: &str,
    ) -> Answer {
        let mut c = self.connect_packet(v, &self.id(v, "r"));
        ask(&mut c);
        let (connack, conn, t) = self.open(v, c).await;
        let ev = finish(conn, &t).await;
        let (value, note) = match connack {
            Ok(c) => match granted(&c) {
                Some(x) => (
                    serde_json::Value::from(x),
                    format!("{asked}; CONNACK property"),
                ),
                None => (
                    serde_json::Value::String("as requested".into()),
                    format!("{asked}; CONNACK without the property: granted"),
                ),
            },
            Err(e) => (serde_json::Value::Null, format!("no CONNACK: {e}")),
        };
        answer(v, name, value, note, ev)
    }

    async fn maximum_qos(&self, v: ProtocolVersion, connack: &ConnAck) -> Answer {
        let advertised = connack.properties.maximum_qos();
        let (value, note, ev) = match self.session(v, "q").await {
            Ok((_, mut conn)) => {
                let granted = conn
                    .subscribe(
                        &format!("{}/qos", self.prefix),
                        QoS::ExactlyOnce,
                        Properties::new(),
                    )
                    .await;
                let ev = conn.close().await;
                match granted {
                    Ok(code) if code.0 <= 2 => {
                        let q = advertised.map_or(code.0, |a| a.min(code.0));
                        (
                            serde_json::Value::from(q),
                            format!(
                                "SUBSCRIBE at QoS 2 granted QoS {}{}",
                                code.0,
                                advertised
                                    .map(|a| format!("; CONNACK Maximum QoS {a}"))
                                    .unwrap_or_default()
                            ),
                            ev,
                        )
                    }
                    Ok(code) => (
                        serde_json::Value::Null,
                        format!("SUBSCRIBE refused: {}", reason(code)),
                        ev,
                    ),
                    Err(e) => (serde_json::Value::Null, e, ev),
                }
            }
            Err((e, ev)) => (serde_json::Value::Null, e, ev),
        };
        answer(v, "maximum_qos", value, note, ev)
    }

    /// Retain: a retained message reaches a later subscriber (then cleared).
    async fn retain(&self, v: ProtocolVersion, connack: &ConnAck) -> Answer {
        let topic = format!("{}/retain/{}", self.prefix, v.level());
        let advertised = connack.properties.retain_available();
        let (value, note, ev) = match self.session(v, "t").await {
            Ok((_, mut conn)) => {
                let retained = |payload: &'static [u8]| {
                    Packet::Publish(Publish {
                        dup: false,
                        qos: QoS::AtMostOnce,
                        retain: true,
                        topic: MqttString::from(topic.as_str()),
                        packet_id: 0,
                        properties: Properties::new(),
                        payload: Bytes::from_static(payload),
                    })
                };
                let mut got = conn.send(retained(b"retained")).await;
                if got.is_ok() {
                    got = conn
                        .subscribe(&topic, QoS::AtMostOnce, Properties::new())
                        .await
                        .map(|_| ());
                }
                let delivered = match got {
                    Ok(()) => {
                        conn.wait_for(|p| match p {
                            Packet::Publish(pb) if pb.topic.as_str() == topic => Some(pb.retain),
                            _ => None,
                        })
                        .await
                    }
                    Err(e) => Err(e),
                };
                let _ = conn.send(retained(b"")).await;
                let ev = conn.close().await;
                let adv = advertised
                    .map(|a| format!("; CONNACK Retain Available {a}"))
                    .unwrap_or_default();
                match delivered {
                    Ok(flag) => (
                        true,
                        format!(
                            "a retained message reached a later subscriber (retain flag {flag}){adv}"
                        ),
                        ev,
                    ),
                    Err(e) => (
                        false,
                        format!("no retained message for a later subscriber: {e}{adv}"),
                        ev,
                    ),
                }
            }
            Err((e, ev)) => (false, e, ev),
        };
        answer(v, "retain", value, note, ev)
    }

    /// A SUBSCRIBE that needs the feature: granted or refused (and what CONNACK said).
    async fn sub_check(
        &self,
        v: ProtocolVersion,
        name: &str,
        filter: &str,
        props: Properties,
        advertised: Option<Option<u8>>,
    ) -> Answer {
        let adv = match advertised {
            Some(Some(a)) => format!("; CONNACK says {a}"),
            Some(None) => "; CONNACK does not say (available)".into(),
            None => String::new(),
        };
        let (value, note, ev) = match self.session(v, "s").await {
            Ok((_, mut conn)) => {
                let code = conn.subscribe(filter, QoS::AtMostOnce, props).await;
                let ev = conn.close().await;
                match code {
                    Ok(c) if c.0 <= 2 => (
                        serde_json::Value::Bool(true),
                        format!("SUBSCRIBE {filter:?} granted{adv}"),
                        ev,
                    ),
                    Ok(c) => (
                        serde_json::Value::Bool(false),
                        format!("SUBSCRIBE {filter:?} refused: {}{adv}", reason(c)),
                        ev,
                    ),
                    Err(e) => (
                        serde_json::Value::Bool(false),
                        format!("SUBSCRIBE {filter:?}: {e}{adv}"),
                        ev,
                    ),
                }
            }
            Err((e, ev)) => (serde_json::Value::Null, e, ev),
        };
        answer(v, name, value, note, ev)
    }

    /// Maximum packet size actually enforced: just over the advertised one, or (none
    /// advertised) the largest of [`PACKET_SIZES`] accepted.
    async fn packet_size(&self, v: ProtocolVersion, advertised: Option<u32>) -> Answer {
        let topic = format!("{}/size", self.prefix);
        let sizes: Vec<usize> = match advertised {
            Some(max) => vec![max as usize + 1],
            None => PACKET_SIZES.to_vec(),
        };
        let mut evidence_all = Vec::new();
        let mut largest = None;
        let mut refused = None;
        for size in sizes {
            let (_, mut conn) = match self.session(v, "p").await {
                Ok(x) => x,
                Err((e, ev)) => {
                    evidence_all.extend(ev);
                    refused = Some(format!("CONNECT: {e}"));
                    break;
                }
            };
            let payload = payload_for(v, &topic, size);
            let r = conn.publish_qos1(&topic, payload).await;
            evidence_all.extend(conn.close().await);
            match r {
                Ok(code) if code.0 < 0x80 => largest = Some(size),
                Ok(code) => {
                    refused = Some(format!("{size} bytes: PUBACK {}", reason(code)));
                    break;
                }
                Err(e) => {
                    refused = Some(format!("{size} bytes: {e}"));
                    break;
                }
            }
        }
        match advertised {
            Some(max) => {
                let enforced = refused.is_some();
                answer(
                    v,
                    "maximum_packet_size_enforced",
                    enforced,
                    match &refused {
                        Some(r) => format!("advertised {max}; a PUBLISH of {r}"),
                        None => format!(
                            "advertised {max}; a PUBLISH of {} bytes was accepted",
                            max as u64 + 1
                        ),
                    },
                    evidence_all,
                )
            }
            None => answer(
                v,
                "largest_packet_accepted",
                largest.map_or(serde_json::Value::Null, serde_json::Value::from),
                format!(
                    "QoS 1 PUBLISH of {} bytes tried{}",
                    PACKET_SIZES.map(|s| s.to_string()).join(", "),
                    refused
                        .map(|r| format!("; refused: {r}"))
                        .unwrap_or_default()
                ),
                evidence_all,
            ),
        }
    }

    async fn client_id_length(&self, v: ProtocolVersion) -> Answer {
        let mut largest = None;
        let mut ev_all = Vec::new();
        let mut stop = None;
        for len in CLIENT_ID_LENGTHS {
            let stem = self.id(v, "i");
            let id: String = stem
                .chars()
                .chain(std::iter::repeat('x'))
                .take(len)
                .collect();
            let (connack, conn, t) = self.open(v, self.connect_packet(v, &id)).await;
            let ev = finish(conn, &t).await;
            ev_all.extend(ev);
            match connack {
                Ok(c) if c.reason_code.0 == 0 => largest = Some(len),
                Ok(c) => {
                    stop = Some(format!("{len}: CONNACK {}", reason(c.reason_code)));
                    break;
                }
                Err(e) => {
                    stop = Some(format!("{len}: {e}"));
                    break;
                }
            }
        }
        answer(
            v,
            "client_id_length_accepted",
            largest.map_or(serde_json::Value::Null, serde_json::Value::from),
            format!(
                "tried {}{}",
                CLIENT_ID_LENGTHS.map(|s| s.to_string()).join(", "),
                stop.map(|r| format!("; refused {r}")).unwrap_or_default()
            ),
            ev_all,
        )
    }

    async fn topic_length(&self, v: ProtocolVersion) -> Answer {
        let mut largest = None;
        let mut ev_all = Vec::new();
        let mut stop = None;
        for len in TOPIC_LENGTHS {
            let (_, mut conn) = match self.session(v, "l").await {
                Ok(x) => x,
                Err((e, ev)) => {
                    ev_all.extend(ev);
                    stop = Some(e);
                    break;
                }
            };
            let topic: String = format!("{}/len/", self.prefix)
                .chars()
                .chain(std::iter::repeat('t'))
                .take(len)
                .collect();
            let r = conn.publish_qos1(&topic, Bytes::from_static(b"x")).await;
            ev_all.extend(conn.close().await);
            match r {
                Ok(code) if code.0 < 0x80 => largest = Some(len),
                Ok(code) => {
                    stop = Some(format!("{len}: PUBACK {}", reason(code)));
                    break;
                }
                Err(e) => {
                    stop = Some(format!("{len}: {e}"));
                    break;
                }
            }
        }
        answer(
            v,
            "topic_length_accepted",
            largest.map_or(serde_json::Value::Null, serde_json::Value::from),
            format!(
                "QoS 1 PUBLISH with topics of {} bytes{}",
                TOPIC_LENGTHS.map(|s| s.to_string()).join(", "),
                stop.map(|r| format!("; refused {r}")).unwrap_or_default()
            ),
            ev_all,
        )
    }

    async fn sys_topics(&self, v: ProtocolVersion) -> Answer {
        let (value, note, ev) = match self.session(v, "y").await {
            Ok((_, mut conn)) => match conn
                .subscribe("$SYS/#", QoS::AtMostOnce, Properties::new())
                .await
            {
                Ok(code) if code.0 <= 2 => {
                    let mut got = None;
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
                    while got.is_none() {
                        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        match conn.next(left).await {
                            Ok(Packet::Publish(p)) => got = Some(p.topic.to_string()),
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                    let ev = conn.close().await;
                    match got {
                        Some(t) => (true, format!("SUBSCRIBE $SYS/# granted; {t} arrived"), ev),
                        None => (
                            false,
                            "SUBSCRIBE $SYS/# granted; nothing within 1 s".into(),
                            ev,
                        ),
                    }
                }
                Ok(code) => {
                    let ev = conn.close().await;
                    (
                        false,
                        format!("SUBSCRIBE $SYS/# refused: {}", reason(code)),
                        ev,
                    )
                }
                Err(e) => {
                    let ev = conn.close().await;
                    (false, format!("SUBSCRIBE $SYS/#: {e}"), ev)
                }
            },
            Err((e, ev)) => (false, e, ev),
        };
        let mut ev = ev;
        // $SYS may publish a lot within a second: keep the evidence short.
        if ev.len() > 12 {
            let more = ev.len() - 12;
            ev.truncate(12);
            ev.push(format!(".. {more} more lines"));
        }
        answer(v, "sys_topics", value, note, ev)
    }

    async fn all(&self) -> Vec<Answer> {
        let mut answers = Vec::new();
        for v in ProtocolVersion::ALL {
            answers.push(self.accepted(v).await);
        }
        for v in [ProtocolVersion::V3_1_1, ProtocolVersion::V5] {
            answers.extend(self.version(v).await);
        }
        answers
    }
}
