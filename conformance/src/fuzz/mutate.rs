//! Structure-aware mutation of programs, in three layers:
//!
//! * **steps** — drop, repeat, reorder, move to another client, splice in steps of another
//!   program, reconnect, flood, insert a fresh packet;
//! * **packets** — decode a sent packet with the codec and change a field (topic, QoS,
//!   flags, packet identifier, reason code, client identifier, will, subscription options,
//!   properties: add, drop, duplicate, flood), then encode it again; or encode it with one
//!   deliberate violation ([`mqttspec_codec::malformed`]: lengths, flags, types, invalid
//!   UTF-8, non-minimal integers);
//! * **bytes** — flip, set, insert, delete and duplicate bytes, as byte-level fuzzers do.

use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;
use mqttspec_codec::malformed::{FieldRef, Malformed, Tamper};
use mqttspec_codec::{
    Auth, Connect, Disconnect, MqttString, Packet, Properties, Property, ProtocolVersion, Publish,
    PublishAck, QoS, ReasonCode, RetainHandling, SpanKind, Subscribe, Subscription,
    SubscriptionOptions, Unsubscribe, Will,
};

use super::program::{MARKER, Program};
use super::rng::Rng;
use crate::engine::oracle::frames;
use crate::scenario::script::{Action, ScriptStep};

const U16S: [u16; 11] = [
    0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF,
];
const U32S: [u32; 12] = [
    0,
    1,
    0x7F,
    0x80,
    0x3FFF,
    0x4000,
    0x1F_FFFF,
    0x20_0000,
    0x0FFF_FFFF,
    0x1000_0000,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
];
const REASONS: [u8; 18] = [
    0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80, 0x83, 0x87, 0x8E, 0x91, 0x92, 0x97, 0x99,
    0xA2, 0xFF,
];
/// Ill-formed UTF-8 and forbidden code points (MQTT-1.5.4-1/-2/-3).
const BAD_UTF8: [&[u8]; 6] = [
    b"\xC0\xAF",
    b"\xED\xA0\x80",
    b"\x00",
    b"\xFF",
    b"\xEF\xBF\xBF",
    b"\xC2\x80",
];

/// One mutated copy of `program`, and the names of the mutations applied. `donor` (another
/// corpus entry) feeds splicing.
pub fn mutate(program: &Program, donor: &Program, rng: &mut Rng) -> (Program, Vec<&'static str>) {
    let mut p = program.clone();
    let mut applied = Vec::new();
    // A mutation can find nothing to act on (no packet decodes, say): try again, bounded.
    for _ in 0..8 {
        let rounds = 1 + rng.below(3);
        for _ in 0..rounds {
            let name = match rng.below(10) {
                0..=2 => mutate_steps(&mut p, donor, rng),
                3..=6 => mutate_packet(&mut p, rng),
                7..=8 => tamper_packet(&mut p, rng),
                _ => mutate_bytes(&mut p, rng),
            };
            if let Some(name) = name {
                applied.push(name);
            }
        }
        p.clamp();
        if p != *program {
            break;
        }
    }
    (p, applied)
}

fn sends(p: &Program) -> Vec<usize> {
    p.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.action, Action::Send { .. }))
        .map(|(i, _)| i)
        .collect()
}

fn send_bytes(p: &mut Program, i: usize) -> Option<&mut Bytes> {
    match &mut p.steps.get_mut(i)?.action {
        Action::Send { bytes, .. } => Some(bytes),
        _ => None,
    }
}

