//! What a server may send on one connection, judged from what the client sent on it.
//!
//! These are the checks that hold for every conforming broker, whatever its configuration
//! and whatever the client sent: a scenario step (`expect_valid`) and `mqttspec fuzz` apply
//! them to every packet a connection receives. Each check cites the statement it enforces,
//! and a check is made only where the client's own bytes leave no doubt about what the
//! server saw: once the client's stream stops framing, the packet-identifier checks stop.
//!
//! The client side is read leniently (framing, packet types, identifiers), because the
//! fuzzer sends malformed packets on purpose; the server side is decoded strictly by the
//! connection's reader, which reports here.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use bytes::Bytes;
use mqttspec_codec::{DecodeError, Packet, ProtocolVersion, ReasonCode, render};

/// One thing the server did that the specification forbids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// A short, stable name of the check (`ack-packet-id`, `after-disconnect`, …).
    pub rule: &'static str,
    /// The normative statement broken, in `version`.
    pub statement: Option<&'static str>,
    /// The version the connection was judged under (the one its CONNECT named).
    pub version: ProtocolVersion,
    /// What happened, for people.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.statement {
            // A decode error names its statement already.
            Some(s) if !self.message.contains(s) => write!(f, "{} [{s}]", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// The version a CONNECT names, as its Protocol Level byte says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// 3 (MQTT 3.1), 4 (3.1.1) or 5 (5.0).
    Known(ProtocolVersion),
    /// A level no version uses: the server may answer in either CONNACK layout, then must
    /// close.
    Unknown(u8),
}

/// What sending a packet changes in how the connection's reader decodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SentConnect {
    /// The Protocol Level of the first CONNECT, when the bytes framed one.
    pub level: Option<Level>,
    /// The Maximum Packet Size that CONNECT declared (5.0), if it decoded.
    pub maximum_packet_size: Option<u32>,
}

/// Largest partial frame of the client's own stream kept while waiting for its end.
const PENDING_LIMIT: usize = 1 << 20;

/// The client's half of the conversation, as far as the server's answers depend on it.
#[derive(Debug, Default)]
struct ClientSide {
    /// Bytes of an unfinished frame.
    pending: Vec<u8>,
    /// The stream stopped framing (an impossible Remaining Length, or an oversized frame):
    /// what the server made of the rest is unknown.
    lost_framing: bool,
    connects: usize,
    level: Option<Level>,
    /// Clean Start of the first CONNECT, if it decoded.
    clean_start: Option<bool>,
    /// 5.0 limits of the first CONNECT, if it decoded (absent: the defaults).
    topic_alias_maximum: Option<u16>,
    /// A Maximum Packet Size was declared: the server may have had to discard a CONNACK
    /// too large for it (MQTT-3.1.2-25), so what comes first cannot be judged.
    maximum_packet_size: Option<u32>,
    receive_maximum: Option<u16>,
    qos1_ids: BTreeSet<u16>,
    qos2_ids: BTreeSet<u16>,
    pubrel_ids: BTreeSet<u16>,
    /// SUBSCRIBE / UNSUBSCRIBE identifiers, with the number of filters when the packet
    /// decoded and the identifier was used once (`None`: the count is not known).
    subscribes: HashMap<u16, Option<usize>>,
    unsubscribes: HashMap<u16, Option<usize>>,
}

/// One connection's conversation, fed by the client's writes and the reader's packets.
#[derive(Debug, Default)]
pub struct Conversation {
    client: ClientSide,
    /// CONNACKs received, and whether the first accepted the connection.
    connacks: usize,
    accepted: Option<bool>,
    server_disconnected: bool,
    /// QoS 1 and 2 PUBLISHes from the server not yet released by the client (5.0 Receive
    /// Maximum accounting, MQTT-3.3.4-9).
    server_inflight: BTreeSet<u16>,
    /// Identifiers the client released before a PUBLISH with them arrived: the server may
    /// have taken the release for a PUBLISH it had sent already, so that PUBLISH does not
    /// count (a scripted client acknowledges without waiting).
    released_early: BTreeSet<u16>,
    violations: Vec<Violation>,
}