fn mutate_steps(p: &mut Program, donor: &Program, rng: &mut Rng) -> Option<&'static str> {
    let n = p.steps.len();
    let clients = p.clients();
    Some(match rng.below(9) {
        0 if n > 1 => {
            p.steps.remove(rng.below(n));
            "step:drop"
        }
        1 if n > 0 => {
            let i = rng.below(n);
            let s = p.steps[i].clone();
            p.steps.insert(i + 1, s);
            "step:repeat"
        }
        2 if n > 1 => {
            let i = rng.below(n - 1);
            p.steps.swap(i, i + 1);
            "step:swap"
        }
        3 if !donor.steps.is_empty() => {
            let from = rng.below(donor.steps.len());
            let len = 1 + rng.below(8.min(donor.steps.len() - from));
            let at = rng.below(n + 1);
            let spliced: Vec<ScriptStep> = donor.steps[from..from + len].to_vec();
            p.steps.splice(at..at, spliced);
            "step:splice"
        }
        4 if !clients.is_empty() => {
            let i = *rng.pick(&sends(p))?;
            p.steps[i].client = rng.pick(&clients)?.clone();
            "step:client"
        }
        5 if !clients.is_empty() => {
            let client = rng.pick(&clients)?.clone();
            let at = rng.below(n + 1);
            let action = if rng.one_in(2) {
                Action::Close(None)
            } else {
                Action::Open
            };
            p.steps.insert(at, ScriptStep { client, action });
            "step:reconnect"
        }
        6 => {
            let i = *rng.pick(&sends(p))?;
            if let Action::Send { repeat, .. } = &mut p.steps[i].action {
                *repeat = *rng.pick(&[2, 5, 20, 100])?;
            }
            "step:flood"
        }
        7 => {
            let at = rng.below(n + 1);
            p.steps.insert(
                at,
                ScriptStep {
                    client: String::new(),
                    action: Action::Wait(Duration::from_millis(1 + rng.below(150) as u64)),
                },
            );
            "step:wait"
        }
        _ => {
            let v = p.version.protocol();
            let client = rng
                .pick(&clients)
                .cloned()
                .unwrap_or_else(|| "a".to_owned());
            let packet = fresh_packet(rng, v, &client);
            let bytes = packet.to_bytes(v).ok()?;
            let at = rng.below(n + 1);
            p.steps.insert(
                at,
                ScriptStep {
                    client,
                    action: Action::Send { bytes, repeat: 1 },
                },
            );
            "step:insert"
        }
    })
}

fn marker() -> &'static str {
    std::str::from_utf8(MARKER).unwrap_or("zzzzzzzz")
}

fn topic(rng: &mut Rng) -> String {
    let leaf = ["t", "a/b", "x/y/z", "r", "will", ""];
    format!("mqttspec/{}/{}", marker(), rng.pick(&leaf).unwrap_or(&"t"))
}

/// A valid packet of any kind a client sends, on the execution's topics.
fn fresh_packet(rng: &mut Rng, v: ProtocolVersion, client: &str) -> Packet {
    let qos = QoS::from_u8(rng.below(3) as u8).unwrap_or(QoS::AtMostOnce);
    let id = 1 + rng.below(20) as u16;
    match rng.below(10) {
        0 => Packet::Connect(Connect {
            protocol: v,
            clean_start: !rng.one_in(3),
            keep_alive: 30,
            properties: Properties::new(),
            client_id: MqttString::from(format!("{}{client}", marker())),
            will: None,
            username: None,
            password: None,
        }),
        1 | 2 => {
            let mut p = Publish::new(topic(rng), qos, "fuzz");
            p.retain = rng.one_in(4);
            if qos != QoS::AtMostOnce {
                p.packet_id = id;
            }
            Packet::Publish(p)
        }
        3 => {
            let filter = format!("mqttspec/{}/#", marker());
            Packet::Subscribe(Subscribe::new(id, vec![Subscription::new(filter, qos)]))
        }
        4 => Packet::Unsubscribe(Unsubscribe::new(id, vec![MqttString::from(topic(rng))])),
        5 => Packet::PubAck(PublishAck::new(id)),
        6 => Packet::PubRec(PublishAck::new(id)),
        7 => Packet::PubRel(PublishAck::new(id)),
        8 if v.is_v5() && rng.one_in(2) => Packet::Auth(Auth {
            reason_code: ReasonCode(*rng.pick(&[0x00, 0x18, 0x19]).unwrap_or(&0x18)),
            properties: Properties::new().with(Property::AuthenticationMethod(MqttString::from(
                "MQTTSPEC-CHALLENGE",
            ))),
        }),
        8 => Packet::PubComp(PublishAck::new(id)),
        _ if rng.one_in(3) => Packet::Disconnect(Disconnect::new(ReasonCode(
            *rng.pick(&[0x00, 0x04, 0x80]).unwrap_or(&0),
        ))),
        _ => Packet::PingReq,
    }
}

/// Picks one frame of one send that decodes; returns (step, frame range, packet).
fn pick_packet(p: &Program, rng: &mut Rng) -> Option<(usize, Range<usize>, Packet)> {
    let i = *rng.pick(&sends(p))?;
    let Action::Send { bytes, .. } = &p.steps[i].action else {
        return None;
    };
    let range = rng.pick(&frames(bytes))?.clone();
    let packet = Packet::decode(&bytes.slice(range.clone()), p.version.protocol()).ok()?;
    Some((i, range, packet))
}

/// The send with one frame replaced.
fn put_frame(p: &mut Program, i: usize, range: Range<usize>, frame: &[u8]) {
    if let Some(bytes) = send_bytes(p, i) {
        let mut out = Vec::with_capacity(bytes.len() + frame.len());
        out.extend_from_slice(&bytes[..range.start]);
        out.extend_from_slice(frame);
        out.extend_from_slice(&bytes[range.end..]);
        *bytes = Bytes::from(out);
    }
}

/// The version a packet is encoded in: a CONNECT in its own.
fn version_of(packet: &Packet, v: ProtocolVersion) -> ProtocolVersion {
    match packet {
        Packet::Connect(c) => c.protocol,
        _ => v,
    }
}

fn mutate_packet(p: &mut Program, rng: &mut Rng) -> Option<&'static str> {
    let (i, range, mut packet) = pick_packet(p, rng)?;
    let v = p.version.protocol();
    let name = mutate_fields(&mut packet, rng, v);
    let bytes = packet.to_bytes(version_of(&packet, v)).ok()?;
    put_frame(p, i, range, &bytes);
    Some(name)
}

fn mutate_fields(packet: &mut Packet, rng: &mut Rng, v: ProtocolVersion) -> &'static str {
    if rng.one_in(4)
        && let Some(props) = packet.properties_mut()
    {
        return mutate_properties(props, rng);
    }
    match packet {
        Packet::Publish(p) => match rng.below(6) {
            0 => {
                p.topic = MqttString::from(mutate_topic(rng, p.topic.as_str()));
                "publish:topic"
            }
            1 => {
                p.qos = QoS::from_u8(rng.below(3) as u8).unwrap_or(QoS::AtMostOnce);
                if p.qos != QoS::AtMostOnce && p.packet_id == 0 {
                    p.packet_id = 1;
                }
                "publish:qos"
            }
            2 => {
                p.retain = !p.retain;
                p.dup = p.qos != QoS::AtMostOnce && rng.one_in(2);
                "publish:flags"
            }
            3 => {
                p.packet_id = interesting_u16(rng);
                "publish:packet-id"
            }
            4 => {
                p.payload = match rng.below(3) {
                    0 => Bytes::new(),
                    1 => Bytes::from(vec![b'x'; 1 + rng.below(4096)]),
                    _ => Bytes::from(rng.bytes_between(1, 64)),
                };
                "publish:payload"
            }
            _ => {
                p.properties
                    .push(Property::TopicAlias(interesting_u16(rng)));
                if rng.one_in(2) {
                    p.topic = MqttString::from("");
                }
                "publish:topic-alias"
            }
        },
        Packet::Connect(c) => match rng.below(7) {
            0 => {
                c.clean_start = !c.clean_start;
                "connect:clean-start"
            }
            1 => {
                c.keep_alive = *rng.pick(&[0, 1, 2, 60, 0xFFFF]).unwrap_or(&0);
                "connect:keep-alive"
            }
            2 => {
                c.client_id = MqttString::from(match rng.below(3) {
                    0 => String::new(),
                    1 => format!("{}{}", c.client_id.as_str(), "x".repeat(rng.below(300))),
                    _ => format!("{}-/#+", c.client_id.as_str()),
                });
                "connect:client-id"
            }
            3 => {
                c.will = match c.will.take() {
                    Some(mut w) if rng.one_in(2) => {
                        w.qos = QoS::from_u8(rng.below(3) as u8).unwrap_or(QoS::AtMostOnce);
                        w.retain = rng.one_in(2);
                        w.topic = MqttString::from(mutate_topic(rng, w.topic.as_str()));
                        Some(w)
                    }
                    Some(_) => None,
                    None => Some(Will {
                        topic: MqttString::from(topic(rng)),
                        payload: Bytes::from_static(b"will"),
                        qos: QoS::from_u8(rng.below(3) as u8).unwrap_or(QoS::AtMostOnce),
                        retain: rng.one_in(2),
                        properties: Properties::new(),
                    }),
                };
                "connect:will"
            }
            4 => {
                if c.username.is_some() && rng.one_in(2) {
                    c.username = None;
                    c.password = None;
                } else {
                    c.username = Some(MqttString::from("fuzz"));
                    c.password = rng.one_in(2).then(|| Bytes::from(rng.bytes_between(0, 15)));
                }
                "connect:credentials"
            }
            5 => {
                c.protocol = *rng
                    .pick(&[
                        ProtocolVersion::V3_1,
                        ProtocolVersion::V3_1_1,
                        ProtocolVersion::V5,
                    ])
                    .unwrap_or(&v);
                "connect:protocol"
            }
            _ => {
                if let Some(w) = &mut c.will {
                    mutate_properties(&mut w.properties, rng);
                }
                "connect:will-properties"
            }
        },
        Packet::Subscribe(s) => match rng.below(5) {
            0 => {
                if let Some(sub) = rng.pick(&s.subscriptions.clone()) {
                    let filter = mutate_topic(rng, sub.filter.as_str());
                    s.subscriptions
                        .push(Subscription::new(filter, sub.options.qos));
                }
                "subscribe:filter"
            }
            1 => {
                for sub in &mut s.subscriptions {
                    sub.options = random_options(rng);
                }
                "subscribe:options"
            }
            2 => {
                s.packet_id = interesting_u16(rng);
                "subscribe:packet-id"
            }
            3 => {
                s.subscriptions
                    .truncate(rng.below(s.subscriptions.len() + 1));
                "subscribe:drop-filter"
            }
            _ => {
                s.properties.push(Property::SubscriptionIdentifier(
                    *rng.pick(&U32S).unwrap_or(&1) & 0x0FFF_FFFF,
                ));
                "subscribe:identifier"
            }
        },
        Packet::Unsubscribe(u) => {
            if rng.one_in(2) {
                u.packet_id = interesting_u16(rng);
                "unsubscribe:packet-id"
            } else {
                let f = u.filters.first().map(|f| f.as_str().to_owned());
                u.filters
                    .push(MqttString::from(mutate_topic(rng, &f.unwrap_or_default())));
                "unsubscribe:filter"
            }
        }
        Packet::PubAck(a) | Packet::PubRec(a) | Packet::PubRel(a) | Packet::PubComp(a) => {
            if rng.one_in(2) {
                a.packet_id = interesting_u16(rng);
                "ack:packet-id"
            } else {
                a.reason_code = ReasonCode(reason(rng));
                "ack:reason-code"
            }
        }
        Packet::Disconnect(d) => {
            d.reason_code = ReasonCode(reason(rng));
            "disconnect:reason-code"
        }
        Packet::Auth(a) => {
            a.reason_code = ReasonCode(reason(rng));
            "auth:reason-code"
        }
        _ => {
            *packet = fresh_packet(rng, v, "a");
            "packet:replace"
        }
    }
}