/// Violations kept per connection (the first ones matter).
const VIOLATION_LIMIT: usize = 32;

impl Conversation {
    pub fn new() -> Self {
        Conversation::default()
    }

    /// Everything the server did wrong so far, in order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The client wrote `bytes`. Returns what a first CONNECT among them tells the reader.
    pub fn sent(&mut self, bytes: &[u8]) -> SentConnect {
        let mut out = SentConnect::default();
        if self.client.lost_framing {
            return out;
        }
        self.client.pending.extend_from_slice(bytes);
        loop {
            // A reserved packet type must close the connection; a server that goes on may
            // frame what follows differently (Mosquitto skips a 0x00 byte), so from here
            // on what it answers cannot be matched to what was sent.
            let v5 = matches!(self.client.level, Some(Level::Known(v)) if v.is_v5());
            if let Some(&first) = self.client.pending.first()
                && (first >> 4 == 0 || (first >> 4 == 15 && !v5))
            {
                self.client.lost_framing = true;
                self.client.pending = Vec::new();
                break;
            }
            match frame(&self.client.pending) {
                Framing::Complete(len) => {
                    let frame: Vec<u8> = self.client.pending.drain(..len).collect();
                    if let Some(connect) = self.client_frame(&frame) {
                        out = connect;
                    }
                }
                Framing::Partial if self.client.pending.len() <= PENDING_LIMIT => break,
                Framing::Partial | Framing::Broken => {
                    self.client.lost_framing = true;
                    self.client.pending = Vec::new();
                    break;
                }
            }
        }
        out
    }