fn mutate_properties(props: &mut Properties, rng: &mut Rng) -> &'static str {
    let all: Vec<Property> = props.iter().cloned().collect();
    match rng.below(5) {
        0 if !all.is_empty() => {
            let drop = rng.below(all.len());
            let mut n = 0;
            props.retain(|_| {
                n += 1;
                n - 1 != drop
            });
            "properties:drop"
        }
        1 if !all.is_empty() => {
            if let Some(p) = rng.pick(&all) {
                props.push(p.clone());
            }
            "properties:duplicate"
        }
        2 => {
            let n = *rng.pick(&[16, 63, 65, 100, 300]).unwrap_or(&65);
            for k in 0..n {
                props.push(Property::UserProperty(
                    MqttString::from(format!("k{k}")),
                    MqttString::from("v"),
                ));
            }
            "properties:flood"
        }
        _ => {
            props.push(random_property(rng));
            "properties:add"
        }
    }
}

/// Any of the 27 properties, with a value at an edge.
fn random_property(rng: &mut Rng) -> Property {
    let b = *rng.pick(&[0u8, 1, 2, 0xFF]).unwrap_or(&0);
    let w = interesting_u16(rng);
    let d = *rng.pick(&U32S).unwrap_or(&0);
    let s = MqttString::from(match rng.below(4) {
        0 => String::new(),
        1 => format!("mqttspec/{}/r", marker()),
        2 => "+/#".to_owned(),
        _ => "x".repeat(1 + rng.below(200)),
    });
    let bin = Bytes::from(rng.bytes_between(0, 31));
    match rng.below(27) {
        0 => Property::PayloadFormatIndicator(b),
        1 => Property::MessageExpiryInterval(d),
        2 => Property::ContentType(s),
        3 => Property::ResponseTopic(s),
        4 => Property::CorrelationData(bin),
        5 => Property::SubscriptionIdentifier(d & 0x0FFF_FFFF),
        6 => Property::SessionExpiryInterval(d),
        7 => Property::AssignedClientIdentifier(s),
        8 => Property::ServerKeepAlive(w),
        9 => Property::AuthenticationMethod(s),
        10 => Property::AuthenticationData(bin),
        11 => Property::RequestProblemInformation(b),
        12 => Property::WillDelayInterval(d),
        13 => Property::RequestResponseInformation(b),
        14 => Property::ResponseInformation(s),
        15 => Property::ServerReference(s),
        16 => Property::ReasonString(s),
        17 => Property::ReceiveMaximum(w),
        18 => Property::TopicAliasMaximum(w),
        19 => Property::TopicAlias(w),
        20 => Property::MaximumQoS(b),
        21 => Property::RetainAvailable(b),
        22 => Property::UserProperty(s.clone(), s),
        23 => Property::MaximumPacketSize(d),
        24 => Property::WildcardSubscriptionAvailable(b),
        25 => Property::SubscriptionIdentifierAvailable(b),
        _ => Property::SharedSubscriptionAvailable(b),
    }
}

fn random_options(rng: &mut Rng) -> SubscriptionOptions {
    let mut o =
        SubscriptionOptions::new(QoS::from_u8(rng.below(3) as u8).unwrap_or(QoS::AtMostOnce));
    o.no_local = rng.one_in(2);
    o.retain_as_published = rng.one_in(2);
    o.retain_handling =
        RetainHandling::from_u8(rng.below(3) as u8).unwrap_or(RetainHandling::SendAtSubscribe);
    o
}

/// A topic name or filter near `t`: mostly under the execution's prefix, so parallel
/// executions stay apart.
fn mutate_topic(rng: &mut Rng, t: &str) -> String {
    match rng.below(12) {
        0 => String::new(),
        1 => format!("{t}/+"),
        2 => format!("{t}/#"),
        3 => format!("{t}/{}", "l/".repeat(1 + rng.below(300))),
        4 => format!("{t}//"),
        5 => format!("$share/g/{t}"),
        6 => format!("$share//{t}"),
        7 => format!("{t}/\u{0}"),
        8 => format!("{t}/\u{FEFF}\u{FFFF}"),
        9 => format!("{t}{}", "x".repeat(rng.below(70_000))),
        10 => "$SYS/#".to_owned(),
        _ => {
            let cut = (0..=t.len())
                .filter(|&i| t.is_char_boundary(i))
                .nth(rng.below(t.len() + 1))
                .unwrap_or(0);
            t[..cut].to_owned()
        }
    }
}

fn interesting_u16(rng: &mut Rng) -> u16 {
    if rng.one_in(4) {
        rng.next_u64() as u16
    } else {
        *rng.pick(&U16S).unwrap_or(&1)
    }
}

fn reason(rng: &mut Rng) -> u8 {
    if rng.one_in(4) {
        rng.byte()
    } else {
        *rng.pick(&REASONS).unwrap_or(&0)
    }
}

/// One packet of a send, encoded with one deliberate violation.
fn tamper_packet(p: &mut Program, rng: &mut Rng) -> Option<&'static str> {
    let (i, range, packet) = pick_packet(p, rng)?;
    let v = version_of(&packet, p.version.protocol());
    let mut m = Malformed::from_packet(&packet, v).ok()?;
    let layout = m.layout()?.clone();
    // A field with a length prefix or a string, named as the layout names it.
    let field = |rng: &mut Rng, want: fn(SpanKind) -> bool| -> Option<FieldRef> {
        let picks: Vec<usize> = (0..layout.spans.len())
            .filter(|&k| want(layout.spans[k].kind))
            .collect();
        let k = *rng.pick(&picks)?;
        let name = layout.spans[k].name;
        let nth = layout.spans[..k].iter().filter(|s| s.name == name).count();
        Some(FieldRef::nth(name, nth))
    };
    let len = m.as_bytes().len();
    let (tamper, name) = match rng.below(9) {
        0 => (
            Tamper::FixedHeaderFlags(rng.below(16) as u8),
            "tamper:flags",
        ),
        1 => (
            Tamper::PacketType(match rng.below(3) {
                0 => 0,
                1 => 15,
                _ => rng.below(16) as u8,
            }),
            "tamper:type",
        ),
        2 => (
            Tamper::RemainingLength(match rng.below(3) {
                0 => (len as u32).saturating_add(1 + rng.below(8) as u32),
                1 => (len as u32).saturating_sub(1 + rng.below(4) as u32),
                _ => *rng.pick(&U32S)? & 0x0FFF_FFFF,
            }),
            "tamper:remaining-length",
        ),
        3 => (
            Tamper::NonMinimal {
                field: FieldRef::new(if rng.one_in(2) {
                    "remaining length"
                } else {
                    "property length"
                }),
                width: 2 + rng.below(3),
            },
            "tamper:non-minimal",
        ),
        4 => (
            Tamper::Replace {
                field: field(rng, |k| k == SpanKind::String)?,
                bytes: rng.pick(&BAD_UTF8)?.to_vec(),
            },
            "tamper:utf8",
        ),
        5 => (
            Tamper::FieldLength {
                field: field(rng, SpanKind::has_u16_prefix)?,
                length: interesting_u16(rng),
            },
            "tamper:field-length",
        ),
        6 => (
            Tamper::PropertyLength {
                nth: 0,
                length: *rng.pick(&U32S)? & 0x0FFF_FFFF,
            },
            "tamper:property-length",
        ),
        7 => (
            Tamper::Truncate {
                count: 1 + rng.below(len.max(1)),
                fix_length: rng.one_in(2),
            },
            "tamper:truncate",
        ),
        _ => (
            Tamper::Append {
                bytes: rng.bytes_between(1, 8),
                fix_length: rng.one_in(2),
            },
            "tamper:append",
        ),
    };
    m.apply(&tamper).ok()?;
    put_frame(p, i, range, m.as_bytes());
    Some(name)
}