    /// One complete frame the client sent.
    fn client_frame(&mut self, frame: &[u8]) -> Option<SentConnect> {
        let c = &mut self.client;
        let first = *frame.first()?;
        let body = &frame[header_len(frame)?..];
        let id_at = |at: usize| -> Option<u16> {
            Some(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]))
        };
        let version = match c.level {
            Some(Level::Known(v)) => v,
            _ => ProtocolVersion::V3_1_1,
        };
        let decoded = || Packet::decode(&Bytes::copy_from_slice(frame), version).ok();
        match first >> 4 {
            1 => {
                c.connects += 1;
                if c.connects > 1 {
                    return None;
                }
                let name_len = usize::from(id_at(0)?);
                let level = *body.get(2 + name_len)?;
                c.level = Some(match ProtocolVersion::from_level(level) {
                    Some(v) => Level::Known(v),
                    None => Level::Unknown(level),
                });
                let mut out = SentConnect {
                    level: c.level,
                    maximum_packet_size: None,
                };
                let Some(v) = ProtocolVersion::from_level(level) else {
                    return Some(out);
                };
                if let Ok(Packet::Connect(connect)) =
                    Packet::decode(&Bytes::copy_from_slice(frame), v)
                {
                    c.clean_start = Some(connect.clean_start);
                    if v.is_v5() {
                        c.topic_alias_maximum =
                            Some(connect.properties.topic_alias_maximum().unwrap_or(0));
                        c.receive_maximum =
                            Some(connect.properties.receive_maximum().unwrap_or(u16::MAX));
                        out.maximum_packet_size = connect.properties.maximum_packet_size();
                        c.maximum_packet_size = out.maximum_packet_size;
                    }
                }
                return Some(out);
            }
            3 => {
                let qos = (first >> 1) & 0b11;
                let topic_len = usize::from(id_at(0)?);
                let id = id_at(2 + topic_len);
                match (qos, id) {
                    (1, Some(id)) => {
                        c.qos1_ids.insert(id);
                    }
                    (2, Some(id)) => {
                        c.qos2_ids.insert(id);
                    }
                    _ => {}
                }
            }
            // PUBACK, PUBREC (with an error code) and PUBCOMP release the server's PUBLISH.
            4 | 7 => self.release(id_at(0)?),
            5 => {
                let id = id_at(0)?;
                if body.get(2).is_some_and(|&code| code >= 0x80) {
                    self.release(id);
                }
            }
            6 => {
                c.pubrel_ids.insert(id_at(0)?);
            }
            8 => {
                let id = id_at(0)?;
                let count = match decoded() {
                    Some(Packet::Subscribe(s)) => Some(s.subscriptions.len()),
                    _ => None,
                };
                let unique = !c.subscribes.contains_key(&id);
                c.subscribes.insert(id, count.filter(|_| unique));
            }
            10 => {
                let id = id_at(0)?;
                let count = match decoded() {
                    Some(Packet::Unsubscribe(u)) => Some(u.filters.len()),
                    _ => None,
                };
                let unique = !c.unsubscribes.contains_key(&id);
                c.unsubscribes.insert(id, count.filter(|_| unique));
            }
            _ => {}
        }
        None
    }

    fn release(&mut self, id: u16) {
        if !self.server_inflight.remove(&id) {
            self.released_early.insert(id);
        }
    }

    /// The version rules are judged under; `None` for 3.1 and unknown levels (the spec lists
    /// cover 3.1.1 and 5.0) and before any CONNECT.
    fn judged_version(&self) -> Option<ProtocolVersion> {
        match self.client.level {
            Some(Level::Known(v)) if v != ProtocolVersion::V3_1 => Some(v),
            _ => None,
        }
    }

    fn violate(&mut self, rule: &'static str, statement: Option<&'static str>, message: String) {
        let version = self.judged_version().unwrap_or(ProtocolVersion::V5);
        self.violate_in(version, rule, statement, message);
    }

    fn violate_in(
        &mut self,
        version: ProtocolVersion,
        rule: &'static str,
        statement: Option<&'static str>,
        message: String,
    ) {
        if self.violations.len() < VIOLATION_LIMIT {
            self.violations.push(Violation {
                rule,
                statement,
                version,
                message,
            });
        }
    }

    /// The server sent bytes that do not decode.
    pub fn malformed(&mut self, error: &DecodeError) {
        // The spec lists cover 3.1.1 and 5.0: a 3.1 connection is not judged.
        if error.version == ProtocolVersion::V3_1 {
            return;
        }
        self.violate_in(
            error.version,
            "malformed",
            error.statement_id(),
            format!("the server sent a malformed packet: {error}"),
        );
    }

    /// The server sent a packet over the Maximum Packet Size the client declared.
    pub fn too_large(&mut self, packet_type: &str, size: usize, max: u32) {
        self.violate_in(
            ProtocolVersion::V5,
            "maximum-packet-size",
            Some("MQTT-3.1.2-24"),
            format!(
                "the server sent a {size}-byte {packet_type}, over the Maximum Packet Size of {max} bytes the client declared"
            ),
        );
    }

    /// The server sent `packet` (decoded strictly).
    pub fn received(&mut self, packet: &Packet) {
        let Some(v) = self.judged_version() else {
            return;
        };
        let v5 = v.is_v5();
        let shown = render::packet(packet);
        if self.server_disconnected {
            if v5 {
                self.violate(
                    "after-disconnect",
                    Some("MQTT-3.14.4-1"),
                    format!("the server sent {shown} after its DISCONNECT"),
                );
            }
            return;
        }
        if let Some(false) = self.accepted {
            self.violate(
                "after-refusal",
                Some(if v5 { "MQTT-3.2.2-7" } else { "MQTT-3.2.2-5" }),
                format!("the server sent {shown} after refusing the connection in its CONNACK"),
            );
            return;
        }
        if self.accepted.is_none() {
            // With a Maximum Packet Size declared, the CONNACK may have been too large to
            // send (MQTT-3.1.2-25): then judge as if an accepting one came (a refusing one
            // would have closed the connection).
            let connack_may_be_discarded = self.client.maximum_packet_size.is_some();
            match packet {
                Packet::ConnAck(_) => {}
                // Enhanced authentication goes on before CONNACK.
                Packet::Auth(_) if v5 => return,
                Packet::Disconnect(_) if v5 => {
                    self.server_disconnected = true;
                    if !connack_may_be_discarded {
                        self.violate(
                            "disconnect-before-connack",
                            Some("MQTT-3.14.0-1"),
                            format!("the server sent {shown} before a successful CONNACK"),
                        );
                    }
                    return;
                }
                _ if connack_may_be_discarded => {
                    self.accepted = Some(true);
                    self.connacks = 1;
                }
                _ => {
                    self.violate(
                        "connack-first",
                        Some("MQTT-3.2.0-1"),
                        format!("the server sent {shown} before CONNACK"),
                    );
                    return;
                }
            }
        }
        let ambiguous = self.client.lost_framing;
        match packet {
            Packet::ConnAck(ack) => {
                self.connacks += 1;
                if self.connacks > 1 {
                    if v5 {
                        self.violate(
                            "second-connack",
                            Some("MQTT-3.2.0-2"),
                            "the server sent a second CONNACK on the connection".into(),
                        );
                    }
                    return;
                }
                let accepted = ack.reason_code == ReasonCode::SUCCESS;
                self.accepted = Some(accepted);
                if accepted && ack.session_present && self.client.clean_start == Some(true) {
                    self.violate(
                        "session-present",
                        Some(if v5 { "MQTT-3.2.2-2" } else { "MQTT-3.2.2-1" }),
                        "the server accepted a Clean Start connection with Session Present 1"
                            .into(),
                    );
                }
            }
            Packet::Disconnect(_) => self.server_disconnected = true,
            Packet::PubAck(ack) | Packet::PubRec(ack) if !ambiguous => {
                let (kind, ids) = match packet {
                    Packet::PubAck(_) => ("PUBACK", &self.client.qos1_ids),
                    _ => ("PUBREC", &self.client.qos2_ids),
                };
                if !ids.contains(&ack.packet_id) {
                    let wanted = if kind == "PUBACK" { 1 } else { 2 };
                    self.violate(
                        "ack-packet-id",
                        Some(if v5 { "MQTT-2.2.1-5" } else { "MQTT-2.3.1-6" }),
                        format!(
                            "{kind} for packet identifier {}, which no QoS {wanted} PUBLISH of the client carried",
                            ack.packet_id
                        ),
                    );
                }
            }
            Packet::PubComp(ack)
                if !ambiguous && !self.client.pubrel_ids.contains(&ack.packet_id) =>
            {
                self.violate(
                    "ack-packet-id",
                    Some(if v5 { "MQTT-4.3.3-11" } else { "MQTT-4.3.3-2" }),
                    format!(
                        "PUBCOMP for packet identifier {}, which no PUBREL of the client carried",
                        ack.packet_id
                    ),
                );
            }
            Packet::SubAck(ack) if !ambiguous => match self.client.subscribes.get(&ack.packet_id) {
                None => self.violate(
                    "ack-packet-id",
                    Some(if v5 { "MQTT-2.2.1-6" } else { "MQTT-2.3.1-7" }),
                    format!(
                        "SUBACK for packet identifier {}, which no SUBSCRIBE of the client carried",
                        ack.packet_id
                    ),
                ),
                Some(Some(n)) if *n != ack.reason_codes.len() => {
                    let n = *n;
                    self.violate(
                        "suback-count",
                        Some(if v5 { "MQTT-3.8.4-6" } else { "MQTT-3.8.4-5" }),
                        format!(
                            "SUBACK with {} return codes for a SUBSCRIBE of {n} topic filters",
                            ack.reason_codes.len()
                        ),
                    );
                }
                Some(_) => {}
            },
            Packet::UnsubAck(ack) if !ambiguous => {
                match self.client.unsubscribes.get(&ack.packet_id) {
                    None => self.violate(
                        "ack-packet-id",
                        Some(if v5 { "MQTT-2.2.1-6" } else { "MQTT-2.3.1-7" }),
                        format!(
                            "UNSUBACK for packet identifier {}, which no UNSUBSCRIBE of the client carried",
                            ack.packet_id
                        ),
                    ),
                    Some(Some(n)) if v5 && *n != ack.reason_codes.len() => {
                        let n = *n;
                        self.violate(
                            "unsuback-count",
                            Some("MQTT-3.11.3-1"),
                            format!(
                                "UNSUBACK with {} reason codes for an UNSUBSCRIBE of {n} topic filters",
                                ack.reason_codes.len()
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            Packet::Publish(p) if v5 => {
                if let (Some(alias), Some(max)) =
                    (p.properties.topic_alias(), self.client.topic_alias_maximum)
                    && alias > max
                {
                    let (statement, limit) = if max == 0 {
                        ("MQTT-3.1.2-27", "sent none".to_owned())
                    } else {
                        ("MQTT-3.3.2-11", format!("declared {max}"))
                    };
                    self.violate(
                        "topic-alias",
                        Some(statement),
                        format!(
                            "PUBLISH with Topic Alias {alias}, but the client's Topic Alias Maximum {limit}"
                        ),
                    );
                }
                if p.qos.as_u8() > 0 && !ambiguous && !self.released_early.remove(&p.packet_id) {
                    self.server_inflight.insert(p.packet_id);
                    if let Some(max) = self.client.receive_maximum
                        && self.server_inflight.len() > usize::from(max)
                    {
                        self.violate(
                            "receive-maximum",
                            Some("MQTT-3.3.4-9"),
                            format!(
                                "{} QoS 1 and 2 PUBLISHes unacknowledged at once, over the client's Receive Maximum of {max}",
                                self.server_inflight.len()
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

pub(crate) enum Framing {
    /// A whole frame of this many bytes is at the front.
    Complete(usize),
    /// More bytes are needed.
    Partial,
    /// The Remaining Length cannot be read (more than four bytes).
    Broken,
}

/// Where the first frame of `bytes` ends, read leniently (any type, any flags).
pub(crate) fn frame(bytes: &[u8]) -> Framing {
    if bytes.is_empty() {
        return Framing::Partial;
    }
    let mut value: usize = 0;
    for i in 0..4 {
        let Some(&b) = bytes.get(1 + i) else {
            return Framing::Partial;
        };
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            let len = 2 + i + value;
            return if bytes.len() >= len {
                Framing::Complete(len)
            } else {
                Framing::Partial
            };
        }
    }
    Framing::Broken
}

/// The frames of a run of bytes, as byte ranges (what does not frame is left out).
pub(crate) fn frames(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) {
        match frame(rest) {
            Framing::Complete(len) => {
                out.push(at..at + len);
                at += len;
            }
            _ => break,
        }
    }
    out
}

/// Fixed header length of a complete frame.
fn header_len(frame: &[u8]) -> Option<usize> {
    (1..=4)
        .find(|&i| frame.get(i).is_some_and(|b| b & 0x80 == 0))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqttspec_codec::{
        ConnAck, Connect, MqttString, Properties, Property, Publish, PublishAck, QoS, SubAck,
        Subscribe, Subscription,
    };

    fn connect(v: ProtocolVersion, properties: Properties) -> Vec<u8> {
        Packet::Connect(Connect {
            protocol: v,
            clean_start: true,
            keep_alive: 30,
            properties,
            client_id: MqttString::from("c"),
            will: None,
            username: None,
            password: None,
        })
        .to_bytes(v)
        .unwrap()
        .to_vec()
    }

    fn publish(qos: QoS, id: u16) -> Vec<u8> {
        let mut p = Publish::new("t", qos, "x");
        p.packet_id = id;
        Packet::Publish(p)
            .to_bytes(ProtocolVersion::V5)
            .unwrap()
            .to_vec()
    }

    fn connected(v: ProtocolVersion) -> Conversation {
        let mut c = Conversation::new();
        let sent = c.sent(&connect(v, Properties::new()));
        assert_eq!(sent.level, Some(Level::Known(v)));
        c.received(&Packet::ConnAck(ConnAck::default()));
        c
    }

    fn rules(c: &Conversation) -> Vec<(&'static str, Option<&'static str>)> {
        c.violations()
            .iter()
            .map(|v| (v.rule, v.statement))
            .collect()
    }

    #[test]
    fn a_right_ack_is_no_violation_and_a_wrong_one_is() {
        let mut c = connected(ProtocolVersion::V5);
        c.sent(&publish(QoS::AtLeastOnce, 7));
        c.received(&Packet::PubAck(PublishAck::new(7)));
        assert!(c.violations().is_empty());
        c.received(&Packet::PubAck(PublishAck::new(8)));
        assert_eq!(rules(&c), [("ack-packet-id", Some("MQTT-2.2.1-5"))]);

        let mut c = connected(ProtocolVersion::V3_1_1);
        c.received(&Packet::PubRec(PublishAck::new(1)));
        assert_eq!(rules(&c), [("ack-packet-id", Some("MQTT-2.3.1-6"))]);
    }

    #[test]
    fn sends_split_anywhere_frame_the_same() {
        let mut c = Conversation::new();
        let mut bytes = connect(ProtocolVersion::V5, Properties::new());
        bytes.extend(publish(QoS::AtLeastOnce, 300));
        for b in &bytes {
            c.sent(std::slice::from_ref(b));
        }
        c.received(&Packet::ConnAck(ConnAck::default()));
        c.received(&Packet::PubAck(PublishAck::new(300)));
        assert!(c.violations().is_empty(), "{:?}", c.violations());
    }

    #[test]
    fn broken_framing_turns_the_identifier_checks_off() {
        let mut c = connected(ProtocolVersion::V5);
        c.sent(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
        c.received(&Packet::PubAck(PublishAck::new(9)));
        assert!(c.violations().is_empty());
    }

    #[test]
    fn a_reserved_packet_type_turns_the_identifier_checks_off() {
        // Found by the fuzzer against Mosquitto, which skips a 0x00 byte and reads a PUBREL
        // behind it that a spec-conforming framing swallows.
        let mut c = connected(ProtocolVersion::V5);
        c.sent(&[0x00]);
        c.sent(&[0x62, 0x02, 0x00, 0x01]);
        c.received(&Packet::PubComp(PublishAck::new(1)));
        assert!(c.violations().is_empty(), "{:?}", c.violations());
    }

    #[test]
    fn connack_must_come_first_and_refusal_ends_the_conversation() {
        let mut c = Conversation::new();
        c.sent(&connect(ProtocolVersion::V3_1_1, Properties::new()));
        c.received(&Packet::PingResp);
        assert_eq!(rules(&c), [("connack-first", Some("MQTT-3.2.0-1"))]);

        let mut c = Conversation::new();
        c.sent(&connect(ProtocolVersion::V5, Properties::new()));
        c.received(&Packet::ConnAck(ConnAck {
            reason_code: ReasonCode(0x87),
            ..ConnAck::default()
        }));
        c.received(&Packet::PingResp);
        assert_eq!(rules(&c), [("after-refusal", Some("MQTT-3.2.2-7"))]);
    }

    #[test]
    fn session_present_with_clean_start_is_a_violation() {
        let mut c = Conversation::new();
        c.sent(&connect(ProtocolVersion::V3_1_1, Properties::new()));
        c.received(&Packet::ConnAck(ConnAck {
            session_present: true,
            ..ConnAck::default()
        }));
        assert_eq!(rules(&c), [("session-present", Some("MQTT-3.2.2-1"))]);
    }

    #[test]
    fn suback_must_count_the_filters() {
        let mut c = connected(ProtocolVersion::V5);
        let sub = Packet::Subscribe(Subscribe::new(
            4,
            vec![
                Subscription::new("a", QoS::AtMostOnce),
                Subscription::new("b", QoS::AtMostOnce),
            ],
        ))
        .to_bytes(ProtocolVersion::V5)
        .unwrap();
        c.sent(&sub);
        c.received(&Packet::SubAck(SubAck {
            packet_id: 4,
            properties: Properties::new(),
            reason_codes: vec![ReasonCode(0)],
        }));
        assert_eq!(rules(&c), [("suback-count", Some("MQTT-3.8.4-6"))]);
    }

    #[test]
    fn topic_alias_and_receive_maximum_follow_the_connect() {
        let mut c = Conversation::new();
        c.sent(&connect(
            ProtocolVersion::V5,
            Properties::new().with(Property::ReceiveMaximum(1)),
        ));
        c.received(&Packet::ConnAck(ConnAck::default()));
        let mut p = Publish::new("t", QoS::AtLeastOnce, "x");
        p.packet_id = 1;
        p.properties.push(Property::TopicAlias(1));
        c.received(&Packet::Publish(p.clone()));
        assert_eq!(rules(&c), [("topic-alias", Some("MQTT-3.1.2-27"))]);
        p.packet_id = 2;
        p.properties = Properties::new();
        c.received(&Packet::Publish(p.clone()));
        assert_eq!(rules(&c)[1], ("receive-maximum", Some("MQTT-3.3.4-9")));
        // Once the client acknowledges, the window is free again.
        let mut c = Conversation::new();
        c.sent(&connect(
            ProtocolVersion::V5,
            Properties::new().with(Property::ReceiveMaximum(1)),
        ));
        c.received(&Packet::ConnAck(ConnAck::default()));
        p.packet_id = 1;
        c.received(&Packet::Publish(p.clone()));
        c.sent(
            &Packet::PubAck(PublishAck::new(1))
                .to_bytes(ProtocolVersion::V5)
                .unwrap(),
        );
        p.packet_id = 2;
        c.received(&Packet::Publish(p.clone()));
        assert!(c.violations().is_empty(), "{:?}", c.violations());

        // An acknowledgement written before its PUBLISH arrived (found by the fuzzer
        // against the reference broker): the server may have taken it for that PUBLISH.
        let mut c = Conversation::new();
        c.sent(&connect(
            ProtocolVersion::V5,
            Properties::new().with(Property::ReceiveMaximum(1)),
        ));
        c.received(&Packet::ConnAck(ConnAck::default()));
        c.sent(
            &Packet::PubAck(PublishAck::new(1))
                .to_bytes(ProtocolVersion::V5)
                .unwrap(),
        );
        p.packet_id = 1;
        c.received(&Packet::Publish(p.clone()));
        p.packet_id = 2;
        c.received(&Packet::Publish(p));
        assert!(c.violations().is_empty(), "{:?}", c.violations());
    }

    #[test]
    fn a_connack_too_large_for_the_client_may_be_missing() {
        // MQTT-3.1.2-25: the server discards a packet over the client's Maximum Packet
        // Size and behaves as if it had sent it.
        let mut c = Conversation::new();
        c.sent(&connect(
            ProtocolVersion::V5,
            Properties::new().with(Property::MaximumPacketSize(8)),
        ));
        c.sent(&publish(QoS::AtLeastOnce, 1));
        c.received(&Packet::PubAck(PublishAck::new(1)));
        assert!(c.violations().is_empty(), "{:?}", c.violations());
        c.received(&Packet::PubAck(PublishAck::new(2)));
        assert_eq!(rules(&c), [("ack-packet-id", Some("MQTT-2.2.1-5"))]);
        assert_eq!(c.violations()[0].version, ProtocolVersion::V5);

        // AUTH may come before a CONNACK that does fit.
        let mut c = Conversation::new();
        c.sent(&connect(
            ProtocolVersion::V5,
            Properties::new().with(Property::MaximumPacketSize(48)),
        ));
        c.received(&Packet::Auth(mqttspec_codec::Auth {
            reason_code: ReasonCode(0x18),
            properties: Properties::new(),
        }));
        c.received(&Packet::ConnAck(ConnAck {
            reason_code: ReasonCode(0x82),
            ..ConnAck::default()
        }));
        assert!(c.violations().is_empty(), "{:?}", c.violations());
    }

    #[test]
    fn nothing_after_the_servers_disconnect() {
        let mut c = connected(ProtocolVersion::V5);
        c.received(&Packet::Disconnect(mqttspec_codec::Disconnect::new(
            ReasonCode(0x81),
        )));
        c.received(&Packet::PingResp);
        assert_eq!(rules(&c), [("after-disconnect", Some("MQTT-3.14.4-1"))]);
    }

    #[test]
    fn an_unknown_level_is_reported_for_either_layout() {
        let mut c = Conversation::new();
        let mut bytes = connect(ProtocolVersion::V5, Properties::new());
        // Protocol Level follows the 2-byte name length and "MQTT".
        bytes[2 + 6] = 9;
        assert_eq!(c.sent(&bytes).level, Some(Level::Unknown(9)));
        // No version to judge by: no rule applies.
        c.received(&Packet::PingResp);
        assert!(c.violations().is_empty());
    }
}