fn mutate_bytes(p: &mut Program, rng: &mut Rng) -> Option<&'static str> {
    let i = *rng.pick(&sends(p))?;
    let bytes = send_bytes(p, i)?;
    let mut b = bytes.to_vec();
    if b.is_empty() {
        b.push(rng.byte());
    }
    let at = rng.below(b.len());
    let name = match rng.below(6) {
        0 => {
            b[at] ^= 1 << rng.below(8);
            "bytes:flip"
        }
        1 => {
            b[at] = *rng.pick(&[0x00, 0x01, 0x7F, 0x80, 0xFF])?;
            "bytes:interesting"
        }
        2 => {
            let extra = rng.bytes_between(1, 8);
            b.splice(at..at, extra);
            "bytes:insert"
        }
        3 => {
            let end = (at + 1 + rng.below(8)).min(b.len());
            b.drain(at..end);
            "bytes:delete"
        }
        4 => {
            let end = (at + 1 + rng.below(32)).min(b.len());
            let chunk = b[at..end].to_vec();
            let to = rng.below(b.len() + 1);
            b.splice(to..to, chunk);
            "bytes:duplicate"
        }
        _ => {
            b[at] = rng.byte();
            "bytes:random"
        }
    };
    *bytes = Bytes::from(b);
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::program::seeds;
    use crate::scenario::Version;

    #[test]
    fn mutants_stay_within_bounds_and_differ() {
        let catalog = crate::builtin::catalog().expect("built-in scenarios");
        let corpus = seeds(&catalog, &[Version::V3_1_1, Version::V5]);
        let mut rng = Rng::new(1);
        let mut changed = 0;
        let mut kinds = std::collections::BTreeSet::new();
        for n in 0..5000 {
            let p = &corpus[n % corpus.len()];
            let donor = &corpus[(n * 7919) % corpus.len()];
            let (q, applied) = mutate(p, donor, &mut rng);
            assert!(q.steps.len() <= super::super::program::MAX_STEPS);
            assert!(q.size() <= super::super::program::MAX_PROGRAM_BYTES);
            if q != *p {
                changed += 1;
            }
            kinds.extend(applied.iter().map(|a| a.split(':').next().unwrap_or("")));
        }
        assert!(changed > 4750, "{changed} of 5000 changed");
        for layer in [
            "step",
            "publish",
            "connect",
            "subscribe",
            "tamper",
            "bytes",
            "properties",
        ] {
            assert!(kinds.contains(layer), "{layer} never applied: {kinds:?}");
        }
    }

    #[test]
    fn frames_split_a_send_into_its_packets() {
        let a = Packet::PingReq.to_bytes(ProtocolVersion::V5).unwrap();
        let b = Packet::Publish(Publish::new("t", QoS::AtMostOnce, "x"))
            .to_bytes(ProtocolVersion::V5)
            .unwrap();
        let both = [a.as_ref(), b.as_ref(), &[0x30]].concat();
        assert_eq!(frames(&both), [0..2, 2..2 + b.len()]);
    }
}
